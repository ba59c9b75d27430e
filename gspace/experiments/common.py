"""Machinery shared by the experiments: seeds, learning-rate selection, results, figures.

Every experiment follows the same method, so that the comparisons are fair:

* **Seeds.** ``seeds(base, quick)`` gives ``base, base + 1, ...`` (5 seeds, 3 with ``--quick``).
  A seed fixes the initialization (``np.random.default_rng(seed)``), the batch order
  (``gspace.train.fit(..., seed=seed)``) and, where an experiment rescales the network, the
  rescaling (``np.random.default_rng((seed, tag))``). The train/validation/test split is
  fixed by the base seed, the same for every run of an experiment.
* **Learning rate.** For each optimizer (and each condition of an experiment) every learning
  rate of a small grid is trained with every seed; the rate with the best mean *validation*
  accuracy after the last epoch is chosen (a diverged run counts as accuracy 0; ties go to the
  first rate of the grid). Every optimizer gets a grid of the same size. Test accuracy is
  reported for the chosen rate only. The grids, the mean validation accuracy of each rate and
  the choice are written to ``results.json`` under ``"lr_selection"``.
* **Numbers.** Means and sample standard deviations (``ddof=1``) over seeds.

``results.json`` has the fields of :data:`RESULT_FIELDS`:

``experiment``, ``title``, ``description``
    name (as on the command line), title of the figure, one paragraph on what is measured.
``quick``, ``seed``, ``seeds``
    whether the ``--quick`` version ran, the base seed and the list of seeds.
``dataset``, ``init``
    the data set actually used and the initialization used for every optimizer.
``config``
    everything else needed to rerun: widths, epochs, batch size, loss, grids, schedule, ...
``lr_selection``
    list of ``{"condition", "optimizer", "grid", "val_acc_mean", "diverged", "chosen"}``.
``runs``
    one record per training run (every grid point and seed): condition, optimizer, lr,
    seed, ``diverged``, and the final train loss and train/validation/test accuracy; runs at
    the chosen rate also carry their per-epoch ``curves``.
``summary``, ``summary_columns``
    the table of results (list of flat dicts) and the order and headings of its columns;
    :func:`gspace.experiments.report.results_table` renders it.
``notes``
    plain-language remarks written by the experiment (data set substitutions, what to read
    in the figure, where G-SGD does not beat SGD).
``machine``
    platform, CPU count, Python, NumPy and gspace versions, the date (UTC), ``jobs`` (runs
    at once) and ``resumed`` (whether cached runs of an earlier call were used: then
    ``elapsed_seconds`` counts only the runs trained in this call).
``elapsed_seconds``, ``figure``
    wall-clock time of the run and the file name of the figure.

Only the fields of :data:`VOLATILE_FIELDS` (``machine`` and ``elapsed_seconds``) depend on
where, when and how the experiment ran; the other fields are a function of the settings and
the seed alone, the same byte for byte whatever the number of jobs, the order in which the
runs finish, or which runs came from the cache.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import gspace

__all__ = [
    "RESULT_FIELDS",
    "VOLATILE_FIELDS",
    "OPTIMIZER_LABELS",
    "CURVE_KEYS",
    "seeds",
    "make_optimizer",
    "machine_info",
    "mean_std",
    "load_data",
    "train_run",
    "grid_specs",
    "spec_data",
    "train_net",
    "train_spec",
    "select_lr",
    "progress_bar",
    "save_results",
    "load_results",
    "plot_band",
    "plot_learning_curves",
    "LR_GRIDS",
    "FINAL_KEYS",
    "chosen_runs",
    "initial_net",
    "rescale",
    "new_results",
    "timer",
    "paired_gap_note",
    "run_doc",
    "start",
    "search_each",
    "summary_row",
    "finish",
    "save_figure",
]

RESULT_FIELDS = (
    "experiment",
    "title",
    "description",
    "quick",
    "seed",
    "seeds",
    "dataset",
    "init",
    "config",
    "lr_selection",
    "runs",
    "summary",
    "summary_columns",
    "notes",
    "machine",
    "elapsed_seconds",
    "figure",
)

#: The fields of results.json that depend on where, when and how the experiment ran.
VOLATILE_FIELDS = ("machine", "elapsed_seconds")

#: Display names of the optimizers (:func:`make_optimizer`), keyed by the names used in
#: configurations: the paper's three, then the baselines beyond the paper.
OPTIMIZER_LABELS = {
    "sgd": "SGD",
    "pathsgd": "Path-SGD",
    "gsgd": "G-SGD",
    "sgd-momentum": "SGD+momentum",
    "gsgd-momentum": "G-SGD+momentum",
    "adam": "Adam",
    "enorm": "ENorm",
}
#: One colour per optimizer, the same in every figure.
OPTIMIZER_COLORS = {
    "sgd": "tab:blue",
    "pathsgd": "tab:orange",
    "gsgd": "tab:green",
    "sgd-momentum": "tab:purple",
    "gsgd-momentum": "tab:olive",
    "adam": "tab:red",
    "enorm": "tab:brown",
}
#: Per-epoch quantities kept for the runs at the chosen learning rate.
CURVE_KEYS = ("train_loss", "train_acc", "val_acc", "test_loss", "test_acc")
#: Final quantities kept for every run.
FINAL_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")

#: The learning-rate grid of each optimizer (quick and full runs): 6 rates a factor ~3 apart
#: for every optimizer. Path-SGD divides the gradient by gamma(w, e), so its good rates are
#: larger: in the full runs on digits (results in docs/_static/results) validation chose 1 to
#: 10 for Path-SGD, 0.003 to 0.3 for SGD and 0.01 to 1 for G-SGD. Its grid is the same shape
#: shifted up by a factor 10.
#: The baselines' grids have the same shape; none has been tried in a full run yet (the
#: experiments' notes say when a chosen rate is at an end of its grid). With momentum 0.9 a
#: step moves about 10 times as far as without, so those grids are SGD's divided by 10;
#: Adam's is centred on its usual 1e-3; ENorm's step is an SGD step, and its grid SGD's.
LR_GRIDS = {
    "sgd": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    "pathsgd": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
    "gsgd": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    "sgd-momentum": (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1),
    "gsgd-momentum": (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1),
    "adam": (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03),
    "enorm": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
}

N_SEEDS_FULL = 5
N_SEEDS_QUICK = 3


def seeds(base: int, quick: bool) -> list[int]:
    """Seeds of an experiment: ``base, base + 1, ...``; 5 of them, 3 with ``quick``.

    Parameters
    ----------
    base : int
        The base seed (``--seed``), >= 0.
    quick : bool
        Whether the quick version runs.

    Returns
    -------
    list of int

    Raises
    ------
    TypeError
        If ``base`` is not an integer.
    ValueError
        If ``base`` is negative.

    Examples
    --------
    >>> seeds(0, quick=True)
    [0, 1, 2]
    >>> seeds(10, quick=False)
    [10, 11, 12, 13, 14]
    """
    if isinstance(base, bool) or not isinstance(base, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {base!r}")
    if base < 0:
        raise ValueError(f"seed must be a non-negative integer, got {base}")
    n = N_SEEDS_QUICK if quick else N_SEEDS_FULL
    return [int(base) + i for i in range(n)]


def make_optimizer(name: str, lr: float):
    """A fresh optimizer of the experiments, by name, with learning rate ``lr``.

    The paper's three (``"sgd"``, ``"pathsgd"``, ``"gsgd"``) without momentum or weight
    decay, as the paper's MLP runs and the authors' released MLP code use them; and the
    baselines beyond the paper, with their usual settings: ``"sgd-momentum"`` and
    ``"gsgd-momentum"`` (momentum 0.9; G-SGD's in G-space), ``"adam"`` (:class:`gspace.Adam`,
    betas (0.9, 0.999), eps 1e-8) and ``"enorm"`` (:class:`gspace.ENorm`).

    Parameters
    ----------
    name : str
        A key of :data:`OPTIMIZER_LABELS`.
    lr : float
        Learning rate, > 0.

    Returns
    -------
    gspace.Optimizer

    Raises
    ------
    ValueError
        If ``name`` is not an optimizer of the experiments, or ``lr`` is not > 0.

    Notes
    -----
    The paper's three: :func:`gspace.train.make_optimizer` with ``momentum=0`` and
    ``weight_decay=0``.

    Examples
    --------
    >>> make_optimizer("sgd", 0.1)
    SGD(lr=0.1, momentum=0.0, weight_decay=0.0)
    >>> make_optimizer("gsgd-momentum", 0.01)
    GSGD(lr=0.01, momentum=0.9, weight_decay=0.0)
    """
    from gspace import train

    baselines = {
        "sgd-momentum": (gspace.SGD, {"momentum": 0.9}),
        "gsgd-momentum": (gspace.GSGD, {"momentum": 0.9}),
        "adam": (gspace.Adam, {}),
        "enorm": (gspace.ENorm, {}),
    }
    if name in baselines:
        cls, kwargs = baselines[name]
        return cls(lr=lr, **kwargs)
    if name not in OPTIMIZER_LABELS:
        raise ValueError(f"unknown optimizer {name!r}; accepted: {', '.join(OPTIMIZER_LABELS)}")
    return train.make_optimizer(name, lr, momentum=0.0, weight_decay=0.0)


def _git_commit() -> str | None:
    """Short hash of the git commit the gspace package was loaded from, or None."""
    import subprocess

    src = Path(gspace.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+" if dirty else "") if head else None


def machine_info() -> dict:
    """Where and when the experiment ran: platform, CPU count, versions and the UTC date.

    Returns
    -------
    dict
        Keys ``platform``, ``processor``, ``cpu_count``, ``python``, ``numpy``, ``gspace``,
        ``commit`` (the git commit of the gspace source, ``+`` if it has uncommitted changes;
        None outside a git checkout) and ``date``.

    Examples
    --------
    >>> sorted(machine_info())
    ['commit', 'cpu_count', 'date', 'gspace', 'numpy', 'platform', 'processor', 'python']
    """
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "gspace": gspace.__version__,
        "commit": _git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0 for a single value) of ``values``.

    Non-finite entries (diverged runs recorded as NaN) are left out.

    Parameters
    ----------
    values : sequence of float

    Returns
    -------
    mean, std : float
        NaN, NaN if no finite value is left.

    Notes
    -----
    :math:`\\bar x = \\frac1n\\sum_i x_i` and
    :math:`s = \\sqrt{\\frac{1}{n-1}\\sum_i (x_i-\\bar x)^2}`.

    Examples
    --------
    >>> mean_std([0.5, 0.7])
    (0.6, 0.1414...)
    """
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    std = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
    return float(np.mean(x)), std


