"""Tests of the baselines beyond the paper (gspace.baselines): Adam against a hand-rolled loop
over flat vectors, ENorm's sweep against a node-by-node computation and a brute-force
minimization, and the invariance each has or lacks (A2/A3 style: trained from w and from a
rescaled g(w), do they compute the same function?)."""

from __future__ import annotations

import numpy as np
import pytest

import gspace
from gspace.baselines import enorm_sweep

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 5))
Y = RNG.integers(0, 3, size=16)


def net_with(bias, seed=0, widths=(5, 6, 4, 3)):
    return gspace.MLP(list(widths), bias=bias, rng=np.random.default_rng(seed))


def flat(net):
    parts = list(net.weights) + (list(net.biases) if net.biases is not None else [])
    return np.concatenate([p.ravel() for p in parts])


IMAGES = RNG.normal(size=(16, 2, 6, 6))


def cnn_with(bias, seed=0):
    return gspace.PlainCNN(
        in_channels=2,
        channels=[3, 4, 4],
        kernel_size=3,
        strides=[1, 2, 1],
        n_classes=3,
        bias=bias,
        rng=np.random.default_rng(seed),
    )


def cnn_grads(net, rows=slice(None)):
    return net.loss_and_gradients(IMAGES[rows], Y[rows], loss="cross_entropy")[1]


def grads_at(net, rows=slice(None)):
    return net.loss_and_gradients(X[rows], Y[rows], loss="cross_entropy")[1]


def batches(k):
    return [slice(4 * (k % 4), 4 * (k % 4) + 4)]


def rel_error(a, b):
    return np.max(np.abs(a - b)) / max(1e-12, np.max(np.abs(a)) + np.max(np.abs(b)))


# ----------------------------------------------------------------------------- Adam
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_adam_formula_against_a_flat_vector_loop(bias, weight_decay, kind):
    """Five steps of gspace.Adam equal Kingma and Ba's Algorithm 1 written over one flat
    parameter vector (bias-corrected moments, L2 penalty added to the gradient), for an MLP
    and for a plain CNN."""
    lr, (b1, b2), eps = 0.01, (0.8, 0.99), 1e-7
    opt = gspace.Adam(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay)
    net = net_with(bias) if kind == "mlp" else cnn_with(bias)
    theta, m, v = flat(net), 0.0, 0.0
    for t in range(1, 6):
        rows = batches(t)[0]
        grads = grads_at(net, rows) if kind == "mlp" else cnn_grads(net, rows)
        g = flat(grads) + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        new = opt.step(net, grads)
        assert type(new) is type(net) and rel_error(flat(new), theta) < 1e-13
        net = new
    assert opt.state["t"] == 5


def test_adam_keeps_inputs_and_state_on_error():
    net = net_with(True)
    grads = grads_at(net)
    before_w, before_g = flat(net).copy(), flat(grads).copy()
    opt = gspace.Adam()
    opt.step(net, grads)
    np.testing.assert_array_equal(flat(net), before_w)
    np.testing.assert_array_equal(flat(grads), before_g)
    state = {k: (list(v) if isinstance(v, list) else v) for k, v in opt.state.items()}
    bad = grads.weights[0].copy()  # gradients are read-only: an edit makes new ones
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        opt.step(net, gspace.Gradients([bad, *grads.weights[1:]], grads.biases))
    assert opt.state["t"] == state["t"] == 1
    assert all(a is b for a, b in zip(opt.state["m"], state["m"], strict=True))
    with pytest.raises(ValueError, match="another shape"):
        opt.step(net_with(True, widths=(5, 3, 3)), grads_at(net_with(True, widths=(5, 3, 3))))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"lr": 0.0}, "lr"),
        ({"betas": (0.9, 1.0)}, "beta2"),
        ({"betas": (-0.1, 0.9)}, "beta1"),
        ({"betas": 0.9}, "pair"),
        ({"eps": 0.0}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"weight_decay": -1.0}, "weight_decay"),
    ],
)
def test_adam_rejects_bad_hyper_parameters(kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words):
        gspace.Adam(**kwargs)


# ----------------------------------------------------------------------------- ENorm
def sweep_by_hand(net):
    """Equi-normalization with p = 2, node by node: c_j = sqrt(||out_j|| / ||in_j, b_j||),
    hidden layers in order, each after the previous layer's rescaling; c_j = 1 for a node
    whose in- or out-norm is 0."""
    ws = [w.copy() for w in net.weights]
    bs = [b.copy() for b in net.biases] if net.biases is not None else None
    for l in range(1, len(ws)):
        for j in range(ws[l].shape[0]):
            n_in = np.sqrt(np.sum(ws[l - 1][:, j] ** 2) + (bs[l - 1][j] ** 2 if bs else 0.0))
            n_out = np.sqrt(np.sum(ws[l][j, :] ** 2))
            c = np.sqrt(n_out / n_in) if n_in > 0 and n_out > 0 else 1.0  # dead: unscaled
            ws[l - 1][:, j] *= c
            ws[l][j, :] /= c
            if bs:
                bs[l - 1][j] *= c
    return gspace.MLP.from_weights(ws, bs)


