"""The ``gspace`` command line: ``demo``, ``train``, ``verify``, ``experiment``, ``lab``.

Installed as the console script ``gspace`` and runnable as ``python -m gspace``. Every
subcommand has ``--help``. :func:`main` returns the exit status: 0 on success, 1 when the
command ran but failed (a claim does not hold, training diverged, data missing). A user error
(a malformed argument, arguments that contradict each other, an output location that cannot
be written, a network too large for the memory) is found before any work starts and exits
with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import validation as V

__all__ = [
    "main", "build_parser", "DemoStep", "DEMO_STEPS", "EXPERIMENTS", "run_training", "UsageError",
]  # fmt: skip

#: Experiment names accepted by ``gspace experiment`` (the contract's list).
EXPERIMENTS = (
    "invariance", "unbalanced-init", "width", "path-sgd", "authors-mlp", "init", "cnn-depth",
)  # fmt: skip


class UsageError(Exception):
    """A user error found before any work; :func:`main` prints it on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- pre-work checks
def _check_out(out, files=(), flag: str = "--out") -> Path:
    """Refuse an output directory that cannot be written, before any work starts.

    ``out`` must be a directory or not exist yet, with a writable nearest existing ancestor on
    a writable file system; none of ``files`` (to be written in it) may be a directory.
    Raises :class:`UsageError`.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{flag} {out} is an existing file; give a directory")
    for name in files:
        if (out / name).is_dir():
            raise UsageError(f"{flag} {out}: {out / name} is a directory, cannot write {name}")
    base = next(p for p in (out, *out.parents) if p.exists())
    if not base.is_dir():
        raise UsageError(f"{flag} {out}: {base} is a file, not a directory")
    try:  # the only sure test (root ignores permission bits; read-only file systems, /proc)
        os.rmdir(tempfile.mkdtemp(prefix=".gspace-probe-", dir=base))
        ok = all(os.access(out / n, os.W_OK) for n in files if (out / n).exists())
    except OSError:
        ok = False
    if not ok:
        raise UsageError(f"{flag} {out}: {base} is not writable")
    return out


def _available_memory() -> int | None:
    """Bytes of memory available (Linux ``MemAvailable``, else physical memory, else None)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(widths, flag: str, copies: int, extra: int = 0) -> None:
    """Refuse a network whose ``copies`` float64 copies (plus ``extra`` bytes) exceed the
    available memory. Raises :class:`UsageError`."""
    m = sum(a * b for a, b in zip(widths, widths[1:]))
    need, avail = 8 * (copies * m + extra), _available_memory()
    if avail is not None and need > avail:
        raise UsageError(
            f"{flag}: a network of widths {','.join(map(str, widths))} has {m:,} weights and "
            f"needs about {need / 1e9:,.1f} GB of memory; {avail / 1e9:,.1f} GB is available"
        )


# ---------------------------------------------------------------------------- argument types
def _ints(text: str, low: int, name: str, like: str) -> list[int]:
    """argparse helper: comma-separated integers, each checked by ``validation.integer``."""
    try:
        values = [int(p) for p in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated {like}, got {text!r}") from None
    try:
        return [V.integer(v, name, low) for v in values]
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def int_list(text: str) -> list[int]:
    """Parse ``"32,32"`` into ``[32, 32]`` (argparse type; every entry an integer >= 1)."""
    return _ints(text, 1, "every width", "positive integers like 32,32")


def _widths_type(low: int, need: str):
    """argparse type: ``"3,4,4,2"`` with at least ``low`` entries, each an integer >= 1."""

    def parse(text: str) -> list[int]:
        values = int_list(text)
        if len(values) < low:
            raise argparse.ArgumentTypeError(f"{need}, like 3,4,4,2; got {text!r}")
        return values

    return parse


widths_list = _widths_type(2, "widths need at least 2 entries (inputs and outputs)")
_verify_widths = _widths_type(3, "verify needs at least one hidden layer: at least 3 widths")


def _int_type(low: int):
    """argparse type: an integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            return V.integer(int(text), "value", low)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {low}, got {text!r}"
            ) from None

    return parse


positive_int = _int_type(1)
nonnegative_int = _int_type(0)


def jobs_count(text: str) -> int:
    """argparse type of ``--jobs``: a non-zero integer, as joblib's ``n_jobs`` (-1: all cores)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-zero integer (N runs at once; -1: all cores), got {text!r}"
        )
    return value