def load_data(preferred: str, *, quick: bool, seed: int, data_dir=None):
    """The data set of an experiment: ``preferred`` when available, otherwise digits.

    Quick runs always use digits (bundled with scikit-learn, never downloaded). A full run
    uses ``preferred`` (``"mnist"`` or ``"fashion-mnist"``) when its IDX files are found in
    ``data_dir`` or ``$GSPACE_DATA`` and falls back to digits otherwise, saying so.

    Parameters
    ----------
    preferred : str
        Name for :func:`gspace.datasets.load`.
    quick : bool
    seed : int
        Fixes the train/validation/test split.
    data_dir : str or Path, optional

    Returns
    -------
    data : gspace.datasets.Dataset
    note : str
        One sentence on which data set is used and why.

    Raises
    ------
    ValueError
        From :func:`gspace.datasets.load` for an unknown name or a malformed IDX file.

    Examples
    --------
    >>> data, note = load_data("mnist", quick=True, seed=0)
    >>> data.name, data.n_features
    ('digits', 64)
    """
    from gspace import datasets

    if preferred == "digits":
        return datasets.load("digits", seed=seed), "Data: digits (scikit-learn, 8x8 images)."
    if quick:
        return (
            datasets.load("digits", seed=seed),
            f"Data: digits, because short versions (--quick, gspace demo) always use digits "
            f"({preferred} in the full run when its files are present).",
        )
    if data_dir is None and not os.environ.get("GSPACE_DATA"):
        return (
            datasets.load("digits", seed=seed),
            f"Data: digits, because no data directory holds the {preferred} files "
            "(set GSPACE_DATA or pass data_dir to use them).",
        )
    try:
        data = datasets.load(preferred, seed=seed, data_dir=data_dir)
    except FileNotFoundError as exc:
        return (
            datasets.load("digits", seed=seed),
            f"Data: digits, because the {preferred} files were not found ({exc}).",
        )
    return data, f"Data: {preferred} (IDX files found)."


