"""Lab 2: paths, the structure matrix and its rank.

Read with: the G-SGD paper (Meng et al., ICLR 2019), its description of a ReLU network through
paths and its structure matrix, before the section "Skeleton method"; the gspace docs, theory
page, claims G3, P1, R1 and R2; tutorials 2 and 3.

Learning objectives
-------------------
* list the paths of a layered network and compute their values v_p(w);
* rebuild the network's output as a sum over paths of value x activation x input (P1);
* build the structure matrix A (edges x paths) and read log|v| = A^T log|w| from it;
* find rank A = m - H and explain the H missing directions (the scaling group, R1, R2).

Conventions (as in gspace): ``weights[l]`` has shape (h_l, h_{l+1}); a path is a tuple
(i_0, ..., i_L) of node indices, one per layer; edges are numbered layer by layer and,
inside weights[l], row-major. Use NumPy and the standard library only in this file.

Replace every ``raise NotImplementedError`` by your code, then grade your file with

    gspace lab paths --check lab_paths.py
"""

import itertools  # noqa: F401  (you may want itertools.product)

import numpy as np


def enumerate_paths(widths):
    """All paths of a network with these widths.

    Parameters
    ----------
    widths : list of int
        [h_0, ..., h_L].

    Returns
    -------
    list of tuple of int
        Every (i_0, ..., i_L) with 0 <= i_l < h_l, in itertools.product order
        ((0, ..., 0, 0), (0, ..., 0, 1), ...). There are h_0 h_1 ... h_L of them.
    """
    raise NotImplementedError("TODO: enumerate_paths")


def path_values(weights, paths):
    """Value of each path: the product of the L weights it uses.

    Parameters
    ----------
    weights : list of ndarray
        ``weights[l]`` of shape (h_l, h_{l+1}).
    paths : list of tuple of int

    Returns
    -------
    ndarray of shape (len(paths),)
        v_p = weights[0][i_0, i_1] * weights[1][i_1, i_2] * ... * weights[L-1][i_{L-1}, i_L].
    """
    raise NotImplementedError("TODO: path_values")


def network_from_paths(weights, X):
    """The network's output computed as a sum over paths (claim P1), without a forward pass
    through the layers' matrices.

    Parameters
    ----------
    weights : list of ndarray
    X : ndarray of shape (n, h_0)

    Returns
    -------
    ndarray of shape (n, h_L)
        Entry [s, k] = sum over the paths p ending at output k of
        v_p * a_p(x_s) * x_s[i_0(p)], where the activation status a_p(x) is 1 if every hidden
        node on p has a pre-activation > 0 for input x, else 0. (You need the hidden layers'
        pre-activations to know a_p; compute them layer by layer.)
    """
    raise NotImplementedError("TODO: network_from_paths")


def structure_matrix(widths):
    """The structure matrix A of the network.

    Parameters
    ----------
    widths : list of int

    Returns
    -------
    ndarray of shape (m, n)
        m weights (rows, edge (i -> j) of weights[l] is row
        sum(h_k h_{k+1} for k < l) + i * h_{l+1} + j), n paths (columns, in
        ``enumerate_paths`` order). A[e, k] = 1 if path k uses edge e, else 0.
    """
    raise NotImplementedError("TODO: structure_matrix")


def expected_rank(widths):
    """The rank of the structure matrix, as a formula (do not build A).

    Parameters
    ----------
    widths : list of int

    Returns
    -------
    int
        rank A. Compute np.linalg.matrix_rank(structure_matrix(widths)) for a few widths,
        guess the formula in m (number of weights) and H (number of hidden nodes), and explain
        it with the vectors b_O of lab 1 (A^T b_O = 0).
    """
    raise NotImplementedError("TODO: expected_rank")


if __name__ == "__main__":
    widths = [2, 3, 2]
    print(enumerate_paths(widths))
    A = structure_matrix(widths)
    print(A.shape, np.linalg.matrix_rank(A), expected_rank(widths))
