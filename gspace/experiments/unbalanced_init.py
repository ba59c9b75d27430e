"""Unbalanced initialization: accuracy against the strength of a random rescaling.

The experiment of the Path-SGD paper (Neyshabur et al., 2015), with G-SGD added. Every
starting network is ``g(w)``: ``w`` from the initialization, ``g`` a random positive rescaling
with ``log c ~ N(0, sigma^2)`` per hidden node. All ``g(w)`` compute the same function as
``w`` (claim G2), but they put very different weights in front of SGD. G-SGD and Path-SGD do
not see ``g`` (claims A2, A4), so their accuracy should not depend on ``sigma``; SGD's may.

The learning rate is chosen on validation separately for every ``sigma`` and optimizer (the
fairest choice for SGD: it may adapt its rate to the rescaling).
"""

from __future__ import annotations

import numpy as np

from . import common
from .runner import run_grid

NAME = "unbalanced-init"
TITLE = "Test accuracy after training from a randomly rescaled network"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: fewer epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["sigmas"]
    [0.0, 0.5, 1.0, 2.0, 3.0]
    """
    return {
        "dataset": "digits",
        "hidden": [32, 32],
        "epochs": 4 if quick else 20,
        "batch_size": 32,
        "loss": "cross_entropy",
        "bias": False,
        "sigmas": [0.0, 1.0, 3.0] if quick else [0.0, 0.5, 1.0, 2.0, 3.0],
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


DESCRIPTION = (
    "Final test accuracy of SGD, Path-SGD and G-SGD started from g(w), a random positive "
    "rescaling of the initial network with log c ~ N(0, sigma^2) per hidden node, for "
    "sigma in {sigmas}. The rescaling does not change the network function."
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
    cfg, results, data, widths = common.start(
        NAME, TITLE, DESCRIPTION, INIT, config, quick, seed, data_dir, overrides
    )
    specs = []
    for sigma in cfg["sigmas"]:
        start = {"widths": widths, "init": INIT, "sigma": sigma}
        specs += common.grid_specs(
            results, cfg, OPTIMIZERS, condition={"sigma": sigma}, start=start, data_dir=data_dir
        )
    records = run_grid(
        specs, common.train_spec, jobs=jobs, cache_dir=cache_dir, progress=progress, desc=NAME
    )
    for sigma in cfg["sigmas"]:
        condition = {"sigma": sigma}
        for opt, selection, chosen in common.search_each(
            results, cfg, records, OPTIMIZERS, condition=condition
        ):
            results["summary"].append(
                common.summary_row(opt, selection, chosen, condition=condition)
            )
    notes = []
    for label in (common.OPTIMIZER_LABELS[opt] for opt in OPTIMIZERS):
        accs = [r["test_acc_mean"] for r in results["summary"] if r["optimizer"] == label]
        notes.append(
            f"{label}: mean test accuracy from {min(accs):.3f} to {max(accs):.3f} over sigma."
        )
    return common.finish(results, SUMMARY_COLUMNS, notes)


SUMMARY_COLUMNS = [
    {"key": "sigma", "label": "sigma", "format": "g"},
    {"key": "optimizer", "label": "optimizer"},
    {"key": "lr", "label": "chosen lr", "format": "g"},
    {"key": "test_acc", "label": "test accuracy", "format": ".3f"},
    {"key": "diverged", "label": "diverged", "format": "d"},
]


def plot(results: dict, path) -> None:
    """Test accuracy against sigma, one line per optimizer with error bars; saved to ``path``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    sigmas = results["config"]["sigmas"]
    offsets = {"sgd": -0.04, "pathsgd": 0.0, "gsgd": 0.04}
    for opt in results["config"]["optimizers"]:
        label = common.OPTIMIZER_LABELS[opt]
        rows = [r for r in results["summary"] if r["optimizer"] == label]
        ax.errorbar(
            np.asarray(sigmas) + offsets.get(opt, 0.0),
            [r["test_acc_mean"] for r in rows],
            yerr=[r["test_acc_std"] for r in rows],
            marker="o",
            capsize=3,
            color=common.OPTIMIZER_COLORS[opt],
            label=label,
        )
    ax.set_xlabel("rescaling strength sigma (log c ~ N(0, sigma^2) per hidden node)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.grid(alpha=0.3)
    ax.legend(title="optimizer (lr tuned per sigma)", fontsize=9)
    about = f"{results['dataset']}, widths {results['config']['widths']}"
    common.save_figure(fig, path, results, about, ax=ax)
