"""``gspace verify --cnn``: claims C1-C4, and the MLP claims C4 carries, on a small plain CNN."""

import math
import re
from time import perf_counter

import numpy as np

from .cnn import ChannelMatrices, PlainCNN
from .core.gsgd import PathArrays, gsgd_step, inverse_chain_rule
from .core.optim import SGD, PathSGD, path_gamma
from .core.paths import rank_svd
from .core.scaling import random_scaling
from .fast import GSGD
from .testing import away_from_kinks, flat, rel_error
from .verify import fd_path_gradient, nonzero_biases, report, run_checks, twin_runs

__all__ = ["MAX_PATHS", "parse_cnn", "check_image", "verify_cnn", "run_cli"]

#: Largest number of channel-graph paths the dense route lists.
MAX_PATHS = 200_000

_LAYER = re.compile(r"(\d+)(?:k(\d+))?(?:s(\d+))?(?:p(\d+))?")


def parse_cnn(spec: str) -> dict:
    """Keyword arguments of :class:`~gspace.PlainCNN` from ``"C0:LAYERS:K"`` (theory page, C4);
    ValueError if malformed, for an even kernel, a count < 1 or over ``MAX_PATHS`` paths."""
    parts = spec.split(":")
    layers = [_LAYER.fullmatch(x) for x in parts[1].split(",")] if len(parts) == 3 else [None]
    if None in layers or not (parts[0].isdigit() and parts[2].isdigit()):
        raise ValueError(
            f"expected C0:LAYERS:K with LAYERS like 4k3s1,8k3s2 (channels, k kernel, "
            f"s stride, optional p pool), got {spec!r}"
        )
    kw = {"in_channels": int(parts[0]), "channels": [int(m[1]) for m in layers]}
    for key, group, default in (("kernel_size", 2, 3), ("strides", 3, 1), ("pool", 4, 1)):
        kw[key] = [int(m[group] or default) for m in layers]
    kw["n_classes"] = int(parts[2])
    if min(kw["channels"] + [kw["in_channels"], kw["n_classes"]] + kw["strides"] + kw["pool"]) < 1:
        raise ValueError(f"every count, stride and pool size must be >= 1, got {spec!r}")
    if any(k % 2 == 0 for k in kw["kernel_size"]):
        raise ValueError(f"kernel sizes must be odd, got {kw['kernel_size']} in {spec!r}")
    per_layer = [c * k * k for c, k in zip(kw["channels"], kw["kernel_size"])]  # channels x taps
    if (n_paths := kw["in_channels"] * math.prod(per_layer) * kw["n_classes"]) > MAX_PATHS:
        raise ValueError(
            f"{spec} has {n_paths:,} channel-graph paths; the dense route lists at most "
            f"{MAX_PATHS:,}: use fewer channels or layers"
        )
    return kw


def check_image(spec: str, image: int) -> None:
    """Raise ``ValueError`` if ``image x image`` pictures are too small for ``spec``."""
    net = PlainCNN(**parse_cnn(spec), rng=np.random.default_rng(0))
    net.forward(np.zeros((1, net.widths[0], image, image)))


