"""Lab 3: implement G-SGD: Inverse-Chain-Rule and Weight-Allocation (I1, W1, Algorithm 1).

Learning objectives:

* compute the chain products rho_in, rho_out and the basis-path values v_e;
* derive and implement the Inverse-Chain-Rule: dl/dv from back-propagation's dl/dw;
* implement Weight-Allocation: new weights with the updated basis-path values;
* assemble one G-SGD step (Algorithm 1) and compare it with gspace's.

Use NumPy only. Conventions (``pi``, ``sigma``; v, dl/dv shaped like the weights), hints: the
labs section of the teachers page in the gspace docs. Grade with ``gspace lab gsgd --check FILE``.
"""

import numpy as np

from ..core import basis, gsgd  # HIDDEN
from ..core.network import MLP, Gradients  # HIDDEN
from . import networks, same  # HIDDEN


def pi(widths, l):
    """In-parents of the nodes of hidden layer l: int array of shape (h_l,)."""
    return np.arange(widths[l]) % widths[l - 1]


def sigma(widths, l):
    """Out-children of the nodes of hidden layer l: int array of shape (h_l,)."""
    return np.arange(widths[l]) % widths[l + 1]


def rho_in(weights):
    """Products along the in-chains: a list of L + 1 arrays, rho[0] = 1 (inputs) and
    rho[l][b] = rho[l-1][pi(b)] * weights[l-1][pi(b), b]; entry L is not graded (None)."""
    return gsgd.rho_in(MLP.from_weights(weights))  # SOLUTION


def rho_out(weights):
    """Products along the out-chains: a list of L + 1 arrays, rho[L] = 1 (outputs) and
    rho[l][b] = weights[l][b, sigma(b)] * rho[l+1][sigma(b)]; entry 0 is not graded (None)."""
    return gsgd.rho_out(MLP.from_weights(weights))  # SOLUTION


def basis_path_values(weights):
    """v[l][a, b] = rho_in[l][a] * weights[l][a, b] * rho_out[l+1][b], shaped like weights."""
    return gsgd.basis_path_values(MLP.from_weights(weights)).weights  # SOLUTION


def inverse_chain_rule(weights, grads):
    """Inverse-Chain-Rule: dl/dv, shaped like the weights, from dl/dw = ``grads`` (the
    derivation, step by step: lab 3 in the labs section of the docs)."""
    return gsgd.inverse_chain_rule(MLP.from_weights(weights), Gradients(grads)).weights  # SOLUTION


def weight_allocation(weights, v_new):
    """Weight-Allocation: new weights with basis-path values ``v_new`` (ignored on sigma-edges,
    which keep their weights, so rho_out is unchanged): from the inputs up, w'[l][a, b] =
    v_new[l][a, b] / (rho_in'[l][a] * rho_out[l+1][b]), rho_in' from the NEW lower weights."""
    # BEGIN SOLUTION
    net, v_new = MLP.from_weights(weights), gsgd.PathArrays(list(v_new))
    R = gsgd.path_ratios(gsgd.basis_path_values(net), v_new)  # the core's WA takes R
    return gsgd.weight_allocation(net, R, v_new).weights
    # END SOLUTION


def gsgd_step(weights, grads, lr):
    """One plain G-SGD step (Algorithm 1): v, dl/dv, v - lr dl/dv, Weight-Allocation."""
    return gsgd.gsgd_step(MLP.from_weights(weights), Gradients(grads), lr).weights  # SOLUTION


# BEGIN HIDDEN
def _cases(rng):
    """Equal hidden widths (the paper's skeleton) and unequal ones (B4), MSE gradients."""
    for widths, w, on in networks(rng, 6, width=(1, 4), equal=True):
        X, Y = rng.normal(size=(8, widths[0])), rng.normal(size=(8, widths[-1]))
        grads = MLP.from_weights(w).loss_and_gradients(X, Y, loss="mse")[1].weights
        free = [~basis.Skeleton.default(widths).sigma_mask(l) for l in range(len(w))]
        yield w, grads, free, on


def checks(student, check):
    title = "rho_in and rho_out are the products along the in-chains (pi) and out-chains (sigma)"
    with check(title) as rng:
        for w, _, _, on in _cases(rng):
            same(student, rho_in, (w,), on)
            same(student, rho_out, (w,), on)
    title = "basis_path_values gives v_e = rho_in(a) * w_e * rho_out(b) on every non-sigma edge"
    with check(title) as rng:
        for w, _, free, on in _cases(rng):
            same(student, basis_path_values, (w,), on, mask=free)
    with check("inverse_chain_rule gives dl/dv (Inverse-Chain-Rule)") as rng:
        hint = "Plain edges: dl/dv = (dl/dw) / (rho_in(a) rho_out(b)). The pi-edge of node b "
        hint += "also lies on the basis paths whose in-chain passes through b: u = w dl/dw - "
        hint += "D(b), dl/dv = u / v, with D(b) the sum of u over those paths (a backward sweep)."
        for w, g, free, on in _cases(rng):
            on += " with back-propagation's gradient of an MSE loss"
            same(student, inverse_chain_rule, (w, g), on, hint, mask=free)
    with check("weight_allocation keeps the sigma-edges and hits v_new (W1)") as rng:
        for w, _, _, on in _cases(rng):
            R = [rng.uniform(0.7, 1.3, a.shape) for a in w]
            v_new = [a * r for a, r in zip(basis_path_values(w), R)]
            on += f", v_new = v * R, R = {[r.round(3).tolist() for r in R]}"
            same(student, weight_allocation, (w, v_new), on)
    with check("gsgd_step equals gspace's G-SGD step (Algorithm 1)") as rng:
        for w, g, _, on in _cases(rng):
            lr = float(np.round(rng.uniform(0.01, 0.1), 3))
            same(student, gsgd_step, (w, g, lr), f"{on}, lr={lr}")


# END HIDDEN
