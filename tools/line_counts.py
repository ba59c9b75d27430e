"""Print the line counts of gspace: the core, the whole package, and the budget of issue 9.

Lines are physical lines of the ``.py`` files (code, docstrings, comments and blank lines),
as ``wc -l`` counts them. Run from the repository root::

    python tools/line_counts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "gspace"
BUDGET = {"core": 1500, "package": 7000}


def count(paths) -> int:
    return sum(len(p.read_text().splitlines()) for p in paths)


def main() -> int:
    core = sorted((ROOT / "core").glob("*.py"))
    everything = sorted(ROOT.rglob("*.py"))
    for p in core:
        print(f"  {p.relative_to(ROOT.parent)!s:34} {count([p]):5d}")
    totals = {"core": count(core), "package": count(everything)}
    ok = True
    for name, n in totals.items():
        status = "ok" if n <= BUDGET[name] else "OVER"
        ok &= n <= BUDGET[name]
        print(f"{name:8} {n:6d} lines (budget {BUDGET[name]}): {status}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