def verify_cnn(spec: str, image: int = 8, bias: bool = False, seed: int = 0) -> list:
    """Check C1-C4 and the carried I1, I2, W1, W2, A2-A4 on the plain CNN ``spec`` (see
    :func:`parse_cnn`), ``image x image`` inputs: a list of :class:`~gspace.verify.ClaimResult`."""
    kw = parse_cnn(spec)
    rng = np.random.default_rng(seed)
    net = nonzero_biases(PlainCNN(**kw, bias=bias, rng=rng), rng)
    X = rng.normal(size=(8, kw["in_channels"], image, image))
    keep = away_from_kinks(net, X, margin=1e-3)  # check_image's ValueError if X is too small
    X = X[keep] if keep.any() else X  # images away from ReLU kinks, for finite differences
    Y = rng.normal(size=(len(X), kw["n_classes"]))
    g = random_scaling(net.widths, rng, low=0.2, high=5)
    cm, w, grads = ChannelMatrices(net), flat(net), net.loss_and_gradients(X, Y, loss="mse")[1]
    gf, v = flat(grads), cm.basis_values(w)
    dv = cm.inverse_chain_rule(w, gf)
    lr = 0.1 / max(1e-300, float(np.max(np.abs(dv / v))))  # values move by at most 10%
    checks = {}

    def check(claim, checked):  # files f() -> (measured, holds) for run_checks
        return lambda f: checks.setdefault(claim, (checked, f, "explicit (channel graph)"))

    def twin_error(opt, steps=1):  # the output difference after steps from w and from g(w)
        a, b = list(twin_runs(net, g, opt, X, Y, steps))[-1]
        return rel_error(a.forward(X), b.forward(X), norm=True)

    @check("C1", "channel scaling g (in-kernels, bias x c, out-kernels / c) keeps the function")
    def _():
        err = rel_error(g.apply(net).forward(X), net.forward(X), norm=True)
        return f"output rel. difference {err:.1e}", err < 1e-12

    @check("C2", "channel-graph A ({} x {}) has rank M - H; v(g w) = v(w)".format(*cm.A.shape))
    def _():
        r, log_w = cm.rank(), np.log(np.abs(w))
        err = float(np.max(np.abs(cm.A.T @ (np.log(np.abs(flat(g.apply(net)))) - log_w))))
        ok = r == cm.M - net.H and err < 1e-10
        return f"rank {r}, M - H = {cm.M - net.H}; max |log v(g w) - log v(w)| {err:.1e}", ok

    @check("C3", "centre-tap basis: M - H independent paths, every path an integer combination")
    def _():
        alpha, r = cm.exponents(), rank_svd(cm.Ab)[0]  # exponents() checks A' alpha = A exactly
        ok = r == cm.Ab.shape[1] == cm.M - net.H
        return f"rank {r}; exponents in {alpha.min()}..{alpha.max()}", ok

    @check("C4", "G-SGD step (gspace.GSGD, core gsgd_step) = the explicit-matrix step (A1)")
    def _():
        ref = cm.gsgd_step(w, gf, lr)
        e1 = rel_error(flat(GSGD(lr=lr).step(net, grads)), ref, norm=True)
        e2 = rel_error(flat(gsgd_step(net, grads, lr)), ref, norm=True)
        return f"rel. difference {e1:.1e} (fast), {e2:.1e} (core)", max(e1, e2) < 1e-10

    @check("I1", "dl/dv by ICR = finite differences in path space (weights by dense WA)")
    def _():
        def loss_at(v2):  # weights with basis-path values v2 by dense Weight-Allocation
            return net.with_flat_params(cm.weight_allocation(w, v2)).loss(X, Y, loss="mse")

        picks, fd = fd_path_gradient(loss_at, v, 0, rng, 1e-6)
        err = rel_error(flat(inverse_chain_rule(net, grads))[~cm.sigma][picks], fd, norm=True)
        return f"relative error {err:.1e} on {len(picks)} basis paths", err < 1e-5

    @check("I2", "balance: sum of w dl/dw over each channel's in-kernels = over its out-kernels")
    def _():
        rel = cm.icr_residual(w, gf)
        return f"residual of F = A'u on all rows: {rel:.1e}", rel < 1e-10

    @check("W1", "after Weight-Allocation every basis-path value is v - lr dl/dv; sigma fixed")
    def _():
        new = flat(GSGD(lr=lr).step(net, grads))
        err = rel_error(cm.basis_values(new), v - lr * dv)
        ok = err < 1e-10 and np.array_equal(new[cm.sigma], w[cm.sigma])
        return f"max rel. error {err:.1e}", ok

    @check("W2", "the Weight-Allocation matrix [B, A'] has rank M")
    def _():
        r = rank_svd(np.hstack([cm.B, cm.Ab]))[0]
        return f"rank {r}, M = {cm.M}", r == cm.M

    @check("A2", "G-SGD from w and g(w), 3 steps: the same function")
    def _():
        err = twin_error(lambda: GSGD(lr=lr), 3)
        return f"output rel. difference {err:.1e}", err < 1e-9

    @check("A3", "negative control: plain SGD from w and g(w) gives different functions")
    def _():
        err = twin_error(lambda: SGD(lr=0.1))
        return f"output rel. difference after one step (lr 0.1) {err:.1e}", err > 1e-6

    @check("A4", "Path-SGD (gamma on the channel graph = dense path sums) is G-equivariant")
    def _():
        e1 = rel_error(flat(PathArrays(*path_gamma(net))), cm.path_sgd_gamma(w))
        a, b = next(twin_runs(net, g, lambda: PathSGD(lr=0.01), X, Y))
        e2 = rel_error(flat(g.apply(a)), flat(b), norm=True)  # g(step(w)) vs step(g w)
        return f"gamma rel. error {e1:.1e}; g(step(w)) vs step(g w) {e2:.1e}", max(e1, e2) < 1e-10

    return run_checks(checks)


def run_cli(args) -> int:
    """Body of ``gspace verify --cnn``: a table or JSON; 0 iff every claim holds."""
    t0 = perf_counter()
    results = verify_cnn(args.cnn, args.image, bool(args.bias), int(args.seed or 0))
    head = (
        f"gspace verify --cnn {args.cnn} on {args.image}x{args.image} images, "
        f"{'with' if args.bias else 'no'} biases, seed {args.seed} ({perf_counter() - t0:.1f} s)"
    )
    return report(results, head, args.json)
