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
from gspace.experiments import cnn_depth, common, invariance, plots, protocol, report

VOLATILE = common.VOLATILE_FIELDS  # the only fields allowed to differ between reruns

#: Tiny versions of the experiments on digits (bundled, seconds to run; same code paths).
BASE = {"dataset": "digits", "epochs": 2, "tune_epochs": 1, "tune_limit": 600, "limit": None}
TINY = {
    "invariance": {**BASE, "hidden": [8, 8]},
    "unbalanced-init": {**BASE, "hidden": [8, 8], "sigmas": [0.0, 2.0]},
    "width": {**BASE, "widths": [4, 8]},
    "path-sgd": {**BASE, "hidden": [8, 8]},
    "authors-mlp": {
        "dataset": ["digits"],
        "hidden": [8, 8, 8],
        "epochs": {"digits": 2},
        "tune_limit": {"digits": 600},
        "limit": None,
    },
    "init": {**BASE, "networks": {"shallow": [8, 8], "deep": [8, 8, 8, 8]}},
    "cnn-depth": {**BASE, "depths": [2]},
}


def tiny(module, monkeypatch, **overrides):
    """Shrink an experiment's configuration to a few seconds (same code path)."""
    original = module.config

    def config(quick):
        cfg = original(True)
        cfg["lr_grid"] = {opt: [0.03, 0.1] for opt in cfg["optimizers"]}
        cfg.update(overrides)
        return cfg

    monkeypatch.setattr(module, "config", config)


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


def test_every_optimizer_of_the_experiments_has_a_factory_name_a_colour_and_a_grid():
    """The experiments build their optimizers with gspace.train.make_optimizer (the one
    factory): every name it accepts has a label, a colour and a grid of the same size."""
    from gspace import train

    assert set(common.OPTIMIZER_LABELS) == set(train.OPTIMIZERS)
    assert set(common.OPTIMIZER_COLORS) == set(common.LR_GRIDS) == set(common.OPTIMIZER_LABELS)
    assert {len(grid) for grid in common.LR_GRIDS.values()} == {6}


def test_baselines_train_in_an_experiment_grid():
    """The baselines go through the same spec -> train_spec path as the paper's optimizers."""
    names = ["sgd-momentum", "gsgd-momentum", "adam", "enorm"]
    start = {"widths": [64, 8, 8, 10], "init": "he"}
    specs = [
        {
            "condition": {},
            "optimizer": name,
            "lr": common.LR_GRIDS[name][2],
            "seed": 0,
            "start": start,
            "data": {"name": "digits", "seed": 0},
            "epochs": 1,
            "batch_size": 32,
            "schedule": None,
        }
        for name in names
    ]
    for record in map(common.train_spec, specs):
        val = record["curves"]["val_acc"]  # before training, after the epoch
        assert not record["diverged"] and val[1] > val[0] + 0.1, (record["optimizer"], val)


def test_train_spec_equals_train_run_from_the_same_settings():
    """A spec carries every setting: train_spec gives the record of train_run called directly
    on the rescaled start, the same seed and the data set of the spec."""
    start = {"widths": [64, 6, 5, 10], "init": "skeleton-unit", "sigma": 1.5}
    spec = {
        "condition": {},
        "optimizer": "pathsgd",
        "lr": 0.3,
        "seed": 4,
        "start": start,
        "data": {"name": "digits", "seed": 3},
        "epochs": 2,
        "batch_size": 16,
        "schedule": None,
    }
    rng = np.random.default_rng(4)
    net = gspace.initialize(start["widths"], init="skeleton-unit", bias=False, rng=rng)
    net = gspace.random_scaling(net.widths, np.random.default_rng((4, 1)), sigma=1.5).apply(net)
    data = gspace.datasets.load("digits", seed=3)
    _, direct = common.train_run(net, "pathsgd", 0.3, data, seed=4, epochs=2, batch_size=16)
    assert not direct["diverged"] and len(direct["curves"]["test_acc"]) == 3  # epoch 0 first
    assert common.train_spec(spec) == {
        "condition": {},
        "optimizer": "pathsgd",
        "lr": 0.3,
        "seed": 4,
        **direct,
    }
    # an optional weight decay (tools/cnn_reference.py) reaches the optimizer; absent means 0
    _, decayed = common.train_run(
        net, "pathsgd", 0.3, data, seed=4, epochs=2, batch_size=16, weight_decay=0.01
    )
    assert common.train_spec({**spec, "weight_decay": 0.01})["final"] == decayed["final"]
    assert decayed["final"]["train_loss"] != direct["final"]["train_loss"]
    assert common.train_spec({**spec, "weight_decay": 0.0})["final"] == direct["final"]


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
    net = gspace.initialize([64, 8, 10], init="he", bias=False, rng=np.random.default_rng(0))
    new, rec = common.train_run(net, "sgd", 1e6, data, seed=0, epochs=1, batch_size=32)
    assert new is None and rec["diverged"] and rec["message"]
    assert all(math.isnan(v) for v in rec["final"].values())


