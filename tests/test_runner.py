"""Tests of gspace.experiments.runner: parallel runs give the same results as serial ones, in
spec order; finished runs are cached and skipped by a new call unless told to start over;
failures and interruptions are reported with the run's settings without losing finished runs;
and ``--jobs``/``--restart`` on the command line.
"""

from __future__ import annotations

import json
import time

import pytest

from gspace import experiments
from gspace.experiments import common, protocol, runner

from .test_experiments import TINY, tiny

CALLS: list[dict] = []  # specs seen by record_call, in this process
FAIL: set[int] = set()  # values of spec["x"] for which record_call raises


def record_call(spec):
    CALLS.append(spec)
    if spec["x"] in FAIL:
        raise ValueError(f"x = {spec['x']} is not allowed")
    if spec["x"] == -1:
        raise KeyboardInterrupt
    return {"x": spec["x"], "square": spec["x"] ** 2}


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    FAIL.clear()


def sleep_then_time(spec):
    """Sleep spec["sleep"] seconds; return when this run finished (in a worker process)."""
    time.sleep(spec["sleep"])
    return {"i": spec["i"], "finished": time.time()}


def grid(n=6, epochs=(3, 1)):
    """Real training specs; the earlier ones train longer, so with two jobs they finish after
    later ones."""
    specs = [
        {
            "condition": {"i": i},
            "optimizer": opt,
            "lr": lr,
            "seed": seed,
            "start": {"widths": [64, 8, 10], "init": "he"},
            "data": {"name": "digits", "seed": 0},
            "epochs": e,
            "batch_size": 32,
            "schedule": None,
        }
        for i, e in enumerate(epochs)
        for opt, lr in (("gsgd", 0.1), ("sgd", 0.3))
        for seed in (0, 1, 2)
    ]
    return specs[:n] if n else specs


def strip(results):
    d = results if isinstance(results, dict) else results.to_dict()
    return json.dumps({k: v for k, v in d.items() if k not in common.VOLATILE_FIELDS})


# ----------------------------------------------------------------------------- the runner
def test_run_grid_two_jobs_equals_one_job_in_spec_order():
    """Two worker processes give the same records, in the order of the specs, as training
    one after another in this process (each run depends only on its spec)."""
    specs = grid(n=None)
    serial = runner.run_grid(specs, common.train_spec, jobs=1, progress=False)
    parallel = runner.run_grid(specs, common.train_spec, jobs=2, progress=False)
    assert json.dumps(parallel) == json.dumps(serial)
    assert [(r["condition"], r["optimizer"], r["seed"]) for r in serial] == [
        (s["condition"], s["optimizer"], s["seed"]) for s in specs
    ]
    assert serial[0] != serial[1]  # the seeds differ, so the runs do


def test_results_come_in_spec_order_when_runs_finish_out_of_order():
    """With two jobs the first run finishes last, yet it comes first in the results."""
    specs = [{"i": 0, "sleep": 2.0}] + [{"i": i, "sleep": 0.0} for i in range(1, 5)]
    runner.run_grid(specs[1:], sleep_then_time, jobs=2, progress=False)  # start both workers
    out = runner.run_grid(specs, sleep_then_time, jobs=2, progress=False)
    assert [r["i"] for r in out] == [0, 1, 2, 3, 4]
    assert out[0]["finished"] > max(r["finished"] for r in out[1:])


def test_backend_without_generators_runs_in_cached_chunks(tmp_path):
    """joblib's multiprocessing backend (like Ray's) cannot return results as they finish:
    the runs go in chunks (4 per worker), with the same results, all cached."""
    import joblib

    specs = grid(n=None, epochs=(1, 1, 1))  # 12 runs: chunks of 8 and 4
    serial = runner.run_grid(specs, common.train_spec, progress=False)
    with joblib.parallel_backend("multiprocessing", n_jobs=2):
        out = runner.run_grid(specs, common.train_spec, jobs=2, cache_dir=tmp_path, progress=False)
    assert json.dumps(out) == json.dumps(serial)
    assert len(list(tmp_path.glob("*.json"))) == len(specs)


def test_cache_skips_finished_runs_and_restart_recomputes(tmp_path, capsys):
    specs = [{"x": i} for i in range(5)]
    first = runner.run_grid(specs, record_call, cache_dir=tmp_path, progress=False)
    assert first == [{"x": i, "square": i * i} for i in range(5)] and len(CALLS) == 5
    assert len(list(tmp_path.glob("*.json"))) == 5
    CALLS.clear()
    capsys.readouterr()
    again = runner.run_grid([*specs, {"x": 7}], record_call, cache_dir=tmp_path, progress=False)
    assert "runs: 5 of 6 runs taken from the cache in" in capsys.readouterr().err
    assert again == [*first, {"x": 7, "square": 49}]
    assert CALLS == [{"x": 7}]  # only the new run was trained
    assert runner.clear_cache(tmp_path) == 6 and not list(tmp_path.glob("*.json"))
    CALLS.clear()
    runner.run_grid(specs, record_call, cache_dir=tmp_path, progress=False)
    assert len(CALLS) == 5