def _float_type(low: float, low_inclusive: bool, high: float | None = None, what: str = ""):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {what}, got {text!r}") from None
        ok = np.isfinite(value) and (value >= low if low_inclusive else value > low)
        if high is not None:
            ok = ok and value < high
        if not ok:
            raise argparse.ArgumentTypeError(f"expected a number {what}, got {text!r}")
        return value

    return parse


positive_float = _float_type(0.0, False, what="> 0")
nonnegative_float = _float_type(0.0, True, what=">= 0")
momentum_float = _float_type(0.0, True, 1.0, what="in [0, 1)")


# ---------------------------------------------------------------------------- train
def run_training(
    *,
    dataset: str = "digits",
    optimizer: str = "sgd",
    hidden: Sequence[int] = (32, 32),
    epochs: int = 20,
    lr: float = 0.1,
    batch_size: int = 32,
    seed: int = 0,
    init: str | None = None,
    out=None,
    loss: str = "cross_entropy",
    schedule: str = "constant",
    decay_k: float = 0.01,
    milestones: Sequence[int] = (),
    gamma: float = 0.1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    bias: bool = False,
    data_dir=None,
    limit: int | None = None,
    progress: bool | None = None,
    title: str | None = None,
):
    """What ``gspace train`` does, as a function: load, initialize, fit, save.

    Parameters
    ----------
    dataset, optimizer, hidden, epochs, lr, batch_size, seed, init, loss, schedule, momentum,
    weight_decay, bias, data_dir, limit
        As the command-line options of ``gspace train`` (see ``gspace train --help``).
        ``init=None`` means :data:`gspace.initialization.DEFAULT_INIT`. ``seed`` seeds the
        data split, the initial weights and the mini-batch shuffle.
    decay_k, milestones, gamma
        Parameters of the ``"exp"`` and ``"multistep"`` schedules.
    out : str or os.PathLike, optional
        If given, ``out/history.json`` (with ``out/history.timing.json``, see
        :meth:`History.to_json <gspace.train.History.to_json>`) and ``out/learning_curves.png``
        are written.
    progress : bool, optional
        tqdm progress bar (None: only on a terminal).
    title : str, optional
        Plot title.

    Returns
    -------
    net : MLP
        The trained network.
    history : History
        ``history.config`` also records ``init``, ``hidden`` and ``dataset_description``.

    Raises
    ------
    TrainingDiverged
        With ``err.history`` set (and written to ``out`` if given).
    ValueError, TypeError, FileNotFoundError, NotImplementedError
        Bad settings, missing data, an optimizer not available yet.
    """
    from .datasets import load
    from .initialization import DEFAULT_INIT, initialize
    from .plotting import plot_history
    from .train import TrainingDiverged, fit, make_optimizer, make_schedule

    init = DEFAULT_INIT if init is None else init
    opt = make_optimizer(optimizer, lr, momentum=momentum, weight_decay=weight_decay)
    sched = make_schedule(schedule, lr, k=decay_k, milestones=milestones, gamma=gamma)
    data = load(dataset, seed=seed, data_dir=data_dir, limit=limit)
    widths = [data.n_features, *hidden, data.n_classes]
    net = initialize(widths, init=init, bias=bias, rng=np.random.default_rng(seed))
    extra = {"init": init, "hidden": list(hidden), "dataset_description": data.description}

    def save(history):
        history.config.update(extra)
        if out is not None:
            out_dir = Path(out)
            history.to_json(out_dir / "history.json")
            plot_history(
                history,
                out_dir / "learning_curves.png",
                title=title or f"{optimizer} on {dataset}, widths {widths}, init {init}",
            )

    try:
        trained, history = fit(
            net, opt, data, epochs=epochs, batch_size=batch_size, loss=loss, schedule=sched,
            seed=seed, progress=progress,
        )  # fmt: skip
    except TrainingDiverged as err:
        if err.history is not None and err.history.epoch:
            save(err.history)
        raise
    save(history)
    return trained, history


