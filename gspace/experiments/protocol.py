"""The fair protocol of the real-data experiments, and their results as a typed dataclass.

The starting point decides comparisons between SGD and G-SGD: SGD does well from He
initialization and can fail from the skeleton-unit start (He, then every skeleton weight set
to 1), and G-SGD the other way round (docs: experiments and reproduction pages). The authors
started every optimizer from skeleton-unit. So every real-data experiment reports each
optimizer under two protocols, with the learning rate chosen on validation:

* **(a) the authors' start**: every optimizer from the skeleton-unit initialization;
* **(b) each optimizer's own best start**: He or skeleton-unit, whichever gave the optimizer
  its best validation accuracy in the tuning runs (ties: skeleton-unit).

**Tuning.** For each condition of an experiment (a width, a rescaling strength, ...), each
optimizer, each start and each rate of :data:`LR_GRID`, the network is trained on a seeded
subsample of the data (``config["tune_limit"]`` images, split like the full data: official
test images apart, 15% of the rest for validation) for ``config["tune_epochs"]`` epochs with
the first ``config["tune_seeds"]`` seeds; the rate with the best mean final validation
accuracy is chosen (a diverged run counts 0; ties go to the smaller rate). The three
optimizers share one grid: Path-SGD divides each gradient by ``gamma(w, e)``, and on the
digits (64 inputs) its good rates were ten times SGD's, but on 784-pixel images they are on
SGD's scale, so its grid is not shifted. The test split plays no part in any choice.

**Reported runs.** Each chosen (start, rate) is then trained on the full training split with
the experiment's seeds (5; 3 with ``--quick``); test accuracy is reported as mean +- sample
standard deviation, and the differences between optimizers are paired by seed (a seed fixes
the initial network and the batch order of every optimizer).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import common

__all__ = [
    "Results",
    "PAPER_OPTIMIZERS",
    "STARTS",
    "PROTOCOLS",
    "LR_GRID",
    "base_config",
    "begin",
    "fair_runs",
    "compare",
    "protocol_rows",
    "protocol_columns",
    "plot_accuracy",
    "plot_protocols",
    "plot_curves",
]

#: The paper's optimizers; the others (``sgd-momentum``, ``adam``, ...) are the baselines
#: beyond the paper (:mod:`gspace.baselines`), which have no "as released" setting.
PAPER_OPTIMIZERS = ("sgd", "pathsgd", "gsgd")
#: The two starting points every optimizer is tuned from.
STARTS = ("skeleton-unit", "he")
#: Real-data learning-rate grid, the same for the three optimizers (see the module notes).
LR_GRID = common.LR_GRIDS["sgd"]
#: Protocol key -> its label in tables.
PROTOCOLS = {
    "released": "as released",
    "a": "(a) authors' start",
    "b": "(b) own best start",
    "skeleton-unit": "from skeleton-unit",
    "he": "from He",
}


@dataclasses.dataclass
class Results:
    """What one experiment measured, with everything needed to rerun it.

    Attributes
    ----------
    experiment, title, description : str
        Name (as on the command line), figure title, one paragraph on what is measured.
    quick : bool
        Whether the ``--quick`` version ran.
    seed : int
        Base seed; it also fixes the data split and the tuning subsample.
    seeds : list of int
        Seeds of the reported runs.
    dataset : str
        The data set(s) actually used (``"mnist-sample-5000"`` when full MNIST was absent).
    init : str
        The initialization(s) used.
    config : dict
        Every setting: networks, epochs, batch size, grids, subsample sizes, schedule, ...
    lr_selection : list of dict
        One entry per (condition, optimizer, start): ``condition``, ``optimizer``, ``grid``,
        ``val_acc_mean``, ``diverged`` and ``chosen``.
    runs : list of dict
        One record per training run: ``phase`` (``"tune"`` or ``"final"``), ``condition``,
        ``optimizer``, ``lr``, ``seed``, ``diverged``, ``final`` (last epoch's losses and
        accuracies) and, for final runs, per-epoch ``curves``.
    summary : list of dict
        The table of results; ``summary_columns`` gives its columns (``key``, ``label``,
        ``format``).
    notes : list of str
        Plain-language remarks written by the experiment.
    machine : dict
        Platform, CPU count, versions, git commit and date (:func:`common.machine_info`).
    elapsed_seconds : float
    figure : str
        File name of the figure, beside ``results.json``.
    """

    experiment: str
    title: str
    description: str
    quick: bool
    seed: int
    seeds: list
    dataset: str
    init: str
    config: dict
    lr_selection: list = dataclasses.field(default_factory=list)
    runs: list = dataclasses.field(default_factory=list)
    summary: list = dataclasses.field(default_factory=list)
    summary_columns: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    machine: dict = dataclasses.field(default_factory=dict)
    elapsed_seconds: float = 0.0
    figure: str = ""

    def to_dict(self) -> dict:
        """The fields as a plain dict (the JSON object of ``results.json``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Results:
        """Rebuild from :meth:`to_dict`; ValueError names missing or unknown fields."""
        names = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(d, dict) or set(d) != set(names):
            got = sorted(d) if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"not a gspace results object: fields {got}, expected {names}")
        return cls(**d)

    def to_json(self, path) -> Path:
        """Write ``results.json`` (NaN for diverged runs, floats exact); parents created."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, path) -> Results:
        """Read a file written by :meth:`to_json`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> r = Results("x", "X", "about x", True, 0, [0], "digits", "he", {"epochs": 1})
        >>> p = r.to_json(pathlib.Path(tempfile.mkdtemp()) / "results.json")
        >>> Results.from_json(p) == r
        True
        """
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None


def _spec(condition, opt, init, lr, seed, start, data, epochs, cfg):
    return {
        "condition": {**condition, "init": init},
        "optimizer": opt,
        "lr": float(lr),
        "seed": int(seed),
        "start": {**start, "init": init},
        "data": data,
        "epochs": int(epochs),
        "batch_size": cfg["batch_size"],
        "schedule": cfg.get("schedule"),
    }


def _data(cfg, name, seed, limit, data_dir):
    data = {"name": name, "seed": int(seed)}
    if limit:
        data["limit"] = int(limit)
    if data_dir is not None:
        data["data_dir"] = str(data_dir)
    return data


def _key(condition: dict) -> str:
    return json.dumps(condition, sort_keys=True)


def fair_runs(
    results: Results,
    cfg: dict,
    conditions: Sequence[dict],
    optimizers: Sequence[str],
    *,
    train_fn=None,
    final_fn=None,
    jobs: int = 1,
    cache_dir=None,
    progress=None,
    data_dir=None,
) -> dict:
    """Tune, choose and run every optimizer under protocols (a) and (b) for every condition.

    Parameters
    ----------
    results : Results
        Filled in place: ``lr_selection`` and ``runs``.
    cfg : dict
        ``dataset``, ``lr_grid`` (optimizer -> rates), ``inits`` (starts tuned, a subset of
        :data:`STARTS` beginning with ``"skeleton-unit"``), ``epochs``, ``batch_size``,
        optional ``schedule``, ``tune_epochs``, ``tune_limit`` (subsample size, None: all),
        ``tune_seeds`` (how many of the seeds tune), ``limit`` (None: the full data),
        optional ``released_lr`` (adds the protocol "as released": skeleton-unit at that
        rate, untuned, for :data:`PAPER_OPTIMIZERS` only) and optional
        ``report_every_start`` (report every start of ``inits`` at its tuned rate instead of
        (a) and (b)).
    conditions : sequence of dict
        ``{"condition": {...}, "start": {"widths": [...], ...}}``, optionally ``"cfg"`` with
        entries replacing those of ``cfg`` for this condition (``dataset``, ``epochs``, ...).
        ``start`` may hold ``"sigma"`` (a random rescaling of the initial network).
    optimizers : sequence of str
    train_fn : callable, optional
        ``train_fn(spec) -> record``; default :func:`common.train_spec`.
    final_fn : callable, optional
        The same for the reported runs; default ``train_fn``.
    jobs, cache_dir, progress
        For :func:`gspace.experiments.runner.run_grid`.
    data_dir : str or Path, optional

    Returns
    -------
    dict
        ``_key(condition) -> {protocol: {optimizer: (init, lr, records in seed order)}}``.
    """
    from .runner import run_grid

    train_fn = train_fn or common.train_spec
    final_fn = final_fn or train_fn
    tune, plan = [], []
    for entry in conditions:
        c = {**cfg, **entry.get("cfg", {})}
        data = _data(c, c["dataset"], results.seed, c["tune_limit"], data_dir)
        for opt in optimizers:
            for init in c["inits"]:
                for lr in c["lr_grid"][opt]:
                    for s in results.seeds[: c["tune_seeds"]]:
                        tune.append(
                            _spec(
                                entry["condition"],
                                opt,
                                init,
                                lr,
                                s,
                                entry["start"],
                                data,
                                c["tune_epochs"],
                                c,
                            )
                        )
    records = run_grid(
        tune,
        train_fn,
        jobs=jobs,
        cache_dir=cache_dir,
        progress=progress,
        desc=f"{results.experiment}: tuning",
    )
    for rec in records:
        results.runs.append({"phase": "tune", **rec, "curves": {}})
    by = {}
    for rec in records:
        by.setdefault((_key(rec["condition"]), rec["optimizer"]), []).append(rec)
    choice = {}
    for entry in conditions:
        c = {**cfg, **entry.get("cfg", {})}
        for opt in optimizers:
            best = {}
            for init in c["inits"]:
                cond = {**entry["condition"], "init": init}
                sel, _ = common.select_lr(by[(_key(cond), opt)], c["lr_grid"][opt])
                results.lr_selection.append(sel)
                best[init] = (max(sel["val_acc_mean"]), sel["chosen"])
            init_b = max(c["inits"], key=lambda i: best[i][0])  # first maximum: skeleton-unit
            picks = {
                "a": ("skeleton-unit", best["skeleton-unit"][1]),
                "b": (init_b, best[init_b][1]),
            }
            if c.get("released_lr") is not None and opt in PAPER_OPTIMIZERS:
                picks = {"released": ("skeleton-unit", c["released_lr"]), **picks}
            if len(c["inits"]) == 1:  # one start: (b) is (a)
                del picks["b"]
            if c.get("report_every_start"):
                picks = {init: (init, best[init][1]) for init in c["inits"]}
            choice[(_key(entry["condition"]), opt)] = picks
            data = _data(c, c["dataset"], results.seed, c["limit"], data_dir)
            for init, lr in dict.fromkeys(picks.values()):  # (a) and (b) may coincide
                plan += [
                    _spec(
                        entry["condition"], opt, init, lr, s, entry["start"], data, c["epochs"], c
                    )
                    for s in results.seeds
                ]
    final = run_grid(
        plan,
        final_fn,
        jobs=jobs,
        cache_dir=cache_dir,
        progress=progress,
        desc=f"{results.experiment}: reported runs",
    )
    found = {}
    for rec in final:
        results.runs.append({"phase": "final", **rec})
        key = (_key(rec["condition"]), rec["optimizer"], rec["lr"])
        found.setdefault(key, []).append(rec)
    out = {}
    for entry in conditions:
        k = _key(entry["condition"])
        for opt in optimizers:
            for proto, (init, lr) in choice[(k, opt)].items():
                cond = _key({**entry["condition"], "init": init})
                recs = found[(cond, opt, float(lr))]
                out.setdefault(k, {}).setdefault(proto, {})[opt] = (init, float(lr), recs)
    return out


def compare(results, cfg, conditions, optimizers, condition_columns, pairs=None, **options):
    """:func:`fair_runs`, then ``results.summary`` and its columns from :func:`protocol_rows`.

    ``pairs`` defaults to ``(("gsgd", "sgd"),)``; ``options`` go to :func:`fair_runs`
    (``jobs``, ``cache_dir``, ``progress``, ``data_dir``, ``final_fn``). Returns the outcome.
    """
    pairs = pairs or (("gsgd", "sgd"),)
    outcome = fair_runs(results, cfg, conditions, optimizers, **options)
    results.summary = protocol_rows(outcome, conditions, optimizers, pairs)
    results.summary_columns = protocol_columns(condition_columns, optimizers, pairs)
    return outcome


def _test_accs(recs) -> np.ndarray:
    return np.array(
        [np.nan if r["diverged"] else r["final"]["test_acc"] for r in recs], dtype=np.float64
    )


def protocol_rows(outcome: dict, conditions, optimizers, pairs=(("gsgd", "sgd"),)) -> list[dict]:
    """Summary rows: one per condition and protocol, each optimizer's start, rate, accuracy.

    Parameters
    ----------
    outcome : dict
        From :func:`fair_runs`.
    conditions : sequence of dict
        As for :func:`fair_runs`; each condition's entries come first in its rows.
    optimizers : sequence of str
    pairs : sequence of (str, str)
        Differences ``a - b`` in test accuracy, paired by seed: ``gap_a_b`` (mean, std) and
        ``seeds_a_b`` (the per-seed differences as text, ``div`` where a run diverged).

    Returns
    -------
    list of dict
    """
    rows = []
    for entry in conditions:
        for proto, per_opt in outcome[_key(entry["condition"])].items():
            row = {**entry["condition"], "protocol": PROTOCOLS[proto]}
            for opt in (o for o in optimizers if o in per_opt):  # "as released": paper's only
                init, lr, recs = per_opt[opt]
                n_div = sum(r["diverged"] for r in recs)
                div = f" ({n_div} of {len(recs)} diverged)" if n_div else ""
                row[f"{opt}_start"] = f"{init}, lr {lr:g}{div}"
                row[f"{opt}_acc_mean"], row[f"{opt}_acc_std"] = common.mean_std(_test_accs(recs))
            for a, b in (p for p in pairs if p[0] in per_opt and p[1] in per_opt):
                gaps = _test_accs(per_opt[a][2]) - _test_accs(per_opt[b][2])
                row[f"gap_{a}_{b}_mean"], row[f"gap_{a}_{b}_std"] = common.mean_std(gaps)
                row[f"seeds_{a}_{b}"] = " ".join(
                    "div" if np.isnan(g) else f"{g:+.3f}" for g in gaps
                )
            rows.append(row)
    return rows


def protocol_columns(condition_columns, optimizers, pairs=(("gsgd", "sgd"),)) -> list[dict]:
    """The ``summary_columns`` of :func:`protocol_rows`, after ``condition_columns``."""
    label = common.OPTIMIZER_LABELS
    cols = [*condition_columns, {"key": "protocol", "label": "protocol"}]
    for opt in optimizers:
        cols.append({"key": f"{opt}_start", "label": f"{label[opt]} start, lr"})
        cols.append({"key": f"{opt}_acc", "label": f"{label[opt]} test acc.", "format": ".4f"})
    for a, b in pairs:
        cols.append({"key": f"gap_{a}_{b}", "label": f"{label[a]} - {label[b]}", "format": "+.4f"})
        cols.append({"key": f"seeds_{a}_{b}", "label": f"{label[a]} - {label[b]} per seed"})
    return cols


def base_config(optimizers, dataset, epochs, quick: bool, subsample: bool = True) -> dict:
    """The entries every real-data experiment shares (batch 64, one grid, both starts, ...).

    ``subsample``: tune on 8,000 images (3,000 with ``quick``) and, with ``quick``, train on
    6,000; otherwise (the 5,000-image MNIST sample) use all the data for both.
    """
    return {
        "dataset": dataset,
        "epochs": epochs,
        "batch_size": 64,
        "loss": "cross_entropy",
        "bias": False,
        "inits": list(STARTS),
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in optimizers},
        "tune_epochs": epochs,
        "tune_limit": (3000 if quick else 8000) if subsample else None,
        "tune_seeds": 1,
        "limit": 6000 if quick and subsample else None,
        "optimizers": list(optimizers),
    }


def begin(module, quick: bool, seed: int, overrides=None, *, data_dir=None, init=None, **_):
    """The configuration and an empty :class:`Results` of one experiment run.

    Parameters
    ----------
    module : module
        The experiment: ``NAME``, ``TITLE``, ``DESCRIPTION`` (``str.format`` fields from the
        configuration), ``config(quick)``.
    quick : bool
    seed : int
        Base seed (validated by :func:`common.seeds`).
    data_dir : str or Path, optional
    overrides : dict, optional
        Entries replacing those of ``config(quick)``; unknown keys and changes of ``loss``
        or ``bias`` (records of what every experiment does) are a ValueError.
    data_dir : str or Path, optional
    init : str, optional
        What ``results.init`` says; default ``"skeleton-unit and he (protocols a, b)"``.
    **_
        The other options of the experiment's ``run`` (``jobs``, ...), ignored here.

    Returns
    -------
    cfg : dict
    results : Results
        ``dataset`` and ``config["dataset"]`` name the data actually loaded (for
        ``"mnist"`` without its IDX files: ``"mnist-sample-5000"``).
    d, K : int
        Numbers of features and classes of the (first) data set.
    """
    from gspace import datasets

    base = module.config(quick)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        raise ValueError(
            f"unknown configuration keys for experiment {module.NAME!r}: {unknown}; "
            f"accepted: {sorted(base)}"
        )
    for key in ("loss", "bias"):
        if key in overrides and overrides[key] != base.get(key):
            raise ValueError(
                f"config[{key!r}] records what the experiments do ({base.get(key)!r}) and "
                f"cannot be overridden (got {overrides[key]!r})"
            )
    cfg = {**base, **overrides}
    names = cfg["dataset"] if isinstance(cfg["dataset"], list) else [cfg["dataset"]]
    loaded = [datasets.load(n, seed=seed, data_dir=data_dir, limit=cfg.get("limit")) for n in names]
    used = [data.name for data in loaded]
    results = Results(
        experiment=module.NAME,
        title=module.TITLE,
        description=module.DESCRIPTION.format(**cfg),
        quick=bool(quick),
        seed=int(seed),
        seeds=common.seeds(seed, quick),
        dataset=", ".join(used),
        init=init or "skeleton-unit and he (protocols a, b)",
        config={**cfg, "dataset": used if isinstance(cfg["dataset"], list) else used[0]},
        figure=f"{module.NAME}.png",
    )
    return cfg, results, (loaded[0].n_features, loaded[0].n_classes)


def plot_accuracy(ax, results, x, optimizers, offsets=None, protocols=("a", "b")) -> None:
    """Mean +- std test accuracy of each optimizer against ``x`` (one value per condition),
    protocol (a) dashed, (b) solid; ``offsets[opt]`` shifts an optimizer's points sideways.
    With one of ``protocols`` the lines are labelled by optimizer only."""
    for proto, ls in ((PROTOCOLS[p], "--" if p == "a" else "-") for p in protocols):
        rows = [r for r in results.summary if r["protocol"] == proto]
        for opt in optimizers:
            label = common.OPTIMIZER_LABELS[opt]
            _errorbar(
                ax,
                np.asarray(x, dtype=float) + (offsets or {}).get(opt, 0.0),
                rows,
                f"{opt}_acc",
                marker="o",
                ls=ls,
                color=common.OPTIMIZER_COLORS[opt],
                label=label if len(protocols) == 1 else f"{label}, {proto}",
            )


def _errorbar(ax, x, rows, key: str, **style) -> None:
    """``rows[i][key_mean]`` +- ``rows[i][key_std]`` against ``x``, with error bars."""
    means, stds = ([r[f"{key}_{s}"] for r in rows] for s in ("mean", "std"))
    ax.errorbar(x, means, yerr=stds, capsize=3, **style)


def plot_protocols(results, path, x, xlabel: str, about: str, offsets=None, gaps=()) -> None:
    """Test accuracy against ``x`` (log 2 axis) under protocols (a) and (b), every optimizer
    of the study, one legend below; with ``gaps`` (pairs ``(a, b)``) a third panel shows the
    paired differences ``a - b`` of both protocols. Saved to ``path``."""
    import matplotlib.pyplot as plt

    opts = results.config["optimizers"]
    fig, axes = plt.subplots(1, 3 if gaps else 2, figsize=(14.0 if gaps else 10.0, 4.6))
    for ax, proto in zip(axes, ("a", "b")):
        plot_accuracy(ax, results, x, opts, offsets, protocols=(proto,))
        ax.set_title(PROTOCOLS[proto], fontsize=10)
    axes[0].set_ylabel("test accuracy (fraction correct)")
    for (a, b), (p, ls) in ((pair, p) for pair in gaps for p in (("a", "--"), ("b", "-"))):
        rows = [r for r in results.summary if r["protocol"] == PROTOCOLS[p]]
        _errorbar(
            axes[2],
            np.asarray(x, dtype=float) * (1.04 if p == "b" else 0.96),
            rows,
            f"gap_{a}_{b}",
            marker="s",
            ls=ls,
            color=common.OPTIMIZER_COLORS[a],
            label=f"{common.OPTIMIZER_LABELS[a]} - {common.OPTIMIZER_LABELS[b]} ({p})".replace(
                "+momentum", "+m"
            ),
        )
    if gaps:
        axes[2].axhline(0.0, color="gray", lw=1, ls=":")
        axes[2].set_title("differences, paired by seed", fontsize=10)
        axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(opts), 4), fontsize=9)
    rows = (len(opts) + 3) // 4
    common.save_figure(fig, path, results, about, rect=(0, 0.07 * rows + 0.02, 1, 1))


def plot_curves(results, path, key: str) -> None:
    """Test accuracy against epochs of every reported configuration, one panel per ``key``.

    One band (mean +- std over seeds) per optimizer, start and rate among the final runs;
    the panels are the values of ``condition[key]``.
    """
    import matplotlib.pyplot as plt

    groups: dict = {}
    for r in results.runs:
        if r["phase"] == "final":
            k = (r["condition"].get(key, "all"), r["optimizer"], r["condition"]["init"], r["lr"])
            groups.setdefault(k, []).append(r["curves"].get("test_acc", []))
    panels = list(dict.fromkeys(k[0] for k in groups))
    n_lines = max(sum(k[0] == v for k in groups) for v in panels)
    many = n_lines > 6  # then each panel's legend goes in its own box below it
    fig, axes = plt.subplots(
        2 if many else 1,
        len(panels),
        figsize=(5.2 * len(panels), 4.0 + (0.17 * n_lines if many else 0.0)),
        squeeze=False,
        gridspec_kw={"height_ratios": [4.0, 0.17 * n_lines]} if many else None,
    )
    for ax, value in zip(axes[0], panels, strict=True):
        lows = []
        for (v, opt, init, lr), curves in groups.items():
            if v != value:
                continue
            ls = "-" if init == "skeleton-unit" else "--"
            label = f"{common.OPTIMIZER_LABELS[opt]}, {init}, lr {lr:g}"
            common.plot_band(ax, curves, label=label, color=common.OPTIMIZER_COLORS[opt], ls=ls)
            lows += [c[1] for c in curves if len(c) > 1]
        if lows:
            ax.set_ylim(max(0.0, min(lows) - 0.02), None)
        ax.set_title(f"{key} = {value}" if key else "", fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if many:
            box = axes[1][panels.index(value)]
            box.legend(*ax.get_legend_handles_labels(), loc="center", fontsize=7, frameon=False)
            box.axis("off")
        else:
            ax.legend(fontsize=7)
    axes[0][0].set_ylabel("test accuracy (fraction correct)")
    common.save_figure(
        fig, path, results, f"{results.dataset}, widths {results.config.get('hidden')}"
    )
