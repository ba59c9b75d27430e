"""CNN depth: SGD, Path-SGD and G-SGD on plain ReLU CNNs of growing depth.

The paper reports its largest gains on plain (skip-free) CNNs, and argues that they grow with
depth. Here :class:`gspace.PlainCNN` networks with 2, 4 and 8 convolution layers (3x3 kernels,
8 then 16 channels, stride 2 at the first layer and halfway, global average pooling) are
trained on Fashion-MNIST under the fair protocol of :mod:`gspace.experiments.protocol`, by
the paper's three optimizers and the baselines of :mod:`gspace.baselines`; all step a CNN
through the same code as an MLP (Path-SGD's ``gamma`` and G-SGD's
basis are those of the channel graph: docs, theory page). The training set is a seeded
subsample (``limit``) so that the full run fits about 90 minutes on two cores.
"""

from __future__ import annotations

import sys

from . import protocol

NAME = "cnn-depth"
TITLE = "SGD, Path-SGD and G-SGD on plain CNNs of growing depth"
#: The paper's three, then the baselines beyond the paper (:mod:`gspace.baselines`).
OPTIMIZERS = ("sgd", "pathsgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
#: Five rates per optimizer (a grid of the same size for each): 0.01-1 for the paper's
#: optimizers and ENorm (whose step is an SGD step), a tenth of that with momentum 0.9 (a step
#: then moves about ten times as far), 0.0003-0.03 for Adam. (The first full run used the
#: middle three; many choices fell on an edge, so the grid grew by one rate at each end.)
LR_GRID = {
    "sgd": [0.01, 0.03, 0.1, 0.3, 1.0],
    "pathsgd": [0.01, 0.03, 0.1, 0.3, 1.0],
    "gsgd": [0.01, 0.03, 0.1, 0.3, 1.0],
    "sgd-momentum": [0.001, 0.003, 0.01, 0.03, 0.1],
    "gsgd-momentum": [0.001, 0.003, 0.01, 0.03, 0.1],
    "adam": [0.0003, 0.001, 0.003, 0.01, 0.03],
    "enorm": [0.01, 0.03, 0.1, 0.3, 1.0],
}
DESCRIPTION = (
    "Plain ReLU CNNs with {depths} convolution layers (3x3, 8 then 16 channels) on {dataset} "
    "({limit} images in all), {epochs} epochs, batch {batch_size}, trained by SGD, Path-SGD "
    "and G-SGD (and, beyond the paper, SGD and G-SGD with momentum 0.9, Adam and ENorm) "
    "under protocols (a) all from skeleton-unit and (b) each from its own best "
    "start; the gaps G-SGD minus SGD and G-SGD minus Path-SGD in test accuracy, paired by seed."
)
PAIRS = (("gsgd", "sgd"), ("gsgd", "pathsgd"), ("gsgd-momentum", "sgd-momentum"))

__all__ = ["NAME", "config", "network", "run", "plot"]


def network(depth: int) -> dict:
    """Channels and strides of the plain CNN with ``depth`` conv layers.

    Examples
    --------
    >>> network(4)
    {'channels': [8, 8, 16, 16], 'strides': [2, 1, 2, 1]}
    """
    half = depth // 2
    return {
        "channels": [8] * half + [16] * (depth - half),
        "strides": [2 if l in (0, half) else 1 for l in range(depth)],
    }


def config(quick: bool) -> dict:
    """The configuration (``quick``: depths 2 and 4, 2 epochs, 1,600 images, 3 seeds).

    The full run: 10,000 Fashion-MNIST images (7,225 to train on, 1,275 to validate on, 1,500
    test), 5 epochs, batch 128, five rates tuned with one seed on 5,000 images (docs:
    experiments page, for the time it took).

    Examples
    --------
    >>> config(quick=False)["depths"]
    [2, 4, 8]
    """
    epochs = 2 if quick else 5
    return {
        **protocol.base_config(OPTIMIZERS, "fashion-mnist", epochs, quick),
        "batch_size": 128,
        "depths": [2, 4] if quick else [2, 4, 8],
        "lr_grid": {opt: list(LR_GRID[opt]) for opt in OPTIMIZERS},
        "schedule": {"name": "exp", "k": 3.0 / epochs},
        "tune_limit": 800 if quick else 5000,
        "limit": 1600 if quick else 10000,
    }


def run(*, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run the experiment; ``options``: ``progress``, ``data_dir``, ``jobs``, ``cache_dir``.

    See :func:`gspace.experiments.run` for the parameters.
    """
    cfg, results, _ = protocol.begin(sys.modules[__name__], quick, seed, overrides, **options)
    conditions = [{"condition": {"depth": L}, "start": network(L)} for L in cfg["depths"]]
    column = [{"key": "depth", "label": "conv layers", "format": "d"}]
    protocol.compare(results, cfg, conditions, cfg["optimizers"], column, PAIRS, **options)
    for row in results.summary:
        results.notes.append(
            f"{row['protocol']}, {row['depth']} conv layers: G-SGD - SGD "
            f"{row['gap_gsgd_sgd_mean']:+.4f} +- {row['gap_gsgd_sgd_std']:.4f}, G-SGD - "
            f"Path-SGD {row['gap_gsgd_pathsgd_mean']:+.4f} +- {row['gap_gsgd_pathsgd_std']:.4f}."
        )
    return results


def plot(results, path) -> None:
    """Test accuracy against depth, protocols (a) and (b) side by side; saved to ``path``."""
    opts = results.config["optimizers"]
    offsets = {opt: 0.03 * (i - (len(opts) - 1) / 2) for i, opt in enumerate(opts)}
    depths = [float(L) for L in results.config["depths"]]
    about = f"{results.dataset}, plain CNNs"
    protocol.plot_protocols(results, path, depths, "convolution layers", about, offsets)
