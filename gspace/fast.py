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
    """Index arrays of one architecture and skeleton, computed once (all O(H L)).

    Per-node quantities of the ``H`` hidden nodes live in one vector, layer after layer
    (``off[l]:off[l+1]`` is hidden layer ``l``), plus a last entry ``H`` that stands for the
    inputs and outputs (value 1, gradient 0). Chains are followed by one gather each: row
    ``b`` of ``up_in`` lists ``b`` and its pi-ancestors, padded with ``H``. The skeleton
    edges of ``weights[l]`` are read with one ``take`` (``gather[l]``) and written with one
    ``put`` (``put_flat[l]``) per layer.
    """

    off: list  # off[l]: start of hidden layer l (l = 1..L-1); off[L] = H
    gather: list  # gather[l]: flat indices in weights[l] of its sigma-edges, then its pi-edges
    sig_pos: np.ndarray  # (H+1,): where node b's sigma-edge sits in the gathered vector
    pi_pos: np.ndarray  # (H+1,): where node b's pi-edge sits in the gathered vector
    sigma_flat: list  # sigma_flat[l]: flat indices in weights[l] of the sigma-edges (empty: l=0)
    up_in: np.ndarray  # (H+1, L-1): b, pi(b), pi(pi(b)), ... (rho_in = product of pi-weights)
    up_out: np.ndarray  # (H+1, L-1): b, sigma(b), ... (rho_out = product of sigma-weights)
    down: np.ndarray  # (H+1, L-1): b, sigma(b), ... while pi(sigma(c)) == c (ICR's sweep D)
    own: np.ndarray  # (H+1,): the nearest node of b's in-chain whose pi-edge is not a sigma-edge
    parent: np.ndarray  # (H+1,): pi(b); H for the nodes of layer 1 (and for H)
    pure_flat: list  # pure_flat[l]: flat indices in weights[l-1] of those pi-edges
    pure_nodes: list  # pure_nodes[l]: their nodes
    put_flat: list  # put_flat[l]: sigma-edges and pure pi-edges of weights[l] (plain step)
    put_src: np.ndarray  # their values' places in [w_sigma, pi_new] ...
    put_off: list  # ... layer l at put_off[l]:put_off[l+1]
    hidden: range  # the hidden layers 1..L-1
    rows: list  # rows[l]: shape broadcasting a node vector of layer l over weights[l]
    cols: list  # cols[l]: shape broadcasting a node vector of layer l + 1 over weights[l]


