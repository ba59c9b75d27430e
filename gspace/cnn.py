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

Arrays are channels-first, as the inputs ``(n, C, H, W)``. A convolution is one matrix product
per kernel tap on a flat zero-padded layout of the images (:func:`conv2d_forward`), its
gradients two more per tap (:func:`conv2d_backward`), over cache-sized chunks of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import scipy as sp

from . import validation as V
from .core.basis import Skeleton
from .core.network import MLP, ForwardCache, Gradients, loss_and_output_error
from .core.paths import rank_svd
from .initialization import INITS, skeleton_unit

__all__ = ["PlainCNN", "conv2d_forward", "conv2d_backward", "channel_graph"]
__all__ += ["draw_channel_graph", "ChannelMatrices"]

# ---------------------------------------------------------------------- convolution
#: the batch is processed in chunks of images whose padded inputs and outputs take about this
#: many bytes, so that they stay in the CPU cache across the k * k products (bench_cnn.py)
CHUNK_BYTES = 2**20


def _gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, beta: float) -> None:
    """``c <- a @ b + beta * c`` in place by BLAS dgemm (``c`` C-contiguous; ``a``, ``b``
    C-contiguous or their transposes); to Fortran the C-ordered ``c`` is ``c.T = b.T @ a.T``."""
    fa, ta = (a.T, 0) if a.flags.c_contiguous else (a, 1)
    fb, tb = (b.T, 0) if b.flags.c_contiguous else (b, 1)
    sp.linalg.blas.dgemm(1.0, fb, fa, beta, c.T, trans_a=tb, trans_b=ta, overwrite_c=1)


def _axis(n_in: int, k: int, s: int):
    """Along one image axis: the output length, the block length ``q`` of an image in a phase,
    and per phase ``r`` (taps ``a = r mod s``) the first input it holds, that input's place in
    the block, and how many inputs the taps read."""
    p, n_out = k // 2, (n_in - 1) // s + 1
    q, phases = n_out, []
    for r in range(min(s, k)):
        first = (r - p) % s  # input i is padded pixel i + p = s * ((i + p) // s) + r
        start, reach = (first + p) // s, n_out + (k - 1 - r) // s  # the taps read [0, reach)
        count = max(0, min(len(range(first, n_in, s)), reach - start))
        phases.append((first, start, count))
        q = max(q, start + count, reach - start)  # reads past a block land on the next's zeros
    return n_out, q, phases


def _layout(x_shape, k: int, s: int):
    """``(Ho, Wo, Hq, Wq)`` and, per phase ``(r, t)``, which pixels of the images it holds and
    where they go in each ``(Hq, Wq)`` block."""
    (Ho, Hq, rows), (Wo, Wq, cols) = _axis(x_shape[2], k, s), _axis(x_shape[3], k, s)
    pairs = [
        ((r, t), np.s_[:, :, y0 : y0 + s * ny : s, x0 : x0 + s * nx : s],
         np.s_[:, :, i0 : i0 + ny, j0 : j0 + nx])
        for r, (y0, i0, ny) in enumerate(rows) for t, (x0, j0, nx) in enumerate(cols)
    ]  # fmt: skip
    return (Ho, Wo, Hq, Wq), pairs


def _blocks(P: np.ndarray, lay, C: int, n: int) -> list:
    """Pairs (pixels of images ``(n, C, H, W)``, views of the same pixels in their phases
    ``P``): copy one way to pad and split the images, the other way for the adjoint."""
    (_, _, Hq, Wq), pairs = lay
    size = C * n * Hq * Wq
    return [(xi, P[r, t, :size].reshape(C, n, Hq, Wq)[bi].transpose(1, 0, 2, 3))
            for (r, t), xi, bi in pairs]  # fmt: skip


def _zeros(buf: dict, name: str, shape) -> np.ndarray:
    """``np.zeros(shape)`` kept in ``buf`` for the next chunk of the same size: fresh memory
    costs a page fault per 4 kB, more than the work on it."""
    if (name, shape) not in buf:
        buf[name, shape] = np.zeros(shape)
    return buf[name, shape]


