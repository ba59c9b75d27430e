"""The gradient-checking helpers of gspace.testing on cases worked by hand."""

import numpy as np
import pytest

import gspace
from gspace.testing import (
    away_from_kinks,
    check_gradients,
    flat,
    min_preactivation_margin,
    numerical_gradient,
    rel_error,
)


def test_flat_lists_weights_then_biases_in_edge_order():
    net = gspace.MLP.from_weights([[[1.0, 2.0]], [[3.0], [4.0]]], [[5.0, 6.0], [7.0]])
    np.testing.assert_array_equal(flat(net), [1, 2, 3, 4, 5, 6, 7])


def test_rel_error_by_hand():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error(1.0, 1.1) == pytest.approx(0.1 / 2.1, rel=1e-12)
    assert rel_error([3.0, 0.0], [0.0, 4.0], norm=True) == pytest.approx(5.0 / 7.0, rel=1e-12)
    assert rel_error([], []) == 0.0
    with pytest.raises(ValueError, match="equal shapes"):
        rel_error([1.0], [1.0, 2.0])


def test_numerical_gradient_of_a_quadratic_and_input_untouched():
    x = np.array([1.0, -2.0])
    g = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    np.testing.assert_allclose(g, [2.0, -4.0], rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0])


def test_kink_margin_and_mask_by_hand():
    net = gspace.MLP.from_weights([[[1.0]], [[1.0]]])  # z^1 = x
    assert min_preactivation_margin(net, np.array([[0.5], [-2.0]])) == 0.5
    mask = away_from_kinks(net, np.array([[1.0], [1e-6], [-2.0]]))
    np.testing.assert_array_equal(mask, [True, False, True])
    assert min_preactivation_margin(gspace.MLP([2, 3]), np.ones((1, 2))) == np.inf


def test_check_gradients_cross_entropy():
    net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(5, 3))
    err, analytic, numeric = check_gradients(net, X, np.array([0, 1, 1, 0, 1]), "cross_entropy")
    assert err < 1e-6 and [g.shape for g in numeric.weights] == [(3, 4), (4, 2)]
