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
    "Final test accuracy of SGD, Path-SGD and G-SGD on {dataset} (784-{hidden}-10, {epochs} "
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
        "dataset": "fashion-mnist",
        "hidden": [32, 32],
        "epochs": epochs,
        "batch_size": 64,
        "loss": "cross_entropy",
        "bias": False,
        "sigmas": [0.0, 2.0] if quick else [0.0, 1.0, 3.0],
        "inits": list(protocol.STARTS),
        "lr_grid": {opt: list(protocol.LR_GRID) for opt in OPTIMIZERS},
        "tune_epochs": epochs,
        "tune_limit": 3000 if quick else 8000,
        "tune_seeds": 1,
        "limit": 6000 if quick else None,
        "optimizers": list(OPTIMIZERS),
    }


def run(
    *, quick=False, seed=0, progress=None, data_dir=None, overrides=None, jobs=1, cache_dir=None
) -> protocol.Results:
    """Run the experiment (see :func:`gspace.experiments.run` for the parameters)."""
    cfg, results, (d, K) = protocol.begin(sys.modules[__name__], quick, seed, data_dir, overrides)
    widths = [d, *cfg["hidden"], K]
    conditions = [
        {"condition": {"sigma": s}, "start": {"widths": widths, "sigma": s}} for s in cfg["sigmas"]
    ]
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
    results.summary_columns = protocol.protocol_columns(
        [{"key": "sigma", "label": "sigma", "format": "g"}], OPTIMIZERS, PAIRS
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
    for proto, ls in ((protocol.PROTOCOLS["a"], "--"), (protocol.PROTOCOLS["b"], "-")):
        rows = [r for r in results.summary if r["protocol"] == proto]
        for opt in OPTIMIZERS:
            ax.errorbar(
                sigmas + offsets[opt],
                [r[f"{opt}_acc_mean"] for r in rows],
                yerr=[r[f"{opt}_acc_std"] for r in rows],
                marker="o",
                capsize=3,
                ls=ls,
                color=common.OPTIMIZER_COLORS[opt],
                label=f"{common.OPTIMIZER_LABELS[opt]}, {proto}",
            )
    ax.set_xlabel("rescaling strength sigma (log c ~ N(0, sigma^2) per hidden node)")
    ax.set_ylabel("test accuracy (fraction correct)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    common.save_figure(
        fig, path, results, f"{results.dataset}, 784-{results.config['hidden']}-10", ax=ax
    )
