"""Teaching labs graded against gspace's own functions (``gspace lab``; :doc:`/teachers`).

A lab is one source, ``lab_NAME.py``: the student's functions, their solutions (calling
gspace) between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` lines, and gspace's imports and
the graded checks between ``# BEGIN HIDDEN`` and ``# END HIDDEN`` lines. The starter a student
gets is that source with every solution replaced by ``raise NotImplementedError("TODO")`` and
the hidden parts left out (:func:`to_starter`).
"""

from __future__ import annotations

import copy
import importlib
import importlib.resources
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LABS", "LabFailure", "Result", "get", "to_starter", "starter_text", "objectives"]
__all__ += ["write_starter", "grade"]

#: Lab name -> module of this package, in teaching order.
LABS = {name: f"lab_{name}" for name in ("scaling", "paths", "gsgd", "experiment")}


class LabFailure(AssertionError):
    """A graded check failed; the message says what was expected on which input."""


@dataclass(frozen=True)
class Result:
    """Outcome of one graded check: its name, whether it passed, and the message."""

    name: str
    passed: bool
    message: str = ""


def get(name: str):
    """The module of lab ``name``: the solution and its ``CHECKS``."""
    if name not in LABS:
        raise ValueError(f"unknown lab {name!r}; the labs are: {', '.join(LABS)}")
    return importlib.import_module(f"{__name__}.{LABS[name]}")


def to_starter(source: str) -> str:
    """A lab's ``source`` as the student gets it: solutions replaced, hidden parts left out.

    Raises
    ------
    ValueError
        A marker that is malformed, unpaired or nested, or a solution outside a function body.
    """
    out, block = [], None  # block: the open marker's (kind, indent)
    for n, line in enumerate(source.splitlines(keepends=True), 1):
        m = re.fullmatch(r"( *)# (BEGIN|END) (SOLUTION|HIDDEN)\n?", line)
        if m is None and re.search(r"(BEGIN|END)\s+(SOLUTION|HIDDEN)", line):
            raise ValueError(f"line {n}: malformed marker {line.strip()!r}")
        if m is None:
            out += [line] if block is None else []
            continue
        indent, edge, kind = m.groups()
        if edge == "BEGIN" and (block is not None or (kind == "SOLUTION") != bool(indent)):
            raise ValueError(
                f"line {n}: {line.strip()!r} is nested or misplaced (a solution goes inside "
                "a function body, a hidden part at the top level)"
            )
        if edge == "END" and block != (kind, indent):
            raise ValueError(f"line {n}: {line.strip()!r} closes no block")
        block = (kind, indent) if edge == "BEGIN" else None
        if (edge, kind) == ("END", "SOLUTION"):
            out.append(f'{indent}raise NotImplementedError("TODO")\n')
    if block is not None:
        raise ValueError(f"# BEGIN {block[0]} is never closed")
    return "".join(out)


def starter_text(name: str) -> str:
    """The starter of lab ``name``, written from its source by :func:`to_starter`."""
    get(name)
    source = importlib.resources.files(__name__) / f"{LABS[name]}.py"
    return to_starter(source.read_text(encoding="utf-8"))


def objectives(name: str) -> list[str]:
    """The learning objectives that lab ``name``'s docstring lists."""
    text = get(name).__doc__.split("Learning objectives:\n\n", 1)[1].split("\n\n")[0]
    return [" ".join(b.split()).rstrip(";.") for b in text[2:].split("\n* ")]


