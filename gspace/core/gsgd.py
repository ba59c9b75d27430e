r"""G-SGD (Algorithm 1): SGD on the values of the basis paths.

The stages of the paper's Algorithm 1, each a pure function, then :func:`gsgd_step` calling
them in order (sections "Inverse-Chain-Rule", "Weight-Allocation", "Algorithm 1"):

==========================  ==============================================================
stage                       function
==========================  ==============================================================
chain products              :func:`rho_in`, :func:`rho_out`
basis-path values           :func:`basis_path_values`  (``v_e = rho_in(a) w_e rho_out(b)``)
Inverse-Chain-Rule (ICR)    :func:`inverse_chain_rule` (``dl/dv`` from ``dl/dw``)
update                      :func:`update_path_values` (``v' = v - lr dl/dv``)
ratios                      :func:`path_ratios`        (``R = v' / v``)
Weight-Allocation (WA)      :func:`weight_allocation`  (weights from ``R``, sigma-edges fixed)
==========================  ==============================================================

A basis path is named by its non-sigma edge ``e = (a -> b)`` (claim B4), so its numbers sit
where ``e`` sits (:class:`PathArrays`); the paper's skeleton path of chain ``j`` sits at
``.weights[0][j % d, j]``. A convolution layer ``(h_l, h_{l+1}, *taps)`` is read the same
way (every tap an edge, the skeleton at the centre tap); for an MLP ``_row(x, W)`` is
``x[:, None]``, ``_col(x, W)`` is ``x[None, :]``. Fast: :class:`gspace.GSGD` (tested equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validation as V
from .basis import resolve_skeleton

__all__ = ["PathArrays", "rho_in", "rho_out", "basis_path_values", "inverse_chain_rule"]
__all__ += ["update_path_values", "path_ratios", "weight_allocation", "gsgd_step"]


@dataclass(frozen=True)
class PathArrays:
    """Per-basis-path numbers laid out like ``weights`` and ``biases`` (off the sigma-edges)."""

    weights: list
    biases: list | None = None


def _at(W, rows, cols) -> tuple:
    """The index of the edges ``rows -> cols`` of ``W`` (at the centre tap of a kernel)."""
    return (rows, cols) + tuple(k // 2 for k in W.shape[2:])


def _row(x, W):
    return x.reshape((-1,) + (1,) * (W.ndim - 1))


def _col(x, W):
    return x.reshape((1, -1) + (1,) * (W.ndim - 2))


def _checked(net, skeleton, **arrays):
    """The door of every stage: one validation call, then the skeleton (default if None)."""
    V.gsgd_inputs(net, skeleton, **arrays)
    sk = resolve_skeleton(net.widths, skeleton)
    V.skeleton_weights(net.weights, sk, R=arrays.get("R"))
    return sk


def rho_in(net, skeleton=None) -> list:
    r"""Products of the weights along the in-chains: :math:`\rho_{in}(n) = \rho_{in}(\pi(n))\,
    w_{\pi(n) \to n}`, 1 at the inputs: ``rho[l]`` ``(h_l,)`` for ``l < L``, ``rho[L]`` None.

    Examples
    --------
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[5.0, 1.0], [1.0, 7.0]], [[1.0], [1.0]]])
    >>> [r.tolist() for r in rho_in(net)[:3]]
    [[1.0], [2.0, 3.0], [10.0, 21.0]]
    """
    sk = _checked(net, skeleton)
    W, widths = net.weights, net.widths
    rho = [np.ones(widths[0])]
    for l in range(1, len(W)):
        pi = sk.pi[l]
        rho.append(rho[l - 1][pi] * W[l - 1][_at(W[l - 1], pi, np.arange(widths[l]))])
    return rho + [None]


def rho_out(net, skeleton=None) -> list:
    r"""Products along the out-chains: :math:`\rho_{out}(n) = w_{n \to \sigma(n)}\,
    \rho_{out}(\sigma(n))`, 1 at the outputs: ``rho[l]`` ``(h_l,)`` for ``l >= 1``.

    Examples
    --------
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[5.0, 1.0], [1.0, 7.0]], [[1.0], [4.0]]])
    >>> [r.tolist() for r in rho_out(net)[1:]]
    [[5.0, 28.0], [1.0, 4.0], [1.0]]
    """
    sk = _checked(net, skeleton)
    W, widths, L = net.weights, net.widths, net.L
    rho = [None] * L + [np.ones(widths[L])]
    for l in range(L - 1, 0, -1):
        sigma = sk.sigma[l]
        rho[l] = W[l][_at(W[l], np.arange(widths[l]), sigma)] * rho[l + 1][sigma]
    return rho


def basis_path_values(net, skeleton=None) -> PathArrays:
    r"""Values of the basis paths, the G-space coordinates (B4, G3): ``rho_in(a) w_e
    rho_out(b)`` for ``e = (a -> b)``, ``b rho_out(b)`` for a bias (at a sigma-edge: the
    all-skeleton path through ``a``, not a basis path).

    Examples
    --------
    >>> v = basis_path_values(gspace.MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]]))
    >>> v.weights[0].tolist(), v.weights[1].tolist()
    ([[8.0, 15.0]], [[8.0], [15.0]])
    """
    sk = _checked(net, skeleton)
    rin, rout = rho_in(net, sk), rho_out(net, sk)
    vw = [W * _row(rin[l], W) * _col(rout[l + 1], W) for l, W in enumerate(net.weights)]
    vb = None if net.biases is None else [b * rout[l + 1] for l, b in enumerate(net.biases)]
    return PathArrays(vw, vb)


def inverse_chain_rule(net, grads, skeleton=None) -> PathArrays:
    r"""Inverse-Chain-Rule: ``dl/dv`` (0 at the sigma-edges, which are not coordinates) from
    the back-propagated ``grads``.

    Notes
    -----
    With :math:`F_e = w_e g_e` and :math:`u_j = v_j\, \partial l/\partial v_j` the chain rule
    reads :math:`F = A' u`. A non-sigma edge that is not a pi-edge lies in its own basis path
    only: :math:`\partial l/\partial v_e = g_e / (\rho_{in}(a) \rho_{out}(b))`. The pi-edge
    of ``b`` also lies on every basis path whose in-chain passes through ``b``:
    :math:`u = F_{\pi(b) \to b} - D(b)` with the backward sweep

    .. math:: D(b) = \textstyle\sum_{c} F_{b \to c} - F_{b \to \sigma(b)}
              + [\pi(\sigma(b)) = b]\, D(\sigma(b)).

    For the paper's skeleton: :math:`u_j = s_j g_{s_j} - \sum F` over the chain's non-skeleton
    out-edges. References: Meng et al., ICLR 2019, "Inverse-Chain-Rule".
    """
    sk = _checked(net, skeleton, grads=grads)
    W, G, D = net.weights, grads.weights, _chain_sweep(net.weights, grads.weights, sk)
    rin, rout = rho_in(net, sk), rho_out(net, sk)
    out = [g / _row(rin[l], g) / _col(rout[l + 1], g) for l, g in enumerate(G)]
    for l in range(1, net.L):  # the skeleton paths: pi-edges of layer l, not sigma-edges
        pi, nodes = sk.pi[l], np.arange(net.widths[l])
        p = nodes if l == 1 else nodes[sk.sigma[l - 1][pi] != nodes]
        u = W[l - 1][_at(W[l - 1], pi[p], p)] * G[l - 1][_at(W[l - 1], pi[p], p)] - D[l][p]
        out[l - 1][_at(W[l - 1], pi[p], p)] = u / (rin[l][p] * rout[l][p])
        out[l][_at(W[l], nodes, sk.sigma[l])] = 0.0  # sigma-edges: not coordinates
    ob = None if grads.biases is None else [g / rout[l + 1] for l, g in enumerate(grads.biases)]
    return PathArrays(out, ob)


def _chain_sweep(W, G, sk) -> list:
    """ICR's backward sweep: ``D[l][b]`` for every hidden node ``b`` of layer ``l``."""
    L, D = len(W), [None] * (len(W) + 1)
    for l in range(L - 1, 0, -1):
        nodes, sigma = np.arange(W[l].shape[0]), sk.sigma[l]
        flow_out = (W[l] * G[l]).reshape(len(nodes), -1).sum(axis=1)  # sum_c F_{b -> c}
        D[l] = flow_out - W[l][_at(W[l], nodes, sigma)] * G[l][_at(W[l], nodes, sigma)]
        if l < L - 1:
            D[l] += np.where(sk.pi[l + 1][sigma] == nodes, D[l + 1][sigma], 0.0)
    return D


