"""The ``gspace`` command line (also ``python -m gspace``): demo, train, verify, experiment, lab.

:func:`main` returns 0 on success and 1 when the command ran but failed (a claim does not hold,
training diverged, data missing). A user error is found before any work starts: one line on
stderr, exit status 2.
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

#: Experiment names accepted by ``gspace experiment`` (the contract's list).
EXPERIMENTS = tuple("invariance unbalanced-init width path-sgd authors-mlp init cnn-depth".split())


class UsageError(Exception):
    """A user error found before any work; :func:`main` prints it on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---------------------------------------------------------------------------- pre-work checks
def _check_out(out, files=(), flag: str = "--out") -> Path:
    """``out`` as a directory that exists or can be made, where ``files`` can be written."""
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
            return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(widths, flag: str, copies: int, extra: int = 0) -> None:
    """Refuse a network whose ``copies`` float64 copies (plus ``extra`` floats) do not fit."""
    m = sum(a * b for a, b in zip(widths, widths[1:]))
    need, avail = 8 * (copies * m + extra), _available_memory()
    if avail is not None and need > avail:
        raise UsageError(
            f"{flag}: a network of widths {','.join(map(str, widths))} has {m:,} weights and "
            f"needs about {need / 1e9:,.1f} GB of memory; {avail / 1e9:,.1f} GB is available"
        )


def _check_data_dir(data_dir) -> None:
    if data_dir is not None and not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a directory")


