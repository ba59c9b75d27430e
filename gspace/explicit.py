r"""G-SGD with explicit matrices, for teaching (and as the independent route of claim A1).

:class:`gspace.GSGD` never forms a matrix: its Inverse-Chain-Rule is a backward sweep and its
Weight-Allocation a forward sweep, O(m) in all. This module does the same step the way the
paper writes it, with dense matrices, so that every stage can be printed and checked:

* ``A'`` (:func:`basis_matrix`): the basis columns of the structure matrix, ``M x (M - H)``,
  ``A'[e, j] = 1`` iff edge ``e`` lies on basis path ``j``;
* ``B`` (:func:`free_matrix`): ``M x H``, one unit column per free weight (the sigma-edge out of
  each hidden node);
* ICR: ``F = A' u`` with ``F_e = w_e dl/dw_e`` and ``u_j = v_j dl/dv_j``: ``M`` equations for
  ``M - H`` unknowns, consistent (the ``H`` extra equations are the balance identity, I2). It
  is solved exactly: the rows of the non-sigma edges form a square, unit upper-triangular
  system (edge ``e`` lies on its own basis path and, if it is a pi-edge, on basis paths of later
  edges only), solved by back-substitution; the remaining ``H`` rows are then checked;
* WA: the ratios ``r_e = w'_e / w_e`` satisfy ``[B, A']^T log|r| = (0_H, log|R|)``, a square
  system of full rank (W2), solved by LU (``np.linalg.solve``). Signs follow from the same
  matrix over the integers: the matrix has determinant +-1 (with the sigma rows first it is
  block triangular, ``[[I_H, *], [0, unit upper-triangular]]``: the ``B`` columns are unit
  vectors at the sigma rows, and the non-sigma rows of ``A'`` are the triangular system of
  ICR), so ``[B, A']^T k = (0_H, [R < 0])`` has an integer solution ``k`` and ``(-1)^k`` are
  the sign flips.

Sizes: ``M`` = number of weights plus biases, ``H`` = number of hidden nodes. Vectors of
basis-path quantities are in *basis order*, that of :func:`gspace.basis.basis_paths`: the
non-sigma weights in edge order (layer by layer, row-major in ``weights[l]``), then one path
per bias (``biases[0]`` first; a bias path carries ``-1`` below the layer it feeds). The dense
route needs every weight and bias to be nonzero (it works with
``w * g`` and ``log|w|``); :class:`gspace.GSGD` does not.
"""

from __future__ import annotations

import numpy as np
import scipy as sp

from . import basis as _basis
from .gsgd import PathArrays, _check_lr, _resolve_skeleton
from .network import MLP, Gradients, check_widths
from .optim import check_grads
from .skeleton import Skeleton

__all__ = [
    "MAX_PARAMS",
    "basis_matrix",
    "free_matrix",
    "augmented_matrix",
    "flatten",
    "unflatten",
    "explicit_basis_path_values",
    "explicit_inverse_chain_rule",
    "explicit_weight_allocation",
    "explicit_gsgd_step",
]

#: Largest ``M`` (weights plus biases) the dense route accepts: ``[B, A']`` is ``M x M``.
MAX_PARAMS = 3000


def _setup(widths, bias: bool, skeleton) -> tuple[list, Skeleton, int]:
    widths = check_widths(widths)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    sk = _resolve_skeleton(widths, skeleton)
    M = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + (sum(widths[1:]) if bias else 0)
    if M > MAX_PARAMS:
        raise ValueError(
            f"the explicit-matrix route builds M x M dense matrices; M = {M} parameters exceeds "
            f"MAX_PARAMS = {MAX_PARAMS}. Use gspace.GSGD, which needs no matrix."
        )
    return widths, sk, M


def _edge_offsets(widths: list, bias: bool) -> tuple[list, list]:
    """Row offset of weights[l] and of biases[l] in the edge numbering."""
    w_off, o = [], 0
    for a, b in zip(widths[:-1], widths[1:]):
        w_off.append(o)
        o += a * b
    b_off = []
    if bias:
        for h in widths[1:]:
            b_off.append(o)
            o += h
    return w_off, b_off


