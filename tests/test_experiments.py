"""Tests of gspace.experiments: the method (seeds, learning-rate selection, results.json),
the structural facts of each experiment, exact reruns, the report tables and the CLI.

The default run uses tiny configurations (monkeypatched ``config``) so that it stays fast; the
real ``--quick`` versions run under ``@pytest.mark.slow`` (CI runs them).
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

import gspace
from gspace import experiments
from gspace.experiments import common, invariance, report

VOLATILE = ("machine", "elapsed_seconds")  # the only fields allowed to differ between reruns


def tiny(module, monkeypatch, **overrides):
    """Shrink an experiment's configuration to a few seconds (same code path)."""
    original = module.config

    def config(quick):
        cfg = original(True)
        cfg["epochs"] = 2
        cfg["lr_grid"] = {opt: [0.03, 0.1] for opt in cfg["optimizers"]}
        cfg.update(overrides)
        return cfg

    monkeypatch.setattr(module, "config", config)


TINY = {
    "invariance": {"hidden": [8, 8]},
    "unbalanced-init": {"hidden": [8, 8], "sigmas": [0.0, 2.0]},
    "width": {"widths": [4, 8]},
    "path-sgd": {"hidden": [8, 8]},
    "authors-mlp": {"hidden": [8, 8, 8]},
    "init": {"networks": {"shallow": [8, 8], "deep": [8, 8, 8, 8]}},
}