def test_machine_info_fields():
    assert sorted(common.machine_info()) == [
        "commit",
        "cpu_count",
        "date",
        "gspace",
        "numpy",
        "platform",
        "processor",
        "python",
    ]


def test_spec_sigma_starts_from_a_rescaling_of_the_same_function():
    """A spec's ``sigma`` starts from g(w): G-SGD's run is the same to rounding (A2), SGD's is
    not (A3); sigma 0 is w itself."""
    base = {"condition": {}, "lr": 0.1, "seed": 0, "data": {"name": "digits", "seed": 0}}
    base.update(epochs=1, batch_size=32, schedule=None)

    def loss(opt, **sigma):
        start = {"widths": [64, 6, 5, 10], "init": "skeleton-unit", **sigma}
        return np.array(
            common.train_spec({**base, "optimizer": opt, "start": start})["curves"]["train_loss"]
        )

    np.testing.assert_allclose(loss("sgd", sigma=0.0), loss("sgd"), rtol=1e-15)
    np.testing.assert_allclose(loss("gsgd", sigma=1.0), loss("gsgd"), rtol=1e-9)
    sgd, sgd_g = loss("sgd"), loss("sgd", sigma=1.0)
    assert sgd[0] == pytest.approx(sgd_g[0], rel=1e-12) and abs(sgd[1] - sgd_g[1]) > 1e-4


def test_full_configurations_are_the_documented_sizes():
    """The sizes docs/experiments.rst states for the full runs."""
    exp = experiments.EXPERIMENTS
    assert exp["width"].config(False)["widths"] == [16, 64, 256]
    assert exp["cnn-depth"].config(False)["depths"] == [2, 4, 8]
    assert exp["authors-mlp"].config(False)["schedule"] == {"name": "exp", "k": 0.01}
    assert exp["init"].config(False)["networks"] == {"shallow": [32, 32], "deep": [32] * 6}
    assert exp["path-sgd"].config(False)["hidden"] == [32, 32, 32]
    assert exp["unbalanced-init"].config(False)["sigmas"] == [0.0, 1.0, 3.0]
    assert exp["invariance"].config(False)["sigma"] == 1.0
    assert cnn_depth.network(4) == {"channels": [8, 8, 16, 16], "strides": [2, 1, 2, 1]}