@pytest.mark.parametrize("bias", [False, True])
def test_enorm_sweep_against_node_by_node_computation(bias):
    net = gspace.random_scaling([5, 6, 4, 3], np.random.default_rng(2), sigma=1.5).apply(
        net_with(bias)
    )
    swept, hand = enorm_sweep(net), sweep_by_hand(net)
    assert rel_error(flat(swept), flat(hand)) < 1e-13
    # the last hidden layer is balanced exactly (no later layer rescales it)
    n_in = np.sum(swept.weights[1] ** 2, axis=0) + (swept.biases[1] ** 2 if bias else 0.0)
    np.testing.assert_allclose(n_in, np.sum(swept.weights[2] ** 2, axis=1), rtol=1e-12)


def test_enorm_sweep_of_an_mlp_is_one_sweep_of_balance():
    """For an MLP the sweep is one sweep of gspace.balance (an independent implementation,
    with its factors through logarithms); many sweeps converge to balance's result."""
    net = gspace.random_scaling([5, 6, 4, 3], np.random.default_rng(7), sigma=1.0).apply(
        net_with(True)
    )
    one = gspace.balance(net, tol=np.finfo(np.float64).max, max_iter=1)[0]
    assert rel_error(flat(enorm_sweep(net)), flat(one)) < 1e-13
    many = net
    for _ in range(300):
        many = enorm_sweep(many)
    assert rel_error(flat(many), flat(gspace.balance(net)[0])) < 1e-8


@pytest.mark.parametrize("bias", [False, True])
def test_enorm_sweep_of_a_plain_cnn_balances_channels_and_keeps_the_function(bias):
    """Channels are the nodes: the sweep equals a channel-by-channel computation on the
    kernels, leaves the CNN's outputs unchanged to rounding and balances the last hidden
    layer exactly; ENorm.step steps a PlainCNN as SGD then the sweep."""
    net = cnn_with(bias, seed=8)
    ws = [w.copy() for w in net.weights]
    bs = [b.copy() for b in net.biases] if bias else None
    for l in range(1, len(ws)):
        for j in range(ws[l].shape[0]):
            n_in = np.sqrt(np.sum(ws[l - 1][:, j] ** 2) + (bs[l - 1][j] ** 2 if bias else 0.0))
            c = np.sqrt(np.sqrt(np.sum(ws[l][j] ** 2)) / n_in)
            ws[l - 1][:, j] *= c
            ws[l][j] /= c
            if bias:
                bs[l - 1][j] *= c
    swept = enorm_sweep(net)
    assert type(swept) is gspace.PlainCNN and swept.strides == net.strides
    assert rel_error(flat(swept), np.concatenate([a.ravel() for a in ws + (bs or [])])) < 1e-13
    assert rel_error(swept.forward(IMAGES), net.forward(IMAGES)) < 1e-13
    last_in = np.sum(swept.weights[2] ** 2, axis=(0, 2, 3)) + (swept.biases[2] ** 2 if bias else 0)
    np.testing.assert_allclose(last_in, np.sum(swept.weights[3] ** 2, axis=1), rtol=1e-12)
    grads = cnn_grads(net)
    new = gspace.ENorm(lr=0.1).step(net, grads)
    sgd = gspace.SGD(lr=0.1).step(net, grads)
    assert rel_error(flat(new), flat(enorm_sweep(sgd))) == 0.0
    assert rel_error(new.forward(IMAGES), sgd.forward(IMAGES)) < 1e-13


def test_enorm_exponent_minimizes_the_layer_cost_by_brute_force():
    """ENorm (p = 2) chooses, for each node, the c that minimizes
    c^2 ||in||^2 + ||out||^2 / c^2 (its share of sum_l ||w^l||^2): a grid search over c
    finds the same c."""
    net = gspace.random_scaling([5, 6, 4, 3], np.random.default_rng(3), sigma=1.0).apply(
        net_with(True)
    )
    sq_in = np.sum(net.weights[0] ** 2, axis=0) + net.biases[0] ** 2
    sq_out = np.sum(net.weights[1] ** 2, axis=1)
    c_sweep = enorm_sweep(net).weights[0][0] / net.weights[0][0]  # first layer's factors
    grid = np.exp(np.linspace(-4, 4, 400_001))
    for j in range(6):
        cost = grid**2 * sq_in[j] + sq_out[j] / grid**2
        assert c_sweep[j] == pytest.approx(grid[np.argmin(cost)], rel=1e-4)


