"""The training loop: seeded mini-batches, learning-rate schedules, evaluation (:doc:`/data`)."""

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from . import validation as V
from .baselines import Adam, ENorm
from .cnn import PlainCNN
from .core.network import loss_and_output_error
from .core.optim import SGD, PathSGD
from .datasets import Dataset
from .fast import GSGD

SCHEDULES = ("constant", "exp", "multistep")
OPTIMIZERS = ("sgd", "pathsgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
_CLASSES = {"sgd": SGD, "pathsgd": PathSGD, "gsgd": GSGD, "adam": Adam, "enorm": ENorm}
_PRESETS = {"sgd-momentum": ("sgd", 0.9), "gsgd-momentum": ("gsgd", 0.9)}


class TrainingDiverged(FloatingPointError):
    """:func:`fit` met a non-finite loss, gradient or weight; ``history``: the epochs before."""

    history = None


def make_optimizer(name: str, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
    """The optimizer named in :data:`OPTIMIZERS`; only the paper's three take ``momentum``."""
    V.choice(name, OPTIMIZERS, "optimizer")
    if momentum and name not in OPTIMIZERS[:3]:
        raise ValueError(f"optimizer {name!r} takes no momentum argument, got {momentum}")
    name, momentum = _PRESETS.get(name, (name, momentum))
    extra = {} if name in ("adam", "enorm") else {"momentum": momentum}
    return _CLASSES[name](lr=lr, weight_decay=weight_decay, **extra)


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule ``schedule(epoch) -> lr``, epochs from 0 (:doc:`/data`)."""

    name: str
    lr: float
    k: float = 0.01
    milestones: tuple = ()
    gamma: float = 0.1

    def __call__(self, epoch: int) -> float:
        V.integer(epoch, "epoch", low=0)
        if self.name == "exp":
            return self.lr * math.exp(-self.k * epoch)
        if self.name == "multistep":
            return self.lr * self.gamma ** sum(m <= epoch for m in self.milestones)
        return self.lr

    def to_dict(self) -> dict:
        """The parameters that matter for this schedule, JSON-ready."""
        multistep = {"milestones": list(self.milestones), "gamma": self.gamma}
        extra = {"exp": {"k": self.k}, "multistep": multistep}.get(self.name, {})
        return {"name": self.name, "lr": self.lr, **extra}

    def __repr__(self) -> str:
        ms, k, gamma = list(self.milestones), self.k, self.gamma
        tail = {"exp": f" * exp(-{k:g} * epoch)", "multistep": f", x{gamma:g} at epochs {ms}"}
        return f"Schedule({self.name}: {self.lr:g}{tail.get(self.name, '')})"


def make_schedule(name="constant", lr=0.1, *, k=0.01, milestones=(), gamma=0.1) -> Schedule:
    """A checked :class:`Schedule`; ValueError or TypeError for a bad argument (:doc:`/data`)."""
    V.choice(name, SCHEDULES, "schedule")
    lr, k, gamma = V.learning_rate(lr), V.real(k, "k"), V.real(gamma, "gamma")
    if k < 0 or gamma <= 0:
        raise ValueError(f"k must be >= 0 and gamma > 0, got k={k}, gamma={gamma}")
    try:
        ms = tuple(sorted(V.integer(m, "milestones", low=0) for m in milestones))
    except TypeError:
        raise TypeError(f"milestones must be a sequence of integers, got {milestones!r}") from None
    except ValueError:
        raise ValueError(f"milestones must be integers >= 0, got {milestones!r}") from None
    return Schedule(name, lr, k, ms, gamma)


@dataclass
class History:
    """What :func:`fit` measured per epoch (0: before training) and its settings (:doc:`/data`)."""

    epoch: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    config: dict = field(default_factory=dict)

    def final(self, key: str):
        """The last value of the series ``key``; KeyError if it is unknown or empty."""
        if key not in _SERIES:
            raise KeyError(f"unknown history series {key!r}; accepted: {', '.join(_SERIES)}")
        if not getattr(self, key):
            raise KeyError(f"history series {key!r} is empty")
        return getattr(self, key)[-1]

    def _cells(self, i: int):
        for key, spec, width in _COLUMNS:
            value = getattr(self, key)[i] if i < len(getattr(self, key)) else None
            yield key.replace("_", " "), "-" if value is None else format(value, spec), width

    def table(self, max_rows: int = 12) -> str:
        """A text table of at most ``max_rows`` epochs, the first and the last included."""
        n = len(self.epoch)
        step = max(1, -(-(n - 1) // max(1, max_rows - 1)))
        lines = ["epoch" + "".join(f"  {k.replace('_', ' '):>{w}}" for k, _, w in _COLUMNS)]
        for i in sorted(set(range(0, n, step)) | {n - 1}) if n else []:
            cells = "".join(f"  {v:>{w}}" for _, v, w in self._cells(i))
            lines.append(f"{self.epoch[i]:5d}{cells}")
        return "\n".join(lines)

    def to_json(self, path) -> Path:
        """Write ``path``, the same for the same settings, and ``STEM.timing.json`` beside it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        d = asdict(self)
        timing = {"seconds": d.pop("seconds")}
        for p, content in ((path, d), (path.with_name(f"{path.stem}.timing.json"), timing)):
            p.write_text(json.dumps(content, indent=1, allow_nan=False) + "\n")
        return path

    @classmethod
    def from_json(cls, path) -> "History":
        """Read a history written by :meth:`to_json`; ValueError for any other file."""
        path = Path(path)
        timing = path.with_name(f"{path.stem}.timing.json")
        try:
            d = json.loads(path.read_text())
            if "seconds" not in d and timing.is_file():
                d["seconds"] = json.loads(timing.read_text())["seconds"]
            history = cls(**d)
        except (json.JSONDecodeError, TypeError, KeyError) as err:
            raise ValueError(f"{path}: not valid JSON of a history ({err})") from None
        n = len(history.epoch) if isinstance(history.epoch, list) else None
        for key in _SERIES:
            values = getattr(history, key)
            if not isinstance(values, list) or (values and len(values) != n):
                raise ValueError(f"{path}: {key!r} must be a list with one value per epoch")
        if not isinstance(history.config, dict):
            raise ValueError(f"{path}: 'config' must be a JSON object")
        return history


_SERIES = tuple(f.name for f in fields(History) if f.name != "config")
_COLUMNS = [("lr", ".4g", 7), ("train_loss", ".4f", 10), ("train_acc", ".4f", 9)]
_COLUMNS += [("val_acc", ".4f", 7), ("test_acc", ".4f", 8)]


def _inputs(net, X: np.ndarray) -> np.ndarray:
    """``X`` for ``net``: a plain CNN reads each row as ``C_0`` square images."""
    if not isinstance(net, PlainCNN):
        return X
    side = math.isqrt(X.shape[1] // net.widths[0])
    return X.reshape(len(X), net.widths[0], side, side)


def evaluate(net, X, y, loss: str = "cross_entropy", chunk: int = 4096):
    """Mean loss and accuracy of ``net`` on rows ``X``, labels ``y``, ``chunk`` rows at a time;
    ``(None, None)`` without rows; the loss may be inf or nan."""
    V.choice(loss, V.LOSSES, "loss")
    chunk = V.integer(chunk, "chunk", kind=TypeError)
    X, y = np.asarray(X), np.asarray(y)
    if y.ndim != 1 or X.ndim < 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"y must have shape (n,), n = len(X); got {y.shape}, X {X.shape}")
    y, K = V.labels(net, y, len(y)), net.widths[-1]
    if len(y) == 0:
        return None, None
    total, correct = 0.0, 0
    with np.errstate(over="ignore", invalid="ignore"):  # the caller checks finiteness
        for start in range(0, len(y), chunk):
            Xc, yc = X[start : start + chunk], y[start : start + chunk]
            logits = net.forward(_inputs(net, Xc))
            value, _ = loss_and_output_error(logits, np.eye(K)[yc] if loss == "mse" else yc, loss)
            total += float(value) * len(yc)
            correct += int(np.sum(np.argmax(logits, axis=1) == yc))
    return total / len(y), correct / len(y)


def _diverged(what: str, epoch: int, step, lr: float, optimizer) -> TrainingDiverged:
    where = f"at the end of epoch {epoch}" if step is None else f"at epoch {epoch}, step {step}"
    hint = "lower the learning rate (--lr)"
    if isinstance(optimizer, GSGD):
        hint += "; G-SGD also needs a start without small skeleton weights (--init skeleton-unit)"
    name = type(optimizer).__name__
    return TrainingDiverged(f"{name} training diverged {where} (lr={lr:g}): {what}. Hint: {hint}.")


def fit(
    net,
    optimizer,
    data: Dataset,
    *,
    epochs: int,
    batch_size: int = 32,
    loss: str = "cross_entropy",
    schedule=None,
    seed: int = 0,
    progress: bool | None = None,
    log=None,
):
    """Train ``net`` (not modified) on ``data``; return the trained network and its History.

    ``net``: an MLP or PlainCNN from ``data.n_features`` to ``data.n_classes``; ``optimizer``:
    with ``step(net, grads)`` and a settable ``lr``, ``schedule(t)`` each epoch (a Schedule,
    name or callable; None: constant); ``loss="mse"``: one-hot targets; ``progress``: a tqdm
    bar (None: if stderr is a terminal); ``log(line)`` each epoch (:doc:`/data`).
    TrainingDiverged on a non-finite loss, gradient or weight."""
    V.network(net)
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a Dataset (gspace.datasets.load), got {type(data).__name__}")
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "lr")):
        raise TypeError(f"optimizer needs step(net, grads) and lr, got {type(optimizer).__name__}")
    epochs = V.integer(epochs, "epochs", kind=TypeError)
    batch_size = V.integer(batch_size, "batch_size", kind=TypeError)
    V.choice(loss, V.LOSSES, "loss")
    seed = V.integer(seed, "seed", low=0)
    widths, d, K, name = net.widths, data.n_features, data.n_classes, type(optimizer).__name__
    cnn = isinstance(net, PlainCNN)  # reads rows of C_0 square images, channel after channel
    if widths[-1] != K or d != widths[0] * (math.isqrt(d // widths[0]) ** 2 if cnn else 1):
        raise ValueError(
            f"widths {widths} do not fit {d} features and {K} classes: an MLP needs [{d}, ..., "
            f"{K}], a CNN's {widths[0]} input channels must be square images of {d} pixels in all"
        )
    if schedule is None or isinstance(schedule, str):
        schedule = make_schedule(schedule or "constant", optimizer.lr)
    elif not callable(schedule):
        raise TypeError(f"schedule must be a name, None or callable, got {type(schedule).__name__}")
    lrs = []
    for t in range(epochs):  # every learning rate checked before any training
        try:
            lrs.append(V.learning_rate(schedule(t)))
        except (TypeError, ValueError) as err:
            raise type(err)(f"schedule({t}) returned a bad learning rate: {err}") from None
    X, y, n, rng = data.X_train, data.y_train, len(data.y_train), np.random.default_rng(seed)
    config = dict(dataset=data.name, n_train=n, n_val=len(data.y_val), n_test=len(data.y_test))
    config.update(widths=widths, bias=net.has_bias, optimizer=name, optimizer_repr=repr(optimizer))
    hyper = {k: getattr(optimizer, k, None) for k in ("momentum", "weight_decay")}
    config.update(lr=lrs[0], **hyper, epochs=epochs, batch_size=batch_size, loss=loss)
    config["schedule"] = schedule.to_dict() if isinstance(schedule, Schedule) else repr(schedule)
    history = History(config={**config, "seed": seed})
    from tqdm.auto import tqdm

    def record(epoch: int, lr, seconds: float) -> None:
        row = {"epoch": epoch, "lr": lr, "seconds": seconds}
        for s in ("train", "val", "test"):
            X_s, y_s = getattr(data, f"X_{s}"), getattr(data, f"y_{s}")
            loss_s, row[f"{s}_acc"] = evaluate(net, X_s, y_s, loss)
            if loss_s is not None and not math.isfinite(loss_s):
                raise _diverged(f"the {s} loss is {loss_s}", epoch, None, lr or lrs[0], optimizer)
            row[f"{s}_loss"] = loss_s
        for key, value in row.items():  # appended once every value is known: no ragged rows
            getattr(history, key).append(value)
        if log is not None:
            log(f"epoch {epoch:3d}" + "".join(f"  {c} {v}" for c, v, _ in history._cells(-1)))

    net, steps = net.copy(), -(-n // batch_size)  # a copy: fit never touches the caller's network
    progress = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=epochs * steps, disable=not progress, unit="step", desc=name, leave=False)
    try:
        record(0, None, 0.0)
        for epoch, lr in enumerate(lrs, start=1):
            optimizer.lr = lr
            perm, start_time = rng.permutation(n), time.perf_counter()
            for step in range(steps):
                idx = perm[step * batch_size : (step + 1) * batch_size]
                targets = np.eye(K)[y[idx]] if loss == "mse" else y[idx]
                with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                    value, grads = net.loss_and_gradients(_inputs(net, X[idx]), targets, loss)
                if not math.isfinite(value):
                    raise _diverged(f"the mini-batch loss is {value}", epoch, step, lr, optimizer)
                if not all(np.isfinite(g).all() for g in [*grads.weights, *(grads.biases or [])]):
                    raise _diverged("the gradients are non-finite", epoch, step, lr, optimizer)
                try:
                    net = optimizer.step(net, grads)
                except FloatingPointError as err:
                    raise _diverged(str(err), epoch, step, lr, optimizer) from err
                bar.update(1)
            record(epoch, lr, time.perf_counter() - start_time)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", epoch=epoch)
    except TrainingDiverged as err:
        err.history = history  # what was recorded before it happened
        raise
    finally:
        bar.close()
    return net, history
