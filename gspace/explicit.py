"""Independent routes checking the core (:ref:`independent-routes`): G-SGD with the paper's
matrices, ``rank(A)`` by QR, by counting and by an exact certificate."""

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy as sp

from . import validation as V
from .core import paths
from .core.basis import Skeleton, basis_path_array, resolve_skeleton, sigma_edge_mask
from .core.gsgd import PathArrays
from .core.paths import edge_offsets, num_params, path_edges
from .core.scaling import scaling_vectors
from .testing import flat

__all__ = ["MAX_PARAMS", "basis_matrix", "incidence_matrix", "free_matrix", "augmented_matrix"]
__all__ += ["flatten", "unflatten", "explicit_basis_path_values", "explicit_inverse_chain_rule"]
__all__ += ["explicit_weight_allocation", "explicit_gsgd_step", "rank_qr", "explicit_rank"]
__all__ += ["rank_of_structure_matrix", "gram_by_counting", "rank_by_counting", "path_sum_range"]
__all__ += ["RankCertificate", "rank_certificate", "GSpaceCoordinates", "gspace_coordinates"]

#: Most parameters ``M`` for the dense matrices (:func:`augmented_matrix` is ``M x M``).
MAX_PARAMS = V.MAX_DENSE


def basis_matrix(widths, bias: bool = False, skeleton=None, sparse: bool = False):
    """``A'`` ``(M, M - H)``, basis paths as columns: dense (``M <= MAX_PARAMS``) or sparse int."""
    widths, sk, M = V.matrix_route(widths, bias, skeleton, dense=not sparse)
    A = incidence_matrix(widths, basis_path_array(widths, resolve_skeleton(widths, sk), bias), M)
    return A if sparse else A.toarray().astype(np.float64)


def incidence_matrix(widths, P, p: int) -> sp.sparse.csc_array:
    """Sparse int ``(p, n)``: ``(e, k) = 1`` iff edge ``e`` is on path ``P[k]`` (a path array)."""
    E = path_edges(widths, P)
    k, layer = np.nonzero(E >= 0)  # path k uses edge E[k, layer]
    return sp.sparse.csc_array((np.ones(k.size, np.int64), (E[k, layer], k)), shape=(p, len(E)))


def free_matrix(widths, bias: bool = False, skeleton=None) -> np.ndarray:
    """Dense ``B`` ``(M, H)``: one unit column per sigma-edge (hidden nodes in order)."""
    widths, sk, M = V.matrix_route(widths, bias, skeleton, dense=True)
    return np.eye(M)[:, sigma_edge_mask(resolve_skeleton(widths, sk), bias)]


def augmented_matrix(widths, bias: bool = False, skeleton=None) -> np.ndarray:
    """``[B, A']`` ``(M, M)``: the matrix of Weight-Allocation (rank ``M``, claim W2)."""
    return np.hstack([free_matrix(widths, bias, skeleton), basis_matrix(widths, bias, skeleton)])


def flatten(pa: PathArrays, skeleton: Skeleton) -> np.ndarray:
    """A :class:`~gspace.core.gsgd.PathArrays` as a basis-order vector (sigma entries dropped)."""
    V.flatten_args(pa, skeleton)
    return flat(pa)[~sigma_edge_mask(skeleton, pa.biases is not None)]


def unflatten(vec, net, skeleton=None) -> PathArrays:
    """Inverse of :func:`flatten`: laid out like ``net``, 0 at the sigma entries."""
    sk = V.unflatten_args(vec, net, skeleton, resolve_skeleton)
    w = np.zeros(net.flat_params().size)
    w[~sigma_edge_mask(sk, net.biases is not None)] = vec
    new = net.with_flat_params(w)
    return PathArrays(new.weights, new.biases)