def _final(history) -> dict:
    return {key: float(getattr(history, key)[-1]) for key in FINAL_KEYS}


def train_run(
    net,
    optimizer: str,
    lr: float,
    data,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    schedule: dict | None = None,
):
    """Train one network with one optimizer; never raises on divergence.

    Parameters
    ----------
    net : gspace.MLP
        Starting point (not modified).
    optimizer : {"sgd", "pathsgd", "gsgd"}
    lr : float
        Learning rate (the base rate when ``schedule`` is given).
    data : gspace.datasets.Dataset
    seed : int
        Fixes the batch order.
    epochs, batch_size : int
    schedule : dict, optional
        Keyword arguments of :func:`gspace.train.make_schedule` without ``lr``, for example
        ``{"name": "exp", "k": 0.01}``; None for a constant rate.

    Returns
    -------
    net : gspace.MLP or None
        The trained network, None if training diverged.
    record : dict
        ``diverged`` (bool), ``message`` (str, the error when diverged), ``final`` (dict of
        the last epoch's :data:`FINAL_KEYS`, NaN when diverged) and ``curves`` (dict of
        per-epoch lists, epoch 0 = before training, empty when diverged).

    Raises
    ------
    ValueError, TypeError
        From :func:`gspace.train.fit` for bad arguments (not for divergence).

    Notes
    -----
    Divergence is :class:`gspace.train.TrainingDiverged` (a ``FloatingPointError``): the
    loss or the weights became non-finite. It is recorded, not raised, so that a learning
    rate that is too large loses the selection instead of stopping the experiment.

    Examples
    --------
    >>> import gspace
    >>> data = gspace.datasets.load("teacher", n_samples=200)
    >>> net = initial_net([data.n_features, 8, data.n_classes], "he", seed=0)
    >>> _, rec = train_run(net, "gsgd", 0.05, data, seed=0, epochs=2, batch_size=32)
    >>> rec["diverged"], len(rec["curves"]["test_acc"])
    (False, 3)
    """
    from gspace import train

    opt = make_optimizer(optimizer, lr)
    sched = None
    if schedule is not None:
        kwargs = dict(schedule)
        sched = train.make_schedule(kwargs.pop("name"), lr, **kwargs)
    try:
        new_net, history = train.fit(
            net,
            opt,
            data,
            epochs=epochs,
            batch_size=batch_size,
            loss="cross_entropy",
            schedule=sched,
            seed=seed,
            progress=False,
        )
    except FloatingPointError as exc:
        nan = float("nan")
        record = {
            "diverged": True,
            "message": str(exc).splitlines()[0],
            "final": dict.fromkeys(FINAL_KEYS, nan),
            "curves": {},
        }
        return None, record
    record = {
        "diverged": False,
        "message": "",
        "final": _final(history),
        "curves": {key: [float(v) for v in getattr(history, key)] for key in CURVE_KEYS},
    }
    return new_net, record


def grid_specs(
    results: dict,
    cfg: dict,
    optimizers: Sequence[str],
    *,
    condition: dict,
    start: dict,
    data_dir=None,
) -> list[dict]:
    """The run specs of one learning-rate search: every optimizer, rate of its grid and seed.

    A spec holds every setting of one training run, so that :func:`train_spec` can carry it
    out anywhere (in this process, a worker process or a cluster node) with the same result.

    Parameters
    ----------
    results : dict
        From :func:`start`: ``"dataset"`` (the data set actually used), ``"seed"`` (it fixes
        the split) and ``"seeds"``.
    cfg : dict
        With ``"lr_grid"`` (optimizer -> rates), ``"epochs"``, ``"batch_size"`` and optionally
        ``"schedule"``.
    optimizers : sequence of str
    condition : dict
        What distinguishes this search inside the experiment (e.g. ``{"sigma": 1.0}``).
    start : dict
        The starting network of every seed: ``{"widths": [...], "init": "he" |
        "skeleton-unit"}``, plus ``"sigma"`` for a random rescaling :func:`rescale` of it.
    data_dir : str or Path, optional
        Where the workers look for the IDX files (default ``$GSPACE_DATA`` on the worker).

    Returns
    -------
    list of dict
        In the order optimizer, rate, seed: ``condition``, ``optimizer``, ``lr``, ``seed``,
        ``start``, ``data`` (keyword arguments of :func:`gspace.datasets.load`), ``epochs``,
        ``batch_size``, ``schedule``.

    Examples
    --------
    >>> results = new_results("x", "X", "", quick=True, seed=0)
    >>> results["dataset"] = "digits"
    >>> cfg = {"lr_grid": {"sgd": [0.1, 0.3]}, "epochs": 1, "batch_size": 32}
    >>> specs = grid_specs(results, cfg, ["sgd"], condition={},
    ...                    start={"widths": [64, 8, 10], "init": "he"})
    >>> len(specs), specs[0]["lr"], specs[0]["seed"], specs[0]["data"]["name"]
    (6, 0.1, 0, 'digits')
    """
    data = {"name": results["dataset"], "seed": results["seed"]}
    if data_dir is not None:
        data["data_dir"] = str(data_dir)
    return [
        {
            "condition": dict(condition),
            "optimizer": opt,
            "lr": float(lr),
            "seed": int(s),
            "start": dict(start),
            "data": data,
            "epochs": cfg["epochs"],
            "batch_size": cfg["batch_size"],
            "schedule": cfg.get("schedule"),
        }
        for opt in optimizers
        for lr in cfg["lr_grid"][opt]
        for s in results["seeds"]
    ]


