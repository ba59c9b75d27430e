"""Run a grid of independent training runs with joblib, one cached JSON file per finished run.

An experiment is a list of *run specs*: small JSON-able dicts that hold every setting of one
training run (optimizer, learning rate, seed, starting network, data set, epochs, ...).
:func:`run_grid` hands them to a picklable ``train_fn(spec) -> dict`` through joblib and
returns the results in the order of the specs, whatever order the runs finish in. A run
depends only on its own spec (it seeds itself from it and runs BLAS on one thread), so the
results do not depend on the number of jobs, on the joblib backend or on the cache.

* ``jobs=1`` runs in this process; ``jobs=N`` uses N worker processes (joblib's ``loky``
  backend); ``jobs=-1`` all cores. Inside ``joblib.parallel_backend("dask")`` (or ``"ray"``)
  the runs go to that cluster instead (see the docs page "Running the studies on a cluster").
* With ``cache_dir``, each finished run is written at once to ``cache_dir/KEY.json``, ``KEY``
  a hash of the spec, of ``train_fn``'s name and of gspace's version (not of the git commit:
  after changing the training code, start over with :func:`clear_cache`). A later call with
  the same specs takes those runs from the cache instead of training them again, so an
  interrupted experiment, started again, only trains what was left.
* An exception inside one run does not stop the others: they finish and are cached, then
  :class:`RunsFailed` reports every failed run with its settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import numbers
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import gspace

__all__ = ["run_grid", "run_key", "check_jobs", "clear_cache", "RunsFailed", "one_blas_thread"]


class RunsFailed(RuntimeError):
    """Some runs of :func:`run_grid` raised; the others finished (and are cached).

    Attributes
    ----------
    failures : list of (dict, str)
        The spec of each failed run and its error (``"ValueError: ..."``).
    finished, total : int
        Runs that finished (computed now or taken from the cache) and runs asked for.
    cache_dir : Path or None
    """

    def __init__(self, failures, finished: int, total: int, cache_dir):
        self.failures, self.finished, self.total, self.cache_dir = (
            failures,
            finished,
            total,
            cache_dir,
        )
        where = f"cached in {cache_dir}" if cache_dir else "not cached (no cache directory)"
        lines = [
            f"{len(failures)} of {total} training runs failed; the {finished} finished runs are "
            f"{where}, and a new run of the same command trains only the missing ones:"
        ]
        lines += [f"  {json.dumps(spec)}: {error}" for spec, error in failures]
        super().__init__("\n".join(lines))


def one_blas_thread():
    """Run BLAS on one thread (a context manager); every training run goes through it.

    The matrices of these small networks are too small for threaded BLAS to pay off; on the
    2-core machine the experiments were designed on, with other processes running, OpenBLAS's
    threads made an epoch of a 64-128-128-10 network 15-25 times slower in CPU time
    (0.62 s against 0.026 s per epoch, SGD, batch 32). One thread also makes the rounding of
    every matrix product independent of the machine's thread count, so that a run gives the
    same numbers in this process and in a worker. ``threadpoolctl`` is installed with
    scikit-learn; without it nothing is changed.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def check_jobs(jobs) -> int:
    """``jobs`` as an int, or a ValueError: joblib's ``n_jobs``, any non-zero integer.

    Examples
    --------
    >>> check_jobs(-1)
    -1
    """
    if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs == 0:
        raise ValueError(f"jobs must be a non-zero integer (-1: all cores), got {jobs!r}")
    return int(jobs)


def _name(train_fn) -> str:
    fn = getattr(train_fn, "func", train_fn)  # functools.partial
    return f"{fn.__module__}.{fn.__qualname__}"


