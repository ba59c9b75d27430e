"""A plain ReLU CNN with hand-written back-propagation, and its channel graph (claims C1-C4).

Plain means convolutions and ReLUs, no skip connections and no batch normalization: both
would break the positive scaling symmetry across a layer. The network, layer by layer::

    a^0 = X                                          (n, C_0, H, W) inputs
    z^l = conv(a^{l-1}, W^l, stride s_l) + b^l       pre-activations, l = 1..L-1
    a^l = avgpool_{p_l}(relu(z^l))                   (pooling only where p_l > 1)
    z^L = mean_{h, w}(a^{L-1}) W^L + b^L             (n, K) logits

``conv`` is a convolution in the deep-learning sense (cross-correlation, as
``torch.nn.functional.conv2d``) with zero padding ``k // 2``, so an odd kernel keeps the image
size at stride 1: ``H_out = (H - 1) // s + 1``. Kernels are stored in-channel first,
``weights[l]`` of shape ``(C_l, C_{l+1}, k, k)``, like an MLP weight ``(h_l, h_{l+1})`` with two
trailing tap axes; the last entry is the output matrix ``(C_{L-1}, K)``.

The channel graph (the G-space of a CNN): nodes are channels (``C_0`` inputs, ``H = C_1 + ... +
C_{L-1}`` hidden channels, ``K`` outputs) and every kernel entry ``W^l[i, j, t]`` is an edge
``i -> j``, so two channels are joined by ``k^2`` parallel edges. Scaling hidden channel ``j``
(in-kernels and bias times ``c``, out-kernels times ``1 / c``) leaves the function unchanged
(claim C1), and the paper's sections on paths, bases and G-SGD apply to this graph. An MLP is
the case ``k = 1`` on 1x1 images without pooling.

Back-propagation uses im2col: the zero-padded activations, stored channels-last
``(n, H, W, C)``, are unrolled by :func:`numpy.lib.stride_tricks.sliding_window_view` into a
matrix with one row per output position and one column per (tap, in-channel); a convolution
is then one matrix product, and its two gradients are two more. The batch is processed in
chunks of images small enough for that matrix to stay in the CPU cache; back-propagation
unrolls the inputs again rather than keeping ``k^2`` copies of every activation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import validation as V
from .core.basis import Skeleton
from .core.network import MLP, Gradients, loss_and_output_error

__all__ = ["PlainCNN", "im2col", "conv2d_forward", "conv2d_backward", "channel_graph"]
__all__ += ["draw_channel_graph"]

INITS = ("he", "skeleton-unit")


# ---------------------------------------------------------------------- convolution (im2col)
#: im2col runs over chunks of images whose unrolled matrix has about this many bytes, so that
#: it stays in the CPU cache between being written and being multiplied (benchmarks/bench_cnn.py)
CHUNK_BYTES = 2**20


def im2col(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    """Unroll the ``k x k`` windows of zero-padded channels-last images into a matrix.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C)
    k : int
        Odd kernel size; the padding is ``k // 2``.
    stride : int

    Returns
    -------
    ndarray of shape (n * H_out * W_out, k * k * C)
        Row ``(n, y, x)``, column ``(a, b, c)``: ``xpad[n, stride * y + a, stride * x + b, c]``,
        with ``H_out = (H - 1) // stride + 1``.
    """
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    win = sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::stride, ::stride]  # (n,Ho,Wo,C,k,k)
    cols = np.empty(win.shape[:3] + (k, k, x.shape[3]))
    cols[...] = win.transpose(0, 1, 2, 4, 5, 3)  # the one copy
    return cols.reshape(-1, k * k * x.shape[3])


def _col2im(dcols: np.ndarray, shape, k: int, stride: int) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every window's entries back onto the image."""
    n, H, W, C = shape
    p, s = k // 2, stride
    Ho, Wo = (H - 1) // s + 1, (W - 1) // s + 1
    dcols = dcols.reshape(n, Ho, Wo, k, k, C)
    dxp = np.zeros((n, H + 2 * p, W + 2 * p, C))
    for a in range(k):
        for b in range(k):
            dxp[:, a : a + s * (Ho - 1) + 1 : s, b : b + s * (Wo - 1) + 1 : s] += dcols[
                :, :, :, a, b
            ]
    return dxp[:, p : p + H, p : p + W]