@functools.lru_cache(maxsize=2)
def _load(key: str):
    from gspace import datasets

    return datasets.load(**json.loads(key))


def spec_data(spec: dict):
    """The data set of a run spec, loaded once per process (workers keep it between runs).

    Parameters
    ----------
    spec : dict
        With ``"data"``: keyword arguments of :func:`gspace.datasets.load`.

    Returns
    -------
    gspace.datasets.Dataset
    """
    return _load(json.dumps(spec["data"], sort_keys=True))


def train_net(spec: dict):
    """Carry out the training run of one spec (from :func:`grid_specs`).

    Parameters
    ----------
    spec : dict

    Returns
    -------
    net : gspace.MLP or None
        The trained network, None if training diverged.
    record : dict
        ``condition``, ``optimizer``, ``lr``, ``seed`` of the spec, then the record of
        :func:`train_run` (``diverged``, ``message``, ``final``, ``curves``).

    Notes
    -----
    Everything comes from the spec: the data set (and its split) from ``spec["data"]``, the
    starting network from ``initial_net(widths, init, seed)`` (then ``rescale(net, sigma,
    seed)`` if ``spec["start"]`` has ``"sigma"``), the batch order from ``seed``.
    """
    data = spec_data(spec)
    begin = spec["start"]
    net = initial_net(begin["widths"], begin["init"], spec["seed"])
    if "sigma" in begin:
        net = rescale(net, begin["sigma"], spec["seed"])
    trained, rec = train_run(
        net,
        spec["optimizer"],
        spec["lr"],
        data,
        seed=spec["seed"],
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        schedule=spec.get("schedule"),
    )
    keys = ("condition", "optimizer", "lr", "seed")
    return trained, {**{key: spec[key] for key in keys}, **rec}


def train_spec(spec: dict) -> dict:
    """The record of :func:`train_net` (the ``train_fn`` of the experiments' grids).

    Examples
    --------
    >>> results = new_results("x", "X", "", quick=True, seed=0)
    >>> results["dataset"] = "digits"
    >>> cfg = {"lr_grid": {"gsgd": [0.1]}, "epochs": 1, "batch_size": 32}
    >>> spec = grid_specs(results, cfg, ["gsgd"], condition={"c": 1},
    ...                   start={"widths": [64, 8, 10], "init": "he"})[0]
    >>> record = train_spec(spec)
    >>> record["condition"], record["diverged"], len(record["curves"]["test_acc"])
    ({'c': 1}, False, 2)
    """
    return train_net(spec)[1]


def select_lr(records: Sequence[dict], grid: Sequence[float]):
    """Choose the learning rate of one optimizer on validation from its grid's run records.

    Parameters
    ----------
    records : sequence of dict
        The records of one optimizer under one condition, every rate of ``grid`` with every
        seed (as :func:`train_spec` makes them), each with ``condition``, ``optimizer``,
        ``lr``, ``seed``, ``diverged``, ``final`` and ``curves``.
    grid : sequence of float
        The rates, in the order used to break ties.

    Returns
    -------
    selection : dict
        ``condition``, ``optimizer``, ``grid``, ``val_acc_mean`` (one per rate; diverged
        runs count 0), ``diverged`` (count per rate) and ``chosen`` (the rate).
    runs : list of dict
        The records in grid order, then seed order; only the chosen rate's keep their curves.

    Notes
    -----
    ``chosen = argmax_lr mean_seed val_acc(lr, seed)``, first maximum in grid order; the test
    split plays no part in the choice.

    Examples
    --------
    >>> recs = [{"condition": {}, "optimizer": "sgd", "lr": lr, "seed": 0, "diverged": False,
    ...          "final": {"val_acc": acc}, "curves": {"x": [1]}}
    ...         for lr, acc in ((0.1, 0.8), (0.3, 0.9))]
    >>> sel, runs = select_lr(recs, [0.1, 0.3])
    >>> sel["chosen"], [bool(r["curves"]) for r in runs]
    (0.3, [False, True])
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


def chosen_runs(runs: list[dict], selection: dict) -> list[dict]:
    """The records of ``runs`` that belong to the chosen rate of ``selection``.

    Parameters
    ----------
    runs : list of dict
        Run records as returned by :func:`select_lr`.
    selection : dict
        One entry of ``results["lr_selection"]``.

    Returns
    -------
    list of dict
        Same optimizer, same condition, ``lr == selection["chosen"]``, in seed order.

    Examples
    --------
    >>> runs = [{"optimizer": "sgd", "condition": {}, "lr": lr, "seed": 0} for lr in (0.1, 1.0)]
    >>> chosen_runs(runs, {"optimizer": "sgd", "condition": {}, "chosen": 1.0})[0]["lr"]
    1.0
    """
    return [
        r
        for r in runs
        if r["optimizer"] == selection["optimizer"]
        and r["condition"] == selection["condition"]
        and r["lr"] == selection["chosen"]
    ]


def progress_bar(total: int, desc: str, progress):
    """A tqdm bar over ``total`` training runs, on stderr.

    Parameters
    ----------
    total : int
        Number of training runs.
    desc : str
        Label (the experiment's name).
    progress : bool or None
        True: always; False: never; None: only when stderr is a terminal.

    Returns
    -------
    tqdm.tqdm
        Use as a context manager; ``bar.update(1)`` after each run.

    Examples
    --------
    >>> with progress_bar(3, "demo", progress=False) as bar:
    ...     bar.total
    3
    """
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress
    return tqdm(total=total, desc=desc, unit="run", disable=disable, file=sys.stderr)


def _jsonable(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to results.json")


def save_results(results: dict, path) -> Path:
    """Write ``results`` as JSON; parent folders are created.

    Parameters
    ----------
    results : dict
    path : str or Path

    Returns
    -------
    Path

    Raises
    ------
    TypeError
        If a value cannot be written as JSON.

    Notes
    -----
    NaN (a diverged run) and infinity are written as ``NaN`` and ``Infinity``, as Python's
    :mod:`json` module does and reads back. Python floats are written with enough digits to
    be read back exactly, so a rerun can be compared number for number.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = save_results({"x": float("nan")}, pathlib.Path(tempfile.mkdtemp()) / "r.json")
    >>> p.read_text().split()
    ['{', '"x":', 'NaN', '}']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=_jsonable) + "\n")
    return path


