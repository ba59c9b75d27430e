"""Lab 1: the scaling group and the invariance of ReLU networks (claims G1, G2).

Learning objectives:

* compute a bias-free ReLU network's output with weights[l] of shape (h_l, h_{l+1});
* implement g_{c,O} and the group element g_c (one factor per hidden node);
* check on your own code that N_{g(w)}(x) = N_w(x) (G2) and g_c g_c' = g_{cc'} (G1);
* build the vectors b_O and see the group act as a translation of log|w|.

Use NumPy only. Conventions: the labs section of the teachers page in the gspace docs. Grade
with ``gspace lab scaling --check FILE``.
"""

import numpy as np

from ..core import scaling  # HIDDEN
from ..core.network import MLP  # HIDDEN
from . import call, compare, networks, same  # HIDDEN


def forward(weights, X):
    """The logits (n, h_L) for inputs X (n, h_0): ReLU after every layer but the last."""
    return MLP.from_weights(weights).forward(X)  # SOLUTION


def scale_node(weights, layer, node, c):
    """g_{c,O} for the hidden node O = (layer, node) and c > 0: new arrays (do not modify
    ``weights``), the weights entering O multiplied by c, those leaving O divided by c."""
    # TODO: which column of which weights[...] enters the node, which row leaves it?
    # BEGIN SOLUTION
    net = MLP.from_weights(weights)
    return scaling.ScalingGroupElement.single_node(net.widths, layer, node, c).apply(net).weights
    # END SOLUTION


def apply_scaling(weights, c):
    """g_c: new arrays, ``weights[l-1][:, j]`` times ``c[l-1][j]`` and ``weights[l][j, :]``
    divided by it, for every node j of every hidden layer l (``c[l-1]`` of shape (h_l,))."""
    # TODO: one line per hidden layer is enough with broadcasting (w * c[None, :]).
    # BEGIN SOLUTION
    net = MLP.from_weights(weights)
    return scaling.ScalingGroupElement(net.widths, c).apply(net).weights
    # END SOLUTION


def scaling_vectors(widths):
    """The (H, m) matrix B, row O = b_O: +1 on the edges entering O, -1 on those leaving it;
    rows: hidden nodes layer by layer; columns: edges layer by layer, row-major in weights[l]."""
    return scaling.scaling_vectors(widths)  # SOLUTION


# BEGIN HIDDEN
def checks(student, check):
    with check("forward equals gspace.MLP.forward") as rng:
        for widths, w, on in networks(rng, 6, min_hidden=2):
            same(student, forward, (w, rng.normal(size=(4, widths[0]))), on)
    title = "scale_node multiplies the node's in-weights by c and divides its out-weights by c"
    with check(title) as rng:
        for widths, w, on in networks(rng, 6, min_hidden=2):
            l, c = int(rng.integers(1, len(widths) - 1)), float(np.round(rng.uniform(0.2, 5), 3))
            j = int(rng.integers(widths[l]))
            on, kept = f"{on}, layer={l}, node={j}, c={c}", [a.copy() for a in w]
            hint = f"In-weights of the node are the column weights[{l - 1}][:, {j}], out-weights "
            same(student, scale_node, (w, l, j, c), on, f"{hint}the row weights[{l}][{j}, :].")
            student.scale_node(w, l, j, c)  # as graded just now, but on the caller's arrays
            hint = "scale_node modified its input: copy arrays first."
            compare(w, kept, "input weights", on, hint)
    with check("apply_scaling equals g_c, one factor per hidden node") as rng:
        for widths, w, on in networks(rng, 6, min_hidden=2):
            c = [np.round(rng.uniform(0.2, 5.0, h), 3) for h in widths[1:-1]]
            same(student, apply_scaling, (w, c), f"{on}, c = {[a.tolist() for a in c]}")
    with check("G1 and G2 hold for your functions: the function is unchanged; composition") as rng:
        for widths, w, on in networks(rng, 4, min_hidden=2):
            c1, c2 = ([rng.uniform(0.2, 5.0, h) for h in widths[1:-1]] for _ in range(2))
            X, gw = rng.normal(size=(5, widths[0])), call(student, "apply_scaling", w, c1, on=on)
            f0, f1 = (call(student, "forward", v, X, on=on) for v in (w, gw))
            compare(f1, f0, "G2: forward(apply_scaling(w, c), X) vs forward(w, X)", on)
            twice = call(student, "apply_scaling", gw, c2, on=on)
            once = call(student, "apply_scaling", w, [a * b for a, b in zip(c1, c2)], on=on)
            compare(twice, once, "G1: apply_scaling(apply_scaling(w, c1), c2) vs c1*c2", on)
    title = "scaling_vectors has row O equal to b_O (+1 on in-edges of O, -1 on out-edges)"
    with check(title) as rng:
        for widths, _, on in networks(rng, 5, min_hidden=2):
            same(student, scaling_vectors, (widths,), on)


# END HIDDEN