def test_cache_ignores_a_damaged_file_and_another_spec(tmp_path):
    runner.run_grid([{"x": 1}, {"x": 2}], record_call, cache_dir=tmp_path, progress=False)
    path_1 = tmp_path / f"{runner.run_key({'x': 1}, record_call)}.json"
    path_2 = tmp_path / f"{runner.run_key({'x': 2}, record_call)}.json"
    path_1.write_text('{"spec": {"x": 1}, "res')  # cut short
    path_2.write_text(json.dumps({"spec": {"x": 3}, "result": "not mine"}))
    CALLS.clear()
    out = runner.run_grid([{"x": 1}, {"x": 2}], record_call, cache_dir=tmp_path, progress=False)
    assert out == [{"x": 1, "square": 1}, {"x": 2, "square": 4}] and len(CALLS) == 2


def test_run_key_depends_on_spec_function_and_version(monkeypatch):
    key = runner.run_key({"a": 1, "b": [1, 2]}, record_call)
    assert key == runner.run_key({"b": [1, 2], "a": 1}, record_call)
    assert key != runner.run_key({"a": 1, "b": [1, 3]}, record_call)
    assert key != runner.run_key({"a": 1, "b": [1, 2]}, common.train_spec)
    import gspace

    monkeypatch.setattr(gspace, "__version__", "99.0")
    assert key != runner.run_key({"a": 1, "b": [1, 2]}, record_call)


def test_failures_are_reported_with_settings_after_the_others_finish(tmp_path):
    FAIL.update({1, 3})
    specs = [{"x": i} for i in range(5)]
    with pytest.raises(runner.RunsFailed) as info:
        runner.run_grid(specs, record_call, cache_dir=tmp_path, progress=False)
    err = info.value
    assert (err.finished, err.total, err.cache_dir) == (3, 5, tmp_path)
    assert [spec for spec, _ in err.failures] == [{"x": 1}, {"x": 3}]
    assert "ValueError: x = 3 is not allowed" in err.failures[1][1]
    assert '{"x": 1}: ValueError: x = 1 is not allowed' in str(err)
    assert str(err).startswith("2 of 5 training runs failed; the 3 finished runs are cached in")
    FAIL.clear()
    CALLS.clear()
    out = runner.run_grid(specs, record_call, cache_dir=tmp_path, progress=False)
    assert CALLS == [{"x": 1}, {"x": 3}]  # the restart trains only what had failed
    assert out == [{"x": i, "square": i * i} for i in range(5)]


def test_failure_in_a_worker_process_is_reported_too():
    """With two jobs the error comes back from the worker with the run's settings."""
    spec = grid(n=1)[0]
    bad = {**spec, "optimizer": "adagrad"}
    with pytest.raises(runner.RunsFailed, match="adagrad.*ValueError: unknown optimizer"):
        runner.run_grid([spec, bad], common.train_spec, jobs=2, progress=False)


def test_interrupt_keeps_finished_runs(tmp_path, capsys):
    specs = [{"x": 0}, {"x": 1}, {"x": -1}, {"x": 2}]
    with pytest.raises(KeyboardInterrupt):
        runner.run_grid(specs, record_call, cache_dir=tmp_path, progress=False)
    assert "interrupted: 2 of 4 runs finished; they are cached in" in capsys.readouterr().err
    CALLS.clear()
    out = runner.run_grid(specs[:2] + specs[3:], record_call, cache_dir=tmp_path, progress=False)
    assert CALLS == [{"x": 2}] and out[1] == {"x": 1, "square": 1}


def test_check_jobs_accepts_minus_one():
    assert runner.check_jobs(-1) == -1


@pytest.mark.parametrize("bad", [0, 1.5, "2", True, None])
def test_jobs_must_be_a_nonzero_integer(bad):
    with pytest.raises(ValueError, match="jobs must be a non-zero integer"):
        runner.run_grid([{"x": 1}], record_call, jobs=bad)
    with pytest.raises(ValueError, match="jobs"):
        experiments.run("invariance", quick=True, jobs=bad)
    assert not CALLS


