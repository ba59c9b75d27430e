"""A plain ReLU CNN with hand-written back-propagation, and its channel graph (claims C1-C4).

Kernels are ``(C_in, C_out, k, k)``, an MLP weight with two trailing tap axes: the channels are
the nodes and two channels are joined by ``k^2`` parallel edges (docs/theory.rst, section
"Plain CNNs: channels are the nodes").
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import scipy as sp

from . import validation as V
from .core.basis import Skeleton
from .core.network import MLP, ForwardCache, Gradients
from .core.paths import rank_svd
from .initialization import INITS, skeleton_unit

__all__ = ["PlainCNN", "conv2d_forward", "conv2d_backward", "channel_graph"]
__all__ += ["draw_channel_graph", "ChannelMatrices"]

# ---------------------------------------------------------------------- convolution
#: bytes of phases and outputs per chunk of images, kept in cache over the k * k products
CHUNK_BYTES = 2**20


def _gemm(a: np.ndarray, b: np.ndarray, c: np.ndarray, beta: float) -> None:
    """``c <- a @ b + beta * c`` in place by BLAS dgemm (``c`` C-contiguous; ``a``, ``b``
    C-contiguous or their transposes); to Fortran the C-ordered ``c`` is ``c.T = b.T @ a.T``."""
    fa, ta = (a.T, 0) if a.flags.c_contiguous else (a, 1)
    fb, tb = (b.T, 0) if b.flags.c_contiguous else (b, 1)
    sp.linalg.blas.dgemm(1.0, fb, fa, beta, c.T, trans_a=tb, trans_b=ta, overwrite_c=1)


def _axis(n_in: int, k: int, s: int):
    """Along one image axis: output length, block length ``q`` of an image in a phase, per phase
    ``r`` (taps ``a = r mod s``) the inputs read and their place, whether the phases hold all."""
    p, n_out = k // 2, (n_in - 1) // s + 1
    q, phases, held = n_out, [], 0
    for r in range(min(s, k)):
        first = (r - p) % s  # input i is padded pixel i + p = s * ((i + p) // s) + r
        start, reach = (first + p) // s, n_out + (k - 1 - r) // s  # the taps read [0, reach)
        count = max(0, min(len(range(first, n_in, s)), reach - start))
        phases.append((slice(first, first + s * count, s), slice(start, start + count)))
        held += count
        q = max(q, start + count, reach - start)  # reads past a block land on the next's zeros
    return n_out, q, phases, held == n_in


def _layout(shape, k: int, s: int, C_out: int):
    """For images ``(n, C, H, W)``: ``(Ho, Wo, Hq, Wq)``, whether the phases hold every pixel,
    the chunk size, and per phase ``(r, t)`` its pixels and their place in an image's block."""
    (Ho, Hq, rows, full_h), (Wo, Wq, cols, full_w) = _axis(shape[2], k, s), _axis(shape[3], k, s)
    step = max(1, CHUNK_BYTES // ((len(rows) * len(cols) * shape[1] + C_out) * Hq * Wq * 8))
    c = max(1, -(-shape[0] // step))  # chunks: equal ones if a count up to 2c divides the batch
    step = -(-shape[0] // next((d for d in range(c, 2 * c + 1) if shape[0] % d == 0), c))
    pairs = [
        ((r, t), np.s_[:, :, y, x], np.s_[:, :, i, j])
        for r, (y, i) in enumerate(rows)
        for t, (x, j) in enumerate(cols)
    ]
    return (Ho, Wo, Hq, Wq), full_h and full_w, step, pairs


def _phases(lay, C: int, n: int, k: int, s: int, alloc=np.zeros):
    """The stride phases of ``n`` images of ``C`` channels in a buffer ``P`` by ``alloc``, the
    (image pixels, ``P`` pixels) pairs that split images or undo it, and per tap ``(a, b)`` its
    ``(C, N)`` view of ``P`` (docs/theory.rst, "Computing a convolution")."""
    (_, _, Hq, Wq), _, _, pairs = lay
    m, N = min(s, k), n * Hq * Wq
    P = alloc((m, m, C * N + (k - 1) // s * (Wq + 1)))
    blocks = P[:, :, : C * N].reshape(m, m, C, n, Hq, Wq)
    taps = [(a, b, a // s * Wq + b // s) for a in range(k) for b in range(k)]
    taps = [(a, b, P[a % s, b % s, o : o + C * N].reshape(C, N)) for a, b, o in taps]
    return P, [(xi, blocks[rt][bi].transpose(1, 0, 2, 3)) for rt, xi, bi in pairs], taps


def _chunks(x: np.ndarray, k: int, s: int, lay, C_out: int):
    """Slices of the batch with the tap views of :func:`_phases` on their images and a zeroed
    ``(C_out, N)`` output buffer, both made once per chunk size (fresh memory is slow)."""
    (_, _, Hq, Wq), _, step, _ = lay
    frames = {}
    for i in range(0, x.shape[0], step):
        sl, n = slice(i, min(i + step, x.shape[0])), min(step, x.shape[0] - i)
        if n not in frames:
            frames[n] = _phases(lay, x.shape[1], n, k, s), np.zeros((C_out, n * Hq * Wq))
        (_, blocks, taps), out = frames[n]
        for xi, block in blocks:  # the zeros around the images stay
            block[...] = x[sl][xi]
        yield sl, taps, out


def conv2d_forward(x: np.ndarray, W: np.ndarray, stride: int) -> np.ndarray:
    """Zero-padded strided convolution (cross-correlation), one matrix product per kernel tap:
    ``x`` ``(n, C_in, H, W)``, ``W`` ``(C_in, C_out, k, k)`` (k odd), ``z[n, j, y, x] = sum_{i, a,
    b} xpad[n, i, s y + a, s x + b] W[i, j, a, b]`` (padding ``k // 2``), ``z = sum_ab W[:, :, a,
    b]^T x_ab`` on tap views ``x_ab`` of the stride phases (docs/theory.rst)."""
    C_in, C_out, k, _ = W.shape
    lay = _layout(x.shape, k, stride, C_out)
    (Ho, Wo, Hq, Wq), *_ = lay
    Wt = np.ascontiguousarray(W.transpose(2, 3, 1, 0))  # Wt[a, b] = W[:, :, a, b]^T
    z = np.empty((x.shape[0], C_out, Ho, Wo))
    for sl, taps, zq in _chunks(x, k, stride, lay, C_out):
        for a, b, x_ab in taps:
            _gemm(Wt[a, b], x_ab, zq, float(a + b > 0))  # z (+)= W_ab^T x_ab
        z[sl] = zq.reshape(C_out, -1, Hq, Wq)[:, :, :Ho, :Wo].transpose(1, 0, 2, 3)
    return z


def conv2d_backward(dz: np.ndarray, x: np.ndarray, W: np.ndarray, stride: int, input_grad=True):
    """Gradients of :func:`conv2d_forward` for ``dz = d loss / d z``: ``dW[:, :, a, b] = x_ab
    dz^T`` and ``dx`` (``W[:, :, a, b] dz`` added onto each tap's view of the phases, then the
    padding and split undone; None unless ``input_grad``)."""
    C_in, C_out, k, _ = W.shape
    lay = _layout(x.shape, k, stride, C_out)
    (Ho, Wo, Hq, Wq), full, *_ = lay
    Wk = np.ascontiguousarray(W.transpose(2, 3, 0, 1))  # Wk[a, b] = W[:, :, a, b]
    dWk, frames = np.zeros_like(Wk), {}
    dx = (np.empty if full else np.zeros)(x.shape) if input_grad else None
    for sl, taps, dzq in _chunks(x, k, stride, lay, C_out):
        N = dzq.shape[1]
        dzq.reshape(C_out, -1, Hq, Wq)[:, :, :Ho, :Wo] = dz[sl].transpose(1, 0, 2, 3)
        for a, b, x_ab in taps:
            _gemm(x_ab, dzq.T, dWk[a, b], 1.0)  # dW_ab += x_ab dz^T
        if input_grad:
            if N not in frames:  # the phases of dx
                frames[N] = _phases(lay, C_in, N // (Hq * Wq), k, stride, np.empty)
            dP, blocks, dtaps = frames[N]
            dP[:, :, C_in * N :] = 0.0  # the unshifted taps write the rest first
            for a, b, dx_ab in dtaps:
                _gemm(Wk[a, b], dzq, dx_ab, float(a >= stride or b >= stride))  # dx_ab (+)= W_ab dz
            for xi, block in blocks:
                dx[sl][xi] = block
    return np.ascontiguousarray(dWk.transpose(2, 3, 0, 1)), dx


def _avgpool(a: np.ndarray, p: int, adjoint: bool = False) -> np.ndarray:
    """Mean over non-overlapping ``p x p`` windows of ``(n, C, H, W)`` (remainder dropped);
    ``adjoint``: spread ``a`` evenly back over the windows of a map ``(H, W) = adjoint``."""
    n, C, H, W = a.shape
    if not adjoint:
        return a[:, :, : H // p * p, : W // p * p].reshape(n, C, H // p, p, W // p, p).mean((3, 5))
    out = np.zeros((n, C, *adjoint))  # zeros on a dropped remainder
    out[:, :, : H * p, : W * p] = np.repeat(np.repeat(a / p**2, p, axis=2), p, axis=3)
    return out


# ---------------------------------------------------------------------- the network
class PlainCNN:
    """A plain ReLU CNN: convolutions (zero padding ``k // 2``), ReLU, optional average pooling,
    global average pooling, a linear output layer (the paper's plain nets, "Experiments").

    ``weights`` holds kernels ``(C_l, C_{l+1}, k, k)``, then the output matrix ``(C_{L-1}, K)``.
    ``forward_cache``, ``forward``, ``backward``, ``predict`` and ``accuracy`` are the MLP's;
    the cache holds ``a[l]`` ``(n, C_l, H_l, W_l)`` after ReLU and pooling, ``z[l]`` before.

    Parameters
    ----------
    in_channels : int
    channels : sequence of int
        ``[C_1, ..., C_{L-1}]``, one entry per convolution layer (at least one).
    kernel_size, strides, pool : int or sequence of int, optional
        Per conv layer (or one for all): odd kernel sizes (default 3), strides (default 1),
        average pooling ``p x p`` after the ReLU (default 1, none).
    n_classes : int, default 10
    bias : bool, default False
    init : {"he", "skeleton-unit"}, default "he"
        He: ``W^l ~ N(0, 2 / (C_{l-1} k^2))``, output ``N(0, 2 / C_{L-1})``; skeleton-unit: then
        :func:`gspace.skeleton_unit` (the centre taps of the skeleton channel pairs set to 1).
    rng : numpy.random.Generator, optional
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
        """A network holding checked copies of ``weights`` (kernels, then the output matrix),
        ``biases`` and the per-layer ``strides`` and ``pool``."""
        net, layers = cls.__new__(cls), V.cnn_layers(weights, strides, biases, pool)
        net.weights, net.strides, net.biases, net.pool = layers
        return net

    def with_params(self, weights: list, biases: list | None) -> PlainCNN:
        """This network's strides and pooling with the given arrays (not copied, not checked)."""
        net = PlainCNN.__new__(PlainCNN)
        net.weights, net.biases, net.strides, net.pool = weights, biases, self.strides, self.pool
        return net

    def copy(self) -> PlainCNN:
        """A deep copy."""
        return PlainCNN.from_weights(self.weights, self.strides, self.biases, self.pool)

    # The MLP's shape facts (channel graph) and checked entry points (call _forward, _backward)
    widths, L, m, H, has_bias = MLP.widths, MLP.L, MLP.m, MLP.H, MLP.has_bias
    flat_params, with_flat_params = MLP.flat_params, MLP.with_flat_params
    predict, accuracy, backward = MLP.predict, MLP.accuracy, MLP.backward
    forward_cache, forward, __call__ = MLP.forward_cache, MLP.forward, MLP.forward

    def __repr__(self) -> str:
        ks = [w.shape[2] for w in self.weights[:-1]]
        s, p, b = list(self.strides), list(self.pool), self.has_bias
        return f"PlainCNN(widths={self.widths}, kernel_sizes={ks}, strides={s}, pool={p}, bias={b})"

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
        """Gradients for ``delta^L``, with ``hidden_flow[l - 1] = sum_{n, y, x} z^l delta^l``
        per hidden channel (the sum of ``w dl/dw`` over its in-kernels and bias)."""
        L, a, z = self.L, cache.a, cache.z
        dW, db, flow = [None] * L, [None] * L, [None] * (L - 1)
        pooled = a[L - 1]
        dW[L - 1], db[L - 1] = pooled.mean(axis=(2, 3)).T @ delta_L, delta_L.sum(axis=0)
        da = delta_L @ self.weights[L - 1].T / (pooled.shape[2] * pooled.shape[3])
        da = np.broadcast_to(da[:, :, None, None], pooled.shape)  # global average pooling
        for l in range(L - 1, 0, -1):
            if self.pool[l - 1] > 1:
                da = _avgpool(da, self.pool[l - 1], adjoint=z[l].shape[2:])
            delta = da * (z[l] > 0)  # delta^l = d loss / d z^l
            flow[l - 1] = np.einsum("ncyx,ncyx->c", z[l], delta)
            dW[l - 1], da = conv2d_backward(
                delta, a[l - 1], self.weights[l - 1], self.strides[l - 1], input_grad=l > 1
            )
            if self.biases is not None:
                db[l - 1] = delta.sum(axis=(0, 2, 3))
        db = db if self.biases is not None else None
        return Gradients.from_backprop(dW, db, flow, self.weights)

    def loss(self, X, Y, loss: str = "cross_entropy") -> float:
        """Mean loss over the images (see :meth:`loss_and_gradients`)."""
        return self.loss_and_gradients(X, Y, loss, backward=False)[0]

    def loss_and_gradients(self, X, Y, loss: str = "cross_entropy", backward: bool = True):
        """:meth:`gspace.MLP.loss_and_gradients` for images ``X`` ``(n, C_0, H, W)``, with
        cross-entropy as the default loss."""
        return MLP.loss_and_gradients(self, X, Y, loss, backward)


# ---------------------------------------------------------------------- the channel graph
def channel_graph(net: PlainCNN) -> nx.MultiDiGraph:
    """The channel graph: nodes ``(l, i)`` (channel ``i`` of layer ``l``) and, with biases,
    ``("bias", l)`` feeding layer ``l + 1``; edges keyed by their tap ``(a, b)`` (``()`` for the
    output matrix and biases), with ``weight``, ``edge`` (the flat index: layer by layer,
    row-major, then the biases), ``sigma``, ``pi`` and ``skeleton`` (centre taps of the pairs
    of :meth:`gspace.Skeleton.default`)."""
    if not isinstance(net, PlainCNN):
        raise TypeError(f"net must be a gspace.PlainCNN, got {type(net).__name__}")
    sk, G, edges = Skeleton.default(net.widths), nx.MultiDiGraph(widths=net.widths), []
    for l, h in enumerate(net.widths):
        G.add_nodes_from(((l, i), {"layer": l, "index": i, "bias": False}) for i in range(h))
    for l, w in enumerate(net.weights):
        masks, centre = (sk.sigma_mask(l), sk.pi_mask(l)), tuple(s // 2 for s in w.shape[2:])
        for (i, j, *tap), x in np.ndenumerate(w):
            on = [tuple(tap) == centre and bool(mask[i, j]) for mask in masks]
            edges.append(((l, i), (l + 1, j), tuple(tap), x, *on))
    for l, b in enumerate(net.biases or []):
        G.add_node(("bias", l), layer=l, index=-1, bias=True)
        edges += [(("bias", l), (l + 1, j), (), x, False, False) for j, x in enumerate(b)]
    for e, (u, v, tap, x, sigma, pi) in enumerate(edges):
        G.add_edge(u, v, key=tap, weight=float(x), edge=e, sigma=sigma, pi=pi, skeleton=sigma or pi)
    return G


def draw_channel_graph(net: PlainCNN, ax=None, max_nodes: int = 80):
    """Draw the channel graph, each bundle of parallel edges once, labelled ``k x k``, skeleton
    bundles thick (centre tap pi: blue, sigma: red, both: purple), bias nodes not drawn."""
    import matplotlib.pyplot as plt

    widths, bundles = net.widths, {}
    if sum(widths) > max_nodes:
        raise ValueError(f"{sum(widths)} channels is too many to draw (max_nodes={max_nodes})")
    pos = {(l, i): (l, (h - 1) / 2 - i) for l, h in enumerate(widths) for i in range(h)}
    for u, v, d in channel_graph(net).edges(data=True):
        if u in pos:  # not a bias node
            c = bundles.setdefault((u, v), [0, False, False])
            c[:] = c[0] + 1, c[1] or d["pi"], c[2] or d["sigma"]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.6 * len(widths), 1.0 + 0.45 * max(widths)))
    colors = {(True, True): "tab:purple", (True, False): "tab:blue", (False, True): "tab:red"}
    for (u, v), (count, pi, sigma) in bundles.items():
        (x0, y0), (x1, y1), color = pos[u], pos[v], colors.get((pi, sigma), "0.7")
        ax.plot(
            [x0, x1], [y0, y1], color=color, lw=0.8 + 1.7 * (pi or sigma), zorder=1 + (pi or sigma)
        )
        k, at = round(count**0.5), (0.7 * x0 + 0.3 * x1, 0.7 * y0 + 0.3 * y1)
        if count > 1:
            box = {"fc": "w", "lw": 0, "pad": 0.5}
            ax.text(*at, f"{k}x{k}", fontsize=6, ha="center", va="center", color=color, bbox=box)
    ax.scatter(*zip(*pos.values(), strict=True), s=160, c="white", edgecolors="black", zorder=3)
    labels = ["inputs", *(f"conv {l}" for l in range(1, net.L)), "outputs"]
    ax.set_xticks(range(len(widths)), labels)
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.set_title(f"channel graph {widths}: {net.m} edges in {len(bundles)} bundles")
    return ax


# ---------------------------------------------------------------------- explicit matrices
class ChannelMatrices:
    """The channel graph's explicit matrices, a dense route for small networks (C2-C4;
    docs/theory.rst): ``paths`` (flat edge indices), the structure matrix ``A`` (sparse), the
    centre-tap ``basis``, its columns ``Ab`` (``A'``), ``B`` (a column per sigma-edge ``sigma``)."""

    def __init__(self, net: PlainCNN):
        G = channel_graph(net)
        nodes, edges = G.nodes(data=True), G.edges(data=True)
        outs = [n for n, d in nodes if d["layer"] == net.L and not d["bias"]]
        srcs = [n for n, d in nodes if d["bias"] or not d["layer"]]
        paths = [p for n in srcs for p in nx.all_simple_edge_paths(G, n, outs)]
        self.paths = [tuple(G.edges[e]["edge"] for e in p) for p in paths]
        self.M, self.H = G.number_of_edges(), net.H
        self.A = self._columns(self.paths)
        pi_in = {v: (u, d["edge"]) for u, v, d in edges if d["pi"]}
        sigma_out = {u: (v, d["edge"]) for u, v, d in edges if d["sigma"]}
        self.sigma = np.isin(np.arange(self.M), [e for _, e in sigma_out.values()])

        def in_chain(n):  # the pi-edges from an input up to channel n
            return in_chain(pi_in[n][0]) + [pi_in[n][1]] if n in pi_in else []

        def out_chain(n):  # the sigma-edges from channel n up to an output
            return [sigma_out[n][1]] + out_chain(sigma_out[n][0]) if n in sigma_out else []

        ends = sorted((d["edge"], u, v) for u, v, d in edges)
        self.basis = [(*in_chain(u), e, *out_chain(v)) for e, u, v in ends if not self.sigma[e]]
        self.Ab, self.B = self._columns(self.basis).toarray(), np.eye(self.M)[:, self.sigma]

    def _columns(self, paths) -> sp.sparse.csc_array:
        rows = np.concatenate(paths).astype(np.int64)
        cols = np.repeat(np.arange(len(paths)), [len(p) for p in paths])
        return sp.sparse.csc_array((np.ones(rows.size), (rows, cols)), shape=(self.M, len(paths)))

    def rank(self) -> int:
        """Rank of ``A``, as that of ``A A^T`` (``M x M``)."""
        return rank_svd((self.A @ self.A.T).toarray())[0]

    def exponents(self) -> np.ndarray:
        """Integer ``alpha`` ``(M - H, n_paths)`` with ``A = A' alpha`` (C3), solved on the
        non-sigma rows (unit upper triangular); ArithmeticError if a path is not such a sum."""
        A = self.A.toarray()
        alpha = np.rint(np.linalg.solve(self.Ab[~self.sigma], A[~self.sigma])).astype(np.int64)
        if (self.Ab @ alpha != A).any():
            raise ArithmeticError("a path is not an integer combination of the basis paths")
        return alpha

    def basis_values(self, w: np.ndarray) -> np.ndarray:
        """``v_j``: the product of the flat parameters ``w`` on basis path ``j``."""
        return np.array([np.prod(w[list(p)]) for p in self.basis])

    def inverse_chain_rule(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``dl/dv = u / v`` (basis order) for flat parameters ``w`` and gradients ``g``."""
        return np.linalg.solve(self.Ab[~self.sigma], (w * g)[~self.sigma]) / self.basis_values(w)

    def icr_residual(self, w: np.ndarray, g: np.ndarray) -> float:
        """``|A' u - F| / |F|`` over all rows: about 1e-16 iff I2 holds for ``g`` at ``w``."""
        F, u = w * g, self.inverse_chain_rule(w, g) * self.basis_values(w)
        return float(np.linalg.norm(self.Ab @ u - F) / max(1e-300, np.linalg.norm(F)))

    def weight_allocation(self, w: np.ndarray, v_new: np.ndarray) -> np.ndarray:
        """Flat parameters that keep the sigma-edges of ``w`` and have basis values ``v_new``."""
        C, rhs = np.vstack([self.B.T, self.Ab.T]), np.concatenate([w[self.sigma], v_new])
        log_abs, bits = np.linalg.solve(C, np.column_stack([np.log(np.abs(rhs)), rhs < 0])).T
        return np.exp(log_abs) * (-1.0) ** (np.rint(bits).astype(np.int64) % 2)

    def gsgd_step(self, w: np.ndarray, g: np.ndarray, lr: float) -> np.ndarray:
        """One G-SGD step on flat parameters: ICR, ``v' = v - lr dl/dv``, WA (claim A1)."""
        return self.weight_allocation(w, self.basis_values(w) - lr * self.inverse_chain_rule(w, g))

    def path_sgd_gamma(self, w: np.ndarray) -> np.ndarray:
        """Path-SGD's ``gamma(w, e)``: over the paths through ``e``, the sum of the products of
        the other squared parameters."""
        return (self.A @ np.array([np.prod(w[list(p)] ** 2) for p in self.paths])) / w**2