def update_path_values(v: PathArrays, dl_dv: PathArrays, lr: float) -> PathArrays:
    r"""The G-space SGD step :math:`v' = v - \eta\, \partial l/\partial v` (sigma entries of
    ``dl_dv`` are 0, so they keep their value).

    Examples
    --------
    >>> v = PathArrays([np.array([[2.0, 4.0]])])
    >>> update_path_values(v, PathArrays([np.array([[1.0, -1.0]])]), lr=0.5).weights[0]
    array([[1.5, 4.5]])
    """
    lr = V.path_arrays_pair(v, dl_dv, "dl_dv", finite=True, lr=lr)
    vb = None if v.biases is None else [a - lr * d for a, d in zip(v.biases, dl_dv.biases)]
    return PathArrays([a - lr * d for a, d in zip(v.weights, dl_dv.weights)], vb)


def path_ratios(v: PathArrays, v_new: PathArrays) -> PathArrays:
    r"""Ratios :math:`R_j = v'_j / v_j` of the basis paths; ``nan`` where ``v`` is 0.

    Examples
    --------
    >>> path_ratios(PathArrays([np.array([[2.0, 4.0]])]),
    ...             PathArrays([np.array([[1.0, -4.0]])])).weights[0]
    array([[ 0.5, -1. ]])
    """
    V.path_arrays_pair(v, v_new, "v_new")
    pairs = list(zip(v.weights + (v.biases or []), v_new.weights + (v_new.biases or [])))
    out = [np.divide(b, a, out=np.full(np.shape(a), np.nan), where=a != 0) for a, b in pairs]
    L = len(v.weights)
    return PathArrays(out[:L], out[L:] if v.biases is not None else None)


