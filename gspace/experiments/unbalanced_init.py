"""Unbalanced initialization: test accuracy from ``g(w)`` as the rescaling ``g`` grows."""

from . import common, plots, protocol

NAME = "unbalanced-init"
TITLE = "Test accuracy after training from a randomly rescaled network"
PAIRS = (("gsgd", "sgd"), ("pathsgd", "sgd"))
COLUMNS = [{"key": "sigma", "label": "sigma", "format": "g"}]
DESCRIPTION = (
    "Final test accuracy of SGD, Path-SGD and G-SGD on {dataset} (hidden widths {hidden}, {epochs} "
    "epochs) started from g(w), a random positive rescaling of the initial network with log c ~ "
    "N(0, sigma^2) per hidden node, for sigma in {sigmas}; protocols (a) and (b) per sigma. The "
    "rescaling does not change the network function."
)


def config(quick: bool) -> dict:
    """The configuration (``quick``: 2 sigmas, 1 epoch on a 6,000-image subsample)."""
    cfg = protocol.base_config(protocol.PAPER_OPTIMIZERS, "fashion-mnist", 1 if quick else 2, quick)
    return {**cfg, "hidden": [32, 32], "sigmas": [0.0, 2.0] if quick else [0.0, 1.0, 3.0]}


def conditions(cfg, config, d, K) -> list[dict]:
    """One condition per ``sigma``, tuned separately (SGD may adapt its rate to it)."""
    start = {"widths": [d, *cfg["hidden"], K]}
    return [{"condition": {"sigma": s}, "start": {**start, "sigma": s}} for s in cfg["sigmas"]]


def notes(results) -> list[str]:
    """Each optimizer's span of mean test accuracy over sigma, per protocol."""
    out, label = [], common.OPTIMIZER_LABELS
    for proto in (protocol.PROTOCOLS["a"], protocol.PROTOCOLS["b"]):
        rows = [r for r in results.summary if r["protocol"] == proto]
        accs = {o: [r[f"{o}_acc_mean"] for r in rows] for o in results.config["optimizers"]}
        spans = ", ".join(f"{label[o]} {min(a):.3f}-{max(a):.3f}" for o, a in accs.items())
        out.append(f"{proto}: mean test accuracy over sigma: {spans}.")
    return out


def plot(results, path) -> None:
    """Test accuracy against sigma, protocols (a) dashed and (b) solid."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    offsets = {"sgd": -0.05, "pathsgd": 0.0, "gsgd": 0.05}
    plots.accuracy(ax, results, results.config["sigmas"], results.config["optimizers"], offsets)
    ax.set_xlabel("rescaling strength sigma (log c ~ N(0, sigma^2) per hidden node)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    about = f"{results.dataset}, hidden widths {results.config['hidden']}"
    plots.save_figure(fig, path, results, about, ax=ax)
