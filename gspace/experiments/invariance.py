"""Invariance: train from ``w`` and from a rescaled ``g(w)``; G-SGD's and Path-SGD's pairs coincide.

A random positive rescaling ``g`` (``log c ~ N(0, sigma^2)`` per hidden node) changes the
weights but not the network function (claim G2). G-SGD works on basis-path values, which ``g``
does not change (G3), so its whole trajectory from ``g(w)`` is ``g`` applied to its
trajectory from ``w`` (claim A2): the two networks compute the same function at every step.
Path-SGD's step commutes with ``g`` as well (A4). Plain SGD's does not (A3).

Each optimizer's rate and start are chosen by the fair protocol of
:mod:`gspace.experiments.protocol` on runs from ``w``; each reported run from ``w`` is then
paired with a run from ``g(w)`` at the same rate, seed and batch order. Reported: the
largest difference between the two final networks' outputs (logits) on the test images,
absolute and relative to the largest output, and between their training-loss curves.
"""

from __future__ import annotations

import sys

import numpy as np

from . import common, protocol

NAME = "invariance"
TITLE = "Training from w and from a rescaled g(w): loss curves of each pair"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")
DESCRIPTION = (
    "Each optimizer trains a network with hidden widths {hidden} on {dataset} from w and from "
    "g(w), g a random "
    "positive rescaling (log c ~ N(0, {sigma}^2) per hidden node), with the same seed and batch "
    "order, {epochs} epochs. G-SGD and Path-SGD are invariant under g: their pairs must agree "
    "to rounding. SGD is not."
)

__all__ = ["NAME", "config", "run", "plot", "output_difference", "train_pair"]


def config(quick: bool) -> dict:
    """The configuration (``quick``: 1 epoch on a 6,000-image subsample, 3 seeds).

    Examples
    --------
    >>> config(quick=True)["sigma"]
    1.0
    """
    epochs = 1 if quick else 2
    return {
        **protocol.base_config(OPTIMIZERS, "fashion-mnist", epochs, quick),
        "hidden": [32, 32],
        "sigma": 1.0,
    }


def output_difference(net_a, net_b, X) -> tuple[float, float]:
    """Largest absolute and relative difference between two networks' outputs on ``X``.

    ``inf`` if either network is None (its training diverged).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> output_difference(net, net, np.ones((2, 3)))
    (0.0, 0.0)
    """
    if net_a is None or net_b is None:
        return float("inf"), float("inf")
    out_a, out_b = net_a.forward(X), net_b.forward(X)
    diff = float(np.max(np.abs(out_a - out_b)))
    return diff, diff / max(float(np.max(np.abs(out_a))), 1e-300)


def train_pair(spec: dict) -> dict:
    """Train from ``w`` and from ``g(w)`` (``spec["start"]["pair_sigma"]``); compare the pair.

    Returns the record of the run from ``w`` (:func:`common.train_spec`) with ``"pair"``:
    the run from ``g(w)``'s ``diverged``, ``final`` and ``curves``, and ``output_abs_diff``,
    ``output_rel_diff``, ``train_loss_max_diff``.
    """
    net_w, rec = common.train_net(spec)
    start = {**spec["start"], "sigma": spec["start"]["pair_sigma"]}
    net_g, rec_g = common.train_net({**spec, "start": start})
    X = common.spec_data(spec).X_test
    abs_d, rel_d = output_difference(net_w, net_g, X)
    lw, lg = rec["curves"].get("train_loss", []), rec_g["curves"].get("train_loss", [])
    loss_d = float(np.max(np.abs(np.subtract(lw, lg)))) if lw and lg else float("inf")
    pair = {k: rec_g[k] for k in ("diverged", "final", "curves")}
    pair.update(output_abs_diff=abs_d, output_rel_diff=rel_d, train_loss_max_diff=loss_d)
    return {**rec, "pair": pair}


