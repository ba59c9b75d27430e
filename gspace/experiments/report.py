"""Turn ``results.json`` files into Markdown or reStructuredText tables and pages.

Nothing here is typed by hand: every number comes from a ``results.json`` written by
:func:`gspace.experiments.run`. The docs build calls :func:`results_page` on
``docs/_static/results/`` to make the page of experiment results.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .common import OPTIMIZER_LABELS, mean_std
from .protocol import PAPER_OPTIMIZERS, PROTOCOLS, Results

__all__ = [
    "format_cell",
    "results_table",
    "summary_tables",
    "lr_table",
    "results_section",
    "results_page",
    "seed_accuracies",
    "winner",
    "beyond_table",
    "beyond_page",
]

FORMATS = ("markdown", "rst", "text")
#: Order of the experiments on the results page.
ORDER = ("invariance", "unbalanced-init", "width", "path-sgd", "authors-mlp", "init", "cnn-depth")


def _fmt(value, spec: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if spec == "d":
        return str(int(value))
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def format_cell(row: dict, column: dict) -> str:
    """The text of one table cell.

    Parameters
    ----------
    row : dict
        One entry of ``results["summary"]``.
    column : dict
        ``{"key", "label", "format"}``. If ``row`` has ``key`` its value is formatted with
        ``format``; if it has ``key_mean`` and ``key_std`` the cell is ``"mean ± std"``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_cell({"acc_mean": 0.9312, "acc_std": 0.0101}, {"key": "acc", "format": ".3f"})
    '0.931 ± 0.010'
    >>> format_cell({"lr": 0.1}, {"key": "lr", "format": "g"})
    '0.1'
    """
    key, spec = column["key"], column.get("format", "")
    if key in row:
        return _fmt(row[key], spec)
    mean, std = row.get(f"{key}_mean"), row.get(f"{key}_std")
    if mean is None:
        return ""
    return f"{_fmt(mean, spec)} ± {_fmt(abs(std) if std is not None else std, spec.lstrip('+'))}"


def _table(header: list[str], rows: list[list[str]], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if fmt == "text":  # aligned columns, as the other tables the command line prints
        w = [max(map(len, col)) for col in zip(header, *rows, strict=True)]
        lines = ["  ".join(c.ljust(n) for c, n in zip(r, w, strict=True)) for r in [header, *rows]]
        return "\n".join(line.rstrip() for line in lines) + "\n"
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    lines = [".. list-table::", "   :header-rows: 1", ""]
    # In rst "|x|" is a substitution reference ("max |output diff|"): escape the bars.
    header = [c.replace("|", "\\|") for c in header]
    rows = [[c.replace("|", "\\|") if c else c for c in r] for r in rows]
    for r in [header, *rows]:
        lines.append("   * - " + (r[0] or " "))
        lines += [f"     - {c or ' '}" for c in r[1:]]
    return "\n".join(lines) + "\n"


def _as_results(results_or_path) -> dict:
    if isinstance(results_or_path, dict):
        return results_or_path
    if isinstance(results_or_path, Results):
        return results_or_path.to_dict()
    return Results.from_json(results_or_path).to_dict()


def _names_other(key: str, keep) -> bool:
    """Whether a summary column ``key`` (``opt_start``, ``gap_a_b``, ...) names an optimizer
    outside ``keep`` (optimizer names hold no underscore)."""
    return any(part in OPTIMIZER_LABELS and part not in keep for part in key.split("_"))


def results_table(results_or_path, fmt: str = "markdown", optimizers=None) -> str:
    """The summary table of one experiment.

    Parameters
    ----------
    results_or_path : dict or str or Path
        A results dict or the path of a ``results.json``.
    fmt : {"markdown", "rst", "text"}, default "markdown"
        A Markdown pipe table, an RST ``list-table`` or aligned plain text (what the command
        line prints).
    optimizers : sequence of str, optional
        Only the columns of these optimizers (and of the differences between two of them);
        default: every column.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``fmt`` is unknown or the file is not a results file.
    FileNotFoundError
        If the path does not exist.

    Examples
    --------
    >>> r = {"summary_columns": [{"key": "optimizer", "label": "optimizer"},
    ...                          {"key": "acc", "label": "test accuracy", "format": ".2f"}],
    ...      "summary": [{"optimizer": "SGD", "acc_mean": 0.9, "acc_std": 0.01}]}
    >>> print(results_table(r))
    | optimizer | test accuracy |
    |---|---|
    | SGD | 0.90 ± 0.01 |
    <BLANKLINE>
    """
    results = _as_results(results_or_path)
    columns = results["summary_columns"]
    if optimizers is not None:
        columns = [c for c in columns if not _names_other(c["key"], optimizers)]
    header = [c["label"] for c in columns]
    rows = [[format_cell(row, c) for c in columns] for row in results["summary"]]
    return _table(header, rows, fmt)


def lr_table(results_or_path, fmt: str = "markdown") -> str:
    """The learning-rate selection: grid, mean validation accuracy per rate, choice.

    Parameters
    ----------
    results_or_path : dict or str or Path
    fmt : {"markdown", "rst"}

    Returns
    -------
    str
    """
    results = _as_results(results_or_path)
    header = ["condition", "optimizer", "validation accuracy per lr (diverged runs)", "chosen"]
    rows = []
    for sel in results["lr_selection"]:
        cond = ", ".join(f"{k}={v}" for k, v in sel["condition"].items()) or "-"
        cells = [
            f"{lr:g}: {acc:.3f}" + (f" ({d})" if d else "")
            for lr, acc, d in zip(sel["grid"], sel["val_acc_mean"], sel["diverged"], strict=True)
        ]
        label = OPTIMIZER_LABELS.get(sel["optimizer"], sel["optimizer"])
        rows.append([cond, label, "; ".join(cells), f"{sel['chosen']:g}"])
    return _table(header, rows, fmt)


def _machine_line(results: dict) -> str:
    m = results["machine"]
    return (
        f"Ran {m['date']} on {m['platform']} ({m['cpu_count']} CPUs), Python {m['python']}, "
        f"NumPy {m['numpy']}, gspace {m['gspace']}"
        + (f" (commit {m['commit']})" if m.get("commit") else "")
        + f"; {results['elapsed_seconds']:.0f} s wall-clock; "
        f"seeds {results['seeds']}; data set {results['dataset']}; "
        f"initialization {results['init']}" + (" (quick version)" if results["quick"] else "") + "."
    )


def summary_tables(results_or_path, fmt: str = "rst") -> tuple[str, str]:
    """The table of the paper's optimizers and, if the study ran baselines beyond the paper,
    the side-by-side table of all (:func:`beyond_table`) under a sentence saying so (else
    ``""``)."""
    results = _as_results(results_or_path)
    opts = results["config"].get("optimizers", [])
    if set(opts) <= set(PAPER_OPTIMIZERS):
        return results_table(results, fmt), ""
    paper = results_table(results, fmt, optimizers=PAPER_OPTIMIZERS)
    intro = "All optimizers, with the baselines beyond the paper, and the winner of each row:"
    return paper, f"{intro}\n\n{beyond_table(results, fmt)}"


def results_section(results_or_path, fmt: str = "rst", figure: str | None = None) -> str:
    """A section for one experiment: title, description, figure, tables, notes, machine.

    Parameters
    ----------
    results_or_path : dict or str or Path
    fmt : {"markdown", "rst"}, default "rst"
    figure : str, optional
        Path or URL of the figure as the page should reference it; default: the
        ``figure`` field of the results (a file name relative to the results file).

    Returns
    -------
    str
    """
    results = _as_results(results_or_path)
    figure = figure or results["figure"]
    title = f"{results['experiment']}: {results['title']}"
    notes = [f"* {n}" for n in results["notes"]]
    paper, beyond = summary_tables(results, fmt)
    if fmt == "rst":
        parts = [
            title,
            "-" * len(title),
            "",
            results["description"],
            "",
            f".. image:: {figure}",
            f"   :alt: {results['title']}",
            "",
            paper,
            beyond,
            "Learning-rate selection (mean validation accuracy over seeds):",
            "",
            lr_table(results, "rst"),
            *notes,
            "",
            _machine_line(results),
            "",
        ]
    elif fmt == "markdown":
        parts = [
            f"## {title}",
            "",
            results["description"],
            "",
            f"![{results['title']}]({figure})",
            "",
            paper,
            beyond,
            "Learning-rate selection (mean validation accuracy over seeds):",
            "",
            lr_table(results, "markdown"),
            *notes,
            "",
            _machine_line(results),
            "",
        ]
    else:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    return "\n".join(parts)


def results_page(results_dir, fmt: str = "rst", figure_prefix: str = "") -> str:
    """One section per ``results_dir/<name>/results.json``, in the order of the experiments.

    Parameters
    ----------
    results_dir : str or Path
        Folder holding one sub-folder per experiment, each with ``results.json`` and its
        figure (as written by ``gspace experiment NAME --out results_dir/NAME``).
    fmt : {"markdown", "rst"}, default "rst"
    figure_prefix : str, default ""
        Prepended to ``NAME/figure.png`` in image references (e.g. ``"/_static/results/"``
        for Sphinx).

    Returns
    -------
    str
        The sections joined; an empty string if no results file is found.

    Raises
    ------
    FileNotFoundError
        If ``results_dir`` is not a directory.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results_dir {results_dir} is not a directory")
    files = sorted(results_dir.glob("*/results.json"))
    rank = {name: k for k, name in enumerate(ORDER)}
    files.sort(key=lambda p: (rank.get(p.parent.name, len(ORDER)), p.parent.name))
    sections = []
    for path in files:
        results = Results.from_json(path).to_dict()
        figure = f"{figure_prefix}{path.parent.name}/{results['figure']}"
        sections.append(results_section(results, fmt, figure=figure))
    return "\n".join(sections)


