"""The fast G-SGD, :class:`GSGD`: the stages of :mod:`gspace.core.gsgd` fused into a few passes
per layer, for MLPs and plain CNNs alike, tested equal to :func:`~gspace.core.gsgd.gsgd_step`."""

import math

import numpy as np

from . import validation as V
from .core.basis import resolve_skeleton
from .core.optim import Optimizer

__all__ = ["GSGD"]

_ONE, _ZERO = np.ones(1), np.zeros(1)


class _Index:
    """Index arrays of one architecture and skeleton: the hidden nodes as one vector, every
    chain a column of a gather table (``off``, ``gather``, ``pos``, ``up_in``, ``up_out``,
    ``down``, ``own``: :doc:`/data`, "The fast G-SGD")."""

    def __init__(self, net, sk):
        W, L, w = net.weights, len(net.weights), net.widths
        self.off = off = [0, 0] + np.cumsum(w[1:-1]).tolist()
        H, none = off[-1], np.zeros(0, dtype=np.intp)
        self.here = here = [slice(off[l], off[l + 1]) for l in range(L)]  # weights[l]'s in-nodes
        self.next = [slice(off[l + 1], off[l + 2]) if l + 1 < L else None for l in range(L)]
        self.parent = parent = np.full(H + 1, H)  # pi(b); H for layer 1
        self.own = own = np.arange(H + 1)
        child, cont = np.full(H + 1, H), np.zeros(H + 1, dtype=bool)
        pi, sigma, pure, nodes = ([none] * (L + 1) for _ in range(4))  # flat indices, by layer
        for l in range(1, L):
            j = np.arange(w[l])
            centre = [[np.full(w[l], k // 2) for k in x.shape[2:]] for x in (W[l - 1], W[l])]
            pi[l] = np.ravel_multi_index((sk.pi[l], j, *centre[0]), W[l - 1].shape)
            sigma[l] = np.ravel_multi_index((j, sk.sigma[l], *centre[1]), W[l].shape)
            is_pure = j >= 0 if l == 1 else sk.sigma[l - 1][sk.pi[l]] != j
            if l > 1:
                parent[here[l]] = off[l - 1] + sk.pi[l]
                own[here[l]] = np.where(is_pure, own[here[l]], own[parent[here[l]]])
            if l < L - 1:
                child[here[l]] = off[l + 1] + sk.sigma[l]
                cont[here[l]] = sk.pi[l + 1][sk.sigma[l]] == j  # pi(sigma(b)) == b
            pure[l], nodes[l] = pi[l][is_pure], off[l] + j[is_pure]
        chains = [np.arange(H + 1)], [np.arange(H + 1)], [np.arange(H + 1)]
        for _ in range(L - 2):
            chains[0].append(parent[chains[0][-1]])
            chains[1].append(child[chains[1][-1]])
            chains[2].append(np.where(cont[chains[2][-1]], child[chains[2][-1]], H))
        self.up_in, self.up_out, self.down = (np.stack(c) for c in chains)  # (L-1, H+1)
        self.gather = [np.concatenate([sigma[l], pi[l + 1]]) for l in range(L)]
        start = np.cumsum([0] + [len(g) for g in self.gather])
        self.pos = np.full((2, H + 1), start[-1])  # one take: pi-edges, sigma-edges
        for l in range(1, L):
            self.pos[0, here[l]] = start[l - 1] + len(sigma[l - 1]) + np.arange(w[l])
            self.pos[1, here[l]] = start[l] + np.arange(w[l])
        # the plain step writes put[l] of weights[l] (sigma-edges, pure pi-edges) from
        # src[at[l]:at[l+1]] of [w_sigma, pi_new]; pure[l]: pure pi-edges into nodes[l]
        self.sigma, self.pure, self.nodes = sigma, pure, nodes
        self.put = [np.concatenate([sigma[l], pure[l + 1]]) for l in range(L)]
        src = [np.concatenate([np.arange(H + 1)[h], H + 1 + n]) for h, n in zip(here, nodes[1:])]
        self.src, self.at = np.concatenate(src), np.cumsum([0] + [len(x) for x in src]).tolist()
        self.rows = [(-1,) + (1,) * (x.ndim - 1) for x in W]  # a node vector over weights[l]
        self.cols = [(1, -1) + (1,) * (x.ndim - 2) for x in W]  # ... of layer l + 1

    def node(self, k) -> str:
        """``"node j of layer l"`` for the entry ``k`` of a node vector."""
        l = int(np.searchsorted(self.off, k, side="right")) - 1
        return f"node {k - self.off[l]} of layer {l}"


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
        Default ``Skeleton.default(net.widths)``.

    Raises
    ------
    ValueError, FloatingPointError
        From ``step`` (naming the weight or node, state unchanged): a zero skeleton weight, a
        chain product or path value outside the float64 range, a ratio R = 0, a non-finite result.

    Notes
    -----
    .. math::

        &\textbf{Algorithm 1 (G-SGD), one mini-batch} \\
        &\quad g = \partial l/\partial w \text{ by back-propagation},\ F_e = w_e g_e \\
        &\quad \text{ICR: } \partial l/\partial v_e = g_e / (\rho_{in}(a)\rho_{out}(b))
              \text{ off the skeleton},\ \partial l/\partial v_b = (F_{\pi(b)\to b} - D(b)) / v_b \\
        &\quad d = \partial l/\partial v + \lambda v_{\text{non-skeleton}},\
              b_t = \mu b_{t-1} + d,\ v' = v - \eta\, b_t,\ R = v'/v \\
        &\quad \text{WA: } w_\sigma' = w_\sigma,\
              w_e' = v_e' / (\rho_{in}'(a)\rho_{out}(b)) \text{ layer by layer}

    WA is fused with the update (:doc:`/data`, "The fast G-SGD"). Start from
    :func:`gspace.skeleton_unit` (theory page, "Initialization"). Meng et al., "Algorithm 1"."""

    name = "GSGD"

    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, skeleton=None):
        super().__init__(lr, momentum=momentum, weight_decay=weight_decay)
        V.skeleton(skeleton)
        self.skeleton, self._plan, self._warned = skeleton, (None, None, None), False

    def update(self, net, grads):
        shapes, (old, sk, ix) = [w.shape for w in net.weights], self._plan
        if shapes != old or sk is not self.skeleton:  # index arrays: once per architecture
            V.gsgd_inputs(net, self.skeleton)
            ix = _Index(net, resolve_skeleton(net.widths, self.skeleton))
            self._plan = (shapes, self.skeleton, ix)
        lr, s = self.lr, self._skeleton(net, grads, ix)
        inv_v = s["inv_v"]  # sum 1/v^2 < 1/low^2: every |v| > low, no warning to consider
        if not (self._warned or np.dot(inv_v, inv_v) < V.CONDITION_LOW**-2):
            self._warned = V.gsgd_conditioning(s["v"][:-1], self.name)
        if self.momentum or self.weight_decay:
            d, state = self._direction(net, grads, ix, s)
            d_pi = np.concatenate([x.take(i) for x, i in zip(d, ix.gather)] + [_ZERO])
            R, power = 1.0 - lr * d_pi.take(ix.pos[0]) * inv_v, 1
        else:  # d = g, scaled below by the squared chain products
            d, state = [*grads.weights, *(grads.biases or [])], {}
            R, power = 1.0 - lr * s["u"] * (inv_v * inv_v), 2
        r = R.take(ix.own)  # r_b = rho_in'(b) / rho_in(b): R of the path carrying b's in-chain
        inv_r = 1.0 / r  # r . (1/r) is finite unless some r is 0 or not finite
        if not math.isfinite(np.dot(r, inv_r)) and not (np.isfinite(r).all() and r.all()):
            k = np.flatnonzero(~np.isfinite(r) | (r == 0))[0]
            what = "a non-finite skeleton-path ratio" if r[k] else "the value 0 (ratio R = 0)"
            raise FloatingPointError(
                f"{self.name} step gives the skeleton path through {ix.node(k)} {what}, "
                f"which Weight-Allocation cannot realise (lr={self.lr}); lower the learning "
                f"rate. Optimizer state unchanged."
            )
        pi_new = s["w_pi"] * r * inv_r.take(ix.parent)  # rho_in'(b) / rho_in'(pi(b))
        return self._allocate(net, d, ix, s, inv_r, power, pi_new), state

    def _skeleton(self, net, grads, ix):
        """Skeleton weights, chain products and, for every hidden node ``b``, ``v`` (the value
        of the basis path of its pi-edge) and ``u = F_pi(b) - D(b)`` (ICR)."""
        W, G = net.weights, grads.weights
        wv = np.concatenate([w.take(i) for w, i in zip(W, ix.gather)] + [_ONE])
        s = dict(zip(("w_pi", "w_sigma"), wv.take(ix.pos)))
        s["unit"] = unit = not np.count_nonzero(s["w_sigma"] != 1.0)  # rho_out = 1: skipped
        s["rin"] = s["w_pi"].take(ix.up_in).prod(axis=0)
        s["rout"] = s["w_sigma"] if unit else s["w_sigma"].take(ix.up_out).prod(axis=0)
        s["v"] = s["rin"] if unit else s["rin"] * s["rout"]
        s["inv_v"] = 1.0 / s["v"]  # v . (1/v) = H + 1 unless some v is 0 or not finite
        if not math.isfinite(np.dot(s["v"], s["inv_v"])):  # also catches rho_in, rho_out
            self._chain_error(net, ix, s)
        flows = grads.flows_for(W) if hasattr(grads, "flows_for") else None
        if flows is None:  # sum w * g over the out-edges of every hidden node
            flows = [(W[l] * G[l]).reshape(len(W[l]), -1).sum(axis=1) for l in range(1, len(W))]
        gv = np.concatenate([g.take(i) for g, i in zip(G, ix.gather)] + [_ZERO])
        g_pi, g_sigma = gv.take(ix.pos)
        base = np.concatenate([*flows, _ZERO]) - (g_sigma if unit else s["w_sigma"] * g_sigma)
        # D(b) = sum of F out of b - F(b -> sigma(b)) + [pi(sigma(b)) == b] D(sigma(b))
        s["u"] = s["w_pi"] * g_pi - base.take(ix.down).sum(axis=0)
        return s

    def _chain_error(self, net, ix, s):
        """The first chain product or skeleton-path value outside the float64 range."""
        V.skeleton_weights(net.weights, resolve_skeleton(net.widths, self.skeleton))
        for name in ("rin", "rout", "v"):
            k = next(iter(np.flatnonzero(~np.isfinite(s[name]) | (s[name] == 0))), None)
            if k is not None and name != "v":
                raise FloatingPointError(
                    f"rho_{name[1:]} of {ix.node(k)} is {s[name][k]}: the product of the "
                    f"skeleton weights along its chain left the float64 range. Rescale the "
                    f"network with gspace.normalize_skeleton_out_weights (same function, "
                    f"sigma-weights +-1) or start from gspace.skeleton_unit."
                )
            if k is not None:
                raise FloatingPointError(
                    f"the skeleton path through {ix.node(k)} has value rho_in * rho_out = "
                    f"{s['rin'][k]:.3g} * {s['rout'][k]:.3g}, outside the float64 range, so "
                    f"dl/dv = u / v is undefined. A path value is the same in every rescaling "
                    f"of the network; start from another initialisation (e.g. "
                    f"gspace.skeleton_unit)."
                )

    def _direction(self, net, grads, ix, s):
        """Momentum and/or weight decay: ``dl/dv`` in full (weights, then biases), the penalty
        added off the skeleton paths, then the momentum; ``(b_t, new state)``."""
        W, L, wd, rout = net.weights, len(net.weights), self.weight_decay, s["rout"]
        cols = [1.0 if n is None else rout[n] for n in ix.next]  # rho_out(b)
        dv_pi, d = s["u"] / s["v"], []
        for l, (G, h) in enumerate(zip(grads.weights, ix.here)):
            P = s["rin"][h].reshape(ix.rows[l]) if l else 1.0  # rho_in(a)
            scale = P * (cols[l].reshape(ix.cols[l]) if l + 1 < L else 1.0)
            x = G / scale + wd * W[l] * scale  # + wd * v
            if l + 1 < L:  # the skeleton paths (not decayed)
                x.put(ix.pure[l + 1], dv_pi[ix.nodes[l + 1]])
            x.put(ix.sigma[l], 0.0)  # not coordinates
            d.append(x)
        db = [g / c + wd * b * c for g, b, c in zip(grads.biases or [], net.biases or [], cols)]
        return self.with_momentum(d + db)

    def _allocate(self, net, d, ix, s, inv_r, power, pi_new):
        """WA fused with the update: ``w' = (w - lr d / (rho_in(a) rho_out(b))^power) / r_a``,
        the sigma-edges kept and the pure pi-edges set to ``pi_new``."""
        W, lr, rout = net.weights, self.lr, s["rout"]
        row, col = lr / s["rin"] ** power, None if s["unit"] else 1.0 / rout**power
        vals, new = np.concatenate([s["w_sigma"], pi_new]).take(ix.src), []
        for l, (w, here, nxt) in enumerate(zip(W, ix.here, ix.next)):
            out = np.multiply(d[l], row[here].reshape(ix.rows[l]) if l else lr)
            if col is not None and nxt is not None:
                out *= col[nxt].reshape(ix.cols[l])
            np.subtract(w, out, out=out)
            if l:  # in place: no second array of the layer's size
                out *= inv_r[here].reshape(ix.rows[l])
            out.put(ix.put[l], vals[ix.at[l] : ix.at[l + 1]])
            new.append(out)
        biases = zip(net.biases or [], d[len(W) :], ix.next)  # b's bias: / rho_out(b)^power
        nb = [b - lr * g / (1.0 if n is None else rout[n] ** power) for b, g, n in biases]
        return net.with_params(new, None if net.biases is None else nb)