def run_key(spec: dict, train_fn) -> str:
    """The cache key of one run: a hash of its spec, of ``train_fn``'s name and of gspace's version.

    Parameters
    ----------
    spec : dict
        JSON-able settings of the run.
    train_fn : callable

    Returns
    -------
    str
        20 hexadecimal digits (SHA-256 of the canonical JSON, keys sorted).

    Examples
    --------
    >>> run_key({"lr": 0.1, "seed": 0}, len) == run_key({"seed": 0, "lr": 0.1}, len)
    True
    >>> run_key({"lr": 0.1, "seed": 0}, len) == run_key({"lr": 0.1, "seed": 1}, len)
    False
    """
    text = json.dumps(
        {"spec": spec, "train_fn": _name(train_fn), "gspace": gspace.__version__}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def clear_cache(cache_dir) -> int:
    """Delete the cached runs (``*.json``) in ``cache_dir``; return how many were deleted."""
    files = sorted(Path(cache_dir).glob("*.json")) if cache_dir is not None else []
    for path in files:
        path.unlink()
    return len(files)


def _read_cached(path: Path, spec: dict):
    """The cached result of ``spec`` at ``path``, or None (missing, unreadable, other spec)."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("spec") != spec:
        return None
    return entry.get("result")


def _write_cached(path: Path, spec: dict, result) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"spec": spec, "result": result}) + "\n")
    os.replace(tmp, path)  # atomic: an interruption never leaves half a file


def _guarded(train_fn, spec: dict, index: int):
    """Worker side: one run on one BLAS thread; an exception becomes an error message."""
    try:
        with one_blas_thread():
            return index, True, train_fn(spec)
    except Exception as exc:  # reported with the run's settings by run_grid
        return index, False, f"{type(exc).__name__}: {exc}"


def run_grid(
    specs: Sequence[dict],
    train_fn: Callable[[dict], object],
    *,
    jobs: int = 1,
    cache_dir=None,
    progress=None,
    desc: str = "runs",
) -> list:
    """Run ``train_fn(spec)`` for every spec, in parallel with joblib; results in spec order.

    Parameters
    ----------
    specs : sequence of dict
        JSON-able settings, one per run; equal specs are run once each (no deduplication).
    train_fn : callable
        ``train_fn(spec) -> JSON-able result``, picklable (a module-level function, or a
        ``functools.partial`` of one) so that joblib can send it to worker processes. It must
        derive all randomness from the spec.
    jobs : int, default 1
        Number of parallel runs, as joblib's ``n_jobs``: 1 runs in this process, -1 uses
        every core (or every worker of an active Dask/Ray backend), -2 all but one, ...
    cache_dir : str or Path, optional
        Where each finished run is stored as ``KEY.json`` (:func:`run_key`) and looked up
        before training; created if needed. None: no cache.
    progress : bool or None, default None
        A tqdm bar on stderr advanced per finished run; None shows it only on a terminal.
    desc : str, default "runs"
        The bar's label.

    Returns
    -------
    list
        ``train_fn(spec)`` for each spec, read back from JSON (so that a result computed now
        and one read from the cache are equal).

    Raises
    ------
    ValueError
        If ``jobs`` is 0 or not an integer.
    RunsFailed
        After every other run has finished, if one or more runs raised an exception.
    KeyboardInterrupt
        Re-raised after saying on stderr how many runs are cached.

    Notes
    -----
    Results arrive in the order the runs finish (``return_as="generator_unordered"``) and are
    cached one by one. A backend that cannot return results as they come (joblib's
    ``multiprocessing`` backend, and Ray's, which is built on it) gets the runs in chunks of
    four per worker, each chunk cached when it ends.

    Examples
    --------
    >>> run_grid([{"x": 2}, {"x": 3}], json.dumps, progress=False)
    ['{"x": 2}', '{"x": 3}']
    """
    from joblib import Parallel, delayed, effective_n_jobs

    from .common import progress_bar

    specs, jobs = list(specs), check_jobs(jobs)
    results: list = [None] * len(specs)
    done = [False] * len(specs)
    paths = [None] * len(specs)
    if cache_dir is not None:
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for i, spec in enumerate(specs):
            paths[i] = cache_dir / f"{run_key(spec, train_fn)}.json"
            cached = _read_cached(paths[i], spec)
            if cached is not None:
                results[i], done[i] = cached, True
    todo = [i for i in range(len(specs)) if not done[i]]
    if len(todo) < len(specs):  # say so: results from an older gspace would be reused too
        print(
            f"{desc}: {len(specs) - len(todo)} of {len(specs)} runs taken from the cache in "
            f"{cache_dir} (--restart or restart=True trains them again)",
            file=sys.stderr,
        )
    failures = []
    try:
        parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
        chunks = [todo]
    except ValueError:  # a backend that returns results only at the end: cache chunk by chunk
        parallel = Parallel(n_jobs=jobs)
        size = 4 * effective_n_jobs(jobs)
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
    pool = parallel if todo else contextlib.nullcontext()  # no workers when all is cached
    with progress_bar(len(specs), desc, progress) as bar, pool:
        bar.update(len(specs) - len(todo))
        try:
            for chunk in chunks:
                for i, ok, value in parallel(
                    delayed(_guarded)(train_fn, specs[i], i) for i in chunk
                ):
                    bar.update(1)
                    if not ok:
                        failures.append((specs[i], value))
                        continue
                    results[i], done[i] = json.loads(json.dumps(value)), True
                    if paths[i] is not None:
                        _write_cached(paths[i], specs[i], value)
        except KeyboardInterrupt:
            where = f"; they are cached in {cache_dir}" if cache_dir else ""
            print(
                f"\ninterrupted: {sum(done)} of {len(specs)} runs finished{where}", file=sys.stderr
            )
            raise
    if failures:
        raise RunsFailed(failures, sum(done), len(specs), cache_dir)
    return results