#: Input features of the data sets, for the memory check before loading (others: 784).
_N_FEATURES = {"digits": 64, "teacher": 10}


def _check_train_args(args) -> Path:
    """The checks of ``gspace train`` that argparse cannot do alone; returns the output dir."""
    unused = {"exp": ("--decay-k",), "multistep": ("--milestones", "--gamma")}
    for schedule, flags in unused.items():
        for flag in flags:
            if args.schedule != schedule and getattr(args, flag[2:].replace("-", "_")) is not None:
                raise UsageError(
                    f"{flag} applies only to --schedule {schedule}, not {args.schedule}"
                )
    if args.schedule == "multistep":
        if not args.milestones:
            raise UsageError("--schedule multistep needs --milestones (epochs, e.g. 80,120)")
        late = [m for m in args.milestones if m >= args.epochs]
        if late:
            raise UsageError(
                f"--milestones {','.join(map(str, late))} never reached in --epochs {args.epochs} "
                f"(epochs are counted from 0)"
            )
    _check_data_dir(args.data_dir)
    widths = [_N_FEATURES.get(args.dataset, 784), *args.hidden, 2]
    # the network, its gradients, the optimizer's new network and state, with room to spare
    _check_memory(widths, "--hidden", copies=8, extra=4096 * sum(widths) * 2)
    out = args.out or Path("gspace-train") / f"{args.dataset}-{args.optimizer}-seed{args.seed}"
    return _check_out(out, ("history.json", "history.timing.json", "learning_curves.png"))


def _cmd_train(args) -> int:
    from .train import TrainingDiverged

    out = _check_train_args(args)
    try:
        names = "dataset optimizer hidden epochs lr batch_size seed init loss schedule momentum "
        names += "weight_decay bias data_dir limit"
        _, history = run_training(
            **{name: getattr(args, name) for name in names.split()},
            out=out,
            decay_k=0.01 if args.decay_k is None else args.decay_k,
            milestones=args.milestones or (),
            gamma=0.1 if args.gamma is None else args.gamma,
            progress=False if args.no_progress else None,
        )
    except TrainingDiverged as err:
        kept = f" The history until then is in {out}." if err.history and err.history.epoch else ""
        print(f"gspace train: {err}{kept}", file=sys.stderr)
        return 1
    except (ValueError, OSError, NotImplementedError) as err:  # OSError: missing data, disk full
        print(f"gspace train: error: {err}", file=sys.stderr)
        return 1
    print(history.table())
    print(
        f"final test accuracy {history.final('test_acc'):.4f} "
        f"(validation {history.final('val_acc'):.4f}) after {history.epoch[-1]} epochs"
    )
    print(
        f"wrote {Path(out) / 'history.json'} (the same for the same settings; wall-clock "
        f"times in history.timing.json) and {Path(out) / 'learning_curves.png'}"
    )
    return 0


# ---------------------------------------------------------------------------- demo
@dataclass(frozen=True)
class DemoStep:
    """One step of ``gspace demo``: a title and a function ``run(args) -> None``.

    ``args`` has ``out`` (a :class:`~pathlib.Path`; each step writes into its own
    sub-directory), ``seed`` and ``progress``. Later issues append steps to
    :data:`DEMO_STEPS`; keep each under about ten seconds.
    """

    title: str
    run: Callable[[argparse.Namespace], None]


def _demo_sgd_digits(args) -> None:
    out = args.out / "sgd-digits"
    _, history = run_training(
        dataset="digits",
        optimizer="sgd",
        hidden=(32, 32),
        epochs=20,
        lr=0.1,
        batch_size=32,
        seed=args.seed,
        out=out,
        progress=args.progress,
        title="SGD on digits (64-32-32-10)",
    )
    print(history.table(max_rows=8))
    print(f"test accuracy {history.final('test_acc'):.4f}; curves in {out}/learning_curves.png")


def _demo_experiment(name: str) -> Callable[[argparse.Namespace], None]:
    def run(args) -> None:
        from . import experiments

        experiments.demo(name, args.out / name, seed=args.seed, progress=args.progress)

    return run


