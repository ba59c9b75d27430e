"""The authors' released MLP setting, SGD against G-SGD.

The authors' code (MSRA-COLT/gsgd) trains a bias-free 784-64-64-64-64-10 ReLU network on
MNIST with cross-entropy, batch 64, learning rate ``0.1 * exp(-0.01 * epoch)``, no momentum,
for 300 epochs; their logs end at G-SGD 97.64%, SGD 97.37% test accuracy (the logs in
their repository). Their code sets every skeleton weight to 1 before training; here both optimizers
start from that same skeleton-unit initialization.

When the MNIST files are present (full run only) the experiment runs on MNIST; otherwise on
digits with the same depth and width pattern (64-64-64-64-64-10), and says so: the authors'
numbers are then not comparable. To keep the method of the other experiments, the base
learning rate is chosen on validation from a grid that contains the authors' 0.1.
"""

from __future__ import annotations

from . import common
from .path_sgd import KEYS, SUMMARY_COLUMNS
from .runner import run_grid

NAME = "authors-mlp"
TITLE = "The authors' MLP setting: SGD against G-SGD"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "gsgd")
#: Final test accuracy in the authors' logs (MNIST, 300 epochs), for reference only.
AUTHORS_LOGS = {"G-SGD": 0.9764, "SGD": 0.9737}

__all__ = ["NAME", "AUTHORS_LOGS", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: 15 epochs instead of 300, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["schedule"]
    {'name': 'exp', 'k': 0.01}
    """
    return {
        "dataset": "mnist",
        "hidden": [64, 64, 64, 64],
        "epochs": 15 if quick else 300,
        "batch_size": 64,
        "loss": "cross_entropy",
        "bias": False,
        "schedule": {"name": "exp", "k": 0.01},
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


DESCRIPTION = (
    "The setting of the authors' released MLP code (4 hidden layers of 64, no biases, "
    "batch 64, lr * exp(-0.01 epoch), cross-entropy, skeleton weights set to 1) for SGD "
    "and G-SGD."
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
    if data.name == "mnist":
        results["notes"].append(
            f"The authors' logs (MNIST, 300 epochs, lr 0.1): G-SGD {AUTHORS_LOGS['G-SGD']:.2%}, "
            f"SGD {AUTHORS_LOGS['SGD']:.2%}."
        )
    else:
        results["notes"].append(
            "Not the authors' data: the authors' logs (G-SGD 97.64%, SGD 97.37% on MNIST) are "
            "not comparable with these numbers."
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
    return common.finish(results, SUMMARY_COLUMNS, [common.paired_gap_note(results)])


def plot(results: dict, path) -> None:
    """Training loss and test accuracy against epochs; saved to ``path``."""
    common.plot_learning_curves(results, path)
