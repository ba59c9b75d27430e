"""Machinery shared by the experiments: seeds, one training run, learning-rate choice, figures.

* **Seeds.** ``seeds(base, quick)`` gives ``base, base + 1, ...`` (5 seeds, 3 with ``--quick``).
  A seed fixes the initial network (``np.random.default_rng(seed)``), the batch order and,
  where an experiment rescales the network, the rescaling (``np.random.default_rng((seed,
  tag))``). The data split is fixed by the base seed, the same for every run.
* **Runs.** A training run is a JSON-able *spec* (:func:`train_net`); the runner
  (:mod:`gspace.experiments.runner`) dispatches specs to worker processes and caches them.
* **Learning rate.** :func:`select_lr` chooses the rate with the best mean final *validation*
  accuracy over seeds (a diverged run counts 0; ties go to the first rate of the grid).
* **Numbers.** Means and sample standard deviations (``ddof=1``) over seeds.

The fair protocol built from these pieces, and the fields of ``results.json``, are described
in :mod:`gspace.experiments.protocol`. Only the fields of :data:`VOLATILE_FIELDS` depend on
where, when and how an experiment ran; the others are a function of the settings and the seed
alone, the same byte for byte whatever the number of jobs or which runs came from the cache.
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
    "VOLATILE_FIELDS",
    "OPTIMIZER_LABELS",
    "OPTIMIZER_COLORS",
    "CURVE_KEYS",
    "FINAL_KEYS",
    "LR_GRIDS",
    "seeds",
    "machine_info",
    "mean_std",
    "train_run",
    "spec_data",
    "train_net",
    "train_spec",
    "select_lr",
    "progress_bar",
    "plot_band",
    "timer",
    "initial_net",
    "rescale",
    "save_figure",
]

#: Fields of ``results.json`` that depend on the machine and the run, not on the settings.
VOLATILE_FIELDS = ("machine", "elapsed_seconds")

#: Display names of the optimizers (:func:`gspace.train.make_optimizer`), keyed by the names used in
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
#: Per-epoch quantities kept for the reported runs.
CURVE_KEYS = ("train_loss", "train_acc", "val_acc", "test_loss", "test_acc")
#: Final quantities kept for every run.
FINAL_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")

#: The learning-rate grid of each optimizer: 6 rates a factor ~3 apart. The paper's three
#: share one grid on real data (:mod:`gspace.experiments.protocol` says why Path-SGD's is not
#: shifted). The baselines' grids have the same shape (width and authors-mlp use them).
#: With momentum 0.9 a step moves about 10 times as far as without, so those grids are SGD's
#: divided by 10; Adam's is centred on its usual 1e-3; ENorm's step is an SGD step, and its
#: grid SGD's.
LR_GRIDS = {
    "sgd": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
    "pathsgd": (0.003, 0.01, 0.03, 0.1, 0.3, 1.0),
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

    opt = train.make_optimizer(optimizer, lr)
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


@functools.lru_cache(maxsize=2)
def _load(key: str):
    from gspace import datasets

    return datasets.load(**json.loads(key))


def spec_data(spec: dict):
    """``gspace.datasets.load(**spec["data"])``, loaded once per process (workers keep it)."""
    return _load(json.dumps(spec["data"], sort_keys=True))


def train_net(spec: dict):
    """Carry out the training run of one spec.

    Parameters
    ----------
    spec : dict
        ``condition`` (copied to the record), ``optimizer``, ``lr``, ``seed``, ``start``
        (``widths``, ``init``, optional ``sigma``; or ``channels`` and ``strides`` of a
        :class:`gspace.PlainCNN`), ``data`` (keyword arguments of
        :func:`gspace.datasets.load`), ``epochs``, ``batch_size``, ``schedule``.

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
    if "channels" in begin:  # a plain CNN on 1-channel square images (cnn-depth)
        from gspace.cnn import PlainCNN

        rng = np.random.default_rng(spec["seed"])
        kw = {"strides": begin["strides"], "n_classes": data.n_classes, "init": begin["init"]}
        net = PlainCNN(1, begin["channels"], **kw, rng=rng)
    else:
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
    >>> spec = {"condition": {"c": 1}, "optimizer": "gsgd", "lr": 0.1, "seed": 0,
    ...         "start": {"widths": [64, 8, 10], "init": "he"}, "data": {"name": "digits"},
    ...         "epochs": 1, "batch_size": 32, "schedule": None}
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


def save_figure(fig, path, results, about: str, *, ax=None, rect=None) -> None:
    """Title a figure ``results.title``, then ``about`` and the number of seeds; save as PNG.

    ``ax``: title this panel instead of the whole figure; ``rect``: for ``tight_layout``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    title = f"{results.title}\n{about}, mean +- std over {len(results.seeds)} seeds"
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
