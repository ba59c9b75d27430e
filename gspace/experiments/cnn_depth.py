"""CNN depth: the optimizers on plain ReLU CNNs of 2, 4 and 8 convolution layers."""

from . import common, plots, protocol

NAME = "cnn-depth"
TITLE = "SGD, Path-SGD and G-SGD on plain CNNs of growing depth"
#: The paper's three, then the baselines beyond the paper (:mod:`gspace.baselines`).
OPTIMIZERS = ("sgd", "pathsgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
#: Five rates per optimizer: the shared grids without their smallest rate (SGD: 0.01 to 1).
LR_GRID = {opt: list(common.LR_GRIDS[opt][1:]) for opt in OPTIMIZERS}
PAIRS = (("gsgd", "sgd"), ("gsgd", "pathsgd"), ("gsgd-momentum", "sgd-momentum"))
COLUMNS = [{"key": "depth", "label": "conv layers", "format": "d"}]
DESCRIPTION = (
    "Plain ReLU CNNs with {depths} convolution layers (3x3, 8 then 16 channels) on {dataset} "
    "({limit} images in all), {epochs} epochs, batch {batch_size}, trained by SGD, Path-SGD and "
    "G-SGD (and, beyond the paper, SGD and G-SGD with momentum 0.9, Adam and ENorm) under "
    "protocols (a) all from skeleton-unit and (b) each from its own best start; the gaps G-SGD "
    "minus SGD and G-SGD minus Path-SGD in test accuracy, paired by seed."
)


def network(depth: int) -> dict:
    """The plain CNN of ``depth`` conv layers: 8 then 16 channels, stride 2 at 0 and halfway."""
    half = depth // 2
    strides = [2 if l in (0, half) else 1 for l in range(depth)]
    return {"channels": [8] * half + [16] * (depth - half), "strides": strides}


def config(quick: bool) -> dict:
    """The configuration (``quick``: depths 2 and 4, 2 epochs, 1,600 images)."""
    epochs = 2 if quick else 5
    cfg = protocol.base_config(OPTIMIZERS, "fashion-mnist", epochs, quick)
    cfg.update(batch_size=128, lr_grid={opt: list(LR_GRID[opt]) for opt in OPTIMIZERS})
    cfg.update(tune_limit=800 if quick else 5000, limit=1600 if quick else 10000)
    cfg["depths"] = [2, 4] if quick else [2, 4, 8]
    return {**cfg, "schedule": {"name": "exp", "k": 3.0 / epochs}}


def conditions(cfg, config, d, K) -> list[dict]:
    """One condition per depth ``L``: :func:`network` ``(L)``."""
    return [{"condition": {"depth": L}, "start": network(L)} for L in cfg["depths"]]


def notes(results) -> list[str]:
    """The gaps G-SGD - SGD and G-SGD - Path-SGD of every row."""
    return [
        f"{row['protocol']}, {row['depth']} conv layers: G-SGD - SGD "
        f"{row['gap_gsgd_sgd_mean']:+.4f} +- {row['gap_gsgd_sgd_std']:.4f}, G-SGD - "
        f"Path-SGD {row['gap_gsgd_pathsgd_mean']:+.4f} +- {row['gap_gsgd_pathsgd_std']:.4f}."
        for row in results.summary
    ]


def plot(results, path) -> None:
    """Test accuracy against depth, protocols (a) and (b) side by side."""
    opts, depths = results.config["optimizers"], [float(L) for L in results.config["depths"]]
    offsets = {opt: 0.03 * (i - (len(opts) - 1) / 2) for i, opt in enumerate(opts)}
    about = f"{results.dataset}, plain CNNs"
    plots.protocols(results, path, depths, "convolution layers", about, offsets)
