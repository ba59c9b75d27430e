"""The positive scaling group (the theory page's section of that name): G1-G4, normalisations,
bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gspace
import gspace.core.paths
from gspace.core.basis import Skeleton
from gspace.core.scaling import (
    ScalingGroupElement,
    random_scaling,
    scaling_vectors,
)
from gspace.initialization import BalanceWarning, balance, normalize_skeleton_out_weights

from . import strategies as gst

ARCH = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=6)


def _brute_path_values(net):
    """Independent route: a Python loop over all paths (i_0, ..., i_L)."""
    vals = []
    for p in itertools.product(*[range(h) for h in net.widths]):
        v = 1.0
        for l in range(net.L):
            v *= net.weights[l][p[l], p[l + 1]]
        vals.append(v)
    return np.array(vals)


def _flat_params(net):
    parts = [w.ravel() for w in net.weights]
    if net.has_bias:
        parts += list(net.biases)
    return np.concatenate(parts)


@given(gst.networks(ARCH), gst.seeds())
def test_G1_group_composition_identity_inverse_abelian_and_log_coordinates(net, seed):
    """G1: G is an abelian group, g_c . g_c' = g_{c*c'}, identity c = 1, inverse g_{1/c}; in
    log coordinates g_c adds sum_O log(c_O) b_O to log|w|; signs never change."""
    rng = np.random.default_rng(seed)
    g = random_scaling(net.widths, rng, sigma=1.0)
    h = random_scaling(net.widths, rng, low=0.1, high=10)
    gh = g @ h
    for a, b, ab in zip(g.c, h.c, gh.c):
        np.testing.assert_allclose(ab, a * b, rtol=1e-15)
    assert gh.allclose(h @ g)
    # composition of the actions
    two_steps = _flat_params(g.apply(h.apply(net)))
    one_step = _flat_params(gh.apply(net))
    np.testing.assert_allclose(one_step, two_steps, rtol=1e-13)
    # identity and inverse
    e = ScalingGroupElement.identity(net.widths)
    np.testing.assert_array_equal(_flat_params(e.apply(net)), _flat_params(net))
    np.testing.assert_allclose(
        _flat_params(g.inverse().apply(g.apply(net))), _flat_params(net), rtol=1e-13
    )
    assert (g @ g.inverse()).allclose(e)
    # log coordinates: log|g(w)| = log|w| + B^T log c, with biases as extra edges
    B = scaling_vectors(net.widths, bias=net.has_bias)
    before, after = _flat_params(net), _flat_params(g.apply(net))
    nz = before != 0
    np.testing.assert_allclose(
        np.log(np.abs(after[nz])), (np.log(np.abs(before)) + B.T @ g.log_c())[nz], atol=1e-12
    )
    np.testing.assert_array_equal(np.sign(after), np.sign(before))


@given(gst.networks(ARCH), gst.seeds())
def test_G2_network_function_is_invariant(net, seed):
    """G2: N_{g(w)}(x) = N_w(x) for all x (ReLU(cz) = c ReLU(z) for c > 0); with biases, a
    hidden node's bias scales with its in-weights."""
    rng = np.random.default_rng(seed)
    g = random_scaling(net.widths, rng, low=0.1, high=10)
    X = rng.normal(size=(20, net.widths[0]))
    out, out_g = net.forward(X), g.apply(net).forward(X)
    np.testing.assert_allclose(out_g, out, rtol=1e-10, atol=1e-10 * (1 + np.abs(out).max()))


@given(gst.networks(ARCH), gst.seeds())
def test_G3_path_values_are_invariant(net, seed):
    """G3: every path value is invariant, v_p(g(w)) = v_p(w): each hidden node on a path
    contributes c and 1/c (a bias path starts at its node with the bias, which scales by c).
    Independent route: a Python loop over all paths, and gspace.path_values."""
    g = random_scaling(net.widths, np.random.default_rng(seed), low=0.1, high=10)
    np.testing.assert_allclose(
        _brute_path_values(g.apply(net)), _brute_path_values(net), rtol=1e-12
    )
    if net.has_bias:
        paths = gspace.core.paths.enumerate_paths(net.widths, bias=True)
        np.testing.assert_allclose(
            gspace.path_values(g.apply(net), paths), gspace.path_values(net, paths), rtol=1e-12
        )


@given(gst.networks(ARCH), gst.seeds())
def test_G4_activation_statuses_are_invariant(net, seed):
    """G4: activation statuses are invariant: the pre-activation of node O is multiplied by
    c_O > 0."""
    rng = np.random.default_rng(seed)
    g = random_scaling(net.widths, rng, low=0.1, high=10)
    X = rng.normal(size=(20, net.widths[0]))
    gnet = g.apply(net)
    cache, cache_g = net.forward_cache(X), gnet.forward_cache(X)
    for l in range(1, net.L):
        z, zg = cache.z[l], cache_g.z[l]
        # rounding is relative to the size of the summed terms, not of z (cancellation)
        scale = np.abs(cache_g.a[l - 1]) @ np.abs(gnet.weights[l - 1])
        if net.has_bias:
            scale += np.abs(gnet.biases[l - 1])
        tol = 1e-12 * scale
        assert np.all(np.abs(zg - z * g.c[l - 1][None, :]) <= tol)
        clear = np.abs(zg) > tol  # away from rounding-level pre-activations
        np.testing.assert_array_equal((zg > 0)[clear], (z > 0)[clear])