# ----------------------------------------------------------------------------- the method
def test_seeds_quick_and_full():
    assert common.seeds(3, quick=True) == [3, 4, 5]
    assert common.seeds(0, quick=False) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_seeds_bad_input(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        common.seeds(bad, quick=True)


def test_mean_std_against_numpy_and_skips_nan():
    x = [0.9, 0.8, 0.95, float("nan")]
    mean, std = common.mean_std(x)
    assert mean == pytest.approx(np.mean(x[:3]))
    assert std == pytest.approx(np.sqrt(np.sum((np.array(x[:3]) - mean) ** 2) / 2))
    assert common.mean_std([0.5]) == (0.5, 0.0)
    assert all(math.isnan(v) for v in common.mean_std([float("nan")]))


def test_make_optimizer_names_and_bad_name():
    assert isinstance(common.make_optimizer("sgd", 0.1), gspace.SGD)
    assert isinstance(common.make_optimizer("gsgd", 0.1), gspace.GSGD)
    assert isinstance(common.make_optimizer("pathsgd", 0.1), gspace.PathSGD)
    with pytest.raises(ValueError, match="accepted"):
        common.make_optimizer("adagrad", 0.1)
    with pytest.raises(ValueError, match="lr"):
        common.make_optimizer("sgd", -1.0)


def test_make_optimizer_baselines_beyond_the_paper():
    """Every name of OPTIMIZER_LABELS has a factory, a colour and a grid of the same size."""
    made = {name: common.make_optimizer(name, 0.01) for name in common.OPTIMIZER_LABELS}
    assert type(made["sgd-momentum"]) is gspace.SGD and made["sgd-momentum"].momentum == 0.9
    assert type(made["gsgd-momentum"]) is gspace.GSGD and made["gsgd-momentum"].momentum == 0.9
    assert type(made["adam"]) is gspace.Adam and made["adam"].betas == (0.9, 0.999)
    assert type(made["enorm"]) is gspace.ENorm
    assert all(opt.lr == 0.01 for opt in made.values())
    assert set(common.OPTIMIZER_COLORS) == set(common.LR_GRIDS) == set(common.OPTIMIZER_LABELS)
    assert {len(grid) for grid in common.LR_GRIDS.values()} == {6}
    with pytest.raises(ValueError, match="lr"):
        common.make_optimizer("adam", 0.0)


def test_baselines_train_in_an_experiment_grid():
    """The baselines go through the same spec -> train_spec path as the paper's optimizers."""
    results = common.new_results("x", "X", "", quick=True, seed=0)
    results["dataset"] = "digits"
    names = ["sgd-momentum", "gsgd-momentum", "adam", "enorm"]
    cfg = {"lr_grid": {name: [common.LR_GRIDS[name][2]] for name in names}, "epochs": 1}
    cfg["batch_size"] = 32
    start = {"widths": [64, 8, 8, 10], "init": "he"}
    specs = common.grid_specs(results, cfg, names, condition={}, start=start)[::3]
    for record in map(common.train_spec, specs):
        val = record["curves"]["val_acc"]  # before training, after the epoch
        assert not record["diverged"] and val[1] > val[0] + 0.1, (record["optimizer"], val)


def test_make_optimizer_is_train_make_optimizer_without_momentum_or_decay():
    """Same class and learning rate as gspace.train.make_optimizer; no momentum, no decay."""
    from gspace import train

    for name in ("sgd", "pathsgd", "gsgd"):
        ours, theirs = common.make_optimizer(name, 0.2), train.make_optimizer(name, 0.2)
        assert type(ours) is type(theirs)
        assert (ours.lr, ours.momentum, ours.weight_decay) == (0.2, 0.0, 0.0)


def test_start_fills_results_and_widths_for_hidden_networks_and_neither():
    base = {"dataset": "digits", "epochs": 1, "sigma": 0.5}
    one = dict(base, hidden=[5, 6])
    cfg, results, data, widths = common.start(
        "x", "X", "sigma {sigma}", "he", lambda quick: dict(one), True, 0
    )
    d, k = data.n_features, data.n_classes
    assert widths == [d, 5, 6, k]
    assert results["config"] == {**one, "widths": widths}
    assert results["description"] == "sigma 0.5" and results["init"] == "he"
    assert results["dataset"] == "digits" and len(results["notes"]) == 1
    assert cfg == one
    nets = dict(base, networks={"a": [3], "b": [4, 4]})
    _, results, _, widths = common.start("x", "X", "", "he", lambda quick: dict(nets), True, 0)
    assert widths == {"a": [d, 3, k], "b": [d, 4, 4, k]}
    assert results["config"]["widths"] == widths
    cfg, results, _, widths = common.start(
        "x", "X", "", "he", lambda quick: dict(base), True, 0, overrides={"sigma": 2.0}
    )
    assert widths is None and "widths" not in results["config"] and cfg["sigma"] == 2.0
    with pytest.raises(KeyError):
        common.start("x", "X", "{missing}", "he", lambda quick: dict(base), True, 0)


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"epochs_typo": 3}, "unknown configuration keys"),
        ({"loss": "mse"}, "cannot be overridden"),
        ({"bias": True}, "cannot be overridden"),
    ],
)
def test_start_refuses_overrides_it_would_ignore(overrides, words):
    """Overrides that name no setting, or change the recorded loss or bias, are errors rather
    than silently ignored."""
    base = {"dataset": "digits", "loss": "cross_entropy", "bias": False, "epochs": 1}
    with pytest.raises(ValueError, match=words):
        common.start("x", "X", "", "he", lambda quick: dict(base), True, 0, overrides=overrides)
    cfg, *_ = common.start(
        "x",
        "X",
        "",
        "he",
        lambda quick: dict(base),
        True,
        0,
        overrides={"loss": "cross_entropy", "epochs": 2},
    )
    assert cfg["epochs"] == 2


