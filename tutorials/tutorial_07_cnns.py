"""
7. From MLPs to CNNs: channels are the nodes
=============================================

**Read with:** the G-SGD paper (Meng et al., ICLR 2019), section "Experiments" (its
*PlainNet*, ResNet-34 without skip connections, is where it reports its largest gains), and
the authors' released code, whose CNN skeleton is the centre tap of each kernel. The paper
does not spell out G-space for convolutions; claims **C1-C4** on the
`theory page <../theory.html#plain-cnns-channels-are-the-nodes-c1-c4>`_ do, and this tutorial
checks each of them on a small plain CNN.

A convolution from :math:`C_{in}` to :math:`C_{out}` channels with a :math:`k \\times k` kernel
is, for G-space, a layer of :math:`C_{in} C_{out} k^2` weights between :math:`C_{in}` and
:math:`C_{out}` *nodes*: every kernel tap is an edge, so two channels are joined by
:math:`k^2` parallel edges. Everything of tutorials 1-5 then carries over to this *channel
graph*.
"""

# %%
# Setup
# -----
# ``gspace.PlainCNN`` stores kernels in-channel first, ``weights[l]`` of shape
# ``(C_in, C_out, k, k)``, like an MLP weight ``(h_l, h_{l+1})`` with two tap axes, and the
# output matrix last. Zero padding ``k // 2``, strides, ReLU, global average pooling, a
# linear output.

import os

import matplotlib.pyplot as plt
import numpy as np

import gspace
from gspace.cnn import ChannelMatrices, draw_channel_graph
from gspace.core.gsgd import basis_path_values, gsgd_step

SMALL = os.environ.get("GSPACE_TUTORIAL_SMALL") == "1"
rng = np.random.default_rng(0)

net = gspace.PlainCNN(1, [3, 3], kernel_size=3, strides=[1, 2], n_classes=2, rng=rng)
X = rng.normal(size=(6, 1, 8, 8))
print(net)
print("logits:", net.forward(X).shape, " weights:", [w.shape for w in net.weights])
print(f"channel graph: widths {net.widths}, m = {net.m} edges, H = {net.H} hidden channels")

# %%
# The channel graph
# -----------------
# Nodes are channels; each pair of channels in consecutive layers is joined by a bundle of
# :math:`k^2` parallel edges, drawn once with its size. The skeleton of tutorial 4 lives on
# the *centre taps*: each hidden channel has one centre-tap edge in (:math:`\\pi`, blue) and
# one out (:math:`\\sigma`, red).

fig, ax = plt.subplots(figsize=(6, 3.2))
draw_channel_graph(net, ax=ax)
fig.tight_layout()
G = gspace.cnn.channel_graph(net)
print("parallel edges from input 0 to channel 1:", G.number_of_edges((0, 0), (1, 1)))

# %%
# C1: the scaling group acts on channels
# --------------------------------------
# Multiply every kernel entering hidden channel :math:`j` (all taps, and its bias) by
# :math:`c_j > 0` and every kernel leaving it by :math:`1/c_j`. A convolution is linear and
# ReLU is positively homogeneous, so the network computes the same function (zero padding,
# strides and average pooling do not change that). gspace's scaling group does exactly this
# to a PlainCNN.

g = gspace.random_scaling(net.widths, rng, low=0.2, high=5.0)
print("C1: max |N_g(w)(x) - N_w(x)| =", np.abs(g.apply(net).forward(X) - net.forward(X)).max())
print(
    "    while the first kernels changed by", np.abs(g.apply(net).weights[0] - net.weights[0]).max()
)

# %%
# C2: paths and the rank of the structure matrix
# ----------------------------------------------
# A path picks one edge per layer: a channel *and a tap*. ``gspace.cnn.ChannelMatrices``
# lists all of them on the channel graph and builds the structure matrix :math:`A` (edges x
# paths). Its rank is :math:`m - H`, as for an MLP: the :math:`k^2` parallel edges add
# columns, but the only dependencies are still one per hidden node.

cm = ChannelMatrices(net)
print(f"C2: A is {cm.A.shape[0]} x {cm.A.shape[1]}, rank {cm.rank()}, m - H = {net.m - net.H}")
ranks = []
for k in (1, 3, 5):
    small = gspace.PlainCNN(2, [2, 2], kernel_size=k, n_classes=2, rng=rng)
    ranks.append((k, small.m, small.H, ChannelMatrices(small).rank()))
    print(f"    k = {k}: m = {small.m}, H = {small.H}, rank {ranks[-1][3]}")

# %%
# C3: the centre-tap basis
# ------------------------
# With :math:`\\pi` and :math:`\\sigma` at centre taps, the construction of tutorial 4 gives one
# basis path per edge that is not a :math:`\\sigma`-edge: :math:`m - H` independent paths, and
# every path is an integer combination of them, so every path value is a product of integer
# powers of basis-path values. The values agree with those of gspace's O(m) sweeps, which read
# a convolution layer as an MLP layer with parallel edges.

alpha = cm.exponents()
w = np.concatenate([p.ravel() for p in net.weights])
print(f"C3: {len(cm.basis)} basis paths, exponents in {alpha.min()}..{alpha.max()}")
sweeps = np.concatenate([p.ravel() for p in basis_path_values(net).weights])[~cm.sigma]
print("    dense basis values = sweeps:", np.allclose(cm.basis_values(w), sweeps))
fig, ax = plt.subplots(figsize=(5, 2.6))
values, counts = np.unique(alpha, return_counts=True)
ax.bar(values, counts, color="tab:blue")
ax.set(xlabel="exponent", ylabel="count (log)", yscale="log", title="C3: exponents of all paths")
fig.tight_layout()

