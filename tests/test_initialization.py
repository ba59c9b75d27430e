"""He and skeleton-unit initialization."""

import numpy as np
import pytest
from hypothesis import given

import gspace
from gspace.initialization import DEFAULT_INIT, INITS, initialize, skeleton_unit

from . import strategies as gst


def paper_skeleton_edges(widths):
    """The paper's skeleton weights (Skeleton method), written out from its description."""
    d, K = widths[0], widths[-1]
    L = len(widths) - 1
    h = widths[1]
    edges = set()
    for j in range(h):
        edges.add((0, j % d, j))  # input (j mod d) -> hidden j
        for l in range(1, L - 1):
            edges.add((l, j, j))  # hidden j -> hidden j
        edges.add((L - 1, j, j % K))  # hidden j -> output (j mod K)
    return edges


def test_skeleton_unit_sets_exactly_the_papers_skeleton_weights_for_equal_widths():
    widths = [3, 5, 5, 5, 2]
    net = gspace.MLP(widths, bias=True, rng=np.random.default_rng(1))
    before = [w.copy() for w in net.weights]
    new = skeleton_unit(net)
    skel = paper_skeleton_edges(widths)
    for l, (w_old, w_new) in enumerate(zip(net.weights, new.weights)):
        for i in range(w_old.shape[0]):
            for j in range(w_old.shape[1]):
                expected = 1.0 if (l, i, j) in skel else w_old[i, j]
                assert w_new[i, j] == expected
        np.testing.assert_array_equal(w_old, before[l])  # input untouched
    for b_old, b_new in zip(net.biases, new.biases):
        np.testing.assert_array_equal(b_old, b_new)
        assert b_old is not b_new


def test_skeleton_unit_skeleton_paths_have_value_one():
    net = skeleton_unit(gspace.MLP([4, 6, 6, 6, 3], rng=np.random.default_rng(0)))
    for j in range(6):
        path = (j % 4, j, j, j, j % 3)
        v = np.prod([net.weights[l][path[l], path[l + 1]] for l in range(4)])
        assert v == 1.0


@given(gst.networks(bias=False))
def test_skeleton_unit_sets_every_pi_and_sigma_edge_for_any_widths(net):
    sk = gspace.Skeleton.default(net.widths)
    new = skeleton_unit(net, sk)
    expected = [w.copy() for w in net.weights]
    for l in range(1, net.L):  # hidden layer l
        for j in range(net.widths[l]):
            expected[l - 1][sk.pi[l][j], j] = 1.0  # its pi in-edge
            expected[l][j, sk.sigma[l][j]] = 1.0  # its sigma out-edge
    for a, b in zip(new.weights, expected):
        np.testing.assert_array_equal(a, b)


def test_skeleton_unit_changes_the_function_so_it_is_not_a_g_transformation():
    net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(5, 3))
    assert not np.allclose(net.forward(X), skeleton_unit(net).forward(X))


def test_initialize_he_and_skeleton_unit():
    he = initialize([3, 4, 2], init="he", rng=np.random.default_rng(5))
    ref = gspace.MLP([3, 4, 2], rng=np.random.default_rng(5))
    for a, b in zip(he.weights, ref.weights):
        np.testing.assert_array_equal(a, b)
    su = initialize([3, 4, 2], init="skeleton-unit", bias=True, rng=np.random.default_rng(5))
    for a, b in zip(su.weights, skeleton_unit(ref).weights):
        np.testing.assert_array_equal(a, b)
    assert su.has_bias and DEFAULT_INIT in INITS


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: initialize([3, 2], init="xavier"), ValueError, "he, skeleton-unit"),
        (lambda: initialize([3]), ValueError, "at least 2"),
        (lambda: initialize([3, 0, 2]), ValueError, ">= 1"),
        (lambda: initialize([3, 2], rng=0), TypeError, "Generator"),
        (lambda: skeleton_unit([np.eye(2)]), TypeError, "MLP"),
        (lambda: skeleton_unit(gspace.MLP([2, 2, 2]), "paper"), TypeError, "Skeleton"),
        (
            lambda: skeleton_unit(gspace.MLP([2, 2, 2]), gspace.Skeleton.default([2, 3, 2])),
            ValueError,
            "widths",
        ),
    ],
)
def test_initialization_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_balance_and_enorm_sweep_of_a_chain_by_hand():
    """Weights 4 then 0.25: the node's factor is (0.25^2 / 4^2)^(1/4) = 1/4, both become 1."""
    net = gspace.MLP.from_weights([[[4.0]], [[0.25]]])
    new, g = gspace.balance(net)
    assert [w.item() for w in new.weights] == pytest.approx([1.0, 1.0], rel=1e-12)
    assert g.c[0][0] == pytest.approx(0.25, rel=1e-12)
    assert [w.item() for w in gspace.baselines.enorm_sweep(net).weights] == [1.0, 1.0]
