"""The shape of the package: the core imports only downward in the paper's order, there is no
import cycle anywhere in gspace, and no private name is imported across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import gspace

ROOT = Path(gspace.__file__).resolve().parent
CORE_ORDER = ["network", "scaling", "paths", "basis", "gsgd", "optim", "sufficiency"]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, me: str | None = None):
    """``(imported module, imported names)`` of every import in the file, function-level
    imports included, relative imports resolved (``me``: the file's module name)."""
    me = me or _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [a.name for a in node.names]
            yield base, names
            for n in names:  # "from . import x" imports the module x
                yield f"{base}.{n}", []


def _graph() -> nx.DiGraph:
    files = sorted(ROOT.rglob("*.py"))
    modules = {_module_name(p) for p in files}
    G = nx.DiGraph()
    for p in files:
        me = _module_name(p)
        G.add_node(me)
        for target, names in _imports(p):
            if names and all(f"{target}.{n}" in modules for n in names):
                continue  # "from package import submodule": an edge to the submodule only
            if target in modules and target != me:
                G.add_edge(me, target)
    return G


def _core_violations(path: Path, name: str, me: str | None = None) -> list[str]:
    """Imports of core module ``name`` that are not above it in the reading order."""
    k, out = CORE_ORDER.index(name), set()
    for target, _ in _imports(path, me):
        parts = target.split(".")
        if parts[0] != "gspace" or target in ("gspace", "gspace.core", "gspace.validation"):
            continue  # third-party, or a package whose submodule is listed separately
        if parts[1] != "core":
            out.add(".".join(parts[:2]))
        elif parts[2] not in CORE_ORDER[:k]:
            out.add(".".join(parts[:3]))
    return sorted(out)


def _private_imports(path: Path, me: str | None = None) -> list[str]:
    return [
        f"{target}.{n}"
        for target, names in _imports(path, me)
        if target.startswith("gspace")
        for n in names
        if n.startswith("_") and n != "__version__"
    ]


def test_core_imports_only_downward_in_the_papers_order():
    """Each core module imports only modules above it in the reading order (and the input
    checks of gspace.validation), never the tooling around the core."""
    for name in CORE_ORDER:
        assert _core_violations(ROOT / "core" / f"{name}.py", name) == [], name


def test_validation_depends_on_no_other_gspace_module():
    for target, _ in _imports(ROOT / "validation.py"):
        assert not target.startswith("gspace"), target


def test_no_import_cycles_in_the_package():
    G = _graph()
    assert G.has_edge("gspace", "gspace.train") and G.has_edge("gspace.fast", "gspace.core.optim")
    cycles = list(nx.simple_cycles(G))
    assert cycles == [], f"import cycles: {cycles}"


def test_no_private_name_is_imported_across_modules():
    for path in ROOT.rglob("*.py"):
        assert _private_imports(path) == [], _module_name(path)


def test_the_import_rules_can_fail(tmp_path):
    """Negative control: an upward import (gsgd from paths), tooling imported by the core and
    a private name are all reported."""
    bad = tmp_path / "paths.py"
    bad.write_text("from .gsgd import _skel\nfrom .. import fast\nimport numpy\n")
    me = "gspace.core.paths"
    assert _core_violations(bad, "paths", me) == ["gspace.core.gsgd", "gspace.fast"]
    assert _private_imports(bad, me) == ["gspace.core.gsgd._skel"]


def test_no_core_function_runs_over_40_lines():
    """Issue 9: every function of gspace.core, docstring included, fits in 40 lines."""
    long = []
    for path in sorted((ROOT / "core").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 40:
                long.append(f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1})")
    assert long == []
