"""Lab 4: an experiment with a written conclusion: train SGD and G-SGD from two equivalent
networks and measure how far apart their functions drift (claims A2, A3).

The reference functions below are the solution; they use :class:`gspace.SGD`,
:class:`gspace.GSGD` and :func:`gspace.testing.rel_error`. ``CONCLUSION`` is a model answer.
"""

from __future__ import annotations

import re

import numpy as np

from ..core.network import MLP
from ..core.optim import SGD
from ..core.scaling import ScalingGroupElement
from ..fast import GSGD
from ..testing import rel_error
from . import LabFailure, call, compare

TITLE = "Lab 4: experiment: SGD and G-SGD from equivalent networks, with a conclusion (A2, A3)"


def function_gap(weights_a, weights_b, X):
    fa, fb = MLP.from_weights(weights_a).forward(X), MLP.from_weights(weights_b).forward(X)
    return rel_error(fa, fb, norm=True)


def train(weights, optimizer, batches, lr):
    opt = {"sgd": SGD, "gsgd": GSGD}[optimizer](lr=lr)
    net, out = MLP.from_weights(weights), []
    for X, Y in batches:
        net = opt.step(net, net.loss_and_gradients(X, Y, loss="mse")[1])
        out.append(net.weights)
    return out


def invariance_experiment(weights, c, batches, lr, X_eval):
    scaled = ScalingGroupElement(MLP.from_weights(weights).widths, c)
    scaled = scaled.apply(MLP.from_weights(weights)).weights
    gaps = {}
    for name in ("sgd", "gsgd"):
        runs = zip(train(weights, name, batches, lr), train(scaled, name, batches, lr))
        gaps[name] = np.array([function_gap(a, b, X_eval) for a, b in runs])
    return gaps


CONCLUSION = """
Run of the starter's main block (seed 0): a 4-8-8-3 ReLU network, He initialization, 20
mini-batches of 8 random inputs and targets, MSE loss, learning rate 0.02, started once from w
and once from g_c(w) with log-normal factors c (spread 0.5). The function gap between the two
runs stayed between 2e-16 and 5e-15 at every step for G-SGD, while for SGD it was 0.06 after
one step, 0.47 after five and 0.27 after twenty. So G-SGD's trajectory depends only on the
equivalence class of the start (claim A2); plain SGD's depends on the representative (A3).
"""

REFERENCE = {f.__name__: f for f in (function_gap, train, invariance_experiment)} | {
    "CONCLUSION": CONCLUSION
}


def _setup(rng, widths=(4, 8, 8, 3), n_steps=4):
    widths = list(widths)
    w = MLP(widths, rng=rng).weights
    c = [np.exp(0.5 * rng.normal(size=h)) for h in widths[1:-1]]
    batches = [
        (rng.normal(size=(8, widths[0])), rng.normal(size=(8, widths[-1]))) for _ in range(n_steps)
    ]
    return widths, w, c, batches, rng.normal(size=(50, widths[0]))


def check_function_gap(student, rng):
    """function_gap is the relative distance of the two functions on X"""
    for _ in range(4):
        widths, w, c, _, X = _setup(rng)
        other = MLP(widths, rng=rng).weights if rng.random() < 0.5 else w
        on = f" on widths {widths}"
        got = call(student, "function_gap", w, other, X, on=on)
        hint = "||N_a(X) - N_b(X)|| / max(1e-12, ||N_a(X)|| + ||N_b(X)||), Frobenius norms."
        compare(got, function_gap(w, other, X), "function_gap", on, hint, atol=1e-14)


def check_train(student, rng):
    """train takes one step per mini-batch, MSE loss"""
    for name in ("sgd", "gsgd"):
        widths, w, _, batches, _ = _setup(rng, n_steps=3)
        on = f"(weights, {name!r}, 3 batches, lr=0.02) on widths {widths}"
        got = call(student, "train", w, name, batches, 0.02, on=on)
        hint = "Return the list of weights after each step; the loss is loss='mse'."
        exp = train(w, name, batches, 0.02)
        if not isinstance(got, (list, tuple)) or len(got) != len(exp):
            raise LabFailure(f"train{on}: expected a list of {len(exp)} networks' weights")
        for k, (a, b) in enumerate(zip(got, exp)):
            compare(a, b, f"train(...)[{k}]", on, hint)


def check_invariance_experiment(student, rng):
    """invariance_experiment gives the gap between the runs from w and from g_c(w), per step"""
    widths, w, c, batches, X = _setup(rng, n_steps=20)
    on = f" on widths {widths}, 20 steps, lr=0.02"
    got = call(student, "invariance_experiment", w, c, batches, 0.02, X, on=on)
    exp = invariance_experiment(w, c, batches, 0.02, X)
    if not isinstance(got, dict) or set(got) != {"sgd", "gsgd"}:
        raise LabFailure(f"invariance_experiment{on}: expected a dict with keys 'sgd', 'gsgd'")
    compare(got["sgd"], exp["sgd"], "gaps['sgd']", on, rtol=1e-6)
    g = np.asarray(got["gsgd"], dtype=float)
    if g.shape != exp["gsgd"].shape or not np.all(g < 1e-9):
        raise LabFailure(
            f"gaps['gsgd']{on}: G-SGD from w and from g_c(w) should compute the same function "
            f"at every step, to rounding (claim A2); expected {len(exp['gsgd'])} gaps below "
            f"1e-9, got {np.array2string(g, precision=2, threshold=6)}"
        )


def check_conclusion(student, rng):
    """CONCLUSION is a written conclusion with the measured numbers (read by your teacher)"""
    text = getattr(student, "CONCLUSION", None)
    if not isinstance(text, str) or "TODO" in text:
        raise LabFailure("CONCLUSION is still the TODO: write what you measured and what it shows")
    missing = "G-SGD" not in text or not re.search(r"(?<!G-)SGD", text)
    n_words = len(text.split())
    if n_words < 50 or missing or not re.search(r"\d", text):
        raise LabFailure(
            f"CONCLUSION has {n_words} words (at least 50 expected), must name G-SGD and SGD "
            f"and quote measured numbers (the network, the steps, the gaps you saw)"
        )


CHECKS = [check_function_gap, check_train, check_invariance_experiment, check_conclusion]
#: Documented: the graded checks (the reference functions above are the solution).
__all__ = [c.__name__ for c in CHECKS]
