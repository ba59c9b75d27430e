"""Paths of a layered network: enumeration, path values, activation statuses, claim P1.

A path is a choice of one node per layer, written as a tuple ``(i_0, ..., i_L)``; there are
``n = h_0 h_1 ... h_L`` of them. Its value is the product of the ``L`` weights it uses,
``v_p(w) = prod_l weights[l][i_l, i_{l+1}]``, and its activation status for an input ``x`` is
the product of ``1[z_j(x) > 0]`` over the hidden nodes ``j`` it visits (paper-notes section 1).

Order: :func:`enumerate_paths` lists paths in ``itertools.product`` order (the last index
varies fastest), so path ``k`` is ``np.unravel_index(k, widths)``. Every function here also
accepts paths as an int array of shape ``(n, L + 1)``.

Biases (not in the paper, which is bias-free). The bias of node ``i_s`` of layer ``s``
(``biases[s - 1][i_s]``) is an edge from a constant-1 node. A *bias path* starts there and
runs up to an output: ``(-1, ..., -1, i_s, ..., i_L)``, a tuple of the same length ``L + 1``
whose first ``s`` entries are ``-1`` (the ``-1`` at position ``s - 1`` stands for the constant
node, the ones before it for "no node"). Its value is ``biases[s-1][i_s]`` times the weights
from layer ``s`` on; its input factor is 1. With ``bias=True`` the enumeration lists the
``n`` weight paths first, then the bias paths by start layer ``s = 1..L``, each block in
``itertools.product`` order. With these paths the network is again a sum over paths (P1).

Edge numbering (shared with :mod:`gspace.structure` and :mod:`gspace.scaling`): weights
``0..m-1`` layer by layer, row-major in ``weights[l]``; then the biases, ``biases[0]`` first.
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from .network import MLP, check_widths

__all__ = [
    "DEFAULT_PATH_LIMIT",
    "count_paths",
    "enumerate_paths",
    "path_array",
    "edge_offsets",
    "path_edges",
    "path_values",
    "activation_status",
    "network_from_paths",
]

DEFAULT_PATH_LIMIT = 1_000_000
"""Default largest number of paths the explicit route will list."""


def count_paths(widths, bias: bool = False) -> int:
    """Number of paths, as an exact Python int.

    Parameters
    ----------
    widths : sequence of int
    bias : bool, default False
        Count the bias paths too.

    Returns
    -------
    int
        ``n = h_0 h_1 ... h_L``; with ``bias=True`` plus ``h_s ... h_L`` bias paths for every
        start layer ``s = 1..L``.

    Examples
    --------
    >>> count_paths([3, 4, 4, 2]), count_paths([3, 4, 4, 2], bias=True)
    (96, 138)
    """
    widths = check_widths(widths)
    n = math.prod(widths)
    if bias:
        n += sum(math.prod(widths[s:]) for s in range(1, len(widths)))
    return n


def _check_limit(widths, limit, bias) -> int:
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
    n = count_paths(widths, bias=bias)
    if n > limit:
        raise ValueError(
            f"widths {widths} have {n:.3e} paths ({n} exactly), more than limit={limit}: "
            f"listing them is the explicit route. Raise `limit` if you have the memory, or use "
            f"the scalable route, which never lists paths: gspace.structure.gram_by_counting "
            f"(A A^T by counting) and gspace.structure.rank_certificate (exact, no path listed)"
        )
    return n


def path_array(widths, limit: int = DEFAULT_PATH_LIMIT, bias: bool = False) -> np.ndarray:
    """All paths as an int array, vectorised.

    Parameters
    ----------
    widths : sequence of int
    limit : int, default 10**6
        Refuse to list more paths than this.
    bias : bool, default False
        Append the bias paths.

    Returns
    -------
    ndarray of shape (n, L + 1), int64
        Same order as :func:`enumerate_paths`; bias paths carry ``-1`` before their start
        layer.

    Raises
    ------
    ValueError
        If there are more than ``limit`` paths (the message names both numbers and points to
        the scalable route).

    Examples
    --------
    >>> path_array([2, 1, 2]).tolist()
    [[0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 1]]
    >>> path_array([1, 2], bias=True).tolist()
    [[0, 0], [0, 1], [-1, 0], [-1, 1]]
    """
    widths = check_widths(widths)
    _check_limit(widths, limit, bias)
    L = len(widths) - 1
    blocks = [_product_block(widths)]
    if bias:
        for s in range(1, L + 1):
            sub = _product_block(widths[s:])
            blocks.append(np.hstack([np.full((sub.shape[0], s), -1, dtype=np.int64), sub]))
    return np.vstack(blocks)


def _product_block(widths) -> np.ndarray:
    """All index tuples in row-major order: column l repeats each index h_{l+1}...h_L times
    and tiles the pattern h_0...h_{l-1} times."""
    n = math.prod(widths)
    out = np.empty((n, len(widths)), dtype=np.int64)
    inner = n
    for l, h in enumerate(widths):
        inner //= h
        out[:, l] = np.tile(np.repeat(np.arange(h, dtype=np.int64), inner), n // (h * inner))
    return out


def enumerate_paths(widths, limit: int = DEFAULT_PATH_LIMIT, bias: bool = False) -> list:
    """All paths as a list of tuples ``(i_0, ..., i_L)`` (``itertools.product`` order).

    Parameters
    ----------
    widths : sequence of int
        ``[h_0, ..., h_L]``.
    limit : int, default ``DEFAULT_PATH_LIMIT`` (10**6)
        Refuse to list more paths than this.
    bias : bool, default False
        Append the bias paths ``(-1, ..., -1, i_s, ..., i_L)``, by start layer ``s = 1..L``.

    Returns
    -------
    list of tuple of int

    Raises
    ------
    ValueError
        If the number of paths exceeds ``limit`` (the message gives the count and the limit
        and points to the scalable route in :mod:`gspace.structure`).

    Examples
    --------
    >>> enumerate_paths([2, 1, 2])
    [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 0, 1)]
    >>> enumerate_paths([1, 2, 1], bias=True)[-3:]
    [(-1, 0, 0), (-1, 1, 0), (-1, -1, 0)]
    """
    widths = check_widths(widths)
    _check_limit(widths, limit, bias)
    paths = list(itertools.product(*[range(h) for h in widths]))
    if bias:
        L = len(widths) - 1
        for s in range(1, L + 1):
            paths.extend((-1,) * s + p for p in itertools.product(*[range(h) for h in widths[s:]]))
    return paths


def edge_offsets(widths) -> np.ndarray:
    """Index of the first edge of each weight layer, plus ``m`` at the end.

    Parameters
    ----------
    widths : sequence of int

    Returns
    -------
    ndarray of shape (L + 1,), int64
        Edge ``(l, i, j)`` (``weights[l][i, j]``) has index ``offsets[l] + i * h_{l+1} + j``.

    Examples
    --------
    >>> edge_offsets([3, 4, 2]).tolist()
    [0, 12, 20]
    """
    widths = check_widths(widths)
    sizes = [a * b for a, b in zip(widths[:-1], widths[1:], strict=True)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _as_path_array(widths, paths) -> np.ndarray:
    """Validate paths (list of tuples or int array) against ``widths``; return (n, L+1)."""
    L = len(widths) - 1
    P = np.asarray(paths)
    if P.shape in ((0,), (0, L + 1)):  # no paths (but [()] is one path of the wrong length)
        return np.zeros((0, L + 1), dtype=np.int64)
    if P.dtype.kind not in "iu" or P.ndim != 2 or P.shape[1] != L + 1:
        raise ValueError(
            f"paths must be tuples of L + 1 = {L + 1} integer node indices (i_0, ..., i_L) "
            f"or an int array of shape (n, {L + 1}); got an array of dtype {P.dtype} and "
            f"shape {P.shape}"
        )
    P = P.astype(np.int64)
    hi = np.asarray(widths)[None, :]
    if np.any(P >= hi) or np.any(P < -1):
        bad = np.argwhere((P >= hi) | (P < -1))[0]
        raise ValueError(
            f"path {tuple(P[bad[0]].tolist())} has node index {P[bad[0], bad[1]]} at layer "
            f"{bad[1]}, which has {widths[bad[1]]} nodes (indices 0..{widths[bad[1]] - 1}; "
            f"-1 only for the leading entries of a bias path)"
        )
    neg = P < 0
    if neg.any():
        start = np.argmin(neg, axis=1)  # first non-negative entry
        starts_ok = np.all(neg == (np.arange(L + 1)[None, :] < start[:, None]), axis=1)
        starts_ok &= ~neg[:, L]
        if not starts_ok.all():
            k = int(np.flatnonzero(~starts_ok)[0])
            raise ValueError(
                f"path {tuple(P[k].tolist())} is not a path: -1 (the constant bias node) may "
                f"only fill the leading entries of a bias path, which must end at an output"
            )
    return P


def path_edges(widths, paths) -> np.ndarray:
    """Edge indices used by each path.

    Parameters
    ----------
    widths : sequence of int
    paths : list of tuple or int ndarray of shape (n, L + 1)

    Returns
    -------
    ndarray of shape (n, L), int64
        Entry ``[k, l]`` is the index of the edge path ``k`` uses from layer ``l`` to
        ``l + 1``: ``offsets[l] + i_l h_{l+1} + i_{l+1}`` for a weight,
        ``m + (h_1 + ... + h_l) + i_{l+1}`` for the bias of node ``i_{l+1}`` (where a bias
        path starts), ``-1`` below a bias path's start.

    Raises
    ------
    ValueError
        If a path does not fit the widths.

    Examples
    --------
    >>> path_edges([2, 1, 2], [(1, 0, 1), (-1, 0, 1), (-1, -1, 1)]).tolist()
    [[1, 3], [4, 3], [-1, 6]]
    """
    widths = check_widths(widths)
    P = _as_path_array(widths, paths)
    L = len(widths) - 1
    offs = edge_offsets(widths)
    m = int(offs[-1])
    boffs = m + np.concatenate([[0], np.cumsum(widths[1:])])
    E = np.full((P.shape[0], L), -1, dtype=np.int64)
    for l in range(L):
        a, b = P[:, l], P[:, l + 1]
        w_edge = (a >= 0) & (b >= 0)
        E[w_edge, l] = offs[l] + a[w_edge] * widths[l + 1] + b[w_edge]
        b_edge = (a < 0) & (b >= 0)
        E[b_edge, l] = boffs[l] + b[b_edge]  # the bias of node b of layer l + 1
    return E


def path_values(net: MLP, paths) -> np.ndarray:
    """Path values ``v_p(w)``, vectorised over the paths.

    Parameters
    ----------
    net : MLP
    paths : list of tuple or int ndarray of shape (n, L + 1)
        Weight paths ``(i_0, ..., i_L)``; if ``net`` has biases, also bias paths
        ``(-1, ..., -1, i_s, ..., i_L)`` (see the module docstring).

    Returns
    -------
    ndarray of shape (n,)
        In the order given. ``v_p = prod_l weights[l][i_l, i_{l+1}]``; for a bias path
        starting at layer ``s``, ``biases[s-1][i_s] prod_{l >= s} weights[l][i_l, i_{l+1}]``.

    Raises
    ------
    ValueError
        If a path does not fit the widths, or a bias path is given for a bias-free network.

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[5.0], [7.0]]])
    >>> path_values(net, [(0, 0, 0), (0, 1, 0)]).tolist()
    [10.0, 21.0]
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    widths = net.widths
    P = _as_path_array(widths, paths)
    L = net.L
    if (P < 0).any() and not net.has_bias:
        raise ValueError("bias paths (leading -1 entries) need a network with biases")
    v = np.ones(P.shape[0])
    for l in range(L):
        a, b = P[:, l], P[:, l + 1]
        w_edge = a >= 0
        v[w_edge] *= net.weights[l][a[w_edge], b[w_edge]]
        if net.has_bias:
            b_edge = (a < 0) & (b >= 0)
            v[b_edge] *= net.biases[l][b[b_edge]]
    return v


