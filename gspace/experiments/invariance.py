"""Invariance: train from ``w`` and from ``g(w)``; G-SGD's and Path-SGD's pairs coincide.

A random positive rescaling ``g`` (``log c ~ N(0, sigma^2)`` per hidden node) changes the
weights but not the network function (claim G2). G-SGD works on basis-path values, which ``g``
does not change (G3), so its whole trajectory from ``g(w)`` is ``g`` applied to its
trajectory from ``w`` (claim A2): the two networks compute the same function at every step.
Path-SGD's step commutes with ``g`` as well (A4). Plain SGD's does not (A3): the two runs
come apart.

For each optimizer the learning rate is chosen on validation from the runs that start at
``w``; the run from ``g(w)`` then uses the same rate, seed and batch order. Reported per
optimizer: the largest difference between the two final networks' outputs (logits) on the
test inputs, absolute and relative to the largest output, and the largest difference between
their training losses over the epochs.
"""

from __future__ import annotations

import numpy as np

from . import common
from .runner import run_grid

NAME = "invariance"
TITLE = "Training from w and from a rescaled g(w): loss curves of each pair"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")

__all__ = ["NAME", "config", "run", "train_pair", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: fewer epochs, 3 seeds).

    Parameters
    ----------
    quick : bool

    Returns
    -------
    dict

    Examples
    --------
    >>> config(quick=True)["sigma"]
    1.0
    """
    return {
        "dataset": "digits",
        "hidden": [32, 32],
        "epochs": 5 if quick else 30,
        "batch_size": 32,
        "loss": "cross_entropy",
        "bias": False,
        "sigma": 1.0,
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


def output_difference(net_a, net_b, X) -> tuple[float, float]:
    """Largest absolute and relative difference between two networks' outputs on ``X``.

    Parameters
    ----------
    net_a, net_b : gspace.MLP
        Networks with the same widths.
    X : ndarray of shape (n, d)

    Returns
    -------
    abs_diff, rel_diff : float
        ``max |N_a(X) - N_b(X)|`` and that divided by ``max |N_a(X)|``; ``inf`` if either
        network is None (its training diverged).

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


DESCRIPTION = (
    "Each optimizer trains the same network from w and from g(w), g a random positive "
    "rescaling (log c ~ N(0, {sigma}^2) per hidden node), with the same seed and batch order. "
    "G-SGD and Path-SGD are invariant under g: their pairs must agree to rounding. SGD is not."
)


def train_pair(spec: dict) -> dict:
    """Train from ``w`` and from ``g(w)`` with the same settings; compare the two networks.

    Parameters
    ----------
    spec : dict
        A spec of :func:`gspace.experiments.common.grid_specs` starting at ``w``, with
        ``"sigma"``: the strength of the rescaling ``g`` (:func:`common.rescale
        <gspace.experiments.common.rescale>`, fixed by the seed).

    Returns
    -------
    dict
        The record of the run from ``g(w)`` (condition ``{"start": "g(w)"}``) with
        ``output_abs_diff`` and ``output_rel_diff`` (``output_difference`` of the two
        final networks on the test inputs) and ``train_loss_max_diff`` (largest difference
        between their training losses over the epochs; ``inf`` if either diverged).

    Notes
    -----
    The run from ``w`` repeats the grid's run at the chosen rate, which gives the same numbers:
    the grid's workers send back records, not networks, so the pair is trained together.
    """
    w_spec = {key: value for key, value in spec.items() if key != "sigma"}
    g_spec = {**w_spec, "start": {**w_spec["start"], "sigma": spec["sigma"]}}
    net_w, rec_w = common.train_net(w_spec)
    net_g, rec_g = common.train_net(g_spec)
    abs_d, rel_d = output_difference(net_w, net_g, common.spec_data(spec).X_test)
    loss_w, loss_g = rec_w["curves"].get("train_loss"), rec_g["curves"].get("train_loss")
    loss_d = float(np.max(np.abs(np.subtract(loss_w, loss_g)))) if loss_w and loss_g else np.inf
    return {
        **rec_g,
        "condition": {"start": "g(w)"},
        "output_abs_diff": abs_d,
        "output_rel_diff": rel_d,
        "train_loss_max_diff": float(loss_d),
    }


