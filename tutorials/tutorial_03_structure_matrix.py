"""
3. The structure matrix, its rank, and why path values suffice
==============================================================

**Read with:** the G-SGD paper (Meng et al., ICLR 2019), its structure matrix and rank, and
its argument that path values determine the network up to the scaling group (the part
before its section "Skeleton method"). Claims **R1**,
**R2** and **S1** on the `theory page <../theory.html#the-structure-matrix-and-its-rank-r1-r2>`_.

Stack the paths of tutorial 2 as 0/1 columns and you get the *structure matrix* :math:`A`:
in logarithms, path values are :math:`\\log|v| = A^\\top \\log|w|`. Its rank says how many
path values are independent: :math:`m - H`, the number of weights minus the number of hidden
nodes. This tutorial computes that rank in several ways (including, by counting, for networks
with far too many paths to list), identifies the :math:`H` missing directions as the scaling
group, and shows when two networks with equal path values are the same up to scaling (S1) and
when they are not.
"""

# %%
# Setup
# -----

import os
import time

import matplotlib.pyplot as plt
import numpy as np

import gspace
from gspace.core.paths import count_paths, path_values, rank_svd, structure_matrix
from gspace.core.scaling import random_scaling, scaling_vectors
from gspace.core.sufficiency import (
    dead_node_counterexample,
    equivalent_by_path_values,
    find_scaling,
    sign_flip_counterexample,
)
from gspace.explicit import gram_by_counting, rank_by_counting, rank_certificate

SMALL = os.environ.get("GSPACE_TUTORIAL_SMALL") == "1"
# sphinx_gallery_thumbnail_number = 2
rng = np.random.default_rng(0)

widths = [2, 3, 3, 2]
net = gspace.MLP(widths, rng=rng)

# %%
# The structure matrix
# --------------------
# ``structure_matrix`` lists the paths and returns :math:`A` as a sparse
# :math:`m \times n` matrix: row = edge (numbered layer by layer, row-major in
# ``weights[l]``), column = path. Every column has exactly :math:`L` ones.

paths, A = structure_matrix(widths)
print(
    "A has shape (m, n) =", A.shape, "; ones per column:", sorted({int(x) for x in A.sum(axis=0)})
)

log_v = A.T @ np.log(np.abs(net.flat_params()))
print("log|v| = A^T log|w|:", np.allclose(log_v, np.log(np.abs(path_values(net, paths)))))

fig, ax = plt.subplots(figsize=(9, 3.2))
ax.imshow(A.toarray(), cmap="Greys", aspect="auto", interpolation="nearest")
ax.set_xlabel("path k (itertools.product order)")
ax.set_ylabel("edge e")
ax.set_title(f"structure matrix A of widths {widths}: A[e, k] = 1 if path k uses edge e")
fig.tight_layout()

# %%
# Its rank (R1)
# -------------
# :math:`\operatorname{rank} A = m - H` for every layered network, with equal or unequal
# widths. Compute it from the singular values for a few architectures: each singular-value
# plot has exactly :math:`m - H` values clearly above zero and :math:`H` at rounding level.

architectures = [[2, 3, 3, 2], [3, 5, 2, 4], [2, 4, 3, 4, 2]]
if SMALL:
    architectures = architectures[:2]
fig, axes = plt.subplots(1, len(architectures), figsize=(4 * len(architectures), 3.2))
for ax, ws in zip(axes, architectures):
    _, A_ws = structure_matrix(ws)
    rank, s = rank_svd(A_ws)
    m = sum(a * b for a, b in zip(ws[:-1], ws[1:]))
    H = sum(ws[1:-1])
    print(f"widths {ws}: m = {m}, H = {H}, m - H = {m - H}, rank A = {rank}")
    ax.semilogy(np.maximum(s, 1e-18), "o", ms=3)
    ax.axvline(m - H - 0.5, color="tab:red", lw=1, label=f"m - H = {m - H}")
    ax.set_xlabel("index")
    ax.set_ylabel("singular value of A")
    ax.set_title(f"widths {ws}")
    ax.legend()
fig.tight_layout()

# %%
# Networks with too many paths to list
# ------------------------------------
# A 784-64-64-64-64-10 network has about :math:`1.3 \times 10^{11}` paths: :math:`A` cannot be
# written down. But :math:`\operatorname{rank} A = \operatorname{rank} AA^\top`, and the
# :math:`m \times m` matrix :math:`AA^\top` only counts paths: its entry :math:`(e, f)` is the
# number of paths through both edges :math:`e` and :math:`f`, a product of widths.
# ``gram_by_counting`` builds it without listing a single path; on a
# small network it equals :math:`AA^\top` exactly.

G_count = gram_by_counting(widths)
print("counting gives A A^T exactly:", np.array_equal(G_count, (A @ A.T).toarray()))

big = [20, 16, 16, 16, 5] if SMALL else [20, 16, 16, 16, 16, 5]
t0 = time.perf_counter()
rank, _ = rank_by_counting(big)
seconds = time.perf_counter() - t0
m_big = sum(a * b for a, b in zip(big[:-1], big[1:]))
print(
    f"widths {big}: {count_paths(big):,} paths, m - H = {m_big - sum(big[1:-1])}, "
    f"rank by counting = {rank} ({seconds:.1f} s)"
)

# %%
# ``rank_certificate`` goes further: it proves
# :math:`\operatorname{rank} A = m - H` with integer arithmetic only (no floating-point rank
# at all), from two facts: every :math:`b_O` sums to zero along every path (R2, below), and
# the basis paths of tutorial 4 are independent by their triangular structure (B1, B2).

