"""Short diagnostic runs of the wide plain CNN (32-32-64-64 channels, strides 1-2-1-2) from
starts between He and skeleton-unit: what keeps G-SGD from training it (reproduction page).

Usage (from the repository root; 10-25 minutes on one shared core)::

    OPENBLAS_NUM_THREADS=1 python tools/cnn_start_diagnostic.py OUT.json --optimizer \\
        gsgd-momentum --lr 0.01 --skeleton 1 --others 0.35

The start is He (seed 0), then every skeleton weight (the centre tap of each pi- and
sigma-edge) is set to ``--skeleton`` (``1``: skeleton-unit's value; ``he``: ``sqrt(2 /
fan_in)`` of its layer) and every other weight is multiplied by ``--others``. The run is
:func:`gspace.experiments.common.train_run` as in the ``diagnostic-wide`` records: 10,000
Fashion-MNIST images (7,225 train), 3 epochs, batch 128, the rate decaying as
``lr exp(-t)``. ``OUT.json`` holds the spec, the record, the machine and the initial loss on
the first 256 training images.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnn_reference import write  # noqa: E402 (tools/, beside this script)

from gspace import PlainCNN  # noqa: E402
from gspace.core.basis import resolve_skeleton  # noqa: E402
from gspace.experiments import common  # noqa: E402


def start(n_classes: int, skeleton: str, others: float) -> PlainCNN:
    net = PlainCNN(
        1,
        [32, 32, 64, 64],
        strides=[1, 2, 1, 2],
        n_classes=n_classes,
        init="he",
        rng=np.random.default_rng(0),
    )
    sk, weights = resolve_skeleton(net.widths, None), []
    for l, w in enumerate(net.weights):
        on = np.zeros(w.shape, bool)
        on[(sk.pi_mask(l) | sk.sigma_mask(l),) + tuple(k // 2 for k in w.shape[2:])] = True
        value = 1.0 if skeleton == "1" else np.sqrt(2.0 / (w.shape[0] * np.prod(w.shape[2:])))
        weights.append(np.where(on, value, others * w))
    return net.with_params(weights, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--optimizer", default="gsgd-momentum")
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--skeleton", choices=["1", "he"], default="1")
    p.add_argument("--others", type=float, default=1.0)
    a = p.parse_args()
    spec = {
        "condition": {"diag": True},
        "optimizer": a.optimizer,
        "lr": a.lr,
        "seed": 0,
        "start": {
            "channels": [32, 32, 64, 64],
            "strides": [1, 2, 1, 2],
            "init": "he",
            "skeleton_weights": a.skeleton,
            "other_weights_times": a.others,
        },
        "data": {"name": "fashion-mnist", "seed": 0, "limit": 10000},
        "epochs": 3,
        "batch_size": 128,
        "schedule": {"name": "exp", "k": 1.0},
    }
    data = common.spec_data(spec)
    net = start(data.n_classes, a.skeleton, a.others)
    X, y = data.X_train[:256].reshape(-1, 1, 28, 28), data.y_train[:256]
    initial = net.loss(X, y)
    t0 = time.time()
    opts = {k: spec[k] for k in ("epochs", "batch_size", "schedule")}
    _, record = common.train_run(net, a.optimizer, a.lr, data, seed=0, **opts)
    out = write(a.out, spec, record, t0, initial_loss_256=initial)
    print(f"training accuracy {record['final']['train_acc']:.4f} in {out['elapsed_seconds']} s")


if __name__ == "__main__":
    main()