def test_search_each_records_each_optimizer_before_yielding_it():
    """The caller's body runs between optimizers: results hold exactly the optimizers so far;
    the records come from real training runs of grid_specs through train_spec."""
    results = common.new_results("x", "X", "", quick=True, seed=0)
    results["dataset"] = "digits"
    cfg = {"lr_grid": {"sgd": [0.01, 0.1], "gsgd": [0.1]}, "epochs": 1, "batch_size": 32}
    start = {"widths": [64, 4, 10], "init": "he"}
    specs = common.grid_specs(results, cfg, ["sgd", "gsgd"], condition={"c": 1}, start=start)
    records = [common.train_spec(spec) for spec in specs]
    seen = []
    for opt, selection, chosen in common.search_each(
        results, cfg, records, ["sgd", "gsgd"], condition={"c": 1}
    ):
        seen.append(opt)
        assert [s["optimizer"] for s in results["lr_selection"]] == seen
        assert results["lr_selection"][-1] is selection
        assert [r["seed"] for r in chosen] == results["seeds"]
        assert all(r["lr"] == selection["chosen"] and r["condition"] == {"c": 1} for r in chosen)
    assert seen == ["sgd", "gsgd"]
    assert len(results["runs"]) == len(specs) == 9
    with pytest.raises(ValueError, match="expected 2 rates x 3 seeds"):
        next(common.search_each(results, cfg, records[1:], ["sgd"], condition={"c": 1}))


def test_train_spec_equals_train_run_from_the_same_settings():
    """A spec carries every setting: train_spec gives the record of train_run called directly
    on the rescaled start, the same seed and the data set of the spec."""
    results = common.new_results("x", "X", "", quick=True, seed=3)
    results["dataset"] = "digits"
    cfg = {"lr_grid": {"pathsgd": [0.3]}, "epochs": 2, "batch_size": 16}
    start = {"widths": [64, 6, 5, 10], "init": "skeleton-unit", "sigma": 1.5}
    spec = common.grid_specs(results, cfg, ["pathsgd"], condition={}, start=start)[1]
    net = common.rescale(common.initial_net(start["widths"], start["init"], 4), 1.5, 4)
    data = gspace.datasets.load("digits", seed=3)
    _, direct = common.train_run(net, "pathsgd", 0.3, data, seed=4, epochs=2, batch_size=16)
    assert spec["seed"] == 4
    assert common.train_spec(spec) == {
        "condition": {},
        "optimizer": "pathsgd",
        "lr": 0.3,
        "seed": 4,
        **direct,
    }


def test_summary_row_against_mean_std_and_finish():
    chosen = [
        {"diverged": False, "final": {"test_acc": 0.8, "val_acc": 0.7}},
        {"diverged": True, "final": {"test_acc": float("nan"), "val_acc": float("nan")}},
        {"diverged": False, "final": {"test_acc": 0.9, "val_acc": 0.6}},
    ]
    row = common.summary_row(
        "pathsgd", {"chosen": 0.3}, chosen, condition={"w": 4}, keys=("val_acc", "test_acc")
    )
    assert list(row)[:3] == ["w", "optimizer", "lr"] and row["optimizer"] == "Path-SGD"
    assert (row["test_acc_mean"], row["test_acc_std"]) == common.mean_std([0.8, 0.9])
    assert (row["val_acc_mean"], row["val_acc_std"]) == common.mean_std([0.7, 0.6])
    assert row["diverged"] == 1
    assert "diverged" not in common.summary_row("sgd", {"chosen": 0.3}, chosen, diverged=False)
    columns = [{"key": "a", "label": "A"}]
    results = common.new_results("x", "X", "", quick=True, seed=0)
    assert common.finish(results, columns, ["n"]) is results
    assert results["summary_columns"] == columns and results["notes"] == ["n"]
    results["summary_columns"][0]["key"] = "b"
    assert columns == [{"key": "a", "label": "A"}]  # not shared with the caller's list


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_every_run_has_the_shared_docstring(name):
    module = experiments.EXPERIMENTS[name]
    doc = module.run.__doc__
    for section in ("Parameters", "quick :", "seed :", "data_dir :", "overrides :", "Returns"):
        assert section in doc
    digits_only = module.config(False)["dataset"] == "digits"
    assert ("Unused (digits only)" in doc) == digits_only


