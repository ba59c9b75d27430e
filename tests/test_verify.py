"""``gspace verify``: every claim on the issue's architectures, table and JSON, exit status."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gspace.verify as gv
from gspace.cli import main
from gspace.core.paths import num_params

ALL = ["G1", "G2", "G3", "G4", "P1", "S1", "R1", "R2", "B1", "B2", "B3", "B4"]
ALL += ["I1", "I2", "W1", "W2", "A1", "A2", "A3", "A4"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("widths, bias", [([3, 4, 4, 2], False), ([5, 3, 7, 2, 4], True)])
def test_every_claim_holds_on_the_issue_architectures(widths, bias):
    results = gv.verify(widths, bias=bias)
    assert [r.claim for r in results] == ALL
    assert all(r.holds for r in results), gv.format_table(results)
    assert all(r.route and r.measured and r.checked for r in results)


def test_scalable_routes_are_used_and_said_when_paths_cannot_be_listed():
    results = {r.claim: r for r in gv.verify([3, 4, 4, 2], limit=10, gram_limit=10)}
    assert all(r.holds for r in results.values())
    assert results["G3"].route.startswith("sample")
    assert results["P1"].route.startswith("dynamic programming")
    assert results["R1"].route == "exact certificate"
    assert results["B1"].route.startswith("certificate")
    assert results["S1"].route.startswith("basis paths")


def test_cli_table_and_json(capsys):
    assert main(["verify", "--widths", "3,4,4,2"]) == 0
    out = capsys.readouterr().out
    assert "all 20 claims hold" in out
    for c in ALL:
        assert f"\n{c} " in out
    assert main(["verify", "--widths", "5,3,7,2,4", "--bias", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["claim"] for d in data] == ALL
    assert all(d["holds"] is True and isinstance(d["detail"], str) for d in data)


def test_exit_status_is_non_zero_when_a_claim_fails(monkeypatch, capsys):
    """A wrong optimizer in place of G-SGD: A1 (the explicit step) and A2 (invariance) fail."""
    monkeypatch.setattr(gv, "GSGD", lambda lr, skeleton: gv.SGD(lr=lr))
    args = argparse.Namespace(widths=[3, 4, 4, 2], bias=False, json=False, seed=0)
    assert gv.run_cli(args) == 1
    assert "FAILED: A1, A2" in capsys.readouterr().out


def test_bad_input():
    with pytest.raises(ValueError, match="hidden layer"):
        gv.verify([3, 2])
    with pytest.raises(ValueError, match="unknown claim"):
        gv.verify([3, 4, 2], claims=["Z9"])
    with pytest.raises(TypeError, match="sequence of claim IDs"):
        gv.verify([3, 4, 2], claims="G2")
    with pytest.raises(ValueError, match="limit must be an integer"):
        gv.verify([3, 4, 2], limit=0)
    with pytest.raises(ValueError, match="gram_limit must be an integer"):
        gv.verify([3, 4, 2], gram_limit=2.5)


@pytest.mark.slow
def test_verify_the_authors_mlp_from_the_command_line():
    """784-64x4-10 (1.3e11 paths, m = 63104): exit 0, every claim listed."""
    proc = subprocess.run(
        [sys.executable, "-m", "gspace", "verify", "--widths", "784,64,64,64,64,10", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert [d["claim"] for d in data] == ALL and all(d["holds"] for d in data)


def test_progress_bar_on_request_and_no_warning_about_the_he_test_network(capsys):
    """verify's networks are He-initialised on purpose: G-SGD's ill-conditioning warning,
    meant for training, stays out of the report."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = gv.verify([3, 4, 4, 2], claims=["G1", "A1", "A2"], progress=True)
    assert all(r.holds for r in results)
    err = capsys.readouterr().err
    assert "verify" in err and "claim" in err  # the tqdm bar
    gv.verify([3, 4, 4, 2], claims=["G1"])
    assert capsys.readouterr().err == ""


def test_cli_seed_chooses_the_network(capsys):
    assert main(["verify", "--widths", "3,4,2", "--seed", "7", "--json"]) == 0
    seven = json.loads(capsys.readouterr().out)
    assert main(["verify", "--widths", "3,4,2", "--seed", "8", "--json"]) == 0
    eight = json.loads(capsys.readouterr().out)
    assert [d["measured"] for d in seven] != [d["measured"] for d in eight]
    assert [d["measured"] for d in seven] == [r.measured for r in gv.verify([3, 4, 2], seed=7)]


def test_routes_are_picked_by_size():
    """Dense SVDs of A' and [B, A'] up to DENSE_LIMIT parameters; beyond, the certificate
    (20x8 + 5 has 2900 parameters; benchmarks/bench_verify.py times both routes)."""
    routes = {r.claim: r.route for r in gv.verify([3, 4, 4, 2], claims=["B1", "B4", "W2"])}
    assert all("SVD" in route for route in routes.values()), routes
    big = gv.verify([20] * 8 + [5], claims=["B1", "B4", "W2"])
    assert all(r.holds and r.route.startswith("certificate") for r in big), big
    assert num_params([20] * 8 + [5]) > gv.DENSE_LIMIT >= num_params([3, 4, 4, 2])


def test_format_table_layout():
    """One row per claim, then the measured value and the route under the checked text."""
    rows = [gv.ClaimResult("R1", "rank", "28", True, "explicit", 0.01)]
    assert gv.format_table(rows, "head").splitlines() == [
        "head",
        "claim  holds  seconds  checked / measured / route",
        "R1     yes       0.01  rank",
        "                       measured: 28",
        "                       route:    explicit",
        "all 1 claims hold",
    ]
    rows.append(gv.ClaimResult("G2", "f", "1", False, "explicit"))
    assert gv.format_table(rows).splitlines()[-1] == "FAILED: G2"
    d = rows[0].to_dict()
    assert list(d) == ["claim", "holds", "detail", "checked", "measured", "route", "seconds"]
    assert d["detail"] == "rank: 28 [route: explicit]"


def test_run_cli_prints_the_header_and_returns_0(capsys):
    """``run_cli`` without ``no_progress`` (the namespace other callers build)."""
    args = argparse.Namespace(widths=[2, 2, 1], bias=False, json=False, seed=0)
    assert gv.run_cli(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("gspace verify: widths [2, 2, 1], no biases, seed 0: m = 6 parameters")
    assert out.rstrip().endswith("all 20 claims hold")


def test_parse_cnn_reads_every_field():
    from gspace.verify_cnn import parse_cnn

    assert parse_cnn("1:4k3s1,8k3s2p2:10") == {
        "in_channels": 1,
        "channels": [4, 8],
        "kernel_size": [3, 3],
        "strides": [1, 2],
        "pool": [1, 2],
        "n_classes": 10,
    }
    assert parse_cnn("3:5:2")["kernel_size"] == [3]  # defaults: kernel 3, stride 1, pool 1


def test_verify_cnn_refuses_images_too_small_for_the_network():
    """verify_cnn raises check_image's ValueError (no second check of its own)."""
    from gspace.verify_cnn import check_image, verify_cnn

    with pytest.raises(ValueError, match="too small") as direct:
        check_image("1:4k3s2p2,4k3s2p2:2", 4)
    with pytest.raises(ValueError, match="too small") as via:
        verify_cnn("1:4k3s2p2,4k3s2p2:2", image=4)
    assert str(via.value) == str(direct.value)
