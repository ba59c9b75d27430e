"""Width: G-SGD against SGD for two hidden layers of growing width."""

from . import plots, protocol

NAME = "width"
TITLE = "G-SGD against SGD for two hidden layers of growing width"
#: The paper's two, then the baselines beyond the paper (:mod:`gspace.baselines`).
OPTIMIZERS = ("sgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
PAIRS = (("gsgd", "sgd"), ("gsgd-momentum", "sgd-momentum"))
COLUMNS = [{"key": "width", "label": "h", "format": "d"}]
DESCRIPTION = (
    "Two-hidden-layer MLPs 784-h-h-10 on {dataset} for h in {widths}, {epochs} epochs, batch "
    "{batch_size}, trained by SGD and G-SGD (and, beyond the paper, SGD and G-SGD with momentum "
    "0.9, Adam and ENorm) under protocols (a) both from skeleton-unit and (b) each from its own "
    "best start; the gap G-SGD minus SGD in test accuracy, paired by seed."
)


def config(quick: bool) -> dict:
    """The configuration (``quick``: 2 widths, 2 epochs, a 6,000-image subsample)."""
    epochs = 2 if quick else 6
    cfg = protocol.base_config(OPTIMIZERS, "fashion-mnist", epochs, quick)
    cfg["widths"] = [16, 64] if quick else [16, 64, 256]
    # the authors' decay exp(-0.01 t) over their 300 epochs, compressed to these epochs
    return {**cfg, "schedule": {"name": "exp", "k": 3.0 / epochs}}


def conditions(cfg, config, d, K) -> list[dict]:
    """One condition per width ``h``: the network ``d-h-h-K``."""
    return [{"condition": {"width": h}, "start": {"widths": [d, h, h, K]}} for h in cfg["widths"]]


def notes(results) -> list[str]:
    """G-SGD - SGD per width, and where it exceeds the per-seed spread, per protocol."""
    out = []
    for proto in ("a", "b"):
        rows = [r for r in results.summary if r["protocol"] == protocol.PROTOCOLS[proto]]
        clear = [r["width"] for r in rows if abs(r["gap_gsgd_sgd_mean"]) > r["gap_gsgd_sgd_std"]]
        out.append(
            f"{protocol.PROTOCOLS[proto]}: G-SGD - SGD by width: "
            + ", ".join(f"h={r['width']}: {r['gap_gsgd_sgd_mean']:+.4f}" for r in rows)
            + f"; larger than one standard deviation of the per-seed gaps at {len(clear)} of "
            f"{len(rows)} widths" + (f" (h = {', '.join(map(str, clear))})." if clear else ".")
        )
    return out


def plot(results, path) -> None:
    """Test accuracy against width per protocol, and the paired gaps G-SGD - SGD."""
    widths, about = [float(h) for h in results.config["widths"]], f"{results.dataset}, 784-h-h-10"
    pairs = [p for p in PAIRS if set(p) <= set(results.config["optimizers"])]
    plots.protocols(results, path, widths, "hidden width h", about, gaps=pairs)