def seed_accuracies(results: dict, row: dict, optimizer: str) -> np.ndarray:
    """The per-seed test accuracies (NaN: diverged) behind one optimizer's cell of a summary
    row: the final runs of the row's condition at the start and rate the cell names."""
    n = next(i for i, c in enumerate(results["summary_columns"]) if c["key"] == "protocol")
    cond = {c["key"]: row[c["key"]] for c in results["summary_columns"][:n]}
    init, lr = row[f"{optimizer}_start"].split(" (")[0].split(", lr ")
    runs = sorted(
        (
            r
            for r in results["runs"]
            if r["phase"] == "final"
            and r["optimizer"] == optimizer
            and r["condition"] == {**cond, "init": init}
            and r["lr"] == float(lr)
        ),
        key=lambda r: r["seed"],
    )
    return np.array([np.nan if r["diverged"] else r["final"]["test_acc"] for r in runs])


def winner(accs: dict) -> tuple[str, str, float, float]:
    """The best and second-best optimizer, and the margin between them.

    Optimizers are ranked by mean test accuracy over the seeds with a diverged run counted as
    0 (a method that sometimes fails does not win on its other seeds); the margin is the
    mean and sample standard deviation of the per-seed differences best - second, the same
    seed on both sides (one initial network and batch order per seed).

    Parameters
    ----------
    accs : dict
        Optimizer -> per-seed test accuracies in seed order (NaN: diverged); at least two.

    Returns
    -------
    best, second : str
    margin_mean, margin_std : float

    Examples
    --------
    >>> winner({"sgd": [0.80, 0.82], "adam": [0.85, float("nan")]})
    ('sgd', 'adam', 0.385, 0.615...)
    """
    accs = {o: np.nan_to_num(np.asarray(a, dtype=float), nan=0.0) for o, a in accs.items()}
    best, second = sorted(accs, key=lambda o: -accs[o].mean())[:2]
    return (best, second, *mean_std(accs[best] - accs[second]))


