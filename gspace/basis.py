"""Basis paths and G-space coordinates (paper-notes section 6, claims B1-B4).

The columns of the structure matrix ``A`` have rank ``m - H`` (R1); a *basis* is a set of
``m - H`` independent paths. Their values are a G-invariant coordinate system of dimension
``m - H``: the G-space.

**Skeleton method (paper, equal hidden widths).** Skeleton weights are input ``j mod d`` ->
hidden ``j``, the diagonal ``j -> j`` between hidden layers, hidden ``j`` -> output ``j mod K``.
The basis paths are the ``h`` all-skeleton paths ``(j mod d, j, ..., j, j mod K)`` and, for each
non-skeleton weight ``e = (a -> b)``, the path that follows skeleton in-edges back from ``a``,
takes ``e``, and follows skeleton out-edges from ``b`` to an output.

**General construction (B4, beyond the paper).** For any widths, with an in-parent ``pi`` and
an out-child ``sigma`` per hidden node (:class:`gspace.Skeleton`): for every edge
``e = (a -> b)`` that is not a sigma-edge, the basis path is in-chain(a) + e + out-chain(b).
With the default skeleton and equal hidden widths this is exactly the paper's basis (the
skeleton path of chain ``j`` is the basis path of the first-layer pi-edge into node ``j``).

Order (shared by all of gspace): basis path ``k`` belongs to the ``k``-th non-sigma edge in the
edge numbering (layer by layer, row-major in ``weights[l]``; with biases, the bias edges after
all weights, ``biases[0]`` first). A bias edge into node ``b`` is never a sigma-edge; its basis
path is ``(-1, ..., -1, b, out-chain(b))``.

**Exponents (B3).** Every path is an integer combination ``p = sum_k alpha_k p^k``. Let
``Q(a)`` be the basis path of the pi-edge into the hidden node ``a`` if that edge is not a
sigma-edge, else ``Q(pi(a))``. Peeling the path edge by edge gives the closed form

    alpha = sum over the non-sigma edges e = (a -> b) of p of  (delta_{k(e)} - delta_{Q(a)})

(no ``Q`` term when ``a`` is an input or the constant bias node). It follows from
``p^e - p^{Q(a)} = e + out-chain(b) - out-chain(a)``, which telescopes along ``p``. It is
computed with integers and checked exactly (``A' alpha = p``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy as sp

from .network import MLP, check_widths
from .paths import _as_path_array, edge_offsets, path_edges, path_values
from .skeleton import Skeleton
from .structure import _sigma_edge_mask, num_params

__all__ = [
    "resolve_skeleton",
    "basis_path_array",
    "basis_paths",
    "skeleton_method_basis",
    "skeleton_paths",
    "non_sigma_edges",
    "basis_matrix",
    "path_exponents",
    "values_from_basis",
    "listed_basis_path_values",
    "GSpaceCoordinates",
    "gspace_coordinates",
]


def resolve_skeleton(widths, skeleton=None) -> Skeleton:
    """The skeleton to use for ``widths``.

    Parameters
    ----------
    widths : sequence of int
    skeleton : Skeleton, {"default", "paper"} or None
        None or ``"default"``: :meth:`Skeleton.default`; ``"paper"``: :meth:`Skeleton.paper`
        (equal hidden widths only); a :class:`Skeleton` is checked against ``widths``.

    Returns
    -------
    Skeleton

    Raises
    ------
    TypeError
        If ``skeleton`` is of another type.
    ValueError
        If its widths differ, or ``"paper"`` is asked of unequal hidden widths.

    Examples
    --------
    >>> resolve_skeleton([3, 4, 4, 2], "paper").is_paper_skeleton
    True
    """
    widths = check_widths(widths)
    if skeleton is None:
        return Skeleton.default(widths)
    if isinstance(skeleton, str):
        if skeleton == "paper":
            return Skeleton.paper(widths)
        if skeleton == "default":
            return Skeleton.default(widths)
        raise ValueError(
            f"skeleton must be a Skeleton, None, 'default' or 'paper', got {skeleton!r}"
        )
    if not isinstance(skeleton, Skeleton):
        raise TypeError(f"skeleton must be a gspace.Skeleton, got {type(skeleton).__name__}")
    if list(skeleton.widths) != widths:
        raise ValueError(f"skeleton widths {list(skeleton.widths)} differ from widths {widths}")
    return skeleton


def _chains(sk: Skeleton):
    """In-chains ``IC[l]`` of shape (h_l, l + 1) for l = 0..L-1 (follow pi down to an input)
    and out-chains ``OC[l]`` of shape (h_l, L - l + 1) for l = 1..L (follow sigma up)."""
    w, L = list(sk.widths), sk.L
    IC = [np.arange(w[0])[:, None]]
    for l in range(1, L):
        IC.append(np.hstack([IC[l - 1][np.asarray(sk.pi[l])], np.arange(w[l])[:, None]]))
    OC = [None] * (L + 1)
    OC[L] = np.arange(w[L])[:, None]
    for l in range(L - 1, 0, -1):
        OC[l] = np.hstack([np.arange(w[l])[:, None], OC[l + 1][np.asarray(sk.sigma[l])]])
    return IC, OC


def non_sigma_edges(widths, skeleton=None, bias: bool = False) -> np.ndarray:
    """Indices of the non-sigma edges (one per basis path, in basis order).

    Parameters
    ----------
    widths : sequence of int
    skeleton : Skeleton, optional
    bias : bool, default False
        Include the bias edges (never sigma-edges), numbered after the weights.

    Returns
    -------
    ndarray of shape (p - H,), int64

    Examples
    --------
    >>> non_sigma_edges([1, 2, 1]).tolist()  # edges 2 and 3 are the sigma-edges
    [0, 1]
    """
    sk = resolve_skeleton(widths, skeleton)
    return np.flatnonzero(~_sigma_edge_mask(sk, bias))


def basis_path_array(widths, skeleton=None, bias: bool = False) -> np.ndarray:
    """Basis paths as an int array (vectorised :func:`basis_paths`).

    Parameters
    ----------
    widths : sequence of int
    skeleton : Skeleton or {"default", "paper"}, optional
    bias : bool, default False

    Returns
    -------
    ndarray of shape (m - H, L + 1) (plus one row per bias), int64
        Bias paths carry ``-1`` below their start layer.

    Examples
    --------
    >>> basis_path_array([2, 2, 1]).tolist()
    [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0]]
    """
    widths = check_widths(widths)
    sk = resolve_skeleton(widths, skeleton)
    L = len(widths) - 1
    IC, OC = _chains(sk)
    rows = []
    for l in range(L):
        keep = ~sk.sigma_mask(l)
        a, b = np.nonzero(keep)  # row-major order, as the edge numbering
        rows.append(np.hstack([IC[l][a], OC[l + 1][b]]))
    if bias:
        for l in range(L):
            b = np.arange(widths[l + 1])
            rows.append(np.hstack([np.full((b.size, l + 1), -1), OC[l + 1][b]]))
    return np.vstack(rows).astype(np.int64)


def basis_paths(widths, skeleton=None, bias: bool = False) -> list:
    """The ``m - H`` basis paths (skeleton method / general construction B4).

    Parameters
    ----------
    widths : sequence of int
        ``[h_0, ..., h_L]``, equal or unequal hidden widths.
    skeleton : Skeleton or {"paper", "default"}, optional
        In-parents and out-children; default :meth:`Skeleton.default`, which is the paper's
        skeleton for equal hidden widths. ``"paper"`` refuses unequal widths.
    bias : bool, default False
        Append one basis path per bias (bias edge + out-chain).

    Returns
    -------
    list of tuple
        ``m - H`` paths ``(i_0, ..., i_L)``; path ``k`` belongs to the ``k``-th non-sigma
        edge ``e = (a -> b)`` and is in-chain(a) + e + out-chain(b).

    Raises
    ------
    ValueError
        For ``skeleton="paper"`` with unequal hidden widths (use the general construction).

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019, section "Skeleton method".

    Examples
    --------
    >>> basis_paths([2, 2, 2])  # m - H = 8 - 2 = 6; sigma-edges 0->0 and 1->1 of layer 1
    [(0, 0, 0), (0, 1, 1), (1, 0, 0), (1, 1, 1), (0, 0, 1), (1, 1, 0)]
    """
    return [tuple(p) for p in basis_path_array(widths, skeleton, bias).tolist()]


def skeleton_method_basis(widths) -> list:
    """The paper's skeleton method, which needs equal hidden widths.

    Parameters
    ----------
    widths : sequence of int
        Equal hidden widths ``h_1 = ... = h_{L-1}``.

    Returns
    -------
    list of tuple
        The ``m - H`` basis paths, as :func:`basis_paths` orders them.

    Raises
    ------
    ValueError
        For unequal hidden widths, pointing to the general construction
        (:func:`basis_paths` with the default skeleton, claim B4).

    Examples
    --------
    >>> len(skeleton_method_basis([3, 4, 4, 2]))  # m - H = 36 - 8
    28
    """
    return basis_paths(widths, Skeleton.paper(widths))


def skeleton_paths(widths, skeleton=None) -> list:
    """The all-skeleton paths, one per node of hidden layer 1: (pi(j), j, sigma(j), ...).

    Parameters
    ----------
    widths : sequence of int
    skeleton : Skeleton, optional

    Returns
    -------
    list of tuple
        For the paper's skeleton, ``(j mod d, j, j, ..., j, j mod K)`` for ``j < h_1``; empty
        without hidden layer.

    Examples
    --------
    >>> skeleton_paths([3, 4, 4, 2])
    [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 0), (0, 3, 3, 1)]
    """
    widths = check_widths(widths)
    sk = resolve_skeleton(widths, skeleton)
    if len(widths) < 3:
        return []
    IC, OC = _chains(sk)
    return [tuple(IC[1][j].tolist() + OC[1][j, 1:].tolist()) for j in range(widths[1])]


def basis_matrix(widths, skeleton=None, bias: bool = False):
    """``A'``: the columns of ``A`` for the basis paths.

    Parameters
    ----------
    widths : sequence of int
    skeleton : Skeleton, optional
    bias : bool, default False

    Returns
    -------
    scipy.sparse.csc_array of shape (p, p - H), int64
        ``A'[e, k] = 1`` iff edge ``e`` lies on basis path ``k``.

    Examples
    --------
    >>> basis_matrix([2, 2, 1]).toarray().tolist()
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    """
    widths = check_widths(widths)
    P = basis_path_array(widths, skeleton, bias)
    E = path_edges(widths, P)
    cols = np.repeat(np.arange(P.shape[0]), E.shape[1])
    rows = E.ravel()
    keep = rows >= 0
    return sp.sparse.csc_array(
        (np.ones(int(keep.sum()), dtype=np.int64), (rows[keep], cols[keep])),
        shape=(num_params(widths, bias), P.shape[0]),
    )


def path_exponents(widths, paths, skeleton=None, bias: bool = False):
    """Integer exponents ``alpha`` with ``p = sum_k alpha_k p^k`` for each path (B3), exactly.

    Parameters
    ----------
    widths : sequence of int
    paths : list of tuple or int ndarray of shape (n, L + 1)
        Weight paths, and bias paths if ``bias``.
    skeleton : Skeleton, optional
    bias : bool, default False
        Whether the basis includes the bias paths (needed for bias paths in ``paths``).

    Returns
    -------
    alpha : scipy.sparse.csr_array of shape (n, p - H), int64
        Row ``i``: exponents of path ``i``; then ``v_p = prod_k v_k^{alpha_k}`` (signs
        included, since ``sgn^{-1} = sgn``).

    Notes
    -----
    ``alpha = sum over the non-sigma edges e = (a -> b) of p of (delta_{k(e)} - delta_{Q(a)})``
    where ``k(e)`` is the basis path of ``e`` and ``Q(a)`` the basis path of the pi-edge into
    ``a`` if that is not a sigma-edge, else ``Q(pi(a))`` (none for inputs and bias sources).
    Integer arithmetic only; exactness is checked by ``basis_matrix(...) @ alpha.T == A``.

    Examples
    --------
    >>> path_exponents([2, 2, 2], [(0, 0, 1), (0, 1, 0)]).toarray().tolist()
    [[0, 0, 0, 0, 1, 0], [0, 1, 0, -1, 0, 1]]

    The second says ``(0,1,0) = (0,1,1) - (1,1,1) + (1,1,0)`` (basis paths 1, 3, 5).
    """
    widths = check_widths(widths)
    sk = resolve_skeleton(widths, skeleton)
    P = _as_path_array(widths, paths)
    if (P < 0).any() and not bias:
        raise ValueError("bias paths need bias=True (a basis that includes the bias paths)")
    L = len(widths) - 1
    sigma = _sigma_edge_mask(sk, bias)
    k_of_edge = np.full(sigma.size, -1, dtype=np.int64)
    k_of_edge[~sigma] = np.arange(int((~sigma).sum()))
    offs = edge_offsets(widths)
    # Q[l][a] for hidden nodes a of layer l
    Q = [None] * (L + 1)
    for l in range(1, L):
        pi_l = np.asarray(sk.pi[l])
        pi_edge = offs[l - 1] + pi_l * widths[l] + np.arange(widths[l])
        own = k_of_edge[pi_edge]
        inherited = Q[l - 1][pi_l] if l >= 2 else np.full(widths[l], -1)
        Q[l] = np.where(sigma[pi_edge], inherited, own)
    E = path_edges(widths, P)
    rows, cols, vals = [], [], []
    n = P.shape[0]
    for l in range(L):
        e = E[:, l]
        used = e >= 0
        ns = used.copy()
        ns[used] = ~sigma[e[used]]
        idx = np.flatnonzero(ns)
        rows.append(idx)
        cols.append(k_of_edge[e[idx]])
        vals.append(np.ones(idx.size, dtype=np.int64))
        if l >= 1:
            src_hidden = idx[P[idx, l] >= 0]
            rows.append(src_hidden)
            cols.append(Q[l][P[src_hidden, l]])
            vals.append(-np.ones(src_hidden.size, dtype=np.int64))
    alpha = sp.sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, int((~sigma).sum())),
    )
    alpha.sum_duplicates()
    alpha.eliminate_zeros()
    return alpha


def values_from_basis(basis_values, alpha) -> np.ndarray:
    """Path values rebuilt from basis-path values: ``v_p = prod_k v_k^{alpha_k}`` (B3).

    Parameters
    ----------
    basis_values : ndarray of shape (p - H,)
    alpha : sparse array of shape (n, p - H)
        From :func:`path_exponents`.

    Returns
    -------
    ndarray of shape (n,)

    Raises
    ------
    ValueError
        If the shapes do not match, an exponent is not an integer, or a basis-path value
        that is needed with a negative exponent is 0 (a zero skeleton weight: the G-space
        coordinates do not determine that path value).

    Examples
    --------
    >>> import scipy as sp
    >>> values_from_basis(np.array([2.0, 3.0]), sp.sparse.csr_array([[1, -1], [2, 0]]))
    array([0.66666667, 4.        ])
    """
    v = np.asarray(basis_values, dtype=np.float64)
    alpha = sp.sparse.coo_array(alpha)
    if v.shape != (alpha.shape[1],):
        raise ValueError(f"basis_values must have shape ({alpha.shape[1]},), got {v.shape}")
    if alpha.data.dtype.kind not in "iu" and not np.all(alpha.data == np.round(alpha.data)):
        raise ValueError(
            "alpha must hold integer exponents (from path_exponents, claim B3), got "
            f"non-integer entries such as {alpha.data[alpha.data != np.round(alpha.data)][0]}"
        )
    r, c, a = alpha.row, alpha.col, alpha.data.astype(np.int64)
    if np.any((v[c] == 0) & (a < 0)):
        k = int(c[(v[c] == 0) & (a < 0)][0])
        raise ValueError(
            f"basis-path value {k} is 0 but is needed with a negative exponent: a zero skeleton "
            f"weight makes the G-space coordinates undefined there"
        )
    out = np.ones(alpha.shape[0])
    np.multiply.at(out, r, v[c] ** a.astype(np.float64))
    return out


def listed_basis_path_values(net: MLP, skeleton=None) -> np.ndarray:
    """Values of the basis paths of ``net`` by listing them (bias paths included if it has biases).

    Each basis path is listed as a tuple of nodes and its value is the product of the weights
    along it (:func:`gspace.paths.path_values`). This is the explicit route, kept as an
    independent check of :func:`gspace.gsgd.basis_path_values`, which computes the same
    numbers in O(m) from chain products and stores them in arrays shaped like the weights.

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton, optional

    Returns
    -------
    ndarray of shape (m - H,) (plus one per bias)
        In basis order (the ``k``-th non-sigma edge). Equals
        ``rho_in(a) * w_e * rho_out(b)`` for ``e = (a -> b)``.

    Examples
    --------
    >>> net = MLP.from_weights([[[2.0, 3.0]], [[5.0], [7.0]]])
    >>> listed_basis_path_values(net).tolist()  # sigma-edges are the two second-layer weights
    [10.0, 21.0]
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    return path_values(net, basis_path_array(net.widths, skeleton, bias=net.has_bias))


