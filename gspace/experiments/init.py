"""Initialization: how much each optimizer depends on where in G-space it starts.

SGD, Path-SGD and G-SGD, each from plain He initialization and from the skeleton-unit
initialization (every skeleton weight set to 1, as the authors' code does before training),
on a shallow and a deep network, each start at its own rate tuned on validation
(:mod:`gspace.experiments.protocol`). Skeleton-unit changes the network function: it is a
different starting point, not a rescaling. From He initialization a skeleton path's value is
a product of ``L`` small weights, and G-SGD's ``dl/dv = u / v`` is large where ``v`` is small
(the theory page, section "G-SGD").
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
        **protocol.base_config(OPTIMIZERS, "mnist", epochs, quick, subsample=False),
        "networks": {"shallow": [32, 32], "deep": [32] * 6},
        "report_every_start": True,
    }


def run(*, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run the experiment; ``options``: ``progress``, ``data_dir``, ``jobs``, ``cache_dir``.

    See :func:`gspace.experiments.run` for the parameters.
    """
    cfg, results, (d, K) = protocol.begin(
        sys.modules[__name__], quick, seed, overrides, init="he and skeleton-unit", **options
    )
    conditions = [
        {"condition": {"network": name}, "start": {"widths": [d, *hidden, K]}}
        for name, hidden in cfg["networks"].items()
    ]
    protocol.compare(
        results, cfg, conditions, OPTIMIZERS, [{"key": "network", "label": "network"}], **options
    )
    return results


def plot(results, path) -> None:
    """Test accuracy against epochs of every start and optimizer, one panel per network."""
    protocol.plot_curves(results, path, "network")