#: The steps of ``gspace demo``, run in order.
DEMO_STEPS: list[DemoStep] = [
    DemoStep("Train a 64-32-32-10 ReLU MLP on digits with SGD (20 epochs)", _demo_sgd_digits),
    DemoStep(
        "Invariance: SGD, Path-SGD and G-SGD from w and from a rescaled g(w)",
        _demo_experiment("invariance"),
    ),
    DemoStep("SGD, Path-SGD and G-SGD on digits: learning curves", _demo_experiment("path-sgd")),
]


def _cmd_demo(args) -> int:
    args.out = _check_out(args.out)
    args.progress = False if args.no_progress else None
    start = time.perf_counter()
    print(f"gspace demo: {len(DEMO_STEPS)} step(s); output in {args.out}")
    for i, step in enumerate(DEMO_STEPS, 1):
        print(f"\n== {i}. {step.title}")
        t0 = time.perf_counter()
        step.run(args)
        print(f"   ({time.perf_counter() - t0:.1f} s)")
    print(f"\ndemo finished in {time.perf_counter() - start:.1f} s")
    return 0


# ---------------------------------------------------------------------------- delegation
def _delegate(module: str, what: str, args) -> int:
    """Call ``gspace.<module>.run_cli(args)``, or say clearly that it has not landed yet."""
    import importlib

    try:
        mod = importlib.import_module(f"gspace.{module}")
    except ModuleNotFoundError as err:
        if err.name != f"gspace.{module}":
            raise
        print(
            f"gspace {what}: not available yet in this version of gspace "
            f"(gspace.{module} is missing)",
            file=sys.stderr,
        )
        return 1
    return int(mod.run_cli(args))


# ---------------------------------------------------------------------------- verify, experiment
def _cmd_verify(args) -> int:
    if args.cnn is None and args.image is not None:
        raise UsageError("--image applies only to --cnn")
    if args.cnn is not None:  # a plain CNN: small by construction (parse_cnn limits its paths)
        from .verify_cnn import check_image

        args.image = 8 if args.image is None else args.image
        try:
            check_image(args.cnn, args.image)
        except ValueError as err:
            raise UsageError(str(err)) from None
        return _delegate("verify_cnn", "verify --cnn", args)
    # networks, gradients, sparse matrices of the routes: the peak memory of verify on
    # 784,256,256,256,10 was that of about 100 copies of the weights
    _check_memory(args.widths, "--widths", copies=100)
    return _delegate("verify", "verify", args)


def _check_data_dir(data_dir) -> None:
    if data_dir is not None and not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a directory")


def _cmd_experiment(args) -> int:
    _check_data_dir(args.data_dir)
    args.out = str(args.out or Path("gspace-results") / args.name)
    _check_out(args.out, ("results.json", f"{args.name}.png"))
    return _delegate("experiments", "experiment", args)


def _experiment_list() -> str:
    """``NAME  title`` lines for ``gspace experiment --help``."""
    try:
        from .experiments import EXPERIMENTS as modules
    except ImportError:  # pragma: no cover - the experiments package is part of gspace
        return ""
    return "\n".join(f"  {name:<16} {getattr(m, 'TITLE', '')}" for name, m in modules.items())


# ---------------------------------------------------------------------------- parser
_D = " (default: %(default)s)"


