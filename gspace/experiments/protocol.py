"""The fair protocol of the real-data experiments (docs: experiments page), and their results."""

import dataclasses
import json
from pathlib import Path

import numpy as np

from .. import datasets
from . import common
from .runner import run_grid

#: The paper's optimizers; the others are the baselines beyond the paper (:mod:`gspace.baselines`).
PAPER_OPTIMIZERS = ("sgd", "pathsgd", "gsgd")
#: The two starting points every optimizer is tuned from.
STARTS = ("skeleton-unit", "he")
#: Protocol key -> its label in tables (with ``report_every_start``: one protocol per start).
PROTOCOLS = {"released": "as released", "a": "(a) authors' start", "b": "(b) own best start"}
PROTOCOLS.update({"skeleton-unit": "from skeleton-unit", "he": "from He"})


@dataclasses.dataclass
class Results:
    """What one experiment measured, with every setting (docs: experiments page)."""

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

    def to_json(self, path) -> Path:
        """Write ``results.json`` (NaN for diverged runs, floats exact); parents created."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_json(cls, path) -> "Results":
        """Read a file written by :meth:`to_json`; ValueError (with the path) if it is not one."""
        names = [f.name for f in dataclasses.fields(cls)]
        try:
            d = json.loads(Path(path).read_text())
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        if not isinstance(d, dict) or set(d) != set(names):
            got = sorted(d) if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"{path}: not a gspace results object: fields {got}, expected {names}")
        return cls(**d)


def _specs(results, entry, c, opt, init, lr, data_dir, tune: bool) -> list[dict]:
    """The runs of one optimizer, start and rate: tuning runs (``tune``) or reported ones."""
    limit, epochs = (c["tune_limit"], c["tune_epochs"]) if tune else (c["limit"], c["epochs"])
    data = {"name": c["dataset"], "seed": int(results.seed), "limit": int(limit) if limit else None}
    data["data_dir"] = None if data_dir is None else str(data_dir)
    head = {"condition": {**entry["condition"], "init": init}, "optimizer": opt, "lr": float(lr)}
    tail = {"data": {k: v for k, v in data.items() if v is not None}, "epochs": int(epochs)}
    tail["batch_size"], tail["schedule"] = c["batch_size"], c.get("schedule")
    seeds = results.seeds[: c["tune_seeds"]] if tune else results.seeds
    start = {**entry["start"], "init": init}
    return [{**head, "seed": int(s), "start": start, **tail} for s in seeds]


def fair_runs(
    results, cfg, conditions, optimizers, *, train_fn=None, final_fn=None, data_dir=None, **grid
) -> dict:
    """Tune, choose and run every optimizer under every protocol for every condition
    (:doc:`/experiments`): ``train_fn`` trains the tuning runs, ``final_fn`` the reported ones."""
    train_fn, name = train_fn or common.train_spec, results.experiment
    todo = [(e, {**cfg, **e.get("cfg", {})}, opt) for e in conditions for opt in optimizers]
    tune, choices, plan = [], [], []
    for entry, c, opt in todo:
        for init in c["inits"]:
            for lr in c["lr_grid"][opt]:
                tune += _specs(results, entry, c, opt, init, lr, data_dir, tune=True)
    records = run_grid(tune, train_fn, desc=f"{name}: tuning", **grid)
    results.runs += [{"phase": "tune", **rec, "curves": {}} for rec in records]
    for entry, c, opt in todo:
        best = {}
        for init in c["inits"]:
            cond = {**entry["condition"], "init": init}
            mine = [r for r in records if (r["condition"], r["optimizer"]) == (cond, opt)]
            sel, _ = common.select_lr(mine, c["lr_grid"][opt])
            results.lr_selection.append(sel)
            best[init] = (max(sel["val_acc_mean"]), sel["chosen"])
        init_b = max(c["inits"], key=lambda i: best[i][0])  # first maximum: skeleton-unit
        picks = {"a": ("skeleton-unit", best["skeleton-unit"][1]), "b": (init_b, best[init_b][1])}
        if c.get("released_lr") is not None and opt in PAPER_OPTIMIZERS:
            picks = {"released": ("skeleton-unit", c["released_lr"]), **picks}
        if len(c["inits"]) == 1:  # one start: (b) is (a)
            del picks["b"]
        if c.get("report_every_start"):
            picks = {init: (init, best[init][1]) for init in c["inits"]}
        choices.append(picks)
        for init, lr in dict.fromkeys(picks.values()):  # (a) and (b) may coincide
            plan += _specs(results, entry, c, opt, init, lr, data_dir, tune=False)
    final = run_grid(plan, final_fn or train_fn, desc=f"{name}: reported runs", **grid)
    results.runs += [{"phase": "final", **rec} for rec in final]
    out = {}
    for (entry, _, opt), picks in zip(todo, choices):
        for proto, (init, lr) in picks.items():
            want = ({**entry["condition"], "init": init}, opt, float(lr))
            recs = [r for r in final if (r["condition"], r["optimizer"], r["lr"]) == want]
            key = json.dumps(entry["condition"], sort_keys=True)
            out.setdefault(key, {}).setdefault(proto, {})[opt] = (init, float(lr), recs)
    return out


def accuracies(recs) -> np.ndarray:
    """The records' final test accuracies (NaN: diverged)."""
    return np.array([np.nan if r["diverged"] else r["final"]["test_acc"] for r in recs])


