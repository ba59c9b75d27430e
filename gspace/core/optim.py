r"""SGD and Path-SGD: the baselines G-SGD is compared with, behind one optimizer interface.

Every optimizer follows ``new_net = opt.step(net, grads)``: ``net`` and ``grads`` are not
modified, ``opt.lr`` is read at every step (schedules may change it), the object holds its
momentum buffer in ``opt.state`` and a step is atomic (on error the state is unchanged).
Momentum and weight decay follow ``torch.optim.SGD``:

.. math:: b_t = \mu b_{t-1} + (d_t + \lambda w_{t-1}), \qquad w_t = w_{t-1} - \eta\, b_t

with :math:`d_t` the optimizer's direction (:math:`g` for SGD, :math:`g / \gamma` for
Path-SGD). The parameters are the weights, then the biases, as one flat list.
"""

from __future__ import annotations

import numpy as np

from .. import validation as V

__all__ = ["Optimizer", "SGD", "path_gamma", "PathSGD"]


class Optimizer:
    """Base class: hyper-parameters, momentum, and the atomic ``step(net, grads)``.

    Parameters
    ----------
    lr : float
        Learning rate > 0, read at every step.
    momentum : float, default 0
        In ``[0, 1)``.
    weight_decay : float, default 0
        ``>= 0``.
    """

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
        with np.errstate(over="ignore", invalid="ignore"):  # reported by the result check
            new, buffer = self.update(net, grads)
        V.finite_step(self, new)
        if buffer is not None:  # commit state only once the step has succeeded
            self.state["momentum_buffer"] = buffer
        return new

    def update(self, net, grads):
        """``(new network, new momentum buffer or None)``, without checks."""
        raise NotImplementedError

    def with_momentum(self, directions: list) -> tuple[list, list | None]:
        """``b_t = mu b_{t-1} + d_t`` over the flat parameter list; ``(b_t, buffer)``."""
        if not self.momentum:
            return directions, None
        old = self.state.get("momentum_buffer")
        V.momentum_buffer(old, directions)
        new = (
            directions if old is None else [self.momentum * b + d for b, d in zip(old, directions)]
        )
        return new, [b.copy() for b in new] if old is None else new

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(lr={self.lr}, momentum={self.momentum}, "
            f"weight_decay={self.weight_decay})"
        )


def _params(net) -> list:
    return list(net.weights) + list(net.biases or [])


def _rebuild(net, params: list):
    L = len(net.weights)
    return net.with_params(params[:L], params[L:] if net.biases is not None else None)


class SGD(Optimizer):
    r"""Plain stochastic gradient descent in weight space (as ``torch.optim.SGD``).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> loss, grads = net.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 1)))
    >>> new = gspace.SGD(lr=0.1).step(net, grads)
    >>> bool(np.allclose(new.weights[0], net.weights[0] - 0.1 * grads.weights[0]))
    True
    """

    name = "SGD"

    def update(self, net, grads):
        params, wd = _params(net), self.weight_decay
        d = [g + wd * p if wd else g for p, g in zip(params, _params(grads))]
        d, buffer = self.with_momentum(d)
        return _rebuild(net, [p - self.lr * x for p, x in zip(params, d)]), buffer


def path_gamma(net):
    r"""Path-SGD's scaling :math:`\gamma(w, e)` for every weight and bias.

    Returns ``(gamma_w, gamma_b)``, shaped like the weights and biases (``gamma_b`` None
    without biases).

    Notes
    -----
    :math:`\gamma(w, e) = \gamma_{in}(a)\, \gamma_{out}(b)` for :math:`e = (a \to b)`, the sum
    over the paths through ``e`` of the product of the other squared weights: one forward and
    one backward sweep of ones through the squared weights,

    .. math::

        \gamma_{in}^{0} = 1,\ \gamma_{in}^{l+1} = \gamma_{in}^{l} (W^{l})^{\circ 2}
        + (b^{l})^{\circ 2}, \qquad \gamma_{out}^{L} = 1,\
        \gamma_{out}^{l} = (W^{l})^{\circ 2} \gamma_{out}^{l+1},

    and :math:`\gamma = \gamma_{out}(b)` for the bias of ``b``. On layers with parallel edges
    (a convolution) the squares are summed over the taps: Path-SGD on the channel graph.

    References
    ----------
    .. [1] B. Neyshabur, R. Salakhutdinov, N. Srebro, "Path-SGD: Path-Normalized Optimization
       in Deep Neural Networks", NeurIPS 2015.

    Examples
    --------
    >>> import gspace
    >>> gw, gb = path_gamma(gspace.MLP.from_weights([[[1.0, 2.0]], [[3.0], [4.0]]]))
    >>> gw[0].tolist(), gw[1].tolist()
    ([[9.0, 16.0]], [[1.0], [4.0]])
    """
    V.network(net)
    W, b, L = net.weights, net.biases, len(net.weights)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: reported just below
        sq = [np.square(w).reshape(w.shape[0], w.shape[1], -1).sum(axis=2) for w in W]
        g_in, g_out = [np.ones(sq[0].shape[0])], [None] * L + [np.ones(sq[-1].shape[1])]
        for l in range(1, L):
            g_in.append(g_in[l - 1] @ sq[l - 1] + (np.square(b[l - 1]) if b is not None else 0.0))
        for l in range(L - 1, 0, -1):
            g_out[l] = sq[l] @ g_out[l + 1]
    V.gammas(g_in, g_out, sq)  # a result check: zero or overflowed sums have no step
    gw = [
        np.multiply.outer(np.outer(g_in[l], g_out[l + 1]), np.ones(W[l].shape[2:]))
        for l in range(L)
    ]
    return gw, None if b is None else [g_out[l + 1].copy() for l in range(L)]


class PathSGD(Optimizer):
    r"""Path-SGD: ``w <- w - lr * g / gamma(w, e)``, ``gamma`` recomputed at every step.

    With ``weight_decay = lambda`` the step is Path-SGD on the loss plus
    :math:`\frac{\lambda}{2} \sum_p v_p^2`, whose gradient :math:`\lambda w_e \gamma(w, e)`
    becomes :math:`\lambda w_e` after the division by :math:`\gamma`. Exactly equivariant
    under G (claim A4). The official Path-SGD code trains plain SGD as released (an exhausted
    parameter generator); this class does not copy that.
    """

    name = "PathSGD"

    def update(self, net, grads):
        gw, gb = path_gamma(net)
        params, wd = _params(net), self.weight_decay
        d = [g / gam + wd * p for p, g, gam in zip(params, _params(grads), gw + (gb or []))]
        d, buffer = self.with_momentum(d)
        return _rebuild(net, [p - self.lr * x for p, x in zip(params, d)]), buffer