def activation_status(net: MLP, X, paths) -> np.ndarray:
    """Activation statuses ``a_p(x; w)`` for a batch, shape ``(N, n)``, values 0.0 or 1.0.

    ``a_p(x) = prod over the hidden nodes j of p of 1[z_j(x) > 0]`` (strictly positive
    pre-activation); a bias path only visits the hidden nodes from its start layer on.

    Parameters
    ----------
    net : MLP
    X : array_like of shape (N, d)
    paths : list of tuple or int ndarray of shape (n, L + 1)

    Returns
    -------
    ndarray of shape (N, n)

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~gspace.MLP`.
    ValueError
        If ``X`` does not have ``d`` columns or a path does not fit the widths.

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[1.0, -1.0]], [[1.0], [1.0]]])
    >>> activation_status(net, [[2.0], [-2.0]], [(0, 0, 0), (0, 1, 0)]).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    P = _as_path_array(net.widths, paths)
    z = net.forward_cache(X).z
    status = np.ones((z[-1].shape[0], P.shape[0]))
    for l in range(1, net.L):
        on = P[:, l] >= 0
        status[:, on] *= z[l][:, P[on, l]] > 0
    return status


def network_from_paths(net: MLP, X, limit: int = DEFAULT_PATH_LIMIT) -> np.ndarray:
    """The network output rebuilt as a sum over paths (claim P1), shape ``(N, K)``.

    Parameters
    ----------
    net : MLP
    X : array_like of shape (N, d)
    limit : int
        Largest number of paths to list (see :func:`enumerate_paths`).

    Returns
    -------
    ndarray of shape (N, K)

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~gspace.MLP`.
    ValueError
        If ``X`` does not have ``d`` columns, or the network has more than ``limit`` paths
        (the message points to the scalable route).

    Notes
    -----
    ``N_w(x)_k = sum over paths p ending at output k of v_p(w) a_p(x; w) x_{i_0(p)}``; with
    biases the bias paths join the sum with input factor 1.

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019 (the network as a sum over paths; paper-notes
       claim P1).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    >>> X = np.random.default_rng(1).normal(size=(5, 3))
    >>> bool(np.allclose(network_from_paths(net, X), net.forward(X)))
    True
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    X = net._check_X(X)
    P = path_array(net.widths, limit=limit, bias=net.has_bias)
    v = path_values(net, P)
    status = activation_status(net, X, P)
    x_factor = np.ones((X.shape[0], P.shape[0]))
    starts_at_input = P[:, 0] >= 0
    x_factor[:, starts_at_input] = X[:, P[starts_at_input, 0]]
    terms = status * x_factor * v[None, :]  # (N, n)
    K = net.widths[-1]
    ends = np.zeros((P.shape[0], K))
    ends[np.arange(P.shape[0]), P[:, -1]] = 1.0
    return terms @ ends