def protocol_rows(outcome: dict, conditions, optimizers, pairs=(("gsgd", "sgd"),)) -> list[dict]:
    """Summary rows of :func:`fair_runs`' outcome, one per condition and protocol."""
    rows = []
    for entry in conditions:
        for proto, per_opt in outcome[json.dumps(entry["condition"], sort_keys=True)].items():
            row = {**entry["condition"], "protocol": PROTOCOLS[proto]}
            for opt in (o for o in optimizers if o in per_opt):  # "as released": paper's only
                init, lr, recs = per_opt[opt]
                n_div = sum(r["diverged"] for r in recs)
                div = f" ({n_div} of {len(recs)} diverged)" if n_div else ""
                row[f"{opt}_start"] = f"{init}, lr {lr:g}{div}"
                row[f"{opt}_acc_mean"], row[f"{opt}_acc_std"] = common.mean_std(accuracies(recs))
            for a, b in (p for p in pairs if p[0] in per_opt and p[1] in per_opt):
                gaps = accuracies(per_opt[a][2]) - accuracies(per_opt[b][2])
                row[f"gap_{a}_{b}_mean"], row[f"gap_{a}_{b}_std"] = common.mean_std(gaps)
                text = ("div" if np.isnan(g) else f"{g:+.3f}" for g in gaps)
                row[f"seeds_{a}_{b}"] = " ".join(text)
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


def cell_runs(runs, condition: dict, start: str, optimizer: str) -> list[dict]:
    """The final runs, in seed order, behind a summary cell whose start reads ``"init, lr X"``."""
    init, lr = start.split(" (")[0].split(", lr ")
    want = ("final", optimizer, {**condition, "init": init}, float(lr))
    mine = [r for r in runs if (r["phase"], r["optimizer"], r["condition"], r["lr"]) == want]
    return sorted(mine, key=lambda r: r["seed"])


def base_config(optimizers, dataset, epochs, quick: bool, subsample: bool = True) -> dict:
    """The entries every real-data experiment shares (``subsample``: tune and ``quick`` on some)."""
    cfg = dict(dataset=dataset, epochs=epochs, batch_size=64, loss="cross_entropy", bias=False)
    cfg.update(inits=list(STARTS), lr_grid={opt: list(common.LR_GRIDS[opt]) for opt in optimizers})
    tune_limit = (3000 if quick else 8000) if subsample else None
    cfg.update(tune_epochs=epochs, tune_limit=tune_limit, tune_seeds=1)
    return {**cfg, "limit": 6000 if quick and subsample else None, "optimizers": list(optimizers)}


def begin(module, quick: bool, seed: int, overrides=None, *, data_dir=None, **_):
    """The configuration (``overrides`` applied), an empty :class:`Results` and ``(d, K)``."""
    base, overrides = module.config(quick), dict(overrides or {})
    if unknown := sorted(set(overrides) - set(base)):
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
    config = {**cfg, "dataset": used if isinstance(cfg["dataset"], list) else used[0]}
    what = {"experiment": module.NAME, "title": module.TITLE, "figure": f"{module.NAME}.png"}
    what["description"] = module.DESCRIPTION.format(**cfg)
    setting = {"quick": bool(quick), "seed": int(seed), "seeds": common.seeds(seed, quick)}
    init = getattr(module, "INIT", "skeleton-unit and he (protocols a, b)")
    results = Results(**what, **setting, dataset=", ".join(used), init=init, config=config)
    return cfg, results, (loaded[0].n_features, loaded[0].n_classes)


def run_study(module, *, quick=False, seed=0, overrides=None, **options) -> Results:
    """Run an experiment module under the fair protocol."""
    cfg, results, (d, K) = begin(module, quick, seed, overrides, **options)
    conditions = module.conditions(cfg, results.config, d, K)
    pairs, opts = getattr(module, "PAIRS", (("gsgd", "sgd"),)), cfg["optimizers"]
    outcome = fair_runs(results, cfg, conditions, opts, **options)
    results.summary = protocol_rows(outcome, conditions, opts, pairs)
    results.summary_columns = protocol_columns(module.COLUMNS, opts, pairs)
    results.notes += module.notes(results) if hasattr(module, "notes") else []
    return results