@functools.lru_cache(maxsize=4)
def _matrices(sk, bias: bool):  # A' (csr), its non-sigma rows own, A'[own] and A'[own]^T
    A = basis_matrix(sk.widths, bias, sk, sparse=True).astype(float).tocsr()
    own = np.flatnonzero(~sigma_edge_mask(sk, bias))
    own.flags.writeable = False
    return A, own, A[own], A[own].T.tocsr()


def explicit_basis_path_values(net, skeleton=None) -> np.ndarray:
    """Basis-path values by listing the basis paths and multiplying the weights along each."""
    V.network(net)
    return paths.path_values(net, basis_path_array(net.widths, skeleton, net.biases is not None))


def explicit_inverse_chain_rule(net, grads, skeleton=None, rtol: float = 1e-8) -> np.ndarray:
    """Inverse-Chain-Rule ``F = w g = A' u`` by back-substitution, ``dl/dv = u / v``; a
    ``ValueError`` if the other rows miss by more than ``rtol`` (the balance I2 fails)."""
    V.explicit_args(net, skeleton, grads=grads)
    sk = resolve_skeleton(net.widths, skeleton)
    A, own, A_own, _ = _matrices(sk, net.biases is not None)
    F = net.flat_params() * flat(grads)
    u = sp.sparse.linalg.spsolve_triangular(A_own, F[own], lower=False, unit_diagonal=True)
    V.consistent(A @ u - F, F, rtol)
    return u / explicit_basis_path_values(net, sk)


def explicit_weight_allocation(net, v_new, skeleton=None):
    """The network with weights ``w r`` by Weight-Allocation ``A'^T_ns log|r_ns| = log|R|``."""
    V.explicit_args(net, skeleton, v_new=v_new)
    sk = resolve_skeleton(net.widths, skeleton)
    _, own, _, AT_own = _matrices(sk, net.biases is not None)
    R = np.asarray(v_new, dtype=np.float64) / explicit_basis_path_values(net, sk)
    rhs = np.column_stack([np.log(np.abs(R)), R < 0])  # log|r| and the sign flips k
    log_r, k = sp.sparse.linalg.spsolve_triangular(AT_own, rhs, lower=True, unit_diagonal=True).T
    w = net.flat_params()
    w[own] *= np.exp(log_r) * (1.0 - 2.0 * (np.rint(k).astype(np.int64) % 2))
    return net.with_flat_params(w)


def explicit_gsgd_step(net, grads, lr: float, skeleton=None):
    """One G-SGD step with matrices: ICR solve, ``v' = v - lr dl/dv``, WA solve (claim A1)."""
    V.explicit_args(net, skeleton, grads=grads, lr=lr)
    v = explicit_basis_path_values(net, skeleton)
    dv = explicit_inverse_chain_rule(net, grads, skeleton)
    return explicit_weight_allocation(net, v - lr * dv, skeleton)


# ---------------------------------------------------------------------- rank routes (R1, R2)
def rank_qr(M) -> tuple[int, np.ndarray]:
    """``(rank, |diag R|)`` by column-pivoted QR; ``|R_ii| <= max(p, q) eps |R_00|`` is 0."""
    D = M.toarray() if sp.sparse.issparse(M) else np.asarray(M, dtype=np.float64)
    if not D.size:
        return 0, np.zeros(0)
    r = np.abs(np.diag(sp.linalg.qr(D, mode="r", pivoting=True)[0]))
    return int(np.sum(r > max(D.shape) * np.finfo(np.float64).eps * r[0])), r


def explicit_rank(widths, method: str = "svd", limit: int = paths.DEFAULT_PATH_LIMIT, bias=False):
    """``rank(A)`` with every path listed: :func:`rank_of_structure_matrix` of ``A``."""
    widths = V.route_options(widths, method)
    return rank_of_structure_matrix(paths.structure_matrix(widths, limit, bias)[1], method)


