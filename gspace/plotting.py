"""Learning curves (on a Figure outside pyplot: no display needed) and the network drawing."""

from pathlib import Path

from matplotlib.figure import Figure

from . import validation as V
from .core.basis import network_graph
from .train import History

__all__ = ["plot_history", "history_figure", "draw_network"]

_SPLIT_STYLES = {"train": "-", "val": "--", "test": ":"}
_SPLITS = tuple(_SPLIT_STYLES)
_EDGE_COLORS = {(True, True): "tab:purple", (True, False): "tab:red", (False, True): "tab:blue"}
_LEGEND = [
    ("tab:blue", 2.5, "pi-edge (skeleton in-edge)"),
    ("tab:red", 2.5, "sigma-edge (skeleton out-edge)"),
    ("tab:purple", 2.5, "both"),
    ("0.75", 0.7, "other weight"),
]


def plot_history(history_or_list, path, title="Learning curves", *, labels=None, splits=_SPLITS):
    """Save :func:`history_figure` to ``path`` (its suffix picks the format); return the Path."""
    fig, path = history_figure(history_or_list, title, labels=labels, splits=splits), Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def history_figure(history_or_list, title="Learning curves", *, labels=None, splits=_SPLITS):
    """Loss and accuracy against the epoch for one History or several: one colour and label
    (default ``config["label"]`` or the optimizer) per run, ``splits`` solid, dashed, dotted."""
    histories = list([history_or_list] if isinstance(history_or_list, History) else history_or_list)
    if not histories:
        raise ValueError("plot_history needs at least one History")
    for h in histories:
        if not isinstance(h, History):
            raise TypeError(f"expected gspace.train.History objects, got {type(h).__name__}")
        if not h.epoch:
            raise ValueError("cannot plot a history with no epochs")
    if labels is None:
        cfgs = enumerate(h.config or {} for h in histories)
        labels = [str(c.get("label") or c.get("optimizer") or f"run {i}") for i, c in cfgs]
    elif len(labels) != len(histories):
        raise ValueError(f"got {len(labels)} labels for {len(histories)} histories")
    for s in splits:
        V.choice(s, _SPLITS, "split")
    fig = Figure(figsize=(10, 4), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    for kind, name, ax in zip(("loss", "acc"), ("loss", "accuracy"), (loss_ax, acc_ax)):
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.grid(alpha=0.3)
        for i, (h, label) in enumerate(zip(histories, labels, strict=True)):
            for split in splits:
                ys = getattr(h, f"{split}_{kind}")
                pts = [(e, y) for e, y in zip(h.epoch, ys) if y is not None]
                if pts:  # a split without values: no line, no legend entry
                    style = dict(color=f"C{i % 10}", label=f"{label} ({split})")
                    ax.plot(*zip(*pts), _SPLIT_STYLES[split], **style)
    losses = [y for line in loss_ax.get_lines() for y in line.get_ydata()]
    if losses and 0 < min(losses) and max(losses) < 1e30:  # log scale, unless a run blew up
        loss_ax.set_yscale("log")
    acc_ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig


def draw_network(net_or_widths, skeleton=None, ax=None, max_nodes: int = 200, show_bias=None):
    """Draw the layered network (widths or a network), the skeleton highlighted as in the
    paper's figure (widths follow ``|w|``, negative weights dashed), at most ``max_nodes``."""
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
        w = d.get("weight")
        lw = (2.5 if d["skeleton"] else 0.7) * (1.0 if w is None else 0.4 + 1.2 * abs(w) / wmax)
        color = _EDGE_COLORS.get((d["sigma"], d["pi"]), "0.75")
        style = "--" if w is not None and w < 0 else "-"
        ax.plot(*zip(pos[u], pos[v]), style, color=color, lw=lw, zorder=1 + d["skeleton"])
    faces = ["0.85" if G.nodes[n]["bias"] else "white" for n in pos]
    ax.scatter(*zip(*pos.values()), s=160, c=faces, edgecolors="black", zorder=3)
    for n in (n for n in G.nodes if G.nodes[n]["bias"]):
        ax.annotate("1", pos[n], ha="center", va="center", fontsize=7, zorder=4)
    ax.set_xticks(range(len(widths)), [f"layer {l}" for l in range(len(widths))])
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.set_title(f"widths {list(widths)}: skeleton pi-edges (blue), sigma-edges (red)")
    handles = [Line2D([], [], color=c, lw=lw, label=t) for c, lw, t in _LEGEND]
    if "weight" in next(iter(G.edges.values()), {}):
        handles.append(Line2D([], [], color="black", ls="--", label="negative weight"))
    legend = dict(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    ax.legend(handles=handles, fontsize=8, **legend)
    return ax