# ----------------------------------------------------------------------------- results.json
def check_results_fields(results, name):
    assert isinstance(results, protocol.Results)
    assert results.experiment == name and results.figure == f"{name}.png"
    assert results.seeds == common.seeds(results.seed, results.quick)
    assert results.dataset and results.init and results.notes
    assert results.config["dataset"] in (results.dataset, results.dataset.split(", "))
    assert {"platform", "cpu_count", "python", "numpy", "date"} <= set(results.machine)
    paper = [s for s in results.lr_selection if s["optimizer"] in protocol.PAPER_OPTIMIZERS]
    assert len({tuple(s["grid"]) for s in paper}) == 1, "one grid for the paper's optimizers"
    assert len({len(s["grid"]) for s in results.lr_selection}) == 1, "grids of one size"
    n_tune = results.config["tune_seeds"]
    for sel in results.lr_selection:
        assert sel["chosen"] in sel["grid"]
        assert sel["val_acc_mean"][sel["grid"].index(sel["chosen"])] == max(sel["val_acc_mean"])
        tuned = [
            r
            for r in results.runs
            if r["phase"] == "tune"
            and r["optimizer"] == sel["optimizer"]
            and r["condition"] == sel["condition"]
        ]
        assert len(tuned) == len(sel["grid"]) * n_tune
    for r in results.runs:
        assert {"phase", "condition", "optimizer", "lr", "seed", "diverged", "final"} <= set(r)
        if r["phase"] == "final":
            assert r["curves"] or r["diverged"]
    keys = {c["key"] for c in results.summary_columns}
    for row in results.summary:
        missing = {k for k in keys if k not in row and f"{k}_mean" not in row}
        if row["protocol"] == protocol.PROTOCOLS["released"]:  # the paper's optimizers only
            missing = {k for k in missing if k.split("_")[0] in protocol.PAPER_OPTIMIZERS}
        assert not missing


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_every_experiment_writes_documented_results_and_figure(name, tmp_path, monkeypatch):
    tiny(experiments.EXPERIMENTS[name], monkeypatch, **TINY[name])
    results = experiments.run(name, quick=True, out=tmp_path, seed=0, progress=False)
    check_results_fields(results, name)
    on_disk = protocol.Results.from_json(tmp_path / "results.json")
    assert on_disk.summary == json.loads(json.dumps(results.summary))
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = report.results_table(tmp_path / "results.json")
    assert table.count("\n") == len(results.summary) + 2


def strip_volatile(results):
    d = results.to_dict()
    return json.loads(json.dumps({k: v for k, v in d.items() if k not in VOLATILE}))


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
    rows = {r["optimizer"]: r for r in results.summary}
    for label in ("G-SGD", "Path-SGD"):
        assert rows[label]["output_abs_diff"] < 1e-8
        assert rows[label]["output_rel_diff"] < 1e-8
        assert rows[label]["train_loss_max_diff"] < 1e-8
    assert rows["SGD"]["output_abs_diff"] > 1e-3
    assert rows["SGD"]["output_rel_diff"] > 1e-4
    K = 10  # digits, MNIST and Fashion-MNIST
    labels = {v: k for k, v in common.OPTIMIZER_LABELS.items()}
    for row in results.summary:  # runs from g(w) no better than twice guessing, counted
        init, lr = row["start"].split(", lr ")
        pairs = [
            r["pair"]
            for r in results.runs
            if r["phase"] == "final"
            and r["optimizer"] == labels[row["optimizer"]]
            and r["condition"]["init"] == init
            and r["lr"] == float(lr)
        ]
        assert len(pairs) == len(results.seeds)
        stuck = [p for p in pairs if not p["diverged"] and p["final"]["test_acc"] < 2 / K]
        assert row["at_chance_gw"] == len(stuck)


def test_output_difference_inf_for_diverged():
    net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    assert invariance.output_difference(net, net, np.ones((2, 2))) == (0.0, 0.0)
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
    assert "protocol            optimizer" in out and "G-SGD" in out and "|" not in out
    assert (tmp_path / "results.json").exists() and (tmp_path / "invariance.png").exists()
    assert protocol.Results.from_json(tmp_path / "results.json").seed == 1


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


