"""Experiments on real data that test the paper's claims: ``gspace experiment NAME``.

=================  ===========================================================================
NAME               what it measures
=================  ===========================================================================
invariance         train from ``w`` and a rescaled ``g(w)``: G-SGD's and Path-SGD's pairs
                   coincide (claims A2, A4), SGD's come apart (A3)
unbalanced-init    test accuracy against the strength of a random rescaling of the start
width              G-SGD minus SGD for two hidden layers of growing width (with baselines)
path-sgd           learning curves of SGD, Path-SGD and G-SGD
authors-mlp        the authors' released MLP setting, SGD against G-SGD (with baselines)
init               He against skeleton-unit initialization, shallow and deep
cnn-depth          SGD, Path-SGD, G-SGD and the baselines on plain CNNs of 2, 4, 8 conv layers
=================  ===========================================================================

Every experiment chooses each optimizer's learning rate on the validation split, averages over
seeds, and writes ``DIR/results.json`` and ``DIR/NAME.png``; the method and the fields of
``results.json`` are described in :mod:`gspace.experiments.common`. ``--quick`` runs a
smaller version (fewer epochs and 3 seeds) in under two minutes.

The training runs of an experiment are independent; ``--jobs N`` runs N at once
(:mod:`gspace.experiments.runner`, with joblib), with the same ``results.json`` whatever N.
Each finished run is cached under ``DIR/runs/``, so that an interrupted experiment, run again,
trains only what was left (``--restart`` starts over).
"""

from __future__ import annotations

import sys
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

__all__ = [
    "EXPERIMENTS",
    "DEMO_OVERRIDES",
    "run",
    "run_cli",
    "demo",
    "replot",
    "common",
    "report",
    "runner",
]

#: Experiment name (as on the command line) -> module with ``config``, ``run`` and ``plot``.
EXPERIMENTS = {
    "invariance": invariance,
    "unbalanced-init": unbalanced_init,
    "width": width,
    "path-sgd": path_sgd,
    "authors-mlp": authors_mlp,
    "init": init,
    "cnn-depth": cnn_depth,
}


def _module(name: str):
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; accepted: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def _edge_notes(results: dict) -> list[str]:
    """Say where a chosen learning rate is the smallest or largest of its grid."""
    edges: dict[tuple[str, str], list[str]] = {}
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


