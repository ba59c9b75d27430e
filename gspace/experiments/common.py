"""What every experiment shares: optimizers, seeds, one training run, the choice of a rate."""

import contextlib
import datetime
import functools
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

import gspace
from gspace import datasets, train
from gspace import validation as V
from gspace.cnn import PlainCNN
from gspace.core.scaling import random_scaling
from gspace.initialization import initialize

#: Fields of ``results.json`` that depend on the machine and the run, not on the settings.
VOLATILE_FIELDS = ("machine", "elapsed_seconds")
#: Per-epoch quantities kept for the reported runs.
CURVE_KEYS = ("train_loss", "train_acc", "val_acc", "test_loss", "test_acc")
#: Final quantities kept for every run.
FINAL_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
# Optimizer -> label, colour, grid of rates (docs: experiments page, "Where the grids differ").
_TABLE = {
    "sgd": ("SGD", "tab:blue", (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)),
    "pathsgd": ("Path-SGD", "tab:orange", (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)),
    "gsgd": ("G-SGD", "tab:green", (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)),
    "sgd-momentum": ("SGD+momentum", "tab:purple", (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)),
    "gsgd-momentum": ("G-SGD+momentum", "tab:olive", (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)),
    "adam": ("Adam", "tab:red", (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)),
    "enorm": ("ENorm", "tab:brown", (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)),
}
#: Optimizer -> its name in tables and legends.
OPTIMIZER_LABELS = {name: row[0] for name, row in _TABLE.items()}
#: Optimizer -> its colour, the same in every figure.
OPTIMIZER_COLORS = {name: row[1] for name, row in _TABLE.items()}
#: Optimizer -> its learning-rate grid.
LR_GRIDS = {name: row[2] for name, row in _TABLE.items()}
N_SEEDS_FULL = 5
N_SEEDS_QUICK = 3


def seeds(base: int, quick: bool) -> list[int]:
    """``base, base + 1, ...``: 5 seeds, 3 with ``quick``; ``base`` a non-negative integer."""
    base = V.integer(base, "seed", low=0, kind=TypeError)
    return [base + i for i in range(N_SEEDS_QUICK if quick else N_SEEDS_FULL)]


def machine_info() -> dict:
    """Where and when: platform, versions, UTC date, git ``commit`` (``+``: uncommitted changes)."""
    src, commit = str(Path(gspace.__file__).resolve().parent), None
    git = functools.partial(subprocess.run, capture_output=True, text=True, timeout=10, check=True)
    with contextlib.suppress(OSError, subprocess.SubprocessError):  # no git: commit None
        head = git(["git", "-C", src, "rev-parse", "--short", "HEAD"]).stdout.strip()
        status = ["status", "--porcelain", "--untracked-files=no", "--", "."]
        dirty = git(["git", "-C", src, *status]).stdout.strip()
        commit = head + ("+" if dirty else "") if head else None
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    processor = platform.processor() or platform.machine()
    info = {"platform": platform.platform(), "processor": processor, "cpu_count": os.cpu_count()}
    info.update(python=sys.version.split()[0], numpy=np.__version__, gspace=gspace.__version__)
    return {**info, "commit": commit, "date": now}


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value; NaN for none) of the finite values."""
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(x)), float(np.std(x, ddof=1)) if x.size > 1 else 0.0


def train_run(
    net, optimizer, lr, data, *, seed, epochs, batch_size, schedule=None, weight_decay=0.0
):
    """Train a copy of ``net`` (``schedule``: :func:`gspace.train.make_schedule`'s arguments
    but ``lr``); return it (None if it diverged) and the record of the run."""
    schedule = None if schedule is None else train.make_schedule(lr=lr, **schedule)
    opt = train.make_optimizer(optimizer, lr, weight_decay=weight_decay)
    fit = dict(loss="cross_entropy", schedule=schedule, seed=seed, progress=False)
    try:
        new, hist = train.fit(net, opt, data, epochs=epochs, batch_size=batch_size, **fit)
    except FloatingPointError as exc:  # gspace.train.TrainingDiverged: recorded, not raised
        message, nan = str(exc).splitlines()[0], dict.fromkeys(FINAL_KEYS, float("nan"))
        return None, {"diverged": True, "message": message, "final": nan, "curves": {}}
    final = {key: float(getattr(hist, key)[-1]) for key in FINAL_KEYS}
    curves = {key: [float(v) for v in getattr(hist, key)] for key in CURVE_KEYS}
    return new, {"diverged": False, "message": "", "final": final, "curves": curves}


@functools.lru_cache(maxsize=2)
def _load(key: str):
    return datasets.load(**json.loads(key))


def spec_data(spec: dict):
    """``gspace.datasets.load(**spec["data"])``, loaded once per process (workers keep it)."""
    return _load(json.dumps(spec["data"], sort_keys=True))


def train_net(spec: dict):
    """Train the run of a spec (docs: experiments page); return the network and its record."""
    data, begin, seed = spec_data(spec), spec["start"], spec["seed"]
    rng = np.random.default_rng(seed)
    if "channels" in begin:  # a plain CNN on 1-channel square images (cnn-depth)
        kw = {"strides": begin["strides"], "n_classes": data.n_classes, "init": begin["init"]}
        net = PlainCNN(1, begin["channels"], **kw, rng=rng)
    else:
        net = initialize(list(begin["widths"]), init=begin["init"], bias=False, rng=rng)
    if "sigma" in begin:  # g(net), log c ~ N(0, sigma^2) per hidden node; own random numbers
        g = random_scaling(net.widths, np.random.default_rng((seed, 1)), sigma=begin["sigma"])
        net = g.apply(net)
    opts = {k: spec[k] for k in ("epochs", "batch_size", "schedule", "weight_decay") if k in spec}
    trained, rec = train_run(net, spec["optimizer"], spec["lr"], data, seed=seed, **opts)
    return trained, {**{k: spec[k] for k in ("condition", "optimizer", "lr", "seed")}, **rec}


def train_spec(spec: dict) -> dict:
    """The record of :func:`train_net` (the ``train_fn`` of the experiments' grids)."""
    return train_net(spec)[1]


def select_lr(records, grid):
    """Choose the rate of best mean validation accuracy: ``(selection, records)``, curves kept
    for the chosen rate only (:doc:`/experiments`)."""
    by_lr = {float(lr): [r for r in records if r["lr"] == lr] for lr in grid}
    acc = [[0.0 if r["diverged"] else r["final"]["val_acc"] for r in rs] for rs in by_lr.values()]
    scores = [float(np.mean(a)) for a in acc]
    chosen = list(by_lr)[int(np.argmax(scores))]
    runs = [r if lr == chosen else {**r, "curves": {}} for lr, rs in by_lr.items() for r in rs]
    selection = {"condition": dict(records[0]["condition"]), "optimizer": records[0]["optimizer"]}
    diverged = [sum(r["diverged"] for r in recs) for recs in by_lr.values()]
    selection.update(grid=list(by_lr), val_acc_mean=scores, diverged=diverged, chosen=chosen)
    return selection, runs
