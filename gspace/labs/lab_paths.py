"""Lab 2: paths, the network as a sum over paths, the structure matrix and its rank
(claims G3, P1, R1).

The reference functions below are the solution: each calls gspace's own implementation
(:mod:`gspace.core.paths`, :func:`gspace.structure_matrix`, :func:`gspace.core.paths.rank_svd`).
"""

from __future__ import annotations

import numpy as np

from ..core import paths as _paths
from ..core.network import MLP
from ..core.paths import rank_svd
from ..core.paths import structure_matrix as _structure_matrix
from ..core.scaling import random_scaling
from . import LabFailure, call, compare, draw_weights, draw_widths

TITLE = "Lab 2: paths, the structure matrix and its rank (claims G3, P1, R1)"


def enumerate_paths(widths):
    return _paths.enumerate_paths(widths)


def path_values(weights, paths):
    return _paths.path_values(MLP.from_weights(weights), paths)


def structure_matrix(widths):
    return _structure_matrix(widths)[1].toarray()


def network_from_paths(weights, X):
    return _paths.network_from_paths(MLP.from_weights(weights), X)


def expected_rank(widths):
    return rank_svd(_structure_matrix(widths)[1])[0]


REFERENCE = {
    f.__name__: f
    for f in (enumerate_paths, path_values, structure_matrix, network_from_paths, expected_rank)
}


def _cases(rng, n=6):
    for _ in range(n):
        widths = draw_widths(rng, width=(1, 4))
        yield widths, draw_weights(widths, rng)


def check_enumerate_paths(student, rng):
    """enumerate_paths lists every path, in itertools.product order"""
    for widths, _ in _cases(rng):
        on = f" for widths {widths}"
        got = call(student, "enumerate_paths", list(widths), on=on)
        exp = enumerate_paths(widths)
        got = [tuple(int(i) for i in p) for p in got]
        if len(got) != len(exp):
            raise LabFailure(
                f"enumerate_paths{on}: expected {len(exp)} paths (the product of the widths), "
                f"got {len(got)}"
            )
        for k, (a, b) in enumerate(zip(got, exp)):
            if a != b:
                raise LabFailure(
                    f"enumerate_paths{on}: path {k} should be {b}, got {a}. "
                    "Hint: itertools.product(*[range(h) for h in widths])."
                )


def check_path_values(student, rng):
    """path_values is the product of the L weights on each path; G3"""
    for widths, w in _cases(rng):
        paths = enumerate_paths(widths)
        on = f" on widths {widths}"
        hint = "Path (i_0, ..., i_L) uses weights[l][i_l, i_{l+1}] for l = 0..L-1."
        got = call(student, "path_values", w, paths, on=on)
        compare(got, path_values(w, paths), "path_values", on, hint)
        g = random_scaling(widths, rng, sigma=1.0).apply(MLP.from_weights(w)).weights
        got_g = call(student, "path_values", g, paths, on=on)
        compare(got_g, got, "G3: path_values(g(w)) vs path_values(w)", on)


def check_network_from_paths(student, rng):
    """network_from_paths equals the forward pass (P1)"""
    for widths, w in _cases(rng):
        X = rng.normal(size=(4, widths[0]))
        on = f" on widths {widths}, X of shape {X.shape}"
        hint = (
            "N(x)_k = sum over paths ending at output k of v_p * a_p(x) * x[i_0], where "
            "a_p(x) = 1 iff every hidden node on p has pre-activation > 0."
        )
        got = call(student, "network_from_paths", w, X, on=on)
        compare(got, network_from_paths(w, X), "network_from_paths", on, hint)


def check_structure_matrix(student, rng):
    """structure_matrix has A[e, k] = 1 iff path k uses edge e"""
    for widths, _ in _cases(rng):
        on = f" for widths {widths}"
        hint = (
            "Rows: edges layer by layer, row-major in weights[l]; columns: paths in "
            "enumerate_paths order; exactly L ones per column."
        )
        A = call(student, "structure_matrix", list(widths), on=on)
        compare(A, structure_matrix(widths), "A", on, hint)


def check_expected_rank(student, rng):
    """expected_rank is the rank of A, by a formula in m and H (R1)"""
    for widths, _ in _cases(rng, 8):
        on = f" for widths {widths}"
        got = call(student, "expected_rank", list(widths), on=on)
        exp = expected_rank(widths)
        if not isinstance(got, (int, np.integer)) or got != exp:
            raise LabFailure(
                f"expected_rank{on}: the rank of the structure matrix (computed from its "
                f"singular values) is {exp}, got {got!r}. Hint: count the weights m and the "
                "hidden nodes H."
            )


CHECKS = [check_enumerate_paths, check_path_values, check_network_from_paths]
CHECKS += [check_structure_matrix, check_expected_rank]
#: Documented: the graded checks (the reference functions above are the solution).
__all__ = [c.__name__ for c in CHECKS]
