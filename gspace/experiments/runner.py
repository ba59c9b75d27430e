"""Independent training runs with joblib, each cached when it ends (docs: cluster page)."""

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

import gspace
from gspace.validation import jobs as check_jobs  # joblib's n_jobs: a non-zero integer


class RunsFailed(RuntimeError):
    """Some runs of :func:`run_grid` raised: ``failures`` lists (spec, error) pairs."""

    def __init__(self, failures, finished: int, total: int, cache_dir):
        self.failures, self.finished, self.total = failures, finished, total
        self.cache_dir = cache_dir
        where = f"cached in {cache_dir}" if cache_dir else "not cached (no cache directory)"
        head = f"{len(failures)} of {total} training runs failed; the {finished} finished runs "
        head += f"are {where}, and a new run of the same command trains only the missing ones:"
        super().__init__("\n".join([head, *(f"  {json.dumps(s)}: {e}" for s, e in failures)]))


def run_key(spec: dict, train_fn) -> str:
    """The cache key: 20 hex digits of a SHA-256 of the spec, ``train_fn`` and gspace's version."""
    fn = getattr(train_fn, "func", train_fn)  # functools.partial
    key = {"spec": spec, "train_fn": f"{fn.__module__}.{fn.__qualname__}"}
    text = json.dumps({**key, "gspace": gspace.__version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def clear_cache(cache_dir) -> int:
    """Delete the cached runs (``*.json``) in ``cache_dir``; return how many were deleted."""
    files = sorted(Path(cache_dir).glob("*.json")) if cache_dir is not None else []
    for path in files:
        path.unlink()
    return len(files)


def _guarded(train_fn, spec: dict, index: int):
    """One run on one BLAS thread (docs: cluster page); an exception becomes its message."""
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    try:
        with threadpool_limits(limits=1, user_api="blas"):
            return index, True, train_fn(spec)
    except Exception as exc:  # reported with the run's settings by run_grid
        return index, False, f"{type(exc).__name__}: {exc}"


def run_grid(specs, train_fn, *, jobs=1, cache_dir=None, progress=None, desc="runs") -> list:
    """``train_fn(spec)`` for every spec, in spec order, with joblib, each run cached in
    ``cache_dir/KEY.json`` (:func:`run_key`); ``progress``: a tqdm bar (None: on a terminal)."""
    from joblib import Parallel, delayed, effective_n_jobs
    from tqdm.auto import tqdm

    specs, jobs = list(specs), check_jobs(jobs)
    n = len(specs)
    results, done, paths, failures = [None] * n, [False] * n, [None] * n, []
    if cache_dir is not None:
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for i, spec in enumerate(specs):
            paths[i] = cache_dir / f"{run_key(spec, train_fn)}.json"
            with contextlib.suppress(OSError, ValueError):  # missing or damaged: train it
                entry = json.loads(paths[i].read_text())
                if isinstance(entry, dict) and entry.get("spec") == spec:  # else another run's
                    results[i] = entry.get("result")
            done[i] = results[i] is not None
    todo = [i for i in range(n) if not done[i]]
    if len(todo) < n:  # say so: results from an older gspace would be reused too
        msg = f"{desc}: {n - len(todo)} of {n} runs taken from the cache in {cache_dir}"
        print(f"{msg} (--restart or restart=True trains them again)", file=sys.stderr)
    try:  # results as the runs finish, each cached at once
        parallel, chunks = Parallel(n_jobs=jobs, return_as="generator_unordered"), [todo]
    except ValueError:  # a backend that returns results only at the end: cache chunk by chunk
        parallel, size = Parallel(n_jobs=jobs), 4 * effective_n_jobs(jobs)
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
    pool = parallel if todo else contextlib.nullcontext()  # no workers when all is cached
    disable = None if progress is None else not progress
    bar = tqdm(total=n, desc=desc, unit="run", disable=disable, file=sys.stderr)
    with bar, pool:
        bar.update(n - len(todo))
        try:
            for chunk in chunks:
                calls = (delayed(_guarded)(train_fn, specs[i], i) for i in chunk)
                for i, ok, value in parallel(calls):
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
            print(f"\ninterrupted: {sum(done)} of {n} runs finished{where}", file=sys.stderr)
            raise
    if failures:
        raise RunsFailed(failures, sum(done), n, cache_dir)
    return results
