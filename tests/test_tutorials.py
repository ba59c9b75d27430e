"""The tutorials: each one runs, draws its figures, and has the parts a course relies on.

Every tutorial in ``tutorials/`` is executed here at the small size
(``GSPACE_TUTORIAL_SMALL=1``) with matplotlib's Agg backend: in-process in the default run, and
as a plain ``python tutorials/NAME.py`` subprocess in the slow run. The docs build runs them
again at their default size (sphinx-gallery).
"""

from __future__ import annotations

import ast
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "tutorials").glob("tutorial_*.py"))

#: One tutorial per part of the paper, in its order (issue 6).
EXPECTED = [
    "tutorial_01_scaling_group.py",
    "tutorial_02_paths.py",
    "tutorial_03_structure_matrix.py",
    "tutorial_04_basis_paths.py",
    "tutorial_05_gsgd.py",
    "tutorial_06_experiments.py",
    "tutorial_07_cnns.py",
]

ids = [p.stem for p in TUTORIALS]


@pytest.mark.parametrize("path", TUTORIALS, ids=ids)
def test_tutorial_has_the_parts_a_course_needs(path):
    """Title, the paper section it accompanies, cells, figures, Summary, Exercises with hints."""
    text = path.read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(text))
    assert doc, "a tutorial starts with a docstring: its title and introduction"
    title, underline = doc.splitlines()[:2]
    assert re.fullmatch(r"\d\. .+", title) and set(underline) == {"="}, "numbered rst title"
    assert "**Read with:**" in doc, "the introduction names the paper section it accompanies"
    assert text.count("\n# %%\n") >= 4, "sphinx-gallery / jupytext cells (# %%)"
    for heading in ("Summary", "Exercises"):
        assert re.search(rf"^# {heading}\n# -+$", text, flags=re.M), f"no '{heading}' section"
    exercises = text[text.index("# Exercises") :]
    n_ex = len(re.findall(r"^# \d\. ", exercises, flags=re.M))
    assert n_ex >= 3, "at least three exercises"
    assert exercises.count("*Hint:*") >= n_ex, "every exercise has a hint"
    assert "plt.subplots" in text or "plt.figure" in text, "a tutorial shows figures"
    assert "default_rng(" in text and "np.random.seed" not in text, "explicit rng only"


@pytest.mark.parametrize("path", TUTORIALS, ids=ids)
def test_tutorial_runs_and_shows_its_figures(path, monkeypatch):
    """Runs at the small size under Agg, draws figures, and calls ``plt.show()`` once, after
    the last figure: run as a script with an interactive backend, every figure is shown."""
    monkeypatch.setenv("GSPACE_TUTORIAL_SMALL", "1")
    monkeypatch.syspath_prepend(str(ROOT))
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(list(plt.get_fignums())))
    plt.close("all")
    try:
        runpy.run_path(str(path), run_name="__main__")
        assert plt.get_fignums(), "the tutorial drew no figure"
        assert shown == [plt.get_fignums()], "plt.show() once, with every figure open"
    finally:
        plt.close("all")


#: Sphinx roles that sphinx-gallery leaves as raw text in the downloadable notebooks (it
#: converts only :math: and strips :ref: to a bare target name).
RAW_ROLES = re.compile(r":(doc|func|class|mod|meth|attr|ref|data|obj|exc):`")


@pytest.mark.parametrize("path", TUTORIALS, ids=ids)
def test_tutorial_text_works_in_a_notebook(path):
    """No Sphinx roles but :math:, links to docs pages (not to files outside the repository),
    and the paper's section names in the Read-with note."""
    text = path.read_text(encoding="utf-8")
    assert not RAW_ROLES.search(text), RAW_ROLES.search(text).group(0)
    assert "paper" + "-notes" not in text, "cite docs pages, not files outside the repository"
    doc = ast.get_docstring(ast.parse(text))
    read_with = doc[doc.index("**Read with:**") :].split("\n\n")[0]
    assert re.search(r'sections?\s+"[A-Z][\w -]+"', read_with), "the paper's section name(s)"
    assert re.search(r"`theory page\s+<\.\./theory\.html#", read_with), "link to the theory page"


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=ids)
def test_tutorial_runs_under_plain_python(path, tmp_path):
    """``python tutorials/NAME.py`` works as written, with RuntimeWarnings as errors."""
    env = dict(
        os.environ,
        GSPACE_TUTORIAL_SMALL="1",
        MPLBACKEND="Agg",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
