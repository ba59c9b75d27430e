r"""The fast G-SGD: :class:`GSGD`, Algorithm 1 fused into a few passes per layer.

The mathematics is that of :mod:`gspace.core.gsgd` (and is tested equal to
:func:`gspace.core.gsgd.gsgd_step`, to the explicit-matrix route, and with momentum and
weight decay to the core stages). What this module adds is speed and numerical safety:

* the skeleton's index arrays are computed once per architecture and skeleton;
* the per-node sums of ``w * dl/dw`` come from back-propagation (``grads.hidden_flow``, the
  sums of ``z * dl/dz``; claim I2), so the Inverse-Chain-Rule needs no pass over the weights;
  gradients without flows (built or edited by hand) are summed here instead;
* ICR, the update, the ratios and WA are fused: a non-skeleton weight becomes
  ``(w - lr g / (rho_in(a) rho_out(b))^2) / r_a`` with the node ratio
  ``r_a = rho_in'(a) / rho_in(a)``, a pi-edge ``w r_b / r_pi(b)``, a sigma-edge stays;
  factors equal to 1 (inputs, outputs, sigma-weights 1 after a skeleton-unit start) are
  skipped;
* chain products or skeleton-path values outside the float64 range, a ratio ``R = 0`` and a
  non-finite result raise ``FloatingPointError`` naming the node; the state is then unchanged.

Networks are read through the layered-network protocol of :mod:`gspace.core.network`, so a
plain CNN (weights ``(C_in, C_out, k, k)``, skeleton at the centre tap) is stepped by the
same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validation as V
from .core.basis import resolve_skeleton
from .core.optim import Optimizer

__all__ = ["GSGD"]


@dataclass(frozen=True)
class _Index:
    """Index arrays of a skeleton for one architecture (all O(H)), computed once."""

    pi: list  # pi[l]: gather of the pi-edges into hidden layer l, an index tuple into W[l-1]
    sigma: list  # sigma[l]: the sigma-edges out of hidden layer l, an index tuple into W[l]
    pi_nodes: list  # pi[l] as an array (the in-parent of each node)
    sigma_nodes: list
    pure: list  # pure[l]: nodes whose pi-edge is not a sigma-edge (their skeleton paths)
    pure_pi: list  # index tuple into W[l-1] of those pi-edges
    cont: list  # cont[l]: pi(sigma(b)) == b (the chain of b continues through sigma(b))


def _index(net, sk) -> _Index:
    W, L, w = net.weights, len(net.weights), net.widths
    idx = {k: [None] * (L + 1) for k in _Index.__dataclass_fields__}
    for l in range(1, L):
        nodes, pi, sigma = np.arange(w[l]), sk.pi[l], sk.sigma[l]
        centre_in, centre_out = (tuple(k // 2 for k in W[x].shape[2:]) for x in (l - 1, l))
        idx["pi"][l], idx["sigma"][l] = (pi, nodes) + centre_in, (nodes, sigma) + centre_out
        idx["pi_nodes"][l], idx["sigma_nodes"][l] = pi, sigma
        pure = nodes if l == 1 else nodes[sk.sigma[l - 1][pi] != nodes]
        idx["pure"][l], idx["pure_pi"][l] = pure, (pi[pure], pure) + centre_in
        if l < L - 1:
            idx["cont"][l] = sk.pi[l + 1][sigma] == nodes
    return _Index(**idx)


def _row(x, W):
    return x.reshape((-1,) + (1,) * (W.ndim - 1))


def _col(x, W):
    return x.reshape((1, -1) + (1,) * (W.ndim - 2))


def _scaled(G, row, col):
    """A fresh ``G * row[a] * col[b]``; factors that are all equal become one scalar."""
    row_c, col_c = bool(np.all(row == row[0])), bool(np.all(col == col[0]))
    if col_c:
        return np.multiply(G, row[0] * col[0] if row_c else _row(row * col[0], G))
    out = np.multiply(G, _col(col * row[0] if row_c else col, G))
    if not row_c:
        out *= _row(row, G)
    return out


class GSGD(Optimizer):
    r"""G-SGD: SGD on the basis-path values, O(m) extra work per step (Algorithm 1).

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`, read at every step.
    momentum : float, default 0
        :math:`\mu \in [0, 1)`, on :math:`\partial l/\partial v` (torch convention).
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: the penalty :math:`\frac{\lambda}{2} \sum_j v_j^2` on the
        non-skeleton basis-path values (bias paths included), as in the authors' code.
    skeleton : Skeleton, optional
        Default ``Skeleton.default(net.widths)``: the paper's skeleton for equal hidden
        widths, the general construction (claim B4) otherwise.

    Notes
    -----
    .. math::

        \begin{aligned}
        &\textbf{Algorithm 1 (G-SGD), one mini-batch} \\
        &\quad g = \partial l/\partial w \text{ by back-propagation},\ F_e = w_e g_e \\
        &\quad \text{ICR: } \partial l/\partial v_e = g_e / (\rho_{in}(a)\rho_{out}(b))
              \text{ off the skeleton},\
              \partial l/\partial v_b = (F_{\pi(b)\to b} - D(b)) / v_b \\
        &\quad d = \partial l/\partial v + \lambda v_{\text{non-skeleton}},\
              b_t = \mu b_{t-1} + d,\ v' = v - \eta\, b_t,\ R = v'/v \\
        &\quad \text{WA: } w_\sigma' = w_\sigma,\
              w_e' = v_e' / (\rho_{in}'(a)\rho_{out}(b)) \text{ layer by layer}
        \end{aligned}

    Start from :func:`gspace.skeleton_unit` (skeleton weights 1, as the authors' code does):
    from He initialisation the skeleton-path values are products of ``L`` small weights and
    ``dl/dv = u / v`` makes their steps huge (measurements: docs, "Initialisation").

    References
    ----------
    .. [1] Meng et al., ICLR 2019, sections "Inverse-Chain-Rule", "Weight-Allocation" and
       "Algorithm 1".

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    >>> _, grads = net.loss_and_gradients(np.ones((8, 3)), np.zeros((8, 2)))
    >>> new = gspace.GSGD(lr=0.01).step(net, grads)
    >>> ref = gspace.core.gsgd.gsgd_step(net, grads, lr=0.01)
    >>> bool(all(np.allclose(a, b) for a, b in zip(new.weights, ref.weights)))
    True
    """

    name = "GSGD"

    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, skeleton=None):
        super().__init__(lr, momentum=momentum, weight_decay=weight_decay)
        V.gsgd_skeleton(skeleton)
        self.skeleton = skeleton
        self._cache = None
        self._warned = False  # about an ill-conditioned start (once per optimizer)

    def _index_for(self, net) -> _Index:
        key = tuple(w.shape for w in net.weights)
        if self._cache is None or self._cache[0] != key or self._cache[1] is not self.skeleton:
            V.gsgd_inputs(net, self.skeleton)
            self._cache = (
                key,
                self.skeleton,
                _index(net, resolve_skeleton(net.widths, self.skeleton)),
            )
        return self._cache[2]

    def update(self, net, grads):
        ix = self._index_for(net)
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            rin, rout = self._chains(net, ix)
            dv, v = self._skeleton_paths(net, grads, ix, rin, rout)
            self._warned = self._warned or V.gsgd_conditioning(v, self.name)
            if self.momentum or self.weight_decay:
                return self._general(net, grads, ix, rin, rout, dv, v)
            R = [None] + [1.0 - self.lr * dv[l] / v[l] for l in range(1, len(dv))]
            return self._allocate(net, grads.weights, grads.biases, ix, rin, rout, R, 2), None

    def _chains(self, net, ix):
        """rho_in (layers 0..L-1) and rho_out (1..L), checked to be finite and nonzero."""
        W, L = net.weights, len(net.weights)
        rin, rout = [np.ones(net.widths[0])], [None] * L + [np.ones(net.widths[-1])]
        for l in range(1, L):
            rin.append(rin[l - 1][ix.pi_nodes[l]] * W[l - 1][ix.pi[l]])
        for l in range(L - 1, 0, -1):
            rout[l] = W[l][ix.sigma[l]] * rout[l + 1][ix.sigma_nodes[l]]
        for name, rho in (("rho_in", rin[1:]), ("rho_out", rout[1:L])):
            for l, r in enumerate(rho, start=1):
                if not np.all(np.isfinite(r) & (r != 0)):
                    self._chain_error(net, name, l, r)
        return rin, rout

    def _chain_error(self, net, name, l, r):
        V.skeleton_weights(net.weights, resolve_skeleton(net.widths, self.skeleton))
        j = int(np.flatnonzero(~np.isfinite(r) | (r == 0))[0])
        raise FloatingPointError(
            f"{name} of node {j} of layer {l} is {r[j]}: the product of the skeleton weights "
            f"along its chain left the float64 range. Rescale the network with "
            f"gspace.normalize_skeleton_out_weights (same function, sigma-weights +-1) or "
            f"start from gspace.skeleton_unit."
        )

    def _skeleton_paths(self, net, grads, ix, rin, rout):
        """ICR for the skeleton paths: ``dl/dv`` and ``v`` at the pure pi-edges, per layer."""
        W, G, L = net.weights, grads.weights, len(net.weights)
        flows = grads.flows_for(W) if hasattr(grads, "flows_for") else None
        D, dv, v = [None] * (L + 1), [None] * L, [None] * L
        for l in range(L - 1, 0, -1):
            flow = (
                flows[l - 1] if flows is not None else (W[l] * G[l]).reshape(len(rin[l]), -1).sum(1)
            )
            D[l] = flow - W[l][ix.sigma[l]] * G[l][ix.sigma[l]]
            if l < L - 1:
                D[l] += np.where(ix.cont[l], D[l + 1][ix.sigma_nodes[l]], 0.0)
        for l in range(1, L):
            p = ix.pure[l]
            v[l] = rin[l][p] * rout[l][p]
            if not np.all(np.isfinite(v[l]) & (v[l] != 0)):
                j = int(p[np.flatnonzero(~np.isfinite(v[l]) | (v[l] == 0))[0]])
                raise FloatingPointError(
                    f"the skeleton path through node {j} of layer {l} has value rho_in * "
                    f"rho_out = {rin[l][j]:.3g} * {rout[l][j]:.3g}, outside the float64 range, "
                    f"so dl/dv = u / v is undefined. A path value is the same in every "
                    f"rescaling of the network; start from another initialisation (e.g. "
                    f"gspace.skeleton_unit)."
                )
            dv[l] = (W[l - 1][ix.pure_pi[l]] * G[l - 1][ix.pure_pi[l]] - D[l][p]) / v[l]
        return dv, v

    def _node_ratios(self, ix, R, widths):
        """``r_b = rho_in'(b) / rho_in(b)``: R of b's skeleton path, or inherited from pi(b)."""
        r = [np.ones(widths[0])]
        for l in range(1, len(widths) - 1):
            r_l = r[l - 1][ix.pi_nodes[l]]  # a copy (fancy indexing)
            r_l[ix.pure[l]] = R[l]
            if not np.all(np.isfinite(r_l) & (r_l != 0)):
                j = int(np.flatnonzero(~np.isfinite(r_l) | (r_l == 0))[0])
                what = "a non-finite skeleton-path ratio" if r_l[j] else "the value 0 (ratio R = 0)"
                raise FloatingPointError(
                    f"{self.name} step gives the skeleton path through node {j} of layer {l} "
                    f"{what}, which Weight-Allocation cannot realise (lr={self.lr}); lower "
                    f"the learning rate. Optimizer state unchanged."
                )
            r.append(r_l)
        return r

    def _allocate(self, net, dw, db, ix, rin, rout, R, power):
        """WA fused with the update: ``w' = (w - lr d / (rin(a) rout(b))^power) / r_a``,
        pi-edges ``w r_b / r_pi(b)`` when ``power == 2`` (plain step), sigma-edges kept."""
        W, L, lr = net.weights, len(net.weights), self.lr
        r = self._node_ratios(ix, R, net.widths)
        new = []
        for l in range(L):
            out = _scaled(dw[l], lr / rin[l] ** power, 1.0 / rout[l + 1] ** power)
            np.subtract(W[l], out, out=out)
            if l > 0:
                if np.any(r[l] != 1.0):
                    out /= _row(r[l], out)
                out[ix.sigma[l]] = W[l][ix.sigma[l]]  # the free weights keep their values
            if power == 2 and l + 1 < L:  # pi-edge of b: w r_b / r_pi(b)
                p = ix.pure[l + 1]
                out[ix.pure_pi[l + 1]] = W[l][ix.pure_pi[l + 1]] * (
                    r[l + 1][p] / r[l][ix.pi_nodes[l + 1][p]]
                )
            new.append(out)
        nb = (
            None
            if net.biases is None
            else [
                b - (lr / rout[l + 1] ** power) * g for l, (b, g) in enumerate(zip(net.biases, db))
            ]
        )
        return net.with_params(new, nb)

    def _general(self, net, grads, ix, rin, rout, dv, v):
        """Momentum and/or weight decay: ``dl/dv`` in full, then the same allocation."""
        W, L, wd = net.weights, len(net.weights), self.weight_decay
        d = [G / _row(rin[l], G) / _col(rout[l + 1], G) for l, G in enumerate(grads.weights)]
        if wd:  # + wd * v off the skeleton paths
            d = [x + wd * W[l] * _row(rin[l], x) * _col(rout[l + 1], x) for l, x in enumerate(d)]
        for l in range(1, L):
            d[l - 1][ix.pure_pi[l]] = dv[l]  # the skeleton paths (not decayed)
            d[l][ix.sigma[l]] = 0.0  # not coordinates
        db = (
            []
            if net.biases is None
            else [
                g / rout[l + 1] + wd * b * rout[l + 1]
                for l, (g, b) in enumerate(zip(grads.biases, net.biases))
            ]
        )
        d, buffer = self.with_momentum(d + db)
        R = [None] + [1.0 - self.lr * d[l - 1][ix.pure_pi[l]] / v[l] for l in range(1, L)]
        new = self._allocate(net, d[:L], d[L:], ix, rin, rout, R, 1)
        return new, buffer