def write_starter(name: str, out_dir=".") -> Path:
    """Write the starter of lab ``name`` into ``out_dir``; FileExistsError rather than
    overwrite a file (a student's work)."""
    text, path = starter_text(name), Path(out_dir) / f"{LABS[name]}.py"
    if path.exists():
        raise FileExistsError(f"{path} exists; not overwriting it (choose another --out)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
    return path


def _load(path):
    """Import a student's file; its folder is importable meanwhile (lab 4 may import lab 3)."""
    path = Path(path).resolve()
    spec = importlib.util.spec_from_file_location(f"_gspace_lab_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def grade(name: str, target) -> list[Result]:
    """Run lab ``name``'s checks, in order, on ``target``: a path to a student's file, or
    ``"reference"`` (the lab's solution). A file that does not import is one failed Result.

    Raises
    ------
    ValueError
        Unknown lab.
    FileNotFoundError
        ``target`` is neither ``"reference"`` nor an existing file.
    """
    lab = student = get(name)
    if str(target) != "reference" and not Path(target).is_file():
        raise FileNotFoundError(f"no such file: {target}")
    if str(target) != "reference":
        try:
            student = _load(target)
        except Exception as err:  # noqa: BLE001 - any error in a student's file is reported
            line = traceback.extract_tb(err.__traceback__)[-1].lineno
            msg = f"the file does not import: {type(err).__name__}: {err} (line {line})"
            return [Result("import", False, msg)]
    results = []
    for check in lab.CHECKS:
        try:
            check(student, np.random.default_rng(12))
            results.append(Result(check.__doc__, True))
        except LabFailure as err:
            results.append(Result(check.__doc__, False, str(err)))
    return results


# ----------------------------------------------------------------------------- check helpers
def call(student, fname: str, *args, on: str = ""):
    """Call ``student.fname(*args)``; turn a missing function or an exception into a failure."""
    func = getattr(student, fname, None)
    if not callable(func):
        raise LabFailure(f"{fname} is missing: define a function named {fname}")
    try:
        return func(*args)
    except NotImplementedError:
        raise LabFailure(f"{fname} is not implemented yet (it still raises the TODO)") from None
    except Exception as err:  # noqa: BLE001 - a student's bug becomes a graded failure
        raise LabFailure(f"{fname}{on} raised {type(err).__name__}: {err}") from None


def same(student, solution, args, on, hint="", **tol):
    """Compare the student's function named like ``solution`` with it on ``args`` (the student
    gets copies); ``on`` says on which input, ``hint`` how to get it right."""
    expected, name = solution(*args), solution.__name__
    compare(
        call(student, name, *copy.deepcopy(args), on=on), expected, f"{name}(...)", on, hint, **tol
    )


def fmt(arrays) -> str:
    """Short text of a list of arrays, for failure messages."""
    text = (np.array2string(a, precision=3, threshold=12, edgeitems=2) for a in arrays)
    return "[" + ", ".join(t.replace("\n", "") for t in text) + "]"


def compare(got, expected, what, on, hint="", rtol=1e-8, atol=1e-10, mask=None):
    """Raise :class:`LabFailure` unless ``got`` matches ``expected`` (an array, or a list of
    arrays and of ``mask`` arrays: compared where True), naming the first entry that differs."""
    many, tail = isinstance(expected, list), f" {hint}" if hint else ""
    exp = expected if many else [expected]
    masks = mask if many and mask is not None else [mask] * len(exp)
    try:
        items = list(got) if many else [got]
    except TypeError:
        items = [got]
    if len(items) != len(exp):
        raise LabFailure(f"{what}{on}: expected {len(exp)} arrays, got {len(items)}.{tail}")
    for k, (g, e) in enumerate(zip(items, exp)):
        label, e = f"{what}[{k}]" if many else what, np.asarray(e, dtype=np.float64)
        try:
            g = np.asarray(g.toarray() if hasattr(g, "toarray") else g, dtype=np.float64)
        except (TypeError, ValueError):
            raise LabFailure(f"{label}{on}: expected an array, got {type(g).__name__}") from None
        if g.shape != e.shape:
            raise LabFailure(f"{label}{on}: expected shape {e.shape}, got {g.shape}.{tail}")
        bad = ~np.isclose(g, e, rtol=rtol, atol=atol) | (np.isnan(g) != np.isnan(e))
        if masks[k] is not None:
            bad &= masks[k]
        if np.any(bad):
            i = tuple(int(t) for t in np.argwhere(bad)[0])
            where = f"{label}[{', '.join(map(str, i))}]" if i else label
            raise LabFailure(
                f"{where}{on}: expected {e[i]:.6g}, got {g[i]:.6g} "
                f"({int(bad.sum())} of {bad.size} entries differ).{tail}"
            )


def networks(rng, n, width=(1, 5), min_hidden=1, equal=False):
    """``n`` random ``(widths, weights, " on widths [...]")``: 2 to 4 weight layers, |w| in
    [0.3, 1.5] with random signs (away from 0, for clear messages); with ``equal``, equal
    hidden widths every other network."""
    for k in range(n):
        widths = [int(h) for h in rng.integers(width[0], width[1] + 1, rng.integers(3, 6))]
        hidden = [widths[1]] * (len(widths) - 2) if equal and k % 2 == 0 else widths[1:-1]
        widths[1:-1] = [max(h, min_hidden) for h in hidden]
        shapes = list(zip(widths, widths[1:]))
        w = [rng.uniform(0.3, 1.5, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
        yield widths, w, f" on widths {widths}"


# ----------------------------------------------------------------------------- command line
def run_cli(args) -> int:
    """``gspace lab``: list the labs, write a starter, or grade a file (exit 0 iff all pass).
    A user error is one line on stderr and exit status 2, before any work."""
    if args.list:
        print("\n".join(f"{name:11s} {get(name).__doc__.splitlines()[0]}" for name in LABS))
        print("\ngspace lab NAME [--out DIR]        write the starter file")
        print("gspace lab NAME --check FILE       grade your file")
        print("gspace lab NAME --check reference  grade gspace itself")
        return 0
    out, check, error = Path(args.out or "."), args.check, None
    if args.name is None:
        error = "name a lab (gspace lab --list shows them)"
    elif check is not None and args.out is not None:
        error = "--out writes a starter and --check grades a file: give one of them"
    elif check not in (None, "reference") and not Path(check).is_file():
        error = f"no such file to grade: {check}"
    elif check is None and out.exists() and not out.is_dir():
        error = f"--out {args.out} is not a directory"
    elif check is None:
        try:
            path = write_starter(args.name, out)
        except OSError as err:
            error = f"cannot write the starter: {err}"
    if error:
        print(f"gspace lab: error: {error}", file=sys.stderr)
        return 2
    if check is None:
        print(f"wrote {path}\n\n{get(args.name).__doc__.splitlines()[0]}\nLearning objectives:")
        print("\n".join(f"  * {o}" for o in objectives(args.name)))
        print(f"\nWhen done: gspace lab {args.name} --check {path}")
        return 0
    results = grade(args.name, check)
    for r in results:
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.name}")
        if not r.passed:
            print(f"      {r.message}")
    n_ok = sum(r.passed for r in results)
    print(f"\n{n_ok} of {len(results)} checks passed")
    return 0 if n_ok == len(results) else 1