def test_select_lr_chooses_best_mean_validation_accuracy():
    """The chosen rate maximizes the mean validation accuracy; a diverged run counts as 0."""
    val = {
        (0.1, 0): 0.5,
        (0.1, 1): 0.7,
        (0.3, 0): 0.9,
        (0.3, 1): None,
        (1.0, 0): 0.4,
        (1.0, 1): 0.4,
    }
    records = [
        {
            "condition": {"k": 2},
            "optimizer": "sgd",
            "lr": lr,
            "seed": seed,
            "diverged": v is None,
            "final": dict.fromkeys(common.FINAL_KEYS, float("nan") if v is None else v),
            "curves": {"x": [1]},
        }
        for (lr, seed), v in val.items()
    ]
    sel, runs = common.select_lr(records[::-1], [0.1, 0.3, 1.0])  # any order of records
    # means: 0.6, 0.45 (0.9 and a diverged 0), 0.4
    assert sel["chosen"] == 0.1 and sel["condition"] == {"k": 2} and sel["optimizer"] == "sgd"
    assert sel["val_acc_mean"] == pytest.approx([0.6, 0.45, 0.4])
    assert sel["diverged"] == [0, 1, 0]
    assert [r["lr"] for r in runs] == [0.1, 0.1, 0.3, 0.3, 1.0, 1.0]
    assert all(bool(r["curves"]) == (r["lr"] == 0.1) for r in runs)
    assert all(r["curves"] for r in records)  # the input records are not modified


def test_train_run_records_divergence_instead_of_raising():
    data = gspace.datasets.load("digits", seed=0)
    net = common.initial_net([64, 8, 10], "he", 0)
    new, rec = common.train_run(net, "sgd", 1e6, data, seed=0, epochs=1, batch_size=32)
    assert new is None and rec["diverged"] and rec["message"]
    assert all(math.isnan(v) for v in rec["final"].values())


def test_rescale_keeps_function_changes_weights():
    net = common.initial_net([5, 4, 3, 2], "skeleton-unit", 0)
    g_net = common.rescale(net, 1.0, seed=0)
    X = np.random.default_rng(1).normal(size=(7, 5))
    np.testing.assert_allclose(g_net.forward(X), net.forward(X), rtol=1e-12, atol=1e-12)
    assert not np.allclose(g_net.weights[0], net.weights[0])
    same = common.rescale(net, 0.0, seed=0)
    for a, b in zip(same.weights, net.weights):
        np.testing.assert_allclose(a, b, rtol=1e-15)


# ----------------------------------------------------------------------------- results.json
def check_results_fields(results, name):
    assert list(results) == list(common.RESULT_FIELDS)
    assert results["experiment"] == name
    assert results["figure"] == f"{name}.png"
    assert results["seeds"] == common.seeds(results["seed"], results["quick"])
    assert results["dataset"] and results["init"] and results["notes"]
    assert {"platform", "cpu_count", "python", "numpy", "date"} <= set(results["machine"])
    grid_sizes = {len(s["grid"]) for s in results["lr_selection"]}
    assert len(grid_sizes) == 1, "every optimizer gets a grid of the same size"
    for sel in results["lr_selection"]:
        assert sel["chosen"] in sel["grid"]
        assert sel["val_acc_mean"][sel["grid"].index(sel["chosen"])] == max(sel["val_acc_mean"])
        n = sum(
            1
            for r in results["runs"]
            if r["optimizer"] == sel["optimizer"] and r["condition"] == sel["condition"]
        )
        assert n == len(sel["grid"]) * len(results["seeds"])
    for r in results["runs"]:
        assert {"condition", "optimizer", "lr", "seed", "diverged", "final", "curves"} <= set(r)
    keys = {c["key"] for c in results["summary_columns"]}
    for row in results["summary"]:
        assert all(k in row or f"{k}_mean" in row for k in keys)


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_every_experiment_writes_documented_results_and_figure(name, tmp_path, monkeypatch):
    tiny(experiments.EXPERIMENTS[name], monkeypatch, **TINY[name])
    results = experiments.run(name, quick=True, out=tmp_path, seed=0, progress=False)
    check_results_fields(results, name)
    on_disk = common.load_results(tmp_path / "results.json")
    assert on_disk["summary"] == json.loads(json.dumps(results["summary"]))
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = report.results_table(tmp_path / "results.json")
    assert table.count("\n") == len(results["summary"]) + 2


