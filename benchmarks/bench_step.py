"""Time one full training step (forward, backward, update) with SGD, Path-SGD and G-SGD.

Two networks (no biases, float64, cross-entropy): 784-512x4-10 at batch 128 and the
authors' MNIST network 784-64x4-10 at batch 64 (targets of issue 9: GSGD/SGD <= 1.10 and
<= 1.15). The network is taken where training puts it: He initialisation, skeleton weights
set to 1, then 5 G-SGD steps, so that the chain products rho_in are no longer 1 (rho_out
stays 1: G-SGD never changes the sigma-weights). ``--start he`` times plain He
initialisation instead, where the rho_out are not 1 either and G-SGD's update needs one
more pass per layer (the worst case).
The optimizers are timed interleaved, in orders of a balanced Latin square: over every four
repeats each optimizer runs right after each other one once (with a fixed or merely rotated
order G-SGD mostly ran right after Path-SGD, whose freed memory and cache state it inherited),
so that a change in the machine's load hits all of them alike; the script prints the median
time of each and the ratios to ``gspace.SGD`` measured in this one run (the 784-64x4-10
steps take about a millisecond, so that case is repeated ten times as often); it also prints
the ratio of the fastest repeats, which a busy machine disturbs least.

``gspace.SGD`` builds its update in one fresh output per layer, like every optimizer here,
and checks that the gradients and the new weights are finite. As a floor the script also
times a *lean SGD* reference with the same arithmetic and no checks (``out = g * -lr;
out += w``), and prints GSGD's ratio to it too. The update alone (``opt.step`` on fixed
gradients) is timed separately to show where the time goes.

``--clock cpu`` times with ``time.process_time`` (this process's CPU time) instead of the wall
clock: on a machine shared with other jobs it is far less disturbed by them (with one BLAS
thread the two agree on an idle machine).

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_step.py [--repeats 30] [--start trained|he]
        [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gspace  # noqa: E402

#: (widths, batch, target for GSGD/SGD): issue 9's two cases; the second is the authors' MNIST
#: network, where the fixed per-step overhead of the update matters most.
CASES = [([784, 512, 512, 512, 512, 10], 128, 1.10), ([784, 64, 64, 64, 64, 10], 64, 1.15)]


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
        return net.with_params(new, None)


def full_step(net, opt, X, y):
    _, grads = net.loss_and_gradients(X, y, loss="cross_entropy")
    return opt.step(net, grads)


def start_network(widths, start: str, seed: int):
    rng = np.random.default_rng(seed)
    net = gspace.MLP(widths, rng=rng)
    if start == "he":
        return net
    net = gspace.skeleton_unit(net)
    X = rng.normal(size=(128, widths[0]))
    y = rng.integers(0, widths[-1], size=128)
    opt = gspace.GSGD(lr=0.01)
    for _ in range(5):
        net = full_step(net, opt, X, y)
    return net


def balanced_orders(n: int) -> list[list[int]]:
    """Orders of ``0 .. n-1`` in which each ``j`` comes right after each ``i != j`` equally
    often (Williams' balanced Latin square: ``n`` rows, ``2 n`` for odd ``n``)."""
    first = [0]
    for k in range(1, n):
        first.append((k + 1) // 2 if k % 2 else n - k // 2)
    rows = [[(k + r) % n for k in first] for r in range(n)]
    return rows + [row[::-1] for row in rows] if n % 2 else rows


def bench(widths, batch, repeats, seed, start, clock=time.perf_counter, control=False):
    rng = np.random.default_rng(seed + 1)
    net = start_network(widths, start, seed)
    X = rng.normal(size=(batch, widths[0]))
    y = rng.integers(0, widths[-1], size=batch)
    opts = {
        "SGD": gspace.SGD(lr=0.01),
        "PathSGD": gspace.PathSGD(lr=0.01),
        "GSGD": gspace.GSGD(lr=0.01),
        "lean SGD": LeanSGD(lr=0.01),
    }
    if control:  # a second gspace.SGD: its ratio to SGD is the benchmark's own noise
        opts["SGD again"] = gspace.SGD(lr=0.01)
    _, grads = net.loss_and_gradients(X, y, loss="cross_entropy")
    for opt in opts.values():  # warm-up (allocations, caches, BLAS threads)
        for _ in range(3):
            full_step(net, opt, X, y)
    step_t = {name: [] for name in opts}
    upd_t = {name: [] for name in opts}
    names, orders = list(opts), balanced_orders(len(opts))
    for i in range(repeats):  # every optimizer follows every other one equally often
        for name in (names[k] for k in orders[i % len(orders)]):
            opt = opts[name]
            t0 = clock()
            full_step(net, opt, X, y)
            t1 = clock()
            opt.step(net, grads)
            t2 = clock()
            step_t[name].append(t1 - t0)
            upd_t[name].append(t2 - t1)
    med = {name: float(np.median(t)) for name, t in step_t.items()}
    upd = {name: float(np.median(t)) for name, t in upd_t.items()}
    low = {name: float(np.min(t)) for name, t in step_t.items()}
    return med, upd, low


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", choices=["trained", "he"], default="trained")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--control", action="store_true", help="time a second gspace.SGD too")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(
        f"float64, cross-entropy, median of {args.repeats} interleaved repeats, numpy "
        f"{np.__version__}, {os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, load average "
        f"{os.getloadavg()[0]:.2f}, start {args.start}, clock {args.clock}"
    )
    for widths, batch, target in CASES:
        repeats = args.repeats * (10 if sum(widths[1:-1]) < 1000 else 1)  # 1 ms steps: more
        med, upd, low = bench(widths, batch, repeats, args.seed, args.start, clock, args.control)
        print(f"\n{'-'.join(map(str, widths))}, batch {batch}: median ms per full step (update)")
        for name in med:
            print(f"  {name:>9}: {1e3 * med[name]:8.3f}  ({1e3 * upd[name]:7.3f})")
        r = med["GSGD"] / med["SGD"]
        print(f"  GSGD/SGD = {r:.3f} (target <= {target}: {'ok' if r <= target else 'ABOVE'})")
        print(f"  PathSGD/SGD = {med['PathSGD'] / med['SGD']:.3f}")
        print(f"  GSGD/lean SGD = {med['GSGD'] / med['lean SGD']:.3f}")
        if args.control:
            print(f"  SGD again/SGD = {med['SGD again'] / med['SGD']:.3f} (the noise)")
        print(f"  fastest of the {repeats} repeats: GSGD/SGD = {low['GSGD'] / low['SGD']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