def _index(net, sk) -> _Index:
    W, L, w = net.weights, len(net.weights), net.widths
    off = [0, 0] + [int(x) for x in np.cumsum(w[1:-1])]
    H, none = off[-1], np.zeros(0, dtype=np.intp)
    parent, child, cont = np.full(H + 1, H), np.full(H + 1, H), np.zeros(H + 1, dtype=bool)
    own = np.arange(H + 1)
    flat = {k: [none] * (L + 1) for k in ("pi", "sigma", "pure", "nodes")}
    for l in range(1, L):
        nodes, pi, sigma, here = np.arange(w[l]), sk.pi[l], sk.sigma[l], slice(off[l], off[l + 1])
        taps_in = [np.full(w[l], k // 2) for k in W[l - 1].shape[2:]]  # the centre tap
        taps_out = [np.full(w[l], k // 2) for k in W[l].shape[2:]]
        flat["pi"][l] = np.ravel_multi_index((pi, nodes, *taps_in), W[l - 1].shape)
        flat["sigma"][l] = np.ravel_multi_index((nodes, sigma, *taps_out), W[l].shape)
        pure = nodes >= 0 if l == 1 else sk.sigma[l - 1][pi] != nodes
        if l > 1:
            parent[here] = off[l - 1] + pi
            own[here] = np.where(pure, own[here], own[parent[here]])
        if l < L - 1:
            child[here], cont[here] = off[l + 1] + sigma, sk.pi[l + 1][sigma] == nodes
        flat["pure"][l], flat["nodes"][l] = flat["pi"][l][pure], off[l] + nodes[pure]
    chains = [np.arange(H + 1)], [np.arange(H + 1)], [np.arange(H + 1)]
    for _ in range(L - 2):
        chains[0].append(parent[chains[0][-1]])
        chains[1].append(child[chains[1][-1]])
        chains[2].append(np.where(cont[chains[2][-1]], child[chains[2][-1]], H))
    up_in, up_out, down = (np.stack(c, axis=1) for c in chains)
    gather = [np.concatenate([flat["sigma"][l], flat["pi"][l + 1]]) for l in range(L)]
    start = np.cumsum([0] + [len(g) for g in gather])
    sig_pos, pi_pos = np.full(H + 1, start[-1]), np.full(H + 1, start[-1])  # H: the end entry
    for l in range(1, L):
        sig_pos[off[l] : off[l + 1]] = start[l] + np.arange(w[l])
        pi_pos[off[l] : off[l + 1]] = start[l - 1] + len(flat["sigma"][l - 1]) + np.arange(w[l])
    put_flat = [np.concatenate([flat["sigma"][l], flat["pure"][l + 1]]) for l in range(L)]
    src = [
        np.concatenate([np.arange(off[l], off[l + 1]), H + 1 + flat["nodes"][l + 1]])
        for l in range(L)
    ]
    rows = [(-1,) + (1,) * (x.ndim - 1) for x in W]
    cols = [(1, -1) + (1,) * (x.ndim - 2) for x in W]
    return _Index(
        off,
        gather,
        sig_pos,
        pi_pos,
        flat["sigma"],
        up_in,
        up_out,
        down,
        own,
        parent,
        flat["pure"],
        flat["nodes"],
        put_flat,
        np.concatenate(src),
        [int(x) for x in np.cumsum([0] + [len(x) for x in src])],
        range(1, L),
        rows,
        cols,
    )


_ONE, _ZERO = np.ones(1), np.zeros(1)


def _gather(arrays, ix, end):
    """Every skeleton edge's entry of ``arrays`` (one ``take`` per layer), then ``end``."""
    return np.concatenate([a.take(i) for a, i in zip(arrays, ix.gather)] + [end])


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
            s = self._skeleton(net, grads, ix)
            self._warned = self._warned or V.gsgd_conditioning(s["v"][:-1], self.name)
            if self.momentum or self.weight_decay:
                return self._general(net, grads, ix, s)
            R = 1.0 - self.lr * s["u"] / (s["v"] * s["v"])  # the skeleton paths' v'/v
            r = self._node_ratios(ix, R)
            # pi-edge of b: w r_b / r_pi(b); every other non-sigma edge: (w - lr g / P^2) / r_a
            pi_new = s["w_pi"] * r / r.take(ix.parent)
            return self._allocate(net, grads.weights, grads.biases, ix, s, r, 2, pi_new), None

    def _skeleton(self, net, grads, ix):
        """Skeleton weights, chain products and, for every hidden node ``b``, ``v`` (the value
        of the basis path of its pi-edge) and ``u = F_pi(b) - D(b)`` (ICR)."""
        W, G = net.weights, grads.weights
        wv = _gather(W, ix, _ONE)
        s = {"w_pi": wv.take(ix.pi_pos), "w_sigma": wv.take(ix.sig_pos)}
        s["unit"] = not (s["w_sigma"] != 1.0).any()  # sigma-weights 1: rho_out = 1
        s["rin"] = s["w_pi"].take(ix.up_in).prod(axis=1)
        s["rout"] = s["w_sigma"] if s["unit"] else s["w_sigma"].take(ix.up_out).prod(axis=1)
        s["v"] = s["rin"] if s["unit"] else s["rin"] * s["rout"]
        if not (np.isfinite(s["v"]).all() and s["v"].all()):  # also catches rho_in, rho_out
            self._chain_error(net, ix, s)
        flows = grads.flows_for(W) if hasattr(grads, "flows_for") else None
        if flows is None:  # sum w * g over the out-edges of every hidden node
            flows = [(W[l] * G[l]).reshape(W[l].shape[0], -1).sum(axis=1) for l in ix.hidden]
        gv = _gather(G, ix, _ZERO)
        base = np.concatenate([*flows, _ZERO]) - s["w_sigma"] * gv.take(ix.sig_pos)
        D = base.take(ix.down).sum(axis=1)  # D(b) = sum F out - F(b -> sigma(b)) + [..] D(sigma(b))
        s["u"] = s["w_pi"] * gv.take(ix.pi_pos) - D
        return s

    def _chain_error(self, net, ix, s):
        """The first chain product or skeleton-path value outside the float64 range."""
        V.skeleton_weights(net.weights, resolve_skeleton(net.widths, self.skeleton))
        for name in ("rin", "rout", "v"):
            x = s[name]
            bad = np.flatnonzero(~np.isfinite(x) | (x == 0))
            if not bad.size:
                continue
            k = int(bad[0])
            l = int(np.searchsorted(ix.off, k, side="right")) - 1
            if name != "v":
                raise FloatingPointError(
                    f"rho_{name[1:]} of node {k - ix.off[l]} of layer {l} is {x[k]}: the product "
                    f"of the skeleton weights along its chain left the float64 range. Rescale "
                    f"the network with gspace.normalize_skeleton_out_weights (same function, "
                    f"sigma-weights +-1) or start from gspace.skeleton_unit."
                )
            raise FloatingPointError(
                f"the skeleton path through node {k - ix.off[l]} of layer {l} has value rho_in "
                f"* rho_out = {s['rin'][k]:.3g} * {s['rout'][k]:.3g}, outside the float64 "
                f"range, so dl/dv = u / v is undefined. A path value is the same in every "
                f"rescaling of the network; start from another initialisation (e.g. "
                f"gspace.skeleton_unit)."
            )

    def _node_ratios(self, ix, R):
        """``r_b = rho_in'(b) / rho_in(b)``: the ratio R of the skeleton path that carries b's
        in-chain (its own, or its nearest ancestor's whose pi-edge is not a sigma-edge)."""
        r = R.take(ix.own)
        if not (np.isfinite(r).all() and r.all()):
            k = int(np.flatnonzero(~np.isfinite(r) | (r == 0))[0])
            l = int(np.searchsorted(ix.off, k, side="right")) - 1
            what = "a non-finite skeleton-path ratio" if r[k] else "the value 0 (ratio R = 0)"
            raise FloatingPointError(
                f"{self.name} step gives the skeleton path through node {k - ix.off[l]} of "
                f"layer {l} {what}, which Weight-Allocation cannot realise (lr={self.lr}); "
                f"lower the learning rate. Optimizer state unchanged."
            )
        return r

    def _allocate(self, net, dw, db, ix, s, r, power, pi_new=None):
        """WA fused with the update: ``w' = (w - lr d / (rho_in(a) rho_out(b))^power) / r_a``,
        the sigma-edges kept and, for the plain step, the pi-edges set to ``pi_new``."""
        W, L, lr, off = net.weights, len(net.weights), self.lr, ix.off
        row, inv_r, rout = lr / s["rin"] ** power, 1.0 / r, s["rout"]
        col = None if s["unit"] else 1.0 / rout**power
        if pi_new is None:  # only the sigma-edges are kept
            put, vals, at = ix.sigma_flat, s["w_sigma"], off
        else:
            put, at = ix.put_flat, ix.put_off
            vals = np.concatenate([s["w_sigma"], pi_new]).take(ix.put_src)
        new = []
        for l in range(L):
            here = slice(off[l], off[l + 1])
            out = np.multiply(dw[l], row[here].reshape(ix.rows[l]) if l else lr)
            if col is not None and l + 1 < L:
                out *= col[off[l + 1] : off[l + 2]].reshape(ix.cols[l])
            np.subtract(W[l], out, out=out)
            if l:  # in place: no second array of the layer's size
                out *= inv_r[here].reshape(ix.rows[l])
            np.put(out, put[l], vals[at[l] : at[l + 1]])
            new.append(out)
        nb = None
        if net.biases is not None:
            scale = [rout[off[l + 1] : off[l + 2]] ** power if l + 1 < L else 1.0 for l in range(L)]
            nb = [b - lr * g / c for b, g, c in zip(net.biases, db, scale)]
        return net.with_params(new, nb)

    def _general(self, net, grads, ix, s):
        """Momentum and/or weight decay: ``dl/dv`` in full, then the same allocation."""
        W, L, wd, off, w = net.weights, len(net.weights), self.weight_decay, ix.off, net.widths
        rows = [s["rin"][off[l] : off[l + 1]] if l else np.ones(w[0]) for l in range(L)]
        cols = [
            s["rout"][off[l + 1] : off[l + 2]] if l + 1 < L else np.ones(w[L]) for l in range(L)
        ]
        dv_pi, d = s["u"] / s["v"], []
        for l, G in enumerate(grads.weights):
            scale = rows[l].reshape(ix.rows[l]) * cols[l].reshape(ix.cols[l])  # P(a) S(b)
            x = G / scale + wd * W[l] * scale  # + wd * v off the skeleton paths
            if l + 1 < L:  # the skeleton paths (not decayed)
                np.put(x, ix.pure_flat[l + 1], dv_pi[ix.pure_nodes[l + 1]])
            if l:
                np.put(x, ix.sigma_flat[l], 0.0)  # not coordinates
            d.append(x)
        db = []
        if net.biases is not None:
            db = [g / c + wd * b * c for g, b, c in zip(grads.biases, net.biases, cols)]
        d, buffer = self.with_momentum(d + db)
        r = self._node_ratios(
            ix, 1.0 - self.lr * _gather(d[:L], ix, _ZERO).take(ix.pi_pos) / s["v"]
        )
        return self._allocate(net, d[:L], d[L:], ix, s, r, 1), buffer
