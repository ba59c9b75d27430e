"""
2. Paths: the network as a sum over paths
=========================================

**Read with:** the G-SGD paper (Meng et al., ICLR 2019), where it writes a ReLU network through
its paths (path values, activation statuses, the output as a sum over paths), the groundwork for
its section "Skeleton method". Claims **G3**, **G4** and **P1** on the `theory page
<../theory.html#paths-g3-g4-p1>`_.

A path picks one node in every layer, from an input to an output. Its *value* is the product
of the weights it uses, its *activation status* says whether every hidden node on it is
active. This tutorial lists the paths of a small network (with ``gspace.core.paths`` and with
networkx), checks that path values and activation statuses do not change under the scaling
group of tutorial 1, and rebuilds the network's output as a sum over paths.
"""

# %%
# Setup
# -----

import os

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

import gspace
from gspace.core.basis import count_paths_dp, graph_paths, network_graph
from gspace.core.paths import (
    activation_status,
    count_paths,
    enumerate_paths,
    network_from_paths,
    path_values,
)
from gspace.core.scaling import random_scaling
from gspace.plotting import draw_network

SMALL = os.environ.get("GSPACE_TUTORIAL_SMALL") == "1"
rng = np.random.default_rng(0)

widths = [2, 3, 3, 2]
net = gspace.MLP(widths, rng=rng)

# %%
# The network as a graph
# ----------------------
# ``network_graph`` turns the layered network into a
# ``networkx.DiGraph`` whose nodes are ``(layer, index)``; ``draw_network``
# draws it with the weights' signs and sizes, and the skeleton edges of tutorial 4
# highlighted.

G = network_graph(net)
print(G, "| acyclic:", nx.is_directed_acyclic_graph(G))
print("edge ((1, 0), (2, 0)):", G.edges[(1, 0), (2, 0)])
fig, ax = plt.subplots(figsize=(6, 3.6))
draw_network(net, ax=ax)
fig.tight_layout()

# %%
# Listing the paths
# -----------------
# A path is a tuple :math:`(i_0, i_1, \dots, i_L)` of node indices, one per layer, so there
# are :math:`h_0 h_1 \cdots h_L` of them. ``enumerate_paths`` lists them in
# ``itertools.product`` order; networkx finds the same set by walking the graph, and counts
# them by dynamic programming without listing them.

paths = enumerate_paths(widths)
print("number of paths:", len(paths), "=", " * ".join(map(str, widths)), "=", count_paths(widths))
print("first paths:", paths[:4])
print("networkx finds the same paths:", sorted(graph_paths(G)) == sorted(paths))
print("counted by dynamic programming:", count_paths_dp(G))
print("a 784-64-64-64-64-10 network has", count_paths([784, 64, 64, 64, 64, 10]), "paths")

# %%
# Path values (G3)
# ----------------
# The value of a path is the product of its :math:`L` weights,
# :math:`v_p(w) = \prod_l w^l(i_{l-1}, i_l)`. A scaling :math:`g_c` multiplies the weight
# entering each hidden node on the path by :math:`c_O` and the weight leaving it by
# :math:`1/c_O`, so the value does not change. The weights themselves do.

g = random_scaling(widths, rng, sigma=1.0)
v = path_values(net, paths)
v_g = path_values(g.apply(net), paths)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
axes[0].plot(net.flat_params(), g.apply(net).flat_params(), "o", ms=4)
axes[0].set_xlabel("weight of w")
axes[0].set_ylabel("weight of g(w)")
axes[0].set_title("weights change under g")
axes[1].plot(v, v_g, "o", ms=4, color="tab:green")
axes[1].set_xlabel("path value of w")
axes[1].set_ylabel("path value of g(w)")
axes[1].set_title("path values do not (G3)")
for ax in axes:
    lim = np.abs(ax.get_xlim()).max()
    ax.plot([-lim, lim], [-lim, lim], "k:", lw=1)
fig.tight_layout()
print("largest relative change of a path value:", np.max(np.abs(v_g - v) / np.abs(v)))

