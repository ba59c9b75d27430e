"""Paths, the network as a sum over paths (claim P1), and the structure matrix (R1).

A path is one node per layer, ``(i_0, ..., i_L)``; there are ``n = h_0 h_1 ... h_L``, listed
in ``itertools.product`` order (path ``k`` is ``np.unravel_index(k, widths)``). Its value is
``v_p(w) = prod_l weights[l][i_l, i_{l+1}]`` and its activation status for an input ``x`` is
the product of ``1[z_j(x) > 0]`` over the hidden nodes ``j`` it visits.

Biases (the paper is bias-free): the bias of node ``i_s`` of layer ``s`` is an edge from a
constant-1 node, and a *bias path* ``(-1, ..., -1, i_s, ..., i_L)`` starts there (``s``
leading ``-1``). Edges are numbered layer by layer, row-major in ``weights[l]``, then the
biases (``biases[0]`` first): the rows of the structure matrix ``A`` (``A[e, k] = 1`` iff
edge ``e`` is on path ``k``), for which ``log|v| = A^T log|w|``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy as sp

from .. import validation as V

__all__ = ["DEFAULT_PATH_LIMIT", "count_paths", "num_params", "path_array", "enumerate_paths"]
__all__ += ["edge_offsets", "path_edges", "path_values", "activation_status"]
__all__ += ["network_from_paths", "structure_matrix", "rank_svd"]

DEFAULT_PATH_LIMIT = 1_000_000


def count_paths(widths, bias: bool = False) -> int:
    """Number of paths ``h_0 ... h_L`` (plus ``h_s ... h_L`` bias paths per start layer ``s``).

    Examples
    --------
    >>> count_paths([3, 4, 4, 2]), count_paths([3, 4, 4, 2], bias=True)
    (96, 138)
    """
    widths = V.widths(widths)
    return math.prod(widths) + bias * sum(math.prod(widths[s:]) for s in range(1, len(widths)))


def num_params(widths, bias: bool = False) -> int:
    """Rows of the structure matrix: ``m = sum_l h_l h_{l+1}`` (plus ``h_1 + ... + h_L``)."""
    widths = V.widths(widths)
    return sum(a * b for a, b in zip(widths[:-1], widths[1:])) + bias * sum(widths[1:])


def _product_block(widths) -> np.ndarray:
    """All index tuples in row-major order."""
    grids = np.meshgrid(*[np.arange(h, dtype=np.int64) for h in widths], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def path_array(widths, limit: int = DEFAULT_PATH_LIMIT, bias: bool = False) -> np.ndarray:
    """All paths as an int array ``(n, L + 1)`` (bias paths after, ``-1`` below their start).

    Examples
    --------
    >>> path_array([2, 1, 2], bias=True)[[0, 1, 4, 6]].tolist()
    [[0, 0, 0], [0, 0, 1], [-1, 0, 0], [-1, -1, 0]]
    """
    widths = V.path_limit(widths, limit, bias, count_paths)
    blocks = [_product_block(widths)]
    for s in range(1, len(widths) if bias else 1):
        sub = _product_block(widths[s:])
        blocks.append(np.hstack([np.full((sub.shape[0], s), -1, dtype=np.int64), sub]))
    return np.vstack(blocks)


def enumerate_paths(widths, limit: int = DEFAULT_PATH_LIMIT, bias: bool = False) -> list:
    """All paths as tuples ``(i_0, ..., i_L)``, in the order of :func:`path_array`.

    Examples
    --------
    >>> enumerate_paths([2, 1, 2])
    [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 0, 1)]
    """
    return [tuple(p) for p in path_array(widths, limit, bias).tolist()]


def edge_offsets(widths) -> np.ndarray:
    """First edge of each layer, then ``m``: ``weights[l][i, j]`` is ``off[l] + i h_{l+1} + j``.

    Examples
    --------
    >>> edge_offsets([3, 4, 2]).tolist()
    [0, 12, 20]
    """
    widths = V.widths(widths)
    sizes = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def path_edges(widths, paths) -> np.ndarray:
    """Edge indices ``(n, L)`` used by each path; ``-1`` below a bias path's start.

    Examples
    --------
    >>> path_edges([2, 2, 1], [(0, 1, 0), (1, 1, 0), (-1, 1, 0)]).tolist()
    [[1, 5], [3, 5], [7, 5]]
    """
    P = V.paths(widths, paths)
    widths = V.widths(widths)
    offs = edge_offsets(widths)
    boffs = offs[-1] + np.concatenate([[0], np.cumsum(widths[1:])])
    E = np.full((P.shape[0], len(widths) - 1), -1, dtype=np.int64)
    for l in range(len(widths) - 1):
        a, b = P[:, l], P[:, l + 1]
        E[a >= 0, l] = offs[l] + a[a >= 0] * widths[l + 1] + b[a >= 0]
        start = (a < 0) & (b >= 0)
        E[start, l] = boffs[l] + b[start]  # the bias of node b of layer l + 1
    return E


def path_values(net, paths) -> np.ndarray:
    """Path values ``v_p(w) = prod_l weights[l][i_l, i_{l+1}]`` (bias paths: bias times the rest).

    Examples
    --------
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[5.0], [7.0]]])
    >>> path_values(net, [(0, 0, 0), (0, 1, 0)]).tolist()
    [10.0, 21.0]
    """
    P = V.net_paths(net, paths)
    v = np.ones(P.shape[0])
    for l in range(len(net.weights)):
        a, b = P[:, l], P[:, l + 1]
        v[a >= 0] *= net.weights[l][a[a >= 0], b[a >= 0]]
        start = (a < 0) & (b >= 0)
        if start.any():
            v[start] *= net.biases[l][b[start]]
    return v


def activation_status(net, X, paths) -> np.ndarray:
    """``a_p(x) = prod over the hidden nodes j of p of 1[z_j(x) > 0]``, shape ``(N, n)``."""
    P = V.net_paths(net, paths)
    z = net.forward_cache(X).z
    status = np.ones((z[-1].shape[0], P.shape[0]))
    for l in range(1, len(net.weights)):
        on = P[:, l] >= 0
        status[:, on] *= z[l][:, P[on, l]] > 0
    return status


def network_from_paths(net, X, limit: int = DEFAULT_PATH_LIMIT) -> np.ndarray:
    """The network output rebuilt as a sum over paths (claim P1), shape ``(N, K)``:
    ``N_w(x)_k = sum_{p ends at k} v_p(w) a_p(x; w) x_{i_0(p)}`` (bias paths: factor 1).

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Background" (the network as a sum over paths).
    """
    X = V.inputs(net, X, mlp_only=True)
    P = path_array(net.widths, limit=limit, bias=net.biases is not None)
    x_factor = np.ones((X.shape[0], P.shape[0]))
    x_factor[:, P[:, 0] >= 0] = X[:, P[P[:, 0] >= 0, 0]]
    terms = activation_status(net, X, P) * x_factor * path_values(net, P)[None, :]
    ends = np.zeros((P.shape[0], net.widths[-1]))
    ends[np.arange(P.shape[0]), P[:, -1]] = 1.0
    return terms @ ends


def structure_matrix(widths, limit: int = DEFAULT_PATH_LIMIT, bias: bool | None = None):
    """The paths (tuples) and the structure matrix ``A``, a ``csc_array`` ``(m, n)`` with
    ``A[e, k] = 1`` iff edge ``e`` is on path ``k`` (Meng et al., "Skeleton method"), of
    widths or of a network (``bias=None``: bias paths iff it has biases).

    Examples
    --------
    >>> paths, A = structure_matrix([2, 2, 1])
    >>> A.toarray().astype(int).tolist()
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    """
    widths, _, bias = V.graph_args(widths, bias)
    P = path_array(widths, limit=limit, bias=bias)
    E = path_edges(widths, P)
    keep = E >= 0
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
    A = sp.sparse.csc_array(
        (np.ones(int(keep.sum())), E[keep], indptr), shape=(num_params(widths, bias), P.shape[0])
    )
    A.has_sorted_indices = False
    A.sort_indices()
    return [tuple(p) for p in P.tolist()], A


def rank_svd(M, rtol: float | None = None) -> tuple[int, np.ndarray]:
    """Numerical rank and singular values; ``s <= rtol s_max`` is 0 (``rtol = max(p, q) eps``).

    Examples
    --------
    >>> rank_svd(np.array([[1.0, 2.0], [2.0, 4.0]]))[0]
    1
    """
    D = M.toarray() if sp.sparse.issparse(M) else np.asarray(M, dtype=np.float64)
    s = sp.linalg.svd(D, compute_uv=False) if D.size else np.zeros(0)
    rtol = max(D.shape) * np.finfo(np.float64).eps if rtol is None else rtol
    return int(np.sum(s > rtol * (s[0] if s.size else 0.0))), s