def strip_volatile(results):
    return json.loads(json.dumps({k: v for k, v in results.items() if k not in VOLATILE}))


@pytest.mark.parametrize("name", ["unbalanced-init", "authors-mlp"])
def test_rerun_with_same_seed_reproduces_every_number(name, monkeypatch):
    tiny(experiments.EXPERIMENTS[name], monkeypatch, **TINY[name])
    first = experiments.run(name, quick=True, seed=4, progress=False)
    second = experiments.run(name, quick=True, seed=4, progress=False)
    assert strip_volatile(first) == strip_volatile(second)
    other = experiments.run(name, quick=True, seed=5, progress=False)
    assert strip_volatile(other)["runs"] != strip_volatile(first)["runs"]


def test_A2_A3_A4_invariance_pairs_tiny(monkeypatch):
    """A2/A4: G-SGD and Path-SGD from w and g(w) compute the same function at every step;
    A3: SGD's pair does not."""
    tiny(invariance, monkeypatch, **TINY["invariance"])
    results = experiments.run("invariance", quick=True, seed=0, progress=False)
    check_invariance(results)


def check_invariance(results):
    rows = {r["optimizer"]: r for r in results["summary"]}
    for label in ("G-SGD", "Path-SGD"):
        assert rows[label]["output_abs_diff"] < 1e-8
        assert rows[label]["output_rel_diff"] < 1e-8
        assert rows[label]["train_loss_max_diff"] < 1e-8
    assert rows["SGD"]["output_abs_diff"] > 1e-3
    assert rows["SGD"]["output_rel_diff"] > 1e-4
    K = 10  # digits, MNIST and Fashion-MNIST
    for label, row in rows.items():  # runs from g(w) no better than twice guessing, counted
        runs = [
            r
            for r in results["runs"]
            if r["condition"] == {"start": "g(w)"}
            and common.OPTIMIZER_LABELS[r["optimizer"]] == label
        ]
        stuck = [r for r in runs if not r["diverged"] and r["final"]["test_acc"] < 2 / K]
        assert row["at_chance_gw"] == len(stuck)


def test_output_difference_inf_for_diverged():
    net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    assert invariance.output_difference(net, None, np.ones((1, 2))) == (math.inf, math.inf)


# ----------------------------------------------------------------------------- API and CLI
def test_run_unknown_name_and_bad_seed():
    with pytest.raises(ValueError, match="accepted: invariance"):
        experiments.run("nope", quick=True)
    with pytest.raises(ValueError, match="seed"):
        experiments.run("invariance", quick=True, seed=-2)
    with pytest.raises(TypeError, match="seed"):
        experiments.run("invariance", quick=True, seed="1")


def test_run_cli_unknown_name_returns_2(capsys):
    assert experiments.run_cli(argparse.Namespace(name="nope", quick=True)) == 2
    assert "accepted" in capsys.readouterr().err


def test_run_cli_writes_to_out_and_prints_table(tmp_path, monkeypatch, capsys):
    tiny(invariance, monkeypatch, **TINY["invariance"])
    args = argparse.Namespace(name="invariance", quick=True, out=str(tmp_path), seed=1)
    assert experiments.run_cli(args) == 0
    out = capsys.readouterr().out
    assert "optimizer  chosen lr" in out and "G-SGD" in out and "|" not in out
    assert (tmp_path / "results.json").exists() and (tmp_path / "invariance.png").exists()
    assert common.load_results(tmp_path / "results.json")["seed"] == 1


