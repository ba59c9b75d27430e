"""G-space of plain CNNs on the channel graph (claims C1-C4) and the MLP claims C4 carries
(I1, I2, W1, A1-A4), each against the dense route of :class:`gspace.cnn.ChannelMatrices`."""

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import gspace
from gspace.cnn import ChannelMatrices
from gspace.core.gsgd import basis_path_values, gsgd_step, inverse_chain_rule
from gspace.core.paths import rank_svd
from gspace.testing import min_preactivation_margin, rel_error

from . import strategies as gst

SMALL = gst.cnns(max_conv=2)  # the dense route lists every path: keep them few


def flat(x) -> np.ndarray:
    """Weights then biases of a network, gradients or PathArrays as one vector."""
    return np.concatenate([np.ravel(p) for p in [*x.weights, *(x.biases or [])]])


def batch(net, size, seed, n=4):
    """Images away from ReLU kinks (margin 1e-3) and mse targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, net.widths[0], size, size))
    X = X[[min_preactivation_margin(net, X[i : i + 1]) > 1e-3 for i in range(n)]]
    assume(len(X) >= 1)
    return X, rng.normal(size=(len(X), net.widths[-1]))


def case(arch, seed):
    """A drawn PlainCNN with a hidden channel, a batch, its gradients, its dense matrices."""
    net, size = arch
    assume(net.H >= 1)
    X, Y = batch(net, size, seed)
    return net, X, Y, net.loss_and_gradients(X, Y, loss="mse")[1], ChannelMatrices(net)


def safe_lr(cm, net, grads, move=0.1):
    """A learning rate moving every basis-path value by at most ``move`` (relative)."""
    w = flat(net)
    rate = np.max(np.abs(cm.inverse_chain_rule(w, flat(grads)) / cm.basis_values(w)))
    assume(rate > 1e-9)  # all units off: no gradient, no step
    return move / rate


@given(arch=SMALL, seed=gst.seeds())
def test_C1_scaling_group_of_the_channel_graph_keeps_the_function(arch, seed):
    """C1 with gspace's scaling group: ``random_scaling(widths).apply`` on a PlainCNN scales
    every tap of a channel's kernels; the function is unchanged (strides, padding, pooling,
    biases), the weights are not."""
    net, size = arch
    assume(net.H >= 1)
    g = gspace.random_scaling(net.widths, np.random.default_rng(seed), low=0.2, high=5)
    X = np.random.default_rng(seed).normal(size=(3, net.widths[0], size, size))
    assert rel_error(g.apply(net).forward(X), net.forward(X), norm=True) < 1e-12
    assume(max(np.abs(np.log(c)).max() for c in g.c) > 0.05)  # g is not close to the identity
    assert rel_error(flat(g.apply(net)), flat(net)) > 1e-3


@given(arch=SMALL, seed=gst.seeds())
def test_C2_structure_matrix_of_the_channel_graph_has_rank_m_minus_H(arch, seed):
    """C2: one path per choice of (channel, tap) per layer; the structure matrix of the
    channel graph (edges x paths) has rank M - H, and path values are G-invariant."""
    net, _ = arch
    cm = ChannelMatrices(net)
    counts = [w.size // w.shape[0] for w in net.weights]  # out-channels x taps per in-channel
    starts = range(1, net.L + 1) if net.has_bias else []  # a bias path starts in layer s
    n_paths = sum(net.widths[s] * math.prod(counts[s:]) for s in [0, *starts])
    assert cm.A.shape == (net.m + (sum(net.widths[1:]) if net.has_bias else 0), n_paths)
    assert cm.rank() == rank_svd(cm.A.toarray())[0] == cm.M - net.H
    g = gspace.random_scaling(net.widths, np.random.default_rng(seed), low=0.2, high=5)
    log_v = [cm.A.T @ np.log(np.abs(flat(n))) for n in (net, g.apply(net))]
    np.testing.assert_allclose(log_v[0], log_v[1], atol=1e-12)


@given(arch=SMALL)
def test_C3_centre_tap_basis_is_a_basis_with_integer_exponents(arch):
    """C3: the centre-tap basis has M - H independent paths (one per non-sigma edge, the
    sigma-edges being centre taps), every path is an integer combination of them, so every
    path value is a product of integer powers of basis-path values (signs included); the
    values equal those of gspace's O(m) sweeps."""
    net, _ = arch
    cm = ChannelMatrices(net)
    assert cm.Ab.shape[1] == cm.M - net.H == rank_svd(cm.Ab)[0]
    on_centre = []
    for w in net.weights:
        mask = np.zeros(w.shape, bool)
        mask[(slice(None), slice(None)) + tuple(k // 2 for k in w.shape[2:])] = True
        on_centre.append(mask.ravel())
    on_centre = np.concatenate(on_centre)
    assert np.all(on_centre[: net.m][cm.sigma[: net.m]])
    alpha = cm.exponents()
    np.testing.assert_array_equal(cm.Ab @ alpha, cm.A.toarray())
    w = flat(net)
    v_paths = np.array([np.prod(w[list(p)]) for p in cm.paths])
    v_basis = cm.basis_values(w)
    np.testing.assert_allclose(np.prod(v_basis[:, None] ** alpha, axis=0), v_paths, rtol=1e-10)
    np.testing.assert_allclose(flat(basis_path_values(net))[~cm.sigma], v_basis, rtol=1e-12)


@given(arch=SMALL, seed=gst.seeds())
def test_C4_A1_gsgd_step_equals_the_dense_route(arch, seed):
    """C4 / A1: G-SGD on a PlainCNN (gspace.GSGD, and the core stages gsgd_step) equals
    the step solved with the channel graph's explicit matrices (ICR: F = A'u; WA: [B, A'])."""
    net, X, Y, grads, cm = case(arch, seed)
    lr = safe_lr(cm, net, grads)
    ref = cm.gsgd_step(flat(net), flat(grads), lr)
    assert rel_error(flat(gspace.GSGD(lr=lr).step(net, grads)), ref, norm=True) < 1e-12
    assert rel_error(flat(gsgd_step(net, grads, lr)), ref, norm=True) < 1e-12


@given(arch=SMALL, seed=gst.seeds())
def test_C4_I1_inverse_chain_rule_equals_finite_differences_in_path_space(arch, seed):
    """C4 / I1: dl/dv from the Inverse-Chain-Rule equals a centred finite difference of the
    loss as a function of the basis-path values (weights from the dense Weight-Allocation)."""
    net, X, Y, grads, cm = case(arch, seed)
    w = flat(net)
    v, dv = cm.basis_values(w), flat(inverse_chain_rule(net, grads))[~cm.sigma]
    assume(np.abs(dv).max() > 1e-8)  # all units dead: the gradient is 0, FD only rounding
    picks = np.random.default_rng(seed).choice(len(v), size=min(6, len(v)), replace=False)
    # basis path 0 is a skeleton path (pi-edge of layer 1); the largest |dl/dv| keeps the
    # comparison away from picks whose paths all cross dead channels (dl/dv = 0 exactly)
    picks = np.union1d(picks, [0, np.argmax(np.abs(dv * v))])
    fd, noise = [], []
    for j in picks:
        h = 1e-6 * abs(v[j])
        loss = []
        for s in (1, -1):
            v2 = v.copy()
            v2[j] += s * h
            loss.append(net.with_flat_params(cm.weight_allocation(w, v2)).loss(X, Y, loss="mse"))
        fd.append((loss[0] - loss[1]) / (2 * h))
        noise.append(1e-13 * max(abs(loss[0]), abs(loss[1])) / h)  # rounding of the loss / h
    err = np.abs(dv[picks] - np.array(fd))
    assert np.all(err <= 1e-5 * np.abs(dv[picks] * v[picks]).max() / np.abs(v[picks]) + noise)


@given(arch=SMALL, seed=gst.seeds())
def test_C4_I2_balance_per_channel(arch, seed):
    """C4 / I2: at every hidden channel the sum of w dl/dw over its in-kernels (and bias)
    equals the sum over its out-kernels; the ICR system F = A'u is consistent."""
    net, size = arch
    X, Y = batch(net, size, seed)
    _, g = net.loss_and_gradients(X, Y, loss="mse")
    for l in range(1, net.L):
        F_in = (net.weights[l - 1] * g.weights[l - 1]).sum(axis=(0, 2, 3))
        F_in += net.biases[l - 1] * g.biases[l - 1] if net.has_bias else 0.0
        F_out = net.weights[l] * g.weights[l]
        F_out = F_out.reshape(len(F_out), -1).sum(axis=1)
        scale = np.abs(net.weights[l] * g.weights[l]).sum() + 1e-300
        assert np.max(np.abs(F_in - F_out)) < 1e-12 * scale
    cm = ChannelMatrices(net)
    assert cm.icr_residual(flat(net), flat(g)) < 1e-10
    stale = flat(g) * np.random.default_rng(seed).uniform(0.5, 2.0, cm.M)  # not a gradient
    assume(np.abs(flat(net) * flat(g))[: net.m].max() > 1e-6)  # some channel is alive
    assert cm.icr_residual(flat(net), stale) > 1e-6  # negative control


@given(arch=SMALL, seed=gst.seeds())
def test_C4_W1_weight_allocation_gives_the_updated_basis_values(arch, seed):
    """C4 / W1: after a G-SGD step every basis-path value equals v - lr dl/dv and the
    sigma-edges (centre taps) are unchanged."""
    net, X, Y, grads, cm = case(arch, seed)
    lr = safe_lr(cm, net, grads, move=0.5)
    new = gspace.GSGD(lr=lr).step(net, grads)
    w = flat(net)
    expected = cm.basis_values(w) - lr * cm.inverse_chain_rule(w, flat(grads))
    assert rel_error(cm.basis_values(flat(new)), expected) < 1e-10
    np.testing.assert_array_equal(flat(new)[cm.sigma], w[cm.sigma])


@given(arch=SMALL, seed=gst.seeds())
def test_C4_A2_gsgd_trajectory_is_invariant(arch, seed):
    """C4 / A2: G-SGD from w and from g(w) computes the same function at every step (three
    steps), because dl/dv depends only on the path values and the signs."""
    net, size = arch
    assume(net.H >= 1)
    X, Y = batch(net, size, seed)
    g = gspace.random_scaling(net.widths, np.random.default_rng(seed), low=0.2, high=5)
    _, grads = net.loss_and_gradients(X, Y, loss="mse")
    lr = safe_lr(ChannelMatrices(net), net, grads)
    a, b = net, g.apply(net)
    for _ in range(3):
        a = gspace.GSGD(lr=lr).step(a, a.loss_and_gradients(X, Y, loss="mse")[1])
        b = gspace.GSGD(lr=lr).step(b, b.loss_and_gradients(X, Y, loss="mse")[1])
        assert rel_error(a.forward(X), b.forward(X), norm=True) < 1e-9


def test_C4_A3_sgd_trajectory_is_not_invariant():
    """C4 / A3, the negative control: plain SGD from w and from g(w) gives different
    functions after one step (and the same check passes for G-SGD)."""
    net = gspace.PlainCNN(
        2, [4, 4], strides=[1, 2], bias=True, init="skeleton-unit", rng=np.random.default_rng(0)
    )
    net = net.with_params(net.weights, [b + 0.1 for b in net.biases])  # nonzero biases
    X = np.random.default_rng(1).normal(size=(8, 2, 6, 6))
    y = np.arange(8) % 10
    g = gspace.random_scaling(net.widths, np.random.default_rng(2), low=0.2, high=5)
    diffs = {}
    for opt in (gspace.SGD(lr=0.1), gspace.GSGD(lr=0.1)):
        a, b = net, g.apply(net)
        a1 = opt.step(a, a.loss_and_gradients(X, y)[1])
        b1 = opt.step(b, b.loss_and_gradients(X, y)[1])
        diffs[opt.name] = rel_error(a1.forward(X), b1.forward(X), norm=True)
    assert diffs["SGD"] > 1e-4 and diffs["GSGD"] < 1e-12, diffs


@given(arch=SMALL, seed=gst.seeds())
def test_C4_A4_path_sgd_on_the_channel_graph_is_equivariant(arch, seed):
    """C4 / A4: Path-SGD's gamma on the channel graph (squared kernels summed over taps)
    equals the sum over the listed paths through each parameter of the other squared
    parameters, and one Path-SGD step commutes with the scaling group."""
    net, size = arch
    X, Y = batch(net, size, seed)
    cm = ChannelMatrices(net)
    gw, gb = gspace.core.optim.path_gamma(net)
    gamma = np.concatenate([x.ravel() for x in [*gw, *(gb or [])]])
    assert rel_error(gamma, cm.path_sgd_gamma(flat(net))) < 1e-10
    g = gspace.random_scaling(net.widths, np.random.default_rng(seed), low=0.2, high=5)
    opt = gspace.PathSGD(lr=0.01)
    a = opt.step(net, net.loss_and_gradients(X, Y, loss="mse")[1])
    gn = g.apply(net)
    b = gspace.PathSGD(lr=0.01).step(gn, gn.loss_and_gradients(X, Y, loss="mse")[1])
    assert rel_error(flat(g.apply(a)), flat(b), norm=True) < 1e-12


@given(arch=SMALL, seed=gst.seeds(), hyper=st.sampled_from([(0.9, 0.0), (0.0, 0.01), (0.5, 0.1)]))
def test_C4_momentum_and_weight_decay_equal_the_dense_route(arch, seed, hyper):
    """Momentum on dl/dv and weight decay on the non-skeleton basis-path values (the authors'
    code) on a PlainCNN: three steps of gspace.GSGD equal three steps written out with the
    channel graph's explicit matrices (skeleton paths: those of the centre-tap pi-edges)."""
    mu, wd = hyper
    net, X, Y, grads, cm = case(arch, seed)
    lr = safe_lr(cm, net, grads, move=0.03)
    pi = np.zeros(cm.M, bool)
    pi[[d["edge"] for *_, d in gspace.cnn.channel_graph(net).edges(data=True) if d["pi"]]] = True
    decayed = ~pi[~cm.sigma]  # every basis path but the skeleton paths
    opt, a, w, buffer = gspace.GSGD(lr=lr, momentum=mu, weight_decay=wd), net, flat(net), None
    for _ in range(3):
        a = opt.step(a, grads)
        v = cm.basis_values(w)
        d = cm.inverse_chain_rule(w, flat(grads)) + wd * v * decayed
        buffer = d if buffer is None else mu * buffer + d
        w = cm.weight_allocation(w, v - lr * buffer)
        assert rel_error(flat(a), w, norm=True) < 1e-10


def test_gsgd_refuses_a_zero_centre_tap_skeleton_weight_and_modifies_nothing():
    """Numerical safety as for MLPs: a zero skeleton weight (a centre tap) makes basis-path
    values 0 and the step undefined: a clear ValueError, nothing modified."""
    net = gspace.PlainCNN(2, [3, 3], init="skeleton-unit", rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(4, 2, 5, 5))
    _, grads = net.loss_and_gradients(X, np.array([0, 1, 2, 3]))
    ws = [w.copy() for w in net.weights]
    ws[1][1, 1, 1, 1] = 0.0  # the hidden-to-hidden skeleton pair 1 -> 1, centre tap
    bad = gspace.PlainCNN.from_weights(ws)
    before = flat(bad)
    with pytest.raises(ValueError, match=r"skeleton weight weights\[1\]\[1, 1\]"):
        gspace.GSGD(lr=0.1).step(bad, grads)
    np.testing.assert_array_equal(flat(bad), before)
    ws[1][1, 1, 0, 0] = 0.0  # an off-centre tap of the same pair is an ordinary weight
    ws[1][1, 1, 1, 1] = 1.0
    assert np.all(
        np.isfinite(flat(gspace.GSGD(lr=0.1).step(gspace.PlainCNN.from_weights(ws), grads)))
    )


# ---------------------------------------------------------------------- gspace verify --cnn
def test_verify_cnn_on_the_command_line_checks_C1_to_C4(capsys):
    """``gspace verify --cnn ... --json``: exit status 0, every claim listed and holding."""
    from gspace import cli

    code = cli.main(["verify", "--cnn", "1:2k3s1,2k1s2:2", "--image", "5", "--bias", "--json"])
    results = json.loads(capsys.readouterr().out)
    assert code == 0 and all(r["holds"] for r in results)
    assert [r["claim"] for r in results][:4] == ["C1", "C2", "C3", "C4"]
    assert {"I1", "I2", "W1", "W2", "A2", "A3", "A4"} <= {r["claim"] for r in results}


def test_verify_cnn_exit_status_is_1_when_a_claim_fails(monkeypatch, capsys):
    """Negative control: with plain SGD in place of G-SGD the C4, W1 and A2 checks fail."""
    from gspace import cli, verify_cnn

    monkeypatch.setattr(verify_cnn, "GSGD", gspace.SGD)
    assert cli.main(["verify", "--cnn", "1:2k3s1:2", "--image", "4"]) == 1
    assert "FAILED: C4, W1, A2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--cnn", "1:2k4:2"], "kernel sizes must be odd"),
        (["--cnn", "1-2-3"], "expected C0:LAYERS:K"),
        (["--cnn", "1:0:2"], ">= 1"),
        (["--cnn", "1:64,64,64:10"], "paths; the dense route lists at most"),
        (["--cnn", "1:2k3s2p2:2", "--image", "2"], "too small for this network"),
        (["--cnn", "1:2:2", "--widths", "3,4,2"], "not allowed with"),
        (["--image", "5"], "--image applies only to --cnn"),
    ],
)
def test_verify_cnn_user_errors_exit_2_with_one_line(argv, words, capsys):
    from gspace import cli

    with pytest.raises(SystemExit) as info:
        cli.main(["verify", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.splitlines()) == 1 and words in err, err