def test_band_counts_curves_and_skips_empty_ones():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plots.band(ax, [[1.0, 0.5], [1.0, 0.7], []], label="SGD", color="tab:blue")
    plots.band(ax, [[]], label="none", color="tab:red")
    assert ax.get_legend_handles_labels()[1] == ["SGD (n=2)"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [1.0, 0.6])
    plt.close(fig)


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
    with pytest.raises(ValueError, match="not a gspace results object"):
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
    if name == "cnn-depth":  # every depth under (a) and (b), the paper's three, their gaps
        assert [(r["depth"], r["protocol"][:3]) for r in results.summary] == [
            (L, p) for L in (2, 4) for p in ("(a)", "(b)")
        ]
        for row in results.summary:
            assert all(0.0 <= row[f"{o}_acc_mean"] <= 1.0 for o in ("sgd", "pathsgd", "gsgd"))
            assert {"gap_gsgd_sgd_mean", "gap_gsgd_pathsgd_mean"} <= set(row)
    if name == "unbalanced-init":
        # G-SGD and Path-SGD never see the rescaling (A2, A4): same choices and accuracy for
        # every sigma, under each protocol
        for proto in ("a", "b"):
            rows = [r for r in results.summary if r["protocol"] == protocol.PROTOCOLS[proto]]
            for opt in ("gsgd", "pathsgd"):
                accs = [r[f"{opt}_acc_mean"] for r in rows]
                assert max(accs) - min(accs) < 1e-9


def test_cli_experiment_subcommand_end_to_end(tmp_path, monkeypatch, capsys):
    """``gspace experiment NAME --quick --out DIR --seed S --no-progress`` through gspace.cli."""
    from gspace import cli

    tiny(experiments.EXPERIMENTS["path-sgd"], monkeypatch, **TINY["path-sgd"])
    argv = ["experiment", "path-sgd", "--quick", "--out", str(tmp_path), "--seed", "2"]
    assert cli.main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Path-SGD" in out and "results.json" in out
    results = protocol.Results.from_json(tmp_path / "results.json")
    assert results.seeds == [2, 3, 4] and results.quick
    assert results.notes[0].startswith("Quick version: ")


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
    notes = experiments._edge_notes(argparse.Namespace(lr_selection=sel))
    assert notes == [
        "G-SGD: the chosen rate 1 is the largest of its grid (width=8; width=16); a rate "
        "beyond the grid might do better.",
        "SGD: the chosen rate 0.1 is the smallest of its grid (x=1); a rate beyond the grid "
        "might do better.",
    ]


# ----------------------------------------------------------------------------- the protocol
def test_results_round_trip_and_bad_files(tmp_path):
    r = protocol.Results("x", "X", "d", True, 0, [0], "digits", "he", {"epochs": 1})
    r.runs.append({"final": {"test_acc": float("nan")}})
    back = protocol.Results.from_json(r.to_json(tmp_path / "r.json"))
    assert back.to_dict().keys() == r.to_dict().keys() and back.config == r.config
    assert math.isnan(back.runs[0]["final"]["test_acc"])
    (tmp_path / "bad.json").write_text('{"experiment": "x"}')
    with pytest.raises(ValueError, match="bad.json: not a gspace results object"):
        protocol.Results.from_json(tmp_path / "bad.json")


#: Validation accuracy of the fake runs below, by optimizer, start and rate.
FAKE_VAL = {
    ("sgd", "skeleton-unit"): {0.1: 0.5, 0.3: 0.6},
    ("sgd", "he"): {0.1: 0.8, 0.3: 0.7},
    ("gsgd", "skeleton-unit"): {0.1: 0.9, 0.3: 0.9},  # a tie: the smaller rate
    ("gsgd", "he"): {0.1: 0.2, 0.3: 0.9},  # a tie with skeleton-unit: skeleton-unit
}


def fake_train(spec):
    """A deterministic stand-in for a training run: accuracies from FAKE_VAL and the seed."""
    init, opt, lr, seed = spec["start"]["init"], spec["optimizer"], spec["lr"], spec["seed"]
    val = FAKE_VAL[(opt, init)].get(lr, 0.1)
    final = dict.fromkeys(common.FINAL_KEYS, 0.0)
    final.update(val_acc=val, test_acc=val + 0.01 * seed + (0.005 if opt == "gsgd" else 0))
    keys = ("condition", "optimizer", "lr", "seed")
    return {
        **{k: spec[k] for k in keys},
        "diverged": False,
        "message": "",
        "final": final,
        "curves": {"test_acc": [0.1, final["test_acc"]]},
    }


