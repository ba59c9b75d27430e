"""Benchmark: paths, the structure matrix and the routes that verify R1 (rank(A) = m - H).

For growing networks, prints the time to

* enumerate the paths (``path_array``) and build ``A`` (``structure_matrix``, which lists them
  again, as tuples): explicit route;
* verify R1 by the explicit route (SVD and pivoted QR of ``A`` or, when ``A`` is large, of the
  rescaled ``A A^T`` computed from the sparse ``A``);
* verify R1 by the counting route (``A A^T`` by counting, never listing a path);
* verify R1 (and R2) by the exact certificate.

Targets on the 2-core development machine: explicit route for 10^6 paths under 10 s; scalable
route for a network with more than 10^12 paths under 10 s. Every time printed here is
measured in this run; nothing is asserted.

Run from the repository root::

    python benchmarks/bench_structure.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from gspace.core.paths import count_paths, num_params, path_array, structure_matrix
from gspace.explicit import rank_by_counting, rank_certificate, rank_of_structure_matrix


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def row(widths, explicit: bool, counting: bool) -> dict:
    n = count_paths(widths)
    m, H = num_params(widths), sum(widths[1:-1])
    r = {"widths": widths, "paths": n, "m": m, "H": H}
    if explicit:
        _, r["enumerate"] = timed(path_array, widths, limit=n)
        (_, A), r["build A"] = timed(structure_matrix, widths, limit=n)
        (rank, _, on), r["SVD"] = timed(rank_of_structure_matrix, A, "svd")
        r["ok SVD"] = rank == m - H
        r["on"] = on
        (rank, _, _), r["QR"] = timed(rank_of_structure_matrix, A, "qr")
        r["ok QR"] = rank == m - H
    if counting:
        (rank, _), r["counting"] = timed(rank_by_counting, widths)
        r["ok counting"] = rank == m - H
    cert, r["certificate"] = timed(rank_certificate, widths)
    r["ok certificate"] = cert.rank == m - H
    return r


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest networks")
    args = parser.parse_args(argv)
    cases = [
        ([3, 4, 4, 2], True, True),
        ([10, 10, 10, 10], True, True),
        ([10, 10, 10, 10, 10], True, True),
        ([10, 10, 10, 10, 10, 10], True, True),  # 10^6 paths: the explicit target
        ([10] * 13, False, True),  # 10^13 paths
        ([6] * 20, False, True),  # 3.7 10^15 paths, m = 684
        ([4] * 30, False, True),  # 1.2 10^18 paths, m = 464
        ([784, 64, 64, 64, 64, 10], False, False),  # 1.3 10^11 paths, m = 63104
        ([100] * 8, False, False),  # 10^16 paths, m = 70000
    ]
    if args.quick:
        cases = [c for c in cases if count_paths(c[0]) <= 10**5 or not c[1]][:6]
    cols = ["enumerate", "build A", "SVD", "QR", "counting", "certificate"]
    print(f"{'widths':<28} {'paths':>10} {'m':>6} {'H':>4}  " + "".join(f"{c:>12}" for c in cols))
    for widths, explicit, counting in cases:
        r = row(widths, explicit, counting)
        cells = []
        for c in cols:
            if c not in r:
                cells.append(f"{'-':>12}")
                continue
            ok = r.get(f"ok {c}", True)
            cells.append(f"{r[c]:>10.3f}s{'' if ok else '!'}")
        name = ",".join(map(str, widths))
        if len(name) > 27:  # equal widths, written as width x number of layers
            name = f"{widths[0]}x{len(widths)}"
        print(f"{name:<28} {r['paths']:>10.2e} {r['m']:>6} {r['H']:>4}  " + "".join(cells))
        if "on" in r:
            print(f"{'':<28} (explicit rank taken on {r['on']})")
    print("times in seconds (wall clock, this run); '!' marks a rank different from m - H")


if __name__ == "__main__":
    main()
