"""The structure matrix and its rank (the theory page's section of that name): R1, R2 by every
route."""

import math

import numpy as np
import pytest
import scipy as sp
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace.core.paths import num_params, path_array, path_values, rank_svd, structure_matrix
from gspace.core.scaling import scaling_vectors
from gspace.explicit import (
    explicit_rank,
    gram_by_counting,
    path_sum_range,
    rank_by_counting,
    rank_certificate,
    rank_qr,
)

from . import strategies as gst

ARCH = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=6)


@given(ARCH, st.booleans())
def test_structure_matrix_columns_mark_path_edges(widths, bias):
    """A = [p_1, ..., p_n] is m x n, 0/1, with exactly L ones per (weight) path column."""
    paths, A = gspace.structure_matrix(widths, bias=bias)
    L = len(widths) - 1
    assert sp.sparse.issparse(A)
    assert A.shape == (num_params(widths, bias), len(paths))
    D = A.toarray()
    assert set(np.unique(D)) <= {0.0, 1.0}
    n = math.prod(widths)
    np.testing.assert_array_equal(D[:, :n].sum(axis=0), L)
    # independent route: the edge of layer l of path (i_0, ..., i_L) is
    # sum_{k<l} h_k h_{k+1} + i_l h_{l+1} + i_{l+1}
    for k in range(0, n, max(1, n // 7)):
        p = paths[k]
        rows = [
            sum(widths[q] * widths[q + 1] for q in range(l)) + p[l] * widths[l + 1] + p[l + 1]
            for l in range(L)
        ]
        assert sorted(np.flatnonzero(D[:, k]).tolist()) == rows


@given(gst.networks(ARCH))
def test_log_path_values_are_A_transpose_log_weights(net):
    """In logs: log|v| = A^T log|w| (biases as extra edges)."""
    paths, A = structure_matrix(net.widths, bias=net.has_bias)
    params = np.concatenate([w.ravel() for w in net.weights] + list(net.biases or []))
    with np.errstate(divide="ignore"):
        expected = A.T @ np.log(np.abs(params))
    got = np.log(np.abs(path_values(net, paths)))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], atol=1e-12)


@given(ARCH, st.booleans())
def test_R1_rank_is_m_minus_H_by_every_route(widths, bias):
    """R1: rank(A) = m - H for every layered network with widths >= 1, equal or not (with
    biases, m counts the biases too). Routes: SVD, pivoted QR, A A^T by counting, and the
    exact certificate."""
    H = sum(widths[1:-1])
    expected = num_params(widths, bias) - H
    assert explicit_rank(widths, "svd", bias=bias)[0] == expected
    assert explicit_rank(widths, "qr", bias=bias)[0] == expected
    assert rank_by_counting(widths, bias=bias)[0] == expected
    cert = rank_certificate(widths, bias=bias)
    assert cert.holds and cert.rank == expected


@given(gst.skeletons(ARCH), st.booleans())
def test_R1_certificate_holds_for_any_skeleton(ws_sk, bias):
    """R1 by the exact certificate with any in-parents pi and out-children sigma (B4): the
    pivots and the triangular basis work for every choice, and the rank agrees with the SVD."""
    widths, sk = ws_sk
    cert = rank_certificate(widths, sk, bias=bias)
    assert cert.b_zero_on_paths and cert.b_independent and cert.basis_triangular
    assert cert.rank == explicit_rank(widths, "svd", bias=bias)[0]


def test_certificate_negative_control_a_repeated_basis_path_is_caught(monkeypatch):
    """The certificate can fail: with one basis path replaced by a copy of another, the
    triangular check finds the path without its own edge and no rank is claimed."""
    import gspace.explicit

    real = gspace.core.basis.basis_path_array

    def broken(*args, **kwargs):
        P = real(*args, **kwargs).copy()
        P[-1] = P[0]
        return P

    monkeypatch.setattr(gspace.explicit, "basis_path_array", broken)
    cert = rank_certificate([3, 4, 4, 2])
    assert cert.b_zero_on_paths and cert.b_independent
    assert not cert.basis_triangular and not cert.holds and cert.rank is None


def test_R1_scalable_route_on_more_than_1e12_paths():
    """R1 on 10**13 paths (never listed): counting route and exact certificate."""
    widths = [10] * 13
    assert gspace.core.paths.count_paths(widths) > 10**12
    m, H = num_params(widths), sum(widths[1:-1])
    rank, lam = rank_by_counting(widths)
    assert rank == m - H
    assert lam[rank] < 1e-12 * lam[0] < lam[rank - 1]  # a clear gap, not a borderline call
    assert rank_certificate(widths).rank == m - H


