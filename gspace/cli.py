"""The ``gspace`` command line (also ``python -m gspace``), exit statuses in :doc:`/install`;
a subcommand's ``--help`` is the docstring of its ``_cmd_`` function."""

import argparse
import importlib
import inspect
import os
import sys
import tempfile
import time
import warnings
from collections import namedtuple
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from . import __version__, datasets, experiments
from . import validation as V
from .core.network import LOSSES
from .initialization import DEFAULT_INIT, INITS, initialize
from .labs import LABS
from .train import OPTIMIZERS, SCHEDULES, TrainingDiverged, fit, make_optimizer, make_schedule
from .verify_cnn import check_image, parse_cnn


class UsageError(Exception):
    """A user error found before any work; :func:`main` prints it on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _check_out(out, files=()) -> Path:
    """``out`` as a directory that exists or can be made, where ``files`` can be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is an existing file; give a directory")
    for name in files:
        if (out / name).is_dir():
            raise UsageError(f"--out {out}: {out / name} is a directory, cannot write {name}")
    base = next(p for p in (out, *out.parents) if p.exists())
    if not base.is_dir():
        raise UsageError(f"--out {out}: {base} is a file, not a directory")
    try:  # the only sure test (root ignores permission bits; read-only file systems, /proc)
        os.rmdir(tempfile.mkdtemp(prefix=".gspace-probe-", dir=base))
        ok = all(os.access(out / n, os.W_OK) for n in files if (out / n).exists())
    except OSError:
        ok = False
    if not ok:
        raise UsageError(f"--out {out}: {base} is not writable")
    return out


def _check_memory(widths, flag: str, copies: int, extra: int = 0) -> None:
    """Refuse a network whose ``copies`` float64 copies (plus ``extra`` floats) do not fit."""
    m = sum(a * b for a, b in zip(widths, widths[1:]))
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):  # not Linux: the physical memory
        try:
            avail = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return
    if (need := 8 * (copies * m + extra)) > avail:
        raise UsageError(
            f"{flag}: a network of widths {','.join(map(str, widths))} has {m:,} weights and "
            f"needs about {need / 1e9:,.1f} GB of memory; {avail / 1e9:,.1f} GB is available"
        )


