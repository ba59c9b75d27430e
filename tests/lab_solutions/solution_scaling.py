"""A NumPy-only solution of lab 1, written independently of gspace (used by tests/test_labs.py)."""

import numpy as np


def forward(weights, X):
    a = np.asarray(X, dtype=float)
    for l, w in enumerate(weights):
        a = a @ w
        if l < len(weights) - 1:
            a = np.maximum(a, 0.0)
    return a


def scale_node(weights, layer, node, c):
    out = [w.copy() for w in weights]
    out[layer - 1][:, node] *= c
    out[layer][node, :] /= c
    return out


def apply_scaling(weights, c):
    out = [w.copy() for w in weights]
    for l in range(1, len(weights)):
        out[l - 1] = out[l - 1] * c[l - 1][None, :]
        out[l] = out[l] / c[l - 1][:, None]
    return out


def scaling_vectors(widths):
    sizes = [a * b for a, b in zip(widths[:-1], widths[1:])]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    B = np.zeros((sum(widths[1:-1]), offsets[-1]))
    row = 0
    for l in range(1, len(widths) - 1):
        for j in range(widths[l]):
            for i in range(widths[l - 1]):
                B[row, offsets[l - 1] + i * widths[l] + j] = 1
            for k in range(widths[l + 1]):
                B[row, offsets[l] + j * widths[l + 1] + k] = -1
            row += 1
    return B
