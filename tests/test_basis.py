"""Basis paths and G-space (the theory page's section of that name): B1-B4, exponents,
coordinates, bad input."""

import numpy as np
import pytest
import scipy as sp
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace.core.basis import (
    Skeleton,
    basis_path_array,
    basis_paths,
    path_exponents,
    sigma_edge_mask,
    skeleton_method_basis,
    skeleton_paths,
    values_from_basis,
)
from gspace.core.paths import num_params, path_array, path_values, rank_svd, structure_matrix
from gspace.core.scaling import random_scaling
from gspace.explicit import basis_matrix, explicit_basis_path_values, gspace_coordinates

from . import strategies as gst

ARCH = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=6)
EQUAL = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=6, equal_hidden=True)


def _paper_basis_from_the_text(widths):
    """Independent route: the paper's skeleton method as the theory page words it (section
    "Basis paths and G-space")."""
    d, K, L = widths[0], widths[-1], len(widths) - 1
    h = widths[1]

    def skeleton(l, a, b):  # is weights[l][a, b] a skeleton weight?
        if l == 0:
            return a == b % d
        if l == L - 1:
            return b == a % K
        return a == b

    out = {tuple([j % d] + [j] * (L - 1) + [j % K]) for j in range(h)}
    for l in range(L):
        for a in range(widths[l]):
            for b in range(widths[l + 1]):
                if skeleton(l, a, b):
                    continue
                # follow skeleton in-edges back from a, take e, skeleton out-edges from b
                back = [a] if l == 0 else [a % d] + [a] * (l - 1) + [a]
                back = back[: l + 1]
                fwd = [b] * (L - l - 1 + 1)
                if L - l - 1 >= 1:
                    fwd[-1] = b % K
                out.add(tuple(back + fwd))
    return out


@given(EQUAL)
def test_skeleton_method_is_the_papers_construction(widths):
    """Skeleton method (equal hidden widths): the h all-skeleton paths plus one path per
    non-skeleton weight; m - H paths in all."""
    basis = skeleton_method_basis(widths)
    assert set(basis) == _paper_basis_from_the_text(widths)
    assert len(basis) == len(set(basis)) == num_params(widths) - sum(widths[1:-1])
    assert basis == basis_paths(widths)  # the default skeleton is the paper's
    assert set(skeleton_paths(widths)) <= set(basis)


@given(ARCH, st.booleans())
def test_B1_basis_paths_are_independent(widths, bias):
    """B1: the m - H basis paths are linearly independent; with R1 they are a basis of the
    column space of A."""
    Ap = basis_matrix(widths, bias, sparse=True)
    H = sum(widths[1:-1])
    assert Ap.shape == (num_params(widths, bias), num_params(widths, bias) - H)
    assert rank_svd(Ap.astype(float))[0] == Ap.shape[1]
    # every basis column is a column of A (a real path), and together they span A
    paths, A = structure_matrix(widths, bias=bias)
    index = {p: k for k, p in enumerate(paths)}
    cols = [index[p] for p in basis_paths(widths, bias=bias)]
    np.testing.assert_array_equal(A[:, cols].toarray(), Ap.toarray())
    G = (A @ A.T).toarray()  # rank(A) = rank(A A^T): adding A's columns adds no rank
    assert rank_svd(G / np.sqrt(np.outer(np.diag(G), np.diag(G))))[0] == Ap.shape[1]


@given(gst.skeletons(ARCH), st.booleans())
def test_B2_each_non_skeleton_weight_lies_in_exactly_one_basis_path(ws_sk, bias):
    """B2: each non-skeleton weight lies in exactly one basis path (its own); for the general
    construction, every edge that is neither a pi- nor a sigma-edge."""
    widths, sk = ws_sk
    Ap = basis_matrix(widths, bias, sk, sparse=True).toarray()
    in_how_many = Ap.sum(axis=1)
    skel = np.concatenate(
        [(sk.sigma_mask(l) | sk.pi_mask(l)).ravel() for l in range(len(widths) - 1)]
        + ([np.zeros(sum(widths[1:]), bool)] if bias else [])
    )
    np.testing.assert_array_equal(in_how_many[~skel], 1)
    own = np.flatnonzero(~sigma_edge_mask(sk, bias))
    for k, e in enumerate(own):
        if not skel[e]:
            assert Ap[e, k] == 1


