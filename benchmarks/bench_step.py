"""Time one full training step (forward, backward, update) with SGD, Path-SGD and G-SGD.

Network 784-512-512-512-512-10 (no biases), float64, cross-entropy, batch 128 and 512. The
three optimizers are timed interleaved (SGD, PathSGD, GSGD, SGD, ...) so that a change in the
machine's load hits all of them alike; the script prints the median time of each and the
ratios to SGD measured in this one run. Targets (issue 4): GSGD/SGD <= 1.15 at batch 128 and
<= 1.05 at batch 512; PathSGD/SGD <= 1.5.

Run from the repository root::

    python benchmarks/bench_step.py [--repeats 30] [--batches 128,512] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gspace  # noqa: E402

WIDTHS = [784, 512, 512, 512, 512, 10]
TARGETS = {("GSGD", 128): 1.15, ("GSGD", 512): 1.05, ("PathSGD", 128): 1.5, ("PathSGD", 512): 1.5}


def full_step(net, opt, X, y):
    _, grads = net.loss_and_gradients(X, y, loss="cross_entropy")
    return opt.step(net, grads)


def bench(batch: int, repeats: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    net = gspace.skeleton_unit(gspace.MLP(WIDTHS, rng=rng))
    X = rng.normal(size=(batch, WIDTHS[0]))
    y = rng.integers(0, WIDTHS[-1], size=batch)
    opts = {
        "SGD": gspace.SGD(lr=0.01),
        "PathSGD": gspace.PathSGD(lr=0.01),
        "GSGD": gspace.GSGD(lr=0.01),
    }
    for opt in opts.values():  # warm-up (allocations, caches, BLAS threads)
        for _ in range(3):
            full_step(net, opt, X, y)
    times = {name: [] for name in opts}
    for _ in range(repeats):
        for name, opt in opts.items():
            t0 = time.perf_counter()
            full_step(net, opt, X, y)
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batches", default="128,512")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        f"network {'-'.join(map(str, WIDTHS))}, float64, cross-entropy, "
        f"median of {args.repeats} interleaved repeats, numpy {np.__version__}"
    )
    print(
        f"{'batch':>6} {'SGD ms':>8} {'PathSGD ms':>11} {'GSGD ms':>8} "
        f"{'PathSGD/SGD':>12} {'GSGD/SGD':>9}"
    )
    for batch in (int(b) for b in args.batches.split(",")):
        med = bench(batch, args.repeats, args.seed)
        r_p, r_g = med["PathSGD"] / med["SGD"], med["GSGD"] / med["SGD"]
        ok_p = "ok" if r_p <= TARGETS.get(("PathSGD", batch), np.inf) else "ABOVE TARGET"
        ok_g = "ok" if r_g <= TARGETS.get(("GSGD", batch), np.inf) else "ABOVE TARGET"
        print(
            f"{batch:>6} {1e3 * med['SGD']:>8.2f} {1e3 * med['PathSGD']:>11.2f} "
            f"{1e3 * med['GSGD']:>8.2f} {r_p:>9.3f} {ok_p:<3} {r_g:>6.3f} {ok_g}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
