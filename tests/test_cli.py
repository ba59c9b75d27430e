"""The command line: train, demo, verify/experiment delegation, --help, bad arguments."""

import inspect
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import gspace
from gspace import cli
from gspace.train import History

ROOT = Path(__file__).resolve().parents[1]


def run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", [[], ["demo"], ["train"], ["verify"], ["experiment"], ["lab"]])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([*command, "--help"])
    assert info.value.code == 0
    assert "usage: gspace" in capsys.readouterr().out


def test_main_help_lists_every_command_with_its_docstring_summary(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in ("demo", "train", "verify", "experiment", "lab"):
        summary = inspect.getdoc(getattr(cli, f"_cmd_{name}")).splitlines()[0]
        assert f"{name} {summary}" in out


def test_train_gsgd_from_he_init_warns_on_one_line(tmp_path, capsys):
    argv = ["train", "--dataset", "teacher", "--optimizer", "gsgd", "--init", "he"]
    code, _, err = run([*argv, "--epochs", "1", "--out", str(tmp_path), "--no-progress"], capsys)
    warned = [line for line in err.splitlines() if "warning" in line]
    assert code == 0 and len(warned) == 1, err
    assert warned[0].startswith("gspace train: warning: GSGD") and "--init skeleton-unit" in err


def test_experiment_help_says_what_each_does_how_long_and_where_it_writes(capsys):
    from gspace import experiments

    with pytest.raises(SystemExit):
        cli.main(["experiment", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "default: gspace-results/NAME" in out and "under two minutes" in out
    for name, module in experiments.EXPERIMENTS.items():
        assert f"{name} {module.TITLE}" in out


def test_train_digits_sgd_reaches_090_and_writes_history_and_plot(tmp_path, capsys):
    """The issue's acceptance command, run in full (about 2 s)."""
    argv = "train --dataset digits --optimizer sgd --hidden 32,32 --epochs 20 --seed 0"
    code, out, _ = run([*argv.split(), "--out", str(tmp_path), "--no-progress"], capsys)
    assert code == 0
    history = History.from_json(tmp_path / "history.json")
    assert history.final("test_acc") > 0.9
    assert history.epoch == list(range(21))
    assert history.config["init"] == "skeleton-unit" and history.config["widths"] == [
        64,
        32,
        32,
        10,
    ]
    assert (tmp_path / "learning_curves.png").stat().st_size > 0
    assert "final test accuracy" in out and f"{history.final('test_acc'):.4f}" in out


def test_train_passes_every_option_through(tmp_path, capsys):
    argv = [
        "train", "--dataset", "teacher", "--hidden", "5", "--epochs", "3", "--lr", "0.05",
        "--batch-size", "8", "--seed", "2", "--init", "he", "--loss", "mse", "--schedule",
        "multistep", "--milestones", "1,2", "--gamma", "0.5", "--momentum", "0.9",
        "--weight-decay", "0.001", "--bias", "--limit", "100", "--out", str(tmp_path),
        "--no-progress",
    ]  # fmt: skip
    code, _, _ = run(argv, capsys)
    assert code == 0
    c = json.loads((tmp_path / "history.json").read_text())["config"]
    assert c["widths"] == [10, 5, 3] and c["bias"] is True and c["init"] == "he"
    assert c["loss"] == "mse" and c["batch_size"] == 8 and c["seed"] == 2
    assert c["schedule"] == {"name": "multistep", "lr": 0.05, "milestones": [1, 2], "gamma": 0.5}
    assert c["momentum"] == 0.9 and c["weight_decay"] == 0.001
    assert c["n_train"] + c["n_val"] + c["n_test"] == 100
    h = History.from_json(tmp_path / "history.json")
    assert h.lr[1:] == [0.05, 0.025, 0.0125]


def test_train_default_out_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(["train", "--dataset", "teacher", "--epochs", "1", "--no-progress"], capsys)
    assert code == 0
    assert (tmp_path / "gspace-train" / "teacher-sgd-seed0" / "history.json").is_file()


def test_train_divergence_exits_1_with_a_message_and_keeps_the_history(tmp_path, capsys):
    # With biases, lr=1000 makes the output biases oscillate with growing amplitude.
    argv = ["train", "--dataset", "teacher", "--loss", "mse", "--bias", "--lr", "1000"]
    code, _, err = run([*argv, "--out", str(tmp_path), "--no-progress"], capsys)
    assert code == 1 and err.count("\n") == 1, err
    assert "diverged" in err and "lower the learning rate" in err and str(tmp_path) in err
    h = History.from_json(tmp_path / "history.json")
    assert h.epoch[0] == 0 and len(h.train_loss) == len(h.epoch)


def test_train_missing_mnist_data_exits_1_with_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GSPACE_DATA", raising=False)
    monkeypatch.setattr(gspace.datasets, "SYSTEM_DIRS", {})
    monkeypatch.setattr(gspace.datasets, "_mnist_sample", lambda: None)
    code, _, err = run(["train", "--dataset", "fashion-mnist", "--out", str(tmp_path)], capsys)
    assert code == 1 and "GSPACE_DATA" in err and "dataset-fashion-mnist" in err
    code, _, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path)], capsys)
    assert code == 1 and "train-images-idx3-ubyte" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--hidden", "3,x"], "comma-separated positive integers"),
        (["train", "--hidden", "32,0"], ">= 1"),
        (["train", "--lr", "0"], "> 0"),
        (["train", "--lr", "-0.1"], "> 0"),
        (["train", "--lr", "nan"], "> 0"),
        (["train", "--epochs", "0"], ">= 1"),
        (["train", "--batch-size", "0"], ">= 1"),
        (["train", "--batch-size", "two"], "integer"),
        (["train", "--dataset", "cifar10"], "invalid choice"),
        (["train", "--optimizer", "adagrad"], "invalid choice"),
        (["train", "--init", "xavier"], "invalid choice"),
        (["train", "--loss", "hinge"], "invalid choice"),
        (["train", "--schedule", "cosine"], "invalid choice"),
        (["train", "--momentum", "1"], r"\[0, 1\)"),
        (["train", "--weight-decay", "-1"], ">= 0"),
        (["train", "--milestones", "a,b"], "epochs like 80,120"),
        (["train", "--milestones", "10,-1"], "milestones must be an integer >= 0, got -1"),
        (["train", "--seed", "-1"], ">= 0"),
        (["train", "--limit", "2"], "at least 3"),
        (["train", "--out", ""], "empty string"),
        (["train", "--data-dir", " "], "empty string"),
        (["demo", "--out", ""], "empty string"),
        (["experiment", "init", "--out", ""], "empty string"),
        (["verify", "--widths", "3"], "at least 3 widths"),
        (["verify", "--widths", "4,3"], "at least one hidden layer"),
        (["verify", "--seed", "-2"], ">= 0"),
        (["verify", "--widths", "3,,2"], "comma-separated"),
        (["experiment", "nonsense"], "invalid choice"),
        (["fly"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(argv, words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("gspace") and "--help" in err, err
    assert re.search(words, err), err


def _no_work(*args, **kwargs):
    raise AssertionError("work started before the arguments were checked")


@pytest.fixture
def spaces(tmp_path):
    """An existing file, a directory holding the output files as directories."""
    (tmp_path / "file").write_text("x")
    for name in ("history.json", "results.json"):
        (tmp_path / "taken" / name).mkdir(parents=True)
    return tmp_path


USER_ERRORS = [
    (["train", "--out", "{file}"], "existing file"),
    (["train", "--out", "{file}/sub"], "is a file, not a directory"),
    (["train", "--out", "{taken}"], "history.json is a directory"),
    (["train", "--hidden", "1000000000"], "GB of memory"),
    (["train", "--hidden", "100000,100000,100000"], "GB of memory"),
    (["train", "--milestones", "3"], "--milestones applies only to --schedule multistep"),
    (["train", "--gamma", "0.5"], "--gamma applies only to --schedule multistep"),
    (["train", "--decay-k", "0.5"], "--decay-k applies only to --schedule exp"),
    (["train", "--schedule", "exp", "--milestones", "3"], "only to --schedule multistep"),
    (["train", "--schedule", "multistep", "--decay-k", "1"], "only to --schedule exp"),
    (["train", "--schedule", "multistep"], "needs --milestones"),
    (["train", "--schedule", "multistep", "--milestones", "5,30"], "30 never reached"),
    (["verify", "--widths", "100000,100000,100000,2"], "GB of memory"),
    (["train", "--dataset", "mnist", "--data-dir", "{file}"], "not a directory"),
    (["experiment", "path-sgd", "--data-dir", "{file}/no"], "not a directory"),
    (["experiment", "init", "--out", "{file}"], "existing file"),
    (["experiment", "init", "--out", "{taken}"], "results.json is a directory"),
    (["demo", "--out", "{file}"], "existing file"),
]
if Path("/proc/1").is_dir():  # not writable even by root
    USER_ERRORS.append((["train", "--out", "/proc/1/gspace"], "not writable"))


@pytest.mark.parametrize("argv, words", USER_ERRORS)
def test_user_errors_exit_2_with_one_line_before_any_work(argv, words, spaces, monkeypatch, capsys):
    monkeypatch.chdir(spaces)
    for name in ("load", "read_idx"):
        monkeypatch.setattr(gspace.datasets, name, _no_work)
    monkeypatch.setattr(cli, "_delegate", _no_work)
    monkeypatch.setattr(cli, "DEMO_STEPS", [cli.DemoStep("work", _no_work)])
    argv = [a.format(file=spaces / "file", taken=spaces / "taken") for a in argv]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"gspace {argv[0]}: error: ") and re.search(words, err), err


def test_a_read_only_output_directory_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    monkeypatch.setattr(gspace.datasets, "load", _no_work)
    if os.geteuid() == 0:  # root writes anyway; only a failing probe can stand in
        monkeypatch.setattr(cli.tempfile, "mkdtemp", lambda **kw: _raise(PermissionError(13, "")))
    try:
        for argv in (["train", "--out", str(ro / "run")], ["experiment", "init", "--out", str(ro)]):
            with pytest.raises(SystemExit) as info:
                cli.main(argv)
            err = capsys.readouterr().err
            assert info.value.code == 2 and err.count("\n") == 1 and "not writable" in err
    finally:
        ro.chmod(0o755)


def _raise(err):
    raise err


def test_user_error_from_the_console_has_no_traceback(tmp_path):
    (tmp_path / "file").write_text("x")
    argv = ["train", "--out", str(tmp_path / "file")]
    result = subprocess.run(
        [sys.executable, "-m", "gspace", *argv], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "module, argv, expected",
    [
        ("verify", ["verify", "--widths", "3,4,4,2", "--bias", "--json"],
         {"widths": [3, 4, 4, 2], "bias": True, "json": True}),
        ("verify", ["verify"], {"widths": [3, 4, 4, 2], "bias": False, "json": False}),
        ("verify", ["verify", "--seed", "5", "--no-progress"], {"seed": 5, "no_progress": True}),
        ("experiments", ["experiment", "width", "--quick", "--out", "D", "--seed", "3"],
         {"name": "width", "quick": True, "out": "D", "seed": 3}),
    ],
)  # fmt: skip
def test_verify_and_experiment_delegate_to_run_cli(module, argv, expected, monkeypatch):
    seen = {}

    def run_cli(args):
        seen.update(vars(args))
        return 7

    fake = types.ModuleType(f"gspace.{module}")
    fake.run_cli = run_cli
    monkeypatch.setitem(sys.modules, f"gspace.{module}", fake)
    assert cli.main(argv) == 7
    assert {k: seen[k] for k in expected} == expected


@pytest.mark.parametrize(
    "module, argv", [("verify", ["verify"]), ("experiments", ["experiment", "init"])]
)
def test_verify_and_experiment_missing_modules_are_a_clear_error(module, argv, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, f"gspace.{module}", None)  # import fails as if absent
    code, _, err = run(argv, capsys)
    assert code == 1 and "not available yet" in err


def test_demo_runs_its_steps_and_saves_a_plot(tmp_path, capsys):
    code, out, _ = run(["demo", "--out", str(tmp_path), "--no-progress"], capsys)
    assert code == 0
    assert "test accuracy" in out and "demo finished" in out
    # the newcomer's path: no --quick they did not type, widths said, one kind of table
    assert "--quick always" not in out and "widths 64-32-32-32-10" in out
    assert "at chance from g(w)" in out and not any(
        line.startswith("|") for line in out.splitlines()
    )
    assert (tmp_path / "sgd-digits" / "learning_curves.png").is_file()
    assert History.from_json(tmp_path / "sgd-digits" / "history.json").final("test_acc") > 0.9


def test_demo_steps_are_a_list_later_issues_can_extend(tmp_path, monkeypatch, capsys):
    calls = []
    extra = cli.DemoStep("an extra step", lambda args: calls.append(args.out))
    monkeypatch.setattr(cli, "DEMO_STEPS", [extra])
    code, out, _ = run(["demo", "--out", str(tmp_path)], capsys)
    assert code == 0 and calls == [tmp_path] and "an extra step" in out


def test_python_dash_m_gspace_runs():
    result = subprocess.run(
        [sys.executable, "-m", "gspace", "train", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--optimizer" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "gspace", "train", "--hidden", "3,x"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "3,x" in result.stderr


@pytest.mark.parametrize("name, cls", [("sgd", "SGD"), ("pathsgd", "PathSGD"), ("gsgd", "GSGD")])
def test_train_with_every_optimizer(name, cls, tmp_path, capsys):
    argv = ["train", "--dataset", "teacher", "--optimizer", name, "--hidden", "6,6"]
    code, _, _ = run([*argv, "--epochs", "2", "--out", str(tmp_path), "--no-progress"], capsys)
    assert code == 0
    history = History.from_json(tmp_path / "history.json")
    assert history.config["optimizer"] == cls and len(history.epoch) == 3
