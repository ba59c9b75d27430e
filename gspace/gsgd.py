r"""G-SGD (Algorithm 1): stochastic gradient descent in the space of basis-path values.

Paper-notes sections 6 and 7. Each stage of the paper's Algorithm 1 is a public pure function
working on per-layer arrays, so that it can be read and run on its own:

==========================  =================================================================
stage                       function
==========================  =================================================================
chain products              :func:`rho_in`, :func:`rho_out`
basis-path values           :func:`basis_path_values`  (``v_e = rho_in(a) w_e rho_out(b)``)
Inverse-Chain-Rule (ICR)    :func:`inverse_chain_rule` (``dl/dv`` from ``dl/dw``)
path-value update           :func:`update_path_values` (``v' = v - lr dl/dv``)
path ratios                 :func:`path_ratios`        (``R = v' / v``)
Weight-Allocation (WA)      :func:`weight_allocation`  (weights from ``v'``, sigma-edges fixed)
==========================  =================================================================

:class:`GSGD` chains them into one optimizer step, fused into a few passes over each weight
matrix (extra cost O(m) over back-propagation).

**Layout of basis-path arrays.** A basis path is named by its non-sigma edge
``e = (a -> b)`` (paper-notes claim B4): the path in-chain(a) + e + out-chain(b). Values and
gradients of basis paths are therefore stored in a :class:`PathArrays`, with the shapes of the
network: ``.weights[l][a, b]`` belongs to the basis path of the edge ``weights[l][a, b]`` and
``.biases[l][b]`` to the basis path of the bias of node ``b`` of layer ``l + 1`` (the bias is
an edge from a constant-1 node; its basis path is bias + out-chain(b)). Entries at sigma-edges
(``Skeleton.sigma_mask``) are not coordinates: see each function for what it stores there.
For equal hidden widths and the default skeleton this is exactly the paper's skeleton-method
basis; the skeleton path of chain ``j`` sits at the first-layer pi-edge of hidden node ``j``
of layer 1, ``.weights[0][j % d, j]``. :func:`gspace.explicit.flatten` turns a
:class:`PathArrays` into a vector in the basis order of :func:`gspace.basis.basis_paths`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP, Gradients
from .optim import Optimizer, _check_real, check_grads
from .skeleton import Skeleton

__all__ = [
    "PathArrays",
    "rho_in",
    "rho_out",
    "basis_path_values",
    "inverse_chain_rule",
    "update_path_values",
    "path_ratios",
    "weight_allocation",
    "GSGD",
]


@dataclass(frozen=True)
class PathArrays:
    """Per-basis-path numbers (values, gradients, ratios) laid out like a network.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` of shape ``(h_l, h_{l+1})``; entry ``[a, b]`` belongs to the basis path
        of the edge from node ``a`` of layer ``l`` to node ``b`` of layer ``l + 1``.
        Meaningful on the non-sigma entries only.
    biases : list of ndarray or None
        ``biases[l]`` of shape ``(h_{l+1},)``: the basis path of the bias of node ``b`` of
        layer ``l + 1``; None for a bias-free network.
    """

    weights: list
    biases: list | None = None


# ----------------------------------------------------------------------------- skeleton index
@dataclass(frozen=True)
class _Index:
    """Integer index arrays of a skeleton, precomputed once (all O(H))."""

    widths: tuple
    pi: list  # pi[l] (h_l,) for hidden l, else None
    sigma: list  # sigma[l] (h_l,) for hidden l, else None
    pure: list  # pure[l] (h_l,) bool for hidden l: pi-edge of the node is not a sigma-edge
    cont: list  # cont[l] (h_l,) bool for hidden l < L-1: pi(sigma(b)) == b
    arange: list  # arange[l] = np.arange(h_l)


def _make_index(skeleton: Skeleton) -> _Index:
    widths = tuple(skeleton.widths)
    L = len(widths) - 1
    pi = [None] * (L + 1)
    sigma = [None] * (L + 1)
    pure = [None] * (L + 1)
    cont = [None] * (L + 1)
    ar = [np.arange(h) for h in widths]
    for l in range(1, L):
        pi[l] = np.asarray(skeleton.pi[l], dtype=np.intp)
        sigma[l] = np.asarray(skeleton.sigma[l], dtype=np.intp)
    for l in range(1, L):
        if l == 1:
            pure[l] = np.ones(widths[l], dtype=bool)  # inputs have no sigma-edges
        else:
            pure[l] = sigma[l - 1][pi[l]] != ar[l]
        if l < L - 1:
            cont[l] = pi[l + 1][sigma[l]] == ar[l]
    return _Index(widths, pi, sigma, pure, cont, ar)


def _resolve_skeleton(widths: list, skeleton) -> Skeleton:
    if skeleton is None:
        return Skeleton.default(widths)
    if not isinstance(skeleton, Skeleton):
        raise TypeError(
            f"skeleton must be a gspace.Skeleton or None (default skeleton), got "
            f"{type(skeleton).__name__}"
        )
    if list(skeleton.widths) != list(widths):
        raise ValueError(
            f"skeleton was built for widths {list(skeleton.widths)} but the network has widths "
            f"{list(widths)}"
        )
    return skeleton


def _check_net(net) -> None:
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")


def _check_skeleton_weights(weights: list, idx: _Index) -> None:
    """Raise ValueError naming the first zero skeleton weight (pi- or sigma-edge)."""
    L = len(weights)
    for l in range(1, L):
        w_pi = weights[l - 1][idx.pi[l], idx.arange[l]]
        if not np.all(w_pi):
            j = int(np.flatnonzero(w_pi == 0)[0])
            i = int(idx.pi[l][j])
            raise ValueError(
                f"skeleton weight weights[{l - 1}][{i}, {j}] (the pi-edge into node {j} of "
                f"layer {l}) is 0: every basis path through it has value 0, so dl/dv = u / v "
                f"is undefined. G-SGD needs nonzero skeleton weights: re-initialise them "
                f"(e.g. skeleton weights set to 1) or choose another skeleton."
            )
        w_sigma = weights[l][idx.arange[l], idx.sigma[l]]
        if not np.all(w_sigma):
            i = int(np.flatnonzero(w_sigma == 0)[0])
            j = int(idx.sigma[l][i])
            raise ValueError(
                f"skeleton weight weights[{l}][{i}, {j}] (the sigma-edge out of node {i} of "
                f"layer {l}) is 0: every basis path through it has value 0, so dl/dv = u / v "
                f"is undefined. G-SGD needs nonzero skeleton weights: re-initialise them "
                f"(e.g. skeleton weights set to 1) or choose another skeleton."
            )


def _check_path_arrays(pa, net: MLP, name: str) -> PathArrays:
    if not isinstance(pa, PathArrays):
        raise TypeError(f"{name} must be a gspace.gsgd.PathArrays, got {type(pa).__name__}")
    if len(pa.weights) != net.L:
        raise ValueError(f"{name} has {len(pa.weights)} weight layers, the network has {net.L}")
    for l, (a, w) in enumerate(zip(pa.weights, net.weights)):
        if np.shape(a) != w.shape:
            raise ValueError(f"{name}.weights[{l}] has shape {np.shape(a)}, expected {w.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}.weights[{l}] contains non-finite values")
    if (pa.biases is None) != (net.biases is None):
        raise ValueError(
            f"{name} {'has no' if pa.biases is None else 'has'} biases but the network "
            f"{'has' if net.biases is not None else 'has no'} biases"
        )
    if pa.biases is not None:
        for l, (a, b) in enumerate(zip(pa.biases, net.biases)):
            if np.shape(a) != b.shape:
                raise ValueError(f"{name}.biases[{l}] has shape {np.shape(a)}, expected {b.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name}.biases[{l}] contains non-finite values")
    return pa


def _as_arrays(grads) -> Gradients:
    """The same gradients with float64 arrays (no copy when they already are)."""
    gb = getattr(grads, "biases", None)
    return Gradients(
        weights=[np.asarray(g, dtype=np.float64) for g in grads.weights],
        biases=None if gb is None else [np.asarray(g, dtype=np.float64) for g in gb],
        hidden_flow=getattr(grads, "hidden_flow", None),
    )


def _check_lr(lr) -> float:
    lr = _check_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr (learning rate) must be > 0, got {lr}")
    return lr


# ----------------------------------------------------------------------------- kernels
def _rho_in(weights: list, idx: _Index) -> list:
    L = len(weights)
    rho = [None] * (L + 1)
    rho[0] = np.ones(idx.widths[0])
    for l in range(1, L):
        pi = idx.pi[l]
        rho[l] = rho[l - 1][pi] * weights[l - 1][pi, idx.arange[l]]
    return rho


def _rho_out(weights: list, idx: _Index) -> list:
    L = len(weights)
    rho = [None] * (L + 1)
    rho[L] = np.ones(idx.widths[L])
    for l in range(L - 1, 0, -1):
        sigma = idx.sigma[l]
        rho[l] = weights[l][idx.arange[l], sigma] * rho[l + 1][sigma]
    return rho


def _check_rho(rin: list, rout: list) -> None:
    """Chain products must be finite and nonzero (they can under/overflow in deep nets)."""
    for name, rho in (("rho_in", rin), ("rho_out", rout)):
        for l, r in enumerate(rho):
            if r is None:
                continue
            bad = ~np.isfinite(r) | (r == 0)
            if np.any(bad):
                j = int(np.flatnonzero(bad)[0])
                raise FloatingPointError(
                    f"{name} of node {j} of layer {l} is {r[j]}: the product of the skeleton "
                    f"weights along its chain left the float64 range. Rescale the network "
                    f"with gspace.normalize_skeleton_out_weights (same function, sigma-weights "
                    f"+-1) or start from gspace.skeleton_unit."
                )


def _out_flows(weights: list, grads: Gradients, idx: _Index) -> list:
    """``flow[l][a]`` = sum over the out-edges of hidden node ``a`` of ``w * dl/dw``.

    Taken from ``grads.hidden_flow`` (O(batch h) by-product of back-propagation) when present,
    else summed over the out-edges (one pass over ``weights[l]``).
    """
    L = len(weights)
    flow = [None] * (L + 1)
    hf = getattr(grads, "hidden_flow", None)
    if hf is not None:
        if len(hf) != L - 1:
            raise ValueError(f"grads.hidden_flow has {len(hf)} entries, expected L - 1 = {L - 1}")
        for l in range(1, L):
            f = np.asarray(hf[l - 1], dtype=np.float64)
            if f.shape != (idx.widths[l],):
                raise ValueError(
                    f"grads.hidden_flow[{l - 1}] has shape {f.shape}, expected ({idx.widths[l]},)"
                )
            if not np.all(np.isfinite(f)):
                raise ValueError(f"grads.hidden_flow[{l - 1}] contains non-finite values")
            flow[l] = f
    else:
        for l in range(1, L):
            flow[l] = np.einsum("ij,ij->i", weights[l], grads.weights[l])
    return flow


def _chain_flow(weights: list, gw: list, flow: list, idx: _Index) -> list:
    """Backward sweep of ICR: ``D[l][b]`` = sum of ``u`` over the basis paths whose in-chain
    passes through node ``b`` of hidden layer ``l``.

    ``D(b) = flow_out(b) - F(b -> sigma(b)) + [pi(sigma(b)) = b] D(sigma(b))``.
    """
    L = len(weights)
    D = [None] * (L + 1)
    for l in range(L - 1, 0, -1):
        rows, sigma = idx.arange[l], idx.sigma[l]
        Dl = flow[l] - weights[l][rows, sigma] * gw[l][rows, sigma]
        if l < L - 1:
            Dl += np.where(idx.cont[l], D[l + 1][sigma], 0.0)
        D[l] = Dl
    return D


def _skeleton_path_grads(weights: list, gw: list, D: list, rin: list, rout: list, idx: _Index):
    """``dl/dv`` and ``v`` of the skeleton paths (pure pi-edges) for each hidden layer.

    Returns lists indexed by hidden layer ``l``: ``dv[l]``, ``v[l]`` of shape ``(h_l,)``;
    entries of nodes whose pi-edge is a sigma-edge are not used.
    """
    L = len(weights)
    dv = [None] * (L + 1)
    vs = [None] * (L + 1)
    for l in range(1, L):
        pi, cols = idx.pi[l], idx.arange[l]
        F_pi = weights[l - 1][pi, cols] * gw[l - 1][pi, cols]
        with np.errstate(over="ignore", under="ignore"):  # checked just below
            vs[l] = rin[l] * rout[l]  # v of the pi-edge path = rho_in(b) rho_out(b)
        bad = ~np.isfinite(vs[l]) | (vs[l] == 0)
        if np.any(bad):
            j = int(np.flatnonzero(bad)[0])
            raise FloatingPointError(
                f"the skeleton path through node {j} of layer {l} has value rho_in * rho_out "
                f"= {rin[l][j]:.3g} * {rout[l][j]:.3g}, outside the float64 range, so "
                f"dl/dv = u / v is undefined. A path value is the same in every rescaling "
                f"of the network; start from another initialisation (e.g. gspace.skeleton_unit)."
            )
        dv[l] = (F_pi - D[l]) / vs[l]
    return dv, vs


def _icr_arrays(net: MLP, grads: Gradients, idx: _Index, rin: list, rout: list) -> PathArrays:
    W, G = net.weights, grads.weights
    L = net.L
    flow = _out_flows(W, grads, idx)
    D = _chain_flow(W, G, flow, idx)
    dv_pi, _ = _skeleton_path_grads(W, G, D, rin, rout, idx)
    out = []
    for l in range(L):
        d = np.multiply(G[l], (1.0 / rin[l])[:, None])  # dl/dv = g / (rho_in(a) rho_out(b))
        d *= (1.0 / rout[l + 1])[None, :]
        if 1 <= l + 1 <= L - 1:  # pi-edges into hidden layer l + 1: u = F - D
            pure = idx.pure[l + 1]
            d[idx.pi[l + 1][pure], idx.arange[l + 1][pure]] = dv_pi[l + 1][pure]
        if 1 <= l <= L - 1:  # sigma-edges are not coordinates
            d[idx.arange[l], idx.sigma[l]] = 0.0
        out.append(d)
    bout = None
    if net.biases is not None:
        bout = [np.asarray(gb, dtype=np.float64) / rout[l + 1] for l, gb in enumerate(grads.biases)]
    return PathArrays(out, bout)


def _scale_rows_cols(G: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Fresh array ``G * row[:, None] * col[None, :]``; constant factors become scalars."""
    row_c = bool(np.all(row == row[0]))
    col_c = bool(np.all(col == col[0]))
    if col_c:
        return np.multiply(G, row[0] * col[0] if row_c else (row * col[0])[:, None])
    out = np.multiply(G, (col * row[0] if row_c else col)[None, :])
    if not row_c:
        out *= row[:, None]
    return out


# ----------------------------------------------------------------------------- public stages
def rho_in(net: MLP, skeleton: Skeleton | None = None) -> list:
    r"""Products of the weights along the in-chains (follow pi down to an input).

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton, optional
        Defaults to ``Skeleton.default(net.widths)`` (the paper's skeleton for equal hidden
        widths).

    Returns
    -------
    list of length L + 1
        ``rho[l]`` of shape ``(h_l,)`` for ``l = 0..L-1`` (``rho[0]`` is all ones);
        ``rho[L]`` is None (output nodes have no in-parent).

    Raises
    ------
    TypeError
        If ``net`` is not an MLP or ``skeleton`` not a Skeleton.
    ValueError
        If the skeleton does not fit the network's widths.

    Notes
    -----
    :math:`\rho_{in}(n) = \rho_{in}(\pi(n))\, w_{\pi(n) \to n}`, :math:`\rho_{in} = 1` at the
    inputs. One gather per layer, O(H).

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Skeleton method".

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[5.0, 1.0], [1.0, 7.0]], [[1.0], [1.0]]])
    >>> [r.tolist() for r in rho_in(net)[:3]]
    [[1.0], [2.0, 3.0], [10.0, 21.0]]
    """
    _check_net(net)
    idx = _make_index(_resolve_skeleton(net.widths, skeleton))
    return _rho_in(net.weights, idx)


def rho_out(net: MLP, skeleton: Skeleton | None = None) -> list:
    r"""Products of the weights along the out-chains (follow sigma up to an output).

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton, optional
        Defaults to ``Skeleton.default(net.widths)``.

    Returns
    -------
    list of length L + 1
        ``rho[l]`` of shape ``(h_l,)`` for ``l = 1..L`` (``rho[L]`` is all ones);
        ``rho[0]`` is None (inputs have no out-child).

    Raises
    ------
    TypeError, ValueError
        As :func:`rho_in`.

    Notes
    -----
    :math:`\rho_{out}(n) = w_{n \to \sigma(n)}\, \rho_{out}(\sigma(n))`, :math:`\rho_{out} = 1`
    at the outputs.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Skeleton method".

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[5.0, 1.0], [1.0, 7.0]], [[1.0], [4.0]]])
    >>> [r.tolist() for r in rho_out(net)[1:]]
    [[5.0, 28.0], [1.0, 4.0], [1.0]]
    """
    _check_net(net)
    idx = _make_index(_resolve_skeleton(net.widths, skeleton))
    return _rho_out(net.weights, idx)


def basis_path_values(net: MLP, skeleton: Skeleton | None = None) -> PathArrays:
    r"""Values of the basis paths: the network's coordinates in G-space.

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton, optional
        Defaults to ``Skeleton.default(net.widths)``.

    Returns
    -------
    PathArrays
        ``v.weights[l][a, b] = rho_in(a) * weights[l][a, b] * rho_out(b)`` and
        ``v.biases[l][b] = biases[l][b] * rho_out(b)``. At a sigma-edge ``a -> sigma(a)`` the
        same formula gives the value of the all-skeleton path through ``a``, which is not a
        basis path (it is a product of basis-path values, claim B3).

    Raises
    ------
    TypeError, ValueError
        As :func:`rho_in`.

    Notes
    -----
    For a non-sigma edge :math:`e = (a \to b)` the basis path is in-chain(a) + e + out-chain(b)
    and :math:`v_e = \rho_{in}(a)\, w_e\, \rho_{out}(b)` (paper-notes claim B4). The values are
    invariant under the positive scaling group (claim G3).

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Skeleton method" and "Algorithm 1".

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]])
    >>> v = basis_path_values(net)
    >>> v.weights[0].tolist(), v.weights[1].tolist()
    ([[8.0, 15.0]], [[8.0], [15.0]])
    """
    _check_net(net)
    idx = _make_index(_resolve_skeleton(net.widths, skeleton))
    rin, rout = _rho_in(net.weights, idx), _rho_out(net.weights, idx)
    vs = []
    for l, w in enumerate(net.weights):
        v = np.multiply(w, rin[l][:, None])
        v *= rout[l + 1][None, :]
        vs.append(v)
    vb = None
    if net.biases is not None:
        vb = [b * rout[l + 1] for l, b in enumerate(net.biases)]
    return PathArrays(vs, vb)


def inverse_chain_rule(net: MLP, grads: Gradients, skeleton: Skeleton | None = None) -> PathArrays:
    r"""Inverse-Chain-Rule: the gradient of the loss with respect to the basis-path values.

    Parameters
    ----------
    net : MLP
    grads : Gradients
        ``dl/dw`` from back-propagation. If ``grads.hidden_flow`` is present (as from
        :meth:`MLP.loss_and_gradients`), the per-node sums of ``w * dl/dw`` are read from it
        instead of summed over the weights; it is trusted, so drop it
        (``dataclasses.replace(grads, hidden_flow=None)``) after changing ``grads.weights``.
    skeleton : Skeleton, optional
        Defaults to ``Skeleton.default(net.widths)``.

    Returns
    -------
    PathArrays
        ``dl/dv``; 0 at the sigma-edges (they are not coordinates).

    Raises
    ------
    TypeError
        If ``net``, ``grads`` or ``skeleton`` has the wrong type.
    ValueError
        If ``grads`` does not match the network or is non-finite, or a skeleton weight is 0.
    FloatingPointError
        If a chain product, a skeleton-path value or an entry of ``dl/dv`` is outside the
        float64 range (very deep networks far from a skeleton-unit start).

    Notes
    -----
    With :math:`F_e = w_e\, \partial l / \partial w_e` and :math:`u_j = v_j\, \partial l /
    \partial v_j`, the chain rule reads :math:`F = A' u` (:math:`A'` = basis columns of the
    structure matrix). Each edge lies in its own basis path and, if it is a pi-edge, in every
    basis path whose in-chain passes through it; sigma-edges are not coordinates. Hence

    * every non-sigma edge that is not a pi-edge (and every bias):
      :math:`\partial l/\partial v_e = g_e / (\rho_{in}(a)\, \rho_{out}(b))`;
    * the pi-edge of node :math:`b` (if it is not a sigma-edge):
      :math:`u = F_{\pi(b) \to b} - D(b)`, :math:`\partial l/\partial v = u / (\rho_{in}(b)
      \rho_{out}(b))`, where :math:`D(b)` sums :math:`u` over the basis paths whose in-chain
      passes through :math:`b`. One backward sweep computes it:
      :math:`D(b) = \sum_{c} F_{b \to c} - F_{b \to \sigma(b)} + [\pi(\sigma(b)) = b]\,
      D(\sigma(b))`.

    The sum of :math:`F` over the out-edges of a hidden node is ``grads.hidden_flow`` (balance
    identity, claim I2), so the whole ICR costs O(H) beyond one pass that scales ``g``.
    For the paper's skeleton this is its formula: the skeleton path of chain ``j`` gets
    :math:`u_j = s_j g_{s_j} - \sum F` over the non-skeleton out-edges of the chain.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Inverse-Chain-Rule" and "Algorithm 1".

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> _, grads = net.loss_and_gradients(np.ones((5, 3)), np.zeros((5, 2)))
    >>> dv = inverse_chain_rule(net, grads)
    >>> [d.shape for d in dv.weights]
    [(3, 4), (4, 2)]
    """
    _check_net(net)
    check_grads(net, grads)
    grads = _as_arrays(grads)
    idx = _make_index(_resolve_skeleton(net.widths, skeleton))
    _check_skeleton_weights(net.weights, idx)
    with np.errstate(over="ignore", under="ignore"):  # checked just below
        rin, rout = _rho_in(net.weights, idx), _rho_out(net.weights, idx)
    _check_rho(rin, rout)
    with np.errstate(over="ignore"):  # checked just below
        dv = _icr_arrays(net, grads, idx, rin, rout)
    for name, arrs in (("weights", dv.weights), ("biases", dv.biases or [])):
        for l, d in enumerate(arrs):
            if not np.all(np.isfinite(d)):
                raise FloatingPointError(
                    f"dl/dv.{name}[{l}] is not finite: g / (rho_in(a) rho_out(b)) left the "
                    f"float64 range"
                )
    return dv


def update_path_values(v: PathArrays, dl_dv: PathArrays, lr: float) -> PathArrays:
    r"""The G-space SGD step on the basis-path values: ``v' = v - lr * dl/dv``.

    Parameters
    ----------
    v, dl_dv : PathArrays
        Same layout (from :func:`basis_path_values` and :func:`inverse_chain_rule`).
    lr : float
        Learning rate, > 0.

    Returns
    -------
    PathArrays
        New arrays; at the sigma-edges ``dl_dv`` is 0, so those entries keep their value.

    Raises
    ------
    TypeError, ValueError
        If the layouts differ, an entry is non-finite or ``lr`` is not a positive number.

    Notes
    -----
    :math:`v^{t+1} = v^t - \eta\, \partial l / \partial v`.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, section "Algorithm 1".

    Examples
    --------
    >>> v = PathArrays([np.array([[2.0, 4.0]])])
    >>> update_path_values(v, PathArrays([np.array([[1.0, -1.0]])]), lr=0.5).weights[0]
    array([[1.5, 4.5]])
    """
    lr = _check_lr(lr)
    for name, pa in (("v", v), ("dl_dv", dl_dv)):
        if not isinstance(pa, PathArrays):
            raise TypeError(f"{name} must be a PathArrays, got {type(pa).__name__}")
    if len(v.weights) != len(dl_dv.weights) or (v.biases is None) != (dl_dv.biases is None):
        raise ValueError("v and dl_dv must have the same layout (layers and biases)")
    out_w, out_b = [], None
    for l, (a, d) in enumerate(zip(v.weights, dl_dv.weights)):
        a, d = np.asarray(a, dtype=np.float64), np.asarray(d, dtype=np.float64)
        if a.shape != d.shape:
            raise ValueError(f"v.weights[{l}] has shape {a.shape}, dl_dv {d.shape}")
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(d))):
            raise ValueError(f"v.weights[{l}] or dl_dv.weights[{l}] contains non-finite values")
        out_w.append(a - lr * d)
    if v.biases is not None:
        out_b = []
        for l, (a, d) in enumerate(zip(v.biases, dl_dv.biases)):
            a, d = np.asarray(a, dtype=np.float64), np.asarray(d, dtype=np.float64)
            if a.shape != d.shape:
                raise ValueError(f"v.biases[{l}] has shape {a.shape}, dl_dv {d.shape}")
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(d))):
                raise ValueError(f"v.biases[{l}] or dl_dv.biases[{l}] contains non-finite values")
            out_b.append(a - lr * d)
    return PathArrays(out_w, out_b)


def path_ratios(v: PathArrays, v_new: PathArrays) -> PathArrays:
    r"""Ratios ``R = v_new / v`` of the updated to the old basis-path values.

    Parameters
    ----------
    v, v_new : PathArrays
        Same layout.

    Returns
    -------
    PathArrays
        ``R``. A negative ratio means the update flips the sign of that basis path (allowed:
        Weight-Allocation flips the sign of a weight). Where ``v`` is 0 (a zero weight on the
        path, e.g. a bias initialised to 0) the ratio is undefined and the entry is ``nan``,
        by design: Weight-Allocation works from ``v_new`` and only needs the ratios of the
        skeleton paths, which are nonzero whenever the skeleton weights are.

    Raises
    ------
    TypeError
        If an argument is not a PathArrays.
    ValueError
        If the layouts differ.

    Notes
    -----
    :math:`R_j = v_j^{t+1} / v_j^t`. Weight-Allocation only needs the ratios of the skeleton
    paths: with the sigma-edges fixed, :math:`\rho_{in}'(b) = R_b\, \rho_{in}(b)`, where
    :math:`R_b` is the ratio of the basis path of the pi-edge of :math:`b` (or of its
    in-parent's, when that pi-edge is a sigma-edge).

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Weight-Allocation" and "Algorithm 1".

    Examples
    --------
    >>> path_ratios(PathArrays([np.array([[2.0, 4.0]])]),
    ...             PathArrays([np.array([[1.0, -4.0]])])).weights[0]
    array([[ 0.5, -1. ]])
    """
    for name, pa in (("v", v), ("v_new", v_new)):
        if not isinstance(pa, PathArrays):
            raise TypeError(f"{name} must be a PathArrays, got {type(pa).__name__}")
    if len(v.weights) != len(v_new.weights) or (v.biases is None) != (v_new.biases is None):
        raise ValueError("v and v_new must have the same layout (layers and biases)")
    pairs = [(f"weights[{l}]", a, b) for l, (a, b) in enumerate(zip(v.weights, v_new.weights))]
    if v.biases is not None:
        pairs += [(f"biases[{l}]", a, b) for l, (a, b) in enumerate(zip(v.biases, v_new.biases))]
    out = []
    for name, a, b in pairs:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"v.{name} has shape {a.shape}, v_new.{name} {b.shape}")
        r = np.full(a.shape, np.nan)
        np.divide(b, a, out=r, where=a != 0)
        out.append(r)
    L = len(v.weights)
    return PathArrays(out[:L], out[L:] if v.biases is not None else None)


def weight_allocation(net: MLP, v_new: PathArrays, skeleton: Skeleton | None = None) -> MLP:
    r"""Weight-Allocation: the weights whose basis-path values are ``v_new``.

    The ``H`` sigma-edges (the free weights, one out of every hidden node) keep their values;
    every other weight is then fixed by one forward sweep.

    Parameters
    ----------
    net : MLP
        The network before the update (its sigma-edges are kept).
    v_new : PathArrays
        New basis-path values, e.g. from :func:`update_path_values`; sigma entries ignored.
    skeleton : Skeleton, optional
        Defaults to ``Skeleton.default(net.widths)``.

    Returns
    -------
    MLP
        A new network whose basis-path values are ``v_new`` (claim W1).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``v_new`` does not fit the network or is non-finite, a skeleton weight of ``net`` is
        0, or a new skeleton-path value is 0 (no weights have a zero chain product and give the
        later, nonzero basis-path values).
    FloatingPointError
        If a chain product ``rho_out`` of ``net`` is outside the float64 range or the new
        weights overflow.

    Notes
    -----
    With the sigma-edges fixed, :math:`\rho_{out}` does not change. For each layer in turn, for
    every non-sigma edge :math:`e = (a \to b)`,

    .. math:: w_e' = v_e' / (\rho_{in}'(a)\, \rho_{out}(b)),

    with :math:`\rho_{in}'` recomputed from the new weights of the layers below, and
    :math:`b' = v'_{bias} / \rho_{out}(b)` for a bias. This is the unique solution of
    :math:`r \cdot [B, A'] = (1_H, R)` (claim W2). A negative ratio :math:`R` flips the sign of
    the weight it is allocated to.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Weight-Allocation" and "Algorithm 1".

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]])
    >>> v = basis_path_values(net)
    >>> new = weight_allocation(net, PathArrays([2 * v.weights[0], v.weights[1]]))
    >>> new.weights[0].tolist(), new.weights[1].tolist()
    ([[4.0, 6.0]], [[4.0], [5.0]])
    """
    _check_net(net)
    _check_path_arrays(v_new, net, "v_new")
    idx = _make_index(_resolve_skeleton(net.widths, skeleton))
    W = net.weights
    L = net.L
    _check_skeleton_weights(W, idx)
    with np.errstate(over="ignore", under="ignore"):  # checked just below
        rout = _rho_out(W, idx)
    _check_rho([], rout)
    rin_new = np.ones(idx.widths[0])
    new_w = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
        for l in range(L):
            w = np.divide(np.asarray(v_new.weights[l], dtype=np.float64), rin_new[:, None])
            w /= rout[l + 1][None, :]
            if 1 <= l <= L - 1:  # the free weights keep their values
                rows, sigma = idx.arange[l], idx.sigma[l]
                w[rows, sigma] = W[l][rows, sigma]
            new_w.append(w)
            if l + 1 <= L - 1:
                pi, cols = idx.pi[l + 1], idx.arange[l + 1]
                rin_new = rin_new[pi] * w[pi, cols]
                if not np.all(rin_new):
                    j = int(np.flatnonzero(rin_new == 0)[0])
                    raise ValueError(
                        f"the new in-chain product of node {j} of layer {l + 1} is 0 (its "
                        f"skeleton path got value 0): Weight-Allocation cannot give later "
                        f"basis paths nonzero values through a zero chain"
                    )
        new_b = None
        if net.biases is not None:
            new_b = [
                np.asarray(vb, dtype=np.float64) / rout[l + 1] for l, vb in enumerate(v_new.biases)
            ]
    for l, w in enumerate(new_w):
        if not np.all(np.isfinite(w)):
            raise FloatingPointError(f"Weight-Allocation produced non-finite weights in layer {l}")
    for l, b in enumerate(new_b or []):
        if not np.all(np.isfinite(b)):
            raise FloatingPointError(f"Weight-Allocation produced non-finite biases in layer {l}")
    return MLP._wrap(new_w, new_b)


# ----------------------------------------------------------------------------- the optimizer
class GSGD(Optimizer):
    r"""G-SGD: SGD on the basis-path values, with O(m) extra work per step (Algorithm 1).

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`, read at every step.
    momentum : float, default 0
        :math:`\mu \in [0, 1)`, applied to :math:`\partial l / \partial v` (torch convention,
        as in :class:`gspace.SGD`).
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: an L2 penalty :math:`\frac{\lambda}{2} \sum_j v_j^2` on the
        non-skeleton basis-path values (biases' paths included), as in the authors' code.
        The skeleton paths (those made of pi- and sigma-edges only) are not decayed.
    skeleton : Skeleton, optional
        In-parents pi and out-children sigma of the hidden nodes; default
        ``Skeleton.default(net.widths)`` of each network stepped, which for equal hidden widths
        is the paper's skeleton method and otherwise the general construction (claim B4).

    Attributes
    ----------
    state : dict
        ``"momentum_buffer"``: ``(list like weights, list like biases or None)`` in G-space.

    Notes
    -----
    One step, given the back-propagated :math:`g = \partial l / \partial w`
    (:math:`\rho_{in}, \rho_{out}` are the chain products of :func:`rho_in`, :func:`rho_out`):

    .. math::

        \begin{aligned}
        &\textbf{Algorithm 1 (G-SGD), one mini-batch} \\
        &\quad \text{forward and back-propagation: } g = \partial l/\partial w,\;
              F_e = w_e g_e \\
        &\quad \text{ICR: } \partial l/\partial v_e = g_e / (\rho_{in}(a)\rho_{out}(b))
              \text{ for a non-skeleton edge } e = (a \to b) \\
        &\quad \phantom{\text{ICR: }} \partial l/\partial v_{b} =
              \big(F_{\pi(b)\to b} - D(b)\big) / \big(\rho_{in}(b)\rho_{out}(b)\big)
              \text{ for a skeleton path (pi-edge of } b) \\
        &\quad \text{weight decay and momentum: }
              d = \partial l/\partial v + \lambda v_{\text{non-skeleton}},\;
              b_t = \mu b_{t-1} + d \\
        &\quad \text{update: } v' = v - \eta\, b_t \\
        &\quad \text{ratios: } R = v'/v
              \text{ (only the skeleton paths' are needed)} \\
        &\quad \text{WA: } w_\sigma' = w_\sigma,\;
              w_e' = v_e' / (\rho_{in}'(a)\rho_{out}(b)) \text{ layer by layer} \\
        &\quad \text{return } w'
        \end{aligned}

    ``D(b)`` is the backward sweep of :func:`inverse_chain_rule`. Fused, a non-skeleton weight
    becomes :math:`w' = (w - \eta\, g / (\rho_{in}(a)\rho_{out}(b))^2) / r_a` with the node
    ratio :math:`r_a = \rho_{in}'(a)/\rho_{in}(a)` (the paper's
    :math:`(w - \eta g / (P_a S_b)^2) / R_a`), a pi-edge
    :math:`w' = w\, r_b / r_{\pi(b)}`, a sigma-edge is unchanged. All sums over nodes come from
    ``grads.hidden_flow``, so the extra work is a few row and column scalings per layer.

    **Numerical safety.** A skeleton weight 0 makes a skeleton-path value 0 and the step
    undefined: ``ValueError`` naming the weight, nothing changed. A ratio :math:`R < 0` of a
    skeleton path is allowed: the mathematics asks for it, Weight-Allocation flips the sign of
    the pi-edge. :math:`R = 0` cannot be allocated: ``FloatingPointError``. :math:`R` near 0 is
    not clipped: the weights after that node grow like :math:`1/R` while every basis-path value
    is exactly the requested one; if any weight overflows, ``FloatingPointError``. A chain
    product :math:`\rho` or a skeleton-path value outside the float64 range (deep networks
    far from a skeleton-unit start): ``FloatingPointError`` naming the node. On any error the
    optimizer state is unchanged. Zero non-skeleton weights are harmless.

    **Initialisation matters.** From He initialisation the skeleton-path values are products
    of ``L`` small weights and :math:`\partial l/\partial v = u / v` makes their steps huge;
    start from :func:`gspace.skeleton_unit` (skeleton weights set to 1, as the authors' code
    does). Measured on a 20-hidden-layer network of width 8 (8-8x20-3, 64 Gaussian samples,
    3 classes, cross-entropy, 100 full-batch steps, seed 0): from He initialisation the
    smallest basis-path value is 4e-17, the output is constant for every optimizer (loss
    stays at log 3 = 1.099) and G-SGD's weights grow to 3e22 without overflowing; from
    ``skeleton_unit`` the initial loss is 947 (the forward signal grows with depth) and G-SGD
    at ``lr = 0.01`` brings it to 1.52 (SGD at the same rate ends at 1.099 with weights up to
    2e10). Making the sigma-weights 1 by a G transformation instead
    (:func:`gspace.normalize_skeleton_out_weights`) does not help: by claim A2 the trajectory
    is the same.

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Skeleton method", "Inverse-Chain-Rule",
       "Weight-Allocation" and "Algorithm 1".

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    >>> X, Y = np.random.default_rng(1).normal(size=(8, 3)), np.zeros((8, 2))
    >>> loss, grads = net.loss_and_gradients(X, Y)
    >>> opt = gspace.GSGD(lr=0.01)
    >>> new = opt.step(net, grads)
    >>> v = gspace.gsgd.basis_path_values(net)
    >>> dv = gspace.gsgd.inverse_chain_rule(net, grads)
    >>> v_new = gspace.gsgd.basis_path_values(new)
    >>> bool(np.allclose(v_new.weights[0], v.weights[0] - 0.01 * dv.weights[0]))
    True
    """

    name = "GSGD"

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        skeleton: Skeleton | None = None,
    ):
        super().__init__(lr, momentum=momentum, weight_decay=weight_decay)
        if skeleton is not None and not isinstance(skeleton, Skeleton):
            raise TypeError(
                f"skeleton must be a gspace.Skeleton or None (default skeleton), got "
                f"{type(skeleton).__name__}"
            )
        self.skeleton = skeleton
        self._index_cache: tuple | None = None

    def _index_for(self, widths: list) -> _Index:
        # keyed on the widths and on the skeleton object itself, so that assigning
        # opt.skeleton between steps takes effect
        key = tuple(widths)
        cache = self._index_cache
        if cache is not None and cache[0] == key and cache[1] is self.skeleton:
            return cache[2]
        idx = _make_index(_resolve_skeleton(widths, self.skeleton))
        self._index_cache = (key, self.skeleton, idx)
        return idx

    def step(self, net: MLP, grads: Gradients) -> MLP:
        """Return the network after one G-SGD step; ``net`` and ``grads`` are not modified.

        Parameters
        ----------
        net : MLP
        grads : Gradients
            ``dl/dw`` for ``net`` (with ``hidden_flow`` if available). ``hidden_flow`` is
            trusted to equal the per-node sums of ``w * dl/dw``: after changing
            ``grads.weights`` (clipping, noise) drop it with
            ``dataclasses.replace(grads, hidden_flow=None)``.

        Returns
        -------
        MLP

        Raises
        ------
        TypeError, ValueError
            Bad ``net``/``grads``, a skeleton that does not fit, a zero skeleton weight.
        FloatingPointError
            If a chain product or skeleton-path value of ``net`` is outside the float64 range,
            or the step would give a zero skeleton-path value or non-finite weights; the
            optimizer state is then unchanged.
        """
        check_grads(net, grads)
        grads = _as_arrays(grads)
        idx = self._index_for(net.widths)
        W = net.weights
        _check_skeleton_weights(W, idx)
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        with np.errstate(over="ignore", under="ignore"):  # checked just below
            rin, rout = _rho_in(W, idx), _rho_out(W, idx)
        _check_rho(rin, rout)
        has_b = net.biases is not None

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
            if mu == 0.0 and wd == 0.0:
                new_w, new_b = self._fast_step(net, grads, idx, rin, rout, lr)
                new_buf = None
            else:
                new_w, new_b, new_buf = self._general_step(net, grads, idx, rin, rout, lr, mu, wd)
        new_net = MLP._wrap(new_w, new_b if has_b else None)
        self._check_finite_result(new_net)
        if new_buf is not None:  # commit state only once the step has succeeded
            self.state["momentum_buffer"] = new_buf
        return new_net

    # -- node ratios r_b = rho_in'(b) / rho_in(b) from the skeleton paths' ratios
    def _node_ratios(self, R_pi: list, idx: _Index, L: int) -> list:
        r = [None] * (L + 1)
        r[0] = np.ones(idx.widths[0])
        for l in range(1, L):
            r[l] = np.where(idx.pure[l], R_pi[l], r[l - 1][idx.pi[l]])
            if not np.all(r[l]):
                j = int(np.flatnonzero(r[l] == 0)[0])
                raise FloatingPointError(
                    f"{self.name} step gives the skeleton path through node {j} of layer {l} "
                    f"the value 0 (ratio R = 0), which Weight-Allocation cannot realise "
                    f"(lr={self.lr}); lower the learning rate. Optimizer state unchanged."
                )
            if not np.all(np.isfinite(r[l])):
                raise FloatingPointError(
                    f"{self.name} step produced a non-finite skeleton-path ratio in layer {l} "
                    f"(lr={self.lr}); lower the learning rate. Optimizer state unchanged."
                )
        return r

    def _fast_step(self, net, grads, idx, rin, rout, lr):
        """No momentum, no weight decay: fused kernel, a few row/column scalings per layer."""
        W, G = net.weights, grads.weights
        L = net.L
        flow = _out_flows(W, grads, idx)
        D = _chain_flow(W, G, flow, idx)
        dv_pi, v_pi = _skeleton_path_grads(W, G, D, rin, rout, idx)
        R_pi = [None] + [1.0 - lr * dv_pi[l] / v_pi[l] for l in range(1, L)]
        r = self._node_ratios(R_pi, idx, L)
        new_w = []
        for l in range(L):
            # non-sigma edge a -> b: w' = (w - lr g / (rho_in(a) rho_out(b))^2) / r_a, as
            # row and column scalings of a fresh output; factors equal to 1 (inputs, outputs,
            # sigma-weights of 1 as after a skeleton-unit start) are skipped
            out = _scale_rows_cols(G[l], lr / (rin[l] * rin[l]), 1.0 / (rout[l + 1] * rout[l + 1]))
            np.subtract(W[l], out, out=out)
            if l > 0:
                if np.any(r[l] != 1.0):
                    out /= r[l][:, None]
                rows, sigma = idx.arange[l], idx.sigma[l]
                out[rows, sigma] = W[l][rows, sigma]  # free weights fixed
            if l + 1 <= L - 1:  # pi-edge of b: w' = w r_b / r_pi(b)
                pure = idx.pure[l + 1]
                a, b = idx.pi[l + 1][pure], idx.arange[l + 1][pure]
                out[a, b] = W[l][a, b] * (r[l + 1][pure] / r[l][a])
            new_w.append(out)
        new_b = None
        if net.biases is not None:
            new_b = [
                b - (lr / (rout[l + 1] * rout[l + 1])) * gb
                for l, (b, gb) in enumerate(zip(net.biases, grads.biases))
            ]
        return new_w, new_b

    def _general_step(self, net, grads, idx, rin, rout, lr, mu, wd):
        """Momentum and/or weight decay: dl/dv is formed in full, then the same allocation."""
        W = net.weights
        L = net.L
        d = _icr_arrays(net, grads, idx, rin, rout)
        dw = d.weights
        db = d.biases
        if wd:
            for l in range(L):
                keep = None
                if 1 <= l + 1 <= L - 1:  # skeleton paths (pure pi-edges) are not decayed
                    pure = idx.pure[l + 1]
                    a, b = idx.pi[l + 1][pure], idx.arange[l + 1][pure]
                    keep = dw[l][a, b].copy()
                v = np.multiply(W[l], (wd * rin[l])[:, None])
                v *= rout[l + 1][None, :]
                dw[l] += v
                if keep is not None:
                    dw[l][a, b] = keep
                if 1 <= l <= L - 1:
                    dw[l][idx.arange[l], idx.sigma[l]] = 0.0
            if db is not None:
                db = [g + wd * (b * rout[l + 1]) for l, (g, b) in enumerate(zip(db, net.biases))]
        new_buf = None
        if mu:
            old = self.state.get("momentum_buffer")
            if old is None:
                new_buf = (dw, db)
            else:
                old_w, old_b = old
                shapes_ok = [o.shape for o in old_w] == [x.shape for x in dw] and (
                    old_b is None
                ) == (db is None)
                if not shapes_ok:
                    raise ValueError(
                        "the momentum buffer was built for a network of another shape; "
                        "use a new optimizer for a new network"
                    )
                bw = [mu * o + x for o, x in zip(old_w, dw)]
                bb = None if db is None else [mu * o + x for o, x in zip(old_b, db)]
                new_buf = (bw, bb)
            dw, db = new_buf
        # ratios of the skeleton paths, then the allocation
        R_pi = [None] * (L + 1)
        for l in range(1, L):
            a, b = idx.pi[l], idx.arange[l]
            R_pi[l] = 1.0 - lr * dw[l - 1][a, b] / (rin[l] * rout[l])
        r = self._node_ratios(R_pi, idx, L)
        new_w = []
        for l in range(L):
            # w' = (w - lr d / (rho_in(a) rho_out(b))) / r_a; pi-edges included
            out = _scale_rows_cols(dw[l], lr / rin[l], 1.0 / rout[l + 1])
            np.subtract(W[l], out, out=out)
            out /= r[l][:, None]
            if 1 <= l <= L - 1:
                rows, sigma = idx.arange[l], idx.sigma[l]
                out[rows, sigma] = W[l][rows, sigma]
            new_w.append(out)
        new_b = None
        if net.biases is not None:
            new_b = [b - (lr / rout[l + 1]) * x for l, (b, x) in enumerate(zip(net.biases, db))]
        return new_w, new_b, new_buf
