r"""Independent routes, for checking the core and for teaching: explicit matrices and ranks.

:mod:`gspace.core` never forms a matrix (its ICR and WA are O(m) sweeps). Here G-SGD is
written the way the paper writes it, with ``A'`` (:func:`basis_matrix`, ``M x (M - H)``),
``B`` (:func:`free_matrix`, a unit column per sigma-edge) and ``[B, A']``
(:func:`augmented_matrix`, rank ``M``, W2); ICR and WA are sparse triangular solves (claim
A1). The rank claims R1, R2 are checked by pivoted QR (:func:`rank_qr`), by counting ``A A^T``
without listing paths (:func:`rank_by_counting`) and by an exact integer certificate
(:func:`rank_certificate`). :func:`gspace.verify.verify` uses these routes. Basis-path
vectors are in *basis order* (that of :func:`gspace.core.basis.basis_paths`); the matrix
route needs every weight and bias nonzero, :class:`gspace.GSGD` does not.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy as sp

from . import validation as V
from .core.basis import Skeleton, basis_path_array, resolve_skeleton, sigma_edge_mask
from .core.gsgd import PathArrays
from .core.network import MLP
from .core.paths import (
    DEFAULT_PATH_LIMIT,
    edge_offsets,
    num_params,
    path_edges,
    path_values,
    rank_svd,
    structure_matrix,
)
from .core.scaling import scaling_vectors
from .testing import flat

__all__ = [
    "MAX_PARAMS",
    "basis_matrix",
    "incidence_matrix",
    "free_matrix",
    "augmented_matrix",
    "flatten",
]
__all__ += ["unflatten", "explicit_basis_path_values", "explicit_inverse_chain_rule"]
__all__ += ["explicit_weight_allocation", "explicit_gsgd_step", "rank_qr", "explicit_rank"]
__all__ += ["rank_of_structure_matrix", "gram_by_counting", "rank_by_counting"]
__all__ += ["path_sum_range", "RankCertificate", "rank_certificate"]
__all__ += ["GSpaceCoordinates", "gspace_coordinates"]

#: Largest ``M`` for which :func:`basis_matrix`, :func:`free_matrix` and
#: :func:`augmented_matrix` return dense arrays (``[B, A']`` is ``M x M``).
MAX_PARAMS = 3000


def basis_matrix(widths, bias: bool = False, skeleton=None, sparse: bool = False):
    r"""``A'``: the columns of the structure matrix for the basis paths, ``(M, M - H)``.

    ``A'[e, j] = 1`` iff edge ``e`` is on basis path ``j``; :math:`\log|v| = A'^T \log|w|`.
    Dense float64 (at most ``MAX_PARAMS`` rows), or a sparse int64 ``csc_array``.

    Examples
    --------
    >>> basis_matrix([1, 2, 1]).astype(int).tolist()
    [[1, 0], [0, 1], [1, 0], [0, 1]]
    """
    widths, sk, M = V.matrix_route(widths, bias, skeleton, dense=not sparse)
    A = incidence_matrix(widths, basis_path_array(widths, resolve_skeleton(widths, sk), bias), M)
    return A if sparse else A.toarray().astype(np.float64)


def incidence_matrix(widths, paths, p: int) -> sp.sparse.csc_array:
    """The int64 ``(p, n)`` matrix with entry ``(e, k) = 1`` iff edge ``e`` is on ``paths[k]``
    (a path array, ``-1`` before a bias path's start; ``p`` parameters).

    Examples
    --------
    >>> incidence_matrix([1, 2, 1], np.array([[0, 1, 0]]), 4).toarray().ravel().tolist()
    [0, 1, 0, 1]
    """
    E = path_edges(widths, paths)
    cols, layers = np.nonzero(E >= 0)
    ones = np.ones(cols.size, np.int64)
    return sp.sparse.csc_array((ones, (E[cols, layers], cols)), shape=(p, E.shape[0]))


def free_matrix(widths, bias: bool = False, skeleton=None) -> np.ndarray:
    """Dense ``B`` ``(M, H)``: one unit column per sigma-edge (hidden nodes in order).

    Examples
    --------
    >>> free_matrix([1, 2, 1]).astype(int).tolist()
    [[0, 0], [0, 0], [1, 0], [0, 1]]
    """
    widths, sk, M = V.matrix_route(widths, bias, skeleton, dense=True)
    rows = np.flatnonzero(sigma_edge_mask(resolve_skeleton(widths, sk), bias))
    B = np.zeros((M, rows.size))
    B[rows, np.arange(rows.size)] = 1.0
    return B


def augmented_matrix(widths, bias: bool = False, skeleton=None) -> np.ndarray:
    """``[B, A']`` ``(M, M)``: the matrix of Weight-Allocation (rank ``M``, claim W2).

    Examples
    --------
    >>> A = augmented_matrix([2, 3, 2], bias=True)
    >>> A.shape, int(np.linalg.matrix_rank(A))
    ((17, 17), 17)
    """
    return np.hstack([free_matrix(widths, bias, skeleton), basis_matrix(widths, bias, skeleton)])


def flatten(pa: PathArrays, skeleton: Skeleton) -> np.ndarray:
    """A :class:`~gspace.core.gsgd.PathArrays` as a vector in basis order (sigma entries
    dropped).

    Examples
    --------
    >>> sk = Skeleton.default([1, 2, 1])
    >>> flatten(PathArrays([np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])]), sk)
    array([1., 2.])
    """
    V.flatten_args(pa, skeleton)
    parts = [np.asarray(x)[~skeleton.sigma_mask(l)] for l, x in enumerate(pa.weights)]
    return np.concatenate(parts + [np.asarray(b) for b in (pa.biases or [])])


def unflatten(vec, net, skeleton=None, fill: float = 0.0) -> PathArrays:
    """Inverse of :func:`flatten`: a basis-order vector laid out like ``net`` (``fill`` at
    the sigma entries).

    Examples
    --------
    >>> unflatten([5.0, 6.0], MLP.from_weights([[[1.0, 1.0]], [[1.0], [1.0]]])).weights[0]
    array([[5., 6.]])
    """
    sk = V.unflatten_args(vec, net, skeleton, resolve_skeleton)
    masks = [~sk.sigma_mask(l) for l in range(len(net.weights))]
    sizes = [int(m.sum()) for m in masks] + [b.size for b in (net.biases or [])]
    parts = np.split(np.asarray(vec, dtype=np.float64), np.cumsum(sizes)[:-1])
    out = [np.full(w.shape, float(fill)) for w in net.weights]
    for x, m, part in zip(out, masks, parts):
        x[m] = part
    return PathArrays(out, None if net.biases is None else parts[len(masks) :])


def _route(net, skeleton):
    """The skeleton, the matrices of :class:`_Basis` and ``w`` (nonzero)."""
    sk = resolve_skeleton(net.widths, skeleton)
    return sk, _basis(sk, net.biases is not None), net.flat_params()


class _Basis(NamedTuple):
    A: object  # A' (csr, float)
    own: np.ndarray  # the non-sigma rows
    A_own: object  # A'[own] (csr): ICR's unit upper-triangular system
    AT_own: object  # A'[own]^T (csr): WA's unit lower-triangular system


@functools.lru_cache(maxsize=4)
def _basis(sk, bias: bool) -> _Basis:
    """The sparse matrices of the explicit route, once per skeleton (shared, never written):
    a check that steps several networks of one architecture builds them once."""
    A = basis_matrix(sk.widths, bias, sk, sparse=True).astype(float).tocsr()
    own = np.flatnonzero(~sigma_edge_mask(sk, bias))
    own.flags.writeable = False
    return _Basis(A, own, A[own], A[own].T.tocsr())


def explicit_basis_path_values(net, skeleton=None) -> np.ndarray:
    r"""Basis-path values by listing the basis paths and multiplying the weights along each
    (:func:`gspace.core.paths.path_values`), in basis order: the independent route of
    :func:`gspace.core.gsgd.basis_path_values` (chain products, O(m)).

    Examples
    --------
    >>> explicit_basis_path_values(MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]]))
    array([ 8., 15.])
    """
    V.network(net)
    return path_values(net, basis_path_array(net.widths, skeleton, bias=net.biases is not None))


def explicit_inverse_chain_rule(net, grads, skeleton=None, rtol: float = 1e-8) -> np.ndarray:
    r"""Inverse-Chain-Rule as the linear system :math:`F = A' u`, solved exactly.

    The non-sigma rows are unit upper-triangular (back-substitution); the ``H`` sigma rows
    are checked: they hold iff the gradients satisfy the balance identity (claim I2), i.e.
    are the gradient of a loss of the network function. Returns ``dl/dv = u / v``.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Inverse-Chain-Rule".
    """
    V.explicit_args(net, skeleton, grads=grads)
    sk, B, w = _route(net, skeleton)
    F = w * flat(grads)
    u = sp.sparse.linalg.spsolve_triangular(B.A_own, F[B.own], lower=False, unit_diagonal=True)
    V.consistent(B.A @ u - F, F, rtol)
    return u / explicit_basis_path_values(net, sk)


def explicit_weight_allocation(net, v_new, skeleton=None):
    r"""Weight-Allocation as the system :math:`[B, A']^T \log|r| = (0_H, \log|R|)`.

    With the sigma weights fixed (``r = 1``) it is :math:`A'^T_{ns} \log|r_{ns}| = \log|R|`,
    lower unit triangular; the sign flips solve the same system over the integers. Returns the
    network with ``w' = w r``.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Weight-Allocation".

    Examples
    --------
    >>> new = explicit_weight_allocation(MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]]),
    ...                                  [-16.0, 15.0])
    >>> new.weights[0].tolist(), new.weights[1].tolist()
    ([[-4.0, 3.0]], [[4.0], [5.0]])
    """
    V.explicit_args(net, skeleton)
    sk, B, w = _route(net, skeleton)
    R = V.new_values(v_new, B.own.size) / explicit_basis_path_values(net, sk)
    rhs = np.column_stack([np.log(np.abs(R)), R < 0])  # log|r| and the sign flips k
    log_r, k = sp.sparse.linalg.spsolve_triangular(B.AT_own, rhs, lower=True, unit_diagonal=True).T
    w = w.copy()
    w[B.own] *= np.exp(log_r) * (1.0 - 2.0 * (np.rint(k).astype(np.int64) % 2))
    return net.with_flat_params(w)


def explicit_gsgd_step(net, grads, lr: float, skeleton=None):
    """One G-SGD step with matrices: ICR solve, ``v' = v - lr dl/dv``, WA solve (claim A1:
    equal to :func:`gspace.core.gsgd.gsgd_step` and :class:`gspace.GSGD` to rounding).

    Examples
    --------
    >>> import gspace
    >>> net = MLP([2, 3, 3, 2], rng=np.random.default_rng(0))
    >>> _, grads = net.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 2)))
    >>> a = explicit_gsgd_step(net, grads, 0.01)
    >>> b = gspace.GSGD(lr=0.01).step(net, grads)
    >>> bool(all(np.allclose(x, y) for x, y in zip(a.weights, b.weights)))
    True
    """
    V.explicit_args(net, skeleton, grads=grads, lr=lr)
    v = explicit_basis_path_values(net, skeleton)
    return explicit_weight_allocation(
        net, v - lr * explicit_inverse_chain_rule(net, grads, skeleton), skeleton
    )


# ============================================================ rank routes (R1, R2)
def rank_qr(M, rtol: float | None = None) -> tuple[int, np.ndarray]:
    """Numerical rank by a column-pivoted QR decomposition (``scipy.linalg.qr``).

    Parameters
    ----------
    M : ndarray or scipy.sparse array of shape (p, q)
    rtol : float, optional
        ``|R_ii| <= rtol * |R_00|`` counts as 0; default ``max(p, q) * eps``.

    Returns
    -------
    rank : int
    r : ndarray
        ``|diag(R)|`` (non-increasing thanks to the pivoting).

    Examples
    --------
    >>> rank_qr(np.array([[1.0, 2.0], [2.0, 4.0]]))[0]
    1
    """
    D = M.toarray() if sp.sparse.issparse(M) else np.asarray(M, dtype=np.float64)
    if not D.size:
        return 0, np.zeros(0)
    R = sp.linalg.qr(D, mode="r", pivoting=True)[0]
    r = np.abs(np.diag(R))
    if rtol is None:
        rtol = max(D.shape) * np.finfo(np.float64).eps
    return int(np.sum(r > rtol * r[0])), r


def explicit_rank(widths, method: str = "svd", limit: int = DEFAULT_PATH_LIMIT, bias=False):
    """``rank(A)`` by the explicit route: paths listed, ``A`` built, then
    :func:`rank_of_structure_matrix`.

    Examples
    --------
    >>> explicit_rank([3, 4, 4, 2])[0]  # m - H = 36 - 8
    28
    """
    widths = V.rank_method(method, widths)
    return rank_of_structure_matrix(structure_matrix(widths, limit=limit, bias=bias)[1], method)


def rank_of_structure_matrix(A, method: str = "svd"):
    """``rank(A)`` of a structure matrix ``A`` ``(p, n)`` by SVD or pivoted QR.

    Small ``A`` is decomposed as the dense ``A^T``; above ``2 * 10**5`` entries, the sparse
    product ``A A^T`` (``p x p``, exact integer counts in float64 below ``2^53``), rescaled
    to unit diagonal.

    Returns
    -------
    rank : int
    spectrum : ndarray
        Singular values (or ``|diag R|``) of the matrix decomposed.
    on : str
        ``"A"`` or ``"A A^T"``.

    Examples
    --------
    >>> _, A = structure_matrix([3, 4, 4, 2])
    >>> rank_of_structure_matrix(A, "qr")[0]
    28
    """
    V.rank_method(method)
    rank_fn = rank_svd if method == "svd" else rank_qr
    if A.shape[0] * A.shape[1] <= 2 * 10**5:
        return (*rank_fn(A.T), "A")
    G = (A @ A.T).toarray()
    d = 1.0 / np.sqrt(np.diag(G))
    return (*rank_fn(G * d[:, None] * d[None, :]), "A A^T")


# --------------------------------------------------------------------- the counting route
def gram_by_counting(widths, bias: bool = False, exact: bool = False, scaled: bool = False):
    """``A A^T`` built by counting paths through pairs of edges; no path is listed.

    Parameters
    ----------
    widths : sequence of int
    bias : bool, default False
        Include the bias edges (rows and columns ``m..``).
    exact : bool, default False
        Return exact Python integers (an ``object`` array); only for small ``m``.
    scaled : bool, default False
        Return ``D^{-1/2} A A^T D^{-1/2}`` with ``D = diag(A A^T)``, computed from logarithms
        of the counts (same rank, entries in ``[0, 1]``, no overflow whatever the path count).

    Returns
    -------
    ndarray of shape (p, p)
        ``p = m`` (plus the number of biases). Entry ``(e, f)`` = number of paths through both
        ``e`` and ``f`` (or its rescaled value).

    Notes
    -----
    Let ``N_in(l)`` be the number of partial paths ending at a given node of layer ``l`` and
    ``N_out(l)`` those leaving a given node of layer ``l`` for an output. For edges
    ``e = (a -> b)`` from layer ``l`` and ``f = (c -> d)`` from layer ``l' > l``::

        (A A^T)_{ee} = N_in(l) N_out(l + 1)
        (A A^T)_{ef} = N_in(l) [b = c] N_out(l' + 1)                      if l' = l + 1
                     = N_in(l) h_{l+2} ... h_{l'-1} N_out(l' + 1)          if l' > l + 1

    and 0 for two different edges of the same layer. A bias edge into node ``b`` of layer
    ``s`` counts as an edge from layer ``s - 1`` with ``N_in = 1``; no path crosses a bias
    edge after another edge.

    Examples
    --------
    >>> _, A = structure_matrix([2, 3, 2])
    >>> G = gram_by_counting([2, 3, 2], exact=True)
    >>> bool(np.array_equal(G.astype(np.int64), (A @ A.T).toarray().astype(np.int64)))
    True
    """
    widths = V.gram_args(widths, exact, scaled)
    L = len(widths) - 1
    n_in, n_out = [1] * (L + 1), [1] * (L + 1)  # exact Python ints
    for l in range(1, L + 1):
        n_in[l] = widths[l - 1] * n_in[l - 1] + (1 if bias else 0)
    for l in range(L - 1, -1, -1):
        n_out[l] = widths[l + 1] * n_out[l + 1]
    offs, h = edge_offsets(widths), widths
    # groups of edges: (rows, layer l of the source, N_in there, end nodes, start nodes or None)
    groups = [
        (slice(offs[l], offs[l + 1]), l, n_in[l], np.tile(np.arange(h[l + 1]), h[l]),
         np.repeat(np.arange(h[l]), h[l + 1])) for l in range(L)
    ]  # fmt: skip
    if bias:  # the biases into layer l + 1: edges from layer l with N_in = 1
        b = offs[-1] + np.concatenate([[0], np.cumsum(h[1:])])
        groups += [(slice(b[l], b[l + 1]), l, 1, np.arange(h[l + 1]), None) for l in range(L)]
    G = np.zeros((num_params(widths, bias),) * 2, dtype=object if exact else np.float64)
    for sl_e, l, n_e, ends, _ in groups:
        d_e = n_e * n_out[l + 1]
        idx = np.arange(sl_e.start, sl_e.stop)
        G[idx, idx] = 1.0 if scaled else d_e if exact else float(d_e)
        for sl_f, l2, n_f, _, starts in groups:
            if starts is None or l2 <= l:
                continue  # a path never crosses a bias edge after another edge
            count = n_e * math.prod(h[l + 2 : l2]) * n_out[l2 + 1]
            if scaled:  # count / sqrt(D_e D_f), from logarithms of exact integers
                count = math.exp(math.log(count) - 0.5 * math.log(d_e * n_f * n_out[l2 + 1]))
            elif not exact:
                count = float(count)
            blk = np.zeros((len(ends), len(starts)), dtype=G.dtype)
            blk[ends[:, None] == starts[None, :] if l2 == l + 1 else ...] = count
            G[sl_e, sl_f], G[sl_f, sl_e] = blk, blk.T
    return G


def rank_by_counting(widths, bias: bool = False, rtol: float | None = None):
    """``rank(A)`` by the scalable route: eigenvalues of the rescaled ``A A^T``.

    Parameters
    ----------
    widths : sequence of int
        Any number of paths; needs the ``m x m`` matrix in memory (``8 m^2`` bytes).
    bias : bool, default False
    rtol : float, optional
        Eigenvalues ``<= rtol * lambda_max`` count as 0; default ``m * eps * 10``.

    Returns
    -------
    rank : int
    eigenvalues : ndarray
        Of the rescaled ``A A^T``, descending.

    Examples
    --------
    >>> rank_by_counting([10] * 13)[0]  # 10**13 paths, m = 1200, H = 110
    1090
    """
    G = gram_by_counting(widths, bias=bias, scaled=True)
    lam = sp.linalg.eigh(G, eigvals_only=True)[::-1]
    if rtol is None:
        rtol = 10 * G.shape[0] * np.finfo(np.float64).eps
    return int(np.sum(lam > rtol * lam[0])), lam


# --------------------------------------------------------------------- the exact certificate
def path_sum_range(widths, u, bias: bool = False) -> tuple:
    """Smallest and largest value of ``p @ u`` over all paths ``p``, by dynamic programming.

    Parameters
    ----------
    widths : sequence of int
    u : array_like of shape (m,) (or (m + number of biases,) if ``bias``)
        Integer entries give an exact integer answer.
    bias : bool
        Also range over the bias paths.

    Returns
    -------
    (min, max)

    Raises
    ------
    TypeError
        If ``u`` is not a real numeric array.
    ValueError
        If ``u`` has the wrong shape.

    Notes
    -----
    ``hi_0 = 0`` on the inputs; ``hi_{l+1}(j) = max(max_i hi_l(i) + u(i -> j), u(bias_j))``;
    the answer is ``max_k hi_L(k)`` (likewise for the minimum). ``O(m)`` operations.

    Examples
    --------
    >>> from gspace.core.scaling import scaling_vectors
    >>> path_sum_range([2, 3, 2], scaling_vectors([2, 3, 2])[0].astype(int))
    (0, 0)
    """
    widths, u = V.edge_vector(widths, u, num_params(widths, bias))
    offs = edge_offsets(widths)
    m = int(offs[-1])
    L = len(widths) - 1
    wblocks = [u[offs[l] : offs[l + 1]].reshape(widths[l], widths[l + 1]) for l in range(L)]
    bblocks = None
    if bias:
        boffs = m + np.concatenate([[0], np.cumsum(widths[1:])])
        bblocks = [u[boffs[l] : boffs[l + 1]] for l in range(L)]
    return tuple(
        int(x) if np.issubdtype(np.asarray(x).dtype, np.integer) else float(x)
        for x in _path_sum_dp(widths, wblocks, bblocks)
    )


def _path_sum_dp(widths, wblocks, bblocks):
    """The DP of :func:`path_sum_range`; ``wblocks[l]`` (``bblocks[l]``) None means a zero
    block (an O(h) step)."""
    lo = hi = np.zeros(widths[0], dtype=np.int64)
    for l in range(len(widths) - 1):
        w = wblocks[l]
        if w is None:
            lo, hi = np.full(widths[l + 1], lo.min()), np.full(widths[l + 1], hi.max())
        else:
            lo, hi = (lo[:, None] + w).min(axis=0), (hi[:, None] + w).max(axis=0)
        if bblocks is not None:
            b = bblocks[l] if bblocks[l] is not None else 0
            lo, hi = np.minimum(lo, b), np.maximum(hi, b)
    return lo.min(), hi.max()


@dataclass(frozen=True)
class RankCertificate:
    """Outcome of :func:`rank_certificate`.

    Attributes
    ----------
    widths : list of int
    bias : bool
    p : int
        Number of parameters (rows of ``A``): ``m``, plus the biases if ``bias``.
    H : int
        Number of hidden nodes.
    b_zero_on_paths : bool
        Every ``b_O`` has smallest and largest path sum 0 (so ``A^T b_O = 0``).
    b_independent : bool
        The ``b_O`` restricted to their pi in-edges form a unit upper-triangular matrix.
    basis_triangular : bool
        The ``p - H`` basis paths, restricted to their own non-sigma edges, form a unit
        triangular matrix.
    rank : int or None
        ``p - H`` if all three hold (then exactly ``rank(A)``), else None.
    """

    widths: list
    bias: bool
    p: int
    H: int
    b_zero_on_paths: bool
    b_independent: bool
    basis_triangular: bool
    rank: int | None

    @property
    def holds(self) -> bool:
        """True iff the certificate proves ``rank(A) = p - H`` and ``ker(A^T) = span{b_O}``."""
        return self.rank is not None


def _edge_layer(widths, bias: bool) -> np.ndarray:
    """Lower layer of every edge (a bias into layer ``s`` counts as an edge from ``s - 1``)."""
    L = len(widths) - 1
    parts = [np.full(widths[l] * widths[l + 1], l) for l in range(L)]
    if bias:
        parts += [np.full(widths[l + 1], l) for l in range(L)]
    return np.concatenate(parts).astype(np.int64)


def rank_certificate(widths, skeleton: Skeleton | None = None, bias: bool = False):
    """Exact proof that ``rank(A) = m - H`` (R1) and ``ker(A^T) = span{b_O}`` (R2).

    No path is listed and no floating-point rank is taken.

    Parameters
    ----------
    widths : sequence of int
    skeleton : Skeleton or {"default", "paper"}, optional
        pi/sigma used for the pivots; default :meth:`Skeleton.default`.
    bias : bool, default False

    Returns
    -------
    RankCertificate

    Raises
    ------
    TypeError, ValueError
        If ``skeleton`` is not a skeleton of these widths (see
        :func:`gspace.core.basis.resolve_skeleton`).

    Notes
    -----
    1. *Upper bound.* For each hidden node ``O`` the dynamic programme of
       :func:`path_sum_range`, run only over the two weight layers where ``b_O`` is non-zero
       (elsewhere a layer step is a constant, ``O(h)``), finds the smallest and the largest
       path sum; both 0 means ``A^T b_O = 0``. Integer arithmetic.
    2. ``b_O`` is ``+1`` on its pi in-edge ``pi(O) -> O``; the only other ``b`` non-zero there
       is ``b_{pi(O)}`` (a node of the layer below). Ordering nodes by layer, the ``H x H``
       matrix ``[b_O'(pivot(O))]`` is unit triangular, so the ``b_O`` are independent and
       ``rank(A) <= p - H``.
    3. *Lower bound.* The basis path of a non-sigma edge ``e`` is in-chain + ``e`` +
       out-chain; its out-chain is made of sigma-edges and its in-chain lies below ``e``. So
       the basis paths restricted to the non-sigma rows form a unit triangular matrix (layer
       order), and ``rank(A) >= p - H``. Checked edge by edge: ``O(p L)``.

    The cost is ``O(p L)`` for step 3 and ``O(sum_l h_l (m_{l-1} + m_l))`` for step 1 (each
    ``b_O`` touches its two adjacent weight layers); timings are in the docs ("Read the
    core", measurements).

    Examples
    --------
    >>> cert = rank_certificate([784, 64, 64, 64, 64, 10])
    >>> cert.holds, cert.rank, cert.p - cert.H
    (True, 62848, 62848)
    """
    widths = V.widths(widths)
    sk = resolve_skeleton(widths, skeleton)
    L = len(widths) - 1
    H = sum(widths[1:-1])
    p = num_params(widths, bias)

    def b_range(l, j):  # smallest and largest path sum of b_O, O = node j of layer l
        wb, bb = [None] * L, ([None] * L if bias else None)
        wb[l - 1] = np.zeros((widths[l - 1], widths[l]), dtype=np.int64)
        wb[l - 1][:, j] = 1
        wb[l] = np.zeros((widths[l], widths[l + 1]), dtype=np.int64)
        wb[l][j, :] = -1
        if bias:
            bb[l - 1] = (np.arange(widths[l]) == j).astype(np.int64)
        return _path_sum_dp(widths, wb, bb)

    # 1. every b_O sums to zero along every path (DP over the largest and smallest sums)
    zero_ok = all(b_range(l, j) == (0, 0) for l in range(1, L) for j in range(widths[l]))

    # 2. the b_O are independent: unit triangular on the pi in-edges
    offs = edge_offsets(widths)
    pivots = [
        offs[l - 1] + np.asarray(sk.pi[l]) * widths[l] + np.arange(widths[l]) for l in range(1, L)
    ]
    T = scaling_vectors(widths, bias, sparse=True)[
        :, np.concatenate([[], *pivots]).astype(np.int64)
    ]
    T = T.toarray()
    b_indep = bool(np.array_equal(np.diag(T), np.ones(H))) and not np.tril(T, -1).any()

    # 3. the basis paths are unit triangular on their own non-sigma edges
    P = basis_path_array(widths, sk, bias=bias)
    E = path_edges(widths, P)
    sigma = sigma_edge_mask(sk, bias)
    layer = _edge_layer(widths, bias)
    own = np.flatnonzero(~sigma)  # basis path k belongs to the k-th non-sigma edge
    tri = len(own) == P.shape[0] == p - H
    if tri:
        has_own = np.any(E == own[:, None], axis=1)
        valid = E >= 0
        safe = np.where(valid, E, 0)
        others_ok = (~valid) | (E == own[:, None]) | sigma[safe]
        others_ok |= layer[safe] < layer[own][:, None]
        tri = bool(has_own.all() and others_ok.all())
    ok = zero_ok and b_indep and tri
    return RankCertificate(
        widths=widths,
        bias=bias,
        p=p,
        H=H,
        b_zero_on_paths=zero_ok,
        b_independent=b_indep,
        basis_triangular=tri,
        rank=p - H if ok else None,
    )


class GSpaceCoordinates(NamedTuple):
    """G-space coordinates of a network: the basis-path values ``(m - H,)`` (plus one per bias,
    basis order) and the sign pattern (``np.sign`` of the weights, then of the biases). Both
    are G-invariant (G3), and together they determine the network up to G (S1) when no weight
    is 0."""

    values: np.ndarray
    signs: list


def gspace_coordinates(net: MLP, skeleton=None) -> GSpaceCoordinates:
    """Basis-path values and sign pattern of ``net`` (a :class:`GSpaceCoordinates`).

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> g = gspace.random_scaling(net.widths, np.random.default_rng(1))
    >>> a, b = gspace_coordinates(net), gspace_coordinates(g.apply(net))
    >>> bool(np.allclose(a.values, b.values)), a.values.shape
    (True, (16,))
    """
    signs = [np.sign(p) for p in net.weights + (net.biases or [])]
    return GSpaceCoordinates(explicit_basis_path_values(net, skeleton), signs)
