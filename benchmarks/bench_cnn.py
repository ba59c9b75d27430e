"""Time PlainCNN's im2col convolution (forward + backward) against its matrix products alone.

A convolution layer by im2col is three matrix products (``cols @ W`` forward, ``cols^T dz``
and ``dz W^T`` backward) plus data shuffling: zero padding, unrolling the windows into
``cols`` and folding ``dz W^T`` back onto the image (col2im). The shuffling must not dominate:
target (issue 11) forward+backward / matrix products <= 1.5.

For each layer shape the script times, interleaved so that a change in the machine's load hits
both alike, ``gspace.cnn.conv2d_forward`` + ``gspace.cnn.conv2d_backward`` (with the input
gradient; it works in cache-sized chunks of images and unrolls the input twice, once forward
and once backward) and the same three products on the whole batch with ready-made contiguous
operands, and prints the median times and their ratio measured in this one run.

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

import gspace.cnn  # noqa: E402
from gspace.cnn import conv2d_backward, conv2d_forward, im2col  # noqa: E402

# (image size, C_in, C_out, kernel, stride): layers of the Fashion-MNIST plain CNNs
LAYERS = [(28, 8, 8, 3, 1), (28, 16, 16, 3, 1), (28, 16, 16, 3, 2), (14, 16, 16, 3, 1)]
TARGET = 1.5


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


if __name__ == "__main__":
    main()
