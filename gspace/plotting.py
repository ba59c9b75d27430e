"""Learning curves from one or several training histories.

The figures are drawn on a :class:`matplotlib.figure.Figure` that is not registered with
pyplot, so nothing here opens a window or needs a display (safe under the Agg backend, in
tests and on servers), and no figure is left open afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from . import validation as V
from .core.basis import network_graph
from .train import History

__all__ = ["plot_history", "history_figure", "history_label", "draw_network"]

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


_EDGE_COLORS = {(True, True): "tab:purple", (True, False): "tab:red", (False, True): "tab:blue"}


def draw_network(net_or_widths, skeleton=None, ax=None, max_nodes: int = 200, show_bias=None):
    """Draw the layered network with the skeleton highlighted (the paper's figure).

    Layers run left to right; pi-edges (skeleton in-edges) are blue, sigma-edges (the weights
    Weight-Allocation keeps) red, both purple, other weights thin grey; with a network, line
    widths follow ``|w|`` and negative weights are dashed. Refuses more than ``max_nodes``.

    Examples
    --------
    >>> ax = draw_network([3, 4, 4, 2])
    >>> ax.get_title()
    'widths [3, 4, 4, 2]: skeleton pi-edges (blue), sigma-edges (red)'
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    widths = V.drawable(net_or_widths, show_bias, max_nodes)
    G = network_graph(net_or_widths, skeleton, bias=show_bias)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.4 * len(widths), 1.0 + 0.45 * max(widths)))
    pos = {
        n: (d["layer"], (widths[d["layer"]] - 1) / 2 + (1.0 if d["bias"] else -d["index"]))
        for n, d in G.nodes(data=True)
    }
    wmax = max((abs(d.get("weight", 1.0)) for *_, d in G.edges(data=True)), default=1.0) or 1.0
    for u, v, d in sorted(G.edges(data=True), key=lambda e: e[2]["skeleton"]):
        lw = (2.5 if d["skeleton"] else 0.7) * (
            0.4 + 1.2 * abs(d["weight"]) / wmax if "weight" in d else 1.0
        )
        ax.plot(
            *zip(pos[u], pos[v]),
            "--" if d.get("weight", 1.0) < 0 else "-",
            color=_EDGE_COLORS.get((d["sigma"], d["pi"]), "0.75"),
            lw=lw,
            zorder=1 + d["skeleton"],
        )
    xs, ys = zip(*(pos[n] for n in G.nodes))
    ax.scatter(
        xs,
        ys,
        s=160,
        c=["0.85" if G.nodes[n]["bias"] else "white" for n in G.nodes],
        edgecolors="black",
        zorder=3,
    )
    for n in (n for n in G.nodes if G.nodes[n]["bias"]):
        ax.annotate("1", pos[n], ha="center", va="center", fontsize=7, zorder=4)
    ax.set_xticks(range(len(widths)), [f"layer {l}" for l in range(len(widths))])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"widths {list(widths)}: skeleton pi-edges (blue), sigma-edges (red)")
    handles = [
        Line2D([], [], color=c, lw=2.5, label=t)
        for c, t in (
            ("tab:blue", "pi-edge (skeleton in-edge)"),
            ("tab:red", "sigma-edge (skeleton out-edge)"),
            ("tab:purple", "both"),
        )
    ] + [Line2D([], [], color="0.75", lw=0.7, label="other weight")]
    if "weight" in next(iter(G.edges.values()), {}):
        handles.append(Line2D([], [], color="black", ls="--", label="negative weight"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    return ax
