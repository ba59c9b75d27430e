"""The experiments' figures, drawn from a :class:`~gspace.experiments.protocol.Results`."""

import numpy as np

from .common import OPTIMIZER_COLORS, OPTIMIZER_LABELS
from .protocol import PROTOCOLS


def save_figure(fig, path, results, about: str, *, ax=None, rect=None) -> None:
    """Title the figure (or panel ``ax``), fit it to the docs' column and save it as PNG."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    title = f"{results.title}\n{about}, mean +- std over {len(results.seeds)} seeds"
    (fig.suptitle if ax is None else ax.set_title)(title, fontsize=10)
    # The docs' column is about 880 px wide: at most 8.5 in, no text under 9 pt, 200 dpi.
    width, height = fig.get_size_inches()
    if width > 8.5:
        fig.set_size_inches(8.5, max(height * 8.5 / width, min(height, 3.6)))
    for text in fig.findobj(Text):
        text.set_fontsize(max(text.get_fontsize(), 9))
    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=200)
    plt.close(fig)


def band(ax, curves, *, label: str, color: str, ls="-", log: bool = False) -> None:
    """Mean +- std of the non-empty curves (``log``: geometric), labelled with their number."""
    curves = [c for c in curves if len(c)]
    if not curves:
        return
    y = np.log(curves) if log else np.asarray(curves, dtype=np.float64)
    mean = y.mean(axis=0)
    std = y.std(axis=0, ddof=1) if y.shape[0] > 1 else np.zeros_like(mean)
    mean, low, high = (np.exp(v) if log else v for v in (mean, mean - std, mean + std))
    x = np.arange(y.shape[1])
    ax.plot(x, mean, color=color, ls=ls, label=f"{label} (n={y.shape[0]})")
    ax.fill_between(x, low, high, color=color, alpha=0.2, lw=0)


def _errorbar(ax, x, rows, key: str, **style) -> None:
    means, stds = ([r[f"{key}_{s}"] for r in rows] for s in ("mean", "std"))
    ax.errorbar(x, means, yerr=stds, capsize=3, **style)


def accuracy(ax, results, x, optimizers, offsets=None, protocols=("a", "b")) -> None:
    """Test accuracy against ``x`` (a value per condition), (a) dashed, (b) solid."""
    for p in protocols:
        rows = [r for r in results.summary if r["protocol"] == PROTOCOLS[p]]
        for opt in optimizers:
            label = OPTIMIZER_LABELS[opt] + ("" if len(protocols) == 1 else f", {PROTOCOLS[p]}")
            x_opt = np.asarray(x, dtype=float) + (offsets or {}).get(opt, 0.0)
            style = {"marker": "o", "ls": "--" if p == "a" else "-", "color": OPTIMIZER_COLORS[opt]}
            _errorbar(ax, x_opt, rows, f"{opt}_acc", **style, label=label)


def protocols(results, path, x, xlabel: str, about: str, offsets=None, gaps=()) -> None:
    """Test accuracy against ``x``, a panel per protocol, and one of the paired ``gaps``."""
    import matplotlib.pyplot as plt

    opts = results.config["optimizers"]
    fig, axes = plt.subplots(1, 3 if gaps else 2, figsize=(14.0 if gaps else 10.0, 4.6))
    for ax, proto in zip(axes, ("a", "b")):
        accuracy(ax, results, x, opts, offsets, protocols=(proto,))
        ax.set_title(PROTOCOLS[proto], fontsize=10)
    axes[0].set_ylabel("test accuracy (fraction correct)")
    for (a, b), (p, ls) in ((pair, p) for pair in gaps for p in (("a", "--"), ("b", "-"))):
        rows = [r for r in results.summary if r["protocol"] == PROTOCOLS[p]]
        label = f"{OPTIMIZER_LABELS[a]} - {OPTIMIZER_LABELS[b]} ({p})".replace("+momentum", "+m")
        x_p = np.asarray(x, dtype=float) * (1.04 if p == "b" else 0.96)
        style = {"marker": "s", "ls": ls, "color": OPTIMIZER_COLORS[a], "label": label}
        _errorbar(axes[2], x_p, rows, f"gap_{a}_{b}", **style)
    if gaps:
        axes[2].axhline(0.0, color="gray", lw=1, ls=":")
        axes[2].set_title("differences, paired by seed", fontsize=10)
        axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(opts), 4), fontsize=9)
    rows = (len(opts) + 3) // 4  # of the legend
    save_figure(fig, path, results, about, rect=(0, 0.07 * rows + 0.02, 1, 1))


def curves(results, path, key) -> None:
    """Test accuracy against epochs of the final runs, a panel per ``condition[key]``."""
    import matplotlib.pyplot as plt

    groups: dict = {}
    for r in (r for r in results.runs if r["phase"] == "final"):
        k = (r["condition"].get(key, "all"), r["optimizer"], r["condition"]["init"], r["lr"])
        groups.setdefault(k, []).append(r["curves"].get("test_acc", []))
    panels = list(dict.fromkeys(k[0] for k in groups))
    n_lines = max(sum(k[0] == v for k in groups) for v in panels)
    many = n_lines > 6  # then each panel's legend goes in its own box below it
    n_rows, box_h = (2, 0.17 * n_lines) if many else (1, 0.0)
    grid = {"height_ratios": [4.0, box_h]} if many else None
    size = (5.2 * len(panels), 4.0 + box_h)
    fig, axes = plt.subplots(n_rows, len(panels), figsize=size, squeeze=False, gridspec_kw=grid)
    for ax, box, value in zip(axes[0], axes[-1], panels, strict=True):
        lows = []
        for (v, opt, init, lr), cs in groups.items():
            if v == value:
                ls = "-" if init == "skeleton-unit" else "--"
                label = f"{OPTIMIZER_LABELS[opt]}, {init}, lr {lr:g}"
                band(ax, cs, label=label, color=OPTIMIZER_COLORS[opt], ls=ls)
                lows += [c[1] for c in cs if len(c) > 1]
        if lows:
            ax.set_ylim(max(0.0, min(lows) - 0.02), None)
        ax.set_title(f"{key} = {value}" if key else "", fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if many:  # box: the panel's legend below it
            box.legend(*ax.get_legend_handles_labels(), loc="center", fontsize=7, frameon=False)
            box.axis("off")
        else:
            ax.legend(fontsize=7)
    axes[0][0].set_ylabel("test accuracy (fraction correct)")
    save_figure(fig, path, results, f"{results.dataset}, widths {results.config.get('hidden')}")