def _option(p, flag: str, kind, default, text: str) -> None:
    """``kind``: an argparse type, a tuple of choices, or None for an on/off flag."""
    if kind is None:
        p.add_argument(flag, action="store_true", help=text)
    else:
        how = {"type": kind} if callable(kind) else {"choices": kind}
        p.add_argument(flag, default=default, help=text, **how)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``gspace`` command (subcommands demo, train, verify,
    experiment)."""
    from .core.network import LOSSES
    from .datasets import DATASETS
    from .initialization import DEFAULT_INIT, INITS
    from .train import OPTIMIZERS, SCHEDULES

    fmt = argparse.HelpFormatter
    parser = _Parser(
        prog="gspace",
        description="G-SGD (Meng et al., ICLR 2019) in NumPy: train ReLU networks in their "
        "positively scale-invariant space and check the paper's claims.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"gspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        help="a one-minute tour on the bundled digits data (no download)",
        description="Train a small ReLU MLP on scikit-learn's bundled digits with SGD, print a "
        "table and save learning curves; later steps show more of gspace.",
        formatter_class=fmt,
    )
    _option(p, "--out", _path, "gspace-demo", "output directory" + _D)
    _option(p, "--seed", nonnegative_int, 0, "random seed" + _D)
    _option(p, "--no-progress", None, False, "no progress bars")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "train",
        help="train an MLP with SGD, Path-SGD or G-SGD",
        description="Train a ReLU MLP and write OUT/history.json (byte for byte the same "
        "for the same settings), OUT/history.timing.json (wall-clock seconds per epoch) and "
        "OUT/learning_curves.png. "
        f"The default initialization is {DEFAULT_INIT!r} (He, then every skeleton weight set "
        "to 1, as in the authors' code) for every optimizer, so that runs with different "
        "optimizers start from the same network; G-SGD needs it (from plain He "
        "initialization the skeleton-path values are tiny and its steps u/v explode).",
        formatter_class=fmt,
    )
    for flag, kind, default, text in [
        ("--dataset", DATASETS, "digits", "data set" + _D),
        ("--optimizer", OPTIMIZERS, "sgd", "optimizer" + _D),
        ("--hidden", int_list, [32, 32], "hidden widths, comma-separated (default: 32,32)"),
        ("--epochs", positive_int, 20, "passes over the data" + _D),
        ("--lr", positive_float, 0.1, "learning rate, initial value" + _D),
        ("--batch-size", positive_int, 32, "mini-batch size" + _D),
        ("--seed", nonnegative_int, 0,
         "seeds the data split, the initial weights and the shuffle" + _D),
        ("--init", INITS, DEFAULT_INIT, "initialization" + _D),
        ("--out", _path, None,
         "output directory (default: gspace-train/DATASET-OPTIMIZER-seedSEED)"),
        ("--loss", LOSSES, "cross_entropy", "loss" + _D),
        ("--schedule", SCHEDULES, "constant", "learning-rate schedule: constant; exp: "
         "lr*exp(-k*epoch); multistep: lr*gamma^(number of milestones <= epoch)" + _D),
        ("--decay-k", nonnegative_float, None,
         "k of --schedule exp, and only there (default: 0.01)"),
        ("--milestones", _milestones, None, "epochs of --schedule multistep (required there, "
         "refused elsewhere), comma-separated, each < --epochs (e.g. 80,120)"),
        ("--gamma", positive_float, None,
         "factor of --schedule multistep, and only there (default: 0.1)"),
        ("--momentum", momentum_float, 0.0, "in [0, 1)" + _D),
        ("--weight-decay", nonnegative_float, 0.0, ">= 0" + _D),
        ("--bias", None, False, "give every non-input node a bias"),
        ("--data-dir", _path, None,
         "directory of the MNIST/Fashion-MNIST IDX files (default: $GSPACE_DATA)"),
        ("--limit", _limit, None, "use at most this many samples in total"),
        ("--no-progress", None, False, "no progress bar"),
    ]:  # fmt: skip
        _option(p, flag, kind, default, text)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "verify",
        help="check every claim of the paper on one architecture",
        description="Check every claim of the paper (G1 ... A4) numerically on networks of "
        "the given widths; exit status 0 if and only if all hold. Each claim is checked by the "
        "most direct route the size allows (listing paths, dense matrices) and by scalable "
        "routes (exact certificates, random samples of paths) beyond that; the table names "
        "the route.",
        formatter_class=fmt,
    )
    net = p.add_mutually_exclusive_group()
    net.add_argument(
        "--widths",
        type=_verify_widths,
        default=[3, 4, 4, 2],
        help="layer widths d,h1,...,K, at least one hidden layer (default: 3,4,4,2)",
    )
    net.add_argument(
        "--cnn",
        type=_cnn_spec,
        default=None,
        metavar="C0:LAYERS:K",
        help="a plain CNN instead: claims C1-C4 and those they carry, e.g. 1:4k3s1,8k3s2:10 "
        "(per conv layer: channels, k kernel, s stride, optional p pool)",
    )
    for flag, kind, default, text in [
        ("--image", positive_int, None, "image side for --cnn (default: 8)"),
        ("--bias", None, False, "networks with biases"),
        ("--seed", nonnegative_int, 0, "seeds the network, the inputs and the rescalings" + _D),
        ("--json", None, False, 'print a JSON list of {"claim": ..., "holds": ..., "detail": ...}'),
        ("--no-progress", None, False, "no progress bar"),
    ]:  # fmt: skip
        _option(p, flag, kind, default, text)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser(
        "experiment",
        help="run one of the experiments",
        description=textwrap.fill(
            "Run an experiment and write its data (results.json) and figure (NAME.png) to "
            "OUT. Each chooses every optimizer's learning rate on validation and averages over "
            "seeds. The full runs train on Fashion-MNIST or MNIST and took from 6 minutes to "
            "about an hour each on a 2-core machine (each results.json records its time); "
            "--quick runs take under two minutes.",
            width=min(shutil.get_terminal_size().columns, 100) - 2,
        ),
        epilog="experiments:\n" + _experiment_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", choices=EXPERIMENTS, metavar="NAME", help=" | ".join(EXPERIMENTS))
    for flag, kind, default, text in [
        ("--quick", None, False, "a small, fast version"),
        ("--out", _path, None, "output directory (default: gspace-results/NAME)"),
        ("--seed", nonnegative_int, 0, "random seed" + _D),
        ("--data-dir", _path, None, "MNIST/Fashion-MNIST IDX files"),
        ("--no-progress", None, False, "no progress bar"),
        ("--jobs", jobs_count, 1, "training runs at once, in worker processes (-1: all cores); "
         "the results do not depend on it" + _D),
        ("--restart", None, False, "start over: delete the runs cached in OUT/runs/ by an "
         "earlier, interrupted or finished, call (by default they are reused and only missing "
         "runs are trained)"),
    ]:  # fmt: skip
        _option(p, flag, kind, default, text)
    p.set_defaults(func=_cmd_experiment)
    _add_lab_parser(sub, fmt)
    return parser


def _add_lab_parser(sub, fmt) -> None:
    """``gspace lab``: the teaching labs of :mod:`gspace.labs`."""
    from .labs import LABS

    p = sub.add_parser(
        "lab",
        help="teaching labs: write a starter file, grade it",
        description="Teaching labs. gspace lab --list; gspace lab NAME [--out DIR] writes "
        "the starter (never over an existing file); gspace lab NAME --check FILE grades it "
        "(exit 0 iff every check passes); --check reference grades gspace itself.",
        formatter_class=fmt,
    )
    p.add_argument("name", nargs="?", choices=list(LABS), metavar="NAME", help=" | ".join(LABS))
    p.add_argument("--list", action="store_true", help="list the labs")
    p.add_argument("--out", default=None, help="directory for the starter (default: .)")
    p.add_argument("--check", default=None, metavar="FILE", help="grade FILE (or 'reference')")
    p.set_defaults(func=lambda a: _delegate("labs", "lab", a))


def _milestones(text: str) -> list[int]:
    return _ints(text, 0, "milestones", "epochs like 80,120") if text.strip() else []


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return text


def _cnn_spec(text: str) -> str:
    from .verify_cnn import parse_cnn

    try:
        parse_cnn(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _limit(text: str) -> int:
    value = positive_int(text)
    if value < 3:
        raise argparse.ArgumentTypeError(f"--limit must be at least 3, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gspace`` command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 if the command failed. User errors (bad arguments, an output location
        that cannot be written, a network too large for the memory) exit with status 2 through
        :class:`SystemExit`, as argparse does, after one line on stderr and before any work.

    Examples
    --------
    >>> import tempfile
    >>> main(["train", "--dataset", "teacher", "--hidden", "8", "--epochs", "1",
    ...       "--out", tempfile.mkdtemp(), "--no-progress"])  # doctest: +ELLIPSIS
    epoch ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"gspace {args.command}"

    def show(message, category, *_args, **_kw):  # warnings as one line each
        print(f"{prog}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        try:
            return args.func(args)
        except UsageError as err:
            parser.exit(2, f"{prog}: error: {err}\n")