def fake_protocol(**extra):
    cfg = {
        "dataset": "digits",
        "lr_grid": {"sgd": [0.1, 0.3], "gsgd": [0.1, 0.3]},
        "inits": ["skeleton-unit", "he"],
        "epochs": 3,
        "batch_size": 8,
        "tune_epochs": 1,
        "tune_limit": 300,
        "tune_seeds": 2,
        "limit": None,
        **extra,
    }
    results = protocol.Results("x", "X", "", False, 0, [0, 1, 2], "digits", "both", cfg)
    conditions = [{"condition": {"h": 4}, "start": {"widths": [64, 4, 10]}}]
    outcome = protocol.fair_runs(results, cfg, conditions, ["sgd", "gsgd"], train_fn=fake_train)
    return results, conditions, outcome


def test_fair_protocol_tunes_every_start_and_reports_a_and_b():
    """(a): skeleton-unit at its best rate; (b): the start with the best validation accuracy
    (ties: skeleton-unit, the smaller rate); tuning on the subsample with tune_seeds seeds;
    a configuration shared by (a) and (b) is trained once."""
    results, conditions, outcome = fake_protocol()
    per = outcome[json.dumps({"h": 4})]
    assert {o: per["a"][o][:2] for o in per["a"]} == {
        "sgd": ("skeleton-unit", 0.3),
        "gsgd": ("skeleton-unit", 0.1),
    }
    assert {o: per["b"][o][:2] for o in per["b"]} == {
        "sgd": ("he", 0.1),
        "gsgd": ("skeleton-unit", 0.1),
    }
    tune = [r for r in results.runs if r["phase"] == "tune"]
    final = [r for r in results.runs if r["phase"] == "final"]
    assert len(tune) == 2 * 2 * 2 * 2 and {r["seed"] for r in tune} == {0, 1}
    assert len(final) == 3 * 3  # sgd twice (a != b), gsgd once (a == b); three seeds
    assert all(len(per[p][o][2]) == 3 for p in "ab" for o in ("sgd", "gsgd"))
    rows = protocol.protocol_rows(outcome, conditions, ["sgd", "gsgd"])
    b = rows[1]
    assert b["protocol"] == protocol.PROTOCOLS["b"] and b["sgd_start"] == "he, lr 0.1"
    gaps = [(0.9 + 0.01 * s + 0.005) - (0.8 + 0.01 * s) for s in range(3)]
    assert (b["gap_gsgd_sgd_mean"], b["gap_gsgd_sgd_std"]) == pytest.approx(common.mean_std(gaps))
    assert b["seeds_gsgd_sgd"] == "+0.105 +0.105 +0.105"
    keys = {c["key"] for c in protocol.protocol_columns([], ["sgd", "gsgd"])}
    assert all(k in b or f"{k}_mean" in b for k in keys)


def test_fair_protocol_released_and_every_start_variants():
    results, _, outcome = fake_protocol(released_lr=0.3)
    per = outcome[json.dumps({"h": 4})]
    assert list(per) == ["released", "a", "b"]
    assert per["released"]["gsgd"][:2] == ("skeleton-unit", 0.3)
    results, _, outcome = fake_protocol(report_every_start=True)
    per = outcome[json.dumps({"h": 4})]
    assert list(per) == ["skeleton-unit", "he"] and per["he"]["gsgd"][:2] == ("he", 0.3)


def test_protocol_rows_mark_diverged_seeds():
    rec = {"diverged": False, "final": {"test_acc": 0.9}}
    div = {"diverged": True, "final": {"test_acc": float("nan")}}
    outcome = {"{}": {"a": {"sgd": ("he", 0.1, [rec, div]), "gsgd": ("he", 0.1, [rec, rec])}}}
    row = protocol.protocol_rows(outcome, [{"condition": {}}], ["sgd", "gsgd"])[0]
    assert row["sgd_start"] == "he, lr 0.1 (1 of 2 diverged)"
    assert row["seeds_gsgd_sgd"] == "+0.000 div" and row["sgd_acc_mean"] == 0.9