# ---------------------------------------------------------------------------- argument types
def _arg(convert, what: str, ok=lambda value: True):
    """argparse type: ``convert(text)`` if it succeeds and ``ok`` holds, else one clear error."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


def _int(low: int):
    return _arg(lambda text: V.integer(int(text), "value", low), f"an integer >= {low}")


_int_ge1, _int_ge0 = _int(1), _int(0)
_jobs = _arg(lambda text: V.jobs(int(text)), "a non-zero integer (N runs at once; -1: all cores)")
_float_gt0 = _arg(float, "a number > 0", lambda v: 0 < v < np.inf)  # nan fails every comparison
_float_ge0 = _arg(float, "a number >= 0", lambda v: 0 <= v < np.inf)
_momentum = _arg(float, "a number in [0, 1)", lambda v: 0 <= v < 1)


def _ints(low: int, name: str, like: str):
    """argparse type: comma-separated integers, each >= ``low`` (``validation.integer``)."""

    def parse(text: str) -> list[int]:
        try:
            values = [int(p) for p in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {like}, got {text!r}"
            ) from None
        try:
            values = [V.integer(v, name, low) for v in values]
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return values

    return parse


_hidden = _ints(1, "every width", "positive integers like 32,32")
_milestones = _ints(0, "milestones", "epochs like 80,120")


def _verify_widths(text: str) -> list[int]:
    if len(values := _hidden(text)) < 3:
        raise argparse.ArgumentTypeError(
            f"verify needs at least one hidden layer: at least 3 widths, like 3,4,4,2; got {text!r}"
        )
    return values


def _limit(text: str) -> int:
    if (value := _int_ge1(text)) < 3:
        raise argparse.ArgumentTypeError(f"--limit must be at least 3, got {value}")
    return value


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


# ---------------------------------------------------------------------------- train
def _train(args, title: str | None = None):
    """Load, initialize, fit and save as ``gspace train`` does; returns the history.

    Raises ``TrainingDiverged`` (its history written to ``args.out`` first)."""
    from .datasets import load
    from .initialization import initialize
    from .plotting import plot_history
    from .train import TrainingDiverged, fit, make_optimizer, make_schedule

    a = args
    opt = make_optimizer(a.optimizer, a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    k, gamma = 0.01 if a.decay_k is None else a.decay_k, 0.1 if a.gamma is None else a.gamma
    sched = make_schedule(a.schedule, a.lr, k=k, milestones=a.milestones or (), gamma=gamma)
    data = load(a.dataset, seed=a.seed, data_dir=a.data_dir, limit=a.limit)
    widths = [data.n_features, *a.hidden, data.n_classes]
    net = initialize(widths, init=a.init, bias=a.bias, rng=np.random.default_rng(a.seed))
    extra = {"init": a.init, "hidden": list(a.hidden), "dataset_description": data.description}

    def save(history):
        history.config.update(extra)
        history.to_json(Path(a.out) / "history.json")
        title_ = title or f"{a.optimizer} on {a.dataset}, widths {widths}, init {a.init}"
        plot_history(history, Path(a.out) / "learning_curves.png", title=title_)

    kw = {k: getattr(a, k) for k in ("epochs", "batch_size", "loss", "seed")}
    kw["progress"] = False if a.no_progress else None
    try:
        _, history = fit(net, opt, data, schedule=sched, **kw)
    except TrainingDiverged as err:
        if err.history is not None and err.history.epoch:
            save(err.history)
        raise
    save(history)
    return history


#: Input features of the data sets, for the memory check before loading (others: 784).
_N_FEATURES = {"digits": 64, "teacher": 10}


def _cmd_train(args) -> int:
    from .train import TrainingDiverged

    for name, schedule in (("decay_k", "exp"), ("milestones", "multistep"), ("gamma", "multistep")):
        if args.schedule != schedule and getattr(args, name) is not None:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} applies only to --schedule {schedule}, not {args.schedule}")
    if args.schedule == "multistep" and not args.milestones:
        raise UsageError("--schedule multistep needs --milestones (epochs, e.g. 80,120)")
    if late := [m for m in args.milestones or [] if m >= args.epochs]:
        raise UsageError(
            f"--milestones {','.join(map(str, late))} never reached in --epochs {args.epochs} "
            f"(epochs are counted from 0)"
        )
    _check_data_dir(args.data_dir)
    widths = [_N_FEATURES.get(args.dataset, 784), *args.hidden, 2]
    # the network, its gradients, the optimizer's new network and state, with room to spare
    _check_memory(widths, "--hidden", copies=8, extra=4096 * sum(widths) * 2)
    out = args.out or Path("gspace-train") / f"{args.dataset}-{args.optimizer}-seed{args.seed}"
    args.out = _check_out(out, ("history.json", "history.timing.json", "learning_curves.png"))
    try:
        history = _train(args)
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
    """One step of ``gspace demo``: a title and ``run(args)``, ``args`` having ``out`` (a Path;
    each step writes into its own sub-directory), ``seed`` and ``progress``."""

    title: str
    run: Callable[[argparse.Namespace], None]


def _demo_sgd_digits(args) -> None:
    out = args.out / "sgd-digits"
    # the defaults of gspace train: digits, SGD, hidden 32,32, 20 epochs, lr 0.1, batch 32
    train = build_parser().parse_args(["train", "--out", str(out), "--seed", str(args.seed)])
    train.no_progress = args.progress is False
    history = _train(train, title="SGD on digits (64-32-32-10)")
    print(history.table(max_rows=8))
    print(f"test accuracy {history.final('test_acc'):.4f}; curves in {out}/learning_curves.png")


def _demo_experiment(name: str) -> Callable[[argparse.Namespace], None]:
    def run(args) -> None:
        from . import experiments

        experiments.demo(name, args.out / name, seed=args.seed, progress=args.progress)

    return run


#: The steps of ``gspace demo``, run in order; later issues append steps (each under ~10 s).
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


# ---------------------------------------------------------------- verify, experiment, lab
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
def _option(p, flag: str, kind=None, default=None, text: str = "", **kw) -> None:
    """``kind``: an argparse type, a tuple of choices, or None for an on/off flag; a default
    other than None is appended to the help."""
    if kind is None:
        p.add_argument(flag, action="store_true", help=text)
        return
    how = {"type": kind} if callable(kind) else {"choices": kind}
    text += " (default: %(default)s)" if default is not None and "default" not in text else ""
    p.add_argument(flag, default=default, help=text, **how, **kw)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``gspace`` command."""
    from . import __version__
    from .core.network import LOSSES
    from .datasets import DATASETS
    from .initialization import DEFAULT_INIT, INITS
    from .labs import LABS
    from .train import OPTIMIZERS, SCHEDULES

    parser = _Parser(
        prog="gspace",
        description="G-SGD (Meng et al., ICLR 2019) in NumPy: train ReLU networks in their "
        "positively scale-invariant space and check the paper's claims.",
    )
    parser.add_argument("--version", action="version", version=f"gspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        help="a one-minute tour on the bundled digits data (no download)",
        description="Train a small ReLU MLP on scikit-learn's bundled digits with SGD, print a "
        "table and save learning curves; later steps show more of gspace.",
    )
    _option(p, "--out", _path, "gspace-demo", "output directory")
    _option(p, "--seed", _int_ge0, 0, "random seed")
    _option(p, "--no-progress", text="no progress bars")
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
    )
    _option(p, "--dataset", DATASETS, "digits", "data set")
    _option(p, "--optimizer", OPTIMIZERS, "sgd", "optimizer")
    _option(p, "--hidden", _hidden, [32, 32], "hidden widths, comma-separated (default: 32,32)")
    _option(p, "--epochs", _int_ge1, 20, "passes over the data")
    _option(p, "--lr", _float_gt0, 0.1, "learning rate, initial value")
    _option(p, "--batch-size", _int_ge1, 32, "mini-batch size")
    _option(p, "--seed", _int_ge0, 0, "seeds the data split, the initial weights and the shuffle")
    _option(p, "--init", INITS, DEFAULT_INIT, "initialization")
    _option(
        p,
        "--out",
        _path,
        None,
        "output directory (default: gspace-train/DATASET-OPTIMIZER-seedSEED)",
    )
    _option(p, "--loss", LOSSES, "cross_entropy", "loss")
    _option(
        p,
        "--schedule",
        SCHEDULES,
        "constant",
        "learning-rate schedule: constant; exp: "
        "lr*exp(-k*epoch); multistep: lr*gamma^(number of milestones <= epoch)",
    )
    _option(p, "--decay-k", _float_ge0, None, "k of --schedule exp only (default: 0.01)")
    _option(
        p,
        "--milestones",
        _milestones,
        None,
        "epochs of --schedule multistep (required there, "
        "refused elsewhere), comma-separated, each < --epochs (e.g. 80,120)",
    )
    _option(p, "--gamma", _float_gt0, None, "factor of --schedule multistep only (default: 0.1)")
    _option(p, "--momentum", _momentum, 0.0, "in [0, 1)")
    _option(p, "--weight-decay", _float_ge0, 0.0, ">= 0")
    _option(p, "--bias", text="give every non-input node a bias")
    _option(p, "--data-dir", _path, None, "MNIST/Fashion-MNIST IDX files (default: $GSPACE_DATA)")
    _option(p, "--limit", _limit, None, "use at most this many samples in total")
    _option(p, "--no-progress", text="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "verify",
        help="check every claim of the paper on one architecture",
        description="Check every claim of the paper (G1 ... A4) numerically on networks of "
        "the given widths; exit status 0 if and only if all hold. Each claim is checked by the "
        "most direct route the size allows (listing paths, dense matrices) and by scalable "
        "routes (exact certificates, random samples of paths) beyond that; the table names "
        "the route.",
    )
    net = p.add_mutually_exclusive_group()
    _option(
        net,
        "--widths",
        _verify_widths,
        [3, 4, 4, 2],
        "layer widths d,h1,...,K, at least one hidden layer (default: 3,4,4,2)",
    )
    _option(
        net,
        "--cnn",
        _cnn_spec,
        None,
        "a plain CNN instead: claims C1-C4 and those they carry, e.g. 1:4k3s1,8k3s2:10 "
        "(per conv layer: channels, k kernel, s stride, optional p pool)",
        metavar="C0:LAYERS:K",
    )
    _option(p, "--image", _int_ge1, None, "image side for --cnn (default: 8)")
    _option(p, "--bias", text="networks with biases")
    _option(p, "--seed", _int_ge0, 0, "seeds the network, the inputs and the rescalings")
    _option(p, "--json", text='print a JSON list of {"claim": ..., "holds": ..., "detail": ...}')
    _option(p, "--no-progress", text="no progress bar")
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
    _option(p, "--quick", text="a small, fast version")
    _option(p, "--out", _path, None, "output directory (default: gspace-results/NAME)")
    _option(p, "--seed", _int_ge0, 0, "random seed")
    _option(p, "--data-dir", _path, None, "MNIST/Fashion-MNIST IDX files")
    _option(p, "--no-progress", text="no progress bar")
    _option(
        p,
        "--jobs",
        _jobs,
        1,
        "training runs at once, in worker processes (-1: all cores); "
        "the results do not depend on it",
    )
    _option(
        p,
        "--restart",
        text="start over: delete the runs cached in OUT/runs/ by an earlier, "
        "interrupted or finished, call (by default they are reused and only missing runs are "
        "trained)",
    )
    p.set_defaults(func=_cmd_experiment)

    p = sub.add_parser(
        "lab",
        help="teaching labs: write a starter file, grade it",
        description="Teaching labs. gspace lab --list; gspace lab NAME [--out DIR] writes "
        "the starter (never over an existing file); gspace lab NAME --check FILE grades it "
        "(exit 0 iff every check passes); --check reference grades gspace itself.",
    )
    p.add_argument("name", nargs="?", choices=list(LABS), metavar="NAME", help=" | ".join(LABS))
    _option(p, "--list", text="list the labs")
    p.add_argument("--out", default=None, help="directory for the starter (default: .)")
    p.add_argument("--check", default=None, metavar="FILE", help="grade FILE (or 'reference')")
    p.set_defaults(func=lambda a: _delegate("labs", "lab", a))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gspace`` command line on ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 if the command failed. User errors exit with status 2 through
        :class:`SystemExit`, as argparse does, after one line on stderr and before any work.
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
