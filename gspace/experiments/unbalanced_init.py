"""Unbalanced initialization: accuracy against the strength of a random rescaling.

The experiment of the Path-SGD paper (Neyshabur et al., 2015), with G-SGD added. Every
starting network is ``g(w)``: ``w`` from the start (skeleton-unit or He), ``g`` a random
positive rescaling with ``log c ~ N(0, sigma^2)`` per hidden node. All ``g(w)`` compute the
same function as ``w`` (claim G2), but they put very different weights in front of SGD. G-SGD
and Path-SGD do not see ``g`` (claims A2, A4), so their accuracy should not depend on
``sigma``; SGD's may. The fair protocol of :mod:`gspace.experiments.protocol` runs separately
for every ``sigma`` (the fairest choice for SGD: it may adapt its rate to the rescaling).
"""

from __future__ import annotations

import sys

import numpy as np

from . import common, protocol

NAME = "unbalanced-init"
TITLE = "Test accuracy after training from a randomly rescaled network"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")
PAIRS = (("gsgd", "sgd"), ("pathsgd", "sgd"))
DESCRIPTION = (
    "Final test accuracy of SGD, Path-SGD and G-SGD on {dataset} (hidden widths {hidden}, {epochs} "
    "epochs) started from g(w), a random positive rescaling of the initial network with "
    "log c ~ N(0, sigma^2) per hidden node, for sigma in {sigmas}; protocols (a) and (b) per "
    "sigma. The rescaling does not change the network function."
)

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration (``quick``: 2 sigmas, 1 epoch on a 6,000-image subsample, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["sigmas"]
    [0.0, 1.0, 3.0]
    """
    epochs = 1 if quick else 2
    return {
        **protocol.base_config(OPTIMIZERS, "fashion-mnist", epochs, quick),
        "hidden": [32, 32],
        "sigmas": [0.0, 2.0] if quick else [0.0, 1.0, 3.0],
    }


def run(*, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run the experiment; ``options``: ``progress``, ``data_dir``, ``jobs``, ``cache_dir``.

    See :func:`gspace.experiments.run` for the parameters.
    """
    cfg, results, (d, K) = protocol.begin(sys.modules[__name__], quick, seed, overrides, **options)
    widths = [d, *cfg["hidden"], K]
    conditions = [
        {"condition": {"sigma": s}, "start": {"widths": widths, "sigma": s}} for s in cfg["sigmas"]
    ]
    protocol.compare(
        results,
        cfg,
        conditions,
        OPTIMIZERS,
        [{"key": "sigma", "label": "sigma", "format": "g"}],
        PAIRS,
        **options,
    )
    for proto in ("a", "b"):
        rows = [r for r in results.summary if r["protocol"] == protocol.PROTOCOLS[proto]]
        spans = []
        for opt in OPTIMIZERS:
            accs = [r[f"{opt}_acc_mean"] for r in rows]
            spans.append(f"{common.OPTIMIZER_LABELS[opt]} {min(accs):.3f}-{max(accs):.3f}")
        results.notes.append(
            f"{protocol.PROTOCOLS[proto]}: mean test accuracy over sigma: " + ", ".join(spans) + "."
        )
    return results


def plot(results, path) -> None:
    """Test accuracy against sigma, protocols (a) dashed and (b) solid; saved to ``path``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sigmas = np.asarray(results.config["sigmas"], dtype=float)
    offsets = {"sgd": -0.05, "pathsgd": 0.0, "gsgd": 0.05}
    protocol.plot_accuracy(ax, results, sigmas, OPTIMIZERS, offsets)
    ax.set_xlabel("rescaling strength sigma (log c ~ N(0, sigma^2) per hidden node)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    common.save_figure(
        fig, path, results, f"{results.dataset}, hidden widths {results.config['hidden']}", ax=ax
    )