@common.run_doc("digits")
def run(
    *,
    quick: bool = False,
    seed: int = 0,
    progress=None,
    data_dir=None,
    overrides=None,
    jobs: int = 1,
    cache_dir=None,
) -> dict:
    cfg, results, data, widths = common.start(
        NAME, TITLE, DESCRIPTION, INIT, config, quick, seed, data_dir, overrides
    )
    start = {"widths": widths, "init": INIT}
    at_w = {"start": "w"}
    grid = common.grid_specs(
        results, cfg, OPTIMIZERS, condition=at_w, start=start, data_dir=data_dir
    )
    options = {"jobs": jobs, "cache_dir": cache_dir, "progress": progress}
    records = run_grid(grid, common.train_spec, desc=NAME, **options)
    # every grid point from w, then each chosen rate from w and g(w) together
    searches = list(common.search_each(results, cfg, records, OPTIMIZERS, condition=at_w))
    pairs = [
        {**spec, "sigma": cfg["sigma"]}
        for opt, selection, _ in searches
        for spec in grid
        if spec["optimizer"] == opt and spec["lr"] == selection["chosen"]
    ]
    pair_records = run_grid(pairs, train_pair, desc=f"{NAME} g(w)", **options)
    results["runs"].extend(pair_records)
    for opt, selection, chosen in searches:
        pair_rows = [r for r in pair_records if r["optimizer"] == opt]
        acc_w = common.mean_std([r["final"]["test_acc"] for r in chosen])
        acc_g = common.mean_std([r["final"]["test_acc"] for r in pair_rows])
        results["summary"].append(
            {
                "optimizer": common.OPTIMIZER_LABELS[opt],
                "lr": selection["chosen"],
                "test_acc_w_mean": acc_w[0],
                "test_acc_w_std": acc_w[1],
                "test_acc_gw_mean": acc_g[0],
                "test_acc_gw_std": acc_g[1],
                "output_abs_diff": max(r["output_abs_diff"] for r in pair_rows),
                "output_rel_diff": max(r["output_rel_diff"] for r in pair_rows),
                "train_loss_max_diff": max(r["train_loss_max_diff"] for r in pair_rows),
                "diverged_gw": sum(r["diverged"] for r in pair_rows),
                "at_chance_gw": sum(
                    not r["diverged"] and r["final"]["test_acc"] < 2 / data.n_classes
                    for r in pair_rows
                ),
            }
        )
    by_opt = {row["optimizer"]: row for row in results["summary"]}
    note = (
        "Largest relative output difference between the pair at the end (over seeds): "
        + "; ".join(f"{k} {v['output_rel_diff']:.1e}" for k, v in by_opt.items())
        + ". Rounding-level differences (about 1e-12 or less) mean the pair coincides."
    )
    return common.finish(results, SUMMARY_COLUMNS, [note])


SUMMARY_COLUMNS = [
    {"key": "optimizer", "label": "optimizer"},
    {"key": "lr", "label": "chosen lr", "format": "g"},
    {"key": "test_acc_w", "label": "test acc. from w", "format": ".3f"},
    {"key": "test_acc_gw", "label": "test acc. from g(w)", "format": ".3f"},
    {"key": "output_abs_diff", "label": "max abs. output diff", "format": ".1e"},
    {"key": "output_rel_diff", "label": "relative output diff", "format": ".1e"},
    {"key": "diverged_gw", "label": "diverged from g(w)", "format": "d"},
    # trained without overflow, but no better than twice the accuracy of guessing
    {"key": "at_chance_gw", "label": "at chance from g(w)", "format": "d"},
]


def plot(results: dict, path) -> None:
    """Training-loss curves of the pairs, one panel per optimizer; saved to ``path``."""
    import matplotlib.pyplot as plt

    opts = [s["optimizer"] for s in results["lr_selection"]]
    fig, axes = plt.subplots(1, len(opts), figsize=(4.2 * len(opts), 3.8), sharey=True)
    axes = np.atleast_1d(axes)
    summary = {row["optimizer"]: row for row in results["summary"]}
    for ax, selection in zip(axes, results["lr_selection"], strict=True):
        opt = selection["optimizer"]
        label = common.OPTIMIZER_LABELS[opt]
        color = common.OPTIMIZER_COLORS[opt]
        for start, ls in (("w", "-"), ("g(w)", "--")):
            curves = [
                r["curves"].get("train_loss", [])
                for r in results["runs"]
                if r["optimizer"] == opt
                and r["condition"]["start"] == start
                and r["lr"] == selection["chosen"]
            ]
            common.plot_band(ax, curves, label=f"from {start}", color=color, ls=ls, log=True)
        rel = summary[label]["output_rel_diff"]
        ax.set_title(f"{label} (lr {selection['chosen']:g})\nmax rel. output diff {rel:.1e}")
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[0].set_ylabel("training loss\n(cross-entropy, nats; geometric mean)")
    about = (
        f"{results['dataset']}, widths {results['config']['widths']}, "
        f"sigma={results['config']['sigma']}"
    )
    common.save_figure(fig, path, results, about)