def rank_of_structure_matrix(A, method: str = "svd"):
    """``(rank, spectrum, on)``: SVD or pivoted QR of ``on``, ``"A"`` or (if big) ``"A A^T"``."""
    V.route_options(method=method)
    rank_fn = paths.rank_svd if method == "svd" else rank_qr
    if A.shape[0] * A.shape[1] <= 2 * 10**5:
        return (*rank_fn(A.T), "A")
    G = (A @ A.T).toarray()
    d = 1.0 / np.sqrt(np.diag(G))
    return (*rank_fn(G * d[:, None] * d[None, :]), "A A^T")


def gram_by_counting(widths, bias: bool = False, exact: bool = False, scaled: bool = False):
    """``A A^T`` ``(p, p)`` by counting paths (none listed): float64, exact Python integers
    (``exact``, dtype object) or rescaled to unit diagonal (``scaled``: no overflow)."""
    widths = V.route_options(widths, exact=exact, scaled=scaled)
    L, offs = len(widths) - 1, edge_offsets(widths)
    n_in, n_out = [1] * (L + 1), [1] * (L + 1)  # partial paths into / out of a node; exact
    for l in range(1, L + 1):
        n_in[l] = widths[l - 1] * n_in[l - 1] + int(bias)
        n_out[L - l] = widths[L - l + 1] * n_out[L - l + 1]
    groups = []  # (rows, source layer l, N_in there, end nodes, start nodes or None for biases)
    for l in range(L):
        starts, ends = np.divmod(np.arange(widths[l] * widths[l + 1]), widths[l + 1])
        groups.append((slice(offs[l], offs[l + 1]), l, n_in[l], ends, starts))
    if bias:  # the biases into layer l + 1: edges from layer l with N_in = 1
        b = offs[-1] + np.cumsum([0, *widths[1:]])
        groups += [(slice(b[l], b[l + 1]), l, 1, np.arange(widths[l + 1]), None) for l in range(L)]
    G = np.zeros((num_params(widths, bias),) * 2, dtype=object if exact else np.float64)
    for sl_e, l, n_e, ends, _ in groups:
        d_e = n_e * n_out[l + 1]
        np.fill_diagonal(G[sl_e, sl_e], 1 if scaled else d_e)
        for sl_f, l2, n_f, _, starts in groups:
            if starts is None or l2 <= l:
                continue  # a path never crosses a bias edge after another edge
            count = n_e * math.prod(widths[l + 2 : l2]) * n_out[l2 + 1]
            if scaled:  # count / sqrt(D_e D_f), from logarithms of exact integers
                count = math.exp(math.log(count) - 0.5 * math.log(d_e * n_f * n_out[l2 + 1]))
            blk = np.zeros((len(ends), len(starts)), dtype=G.dtype)
            blk[ends[:, None] == starts[None, :] if l2 == l + 1 else ...] = count
            G[sl_e, sl_f], G[sl_f, sl_e] = blk, blk.T
    return G


def rank_by_counting(widths, bias: bool = False):
    """``(rank(A), eigenvalues)`` of the rescaled :func:`gram_by_counting` (cut 10 m eps)."""
    G = gram_by_counting(widths, bias=bias, scaled=True)
    lam = sp.linalg.eigh(G, eigvals_only=True)[::-1]
    return int(np.sum(lam > 10 * G.shape[0] * np.finfo(np.float64).eps * lam[0])), lam


def path_sum_range(widths, u, bias: bool = False) -> tuple:
    """``(min, max)`` of ``p @ u`` over all paths ``p`` by an O(m) DP, ``u`` of shape ``(p,)``."""
    widths = V.widths(widths)
    u = V.real_array(u, "u", (num_params(widths, bias),))
    offs, L = edge_offsets(widths), len(widths) - 1
    wb = [u[offs[l] : offs[l + 1]].reshape(widths[l], widths[l + 1]) for l in range(L)]
    bb = np.split(u[offs[-1] :], np.cumsum(widths[1:-1])) if bias else None
    return tuple(x.item() for x in _path_sum_dp(widths, wb, bb))


