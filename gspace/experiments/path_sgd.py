"""Path-SGD comparison: SGD, Path-SGD and G-SGD on one network on MNIST."""

from . import plots, protocol

NAME = "path-sgd"
TITLE = "SGD, Path-SGD and G-SGD on MNIST"
PAIRS = (("gsgd", "sgd"), ("gsgd", "pathsgd"))
COLUMNS = []
DESCRIPTION = (
    "SGD, Path-SGD and G-SGD on {dataset}, hidden widths {hidden}, {epochs} epochs, batch "
    "{batch_size}, under protocols (a) and (b); differences paired by seed."
)


def config(quick: bool) -> dict:
    """The configuration (``quick``: 3 epochs)."""
    epochs = 3 if quick else 20
    cfg = protocol.base_config(protocol.PAPER_OPTIMIZERS, "mnist", epochs, quick, subsample=False)
    return {**cfg, "hidden": [32, 32, 32]}


def conditions(cfg, config, d, K) -> list[dict]:
    """One condition: the network ``d-hidden-K``."""
    return [{"condition": {}, "start": {"widths": [d, *cfg["hidden"], K]}}]


def plot(results, path) -> None:
    """Test accuracy against epochs of every reported configuration."""
    plots.curves(results, path, None)
