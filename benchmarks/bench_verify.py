"""Benchmark: ``gspace verify`` on the two architectures of issue 13, and its route choice.

Prints, measured in this run:

* wall-clock and CPU seconds of :func:`gspace.verify.verify` (all 20 claims) on
  20,20,20,20,20,20,20,20,5 and 784,256,256,256,10, and the slowest claims;
* for 20x8: B1, B4 and W2 by the route verify picks at that size (the exact certificate,
  above ``DENSE_LIMIT`` parameters) against the dense SVDs it used before, and their ratio.

Target (issue 13): every claim holding in under 15 s on the 2-core machine. Nothing is
asserted. Run from the repository root::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_verify.py
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gspace.verify as gv


def timed(**kwargs):
    t0, c0 = time.perf_counter(), time.process_time()
    results = gv.verify(**kwargs)
    return results, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2-core machine, shared)")
    for widths in ([20] * 8 + [5], [784, 256, 256, 256, 10]):
        results, wall, cpu = timed(widths=widths)
        slow = sorted(results, key=lambda r: -r.seconds)[:4]
        print(
            f"{','.join(map(str, widths))}: {wall:.1f} s wall, {cpu:.1f} s CPU, all hold: "
            f"{all(r.holds for r in results)}; slowest "
            + ", ".join(f"{r.claim} {r.seconds:.2f} s" for r in slow)
        )
    claims = ["B1", "B4", "W2"]
    picked, wall_picked, _ = timed(widths=[20] * 8 + [5], claims=claims)
    limit, gv.DENSE_LIMIT = gv.DENSE_LIMIT, 10**9  # force the dense SVDs
    try:
        dense, wall_dense, _ = timed(widths=[20] * 8 + [5], claims=claims)
    finally:
        gv.DENSE_LIMIT = limit
    for a, b in zip(picked, dense):
        print(f"  {a.claim}: {a.route} {a.seconds:.2f} s; dense: {b.route} {b.seconds:.2f} s")
    print(f"B1+B4+W2 on 20x8: dense SVDs / picked routes = {wall_dense / wall_picked:.0f}x")


if __name__ == "__main__":
    main()