class GSpaceCoordinates(NamedTuple):
    """G-space coordinates of a network.

    Attributes
    ----------
    values : ndarray of shape (m - H,)
        Basis-path values (plus one per bias), in basis order; G-invariant (G3).
    signs : list of ndarray
        ``np.sign(weights[l])`` (then the bias signs): the sign pattern, also G-invariant.
        Values and signs together determine the network up to G (S1) when no weight is 0.
    """

    values: np.ndarray
    signs: list


def gspace_coordinates(net: MLP, skeleton=None) -> GSpaceCoordinates:
    """Basis-path values and sign pattern of ``net``.

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton, optional

    Returns
    -------
    GSpaceCoordinates
        ``values`` of shape ``(m - H,)`` (plus one per bias) and ``signs``; both G-invariant.

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> g = gspace.random_scaling(net.widths, np.random.default_rng(1))
    >>> a, b = gspace_coordinates(net), gspace_coordinates(g.apply(net))
    >>> bool(np.allclose(a.values, b.values)), a.values.shape
    (True, (16,))
    """
    values = listed_basis_path_values(net, skeleton)
    signs = [np.sign(w) for w in net.weights]
    if net.has_bias:
        signs += [np.sign(b) for b in net.biases]
    return GSpaceCoordinates(values, signs)