@pytest.mark.parametrize("bias", [False, True])
def test_enorm_sweep_keeps_the_function_and_the_step_is_sgd_then_sweep(bias):
    """ENorm's balancing step leaves the function unchanged to rounding (it is a rescaling,
    biases included); ENorm.step is the SGD step followed by the sweep."""
    net = net_with(bias, seed=4)
    grads = grads_at(net)
    sgd = gspace.SGD(lr=0.3).step(net, grads)
    new = gspace.ENorm(lr=0.3).step(net, grads)
    assert rel_error(new.forward(X), sgd.forward(X)) < 1e-13
    assert rel_error(flat(new), flat(enorm_sweep(sgd))) == 0.0
    assert rel_error(flat(new), flat(sgd)) > 1e-3  # the sweep did change the weights
    swept = enorm_sweep(net)
    assert rel_error(swept.forward(X), net.forward(X)) < 1e-13


def test_enorm_leaves_a_dead_node_unscaled():
    net = net_with(False)
    ws = [w.copy() for w in net.weights]
    ws[0][:, 2] = 0.0
    dead = gspace.MLP.from_weights(ws)
    swept = enorm_sweep(dead)
    assert np.all(np.isfinite(flat(swept)))
    assert rel_error(flat(swept), flat(sweep_by_hand(dead))) < 1e-13
    assert rel_error(swept.forward(X), dead.forward(X)) < 1e-13


# ----------------------------------------------------------------------------- invariance
def train_pair(make_opt, steps=5, bias=False):
    """Train from w and from g(w) (log c ~ N(0, 1) per hidden node) with the same batches;
    return the largest relative difference of the two networks' outputs."""
    w = net_with(bias, seed=5)
    gw = gspace.random_scaling(w.widths, np.random.default_rng(6), sigma=1.0).apply(w)
    assert rel_error(w.forward(X), gw.forward(X)) < 1e-13  # the same function at the start
    nets, opts = [w, gw], [make_opt(), make_opt()]
    for k in range(steps):
        rows = batches(k)[0]
        nets = [o.step(n, grads_at(n, rows)) for o, n in zip(opts, nets, strict=True)]
    return rel_error(nets[0].forward(X), nets[1].forward(X))


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda: gspace.Adam(lr=0.01),
        lambda: gspace.SGD(lr=0.1, momentum=0.9),
        lambda: gspace.ENorm(lr=0.1),
    ],
    ids=["adam", "sgd-momentum", "enorm"],
)
def test_A3_negative_control_adam_momentum_enorm_are_not_invariant(make_opt):
    """Like SGD (A3), Adam, SGD with momentum and ENorm trained from w and from g(w) compute
    different functions: their steps do not commute with the rescaling (ENorm's sweep keeps
    each network's function, but its SGD step from g(w) is another step)."""
    assert train_pair(make_opt) > 1e-3


@pytest.mark.parametrize("bias", [False, True])
def test_A2_positive_control_gsgd_with_and_without_momentum_is_invariant(bias):
    """The same pair of runs with G-SGD, plain and with momentum in G-space, coincides to
    rounding (A2): the negative controls above are not an artefact of the pair's setup."""
    assert train_pair(lambda: gspace.GSGD(lr=0.1), bias=bias) < 1e-10
    assert train_pair(lambda: gspace.GSGD(lr=0.1, momentum=0.9), bias=bias) < 1e-10


def test_top_level_names():
    assert gspace.Adam is gspace.baselines.Adam and gspace.ENorm is gspace.baselines.ENorm
    assert repr(gspace.Adam()) == "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)"
    assert repr(gspace.ENorm()) == "ENorm(lr=0.1, weight_decay=0.0)"


def test_enorm_step_refuses_overflowing_weights_without_warning():
    """Weights whose squares overflow: FloatingPointError from the step (training records a
    divergence), no RuntimeWarning from the sweep (warnings are errors in the tests), and the
    optimizer is left as it was: its next step equals a fresh optimizer's."""
    net = net_with(False)
    grads = grads_at(net)
    huge = net.with_params([w * 1e160 for w in net.weights], None)
    opt = gspace.ENorm(lr=0.1)
    with pytest.raises(FloatingPointError):
        opt.step(huge, grads)
    after = opt.step(net, grads)
    fresh = gspace.ENorm(lr=0.1).step(net, grads)
    for a, b in zip(after.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_adam_first_step_is_lr_times_the_sign_of_the_gradient():
    """m_hat = g and v_hat = g^2 at t = 1: the step is lr g / (|g| + eps), lr sign(g) nearly."""
    net = net_with(True)
    grads = grads_at(net)
    new = gspace.Adam(lr=0.01).step(net, grads)
    for p, q, g in zip(flat(net), flat(new), flat(grads)):
        assert p - q == pytest.approx(0.01 * g / (abs(g) + 1e-8), rel=1e-9, abs=1e-15)
