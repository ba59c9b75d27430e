"""Teaching labs: starter files with TODOs, graded against gspace's own functions.

Each lab is a module of this package with a title, learning objectives, the reference
functions (thin adapters onto gspace: where the solution lives) and the graded checks, plus a
starter file in ``starters/`` that states in docstrings what to implement. The checks call
the student's functions on drawn inputs and compare with the reference; a failure says which
function, on which input, what was expected and what came back. ``gspace lab`` is the command
line (``run_cli``); the teachers page of the docs has a one-hour plan per lab.

Examples
--------
>>> from gspace import labs
>>> list(labs.LABS)
['scaling', 'paths', 'gsgd', 'experiment']
>>> all(r.passed for r in labs.grade("paths", "reference"))
True
"""

from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LABS", "LabFailure", "Result", "get", "starter_text", "objectives", "write_starter"]
__all__ += ["grade"]

#: Lab name -> module of this package, in teaching order.
LABS = {
    "scaling": "lab_scaling",
    "paths": "lab_paths",
    "gsgd": "lab_gsgd",
    "experiment": "lab_experiment",
}


class LabFailure(AssertionError):
    """A graded check failed; the message says what was expected on which input."""


@dataclass(frozen=True)
class Result:
    """Outcome of one graded check: its name, whether it passed, and the message."""

    name: str
    passed: bool
    message: str = ""


def get(name: str) -> types.ModuleType:
    """The module of lab ``name`` (``TITLE``, ``REFERENCE``, ``CHECKS``)."""
    if name not in LABS:
        raise ValueError(f"unknown lab {name!r}; the labs are: {', '.join(LABS)}")
    return importlib.import_module(f"{__name__}.{LABS[name]}")


def starter_text(name: str) -> str:
    """The text of lab ``name``'s starter file (shipped as package data)."""
    get(name)
    return (importlib.resources.files(__name__) / "starters" / f"{LABS[name]}.py").read_text(
        encoding="utf-8"
    )


def objectives(name: str) -> list[str]:
    """The learning objectives of lab ``name``, as its starter file states them.

    Examples
    --------
    >>> objectives("paths")[0]
    'list the paths of a layered network and compute their values v_p(w)'
    """
    text = starter_text(name).split("Learning objectives\n-------------------\n", 1)[1]
    return [" ".join(b.split()).rstrip(";.") for b in text.split("\n\n")[0][2:].split("\n* ")]


def write_starter(name: str, out_dir=".") -> Path:
    """Write the starter of lab ``name`` into ``out_dir``; never overwrite a file.

    Raises
    ------
    FileExistsError
        If the file is already there (a student's work is never overwritten).
    """
    text = starter_text(name)
    path = Path(out_dir) / f"{LABS[name]}.py"
    if path.exists():
        raise FileExistsError(f"{path} exists; not overwriting it (choose another --out)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
    return path


def _load(path) -> types.ModuleType:
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
    """Run lab ``name``'s checks on ``target``: a path to a student's file, or ``"reference"``.

    Returns
    -------
    list of Result
        One per check, in order. A file that cannot be imported gives one failed Result.

    Raises
    ------
    ValueError
        Unknown lab.
    FileNotFoundError
        ``target`` is neither ``"reference"`` nor an existing file.
    """
    lab = get(name)
    if str(target) == "reference":
        student = types.SimpleNamespace(**lab.REFERENCE)
    else:
        if not Path(target).is_file():
            raise FileNotFoundError(f"no such file: {target}")
        try:
            student = _load(target)
        except Exception as err:  # noqa: BLE001 - any error in a student's file is reported
            where = traceback.extract_tb(err.__traceback__)[-1]
            msg = f"{type(err).__name__}: {err} (line {where.lineno})"
            return [Result("import", False, f"the file does not import: {msg}")]
    results = []
    for check in lab.CHECKS:
        title = check.__doc__.strip().splitlines()[0]
        try:
            check(student, np.random.default_rng(12))
            results.append(Result(title, True))
        except LabFailure as err:
            results.append(Result(title, False, str(err)))
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


def fmt(x) -> str:
    """Short text of an input for failure messages (arrays rounded, at most a few lines)."""
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], np.ndarray):
        return "[" + ", ".join(fmt(a) for a in x) + "]"
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=3, threshold=12, edgeitems=2).replace("\n", "")
    return repr(x)


