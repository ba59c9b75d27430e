"""Lab 1: the scaling group and the invariance of ReLU networks.

Read with: the G-SGD paper (Meng et al., ICLR 2019), the definition of positive
scale-invariance (the operators g_{c,O} and the group G); the gspace docs, theory page,
claims G1 and G2; tutorial 1.

Learning objectives
-------------------
* compute a bias-free ReLU network's output with weights[l] of shape (h_l, h_{l+1});
* implement g_{c,O} and the group element g_c (one factor per hidden node);
* check on your own code that N_{g(w)}(x) = N_w(x) (G2) and g_c g_c' = g_{cc'} (G1);
* build the vectors b_O and see the group act as a translation of log|w|.

Conventions (as in gspace): a network with layers 0..L is a list ``weights`` of L NumPy
arrays; ``weights[l]`` has shape (h_l, h_{l+1}), so one layer is ``X @ weights[l]`` and
``weights[l][i, j]`` joins node i of layer l to node j of layer l+1. Layers 1..L-1 are hidden.
Use NumPy only (not gspace) in this file.

Replace every ``raise NotImplementedError`` by your code, then grade your file with

    gspace lab scaling --check lab_scaling.py

Each failed check says which function, on which input, what was expected and what came back.
"""

import numpy as np


def forward(weights, X):
    """Output of the ReLU network for a batch of inputs.

    Parameters
    ----------
    weights : list of ndarray
        ``weights[l]`` of shape (h_l, h_{l+1}).
    X : ndarray of shape (n, h_0)
        One input per row.

    Returns
    -------
    ndarray of shape (n, h_L)
        The logits: ReLU after every hidden layer, nothing after the last layer.
    """
    # TODO: loop over the layers; apply np.maximum(z, 0) to every layer but the last.
    raise NotImplementedError("TODO: forward")


def scale_node(weights, layer, node, c):
    """The operator g_{c,O} for hidden node O = (layer, node) and a factor c > 0.

    Parameters
    ----------
    weights : list of ndarray
    layer : int
        1 <= layer <= L - 1 (a hidden layer).
    node : int
        Index of the node in that layer.
    c : float
        Positive factor.

    Returns
    -------
    list of ndarray
        New arrays (do not modify ``weights``): the weights entering the node multiplied
        by c, the weights leaving it divided by c, every other weight unchanged.
    """
    # TODO: which column of which weights[...] enters the node, which row leaves it?
    raise NotImplementedError("TODO: scale_node")


def apply_scaling(weights, c):
    """The group element g_c: every hidden node scaled by its own factor.

    Parameters
    ----------
    weights : list of ndarray
    c : list of ndarray
        ``c[l - 1]`` of shape (h_l,) holds the positive factors of hidden layer l = 1..L-1.

    Returns
    -------
    list of ndarray
        New arrays: ``weights[l-1][:, j]`` times ``c[l-1][j]`` and ``weights[l][j, :]`` divided
        by ``c[l-1][j]`` for every hidden node j of every hidden layer l.
    """
    # TODO: one line per hidden layer is enough with broadcasting (w * c[None, :]).
    raise NotImplementedError("TODO: apply_scaling")


def scaling_vectors(widths):
    """The matrix B whose row O is b_O.

    Parameters
    ----------
    widths : list of int
        [h_0, h_1, ..., h_L].

    Returns
    -------
    ndarray of shape (H, m)
        H = h_1 + ... + h_{L-1} hidden nodes (layer by layer), m = number of weights.
        Columns are the edges numbered layer by layer and, inside weights[l], row-major:
        edge (i -> j) of weights[l] is column sum(h_k h_{k+1} for k < l) + i * h_{l+1} + j.
        Row O is +1 on the edges entering O, -1 on the edges leaving O, 0 elsewhere, so
        that log|g_c(w)| = log|w| + B^T log c.
    """
    # TODO: build an (H, m) array of zeros and fill the +1 and -1 entries.
    raise NotImplementedError("TODO: scaling_vectors")


if __name__ == "__main__":
    # Try your functions here; for example: is the function unchanged by apply_scaling?
    rng = np.random.default_rng(0)
    w = [rng.normal(size=(2, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 1))]
    X = rng.normal(size=(4, 2))
    c = [np.array([2.0, 0.5, 3.0]), np.array([1.0, 4.0, 0.25])]
    print(forward(w, X).ravel())
    print(forward(apply_scaling(w, c), X).ravel())