def basis_matrix(widths, bias: bool = False, skeleton: Skeleton | None = None) -> np.ndarray:
    r"""Dense ``A'``: the basis columns of the structure matrix.

    Parameters
    ----------
    widths : sequence of int
    bias : bool, default False
    skeleton : Skeleton, optional

    Returns
    -------
    ndarray of shape (M, M - H)
        ``A'[e, j] = 1`` iff edge ``e`` (weights in edge order, then biases) is on basis path
        ``j`` (order of :func:`gspace.basis.basis_paths`): the dense, float form of
        :func:`gspace.basis.basis_matrix`, with a size guard.

    Raises
    ------
    ValueError
        If ``M > MAX_PARAMS`` or the skeleton does not fit.

    Notes
    -----
    :math:`\log|v| = A'^T \log|w|` for the basis-path values.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Skeleton method" and "Inverse-Chain-Rule".

    Examples
    --------
    >>> basis_matrix([1, 2, 1]).astype(int).tolist()
    [[1, 0], [0, 1], [1, 0], [0, 1]]
    """
    widths, sk, M = _setup(widths, bias, skeleton)
    A = _basis.basis_matrix(widths, sk, bias).toarray().astype(np.float64)
    if A.shape[0] != M:  # pragma: no cover - both count weights plus biases
        raise AssertionError(f"basis matrix has {A.shape[0]} rows, expected {M}")
    return A


def free_matrix(widths, bias: bool = False, skeleton: Skeleton | None = None) -> np.ndarray:
    """Dense ``B``: one unit column per free weight (the sigma-edge out of each hidden node).

    Parameters
    ----------
    widths : sequence of int
    bias : bool, default False
    skeleton : Skeleton, optional

    Returns
    -------
    ndarray of shape (M, H)
        Columns in hidden-node order (layer by layer).

    Raises
    ------
    ValueError
        If ``M > MAX_PARAMS`` or the skeleton does not fit.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Weight-Allocation".

    Examples
    --------
    >>> free_matrix([1, 2, 1]).astype(int).tolist()
    [[0, 0], [0, 0], [1, 0], [0, 1]]
    """
    widths, sk, M = _setup(widths, bias, skeleton)
    w_off, _ = _edge_offsets(widths, bias)
    L = len(widths) - 1
    cols = []
    for l in range(1, L):
        for a in range(widths[l]):
            cols.append(w_off[l] + a * widths[l + 1] + int(sk.sigma[l][a]))
    B = np.zeros((M, len(cols)))
    B[cols, np.arange(len(cols))] = 1.0
    return B


def augmented_matrix(widths, bias: bool = False, skeleton: Skeleton | None = None) -> np.ndarray:
    """``[B, A']`` of shape ``(M, M)``: the matrix of Weight-Allocation (rank M, claim W2).

    Parameters
    ----------
    widths : sequence of int
    bias : bool, default False
    skeleton : Skeleton, optional

    Returns
    -------
    ndarray of shape (M, M)

    Raises
    ------
    ValueError
        If ``M > MAX_PARAMS`` or the skeleton does not fit.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Weight-Allocation".

    Examples
    --------
    >>> A = augmented_matrix([2, 3, 2], bias=True)
    >>> A.shape, int(np.linalg.matrix_rank(A))
    ((17, 17), 17)
    """
    return np.hstack([free_matrix(widths, bias, skeleton), basis_matrix(widths, bias, skeleton)])


