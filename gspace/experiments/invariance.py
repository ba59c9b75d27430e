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

NAME = "invariance"
TITLE = "Training from w and from a rescaled g(w): loss curves of each pair"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")

__all__ = ["NAME", "config", "run", "plot"]


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


@common.run_doc("digits")
def run(
    *, quick: bool = False, seed: int = 0, progress=None, data_dir=None, overrides=None
) -> dict:
    cfg, results, data, widths = common.start(
        NAME, TITLE, DESCRIPTION, INIT, config, quick, seed, data_dir, overrides
    )
    run_seeds = results["seeds"]

    def make_net(s):
        return common.initial_net(widths, INIT, s)

    # every grid point from w, then one run from g(w) per seed at the chosen rate
    n_runs = common.n_grid_runs(cfg, OPTIMIZERS, run_seeds) + len(OPTIMIZERS) * len(run_seeds)
    with common.progress_bar(n_runs, NAME, progress) as bar:
        searches = common.search_each(
            results, cfg, data, make_net, OPTIMIZERS, condition={"start": "w"}, bar=bar
        )
        for opt, selection, chosen, nets in searches:
            lr = selection["chosen"]
            pair_rows = []
            for s, rec_w in zip(run_seeds, chosen, strict=True):
                start = common.rescale(make_net(s), cfg["sigma"], s)
                net_g, rec_g = common.train_run(
                    start, opt, lr, data, seed=s, epochs=cfg["epochs"], batch_size=cfg["batch_size"]
                )
                bar.update(1)
                abs_d, rel_d = output_difference(nets[s], net_g, data.X_test)
                curves_w = rec_w["curves"].get("train_loss", [])
                curves_g = rec_g["curves"].get("train_loss", [])
                loss_d = (
                    float(np.max(np.abs(np.subtract(curves_w, curves_g))))
                    if curves_w and curves_g
                    else float("inf")
                )
                rec_g = {
                    "condition": {"start": "g(w)"},
                    "optimizer": opt,
                    "lr": lr,
                    "seed": s,
                    **rec_g,
                    "output_abs_diff": abs_d,
                    "output_rel_diff": rel_d,
                    "train_loss_max_diff": loss_d,
                }
                results["runs"].append(rec_g)
                pair_rows.append((rec_w, rec_g))
            acc_w = common.mean_std([r["final"]["test_acc"] for r, _ in pair_rows])
            acc_g = common.mean_std([r["final"]["test_acc"] for _, r in pair_rows])
            results["summary"].append(
                {
                    "optimizer": common.OPTIMIZER_LABELS[opt],
                    "lr": lr,
                    "test_acc_w_mean": acc_w[0],
                    "test_acc_w_std": acc_w[1],
                    "test_acc_gw_mean": acc_g[0],
                    "test_acc_gw_std": acc_g[1],
                    "output_abs_diff": max(r["output_abs_diff"] for _, r in pair_rows),
                    "output_rel_diff": max(r["output_rel_diff"] for _, r in pair_rows),
                    "train_loss_max_diff": max(r["train_loss_max_diff"] for _, r in pair_rows),
                    "diverged_gw": sum(r["diverged"] for _, r in pair_rows),
                    "at_chance_gw": sum(
                        not r["diverged"] and r["final"]["test_acc"] < 2 / data.n_classes
                        for _, r in pair_rows
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