@given(gst.networks(ARCH), st.data())
def test_single_node_operator_scales_in_by_c_and_out_by_inverse(net, data):
    """g_{c,O}: multiply every incoming weight of O by c and every outgoing weight by 1/c."""
    l = data.draw(st.integers(1, net.L - 1))
    j = data.draw(st.integers(0, net.widths[l] - 1))
    c = data.draw(st.floats(0.1, 10))
    new = ScalingGroupElement.single_node(net.widths, l, j, c).apply(net)
    exp_in = net.weights[l - 1].copy()
    exp_in[:, j] *= c
    exp_out = net.weights[l].copy()
    exp_out[j, :] /= c
    np.testing.assert_allclose(new.weights[l - 1], exp_in, rtol=1e-15)
    np.testing.assert_allclose(new.weights[l], exp_out, rtol=1e-15)
    for k in set(range(net.L)) - {l - 1, l}:
        np.testing.assert_array_equal(new.weights[k], net.weights[k])
    if net.has_bias:
        exp_b = net.biases[l - 1].copy()
        exp_b[j] *= c
        np.testing.assert_allclose(new.biases[l - 1], exp_b, rtol=1e-15)
    O = sum(net.widths[1:l]) + j  # hidden nodes numbered layer by layer
    row = scaling_vectors(net.widths)[O]
    edges_in = np.flatnonzero(row == 1)
    assert len(edges_in) == net.widths[l - 1] and np.sum(row == -1) == net.widths[l + 1]


def test_apply_does_not_mutate_and_rejects_other_widths():
    net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    before = _flat_params(net)
    g = random_scaling([3, 4, 2], np.random.default_rng(1))
    g.apply(net)
    np.testing.assert_array_equal(_flat_params(net), before)
    with pytest.raises(ValueError, match="acts on widths"):
        g.apply(gspace.MLP([3, 5, 2], rng=np.random.default_rng(0)))


@given(gst.networks(ARCH))
def test_normalize_skeleton_out_weights_preserves_function_and_sets_sigma_edges_to_one(net):
    """The G transformation making |sigma-edge| = 1 keeps the function (G2) and path values."""
    sk = Skeleton.default(net.widths)
    new, g = normalize_skeleton_out_weights(net, sk)
    for l in range(1, net.L):
        np.testing.assert_allclose(np.abs(new.weights[l][sk.sigma_mask(l)]), 1.0, rtol=1e-12)
        np.testing.assert_array_equal(np.sign(new.weights[l]), np.sign(net.weights[l]))
    np.testing.assert_allclose(_flat_params(g.apply(net)), _flat_params(new), rtol=0)
    X = np.random.default_rng(0).normal(size=(10, net.widths[0]))
    out = net.forward(X)
    np.testing.assert_allclose(new.forward(X), out, rtol=1e-9, atol=1e-9 * (1 + abs(out).max()))


def test_normalize_with_a_custom_skeleton():
    widths = [2, 3, 4, 2]
    sk = Skeleton(
        widths,
        [None, np.array([1, 0, 1]), np.array([2, 2, 0, 1]), None],
        [None, np.array([3, 3, 0]), np.array([1, 1, 0, 0]), None],
    )
    net = gspace.MLP(widths, rng=np.random.default_rng(3))
    new, _ = normalize_skeleton_out_weights(net, sk)
    for l in (1, 2):
        np.testing.assert_allclose(np.abs(new.weights[l][sk.sigma_mask(l)]), 1.0, rtol=1e-12)


@given(gst.networks(ARCH), gst.seeds())
def test_balance_preserves_function_and_minimises_sum_of_squares(net, seed):
    """balance: a G transformation (same function) at which every hidden node has equal
    squared norms in and out, and no other group element has a smaller sum of squares."""
    new, g = balance(net, tol=1e-12)
    X = np.random.default_rng(seed).normal(size=(10, net.widths[0]))
    out = net.forward(X)
    np.testing.assert_allclose(new.forward(X), out, rtol=1e-9, atol=1e-9 * (1 + abs(out).max()))
    np.testing.assert_allclose(_flat_params(g.apply(net)), _flat_params(new), rtol=0)
    for l in range(1, net.L):
        sq_in = np.sum(new.weights[l - 1] ** 2, axis=0)
        if net.has_bias:
            sq_in += new.biases[l - 1] ** 2
        np.testing.assert_allclose(sq_in, np.sum(new.weights[l] ** 2, axis=1), rtol=1e-8)
    total = np.sum(_flat_params(new) ** 2)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        other = random_scaling(net.widths, rng, sigma=0.05).apply(new)
        assert np.sum(_flat_params(other) ** 2) >= total * (1 - 1e-12)