def load_results(path) -> dict:
    """Read a ``results.json`` file written by :func:`save_results`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a results file (a field of :data:`RESULT_FIELDS` is missing).
    """
    path = Path(path)
    results = json.loads(path.read_text())
    if not isinstance(results, dict):
        raise ValueError(f"{path} is not a gspace results.json file (not a JSON object)")
    missing = [k for k in RESULT_FIELDS if k not in results]
    if missing:
        raise ValueError(f"{path} is not a gspace results.json file: missing {missing}")
    return results


def plot_band(
    ax, curves: Sequence[Sequence[float]], *, label: str, color: str, ls="-", log: bool = False
):
    """Plot the mean of equal-length curves with a band of +- one standard deviation.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    curves : sequence of sequences of float
        One curve per seed, value per epoch (epoch 0 first). Empty curves (diverged runs)
        are skipped; nothing is drawn if none is left.
    label, color : str
        Legend label (the number of curves is appended) and colour.
    ls : str, default "-"
        Line style.
    log : bool, default False
        For a log-scaled axis: the geometric mean ``exp(mean(log y))`` with the band
        ``exp(mean(log y) +- std(log y))``, which stays positive.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> plot_band(ax, [[1.0, 0.5], [1.0, 0.7], []], label="SGD", color="tab:blue")
    >>> ax.get_legend_handles_labels()[1]
    ['SGD (n=2)']
    >>> plt.close(fig)
    """
    curves = [c for c in curves if len(c)]
    if not curves:
        return
    y = np.asarray(curves, dtype=np.float64)
    x = np.arange(y.shape[1])
    if log:
        y = np.log(y)
    mean = y.mean(axis=0)
    std = y.std(axis=0, ddof=1) if y.shape[0] > 1 else np.zeros_like(mean)
    low, high = mean - std, mean + std
    if log:
        mean, low, high = np.exp(mean), np.exp(low), np.exp(high)
    ax.plot(x, mean, color=color, ls=ls, label=f"{label} (n={y.shape[0]})")
    ax.fill_between(x, low, high, color=color, alpha=0.2, lw=0)


def timer() -> Callable[[], float]:
    """Start a wall-clock timer; calling the result gives the seconds since the start.

    Returns
    -------
    callable
        ``elapsed() -> float``, seconds rounded to 0.1.

    Examples
    --------
    >>> elapsed = timer()
    >>> elapsed() >= 0
    True
    """
    start = time.perf_counter()
    return lambda: round(time.perf_counter() - start, 1)


def initial_net(widths: Sequence[int], init: str, seed: int):
    """The starting network of a seed: :func:`gspace.initialization.initialize`, no biases.

    Parameters
    ----------
    widths : sequence of int
        ``[d, h_1, ..., K]``.
    init : {"he", "skeleton-unit"}
    seed : int
        Seeds ``np.random.default_rng(seed)``.

    Returns
    -------
    gspace.MLP

    Examples
    --------
    >>> net = initial_net([4, 3, 3, 2], "skeleton-unit", seed=0)
    >>> float(net.weights[1][0, 0]), float(net.weights[1][1, 1])
    (1.0, 1.0)
    """
    from gspace.initialization import initialize

    return initialize(list(widths), init=init, bias=False, rng=np.random.default_rng(seed))


def rescale(net, sigma: float, seed: int, tag: int = 1):
    """``g(net)`` for a random positive rescaling with ``log c ~ N(0, sigma^2)`` per hidden node.

    Parameters
    ----------
    net : gspace.MLP
    sigma : float
        Standard deviation of ``log c``, >= 0.
    seed, tag : int
        The factors come from ``np.random.default_rng((seed, tag))``, so they are fixed by
        the seed and independent of the initialization's random numbers.

    Returns
    -------
    gspace.MLP
        ``g(net)``; ``sigma = 0`` gives a copy of ``net``.

    Notes
    -----
    ``g`` multiplies the in-weights of hidden node ``O`` by ``c_O`` and its out-weights by
    ``1 / c_O``; the network function is unchanged (claim G2), the weights are not.

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019, section "Background".
    .. [2] B. Neyshabur, R. Salakhutdinov, N. Srebro, "Path-SGD: Path-Normalized
       Optimization in Deep Neural Networks", NeurIPS 2015 (the unbalanced-initialization
       experiment).

    Examples
    --------
    >>> import numpy as np
    >>> net = initial_net([4, 3, 2], "he", seed=0)
    >>> g_net = rescale(net, 1.0, seed=0)
    >>> X = np.ones((1, 4))
    >>> bool(np.allclose(g_net.forward(X), net.forward(X)))
    True
    """
    from gspace.core import scaling

    rng = np.random.default_rng((seed, tag))
    g = scaling.random_scaling(net.widths, rng, sigma=sigma)
    return g.apply(net)


