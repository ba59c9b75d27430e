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

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy as sp
from numpy.lib.stride_tricks import sliding_window_view

from . import validation as V
from .core.basis import Skeleton
from .core.network import MLP, Gradients, loss_and_output_error
from .core.paths import rank_svd
from .initialization import INITS, skeleton_unit

__all__ = ["PlainCNN", "im2col", "conv2d_forward", "conv2d_backward", "channel_graph"]
__all__ += ["draw_channel_graph", "ChannelMatrices"]

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


def _col2im(dcols: np.ndarray, dxp: np.ndarray, k: int, stride: int) -> None:
    """Adjoint of :func:`im2col`: add every window's entries onto the padded image ``dxp``."""
    n, Hp, Wp, C = dxp.shape
    s, Ho, Wo = stride, (Hp - k) // stride + 1, (Wp - k) // stride + 1
    dcols = dcols.reshape(n, Ho, Wo, k, k, C)
    for a in range(k):
        for b in range(k):
            dxp[:, a : a + s * (Ho - 1) + 1 : s, b : b + s * (Wo - 1) + 1 : s] += dcols[
                :, :, :, a, b
            ]


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
    dx : ndarray of the shape of ``x`` (a view into the padded image), or None
        ``dz W^T`` folded back onto the image (col2im).
    """
    C_in, C_out, k, _ = W.shape
    Wm = W.transpose(2, 3, 0, 1).reshape(k * k * C_in, C_out)
    dWm = np.zeros((k * k * C_in, C_out))
    n, H, Wd, _ = x.shape
    p = k // 2
    dxp = np.zeros((n, H + 2 * p, Wd + 2 * p, C_in)) if input_grad else None
    for sl in _chunks(x, k, stride):  # im2col again, in the cache, instead of storing it
        cols, d = im2col(x[sl], k, stride), dz[sl].reshape(-1, C_out)
        dWm += cols.T @ d
        if input_grad:
            _col2im(d @ Wm.T, dxp[sl], k, stride)
    dx = dxp[:, p : p + H, p : p + Wd] if input_grad else None
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
        ``"skeleton-unit"``: the same, then :func:`gspace.skeleton_unit` (the centre taps of
        the skeleton channel pairs set to 1, as the authors' code does).
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
        widths, ks, rng = V.cnn_args(in_channels, channels, n_classes, kernel_size, bias, rng)
        V.choice(init, INITS, "init")
        weights = [
            rng.normal(0.0, np.sqrt(2.0 / (ci * k * k)), size=(ci, co, k, k))
            for ci, co, k in zip(widths[:-2], widths[1:-1], ks)
        ]
        weights.append(rng.normal(0.0, np.sqrt(2.0 / widths[-2]), size=widths[-2:]))
        biases = [np.zeros(c) for c in widths[1:]] if bias else None
        layers = V.cnn_layers(weights, strides, biases, pool)
        self.weights, self.strides, self.biases, self.pool = layers
        if init == "skeleton-unit":
            self.weights = skeleton_unit(self).weights

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
            ``weights`` not a list of at least two arrays, or non-numeric arrays.
        ValueError
            Wrong shapes, even kernel sizes, non-finite values, strides or pool sizes that are
            not integers >= 1.

        Examples
        --------
        >>> net = PlainCNN.from_weights([np.ones((1, 2, 1, 1)), np.ones((2, 1))])
        >>> float(net.forward(np.full((1, 1, 2, 2), 3.0))[0, 0])
        6.0
        """
        net = cls.__new__(cls)
        net.weights, net.strides, net.biases, net.pool = V.cnn_layers(
            weights, strides, biases, pool
        )
        return net

    def with_params(self, weights: list, biases: list | None) -> PlainCNN:
        """A network with this one's strides and pooling holding the given arrays (not copied,
        not checked): how the optimizers build their result."""
        net = PlainCNN.__new__(PlainCNN)
        net.weights, net.biases, net.strides, net.pool = weights, biases, self.strides, self.pool
        return net

    def copy(self) -> PlainCNN:
        """A deep copy of the network."""
        return PlainCNN.from_weights(self.weights, self.strides, self.biases, self.pool)

    # ------------------------------------------------------------------ shape facts
    # The MLP's, read from the weights: widths [C_0, C_1, ..., K] of the channel graph, L weight
    # layers, m edges (all kernel entries and output weights), H hidden channels; weights then
    # biases as one flat vector in the channel graph's edge order; predictions.
    widths, L, m, H, has_bias = MLP.widths, MLP.L, MLP.m, MLP.H, MLP.has_bias
    flat_params, with_flat_params = MLP.flat_params, MLP.with_flat_params
    predict, accuracy = MLP.predict, MLP.accuracy

    @property
    def kernel_sizes(self) -> list[int]:
        return [w.shape[2] for w in self.weights[:-1]]

    def __repr__(self) -> str:
        return (
            f"PlainCNN(widths={self.widths}, kernel_sizes={self.kernel_sizes}, "
            f"strides={list(self.strides)}, pool={list(self.pool)}, bias={self.has_bias})"
        )

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
        return self._forward(V.inputs(self, X))

    def _forward(self, X: np.ndarray) -> CNNCache:
        a, z = [X.transpose(0, 2, 3, 1)], [None]  # channels-last inside
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
        return self.loss_and_gradients(X, Y, loss, backward=False)[0]

    def loss_and_gradients(self, X, Y, loss: str = "cross_entropy", backward: bool = True):
        """Loss and its gradients by back-propagation.

        Parameters
        ----------
        X : array_like of shape (n, C_0, H, W)
        Y : array_like
            ``(n,)`` integer labels for ``"cross_entropy"``; ``(n, K)`` targets for ``"mse"``.
        loss : {"cross_entropy", "mse"}
            As for :meth:`gspace.MLP.loss_and_gradients`.
        backward : bool, default True
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
        X, Y = V.batch(self, X, Y, loss)
        cache = self._forward(X)
        value, delta = loss_and_output_error(cache.a[-1], Y, loss)  # the MLP's losses
        return float(value), (self.backward(cache, delta) if backward else None)


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


# ---------------------------------------------------------------------- explicit matrices
class ChannelMatrices:
    r"""The channel graph's explicit matrices: an independent, dense route (claims C2-C4).

    Paths are listed by ``networkx.all_simple_edge_paths`` on :func:`channel_graph` (one edge,
    that is a channel pair and a tap, per layer; bias paths start at a bias node); rows are the
    ``M`` parameters in the flat numbering (weights, then biases). For small networks only: the
    matrices are dense.

    Attributes
    ----------
    A : scipy.sparse.csc_array of shape (M, n_paths)
        The structure matrix, ``A[e, p] = 1`` iff edge ``e`` is on path ``p``; its rank is
        ``M - H`` (claim C2, :meth:`rank`).
    basis : list of tuple
        The centre-tap basis (claim C3): for every edge ``e = (a -> b)`` that is not a
        sigma-edge, in edge order, the edges of in-chain(a) + e + out-chain(b).
    Ab, B : ndarray
        ``A'`` ``(M, M - H)``, the basis columns, and ``B`` ``(M, H)``, a unit column per
        sigma-edge.
    sigma : ndarray of bool, shape (M,)

    Notes
    -----
    G-SGD the way the paper writes it: ICR solves :math:`F = A' u` with :math:`F = w \odot g`
    on the rows of the non-sigma edges (a square system; the other ``H`` rows hold iff the
    balance identity I2 does, see :meth:`icr_residual`) and
    :math:`\partial l / \partial v = u / v`; Weight-Allocation solves
    :math:`[B, A']^T \log|w'| = (\log|w_\sigma|, \log|v'|)`, and since ``[B, A']`` is
    unimodular the sign bits solve the same system over the integers.

    Examples
    --------
    >>> net = PlainCNN(1, [2], n_classes=2, rng=np.random.default_rng(0))
    >>> cm = ChannelMatrices(net)
    >>> cm.A.shape, cm.rank(), net.m - net.H
    ((22, 36), 20, 20)
    """

    def __init__(self, net: PlainCNN):
        G = channel_graph(net)
        nodes = G.nodes(data=True)
        outs = [n for n, d in nodes if d["layer"] == net.L and not d["bias"]]
        srcs = [n for n, d in nodes if d["bias"] or d["layer"] == 0]
        self.paths = [tuple(G.edges[e]["edge"] for e in p) for s in srcs
                      for p in nx.all_simple_edge_paths(G, s, outs)]  # fmt: skip
        self.M, self.H = G.number_of_edges(), net.H
        self.A = self._columns(self.paths, sparse=True)
        pi_in = {v: (u, d["edge"]) for u, v, d in G.edges(data=True) if d["pi"]}
        sigma_out = {u: (v, d["edge"]) for u, v, d in G.edges(data=True) if d["sigma"]}
        self.sigma = np.isin(np.arange(self.M), [e for _, e in sigma_out.values()])

        def in_chain(n):  # the pi-edges from an input up to channel n
            return in_chain(pi_in[n][0]) + [pi_in[n][1]] if n in pi_in else []

        def out_chain(n):  # the sigma-edges from channel n up to an output
            return [sigma_out[n][1]] + out_chain(sigma_out[n][0]) if n in sigma_out else []

        ends = {d["edge"]: (u, v) for u, v, d in G.edges(data=True)}
        self.basis = [
            tuple(in_chain(ends[e][0]) + [e] + out_chain(ends[e][1]))
            for e in range(self.M)
            if not self.sigma[e]
        ]
        self.Ab, self.B = self._columns(self.basis), np.eye(self.M)[:, self.sigma]

    def _columns(self, paths, sparse=False):
        rows = np.concatenate(paths).astype(np.int64)
        cols = np.repeat(np.arange(len(paths)), [len(p) for p in paths])
        A = sp.sparse.csc_array((np.ones(rows.size), (rows, cols)), shape=(self.M, len(paths)))
        return A if sparse else A.toarray()

    def rank(self) -> int:
        """Rank of ``A``, as that of ``A A^T`` (``M x M``, paths through pairs of edges)."""
        return rank_svd((self.A @ self.A.T).toarray())[0]

    def exponents(self) -> np.ndarray:
        """Integer ``alpha`` ``(M - H, n_paths)`` with ``A = A' alpha``: every path value is a
        product of integer powers of basis-path values (claim C3). Solved on the non-sigma rows
        (unit upper triangular: an edge lies on its own basis path and, as a pi-edge, on
        basis paths of later edges only); raises if a path is not such a combination."""
        own = sp.sparse.csr_array(self.Ab[~self.sigma])
        b = self.A.toarray()[~self.sigma]
        alpha = sp.sparse.linalg.spsolve_triangular(own, b, lower=False, unit_diagonal=True)
        alpha = np.rint(alpha).astype(np.int64)
        if (sp.sparse.csr_array(self.Ab) @ alpha != self.A.toarray()).any():
            raise ArithmeticError("a path is not an integer combination of the basis paths")
        return alpha

    def basis_values(self, w: np.ndarray) -> np.ndarray:
        """``v_j``: the product of the parameters ``w`` (flat) on basis path ``j``."""
        return np.array([np.prod(w[list(p)]) for p in self.basis])

    def _u(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        return np.linalg.solve(self.Ab[~self.sigma], (w * g)[~self.sigma])

    def inverse_chain_rule(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``dl/dv`` (basis order) from ``F = A' u``, given flat parameters and gradients."""
        return self._u(w, g) / self.basis_values(w)

    def icr_residual(self, w: np.ndarray, g: np.ndarray) -> float:
        """``|A' u - F| / |F|`` over all rows: about 1e-16 iff I2 holds for ``g`` at ``w``."""
        F = w * g
        return float(np.linalg.norm(self.Ab @ self._u(w, g) - F) / max(1e-300, np.linalg.norm(F)))

    def weight_allocation(self, w: np.ndarray, v_new: np.ndarray) -> np.ndarray:
        """Flat parameters that keep the sigma-edges of ``w`` and have basis values ``v_new``."""
        C = np.vstack([self.B.T, self.Ab.T])
        log_abs = np.linalg.solve(C, np.log(np.abs(np.concatenate([w[self.sigma], v_new]))))
        bits = np.linalg.solve(C, np.concatenate([w[self.sigma] < 0, v_new < 0]).astype(float))
        return np.exp(log_abs) * (-1.0) ** (np.rint(bits).astype(np.int64) % 2)

    def gsgd_step(self, w: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        """One G-SGD step on flat parameters: ICR, ``v' = v - lr dl/dv``, WA (claim A1)."""
        v = self.basis_values(w)
        return self.weight_allocation(w, v - lr * self.inverse_chain_rule(w, g))

    def path_sgd_gamma(self, w: np.ndarray) -> np.ndarray:
        """Path-SGD's ``gamma(w, e)`` for every parameter: the sum over the paths through
        ``e`` of the product of the other squared parameters."""
        sq = np.array([np.prod(w[list(p)] ** 2) for p in self.paths])
        return (self.A @ sq) / w**2
