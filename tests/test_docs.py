"""The documentation site: it builds, and its mathematics renders offline in a real browser.

The slow test builds the site with Sphinx (warnings are errors) unless ``GSPACE_DOCS_HTML``
points to a finished build (CI builds the site once in ``.ci/run`` and sets it), then loads the
theory page in headless Debian chromium and checks that MathJax, served from the site itself,
typeset every formula. The fast tests check the claim table and the pages' links to tests
without building anything.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import gspace_docs  # noqa: E402

#: Every claim of the paper that gspace checks (the theory page: G1 ... A4).
CLAIMS = (
    "G1 G2 G3 G4 P1 S1 R1 R2 B1 B2 B3 B4 I1 I2 W1 W2 A1 A2 A3 A4 C1 C2 C3 C4".split()  # noqa: SIM905
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def claim_table_rows() -> dict[str, str]:
    """Claim ID -> its row text in docs/claim_table.rst.inc (a list-table)."""
    text = (DOCS / "claim_table.rst.inc").read_text(encoding="utf-8")
    rows = re.split(r"\n   \* - ", text)[1:]
    out = {}
    for row in rows:
        m = re.match(r"\*\*([A-Z]\d)\*\*", row.strip())
        if m:
            out[m.group(1)] = row
    return out


def test_claim_table_lists_every_claim_once_with_function_and_tests():
    rows = claim_table_rows()
    assert sorted(rows) == sorted(CLAIMS), "the theory table must list exactly G1 ... A4, C1 ... C4"
    for claim, row in rows.items():
        assert re.search(r":(func|class|meth):`", row), f"{claim}: no link to a function"
        assert f":claim-tests:`{claim}`" in row, f"{claim}: no link to its tests"


def test_every_claim_has_a_test_named_after_it():
    """The theory table's test links exist: every claim ID names at least one test."""
    tests = gspace_docs.collect_tests(ROOT / "tests")
    missing = [c for c in CLAIMS if not gspace_docs.tests_for_claim(c, tests)]
    assert not missing, f"no test named after claims {missing}"


def test_claim_pattern_matches_claim_ids_as_words():
    pat = gspace_docs.claim_pattern("R1")
    for name in ("test_R1", "test_R1_rank", "test_claim_R1", "TestRank.test_R1_x"):
        assert pat.search(name), name
    for name in ("test_R10", "test_XR1", "test_rank", "test_r1_lower"):
        assert not pat.search(name), name


def test_collect_tests_finds_functions_methods_and_decorators(tmp_path):
    (tmp_path / "test_a.py").write_text(
        "import pytest\n\n\n@pytest.mark.slow\n@pytest.mark.parametrize('x', [1])\n"
        "def test_G1_group(x):\n    assert x\n\n\nclass TestB:\n"
        "    def test_B2_one(self):\n        pass\n\n\ndef helper():\n    pass\n"
    )
    found = gspace_docs.collect_tests(tmp_path)["test_a.py"]
    assert [t.qualname for t in found] == ["test_G1_group", "TestB.test_B2_one"]
    assert (found[0].start, found[0].end) == (4, 7)  # decorators included
    assert gspace_docs.tests_for_claim("B2", {"test_a.py": found}) == [found[1]]


