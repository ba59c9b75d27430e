"""
5. G-SGD step by step
=====================

**Read with:** the G-SGD paper (Meng et al., ICLR 2019), sections "Inverse-Chain-Rule",
"Weight-Allocation" and "Algorithm 1".
Claims **I1, I2, W1, W2, A1** (one step) and **A2, A3, A4** (whole trajectories) on the
`theory page <../theory.html#g-sgd-i1-i2-w1-w2-a1-a4>`_.

G-SGD takes an SGD step on the basis-path values :math:`\\mathbf{v}` instead of the weights.
``gspace.core.gsgd`` exposes every stage of the paper's Algorithm 1 as a function of its own:
this tutorial runs them one by one on a small network, checks each against an independent
computation, and then compares whole training runs of G-SGD, SGD and Path-SGD started from two
equivalent networks.
"""

# %%
# Setup
# -----
# A network with 3 inputs, two hidden layers of 4 nodes and 2 outputs: equal hidden widths,
# so gspace's default skeleton is the paper's (*Skeleton method*). ``SMALL``
# (``GSPACE_TUTORIAL_SMALL=1``) shortens the training runs at the end.

import os

import matplotlib.pyplot as plt
import numpy as np

import gspace
from gspace import explicit
from gspace.core.gsgd import (
    PathArrays,
    basis_path_values,
    inverse_chain_rule,
    path_ratios,
    rho_in,
    rho_out,
    update_path_values,
    weight_allocation,
)
from gspace.core.scaling import random_scaling
from gspace.initialization import skeleton_unit
from gspace.testing import rel_error

SMALL = os.environ.get("GSPACE_TUTORIAL_SMALL") == "1"
# sphinx_gallery_thumbnail_number = 4
rng = np.random.default_rng(0)

widths = [3, 4, 4, 2]
net = gspace.MLP(widths, rng=rng)
skeleton = gspace.Skeleton.default(widths)
X = rng.normal(size=(16, 3))
Y = rng.normal(size=(16, 2))
loss, grads = net.loss_and_gradients(X, Y, loss="mse")
print(f"m = {net.m} weights, H = {net.H} hidden nodes, m - H = {net.m - net.H} basis paths")

# %%
# Basis-path values
# -----------------
# A basis path is named by its non-:math:`\sigma` edge :math:`e = (a \to b)`: it is the
# in-chain of :math:`a` (follow :math:`\pi` down to an input), then :math:`e`, then the
# out-chain of :math:`b` (follow :math:`\sigma` up to an output). Its value is
# :math:`v_e = \rho_{\mathrm{in}}(a)\, w_e\, \rho_{\mathrm{out}}(b)`.
# ``basis_path_values`` returns them in arrays shaped like the weights
# (a ``gspace.core.gsgd.PathArrays``); entries at :math:`\sigma`-edges are not coordinates.
#
# Check one entry against the product of the weights along its path, built from the
# skeleton's chains.

v = basis_path_values(net)
l, a, b = 1, 2, 3  # the edge weights[1][2, 3]: node 2 of layer 1 -> node 3 of layer 2
path = skeleton.in_chain(l, a) + skeleton.out_chain(l + 1, b)
product = np.prod([net.weights[k][path[k], path[k + 1]] for k in range(net.L)])
print("path", tuple(path), ": v from basis_path_values", v.weights[l][a, b], ", product", product)
print("rho_in of layer 1:", rho_in(net)[1], "\nrho_out of layer 2:", rho_out(net)[2])

# %%
# Inverse-Chain-Rule
# ------------------
# Back-propagation gives :math:`\partial\ell/\partial w`. The chain rule through the basis
# paths is :math:`F = A' u` with :math:`F_e = w_e\,\partial\ell/\partial w_e` and
# :math:`u_j = v_j\,\partial\ell/\partial v_j`; ``inverse_chain_rule`` solves
# it in :math:`O(m)`: a non-skeleton edge is on its own basis path only, and the skeleton
# paths collect the rest in one backward sweep.
#
# **I1**: compare with a finite-difference derivative *in path space*. Move one basis-path
# value by :math:`\pm\varepsilon`, find weights with those values (Weight-Allocation of the
# ratios :math:`R = v^{\pm}/v`, below) and evaluate the loss.

dl_dv = inverse_chain_rule(net, grads)


def loss_at(v_pa):
    return weight_allocation(net, path_ratios(v, v_pa), v_pa).loss(X, Y, loss="mse")


coords = [(l, i, j) for l in range(net.L) for i, j in zip(*np.nonzero(~skeleton.sigma_mask(l)))]
eps = 1e-6  # the finite-difference step
fd = []
for l, i, j in coords:
    plus = [w.copy() for w in v.weights]
    minus = [w.copy() for w in v.weights]
    plus[l][i, j] += eps
    minus[l][i, j] -= eps
    fd.append((loss_at(PathArrays(plus)) - loss_at(PathArrays(minus))) / (2 * eps))
