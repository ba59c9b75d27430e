"""Path-SGD comparison: learning curves of SGD, Path-SGD and G-SGD on the same network.

The paper compares G-SGD with Path-SGD (Neyshabur et al., 2015), the closest earlier method
that respects the rescaling symmetry. Here the three optimizers train the same network from
the same initialization with the same batch order; each uses its own learning rate, chosen on
validation from a grid of the same size. Runs on MNIST when its files are present (full run
only), digits otherwise.
"""

from __future__ import annotations

from . import common

NAME = "path-sgd"
TITLE = "Learning curves of SGD, Path-SGD and G-SGD"
INIT = "skeleton-unit"
OPTIMIZERS = ("sgd", "pathsgd", "gsgd")

__all__ = ["NAME", "config", "run", "plot"]


def config(quick: bool) -> dict:
    """The configuration of the experiment (``quick``: fewer epochs, 3 seeds).

    Examples
    --------
    >>> config(quick=False)["hidden"]
    [32, 32, 32]
    """
    return {
        "dataset": "mnist",
        "hidden": [32, 32, 32],
        "epochs": 6 if quick else 40,
        "batch_size": 32,
        "loss": "cross_entropy",
        "bias": False,
        "lr_grid": {opt: list(common.LR_GRIDS[opt]) for opt in OPTIMIZERS},
        "optimizers": list(OPTIMIZERS),
    }


def run(
    *, quick: bool = False, seed: int = 0, progress=None, data_dir=None, overrides=None
) -> dict:
    """Run the experiment; return the results dict (see :mod:`gspace.experiments.common`).

    Parameters
    ----------
    quick : bool, default False
    seed : int, default 0
    progress : bool or None
    data_dir : str, optional
        Where to look for the MNIST IDX files (default ``$GSPACE_DATA``).

    overrides : dict, optional
        Entries replacing those of :func:`config` (used by ``gspace demo`` and the tests);
        the configuration actually used is written to the results.

    Returns
    -------
    dict
    """
    cfg = {**config(quick), **(overrides or {})}
    results = common.new_results(
        NAME,
        TITLE,
        "Training loss and test accuracy per epoch of SGD, Path-SGD and G-SGD on the same "
        "network, data and batch order, each at its own learning rate tuned on validation.",
        quick=quick,
        seed=seed,
    )
    data, note = common.load_data(cfg["dataset"], quick=quick, seed=seed, data_dir=data_dir)
    widths = [data.n_features, *cfg["hidden"], data.n_classes]
    results.update(dataset=data.name, init=INIT, config={**cfg, "widths": widths})
    results["notes"].append(note)
    run_seeds = results["seeds"]

    def make_net(s):
        return common.initial_net(widths, INIT, s)

    n_runs = sum(len(cfg["lr_grid"][o]) for o in OPTIMIZERS) * len(run_seeds)
    with common.progress_bar(n_runs, NAME, progress) as bar:
        for opt in OPTIMIZERS:
            selection, runs, _ = common.grid_search(
                make_net,
                opt,
                cfg["lr_grid"][opt],
                run_seeds,
                data,
                condition={},
                epochs=cfg["epochs"],
                batch_size=cfg["batch_size"],
                bar=bar,
            )
            results["lr_selection"].append(selection)
            results["runs"].extend(runs)
            results["summary"].append(summary_row(opt, selection, runs))
    results["summary_columns"] = SUMMARY_COLUMNS
    results["notes"].append(common.paired_gap_note(results, "gsgd", "sgd"))
    results["notes"].append(common.paired_gap_note(results, "gsgd", "pathsgd"))
    return results


SUMMARY_COLUMNS = [
    {"key": "optimizer", "label": "optimizer"},
    {"key": "lr", "label": "chosen lr", "format": "g"},
    {"key": "train_loss", "label": "final training loss", "format": ".3g"},
    {"key": "val_acc", "label": "validation accuracy", "format": ".3f"},
    {"key": "test_acc", "label": "test accuracy", "format": ".3f"},
    {"key": "diverged", "label": "diverged", "format": "d"},
]


def summary_row(opt: str, selection: dict, runs: list) -> dict:
    """Final training loss, validation and test accuracy (mean, std) at the chosen rate."""
    chosen = common.chosen_runs(runs, selection)
    row = {"optimizer": common.OPTIMIZER_LABELS[opt], "lr": selection["chosen"]}
    for key in ("train_loss", "val_acc", "test_acc"):
        row[f"{key}_mean"], row[f"{key}_std"] = common.mean_std([r["final"][key] for r in chosen])
    row["diverged"] = sum(r["diverged"] for r in chosen)
    return row


def plot(results: dict, path) -> None:
    """Training loss and test accuracy against epochs; saved to ``path``."""
    common.plot_learning_curves(results, path)
