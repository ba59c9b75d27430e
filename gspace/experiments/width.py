"""Width: the gap between G-SGD and SGD for two-hidden-layer MLPs of growing width.

The paper's Fashion-MNIST study: two hidden layers of equal width ``h``, G-SGD against SGD,
and the gap in test accuracy as a function of ``h``. The paper argues that the gap grows
with width, because the number of weights ``m`` grows like ``h^2`` while the dimension of
G-space is ``m - H`` (``H = 2h`` hidden nodes): it does not reproduce the tables' numbers here.
Runs on Fashion-MNIST when its files are present (full run only), digits otherwise.

The gap is paired by seed (same initialization and batch order for both optimizers):
``gap = test_acc(G-SGD, seed) - test_acc(SGD, seed)``, mean and standard deviation over seeds.
"""

from __future__ import annotations

import numpy as np

from . import common
from .runner import run_grid

NAME = "width"
TITLE = "G-SGD against SGD for two hidden layers of growing width"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "gsgd")

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: 3 widths, fewer epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=True)["widths"]
    [8, 32, 128]
    """
    return {
        "dataset": "fashion-mnist",
        "widths": [8, 32, 128] if quick else [8, 16, 32, 64, 128, 256],
        "epochs": 4 if quick else 20,
        "batch_size": 32,
        "loss": "cross_entropy",
        "bias": False,
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


DESCRIPTION = (
    "Two-hidden-layer MLPs d-h-h-K for growing h, trained by SGD and G-SGD; final test "
    "accuracy of each and the gap G-SGD minus SGD (paired by seed)."
)


@common.run_doc("fashion-mnist")
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
    cfg, results, data, _ = common.start(
        NAME, TITLE, DESCRIPTION, INIT, config, quick, seed, data_dir, overrides
    )
    specs = []
    for h in cfg["widths"]:
        start = {"widths": [data.n_features, h, h, data.n_classes], "init": INIT}
        specs += common.grid_specs(
            results, cfg, OPTIMIZERS, condition={"width": h}, start=start, data_dir=data_dir
        )
    records = run_grid(
        specs, common.train_spec, jobs=jobs, cache_dir=cache_dir, progress=progress, desc=NAME
    )
    for h in cfg["widths"]:
        per_opt = {}
        for opt, selection, chosen in common.search_each(
            results, cfg, records, OPTIMIZERS, condition={"width": h}
        ):
            per_opt[opt] = [r["final"]["test_acc"] for r in chosen]
            row = common.summary_row(opt, selection, chosen, condition={"width": h}, diverged=False)
            results["summary"].append({**row, "gap_mean": None, "gap_std": None})
        gap = np.subtract(per_opt["gsgd"], per_opt["sgd"])
        results["summary"][-1]["gap_mean"], results["summary"][-1]["gap_std"] = common.mean_std(gap)
    gaps = [(r["width"], r["gap_mean"]) for r in results["summary"] if r["gap_mean"] is not None]
    rows = [r for r in results["summary"] if r["gap_mean"] is not None]
    clear = [r["width"] for r in rows if abs(r["gap_mean"]) > r["gap_std"]]
    notes = [
        "Gap G-SGD - SGD in mean test accuracy by width: "
        + ", ".join(f"h={h}: {g:+.3f}" for h, g in gaps)
        + ".",
        f"The gap exceeds one standard deviation of the per-seed gaps at {len(clear)} of "
        f"{len(rows)} widths" + (f" (h = {', '.join(map(str, clear))})." if clear else "."),
    ]
    return common.finish(results, SUMMARY_COLUMNS, notes)


SUMMARY_COLUMNS = [
    {"key": "width", "label": "hidden width h", "format": "d"},
    {"key": "optimizer", "label": "optimizer"},
    {"key": "lr", "label": "chosen lr", "format": "g"},
    {"key": "test_acc", "label": "test accuracy", "format": ".3f"},
    {"key": "gap", "label": "G-SGD - SGD", "format": "+.3f"},
]


def plot(results: dict, path) -> None:
    """Accuracy of both optimizers and their gap against width; saved to ``path``."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    widths = results["config"]["widths"]
    for opt in results["config"]["optimizers"]:
        label = common.OPTIMIZER_LABELS[opt]
        rows = [r for r in results["summary"] if r["optimizer"] == label]
        ax1.errorbar(
            widths,
            [r["test_acc_mean"] for r in rows],
            yerr=[r["test_acc_std"] for r in rows],
            marker="o",
            capsize=3,
            color=common.OPTIMIZER_COLORS[opt],
            label=label,
        )
    gap_rows = [r for r in results["summary"] if r["gap_mean"] is not None]
    ax2.errorbar(
        [r["width"] for r in gap_rows],
        [r["gap_mean"] for r in gap_rows],
        yerr=[r["gap_std"] for r in gap_rows],
        marker="s",
        capsize=3,
        color="black",
        label="G-SGD - SGD (paired by seed)",
    )
    ax2.axhline(0.0, color="gray", lw=1, ls=":")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(widths, [str(h) for h in widths])
        ax.minorticks_off()
        ax.set_xlabel("hidden width h (nodes per hidden layer)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    ax1.set_ylabel("test accuracy (fraction correct)")
    ax2.set_ylabel("accuracy gap (fraction correct)")
    ax1.set_title("test accuracy", fontsize=10)
    ax2.set_title("G-SGD minus SGD", fontsize=10)
    common.save_figure(fig, path, results, f"{results['dataset']}, widths d-h-h-K")
