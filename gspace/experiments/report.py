"""Markdown, reStructuredText and text tables and pages from ``results.json`` files."""

from pathlib import Path

import numpy as np

from .. import validation as V
from .common import OPTIMIZER_LABELS as LABEL
from .common import mean_std
from .protocol import PAPER_OPTIMIZERS, PROTOCOLS, Results, accuracies, cell_runs

FORMATS = ("markdown", "rst", "text")
#: Order of the experiments on the results page.
ORDER = ("invariance", "unbalanced-init", "width", "path-sgd", "authors-mlp", "init", "cnn-depth")


def _fmt(value, spec: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not np.isfinite(value):
        return "n/a" if np.isnan(value) else "inf"
    try:
        return format(int(value) if spec == "d" else value, spec)
    except (TypeError, ValueError):
        return str(value)


def format_cell(row: dict, column: dict) -> str:
    """``row[key]`` in the column's ``format``, or ``"mean ± std"`` of ``key_mean``, ``key_std``."""
    key, spec = column["key"], column.get("format", "")
    if key in row:
        return _fmt(row[key], spec)
    mean, std = row.get(f"{key}_mean"), row.get(f"{key}_std")
    if mean is None:
        return ""
    return f"{_fmt(mean, spec)} ± {_fmt(abs(std) if std is not None else std, spec.lstrip('+'))}"


def _table(header: list[str], rows: list[list[str]], fmt: str) -> str:
    if V.choice(fmt, FORMATS, "fmt") == "text":  # aligned, as the command line's other tables
        w = [max(map(len, col)) for col in zip(header, *rows, strict=True)]
        lines = ["  ".join(c.ljust(n) for c, n in zip(r, w, strict=True)) for r in [header, *rows]]
        return "\n".join(line.rstrip() for line in lines) + "\n"
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for r in [header, *rows]:  # "|x|" would be an rst substitution: escape the bars
        r = [c.replace("|", "\\|") for c in r]
        lines += ["   * - " + (r[0] or " "), *(f"     - {c or ' '}" for c in r[1:])]
    return "\n".join(lines) + "\n"


def _as_results(results_or_path) -> dict:
    if isinstance(results_or_path, (str, Path)):
        results_or_path = Results.from_json(results_or_path)
    return results_or_path.to_dict() if isinstance(results_or_path, Results) else results_or_path


def results_table(results_or_path, fmt: str = "markdown", optimizers=None) -> str:
    """The summary table of results (or of their file) in ``fmt``; ``optimizers``: only theirs."""
    results = _as_results(results_or_path)
    columns = results["summary_columns"]
    if optimizers is not None:  # optimizer names hold no underscore
        named = [[p for p in c["key"].split("_") if p in LABEL] for c in columns]
        columns = [c for c, n in zip(columns, named) if set(n) <= set(optimizers)]
    rows = [[format_cell(row, c) for c in columns] for row in results["summary"]]
    return _table([c["label"] for c in columns], rows, fmt)


def lr_table(results_or_path, fmt: str = "markdown") -> str:
    """The learning-rate selection: mean validation accuracy per rate, and the choice."""
    results = _as_results(results_or_path)
    header = ["condition", "optimizer", "validation accuracy per lr (diverged runs)", "chosen"]
    rows = []
    for sel in results["lr_selection"]:
        cond = ", ".join(f"{k}={v}" for k, v in sel["condition"].items()) or "-"
        per_lr = zip(sel["grid"], sel["val_acc_mean"], sel["diverged"], strict=True)
        cells = [f"{lr:g}: {acc:.3f}" + (f" ({d})" if d else "") for lr, acc, d in per_lr]
        label = LABEL.get(sel["optimizer"], sel["optimizer"])
        rows.append([cond, label, "; ".join(cells), f"{sel['chosen']:g}"])
    return _table(header, rows, fmt)


def _machine_line(results: dict) -> str:
    m, quick = results["machine"], " (quick version)" if results["quick"] else ""
    commit = f" (commit {m['commit']})" if m.get("commit") else ""
    return (
        f"Ran {m['date']} on {m['platform']} ({m['cpu_count']} CPUs), Python {m['python']}, "
        f"NumPy {m['numpy']}, gspace {m['gspace']}{commit}; {results['elapsed_seconds']:.0f} s "
        f"wall-clock; seeds {results['seeds']}; data set {results['dataset']}; initialization "
        f"{results['init']}{quick}."
    )


def summary_tables(results_or_path, fmt: str = "rst") -> tuple[str, str]:
    """The table of the paper's optimizers, and :func:`beyond_table` (if it ran baselines)."""
    results = _as_results(results_or_path)
    if set(results["config"].get("optimizers", [])) <= set(PAPER_OPTIMIZERS):
        return results_table(results, fmt), ""
    paper = results_table(results, fmt, optimizers=PAPER_OPTIMIZERS)
    intro = "All optimizers, with the baselines beyond the paper, and the winner of each row:"
    return paper, f"{intro}\n\n{beyond_table(results, fmt)}"


def results_section(results_or_path, fmt: str = "rst", figure: str | None = None) -> str:
    """A section on one experiment, in rst or markdown: text, figure, tables, notes, machine."""
    results = _as_results(results_or_path)
    figure, name = figure or results["figure"], results["title"]
    title = f"{results['experiment']}: {name}"
    rst = V.choice(fmt, ("rst", "markdown"), "fmt") == "rst"
    head = [title, "-" * len(title)] if rst else [f"## {title}"]
    head += ["", results["description"], ""]
    head += [f".. image:: {figure}", f"   :alt: {name}"] if rst else [f"![{name}]({figure})"]
    lr_title = "Learning-rate selection (mean validation accuracy over seeds):"
    parts = [*summary_tables(results, fmt), lr_title, "", lr_table(results, fmt)]
    parts += [f"* {n}" for n in results["notes"]] + ["", _machine_line(results), ""]
    return "\n".join([*head, "", *parts])


def results_page(results_dir, fmt: str = "rst", figure_prefix: str = "") -> str:
    """:func:`results_section` of every ``results_dir/NAME/results.json``, in :data:`ORDER`."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results_dir {results_dir} is not a directory")
    by_name = {p.parent.name: Results.from_json(p) for p in results_dir.glob("*/results.json")}
    order = sorted(by_name, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    figures = {n: f"{figure_prefix}{n}/{by_name[n].figure}" for n in order}
    return "\n".join(results_section(by_name[n], fmt, figure=figures[n]) for n in order)


def winner(accs: dict) -> tuple[str, str, float, float]:
    """Best and second optimizer by mean accuracy (NaN: 0), and their paired difference."""
    accs = {o: np.nan_to_num(np.asarray(a, dtype=float), nan=0.0) for o, a in accs.items()}
    best, second = sorted(accs, key=lambda o: -accs[o].mean())[:2]
    return (best, second, *mean_std(accs[best] - accs[second]))


def beyond_table(results_or_path, fmt: str = "rst") -> str:
    """Every optimizer's test accuracy under protocols (a) and (b), and the :func:`winner`."""
    results = _as_results(results_or_path)
    opts, columns = results["config"]["optimizers"], results["summary_columns"]
    conds = columns[: [c["key"] for c in columns].index("protocol")]  # the condition columns
    header = [c["label"] for c in conds] + ["protocol"]
    header += [LABEL[o] for o in opts] + ["winner", "margin over second"]
    rows = []
    for row in (r for r in results["summary"] if r["protocol"] in (PROTOCOLS["a"], PROTOCOLS["b"])):
        cond = {c["key"]: row[c["key"]] for c in conds}  # per seed, NaN: diverged
        accs = {o: accuracies(cell_runs(results["runs"], cond, row[f"{o}_start"], o)) for o in opts}
        cells = [format_cell(row, c) for c in conds] + [row["protocol"]]
        for o in opts:
            n_div = int(np.isnan(accs[o]).sum())
            acc = format_cell(row, {"key": f"{o}_acc", "format": ".4f"})
            cells.append(acc + (f" ({n_div} div.)" if n_div else ""))
        best, second, mean, std = winner(accs)
        rows.append(cells + [LABEL[best], f"{mean:+.4f} ± {std:.4f} over {LABEL[second]}"])
    return _table(header, rows, fmt)


def beyond_page(results_dir, names=("width", "authors-mlp", "cnn-depth")) -> str:
    """An rst section with :func:`beyond_table` per study of ``names`` that ran baselines."""
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
