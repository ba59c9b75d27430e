"""Invariance: runs from ``w`` and ``g(w)`` coincide for G-SGD and Path-SGD, not SGD (A2-A4)."""

import numpy as np

from . import common, plots, protocol

NAME = "invariance"
TITLE = "Training from w and from a rescaled g(w): loss curves of each pair"
DESCRIPTION = (
    "Each optimizer trains a network with hidden widths {hidden} on {dataset} from w and from "
    "g(w), g a random positive rescaling (log c ~ N(0, {sigma}^2) per hidden node), with the same "
    "seed and batch order, {epochs} epochs. G-SGD and Path-SGD are invariant under g: their pairs "
    "must agree to rounding. SGD is not."
)
SUMMARY_COLUMNS = [
    {"key": "protocol", "label": "protocol"},
    {"key": "optimizer", "label": "optimizer"},
    {"key": "start", "label": "start, lr"},
    {"key": "acc_w", "label": "test acc. from w", "format": ".4f"},
    {"key": "acc_gw", "label": "test acc. from g(w)", "format": ".4f"},
    {"key": "output_abs_diff", "label": "max abs. output diff", "format": ".1e"},
    {"key": "output_rel_diff", "label": "relative output diff", "format": ".1e"},
    {"key": "train_loss_max_diff", "label": "max train-loss diff", "format": ".1e"},
    {"key": "diverged_gw", "label": "diverged from g(w)", "format": "d"},
    {"key": "at_chance_gw", "label": "at chance from g(w)", "format": "d"},
]


def config(quick: bool) -> dict:
    """The configuration (``quick``: 1 epoch on a 6,000-image subsample)."""
    cfg = protocol.base_config(protocol.PAPER_OPTIMIZERS, "fashion-mnist", 1 if quick else 2, quick)
    return {**cfg, "hidden": [32, 32], "sigma": 1.0}


def output_difference(net_a, net_b, X) -> tuple[float, float]:
    """Largest absolute and relative difference of two networks' outputs (None: ``inf``)."""
    if net_a is None or net_b is None:
        return float("inf"), float("inf")
    out_a, out_b = net_a.forward(X), net_b.forward(X)
    diff = float(np.max(np.abs(out_a - out_b)))
    return diff, diff / max(float(np.max(np.abs(out_a))), 1e-300)


def train_pair(spec: dict) -> dict:
    """The record of the run from ``w`` with ``"pair"``: the run from ``g(w)``, differences."""
    net_w, rec = common.train_net(spec)
    start = {**spec["start"], "sigma": spec["start"]["pair_sigma"]}
    net_g, rec_g = common.train_net({**spec, "start": start})
    abs_d, rel_d = output_difference(net_w, net_g, common.spec_data(spec).X_test)
    lw, lg = rec["curves"].get("train_loss", []), rec_g["curves"].get("train_loss", [])
    loss_d = float(np.max(np.abs(np.subtract(lw, lg)))) if lw and lg else float("inf")
    pair = {k: rec_g[k] for k in ("diverged", "final", "curves")}
    pair.update(output_abs_diff=abs_d, output_rel_diff=rel_d, train_loss_max_diff=loss_d)
    return {**rec, "pair": pair}


def run(module, *, quick=False, seed=0, overrides=None, **options) -> protocol.Results:
    """Run this experiment (``module``): a row per protocol and optimizer."""
    cfg, results, (d, K) = protocol.begin(module, quick, seed, overrides, **options)
    start = {"widths": [d, *cfg["hidden"], K], "pair_sigma": cfg["sigma"]}
    condition, opts, worst = {"condition": {}, "start": start}, cfg["optimizers"], {}
    outcome = protocol.fair_runs(results, cfg, [condition], opts, final_fn=train_pair, **options)
    for proto, per_opt in outcome["{}"].items():
        for opt in opts:
            init, lr, recs = per_opt[opt]
            pairs = [r["pair"] for r in recs]
            row = {"protocol": protocol.PROTOCOLS[proto], "optimizer": common.OPTIMIZER_LABELS[opt]}
            row["start"] = f"{init}, lr {lr:g}"
            for key, runs in (("acc_w", recs), ("acc_gw", pairs)):
                accs = [r["final"]["test_acc"] for r in runs]
                row[f"{key}_mean"], row[f"{key}_std"] = common.mean_std(accs)
            for key in ("output_abs_diff", "output_rel_diff", "train_loss_max_diff"):
                row[key] = max(p[key] for p in pairs)
            row["diverged_gw"] = sum(p["diverged"] for p in pairs)
            # trained without overflow, but no better than twice the accuracy of guessing
            stuck = [not p["diverged"] and p["final"]["test_acc"] < 2 / K for p in pairs]
            row["at_chance_gw"] = sum(stuck)
            results.summary.append(row)
            worst[row["optimizer"]] = max(worst.get(row["optimizer"], 0.0), row["output_rel_diff"])
    results.summary_columns = SUMMARY_COLUMNS
    results.notes.append(
        "Largest relative output difference between a pair at the end (over seeds and "
        "protocols): " + "; ".join(f"{k} {v:.1e}" for k, v in worst.items()) + ". "
        "Rounding-level differences (about 1e-12 or less) mean the pair coincides."
    )
    return results


def plot(results, path) -> None:
    """Training-loss curves of the pairs under protocol (a), one panel per optimizer."""
    import matplotlib.pyplot as plt

    opts = results.config["optimizers"]
    fig, axes = plt.subplots(1, len(opts), figsize=(4.2 * len(opts), 3.8), sharey=True)
    rows = {r["optimizer"]: r for r in results.summary if r["protocol"] == protocol.PROTOCOLS["a"]}
    for ax, opt in zip(axes, opts, strict=True):
        label, color = common.OPTIMIZER_LABELS[opt], common.OPTIMIZER_COLORS[opt]
        row = rows[label]
        recs = protocol.cell_runs(results.runs, {}, row["start"], opt)
        for runs, start, ls in ((recs, "w", "-"), ([r["pair"] for r in recs], "g(w)", "--")):
            losses = [r["curves"].get("train_loss", []) for r in runs]
            plots.band(ax, losses, label=f"from {start}", color=color, ls=ls, log=True)
        title = f"{label} ({row['start']})\nmax rel. output diff {row['output_rel_diff']:.1e}"
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="epoch", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    axes[0].set_ylabel("training loss\n(cross-entropy, nats; geometric mean)")
    about = f"{results.dataset}, widths {results.config['hidden']}, sigma={results.config['sigma']}"
    plots.save_figure(fig, path, results, about)