def _find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _require(what: str, available: bool, hint: str) -> None:
    """Skip when a tool is missing locally; in CI (CI=true) a missing tool is a failure."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required in CI: {hint}")
    pytest.skip(f"{what} is not installed ({hint})")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built HTML site: ``$GSPACE_DOCS_HTML`` if set, otherwise a fresh build."""
    given = os.environ.get("GSPACE_DOCS_HTML")
    if given:
        out = Path(given)
        assert (out / "theory.html").is_file(), f"GSPACE_DOCS_HTML={given} holds no theory.html"
        return out
    try:
        import numpydoc  # noqa: F401
        import sphinx  # noqa: F401
        import sphinx_gallery  # noqa: F401
    except ImportError:
        _require("the docs extra", False, "pip install '.[docs]'")
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, GSPACE_DOCS_NO_GALLERY="1", MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + ["-d", str(out / ".doctrees"), "docs", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"sphinx build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    exe = _find_chromium()
    _require("chromium", exe is not None, "apt-get install -y chromium")
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_theory_page_math_is_typeset_offline_in_chromium(site, tmp_path):
    """MathJax comes from the site's own _static folder and typesets every formula."""
    html = (site / "theory.html").read_text(encoding="utf-8")
    # 1. Nothing is loaded from the network: every script and stylesheet is a local file.
    for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        assert not re.match(r"(https?:)?//", src), f"theory.html loads {src} from the network"
    mathjax = re.search(r'<script[^>]+src="([^"?]*mathjax[^"?]*)', html)
    assert mathjax, "theory.html does not load MathJax"
    assert (site / mathjax.group(1)).is_file(), f"{mathjax.group(1)} is not in the site"
    n_math = html.count('class="math notranslate nohighlight"')
    assert n_math > 50, "the theory page should be full of mathematics"

    # 2. In chromium, after MathJax ran, every formula is an mjx-container and no raw TeX
    #    delimiter is left in the text.
    url = (site / "theory.html").as_uri()
    proc = _chromium(["--virtual-time-budget=20000", "--dump-dom", url], tmp_path)
    dom = proc.stdout
    assert "<body" in dom, f"chromium printed no DOM: {proc.stderr[-2000:]}"
    n_typeset = len(re.findall(r"<mjx-container\b", dom))
    assert n_typeset >= n_math, f"only {n_typeset} of {n_math} formulas were typeset"
    text = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
    assert "\\(" not in text and "\\[" not in text, "raw TeX delimiters left on the page"
    assert "<mjx-merror" not in dom, "MathJax reported a TeX error"

    # 3. A screenshot of the page (kept for a person to look at when GSPACE_SCREENSHOT is set).
    shot = Path(os.environ.get("GSPACE_SCREENSHOT", tmp_path / "theory.png"))
    proc = _chromium(
        ["--virtual-time-budget=20000", "--window-size=1280,2400", f"--screenshot={shot}", url],
        tmp_path,
    )
    assert shot.is_file() and shot.stat().st_size > 50_000, proc.stderr[-2000:]


@pytest.mark.slow
def test_claim_table_links_resolve_in_the_built_site(site):
    """Every row of the claim table links to an API entry and to a test's source."""
    html = (site / "theory.html").read_text(encoding="utf-8")
    table = html[html.index('id="claims-functions-and-tests"') :]
    for claim in CLAIMS:
        row = re.search(rf"<strong>{claim}</strong>.*?</tr>", table, flags=re.S)
        assert row, f"{claim} missing from the table"
        links = re.findall(r'href="([^"]+)"', row.group(0))
        api = [h for h in links if h.startswith("_generated/api/")]
        tests = [h for h in links if h.startswith("_generated/tests/")]
        assert api and tests, f"{claim}: links {links}"
        for href in api + tests:
            page, _, anchor = href.partition("#")
            target = (site / page).read_text(encoding="utf-8")
            assert f'id="{anchor}"' in target, f"{claim}: {href} does not resolve"


@pytest.mark.slow
def test_tutorial_notebooks_have_no_raw_sphinx_markup(site):
    """The downloadable notebooks: one per tutorial, no Sphinx role left as literal text (the
    reader of a notebook has no Sphinx), no reference to files outside the repository."""
    notebooks = sorted(site.glob("_downloads/*/tutorial_*.ipynb"))
    assert len(notebooks) == len(list((ROOT / "tutorials").glob("tutorial_*.py")))
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        for raw in (":doc:`", ":func:`", ":class:`", ":mod:`", ":math:`", ":meth:`", ":ref:`"):
            assert raw not in text, f"{path.name} contains {raw}"
        assert NOTES not in text, path.name


#: The mathematics notes the project started from are not in the repository: cite the docs
#: pages and the paper's sections instead (spelled in two pieces so this file does not match).
NOTES = "paper" + "-notes"


def test_no_source_cites_notes_outside_the_repository():
    """No module, test, tutorial or docs source mentions the notes file, so no built page
    (API pages, test pages, tutorials) sends a reader to a file they cannot open."""
    skip = {"_build", "_generated", "auto_tutorials", "gen_modules", "__pycache__"}
    roots = [ROOT / d for d in ("gspace", "tests", "docs", "tutorials", "benchmarks", "tools")]
    files = [ROOT / "README.md"] + [
        p
        for r in roots
        if r.is_dir()
        for p in r.rglob("*")
        if p.suffix in {".py", ".rst", ".inc", ".md", ".txt"} and not skip & set(p.parts)
    ]
    bad = [str(p.relative_to(ROOT)) for p in files if NOTES in p.read_text(encoding="utf-8")]
    assert not bad, f"{NOTES} cited in {bad}"
