"""Experiments on real data that test the paper's claims: ``gspace experiment NAME``.

What each experiment measures, the method and the fields of ``results.json``: docs,
experiments page; ``--jobs``, the run cache and ``--restart``: docs, cluster page.
"""

import functools
import sys
import time
from pathlib import Path

from .. import datasets
from . import (
    authors_mlp,
    cnn_depth,
    common,
    init,
    invariance,
    path_sgd,
    protocol,
    report,
    runner,
    unbalanced_init,
    width,
)

#: Experiment name (as on the command line) -> its module (``config``, ``plot``, ...).
EXPERIMENTS = {
    m.NAME: m for m in (invariance, unbalanced_init, width, path_sgd, authors_mlp, init, cnn_depth)
}


def _module(name: str):
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; accepted: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def _edge_notes(results) -> list[str]:
    """Say where a chosen learning rate is the smallest or largest of its grid."""
    edges: dict[tuple[str, str, str], list[str]] = {}
    for sel in results.lr_selection:
        grid, chosen = sel["grid"], sel["chosen"]
        if len(grid) < 2 or chosen not in (min(grid), max(grid)):
            continue
        side = "largest" if chosen == max(grid) else "smallest"
        cond = ", ".join(f"{k}={v}" for k, v in sel["condition"].items()) or "all runs"
        edges.setdefault((sel["optimizer"], f"{chosen:g}", side), []).append(cond)
    return [
        f"{common.OPTIMIZER_LABELS.get(opt, opt)}: the chosen rate {lr} is the {side} of its "
        f"grid ({'; '.join(conds)}); a rate beyond the grid might do better."
        for (opt, lr, side), conds in edges.items()
    ]


def run(
    name: str,
    quick: bool = False,
    out=None,
    seed: int = 0,
    *,
    progress=None,
    data_dir=None,
    overrides=None,
    jobs: int = 1,
    restart: bool = False,
) -> protocol.Results:
    """Run one experiment; write ``out/results.json`` and ``out/NAME.png`` if ``out`` is given.

    ``name``: a key of :data:`EXPERIMENTS`; ``quick``: the quick version (fewer epochs, 3
    seeds; under two minutes); ``seed``: the base seed (seeds ``seed, seed + 1, ...``);
    ``progress``: a tqdm bar (None: only on a terminal); ``data_dir``: where the IDX files are
    (default ``$GSPACE_DATA``); ``overrides``: entries replacing those of the experiment's
    ``config(quick)``; ``jobs``: training runs at once (joblib's ``n_jobs``; ``results.json``
    does not depend on it outside :data:`gspace.experiments.common.VOLATILE_FIELDS`). Finished
    runs are cached in ``out/runs/`` and taken from there by a later call (``restart``: delete
    them first). Returns the :class:`~gspace.experiments.protocol.Results`; raises ValueError
    or TypeError for an unknown ``name``, a bad ``seed`` or ``jobs``, and
    :class:`~gspace.experiments.runner.RunsFailed` if training runs raised (the others are
    cached).
    """
    module = _module(name)
    common.seeds(seed, quick)  # validates the seed and jobs before any work
    jobs = runner.check_jobs(jobs)
    cache_dir = None if out is None else Path(out) / "runs"
    if restart:
        runner.clear_cache(cache_dir)
    resumed = cache_dir is not None and any(cache_dir.glob("*.json"))
    start = time.perf_counter()
    study = getattr(module, "run", functools.partial(protocol.run_study, module))
    options = dict(progress=progress, data_dir=data_dir, jobs=jobs, cache_dir=cache_dir)
    results = study(quick=bool(quick), seed=int(seed), overrides=overrides, **options)
    results.notes.extend(_edge_notes(results))
    if quick:
        full, used = module.config(False), results.config
        changes = [f"{k} {used[k]} (full: {full[k]})" for k in full if used.get(k) != full[k]]
        changes.append(f"{common.N_SEEDS_QUICK} seeds (full: {common.N_SEEDS_FULL})")
        results.notes.insert(0, "Quick version: " + ", ".join(changes) + ".")
    results.machine = {**common.machine_info(), "jobs": jobs, "resumed": resumed}
    results.elapsed_seconds = round(time.perf_counter() - start, 1)
    if out is not None:
        results.to_json(Path(out) / "results.json")
        module.plot(results, Path(out) / results.figure)
    return results


