"""The teaching labs (gspace.labs, ``gspace lab``): the reference passes every check, the
untouched starter fails every check, an independent NumPy solution passes, a planted mistake
fails with a message that names the function, the input and the expected value; the starter is
the lab's source with its marked parts replaced or left out, and bad markers are refused."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gspace import cli, labs

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = Path(__file__).resolve().parent / "lab_solutions"


@pytest.mark.parametrize("name", list(labs.LABS))
def test_reference_passes_and_untouched_starter_fails(name, tmp_path):
    ref = labs.grade(name, "reference")
    assert ref and all(r.passed for r in ref), [r for r in ref if not r.passed]
    starter = labs.write_starter(name, tmp_path)
    results = labs.grade(name, starter)
    assert len(results) == len(ref) and not any(r.passed for r in results)
    assert all("TODO" in r.message for r in results)


@pytest.mark.parametrize("name", list(labs.LABS))
def test_objectives_are_the_starters_bullets(name):
    """``gspace lab NAME`` prints the objectives its starter states (written once)."""
    objectives = labs.objectives(name)
    assert len(objectives) >= 3 and all(o and "\n" not in o for o in objectives)
    assert all(o.split()[0] in labs.starter_text(name) for o in objectives)
    if name == "paths":
        assert (
            objectives[0] == "list the paths of a layered network and compute their values v_p(w)"
        )


def _functions(tree):
    return {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}


@pytest.mark.parametrize("name", list(labs.LABS))
def test_starter_is_the_source_without_its_marked_parts(name):
    """Every line of the starter is a line of the lab's source, in order, except the raises
    that replace the solutions; the starter has the student's functions, exactly the graded
    ones raising the TODO, and none of the checks, gspace internals or markers."""
    source = (ROOT / "gspace" / "labs" / f"{labs.LABS[name]}.py").read_text()
    starter, todo = labs.starter_text(name), 'raise NotImplementedError("TODO")'
    rest = iter(source.splitlines())
    for line in starter.splitlines():
        if line.strip() and line.strip() != todo:
            assert line in rest, f"not in the source, or out of order: {line!r}"
    for word in ("SOLUTION", "HIDDEN", "from .", "check_", "gspace.core", "LabFailure"):
        assert word not in starter
    mine = _functions(ast.parse(starter))
    assert set(mine) == {
        n for n in _functions(ast.parse(source)) if not n.startswith(("check", "_"))
    }
    stubs = {n for n, f in mine.items() if ast.unparse(f.body[-1]) == todo.replace('"', "'")}
    graded = re.findall(r'call\(student, "(\w+)"|same\(\s*student,\s*(\w+),', source)
    assert stubs and stubs == {a or b for a, b in graded} and todo not in source


@pytest.mark.parametrize(
    "text",
    [
        "def f():\n    # BEGIN SOLUTION\n    return 1\n",  # never closed
        "def f():\n    return 1\n    # END SOLUTION\n",  # closes nothing
        "# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n",  # a solution outside a function
        "def f():\n    # BEGIN HIDDEN\n    x = 1\n    # END HIDDEN\n",  # hidden inside one
        "# BEGIN HIDDEN\n# BEGIN HIDDEN\n# END HIDDEN\n# END HIDDEN\n",  # nested
        "def f():\n    # BEGIN SOLUTION\n    x = 1\n# END HIDDEN\n",  # closes another block
        "def f():\n    #BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",  # malformed
        "x = 1  # SOLUTION\n",  # a one-line solution outside a function
        "# BEGIN HIDDEN\ndef f():\n    return 1  # SOLUTION\n# END HIDDEN\n",  # inside hidden
        "def f():\n    return 1  # HIDDEN\n",  # a one-line hidden part inside a function
        "# BEGIN HIDDEN\nimport gspace  # HIDDEN\n# END HIDDEN\n",  # inside a hidden block
    ],
)
def test_bad_markers_are_refused(text):
    with pytest.raises(ValueError, match="line|never closed"):
        labs.to_starter(text)


def test_to_starter_on_a_small_source():
    source = (
        '"""Doc."""\n\nimport numpy as np\n\nimport gspace  # HIDDEN\n\n'
        "# BEGIN HIDDEN\nimport gspace.core\n# END HIDDEN\n\n\n"
        "def f(x):\n"
        '    """Twice x."""\n'
        "    # TODO: a hint\n"
        "    return 2 * x  # SOLUTION\n\n\n"
        "def g(x):\n"
        "    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n\n\n"
        "# BEGIN HIDDEN\ndef check_f(student, rng):\n    pass\n# END HIDDEN\n"
    )
    todo = '    raise NotImplementedError("TODO")\n'
    assert labs.to_starter(source) == (
        '"""Doc."""\n\nimport numpy as np\n\n\n'
        f'def f(x):\n    """Twice x."""\n    # TODO: a hint\n{todo}\n\n'
        f"def g(x):\n{todo}"
    )


@pytest.mark.parametrize("name", ["scaling", "paths", "gsgd"])
def test_independent_numpy_solution_passes(name):
    """The starters' docstrings are enough: a NumPy-only solution written from them passes."""
    results = labs.grade(name, SOLUTIONS / f"solution_{name}.py")
    assert all(r.passed for r in results), [r for r in results if not r.passed]