# %%
# C4: one G-SGD for MLPs and CNNs
# -------------------------------
# ``gspace.GSGD`` steps a PlainCNN with the same code as an MLP: the Inverse-Chain-Rule sums
# run over channels and taps, and the per-channel sums of :math:`w \\, \\partial l / \\partial
# w` come from back-propagation as sums of :math:`z \\, \\partial l / \\partial z` over the batch
# and all positions. The step equals the one solved with the channel graph's explicit matrices.

y = rng.integers(0, 2, size=len(X))
_, grads = net.loss_and_gradients(X, y)
flat = np.concatenate([p.ravel() for p in grads.weights])
dense = cm.gsgd_step(w, flat, lr=0.05)
for name, new in (
    ("gspace.GSGD", gspace.GSGD(lr=0.05).step(net, grads)),
    ("core gsgd_step", gsgd_step(net, grads, 0.05)),
):
    got = np.concatenate([p.ravel() for p in new.weights])
    err = np.max(np.abs(got - dense) / np.abs(dense))
    print(f"C4: {name} vs explicit matrices: max rel. diff {err:.1e}")

# %%
# A small training run
# --------------------
# A toy task: is an 8x8 image's bright bar horizontal or vertical? Both optimizers start from
# the skeleton-unit initialization (centre taps of the skeleton set to 1, as the authors' code
# does), same batches, learning rates from a small grid chosen on a validation split. This is
# an illustration of the interface, not evidence for the paper's claim (that needs real data).


def bars(n, rng):
    X = rng.normal(scale=0.3, size=(n, 1, 8, 8))
    y = rng.integers(0, 2, size=n)
    pos = rng.integers(0, 8, size=n)
    for i in range(n):
        if y[i]:
            X[i, 0, pos[i], :] += 1.0
        else:
            X[i, 0, :, pos[i]] += 1.0
    return X, y


Xtr, ytr = bars(200 if SMALL else 600, rng)
Xva, yva = bars(200, rng)
epochs = 3 if SMALL else 10
start = gspace.PlainCNN(1, [4, 4], strides=[1, 2], n_classes=2, init="skeleton-unit", rng=rng)
curves = {}
for name, make in (("SGD", gspace.SGD), ("G-SGD", gspace.GSGD)):
    best = None
    for lr in (0.03, 0.1, 0.3):
        net_t, opt, acc = start, make(lr=lr), [start.accuracy(Xva, yva)]
        order = np.random.default_rng(1)
        for _ in range(epochs):
            for idx in np.array_split(order.permutation(len(Xtr)), len(Xtr) // 20):
                net_t = opt.step(net_t, net_t.loss_and_gradients(Xtr[idx], ytr[idx])[1])
            acc.append(net_t.accuracy(Xva, yva))
        if best is None or acc[-1] > best[1][-1]:
            best = (lr, acc)
    curves[name] = best
    print(f"{name}: lr {best[0]}, validation accuracy {best[1][-1]:.3f}")
fig, ax = plt.subplots(figsize=(5, 3))
for name, (lr, acc) in curves.items():
    ax.plot(acc, marker="o", label=f"{name} (lr {lr})")
ax.set(xlabel="epoch", ylabel="validation accuracy", title="bars: horizontal or vertical?")
ax.legend()
fig.tight_layout()

# %%
# Summary
# -------
# * A plain CNN's G-space is that of its channel graph: channels are nodes, kernel taps are
#   parallel edges, :math:`m` counts all kernel entries, :math:`H` the hidden channels.
# * Scaling a hidden channel (in-kernels and bias times :math:`c`, out-kernels over :math:`c`)
#   keeps the function (C1); the structure matrix has rank :math:`m - H` (C2); the centre-tap
#   skeleton gives a basis with integer exponents (C3).
# * G-SGD, SGD and Path-SGD step a PlainCNN with the code that steps an MLP (C4); Path-SGD's
#   :math:`\\gamma` is computed on the channel graph, squared kernels summed over taps.
# * What does not carry over: the sum over paths (P1) holds for the spatially unrolled network,
#   whose edges share kernel entries, not for the channel graph.
#
# Exercises
# ---------
# 1. Count the paths of ``net`` by hand (a channel and a tap per layer) and compare with
#    ``len(cm.paths)``. *Hint:* :math:`C_0 \\prod_l C_l k_l^2` times :math:`K`.
# 2. Choose the skeleton at a corner tap instead of the centre: is it still a basis?
#    *Hint:* C3 says any fixed tap works; build the basis matrix with ``ChannelMatrices`` after
#    permuting the taps of every kernel (``np.roll`` over the last two axes) so that the
#    corner becomes the centre.
# 3. Add batch normalization after a convolution (by hand, in NumPy). Which scaling of a
#    channel still leaves the function unchanged, and why does G-space break?
#    *Hint:* normalization divides by the channel's standard deviation over the batch.
# 4. Time ``gspace.GSGD(lr).step`` against ``gspace.SGD(lr).step`` on a deeper PlainCNN
#    (``benchmarks/bench_cnn.py`` does it) and explain why the ratio is close to 1.
#    *Hint:* the convolutions cost O(n H W m), G-SGD's extra work O(m).

# %%
# Shown when run as a script (``python tutorials/NAME.py``); harmless under Agg and in
# the docs build, which captures every figure above.

plt.show()
