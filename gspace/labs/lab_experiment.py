"""Lab 4: experiment: SGD and G-SGD from equivalent networks, with a conclusion (A2, A3).

Learning objectives:

* design a controlled experiment: same data, same mini-batches, two equivalent starts;
* measure a function-space distance instead of comparing weights;
* see that G-SGD's trajectory does not depend on the representative (A2), SGD's does (A3);
* write a conclusion that states what was measured, on what, and what it shows.

You may use gspace (``gspace.MLP``, ``SGD``, ``GSGD``, ``ScalingGroupElement``) or your labs 1 and
3; reading: the teachers page in the gspace docs. Implement the functions, run this file (it
draws the gaps), write CONCLUSION, then grade with ``gspace lab experiment --check FILE``.
"""

import numpy as np

import gspace  # allowed in this lab

from . import LabFailure, call, compare, same  # HIDDEN


def function_gap(weights_a, weights_b, X):
    """||N_a(X) - N_b(X)|| / max(1e-12, ||N_a(X)|| + ||N_b(X)||), Frobenius norms: 0 for the
    same function, about 1 for unrelated ones, about 1e-16 for a difference of rounding."""
    # BEGIN SOLUTION
    fa, fb = (gspace.MLP.from_weights(w).forward(X) for w in (weights_a, weights_b))
    return gspace.testing.rel_error(fa, fb, norm=True)
    # END SOLUTION


def train(weights, optimizer, batches, lr):
    """Train from ``weights`` with ``optimizer`` "sgd" or "gsgd" (no momentum), one step per
    mini-batch (X, Y) of ``batches``, loss="mse"; return the list of weights after each step."""
    # BEGIN SOLUTION
    opt = {"sgd": gspace.SGD, "gsgd": gspace.GSGD}[optimizer](lr=lr)
    net, out = gspace.MLP.from_weights(weights), []
    for X, Y in batches:
        net = opt.step(net, net.loss_and_gradients(X, Y, loss="mse")[1])
        out.append(net.weights)
    return out
    # END SOLUTION


def invariance_experiment(weights, c, batches, lr, X_eval):
    """Train from w and from g_c(w) (``c`` as in lab 1) on the same batches; return {"sgd":
    gaps, "gsgd": gaps}, arrays of the ``function_gap`` on X_eval between the runs per step."""
    # BEGIN SOLUTION
    net = gspace.MLP.from_weights(weights)
    scaled = gspace.ScalingGroupElement(net.widths, c).apply(net).weights
    gaps = {}
    for name in ("sgd", "gsgd"):
        runs = zip(train(weights, name, batches, lr), train(scaled, name, batches, lr))
        gaps[name] = np.array([function_gap(a, b, X_eval) for a, b in runs])
    return gaps
    # END SOLUTION


def setup(rng, n_steps):
    """The arguments of ``invariance_experiment``: a 4-8-8-3 network (He), log-normal factors c,
    ``n_steps`` batches of 8 random (X, Y), lr = 0.02 and 200 inputs to measure the gaps on."""
    w = gspace.MLP([4, 8, 8, 3], rng=rng).weights
    c = [np.exp(0.5 * rng.normal(size=h)) for h in (8, 8)]
    batches = [(rng.normal(size=(8, 4)), rng.normal(size=(8, 3))) for _ in range(n_steps)]
    return w, c, batches, 0.02, rng.normal(size=(200, 4))


# TODO: replace this text by your conclusion (at least 50 words): the network and settings,
# the gaps you measured for SGD and for G-SGD (numbers), and what they show about the claims.
CONCLUSION = "TODO"
# BEGIN HIDDEN
CONCLUSION = """Run of the main block (seed 0): a 4-8-8-3 ReLU network, He initialization, 20
mini-batches of 8 random inputs and targets, MSE loss, learning rate 0.02, started from w and
from g_c(w) with log-normal factors c (spread 0.5). The function gap between the two runs stayed
between 2e-16 and 5e-15 at every step for G-SGD; for SGD it was 0.06 after one step, 0.47 after
five and 0.27 after twenty. So G-SGD's trajectory depends only on the equivalence class of the
start (claim A2), plain SGD's on the representative (A3)."""


def checks(student, check):
    with check("function_gap is the relative distance of the two functions on X") as rng:
        for _ in range(4):
            w, _, _, _, X = setup(rng, 4)
            other = gspace.MLP([4, 8, 8, 3], rng=rng).weights if rng.random() < 0.5 else w
            same(student, function_gap, (w, other, X), " on widths [4, 8, 8, 3]", atol=1e-14)
    with check("train takes one step per mini-batch, MSE loss") as rng:
        for name in ("sgd", "gsgd"):
            w, _, batches, lr, _ = setup(rng, 3)
            on = f" with {name!r}, 3 batches, lr={lr}, on widths [4, 8, 8, 3]"
            same(student, train, (w, name, batches, lr), on)
    title = "invariance_experiment gives the gap between the runs from w and from g_c(w), per step"
    with check(title) as rng:
        args, on = setup(rng, 20), " on widths [4, 8, 8, 3], 20 steps, lr=0.02"
        got = call(student, "invariance_experiment", *args, on=on)
        exp = invariance_experiment(*args)
        if not isinstance(got, dict) or set(got) != {"sgd", "gsgd"}:
            raise LabFailure(f"invariance_experiment{on}: expected a dict with keys 'sgd', 'gsgd'")
        compare(got["sgd"], exp["sgd"], "gaps['sgd']", on, rtol=1e-6)
        hint = "G-SGD from w and from g_c(w) computes the same function at every step, to rounding "
        compare(got["gsgd"], exp["gsgd"], "gaps['gsgd']", on, hint + "(A2).", rtol=0, atol=1e-9)
    title = "CONCLUSION is a written conclusion with the measured numbers (read by your teacher)"
    with check(title):
        text = getattr(student, "CONCLUSION", None)
        if not isinstance(text, str) or "TODO" in text:
            raise LabFailure(
                "CONCLUSION is still the TODO: write what you measured and what it shows"
            )
        n_words, names = len(text.split()), "G-SGD" in text and "SGD" in text.replace("G-SGD", "")
        if n_words < 50 or not names or not any(ch.isdigit() for ch in text):
            raise LabFailure(
                f"CONCLUSION has {n_words} words (at least 50 expected), must name G-SGD and SGD "
                f"and quote measured numbers (the network, the steps, the gaps you saw)"
            )


# END HIDDEN

if __name__ == "__main__":
    import matplotlib.pyplot as plt

    gaps = invariance_experiment(*setup(np.random.default_rng(0), 20))
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    for name, gap in gaps.items():
        print(f"{name:5s} gap after steps 1, 5, 20:", np.array2string(gap[[0, 4, 19]]))
        ax.semilogy(np.arange(1, 21), np.maximum(gap, 1e-17), "o-", label=name)
    ax.set(xlabel="training step", ylabel="function gap between the runs from w and g_c(w)")
    ax.legend()
    plt.show()
