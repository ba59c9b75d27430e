"""Plain SGD: the update rule, momentum, weight decay, atomic steps and bad input."""

import numpy as np
import pytest

import gspace
from gspace.core.network import Gradients

from . import strategies as gst


def _net_and_grads(bias=False):
    net = gspace.MLP([3, 4, 2], bias=bias, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, grads = net.loss_and_gradients(X, Y)
    return net, grads


def test_sgd_step_is_w_minus_lr_g_and_inputs_untouched():
    net, grads = _net_and_grads(bias=True)
    w0 = [w.copy() for w in net.weights]
    g0 = [g.copy() for g in grads.weights]
    new = gspace.SGD(lr=0.5).step(net, grads)
    for l in range(net.L):
        np.testing.assert_array_equal(new.weights[l], w0[l] - 0.5 * g0[l])
        np.testing.assert_array_equal(net.weights[l], w0[l])
        np.testing.assert_array_equal(grads.weights[l], g0[l])
        np.testing.assert_array_equal(new.biases[l], net.biases[l] - 0.5 * grads.biases[l])


def test_sgd_momentum_and_weight_decay_follow_torch_convention():
    net, grads = _net_and_grads()
    opt = gspace.SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
    n1 = opt.step(net, grads)
    b1 = grads.weights[0] + 0.01 * net.weights[0]
    np.testing.assert_allclose(n1.weights[0], net.weights[0] - 0.1 * b1)
    n2 = opt.step(n1, grads)
    b2 = 0.9 * b1 + grads.weights[0] + 0.01 * n1.weights[0]
    np.testing.assert_allclose(n2.weights[0], n1.weights[0] - 0.1 * b2)


def test_sgd_weight_decay_and_momentum_apply_to_biases_too():
    """The docstring's rule b_t = mu b_{t-1} + (g_t + lambda w_{t-1}) holds for the biases."""
    net, grads = _net_and_grads(bias=True)
    net = gspace.MLP.from_weights(net.weights, [b + 0.5 for b in net.biases])  # nonzero biases
    opt = gspace.SGD(lr=0.1, momentum=0.9, weight_decay=0.01)
    n1 = opt.step(net, grads)
    n2 = opt.step(n1, grads)
    for l in range(net.L):
        b1 = grads.biases[l] + 0.01 * net.biases[l]
        np.testing.assert_allclose(n1.biases[l], net.biases[l] - 0.1 * b1)
        b2 = 0.9 * b1 + grads.biases[l] + 0.01 * n1.biases[l]
        np.testing.assert_allclose(n2.biases[l], n1.biases[l] - 0.1 * b2)


def test_lr_is_read_at_every_step():
    net, grads = _net_and_grads()
    opt = gspace.SGD(lr=0.1)
    opt.lr = 0.2
    new = opt.step(net, grads)
    np.testing.assert_allclose(new.weights[1], net.weights[1] - 0.2 * grads.weights[1])


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"lr": 0.0}, ValueError, "> 0"),
        ({"lr": -1.0}, ValueError, "> 0"),
        ({"lr": "0.1"}, TypeError, "real number"),
        ({"lr": float("nan")}, ValueError, "finite"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, r"\[0, 1\)"),
        ({"lr": 0.1, "momentum": -0.1}, ValueError, r"\[0, 1\)"),
        ({"lr": 0.1, "weight_decay": -1e-4}, ValueError, ">= 0"),
    ],
)
def test_bad_hyperparameters(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        gspace.SGD(**kwargs)


def test_bad_lr_assignment_keeps_old_value():
    opt = gspace.SGD(lr=0.1)
    with pytest.raises(ValueError):
        opt.lr = -2
    assert opt.lr == 0.1


def test_bad_grads_rejected_and_state_unchanged():
    net, grads = _net_and_grads()
    opt = gspace.SGD(lr=0.1, momentum=0.5)
    opt.step(net, grads)
    buf = [b.copy() for b in opt.state["momentum_buffer"]]
    bad = [
        (Gradients([grads.weights[0]]), "weight layers"),
        (Gradients([grads.weights[0].T, grads.weights[1]]), "shape"),
        (Gradients([grads.weights[0] * np.nan, grads.weights[1]]), "non-finite"),
        (Gradients(grads.weights, [np.zeros(4), np.zeros(2)]), "biases"),
    ]
    for g, words in bad:
        with pytest.raises(ValueError, match=words):
            opt.step(net, g)
    with pytest.raises(TypeError, match="structure"):
        opt.step(net, [grads.weights])
    for b, b0 in zip(opt.state["momentum_buffer"], buf):
        np.testing.assert_array_equal(b, b0)


def test_overflowing_step_raises_and_keeps_state():
    net, grads = _net_and_grads()
    opt = gspace.SGD(lr=1e308, momentum=0.5)
    with pytest.raises(FloatingPointError, match="non-finite"):
        opt.step(net, Gradients([g * 1e10 for g in grads.weights]))
    assert "momentum_buffer" not in opt.state
