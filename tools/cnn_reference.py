"""One long training run of a plain CNN on all of Fashion-MNIST: what the cnn-depth networks
reach when data and epochs are not cut to the study's budget.

Usage (from the repository root; about 5-30 minutes on one core)::

    OPENBLAS_NUM_THREADS=1 python tools/cnn_reference.py OUT.json --optimizer sgd --lr 0.3 \\
        --init he --channels 8,8,16,16 --strides 2,1,2,1 --epochs 15

The run is :func:`gspace.experiments.common.train_spec` (the studies' own training code) on
the full training split (51,000 images; 9,000 for validation; the official 10,000 test
images), batch 128, the learning rate decaying as ``lr exp(-3 t / epochs)`` as in cnn-depth.
``OUT.json`` holds the spec, the record (per-epoch curves) and the machine (with the commit).
The script imports gspace from the checkout it sits in, not from an installed copy.

The wider network of the reproduction page (``docs/_static/results/cnn-depth/``
``reference-wide-*.json``, about 5,000-6,400 s each on a shared core; the ``-wd`` run adds
``--weight-decay 0.0005``; ``reference-wide128-*.json`` has ``--channels 32,32,64,128``)::

    OPENBLAS_NUM_THREADS=1 python tools/cnn_reference.py OUT.json --optimizer sgd-momentum \
        --lr 0.05 --init he --channels 32,32,64,64 --strides 1,2,1,2 --epochs 20
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gspace.experiments import common  # noqa: E402


def write(path, spec: dict, record: dict, t0: float, **extra) -> dict:
    """Write the spec, the record, ``extra``, the machine and the seconds since ``t0`` as JSON."""
    out = {"spec": spec, "record": record, **extra, "machine": common.machine_info()}
    out["elapsed_seconds"] = round(time.time() - t0, 1)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--optimizer", default="sgd")
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--init", default="he", choices=["he", "skeleton-unit"])
    p.add_argument("--channels", required=True)
    p.add_argument("--strides", required=True)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    a = p.parse_args()
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    spec = {
        "condition": {"reference": True},
        "optimizer": a.optimizer,
        "lr": a.lr,
        "seed": a.seed,
        "start": {"channels": ints(a.channels), "strides": ints(a.strides), "init": a.init},
        "data": {"name": "fashion-mnist", "seed": 0},
        "epochs": a.epochs,
        "batch_size": 128,
        "schedule": {"name": "exp", "k": 3.0 / a.epochs},
    }
    if a.weight_decay:
        spec["weight_decay"] = a.weight_decay
    t0 = time.time()
    record = common.train_spec(spec)
    out = write(a.out, spec, record, t0)
    print(f"test accuracy {record['final']['test_acc']:.4f} in {out['elapsed_seconds']} s")


if __name__ == "__main__":
    main()
