"""A ReLU multilayer perceptron with hand-written back-propagation.

This is the network of the paper's setting (paper-notes section 1): layers ``0..L`` of widths
``h_0 = d`` (inputs), ``h_1 .. h_{L-1}`` (hidden, ReLU) and ``h_L = K`` (outputs, identity).
It is bias-free by default, as in the paper; ``bias=True`` adds a bias to every non-input node.

Notation used in the code, one line of the equations per line of code::

    a^0 = X                                   (n, h_0)   the inputs
    z^l = a^{l-1} W^l + b^l                   (n, h_l)   pre-activations, l = 1..L
    a^l = relu(z^l)  for l < L,  a^L = z^L              activations (logits at l = L)
    delta^L = d loss / d z^L                            output error
    dW^l = (a^{l-1})^T delta^l,  db^l = sum_n delta^l   weight and bias gradients
    delta^{l-1} = (delta^l (W^l)^T) * 1[z^{l-1} > 0]    back-propagated error

``weights[l]`` in code is the paper's ``W^{l+1}``: indices are 0-based, so
``weights[l][i, j]`` is the weight from node ``i`` of layer ``l`` to node ``j`` of layer
``l + 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MLP", "Gradients", "LOSSES", "check_widths"]

LOSSES = ("mse", "cross_entropy")


def check_widths(widths) -> list[int]:
    """Validate layer widths and return them as a list of Python ints.

    Parameters
    ----------
    widths : sequence of int
        ``[d, h_1, ..., h_{L-1}, K]``; at least two entries, each >= 1.

    Returns
    -------
    list of int

    Raises
    ------
    TypeError
        If an entry is not an integer.
    ValueError
        If there are fewer than two entries or a width is < 1.

    Examples
    --------
    >>> check_widths((3, 4, 2))
    [3, 4, 2]
    """
    try:
        widths = list(widths)
    except TypeError:
        raise TypeError(
            f"widths must be a sequence of integers like [d, h1, ..., K], got {widths!r}"
        ) from None
    if len(widths) < 2:
        raise ValueError(
            f"widths must have at least 2 entries (inputs and outputs), got {widths!r}"
        )
    out = []
    for w in widths:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)):
            raise TypeError(f"every width must be an integer, got {w!r} in {widths!r}")
        if w < 1:
            raise ValueError(f"every width must be >= 1, got {w} in {widths!r}")
        out.append(int(w))
    return out


def _as_float_array(a, name: str) -> np.ndarray:
    """Convert to a float64 array, refusing non-real dtypes and non-finite values."""
    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real numeric array (integer or float), got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64, copy=True)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return arr


@dataclass(frozen=True)
class Gradients:
    """Gradients of a loss with the structure of a network.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` of shape ``(h_l, h_{l+1})``: d loss / d weights[l].
    biases : list of ndarray or None
        ``biases[l]`` of shape ``(h_{l+1},)``, or None for a bias-free network.
    hidden_flow : list of ndarray or None
        Optional by-product of back-propagation used by G-SGD: for each hidden layer
        ``l = 1..L-1`` (list index ``l - 1``), ``sum_n z^l_n * delta^l_n``, of shape
        ``(h_l,)``. By the balance identity (claim I2) it equals the sum of
        ``w * dloss/dw`` over the in-edges of each hidden node (bias included) and over its
        out-edges. None when the gradients were not produced by :meth:`MLP.backward`.
    """

    weights: list
    biases: list | None = None
    hidden_flow: list | None = None

    @property
    def widths(self) -> list[int]:
        """Layer widths implied by the gradient shapes."""
        return [self.weights[0].shape[0]] + [g.shape[1] for g in self.weights]


@dataclass(frozen=True)
class ForwardCache:
    """What the forward pass keeps for back-propagation.

    Attributes
    ----------
    a : list of ndarray
        ``a[l]`` of shape ``(n, h_l)`` for ``l = 0..L``: activations (``a[0]`` = inputs,
        ``a[L]`` = logits).
    z : list of ndarray
        ``z[l]`` of shape ``(n, h_l)`` for ``l = 1..L`` (``z[0]`` is None): pre-activations.
    """

    a: list
    z: list


class MLP:
    """A fully connected ReLU network, bias-free by default.

    Parameters
    ----------
    widths : sequence of int
        ``[d, h_1, ..., h_{L-1}, K]``: input width, hidden widths, number of outputs.
    bias : bool, default False
        Whether every non-input node has a bias (initialised to 0).
    rng : numpy.random.Generator, optional
        Source of randomness for the He initialisation. If None, a fresh unseeded generator
        is used; the global NumPy random state is never touched.

    Attributes
    ----------
    widths : list of int
    weights : list of ndarray
        ``weights[l]`` of shape ``(h_l, h_{l+1})``, float64; ``weights[l][i, j]`` is the
        paper's ``w^{l+1}(i, j)``.
    biases : list of ndarray or None
        ``biases[l]`` of shape ``(h_{l+1},)``.

    Raises
    ------
    ValueError
        Fewer than two widths or a width < 1 (see :func:`check_widths`).
    TypeError
        A width that is not an integer, ``bias`` not a bool, or ``rng`` not a
        ``numpy.random.Generator``.

    Notes
    -----
    He initialisation: ``weights[l][i, j] ~ N(0, 2 / h_l)``.

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019, section "Background".
    .. [2] K. He et al., "Delving Deep into Rectifiers", ICCV 2015.

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> net.forward(np.ones((5, 3))).shape
    (5, 2)
    >>> net.m, net.H
    (20, 4)
    """

    def __init__(self, widths: Sequence[int], bias: bool = False, rng=None):
        widths = check_widths(widths)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                f"got {type(rng).__name__}"
            )
        self.weights = [
            rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
            for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True)
        ]
        self.biases = [np.zeros(h) for h in widths[1:]] if bias else None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_weights(cls, weights, biases=None) -> MLP:
        """Build a network from given weights (and biases); the arrays are copied.

        Parameters
        ----------
        weights : sequence of array_like
            ``weights[l]`` of shape ``(h_l, h_{l+1})``; consecutive shapes must chain.
        biases : sequence of array_like, optional
            ``biases[l]`` of shape ``(h_{l+1},)``.

        Returns
        -------
        MLP

        Raises
        ------
        TypeError
            If ``weights`` is a single array or an empty sequence, or an entry is not a real
            numeric array.
        ValueError
            If an entry is not a non-empty 2-d array, the shapes do not chain, the number or
            shapes of the biases do not match, or values are non-finite.

        Examples
        --------
        >>> net = MLP.from_weights([[[1.0, -1.0]], [[2.0], [3.0]]])
        >>> net.widths
        [1, 2, 1]
        >>> float(net.forward([[1.0]])[0, 0])
        2.0
        """
        if isinstance(weights, np.ndarray) or len(weights) < 1:
            raise TypeError("weights must be a list of 2-d arrays, one per layer")
        ws = []
        for l, w in enumerate(weights):
            w = _as_float_array(w, f"weights[{l}]")
            if w.ndim != 2 or min(w.shape) < 1:
                raise ValueError(
                    f"weights[{l}] must be a non-empty 2-d array (h_l, h_l+1), got shape {w.shape}"
                )
            if ws and ws[-1].shape[1] != w.shape[0]:
                raise ValueError(
                    f"weights[{l - 1}] has shape {ws[-1].shape} but weights[{l}] has shape "
                    f"{w.shape}: the number of columns must equal the next number of rows"
                )
            ws.append(w)
        bs = None
        if biases is not None:
            if len(biases) != len(ws):
                raise ValueError(f"expected {len(ws)} bias vectors, got {len(biases)}")
            bs = []
            for l, (b, w) in enumerate(zip(biases, ws, strict=True)):
                b = _as_float_array(b, f"biases[{l}]")
                if b.shape != (w.shape[1],):
                    raise ValueError(f"biases[{l}] must have shape ({w.shape[1]},), got {b.shape}")
                bs.append(b)
        net = cls.__new__(cls)
        net.weights = ws
        net.biases = bs
        return net

    @classmethod
    def _wrap(cls, weights: list, biases: list | None) -> MLP:
        """Wrap arrays that are already float64, shaped and owned (no copy, no checks).

        For optimizers, which build fresh arrays and must not pay for a second copy.
        """
        net = cls.__new__(cls)
        net.weights = weights
        net.biases = biases
        return net

    def copy(self) -> MLP:
        """A deep copy of the network."""
        return MLP.from_weights(self.weights, self.biases)

    # ------------------------------------------------------------------ shape facts
    @property
    def widths(self) -> list[int]:
        """``[h_0, h_1, ..., h_L]``."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def L(self) -> int:
        """Number of weight layers."""
        return len(self.weights)

    @property
    def m(self) -> int:
        """Number of weights (biases not counted)."""
        return sum(w.size for w in self.weights)

    @property
    def H(self) -> int:
        """Number of hidden nodes, ``h_1 + ... + h_{L-1}``."""
        return sum(self.widths[1:-1])

    @property
    def has_bias(self) -> bool:
        return self.biases is not None

    def __repr__(self) -> str:
        return f"MLP(widths={self.widths}, bias={self.has_bias})"

    # ------------------------------------------------------------------ input checks
    def _check_X(self, X) -> np.ndarray:
        X = _as_float_array(X, "X")
        d = self.widths[0]
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X must have shape (n, {d}) for this network, got {X.shape}")
        if X.shape[0] < 1:
            raise ValueError("X must contain at least one sample")
        return X

    def _check_Y(self, Y, n: int, loss: str) -> np.ndarray:
        K = self.widths[-1]
        if loss == "mse":
            Y = _as_float_array(Y, "Y")
            if Y.shape != (n, K):
                raise ValueError(f"for loss='mse', Y must have shape ({n}, {K}), got {Y.shape}")
            return Y
        Y = np.asarray(Y)
        if Y.dtype.kind not in "iu":
            raise TypeError(
                f"for loss='cross_entropy', Y must be integer class labels, got dtype {Y.dtype}"
            )
        if Y.shape != (n,):
            raise ValueError(f"for loss='cross_entropy', Y must have shape ({n},), got {Y.shape}")
        if Y.size and (Y.min() < 0 or Y.max() >= K):
            raise ValueError(
                f"labels must lie in 0..{K - 1} for a network with {K} outputs, "
                f"got range {Y.min()}..{Y.max()}"
            )
        return Y.astype(np.intp)

    @staticmethod
    def _check_loss(loss: str) -> str:
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; accepted: {', '.join(LOSSES)}")
        return loss

    # ------------------------------------------------------------------ forward
    def forward_cache(self, X) -> ForwardCache:
        """Forward pass keeping every ``z^l`` and ``a^l`` for back-propagation.

        Parameters
        ----------
        X : array_like of shape (n, d)

        Returns
        -------
        ForwardCache
        """
        X = self._check_X(X)
        L = self.L
        a = [X]
        z = [None]
        for l in range(1, L + 1):
            z_l = a[l - 1] @ self.weights[l - 1]  # z^l = a^{l-1} W^l
            if self.biases is not None:
                z_l += self.biases[l - 1]  # ... + b^l
            z.append(z_l)
            a.append(np.maximum(z_l, 0.0) if l < L else z_l)  # relu on hidden, identity at L
        return ForwardCache(a=a, z=z)

    def forward(self, X) -> np.ndarray:
        """Logits ``N_w(X)`` of shape ``(n, K)``.

        Parameters
        ----------
        X : array_like of shape (n, d)

        Returns
        -------
        ndarray of shape (n, K)
        """
        return self.forward_cache(X).a[-1]

    __call__ = forward

    # ------------------------------------------------------------------ losses
    def _loss_and_output_error(self, logits, Y, loss):
        """Loss value and ``delta^L = d loss / d z^L`` (already divided by n)."""
        n = logits.shape[0]
        if loss == "mse":
            residual = logits - Y
            value = 0.5 * np.sum(residual**2) / n
            return value, residual / n
        # softmax cross-entropy, stabilised by subtracting the row maximum
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.sum(np.exp(shifted), axis=1))
        log_p = shifted - log_norm[:, None]
        value = -np.mean(log_p[np.arange(n), Y])
        delta = np.exp(log_p)
        delta[np.arange(n), Y] -= 1.0
        return value, delta / n

    def loss(self, X, Y, loss: str = "mse") -> float:
        """Mean loss over the samples (see :meth:`loss_and_gradients` for the definitions)."""
        loss = self._check_loss(loss)
        cache = self.forward_cache(X)  # checks X once
        Y = self._check_Y(Y, cache.a[0].shape[0], loss)
        value, _ = self._loss_and_output_error(cache.a[-1], Y, loss)
        return float(value)

    # ------------------------------------------------------------------ backward
    def backward(self, cache: ForwardCache, delta_L: np.ndarray) -> Gradients:
        """Back-propagate the output error ``delta^L`` through the network.

        Parameters
        ----------
        cache : ForwardCache
            From :meth:`forward_cache`.
        delta_L : ndarray of shape (n, K)
            ``d loss / d z^L``.

        Returns
        -------
        Gradients
            ``dW^l = (a^{l-1})^T delta^l`` and ``db^l = sum_n delta^l``, plus the per-node
            ``hidden_flow`` ``sum_n z^l delta^l`` for the hidden layers.
        """
        L = self.L
        a, z = cache.a, cache.z
        dW = [None] * L
        db = [None] * L if self.biases is not None else None
        flow = [None] * (L - 1)
        delta = delta_L
        for l in range(L, 0, -1):
            dW[l - 1] = a[l - 1].T @ delta  # dW^l = (a^{l-1})^T delta^l
            if db is not None:
                db[l - 1] = delta.sum(axis=0)  # db^l = sum over the batch of delta^l
            if l > 1:
                delta = delta @ self.weights[l - 1].T  # d loss / d a^{l-1}
                delta *= z[l - 1] > 0  # times relu'(z^{l-1}): delta^{l-1}
                flow[l - 2] = np.einsum("ni,ni->i", z[l - 1], delta)
        return Gradients(weights=dW, biases=db, hidden_flow=flow)

    def loss_and_gradients(self, X, Y, loss: str = "mse"):
        """Loss and its gradients by back-propagation.

        Parameters
        ----------
        X : array_like of shape (n, d)
        Y : array_like
            Shape ``(n, K)`` float targets for ``"mse"``; shape ``(n,)`` integer labels in
            ``0..K-1`` for ``"cross_entropy"``.
        loss : {"mse", "cross_entropy"}
            ``"mse"``: ``0.5 * mean_n sum_k (z^L_nk - Y_nk)^2``.
            ``"cross_entropy"``: ``mean_n (-log softmax(z^L_n)_{Y_n})``.

        Returns
        -------
        loss : float
        grads : Gradients
            ``grads.weights[l]`` has the shape of ``weights[l]``.

        Examples
        --------
        >>> import numpy as np
        >>> net = MLP([2, 3, 2], rng=np.random.default_rng(0))
        >>> loss, grads = net.loss_and_gradients(np.ones((4, 2)), np.array([0, 1, 1, 0]),
        ...                                      loss="cross_entropy")
        >>> [g.shape for g in grads.weights]
        [(2, 3), (3, 2)]
        """
        loss = self._check_loss(loss)
        cache = self.forward_cache(X)
        Y = self._check_Y(Y, cache.a[0].shape[0], loss)
        value, delta_L = self._loss_and_output_error(cache.a[-1], Y, loss)
        return float(value), self.backward(cache, delta_L)

    # ------------------------------------------------------------------ predictions
    def predict(self, X) -> np.ndarray:
        """Predicted class ``argmax_k N_w(X)_k`` of shape ``(n,)``."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of samples whose predicted class equals the label ``y``."""
        y = np.asarray(y)
        pred = self.predict(X)
        if y.shape != pred.shape:
            raise ValueError(f"y must have shape {pred.shape}, got {y.shape}")
        return float(np.mean(pred == y))

    # ------------------------------------------------------------------ flat views
    def flat_weights(self) -> np.ndarray:
        """All weights as one vector of length m, layer by layer, row-major in each layer.

        This is the edge numbering of the structure matrix.
        """
        return np.concatenate([w.ravel() for w in self.weights])

    def with_flat_weights(self, flat) -> MLP:
        """A new network with the weights taken from a flat vector (biases copied).

        Raises
        ------
        TypeError
            If ``flat`` is not a real numeric array.
        ValueError
            If ``flat`` does not have shape ``(m,)`` or holds non-finite values.
        """
        flat = _as_float_array(flat, "flat weights")
        if flat.shape != (self.m,):
            raise ValueError(f"flat weights must have shape ({self.m},), got {flat.shape}")
        ws, start = [], 0
        for w in self.weights:
            ws.append(flat[start : start + w.size].reshape(w.shape))
            start += w.size
        return MLP.from_weights(ws, self.biases)