def _quick_note(module, used: dict) -> str:
    full = module.config(False)
    changes = [f"{k} {used[k]} (full: {full[k]})" for k in full if used.get(k) != full[k]]
    changes.append(f"{common.N_SEEDS_QUICK} seeds (full: {common.N_SEEDS_FULL})")
    return "Quick version: " + ", ".join(changes) + "."


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

    Parameters
    ----------
    name : str
        One of :data:`EXPERIMENTS`: ``invariance``, ``unbalanced-init``, ``width``,
        ``path-sgd``, ``authors-mlp``, ``init``, ``cnn-depth``.
    quick : bool, default False
        The quick version (fewer epochs, 3 seeds; under two minutes).
    out : str or Path, optional
        Output directory (created if needed); each finished training run is cached in
        ``out/runs/`` and taken from there by a later call instead of being trained again.
        None: nothing is written.
    seed : int, default 0
        Base seed; the seeds are ``seed, seed + 1, ...``. The same seed reproduces every
        number exactly.
    progress : bool or None, default None
        tqdm progress bar over training runs; None shows it only on a terminal.
    data_dir : str or Path, optional
        Where to look for MNIST / Fashion-MNIST IDX files (default ``$GSPACE_DATA``).
    overrides : dict, optional
        Entries replacing those of the experiment's ``config(quick)`` (``gspace demo`` uses
        this for its short versions); the configuration used is written to the results.
    jobs : int, default 1
        Training runs at once, as joblib's ``n_jobs``: 1 in this process, N worker processes,
        -1 every core; inside ``joblib.parallel_backend("dask")`` (or ``"ray"``) the runs go
        to that cluster. ``results.json`` is the same whatever ``jobs`` is, except for the
        fields of :data:`gspace.experiments.common.VOLATILE_FIELDS`.
    restart : bool, default False
        Delete the cached runs in ``out/runs/`` first and train everything again.

    Returns
    -------
    gspace.experiments.protocol.Results

    Raises
    ------
    ValueError
        If ``name`` is not an experiment, ``seed`` is negative or ``jobs`` is 0.
    TypeError
        If ``seed`` is not an integer.
    gspace.experiments.runner.RunsFailed
        If training runs raised (their settings are listed); the others are cached.

    Examples
    --------
    >>> import gspace.experiments
    >>> sorted(gspace.experiments.EXPERIMENTS)[:3]
    ['authors-mlp', 'cnn-depth', 'init']
    """
    module = _module(name)
    common.seeds(seed, quick)  # validates the seed and jobs before any work
    jobs = runner.check_jobs(jobs)
    cache_dir = None if out is None else Path(out) / "runs"
    if restart:
        runner.clear_cache(cache_dir)
    resumed = cache_dir is not None and any(cache_dir.glob("*.json"))
    elapsed = common.timer()
    results = module.run(
        quick=bool(quick),
        seed=int(seed),
        progress=progress,
        data_dir=data_dir,
        overrides=overrides,
        jobs=jobs,
        cache_dir=cache_dir,
    )
    results.notes.extend(_edge_notes(results))
    if quick:
        results.notes.insert(0, _quick_note(module, results.config))
    results.machine = {**common.machine_info(), "jobs": jobs, "resumed": resumed}
    results.elapsed_seconds = elapsed()
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        results.to_json(out / "results.json")
        module.plot(results, out / results.figure)
    return results


def run_cli(args) -> int:
    """Entry point of ``gspace experiment NAME [--quick] [--out DIR] [--seed S] [--jobs N]``.

    Parameters
    ----------
    args : argparse.Namespace
        With ``name``, and optionally ``quick`` (default False), ``out`` (default
        ``gspace-results/NAME``), ``seed`` (default 0), ``data_dir``, ``no_progress``,
        ``jobs`` (default 1) and ``restart`` (default False).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for an unknown experiment name or a bad ``jobs``,
        1 if training runs failed (listed on stderr; the finished ones are cached), 130 if
        interrupted.
    """
    name = getattr(args, "name", None)
    if name not in EXPERIMENTS:
        print(
            f"gspace experiment: unknown experiment {name!r}; accepted: {', '.join(EXPERIMENTS)}",
            file=sys.stderr,
        )
        return 2
    quick = bool(getattr(args, "quick", False))
    out = getattr(args, "out", None) or Path("gspace-results") / name
    seed = getattr(args, "seed", None)
    seed = 0 if seed is None else seed
    progress = False if getattr(args, "no_progress", False) else None
    jobs = getattr(args, "jobs", None)
    try:
        jobs = runner.check_jobs(1 if jobs is None else jobs)
    except ValueError as exc:
        print(f"gspace experiment: {exc}", file=sys.stderr)
        return 2
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
            progress=progress,
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
    print(
        f"{results.elapsed_seconds:.0f} s; wrote {Path(out) / 'results.json'} and "
        f"{Path(out) / results.figure}"
    )
    return 0


#: The short versions shown by ``gspace demo``, on digits (bundled with scikit-learn): one start
#: (skeleton-unit) and one learning rate per optimizer (the rates the full runs of gspace 0.1
#: chose on validation on digits), so the one-epoch "tuning" run chooses nothing.
DEMO_OVERRIDES = {
    "invariance": {
        "dataset": "digits",
        "hidden": [32, 32],
        "epochs": 10,
        "inits": ["skeleton-unit"],
        "lr_grid": {"sgd": [0.3], "pathsgd": [1.0], "gsgd": [0.3]},
        "tune_epochs": 1,
        "tune_limit": None,
        "limit": None,
    },
    "path-sgd": {
        "dataset": "digits",
        "epochs": 10,
        "inits": ["skeleton-unit"],
        "lr_grid": {"sgd": [0.3], "pathsgd": [3.0], "gsgd": [0.3]},
        "tune_epochs": 1,
        "tune_limit": None,
    },
}


def demo(name: str, out, seed: int = 0, progress=None) -> protocol.Results:
    """Run the short version of an experiment for ``gspace demo`` and print its table.

    Parameters
    ----------
    name : {"invariance", "path-sgd"}
    out : str or Path
        Output directory for ``results.json`` and the figure.
    seed : int, default 0
    progress : bool or None

    Returns
    -------
    gspace.experiments.protocol.Results

    Raises
    ------
    ValueError
        If ``name`` has no demo version.
    """
    if name not in DEMO_OVERRIDES:
        raise ValueError(f"no demo version of {name!r}; accepted: {', '.join(DEMO_OVERRIDES)}")
    results = run(
        name,
        quick=True,
        out=out,
        seed=seed,
        progress=progress,
        overrides=DEMO_OVERRIDES[name],
        restart=True,  # the demo always trains
    )
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
    """Redraw an experiment's figure from its ``results.json`` (no training).

    Parameters
    ----------
    results_path : str or Path
        A ``results.json`` written by :func:`run`.

    Returns
    -------
    Path
        The figure, written beside the results file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a results file or names an unknown experiment.
    """
    results_path = Path(results_path)
    results = protocol.Results.from_json(results_path)
    module = _module(results.experiment)
    figure = results_path.parent / results.figure
    module.plot(results, figure)
    return figure