icr = np.array([dl_dv.weights[l][i, j] for l, i, j in coords])
fd = np.array(fd)
print(
    f"{len(coords)} coordinates; relative error (norm) of ICR vs finite differences:",
    rel_error(icr, fd, norm=True),
)

fig, ax = plt.subplots(figsize=(4.2, 4))
ax.plot(fd, icr, "o", ms=4)
lim = np.abs(np.concatenate([fd, icr])).max() * 1.1
ax.plot([-lim, lim], [-lim, lim], "k:", lw=1)
ax.set_xlabel("finite difference in path space")
ax.set_ylabel("Inverse-Chain-Rule")
ax.set_title("dl/dv for each basis path (I1)")
fig.tight_layout()

# %%
# **I2**, the balance identity: at every hidden node, the sum of :math:`F_e =
# w_e\,\partial\ell/\partial w_e` over the incoming edges equals the sum over the outgoing edges
# (differentiate the invariance of the loss under :math:`g_{c,O}` at :math:`c = 1`).
# Back-propagation already holds that number, ``grads.hidden_flow``, which is why the
# Inverse-Chain-Rule costs almost nothing extra.

for layer in (1, 2):
    F_in = (net.weights[layer - 1] * grads.weights[layer - 1]).sum(axis=0)
    F_out = (net.weights[layer] * grads.weights[layer]).sum(axis=1)
    print(
        f"layer {layer}: in {np.round(F_in, 6)}\n         out {np.round(F_out, 6)}"
        f"\n  hidden_flow {np.round(grads.hidden_flow[layer - 1], 6)}"
    )

# %%
# The update, the ratios and Weight-Allocation
# --------------------------------------------
# The step itself is plain SGD on :math:`\mathbf{v}`; the ratios
# :math:`R = v^{\text{new}} / v` say how much each basis path moves. Weight-Allocation takes
# the ratios, keeps the :math:`H` :math:`\sigma`-edges (one leaving each hidden node) and
# solves for the others in one forward sweep: :math:`w_e^{\text{new}} = w_e R_e / r(a)`, with
# :math:`r(a) = \rho_{\mathrm{in}}^{\text{new}}(a) / \rho_{\mathrm{in}}(a)` from the new
# weights of the layers below. (A path of value 0, such as a zero bias, has no ratio; there
# ``weight_allocation`` reads :math:`v^{\text{new}}`.) ``gsgd_step`` runs these stages in
# this order.
#
# **W1**: the new network's basis-path values are exactly the updated ones.

lr = 0.05
v_new = update_path_values(v, dl_dv, lr)
R = path_ratios(v, v_new)
new_net = weight_allocation(net, R, v_new)
v_check = basis_path_values(new_net)
mask = [~skeleton.sigma_mask(l) for l in range(net.L)]
err = max(rel_error(v_check.weights[l][mask[l]], v_new.weights[l][mask[l]]) for l in range(net.L))
print("W1: largest relative error of the allocated basis-path values:", err)
print(
    "sigma-edges unchanged:",
    all(
        np.array_equal(
            new_net.weights[l][skeleton.sigma_mask(l)], net.weights[l][skeleton.sigma_mask(l)]
        )
        for l in range(net.L)
    ),
)

fig, axes = plt.subplots(1, net.L, figsize=(10, 2.8))
for l, ax in enumerate(axes):
    r = np.where(mask[l], R.weights[l], np.nan)
    im = ax.imshow(r, cmap="coolwarm", vmin=0.9, vmax=1.1)
    ax.set_title(f"R in weights[{l}] ({widths[l]}x{widths[l + 1]})")
    ax.set_xlabel("to node")
    ax.set_ylabel("from node")
cbar = fig.colorbar(im, ax=axes, shrink=0.8, label="ratio v_new / v (blank: sigma-edge)")

# %%
# ``gspace.GSGD`` fuses all these stages into a few passes over each weight matrix. Its
# step is the same network:

fused = gspace.GSGD(lr=lr).step(net, grads)
print(
    "GSGD.step equals the stages:",
    max(rel_error(a, b) for a, b in zip(fused.weights, new_net.weights)),
)

# %%
# The same step with explicit matrices (W2, A1)
# ---------------------------------------------
# ``gspace.explicit`` does the step the way the paper writes it: the basis columns
# :math:`A'` of the structure matrix, the Inverse-Chain-Rule as the linear system
# :math:`F = A' u`, and Weight-Allocation as the square system with the matrix
# :math:`[B, A']` (:math:`B`: one unit column per fixed :math:`\sigma`-edge). **W2**: that
# matrix has full rank :math:`m`, so Weight-Allocation has exactly one solution. **A1**: the
# dense step and the :math:`O(m)` step give the same network.

M = explicit.augmented_matrix(widths)
print("[B, A'] has shape", M.shape, "and rank", np.linalg.matrix_rank(M))
dense = explicit.explicit_gsgd_step(net, grads, lr)
print(
    "A1: dense step vs GSGD.step, largest relative difference:",
    max(rel_error(a, b) for a, b in zip(dense.weights, fused.weights)),
)