def beyond_table(results_or_path, fmt: str = "rst") -> str:
    """Every optimizer of a study side by side, per condition and protocol, with the winner.

    One row per condition and protocol (a) or (b) (the "as released" rows are the paper's
    optimizers only and are left out): each optimizer's test accuracy (mean ± std over
    seeds, diverged runs left out of the mean and counted beside it), the winner and its
    margin over the second (:func:`winner` of :func:`seed_accuracies`).

    Parameters
    ----------
    results_or_path : dict or str or Path
    fmt : {"markdown", "rst", "text"}

    Returns
    -------
    str
    """
    results = _as_results(results_or_path)
    opts = results["config"]["optimizers"]
    n = next(i for i, c in enumerate(results["summary_columns"]) if c["key"] == "protocol")
    conds = results["summary_columns"][:n]
    header = [c["label"] for c in conds] + ["protocol"]
    header += [OPTIMIZER_LABELS[o] for o in opts] + ["winner", "margin over second"]
    rows = []
    for row in results["summary"]:
        if row["protocol"] not in (PROTOCOLS["a"], PROTOCOLS["b"]):
            continue
        accs = {o: seed_accuracies(results, row, o) for o in opts}
        cells = [format_cell(row, c) for c in conds] + [row["protocol"]]
        for o in opts:
            n_div = int(np.isnan(accs[o]).sum())
            cells.append(
                format_cell(row, {"key": f"{o}_acc", "format": ".4f"})
                + (f" ({n_div} div.)" if n_div else "")
            )
        best, second, mean, std = winner(accs)
        label = OPTIMIZER_LABELS
        cells += [label[best], f"{mean:+.4f} ± {std:.4f} over {label[second]}"]
        rows.append(cells)
    return _table(header, rows, fmt)


def beyond_page(results_dir, names=("width", "authors-mlp", "cnn-depth")) -> str:
    """An RST section per study of ``names`` whose results include optimizers beyond the
    paper's (:data:`~gspace.experiments.protocol.PAPER_OPTIMIZERS`): :func:`beyond_table`
    and the run's machine line; studies without them are listed as not run yet."""
    parts, missing = [], []
    for name in names:
        path = Path(results_dir) / name / "results.json"
        results = Results.from_json(path).to_dict() if path.is_file() else None
        if results is None or set(results["config"]["optimizers"]) <= set(PAPER_OPTIMIZERS):
            missing.append(name)
            continue
        title = f"{name}: {results['title']}"
        parts += [title, "~" * len(title), "", beyond_table(results, "rst"), _machine_line(results)]
        parts.append("")
    if missing:
        parts.append(f"No results with the baselines yet for: {', '.join(missing)}.")
    return "\n".join(parts) + "\n"
