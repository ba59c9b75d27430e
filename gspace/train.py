"""The training loop: seeded mini-batches, a learning-rate schedule, per-epoch evaluation.

::

    data = gspace.datasets.load("digits")
    net = gspace.initialize([64, 32, 32, 10], rng=np.random.default_rng(0))
    net, history = gspace.fit(net, gspace.SGD(lr=0.1), data, epochs=20)

:func:`fit` works with any optimizer that has the contract's ``new_net = opt.step(net, grads)``
and a settable ``lr``; it sets ``opt.lr`` from the schedule at the start of every epoch.
The :class:`History` records, for epoch 0 (before training) and every epoch after it, the loss
and accuracy on the three splits, and saves to JSON.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import validation as V
from .baselines import Adam, ENorm
from .cnn import PlainCNN
from .core.network import LOSSES, MLP, loss_and_output_error
from .core.optim import SGD, PathSGD
from .datasets import Dataset
from .fast import GSGD

__all__ = [
    "SCHEDULES",
    "Schedule",
    "make_schedule",
    "History",
    "TrainingDiverged",
    "OPTIMIZERS",
    "make_optimizer",
    "fit",
    "evaluate",
]

SCHEDULES = ("constant", "exp", "multistep")


class TrainingDiverged(FloatingPointError):
    """The loss or the weights became non-finite during :func:`fit`.

    Attributes
    ----------
    history : History or None
        What was recorded before training diverged (set by :func:`fit`).
    """

    history = None


OPTIMIZERS = ("sgd", "pathsgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm")
_PRESETS = {"sgd-momentum": ("sgd", 0.9), "gsgd-momentum": ("gsgd", 0.9)}


def make_optimizer(name: str, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
    """An optimizer by its command-line name (the one factory of gspace).

    Parameters
    ----------
    name : {"sgd", "pathsgd", "gsgd", "sgd-momentum", "gsgd-momentum", "adam", "enorm"}
        :class:`gspace.SGD`, :class:`gspace.PathSGD`, :class:`gspace.GSGD`; the baselines
        beyond the paper: SGD and G-SGD with momentum 0.9 (G-SGD's in G-space),
        :class:`gspace.Adam` (betas (0.9, 0.999), eps 1e-8) and :class:`gspace.ENorm`.
    lr : float
        Learning rate, > 0.
    momentum : float, default 0
        Not for the presets with momentum, Adam or ENorm.
    weight_decay : float, default 0

    Returns
    -------
    Optimizer

    Raises
    ------
    ValueError
        Unknown name (the message lists the accepted ones), a momentum the optimizer does not
        take, or bad hyper-parameters.

    Examples
    --------
    >>> make_optimizer("sgd", 0.1, momentum=0.9)
    SGD(lr=0.1, momentum=0.9, weight_decay=0.0)
    >>> make_optimizer("gsgd-momentum", 0.01)
    GSGD(lr=0.01, momentum=0.9, weight_decay=0.0)
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; accepted: {', '.join(OPTIMIZERS)}")
    if momentum and (name in _PRESETS or name in ("adam", "enorm")):
        raise ValueError(f"optimizer {name!r} takes no momentum argument, got {momentum}")
    name, momentum = _PRESETS.get(name, (name, momentum))
    if name in ("adam", "enorm"):
        return {"adam": Adam, "enorm": ENorm}[name](lr=lr, weight_decay=weight_decay)
    cls = {"sgd": SGD, "pathsgd": PathSGD, "gsgd": GSGD}[name]
    return cls(lr=lr, momentum=momentum, weight_decay=weight_decay)


# ---------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``schedule(epoch) -> lr``, epochs counted from 0.

    Build it with :func:`make_schedule`, which validates the parameters.

    Attributes
    ----------
    name : {"constant", "exp", "multistep"}
    lr : float
        The initial learning rate, ``schedule(0)``.
    k : float
        Decay rate of ``"exp"``.
    milestones : tuple of int
        Epochs at which ``"multistep"`` multiplies the rate by ``gamma``.
    gamma : float
        Factor of ``"multistep"``.
    """

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
            return self.lr * self.gamma ** sum(1 for m in self.milestones if m <= epoch)
        return self.lr

    def to_dict(self) -> dict:
        """The parameters that matter for this schedule, JSON-ready."""
        d = {"name": self.name, "lr": self.lr}
        if self.name == "exp":
            d["k"] = self.k
        elif self.name == "multistep":
            d["milestones"] = list(self.milestones)
            d["gamma"] = self.gamma
        return d

    def __repr__(self) -> str:
        if self.name == "exp":
            return f"Schedule(exp: {self.lr:g} * exp(-{self.k:g} * epoch))"
        if self.name == "multistep":
            ms = ", ".join(str(m) for m in self.milestones)
            return f"Schedule(multistep: {self.lr:g}, x{self.gamma:g} at epochs [{ms}])"
        return f"Schedule(constant: {self.lr:g})"


def make_schedule(
    name: str = "constant",
    lr: float = 0.1,
    *,
    k: float = 0.01,
    milestones=(),
    gamma: float = 0.1,
) -> Schedule:
    r"""A learning-rate schedule, callable as ``schedule(epoch) -> lr`` (epochs from 0).

    Parameters
    ----------
    name : {"constant", "exp", "multistep"}, default "constant"
    lr : float, default 0.1
        Initial learning rate, > 0.
    k : float, default 0.01
        ``"exp"`` decay rate, >= 0.
    milestones : sequence of int, default ()
        ``"multistep"`` epochs (>= 0; sorted for you).
    gamma : float, default 0.1
        ``"multistep"`` factor, > 0.

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        Unknown name (the message lists the accepted ones), ``lr <= 0``, ``k < 0``,
        ``gamma <= 0`` or a negative milestone.
    TypeError
        Non-numeric parameters.

    Notes
    -----
    * ``"constant"``: :math:`\eta_t = \eta`.
    * ``"exp"``: :math:`\eta_t = \eta\, e^{-k t}`, the decay of the authors' MLP runs
      (:math:`\eta = 0.1, k = 0.01`).
    * ``"multistep"``: :math:`\eta_t = \eta\, \gamma^{\#\{m \in M : m \le t\}}`, the decay
      of the authors' CNN runs (x0.1 at epochs 80 and 120).

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019, section "Experiments"; and the authors' released
       code, MSRA-COLT/gsgd.

    Examples
    --------
    >>> s = make_schedule("multistep", lr=1.0, milestones=(2, 4))
    >>> [s(t) for t in range(6)]
    [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    >>> round(make_schedule("exp", lr=0.1, k=0.01)(100), 6)
    0.036788
    """
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; accepted: {', '.join(SCHEDULES)}")
    lr, k, gamma = V.learning_rate(lr), V.real(k, "k"), V.real(gamma, "gamma")
    if k < 0 or gamma <= 0:
        raise ValueError(f"k must be >= 0 and gamma > 0, got k={k}, gamma={gamma}")
    try:
        ms = tuple(sorted(milestones))
    except TypeError:
        raise TypeError(f"milestones must be a sequence of integers, got {milestones!r}") from None
    try:
        ms = tuple(V.integer(m, "milestones", low=0) for m in ms)
    except ValueError:
        raise ValueError(f"milestones must be integers >= 0, got {milestones!r}") from None
    return Schedule(name=name, lr=lr, k=k, milestones=ms, gamma=gamma)


# ---------------------------------------------------------------------------- history
_SERIES = (
    "epoch",
    "lr",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "test_loss",
    "test_acc",
    "seconds",
)


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (entry 0: before training).

    Attributes
    ----------
    epoch : list of int
        ``0, 1, ..., epochs``.
    lr : list of float or None
        Learning rate used during the epoch (None at epoch 0).
    train_loss, train_acc, val_loss, val_acc, test_loss, test_acc : list of float or None
        Mean loss and accuracy of the network at the end of the epoch on each split (None
        for an empty split).
    seconds : list of float
        Wall-clock seconds spent in the epoch's training steps (evaluation excluded; 0 at
        epoch 0). The only series that differs between two runs with the same settings:
        :meth:`to_json` writes it to a file of its own.
    config : dict
        The run's settings (optimizer, schedule, batch size, data set, widths, seed, ...).

    Examples
    --------
    >>> h = History(epoch=[0, 1], test_acc=[0.1, 0.8])
    >>> h.final("test_acc")
    0.8
    """

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
        """The last recorded value of the series ``key`` (e.g. ``"test_acc"``).

        Raises
        ------
        KeyError
            If ``key`` is not one of the series, or nothing was recorded.
        """
        if key not in _SERIES:
            raise KeyError(f"unknown history series {key!r}; accepted: {', '.join(_SERIES)}")
        values = getattr(self, key)
        if not values:
            raise KeyError(f"history series {key!r} is empty")
        return values[-1]

    def to_dict(self) -> dict:
        """The history as a plain dict (what :meth:`to_json` writes)."""
        return asdict(self)

    def table(self, max_rows: int = 12) -> str:
        """A short text table of the epochs (at most ``max_rows`` rows, last epoch included).

        Examples
        --------
        >>> h = History(epoch=[0, 1], lr=[None, 0.1], train_loss=[2.0, 1.0],
        ...             train_acc=[0.1, 0.5], val_acc=[0.1, 0.4], test_acc=[0.2, 0.45])
        >>> print(h.table())
        epoch       lr  train loss  train acc  val acc  test acc
            0        -      2.0000     0.1000   0.1000    0.2000
            1      0.1      1.0000     0.5000   0.4000    0.4500
        """
        n = len(self.epoch)
        step = max(1, -(-(n - 1) // max(1, max_rows - 1)))
        rows = sorted(set(range(0, n, step)) | {n - 1}) if n else []
        cols = ("lr", "train_loss", "train_acc", "val_acc", "test_acc")
        lines = ["epoch       lr  train loss  train acc  val acc  test acc"]
        for i in rows:
            v = {c: (getattr(self, c)[i] if i < len(getattr(self, c)) else None) for c in cols}
            lines.append(
                f"{self.epoch[i]:5d}  {_fmt(v['lr'], '.4g'):>7}  {_fmt(v['train_loss'], '.4f'):>10}"
                f"  {_fmt(v['train_acc'], '.4f'):>9}  {_fmt(v['val_acc'], '.4f'):>7}"
                f"  {_fmt(v['test_acc'], '.4f'):>8}"
            )
        return "\n".join(lines)

    def to_json(self, path) -> Path:
        """Write the history as JSON to ``path`` (parent directories are created).

        The wall-clock ``seconds`` go to a file of their own beside it, ``STEM.timing.json``
        (``history.timing.json`` for ``history.json``), so that two runs with the same
        settings write byte-identical files ``path``. :meth:`from_json` reads both.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        d = self.to_dict()
        timing = {"seconds": d.pop("seconds")}
        for p, content in ((path, d), (_timing_path(path), timing)):
            p.write_text(json.dumps(content, indent=1, allow_nan=False) + "\n")
        return path

    @classmethod
    def from_json(cls, path) -> History:
        """Read a history written by :meth:`to_json`.

        Raises
        ------
        ValueError
            If the file is not a JSON object with the history's series, a series is not a
            list or has a length other than that of ``epoch`` (an empty series is allowed).
        """
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        if not isinstance(d, dict) or "epoch" not in d:
            raise ValueError(f"{path}: expected a JSON object with the series {_SERIES}")
        timing = _timing_path(path)
        if "seconds" not in d and timing.is_file():
            try:
                d["seconds"] = json.loads(timing.read_text())["seconds"]
            except (json.JSONDecodeError, TypeError, KeyError):
                raise ValueError(f"{timing}: expected a JSON object with 'seconds'") from None
        unknown = set(d) - set(_SERIES) - {"config"}
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        for key in _SERIES:
            values = d.get(key, [])
            if not isinstance(values, list) or (values and len(values) != len(d["epoch"])):
                raise ValueError(
                    f"{path}: series {key!r} must be a list with one value per epoch "
                    f"({len(d['epoch']) if isinstance(d['epoch'], list) else '?'}), "
                    f"got {values!r}"
                )
        if not isinstance(d.get("config", {}), dict):
            raise ValueError(f"{path}: 'config' must be a JSON object")
        return cls(**d)


def _timing_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.timing.json")


# ---------------------------------------------------------------------------- training
def _targets(y: np.ndarray, loss: str, K: int) -> np.ndarray:
    """Labels for cross-entropy, one-hot rows for mse."""
    if loss == "mse":
        return np.eye(K)[y]
    return y


def evaluate(net: MLP, X, y, loss: str = "cross_entropy", chunk: int = 4096):
    """Mean loss and accuracy of ``net`` on ``(X, y)``, computed in chunks of samples.

    Parameters
    ----------
    net : MLP or PlainCNN
    X : ndarray of shape (n, d)
        For a PlainCNN, rows of square images as in :func:`fit`.
    y : ndarray of shape (n,)
        Integer labels; for ``loss="mse"`` the targets are their one-hot rows.
    loss : {"cross_entropy", "mse"}
    chunk : int, default 4096

    Returns
    -------
    (loss, accuracy) : tuple of float, or (None, None) when ``n == 0``
        The loss may be non-finite (inf or nan) if the network has blown up.

    Raises
    ------
    ValueError
        Unknown ``loss``, ``chunk < 1``, ``X`` and ``y`` of different lengths, labels
        outside ``0..K-1``, or ``X`` not of shape ``(n, d)`` for the network.
    TypeError
        Labels that are not integers, or ``X`` not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP.from_weights([np.eye(2)])
    >>> evaluate(net, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0]))[1]
    0.5
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; accepted: {', '.join(LOSSES)}")
    chunk = V.integer(chunk, "chunk", kind=TypeError)
    X, y = np.asarray(X), np.asarray(y)
    if y.ndim != 1 or X.ndim < 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"y must have shape (n,) with n = len(X); got X of shape {X.shape} and y of "
            f"shape {y.shape}"
        )
    K = net.widths[-1]
    if y.dtype.kind not in "iu":
        raise TypeError(f"y must be integer class labels, got dtype {y.dtype}")
    n = len(y)
    if n == 0:
        return None, None
    if y.min() < 0 or y.max() >= K:
        raise ValueError(
            f"labels must lie in 0..{K - 1} for a network with {K} outputs, "
            f"got range {y.min()}..{y.max()}"
        )
    total, correct = 0.0, 0
    with np.errstate(over="ignore", invalid="ignore"):  # the caller checks finiteness
        for start in range(0, n, chunk):
            Xc, yc = X[start : start + chunk], y[start : start + chunk]
            logits = net.forward(_inputs(net, Xc))
            value, _ = loss_and_output_error(logits, _targets(yc, loss, K), loss)
            total += float(value) * len(yc)
            correct += int(np.sum(np.argmax(logits, axis=1) == yc))
    return total / n, correct / n


def _inputs(net, X: np.ndarray) -> np.ndarray:
    """``X`` for ``net``: a plain CNN reads each row as ``C_0`` square images."""
    if not isinstance(net, PlainCNN):
        return X
    side = math.isqrt(X.shape[1] // net.widths[0])
    return X.reshape(len(X), net.widths[0], side, side)


def _resolve_schedule(schedule, lr0: float) -> Callable[[int], float]:
    if schedule is None:
        return make_schedule("constant", lr0)
    if isinstance(schedule, str):
        return make_schedule(schedule, lr0)
    if not callable(schedule):
        raise TypeError(
            f"schedule must be None, a schedule name ({', '.join(SCHEDULES)}), a Schedule "
            f"from make_schedule or a callable epoch -> lr, got {type(schedule).__name__}"
        )
    return schedule


def _diverged(what: str, epoch: int, step: int | None, lr: float, optimizer) -> TrainingDiverged:
    where = f"at the end of epoch {epoch}" if step is None else f"at epoch {epoch}, step {step}"
    name = type(optimizer).__name__
    hint = "lower the learning rate (--lr)"
    if isinstance(optimizer, GSGD):
        hint += "; G-SGD also needs a start without small skeleton weights (--init skeleton-unit)"
    return TrainingDiverged(f"{name} training diverged {where} (lr={lr:g}): {what}. Hint: {hint}.")


def fit(
    net: MLP,
    optimizer,
    data: Dataset,
    *,
    epochs: int,
    batch_size: int = 32,
    loss: str = "cross_entropy",
    schedule=None,
    seed: int = 0,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[MLP, History]:
    """Train ``net`` with ``optimizer`` on ``data``; return the trained network and its history.

    Parameters
    ----------
    net : MLP or PlainCNN
        Widths ``[data.n_features, ..., data.n_classes]``; a :class:`gspace.PlainCNN` with
        ``C_0`` input channels reads each row of ``data`` as ``C_0`` square images, one after
        the other (``X.reshape(n, C_0, s, s)``). Not modified.
    optimizer : Optimizer
        Anything with ``new_net = optimizer.step(net, grads)`` and a settable ``lr``
        (:class:`gspace.SGD`, :class:`gspace.PathSGD`, :class:`gspace.GSGD`). Its ``lr`` is set
        from the schedule at the start of every epoch; its state (momentum) carries on.
    data : Dataset
    epochs : int
        Number of passes over the training split, >= 1.
    batch_size : int, default 32
        >= 1; the last mini-batch of an epoch may be smaller.
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        ``"mse"`` regresses the one-hot rows of the labels.
    schedule : Schedule, str or callable, optional
        ``lr`` of the ``t``-th epoch (``t`` from 0) is ``schedule(t)``. None: constant at the
        optimizer's ``lr``; a name: :func:`make_schedule` of that name starting at that ``lr``.
    seed : int, default 0
        Seeds the mini-batch shuffle, ``np.random.default_rng(seed)``.
    progress : bool, optional
        tqdm progress bar on stderr. None: on only when stderr is a terminal.
    log : callable, optional
        Called with a one-line summary after every epoch (e.g. ``log=print``).

    Returns
    -------
    net : MLP or PlainCNN
        The trained network (a new object).
    history : History

    Raises
    ------
    TrainingDiverged
        When the loss, the gradients or the weights become non-finite; the message gives the
        epoch, step and learning rate.
    ValueError
        ``epochs < 1``, ``batch_size < 1``, unknown loss or schedule, a learning rate <= 0,
        or a network whose widths do not fit the data.
    TypeError
        Arguments of the wrong type.

    Notes
    -----
    Each epoch ``t = 1..epochs``: set ``optimizer.lr = schedule(t - 1)``; draw a permutation of
    the training samples from the seeded generator; for each mini-batch ``B`` compute
    ``loss, grads = net.loss_and_gradients(X_B, Y_B)`` and ``net = optimizer.step(net, grads)``;
    then evaluate on the three splits.

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> data = gspace.datasets.load("teacher", n_samples=300)
    >>> net = gspace.MLP([10, 16, 3], rng=np.random.default_rng(0))
    >>> trained, history = fit(net, gspace.SGD(lr=0.1), data, epochs=3)
    >>> history.epoch
    [0, 1, 2, 3]
    >>> history.final("train_loss") < history.train_loss[0]
    True
    """
    if not isinstance(net, (MLP, PlainCNN)):
        raise TypeError(f"net must be a gspace.MLP or gspace.PlainCNN, got {type(net).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(
            f"data must be a gspace.datasets.Dataset (gspace.datasets.load(...)), "
            f"got {type(data).__name__}"
        )
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "lr")):
        raise TypeError(
            f"optimizer must have step(net, grads) and lr (e.g. gspace.SGD), "
            f"got {type(optimizer).__name__}"
        )
    epochs = V.integer(epochs, "epochs", kind=TypeError)
    batch_size = V.integer(batch_size, "batch_size", kind=TypeError)
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; accepted: {', '.join(LOSSES)}")
    seed = V.integer(seed, "seed", low=0)
    widths = net.widths
    if isinstance(net, PlainCNN):  # rows of C_0 square images, channel after channel
        side = math.isqrt(data.n_features // widths[0])
        if widths[0] * side * side != data.n_features or widths[-1] != data.n_classes:
            raise ValueError(
                f"the CNN's {widths[0]} input channels and {widths[-1]} outputs do not fit "
                f"the data: {data.n_features} features (not {widths[0]} square images) or "
                f"{data.n_classes} classes"
            )
    elif widths[0] != data.n_features or widths[-1] != data.n_classes:
        raise ValueError(
            f"the network's widths {widths} do not fit the data: need "
            f"{data.n_features} inputs and {data.n_classes} outputs "
            f"([{data.n_features}, ..., {data.n_classes}])"
        )
    sched = _resolve_schedule(schedule, optimizer.lr)
    lrs = []
    for t in range(epochs):  # validate every learning rate before any training
        lr_t = sched(t)
        if isinstance(lr_t, bool) or not isinstance(lr_t, numbers.Real):
            raise TypeError(f"schedule({t}) returned {lr_t!r}, not a number")
        if not (math.isfinite(lr_t) and lr_t > 0):
            raise ValueError(f"schedule({t}) returned lr={lr_t}; learning rates must be > 0")
        lrs.append(float(lr_t))
    if progress is None:
        progress = sys.stderr.isatty()

    X, y = data.X_train, data.y_train
    n = len(y)
    K = data.n_classes
    rng = np.random.default_rng(seed)
    history = History(
        config={
            "dataset": data.name,
            "n_train": n,
            "n_val": len(data.y_val),
            "n_test": len(data.y_test),
            "widths": widths,
            "bias": net.has_bias,
            "optimizer": type(optimizer).__name__,
            "optimizer_repr": repr(optimizer),
            "lr": lrs[0],
            "momentum": getattr(optimizer, "momentum", None),
            "weight_decay": getattr(optimizer, "weight_decay", None),
            "epochs": epochs,
            "batch_size": batch_size,
            "loss": loss,
            "schedule": sched.to_dict() if isinstance(sched, Schedule) else repr(sched),
            "seed": seed,
        }
    )

    def record(epoch: int, lr, seconds: float) -> None:
        results = {}
        for split in ("train", "val", "test"):
            value, acc = evaluate(
                net, getattr(data, f"X_{split}"), getattr(data, f"y_{split}"), loss
            )
            if value is not None and not math.isfinite(value):
                raise _diverged(
                    f"the {split} loss is {value}", epoch, None, lr or lrs[0], optimizer
                )
            results[split] = (value, acc)
        history.epoch.append(epoch)  # append only once every value is known: no ragged rows
        history.lr.append(lr)
        history.seconds.append(seconds)
        for split, (value, acc) in results.items():
            getattr(history, f"{split}_loss").append(value)
            getattr(history, f"{split}_acc").append(acc)
        if log is not None:
            log(_summary(history))

    net = net.copy()  # fit never touches the caller's network
    steps_per_epoch = -(-n // batch_size)
    from tqdm.auto import tqdm

    bar = tqdm(
        total=epochs * steps_per_epoch, disable=not progress, file=sys.stderr, unit="step",
        desc=type(optimizer).__name__, leave=False,
    )  # fmt: skip
    try:
        record(0, None, 0.0)
        for epoch in range(1, epochs + 1):
            lr = lrs[epoch - 1]
            optimizer.lr = lr
            perm = rng.permutation(n)
            start_time = time.perf_counter()
            for step in range(steps_per_epoch):
                idx = perm[step * batch_size : (step + 1) * batch_size]
                Xb, yb = X[idx], y[idx]
                with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                    value, grads = net.loss_and_gradients(
                        _inputs(net, Xb), _targets(yb, loss, K), loss=loss
                    )
                if not math.isfinite(value):
                    raise _diverged(f"the mini-batch loss is {value}", epoch, step, lr, optimizer)
                gs = list(grads.weights) + list(grads.biases or [])
                if not all(np.all(np.isfinite(g)) for g in gs):
                    raise _diverged("the gradients are non-finite", epoch, step, lr, optimizer)
                try:
                    net = optimizer.step(net, grads)
                except TrainingDiverged:
                    raise
                except FloatingPointError as err:
                    raise _diverged(str(err), epoch, step, lr, optimizer) from err
                bar.update(1)
            seconds = time.perf_counter() - start_time
            record(epoch, lr, seconds)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", epoch=epoch)
    except TrainingDiverged as err:
        err.history = history  # what was recorded before it happened
        raise
    finally:
        bar.close()
    return net, history


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _summary(h: History) -> str:
    lr = h.lr[-1]
    return (
        f"epoch {h.epoch[-1]:3d}  lr {_fmt(lr, '.4g'):>7}"
        f"  train loss {_fmt(h.train_loss[-1], '.4f')}"
        f"  train acc {_fmt(h.train_acc[-1], '.4f')}  val acc {_fmt(h.val_acc[-1], '.4f')}"
        f"  test acc {_fmt(h.test_acc[-1], '.4f')}"
    )