# ----------------------------------------------------------------------------- report
SYNTHETIC = {
    "summary_columns": [
        {"key": "optimizer", "label": "optimizer"},
        {"key": "lr", "label": "lr", "format": "g"},
        {"key": "acc", "label": "accuracy", "format": ".3f"},
        {"key": "gap", "label": "gap", "format": "+.3f"},
    ],
    "summary": [
        {"optimizer": "SGD", "lr": 0.1, "acc_mean": 0.9, "acc_std": 0.0123, "gap_mean": None},
        {
            "optimizer": "G-SGD",
            "lr": 0.3,
            "acc_mean": 0.95,
            "acc_std": 0.01,
            "gap_mean": -0.02,
            "gap_std": 0.005,
        },
    ],
}


def test_results_table_markdown_and_rst():
    md = report.results_table(SYNTHETIC, "markdown").splitlines()
    assert md[0] == "| optimizer | lr | accuracy | gap |"
    assert md[2] == "| SGD | 0.1 | 0.900 ± 0.012 |  |"
    assert md[3] == "| G-SGD | 0.3 | 0.950 ± 0.010 | -0.020 ± 0.005 |"
    rst = report.results_table(SYNTHETIC, "rst")
    assert rst.startswith(".. list-table::\n   :header-rows: 1\n")
    assert rst.count("   * - ") == 3
    with pytest.raises(ValueError, match="fmt"):
        report.results_table(SYNTHETIC, "html")


def test_results_table_text_is_aligned_like_the_cli_tables():
    text = report.results_table(SYNTHETIC, "text").splitlines()
    assert text[0] == "optimizer  lr   accuracy       gap"
    assert text[1] == "SGD        0.1  0.900 ± 0.012"
    assert text[2] == "G-SGD      0.3  0.950 ± 0.010  -0.020 ± 0.005"


def test_format_cell_nan_and_inf():
    assert report.format_cell({"x": float("nan")}, {"key": "x", "format": ".3f"}) == "n/a"
    assert report.format_cell({"x": float("inf")}, {"key": "x", "format": ".1e"}) == "inf"


def test_results_page_orders_sections_and_rejects_bad_input(tmp_path, monkeypatch):
    for name in ("path-sgd", "invariance"):
        tiny(experiments.EXPERIMENTS[name], monkeypatch, **TINY[name])
        experiments.run(name, quick=True, out=tmp_path / name, seed=0, progress=False)
    page = report.results_page(tmp_path, fmt="rst", figure_prefix="/_static/results/")
    assert page.index("invariance:") < page.index("path-sgd:")
    assert ".. image:: /_static/results/invariance/invariance.png" in page
    assert "Ran " in page and "CPUs" in page
    md = report.results_page(tmp_path, fmt="markdown")
    assert "![" in md and "| optimizer |" in md
    with pytest.raises(FileNotFoundError):
        report.results_page(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="missing"):
        report.results_page(tmp_path)


# ----------------------------------------------------------------------------- --quick (slow)
@pytest.mark.slow
@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_quick_version_of_every_experiment(name, tmp_path):
    """The real ``gspace experiment NAME --quick`` (CI runs it)."""
    results = experiments.run(name, quick=True, out=tmp_path, seed=0, progress=False)
    check_results_fields(results, name)
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    if name == "invariance":
        check_invariance(results)
    if name in ("unbalanced-init",):
        by = {}
        for row in results["summary"]:
            by.setdefault(row["optimizer"], []).append(row["test_acc_mean"])
        # G-SGD and Path-SGD never see the rescaling (A2, A4): same accuracy for every sigma
        for label in ("G-SGD", "Path-SGD"):
            assert max(by[label]) - min(by[label]) < 1e-9


