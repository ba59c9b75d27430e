"""Experiments on real data that test the paper's claims: ``gspace experiment NAME``."""

import sys
import time
from pathlib import Path

from .. import datasets
from .. import validation as V
from . import authors_mlp, cnn_depth, init, invariance, path_sgd, unbalanced_init, width
from .common import N_SEEDS_FULL, N_SEEDS_QUICK, OPTIMIZER_LABELS, machine_info, seeds
from .protocol import Results, run_study
from .report import results_table, summary_tables
from .runner import RunsFailed, check_jobs, clear_cache

#: Experiment name (as on the command line) -> its module (``config``, ``plot``, ...).
EXPERIMENTS = {
    m.NAME: m for m in (invariance, unbalanced_init, width, path_sgd, authors_mlp, init, cnn_depth)
}


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
        f"{OPTIMIZER_LABELS.get(opt, opt)}: the chosen rate {lr} is the {side} of its "
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
) -> Results:
    """Run experiment ``name``; write ``results.json``, ``NAME.png`` and ``runs/`` into ``out``."""
    module = EXPERIMENTS[V.choice(name, EXPERIMENTS, "experiment")]
    _, jobs = seeds(seed, quick), check_jobs(jobs)  # checked before any work
    cache_dir = None if out is None else Path(out) / "runs"
    if restart:
        clear_cache(cache_dir)
    resumed = cache_dir is not None and any(cache_dir.glob("*.json"))
    start, study = time.perf_counter(), getattr(module, "run", run_study)
    options = dict(progress=progress, data_dir=data_dir, jobs=jobs, cache_dir=cache_dir)
    results = study(module, quick=bool(quick), seed=int(seed), overrides=overrides, **options)
    results.notes.extend(_edge_notes(results))
    if quick:
        full, used = module.config(False), results.config
        changes = [f"{k} {used[k]} (full: {full[k]})" for k in full if used.get(k) != full[k]]
        changes.append(f"{N_SEEDS_QUICK} seeds (full: {N_SEEDS_FULL})")
        results.notes.insert(0, "Quick version: " + ", ".join(changes) + ".")
    results.machine = {**machine_info(), "jobs": jobs, "resumed": resumed}
    results.elapsed_seconds = round(time.perf_counter() - start, 1)
    if out is not None:
        results.to_json(Path(out) / "results.json")
        module.plot(results, Path(out) / results.figure)
    return results


def run_cli(args) -> int:
    """``gspace experiment NAME ...``; return the exit status (2, 1: runs failed, 130)."""
    a = dict(name=None, quick=False, out=None, seed=None, jobs=None, no_progress=False)
    a = {**a, "data_dir": None, "restart": False, **vars(args)}
    name, quick, seed = a["name"], bool(a["quick"]), 0 if a["seed"] is None else a["seed"]
    try:
        V.choice(name, EXPERIMENTS, "experiment")
        jobs = check_jobs(1 if a["jobs"] is None else a["jobs"])
    except ValueError as exc:
        print(f"gspace experiment: {exc}", file=sys.stderr)
        return 2
    out, cfg = Path(a["out"] or Path("gspace-results") / name), EXPERIMENTS[name].config(quick)
    mode = "quick version: fewer epochs, 3 seeds" if quick else "full version"
    what = f"{cfg['epochs']} epochs, batch {cfg['batch_size']}, seeds from {seed}, learning rates"
    print(f"experiment {name} ({mode}): {what} chosen on validation from {cfg['lr_grid']}")
    kw = {"data_dir": a["data_dir"], "restart": a["restart"], "jobs": jobs}
    try:
        results = run(name, quick, out, seed, progress=False if a["no_progress"] else None, **kw)
    except RunsFailed as exc:
        print(f"gspace experiment {name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gspace experiment {name}: interrupted; run it again to continue", file=sys.stderr)
        return 130
    notes = [f"* {note}" for note in results.notes]
    print("\n".join(["\n".join(summary_tables(results, "text")).rstrip(), *notes]))
    wrote = f"wrote {out / 'results.json'} and {out / results.figure}"
    print(f"{results.elapsed_seconds:.0f} s; {wrote}")
    return 0


_DEMO = dict(dataset="digits", epochs=10, inits=["skeleton-unit"], tune_epochs=1, tune_limit=None)
#: The short versions of ``gspace demo`` on digits: one start and one learning rate per optimizer.
DEMO_OVERRIDES = {
    name: {**_DEMO, **extra, "lr_grid": {"sgd": [0.3], "pathsgd": [lr], "gsgd": [0.3]}}
    for name, lr, extra in (
        ("invariance", 1.0, {"hidden": [32, 32], "limit": None}),
        ("path-sgd", 3.0, {}),
    )
}


def demo(name: str, out, seed: int = 0, progress=None) -> Results:
    """Run and print the short version of ``name`` (a key of :data:`DEMO_OVERRIDES`)."""
    overrides = DEMO_OVERRIDES[V.choice(name, DEMO_OVERRIDES, "demo")]
    results = run(name, True, out, seed, progress=progress, overrides=overrides, restart=True)
    cfg, data = results.config, datasets.load(results.config["dataset"], seed=seed)
    widths = "-".join(map(str, [data.n_features, *cfg["hidden"], data.n_classes]))
    n = f"{cfg['epochs']} epochs, {len(results.seeds)} seeds"
    print(f"{results.dataset}, widths {widths}, {n}, one learning rate per optimizer")
    notes = "".join(f"* {note}\n" for note in results.notes[1:])
    print(results_table(results, fmt="text") + notes + f"figure: {Path(out) / results.figure}")
    return results


def replot(results_path) -> Path:
    """Redraw an experiment's figure beside its ``results.json``; return its path."""
    results = Results.from_json(results_path)
    figure = Path(results_path).parent / results.figure
    EXPERIMENTS[V.choice(results.experiment, EXPERIMENTS, "experiment")].plot(results, figure)
    return figure
