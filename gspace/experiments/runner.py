"""Run a grid of independent training runs with joblib, one cached JSON file per finished run
(docs: cluster page)."""

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

import gspace
from gspace.validation import jobs as check_jobs  # joblib's n_jobs: a non-zero integer


class RunsFailed(RuntimeError):
    """Some runs of :func:`run_grid` raised: ``failures`` lists (spec, error) pairs;
    ``finished`` of ``total`` runs finished (cached in ``cache_dir`` if not None)."""

    def __init__(self, failures, finished: int, total: int, cache_dir):
        self.failures, self.finished, self.total = failures, finished, total
        self.cache_dir = cache_dir
        where = f"cached in {cache_dir}" if cache_dir else "not cached (no cache directory)"
        lines = [
            f"{len(failures)} of {total} training runs failed; the {finished} finished runs are "
            f"{where}, and a new run of the same command trains only the missing ones:"
        ]
        lines += [f"  {json.dumps(spec)}: {error}" for spec, error in failures]
        super().__init__("\n".join(lines))


def run_key(spec: dict, train_fn) -> str:
    """The cache key of a run: 20 hex digits of a SHA-256 of its spec (keys sorted), of
    ``train_fn``'s qualified name and of gspace's version."""
    fn = getattr(train_fn, "func", train_fn)  # functools.partial
    name = f"{fn.__module__}.{fn.__qualname__}"
    text = json.dumps(
        {"spec": spec, "train_fn": name, "gspace": gspace.__version__}, sort_keys=True
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
    return entry.get("result") if isinstance(entry, dict) and entry.get("spec") == spec else None


def _guarded(train_fn, spec: dict, index: int):
    """Worker side: one run with BLAS on one thread (faster for these small matrices, and
    rounding independent of the thread count); an exception becomes an error message."""
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    try:
        with threadpool_limits(limits=1, user_api="blas"):
            return index, True, train_fn(spec)
    except Exception as exc:  # reported with the run's settings by run_grid
        return index, False, f"{type(exc).__name__}: {exc}"


def run_grid(specs, train_fn, *, jobs=1, cache_dir=None, progress=None, desc="runs") -> list:
    """``train_fn(spec)`` for every spec, in parallel with joblib; results in spec order.

    ``train_fn(spec)`` returns a JSON-able result; it must be picklable (a module-level
    function or a ``functools.partial`` of one) and draw all randomness from the spec. ``jobs``
    is joblib's ``n_jobs`` (-1: every core, or every worker of an active Dask/Ray backend).
    With ``cache_dir`` each finished run is written at once to ``KEY.json`` (:func:`run_key`)
    and read from there by a later call instead of being trained again. ``progress``: a tqdm
    bar on stderr labelled ``desc`` (None: only on a terminal). The results are read back from
    JSON (computed now or cached, they are equal). Raises ValueError for a bad ``jobs``,
    :class:`RunsFailed` (after the other runs finish) if runs raised, and re-raises
    KeyboardInterrupt after saying on stderr how many runs are cached.
    """
    from joblib import Parallel, delayed, effective_n_jobs
    from tqdm.auto import tqdm

    specs, jobs = list(specs), check_jobs(jobs)
    results, done, paths = [None] * len(specs), [False] * len(specs), [None] * len(specs)
    if cache_dir is not None:
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for i, spec in enumerate(specs):
            paths[i] = cache_dir / f"{run_key(spec, train_fn)}.json"
            results[i] = _read_cached(paths[i], spec)
            done[i] = results[i] is not None
    todo = [i for i in range(len(specs)) if not done[i]]
    if len(todo) < len(specs):  # say so: results from an older gspace would be reused too
        print(
            f"{desc}: {len(specs) - len(todo)} of {len(specs)} runs taken from the cache in "
            f"{cache_dir} (--restart or restart=True trains them again)",
            file=sys.stderr,
        )
    failures = []
    try:  # results as the runs finish, each cached at once
        parallel, chunks = Parallel(n_jobs=jobs, return_as="generator_unordered"), [todo]
    except ValueError:  # a backend that returns results only at the end: cache chunk by chunk
        parallel, size = Parallel(n_jobs=jobs), 4 * effective_n_jobs(jobs)
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
    pool = parallel if todo else contextlib.nullcontext()  # no workers when all is cached
    disable = None if progress is None else not progress
    bar = tqdm(total=len(specs), desc=desc, unit="run", disable=disable, file=sys.stderr)
    with bar, pool:
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
                        tmp = paths[i].with_suffix(".tmp")
                        tmp.write_text(json.dumps({"spec": specs[i], "result": value}) + "\n")
                        os.replace(tmp, paths[i])  # atomic: never half a file
        except KeyboardInterrupt:
            where = f"; they are cached in {cache_dir}" if cache_dir else ""
            print(
                f"\ninterrupted: {sum(done)} of {len(specs)} runs finished{where}", file=sys.stderr
            )
            raise
    if failures:
        raise RunsFailed(failures, sum(done), len(specs), cache_dir)
    return results