def flatten(pa: PathArrays, skeleton: Skeleton) -> np.ndarray:
    """A :class:`~gspace.gsgd.PathArrays` as a vector in basis order (sigma entries dropped).

    Parameters
    ----------
    pa : PathArrays
    skeleton : Skeleton
        The skeleton whose sigma-edges are dropped.

    Returns
    -------
    ndarray of shape (M - H,)

    Raises
    ------
    TypeError
        If ``pa`` is not a PathArrays or ``skeleton`` not a Skeleton.
    ValueError
        If the layers of ``pa`` do not have the skeleton's shapes.

    Examples
    --------
    >>> sk = Skeleton.default([1, 2, 1])
    >>> flatten(PathArrays([np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])]), sk)
    array([1., 2.])
    """
    if not isinstance(pa, PathArrays):
        raise TypeError(f"pa must be a PathArrays, got {type(pa).__name__}")
    if not isinstance(skeleton, Skeleton):
        raise TypeError(f"skeleton must be a gspace.Skeleton, got {type(skeleton).__name__}")
    widths = list(skeleton.widths)
    shapes = [np.shape(x) for x in pa.weights]
    if shapes != list(zip(widths[:-1], widths[1:])):
        raise ValueError(
            f"pa.weights has shapes {shapes}, the skeleton's widths {widths} need "
            f"{list(zip(widths[:-1], widths[1:]))}"
        )
    parts = [np.asarray(x)[~skeleton.sigma_mask(l)] for l, x in enumerate(pa.weights)]
    parts += [np.asarray(b) for b in (pa.biases or [])]
    return np.concatenate(parts)


def unflatten(vec, net: MLP, skeleton: Skeleton | None = None, fill: float = 0.0) -> PathArrays:
    """Inverse of :func:`flatten`: a basis-order vector laid out like ``net``.

    Parameters
    ----------
    vec : array_like of shape (M - H,)
    net : MLP
        Gives the widths and whether there are biases.
    skeleton : Skeleton, optional
    fill : float, default 0
        Value put at the sigma entries (not coordinates).

    Returns
    -------
    PathArrays

    Raises
    ------
    TypeError
        If ``net`` is not an MLP or ``skeleton`` not a Skeleton.
    ValueError
        If ``vec`` has the wrong length or the skeleton does not fit the network.

    Examples
    --------
    >>> net = MLP.from_weights([[[1.0, 1.0]], [[1.0], [1.0]]])
    >>> unflatten([5.0, 6.0], net).weights[0].tolist()
    [[5.0, 6.0]]
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    sk = _resolve_skeleton(net.widths, skeleton)
    vec = np.asarray(vec, dtype=np.float64)
    n_expected = sum(int((~sk.sigma_mask(l)).sum()) for l in range(net.L))
    if net.biases is not None:
        n_expected += sum(b.size for b in net.biases)
    if vec.shape != (n_expected,):
        raise ValueError(f"vec must have shape ({n_expected},), got {vec.shape}")
    out, o = [], 0
    for l, w in enumerate(net.weights):
        x = np.full(w.shape, float(fill))
        mask = ~sk.sigma_mask(l)
        k = int(mask.sum())
        x[mask] = vec[o : o + k]
        o += k
        out.append(x)
    bs = None
    if net.biases is not None:
        bs = []
        for b in net.biases:
            bs.append(vec[o : o + b.size].copy())
            o += b.size
    return PathArrays(out, bs)


def _params(net: MLP) -> np.ndarray:
    return np.concatenate([w.ravel() for w in net.weights] + [b for b in (net.biases or [])])


def _from_params(flat: np.ndarray, net: MLP) -> MLP:
    ws, o = [], 0
    for w in net.weights:
        ws.append(flat[o : o + w.size].reshape(w.shape).copy())
        o += w.size
    bs = None
    if net.biases is not None:
        bs = []
        for b in net.biases:
            bs.append(flat[o : o + b.size].copy())
            o += b.size
    return MLP.from_weights(ws, bs)


def _nonzero_params(net: MLP) -> np.ndarray:
    w = _params(net)
    if not np.all(w):
        raise ValueError(
            "the explicit-matrix route works with w * g and log|w| and needs every weight and "
            "bias nonzero; gspace.GSGD handles zero non-skeleton weights"
        )
    return w


def explicit_basis_path_values(net: MLP, skeleton: Skeleton | None = None) -> np.ndarray:
    r"""Basis-path values as products over the columns of ``A'``.

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton, optional

    Returns
    -------
    ndarray of shape (M - H,)
        ``v_j = prod_e w_e^{A'[e, j]}``, basis order.

    Raises
    ------
    TypeError, ValueError
        Not an MLP, too large, or a skeleton that does not fit.

    Notes
    -----
    :math:`v_j = \prod_e w_e^{A'_{ej}}`, i.e. :math:`\log|v| = A'^T \log|w|` with the sign
    the product of the signs.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Skeleton method".

    Examples
    --------
    >>> net = MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]])
    >>> explicit_basis_path_values(net)
    array([ 8., 15.])
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    A = basis_matrix(net.widths, net.has_bias, skeleton)
    w = _params(net)
    return np.prod(np.where(A > 0, w[:, None], 1.0), axis=0)


