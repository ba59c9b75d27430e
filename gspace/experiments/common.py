"""What every experiment shares: optimizers' names and grids, seeds, one training run, the
choice of a learning rate on validation, and where it ran (docs: experiments page)."""

import datetime
import functools
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import gspace
from gspace import datasets, train
from gspace.cnn import PlainCNN
from gspace.core.scaling import random_scaling
from gspace.initialization import initialize

#: Fields of ``results.json`` that depend on the machine and the run, not on the settings.
VOLATILE_FIELDS = ("machine", "elapsed_seconds")

#: Per-epoch quantities kept for the reported runs.
CURVE_KEYS = ("train_loss", "train_acc", "val_acc", "test_loss", "test_acc")
#: Final quantities kept for every run.
FINAL_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
# Optimizer (a name of gspace.train.make_optimizer) -> label, colour and learning-rate grid (6
# rates a factor ~3 apart; docs: experiments page, "Where the grids differ"): the paper's
# three, then the baselines beyond the paper.
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
    """``base, base + 1, ...``: 5 seeds, 3 with ``quick``; TypeError/ValueError unless
    ``base`` is a non-negative integer."""
    if isinstance(base, bool) or not isinstance(base, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {base!r}")
    if base < 0:
        raise ValueError(f"seed must be a non-negative integer, got {base}")
    return [int(base) + i for i in range(N_SEEDS_QUICK if quick else N_SEEDS_FULL)]


def machine_info() -> dict:
    """Platform, processor, CPU count, Python, NumPy and gspace versions, UTC date, and the
    git ``commit`` of the gspace source (``+`` if it has uncommitted changes; None outside a
    checkout)."""
    src, commit = str(Path(gspace.__file__).resolve().parent), None
    git = functools.partial(subprocess.run, capture_output=True, text=True, timeout=10, check=True)
    try:
        head = git(["git", "-C", src, "rev-parse", "--short", "HEAD"]).stdout.strip()
        status = ["status", "--porcelain", "--untracked-files=no", "--", "."]
        dirty = git(["git", "-C", src, *status]).stdout.strip()
        commit = head + ("+" if dirty else "") if head else None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "gspace": gspace.__version__,
        "commit": commit,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for one value) of the finite values
    (NaN, NaN if none)."""
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(x)), float(np.std(x, ddof=1)) if x.size > 1 else 0.0


def train_run(
    net, optimizer, lr, data, *, seed, epochs, batch_size, schedule=None, weight_decay=0.0
):
    """Train ``net`` (not modified) with optimizer ``optimizer`` (a name of
    :func:`gspace.train.make_optimizer`) at rate ``lr`` and ``weight_decay``; ``seed`` fixes
    the batch order; ``schedule`` holds :func:`gspace.train.make_schedule`'s arguments but
    ``lr`` (None: a constant rate).

    Returns the trained network (None if training diverged: recorded, not raised) and a record:
    ``diverged``, ``message`` (the error), ``final`` (last epoch's :data:`FINAL_KEYS`, NaN
    when diverged) and ``curves`` (per epoch from epoch 0; empty when diverged).
    """
    sched = None
    if schedule is not None:
        kwargs = dict(schedule)
        sched = train.make_schedule(kwargs.pop("name"), lr, **kwargs)
    opt = train.make_optimizer(optimizer, lr, weight_decay=weight_decay)
    fit = dict(loss="cross_entropy", schedule=sched, seed=seed, progress=False)
    try:
        new, hist = train.fit(net, opt, data, epochs=epochs, batch_size=batch_size, **fit)
    except FloatingPointError as exc:  # gspace.train.TrainingDiverged: recorded, not raised
        message, nan = str(exc).splitlines()[0], dict.fromkeys(FINAL_KEYS, float("nan"))
        return None, {"diverged": True, "message": message, "final": nan, "curves": {}}
    return new, {
        "diverged": False,
        "message": "",
        "final": {key: float(getattr(hist, key)[-1]) for key in FINAL_KEYS},
        "curves": {key: [float(v) for v in getattr(hist, key)] for key in CURVE_KEYS},
    }


@functools.lru_cache(maxsize=2)
def _load(key: str):
    return datasets.load(**json.loads(key))


def spec_data(spec: dict):
    """``gspace.datasets.load(**spec["data"])``, loaded once per process (workers keep it)."""
    return _load(json.dumps(spec["data"], sort_keys=True))


def train_net(spec: dict):
    """Carry out the training run of one spec; return the trained network and its record.

    ``spec`` holds ``condition``, ``optimizer``, ``lr``, ``seed``, ``start`` (``widths`` and
    ``init``, or ``channels``, ``strides`` and ``init`` of a :class:`gspace.PlainCNN`; optional
    ``sigma``), ``data`` (arguments of :func:`gspace.datasets.load`), ``epochs``,
    ``batch_size``, ``schedule`` and, optionally, ``weight_decay``. The record is the spec's
    ``condition``, ``optimizer``, ``lr``, ``seed``, then :func:`train_run`'s.
    """
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
    opts = {k: spec.get(k) for k in ("epochs", "batch_size", "schedule")}
    opts["weight_decay"] = spec.get("weight_decay", 0.0)  # absent in the studies' specs
    trained, rec = train_run(net, spec["optimizer"], spec["lr"], data, seed=seed, **opts)
    return trained, {**{k: spec[k] for k in ("condition", "optimizer", "lr", "seed")}, **rec}


def train_spec(spec: dict) -> dict:
    """The record of :func:`train_net` (the ``train_fn`` of the experiments' grids)."""
    return train_net(spec)[1]


def select_lr(records: Sequence[dict], grid: Sequence[float]):
    """Choose one optimizer's rate under one condition: the best mean final validation
    accuracy over seeds (a diverged run counts 0; ties: the first rate of ``grid``).

    Returns the selection (``condition``, ``optimizer``, ``grid``, ``val_acc_mean`` and
    ``diverged`` per rate, ``chosen``) and the records in grid, then seed order, only the
    chosen rate's with their curves.
    """
    by_lr = {float(lr): [r for r in records if r["lr"] == lr] for lr in grid}
    scores = [
        float(np.mean([0.0 if r["diverged"] else r["final"]["val_acc"] for r in recs]))
        for recs in by_lr.values()
    ]
    chosen = list(by_lr)[int(np.argmax(scores))]
    runs = [
        rec if lr == chosen else {**rec, "curves": {}} for lr, recs in by_lr.items() for rec in recs
    ]
    selection = {
        "condition": dict(records[0]["condition"]),
        "optimizer": records[0]["optimizer"],
        "grid": list(by_lr),
        "val_acc_mean": scores,
        "diverged": [sum(r["diverged"] for r in recs) for recs in by_lr.values()],
        "chosen": chosen,
    }
    return selection, runs
