"""Teaching labs graded against gspace's own functions (``gspace lab``; :doc:`/teachers`)."""

import contextlib
import copy
import importlib
import re
import runpy
import sys
import traceback
import types
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


def get(name: str) -> types.ModuleType:
    """The module of lab ``name``: the solution and its checks."""
    if name not in LABS:
        raise ValueError(f"unknown lab {name!r}; the labs are: {', '.join(LABS)}")
    return importlib.import_module(f"{__name__}.{LABS[name]}")


def to_starter(source: str) -> str:
    """A lab's ``source`` as the student gets it, solutions replaced and hidden parts left out;
    ValueError for a malformed, unpaired, nested or misplaced marker."""
    out, block = [], None  # the open block: (kind, indentation)
    for n, line in enumerate(source.splitlines(keepends=True), 1):
        mark = re.fullmatch(r"( *)# (BEGIN|END) (SOLUTION|HIDDEN)\n?", line)
        one = re.fullmatch(r"( *)\S.*  # (SOLUTION|HIDDEN)\n?", line)
        if block is None and one and (one[2] == "SOLUTION") == bool(one[1]):
            out += [f'{one[1]}raise NotImplementedError("TODO")\n'] if one[1] else []
        elif mark is None and re.search(r"\b(SOLUTION|HIDDEN)\b", line):
            raise ValueError(f"line {n}: malformed or misplaced marker {line.strip()!r}")
        elif mark is None:
            out += [line] if block is None else []
        else:
            indent, edge, kind = mark.groups()
            opens = edge == "BEGIN" and block is None and (kind == "SOLUTION") == bool(indent)
            if not opens and (edge == "BEGIN" or block != (kind, indent)):
                raise ValueError(f"line {n}: {line.strip()!r} is nested, unpaired or misplaced")
            block = (kind, indent) if opens else None
            if (edge, kind) == ("END", "SOLUTION"):
                out.append(f'{indent}raise NotImplementedError("TODO")\n')
    if block is not None:
        raise ValueError(f"# BEGIN {block[0]} is never closed")
    return re.sub(r"\n{4,}", "\n\n\n", "".join(out)).rstrip() + "\n"


def starter_text(name: str) -> str:
    """The starter of lab ``name``: its source through :func:`to_starter`."""
    return to_starter(Path(get(name).__file__).read_text(encoding="utf-8"))


def objectives(name: str) -> list[str]:
    """The learning objectives that lab ``name``'s docstring lists."""
    text = get(name).__doc__.split("Learning objectives:\n\n", 1)[1].split("\n\n")[0]
    return [" ".join(b.split()).rstrip(";.") for b in text[2:].split("\n* ")]


def write_starter(name: str, out_dir=".") -> Path:
    """Write lab ``name``'s starter into ``out_dir``; FileExistsError rather than overwrite."""
    text, path = starter_text(name), Path(out_dir) / f"{LABS[name]}.py"
    if path.exists():
        raise FileExistsError(f"{path} exists; not overwriting it (choose another --out)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as f:
        f.write(text)
    return path


def grade(name: str, target) -> list[Result]:
    """Run lab ``name``'s checks on ``target``, a student's file (its folder importable while it
    loads) or ``"reference"``; a file that does not run is one failed Result. The lab's
    ``checks(student, check)`` runs each check as ``with check(NAME) as rng:`` (fresh seed 12)."""
    lab = student = get(name)
    if str(target) != "reference":
        if not Path(target).is_file():
            raise FileNotFoundError(f"no such file: {target}")
        folder = str(Path(target).resolve().parent)
        sys.path.insert(0, folder)
        try:
            student = types.SimpleNamespace(**runpy.run_path(str(target), run_name="lab"))
        except Exception as err:  # noqa: BLE001 - any error in a student's file is reported
            mine = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(target)]
            line = mine[-1].lineno if mine else getattr(err, "lineno", "?")  # SyntaxError: its own
            msg = f"the file does not import: {type(err).__name__}: {err} (line {line})"
            return [Result("import", False, msg)]
        finally:
            sys.path.remove(folder)
    results = []

    @contextlib.contextmanager
    def check(title):
        try:
            yield np.random.default_rng(12)
            results.append(Result(title, True))
        except LabFailure as err:
            results.append(Result(title, False, str(err)))

    lab.checks(student, check)
    return results