@given(gst.skeletons(ARCH), st.booleans(), gst.seeds())
def test_B3_every_path_is_an_integer_combination_of_basis_paths(ws_sk, bias, seed):
    """B3: every path p = sum_j alpha_j p^j with integer alpha_j, so every path value is a
    product of basis-path values raised to integer powers (signs included)."""
    widths, sk = ws_sk
    paths, A = structure_matrix(widths, bias=bias)
    alpha = path_exponents(widths, paths, sk, bias=bias)
    assert alpha.dtype.kind == "i"
    Ap = basis_matrix(widths, bias, sk, sparse=True)
    np.testing.assert_array_equal((Ap @ alpha.T).toarray(), A.toarray().astype(np.int64))
    # independent route: least squares in floating point gives the same alpha (on up to
    # 200 paths spread over the list, to keep the test fast)
    some = np.unique(np.linspace(0, len(paths) - 1, 200).astype(int))
    dense = Ap.toarray().astype(float)
    lsq = np.linalg.lstsq(dense, A[:, some].toarray(), rcond=None)[0]
    np.testing.assert_allclose(lsq, alpha[some].toarray().T, atol=1e-8)
    # rebuild every path value from the basis-path values
    rng = np.random.default_rng(seed)
    ws = [
        rng.uniform(0.2, 2.0, size=(a, b)) * rng.choice([-1.0, 1.0], size=(a, b))
        for a, b in zip(widths[:-1], widths[1:])
    ]
    bs = [rng.uniform(0.2, 1.0, size=b) * rng.choice([-1, 1], size=b) for b in widths[1:]]
    net = gspace.MLP.from_weights(ws, bs if bias else None)
    v_basis = path_values(net, basis_path_array(widths, sk, bias=bias))
    np.testing.assert_allclose(
        values_from_basis(v_basis, alpha), path_values(net, paths), rtol=1e-11
    )


def test_B3_exponent_range_seen():
    """Exponents seen on these small networks lie in -2..1 (an observation, not a theorem)."""
    for widths in ([3, 4, 4, 2], [5, 3, 7, 2, 4], [2, 3, 3, 3, 2]):
        paths = path_array(widths)
        a = path_exponents(widths, paths).toarray()
        assert a.min() >= -2 and a.max() <= 1


@given(gst.skeletons(ARCH), st.booleans())
def test_B4_general_construction_gives_a_basis_for_any_pi_sigma(ws_sk, bias):
    """B4 (beyond the paper): for any widths and any choice of in-parents pi and out-children
    sigma, in-chain(a) + e + out-chain(b) over the non-sigma edges e = (a -> b) gives exactly
    m - H distinct, independent paths."""
    widths, sk = ws_sk
    basis = basis_paths(widths, sk, bias=bias)
    p, H = num_params(widths, bias), sum(widths[1:-1])
    assert len(basis) == len(set(basis)) == p - H
    _, A = structure_matrix(widths, bias=bias)
    Ap = basis_matrix(widths, bias, sk, sparse=True).astype(float)
    assert rank_svd(Ap)[0] == p - H
    # in-chains follow pi, out-chains follow sigma
    offs = gspace.core.paths.edge_offsets(widths)
    for k, e in enumerate(np.flatnonzero(~sigma_edge_mask(sk))):
        l = int(np.searchsorted(offs, e, side="right") - 1)
        a, b = divmod(int(e - offs[l]), widths[l + 1])
        assert list(basis[k][: l + 1]) == sk.in_chain(l, a)
        assert list(basis[k][l + 1 :]) == sk.out_chain(l + 1, b)


@given(gst.networks(ARCH), gst.seeds())
def test_basis_path_values_are_rho_in_w_rho_out_and_G_invariant(net, seed):
    """v_e = rho_in(a) w_e rho_out(b) for e = (a -> b); G-space coordinates are G-invariant."""
    sk = Skeleton.default(net.widths)
    v = explicit_basis_path_values(net)
    k = 0
    for l in range(net.L):
        for a in range(net.widths[l]):
            for b in range(net.widths[l + 1]):
                if sk.sigma_mask(l)[a, b]:
                    continue
                ic, oc = sk.in_chain(l, a), sk.out_chain(l + 1, b)
                rho_in = np.prod([net.weights[q][ic[q], ic[q + 1]] for q in range(l)])
                rho_out = np.prod(
                    [net.weights[l + 1 + q][oc[q], oc[q + 1]] for q in range(len(oc) - 1)]
                )
                np.testing.assert_allclose(v[k], rho_in * net.weights[l][a, b] * rho_out)
                k += 1
    g = random_scaling(net.widths, np.random.default_rng(seed), low=0.1, high=10)
    c0, c1 = gspace_coordinates(net), gspace_coordinates(g.apply(net))
    np.testing.assert_allclose(c1.values, c0.values, rtol=1e-12)
    for s0, s1 in zip(c0.signs, c1.signs):
        np.testing.assert_array_equal(s0, s1)


def test_negative_control_non_G_perturbation_changes_basis_values():
    """Multiplying one weight by 1.5 is not a G element: coordinates change."""
    net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    other = net.copy()
    other.weights[1][2, 3] *= 1.5
    assert not np.allclose(explicit_basis_path_values(net), explicit_basis_path_values(other))