@pytest.mark.parametrize(
    "name, old, new, failing, words",
    [
        # The out-weights multiplied instead of divided by c.
        ("scaling", "out[layer][node, :] /= c", "out[layer][node, :] *= c", "scale_node",
         ["scale_node(...)", "layer=", "c=", "expected", "out-weights the row"]),
        # The input modified in place.
        ("scaling", "out = [w.copy() for w in weights]\n    out[layer - 1]",
         "out = weights\n    out[layer - 1]", "scale_node", ["modified its input"]),
        # Activation status >= 0 instead of > 0 cannot be seen; a missing ReLU can.
        ("paths", "a = np.maximum(z[-1], 0)", "a = z[-1]", "network_from_paths",
         ["network_from_paths", "widths", "expected", "pre-activation > 0"]),
        ("paths", "- sum(widths[1:-1])", "- len(widths[1:-1])", "expected_rank",
         ["rank of the structure matrix", "count the weights m and the hidden nodes H"]),
        # Inverse-Chain-Rule without the correction of the pi-edges.
        ("gsgd", "(F[l - 1][a, b] - D[l][b])", "(F[l - 1][a, b])", "inverse_chain_rule",
         ["dl/dv", "widths", "expected", "D(b)"]),
    ],
)  # fmt: skip
def test_a_planted_mistake_fails_with_a_teaching_message(name, old, new, failing, words, tmp_path):
    text = (SOLUTIONS / f"solution_{name}.py").read_text()
    assert old in text
    path = tmp_path / f"lab_{name}.py"
    path.write_text(text.replace(old, new))
    failed = [r for r in labs.grade(name, path) if not r.passed]
    assert failed and failing in failed[0].name
    for word in words:
        assert word in failed[0].message, failed[0].message


def test_graded_functions_get_copies_of_their_inputs(tmp_path):
    """A forward that overwrites its input X after use (right values, bad manners) cannot
    change what the next call is given: G2's check calls it twice on the same X, and passes."""
    text = (SOLUTIONS / "solution_scaling.py").read_text()
    old = "            a = np.maximum(a, 0.0)\n    return a\n"
    assert old in text
    path = tmp_path / "lab_scaling.py"
    path.write_text(text.replace(old, old.replace("    return a", "    X[:] = 0\n    return a")))
    results = labs.grade("scaling", path)
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_a_result_that_is_not_an_array_is_a_failure_not_a_crash(tmp_path):
    """G1 and G2 compare two of the student's results: a forward returning a string fails that
    check too, with a message (it used to stop the grading with a ValueError)."""
    text = (SOLUTIONS / "solution_scaling.py").read_text()
    assert text.count("    return a\n") == 1
    path = tmp_path / "lab_scaling.py"
    path.write_text(text.replace("    return a\n", "    return 'x'\n"))
    failed = {r.name.split()[0]: r.message for r in labs.grade("scaling", path) if not r.passed}
    assert set(failed) == {"forward", "G1"}
    assert failed["G1"].startswith("G2: forward(apply_scaling(w, c), X) vs forward(w, X) on ")
    assert failed["G1"].endswith(": expected an array, got str")


