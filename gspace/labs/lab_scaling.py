"""Lab 1: the positive scaling group and the invariance of ReLU networks (claims G1, G2).

The reference functions below are the solution: each calls gspace's own implementation
(:class:`gspace.MLP`, :class:`gspace.ScalingGroupElement`,
:func:`gspace.core.scaling.scaling_vectors`).
"""

from __future__ import annotations

import numpy as np

from ..core.network import MLP
from ..core.scaling import ScalingGroupElement
from ..core.scaling import scaling_vectors as _scaling_vectors
from . import LabFailure, call, compare, copies, draw_weights, draw_widths, fmt

TITLE = "Lab 1: the scaling group and invariance (paper: positive scale-invariance; G1, G2)"


def forward(weights, X):
    return MLP.from_weights(weights).forward(X)


def scale_node(weights, layer, node, c):
    widths = MLP.from_weights(weights).widths
    g = ScalingGroupElement.single_node(widths, layer, node, c)
    return g.apply(MLP.from_weights(weights)).weights


def apply_scaling(weights, c):
    net = MLP.from_weights(weights)
    return ScalingGroupElement(net.widths, c).apply(net).weights


def scaling_vectors(widths):
    return _scaling_vectors(widths)


REFERENCE = {f.__name__: f for f in (forward, scale_node, apply_scaling, scaling_vectors)}


def _cases(rng, n=6):
    for _ in range(n):
        widths = draw_widths(rng)
        widths[1:-1] = [max(h, 2) for h in widths[1:-1]]
        yield widths, draw_weights(widths, rng)


def check_forward(student, rng):
    """forward equals gspace.MLP.forward"""
    for widths, w in _cases(rng):
        X = rng.normal(size=(4, widths[0]))
        on = f" on widths {widths}, X of shape {X.shape}"
        got = call(student, "forward", copies(w), X, on=on)
        hint = "ReLU on hidden layers only; the output layer is linear (logits)."
        compare(got, forward(w, X), "forward(weights, X)", on, hint)


def check_scale_node(student, rng):
    """scale_node multiplies the node's in-weights by c and divides its out-weights by c"""
    for widths, w in _cases(rng):
        layer = int(rng.integers(1, len(widths) - 1))
        node = int(rng.integers(widths[layer]))
        c = float(np.round(rng.uniform(0.2, 5.0), 3))
        on = f" with widths {widths}, layer={layer}, node={node}, c={c}"
        before = copies(w)
        got = call(student, "scale_node", w, layer, node, c, on=on)
        hint = (
            f"In-weights of the node are the column weights[{layer - 1}][:, {node}], "
            f"out-weights the row weights[{layer}][{node}, :]."
        )
        compare(got, scale_node(before, layer, node, c), "scale_node(...)", on, hint)
        if any(not np.array_equal(a, b) for a, b in zip(w, before)):
            raise LabFailure(f"scale_node{on} modified its input: copy the arrays first")


def check_apply_scaling(student, rng):
    """apply_scaling equals g_c, one factor per hidden node"""
    for widths, w in _cases(rng):
        c = [np.round(rng.uniform(0.2, 5.0, h), 3) for h in widths[1:-1]]
        on = f" with widths {widths}, c = {fmt(c)}"
        got = call(student, "apply_scaling", copies(w), copies(c), on=on)
        hint = "Node j of hidden layer l has factor c[l-1][j]."
        compare(got, apply_scaling(w, c), "apply_scaling(...)", on, hint)


def check_invariance(student, rng):
    """G1 and G2 hold for your functions: the function is unchanged; composition"""
    for widths, w in _cases(rng, 4):
        c1, c2 = ([rng.uniform(0.2, 5.0, h) for h in widths[1:-1]] for _ in range(2))
        X = rng.normal(size=(5, widths[0]))
        on = f" on widths {widths}"
        scaled = call(student, "apply_scaling", copies(w), c1, on=on)
        f0 = call(student, "forward", copies(w), X, on=on)
        f1 = call(student, "forward", scaled, X, on=on)
        compare(f1, f0, "G2: forward(apply_scaling(w, c), X) vs forward(w, X)", on)
        twice = call(student, "apply_scaling", scaled, c2, on=on)
        once = call(student, "apply_scaling", copies(w), [a * b for a, b in zip(c1, c2)], on=on)
        compare(twice, once, "G1: apply_scaling(apply_scaling(w, c1), c2) vs c1*c2", on)


def check_scaling_vectors(student, rng):
    """scaling_vectors has row O equal to b_O (+1 on in-edges of O, -1 on out-edges)"""
    for widths, _ in _cases(rng, 5):
        on = f" for widths {widths}"
        B = call(student, "scaling_vectors", list(widths), on=on)
        hint = (
            "Rows: hidden nodes layer by layer; columns: edges layer by layer, row-major in "
            "weights[l] (edge (i -> j) of weights[l] has index offset_l + i * h_{l+1} + j)."
        )
        compare(B, scaling_vectors(widths), "scaling_vectors", on, hint)


CHECKS = [check_forward, check_scale_node, check_apply_scaling, check_invariance]
CHECKS += [check_scaling_vectors]
#: Documented: the graded checks (the reference functions above are the solution).
__all__ = [c.__name__ for c in CHECKS]
