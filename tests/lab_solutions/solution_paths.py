"""A NumPy-only solution of lab 2, written independently of gspace (used by tests/test_labs.py)."""

import itertools

import numpy as np


def enumerate_paths(widths):
    return list(itertools.product(*[range(h) for h in widths]))


def path_values(weights, paths):
    return np.array([np.prod([w[p[l], p[l + 1]] for l, w in enumerate(weights)]) for p in paths])


def network_from_paths(weights, X):
    widths = [weights[0].shape[0]] + [w.shape[1] for w in weights]
    z, a = [], np.asarray(X, dtype=float)
    for w in weights[:-1]:
        z.append(a @ w)
        a = np.maximum(z[-1], 0)
    out = np.zeros((len(X), widths[-1]))
    paths = enumerate_paths(widths)
    for p, v in zip(paths, path_values(weights, paths)):
        active = np.all([z[l][:, p[l + 1]] > 0 for l in range(len(z))], axis=0)
        out[:, p[-1]] += v * active * X[:, p[0]]
    return out


def structure_matrix(widths):
    sizes = [a * b for a, b in zip(widths[:-1], widths[1:])]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    paths = enumerate_paths(widths)
    A = np.zeros((offsets[-1], len(paths)))
    for k, p in enumerate(paths):
        for l in range(len(widths) - 1):
            A[offsets[l] + p[l] * widths[l + 1] + p[l + 1], k] = 1
    return A


def expected_rank(widths):
    return sum(a * b for a, b in zip(widths[:-1], widths[1:])) - sum(widths[1:-1])
