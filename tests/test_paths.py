"""Paths (theory page, sections "Setting" and "Paths"): enumeration, path values, activation
statuses, P1."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given

import gspace
from gspace.core.paths import (
    activation_status,
    count_paths,
    edge_offsets,
    enumerate_paths,
    network_from_paths,
    path_array,
    path_edges,
    path_values,
)

from . import strategies as gst

ARCH = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=6)


def _loop_value(net, p):
    """Independent route: walk the path edge by edge in Python."""
    L = net.L
    s = next(l for l in range(L + 1) if p[l] >= 0)
    v = 1.0 if s == 0 else net.biases[s - 1][p[s]]
    for l in range(s, L):
        v *= net.weights[l][p[l], p[l + 1]]
    return v


@given(ARCH)
def test_enumeration_is_itertools_product_and_counts_match(widths):
    """Paths are the tuples (i_0, ..., i_L), n = h_0 h_1 ... h_L of them."""
    paths = enumerate_paths(widths)
    assert paths == list(itertools.product(*[range(h) for h in widths]))
    assert len(paths) == count_paths(widths) == math.prod(widths)
    with_bias = enumerate_paths(widths, bias=True)
    assert len(with_bias) == count_paths(widths, bias=True) == len(set(with_bias))
    # enumerate_paths lists path_array; the bias paths are checked against networkx in
    # test_path_graph


@given(gst.networks(ARCH))
def test_path_values_equal_a_python_loop(net):
    """v_p(w) = product of the L weights on the path (times the bias for a bias path)."""
    paths = enumerate_paths(net.widths, bias=net.has_bias)
    expected = np.array([_loop_value(net, p) for p in paths])
    np.testing.assert_allclose(path_values(net, paths), expected, rtol=1e-14)


@given(gst.networks(ARCH), gst.seeds())
def test_activation_status_equals_product_of_node_indicators(net, seed):
    """a_p(x; w) = product over the hidden nodes j on p of 1[o_j(x; w) > 0]."""
    X = np.random.default_rng(seed).normal(size=(4, net.widths[0]))
    paths = enumerate_paths(net.widths, bias=net.has_bias)
    z = net.forward_cache(X).z
    expected = np.array(
        [
            [float(all(z[l][n, p[l]] > 0 for l in range(1, net.L) if p[l] >= 0)) for p in paths]
            for n in range(X.shape[0])
        ]
    )
    np.testing.assert_array_equal(activation_status(net, X, paths), expected)


@given(gst.networks(ARCH), gst.seeds())
def test_P1_network_output_is_sum_over_paths(net, seed):
    """P1: N_w(x)_k = sum over paths p ending at output k of v_p(w) a_p(x; w) x_{i_0(p)};
    with biases, the bias paths (input factor 1) join the sum."""
    X = np.random.default_rng(seed).normal(size=(6, net.widths[0]))
    out = net.forward(X)
    np.testing.assert_allclose(
        network_from_paths(net, X), out, rtol=1e-10, atol=1e-12 * (1 + np.abs(out).max())
    )


def test_P1_negative_control_wrong_statuses_break_the_sum():
    """Dropping the activation statuses (a linear network) no longer gives N_w."""
    net = gspace.MLP([3, 5, 4, 2], rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(30, 3))
    P = path_array(net.widths)
    v = path_values(net, P)
    linear = (X[:, P[:, 0]] * v) @ np.eye(2)[P[:, -1]]
    assert not np.allclose(linear, net.forward(X))


def test_bias_path_representation():
    net = gspace.MLP.from_weights(
        [[[1.0, 2.0]], [[3.0], [5.0]]], biases=[np.array([7.0, 11.0]), np.array([13.0])]
    )
    paths = enumerate_paths(net.widths, bias=True)
    assert paths == [(0, 0, 0), (0, 1, 0), (-1, 0, 0), (-1, 1, 0), (-1, -1, 0)]
    assert path_values(net, paths).tolist() == [3.0, 10.0, 21.0, 55.0, 13.0]
    m = 4
    assert path_edges(net.widths, paths).tolist() == [
        [0, 2],
        [1, 3],
        [m + 0, 2],
        [m + 1, 3],
        [-1, m + 2],
    ]
    assert edge_offsets([2, 3, 4]).tolist() == [0, 6, 18]


def test_over_limit_names_count_limit_and_scalable_route():
    with pytest.raises(ValueError, match=r"1000000.*limit=999999.*scalable route"):
        enumerate_paths([10, 10, 10, 10, 10, 10], limit=999_999)
    with pytest.raises(ValueError, match="131533373440"):
        path_array([784, 64, 64, 64, 64, 10])
    with pytest.raises(ValueError, match="limit must be an integer"):
        enumerate_paths([2, 2], limit=0)
    net = gspace.MLP([784, 64, 64, 64, 64, 10], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="scalable route"):
        network_from_paths(net, np.zeros((1, 784)))


@pytest.mark.parametrize(
    "paths, words",
    [
        ([(0, 0)], r"L \+ 1 = 3"),
        ([(0, 0, 2)], "has 2 nodes"),
        ([(0, -1, 0)], "leading entries"),
        ([(-1, 0, -1)], "leading entries"),
        ([(0.0, 0.0, 0.0)], "integer"),
        ([(-1, 0, 0)], "need a network with biases"),
        ([()], r"L \+ 1 = 3"),  # an empty path is not silently dropped
        (np.zeros((4, 0), dtype=np.int64), r"L \+ 1 = 3"),
    ],
)
def test_bad_paths_are_refused(paths, words):
    net = gspace.MLP([2, 3, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=words):
        path_values(net, paths)


def test_no_paths_give_empty_results():
    net = gspace.MLP([2, 3, 2], rng=np.random.default_rng(0))
    assert path_values(net, []).shape == (0,)
    assert path_values(net, np.zeros((0, 3), dtype=np.int64)).shape == (0,)
    assert activation_status(net, np.ones((4, 2)), []).shape == (4, 0)


def test_path_functions_do_not_mutate_inputs():
    net = gspace.MLP([2, 3, 2], bias=True, rng=np.random.default_rng(0))
    w0 = [w.copy() for w in net.weights]
    P = path_array(net.widths, bias=True)
    P0 = P.copy()
    X = np.ones((2, 2))
    path_values(net, P)
    activation_status(net, X, P)
    network_from_paths(net, X)
    np.testing.assert_array_equal(P, P0)
    for a, b in zip(w0, net.weights):
        np.testing.assert_array_equal(a, b)
