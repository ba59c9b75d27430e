"""Time PlainCNN: a convolution against its own matrix products, G-SGD's step against SGD's.

gspace.cnn computes a convolution layer as k * k matrix products, one per kernel tap, on a
flat zero-padded layout of the images (``conv2d_forward``), and its two gradients as 2 k * k
more (``conv2d_backward``). Around the products is data shuffling: padding and splitting the
images into stride phases, dropping the outputs off the image, undoing it for the input
gradient. The shuffling must not dominate: target (issue 11) forward+backward time over the
time of its products <= 1.5.

For each layer shape the script times ``conv2d_forward`` + ``conv2d_backward`` (with the input
gradient), and, in an interleaved second call, only the matrix products inside the same call:
``gspace.cnn._gemm``, through which all of them go, is wrapped by a timer (the timer's own
cost, measured first, is subtracted). So the denominator is exactly the products the
implementation performs, on its operands as they sit in the cache; it includes the products'
work on the block positions off the image ("off-image" column: their share of the product
columns). Times are CPU times of this process (``time.process_time``), medians over the
repeats, so that other jobs on a shared machine disturb them less.

What was tried against the 1.5 target (2026-12-01, 2-core Xeon shared with two long CNN runs
and test suites; single runs move by 10-20 %). The stride-2 layers stay near 2: their shuffling
is three passes over input-sized arrays (split ``x`` into phases in the forward pass and again
in the backward pass, which gets only ``x``; merge the phases of ``dx``), memory-bound here,
against products over 1/s^2 of the positions. Reading the phases in place as a matrix with
leading dimension ``s C`` needs channels-last rows and a dgemm taking ``lda``: scipy's dgemm
copies such operands, a raw dgemm through ctypes costs ~2.5 us a call against ~1 us, and
channels-last products were slower (28x28, 8->8: 18.7 against 11.0 ms for the forward and
input-gradient products; BLAS's M is then C_out); such a prototype was slower than this
layout on all eight shapes (one run). Taps of one kernel row in one product need rows that
overlap (lda below the row length), which BLAS refuses. For stride 2, the taps of one shift
``(a // s, b // s)`` read adjacent rows if the phases are suitably ordered (4 products instead
of 9; typically 10-40 % less product time in a separate, noisy timing), but valid outputs read
past a phase into the next one's pixels, so each phase would need its own zeros: not done, as
it also makes the ratio worse. Keeping activations padded between layers needs PlainCNN and
these functions to share that layout (not tried). One chunk for the whole batch: products
2.3-2.9x slower (a lower ratio, a slower convolution).

Batch innermost, activations ``(C, H, W, n)`` (2026-12-02, standalone prototypes checked
equal to this code, timed the same way in three sittings of four rounds interleaved with it;
same machine, shared with a test suite). The phase split then copies runs of n = 128 doubles:
1.4 ms for ``(16, 28, 28, 128)`` alone, but 3.4 ms (and 3.8 ms for the merge of dx) inside a
backward pass, where the arrays are no longer in cache. The products over the whole batch run
from memory: 1.5-2.1x slower than on this code's chunks on the six larger shapes (dW, whose
inner dimension is then the whole batch, 2.1-2.8x on 28x28 8->8). Ratios 1.11-1.61, the
28x28 16->16 stride-2 layer 1.49-1.61; the convolution 1.1-1.7x slower than this code on the
six larger shapes (28x28 8->8: 28-33 against 18-21 ms), 0.95-1.08x on 28x28 1->8 and 7x7.
Products over chunks of 8192 position columns (operands with a leading dimension need a
dgemm called through ctypes, about 7 us a call) did no better (stride-2 16->16: 1.51-1.56,
27-40 ms against 20-29), nor chunks of 32 images (1.68-1.87). Fresh buffers: on an idle run
of this machine, filling a new ``np.empty`` of 14 MB took as long as filling an old one
(0.68 ms: the allocator reuses the memory); a new ``np.zeros`` cost 0.6 ms more (its zeroed
pages are faulted in on first touch).

Compiled copies (2026-12-02, a prototype outside the package, not a dependency): the split,
the merge and the two output copies done by numba kernels on this very layout, bit-identical
results (0.0 difference on 489 cases) and the same products. Six runs interleaved with this
code (the other core lightly loaded): stride-2 layers 1.55-1.87, 1.57-1.81 and 1.88-2.04
(this code in the same runs: 1.71-1.91, 1.71-1.95, 1.92-2.17), stride 1 1.19-1.54; the
convolution 5-10 % faster on the stride-2 layers, unchanged on the others. The split of the
whole (128, 16, 28, 28) batch alone took 1.7-1.9 ms compiled and 1.6-2.2 ms in numpy against
1.1 ms for a plain copy of ``x``: the copies cost their memory traffic, not numpy's loop
overhead, so a compiled kernel does not remove them. Conclusion for the 1.5 target: on the
stride-2 layers three input-sized copies (split in the forward pass, again in the backward
pass, merge of ``dx``; about 10 ms for 28x28 16->16 at batch 128) stand against products
over a quarter of the positions (about 11 ms); no layout tried here moved that balance below
1.5 without making the convolution slower.

Activations kept in the next convolution's layout (2026-12-02, a standalone prototype, not in
the package): each layer's products write straight into the zero-padded flat phases the next
layer reads (for a next layer of stride 1 with the same block shape and chunking, the product
buffer *is* its input, shifted by ``p (Wq + 1)``; otherwise a ReLU-scatter of the output), the
backward pass reads the stored phases for dW and leaves dx in them, masked by the ReLU, for the
layer below to read as its dz; buffers are pooled (fresh ones paid their page faults inside
the products). Results equal to this code's conv2d_forward/backward + ReLU to 1.8e-15
(72 cases). Three sittings, 05:12-05:16 UTC, the other core idle, each layer's everything
(products, output write, dz read, dx, ReLU and its mask) over its products, with this code's
chunking: deepest network 1.08-1.21 on the layers between stride-1 neighbours, but 1.38-1.53
on its 1->8 first layer (the split of the images), 1.44-1.56 on the layer feeding the
stride-2 one (it now pays a ReLU-scatter into the stride phases and the gather of its dz from
them, 0.81 + 0.50 ms, against 4 ms of products) and 1.49-1.57 on the stride-2 layer. In
wider stacks (28x28, 8 and 16 channels, one stride 2), the layers after the first 1.04-1.45
in two sittings, up to 1.82 in the third (this code's, in the same runs, up to 3.33); first
layers 1.82-2.14 (1->8, chunked unlike the next layer) and 1.55-2.06 (8->8, splitting
8-channel images). The conv stack with ReLU took 0.64-0.83 of this code's time (deepest) and
0.66-0.73 (wider stacks). Equal chunks across layers save more copies but slow the products
(28x28 16->16 over 16 images a chunk: 57 against 32 ms; one run, other core busy). Not
integrated: some layers stay above 1.5.

Second, a full training step (forward, backward, update) of a PlainCNN with ``gspace.GSGD``
over the same step with ``gspace.SGD``, on the deepest network of the cnn-depth experiment
(:data:`DEEPEST`, 28x28 images, skeleton-unit start, 3 G-SGD steps), batch 128;
target (issue 11) <= 1.10. G-SGD's extra work is O(m) on the kernels plus the per-channel flow
sums back-propagation already holds, against the convolutions' O(n H W m).

Run from the repository root (one BLAS thread, as every timing in the docs)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cnn.py [--repeats 20] [--batch 128]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gspace  # noqa: E402
import gspace.cnn  # noqa: E402
from gspace.cnn import conv2d_backward, conv2d_forward  # noqa: E402
from gspace.experiments.cnn_depth import network  # noqa: E402

# (image size, C_in, C_out, kernel, stride): the conv layers of the deepest cnn-depth network,
# then wider ones at full resolution
LAYERS = [(28, 1, 8, 3, 2), (14, 8, 8, 3, 1), (14, 8, 16, 3, 2), (7, 16, 16, 3, 1)]
LAYERS += [(28, 8, 8, 3, 1), (28, 16, 16, 3, 1), (28, 16, 16, 3, 2), (14, 16, 16, 3, 1)]
TARGET = 1.5
#: the deepest plain CNN of the cnn-depth experiment (8 conv layers)
DEEPEST = dict(in_channels=1, **network(8))
STEP_TARGET = 1.10


def clock_cost(n: int = 20000) -> float:
    """Seconds one ``time.process_time()`` call adds to an interval it closes."""
    t0 = time.process_time()
    for _ in range(n):
        time.process_time()
    return (time.process_time() - t0) / n


def conv_times(x, W, s, dz, repeats: int, tick: float):
    """Median CPU times of conv2d_forward + conv2d_backward, and of the products inside them."""
    gemm, spent = gspace.cnn._gemm, [0.0, 0]

    def timed_gemm(*args):
        t0 = time.process_time()
        gemm(*args)
        spent[0] += time.process_time() - t0
        spent[1] += 1

    total, products = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        conv2d_forward(x, W, s)
        conv2d_backward(dz, x, W, s)
        total.append(time.process_time() - t0)
        spent[:] = [0.0, 0]
        gspace.cnn._gemm = timed_gemm
        try:
            conv2d_forward(x, W, s)
            conv2d_backward(dz, x, W, s)
        finally:
            gspace.cnn._gemm = gemm
        products.append(spent[0] - spent[1] * tick)
    return 1e3 * np.median(total), 1e3 * np.median(products)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--chunk-bytes", type=int, default=gspace.cnn.CHUNK_BYTES)
    args = parser.parse_args(argv)
    gspace.cnn.CHUNK_BYTES = args.chunk_bytes
    rng = np.random.default_rng(0)
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    print(
        f"batch {args.batch}, float64, OPENBLAS_NUM_THREADS={threads}, "
        f"chunks of {args.chunk_bytes} bytes, CPU times (time.process_time)"
    )
    head = f"{'layer (size, C_in->C_out, k, stride)':38s} {'conv ms':>8s} {'matmul ms':>9s}"
    print(f"{head} {'off-image':>9s} ratio")
    tick = clock_cost()
    for size, ci, co, k, s in LAYERS:
        x = rng.normal(size=(args.batch, ci, size, size))
        W = rng.normal(size=(ci, co, k, k))
        dz = rng.normal(size=conv2d_forward(x, W, s).shape)
        t_conv, t_mm = conv_times(x, W, s, dz, args.repeats, tick)
        (Ho, Wo, Hq, Wq), *_ = gspace.cnn._layout(x.shape, k, s, co)
        ratio = t_conv / t_mm
        flag = "ok" if ratio <= TARGET else f"above target {TARGET}"
        name = f"{size}x{size}, {ci}->{co}, {k}x{k}, stride {s}"
        off = 1 - Ho * Wo / (Hq * Wq)
        print(f"{name:38s} {t_conv:8.2f} {t_mm:9.2f} {off:9.0%} {ratio:5.2f} {flag}")
    step_ratio(args.batch, max(3, args.repeats // 2))


def step_ratio(batch: int, repeats: int) -> None:
    """Median full-step times of SGD and G-SGD on DEEPEST, interleaved, and their ratio."""
    rng = np.random.default_rng(0)
    net = gspace.PlainCNN(**DEEPEST, init="skeleton-unit", rng=rng)
    X, y = rng.normal(size=(batch, 1, 28, 28)), rng.integers(0, 10, batch)
    for _ in range(3):  # away from the start, where every skeleton factor is 1
        net = gspace.GSGD(lr=0.01).step(net, net.loss_and_gradients(X, y)[1])
    opts = {"SGD": gspace.SGD(lr=0.01), "GSGD": gspace.GSGD(lr=0.01)}
    times = {k: [] for k in opts}
    for _ in range(repeats):
        for k, opt in opts.items():
            t0 = time.process_time()
            opt.step(net, net.loss_and_gradients(X, y)[1])
            times[k].append(time.process_time() - t0)
    t = {k: 1e3 * np.median(v) for k, v in times.items()}
    ratio = t["GSGD"] / t["SGD"]
    flag = "ok" if ratio <= STEP_TARGET else f"above target {STEP_TARGET}"
    print(f"\nfull step, {net!r}, batch {batch}:")
    print(f"SGD {t['SGD']:.1f} ms, GSGD {t['GSGD']:.1f} ms, GSGD/SGD {ratio:.3f} {flag}")


if __name__ == "__main__":
    main()