def new_results(name: str, title: str, description: str, *, quick: bool, seed: int) -> dict:
    """A results dict with every field of :data:`RESULT_FIELDS`, to be filled in.

    Parameters
    ----------
    name, title, description : str
    quick : bool
    seed : int
        Base seed; ``results["seeds"] = seeds(seed, quick)``.

    Returns
    -------
    dict

    Examples
    --------
    >>> r = new_results("x", "X", "about x", quick=True, seed=0)
    >>> r["seeds"], r["figure"]
    ([0, 1, 2], 'x.png')
    """
    results = dict.fromkeys(RESULT_FIELDS)
    results.update(
        experiment=name,
        title=title,
        description=description,
        quick=bool(quick),
        seed=int(seed),
        seeds=seeds(seed, quick),
        lr_selection=[],
        runs=[],
        summary=[],
        summary_columns=[],
        notes=[],
        figure=f"{name}.png",
    )
    return results


def plot_learning_curves(results: dict, path, *, condition: dict | None = None) -> None:
    """Training loss and test accuracy against epochs at each optimizer's chosen rate.

    Parameters
    ----------
    results : dict
        Results of an experiment with per-epoch curves at the chosen rates.
    path : str or Path
        Where the PNG goes.
    condition : dict, optional
        Only the selections with this condition (default: all).

    Notes
    -----
    One band per optimizer: test accuracy as mean +- sample standard deviation over seeds;
    training loss on a log scale as geometric mean and geometric standard deviation. The
    accuracy axis starts a little below the accuracy after the first epochs.
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    lows = []
    for selection in results["lr_selection"]:
        if condition is not None and selection["condition"] != condition:
            continue
        runs = chosen_runs(results["runs"], selection)
        opt = selection["optimizer"]
        label = f"{OPTIMIZER_LABELS[opt]} (lr {selection['chosen']:g})"
        color = OPTIMIZER_COLORS[opt]
        losses = [r["curves"].get("train_loss", []) for r in runs]
        plot_band(ax1, losses, label=label, color=color, log=True)
        accs = [r["curves"].get("test_acc", []) for r in runs]
        plot_band(ax2, accs, label=label, color=color)
        for t in (1, 2):  # epochs 1 and 2, where trained
            if any(len(a) > t for a in accs):
                lows.append(float(np.mean([a[t] for a in accs if len(a) > t])))
    ax1.set_yscale("log")
    ax1.set_ylabel("training loss\n(cross-entropy, nats; geometric mean)")
    ax2.set_ylabel("test accuracy (fraction correct)")
    if lows:  # zoom on the trained part; epoch 0 (chance level) may fall below the axis
        ax2.set_ylim(max(0.0, min(lows) - 0.03), 1.0)
    for ax in (ax1, ax2):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    ax1.set_title("training loss", fontsize=10)
    ax2.set_title("test accuracy", fontsize=10)
    widths = results["config"].get("widths")
    about = f"{results['dataset']}, widths {widths}, init {results['init']}"
    save_figure(fig, path, results, about)


def paired_gap_note(results: dict, a: str = "gsgd", b: str = "sgd", condition=None) -> str:
    """One sentence comparing two optimizers' test accuracy seed by seed.

    Parameters
    ----------
    results : dict
        Results with both optimizers' selections for ``condition``.
    a, b : str
        Optimizer names; the gap is ``a - b``.
    condition : dict, optional
        Default ``{}``.

    Returns
    -------
    str
        Mean and standard deviation of the per-seed gap, and whether its sign is the same
        for every seed. Seeds share the initialization and the batch order, so the gap is
        paired.

    Examples
    --------
    >>> sel = [{"optimizer": o, "condition": {}, "chosen": 0.1} for o in ("sgd", "gsgd")]
    >>> runs = [{"optimizer": o, "condition": {}, "lr": 0.1, "seed": s, "diverged": False,
    ...          "final": {"test_acc": acc}}
    ...         for o, accs in (("sgd", (0.90, 0.92)), ("gsgd", (0.91, 0.91))) for s, acc in
    ...         enumerate(accs)]
    >>> paired_gap_note({"lr_selection": sel, "runs": runs})
    'G-SGD minus SGD in test accuracy, paired by seed: -0.000 +- 0.014 over 2 seeds; the sign...'
    """
    condition = {} if condition is None else condition
    sel = {
        s["optimizer"]: s
        for s in results["lr_selection"]
        if s["condition"] == condition and s["optimizer"] in (a, b)
    }
    acc = {
        o: {r["seed"]: r["final"]["test_acc"] for r in chosen_runs(results["runs"], sel[o])}
        for o in (a, b)
    }
    gaps = np.array([acc[a][s] - acc[b][s] for s in acc[a] if s in acc[b]], dtype=np.float64)
    gaps = gaps[np.isfinite(gaps)]
    mean, std = mean_std(gaps)
    if gaps.size == 0:
        verdict = "no seed finished with both"
    elif np.all(gaps == 0):
        verdict = "equal on every seed"
    elif np.all(gaps >= 0):
        equal = " or equal" if np.any(gaps == 0) else ""
        verdict = f"{OPTIMIZER_LABELS[a]} is better{equal} on every seed"
    elif np.all(gaps <= 0):
        equal = " or equal" if np.any(gaps == 0) else ""
        verdict = f"{OPTIMIZER_LABELS[b]} is better{equal} on every seed"
    else:
        verdict = "the sign changes from seed to seed"
    return (
        f"{OPTIMIZER_LABELS[a]} minus {OPTIMIZER_LABELS[b]} in test accuracy, paired by seed: "
        f"{mean:+.3f} +- {std:.3f} over {gaps.size} seeds; {verdict}."
    )


# ------------------------------------------------------------ the parts every experiment shares
_RUN_DOC = """Run the experiment; return the results dict (see :mod:`gspace.experiments.common`).

