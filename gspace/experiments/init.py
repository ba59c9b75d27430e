"""Initialization: SGD, Path-SGD and G-SGD from He and skeleton-unit, shallow and deep."""

from . import plots, protocol

NAME = "init"
TITLE = "He against skeleton-unit initialization, shallow and deep"
INIT = "he and skeleton-unit"
COLUMNS = [{"key": "network", "label": "network"}]
DESCRIPTION = (
    "Final test accuracy of SGD, Path-SGD and G-SGD on {dataset} from He and from skeleton-unit "
    "initialization, each at its own tuned rate, on the networks {networks}, {epochs} epochs. Both "
    "starts are drawn from the same seed."
)


def config(quick: bool) -> dict:
    """The configuration (``quick``: 3 epochs); every start reported at its tuned rate."""
    epochs = 3 if quick else 10
    cfg = protocol.base_config(protocol.PAPER_OPTIMIZERS, "mnist", epochs, quick, subsample=False)
    return {**cfg, "networks": {"shallow": [32, 32], "deep": [32] * 6}, "report_every_start": True}


def conditions(cfg, config, d, K) -> list[dict]:
    """One condition per network."""
    nets = cfg["networks"].items()
    return [{"condition": {"network": n}, "start": {"widths": [d, *h, K]}} for n, h in nets]


def plot(results, path) -> None:
    """Test accuracy against epochs of every start and optimizer, one panel per network."""
    plots.curves(results, path, "network")