# %%
# Activation statuses (G4)
# ------------------------
# For an input :math:`x`, :math:`a_p(x; w)` is 1 if every hidden node on the path has a
# positive pre-activation, else 0. Under :math:`g_c` the pre-activation of hidden node
# :math:`O` is multiplied by :math:`c_O > 0`: its sign, hence every status, stays.

n_inputs = 20 if SMALL else 60
X = rng.normal(size=(n_inputs, widths[0]))
a = activation_status(net, X, paths)
a_g = activation_status(g.apply(net), X, paths)
print("statuses identical under g:", np.array_equal(a, a_g))

fig, ax = plt.subplots(figsize=(8, 3.2))
ax.imshow(a, cmap="Greys", aspect="auto", interpolation="nearest")
ax.set_xlabel("path (itertools.product order)")
ax.set_ylabel("input x")
ax.set_title("activation status a_p(x; w): black = 1 (every hidden node on p active)")
fig.tight_layout()

# %%
# The network is a sum over paths (P1)
# ------------------------------------
# For every output :math:`k`,
#
# .. math::
#
#    N_w(x)_k = \sum_{p\,:\,i_L = k} v_p(w)\, a_p(x; w)\, x_{i_0}.
#
# ``network_from_paths`` computes the right-hand side; it matches the
# forward pass. Below, the contribution of each path for one input and output 0: the
# inactive paths contribute nothing, and the bars add up to the output.

print(
    "largest |sum over paths - forward|:",
    np.max(np.abs(network_from_paths(net, X) - net.forward(X))),
)

x0 = X[:1]
P = np.array(paths)
ends_at_0 = P[:, -1] == 0
contrib = (v * activation_status(net, x0, paths)[0] * x0[0, P[:, 0]])[ends_at_0]
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.bar(np.arange(contrib.size), contrib, color=np.where(contrib >= 0, "tab:blue", "tab:red"))
ax.axhline(0, color="k", lw=0.5)
ax.set_xticks(np.arange(contrib.size))
ax.set_xticklabels([",".join(map(str, p.tolist())) for p in P[ends_at_0]], rotation=90)
ax.set_xlabel("path (i_0, i_1, i_2, i_3) ending at output 0")
ax.set_ylabel("v_p a_p x_{i_0}")
ax.set_title(
    f"paths ending at output 0: sum {contrib.sum():.6f}, forward pass {net.forward(x0)[0, 0]:.6f}"
)
fig.tight_layout()

# %%
# So the function depends on the weights only through path values and activation statuses,
# both invariant under the scaling group. The paths are far too many to be coordinates
# (their number :math:`n`, the number of columns of the structure matrix of tutorial 3,
# grows as the product of the widths) and they are not independent: tutorial 3
# counts how many independent ones there are.

# %%
# Summary
# -------
# * A path picks one node per layer; there are :math:`h_0 h_1 \cdots h_L` of them, listed by
#   ``enumerate_paths`` and, equally, by walking the networkx graph.
# * Path values (G3) and activation statuses (G4) do not change under :math:`g_c`.
# * The output is the sum over paths of value x status x input (P1): a ReLU network is a
#   function of its path values, given the activation pattern.
#
# Exercises
# ---------
# 1. Give the network biases (``gspace.MLP(widths, bias=True, rng=rng)``) and rebuild the
#    output with ``network_from_paths``. What are the extra paths?
#    *Hint:* ``enumerate_paths(widths, bias=True)``; a bias is an edge from a node whose
#    output is always 1, so a bias path starts in a hidden layer.
# 2. How many paths does a 784-512-512-512-512-10 network have? How long would listing them
#    take at :math:`10^8` paths per second? *Hint:* ``count_paths`` returns an exact Python int.
# 3. Negate every weight entering and leaving hidden node 0 of layer 1. Which path values
#    change? Does the function? *Hint:* claim S1 and its first counterexample (tutorial 3).
# 4. Check G4 on a batch where some pre-activations are exactly 0. What does
#    ``activation_status`` report, and why is the choice ``> 0`` (not ``>= 0``) consistent
#    with ReLU? *Hint:* :math:`\operatorname{relu}(0) = 0`.

# %%
# Shown when run as a script (``python tutorials/NAME.py``); harmless under Agg and in
# the docs build, which captures every figure above.

plt.show()