def _arg(convert, what: str | None = None, ok=lambda value: True):
    """argparse type: ``convert(text)`` if ``ok`` holds, else the error "expected WHAT, got
    TEXT" (without ``what``: the message of convert's ValueError)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError as err:
            if what is None:
                raise argparse.ArgumentTypeError(str(err)) from None
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


def _ints(low: int, name: str, like: str):
    """argparse type: comma-separated integers, each >= ``low`` (``validation.integer``)."""
    split = _arg(lambda text: [int(p) for p in text.split(",")], f"comma-separated {like}")
    return _arg(lambda text: [V.integer(v, name, low) for v in split(text)])


_int_ge1 = _arg(lambda text: V.integer(int(text), "value", 1), "an integer >= 1")
_int_ge0 = _arg(lambda text: V.integer(int(text), "value", 0), "an integer >= 0")
_jobs = _arg(lambda text: V.jobs(int(text)), "a non-zero integer (N runs at once; -1: all cores)")
_float_gt0 = _arg(float, "a number > 0", lambda v: 0 < v < np.inf)  # nan fails every comparison
_float_ge0 = _arg(float, "a number >= 0", lambda v: 0 <= v < np.inf)
_momentum = _arg(float, "a number in [0, 1)", lambda v: 0 <= v < 1)
_path = _arg(str, "a path, not an empty string", str.strip)
_limit = _arg(int, "an integer, at least 3", lambda v: v >= 3)
_hidden = _ints(1, "every width", "positive integers like 32,32")
_milestones = _ints(0, "milestones", "epochs like 80,120")
_cnn = _arg(lambda text: parse_cnn(text) and text)  # the spec if valid; parse_cnn's error if not
_widths = _arg(_hidden, "at least 3 widths (at least one hidden layer)", lambda v: len(v) >= 3)


def _train(a, title: str | None = None):
    """Load, initialize, fit and save (also on ``TrainingDiverged``) as ``gspace train`` does."""
    from .plotting import plot_history  # matplotlib: imported only when needed

    opt = make_optimizer(a.optimizer, a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    k, gamma = 0.01 if a.decay_k is None else a.decay_k, 0.1 if a.gamma is None else a.gamma
    sched = make_schedule(a.schedule, a.lr, k=k, milestones=a.milestones or (), gamma=gamma)
    data = datasets.load(a.dataset, seed=a.seed, data_dir=a.data_dir, limit=a.limit)
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


def _cmd_train(args) -> int:
    """Train an MLP with SGD, Path-SGD or G-SGD.
    Write OUT/history.json (the same bytes for the same settings), OUT/history.timing.json
    (wall-clock seconds per epoch) and OUT/learning_curves.png. Every optimizer starts from
    --init skeleton-unit by default (He, then every skeleton weight set to 1, as in the authors'
    code): the same network for all, and G-SGD needs it. Schedules: constant; exp:
    lr*exp(-k*epoch); multistep: lr*gamma^(number of --milestones <= epoch)."""
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
    # input features known before loading; weights, gradients, new weights, state, with room
    widths = [{"digits": 64, "teacher": 10}.get(args.dataset, 784), *args.hidden, 2]
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
    print(
        f"{history.table()}\nfinal test accuracy {history.final('test_acc'):.4f} "
        f"(validation {history.final('val_acc'):.4f}) after {history.epoch[-1]} epochs\n"
        f"wrote {Path(out) / 'history.json'} (the same for the same settings; wall-clock "
        f"times in history.timing.json) and {Path(out) / 'learning_curves.png'}"
    )
    return 0


def _demo_sgd_digits(args) -> None:
    out = args.out / "sgd-digits"
    # the defaults of gspace train: digits, SGD, hidden 32,32, 20 epochs, lr 0.1, batch 32
    train = build_parser().parse_args(["train", "--out", str(out), "--seed", str(args.seed)])
    train.no_progress = args.progress is False
    history = _train(train, title="SGD on digits (64-32-32-10)")
    print(history.table(max_rows=8))
    print(f"test accuracy {history.final('test_acc'):.4f}; curves in {out}/learning_curves.png")


def _demo(name: str, args) -> None:
    experiments.demo(name, args.out / name, seed=args.seed, progress=args.progress)


#: A ``gspace demo`` step: ``run(args)`` writes into a sub-directory of ``args.out``.
DemoStep = namedtuple("DemoStep", "title run")
#: The steps of ``gspace demo``, run in order; later issues append steps (each under ~10 s).
DEMO_STEPS: list[DemoStep] = [
    DemoStep("Train a 64-32-32-10 ReLU MLP on digits with SGD (20 epochs)", _demo_sgd_digits),
    DemoStep("Invariance: training from w and from a rescaled g(w)", partial(_demo, "invariance")),
    DemoStep("SGD, Path-SGD and G-SGD on digits: learning curves", partial(_demo, "path-sgd")),
]


def _cmd_demo(args) -> int:
    """A one-minute tour on the bundled digits data (no download).
    Train a small ReLU MLP on scikit-learn's bundled digits with SGD, print a table and save
    learning curves; later steps show more of gspace."""
    args.out, args.progress = _check_out(args.out), False if args.no_progress else None
    start = time.perf_counter()
    print(f"gspace demo: {len(DEMO_STEPS)} step(s); output in {args.out}")
    for i, step in enumerate(DEMO_STEPS, 1):
        print(f"\n== {i}. {step.title}")
        t0 = time.perf_counter()
        step.run(args)
        print(f"   ({time.perf_counter() - t0:.1f} s)")
    print(f"\ndemo finished in {time.perf_counter() - start:.1f} s")
    return 0


def _delegate(module: str, what: str, args) -> int:
    try:
        mod = importlib.import_module(f"gspace.{module}")
    except ModuleNotFoundError as err:
        if err.name != f"gspace.{module}":
            raise
        print(f"gspace {what}: not available yet (gspace.{module} is missing)", file=sys.stderr)
        return 1
    return int(mod.run_cli(args))


def _cmd_verify(args) -> int:
    """Check every claim of the paper on one architecture.
    Check the claims G1 ... A4 numerically on networks of the given widths; exit status 0 iff
    all hold. The table names each claim's route: direct (listing paths, dense matrices) while
    the size allows, else scalable (exact certificates, random samples of paths). --cnn
    C0:LAYERS:K checks a plain CNN instead (C1-C4 and the claims they carry); per conv layer:
    channels, k kernel, s stride, optional p pool, e.g. 1:4k3s1,8k3s2:10."""
    if args.cnn is None:
        if args.image is not None:
            raise UsageError("--image applies only to --cnn")
        _check_memory(args.widths, "--widths", copies=100)  # verify's peak on 784,256,256,256,10
        return _delegate("verify", "verify", args)
    args.image = args.image or 8  # a plain CNN: small by construction
    try:
        check_image(args.cnn, args.image)
    except ValueError as err:
        raise UsageError(str(err)) from None
    return _delegate("verify_cnn", "verify --cnn", args)


def _cmd_experiment(args) -> int:
    """Run one of the experiments.
    Write its data (results.json) and figure (NAME.png) to OUT. Each experiment
    picks every optimizer's learning rate on validation and averages over seeds.
    Full runs (Fashion-MNIST or MNIST) took 6 minutes to an hour each on 2 cores
    (results.json records it); --quick runs take under two minutes. OUT/runs/
    caches the runs: a later call trains only missing ones, unless --restart."""
    args.out = str(args.out or Path("gspace-results") / args.name)
    _check_out(args.out, ("results.json", f"{args.name}.png"))
    return _delegate("experiments", "experiment", args)


def _cmd_lab(args) -> int:
    """Teaching labs: write a starter file, grade it.
    gspace lab --list: the labs; gspace lab NAME [--out DIR]: write the starter (never over an
    existing file); gspace lab NAME --check FILE: grade it (exit 0 iff every check passes);
    --check reference grades gspace itself."""
    return _delegate("labs", "lab", args)


# Options, (flag, kind, default, help[, metavar]) as _option takes them; these three are shared.
_SEED = ("--seed", _int_ge0, 0, "random seed")
_NO_PROGRESS = ("--no-progress", None, None, "no progress bar")
_DATA_DIR = ("--data-dir", _path, None, "MNIST/Fashion-MNIST IDX files (default: $GSPACE_DATA)")
_TRAIN = [
    ("--dataset", datasets.DATASETS, "digits", "data set"),
    ("--optimizer", OPTIMIZERS, "sgd", "optimizer"),
    ("--hidden", _hidden, [32, 32], "hidden widths, comma-separated (default: 32,32)"),
    ("--epochs", _int_ge1, 20, "passes over the data"),
    ("--lr", _float_gt0, 0.1, "learning rate, initial value"),
    ("--batch-size", _int_ge1, 32, "mini-batch size"),
    ("--seed", _int_ge0, 0, "seeds the data split, the initial weights and the shuffle"),
    ("--init", INITS, DEFAULT_INIT, "initialization"),
    ("--out", _path, None, "output directory (default: gspace-train/DATASET-OPTIMIZER-seedSEED)"),
    ("--loss", LOSSES, "cross_entropy", "loss"),
    ("--schedule", SCHEDULES, "constant", "learning-rate schedule, see above"),
    ("--decay-k", _float_ge0, None, "k of --schedule exp only (default: 0.01)"),
    ("--milestones", _milestones, None, "epochs of --schedule multistep, < --epochs, e.g. 80,120"),
    ("--gamma", _float_gt0, None, "factor of --schedule multistep only (default: 0.1)"),
    ("--momentum", _momentum, 0.0, "in [0, 1)"),
    ("--weight-decay", _float_ge0, 0.0, ">= 0"),
    ("--bias", None, None, "give every non-input node a bias"),
    ("--limit", _limit, None, "use at most this many samples in total"),
] + [_DATA_DIR, _NO_PROGRESS]
_VERIFY = [
    ("--image", _int_ge1, None, "image side for --cnn (default: 8)"),
    ("--bias", None, None, "networks with biases"),
    ("--seed", _int_ge0, 0, "seeds the network, the inputs and the rescalings"),
    ("--json", None, None, 'print a JSON list of {"claim": ..., "holds": ..., "detail": ...}'),
    _NO_PROGRESS,
]
_EXPERIMENT = [
    ("--quick", None, None, "a small, fast version"),
    ("--out", _path, None, "output directory (default: gspace-results/NAME)"),
    ("--jobs", _jobs, 1, "training runs at once (-1: all cores); the results do not depend on it"),
    ("--restart", None, None, "start over: delete the runs cached in OUT/runs/"),
    ("name", tuple(experiments.EXPERIMENTS), None, " | ".join(experiments.EXPERIMENTS), "NAME"),
] + [_SEED, _DATA_DIR, _NO_PROGRESS]
_LAB = [
    ("--list", None, None, "list the labs"),
    ("--out", str, None, "directory for the starter (default: .)"),
    ("--check", str, None, "grade FILE (or 'reference')", "FILE"),
]


def _option(p, flag: str, kind, default, text: str, metavar: str | None = None) -> None:
    """Add an argument; ``kind``: an argparse type, a tuple of choices, or None (an on/off flag)."""
    if kind is None:
        p.add_argument(flag, action="store_true", help=text)
        return
    how = {"type": kind} if callable(kind) else {"choices": kind}
    text += " (default: %(default)s)" if default is not None and "default" not in text else ""
    p.add_argument(flag, default=default, help=text, metavar=metavar, **how)


def _command(sub, name: str, func, options):
    doc = inspect.getdoc(func)
    p = sub.add_parser(name, help=doc.splitlines()[0], description=doc)
    for option in options:
        _option(p, *option)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``gspace`` command."""
    parser = _Parser(
        prog="gspace",
        description="G-SGD (Meng et al., ICLR 2019) in NumPy: train ReLU networks in their "
        "positively scale-invariant space and check the paper's claims.",
    )
    parser.add_argument("--version", action="version", version=f"gspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = [("--out", _path, "gspace-demo", "output directory"), _SEED, _NO_PROGRESS]
    _command(sub, "demo", _cmd_demo, demo)
    _command(sub, "train", _cmd_train, _TRAIN)
    verify = _command(sub, "verify", _cmd_verify, _VERIFY)
    net = verify.add_mutually_exclusive_group()
    _option(net, "--widths", _widths, [3, 4, 4, 2], "layer widths d,h1,...,K (default: 3,4,4,2)")
    _option(net, "--cnn", _cnn, None, "a plain CNN instead (see above)", "C0:LAYERS:K")
    titles = [f"  {name:<16} {m.TITLE}" for name, m in experiments.EXPERIMENTS.items()]
    p = _command(sub, "experiment", _cmd_experiment, _EXPERIMENT)
    p.formatter_class = argparse.RawDescriptionHelpFormatter  # keeps the lines of the list
    p.epilog = "experiments:\n" + "\n".join(titles)
    p = _command(sub, "lab", _cmd_lab, _LAB)
    p.add_argument("name", nargs="?", choices=list(LABS), metavar="NAME", help=" | ".join(LABS))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gspace`` on ``argv``: 0 on success, 1 on failure, SystemExit(2) on a user error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"gspace {args.command}"
    with warnings.catch_warnings():  # warnings as one line each
        warnings.showwarning = lambda msg, *_: print(f"{prog}: warning: {msg}", file=sys.stderr)
        try:
            if getattr(args, "data_dir", None) is not None and not Path(args.data_dir).is_dir():
                raise UsageError(f"--data-dir {args.data_dir} is not a directory")
            return args.func(args)
        except UsageError as err:
            parser.exit(2, f"{prog}: error: {err}\n")