def run(*, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run the experiment; ``options``: ``progress``, ``data_dir``, ``jobs``, ``cache_dir``.

    See :func:`gspace.experiments.run` for the parameters.
    """
    cfg, results, (d, K) = protocol.begin(sys.modules[__name__], quick, seed, overrides, **options)
    start = {"widths": [d, *cfg["hidden"], K], "pair_sigma": cfg["sigma"]}
    conditions = [{"condition": {}, "start": start}]
    outcome = protocol.fair_runs(
        results, cfg, conditions, OPTIMIZERS, final_fn=train_pair, **options
    )
    for proto, per_opt in outcome["{}"].items():
        for opt in OPTIMIZERS:
            init, lr, recs = per_opt[opt]
            pairs = [r["pair"] for r in recs]
            row = {"protocol": protocol.PROTOCOLS[proto], "optimizer": common.OPTIMIZER_LABELS[opt]}
            row["start"] = f"{init}, lr {lr:g}"
            row["acc_w_mean"], row["acc_w_std"] = common.mean_std(
                [r["final"]["test_acc"] for r in recs]
            )
            row["acc_gw_mean"], row["acc_gw_std"] = common.mean_std(
                [p["final"]["test_acc"] for p in pairs]
            )
            for key in ("output_abs_diff", "output_rel_diff", "train_loss_max_diff"):
                row[key] = max(p[key] for p in pairs)
            row["diverged_gw"] = sum(p["diverged"] for p in pairs)
            # trained without overflow, but no better than twice the accuracy of guessing
            row["at_chance_gw"] = sum(
                not p["diverged"] and p["final"]["test_acc"] < 2 / K for p in pairs
            )
            results.summary.append(row)
    results.summary_columns = [
        {"key": "protocol", "label": "protocol"},
        {"key": "optimizer", "label": "optimizer"},
        {"key": "start", "label": "start, lr"},
        {"key": "acc_w", "label": "test acc. from w", "format": ".4f"},
        {"key": "acc_gw", "label": "test acc. from g(w)", "format": ".4f"},
        {"key": "output_abs_diff", "label": "max abs. output diff", "format": ".1e"},
        {"key": "output_rel_diff", "label": "relative output diff", "format": ".1e"},
        {"key": "train_loss_max_diff", "label": "max train-loss diff", "format": ".1e"},
        {"key": "diverged_gw", "label": "diverged from g(w)", "format": "d"},
        {"key": "at_chance_gw", "label": "at chance from g(w)", "format": "d"},
    ]
    worst = {}
    for row in results.summary:
        worst[row["optimizer"]] = max(worst.get(row["optimizer"], 0.0), row["output_rel_diff"])
    results.notes.append(
        "Largest relative output difference between a pair at the end (over seeds and "
        "protocols): " + "; ".join(f"{k} {v:.1e}" for k, v in worst.items()) + ". "
        "Rounding-level differences (about 1e-12 or less) mean the pair coincides."
    )
    return results


def plot(results, path) -> None:
    """Training-loss curves of the pairs under protocol (a), one panel per optimizer."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(OPTIMIZERS), figsize=(4.2 * len(OPTIMIZERS), 3.8), sharey=True)
    rows = {r["optimizer"]: r for r in results.summary if r["protocol"] == protocol.PROTOCOLS["a"]}
    for ax, opt in zip(axes, OPTIMIZERS, strict=True):
        label, color = common.OPTIMIZER_LABELS[opt], common.OPTIMIZER_COLORS[opt]
        init, lr = rows[label]["start"].split(", lr ")
        recs = [
            r
            for r in results.runs
            if r["phase"] == "final"
            and r["optimizer"] == opt
            and r["condition"]["init"] == init
            and r["lr"] == float(lr)
        ]
        w = [r["curves"].get("train_loss", []) for r in recs]
        gw = [r["pair"]["curves"].get("train_loss", []) for r in recs]
        common.plot_band(ax, w, label="from w", color=color, log=True)
        common.plot_band(ax, gw, label="from g(w)", color=color, ls="--", log=True)
        rel = rows[label]["output_rel_diff"]
        ax.set_title(f"{label} ({init}, lr {lr})\nmax rel. output diff {rel:.1e}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[0].set_ylabel("training loss\n(cross-entropy, nats; geometric mean)")
    about = f"{results.dataset}, widths {results.config['hidden']}, sigma={results.config['sigma']}"
    common.save_figure(fig, path, results, about)
