"""Time one full training step (forward, backward, update) with SGD, Path-SGD and G-SGD.

Network 784-512-512-512-512-10 (no biases), float64, cross-entropy, batch 128 and 512. The
network is taken where training puts it: He initialisation, skeleton weights set to 1, then
5 G-SGD steps, so that the chain products rho_in are no longer 1 (rho_out stays 1: G-SGD never
changes the sigma-weights). ``--start he`` times plain He initialisation instead, where the
rho_out are not 1 either and G-SGD's update needs one more pass per layer (the worst case).
The optimizers are timed interleaved (SGD, PathSGD, GSGD, lean SGD, SGD, ...) so that a
change in the machine's load hits all of them alike; the script prints the median time of each
and the ratios to ``gspace.SGD`` measured in this one run.
Targets (issue 4): GSGD/SGD <= 1.15 at batch 128 and <= 1.05 at batch 512; PathSGD/SGD <= 1.5.

``gspace.SGD`` builds its update in one fresh output per layer, like every optimizer here,
and checks that the gradients and the new weights are finite. As a floor the script also
times a *lean SGD* reference with the same arithmetic and no checks (``out = g * -lr;
out += w``), and prints GSGD's ratio to it too. The update alone (``opt.step`` on fixed
gradients) is timed separately to show where the time goes.

Run from the repository root::

    python benchmarks/bench_step.py [--repeats 30] [--batches 128,512] [--start trained|he]
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
TARGETS = {"GSGD": {128: 1.15, 512: 1.05}, "PathSGD": {128: 1.5, 512: 1.5}}


class LeanSGD:
    """Reference only: plain SGD with one fresh output array per layer, no checks."""

    def __init__(self, lr: float):
        self.lr = lr

    def step(self, net, grads):
        new = []
        for w, g in zip(net.weights, grads.weights):
            out = np.multiply(g, -self.lr)
            out += w
            new.append(out)
        return gspace.MLP._wrap(new, None)


def full_step(net, opt, X, y):
    _, grads = net.loss_and_gradients(X, y, loss="cross_entropy")
    return opt.step(net, grads)


def start_network(start: str, seed: int):
    rng = np.random.default_rng(seed)
    net = gspace.MLP(WIDTHS, rng=rng)
    if start == "he":
        return net
    net = gspace.skeleton_unit(net)
    X = rng.normal(size=(128, WIDTHS[0]))
    y = rng.integers(0, WIDTHS[-1], size=128)
    opt = gspace.GSGD(lr=0.01)
    for _ in range(5):
        net = full_step(net, opt, X, y)
    return net


def bench(batch: int, repeats: int, seed: int, start: str):
    rng = np.random.default_rng(seed + 1)
    net = start_network(start, seed)
    X = rng.normal(size=(batch, WIDTHS[0]))
    y = rng.integers(0, WIDTHS[-1], size=batch)
    opts = {
        "SGD": gspace.SGD(lr=0.01),
        "PathSGD": gspace.PathSGD(lr=0.01),
        "GSGD": gspace.GSGD(lr=0.01),
        "lean SGD": LeanSGD(lr=0.01),
    }
    _, grads = net.loss_and_gradients(X, y, loss="cross_entropy")
    for opt in opts.values():  # warm-up (allocations, caches, BLAS threads)
        for _ in range(3):
            full_step(net, opt, X, y)
    step_t = {name: [] for name in opts}
    upd_t = {name: [] for name in opts}
    for _ in range(repeats):
        for name, opt in opts.items():
            t0 = time.perf_counter()
            full_step(net, opt, X, y)
            t1 = time.perf_counter()
            opt.step(net, grads)
            t2 = time.perf_counter()
            step_t[name].append(t1 - t0)
            upd_t[name].append(t2 - t1)
    med = {name: float(np.median(t)) for name, t in step_t.items()}
    upd = {name: float(np.median(t)) for name, t in upd_t.items()}
    return med, upd


def _verdict(name: str, batch: int, ratio: float) -> str:
    target = TARGETS.get(name, {}).get(batch)
    if target is None:
        return ""
    return f"(target <= {target}: {'ok' if ratio <= target else 'ABOVE TARGET'})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batches", default="128,512")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", choices=["trained", "he"], default="trained")
    args = parser.parse_args(argv)
    print(
        f"network {'-'.join(map(str, WIDTHS))}, float64, cross-entropy, median of "
        f"{args.repeats} interleaved repeats, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, start {args.start}"
    )
    for batch in (int(b) for b in args.batches.split(",")):
        med, upd = bench(batch, args.repeats, args.seed, args.start)
        print(f"\nbatch {batch}: median ms per full step (update alone)")
        for name in med:
            print(f"  {name:>9}: {1e3 * med[name]:8.2f}  ({1e3 * upd[name]:6.2f})")
        for name in ("PathSGD", "GSGD"):
            r = med[name] / med["SGD"]
            print(f"  {name}/SGD = {r:.3f} {_verdict(name, batch, r)}")
        print(f"  GSGD/lean SGD = {med['GSGD'] / med['lean SGD']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
