"""The MLP: forward pass, back-propagation (checked by finite differences), bad input."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import gspace
from gspace.testing import away_from_kinks, check_gradients, numerical_gradient, rel_error

from . import strategies as gst


@given(net=gst.networks(), seed=gst.seeds(), loss=st.sampled_from(["mse", "cross_entropy"]))
def test_backprop_matches_finite_differences(net, seed, loss):
    """Back-propagated gradients equal centred finite differences (rel. error < 1e-6)."""
    X, Y = gst.batch(net, 6, seed, loss)
    keep = away_from_kinks(net, X, margin=1e-3)
    assume(keep.sum() >= 2)
    X, Y = X[keep], Y[keep]
    err, analytic, numeric = check_gradients(net, X, Y, loss=loss, h=1e-6)
    assert err < 1e-6, (err, analytic, numeric)


def test_gradient_check_detects_a_wrong_gradient():
    """Negative control: the checker reports a large error for a gradient that is wrong."""
    net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 5, 1, "mse")
    _, analytic, numeric = check_gradients(net, X, Y)
    wrong = analytic.weights[0] * 1.01
    assert rel_error(wrong, numeric.weights[0]) > 1e-3


def test_check_gradients_reports_a_wrong_backward_pass():
    """Negative control of check_gradients itself: back-propagation without the ReLU
    derivative (a classic mistake) gives a large error, the correct one a tiny error."""

    class NoReluDerivative(gspace.MLP):
        def backward(self, cache, delta_L):
            dW, delta = [None] * self.L, delta_L
            for l in range(self.L, 0, -1):
                dW[l - 1] = cache.a[l - 1].T @ delta
                delta = delta @ self.weights[l - 1].T  # the mask 1[z > 0] is missing
            return gspace.core.network.Gradients(weights=dW)

    good = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(good, 6, 1, "mse")
    bad = NoReluDerivative.from_weights(good.weights)
    assert np.any(good.forward_cache(X).z[1] < 0)  # some unit is off, so the mask matters
    assert check_gradients(good, X, Y)[0] < 1e-6
    assert check_gradients(bad, X, Y)[0] > 1e-2


@given(net=gst.networks(), seed=gst.seeds())
def test_hidden_flow_is_sum_of_w_times_g_over_in_and_out_edges(net, seed):
    """Back-propagation's by-product sum_n z*delta equals sum of w*dl/dw over in-edges (bias
    included) and over out-edges of each hidden node."""
    X, Y = gst.batch(net, 7, seed, "mse")
    _, g = net.loss_and_gradients(X, Y)
    for l in range(1, net.L):
        F_in = np.sum(net.weights[l - 1] * g.weights[l - 1], axis=0)
        if net.biases is not None:
            F_in = F_in + net.biases[l - 1] * g.biases[l - 1]
        F_out = np.sum(net.weights[l] * g.weights[l], axis=1)
        np.testing.assert_allclose(g.hidden_flow[l - 1], F_in, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(g.hidden_flow[l - 1], F_out, rtol=1e-9, atol=1e-12)


def test_forward_by_hand():
    net = gspace.MLP.from_weights([[[1.0, -1.0], [2.0, 0.5]], [[1.0], [3.0]]], biases=None)
    X = np.array([[1.0, 1.0], [-1.0, 0.0]])
    # hidden z = [[3, -0.5], [-1, 1]] -> relu [[3, 0], [0, 1]] -> out [3, 3]
    np.testing.assert_allclose(net.forward(X), [[3.0], [3.0]])


def test_losses_by_hand():
    net = gspace.MLP.from_weights([np.eye(2)])
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert net.loss(X, np.zeros((2, 2)), "mse") == pytest.approx(0.5 * (1 + 4) / 2)
    expected = -np.mean([np.log(np.e / (np.e + 1)), np.log(1 / (1 + np.e**2))])
    assert net.loss(X, np.array([0, 0]), "cross_entropy") == pytest.approx(expected)


def test_cross_entropy_is_stable_for_huge_logits():
    net = gspace.MLP.from_weights([np.array([[1000.0, -1000.0]])])
    loss, grads = net.loss_and_gradients(np.array([[1.0]]), np.array([1]), "cross_entropy")
    assert np.isfinite(loss) and loss == pytest.approx(2000.0)
    assert np.all(np.isfinite(grads.weights[0]))


def test_he_initialisation_statistics_and_determinism():
    a = gspace.MLP([400, 300, 10], rng=np.random.default_rng(3))
    b = gspace.MLP([400, 300, 10], rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert a.weights[0].dtype == np.float64
    assert np.std(a.weights[0]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert a.biases is None
    c = gspace.MLP([4, 3, 2], bias=True, rng=np.random.default_rng(0))
    assert [b.shape for b in c.biases] == [(3,), (2,)] and all(np.all(b == 0) for b in c.biases)


def test_from_weights_copies_and_predicts():
    w = [np.array([[1.0, -1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])]
    net = gspace.MLP.from_weights(w)
    w[0][0, 0] = 99.0
    assert net.weights[0][0, 0] == 1.0
    X = np.array([[2.0], [-3.0]])
    np.testing.assert_array_equal(net.predict(X), [0, 1])
    assert net.accuracy(X, np.array([0, 0])) == 0.5
    assert (net.m, net.H, net.L) == (6, 2, 2)


@pytest.mark.parametrize(
    "widths, exc, words",
    [
        ([3], ValueError, "at least 2"),
        ([3, 0, 2], ValueError, ">= 1"),
        ([3, 2.5, 2], TypeError, "integer"),
        (5, TypeError, "sequence"),
    ],
)
def test_bad_widths(widths, exc, words):
    with pytest.raises(exc, match=words):
        gspace.MLP(widths, rng=np.random.default_rng(0))


def test_bad_rng():
    with pytest.raises(TypeError, match="Generator"):
        gspace.MLP([2, 2], rng=0)


def test_bad_bias_flag():
    with pytest.raises(TypeError, match="True or False"):
        gspace.MLP([2, 2], bias="no", rng=np.random.default_rng(0))


def test_bad_inputs_leave_network_unchanged():
    net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    before = [w.copy() for w in net.weights]
    X = np.ones((5, 3))
    cases = [
        (lambda: net.forward(np.ones((5, 4))), ValueError, r"shape \(n, 3\)"),
        (lambda: net.forward(np.ones(3)), ValueError, "shape"),
        (lambda: net.forward(np.array([["a"] * 3])), TypeError, "numeric"),
        (lambda: net.forward(np.full((2, 3), np.nan)), ValueError, "non-finite"),
        (lambda: net.loss_and_gradients(X, np.ones((5, 3))), ValueError, r"\(5, 2\)"),
        (lambda: net.loss_and_gradients(X, np.zeros(5), "cross_entropy"), TypeError, "integer"),
        (
            lambda: net.loss_and_gradients(X, np.array([0, 1, 2, 0, 1]), "cross_entropy"),
            ValueError,
            "0..1",
        ),
        (
            lambda: net.loss_and_gradients(X, np.array([0, 1]), "cross_entropy"),
            ValueError,
            r"\(5,\)",
        ),
        (
            lambda: net.loss_and_gradients(X, np.zeros((5, 2)), "hinge"),
            ValueError,
            "mse, cross_entropy",
        ),
        (lambda: net.loss_and_gradients(X, np.full((5, 2), np.inf)), ValueError, "non-finite"),
    ]
    for call, exc, words in cases:
        with pytest.raises(exc, match=words):
            call()
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize(
    "weights, biases, words",
    [
        ([np.ones((2, 3)), np.ones((2, 1))], None, "columns"),
        ([np.ones((2, 3))], [np.ones(2)], r"shape \(3,\)"),
        ([np.ones((2, 3))], [np.ones(3), np.ones(3)], "expected 1 bias"),
        ([np.ones(3)], None, "2-d"),
    ],
)
def test_bad_from_weights(weights, biases, words):
    with pytest.raises(ValueError, match=words):
        gspace.MLP.from_weights(weights, biases)


@pytest.mark.parametrize(
    "weights, words",
    [
        (np.ones((2, 3)), "list of 2-d arrays"),
        ([], "list of 2-d arrays"),
        ([np.array([["a", "b"]])], "numeric"),
    ],
)
def test_bad_from_weights_types(weights, words):
    with pytest.raises(TypeError, match=words):
        gspace.MLP.from_weights(weights)


def test_with_flat_params_round_trip_and_bad_input():
    """flat_params: weights row-major layer by layer, then biases (the edge numbering)."""
    net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    net.biases = [np.arange(4.0), np.arange(2.0)]
    flat = net.flat_params()
    np.testing.assert_array_equal(flat[net.m :], [0, 1, 2, 3, 0, 1])
    back = net.with_flat_params(flat)
    for a, b in zip(back.weights + back.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)
        assert a is not b
    with pytest.raises(TypeError, match="numeric"):
        net.with_flat_params(["a"] * flat.size)
    with pytest.raises(ValueError, match=r"shape \(26,\)"):
        net.with_flat_params(flat[:-1])
    with pytest.raises(ValueError, match="non-finite"):
        net.with_flat_params(np.full(flat.size, np.nan))


@pytest.mark.parametrize("h", [0.0, -1e-6, float("nan"), "1e-6"])
def test_numerical_gradient_rejects_a_bad_step(h):
    with pytest.raises(ValueError, match="h must be a finite number > 0"):
        numerical_gradient(lambda v: float(np.sum(v)), np.ones(2), h=h)
