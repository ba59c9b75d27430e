"""
4. Basis paths and G-space
==========================

**Read with:** the G-SGD paper (Meng et al., ICLR 2019), section "Skeleton method", which picks
:math:`m - H` basis paths, and its statements that they are independent, that each non-skeleton
weight is on exactly one of them, and that every path value is a product of basis-path values with
integer exponents. Claims **B1, B2, B3** and **B4** (gspace's construction for any widths) on the
`theory page <../theory.html#basis-paths-and-g-space-b1-b4>`_.

Tutorial 3 showed that only :math:`m - H` path values are independent. This tutorial picks
such a set, the *basis paths*, draws the paper's skeleton that defines them, checks the three
properties above, extends the construction to networks whose hidden layers have different
widths, and uses the basis-path values as coordinates of the network: *G-space*.
"""

# %%
# Setup
# -----

import os

import matplotlib.pyplot as plt
import numpy as np

import gspace
from gspace.core.basis import (
    basis_paths,
    path_exponents,
    skeleton_method_basis,
    skeleton_paths,
    values_from_basis,
)
from gspace.core.paths import enumerate_paths, path_values, rank_svd, structure_matrix
from gspace.core.scaling import random_scaling
from gspace.explicit import basis_matrix, explicit_basis_path_values, gspace_coordinates
from gspace.plotting import draw_network

SMALL = os.environ.get("GSPACE_TUTORIAL_SMALL") == "1"
rng = np.random.default_rng(0)

widths = [3, 4, 4, 2]
net = gspace.MLP(widths, rng=rng)

# %%
# The skeleton
# ------------
# For equal hidden widths :math:`h` the paper's *skeleton weights* are: input
# :math:`j \bmod d \to` hidden :math:`j`; the diagonal :math:`j \to j` between hidden layers;
# hidden :math:`j \to` output :math:`j \bmod K`. Every hidden node has one skeleton weight in
# (its :math:`\pi`-edge, blue) and one out (its :math:`\sigma`-edge, red); on the diagonal an
# edge is both (purple). ``gspace.Skeleton`` stores :math:`\pi` and :math:`\sigma`.

skeleton = gspace.Skeleton.paper(widths)
print("pi of layer 1:", skeleton.pi[1], " sigma of layer 2:", skeleton.sigma[2])
fig, ax = plt.subplots(figsize=(6, 3.8))
draw_network(widths, skeleton=skeleton, ax=ax)
fig.tight_layout()

# %%
# The basis paths
# ---------------
# The *skeleton paths* use skeleton weights only, :math:`(j \bmod d, j, \dots, j, j \bmod K)`.
# Every other weight :math:`e = (a \to b)` gets one more path: skeleton weights back from
# :math:`a` to an input, then :math:`e`, then skeleton weights forward from :math:`b` to an
# output. That makes :math:`h + (m - hL) = m - H` paths.

basis = skeleton_method_basis(widths)
print("skeleton paths:", skeleton_paths(widths))
print(f"{len(basis)} basis paths = m - H = {net.m} - {net.H}")
print("the first few:", basis[:6])

# %%
# Independent (B1), and one per non-skeleton weight (B2)
# ------------------------------------------------------
# ``basis_matrix`` is :math:`A'`, the columns of the structure matrix that
# belong to the basis paths. Its rank is :math:`m - H`, so with R1 the basis paths span every
# path (B1). Sorting its rows into skeleton and non-skeleton weights shows B2: every
# non-skeleton row has a single 1.

A_basis = basis_matrix(widths)
print("rank A' =", rank_svd(A_basis)[0], "= m - H =", net.m - net.H)
is_skel = np.concatenate(
    [(skeleton.pi_mask(l) | skeleton.sigma_mask(l)).ravel() for l in range(net.L)]
)
print(
    "non-skeleton weights on exactly one basis path:",
    bool(np.all(A_basis[~is_skel].sum(axis=1) == 1)),
)

order = np.concatenate([np.flatnonzero(is_skel), np.flatnonzero(~is_skel)])
fig, ax = plt.subplots(figsize=(7, 4))
ax.imshow(A_basis[order], cmap="Greys", aspect="auto", interpolation="nearest")
ax.axhline(is_skel.sum() - 0.5, color="tab:red", lw=1)
ax.set_xlabel("basis path k")
ax.set_ylabel("edge (skeleton first, then the rest)")
ax.set_title("A': skeleton rows above the red line, one 1 per row below it (B2)")
fig.tight_layout()

# %%
# Integer exponents (B3)
# ----------------------
# Every path is an integer combination of basis paths, :math:`p = \sum_k \alpha_k p^k`, so
# every path value is a product of basis-path values with integer exponents,
# :math:`v_p = \prod_k v_{p^k}^{\alpha_k}`, signs included.
# ``path_exponents`` computes :math:`\alpha` exactly, with integers.

paths = enumerate_paths(widths)
alpha = path_exponents(widths, paths)
_, A = structure_matrix(widths)
print("A' alpha^T = A exactly:", np.array_equal(A_basis @ alpha.toarray().T, A.toarray()))
v_basis = explicit_basis_path_values(net)
print(
    "path values rebuilt from basis-path values:",
    np.allclose(values_from_basis(v_basis, alpha), path_values(net, paths)),
)