def _chunks(x: np.ndarray, k: int, stride: int) -> list:
    """Slices of the batch, each unrolling to about CHUNK_BYTES."""
    n, H, W, C = x.shape
    per_image = ((H - 1) // stride + 1) * ((W - 1) // stride + 1) * k * k * C * 8
    step = max(1, CHUNK_BYTES // per_image)
    return [slice(i, i + step) for i in range(0, n, step)]


def conv2d_forward(x: np.ndarray, W: np.ndarray, stride: int) -> np.ndarray:
    """Zero-padded strided convolution (cross-correlation) of channels-last images.

    Parameters
    ----------
    x : ndarray of shape (n, H, W, C_in)
    W : ndarray of shape (C_in, C_out, k, k), k odd
    stride : int

    Returns
    -------
    ndarray of shape (n, H_out, W_out, C_out)
        ``z[n, y, x, j] = sum_{i, a, b} xpad[n, s y + a, s x + b, i] W[i, j, a, b]``: one
        matrix product ``im2col(x) @ W`` (``W`` reshaped to ``(k * k * C_in, C_out)``).

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> conv2d_forward(x, np.ones((1, 1, 3, 3)), 1)[0, :, :, 0]  # 3x3 box sums
    array([[ 8., 15., 12.],
           [21., 36., 27.],
           [20., 33., 24.]])
    """
    C_in, C_out, k, _ = W.shape
    n, H, Wd, _ = x.shape
    Wm = W.transpose(2, 3, 0, 1).reshape(k * k * C_in, C_out)
    z = np.empty((n, (H - 1) // stride + 1, (Wd - 1) // stride + 1, C_out))
    for sl in _chunks(x, k, stride):
        np.matmul(im2col(x[sl], k, stride), Wm, out=z[sl].reshape(-1, C_out))
    return z


def conv2d_backward(dz: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int, input_grad=True):
    """Gradients of :func:`conv2d_forward` with respect to the kernel and the input.

    Parameters
    ----------
    dz : ndarray of shape (n, H_out, W_out, C_out)
        ``d loss / d z``.
    x, W, stride
        As for :func:`conv2d_forward`.
    input_grad : bool, default True
        False skips ``dx`` (the first layer needs no input gradient).

    Returns
    -------
    dW : ndarray of shape (C_in, C_out, k, k)
        ``im2col(x)^T dz``, reshaped.
    dx : ndarray of the shape of ``x``, or None
        ``dz W^T`` folded back onto the image (col2im).
    """
    C_in, C_out, k, _ = W.shape
    Wm = W.transpose(2, 3, 0, 1).reshape(k * k * C_in, C_out)
    dWm = np.zeros((k * k * C_in, C_out))
    dx = np.empty(x.shape) if input_grad else None
    for sl in _chunks(x, k, stride):  # im2col again, in the cache, instead of storing it
        cols, d = im2col(x[sl], k, stride), dz[sl].reshape(-1, C_out)
        dWm += cols.T @ d
        if input_grad:
            dx[sl] = _col2im(d @ Wm.T, x[sl].shape, k, stride)
    return np.ascontiguousarray(dWm.reshape(k, k, C_in, C_out).transpose(2, 3, 0, 1)), dx


def _avgpool(a: np.ndarray, p: int) -> np.ndarray:
    """Mean over non-overlapping ``p x p`` windows of ``(n, H, W, C)`` (remainder dropped)."""
    n, H, W, C = a.shape
    return a[:, : H // p * p, : W // p * p].reshape(n, H // p, p, W // p, p, C).mean(axis=(2, 4))


def _avgpool_backward(d: np.ndarray, shape, p: int) -> np.ndarray:
    """Spread ``d loss / d pooled`` evenly over each window (zeros on a dropped remainder)."""
    n, Hp, Wp, C = d.shape
    out = np.zeros(shape)
    spread = np.broadcast_to((d / p**2)[:, :, None, :, None], (n, Hp, p, Wp, p, C))
    out[:, : Hp * p, : Wp * p] = spread.reshape(n, Hp * p, Wp * p, C)
    return out


# ---------------------------------------------------------------------- input checks
def _int_list(values, n: int, name: str) -> tuple:
    """``values`` as a tuple of ``n`` ints >= 1 (an int is repeated ``n`` times)."""
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = [values] * n
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"{name} must be an int or a list of {n} ints, got {values!r}") from None
    if len(values) != n:
        raise ValueError(f"{name} needs one entry per convolution layer ({n}), got {values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"every entry of {name} must be an integer, got {v!r} in {values!r}")
        if v < 1:
            raise ValueError(f"every entry of {name} must be >= 1, got {v} in {values!r}")
    return tuple(int(v) for v in values)


def _check_cnn(weights, strides, biases, pool):
    """Validated float64 copies ``(weights, strides, biases, pool)`` of a PlainCNN's parameters."""
    if isinstance(weights, np.ndarray) or len(weights) < 2:
        raise TypeError(
            "weights must be a list of conv kernels (C_in, C_out, k, k), at least one, "
            "followed by the output matrix (C_last, K)"
        )
    ws, L = [], len(weights)
    for l, w in enumerate(weights):
        w = V.float_array(w, f"weights[{l}]")
        if l < L - 1 and (w.ndim != 4 or w.shape[2] != w.shape[3]):
            raise ValueError(
                f"weights[{l}] must be a conv kernel of shape (C_in, C_out, k, k), got {w.shape}"
            )
        if l < L - 1 and w.shape[2] % 2 == 0:
            raise ValueError(
                f"weights[{l}] has an even kernel size {w.shape[2]}; only odd sizes are "
                f"supported (zero padding k // 2 must centre the kernel)"
            )
        if l == L - 1 and w.ndim != 2:
            raise ValueError(f"weights[{l}] (output layer) must be 2-d (C_last, K), got {w.shape}")
        if min(w.shape) < 1:
            raise ValueError(f"weights[{l}] must not be empty, got shape {w.shape}")
        if ws and ws[-1].shape[1] != w.shape[0]:
            raise ValueError(
                f"weights[{l - 1}] has {ws[-1].shape[1]} out-channels but weights[{l}] has "
                f"{w.shape[0]} in-channels"
            )
        ws.append(w)
    strides = _int_list(1 if strides is None else strides, L - 1, "strides")
    pool = _int_list(1 if pool is None else pool, L - 1, "pool")
    if biases is not None:
        if isinstance(biases, np.ndarray) or len(biases) != L:
            raise ValueError(f"biases must be a list of {L} vectors, one per layer")
        biases = [V.float_array(b, f"biases[{l}]") for l, b in enumerate(biases)]
        for l, (b, w) in enumerate(zip(biases, ws, strict=True)):
            if b.shape != (w.shape[1],):
                raise ValueError(f"biases[{l}] must have shape ({w.shape[1]},), got {b.shape}")
    return ws, strides, biases, pool


# ---------------------------------------------------------------------- the network
@dataclass(frozen=True)
class CNNCache:
    """What the forward pass keeps for back-propagation (arrays channels-last).

    Attributes
    ----------
    a : list of ndarray
        ``a[l]`` for ``l = 0..L-1``: the input of layer ``l + 1``, shape ``(n, H_l, W_l, C_l)``
        (after ReLU and pooling); ``a[L]`` the logits ``(n, K)``.
    z : list
        ``z[0]`` None; ``z[l]`` the pre-activations of conv layer ``l`` (``(n, H, W, C_l)``,
        before pooling); ``z[L]`` the logits.
    """

    a: list
    z: list


class PlainCNN:
    """A plain ReLU CNN: convolutions, ReLU, optional average pooling, global average pooling,
    a linear output layer. Bias-free by default.

    Parameters
    ----------
    in_channels : int
        ``C_0``.
    channels : sequence of int
        ``[C_1, ..., C_{L-1}]``, one entry per convolution layer (at least one).
    kernel_size : int or sequence of int, default 3
        Odd kernel sizes, one for all layers or one per conv layer.
    strides : int or sequence of int, optional
        Default 1 for every conv layer.
    n_classes : int, default 10
        ``K``.
    bias : bool, default False
        A bias (initialised to 0) for every channel of every conv layer and every output.
    pool : int or sequence of int, optional
        Average pooling ``p x p`` (stride ``p``) after the ReLU of each conv layer; 1 = none
        (the default).
    init : {"he", "skeleton-unit"}, default "he"
        ``"he"``: ``W^l ~ N(0, 2 / (C_{l-1} k^2))``, output ``N(0, 2 / C_{L-1})``.
        ``"skeleton-unit"``: the same, then :meth:`skeleton_unit`.
    rng : numpy.random.Generator, optional
        The only source of randomness; a fresh unseeded generator if None.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` of shape ``(C_l, C_{l+1}, k_l, k_l)`` for the conv layers, then the
        output matrix ``(C_{L-1}, K)``; float64.
    biases : list of ndarray or None
        ``biases[l]`` of shape ``(C_{l+1},)``.
    strides, pool : tuple of int
        One entry per conv layer.

    Raises
    ------
    TypeError, ValueError
        Bad counts, sizes or strides (the message names the parameter), an even kernel size,
        an unknown ``init``, ``rng`` not a ``numpy.random.Generator``.

    Notes
    -----
    Any image of at least 1x1 pixel can be fed (zero padding ``k // 2`` keeps ``H_out =
    (H - 1) // s + 1 >= 1``), unless a pooling window is larger than the map it pools.

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019 (plain nets: section "Experiments"; the authors' code
       takes the centre tap of each kernel as the skeleton weight).

    Examples
    --------
    >>> import numpy as np
    >>> net = PlainCNN(1, [4, 8], strides=[1, 2], n_classes=3, rng=np.random.default_rng(0))
    >>> net.forward(np.ones((2, 1, 6, 6))).shape
    (2, 3)
    >>> net.widths, net.m, net.H
    ([1, 4, 8, 3], 348, 12)
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        kernel_size=3,
        strides=None,
        n_classes: int = 10,
        bias: bool = False,
        pool=None,
        init: str = "he",
        rng=None,
    ):
        if isinstance(channels, (int, np.integer)) or not isinstance(channels, Sequence):
            raise TypeError(f"channels must be a list of ints [C_1, ...], got {channels!r}")
        widths = V.widths([in_channels, *channels, n_classes])
        if len(widths) < 3:
            raise ValueError("channels must list at least one convolution layer")
        ks = _int_list(kernel_size, len(channels), "kernel_size")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; accepted: {', '.join(INITS)}")
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        weights = [
            rng.normal(0.0, np.sqrt(2.0 / (ci * k * k)), size=(ci, co, k, k))
            for ci, co, k in zip(widths[:-2], widths[1:-1], ks, strict=True)
        ]
        weights.append(rng.normal(0.0, np.sqrt(2.0 / widths[-2]), size=widths[-2:]))
        biases = [np.zeros(c) for c in widths[1:]] if bias else None
        self.weights, self.strides, self.biases, self.pool = _check_cnn(
            weights, strides, biases, pool
        )
        if init == "skeleton-unit":
            self.weights = self.skeleton_unit().weights

    @classmethod
    def from_weights(cls, weights, strides=None, biases=None, pool=None) -> PlainCNN:
        """Build a network from given kernels (and biases); the arrays are copied.

        Parameters
        ----------
        weights : sequence of array_like
            Conv kernels ``(C_in, C_out, k, k)`` (``k`` odd), then the output matrix
            ``(C_last, K)``; channel counts must chain.
        strides, pool : int or sequence of int, optional
            Per conv layer; default 1.
        biases : sequence of array_like, optional
            ``biases[l]`` of shape ``(weights[l].shape[1],)``.

        Returns
        -------
        PlainCNN

        Raises
        ------
        TypeError
            ``weights`` not a list of at least two arrays, non-numeric arrays, non-integer
            strides.
        ValueError
            Wrong shapes, even kernel sizes, non-finite values, strides or pool sizes < 1.

        Examples
        --------
        >>> net = PlainCNN.from_weights([np.ones((1, 2, 1, 1)), np.ones((2, 1))])
        >>> float(net.forward(np.full((1, 1, 2, 2), 3.0))[0, 0])
        6.0
        """
        net = cls.__new__(cls)
        net.weights, net.strides, net.biases, net.pool = _check_cnn(weights, strides, biases, pool)
        return net

    def with_params(self, weights: list, biases: list | None) -> PlainCNN:
        """A network of this architecture holding the given arrays (not copied, not checked):
        the layered-network protocol of :mod:`gspace.core.network`."""
        net = copy.copy(self)
        net.weights, net.biases = list(weights), biases
        return net

    def copy(self) -> PlainCNN:
        """A deep copy of the network."""
        return PlainCNN.from_weights(self.weights, self.strides, self.biases, self.pool)

    def skeleton_unit(self) -> PlainCNN:
        """A copy with every skeleton weight (centre tap) set to 1, as the authors' code does.

        The skeleton is :meth:`gspace.Skeleton.default` on the channel graph's widths; a conv
        layer's pi- and sigma-edges are the centre taps ``W^l[i, j, k // 2, k // 2]`` of the
        skeleton channel pairs. Like the MLP's :func:`gspace.skeleton_unit` this changes the
        function: it is an initialization, not a G transformation.
        """
        sk = Skeleton.default(self.widths)
        weights = [w.copy() for w in self.weights]
        for l, w in enumerate(weights):
            centre = tuple(s // 2 for s in w.shape[2:])
            w[(sk.pi_mask(l) | sk.sigma_mask(l), *centre)] = 1.0
        return PlainCNN.from_weights(weights, self.strides, self.biases, self.pool)

    # ------------------------------------------------------------------ shape facts
    @property
    def widths(self) -> list[int]:
        """Channel graph widths ``[C_0, C_1, ..., C_{L-1}, K]``."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def kernel_sizes(self) -> list[int]:
        return [w.shape[2] for w in self.weights[:-1]]

    @property
    def L(self) -> int:
        """Number of weight layers (conv layers + the output layer)."""
        return len(self.weights)

    @property
    def m(self) -> int:
        """Number of edges of the channel graph: all kernel entries and output weights."""
        return sum(w.size for w in self.weights)

    @property
    def H(self) -> int:
        """Number of hidden channels ``C_1 + ... + C_{L-1}``."""
        return sum(self.widths[1:-1])

    @property
    def has_bias(self) -> bool:
        return self.biases is not None

    def __repr__(self) -> str:
        return (
            f"PlainCNN(widths={self.widths}, kernel_sizes={self.kernel_sizes}, "
            f"strides={list(self.strides)}, pool={list(self.pool)}, bias={self.has_bias})"
        )

    def _check_X(self, X) -> np.ndarray:
        """X as float64 channels-last ``(n, H, W, C_0)``, after checking shape and sizes."""
        X = V.float_array(X, "X")
        C0 = self.widths[0]
        if X.ndim != 4 or X.shape[1] != C0:
            raise ValueError(f"X must have shape (n, {C0}, H, W) for this network, got {X.shape}")
        if min(X.shape) < 1:
            raise ValueError(f"X must hold at least one image of at least 1x1 pixel, got {X.shape}")
        size = X.shape[2:]
        for l, (s, p) in enumerate(zip(self.strides, self.pool, strict=True)):
            size = tuple((h - 1) // s + 1 for h in size)
            if min(size) < p:
                raise ValueError(
                    f"images of {X.shape[2]}x{X.shape[3]} pixels are too small for this network: "
                    f"conv layer {l + 1} outputs {size[0]}x{size[1]}, less than its pool size {p}"
                )
            size = tuple(h // p for h in size)
        return X.transpose(0, 2, 3, 1)

    # ------------------------------------------------------------------ forward, backward
    def forward_cache(self, X) -> CNNCache:
        """Forward pass keeping activations and pre-activations for back-propagation.

        Parameters
        ----------
        X : array_like of shape (n, C_0, H, W)

        Returns
        -------
        CNNCache
        """
        a, z = [self._check_X(X)], [None]
        for l, W in enumerate(self.weights[:-1]):
            z_l = conv2d_forward(a[l], W, self.strides[l])  # z^l = conv(a^{l-1}, W^l)
            if self.biases is not None:
                z_l += self.biases[l]  # ... + b^l
            a_l = np.maximum(z_l, 0.0)  # relu
            a.append(_avgpool(a_l, self.pool[l]) if self.pool[l] > 1 else a_l)
            z.append(z_l)
        logits = a[-1].mean(axis=(1, 2)) @ self.weights[-1]  # global average pool, W^L
        if self.biases is not None:
            logits += self.biases[-1]
        return CNNCache(a=[*a, logits], z=[*z, logits])

    def forward(self, X) -> np.ndarray:
        """Logits of shape ``(n, K)`` for images ``X`` of shape ``(n, C_0, H, W)``."""
        return self.forward_cache(X).a[-1]

    __call__ = forward

    def backward(self, cache: CNNCache, delta_L: np.ndarray) -> Gradients:
        """Back-propagate ``delta^L = d loss / d z^L`` (shape ``(n, K)``).

        Returns
        -------
        Gradients
            ``weights[l]`` shaped like the network's, ``biases`` (or None), and
            ``hidden_flow[l - 1] = sum_{n, y, x} z^l * delta^l`` of shape ``(C_l,)`` for every
            hidden channel: the sum of ``w * dl/dw`` over its in-kernels and bias, which by
            claim I2 on the channel graph also equals the sum over its out-kernels.
        """
        L, a, z = self.L, cache.a, cache.z
        dW, flow = [None] * L, [None] * (L - 1)
        db = [None] * L if self.biases is not None else None
        pooled = a[L - 1]
        dW[L - 1] = pooled.mean(axis=(1, 2)).T @ delta_L
        da = delta_L @ self.weights[L - 1].T / (pooled.shape[1] * pooled.shape[2])
        da = np.broadcast_to(da[:, None, None, :], pooled.shape)  # global average pooling
        for l in range(L - 1, 0, -1):
            if self.pool[l - 1] > 1:
                da = _avgpool_backward(da, z[l].shape, self.pool[l - 1])
            delta = da * (z[l] > 0)  # delta^l = d loss / d z^l
            flow[l - 1] = np.einsum("nyxc,nyxc->c", z[l], delta)
            dW[l - 1], da = conv2d_backward(
                delta, a[l - 1], self.weights[l - 1], self.strides[l - 1], input_grad=l > 1
            )
            if db is not None:
                db[l - 1] = delta.sum(axis=(0, 1, 2))
        if db is not None:
            db[L - 1] = delta_L.sum(axis=0)
        return Gradients.from_backprop(dW, db, flow, self.weights)

    # ------------------------------------------------------------------ losses (as the MLP's)
    def loss(self, X, Y, loss: str = "cross_entropy") -> float:
        """Mean loss over the images (definitions as :meth:`gspace.MLP.loss_and_gradients`)."""
        return self.loss_and_gradients(X, Y, loss, gradients=False)[0]

    def loss_and_gradients(self, X, Y, loss: str = "cross_entropy", gradients: bool = True):
        """Loss and its gradients by back-propagation.

        Parameters
        ----------
        X : array_like of shape (n, C_0, H, W)
        Y : array_like
            ``(n,)`` integer labels for ``"cross_entropy"``; ``(n, K)`` targets for ``"mse"``.
        loss : {"cross_entropy", "mse"}
            As for :meth:`gspace.MLP.loss_and_gradients`.
        gradients : bool, default True
            False skips back-propagation (returns ``(loss, None)``).

        Returns
        -------
        loss : float
        grads : Gradients
            ``grads.weights[l]`` has the shape of ``weights[l]``.

        Examples
        --------
        >>> net = PlainCNN(2, [3], n_classes=2, rng=np.random.default_rng(0))
        >>> _, g = net.loss_and_gradients(np.ones((4, 2, 5, 5)), np.array([0, 1, 1, 0]))
        >>> [w.shape for w in g.weights], g.hidden_flow[0].shape
        ([(2, 3, 3, 3), (3, 2)], (3,))
        """
        # the losses are the MLP's: same definitions, same checks, one implementation
        loss = V.loss_name(loss)
        cache = self.forward_cache(X)
        Y = V.targets(self, Y, cache.a[0].shape[0], loss)
        value, delta_L = loss_and_output_error(cache.a[-1], Y, loss)
        return float(value), (self.backward(cache, delta_L) if gradients else None)

    def predict(self, X) -> np.ndarray:
        """Predicted classes ``argmax_k`` of the logits, shape ``(n,)``."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of images whose predicted class equals the label ``y``."""
        return MLP.accuracy(self, X, y)


# ---------------------------------------------------------------------- the channel graph
def channel_graph(net: PlainCNN) -> nx.MultiDiGraph:
    """The channel graph of a PlainCNN: channels are nodes, kernel taps parallel edges.

    Parameters
    ----------
    net : PlainCNN

    Returns
    -------
    networkx.MultiDiGraph
        Nodes ``(l, i)`` (channel ``i`` of layer ``l``, attributes ``layer``, ``index``,
        ``bias=False``); with biases, one node ``("bias", l)`` per layer feeding layer ``l + 1``.
        Edges keyed by their tap ``(a, b)`` (``()`` for the output matrix and biases), with
        ``weight``, ``edge`` (index in the flat numbering: layer by layer, row-major in
        ``weights[l]``, then the biases), ``sigma``, ``pi`` and ``skeleton`` (whether the edge
        is the centre tap of a pair in :meth:`gspace.Skeleton.default` of the channel widths).

    Examples
    --------
    >>> net = PlainCNN(1, [2, 2], n_classes=3, rng=np.random.default_rng(0))
    >>> G = channel_graph(net)
    >>> G.number_of_nodes(), G.number_of_edges() == net.m
    (8, True)
    >>> G.number_of_edges((1, 0), (2, 1))
    9
    """
    if not isinstance(net, PlainCNN):
        raise TypeError(f"net must be a gspace.PlainCNN, got {type(net).__name__}")
    widths, sk = net.widths, Skeleton.default(net.widths)
    G = nx.MultiDiGraph(widths=widths)
    for l, h in enumerate(widths):
        G.add_nodes_from(((l, i), {"layer": l, "index": i, "bias": False}) for i in range(h))
    e = 0
    for l, w in enumerate(net.weights):
        sig, pim = sk.sigma_mask(l), sk.pi_mask(l)
        centre = tuple(s // 2 for s in w.shape[2:])
        for idx in np.ndindex(w.shape):
            (i, j), tap = idx[:2], idx[2:]
            on = tap == centre
            attrs = {"weight": float(w[idx]), "edge": e, "sigma": on and bool(sig[i, j])}
            attrs.update(pi=on and bool(pim[i, j]))
            G.add_edge((l, i), (l + 1, j), key=tap, skeleton=attrs["sigma"] or attrs["pi"], **attrs)
            e += 1
    for l, b in enumerate(net.biases or []):
        G.add_node(("bias", l), layer=l, index=-1, bias=True)
        for j, bj in enumerate(b):
            G.add_edge(("bias", l), (l + 1, j), key=(), weight=float(bj), edge=e, skeleton=False)
            G.edges[("bias", l), (l + 1, j), ()].update(sigma=False, pi=False)
            e += 1
    return G


def draw_channel_graph(net: PlainCNN, ax=None, max_nodes: int = 80):
    """Draw the channel graph compactly: each bundle of parallel edges once, with its count.

    Parameters
    ----------
    net : PlainCNN
    ax : matplotlib.axes.Axes, optional
    max_nodes : int, default 80
        Refuse to draw more channels than this.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    A bundle is labelled ``k x k`` by the number of its parallel edges; skeleton bundles (whose
    centre tap is a pi-edge, blue, or a sigma-edge, red; purple if both) are drawn thick. Bias
    nodes are not drawn.

    Examples
    --------
    >>> ax = draw_channel_graph(PlainCNN(1, [2, 2], n_classes=2, rng=np.random.default_rng(0)))
    >>> ax.get_title()
    'channel graph [1, 2, 2, 2]: 58 edges in 10 bundles'
    """
    import matplotlib.pyplot as plt

    widths = net.widths
    if sum(widths) > max_nodes:
        raise ValueError(f"{sum(widths)} channels is too many to draw (max_nodes={max_nodes})")
    G = channel_graph(net)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.6 * len(widths), 1.0 + 0.45 * max(widths)))
    pos = {(l, i): (l, (h - 1) / 2 - i) for l, h in enumerate(widths) for i in range(h)}
    bundles = {}
    for u, v, d in G.edges(data=True):
        if u in pos:
            c = bundles.setdefault((u, v), [0, False, False])
            c[0], c[1], c[2] = c[0] + 1, c[1] or d["pi"], c[2] or d["sigma"]
    colors = {(True, True): "tab:purple", (True, False): "tab:blue", (False, True): "tab:red"}
    for (u, v), (count, pi, sigma) in bundles.items():
        (x0, y0), (x1, y1) = pos[u], pos[v]
        color, lw = colors.get((pi, sigma), "0.7"), 2.5 if pi or sigma else 0.8
        ax.plot([x0, x1], [y0, y1], color=color, lw=lw, zorder=2 if pi or sigma else 1)
        if count > 1:
            k = int(round(count**0.5))
            ax.text(
                x0 + 0.3 * (x1 - x0),
                y0 + 0.3 * (y1 - y0),
                f"{k}x{k}",
                fontsize=6,
                ha="center",
                va="center",
                color=color,
                bbox={"fc": "white", "lw": 0, "pad": 0.5},
            )
    ax.scatter(*zip(*pos.values(), strict=True), s=160, c="white", edgecolors="black", zorder=3)
    ax.set_xticks(range(len(widths)))
    ax.set_xticklabels(["inputs"] + [f"conv {l}" for l in range(1, len(widths) - 1)] + ["outputs"])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    n_w = sum(w.size for w in net.weights)
    ax.set_title(f"channel graph {widths}: {n_w} edges in {len(bundles)} bundles")
    return ax