def _path_sum_dp(widths, wblocks, bblocks):  # path_sum_range's; a weight block None: 0, O(h)
    lo = hi = np.zeros(widths[0], dtype=np.int64)
    for l, w in enumerate(wblocks):
        if w is None:
            lo, hi = np.full(widths[l + 1], lo.min()), np.full(widths[l + 1], hi.max())
        else:
            lo, hi = (lo[:, None] + w).min(axis=0), (hi[:, None] + w).max(axis=0)
        if bblocks is not None:
            lo, hi = np.minimum(lo, bblocks[l]), np.maximum(hi, bblocks[l])
    return lo.min(), hi.max()


@dataclass(frozen=True)
class RankCertificate:
    """Outcome of :func:`rank_certificate`: its steps, ``rank = p - H`` if all hold (else None)."""

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


def rank_certificate(widths, skeleton: Skeleton | None = None, bias: bool = False):
    """A :class:`RankCertificate`: exact proof, no path listed, that ``rank(A) = p - H`` (R1)
    and ``ker(A^T) = span{b_O}`` (R2); ``skeleton`` (default :meth:`Skeleton.default`) pivots."""
    widths = V.widths(widths)
    sk = resolve_skeleton(widths, skeleton)
    L, H, p = len(widths) - 1, sum(widths[1:-1]), num_params(widths, bias)

    def b_range(l, j):  # smallest and largest path sum of b_O, O = node j of layer l
        e, wb = (np.arange(widths[l]) == j).astype(np.int64), [None] * L
        wb[l - 1], wb[l] = np.tile(e, (widths[l - 1], 1)), -np.tile(e[:, None], widths[l + 1])
        bb = [e if k == l - 1 else 0 for k in range(L)] if bias else None  # +1 into O, -1 out
        return _path_sum_dp(widths, wb, bb)

    # 1. every b_O sums to 0 along every path: A^T b_O = 0
    zero_ok = all(b_range(l, j) == (0, 0) for l in range(1, L) for j in range(widths[l]))
    # 2. the b_O are independent: unit upper triangular on their pi in-edges
    offs = edge_offsets(widths)
    pivots = [offs[l - 1] + sk.pi[l] * widths[l] + np.arange(widths[l]) for l in range(1, L)]
    T = scaling_vectors(widths, bias, sparse=True)[:, np.concatenate([[], *pivots]).astype(int)]
    b_indep = np.array_equal(np.tril(T.toarray()), np.eye(H))
    # 3. the basis paths are unit triangular on their own non-sigma edges (in layer order)
    P = basis_path_array(widths, sk, bias=bias)
    E, sigma = path_edges(widths, P), sigma_edge_mask(sk, bias)
    own = np.flatnonzero(~sigma)[:, None]  # basis path k belongs to the k-th non-sigma edge
    tri = len(own) == P.shape[0] == p - H
    if tri:
        counts = np.diff(offs).tolist() + (widths[1:] if bias else [])
        layer = np.repeat(np.tile(np.arange(L), 2 if bias else 1), counts)  # its lower layer
        safe = np.where(E >= 0, E, 0)
        others = (E < 0) | (E == own) | sigma[safe] | (layer[safe] < layer[own])
        tri = bool(np.any(E == own, axis=1).all() and others.all())
    ok = zero_ok and b_indep and tri
    return RankCertificate(widths, bias, p, H, zero_ok, b_indep, tri, p - H if ok else None)


class GSpaceCoordinates(NamedTuple):
    """Basis-path values and signs (weights, biases): G-invariant, fixing w up to G (S1)."""

    values: np.ndarray
    signs: list


def gspace_coordinates(net, skeleton=None) -> GSpaceCoordinates:
    """The :class:`GSpaceCoordinates` of ``net``."""
    signs = [np.sign(p) for p in net.weights + (net.biases or [])]
    return GSpaceCoordinates(explicit_basis_path_values(net, skeleton), signs)
