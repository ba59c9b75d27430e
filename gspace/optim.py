"""Optimizer interface shared by SGD, Path-SGD and G-SGD, and plain SGD.

Every optimizer follows the same contract::

    new_net = opt.step(net, grads)   # net and grads are not modified

The optimizer object holds its own state (momentum buffers). ``opt.lr`` is read at every step,
so a schedule may change it between steps. A step is atomic: if it raises, the optimizer state
is as it was before the call.
"""

from __future__ import annotations

import numbers

import numpy as np

from .network import MLP, Gradients

__all__ = ["Optimizer", "SGD", "check_grads"]


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_grads(net: MLP, grads: Gradients) -> None:
    """Check that ``grads`` has the structure of ``net`` and is finite.

    Parameters
    ----------
    net : MLP
    grads : Gradients
        ``grads.weights[l]`` of the shape of ``net.weights[l]``; ``grads.biases`` None exactly
        when ``net.biases`` is None, else ``grads.biases[l]`` of shape ``(h_{l+1},)``.

    Raises
    ------
    TypeError
        If ``grads`` is not a :class:`~gspace.network.Gradients`-like object.
    ValueError
        If shapes differ from the network's, biases are missing or extra, or a value is
        non-finite.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    if not hasattr(grads, "weights"):
        raise TypeError(
            f"grads must have the structure of a network (grads.weights, grads.biases), "
            f"got {type(grads).__name__}"
        )
    if len(grads.weights) != net.L:
        raise ValueError(f"grads has {len(grads.weights)} weight layers, the network has {net.L}")
    for l, (g, w) in enumerate(zip(grads.weights, net.weights, strict=True)):
        g = np.asarray(g)
        if g.shape != w.shape:
            raise ValueError(f"grads.weights[{l}] has shape {g.shape}, expected {w.shape}")
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grads.weights[{l}] contains non-finite values")
    gb = getattr(grads, "biases", None)
    if (gb is None) != (net.biases is None):
        have = "has" if gb is not None else "has no"
        net_has = "has" if net.biases is not None else "has no"
        raise ValueError(f"grads {have} biases but the network {net_has} biases")
    if gb is not None:
        for l, (g, b) in enumerate(zip(gb, net.biases, strict=True)):
            g = np.asarray(g)
            if g.shape != b.shape:
                raise ValueError(f"grads.biases[{l}] has shape {g.shape}, expected {b.shape}")
            if not np.all(np.isfinite(g)):
                raise ValueError(f"grads.biases[{l}] contains non-finite values")


class Optimizer:
    """Base class: validated hyper-parameters and the ``step(net, grads)`` contract.

    Parameters
    ----------
    lr : float
        Learning rate, > 0. Read at every step.
    momentum : float, default 0
        In ``[0, 1)``.
    weight_decay : float, default 0
        ``>= 0``.

    Raises
    ------
    TypeError
        A hyper-parameter that is not a real number.
    ValueError
        ``lr <= 0``, ``momentum`` outside ``[0, 1)``, ``weight_decay < 0`` or a non-finite
        value.
    """

    name = "optimizer"

    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.lr = lr
        momentum = _check_real(momentum, "momentum")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        weight_decay = _check_real(weight_decay, "weight_decay")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.state: dict = {}

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        value = _check_real(value, "lr")
        if value <= 0:
            raise ValueError(f"lr (learning rate) must be > 0, got {value}")
        self._lr = value

    def step(self, net: MLP, grads: Gradients) -> MLP:
        """Return the network after one update; ``net`` and ``grads`` are not modified."""
        raise NotImplementedError

    def _check_finite_result(self, new_net: MLP) -> MLP:
        for l, w in enumerate(new_net.weights):
            if not np.all(np.isfinite(w)):
                raise FloatingPointError(
                    f"{self.name} step produced non-finite weights in layer {l} "
                    f"(lr={self.lr}); lower the learning rate. Optimizer state unchanged."
                )
        if new_net.biases is not None:
            for l, b in enumerate(new_net.biases):
                if not np.all(np.isfinite(b)):
                    raise FloatingPointError(
                        f"{self.name} step produced non-finite biases in layer {l} "
                        f"(lr={self.lr}); lower the learning rate. Optimizer state unchanged."
                    )
        return new_net

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(lr={self.lr}, momentum={self.momentum}, "
            f"weight_decay={self.weight_decay})"
        )


class SGD(Optimizer):
    r"""Plain stochastic gradient descent in weight space.

    .. math::

        b_t &= \mu b_{t-1} + (g_t + \lambda w_{t-1}) \\
        w_t &= w_{t-1} - \eta\, b_t

    with learning rate :math:`\eta`, momentum :math:`\mu` (``b_t = g_t + \lambda w`` when
    :math:`\mu = 0`) and weight decay :math:`\lambda` (applied to weights and biases),
    as in ``torch.optim.SGD``.

    Parameters
    ----------
    lr : float
    momentum : float, default 0
    weight_decay : float, default 0

    Raises
    ------
    ValueError, TypeError
        From :meth:`step`: ``grads`` without the structure of ``net`` or with non-finite
        values (see :func:`check_grads`); bad hyper-parameters at construction.
    FloatingPointError
        From :meth:`step`: the update overflowed to non-finite weights. The optimizer's state
        is unchanged.

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

    def step(self, net: MLP, grads: Gradients) -> MLP:
        check_grads(net, grads)
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        params = list(net.weights) + (list(net.biases) if net.biases is not None else [])
        gs = list(grads.weights) + (list(grads.biases) if net.biases is not None else [])
        directions = []
        for p, g in zip(params, gs, strict=True):
            d = np.asarray(g, dtype=np.float64)
            if wd:
                d = d + wd * p
            directions.append(d)
        new_buffers = None
        if mu:
            old = self.state.get("momentum_buffer")
            if old is None:
                new_buffers = [d.copy() for d in directions]
            else:
                new_buffers = [mu * b + d for b, d in zip(old, directions, strict=True)]
            directions = new_buffers
        new_params = []
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            for p, d in zip(params, directions, strict=True):
                new = np.multiply(d, -lr)  # one fresh array per layer: -lr * d, then + p
                new += p
                new_params.append(new)
        L = net.L
        new_net = MLP._wrap(new_params[:L], new_params[L:] if net.biases is not None else None)
        self._check_finite_result(new_net)
        if new_buffers is not None:  # commit state only once the step has succeeded
            self.state["momentum_buffer"] = new_buffers
        return new_net
