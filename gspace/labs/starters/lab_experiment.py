"""Lab 4: an experiment with a written conclusion: SGD and G-SGD from equivalent networks.

Read with: the G-SGD paper (Meng et al., ICLR 2019), its motivation (weight-space SGD is not
invariant under positive rescaling) and section "Algorithm 1"; the gspace docs, theory page,
claims A2 and A3; tutorials 1 and 5.

Learning objectives
-------------------
* design a controlled experiment: same data, same mini-batches, two equivalent starts;
* measure a function-space distance instead of comparing weights;
* observe that G-SGD's trajectory does not depend on the representative (A2) and SGD's does
  (A3);
* write a conclusion that states what was measured, on what, and what it shows.

In this lab you may use gspace (``gspace.MLP.from_weights``, ``net.loss_and_gradients``,
``gspace.SGD``, ``gspace.GSGD``, ``gspace.ScalingGroupElement``) or your code from labs 1
and 3. Weights are lists of arrays, ``weights[l]`` of shape (h_l, h_{l+1}).

Replace every ``raise NotImplementedError``, run this file (``python lab_experiment.py``:
it runs the experiment below and draws the gaps), write CONCLUSION, then

    gspace lab experiment --check lab_experiment.py
"""

import numpy as np

import gspace  # noqa: F401  (allowed in this lab)


def function_gap(weights_a, weights_b, X):
    """Relative distance between two networks' functions on the inputs X.

    Returns
    -------
    float
        ||N_a(X) - N_b(X)|| / max(1e-12, ||N_a(X)|| + ||N_b(X)||) with Frobenius norms: 0 for
        the same function, about 1 for unrelated ones, rounding level (1e-16) for two
        networks that differ only by rounding.
    """
    raise NotImplementedError("TODO: function_gap")


def train(weights, optimizer, batches, lr):
    """Train from ``weights``: one step per mini-batch, loss="mse".

    Parameters
    ----------
    weights : list of ndarray
    optimizer : {"sgd", "gsgd"}
        Plain SGD or G-SGD (no momentum).
    batches : list of (X, Y)
        Mini-batches, X of shape (n, h_0), Y of shape (n, h_L).
    lr : float

    Returns
    -------
    list
        The weights (a list of arrays) after each step: len(batches) entries.
    """
    raise NotImplementedError("TODO: train")


def invariance_experiment(weights, c, batches, lr, X_eval):
    """Train from w and from g_c(w) on the same mini-batches and measure their distance.

    Parameters
    ----------
    weights : list of ndarray
    c : list of ndarray
        Positive factors of the hidden nodes (c[l-1] of shape (h_l,)), as in lab 1.
    batches, lr
        As :func:`train`.
    X_eval : ndarray
        Inputs on which ``function_gap`` is measured.

    Returns
    -------
    dict
        {"sgd": gaps, "gsgd": gaps}, each an ndarray of shape (len(batches),): the function
        gap between the two runs after each step.
    """
    raise NotImplementedError("TODO: invariance_experiment")


# TODO: replace this text by your conclusion (at least 50 words): the network and settings,
# the gaps you measured for SGD and for G-SGD (numbers), and what they show about the claims.
CONCLUSION = "TODO"


if __name__ == "__main__":
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    widths = [4, 8, 8, 3]
    w = gspace.MLP(widths, rng=rng).weights
    c = [np.exp(0.5 * rng.normal(size=h)) for h in widths[1:-1]]
    batches = [(rng.normal(size=(8, 4)), rng.normal(size=(8, 3))) for _ in range(20)]
    X_eval = rng.normal(size=(200, 4))
    gaps = invariance_experiment(w, c, batches, 0.02, X_eval)
    for name, gap in gaps.items():
        print(f"{name:5s} gap after steps 1, 5, 20:", np.array2string(gap[[0, 4, 19]]))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, gap in gaps.items():
        ax.semilogy(np.arange(1, 21), np.maximum(gap, 1e-17), "o-", label=name)
    ax.set_xlabel("training step")
    ax.set_ylabel("function gap between the runs from w and g_c(w)")
    ax.legend()
    fig.tight_layout()
    plt.show()