def explicit_inverse_chain_rule(
    net: MLP, grads: Gradients, skeleton: Skeleton | None = None, rtol: float = 1e-8
) -> np.ndarray:
    r"""Inverse-Chain-Rule as the linear system ``F = A' u``, solved exactly.

    Parameters
    ----------
    net : MLP
        Every weight and bias nonzero.
    grads : Gradients
        ``dl/dw`` of a loss of the network function (so that the system is consistent).
    skeleton : Skeleton, optional
    rtol : float, default 1e-8
        Tolerance of the consistency check of the ``H`` sigma-edge rows.

    Returns
    -------
    ndarray of shape (M - H,)
        ``dl/dv`` in basis order.

    Raises
    ------
    ValueError
        Bad or non-finite grads, a zero weight, too large a network, or an inconsistent
        system (``grads`` is not the gradient of a G-invariant loss: the balance identity I2
        fails).

    Notes
    -----
    :math:`\partial l/\partial w_e = \sum_j \partial l/\partial v_j\, v_j / w_e\,
    [e \in p^j]`, i.e. :math:`F = A' u` with :math:`F = w \odot g`,
    :math:`u = v \odot \partial l/\partial v`. The ``M - H`` rows of the non-sigma edges form a
    unit upper-triangular square matrix (an edge lies on its own basis path and, as a pi-edge,
    on basis paths of later edges), so ``u`` comes from back-substitution
    (``scipy.linalg.solve_triangular``); the remaining ``H`` rows are redundant and checked:
    they hold iff the balance identity holds. Then :math:`\partial l/\partial v = u / v`.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Inverse-Chain-Rule".

    Examples
    --------
    >>> net = MLP([2, 3, 2], rng=np.random.default_rng(0))
    >>> _, grads = net.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 2)))
    >>> explicit_inverse_chain_rule(net, grads).shape
    (9,)
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    check_grads(net, grads)
    sk = _resolve_skeleton(net.widths, skeleton)
    A = basis_matrix(net.widths, net.has_bias, sk)
    w = _nonzero_params(net)
    g = np.concatenate([x.ravel() for x in grads.weights] + list(grads.biases or []))
    F = w * g
    own = np.concatenate(
        [~sk.sigma_mask(l).ravel() for l in range(net.L)]
        + [np.ones(b.size, dtype=bool) for b in (net.biases or [])]
    )
    A_sq = A[own]  # square: one row per basis path, its own edge
    if np.any(np.tril(A_sq, -1)):  # pragma: no cover - a property of the construction
        raise AssertionError("the non-sigma rows of A' should be upper triangular")
    u = sp.linalg.solve_triangular(A_sq, F[own], lower=False, unit_diagonal=True)
    residual = A @ u - F
    if np.linalg.norm(residual) > rtol * (np.linalg.norm(F) + 1e-300):
        raise ValueError(
            f"F = w * g is not in the column space of A' (residual "
            f"{np.linalg.norm(residual):.3g}): these gradients violate the balance identity "
            f"(claim I2), so they are not the gradient of a loss of the network function"
        )
    v = explicit_basis_path_values(net, sk)
    return u / v


def explicit_weight_allocation(
    net: MLP, v_new, skeleton: Skeleton | None = None, atol: float = 1e-6
) -> MLP:
    r"""Weight-Allocation as the linear system ``[B, A']^T log|r| = (0, log|R|)``.

    Parameters
    ----------
    net : MLP
        The network before the update; every weight and bias nonzero.
    v_new : array_like of shape (M - H,)
        New basis-path values in basis order, all nonzero.
    skeleton : Skeleton, optional
    atol : float, default 1e-6
        Tolerance for the integrality of the sign solution.

    Returns
    -------
    MLP
        ``w' = w * r``; the free (sigma) weights keep their values.

    Raises
    ------
    ValueError
        Wrong length, non-finite or zero entries of ``v_new``, a zero weight, too large a
        network.

    Notes
    -----
    With :math:`R = v'/v` and :math:`r = w'/w`, each basis path asks
    :math:`\prod_{e \in p^j} r_e = R_j` and each free weight :math:`r_\sigma = 1`: in logs,
    :math:`[B, A']^T \log|r| = (0_H, \log|R|)`, square of rank ``M`` (claim W2), solved by
    ``np.linalg.solve``. Signs: with :math:`s_e = [r_e < 0]` the same equations hold mod 2,
    :math:`[B, A']^T s \equiv (0_H, [R < 0])`. The matrix has determinant :math:`\pm 1`
    (sigma rows first, it is block triangular with an identity block and the unit triangular
    non-sigma rows of :math:`A'`), so the real solution :math:`k` of
    :math:`[B, A']^T k = (0_H, [R < 0])` is an integer vector and :math:`s = k \bmod 2`.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Weight-Allocation".

    Examples
    --------
    >>> net = MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]])
    >>> new = explicit_weight_allocation(net, [-16.0, 15.0])
    >>> new.weights[0].tolist(), new.weights[1].tolist()
    ([[-4.0, 3.0]], [[4.0], [5.0]])
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    sk = _resolve_skeleton(net.widths, skeleton)
    w = _nonzero_params(net)
    BA = augmented_matrix(net.widths, net.has_bias, sk)
    H = net.H
    v = explicit_basis_path_values(net, sk)
    v_new = np.asarray(v_new, dtype=np.float64)
    if v_new.shape != v.shape:
        raise ValueError(f"v_new must have shape {v.shape} (basis order), got {v_new.shape}")
    if not np.all(np.isfinite(v_new)) or not np.all(v_new):
        raise ValueError("v_new must be finite and nonzero (the system is solved in log space)")
    R = v_new / v
    log_r = np.linalg.solve(BA.T, np.concatenate([np.zeros(H), np.log(np.abs(R))]))
    k = np.linalg.solve(BA.T, np.concatenate([np.zeros(H), (R < 0).astype(float)]))
    k_int = np.rint(k)
    if np.max(np.abs(k - k_int), initial=0.0) > atol:  # pragma: no cover - det = +-1
        raise AssertionError("sign system has a non-integer solution")
    sign = 1.0 - 2.0 * (k_int.astype(np.int64) % 2)
    return _from_params(w * np.exp(log_r) * sign, net)


def explicit_gsgd_step(net: MLP, grads: Gradients, lr: float, skeleton: Skeleton | None = None):
    """One G-SGD step with dense matrices: ICR solve, update, WA solve.

    Parameters
    ----------
    net : MLP
        Every weight and bias nonzero.
    grads : Gradients
    lr : float
        > 0.
    skeleton : Skeleton, optional

    Returns
    -------
    MLP

    Raises
    ------
    TypeError, ValueError
        As :func:`explicit_inverse_chain_rule` and :func:`explicit_weight_allocation`.

    Notes
    -----
    :math:`v' = v - \\eta\\, \\partial l/\\partial v` between the two solves; claim A1 says the
    result equals :meth:`gspace.GSGD.step` to rounding.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Algorithm 1".

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
    lr = _check_lr(lr)
    sk = _resolve_skeleton(net.widths, skeleton) if isinstance(net, MLP) else None
    v = explicit_basis_path_values(net, sk)
    dv = explicit_inverse_chain_rule(net, grads, sk)
    return explicit_weight_allocation(net, v - lr * dv, sk)