def weight_allocation(net, R: PathArrays, v_new: PathArrays, skeleton=None):
    r"""Weight-Allocation: the network whose basis paths moved by the ratios ``R`` to the
    values ``v_new`` (W1; ``v_new`` read only where ``R`` is undefined: paths of value 0, e.g. a
    zero bias). The ``H`` sigma-edges keep their values (so :math:`\rho_{out}` too); a forward
    sweep sets :math:`w_e' = w_e R_e / r(a)`, :math:`r(a) = \rho_{in}'(a) / \rho_{in}(a)` from
    the new weights below, and :math:`b' = b R_b`: the unique solution of :math:`r \cdot [B, A']
    = (1_H, R)` (W2). A negative ratio flips the weight's sign.

    Examples
    --------
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]])
    >>> v = basis_path_values(net)
    >>> v_new = PathArrays([2 * v.weights[0], v.weights[1]])
    >>> new = weight_allocation(net, path_ratios(v, v_new), v_new)
    >>> new.weights[0].tolist(), new.weights[1].tolist()
    ([[4.0, 6.0]], [[4.0], [5.0]])
    """
    sk = _checked(net, skeleton, R=R, v_new=v_new)
    W, widths, rin, rout = net.weights, net.widths, rho_in(net, sk), rho_out(net, sk)
    r, new_w = np.ones(widths[0]), []
    for l, w in enumerate(W):
        at_zero = v_new.weights[l] / _row(rin[l], w) / _col(rout[l + 1], w)  # w R where v = 0
        new = np.where(np.isnan(R.weights[l]), at_zero, w * R.weights[l]) / _row(r, w)
        if l > 0:  # the free weights keep their values
            sigma = _at(w, np.arange(widths[l]), sk.sigma[l])
            new[sigma] = w[sigma]
        new_w.append(new)
        if l + 1 < net.L:  # r(b) = r(pi(b)) w'/w on b's pi-edge
            pi = _at(w, sk.pi[l + 1], np.arange(widths[l + 1]))
            r = r[sk.pi[l + 1]] * new[pi] / w[pi]
    new_b = None if net.biases is None else []
    for b, Rb, vb, ro in zip(net.biases or [], R.biases or [], v_new.biases or [], rout[1:]):
        new_b.append(np.where(np.isnan(Rb), vb / ro, b * Rb))  # b' = b R_b = v'_b / rho_out(b)
    return net.with_params(new_w, new_b)


def gsgd_step(net, grads, lr: float, skeleton=None):
    r"""One plain G-SGD step (no momentum, no weight decay), Algorithm 1's stages in order:
    ``v = v(w)``, ``dl/dv = ICR(g)``, ``v' = v - lr dl/dv``, ``R = v'/v``, ``w' = WA(R)``.

    Examples
    --------
    >>> net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    >>> _, g = net.loss_and_gradients(np.ones((8, 3)), np.zeros((8, 2)))
    >>> new = gsgd_step(net, g, lr=0.01)
    >>> bool(np.allclose(new.weights[2], gspace.GSGD(lr=0.01).step(net, g).weights[2]))
    True
    """
    sk = _checked(net, skeleton, grads=grads, lr=lr)
    v = basis_path_values(net, sk)
    dl_dv = inverse_chain_rule(net, grads, sk)
    v_new = update_path_values(v, dl_dv, lr)
    R = path_ratios(v, v_new)
    return weight_allocation(net, R, v_new, sk)