@given(ARCH, st.booleans())
def test_gram_by_counting_equals_A_At_exactly(widths, bias):
    """(A A^T)_{ef} = number of paths through both e and f, counted without listing paths."""
    _, A = structure_matrix(widths, bias=bias)
    G = gram_by_counting(widths, bias=bias, exact=True)
    np.testing.assert_array_equal(G.astype(np.int64), (A @ A.T).toarray().astype(np.int64))
    Gf = gram_by_counting(widths, bias=bias)
    d = 1.0 / np.sqrt(np.diag(Gf))
    np.testing.assert_allclose(
        gram_by_counting(widths, bias=bias, scaled=True), Gf * d[:, None] * d[None, :], atol=1e-15
    )


def test_counts_beyond_int64_stay_exact_and_the_scaled_rank_is_right():
    """2**70 paths: counts exceed 2**63, kept as exact Python ints; the rescaled matrix has
    entries in [0, 1] and the right rank."""
    widths = [2] * 71
    G = gram_by_counting(widths, exact=True)
    assert max(G.ravel()) > 2**63
    assert G[0, 0] == 2**69  # the first edge: 1 * N_out(1) = 2^69 paths
    S = gram_by_counting(widths, scaled=True)
    assert np.all(np.isfinite(S)) and S.max() <= 1.0 + 1e-15
    assert rank_by_counting(widths)[0] == num_params(widths) - sum(widths[1:-1])


@given(ARCH, st.booleans())
def test_R2_kernel_of_A_transpose_is_span_of_b(widths, bias):
    """R2: ker(A^T) = span{b_O : O hidden}, of dimension H (the b_O are independent)."""
    _, A = structure_matrix(widths, bias=bias)
    B = scaling_vectors(widths, bias, sparse=True)
    H = sum(widths[1:-1])
    assert B.shape[0] == H
    # every b_O is in ker(A^T), exactly (integers)
    assert not np.any((A.T.astype(np.int64) @ B.T).toarray())
    np.testing.assert_array_equal(B.toarray(), scaling_vectors(widths, bias=bias))
    # the kernel from the SVD has dimension H and B's rows span it
    # ker(A^T) = ker(A A^T): eigenvectors of the (m x m) Gram matrix with eigenvalue ~0
    lam, V = np.linalg.eigh((A @ A.T).toarray())
    kernel = V[:, lam < 1e-9 * lam.max()]
    assert kernel.shape[1] == H
    if H:
        Bd = B.toarray().astype(float)
        assert np.linalg.matrix_rank(Bd) == H
        coef = np.linalg.lstsq(Bd.T, kernel, rcond=None)[0]
        np.testing.assert_allclose(Bd.T @ coef, kernel, atol=1e-10)


@given(ARCH, st.booleans(), gst.seeds())
def test_path_sum_range_equals_brute_force(widths, bias, seed):
    """The DP over largest and smallest path sums equals the min/max over listed paths."""
    rng = np.random.default_rng(seed)
    u = rng.integers(-3, 4, size=num_params(widths, bias))
    _, A = structure_matrix(widths, bias=bias)
    sums = A.T.astype(np.int64) @ u
    assert path_sum_range(widths, u, bias=bias) == (int(sums.min()), int(sums.max()))


def test_certificate_negative_control_vector_outside_kernel():
    """A perturbed b_O (not in ker A^T) gets a non-zero path-sum range."""
    widths = [3, 4, 4, 2]
    b = scaling_vectors(widths, sparse=True).toarray()[0].copy()
    assert path_sum_range(widths, b) == (0, 0)
    b[-1] += 1
    assert path_sum_range(widths, b) != (0, 0)


def test_certificate_on_the_authors_mlp():
    """784-64x4-10 (1.3e11 paths): rank(A) = m - H exactly."""
    cert = rank_certificate([784, 64, 64, 64, 64, 10])
    assert cert.b_zero_on_paths and cert.b_independent and cert.basis_triangular
    assert cert.rank == 63104 - 256


def test_rank_helpers_and_bad_input():
    M = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 0.0]])
    assert rank_svd(M)[0] == rank_qr(M)[0] == 2
    with pytest.raises(ValueError, match="svd' or 'qr"):
        explicit_rank([2, 2], method="lu")
    with pytest.raises(ValueError, match="scalable route"):
        structure_matrix([784, 64, 64, 64, 64, 10])
    with pytest.raises(ValueError, match="shape"):
        path_sum_range([2, 2], np.zeros(5))
    with pytest.raises(TypeError, match="real numeric"):
        path_sum_range([2, 2], np.array(["a"] * 4))
    with pytest.raises(ValueError, match="not both"):
        gram_by_counting([2, 2], exact=True, scaled=True)
    with pytest.raises(TypeError, match="Skeleton"):
        rank_certificate([2, 3, 2], skeleton=3)
    with pytest.raises(ValueError, match="differ"):
        rank_certificate([2, 3, 2], skeleton=gspace.Skeleton.default([2, 4, 2]))
    with pytest.raises(ValueError, match="general construction"):
        rank_certificate([2, 3, 4, 2], skeleton="paper")
    assert rank_certificate([2, 3, 3, 2], skeleton="paper").rank == 21 - 6
    assert path_array([1, 1]).shape == (1, 2)
