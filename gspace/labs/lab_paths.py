"""Lab 2: paths, the structure matrix and its rank (claims G3, P1, R1).

Learning objectives:

* list the paths of a layered network and compute their values v_p(w);
* rebuild the network's output as a sum over paths of value x activation x input (P1);
* build the structure matrix A (edges x paths) and read log|v| = A^T log|w| from it;
* find rank A = m - H and explain the H missing directions (the scaling group, R1, R2).

Use NumPy and the standard library only. Conventions: the labs section of the teachers page in
the gspace docs. Grade with ``gspace lab paths --check FILE``.
"""

import numpy as np

from ..core import paths as core_paths  # HIDDEN
from ..core.network import MLP  # HIDDEN
from ..core.scaling import random_scaling  # HIDDEN
from . import LabFailure, call, compare, networks, same  # HIDDEN


def enumerate_paths(widths):
    """All paths (tuples of int, one node per layer), in itertools.product order."""
    return core_paths.enumerate_paths(widths)  # SOLUTION


def path_values(weights, paths):
    """Array of shape (len(paths),): v_p = weights[0][i_0, i_1] ... weights[L-1][i_{L-1}, i_L]."""
    return core_paths.path_values(MLP.from_weights(weights), paths)  # SOLUTION


def network_from_paths(weights, X):
    """The output (n, h_L) for inputs X (n, h_0) as a sum over paths (P1), no forward pass:
    entry [s, k] sums v_p * a_p(x_s) * x_s[i_0] over the paths p ending at output k; a_p(x) = 1
    if every hidden node on p has pre-activation > 0 for x (computed layer by layer), else 0."""
    return core_paths.network_from_paths(MLP.from_weights(weights), X)  # SOLUTION


def structure_matrix(widths):
    """The structure matrix A (m, n): A[e, k] = 1 if path k (``enumerate_paths`` order) uses
    edge e, else 0; edges (rows) layer by layer, row-major in weights[l]."""
    return core_paths.structure_matrix(widths)[1].toarray()  # SOLUTION


def expected_rank(widths):
    """rank A by a formula in m (weights) and H (hidden nodes), without building A (guess it
    from np.linalg.matrix_rank(A) for a few widths; lab 1's b_O say why)."""
    return core_paths.rank_svd(core_paths.structure_matrix(widths)[1])[0]  # SOLUTION


# BEGIN HIDDEN
def checks(student, check):
    with check("enumerate_paths lists every path, in itertools.product order") as rng:
        for widths, _, on in networks(rng, 6, width=(1, 4)):
            same(student, enumerate_paths, (widths,), on)
    with check("path_values is the product of the L weights on each path; G3") as rng:
        for widths, w, on in networks(rng, 6, width=(1, 4)):
            paths = enumerate_paths(widths)
            same(student, path_values, (w, paths), on)
            g = random_scaling(widths, rng, sigma=1.0).apply(MLP.from_weights(w)).weights
            got, got_g = (call(student, "path_values", v, paths, on=on) for v in (w, g))
            compare(got_g, got, "G3: path_values(g(w)) vs path_values(w)", on)
    with check("network_from_paths equals the forward pass (P1)") as rng:
        for widths, w, on in networks(rng, 6, width=(1, 4)):
            same(student, network_from_paths, (w, rng.normal(size=(4, widths[0]))), on)
    with check("structure_matrix has A[e, k] = 1 iff path k uses edge e") as rng:
        hint = "Rows: edges layer by layer, row-major in weights[l]; columns: paths in "
        for widths, _, on in networks(rng, 6, width=(1, 4)):
            same(student, structure_matrix, (widths,), on, hint + "enumerate_paths order.")
    with check("expected_rank is the rank of A, by a formula in m and H (R1)") as rng:
        for widths, _, on in networks(rng, 8, width=(1, 4)):
            got, exp = call(student, "expected_rank", list(widths), on=on), expected_rank(widths)
            if not isinstance(got, (int, np.integer)) or got != exp:
                raise LabFailure(
                    f"expected_rank{on}: the rank of the structure matrix (by SVD) is {exp}, "
                    f"got {got!r}. Hint: count the weights m and the hidden nodes H."
                )


# END HIDDEN