values, counts = np.unique(alpha.toarray(), return_counts=True)
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(values, counts)
ax.set_yscale("log")
ax.set_xlabel("exponent alpha_k")
ax.set_ylabel("count over all paths and k")
ax.set_title(f"exponents for widths {widths}")
fig.tight_layout()

# %%
# Any widths (B4)
# ---------------
# The paper's construction needs equal hidden widths (the diagonal :math:`j \to j`).
# gspace generalises it: give every hidden node :math:`b` any in-parent :math:`\pi(b)` in the
# layer below and any out-child :math:`\sigma(b)` in the layer above; the basis path of each edge
# :math:`e = (a \to b)` that is not a :math:`\sigma`-edge is in-chain(:math:`a`) + :math:`e`
# + out-chain(:math:`b`). The default is :math:`\pi(j) = j \bmod h_{l-1}`,
# :math:`\sigma(j) = j \bmod h_{l+1}`.

uneven = [3, 5, 2, 4]
try:
    gspace.Skeleton.paper(uneven)
except ValueError as err:
    print("Skeleton.paper:", err)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
draw_network(uneven, ax=axes[0])
pi = [None] + [rng.integers(0, uneven[l - 1], uneven[l]) for l in (1, 2)] + [None]
sigma = [None] + [rng.integers(0, uneven[l + 1], uneven[l]) for l in (1, 2)] + [None]
random_skeleton = gspace.Skeleton(uneven, pi, sigma)
draw_network(uneven, skeleton=random_skeleton, ax=axes[1])
axes[0].set_title("default pi, sigma")
axes[1].set_title("random pi, sigma")
fig.tight_layout()

n_trials = 5 if SMALL else 30
m_u = sum(a * b for a, b in zip(uneven[:-1], uneven[1:]))
H_u = sum(uneven[1:-1])
for name, sk in (("default", None), ("random", random_skeleton)):
    bp = basis_paths(uneven, skeleton=sk)
    rank = rank_svd(basis_matrix(uneven, skeleton=sk, sparse=True))[0]
    print(f"{name} skeleton: {len(bp)} paths, rank {rank}, m - H = {m_u - H_u}")
ok = 0
for _ in range(n_trials):
    ws = [int(x) for x in rng.integers(1, 6, size=rng.integers(3, 6))]
    m = sum(a * b for a, b in zip(ws[:-1], ws[1:]))
    ok += rank_svd(basis_matrix(ws, sparse=True))[0] == m - sum(ws[1:-1])
print(f"a basis for {ok} of {n_trials} random architectures")

# %%
# G-space coordinates
# -------------------
# The basis-path values and the sign pattern of the weights are coordinates of the network up
# to the scaling group: :math:`m - H` numbers instead of :math:`m`, and unchanged by every
# :math:`g \in \mathcal{G}`. G-SGD (tutorial 5) optimizes in these coordinates.
# ``gspace.core.gsgd.basis_path_values`` stores the same numbers in arrays shaped like the weights:
# entry ``weights[l][a, b]`` is the basis path of that edge.

coords = gspace_coordinates(net)
coords_g = gspace_coordinates(random_scaling(widths, rng, sigma=1.0).apply(net))
print(
    "coordinates:",
    coords.values.shape[0],
    "numbers for",
    net.m,
    "weights;",
    "unchanged under g:",
    np.allclose(coords.values, coords_g.values),
)
per_edge = gspace.core.gsgd.basis_path_values(net)
non_sigma = np.concatenate([per_edge.weights[l][~skeleton.sigma_mask(l)] for l in range(net.L)])
print("same numbers as gspace.core.gsgd.basis_path_values:", np.allclose(non_sigma, coords.values))

# %%
# Summary
# -------
# * The skeleton gives every hidden node one weight in and one out; the skeleton paths plus one
#   path per non-skeleton weight are :math:`m - H` basis paths.
# * They are independent (B1), each non-skeleton weight is on exactly one of them (B2), and
#   every path value is a product of basis-path values with integer exponents (B3).
# * Any choice of in-parents :math:`\pi` and out-children :math:`\sigma` gives a basis, for any
#   widths (B4); gspace's default reduces to the paper's skeleton for equal widths.
# * Basis-path values and signs are the network's coordinates in G-space.
#
# Exercises
# ---------
# 1. For widths ``[2, 3, 3, 2]``, write down the basis path of the weight from node 1 of
#    layer 1 to node 2 of layer 2 by hand, then find it in ``basis_paths``.
#    *Hint:* basis path :math:`k` belongs to the :math:`k`-th non-:math:`\sigma` edge in edge
#    order (see `notation page <../notation.html>`_).
# 2. Which exponents :math:`\alpha_k` occur for deeper networks? Plot the histogram for
#    ``[3, 4, 4, 4, 4, 2]``. *Hint:* ``path_exponents`` on ``enumerate_paths(widths)``.
# 3. Set a skeleton weight of ``net`` to 0. Which path values can no longer be rebuilt from
#    the basis-path values, and what does ``values_from_basis`` say?
#    *Hint:* a zero basis-path value cannot be raised to a negative power.
# 4. Why must every hidden node have exactly one :math:`\sigma`-edge for the construction to
#    give :math:`m - H` paths? *Hint:* count the non-:math:`\sigma` edges.

# %%
# Shown when run as a script (``python tutorials/NAME.py``); harmless under Agg and in
# the docs build, which captures every figure above.

plt.show()