mnist_widths = [784, 64, 64, 64, 64, 10]
cert = rank_certificate(mnist_widths)
m_mnist = sum(a * b for a, b in zip(mnist_widths[:-1], mnist_widths[1:]))
print("certificate holds:", cert.holds, "| rank", cert.rank, "| m - H =", m_mnist - 256)

# %%
# What the rank misses: the scaling group (R2)
# --------------------------------------------
# :math:`m - H` independent path values for :math:`m` weights: :math:`H` directions of weight
# space do not change any path value. They are the vectors :math:`b_O` of tutorial 1, one per
# hidden node: :math:`A^\top b_O = 0` (along any path, the +1 of the edge entering :math:`O`
# cancels the -1 of the edge leaving it), and they span the whole kernel of :math:`A^\top`.

B = scaling_vectors(widths)
print("A^T b_O = 0 for every O:", np.allclose(A.T @ B.T, 0))
_, s, Vt = np.linalg.svd(A.toarray().T)
kernel = Vt[np.sum(s > 1e-10) :]  # orthonormal basis of ker(A^T)
print("dim ker(A^T) =", kernel.shape[0], "= H =", net.H)
# Project the b_O on the kernel: nothing is lost, so span{b_O} = ker(A^T).
print(
    "b_O lie in ker(A^T):",
    np.allclose(B @ kernel.T @ kernel, B),
    "| rank of [b_O] =",
    np.linalg.matrix_rank(B),
)

# %%
# Path values determine the network up to scaling (S1)
# -----------------------------------------------------
# If :math:`w` and :math:`w'` have no zero weight and the same signs, they have the same path
# values exactly when :math:`w' = g(w)` for some :math:`g \in \mathcal{G}`; the proof reads
# :math:`\log c` off :math:`\log|w'| - \log|w|`, which lies in the kernel of :math:`A^\top`.
# ``equivalent_by_path_values`` decides from path values alone and
# recovers :math:`g`.

g = random_scaling(widths, rng, sigma=1.0)
result = equivalent_by_path_values(net, g.apply(net))
print(
    "g(net): equivalent =",
    result.equivalent,
    "| recovered g equals g:",
    result.g.allclose(g, rtol=1e-9),
)

other = net.copy()
other.weights[1][0, 1] *= 1.5  # one weight changed: not a scaling
print("one weight x1.5: equivalent =", equivalent_by_path_values(net, other).equivalent)

# %%
# Both hypotheses are needed. **Equal signs:** negate every weight entering and leaving one
# hidden node. Each path through it has two negated weights, so every path value is the same,
# but the node's ReLU now sees the negated input: the function changes.

a, b = sign_flip_counterexample(net, layer=1, node=0)
print(
    "sign flip: same path values:",
    np.allclose(path_values(a, paths), path_values(b, paths)),
    "| related by some g:",
    find_scaling(a, b) is not None,
)

n_line = 100 if SMALL else 400
t = np.linspace(-3, 3, n_line)
X_line = np.stack([t, 0.5 * t], axis=1)
fig, ax = plt.subplots(figsize=(6, 3.4))
ax.plot(t, a.forward(X_line)[:, 0], label="network")
ax.plot(t, b.forward(X_line)[:, 0], "--", label="node 0 of layer 1 sign-flipped")
ax.set_xlabel("t (input x = (t, t / 2))")
ax.set_ylabel("output 0")
ax.set_title("equal path values, different functions")
ax.legend()
fig.tight_layout()

# %%
# **No zero weights:** if every weight entering a hidden node is 0, the node always outputs
# :math:`\operatorname{relu}(0) = 0`, every path through it has value 0, and its outgoing weights
# can be changed freely, even in ratio, which no :math:`g` can do.

a, b = dead_node_counterexample(net, layer=1, node=0)
X = rng.normal(size=(50, 2))
print(
    "dead node: same function:",
    np.allclose(a.forward(X), b.forward(X)),
    "| same path values:",
    np.allclose(path_values(a, paths), path_values(b, paths)),
    "| related by some g:",
    find_scaling(a, b) is not None,
)

# %%
# Summary
# -------
# * The structure matrix :math:`A` (:math:`m \times n`, 0/1) maps log-weights to log path
#   values; its rank is :math:`m - H` for every architecture (R1), checked by singular
#   values, by counting paths through pairs of edges (for networks with astronomically many
#   paths), and by an exact certificate.
# * The :math:`H` missing directions are exactly the scaling group's :math:`b_O` (R2).
# * With no zero weight and equal signs, equal path values mean equivalent networks (S1);
#   dropping either hypothesis breaks it.
#
# Exercises
# ---------
# 1. Prove R1 for a network with one hidden layer, :math:`d`-:math:`h`-:math:`K`, by
#    counting: how many paths are there, and which :math:`h` combinations of rows vanish?
#    Check with ``rank_svd(structure_matrix([d, h, K])[1])``. *Hint:* a path is one weight of
#    each layer through the same hidden node.
# 2. Show that entry :math:`(e, f)` of :math:`AA^\top`, for :math:`e` in the first layer and
#    :math:`f` in the last (:math:`L \ge 3`), is the same for every such pair, and write it
#    as a product of widths. What changes for :math:`L = 2`? Compare with
#    ``gram_by_counting``. *Hint:* count the free choices of nodes between the two edges.
# 3. Add biases (``structure_matrix(widths, bias=True)``): what are the rank and the kernel
#    now? *Hint:* ``scaling_vectors(widths, bias=True)``.
# 4. In the sign-flip counterexample, which ReLU sees a different input, and for which
#    inputs do the two networks agree? *Hint:* compare ``a.forward_cache(X).z[1]`` and
#    ``b.forward_cache(X).z[1]``.

# %%
# Shown when run as a script (``python tutorials/NAME.py``); harmless under Agg and in
# the docs build, which captures every figure above.

plt.show()