@pytest.mark.parametrize(
    "text, words",
    [
        ("import numpy as np\n\n\ndef forward(:\n", ["SyntaxError", "(line 4)"]),
        # the error is raised inside the standard library; the line is the student's
        ("import json\n\njson.loads('{')\n", ["JSONDecodeError", "(line 3)"]),
    ],
)
def test_a_file_that_does_not_import_is_one_failure(text, words, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text(text)
    (result,) = labs.grade("scaling", path)
    assert not result.passed and result.name == "import"
    assert result.message.startswith("the file does not import: ")
    assert all(word in result.message for word in words), result.message


def test_a_lab_file_may_import_its_neighbours(tmp_path):
    """Lab 4 may reuse lab 3: the graded file's folder is importable while it loads."""
    (tmp_path / "my_gsgd.py").write_text((SOLUTIONS / "solution_gsgd.py").read_text())
    path = tmp_path / "lab_experiment.py"
    path.write_text("from my_gsgd import gsgd_step\n" + labs.starter_text("experiment"))
    assert all("TODO" in r.message for r in labs.grade("experiment", path))


def test_experiment_conclusion_is_graded(tmp_path):
    text = labs.starter_text("experiment")
    path = tmp_path / "lab_experiment.py"
    path.write_text(text.replace('CONCLUSION = "TODO"', 'CONCLUSION = "G-SGD wins."'))
    (conclusion,) = [r for r in labs.grade("experiment", path) if "CONCLUSION" in r.name]
    assert not conclusion.passed and "at least 50" in conclusion.message


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list_write_check(tmp_path, capsys):
    code, out, _ = run(["lab", "--list"], capsys)
    assert code == 0 and all(name in out for name in labs.LABS)
    code, out, _ = run(["lab", "paths", "--out", str(tmp_path)], capsys)
    starter = tmp_path / "lab_paths.py"
    assert code == 0 and starter.read_text() == labs.starter_text("paths")
    assert "Learning objectives" in out
    code, out, _ = run(["lab", "paths", "--check", str(starter)], capsys)
    assert code == 1 and "FAIL" in out and "0 of 5 checks passed" in out
    code, out, _ = run(["lab", "paths", "--check", str(SOLUTIONS / "solution_paths.py")], capsys)
    assert code == 0 and "5 of 5 checks passed" in out
    code, out, _ = run(["lab", "paths", "--check", "reference"], capsys)
    assert code == 0 and "FAIL" not in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["lab"], "name a lab"),
        (["lab", "paths", "--check", "no-such-file.py"], "no such file"),
        (["lab", "paths", "--check", "reference", "--out", "x"], "give one of them"),
        (["lab", "paths", "--out", __file__], "is not a directory"),
    ],
)
def test_cli_user_errors_one_line_exit_2(argv, words, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1 and not out


def test_cli_writes_into_the_current_folder_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["lab", "experiment"], capsys)
    assert code == 0 and (tmp_path / "lab_experiment.py").is_file()


def test_cli_never_overwrites_a_file(tmp_path, capsys):
    path = tmp_path / "lab_scaling.py"
    path.write_text("my work")
    code, out, err = run(["lab", "scaling", "--out", str(tmp_path)], capsys)
    assert code == 2 and "exists" in err and len(err.strip().splitlines()) == 1
    assert path.read_text() == "my work"


@pytest.mark.slow
def test_lab_works_from_a_fresh_non_editable_install(tmp_path):
    """Build a wheel, install it (no editable link to the sources) and run ``gspace lab`` from
    another directory: the starters are written from the installed lab sources, every reference
    passes and every untouched starter fails."""
    wheel_dir, target, work = tmp_path / "wheel", tmp_path / "site", tmp_path / "work"
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the repository
    shutil.copytree(ROOT / "gspace", src / "gspace", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    work.mkdir()
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    build = ["wheel", "--no-deps", "-w", str(wheel_dir), str(src)]  # isolated, as pip install .
    proc = subprocess.run(pip + build, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = wheel_dir.glob("gspace-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"gspace/labs/{m}.py" for m in labs.LABS.values()} <= set(names)
    install = ["install", "--no-deps", "--target", str(target), str(wheel)]
    subprocess.run(pip + install, check=True, capture_output=True)
    env = dict(os.environ, PYTHONPATH=str(target), MPLBACKEND="Agg")

    def gspace(*args):
        cmd = [sys.executable, "-m", "gspace", "lab", *args]
        return subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)

    where = subprocess.run(
        [sys.executable, "-c", "import gspace; print(gspace.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(target)), where
    for name in labs.LABS:
        assert gspace(name).returncode == 0
        assert gspace(name, "--check", f"{labs.LABS[name]}.py").returncode == 1
        proc = gspace(name, "--check", "reference")
        assert proc.returncode == 0, proc.stdout + proc.stderr
