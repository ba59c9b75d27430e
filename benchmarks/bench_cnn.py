"""Time PlainCNN: the im2col convolution against its matrix products, G-SGD's step against SGD's.

A convolution layer by im2col is three matrix products (``cols @ W`` forward, ``cols^T dz``
and ``dz W^T`` backward) plus data shuffling: zero padding, unrolling the windows into
``cols`` and folding ``dz W^T`` back onto the image (col2im). The shuffling must not dominate:
target (issue 11) forward+backward / matrix products <= 1.5.

For each layer shape the script times, interleaved so that a change in the machine's load hits
both alike, ``gspace.cnn.conv2d_forward`` + ``gspace.cnn.conv2d_backward`` (with the input
gradient; it works in cache-sized chunks of images and unrolls the input twice, once forward
and once backward) and the same three products on the whole batch with ready-made contiguous
operands, and prints the median times and their ratio measured in this one run.

Second, a full training step (forward, backward, update) of a PlainCNN with ``gspace.GSGD``
over the same step with ``gspace.SGD``, on the deepest network planned for issue 11's
Fashion-MNIST experiment (:data:`DEEPEST`, 28x28 images, skeleton-unit start, 3 G-SGD steps),
batch 128; target (issue 11) <= 1.10. G-SGD's extra work is O(m) on the kernels plus the
per-channel flow sums back-propagation already holds, against the convolutions' O(n H W m).

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
from gspace.cnn import conv2d_backward, conv2d_forward, im2col  # noqa: E402

# (image size, C_in, C_out, kernel, stride): layers of the Fashion-MNIST plain CNNs
LAYERS = [(28, 8, 8, 3, 1), (28, 16, 16, 3, 1), (28, 16, 16, 3, 2), (14, 16, 16, 3, 1)]
TARGET = 1.5
#: the deepest plain CNN issue 11 plans for its Fashion-MNIST experiment (not written yet):
#: 8 conv layers of 8-16 channels
DEEPEST = dict(
    in_channels=1, channels=[8, 8, 16, 16, 16, 16, 16, 16], strides=[1, 1, 2, 1, 1, 2, 1, 1]
)
STEP_TARGET = 1.10


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
        f"im2col chunks of {args.chunk_bytes} bytes"
    )
    print(f"{'layer (size, C_in->C_out, k, stride)':38s} {'conv ms':>8s} {'matmul ms':>9s} ratio")
    for size, ci, co, k, s in LAYERS:
        x = rng.normal(size=(args.batch, size, size, ci))
        W = rng.normal(size=(ci, co, k, k))
        cols = im2col(x, k, s)
        dz = rng.normal(size=conv2d_forward(x, W, s).shape)
        Wm = np.ascontiguousarray(W.transpose(2, 3, 0, 1).reshape(k * k * ci, co))
        dz2 = dz.reshape(-1, co)

        def conv(x=x, W=W, s=s, dz=dz):
            conv2d_forward(x, W, s)
            conv2d_backward(dz, x, W, s)

        def products(cols=cols, Wm=Wm, dz2=dz2):
            cols @ Wm
            cols.T @ dz2
            dz2 @ Wm.T

        times = {conv: [], products: []}
        for _ in range(args.repeats):
            for f in times:
                t0 = time.perf_counter()
                f()
                times[f].append(time.perf_counter() - t0)
        t_conv, t_mm = (1e3 * np.median(times[f]) for f in (conv, products))
        ratio = t_conv / t_mm
        flag = "ok" if ratio <= TARGET else f"above target {TARGET}"
        name = f"{size}x{size}, {ci}->{co}, {k}x{k}, stride {s}"
        print(f"{name:38s} {t_conv:8.2f} {t_mm:9.2f} {ratio:5.2f} {flag}")
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
            t0 = time.perf_counter()
            opt.step(net, net.loss_and_gradients(X, y)[1])
            times[k].append(time.perf_counter() - t0)
    t = {k: 1e3 * np.median(v) for k, v in times.items()}
    ratio = t["GSGD"] / t["SGD"]
    flag = "ok" if ratio <= STEP_TARGET else f"above target {STEP_TARGET}"
    print(f"\nfull step, {net!r}, batch {batch}:")
    print(f"SGD {t['SGD']:.1f} ms, GSGD {t['GSGD']:.1f} ms, GSGD/SGD {ratio:.3f} {flag}")


if __name__ == "__main__":
    main()