Parameters
----------
quick : bool, default False
    The quick version: fewer epochs (see :func:`config`) and 3 seeds instead of 5.
seed : int, default 0
    Base seed; the seeds are ``seed, seed + 1, ...``.
progress : bool or None, default None
    tqdm progress bar over training runs (None: only on a terminal).
data_dir : str or Path, optional
    {data_dir}
overrides : dict, optional
    Entries replacing those of :func:`config` (used by ``gspace demo`` and the tests);
    the configuration actually used is written to the results.
jobs : int, default 1
    Training runs at once (joblib's ``n_jobs``; -1: every core); the results do not depend
    on it. See :func:`gspace.experiments.runner.run_grid`.
cache_dir : str or Path, optional
    Where each finished training run is cached, and looked up before training.

Returns
-------
dict
    The results, with the fields of :data:`gspace.experiments.common.RESULT_FIELDS`.
"""


def run_doc(dataset: str):
    """Decorator giving an experiment's ``run`` the docstring shared by all experiments.

    Parameters
    ----------
    dataset : str
        The experiment's preferred data set (``config(False)["dataset"]``); it decides what
        the docstring says about ``data_dir``.

    Returns
    -------
    callable
        ``decorate(run) -> run``, with ``run.__doc__`` set (the function is otherwise
        unchanged).

    Examples
    --------
    >>> @run_doc("mnist")
    ... def run(*, quick=False, seed=0, progress=None, data_dir=None, overrides=None):
    ...     pass
    >>> run.__doc__.splitlines()[0]
    'Run the experiment; return the results dict (see :mod:`gspace.experiments.common`).'
    """
    if dataset == "digits":
        data_dir = "Unused (digits only); accepted for a uniform interface."
    else:
        data_dir = (
            f"Where to look for the {dataset} IDX files (default ``$GSPACE_DATA``); digits "
            "is used when they are not found."
        )

    def decorate(run):
        run.__doc__ = _RUN_DOC.format(data_dir=data_dir)
        return run

    return decorate


def start(
    name: str,
    title: str,
    description: str,
    init: str,
    config: Callable[[bool], dict],
    quick: bool,
    seed: int,
    data_dir=None,
    overrides: dict | None = None,
):
    """Begin an experiment: its configuration, results dict, data set and network widths.

    Parameters
    ----------
    name, title : str
        As for :func:`new_results`.
    description : str
        One paragraph on what is measured; ``{key}`` fields are filled in from the
        configuration with ``str.format``.
    init : str
        The initialization, written to ``results["init"]``.
    config : callable
        ``config(quick) -> dict``, the experiment's configuration; it has ``"dataset"`` and
        may have ``"hidden"`` (hidden widths of one network) or ``"networks"`` (name ->
        hidden widths).
    quick : bool
    seed : int
        Base seed; it also fixes the data split.
    data_dir : str or Path, optional
        For :func:`load_data`.
    overrides : dict, optional
        Entries replacing those of ``config(quick)``.

    Returns
    -------
    cfg : dict
        ``config(quick)`` updated by ``overrides``.
    results : dict
        From :func:`new_results`, with ``dataset``, ``init``, ``config`` (``cfg``, plus
        ``"widths"`` when ``widths`` is not None) and the data note filled in.
    data : gspace.datasets.Dataset
    widths : list of int, dict or None
        ``[d, *cfg["hidden"], K]`` if ``cfg`` has ``"hidden"``; ``{name: [d, *hidden, K]}``
        for ``cfg["networks"]``; otherwise None. ``d`` and ``K`` are the data's numbers of
        features and classes.

    Raises
    ------
    KeyError
        If ``description`` names a field that the configuration does not have.
    ValueError
        If ``overrides`` names a key the configuration does not have, or tries to change
        ``"loss"`` or ``"bias"``: those entries record what every experiment does (bias-free
        networks, cross-entropy) and are not settings.

    Examples
    --------
    >>> def config(quick):
    ...     return {"dataset": "digits", "hidden": [8], "sigma": 1.0}
    >>> cfg, results, data, widths = start(
    ...     "x", "X", "sigma is {sigma}", "he", config, quick=True, seed=0
    ... )
    >>> results["description"], widths
    ('sigma is 1.0', [64, 8, 10])
    """
    base = config(quick)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        raise ValueError(
            f"unknown configuration keys for experiment {name!r}: {unknown}; "
            f"accepted: {sorted(base)}"
        )
    for key in ("loss", "bias"):
        if key in overrides and overrides[key] != base.get(key):
            raise ValueError(
                f"config[{key!r}] records what the experiments do ({base.get(key)!r}) and "
                f"cannot be overridden (got {overrides[key]!r})"
            )
    cfg = {**base, **overrides}
    results = new_results(name, title, description.format(**cfg), quick=quick, seed=seed)
    data, note = load_data(cfg["dataset"], quick=quick, seed=seed, data_dir=data_dir)

    def layers(hidden):
        return [data.n_features, *hidden, data.n_classes]

    widths = None
    if "hidden" in cfg:
        widths = layers(cfg["hidden"])
    elif "networks" in cfg:
        widths = {net: layers(hidden) for net, hidden in cfg["networks"].items()}
    used = cfg if widths is None else {**cfg, "widths": widths}
    results.update(dataset=data.name, init=init, config=used)
    results["notes"].append(note)
    return cfg, results, data, widths


def search_each(
    results: dict,
    cfg: dict,
    records: Sequence[dict],
    optimizers: Sequence[str],
    *,
    condition: dict,
):
    """Choose the learning rate of each optimizer under one condition, recording it all.

    For each optimizer in turn, :func:`select_lr` chooses among its records under
    ``condition`` (every rate of ``cfg["lr_grid"][opt]`` with every seed); the selection is
    appended to ``results["lr_selection"]`` and the runs to ``results["runs"]`` (``results``
    is filled in place), and then the optimizer's outcome is yielded, so that the caller can
    record more before the next optimizer.

    Parameters
    ----------
    results : dict
        From :func:`start`; filled in.
    cfg : dict
        With ``"lr_grid"``.
    records : sequence of dict
        Run records of the experiment (from :func:`train_spec` via
        :func:`gspace.experiments.runner.run_grid`); those of other conditions are ignored.
    optimizers : sequence of str
    condition : dict
        What distinguishes this search inside the experiment (e.g. ``{"sigma": 1.0}``).

    Yields
    ------
    opt : str
        The optimizer.
    selection : dict
        Its entry of ``results["lr_selection"]``.
    chosen : list of dict
        Its run records at the chosen rate, in seed order.

    Raises
    ------
    ValueError
        If ``records`` lacks a run of the grid.

    Examples
    --------
    >>> results = new_results("x", "X", "", quick=True, seed=0)
    >>> cfg = {"lr_grid": {"sgd": [0.1, 0.3]}}
    >>> records = [{"condition": {}, "optimizer": "sgd", "lr": lr, "seed": s, "diverged": False,
    ...             "final": {"val_acc": lr + s / 10}, "curves": {}}
    ...            for lr in (0.1, 0.3) for s in results["seeds"]]
    >>> for opt, selection, chosen in search_each(results, cfg, records, ["sgd"], condition={}):
    ...     print(opt, selection["chosen"], len(chosen), len(results["runs"]))
    sgd 0.3 3 6
    """
    for opt in optimizers:
        grid = cfg["lr_grid"][opt]
        mine = [r for r in records if r["optimizer"] == opt and r["condition"] == condition]
        if len(mine) != len(grid) * len(results["seeds"]):
            raise ValueError(
                f"{len(mine)} runs of {opt} under {condition}, expected "
                f"{len(grid)} rates x {len(results['seeds'])} seeds"
            )
        selection, runs = select_lr(mine, grid)
        results["lr_selection"].append(selection)
        results["runs"].extend(runs)
        yield opt, selection, chosen_runs(runs, selection)


def summary_row(
    opt: str,
    selection: dict,
    chosen: list[dict],
    *,
    condition: dict | None = None,
    keys: Sequence[str] = ("test_acc",),
    diverged: bool = True,
) -> dict:
    """One row of ``results["summary"]``: condition, optimizer, chosen rate, mean and std.

    Parameters
    ----------
    opt : str
        The optimizer.
    selection : dict
        Its entry of ``results["lr_selection"]``.
    chosen : list of dict
        Its run records at the chosen rate.
    condition : dict, optional
        Entries that come first in the row (e.g. ``{"sigma": 1.0}``).
    keys : sequence of str, default ("test_acc",)
        Final quantities (:data:`FINAL_KEYS`) given as ``KEY_mean`` and ``KEY_std`` over
        the runs (:func:`mean_std`).
    diverged : bool, default True
        Whether to count the diverged runs in ``"diverged"``.

    Returns
    -------
    dict

    Examples
    --------
    >>> chosen = [{"diverged": False, "final": {"test_acc": acc}} for acc in (0.8, 0.9)]
    >>> row = summary_row("gsgd", {"chosen": 0.1}, chosen, condition={"sigma": 1.0})
    >>> list(row), row["optimizer"], row["diverged"]
    (['sigma', 'optimizer', 'lr', 'test_acc_mean', 'test_acc_std', 'diverged'], 'G-SGD', 0)
    """
    row = {**(condition or {}), "optimizer": OPTIMIZER_LABELS[opt], "lr": selection["chosen"]}
    for key in keys:
        row[f"{key}_mean"], row[f"{key}_std"] = mean_std([r["final"][key] for r in chosen])
    if diverged:
        row["diverged"] = sum(r["diverged"] for r in chosen)
    return row


def finish(results: dict, columns: Sequence[dict], notes: Sequence[str] = ()) -> dict:
    """End an experiment's ``run``: the table's columns and the closing notes.

    Parameters
    ----------
    results : dict
        Filled in place.
    columns : sequence of dict
        ``results["summary_columns"]``: ``{"key", "label"[, "format"]}`` each.
    notes : sequence of str
        Appended to ``results["notes"]``.

    Returns
    -------
    dict
        ``results``.

    Examples
    --------
    >>> r = finish(new_results("x", "X", "", quick=True, seed=0), [{"key": "a", "label": "A"}])
    >>> r["summary_columns"]
    [{'key': 'a', 'label': 'A'}]
    """
    results["summary_columns"] = [dict(column) for column in columns]
    results["notes"].extend(notes)
    return results


def save_figure(fig, path, results: dict, about: str, *, ax=None, rect=None) -> None:
    """Title a figure with the experiment, save it as PNG and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
    results : dict
        With ``"title"`` and ``"seeds"``.
    about : str
        The second line of the title, before ``mean +- std over N seeds``.
    ax : matplotlib.axes.Axes, optional
        Title this panel instead of the whole figure.
    rect : tuple of 4 float, optional
        For :meth:`matplotlib.figure.Figure.tight_layout` (room for a legend below).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> save_figure(fig, path, {"title": "X", "seeds": [0, 1]}, "digits")
    >>> path.exists()
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    title = f"{results['title']}\n{about}, mean +- std over {len(results['seeds'])} seeds"
    if ax is None:
        fig.suptitle(title, fontsize=10)
    else:
        ax.set_title(title, fontsize=10)
    # Legible where the docs show it (a column about 880 px wide): at most 8.5 in wide, no text
    # under 9 pt; saved at 200 dpi for the full-size view the page opens on click.
    width, height = fig.get_size_inches()
    if width > 8.5:
        fig.set_size_inches(8.5, max(height * 8.5 / width, min(height, 3.6)))
    for text in fig.findobj(Text):
        text.set_fontsize(max(text.get_fontsize(), 9))
    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=200)
    plt.close(fig)
