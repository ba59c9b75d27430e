"""Hypothesis strategies shared by the test suite: architectures, networks, batches.

Weights are drawn bounded away from 0 (so path values and skeleton weights are never 0) and
batches can be filtered away from ReLU kinks with :func:`gspace.testing.away_from_kinks`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import gspace


@st.composite
def widths(draw, min_layers=1, max_layers=4, min_width=1, max_width=6, equal_hidden=None):
    """``[d, h_1, ..., K]`` with ``min_layers..max_layers`` weight layers.

    ``equal_hidden``: True forces equal hidden widths, False allows any, None draws either.
    """
    L = draw(st.integers(min_layers, max_layers))
    d = draw(st.integers(min_width, max_width))
    K = draw(st.integers(min_width, max_width))
    if equal_hidden is None:
        equal_hidden = draw(st.booleans())
    if equal_hidden:
        h = draw(st.integers(min_width, max_width))
        hidden = [h] * (L - 1)
    else:
        hidden = draw(st.lists(st.integers(min_width, max_width), min_size=L - 1, max_size=L - 1))
    return [d, *hidden, K]


def seeds():
    return st.integers(0, 2**32 - 1)


@st.composite
def networks(draw, widths_strategy=None, bias=None, min_abs=0.1, max_abs=2.0):
    """An :class:`gspace.MLP` whose weights have ``min_abs <= |w| <= max_abs``, random signs.

    ``bias``: True, False or None (draw either). Biases, when present, are in [-1, 1].
    """
    ws = draw(widths_strategy if widths_strategy is not None else widths())
    if bias is None:
        bias = draw(st.booleans())
    rng = np.random.default_rng(draw(seeds()))
    weights = [
        rng.uniform(min_abs, max_abs, size=(a, b)) * rng.choice([-1.0, 1.0], size=(a, b))
        for a, b in zip(ws[:-1], ws[1:])
    ]
    biases = [rng.uniform(-1.0, 1.0, size=b) for b in ws[1:]] if bias else None
    return gspace.MLP.from_weights(weights, biases)


def batch(net, n, seed, loss):
    """Inputs and targets for ``net``: ``X`` (n, d) standard normal; ``Y`` per ``loss``."""
    rng = np.random.default_rng(seed)
    d, K = net.widths[0], net.widths[-1]
    X = rng.normal(size=(n, d))
    if loss == "mse":
        Y = rng.normal(size=(n, K))
    else:
        Y = rng.integers(0, K, size=n)
    return X, Y


@st.composite
def skeletons(draw, widths_strategy=None):
    """``(widths, Skeleton)`` with in-parents ``pi`` and out-children ``sigma`` drawn at random
    (any choice is allowed by the general construction, claim B4)."""
    ws = draw(widths_strategy if widths_strategy is not None else widths(min_layers=2))
    rng = np.random.default_rng(draw(seeds()))
    L = len(ws) - 1
    pi, sigma = [None] * (L + 1), [None] * (L + 1)
    for l in range(1, L):
        pi[l] = rng.integers(0, ws[l - 1], size=ws[l])
        sigma[l] = rng.integers(0, ws[l + 1], size=ws[l])
    return ws, gspace.Skeleton(ws, pi, sigma)


@st.composite
def cnns(draw, bias=None, pool=None, max_conv=3, max_channels=3):
    """A small PlainCNN (kernels 1 or 3, strides 1 or 2, optional pooling) and an image size
    large enough for it; weights ``0.1 <= |w| <= 1.5`` with random signs, biases in [-1, 1]."""
    n_conv = draw(st.integers(1, max_conv))
    widths = draw(st.lists(st.integers(1, max_channels), min_size=n_conv + 2, max_size=n_conv + 2))
    ks = draw(st.lists(st.sampled_from([1, 3]), min_size=n_conv, max_size=n_conv))
    strides = draw(st.lists(st.sampled_from([1, 2]), min_size=n_conv, max_size=n_conv))
    if pool is None:
        pool = draw(st.booleans())
    pools = [1] * n_conv
    if pool:
        pools[draw(st.integers(0, n_conv - 1))] = 2
    bias = draw(st.booleans()) if bias is None else bias
    rng = np.random.default_rng(draw(seeds()))
    shapes = [(a, b, k, k) for a, b, k in zip(widths[:-2], widths[1:-1], ks)] + [widths[-2:]]
    weights = [rng.uniform(0.1, 1.5, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
    biases = [rng.uniform(-1, 1, b) for b in widths[1:]] if bias else None
    size = draw(st.integers(2 if pool else 1, 6))
    size = max(size, int(np.prod(strides)) * 2 if pool else size)  # room for the pooling
    return gspace.PlainCNN.from_weights(weights, strides, biases, pools), size