def test_cli_experiment_subcommand_end_to_end(tmp_path, monkeypatch, capsys):
    """``gspace experiment NAME --quick --out DIR --seed S --no-progress`` through gspace.cli."""
    from gspace import cli

    tiny(experiments.EXPERIMENTS["path-sgd"], monkeypatch, **TINY["path-sgd"])
    argv = ["experiment", "path-sgd", "--quick", "--out", str(tmp_path), "--seed", "2"]
    assert cli.main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Path-SGD" in out and "results.json" in out
    results = common.load_results(tmp_path / "results.json")
    assert results["seeds"] == [2, 3, 4] and results["quick"]
    assert results["notes"][0].startswith("Quick version: ")


def test_demo_versions_and_bad_name(tmp_path, capsys):
    results = experiments.demo("invariance", tmp_path / "inv", seed=0, progress=False)
    check_invariance(results)
    assert "max abs. output diff" in capsys.readouterr().out
    with pytest.raises(ValueError, match="accepted: invariance, path-sgd"):
        experiments.demo("width", tmp_path)


def test_replot_redraws_the_figure_from_results(tmp_path, monkeypatch):
    tiny(invariance, monkeypatch, **TINY["invariance"])
    experiments.run("invariance", quick=True, out=tmp_path, seed=0, progress=False)
    (tmp_path / "invariance.png").unlink()
    assert experiments.replot(tmp_path / "results.json") == tmp_path / "invariance.png"
    assert (tmp_path / "invariance.png").stat().st_size > 0
    with pytest.raises(FileNotFoundError):
        experiments.replot(tmp_path / "missing.json")


def test_edge_notes_name_rates_at_the_end_of_the_grid():
    sel = [
        {"optimizer": "gsgd", "condition": {"width": 8}, "grid": [0.1, 1.0], "chosen": 1.0},
        {"optimizer": "gsgd", "condition": {"width": 16}, "grid": [0.1, 1.0], "chosen": 1.0},
        {"optimizer": "sgd", "condition": {}, "grid": [0.1, 0.3, 1.0], "chosen": 0.3},
        {"optimizer": "sgd", "condition": {"x": 1}, "grid": [0.1, 0.3, 1.0], "chosen": 0.1},
    ]
    notes = experiments._edge_notes({"lr_selection": sel})
    assert notes == [
        "G-SGD: the chosen rate 1 is the largest of its grid (width=8; width=16); a rate "
        "beyond the grid might do better.",
        "SGD: the chosen rate 0.1 is the smallest of its grid (x=1); a rate beyond the grid "
        "might do better.",
    ]


@pytest.mark.parametrize(
    "accs, verdict",
    [
        (((0.90, 0.92), (0.91, 0.93)), "G-SGD is better on every seed"),
        (((0.90, 0.92), (0.90, 0.93)), "G-SGD is better or equal on every seed"),
        (((0.90, 0.92), (0.89, 0.92)), "SGD is better or equal on every seed"),
        (((0.90, 0.92), (0.89, 0.91)), "SGD is better on every seed"),
        (((0.90, 0.92), (0.91, 0.91)), "the sign changes from seed to seed"),
        (((0.90, 0.92), (0.90, 0.92)), "equal on every seed"),
    ],
)
def test_paired_gap_note_verdicts(accs, verdict):
    sel = [{"optimizer": o, "condition": {}, "chosen": 0.1} for o in ("sgd", "gsgd")]
    runs = [
        {"optimizer": o, "condition": {}, "lr": 0.1, "seed": s, "final": {"test_acc": acc}}
        for o, pair in zip(("sgd", "gsgd"), accs)
        for s, acc in enumerate(pair)
    ]
    note = common.paired_gap_note({"lr_selection": sel, "runs": runs})
    assert note.endswith(f"; {verdict}.")
    gap = np.subtract(accs[1], accs[0])
    assert f"{gap.mean():+.3f} +- {common.mean_std(gap)[1]:.3f} over 2 seeds" in note