def call(student, fname: str, *args, on: str = ""):
    func = getattr(student, fname, None)
    if not callable(func):
        raise LabFailure(f"{fname} is missing: define a function named {fname}")
    try:
        return func(*copy.deepcopy(args))
    except NotImplementedError:
        raise LabFailure(f"{fname} is not implemented yet (it still raises the TODO)") from None
    except Exception as err:  # noqa: BLE001 - a student's bug becomes a graded failure
        raise LabFailure(f"{fname}{on} raised {type(err).__name__}: {err}") from None


def same(student, solution, args, on, hint=None, **tol):
    expected, name = solution(*args), solution.__name__
    hint = " ".join(solution.__doc__.replace("``", "").split()) if hint is None else hint
    compare(call(student, name, *args, on=on), expected, f"{name}(...)", on, hint, **tol)


def compare(got, expected, what, on, hint="", rtol=1e-8, atol=1e-10, mask=None):
    """Raise LabFailure, naming the first entry that differs, unless ``got`` matches
    ``expected`` (an array, None: not graded, or a list of them) where ``mask`` is True."""
    tail = f" {hint}" if hint else ""
    if expected is None:
        return
    if isinstance(expected, list):
        got = list(got) if np.iterable(got) else [got]
        if len(got) != len(expected):
            raise LabFailure(f"{what}{on}: expected {len(expected)} items, got {len(got)}.{tail}")
        for k, (g, e) in enumerate(zip(got, expected)):
            compare(g, e, f"{what}[{k}]", on, hint, rtol, atol, None if mask is None else mask[k])
        return
    try:  # ``expected`` may be the student's too (G1, G2, G3 compare two of their results)
        e, g = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabFailure(f"{what}{on}: expected an array, got {type(got).__name__}") from None
    if g.shape != e.shape:
        raise LabFailure(f"{what}{on}: expected shape {e.shape}, got {g.shape}.{tail}")
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol) & (True if mask is None else mask)
    if np.any(bad):
        i = tuple(int(t) for t in np.argwhere(bad)[0])
        where = f"{what}[{', '.join(map(str, i))}]" if i else what
        raise LabFailure(
            f"{where}{on}: expected {e[i]:.6g}, got {g[i]:.6g} "
            f"({int(bad.sum())} of {bad.size} entries differ).{tail}"
        )


def networks(rng, n, width=(1, 5), min_hidden=1, equal=False):
    """``n`` random ``(widths, weights, " on widths [...]")``: 2 to 4 layers, |w| in [0.3, 1.5];
    with ``equal``, equal hidden widths every other network."""
    for k in range(n):
        widths = [int(h) for h in rng.integers(width[0], width[1] + 1, rng.integers(3, 6))]
        hidden = [widths[1]] * (len(widths) - 2) if equal and k % 2 == 0 else widths[1:-1]
        widths[1:-1] = [max(h, min_hidden) for h in hidden]
        w = [rng.uniform(0.3, 1.5, s) * rng.choice([-1.0, 1.0], s) for s in zip(widths, widths[1:])]
        yield widths, w, f" on widths {widths}"


def run_cli(args) -> int:
    """``gspace lab``: list the labs, write a starter, or grade a file (exit 0 iff all pass)."""
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
        print(f"PASS  {r.name}" if r.passed else f"FAIL  {r.name}\n      {r.message}")
    n_ok = sum(r.passed for r in results)
    print(f"\n{n_ok} of {len(results)} checks passed")
    return 0 if n_ok == len(results) else 1