def test_balance_warns_when_not_converged_and_skips_dead_nodes():
    net = gspace.MLP([4, 5, 5, 5, 3], rng=np.random.default_rng(0))
    net = random_scaling(net.widths, np.random.default_rng(1), sigma=3.0).apply(net)
    with pytest.warns(BalanceWarning, match="max_iter=1"):
        balance(net, tol=1e-14, max_iter=1)
    dead = gspace.MLP.from_weights([[[0.0, 1.0]], [[3.0], [2.0]]])
    new, g = balance(dead)
    assert g.c[0][0] == 1.0  # node with all in-weights 0: left unscaled
    np.testing.assert_allclose(new.weights[0][0, 1] ** 2, new.weights[1][1, 0] ** 2)


@pytest.mark.parametrize(
    "c, exc, words",
    [
        ([np.ones(3)], ValueError, r"shape \(4,\)"),
        ([np.ones(4), np.ones(4)], ValueError, "one array per hidden layer"),
        ([np.array([1.0, 0.0, 1.0, 1.0])], ValueError, "positive"),
        ([np.array([1.0, -2.0, 1.0, 1.0])], ValueError, "positive"),
        ([np.array([1.0, np.inf, 1.0, 1.0])], ValueError, "finite"),
        ([np.array(["a", "b", "c", "d"])], TypeError, "real numeric"),
        (np.ones(4), TypeError, "list"),
    ],
)
def test_bad_c_is_refused(c, exc, words):
    with pytest.raises(exc, match=words):
        ScalingGroupElement([3, 4, 2], c)


def test_bad_input_elsewhere():
    with pytest.raises(ValueError, match="> 0"):
        ScalingGroupElement.single_node([3, 4, 2], 1, 0, 0.0)
    with pytest.raises(ValueError, match="hidden layer"):
        ScalingGroupElement.single_node([3, 4, 2], 2, 0, 1.0)
    with pytest.raises(ValueError, match="node must lie"):
        ScalingGroupElement.single_node([3, 4, 2], 1, 4, 1.0)
    with pytest.raises(TypeError, match="Generator"):
        random_scaling([3, 4, 2], 0)
    with pytest.raises(ValueError, match="low <= high"):
        random_scaling([3, 4, 2], np.random.default_rng(0), low=0.0, high=1.0)
    with pytest.raises(ValueError, match="both"):
        random_scaling([3, 4, 2], np.random.default_rng(0), low=1.0)
    with pytest.raises(ValueError, match="sigma"):
        random_scaling([3, 4, 2], np.random.default_rng(0), sigma=-1.0)
    g = random_scaling([3, 4, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match="different widths"):
        g @ random_scaling([3, 5, 2], np.random.default_rng(0))
    net = gspace.MLP.from_weights([np.ones((2, 2)), np.array([[1.0], [0.0]])])
    with pytest.raises(ValueError, match="is 0"):
        normalize_skeleton_out_weights(net)
    with pytest.raises(ValueError, match="differ"):
        normalize_skeleton_out_weights(net, Skeleton.default([2, 3, 1]))
    with pytest.raises(TypeError, match="Skeleton"):
        normalize_skeleton_out_weights(net, skeleton=[0, 1])
    ok = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    a, _ = normalize_skeleton_out_weights(ok, "paper")
    b, _ = normalize_skeleton_out_weights(ok)
    np.testing.assert_array_equal(_flat_params(a), _flat_params(b))
    with pytest.raises(ValueError, match="tol"):
        balance(net, tol=0)
    with pytest.raises(ValueError, match="max_iter"):
        balance(net, max_iter=0)


@pytest.mark.parametrize(
    "log_c, exc, words",
    [
        ([0.0, 0.0], ValueError, r"shape \(3,\)"),
        ([0.0, 1000.0, 0.0], ValueError, "finite positive"),  # exp overflows
        ([0.0, -1000.0, 0.0], ValueError, "finite positive"),  # exp underflows to 0
        ([0.0, np.nan, 0.0], ValueError, "finite"),
        (["a", "b", "c"], TypeError, "real numeric"),
    ],
)
def test_from_log_refuses_bad_log_c(log_c, exc, words):
    with pytest.raises(exc, match=words):
        ScalingGroupElement.from_log([2, 3, 1], log_c)


def test_from_log_round_trips_and_works_without_hidden_layers():
    """exp(log c) is c, layer by layer; with no hidden node G is trivial (c is empty)."""
    g = random_scaling([2, 3, 2, 1], np.random.default_rng(0))
    assert ScalingGroupElement.from_log([2, 3, 2, 1], g.log_c()).allclose(g, rtol=1e-14)
    e = ScalingGroupElement.from_log([2, 3], np.zeros(0))
    assert e.c == [] and e.log_c().shape == (0,)
