"""Why G-SGD needs the skeleton-unit start on deep networks (the docs, "Read the core").

8-8x20-3, 64 Gaussian samples, 3 classes (how many of the first two inputs are positive),
cross-entropy, 100 full-batch steps at lr 0.01 from He initialisation and from
``gspace.skeleton_unit``, with G-SGD and SGD; prints the smallest basis-path value, the loss
before and after and the largest weight. Run from the repository root::

    python benchmarks/deep_start.py [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import gspace  # noqa: E402
from gspace.core.gsgd import basis_path_values  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    seed = parser.parse_args(argv).seed
    for start in ("he", "skeleton-unit"):
        for name, opt_cls in (("G-SGD", gspace.GSGD), ("SGD", gspace.SGD)):
            rng = np.random.default_rng(seed)
            net = gspace.MLP([8] + [8] * 20 + [3], rng=rng)
            net = gspace.skeleton_unit(net) if start == "skeleton-unit" else net
            X = rng.normal(size=(64, 8))
            y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
            v_min = min(np.min(np.abs(v[v != 0])) for v in basis_path_values(net).weights)
            opt, first = opt_cls(lr=0.01), net.loss(X, y, "cross_entropy")
            for _ in range(100):
                net = opt.step(net, net.loss_and_gradients(X, y, "cross_entropy")[1])
            w_max = max(np.max(np.abs(w)) for w in net.weights)
            print(
                f"{start:13} {name:5}: smallest |basis-path value| {v_min:.1e}, loss "
                f"{first:.3f} -> {net.loss(X, y, 'cross_entropy'):.3f}, largest |w| {w_max:.1e}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
