"""Path-SGD (theory page, claim A4 in section "G-SGD"): gamma against brute-force path
enumeration, the update rule, claim A4 (one step commutes with the scaling group), atomic steps
and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace.core.network import Gradients
from gspace.core.optim import path_gamma
from gspace.testing import rel_error

from . import _gsgd_helpers as H
from . import strategies as gst

small_nets = gst.networks(gst.widths(max_layers=4, max_width=4))


def _brute_force_path_terms(net):
    """Every path as a list of (kind, l, index, weight): input paths and bias-started paths."""
    paths = []
    for p in H.enumerate_paths(net.widths):
        paths.append([("w", l, (a, b), net.weights[l][a, b]) for l, a, b in H.all_edges_of_path(p)])
    if net.biases is not None:
        for s, *tail in H.enumerate_bias_paths(net.widths):
            b0 = tail[0]
            edges = [("b", s - 1, (b0,), net.biases[s - 1][b0])]
            edges += [
                ("w", s + k, (tail[k], tail[k + 1]), net.weights[s + k][tail[k], tail[k + 1]])
                for k in range(len(tail) - 1)
            ]
            paths.append(edges)
    return paths


def _brute_force_gamma(net):
    gw = [np.zeros_like(w) for w in net.weights]
    gb = None if net.biases is None else [np.zeros_like(b) for b in net.biases]
    for edges in _brute_force_path_terms(net):
        for i, (kind, l, ix, _) in enumerate(edges):
            others = np.prod([e[3] ** 2 for j, e in enumerate(edges) if j != i])
            (gw if kind == "w" else gb)[l][ix] += others
    return gw, gb


@given(net=small_nets)
def test_gamma_equals_brute_force_path_enumeration(net):
    """gamma(w, e) = sum over the paths through e of the product of the other squared weights
    (paths from the inputs and from the biases' constant-1 nodes), enumerated one by one."""
    gw, gb = path_gamma(net)
    ew, eb = _brute_force_gamma(net)
    for x, y in zip(gw + (gb or []), ew + (eb or [])):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_gamma_by_hand():
    net = gspace.MLP.from_weights([[[1.0, 2.0]], [[3.0], [4.0]]], biases=[[0.5, 0.0], [1.0]])
    gw, gb = path_gamma(net)
    # gamma_in(hidden) = [1 + 0.25, 4 + 0], gamma_out(hidden) = [9, 16]
    np.testing.assert_allclose(gw[0], [[9.0, 16.0]])
    np.testing.assert_allclose(gw[1], [[1.25], [4.0]])
    np.testing.assert_allclose(gb[0], [9.0, 16.0])
    np.testing.assert_allclose(gb[1], [1.0])


@given(net=small_nets, seed=gst.seeds())
def test_step_is_w_minus_lr_g_over_gamma(net, seed):
    X, Y = gst.batch(net, 6, seed, "mse")
    _, g = net.loss_and_gradients(X, Y)
    ew, eb = _brute_force_gamma(net)
    new = gspace.PathSGD(lr=0.05).step(net, g)
    for l in range(net.L):
        np.testing.assert_allclose(new.weights[l], net.weights[l] - 0.05 * g.weights[l] / ew[l])
        if net.biases is not None:
            np.testing.assert_allclose(new.biases[l], net.biases[l] - 0.05 * g.biases[l] / eb[l])


def test_weight_decay_is_the_path_norm_penalty_preconditioned():
    """weight_decay = lambda: Path-SGD on loss + lambda/2 * sum_p v_p^2 (all paths, biases'
    paths included), whose gradient lambda w_e gamma(w, e) becomes lambda w_e after division
    by gamma. The penalty's gradient is computed here by enumerating the paths."""
    net = gspace.MLP([3, 4, 3, 2], bias=True, rng=np.random.default_rng(0))
    net = gspace.MLP.from_weights(net.weights, [np.full(b.shape, 0.3) for b in net.biases])
    X, Y = gst.batch(net, 6, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    lam, lr = 0.1, 0.05
    pen_w = [np.zeros_like(w) for w in net.weights]
    pen_b = [np.zeros_like(b) for b in net.biases]
    for edges in _brute_force_path_terms(net):
        v = np.prod([e[3] for e in edges])
        for kind, l, ix, w in edges:  # d/dw (lam/2 v^2) = lam v^2 / w
            (pen_w if kind == "w" else pen_b)[l][ix] += lam * v * v / w
    gw, gb = path_gamma(net)
    new = gspace.PathSGD(lr=lr, weight_decay=lam).step(net, g)
    for l in range(net.L):
        expected = net.weights[l] - lr * (g.weights[l] + pen_w[l]) / gw[l]
        np.testing.assert_allclose(new.weights[l], expected, rtol=1e-10)
        expected_b = net.biases[l] - lr * (g.biases[l] + pen_b[l]) / gb[l]
        np.testing.assert_allclose(new.biases[l], expected_b, rtol=1e-10)


def test_momentum_follows_torch_convention():
    net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 6, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    opt = gspace.PathSGD(lr=0.1, momentum=0.9)
    n1 = opt.step(net, g)
    b1 = g.weights[1] / path_gamma(net)[0][1]
    np.testing.assert_allclose(n1.weights[1], net.weights[1] - 0.1 * b1)
    n2 = opt.step(n1, g)
    b2 = 0.9 * b1 + g.weights[1] / path_gamma(n1)[0][1]
    np.testing.assert_allclose(n2.weights[1], n1.weights[1] - 0.1 * b2)


@given(
    net=gst.networks(gst.widths(max_layers=4, max_width=5), min_abs=0.3, max_abs=1.5),
    gseed=gst.seeds(),
    seed=gst.seeds(),
    hyper=st.sampled_from([(0.0, 0.0), (0.9, 0.01)]),
)
def test_A4_pathsgd_step_commutes_with_scaling(net, gseed, seed, hyper):
    """A4: Path-SGD is exactly equivariant under G: stepping g(w) gives g(step(w)), for one
    step and, with momentum and weight decay, for several."""
    g = gspace.random_scaling(net.widths, np.random.default_rng(gseed), low=0.1, high=10.0)
    mu, wd = hyper
    a, b = net, g.apply(net)
    opt_a = gspace.PathSGD(lr=0.01, momentum=mu, weight_decay=wd)
    opt_b = gspace.PathSGD(lr=0.01, momentum=mu, weight_decay=wd)
    for t in range(3):
        X, Y = gst.batch(net, 8, seed + t, "mse")
        a = opt_a.step(a, a.loss_and_gradients(X, Y)[1])
        b = opt_b.step(b, b.loss_and_gradients(X, Y)[1])
        ga = g.apply(a)
        for x, y in zip(b.weights + (b.biases or []), ga.weights + (ga.biases or [])):
            assert rel_error(x, y) < 1e-10


def test_pathsgd_is_not_sgd():
    """Negative control: the rescaling is applied at every step (the released Path-SGD code
    trains plain SGD after its first step)."""
    net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 6, 0, "mse")
    opt = gspace.PathSGD(lr=0.1)
    for _ in range(3):
        _, g = net.loss_and_gradients(X, Y)
        new = opt.step(net, g)
        sgd = gspace.SGD(lr=0.1).step(net, g)
        assert rel_error(new.weights[1], sgd.weights[1], norm=True) > 1e-3
        net = new


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9, "weight_decay": 1e-3}])
def test_step_does_not_modify_inputs(kwargs):
    net = gspace.MLP([3, 4, 5, 2], bias=True, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    before = [x.copy() for x in net.weights + net.biases]
    g_before = [x.copy() for x in g.weights + g.biases]
    opt = gspace.PathSGD(lr=0.01, **kwargs)
    opt.step(opt.step(net, g), g)
    path_gamma(net)
    for x, y in zip(net.weights + net.biases, before):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(g.weights + g.biases, g_before):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"lr": 0.0}, ValueError, "> 0"),
        ({"lr": float("inf")}, ValueError, "finite"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, r"\[0, 1\)"),
        ({"lr": 0.1, "weight_decay": -1.0}, ValueError, ">= 0"),
    ],
)
def test_bad_hyperparameters(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        gspace.PathSGD(**kwargs)


def test_bad_input_rejected_and_state_unchanged():
    net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    opt = gspace.PathSGD(lr=0.1, momentum=0.5)
    opt.step(net, g)
    buf = [x.copy() for x in opt.state["momentum_buffer"][0]]
    for gr, words in [
        (Gradients([g.weights[0]]), "weight layers"),
        (Gradients([g.weights[0] * np.inf, g.weights[1]]), "non-finite"),
        (Gradients(g.weights, [np.zeros(4), np.zeros(2)]), "biases"),
    ]:
        with pytest.raises(ValueError, match=words):
            opt.step(net, gr)
    # a hidden node whose in-weights are all 0: gamma_in = 0, the step is undefined
    ws = [w.copy() for w in net.weights]
    ws[0][:, 2] = 0.0
    dead = gspace.MLP.from_weights(ws)
    with pytest.raises(ValueError, match="gamma_in of node 2 of layer 1 is 0"):
        opt.step(dead, dead.loss_and_gradients(X, Y)[1])
    huge = Gradients([x * 1e10 for x in g.weights])
    with pytest.raises(FloatingPointError, match="non-finite"):
        gspace.PathSGD(lr=1e300).step(net, huge)
    opt.lr = 1e300  # the optimizer with a buffer: the failed step leaves it as it was
    with pytest.raises(FloatingPointError, match="non-finite"):
        opt.step(net, huge)
    # squared path norms beyond the float64 range
    big = gspace.MLP.from_weights([w * 1e200 for w in net.weights])
    with pytest.raises(FloatingPointError, match="gamma_in of layer 1 overflowed"):
        opt.step(big, g)
    with pytest.raises(FloatingPointError, match="overflowed"):
        path_gamma(big)
    for x, y in zip(opt.state["momentum_buffer"][0], buf):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(TypeError, match="MLP"):
        path_gamma(net.weights)