def compare(got, expected, what, on, hint="", rtol=1e-8, atol=1e-10, mask=None):
    """Raise :class:`LabFailure` unless ``got`` matches ``expected`` (an array or a list of
    arrays; only where ``mask`` is True if given), naming the first entry that differs and
    the input ``on``."""
    exp = expected if isinstance(expected, list) else [expected]
    items = got if isinstance(expected, list) else [got]
    tail = f" {hint}" if hint else ""
    try:
        items = list(items)
    except TypeError:
        items = [items]
    if len(items) != len(exp):
        raise LabFailure(f"{what}{on}: expected {len(exp)} arrays, got {len(items)}.{tail}")
    for k, (g, e) in enumerate(zip(items, exp)):
        label = f"{what}[{k}]" if isinstance(expected, list) else what
        e = np.asarray(e, dtype=np.float64)
        g = g.toarray() if hasattr(g, "toarray") else g
        try:
            g = np.asarray(g, dtype=np.float64)
        except (TypeError, ValueError):
            raise LabFailure(f"{label}{on}: expected an array, got {type(g).__name__}") from None
        if g.shape != e.shape:
            raise LabFailure(f"{label}{on}: expected shape {e.shape}, got {g.shape}.{tail}")
        bad = ~np.isclose(g, e, rtol=rtol, atol=atol) | (np.isnan(g) != np.isnan(e))
        if mask is not None:
            bad &= mask[k] if isinstance(expected, list) else mask
        if np.any(bad):
            i = tuple(int(t) for t in np.argwhere(bad)[0])
            where = f"{label}[{', '.join(map(str, i))}]" if i else label
            raise LabFailure(
                f"{where}{on}: expected {e[i]:.6g}, got {g[i]:.6g} "
                f"({int(bad.sum())} of {bad.size} entries differ).{tail}"
            )


def copies(arrays) -> list[np.ndarray]:
    """Copies of a list of arrays (a student's function may modify what it is given)."""
    return [a.copy() for a in arrays]


def draw_widths(rng, depth=(2, 4), width=(1, 5)) -> list[int]:
    """Random layer widths: ``depth`` weight layers, each width in ``width`` (inclusive)."""
    L = int(rng.integers(depth[0], depth[1] + 1))
    return [int(h) for h in rng.integers(width[0], width[1] + 1, size=L + 1)]


def draw_weights(widths, rng) -> list[np.ndarray]:
    """Weights with |w| in [0.3, 1.5] and random signs (away from 0, for clear messages)."""
    return [
        rng.uniform(0.3, 1.5, (a, b)) * rng.choice([-1.0, 1.0], (a, b))
        for a, b in zip(widths[:-1], widths[1:])
    ]


# ----------------------------------------------------------------------------- command line
def run_cli(args) -> int:
    """``gspace lab``: list the labs, write a starter, or grade a file (exit 0 iff all pass).

    User errors (no lab named, a file to grade that does not exist, a starter that would
    overwrite a file) print one line on stderr and return 2 before any work.
    """
    if args.list:
        for name in LABS:
            print(f"{name:11s} {get(name).TITLE}")
        print("\ngspace lab NAME [--out DIR]        write the starter file")
        print("gspace lab NAME --check FILE       grade your file")
        print("gspace lab NAME --check reference  grade gspace itself")
        return 0
    error, out = None, Path(args.out or ".")
    if args.name is None:
        error = "name a lab (gspace lab --list shows them)"
    elif args.check is not None and args.out is not None:
        error = "--out writes a starter and --check grades a file: give one of them"
    elif args.check is not None and args.check != "reference" and not Path(args.check).is_file():
        error = f"no such file to grade: {args.check}"
    elif args.check is None and out.exists() and not out.is_dir():
        error = f"--out {args.out} is not a directory"
    elif args.check is None and (out / f"{LABS[args.name]}.py").exists():
        error = f"{out / (LABS[args.name] + '.py')} exists; not overwriting it"
    if error:
        print(f"gspace lab: error: {error}", file=sys.stderr)
        return 2
    lab = get(args.name)
    if args.check is None:
        try:
            path = write_starter(args.name, out)
        except OSError as err:
            print(f"gspace lab: error: cannot write the starter: {err}", file=sys.stderr)
            return 2
        print(f"wrote {path}\n\n{lab.TITLE}\nLearning objectives:")
        print("\n".join(f"  * {o}" for o in objectives(args.name)))
        print(f"\nWhen done: gspace lab {args.name} --check {path}")
        return 0
    results = grade(args.name, args.check)
    for r in results:
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.name}")
        if not r.passed:
            print("      " + r.message)
    n_ok = sum(r.passed for r in results)
    print(f"\n{n_ok} of {len(results)} checks passed")
    return 0 if n_ok == len(results) else 1