# ----------------------------------------------------------------------------- experiments
def test_experiment_with_two_jobs_writes_the_same_results_json(tmp_path, monkeypatch):
    """N = 1 against N = 2 on a tiny invariance experiment (two stages of runs: the grid,
    then the pairs from w and g(w)): the same results.json byte for byte outside the fields
    of VOLATILE_FIELDS."""
    tiny(experiments.EXPERIMENTS["invariance"], monkeypatch, **TINY["invariance"])
    texts = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        results = experiments.run("invariance", quick=True, out=out, progress=False, jobs=jobs)
        assert results.machine["jobs"] == jobs and not results.machine["resumed"]
        texts[jobs] = strip(json.loads((out / "results.json").read_text()))
    assert texts[1] == texts[2]


def test_interrupted_experiment_restarted_trains_only_what_was_left(tmp_path, monkeypatch):
    """A run that raises stops the experiment after the others finish (results.json is not
    written); the same call again trains only that run and gives the results of an
    uninterrupted experiment; restart=True trains everything."""
    name = "unbalanced-init"
    tiny(experiments.EXPERIMENTS[name], monkeypatch, **TINY[name])
    real = common.train_run
    calls = []

    def train_run(net, optimizer, lr, *args, **kwargs):
        calls.append((optimizer, lr, kwargs["epochs"]))
        if failing and optimizer == "pathsgd" and lr == 0.1:
            raise MemoryError("simulated crash")
        return real(net, optimizer, lr, *args, **kwargs)

    monkeypatch.setattr(common, "train_run", train_run)
    failing = True
    with pytest.raises(runner.RunsFailed, match="MemoryError: simulated crash") as info:
        experiments.run(name, quick=True, out=tmp_path, progress=False)
    n_failed = len(info.value.failures)
    assert n_failed == 2 * 2  # tuning (one epoch, one seed): two sigmas, two starts
    assert not (tmp_path / "results.json").exists()
    failing, calls[:] = False, []
    resumed = experiments.run(name, quick=True, out=tmp_path, progress=False)
    tuning = [c for c in calls if c[2] == TINY[name]["tune_epochs"]]
    assert len(tuning) == n_failed and set(tuning) == {("pathsgd", 0.1, 1)}
    n_final = sum(r["phase"] == "final" for r in resumed.runs)
    assert len(calls) == n_failed + n_final and resumed.machine["resumed"]
    calls[:] = []
    fresh = experiments.run(name, quick=True, out=tmp_path, progress=False, restart=True)
    assert len(calls) == len(resumed.runs) and not fresh.machine["resumed"]
    assert strip(fresh) == strip(resumed)


def test_cli_jobs_and_restart_and_failure_exit_status(tmp_path, monkeypatch, capsys):
    from gspace import cli

    tiny(experiments.EXPERIMENTS["path-sgd"], monkeypatch, **TINY["path-sgd"])
    argv = ["experiment", "path-sgd", "--quick", "--out", str(tmp_path), "--no-progress"]
    assert cli.main([*argv, "--jobs", "2"]) == 0
    assert protocol.Results.from_json(tmp_path / "results.json").machine["jobs"] == 2
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as info:
            cli.main([*argv, "--jobs", bad])
        assert info.value.code == 2
    assert "non-zero integer" in capsys.readouterr().err
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["experiment"]
    assert "--restart" in help_text.format_help() and "--jobs" in help_text.format_help()

    def broken(spec):
        raise RuntimeError("boom")

    monkeypatch.setattr(common, "train_spec", broken)
    assert cli.main([*argv, "--restart"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and '"optimizer": "gsgd"' in err


# ----------------------------------------------------------------------------- --quick (slow)
#: Reduced versions of the quick experiments for the identity check (see the test below).
REDUCED = {name: {"epochs": 1} for name in experiments.EXPERIMENTS}
REDUCED["authors-mlp"] = {"epochs": {"fashion-mnist": 1, "mnist": 1}}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_quick_experiment_two_jobs_equals_one_job(name, tmp_path):
    """``--jobs 2`` gives the results.json of ``--jobs 1`` (outside VOLATILE_FIELDS) on every
    experiment. To keep CI within a few minutes, only ``invariance`` runs its full ``--quick``
    version; the others run their quick version with one epoch (REDUCED): the same grids,
    networks, seeds and code paths, shorter training. (Measured on the shared 2-core machine,
    load average about 4-5, after the experiments moved to the tuning protocol: 240 s for the
    six, init 78 s of it.)"""
    overrides = None if name == "invariance" else REDUCED[name]
    texts = []
    for jobs in (2, 1):
        out = tmp_path / str(jobs)
        experiments.run(name, quick=True, out=out, progress=False, jobs=jobs, overrides=overrides)
        texts.append(strip(json.loads((out / "results.json").read_text())))
    assert texts[0] == texts[1]
