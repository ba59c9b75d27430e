"""Baselines beyond the paper for an MLP or a PlainCNN: Adam and ENorm (:doc:`/data`)."""

import numpy as np

from . import validation as V
from .core.optim import SGD, Optimizer

__all__ = ["Adam", "ENorm", "enorm_sweep"]


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias correction, as ``torch.optim.Adam``;
    ``weight_decay`` is an L2 penalty, not AdamW's (:doc:`/data`)."""

    name = "Adam"

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay=weight_decay)
        self.betas, self.eps = V.adam(betas, eps)

    def update(self, net, grads):
        """Adam's step and its new state ``t, m, v``, without checks (:meth:`Optimizer.step`)."""
        (b1, b2), eps, lr, wd, L = self.betas, self.eps, self.lr, self.weight_decay, net.L
        params, t = net.weights + (net.biases or []), self.state.get("t", 0) + 1
        m, v = (self.state.get(k, [np.zeros_like(p) for p in params]) for k in ("m", "v"))
        V.momentum_buffer(m, params)
        gs = [p * wd + g for p, g in zip(params, [*grads.weights, *(grads.biases or [])])]
        m = [b1 * x + (1 - b1) * g for x, g in zip(m, gs)]
        v = [b2 * x + (1 - b2) * g * g for x, g in zip(v, gs)]
        c1, c2 = 1 - b1**t, 1 - b2**t  # the bias corrections
        new = [p - lr * (x / c1) / (np.sqrt(y / c2) + eps) for p, x, y in zip(params, m, v)]
        return net.with_params(new[:L], new[L:] or None), {"t": t, "m": m, "v": v}

    def __repr__(self) -> str:
        b, e, wd = self.betas, self.eps, self.weight_decay
        return f"Adam(lr={self.lr}, betas={b}, eps={e}, weight_decay={wd})"


def enorm_sweep(net):
    """One Equi-normalization sweep (Stock et al., 2019, p = 2): ``g(net)`` for the element
    ``g`` of G that balances each hidden node's in- and out-norms in turn (:doc:`/data`)."""
    ws = [np.array(w, dtype=np.float64) for w in net.weights]
    bs = None if net.biases is None else [np.array(b, dtype=np.float64) for b in net.biases]
    with np.errstate(all="ignore"):  # non-finite results: ENorm.step refuses them
        for l in range(1, len(ws)):
            w_in, w_out = ws[l - 1], ws[l]  # node j: w_in[:, j, ...] and w_out[j, ...]
            sq_in = np.sum(w_in**2, axis=tuple(a for a in range(w_in.ndim) if a != 1))
            sq_in = sq_in + (bs[l - 1] ** 2 if bs is not None else 0.0)
            sq_out = np.sum(w_out**2, axis=tuple(range(1, w_out.ndim)))
            ok, c = (sq_in > 0) & (sq_out > 0), np.ones_like(sq_in)
            c[ok] = np.sqrt(np.sqrt(sq_out[ok] / sq_in[ok]))
            w_in *= c.reshape((1, -1) + (1,) * (w_in.ndim - 2))
            w_out /= c.reshape((-1,) + (1,) * (w_out.ndim - 1))
            if bs is not None:
                bs[l - 1] *= c
    return net.with_params(ws, bs)


class ENorm(SGD):
    """ENorm (Stock et al., 2019): an SGD step, then one :func:`enorm_sweep`; no momentum."""

    name = "ENorm"

    def __init__(self, lr=0.1, weight_decay=0.0):
        super().__init__(lr, weight_decay=weight_decay)

    def update(self, net, grads):
        new, state = super().update(net, grads)
        return enorm_sweep(new), state

    def __repr__(self) -> str:
        return f"ENorm(lr={self.lr}, weight_decay={self.weight_decay})"
