r"""SGD and Path-SGD, the baselines, behind one interface: ``new = opt.step(net, grads)``
(inputs not modified, ``opt.lr`` read at every step, momentum buffer in ``opt.state``, atomic
on error). As ``torch.optim.SGD``: :math:`b_t = \mu b_{t-1} + d_t + \lambda w_{t-1}`,
:math:`w_t = w_{t-1} - \eta b_t`, with the direction :math:`d_t` (:math:`g` for SGD,
:math:`g / \gamma` for Path-SGD) over the weights, then the biases.
"""

from __future__ import annotations

import numpy as np

from .. import validation as V

__all__ = ["Optimizer", "SGD", "path_gamma", "PathSGD"]


class Optimizer:
    """Base class: ``lr > 0``, ``momentum`` in ``[0, 1)``, ``weight_decay >= 0``, the momentum
    buffer and the atomic ``step(net, grads)``."""

    name = "optimizer"

    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.momentum, self.weight_decay = V.hyperparameters(momentum, weight_decay)
        self.lr = lr
        self.state: dict = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = V.learning_rate(value)

    def step(self, net, grads):
        """Return the network after one update; ``net`` and ``grads`` are not modified.

        Raises
        ------
        TypeError, ValueError
            ``grads`` without the structure of ``net``, or non-finite.
        FloatingPointError
            The update overflowed; the optimizer state is then unchanged.
        """
        V.gradients(net, grads)
        with np.errstate(all="ignore"):  # reported by the result check or by name (G-SGD)
            new, state = self.update(net, grads)
        V.finite_step(self, new)
        self.state.update(state)  # committed only once the step has succeeded
        return new

    def update(self, net, grads):
        """``(new network, new state)``, without checks: ``w <- w - lr b_t`` with ``b_t`` the
        momentum of the subclass's ``direction``."""
        params = net.weights + (net.biases or [])
        d, state = self.with_momentum(
            self.direction(net, list(grads.weights) + list(grads.biases or []))
        )
        new = [p - self.lr * x for p, x in zip(params, d)]
        return net.with_params(new[: net.L], new[net.L :] or None), state

    def with_momentum(self, directions: list) -> tuple[list, dict]:
        """``b_t = mu b_{t-1} + d_t`` from ``b_0 = 0`` over the parameters; ``(b_t, new state)``."""
        if not self.momentum:
            return directions, {}
        old = self.state.get("momentum_buffer")
        V.momentum_buffer(old, directions)
        new = [self.momentum * b + d for b, d in zip(old or [0.0] * len(directions), directions)]
        return new, {"momentum_buffer": new}

    def __repr__(self) -> str:
        name, mu, wd = type(self).__name__, self.momentum, self.weight_decay
        return f"{name}(lr={self.lr}, momentum={mu}, weight_decay={wd})"


class SGD(Optimizer):
    r"""Plain stochastic gradient descent in weight space (as ``torch.optim.SGD``).

    Examples
    --------
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> loss, grads = net.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 1)))
    >>> new = gspace.SGD(lr=0.1).step(net, grads)
    >>> bool(np.allclose(new.weights[0], net.weights[0] - 0.1 * grads.weights[0]))
    True
    """

    name = "SGD"

    def direction(self, net, g: list) -> list:
        """``g + weight_decay w`` for the weights, then the biases."""
        wd = self.weight_decay
        return [x + wd * p for p, x in zip(net.weights + (net.biases or []), g)] if wd else g


def _gamma_sweeps(W, b):
    """``gamma_in`` (layers 0..L-1), ``gamma_out`` (1..L) and the squared weights."""
    L = len(W)
    sq = [np.square(w).reshape(w.shape[0], w.shape[1], -1).sum(axis=2) for w in W]  # taps
    g_in, g_out = [np.ones(sq[0].shape[0])], [None] * L + [np.ones(sq[-1].shape[1])]
    for l in range(1, L):
        g_in.append(g_in[l - 1] @ sq[l - 1] + (np.square(b[l - 1]) if b is not None else 0.0))
    for l in range(L - 1, 0, -1):
        g_out[l] = sq[l] @ g_out[l + 1]
    return g_in, g_out, sq


def path_gamma(net):
    r"""Path-SGD's scaling :math:`\gamma(w, e)`, shaped like the weights and the biases
    (``(gamma_w, gamma_b)``, ``gamma_b`` None without biases).

    :math:`\gamma(w, e) = \gamma_{in}(a)\, \gamma_{out}(b)` for :math:`e = (a \to b)`: the
    sum over the paths through ``e`` of the product of the other squared weights, from one
    forward and one backward sweep of ones through the squared weights,
    :math:`\gamma_{in}^{l+1} = \gamma_{in}^{l} (W^{l})^{\circ 2} + (b^{l})^{\circ 2}`,
    :math:`\gamma_{out}^{l} = (W^{l})^{\circ 2} \gamma_{out}^{l+1}` (1 at the inputs and
    outputs); :math:`\gamma_{out}(b)` for the bias of ``b``. On a convolution the squares are
    summed over the taps (Path-SGD on the channel graph). Reference: B. Neyshabur,
    R. Salakhutdinov, N. Srebro, "Path-SGD", NeurIPS 2015.

    Examples
    --------
    >>> gw, gb = path_gamma(gspace.MLP.from_weights([[[1.0, 2.0]], [[3.0], [4.0]]]))
    >>> gw[0].tolist(), gw[1].tolist()
    ([[9.0, 16.0]], [[1.0], [4.0]])
    """
    V.network(net)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: reported just below
        g_in, g_out, sq = _gamma_sweeps(net.weights, net.biases)
    V.gammas(g_in, g_out, sq)  # a result check: zero or overflowed sums have no step
    taps = [np.ones(w.shape[2:]) for w in net.weights]
    gw = [np.multiply.outer(np.outer(g_in[l], g_out[l + 1]), t) for l, t in enumerate(taps)]
    return gw, None if net.biases is None else [g.copy() for g in g_out[1:]]


class PathSGD(Optimizer):
    r"""Path-SGD: ``w <- w - lr * g / gamma(w, e)``, ``gamma`` recomputed at every step.

    ``weight_decay`` adds :math:`\frac{\lambda}{2} \sum_p v_p^2` to the loss (its gradient
    :math:`\lambda w_e \gamma` becomes :math:`\lambda w_e`). Exactly G-equivariant (A4). (The
    official Path-SGD code, as released, trains plain SGD: an exhausted parameter generator.)
    """

    name = "PathSGD"

    def direction(self, net, g: list) -> list:
        """``g / gamma + weight_decay w`` for the weights, then the biases."""
        gw, gb = path_gamma(net)
        wd, params = self.weight_decay, net.weights + (net.biases or [])
        return [x / gam + wd * p for p, x, gam in zip(params, g, gw + (gb or []))]