def run_cli(args) -> int:
    """``gspace experiment NAME [--quick] [--out DIR] [--seed S] [--jobs N] [--restart]``.

    ``args`` has ``name`` and optionally ``quick``, ``out`` (default
    ``gspace-results/NAME``), ``seed``, ``data_dir``, ``no_progress``, ``jobs``,
    ``restart``. Returns the exit status: 0, 2 for an unknown name or a bad ``jobs``, 1 if
    training runs failed (listed on stderr), 130 if interrupted.
    """
    name, jobs = getattr(args, "name", None), getattr(args, "jobs", None)
    try:
        _module(name)
        jobs = runner.check_jobs(1 if jobs is None else jobs)
    except ValueError as exc:
        print(f"gspace experiment: {exc}", file=sys.stderr)
        return 2
    quick = bool(getattr(args, "quick", False))
    out = getattr(args, "out", None) or Path("gspace-results") / name
    seed = 0 if getattr(args, "seed", None) is None else args.seed
    cfg = EXPERIMENTS[name].config(quick)
    mode = "quick version: fewer epochs, 3 seeds" if quick else "full version"
    print(
        f"experiment {name} ({mode}): {cfg['epochs']} epochs, batch {cfg['batch_size']}, "
        f"seeds from {seed}, learning rates chosen on validation from {cfg['lr_grid']}"
    )
    try:
        results = run(
            name,
            quick=quick,
            out=out,
            seed=seed,
            progress=False if getattr(args, "no_progress", False) else None,
            data_dir=getattr(args, "data_dir", None),
            jobs=jobs,
            restart=bool(getattr(args, "restart", False)),
        )
    except runner.RunsFailed as exc:
        print(f"gspace experiment {name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gspace experiment {name}: interrupted; run it again to continue", file=sys.stderr)
        return 130
    print("\n".join(report.summary_tables(results, "text")).rstrip())
    for note in results.notes:
        print(f"* {note}")
    out = Path(out)
    print(
        f"{results.elapsed_seconds:.0f} s; wrote {out / 'results.json'} and {out / results.figure}"
    )
    return 0


_DEMO = {"dataset": "digits", "epochs": 10, "inits": ["skeleton-unit"], "tune_epochs": 1}
#: The short versions of ``gspace demo``, on digits: one start and one learning rate per
#: optimizer (the rates gspace 0.1 chose on digits), so the "tuning" run chooses nothing.
DEMO_OVERRIDES = {
    "invariance": {
        **_DEMO,
        "hidden": [32, 32],
        "lr_grid": {"sgd": [0.3], "pathsgd": [1.0], "gsgd": [0.3]},
        "tune_limit": None,
        "limit": None,
    },
    "path-sgd": {
        **_DEMO,
        "lr_grid": {"sgd": [0.3], "pathsgd": [3.0], "gsgd": [0.3]},
        "tune_limit": None,
    },
}


def demo(name: str, out, seed: int = 0, progress=None) -> protocol.Results:
    """Run and print the short version of ``name`` (a key of :data:`DEMO_OVERRIDES`, else a
    ValueError) for ``gspace demo``, always training; figure and results in ``out``."""
    if name not in DEMO_OVERRIDES:
        raise ValueError(f"no demo version of {name!r}; accepted: {', '.join(DEMO_OVERRIDES)}")
    overrides = DEMO_OVERRIDES[name]
    results = run(name, True, out, seed, progress=progress, overrides=overrides, restart=True)
    cfg = results.config
    data = datasets.load(cfg["dataset"], seed=seed)
    widths = "-".join(map(str, [data.n_features, *cfg["hidden"], data.n_classes]))
    print(
        f"{results.dataset}, widths {widths}, {cfg['epochs']} epochs, {len(results.seeds)} "
        f"seeds, one learning rate per optimizer"
    )
    print(report.results_table(results, fmt="text"), end="")
    for note in results.notes[1:]:
        print(f"* {note}")
    print(f"figure: {Path(out) / results.figure}")
    return results


def replot(results_path) -> Path:
    """Redraw an experiment's figure beside its ``results.json`` (no training); return its
    path. FileNotFoundError if the file is missing, ValueError if it is not a results file."""
    results = protocol.Results.from_json(results_path)
    figure = Path(results_path).parent / results.figure
    _module(results.experiment).plot(results, figure)
    return figure
