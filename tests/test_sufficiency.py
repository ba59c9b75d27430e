"""Path values represent the network (theory page, section "Path values determine the
network"): S1 and its two counterexamples."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace.core.paths import count_paths, path_array, path_values
from gspace.core.scaling import random_scaling
from gspace.core.sufficiency import (
    dead_node_counterexample,
    equivalent_by_path_values,
    find_scaling,
    recover_scaling,
    sign_flip_counterexample,
)

from . import strategies as gst

ARCH = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=6)


@given(gst.networks(ARCH), gst.seeds(), st.booleans())
def test_S1_same_path_values_iff_G_equivalent_and_c_is_recovered(net, seed, use_basis):
    """S1: let w, w' have no zero weights and the same signs. Then w' = g(w) for some g in G
    if and only if v_p(w) = v_p(w') for every path p; c is read off u = log|w'| - log|w|."""
    rng = np.random.default_rng(seed)
    g = random_scaling(net.widths, rng, low=0.1, high=10)
    limit = 1 if use_basis else 10**6  # limit=1 forces the basis-path route (B3)
    res = equivalent_by_path_values(net, g.apply(net), limit=limit)
    assert res.equivalent and res.max_rel_diff < 1e-12
    one_path = count_paths(net.widths, bias=net.has_bias) == 1  # limit=1 lists that one path
    assert res.compared == ("basis paths" if use_basis and not one_path else "all paths")
    assert res.g.allclose(g, rtol=1e-9)
    # negative control: one weight multiplied by 1.5 is not a G element
    other = net.copy()
    l = int(rng.integers(net.L))
    i, j = (int(rng.integers(s)) for s in net.weights[l].shape)
    other.weights[l][i, j] *= 1.5
    res = equivalent_by_path_values(net, other, limit=limit)
    assert not res.equivalent and res.g is None and res.max_rel_diff > 0.1
    assert find_scaling(net, other) is None
    assert find_scaling(net, g.apply(net)).allclose(g, rtol=1e-9)


@given(gst.networks(ARCH), st.data())
def test_S1_counterexample_sign_flip(net, data):
    """S1 needs equal signs: negating all in- and out-weights of one hidden node leaves every
    path value unchanged, yet no g in G maps one network to the other."""
    l = data.draw(st.integers(1, net.L - 1))
    j = data.draw(st.integers(0, net.widths[l] - 1))
    a, b = sign_flip_counterexample(net, l, j)
    P = path_array(net.widths, bias=net.has_bias)
    np.testing.assert_allclose(path_values(a, P), path_values(b, P), rtol=1e-15)
    assert find_scaling(a, b) is None
    with pytest.raises(ValueError, match="sign"):
        equivalent_by_path_values(a, b)


def test_S1_sign_flip_changes_the_function():
    """... and the function changes (relu(-z) != -relu(z))."""
    a, b = sign_flip_counterexample(gspace.MLP([3, 5, 2], rng=np.random.default_rng(0)), 1, 2)
    X = np.random.default_rng(1).normal(size=(50, 3))
    assert np.abs(a.forward(X) - b.forward(X)).max() > 1e-3


@given(gst.networks(gst.widths(min_layers=2, max_layers=5, min_width=2, max_width=6)), st.data())
def test_S1_counterexample_dead_node(net, data):
    """S1 needs non-zero weights: if all in-weights of a node are 0, its out-weights can change
    freely without changing any path value or the function, yet the two weight vectors are not
    G-equivalent."""
    l = data.draw(st.integers(1, net.L - 1))
    j = data.draw(st.integers(0, net.widths[l] - 1))
    a, b = dead_node_counterexample(net, l, j)
    P = path_array(net.widths, bias=net.has_bias)
    np.testing.assert_array_equal(path_values(a, P), path_values(b, P))
    X = np.random.default_rng(0).normal(size=(20, net.widths[0]))
    np.testing.assert_allclose(a.forward(X), b.forward(X), rtol=1e-12, atol=1e-12)
    assert find_scaling(a, b) is None
    with pytest.raises(ValueError, match="zero weights"):
        equivalent_by_path_values(a, b)


def test_recover_scaling_on_the_authors_mlp_uses_basis_paths():
    net = gspace.MLP([784, 64, 64, 64, 64, 10], rng=np.random.default_rng(0))
    g = random_scaling(net.widths, np.random.default_rng(1), sigma=1.0)
    res = equivalent_by_path_values(net, g.apply(net))
    assert res.compared == "basis paths" and res.equivalent and res.g.allclose(g, rtol=1e-9)
    assert recover_scaling(net, g.apply(net)).allclose(g, rtol=1e-9)


def test_bad_input():
    a = gspace.MLP([2, 3, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="same widths"):
        equivalent_by_path_values(a, gspace.MLP([2, 4, 2], rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match="biases"):
        equivalent_by_path_values(a, gspace.MLP([2, 3, 2], bias=True, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match="same widths"):
        find_scaling(a, gspace.MLP([2, 4, 2], rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match="rtol"):
        equivalent_by_path_values(a, a.copy(), rtol=0)
    with pytest.raises(ValueError, match="hidden node"):
        sign_flip_counterexample(a, 2, 0)
    with pytest.raises(ValueError, match="two out-weights"):
        dead_node_counterexample(gspace.MLP([2, 3, 1], rng=np.random.default_rng(0)))
    with pytest.raises(TypeError, match="MLP"):
        equivalent_by_path_values(a, "net")
    for limit in (0, 2.5, "many", True):
        with pytest.raises(ValueError, match="limit must be an integer"):
            equivalent_by_path_values(a, a.copy(), limit=limit)
    with pytest.raises(ValueError, match="rtol"):
        find_scaling(a, a.copy(), rtol=-1.0)


def test_find_scaling_without_hidden_layers():
    """With no hidden node G is the identity: only equal networks are related."""
    a = gspace.MLP([3, 2], rng=np.random.default_rng(0))
    assert find_scaling(a, a.copy()).c == []
    b = a.copy()
    b.weights[0][0, 0] *= 2.0
    assert find_scaling(a, b) is None
