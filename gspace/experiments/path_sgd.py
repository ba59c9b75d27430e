"""Path-SGD comparison: learning curves of SGD, Path-SGD and G-SGD on the same network.

The paper compares G-SGD with Path-SGD (Neyshabur et al., 2015), the closest earlier method
that respects the rescaling symmetry. Here the three optimizers train the same network from
the same initialization with the same batch order; each uses its own learning rate, chosen on
validation from a grid of the same size. Runs on MNIST when its files are present (full run
only), digits otherwise.
"""

from __future__ import annotations

from . import common
from .runner import run_grid

NAME = "path-sgd"
TITLE = "Learning curves of SGD, Path-SGD and G-SGD"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: fewer epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["hidden"]
    [32, 32, 32]
    """
    return {
        "dataset": "mnist",
        "hidden": [32, 32, 32],
        "epochs": 6 if quick else 40,
        "batch_size": 32,
        "loss": "cross_entropy",
        "bias": False,
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


DESCRIPTION = (
    "Training loss and test accuracy per epoch of SGD, Path-SGD and G-SGD on the same "
    "network, data and batch order, each at its own learning rate tuned on validation."
)


@common.run_doc("mnist")
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
    specs = common.grid_specs(
        results, cfg, OPTIMIZERS, condition={}, start=start, data_dir=data_dir
    )
    records = run_grid(
        specs, common.train_spec, jobs=jobs, cache_dir=cache_dir, progress=progress, desc=NAME
    )
    for opt, selection, chosen in common.search_each(
        results, cfg, records, OPTIMIZERS, condition={}
    ):
        results["summary"].append(common.summary_row(opt, selection, chosen, keys=KEYS))
    notes = [
        common.paired_gap_note(results, "gsgd", "sgd"),
        common.paired_gap_note(results, "gsgd", "pathsgd"),
    ]
    return common.finish(results, SUMMARY_COLUMNS, notes)


#: Final quantities in the table: training loss, validation and test accuracy (mean, std).
KEYS = ("train_loss", "val_acc", "test_acc")
SUMMARY_COLUMNS = [
    {"key": "optimizer", "label": "optimizer"},
    {"key": "lr", "label": "chosen lr", "format": "g"},
    {"key": "train_loss", "label": "final training loss", "format": ".3g"},
    {"key": "val_acc", "label": "validation accuracy", "format": ".3f"},
    {"key": "test_acc", "label": "test accuracy", "format": ".3f"},
    {"key": "diverged", "label": "diverged", "format": "d"},
]


def plot(results: dict, path) -> None:
    """Training loss and test accuracy against epochs; saved to ``path``."""
    common.plot_learning_curves(results, path)