def test_zero_skeleton_weight_where_a_basis_value_is_needed():
    net = gspace.MLP([2, 2, 2], rng=np.random.default_rng(0))
    net.weights[0][0, 0] = 0.0  # pi-edge of node 0: the skeleton path of chain 0 is 0
    paths = path_array(net.widths)
    alpha = path_exponents(net.widths, paths)
    with pytest.raises(ValueError, match="zero skeleton weight"):
        values_from_basis(explicit_basis_path_values(net), alpha)


def test_bad_input():
    with pytest.raises(ValueError, match="general construction"):
        skeleton_method_basis([3, 4, 5, 2])
    with pytest.raises(ValueError, match="general construction"):
        basis_paths([3, 4, 5, 2], skeleton="paper")
    assert len(basis_paths([3, 4, 5, 2])) == 12 + 20 + 10 - 9
    with pytest.raises(ValueError, match="differ"):
        basis_paths([3, 4, 2], Skeleton.default([3, 5, 2]))
    with pytest.raises(ValueError, match="bias=True"):
        path_exponents([2, 2, 2], [(-1, 0, 0)])
    with pytest.raises(TypeError, match="Skeleton"):
        basis_paths([2, 2, 2], skeleton=3)
    with pytest.raises(ValueError, match="shape"):
        values_from_basis(np.ones(3), sp.sparse.csr_array(np.ones((2, 4), dtype=np.int64)))
    with pytest.raises(ValueError, match="integer exponents"):  # not silently truncated
        values_from_basis(np.array([1.0, 2.0]), sp.sparse.csr_array([[0.0, 0.5]]))


@given(gst.skeletons(ARCH), st.booleans(), gst.seeds())
def test_basis_path_values_agree_with_gsgd_module(ws_sk, bias, seed):
    """gspace.core.gsgd computes basis-path values by rho_in * w * rho_out in the weights' layout;
    read in basis order (non-sigma edges row-major, then the biases) they equal the values of
    the listed basis paths."""
    from gspace.core import gsgd

    widths, sk = ws_sk
    net = gspace.MLP(widths, bias=bias, rng=np.random.default_rng(seed))
    if bias:
        net.biases = [np.random.default_rng(seed + 1).normal(size=h) for h in widths[1:]]
    v = gsgd.basis_path_values(net, sk)
    flat = [v.weights[l][~sk.sigma_mask(l)] for l in range(net.L)]
    if bias:
        flat += list(v.biases)
    np.testing.assert_allclose(
        np.concatenate(flat), explicit_basis_path_values(net, sk), rtol=1e-13
    )


def test_skeleton_keeps_read_only_copies_and_compares_by_value():
    """A Skeleton (the pi and sigma of B4) is a value: the caller's arrays can change after
    construction without reaching it, equal skeletons compare equal and hash alike."""
    widths = [3, 4, 4, 2]
    pi = [None, np.array([0, 1, 2, 0]), np.array([0, 1, 2, 3]), None]
    sigma = [None, np.array([0, 1, 2, 3]), np.array([0, 1, 0, 1]), None]
    sk = Skeleton(widths, pi, sigma)
    pi[1][0] = 7  # out of range: must not reach the skeleton
    sigma[2] = np.array([1, 1, 1, 1])
    assert sk.pi[1].tolist() == [0, 1, 2, 0] and sk.sigma[2].tolist() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="read-only"):
        sk.pi[1][0] = 2
    assert sk == Skeleton.default(widths) == Skeleton.paper(widths)
    assert hash(sk) == hash(Skeleton.default(widths))
    assert sk != Skeleton.default([3, 4, 4, 3]) and sk != "default"
    other = Skeleton(widths, [None, np.array([1, 1, 2, 0]), pi[2], None], sk.sigma)
    assert other != sk and len({sk, other, Skeleton.default(widths)}) == 2


@pytest.mark.parametrize(
    "pi1, words",
    [
        (np.array([0, 1, 2]), r"shape \(4,\)"),
        (np.array([0, 1, 2, 3]), r"entries must lie in 0..2"),
        (np.array([0.0, 1.0, 2.0, 0.0]), "integer array"),
    ],
)
def test_skeleton_refuses_bad_pi(pi1, words):
    sigma = [None, np.zeros(4, dtype=int), None]
    with pytest.raises(ValueError, match=words):
        Skeleton([3, 4, 2], [None, pi1, None], sigma)
    with pytest.raises(ValueError, match="must be None"):
        Skeleton([3, 4, 2], [np.zeros(3, dtype=int), np.zeros(4, dtype=int), None], sigma)
