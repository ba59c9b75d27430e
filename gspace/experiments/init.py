"""Initialization: how much each optimizer depends on where in G-space it starts.

SGD, Path-SGD and G-SGD, each from plain He initialization and from the skeleton-unit
initialization (every skeleton weight set to 1, as the authors' code does before training),
on a shallow and a deep network. Skeleton-unit changes the network function: it is a
different starting point, not a rescaling. From He initialization a skeleton path's value is
a product of ``L`` small weights, and G-SGD's ``dl/dv = u / v`` is large where ``v`` is small
(the theory page, section "G-SGD").
"""

from __future__ import annotations

import numpy as np

from . import common
from .runner import run_grid

NAME = "init"
TITLE = "He against skeleton-unit initialization, shallow and deep"
INITS = ("he", "skeleton-unit")
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: fewer epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["networks"]
    {'shallow': [16, 16, 16], 'deep': [32, 32, 32, 32, 32, 32]}
    """
    return {
        "dataset": "digits",
        "networks": {"shallow": [16, 16, 16], "deep": [32] * 6},
        "inits": list(INITS),
        "epochs": 3 if quick else 15,
        "batch_size": 32,
        "loss": "cross_entropy",
        "bias": False,
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


DESCRIPTION = (
    "Final test accuracy of SGD, Path-SGD and G-SGD from He initialization and from "
    "skeleton-unit initialization (skeleton weights set to 1), on a shallow and a deep "
    "network. Both starts are drawn from the same seed."
)


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
    cfg, results, data, nets = common.start(
        NAME, TITLE, DESCRIPTION, "he and skeleton-unit", config, quick, seed, data_dir, overrides
    )
    conditions = [(net_name, init) for net_name in nets for init in INITS]
    specs = []
    for net_name, init in conditions:
        specs += common.grid_specs(
            results,
            cfg,
            OPTIMIZERS,
            condition={"network": net_name, "init": init},
            start={"widths": nets[net_name], "init": init},
            data_dir=data_dir,
        )
    records = run_grid(
        specs, common.train_spec, jobs=jobs, cache_dir=cache_dir, progress=progress, desc=NAME
    )
    for net_name, init in conditions:
        condition = {"network": net_name, "init": init}
        fields = {"network": net_name, "widths": "-".join(map(str, nets[net_name])), "init": init}
        for opt, selection, chosen in common.search_each(
            results, cfg, records, OPTIMIZERS, condition=condition
        ):
            results["summary"].append(common.summary_row(opt, selection, chosen, condition=fields))
    notes = []
    for net_name in nets:
        for label in (common.OPTIMIZER_LABELS[opt] for opt in OPTIMIZERS):
            acc = {
                r["init"]: r["test_acc_mean"]
                for r in results["summary"]
                if r["network"] == net_name and r["optimizer"] == label
            }
            notes.append(
                f"{net_name}, {label}: he {acc['he']:.3f}, skeleton-unit "
                f"{acc['skeleton-unit']:.3f} (difference "
                f"{acc['skeleton-unit'] - acc['he']:+.3f})."
            )
    return common.finish(results, SUMMARY_COLUMNS, notes)


SUMMARY_COLUMNS = [
    {"key": "network", "label": "network"},
    {"key": "widths", "label": "widths"},
    {"key": "init", "label": "initialization"},
    {"key": "optimizer", "label": "optimizer"},
    {"key": "lr", "label": "chosen lr", "format": "g"},
    {"key": "test_acc", "label": "test accuracy", "format": ".3f"},
    {"key": "diverged", "label": "diverged", "format": "d"},
]


def plot(results: dict, path) -> None:
    """Grouped bars (optimizer x initialization) with error bars, one panel per network."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    nets = list(results["config"]["networks"])
    opts = results["config"]["optimizers"]
    fig, axes = plt.subplots(1, len(nets), figsize=(5.0 * len(nets), 4.0), sharey=True)
    axes = np.atleast_1d(axes)
    width = 0.38
    hatches = {"he": "", "skeleton-unit": "//"}
    for ax, net_name in zip(axes, nets, strict=True):
        for k, init in enumerate(results["config"]["inits"]):
            rows = {
                r["optimizer"]: r
                for r in results["summary"]
                if r["network"] == net_name and r["init"] == init
            }
            labels = [common.OPTIMIZER_LABELS[o] for o in opts]
            x = np.arange(len(opts)) + (k - 0.5) * width
            means = [rows[lab]["test_acc_mean"] for lab in labels]
            bars = ax.bar(
                x,
                [rows[lab]["test_acc_mean"] for lab in labels],
                width,
                yerr=[rows[lab]["test_acc_std"] for lab in labels],
                capsize=3,
                color=[common.OPTIMIZER_COLORS[o] for o in opts],
                alpha=0.55 if init == "he" else 0.95,
                hatch=hatches.get(init, ""),
                edgecolor="black",
            )
            ax.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=2, fontsize=8)
        ax.set_xticks(np.arange(len(opts)), [common.OPTIMIZER_LABELS[o] for o in opts])
        widths = results["config"]["widths"][net_name]
        ax.set_title(f"{net_name}: {'-'.join(map(str, widths))}", fontsize=10)
        ax.set_xlabel("optimizer")
        ax.set_ylim(0, 1.1)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("test accuracy (fraction correct)")
    handles = [
        Patch(facecolor="lightgray", edgecolor="black", hatch=hatches.get(i, ""), label=f"{i} init")
        for i in results["config"]["inits"]
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9)
    about = f"{results['dataset']}, lr tuned per bar"
    common.save_figure(fig, path, results, about, rect=(0, 0.07, 1, 1))
