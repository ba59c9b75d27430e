"""The network of the paper's setting: a ReLU MLP with hand-written back-propagation.

Layers ``0..L`` of widths ``h_0 = d`` (inputs), ``h_1 .. h_{L-1}`` (hidden, ReLU) and
``h_L = K`` (outputs, identity); bias-free by default, as in the paper. One line of the
equations per line of code::

    a^0 = X,  z^l = a^{l-1} W^l + b^l,  a^l = relu(z^l) (l < L),  a^L = z^L   (logits)
    delta^L = d loss / d z^L
    dW^l = (a^{l-1})^T delta^l,  db^l = sum_n delta^l
    delta^{l-1} = (delta^l (W^l)^T) * 1[z^{l-1} > 0]

``weights[l][i, j]`` (the paper's ``W^{l+1}``) joins node ``i`` of layer ``l`` to node ``j``.

**The layered-network protocol.** The rest of the core reads a network only through
``widths``, ``weights``, ``biases`` and ``with_params(weights, biases)``; ``weights[l]`` may
have trailing axes of parallel edges, ``(h_l, h_{l+1}, *taps)`` (a convolution
``(C_in, C_out, k, k)``: every tap is an edge), and gradients carry the per-node flow sums
of back-propagation (:class:`Gradients`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .. import validation as V

__all__ = ["LOSSES", "Gradients", "ForwardCache", "MLP", "loss_and_output_error"]

LOSSES = V.LOSSES


@dataclass(frozen=True)
class Gradients:
    """Gradients of a loss with the structure of a network (``weights``, ``biases`` or None),
    held as read-only float64 arrays.

    ``hidden_flow[l - 1]`` ``(h_l,)``, for each hidden layer ``l``: the sum over the batch (and
    spatial positions) of ``z^l * delta^l``, which by the balance identity (claim I2) is the
    sum of ``w * dl/dw`` over the node's in-edges (bias included) and over its out-edges.
    Only :meth:`from_backprop` sets it, with ``source``, the weight arrays it holds for.
    Gradients cannot be edited in place; an edit (clipping, noise) makes a new object without
    flows, and G-SGD then sums ``w * dl/dw`` itself: a flow never disagrees with its step.
    """

    weights: tuple
    biases: tuple | None = None
    hidden_flow: tuple | None = field(default=None, init=False)
    source: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        for name in ("weights", "biases"):
            arrays = getattr(self, name)
            if arrays is not None:
                checked = [V.real_array(g, f"grads.{name}[{l}]") for l, g in enumerate(arrays)]
                object.__setattr__(self, name, _frozen(checked))

    @classmethod
    def from_backprop(cls, weights, biases, hidden_flow, source) -> Gradients:
        """Gradients with the per-node flow sums of back-propagation, for a network's
        ``backward`` to call; ``source``: the network's weight arrays (not copied)."""
        out = cls(weights, biases)
        object.__setattr__(out, "hidden_flow", _frozen(hidden_flow))
        object.__setattr__(out, "source", tuple(source))
        return out

    def flows_for(self, weights) -> tuple | None:
        """``hidden_flow`` if it was computed with exactly these weight arrays, else None."""
        src = self.source
        if self.hidden_flow is None or src is None or len(src) != len(weights):
            return None
        return self.hidden_flow if all(a is b for a, b in zip(src, weights)) else None


def _frozen(arrays) -> tuple:
    """Read-only float64 views (the caller's own arrays are not touched)."""
    views = tuple(np.asarray(a, dtype=np.float64).view() for a in arrays)
    for view in views:
        view.flags.writeable = False
    return views


class ForwardCache(NamedTuple):
    """Activations ``a[0..L]`` (``a[0] = X``, ``a[L]`` the logits), pre-activations ``z[1..L]``."""

    a: list
    z: list


def loss_and_output_error(logits: np.ndarray, Y: np.ndarray, loss: str):
    """Mean loss and ``delta^L = d loss / d z^L`` (already divided by ``n``).

    ``"mse"``: ``0.5 * mean_n sum_k (z_nk - Y_nk)^2``; ``"cross_entropy"``:
    ``mean_n (-log softmax(z_n)_{Y_n})``, stabilised by subtracting the row maximum.
    """
    n = logits.shape[0]
    if loss == "mse":
        residual = logits - Y
        return 0.5 * np.sum(residual**2) / n, residual / n
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1))[:, None]
    delta = np.exp(log_p)
    delta[np.arange(n), Y] -= 1.0
    return -np.mean(log_p[np.arange(n), Y]), delta / n


