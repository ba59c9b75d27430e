"""
1. ReLU networks and positive scaling
=====================================

**Read with:** the G-SGD paper (Meng et al., ICLR 2019), where it defines the positive scaling
operators :math:`g_{c,O}` and the group :math:`\\mathcal{G}` (the part before its section
"Skeleton method"). Claims **G1** and **G2** on the `theory page
<../theory.html#the-positive-scaling-group-g1-g2>`_.

A ReLU network does not change when a hidden node's incoming weights are multiplied by
:math:`c > 0` and its outgoing weights by :math:`1/c`. This tutorial builds that symmetry
with ``gspace.core.scaling``, checks that it forms a group and leaves the function unchanged,
and then shows the problem the paper starts from: plain SGD, run from two networks that
compute the same function, takes different steps.
"""

# %%
# Setup
# -----
# Every random number comes from an explicit generator. ``SMALL`` (set by the environment
# variable ``GSPACE_TUTORIAL_SMALL=1``) only makes the grids coarser, for the tests.

import os

import matplotlib.pyplot as plt
import numpy as np

import gspace
from gspace.core.scaling import ScalingGroupElement, random_scaling, scaling_vectors

SMALL = os.environ.get("GSPACE_TUTORIAL_SMALL") == "1"
# sphinx_gallery_thumbnail_number = 4
rng = np.random.default_rng(0)

# %%
# Why ReLU allows it
# ------------------
# For :math:`c > 0`, :math:`\operatorname{relu}(cz) = \max(cz, 0) = c\,\max(z, 0) =
# c\,\operatorname{relu}(z)`: ReLU is *positively homogeneous*. Multiply the weights entering a
# hidden node by :math:`c` and its pre-activation, hence its output, is multiplied by :math:`c`;
# divide the weights leaving it by :math:`c` and the next layer sees exactly what it saw before.

z = np.linspace(-2, 2, 201)
fig, ax = plt.subplots(figsize=(5, 3.2))
for c in (0.5, 1.0, 2.0):
    ax.plot(z, np.maximum(c * z, 0), label=f"relu({c} z)")
    ax.plot(z, c * np.maximum(z, 0), "k:", lw=1)
ax.set_xlabel("pre-activation z")
ax.set_ylabel("output")
ax.set_title("relu(c z) = c relu(z) for c > 0 (dotted)")
ax.legend()
fig.tight_layout()

# %%
# One hidden node
# ---------------
# The network below has 2 inputs, two hidden layers of 3 nodes and 1 output. In gspace
# ``net.weights[l]`` has shape ``(h_l, h_{l+1})`` (the paper's :math:`W^{l+1}`, see `notation page
# <../notation.html>`_), so the weights entering node ``j`` of hidden layer ``l`` are the column
# ``weights[l - 1][:, j]`` and the weights leaving it are the row ``weights[l][j, :]``.
# ``ScalingGroupElement.single_node`` is the operator :math:`g_{c,O}`.

net = gspace.MLP([2, 3, 3, 1], rng=rng)
g = ScalingGroupElement.single_node(net.widths, layer=1, node=0, c=5.0)
scaled = g.apply(net)

print("weights entering node 0 of layer 1:", net.weights[0][:, 0], "->", scaled.weights[0][:, 0])
print("weights leaving  node 0 of layer 1:", net.weights[1][0, :], "->", scaled.weights[1][0, :])

X = rng.normal(size=(5, 2))
print("outputs before:", net.forward(X).ravel())
print("outputs after: ", scaled.forward(X).ravel())

# %%
# The group (G1)
# --------------
# One factor per hidden node gives :math:`g_c`. Composing two elements multiplies their
# factors, :math:`g_c \circ g_{c'} = g_{c \odot c'}`; the identity has :math:`c = 1`; the
# inverse has :math:`1/c`.

g1 = random_scaling(net.widths, rng, sigma=1.0)
g2 = random_scaling(net.widths, rng, sigma=1.0)
both = g1.compose(g2)
print(
    "g1 . g2 has factors c1 * c2:",
    all(np.allclose(c, a * b) for c, a, b in zip(both.c, g1.c, g2.c)),
)
print(
    "(g1 . g2)(w) = g1(g2(w)):",
    all(
        np.allclose(a, b) for a, b in zip(both.apply(net).weights, g1.apply(g2.apply(net)).weights)
    ),
)
back = g1.inverse().apply(g1.apply(net))
print("g1^-1(g1(w)) = w:", all(np.allclose(a, b) for a, b in zip(back.weights, net.weights)))

