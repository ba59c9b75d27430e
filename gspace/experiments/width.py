"""Width: the gap between G-SGD and SGD for two-hidden-layer MLPs of growing width.

The paper's Fashion-MNIST study: two hidden layers of equal width ``h``, G-SGD against SGD,
and the gap in test accuracy as a function of ``h``; the paper's argument is that the
weight space has ``m`` dimensions (growing like ``h^2``) while G-space has ``m - H``
(``H = 2h`` hidden nodes). Both optimizers run under the fair protocol of
:mod:`gspace.experiments.protocol`: (a) both from the authors' skeleton-unit start, (b) each
from its own best start; learning rates chosen on validation from one grid. The learning
rate decays as ``lr * exp(-3 t / epochs)`` in epoch ``t``: the authors' released decay
``exp(-0.01 t)`` over their 300 epochs, compressed to this run's epochs.
"""

from __future__ import annotations

import sys

from . import protocol

NAME = "width"
TITLE = "G-SGD against SGD for two hidden layers of growing width"
#: The paper's two, then the baselines beyond the paper (:mod:`gspace.baselines`).
OPTIMIZERS = ("sgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
PAIRS = (("gsgd", "sgd"), ("gsgd-momentum", "sgd-momentum"))
DESCRIPTION = (
    "Two-hidden-layer MLPs 784-h-h-10 on {dataset} for h in {widths}, {epochs} epochs, batch "
    "{batch_size}, trained by SGD and G-SGD (and, beyond the paper, SGD and G-SGD with "
    "momentum 0.9, Adam and ENorm) under protocols (a) both from skeleton-unit and "
    "(b) each from its own best start; the gap G-SGD minus SGD in test accuracy, paired by seed."
)

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration (``quick``: 2 widths, 2 epochs, a 6,000-image subsample, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["widths"]
    [16, 64, 256]
    """
    epochs = 2 if quick else 6
    return {
        **protocol.base_config(OPTIMIZERS, "fashion-mnist", epochs, quick),
        "widths": [16, 64] if quick else [16, 64, 256],
        "schedule": {"name": "exp", "k": 3.0 / epochs},
    }


def run(*, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run the experiment; ``options``: ``progress``, ``data_dir``, ``jobs``, ``cache_dir``.

    See :func:`gspace.experiments.run` for the parameters.
    """
    cfg, results, (d, K) = protocol.begin(sys.modules[__name__], quick, seed, overrides, **options)
    conditions = [
        {"condition": {"width": h}, "start": {"widths": [d, h, h, K]}} for h in cfg["widths"]
    ]
    protocol.compare(
        results,
        cfg,
        conditions,
        cfg["optimizers"],
        [{"key": "width", "label": "h", "format": "d"}],
        PAIRS,
        **options,
    )
    for proto in ("a", "b"):
        rows = [r for r in results.summary if r["protocol"] == protocol.PROTOCOLS[proto]]
        clear = [r["width"] for r in rows if abs(r["gap_gsgd_sgd_mean"]) > r["gap_gsgd_sgd_std"]]
        results.notes.append(
            f"{protocol.PROTOCOLS[proto]}: G-SGD - SGD by width: "
            + ", ".join(f"h={r['width']}: {r['gap_gsgd_sgd_mean']:+.4f}" for r in rows)
            + f"; larger than one standard deviation of the per-seed gaps at {len(clear)} of "
            f"{len(rows)} widths" + (f" (h = {', '.join(map(str, clear))})." if clear else ".")
        )
    return results


def plot(results, path) -> None:
    """Test accuracy against width under protocols (a) and (b), and the paired differences
    G-SGD - SGD (with and without momentum); saved to ``path``."""
    widths = [float(h) for h in results.config["widths"]]
    pairs = [p for p in PAIRS if set(p) <= set(results.config["optimizers"])]
    xlabel = "hidden width h"
    about = f"{results.dataset}, 784-h-h-10"
    protocol.plot_protocols(results, path, widths, xlabel, about, gaps=pairs)
