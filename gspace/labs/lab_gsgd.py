"""Lab 3: implement G-SGD: basis-path values, Inverse-Chain-Rule, Weight-Allocation, one step
(claims B4, I1, W1, Algorithm 1).

The reference functions below are the solution: each calls the G-SGD stage of gspace's own
implementation (:mod:`gspace.core.gsgd`) with the default skeleton.
"""

from __future__ import annotations

import numpy as np

from ..core import gsgd as _gsgd
from ..core.basis import Skeleton
from ..core.network import MLP, Gradients
from . import call, compare, copies, draw_weights, draw_widths, fmt

TITLE = "Lab 3: implement G-SGD: Inverse-Chain-Rule and Weight-Allocation (I1, W1, Algorithm 1)"


def rho_in(weights):
    return _gsgd.rho_in(MLP.from_weights(weights))


def rho_out(weights):
    return _gsgd.rho_out(MLP.from_weights(weights))


def basis_path_values(weights):
    return _gsgd.basis_path_values(MLP.from_weights(weights)).weights


def inverse_chain_rule(weights, grads):
    return _gsgd.inverse_chain_rule(MLP.from_weights(weights), Gradients(list(grads))).weights


def weight_allocation(weights, v_new):
    net, v_new = MLP.from_weights(weights), _gsgd.PathArrays(list(v_new))
    R = _gsgd.path_ratios(_gsgd.basis_path_values(net), v_new)  # the core's WA takes ratios
    return _gsgd.weight_allocation(net, R, v_new).weights


def gsgd_step(weights, grads, lr):
    return _gsgd.gsgd_step(MLP.from_weights(weights), Gradients(list(grads)), lr).weights


REFERENCE = {
    f.__name__: f
    for f in (rho_in, rho_out, basis_path_values, inverse_chain_rule, weight_allocation)
}
REFERENCE["gsgd_step"] = gsgd_step


def _cases(rng, n=6):
    """Networks with equal hidden widths (the paper's skeleton) and unequal ones (B4), and a
    mini-batch gradient from back-propagation (MSE on random data)."""
    for k in range(n):
        widths = draw_widths(rng, width=(1, 4))
        if k % 2 == 0:
            widths[1:-1] = [widths[1]] * (len(widths) - 2)
        w = draw_weights(widths, rng)
        X, Y = rng.normal(size=(8, widths[0])), rng.normal(size=(8, widths[-1]))
        _, grads = MLP.from_weights(w).loss_and_gradients(X, Y, loss="mse")
        sk = Skeleton.default(widths)
        non_sigma = [~sk.sigma_mask(l) for l in range(len(w))]
        yield widths, w, grads.weights, non_sigma


def check_rho(student, rng):
    """rho_in and rho_out are the products along the in-chains (pi) and out-chains (sigma)"""
    for widths, w, _, _ in _cases(rng):
        L, on = len(widths) - 1, f" on widths {widths}"
        got = call(student, "rho_in", copies(w), on=on)
        hint = "rho_in = 1 at the inputs; rho_in(b) = rho_in(pi(b)) * w[pi(b) -> b]."
        compare(list(got)[:L], rho_in(w)[:L], "rho_in", on, hint)
        got = list(call(student, "rho_out", copies(w), on=on))
        hint = "rho_out = 1 at the outputs; rho_out(b) = w[b -> sigma(b)] * rho_out(sigma(b))."
        for l in range(1, L + 1):
            compare(got[l] if l < len(got) else None, rho_out(w)[l], f"rho_out[{l}]", on, hint)


def check_basis_path_values(student, rng):
    """basis_path_values gives v_e = rho_in(a) * w_e * rho_out(b) on every non-sigma edge"""
    for widths, w, _, non_sigma in _cases(rng):
        on = f" on widths {widths}"
        got = call(student, "basis_path_values", copies(w), on=on)
        hint = "Entries on sigma-edges are not graded."
        compare(got, basis_path_values(w), "v", on, hint, mask=non_sigma)


def check_inverse_chain_rule(student, rng):
    """inverse_chain_rule gives dl/dv (Inverse-Chain-Rule)"""
    for widths, w, g, non_sigma in _cases(rng):
        on = f" on widths {widths} with back-propagation's gradient of an MSE loss"
        got = call(student, "inverse_chain_rule", copies(w), copies(g), on=on)
        hint = (
            "Plain edges: dl/dv = (dl/dw) / (rho_in(a) rho_out(b)). The pi-edge of node b also "
            "lies on the basis paths whose in-chain passes through b: u = w dl/dw - D(b), "
            "dl/dv = u / v, with D(b) the sum of u over those paths (one backward sweep)."
        )
        exp = inverse_chain_rule(w, g)
        compare(got, exp, "dl/dv", on, hint, mask=non_sigma)


def check_weight_allocation(student, rng):
    """weight_allocation keeps the sigma-edges and hits v_new (W1)"""
    for widths, w, _, _ in _cases(rng):
        v = basis_path_values(w)
        R = [rng.uniform(0.7, 1.3, a.shape) for a in v]
        v_new = [a * r for a, r in zip(v, R)]
        on = f" on widths {widths}, v_new = v * R with R = {fmt(R)}"
        got = call(student, "weight_allocation", copies(w), copies(v_new), on=on)
        hint = (
            "Keep every sigma-edge; then layer by layer from the inputs, "
            "w'_e = v_new_e / (rho_in'(a) rho_out(b)) with rho_in' from the new weights."
        )
        compare(got, weight_allocation(w, v_new), "new weights", on, hint)


def check_gsgd_step(student, rng):
    """gsgd_step equals gspace's G-SGD step (Algorithm 1)"""
    for widths, w, g, _ in _cases(rng):
        lr = float(np.round(rng.uniform(0.01, 0.1), 3))
        on = f" on widths {widths}, lr={lr}"
        got = call(student, "gsgd_step", copies(w), copies(g), lr, on=on)
        hint = "v -> ICR -> v - lr dl/dv -> Weight-Allocation."
        compare(got, gsgd_step(w, g, lr), "new weights", on, hint)


CHECKS = [check_rho, check_basis_path_values, check_inverse_chain_rule]
CHECKS += [check_weight_allocation, check_gsgd_step]
#: Documented: the graded checks (the reference functions above are the solution).
__all__ = [c.__name__ for c in CHECKS]