class MLP:
    """A fully connected ReLU network of ``widths`` ``[d, h_1, ..., K]``: ``weights[l]``
    ``(h_l, h_{l+1})`` drawn ``N(0, 2 / h_l)`` (He) from ``rng`` (a fresh generator if None),
    ``biases[l]`` ``(h_{l+1},)`` zero if ``bias``, else None. Meng et al., ICLR 2019,
    "Background".

    Examples
    --------
    >>> net = MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> net.forward(np.ones((5, 3))).shape, net.m, net.H
    ((5, 2), 20, 4)
    """

    def __init__(self, widths, bias: bool = False, rng=None):
        widths, rng = V.mlp_args(widths, bias, rng)
        self.weights = [
            rng.normal(0.0, np.sqrt(2.0 / a), size=(a, b)) for a, b in zip(widths[:-1], widths[1:])
        ]
        self.biases = [np.zeros(h) for h in widths[1:]] if bias else None

    @classmethod
    def from_weights(cls, weights, biases=None) -> MLP:
        """A network with copies of the given ``weights[l]`` ``(h_l, h_{l+1})`` and biases.

        Examples
        --------
        >>> float(MLP.from_weights([[[1.0, -1.0]], [[2.0], [3.0]]]).forward([[1.0]])[0, 0])
        2.0
        """
        net = cls.__new__(cls)
        net.weights, net.biases = V.layer_arrays(weights, biases)
        return net

    def with_params(self, weights: list, biases: list | None) -> MLP:
        """A network of this kind holding the given arrays (not copied, not checked)."""
        net = type(self).__new__(type(self))
        net.weights, net.biases = weights, biases
        return net

    def copy(self) -> MLP:
        return type(self).from_weights(self.weights, self.biases)  # a deep copy

    @property
    def widths(self) -> list[int]:
        """``[h_0, h_1, ..., h_L]``."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    L = property(lambda self: len(self.weights), doc="Number of weight layers.")
    m = property(lambda self: sum(w.size for w in self.weights), doc="Number of weights.")
    H = property(lambda self: sum(self.widths[1:-1]), doc="Number of hidden nodes.")
    has_bias = property(lambda self: self.biases is not None)

    def __repr__(self) -> str:
        return f"MLP(widths={self.widths}, bias={self.has_bias})"

    def forward_cache(self, X) -> ForwardCache:
        """Forward pass keeping every ``z^l`` and ``a^l`` for back-propagation."""
        return self._forward(V.inputs(self, X))

    def _forward(self, X: np.ndarray) -> ForwardCache:
        a, z = [X], [None]
        for l in range(1, self.L + 1):
            z_l = a[-1] @ self.weights[l - 1]  # z^l = a^{l-1} W^l
            if self.biases is not None:
                z_l += self.biases[l - 1]  # ... + b^l
            z.append(z_l)
            a.append(np.maximum(z_l, 0.0) if l < self.L else z_l)  # relu, identity at L
        return ForwardCache(a, z)

    def forward(self, X) -> np.ndarray:
        """Logits ``N_w(X)`` of shape ``(n, K)`` for ``X`` of shape ``(n, d)``."""
        return self.forward_cache(X)[0][-1]

    __call__ = forward

    def loss(self, X, Y, loss: str = "mse") -> float:
        """Mean loss over the samples (see :meth:`loss_and_gradients`)."""
        return self.loss_and_gradients(X, Y, loss, backward=False)[0]

    def backward(self, cache: ForwardCache, delta: np.ndarray) -> Gradients:
        """Back-propagate ``delta^L`` (n, K); gradients with the per-node ``hidden_flow``."""
        V.backward_args(self, cache, delta)
        return self._backward(cache, np.asarray(delta, dtype=np.float64))

    def _backward(self, cache: ForwardCache, delta: np.ndarray) -> Gradients:
        L, (a, z) = self.L, cache
        dW, db, flow = [None] * L, [None] * L, [None] * (L - 1)
        for l in range(L, 0, -1):
            dW[l - 1] = a[l - 1].T @ delta  # dW^l = (a^{l-1})^T delta^l
            db[l - 1] = delta.sum(axis=0)  # db^l = sum_n delta^l
            if l > 1:
                delta = delta @ self.weights[l - 1].T  # d loss / d a^{l-1}
                delta *= z[l - 1] > 0  # times relu'(z^{l-1}): delta^{l-1}
                flow[l - 2] = np.einsum("ni,ni->i", z[l - 1], delta)  # sum_n z delta
        db = db if self.biases is not None else None
        return Gradients.from_backprop(dW, db, flow, self.weights)

    def loss_and_gradients(self, X, Y, loss: str = "mse", backward: bool = True):
        """Loss and its :class:`Gradients` by back-propagation, for ``X`` ``(n, d)`` and ``Y``
        ``(n, K)`` float targets (``"mse"``, the default: the paper's setting) or ``(n,)``
        integer labels (``"cross_entropy"``, the default of :func:`gspace.fit`).

        Examples
        --------
        >>> net = MLP([2, 3, 2], rng=np.random.default_rng(0))
        >>> _, g = net.loss_and_gradients(np.ones((4, 2)), np.array([0, 1, 1, 0]),
        ...                               loss="cross_entropy")
        >>> [x.shape for x in g.weights]
        [(2, 3), (3, 2)]
        """
        X, Y = V.batch(self, X, Y, loss)
        cache = self._forward(X)
        value, delta = loss_and_output_error(cache.a[-1], Y, loss)
        # a non-finite loss (a diverging run) back-propagates unchecked: the caller sees it
        back = self.backward if np.isfinite(value) else self._backward
        return float(value), (back(cache, delta) if backward else None)

    def predict(self, X) -> np.ndarray:
        """Predicted classes ``argmax_k N_w(X)_k``, shape ``(n,)``."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of samples whose predicted class equals the label ``y``."""
        pred = self.predict(X)
        return float(np.mean(pred == V.labels(self, y, len(pred))))

    def flat_params(self) -> np.ndarray:
        """Weights then biases as one vector: the edge numbering of the structure matrix."""
        return np.concatenate([p.ravel() for p in self.weights + (self.biases or [])])

    def with_flat_params(self, flat) -> MLP:
        """A new network whose weights (then biases) are read from a flat vector."""
        params = self.weights + (self.biases or [])
        flat = V.float_array(flat, "flat parameters", (sum(p.size for p in params),))  # a copy
        parts = np.split(flat, np.cumsum([p.size for p in params])[:-1])
        out = [x.reshape(p.shape) for x, p in zip(parts, params)]
        return self.with_params(out[: self.L], out[self.L :] or None)
