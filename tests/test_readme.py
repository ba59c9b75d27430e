"""The README tells the truth: its Python example prints the output the README shows."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_quick_start_is_two_one_line_commands_in_one_sh_block():
    text = README.read_text()
    quick = text[text.index("## Quick start") :]
    block = re.search(r"```sh\n(.*?)```", quick, flags=re.S).group(1)
    lines = block.strip().splitlines()
    assert len(lines) == 2
    assert "gspace demo" in lines[0] and "pytest" in lines[1]


def test_readme_python_example_prints_what_the_readme_shows():
    (code,) = blocks("python")
    (shown,) = blocks("text")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    assert out.getvalue().strip() == shown.strip()


def test_every_name_the_readme_gives_is_reachable_from_import_gspace():
    """``gspace.plotting``, ``gspace.datasets.download``, ...: attributes after ``import gspace``
    alone (submodules load on first use)."""
    import gspace

    names = set(re.findall(r"`(gspace(?:\.[A-Za-z_]\w*)+)", README.read_text()))
    assert {"gspace.plotting", "gspace.testing", "gspace.MLP"} <= names
    for name in sorted(names):
        obj = gspace
        for part in name.split(".")[1:]:
            obj = getattr(obj, part)