def test_begin_records_the_data_actually_used_and_refuses_bad_overrides(monkeypatch):
    module = experiments.EXPERIMENTS["path-sgd"]
    cfg, results, (d, k) = protocol.begin(module, True, 0, overrides={"dataset": "digits"})
    assert results.dataset == results.config["dataset"] == "digits" and (d, k) == (64, 10)
    for overrides, words in (
        ({"epochs_typo": 3}, "unknown configuration keys"),
        ({"loss": "mse"}, "cannot be overridden"),
    ):
        with pytest.raises(ValueError, match=words):
            protocol.begin(module, True, 0, overrides=overrides)
    monkeypatch.delenv("GSPACE_DATA", raising=False)
    monkeypatch.setattr(gspace.datasets, "_mnist_sample", lambda: None)
    with pytest.raises(FileNotFoundError, match="mnist-sample"):
        protocol.begin(module, True, 0)


# ----------------------------------------------------------------------- beyond the paper
def test_beyond_table_winner_matches_the_summary(tmp_path, monkeypatch):
    """Per-seed accuracies found from the raw runs agree with the summary's paired gaps and
    means (computed by protocol_rows from its own records); winner and margin follow."""
    from gspace.experiments import width

    tiny(width, monkeypatch, **TINY["width"])
    results = experiments.run("width", quick=True, out=tmp_path, seed=0, progress=False)
    res = results.to_dict()
    opts = results.config["optimizers"]
    assert {"sgd-momentum", "gsgd-momentum", "adam", "enorm"} <= set(opts)
    table = report.beyond_table(res, "text").splitlines()
    rows = [r for r in results.summary if r["protocol"] != protocol.PROTOCOLS["released"]]
    assert len(table) == 1 + len(rows)
    label = common.OPTIMIZER_LABELS
    for row, line in zip(rows, table[1:], strict=True):
        cond = {"width": row["width"]}  # the per-seed runs behind each optimizer's cell
        accs = {
            o: protocol.accuracies(protocol.cell_runs(res["runs"], cond, row[f"{o}_start"], o))
            for o in opts
        }
        assert all(len(a) == len(results.seeds) for a in accs.values())
        for o in opts:
            np.testing.assert_allclose(np.nanmean(accs[o]), row[f"{o}_acc_mean"], rtol=1e-12)
        gaps = " ".join(f"{g:+.3f}" for g in accs["gsgd"] - accs["sgd"])
        assert gaps == row["seeds_gsgd_sgd"]
        means = {o: np.nan_to_num(a).mean() for o, a in accs.items()}
        best, second, mean, std = report.winner(accs)
        assert means[best] == max(means.values())
        assert means[second] == max(v for o, v in means.items() if o != best)
        diff = np.nan_to_num(accs[best]) - np.nan_to_num(accs[second])
        assert f"{diff.mean():+.4f} ± {diff.std(ddof=1):.4f} over {label[second]}" in line
        assert f"  {label[best]}  " in line


def test_winner_counts_a_diverged_run_as_0():
    best, second, mean, std = report.winner({"sgd": [0.80, 0.82], "adam": [0.85, float("nan")]})
    assert (best, second) == ("sgd", "adam")
    assert (mean, std) == pytest.approx(common.mean_std([0.80 - 0.85, 0.82 - 0.0]))


def test_beyond_page_lists_studies_without_baselines(tmp_path):
    r = protocol.Results(
        "width", "W", "about", True, 0, [0], "digits", "he", {"optimizers": ["sgd"]}
    )
    r.to_json(tmp_path / "width" / "results.json")
    page = report.beyond_page(tmp_path)
    assert page.strip() == "No results with the baselines yet for: width, authors-mlp, cnn-depth."