# %%
# In log coordinates the group acts by translation. Row :math:`O` of
# ``scaling_vectors`` is :math:`b_O`: +1 on the edges entering :math:`O`,
# -1 on the edges leaving it. Then :math:`\log|g_c(w)| = \log|w| + B^\top \log c`, and the
# signs of the weights never change.

B = scaling_vectors(net.widths)
print("B has shape (H, m) =", B.shape, "= (net.H, net.m) =", (net.H, net.m))
lhs = np.log(np.abs(g1.apply(net).flat_params()))
rhs = np.log(np.abs(net.flat_params())) + B.T @ g1.log_c()
print("log|g(w)| = log|w| + B^T log c, largest difference:", np.max(np.abs(lhs - rhs)))
print(
    "signs unchanged:",
    np.array_equal(np.sign(g1.apply(net).flat_params()), np.sign(net.flat_params())),
)

fig, ax = plt.subplots(figsize=(6, 2.4))
ax.imshow(B, cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
ax.set_xlabel("edge (layer by layer, row-major in weights[l])")
ax.set_ylabel("hidden node O")
ax.set_title("the vectors b_O (red +1: edge enters O; blue -1: edge leaves O)")
fig.tight_layout()

# %%
# The function does not change (G2)
# ---------------------------------
# Draw the network's output over a square of inputs, for :math:`w` and for :math:`g(w)` with
# log-normal factors (printed below). The two pictures are the same; their difference is at
# the level of floating-point rounding.

g = random_scaling(net.widths, rng, sigma=1.5)
n_grid = 41 if SMALL else 201
u = np.linspace(-3, 3, n_grid)
grid = np.array(np.meshgrid(u, u)).reshape(2, -1).T
f_w = net.forward(grid).reshape(n_grid, n_grid)
f_gw = g.apply(net).forward(grid).reshape(n_grid, n_grid)

fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
for ax, F, title in ((axes[0], f_w, "N_w(x)"), (axes[1], f_gw, "N_g(w)(x)")):
    im = ax.imshow(F, extent=(-3, 3, -3, 3), origin="lower", cmap="viridis")
    ax.set_title(title)
    ax.set_xlabel("x_0")
    ax.set_ylabel("x_1")
    fig.colorbar(im, ax=ax, shrink=0.8)
im = axes[2].imshow(f_gw - f_w, extent=(-3, 3, -3, 3), origin="lower", cmap="coolwarm")
axes[2].set_title("N_g(w) - N_w")
axes[2].set_xlabel("x_0")
fig.colorbar(im, ax=axes[2], shrink=0.8)
fig.tight_layout()
print("largest |N_g(w) - N_w| on the grid:", np.max(np.abs(f_gw - f_w)))
factors = np.concatenate(g.c)
print(f"factors c between {factors.min():.3f} and {factors.max():.3f}")

# %%
# SGD is not invariant
# --------------------
# The smallest network with a hidden node, 1-1-1, computes :math:`N(x) = w_2\,
# \operatorname{relu}(w_1 x)`. For :math:`x > 0` and :math:`w_1 > 0` the function only depends on
# the product :math:`v = w_1 w_2`, which is the value of the network's single path. Every
# hyperbola :math:`w_1 w_2 = v` is one equivalence class: the points :math:`(c\,w_1, w_2 / c)`.
#
# Fit the target :math:`y = 2` at :math:`x = 1` with the squared error. The gradient is
# :math:`\partial\ell/\partial w_1 = \ell'(v)\, w_2` and :math:`\partial\ell/\partial w_2 =
# \ell'(v)\, w_1`: it depends on where on the hyperbola we stand. Start SGD from two
# equivalent networks, :math:`(0.5, 1)` and :math:`(2, 0.25)`: both compute :math:`N(1) = 0.5`.


def one_one_one(w1, w2):
    return gspace.MLP.from_weights([np.array([[w1]]), np.array([[w2]])])


x1, y1 = np.array([[1.0]]), np.array([[2.0]])
lr = 0.1
n_steps = 8 if SMALL else 15
trajectories = {}
for start in ((0.5, 1.0), (2.0, 0.25)):
    w = one_one_one(*start)
    opt = gspace.SGD(lr=lr)
    points = [start]
    for _ in range(n_steps):
        _, grads = w.loss_and_gradients(x1, y1, loss="mse")
        w = opt.step(w, grads)
        points.append((w.weights[0][0, 0], w.weights[1][0, 0]))
    trajectories[start] = np.array(points)

n_grid = 60 if SMALL else 200
a = np.linspace(0.05, 3.0, n_grid)
W1, W2 = np.meshgrid(a, a)
loss_surface = 0.5 * (W1 * W2 - 2.0) ** 2

fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
ax = axes[0]
ax.contourf(W1, W2, loss_surface, levels=30, cmap="Greys")
for v, style in ((0.5, "--"), (2.0, "-")):
    ax.plot(a, v / a, "k" + style, lw=1, label=f"w1 w2 = {v}")
for (start, pts), colour in zip(trajectories.items(), ("tab:blue", "tab:orange")):
    ax.plot(pts[:, 0], pts[:, 1], "o-", color=colour, ms=3, label=f"SGD from {start}")
ax.set_xlim(0, 3)
ax.set_ylim(0, 3)
ax.set_xlabel("w1 (input -> hidden)")
ax.set_ylabel("w2 (hidden -> output)")
ax.set_title("loss of the 1-1-1 network; hyperbolas = equivalence classes")
ax.legend(loc="upper right")

ax = axes[1]
for (start, pts), colour in zip(trajectories.items(), ("tab:blue", "tab:orange")):
    ax.plot(pts[:, 0] * pts[:, 1], "o-", color=colour, ms=3, label=f"SGD from {start}")
ax.axhline(2.0, color="k", lw=1, ls=":", label="target v = 2")
ax.set_xlabel("SGD step")
ax.set_ylabel("path value v = w1 w2 (the function)")
ax.set_title("same function at step 0, different functions after")
ax.legend()
fig.tight_layout()

v_after_one = {s: round(float(p[1, 0] * p[1, 1]), 4) for s, p in trajectories.items()}
print("path value after one SGD step:", v_after_one)

# %%
# After one step the path value changed by :math:`-\eta\, \ell'(v)\,(w_1^2 + w_2^2)` plus a
# term of order :math:`\eta^2`: the step is larger where the weights are unbalanced. The two
# runs compute different functions from the first step on. The optimizer works with
# *weights*, but the loss only depends on the *path value*. G-SGD updates the path value
# directly, :math:`v \leftarrow v - \eta\, \partial \ell / \partial v`, and so takes the same
# step from every point of a hyperbola (claim A2, `tutorial 5
# <tutorial_05_gsgd.html>`_).

# %%
# Summary
# -------
# * :math:`g_{c,O}` multiplies the weights entering hidden node :math:`O` by :math:`c > 0` and
#   divides the weights leaving it by :math:`c`; ReLU's positive homogeneity makes the
#   network function unchanged (G2).
# * The operators :math:`g_c`, one factor per hidden node, form an abelian group (G1); in log
#   coordinates it is a translation by :math:`B^\top \log c` and it never changes a sign.
# * Weight-space SGD does not respect the symmetry: from two equivalent networks it takes
#   different steps and reaches different functions (claim A3 tests this on random networks).
#
# Exercises
# ---------
# 1. Scale node 2 of layer 2 of ``net`` by :math:`c = -1`. Does the function change? Why does
#    ``gspace.core.scaling.ScalingGroupElement`` refuse :math:`c \le 0`? *Hint:*
#    :math:`\operatorname{relu}(-z) \ne -\operatorname{relu}(z)`. On a copy ``w = net.copy()``,
#    negate the node's in-weights *and* out-weights, ``w.weights[1][:, 2] *= -1`` and
#    ``w.weights[2][2, :] *= -1`` (that would be :math:`g_{c,O}` with :math:`c = -1`), and compare
#    ``w.forward(X)``.
# 2. Give ``net`` biases (``gspace.MLP(widths, bias=True, rng=rng)``). Which way must a bias
#    be scaled for the function to stay the same? Check your answer with ``g.apply``.
#    *Hint:* a bias is a weight from a node whose output is always 1.
# 3. For the 1-1-1 network, compute the change of :math:`v` after one SGD step by hand, and
#    check it against ``trajectories``. For which starting point on the hyperbola
#    :math:`w_1 w_2 = 0.5` is the step in :math:`v` smallest?
#    *Hint:* minimise :math:`w_1^2 + w_2^2` subject to :math:`w_1 w_2 = 0.5`.
# 4. Show that the set of networks :math:`\{g(w) : g \in \mathcal{G}\}` has dimension
#    :math:`H` around any :math:`w` with no zero weight. *Hint:* the rows of ``B`` are
#    independent; compute ``np.linalg.matrix_rank(B)``.

# %%
# Shown when run as a script (``python tutorials/NAME.py``); harmless under Agg and in
# the docs build, which captures every figure above.

plt.show()
