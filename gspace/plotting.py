"""Learning curves from one or several training histories.

The figures are drawn on a :class:`matplotlib.figure.Figure` that is not registered with
pyplot, so nothing here opens a window or needs a display (safe under the Agg backend, in
tests and on servers), and no figure is left open afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from .train import History

__all__ = ["plot_history", "history_figure", "history_label"]

_SPLIT_STYLES = {"train": "-", "val": "--", "test": ":"}


def history_label(history: History, index: int = 0) -> str:
    """The legend label of a history: ``config["label"]``, else the optimizer, else ``run i``."""
    config = history.config or {}
    if config.get("label"):
        return str(config["label"])
    if config.get("optimizer"):
        return str(config["optimizer"])
    return f"run {index}"


def plot_history(
    history_or_list: History | Sequence[History],
    path,
    title: str = "Learning curves",
    *,
    labels: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "val", "test"),
) -> Path:
    """Save learning curves (loss and accuracy against epoch) to an image file.

    Parameters
    ----------
    history_or_list : History or sequence of History
        One run, or several runs drawn in different colours (e.g. one per optimizer).
    path : str or os.PathLike
        Output file; its suffix picks the format (``.png``, ``.pdf``, ``.svg``). Parent
        directories are created.
    title : str, default "Learning curves"
    labels : sequence of str, optional
        One legend label per history; default :func:`history_label`.
    splits : sequence of {"train", "val", "test"}, default all three
        Which splits to draw (solid, dashed, dotted).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        If an element is not a :class:`~gspace.train.History`.
    ValueError
        An empty list, a history with no epochs, the wrong number of labels or an unknown
        split.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> h = History(epoch=[0, 1, 2], train_loss=[2.3, 1.0, 0.5], train_acc=[0.1, 0.7, 0.9],
    ...             val_loss=[2.3, 1.1, 0.7], val_acc=[0.1, 0.6, 0.8],
    ...             test_loss=[2.3, 1.2, 0.8], test_acc=[0.1, 0.6, 0.8])
    >>> out = plot_history(h, pathlib.Path(tempfile.mkdtemp()) / "curves.png")
    >>> out.stat().st_size > 0
    True
    """
    fig = history_figure(history_or_list, title, labels=labels, splits=splits)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def history_figure(
    history_or_list: History | Sequence[History],
    title: str = "Learning curves",
    *,
    labels: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "val", "test"),
) -> Figure:
    """The figure :func:`plot_history` saves: a loss panel and an accuracy panel.

    Parameters and errors as :func:`plot_history`. The figure is not registered with pyplot:
    nothing to close.

    Returns
    -------
    matplotlib.figure.Figure
    """
    histories = [history_or_list] if isinstance(history_or_list, History) else history_or_list
    histories = list(histories)
    if not histories:
        raise ValueError("plot_history needs at least one History")
    for h in histories:
        if not isinstance(h, History):
            raise TypeError(f"expected gspace.train.History objects, got {type(h).__name__}")
        if not h.epoch:
            raise ValueError("cannot plot a history with no epochs")
    if labels is None:
        labels = [history_label(h, i) for i, h in enumerate(histories)]
    elif len(labels) != len(histories):
        raise ValueError(f"got {len(labels)} labels for {len(histories)} histories")
    for s in splits:
        if s not in _SPLIT_STYLES:
            raise ValueError(f"unknown split {s!r}; accepted: train, val, test")

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    for i, (h, label) in enumerate(zip(histories, labels, strict=True)):
        color = f"C{i % 10}"
        for split in splits:
            for ax, kind in ((ax_loss, "loss"), (ax_acc, "acc")):
                values = getattr(h, f"{split}_{kind}")
                pts = [(e, v) for e, v in zip(h.epoch, values) if v is not None]
                if not pts:
                    continue
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, _SPLIT_STYLES[split], color=color, label=f"{label} ({split})")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    losses = [v for line in ax_loss.get_lines() for v in line.get_ydata()]
    if losses and 0 < min(losses) and max(losses) < 1e30:
        # log scale keeps the late, slow decrease visible; not for a run that blew up
        ax_loss.set_yscale("log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize="small")
    fig.suptitle(title)
    return fig
