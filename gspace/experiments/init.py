"""Initialization: how much each optimizer depends on where in G-space it starts.

SGD, Path-SGD and G-SGD, each from plain He initialization and from the skeleton-unit
initialization (every skeleton weight set to 1, as the authors' code does before training),
on a shallow and a deep network, each start at its own rate tuned on validation
(:mod:`gspace.experiments.protocol`). Skeleton-unit changes the network function: it is a
different starting point, not a rescaling. From He initialization a skeleton path's value is
a product of ``L`` small weights, and G-SGD's ``dl/dv = u / v`` is large where ``v`` is small
(docs: theory, section "G-SGD").
"""

from __future__ import annotations

import sys

from . import protocol

NAME = "init"
TITLE = "He against skeleton-unit initialization, shallow and deep"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")
DESCRIPTION = (
    "Final test accuracy of SGD, Path-SGD and G-SGD on {dataset} from He and from "
    "skeleton-unit initialization, each at its own tuned rate, on the networks {networks}, "
    "{epochs} epochs. Both starts are drawn from the same seed."
)

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration (``quick``: 3 epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["networks"]
    {'shallow': [32, 32], 'deep': [32, 32, 32, 32, 32, 32]}
    """
    epochs = 3 if quick else 10
    return {
        "dataset": "mnist",
        "networks": {"shallow": [32, 32], "deep": [32] * 6},
        "epochs": epochs,
        "batch_size": 64,
        "loss": "cross_entropy",
        "bias": False,
        "inits": list(protocol.STARTS),
        "report_every_start": True,
        "lr_grid": {opt: list(protocol.LR_GRID) for opt in OPTIMIZERS},
        "tune_epochs": epochs,
        "tune_limit": None,
        "tune_seeds": 1,
        "limit": None,
        "optimizers": list(OPTIMIZERS),
    }


def run(
    *, quick=False, seed=0, progress=None, data_dir=None, overrides=None, jobs=1, cache_dir=None
) -> protocol.Results:
    """Run the experiment (see :func:`gspace.experiments.run` for the parameters)."""
    cfg, results, (d, K) = protocol.begin(
        sys.modules[__name__], quick, seed, data_dir, overrides, init="he and skeleton-unit"
    )
    conditions = [
        {"condition": {"network": name}, "start": {"widths": [d, *hidden, K]}}
        for name, hidden in cfg["networks"].items()
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
    results.summary = protocol.protocol_rows(outcome, conditions, OPTIMIZERS)
    results.summary_columns = protocol.protocol_columns(
        [{"key": "network", "label": "network"}], OPTIMIZERS
    )
    return results


def plot(results, path) -> None:
    """Test accuracy against epochs of every start and optimizer, one panel per network."""
    protocol.plot_curves(results, path, "network")