fig, ax = plt.subplots(figsize=(5, 4.6))
ax.imshow(M, cmap="Greys", interpolation="nearest")
ax.axvline(net.H - 0.5, color="tab:red", lw=1)
ax.set_xlabel(f"column: {net.H} fixed sigma-edges | {net.m - net.H} basis paths")
ax.set_ylabel("edge")
ax.set_title("[B, A'], the Weight-Allocation matrix (rank m)")
fig.tight_layout()

# %%
# The trajectory does not depend on the representative (A2, A3, A4)
# ------------------------------------------------------------------
# Start from one network and from an equivalent one, ``g`` applied to it with factors in
# :math:`[0.1, 10]`, and train both on the same mini-batches. The first network is
# ``skeleton_unit(net)``: ``net`` with every skeleton weight set to 1, the initialization of the
# authors' code (it changes the function, so it is *not* an element of :math:`\mathcal{G}`;
# tutorial 6 shows why G-SGD needs it: from plain He initialization the skeleton-path values are
# small and :math:`\partial\ell/\partial v = u / v` large). Measure how far apart the two
# *functions* are after every step. G-SGD (A2) and Path-SGD (A4) stay together to rounding; SGD
# (A3) does not.

g = random_scaling(widths, rng, low=0.1, high=10.0)
n_steps = 10 if SMALL else 50
batches = [(rng.normal(size=(16, 3)), rng.normal(size=(16, 2))) for _ in range(n_steps)]
X_eval = rng.normal(size=(200, 3))

gaps = {}
for name, make in (("SGD", gspace.SGD), ("Path-SGD", gspace.PathSGD), ("G-SGD", gspace.GSGD)):
    nets = [skeleton_unit(net)]
    nets.append(g.apply(nets[0]))
    opts = [make(lr=0.02), make(lr=0.02)]
    gap = []
    for Xb, Yb in batches:
        for k in range(2):
            _, gr = nets[k].loss_and_gradients(Xb, Yb, loss="mse")
            nets[k] = opts[k].step(nets[k], gr)
        f0, f1 = nets[0].forward(X_eval), nets[1].forward(X_eval)
        gap.append(rel_error(f0, f1, norm=True))
    gaps[name] = gap

fig, ax = plt.subplots(figsize=(6, 3.6))
for name, gap in gaps.items():
    ax.semilogy(np.arange(1, n_steps + 1), np.maximum(gap, 1e-17), label=name)
ax.set_xlabel("training step")
ax.set_ylabel("relative difference of the two functions")
ax.set_title("training from w and from g(w)")
ax.legend()
fig.tight_layout()
for name, gap in gaps.items():
    print(f"{name:8s} after {n_steps} steps: {gap[-1]:.1e}")

# %%
# Summary
# -------
# * One G-SGD step is: back-propagation; the Inverse-Chain-Rule (:math:`\partial\ell/\partial
#   v` from :math:`\partial\ell/\partial w`, checked against finite differences in path space,
#   I1); the update :math:`v - \eta\,\partial\ell/\partial v`; the ratios :math:`R`; and
#   Weight-Allocation, which keeps the :math:`\sigma`-edges and hits the new values exactly
#   (W1).
# * The balance identity (I2) is why the Inverse-Chain-Rule is cheap: back-propagation already
#   computes the per-node sums it needs.
# * G-SGD and Path-SGD train the same function from every representative of an equivalence
#   class (A2, A4); SGD does not (A3).
#
# Exercises
# ---------
# 1. Replace ``widths`` by ``[3, 5, 2, 4, 2]`` (unequal hidden widths). Which parts of this
#    tutorial still work unchanged? *Hint:* gspace uses the general construction (claim B4);
#    ``gspace.Skeleton.paper(widths)`` explains why the paper's method does not apply.
# 2. Derive the Inverse-Chain-Rule for a network with one hidden layer by hand: write
#    :math:`\partial\ell/\partial v` for a skeleton path in terms of :math:`F`. Check it
#    against ``inverse_chain_rule``. *Hint:* the skeleton path's first weight also lies on
#    the basis path of every non-skeleton weight leaving its hidden node, and each of those
#    paths has :math:`u = F` of its own weight; start from :math:`F` of the first weight.
# 3. Set one skeleton weight of ``net`` to 0 and call ``gspace.GSGD(lr=0.1).step``. What does
#    gspace do, and why can the step not be defined? *Hint:* what is the value of the
#    skeleton path through that weight, and what is :math:`u / v`?
# 4. Add ``momentum=0.9`` to the three optimizers in the last experiment. Do G-SGD and
#    Path-SGD still follow one trajectory? *Hint:* the momentum buffer of G-SGD lives in
#    G-space (see the ``GSGD`` docstring).

# %%
# Shown when run as a script (``python tutorials/NAME.py``); harmless under Agg and in
# the docs build, which captures every figure above.

plt.show()
