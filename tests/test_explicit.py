"""Explicit-matrix G-SGD (teaching route): claim A1 (it equals the O(m) GSGD step), W2 (the
augmented matrix has rank M), sign handling, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace import explicit as ex
from gspace.core.gsgd import basis_path_values, inverse_chain_rule
from gspace.core.network import Gradients
from gspace.testing import rel_error

from . import _gsgd_helpers as H
from . import strategies as gst

small_nets = gst.networks(gst.widths(max_layers=4, max_width=4))


@given(net=small_nets, seed=gst.seeds(), loss=st.sampled_from(["mse", "cross_entropy"]))
def test_A1_explicit_matrix_step_equals_gsgd(net, seed, loss):
    """A1: the O(m) step (sweeps) equals the explicit-matrix step (dense A', exact solve of
    ICR, update, exact solve of WA) to rounding: equal and unequal widths, with and without
    biases."""
    X, Y = gst.batch(net, 8, seed, loss)
    _, grads = net.loss_and_gradients(X, Y, loss)
    lr = 1e-3
    a = ex.explicit_gsgd_step(net, grads, lr)
    b = gspace.GSGD(lr=lr).step(net, grads)
    for x, y in zip(a.weights + (a.biases or []), b.weights + (b.biases or [])):
        assert rel_error(x, y, norm=True) < 1e-9


@given(
    ws_sk=gst.skeletons(gst.widths(min_layers=2, max_layers=4, max_width=4)),
    data=st.data(),
    seed=gst.seeds(),
)
def test_A1_explicit_step_equals_gsgd_for_any_skeleton(ws_sk, data, seed):
    """A1 for the general construction (B4) with in-parents pi and out-children sigma drawn at
    random: the backward sweep of ICR and the forward sweep of WA equal the dense solves, with
    and without biases."""
    widths, sk = ws_sk
    net = data.draw(gst.networks(st.just(widths)))
    X, Y = gst.batch(net, 8, seed, "mse")
    _, grads = net.loss_and_gradients(X, Y)
    lr = 1e-3
    a = ex.explicit_gsgd_step(net, grads, lr, sk)
    b = gspace.GSGD(lr=lr, skeleton=sk).step(net, grads)
    for x, y in zip(a.weights + (a.biases or []), b.weights + (b.biases or [])):
        assert rel_error(x, y, norm=True) < 1e-9


@given(net=small_nets, seed=gst.seeds())
def test_explicit_stages_equal_the_sweeps(net, seed):
    """Each stage separately: values (products over A' columns), ICR (triangular solve), WA
    (log-space solve) agree with the O(m) functions."""
    sk = gspace.Skeleton.default(net.widths)
    X, Y = gst.batch(net, 8, seed, "mse")
    _, grads = net.loss_and_gradients(X, Y)
    v = ex.explicit_basis_path_values(net)
    assert rel_error(v, ex.flatten(basis_path_values(net), sk)) < 1e-12
    dv = ex.explicit_inverse_chain_rule(net, grads)
    dv_sweep = ex.flatten(inverse_chain_rule(net, grads), sk)
    assert rel_error(dv, dv_sweep, norm=True) < 1e-9
    rng = np.random.default_rng(seed)
    v_new = v * rng.uniform(-2.0, 2.0, size=v.shape)  # includes sign flips
    a = ex.explicit_weight_allocation(net, v_new)
    b = H.allocate(net, ex.unflatten(v_new, net))
    for x, y in zip(a.weights + (a.biases or []), b.weights + (b.biases or [])):
        assert rel_error(x, y, norm=True) < 1e-9


@given(widths=gst.widths(max_layers=4, max_width=4), bias=st.booleans())
def test_W2_augmented_matrix_has_full_rank(widths, bias):
    """W2: with the H free weights fixed, r . [B, A'] = (1_H, R) has exactly one solution:
    [B, A'] (M x M) has rank M; A' alone has rank M - H (B1)."""
    A = ex.basis_matrix(widths, bias)
    BA = ex.augmented_matrix(widths, bias)
    M = BA.shape[0]
    Hn = sum(widths[1:-1])
    assert A.shape == (M, M - Hn)
    assert np.linalg.matrix_rank(A) == M - Hn
    assert np.linalg.matrix_rank(BA) == M
    assert round(abs(np.linalg.det(BA))) == 1  # unimodular: the sign system is integral


@given(widths=gst.widths(max_layers=4, max_width=4), bias=st.booleans())
def test_basis_matrix_columns_are_the_chain_paths(widths, bias):
    """Column j of A' marks exactly the edges of the j-th basis path: for a non-sigma edge
    e = (a -> b), in-chain(a) + e + out-chain(b) (built here from Skeleton.in_chain and
    out_chain); for a bias, the bias edge + out-chain(b)."""
    sk = gspace.Skeleton.default(widths)
    L = len(widths) - 1
    offsets = np.cumsum([0] + [a * b for a, b in zip(widths[:-1], widths[1:])])
    m = offsets[-1]
    cols = []
    for l in range(L):
        for a in range(widths[l]):
            for b in range(widths[l + 1]):
                if not sk.sigma_mask(l)[a, b]:
                    path = H.basis_path_of_edge(sk, l, a, b)
                    cols.append({offsets[k] + i * widths[k + 1] + j
                                 for k, i, j in H.all_edges_of_path(path)})  # fmt: skip
    if bias:
        start = m
        for s in range(1, L + 1):
            for b in range(widths[s]):
                chain = sk.out_chain(s, b)
                edges = {start + b}
                edges |= {
                    offsets[s + k] + chain[k] * widths[s + k + 1] + chain[k + 1]
                    for k in range(len(chain) - 1)
                }
                cols.append(edges)
            start += widths[s]
    A = ex.basis_matrix(widths, bias)
    assert A.shape[1] == len(cols)
    for j, edges in enumerate(cols):
        assert set(np.flatnonzero(A[:, j]).tolist()) == edges


@given(ws_sk=gst.skeletons(gst.widths(min_layers=2, max_layers=4, max_width=4)), bias=st.booleans())
def test_augmented_matrix_is_block_triangular_with_unit_diagonal(ws_sk, bias):
    """The structure behind the exact solves: the non-sigma rows of A' form a unit
    upper-triangular square matrix (ICR by back-substitution), and with the sigma rows first
    [B, A'] is [[I_H, *], [0, that matrix]], so its determinant is +-1 (integral signs in WA)."""
    widths, sk = ws_sk
    A = ex.basis_matrix(widths, bias, sk)
    B = ex.free_matrix(widths, bias, sk)
    L = len(widths) - 1
    own = np.concatenate(
        [~sk.sigma_mask(l).ravel() for l in range(L)]
        + ([np.ones(sum(widths[1:]), dtype=bool)] if bias else [])
    )
    A_own = A[own]
    np.testing.assert_array_equal(A_own, np.triu(A_own))
    np.testing.assert_array_equal(np.diag(A_own), 1.0)
    np.testing.assert_array_equal(B[~own], np.eye(B.shape[1]))
    np.testing.assert_array_equal(B[own], 0.0)


def test_paper_example_sign_flip():
    net = gspace.MLP.from_weights([[[2.0, 3.0]], [[4.0], [5.0]]])
    new = ex.explicit_weight_allocation(net, [-16.0, 15.0])
    assert new.weights[0].tolist() == [[-4.0, 3.0]] and new.weights[1].tolist() == [[4.0], [5.0]]


def test_inconsistent_gradients_are_rejected():
    """F = A' u has a solution only if the balance identity holds; made-up gradients fail."""
    net = gspace.MLP([2, 3, 2], rng=np.random.default_rng(0))
    fake = Gradients([np.ones((2, 3)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="balance identity"):
        ex.explicit_inverse_chain_rule(net, fake)


def test_bad_input():
    net = gspace.MLP([2, 3, 2], bias=True, rng=np.random.default_rng(0))  # zero biases
    X, Y = gst.batch(net, 4, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    with pytest.raises(ValueError, match="nonzero"):
        ex.explicit_gsgd_step(net, g, 0.1)
    with pytest.raises(ValueError, match="MAX_PARAMS"):
        ex.basis_matrix([40, 40, 40])
    with pytest.raises(TypeError, match="bias"):
        ex.basis_matrix([2, 3, 2], bias="yes")
    net = gspace.MLP([2, 3, 2], rng=np.random.default_rng(0))
    _, g = net.loss_and_gradients(X, Y)
    with pytest.raises(ValueError, match="> 0"):
        ex.explicit_gsgd_step(net, g, -1.0)
    with pytest.raises(ValueError, match="shape"):
        ex.explicit_weight_allocation(net, np.ones(3))
    v = ex.explicit_basis_path_values(net)
    with pytest.raises(ValueError, match="nonzero"):
        ex.explicit_weight_allocation(net, v * 0)
    with pytest.raises(ValueError, match="shape"):
        ex.unflatten(np.ones(2), net)
    with pytest.raises(TypeError, match="PathArrays"):
        ex.flatten(v, gspace.Skeleton.default(net.widths))
    pa = basis_path_values(net)
    with pytest.raises(TypeError, match="Skeleton"):
        ex.flatten(pa, "default")
    with pytest.raises(ValueError, match="shapes"):
        ex.flatten(pa, gspace.Skeleton.default([2, 4, 2]))
    with pytest.raises(TypeError, match="MLP"):
        ex.unflatten(v, net.weights)
    with pytest.raises(TypeError, match="MLP"):
        ex.explicit_basis_path_values(net.weights)