def _chunks(x: np.ndarray, k: int, s: int, lay, C_out: int, buf: dict):
    """Slices of the batch, each with its images zero-padded and split into stride phases,
    channel-major and flat: ``P[r, t]`` holds ``C * n * Hq * Wq`` entries, then the zeros the
    last taps read. A chunk's phases and outputs take about CHUNK_BYTES."""
    (_, _, Hq, Wq), _ = lay
    n, C, m = x.shape[0], x.shape[1], min(s, k)
    step = max(1, CHUNK_BYTES // ((m * m * C + C_out) * Hq * Wq * 8))
    for i in range(0, n, step):
        sl = slice(i, min(i + step, n))
        nc = sl.stop - i
        P = _zeros(buf, "P", (m, m, C * nc * Hq * Wq + (k - 1) // s * (Wq + 1)))
        for xi, block in _blocks(P, lay, C, nc):  # the zeros around the images stay
            block[...] = x[sl][xi]
        yield sl, nc * Hq * Wq, P


def _taps(P: np.ndarray, C: int, k: int, s: int, Wq: int, N: int):
    """For every tap ``(a, b)`` the ``(C, N)`` pixels it multiplies at the ``N`` output
    positions: phase ``(a % s, b % s)`` of ``P`` shifted by ``(a // s, b // s)``, a view."""
    for a in range(k):
        for b in range(k):
            off = a // s * Wq + b // s
            yield a, b, P[a % s, b % s, off : off + C * N].reshape(C, N)


def conv2d_forward(x: np.ndarray, W: np.ndarray, stride: int) -> np.ndarray:
    """Zero-padded strided convolution (cross-correlation), one matrix product per kernel tap.

    Parameters
    ----------
    x : ndarray of shape (n, C_in, H, W)
    W : ndarray of shape (C_in, C_out, k, k), k odd
    stride : int

    Returns
    -------
    ndarray of shape (n, C_out, H_out, W_out)
        ``z[n, j, y, x] = sum_{i, a, b} xpad[n, i, s y + a, s x + b] W[i, j, a, b]``, with
        zero padding ``k // 2`` and ``H_out = (H - 1) // s + 1``.

    Notes
    -----
    No unrolled (im2col) matrix: the zero-padded images are split into their ``s x s`` stride
    phases (phase ``(r, t)`` holds the padded pixels ``(s i + r, s j + t)``), stored
    channel-major, every image a block of ``Hq x Wq`` positions, each channel one flat row.
    Tap ``(a, b)`` reads phase ``(a mod s, b mod s)`` shifted by ``(a // s, b // s)``
    positions, a contiguous ``(C_in, N)`` view ``x_ab`` of the ``N`` positions, so
    ``z = sum_{a, b} W[:, :, a, b]^T x_ab`` (``z`` as ``(C_out, N)``) is ``k^2`` matrix
    products, accumulated in place by BLAS. Neighbouring blocks share their zero padding; the
    products also fill the ``Hq Wq - H_out W_out`` positions of a block that lie off the image,
    which are dropped.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d_forward(x, np.ones((1, 1, 3, 3)), 1)[0, 0]  # 3x3 box sums
    array([[ 8., 15., 12.],
           [21., 36., 27.],
           [20., 33., 24.]])
    """
    C_in, C_out, k, _ = W.shape
    lay = _layout(x.shape, k, stride)
    (Ho, Wo, Hq, Wq), _ = lay
    Wt = np.ascontiguousarray(W.transpose(2, 3, 1, 0))  # Wt[a, b] = W[:, :, a, b]^T
    z, buf = np.empty((x.shape[0], C_out, Ho, Wo)), {}
    for sl, N, P in _chunks(x, k, stride, lay, C_out, buf):
        zq = _zeros(buf, "z", (C_out, N))
        for a, b, x_ab in _taps(P, C_in, k, stride, Wq, N):
            _gemm(Wt[a, b], x_ab, zq, float(a + b > 0))  # z (+)= W_ab^T x_ab
        z[sl] = zq.reshape(C_out, -1, Hq, Wq)[:, :, :Ho, :Wo].transpose(1, 0, 2, 3)
    return z


def conv2d_backward(dz: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int, input_grad=True):
    """Gradients of :func:`conv2d_forward` with respect to the kernel and the input.

    Parameters
    ----------
    dz : ndarray of shape (n, C_out, H_out, W_out)
        ``d loss / d z``.
    x, W, stride
        As for :func:`conv2d_forward`.
    input_grad : bool, default True
        False skips ``dx`` (the first layer needs no input gradient).

    Returns
    -------
    dW : ndarray of shape (C_in, C_out, k, k)
        ``dW[:, :, a, b] = x_ab dz^T``, with the tap views ``x_ab`` of :func:`conv2d_forward`
        and ``dz`` as a ``(C_out, N)`` matrix.
    dx : ndarray of the shape of ``x``, or None
        ``W[:, :, a, b] dz`` added onto each tap's view ``x_ab``, then the padding and phase
        split undone.
    """
    C_in, C_out, k, _ = W.shape
    lay = _layout(x.shape, k, stride)
    (Ho, Wo, Hq, Wq), _ = lay
    Wk = np.ascontiguousarray(W.transpose(2, 3, 0, 1))  # Wk[a, b] = W[:, :, a, b]
    dWk = np.zeros_like(Wk)
    dx, buf = np.zeros(x.shape) if input_grad else None, {}
    for sl, N, P in _chunks(x, k, stride, lay, C_out, buf):
        dzq = _zeros(buf, "dz", (C_out, sl.stop - sl.start, Hq, Wq))
        dzq[:, :, :Ho, :Wo] = dz[sl].transpose(1, 0, 2, 3)  # zero off the image
        dzq = dzq.reshape(C_out, N)
        for a, b, x_ab in _taps(P, C_in, k, stride, Wq, N):
            _gemm(x_ab, dzq.T, dWk[a, b], 1.0)  # dW_ab += x_ab dz^T
        if input_grad:
            dP = _zeros(buf, "dP", P.shape)
            dP.fill(0.0)
            for a, b, dx_ab in _taps(dP, C_in, k, stride, Wq, N):
                _gemm(Wk[a, b], dzq, dx_ab, 1.0)  # dx_ab += W_ab dz
            for xi, block in _blocks(dP, lay, C_in, sl.stop - sl.start):
                dx[sl][xi] = block
    return np.ascontiguousarray(dWk.transpose(2, 3, 0, 1)), dx


def _avgpool(a: np.ndarray, p: int) -> np.ndarray:
    """Mean over non-overlapping ``p x p`` windows of ``(n, C, H, W)`` (remainder dropped)."""
    n, C, H, W = a.shape
    return a[:, :, : H // p * p, : W // p * p].reshape(n, C, H // p, p, W // p, p).mean(axis=(3, 5))


def _avgpool_backward(d: np.ndarray, shape, p: int) -> np.ndarray:
    """Spread ``d loss / d pooled`` evenly over each window (zeros on a dropped remainder)."""
    n, C, Hp, Wp = d.shape
    out = np.zeros(shape)
    spread = np.broadcast_to((d / p**2)[:, :, :, None, :, None], (n, C, Hp, p, Wp, p))
    out[:, :, : Hp * p, : Wp * p] = spread.reshape(n, C, Hp * p, Wp * p)
    return out


# ---------------------------------------------------------------------- the network
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
        Bad counts, sizes or strides (named), an even kernel, an unknown ``init``, a bad ``rng``.

    Notes
    -----
    Any image of at least 1x1 pixel can be fed (zero padding ``k // 2`` keeps ``H_out =
    (H - 1) // s + 1 >= 1``), unless a pooling window is larger than the map it pools.
    ``forward_cache``, ``forward``, ``backward``, ``predict`` and ``accuracy`` are the MLP's
    (with its checks); the cache holds ``a[l]`` ``(n, C_l, H_l, W_l)`` after ReLU and pooling
    and ``z[l]`` before pooling, ``a[L] = z[L]`` the logits.

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
        """A network holding copies of ``weights``: conv kernels ``(C_in, C_out, k, k)``
        (``k`` odd, channel counts chaining), then the output matrix ``(C_last, K)``; of
        ``biases[l]`` ``(weights[l].shape[1],)`` if given; ``strides`` and ``pool`` per conv
        layer (default 1). Raises TypeError or ValueError for bad arrays (not a list of at
        least two, non-numeric, wrong shapes, even kernels, non-finite values) or sizes.

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
    # The MLP's checked entry points: forward_cache(X) checks X (images here), forward(X) gives
    # the logits, backward(cache, delta) checks the cache and delta, then runs _backward.
    forward_cache, forward, __call__, backward = (MLP.forward_cache, MLP.forward, MLP.__call__,
                                                  MLP.backward)  # fmt: skip

    def _forward(self, X: np.ndarray) -> ForwardCache:
        a, z = [X], [None]
        for l, W in enumerate(self.weights[:-1]):
            z_l = conv2d_forward(a[l], W, self.strides[l])  # z^l = conv(a^{l-1}, W^l)
            if self.biases is not None:
                z_l += self.biases[l][:, None, None]  # ... + b^l
            a_l = np.maximum(z_l, 0.0)  # relu
            a.append(_avgpool(a_l, self.pool[l]) if self.pool[l] > 1 else a_l)
            z.append(z_l)
        logits = a[-1].mean(axis=(2, 3)) @ self.weights[-1]  # global average pool, W^L
        if self.biases is not None:
            logits += self.biases[-1]
        return ForwardCache([*a, logits], [*z, logits])

    def _backward(self, cache: ForwardCache, delta_L: np.ndarray) -> Gradients:
        """Gradients for ``delta^L = d loss / d z^L``, with ``hidden_flow[l - 1] = sum_{n, y, x}
        z^l delta^l`` ``(C_l,)``: per hidden channel the sum of ``w dl/dw`` over its in-kernels
        and bias (by I2 on the channel graph, also over its out-kernels)."""
        L, a, z = self.L, cache.a, cache.z
        dW, flow = [None] * L, [None] * (L - 1)
        db = [None] * L if self.biases is not None else None
        pooled = a[L - 1]
        dW[L - 1] = pooled.mean(axis=(2, 3)).T @ delta_L
        da = delta_L @ self.weights[L - 1].T / (pooled.shape[2] * pooled.shape[3])
        da = np.broadcast_to(da[:, :, None, None], pooled.shape)  # global average pooling
        for l in range(L - 1, 0, -1):
            if self.pool[l - 1] > 1:
                da = _avgpool_backward(da, z[l].shape, self.pool[l - 1])
            delta = da * (z[l] > 0)  # delta^l = d loss / d z^l
            flow[l - 1] = np.einsum("ncyx,ncyx->c", z[l], delta)
            dW[l - 1], da = conv2d_backward(
                delta, a[l - 1], self.weights[l - 1], self.strides[l - 1], input_grad=l > 1
            )
            if db is not None:
                db[l - 1] = delta.sum(axis=(0, 2, 3))
        if db is not None:
            db[L - 1] = delta_L.sum(axis=0)
        return Gradients.from_backprop(dW, db, flow, self.weights)

    # ------------------------------------------------------------------ losses (as the MLP's)
    def loss(self, X, Y, loss: str = "cross_entropy") -> float:
        """Mean loss over the images (definitions as :meth:`gspace.MLP.loss_and_gradients`)."""
        return self.loss_and_gradients(X, Y, loss, backward=False)[0]

    def loss_and_gradients(self, X, Y, loss: str = "cross_entropy", backward: bool = True):
        """Loss and its :class:`~gspace.core.network.Gradients` (``weights[l]`` shaped like the
        network's) by back-propagation, for images ``X`` ``(n, C_0, H, W)`` and ``Y`` ``(n,)``
        integer labels (``"cross_entropy"``) or ``(n, K)`` targets (``"mse"``), the losses of
        :meth:`gspace.MLP.loss_and_gradients`; ``backward=False`` returns ``(loss, None)``.

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
        back = self.backward if np.isfinite(value) else self._backward  # as the MLP's
        return float(value), (back(cache, delta) if backward else None)


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
            at, box = (x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)), {"fc": "w", "lw": 0, "pad": 0.5}
            ax.text(*at, f"{k}x{k}", fontsize=6, ha="center", va="center", color=color, bbox=box)
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
