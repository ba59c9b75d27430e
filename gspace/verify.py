"""``gspace verify``: check the claims of the theory page (G1 ... A4) on one architecture.

:func:`verify` runs one check per claim on a network of the given widths and returns a list
of :class:`ClaimResult`. Each result names its route: ``explicit`` (paths listed, matrices
built), ``counting`` (``A A^T`` without listing paths), ``certificate`` (the exact rank
certificate of :mod:`gspace.explicit`), ``sample`` (random paths, when they cannot all be
listed) or ``dynamic programming`` (sums over all paths, layer by layer). The G-SGD claims
(I1-A4) compare :mod:`gspace.core.gsgd` and :mod:`gspace.fast` with the sparse-matrix route
of :mod:`gspace.explicit`, which runs at any size the certificate does.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy as sp

from . import explicit as ex
from . import validation as V
from .core import gsgd
from .core.basis import (
    Skeleton,
    basis_path_array,
    path_exponents,
    sigma_edge_mask,
    skeleton_method_basis,
    values_from_basis,
)
from .core.network import MLP
from .core.optim import SGD, PathSGD
from .core.paths import (
    DEFAULT_PATH_LIMIT,
    count_paths,
    network_from_paths,
    num_params,
    path_array,
    path_values,
    rank_svd,
    structure_matrix,
)
from .core.scaling import ScalingGroupElement, random_scaling, scaling_vectors
from .core.sufficiency import (
    dead_node_counterexample,
    equivalent_by_path_values,
    find_scaling,
    sign_flip_counterexample,
)
from .explicit import explicit_basis_path_values as _v_explicit
from .fast import GSGD
from .testing import away_from_kinks, flat

__all__ = ["ClaimResult", "verify", "run_checks", "twin_runs", "format_table", "report"]
__all__ += ["run_cli", "THEORY_CLAIMS"]

THEORY_CLAIMS = ("G1", "G2", "G3", "G4", "P1", "S1", "R1", "R2", "B1", "B2", "B3", "B4")
"""Claims G1 ... B4 of the theory page, in the order :func:`verify` checks them."""
GSGD_CLAIMS = ("I1", "I2", "W1", "W2", "A1", "A2", "A3", "A4")

SAMPLE_PATHS = 100_000
"""Number of random paths used when all paths cannot be listed."""

DENSE_LIMIT = 1000
"""Largest number of parameters for the dense SVDs of ``A'`` (B1, B4) and ``[B, A']`` (W2);
their cost grows as ``m^3`` (timings: docs, "Read the core", measurements). Above, the exact
certificate answers the question."""


@dataclass(frozen=True)
class ClaimResult:
    """The outcome of checking one claim.

    Attributes
    ----------
    claim : str
        Claim ID of the theory page (``"G1"`` ...).
    checked : str
        What was checked, in words.
    measured : str
        The measured error or count.
    holds : bool
    route : str
        How: ``explicit``, ``counting``, ``certificate``, ``sample``, ``dynamic programming``.
    seconds : float
        Wall-clock time of the check.
    """

    claim: str
    checked: str
    measured: str
    holds: bool
    route: str
    seconds: float = 0.0

    @property
    def detail(self) -> str:
        """One line: what was checked, what was measured, by which route."""
        return f"{self.checked}: {self.measured} [route: {self.route}]"

    def to_dict(self) -> dict:
        """``{"claim", "holds", "detail", "checked", "measured", "route", "seconds"}``."""
        d = asdict(self) | {"detail": self.detail}
        order = ("claim", "holds", "detail", "checked", "measured", "route", "seconds")
        return {k: d[k] for k in order}


def run_checks(checks: dict, progress: bool = False) -> list[ClaimResult]:
    """Run ``checks`` (claim ID -> function returning ``(checked, measured, holds, route)``)
    in order, timing each; a tqdm bar on stderr if ``progress``."""
    from tqdm.auto import tqdm

    out = []
    bar = tqdm(checks.items(), desc="verify", unit="claim", disable=not progress, leave=False)
    for claim, check in bar:
        bar.set_postfix_str(claim)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # the random test network is meant to be He-initialised
            warnings.simplefilter("ignore", V.IllConditionedWarning)
            checked, measured, holds, route = check()
        seconds = round(time.perf_counter() - t0, 3)
        out.append(ClaimResult(claim, checked, measured, bool(holds), route, seconds))
    return out


def twin_runs(net, g, make_opt, X, Y, steps: int = 1):
    """Yield ``(a_t, b_t)``, ``t = 1..steps``: one optimizer each (``make_opt()``) run from
    ``net`` and from ``g(net)`` on the mse loss of ``(X, Y)`` (claims A2-A4)."""
    a, b, opt_a, opt_b = net, g.apply(net), make_opt(), make_opt()
    for _ in range(steps):
        a = opt_a.step(a, a.loss_and_gradients(X, Y, loss="mse")[1])
        b = opt_b.step(b, b.loss_and_gradients(X, Y, loss="mse")[1])
        yield a, b


def nonzero_biases(net, rng):
    """A copy of ``net`` whose biases (if any) are drawn in ``+-[0.1, 0.5]``, so that bias
    paths matter."""
    if net.biases is None:
        return net
    b = [rng.uniform(0.1, 0.5, b.size) * rng.choice([-1.0, 1.0], b.size) for b in net.biases]
    return net.with_params([w.copy() for w in net.weights], b)


# ------------------------------------------------------------------------- the setting
@dataclass
class _Setting:
    widths: list
    bias: bool
    rng: np.random.Generator
    net: MLP
    X: np.ndarray
    g: ScalingGroupElement
    skeleton: Skeleton
    limit: int
    gram_limit: int
    _certificates: dict = field(default_factory=dict)

    def __post_init__(self):
        self.p, self.H = num_params(self.widths, self.bias), sum(self.widths[1:-1])
        self.n_paths = count_paths(self.widths, self.bias)

    def certificate(self, sk: Skeleton | None = None):
        """The exact rank certificate for ``sk`` (default: the setting's), computed once."""
        sk = self.skeleton if sk is None else sk
        if sk not in self._certificates:
            self._certificates[sk] = ex.rank_certificate(self.widths, sk, self.bias)
        return self._certificates[sk]

    @property
    def explicit(self) -> bool:
        return self.n_paths <= self.limit

    @property
    def dense(self) -> bool:
        """Small enough for dense SVDs of ``A'`` and ``[B, A']``."""
        return self.p <= min(self.gram_limit, DENSE_LIMIT)

    def paths(self) -> tuple[np.ndarray, str]:
        """All paths if they can be listed, else a random sample (plus the basis paths)."""
        if self.explicit:
            return path_array(self.widths, self.limit, bias=self.bias), "explicit (all paths)"
        L = len(self.widths) - 1
        P = np.stack([self.rng.integers(0, h, size=SAMPLE_PATHS) for h in self.widths], axis=1)
        if self.bias:  # a share of bias paths, start layer uniform in 1..L
            nb = SAMPLE_PATHS // 10
            start = self.rng.integers(1, L + 1, size=nb)
            P[:nb][np.arange(L + 1)[None, :] < start[:, None]] = -1
        P = np.vstack([P, basis_path_array(self.widths, self.skeleton, self.bias)])
        return P, f"sample ({SAMPLE_PATHS} random paths + the {self.p - self.H} basis paths)"

    def batch(self):
        """Inputs away from ReLU kinks and random mse targets, and the gradients there."""
        Y = np.random.default_rng(1).normal(size=(len(self.X), self.widths[-1]))
        keep = away_from_kinks(self.net, self.X, margin=1e-3)
        X, Y = (self.X[keep], Y[keep]) if keep.any() else (self.X, Y)
        return X, Y, self.net.loss_and_gradients(X, Y)[1]

    def lr(self, grads) -> float:
        """A learning rate that moves every basis-path value by at most 10% (no sign flips)."""
        dv = ex.explicit_inverse_chain_rule(self.net, grads, self.skeleton)
        return float(0.1 / max(1e-300, np.max(np.abs(dv / _v_explicit(self.net, self.skeleton)))))


def _rel(a, b) -> float:
    """Largest elementwise ``|a - b| / max(|a|, |b|)``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-300, np.maximum(np.abs(a), np.abs(b)))))


def _out_err(a, b) -> float:
    """Output difference relative to the output scale."""
    return float(np.max(np.abs(a - b)) / max(1e-300, np.max(np.abs(a))))


# ------------------------------------------------------------------------- G1-G4, P1, S1
def _check_G1(s: _Setting):
    h = random_scaling(s.widths, s.rng, low=0.1, high=10)
    g, net = s.g, s.net
    err_compose = _rel(flat(g.apply(h.apply(net))), flat((g @ h).apply(net)))
    err_abelian = _rel((g @ h).log_c(), (h @ g).log_c()) if s.H else 0.0
    err_inverse = _rel(flat(g.inverse().apply(g.apply(net))), flat(net))
    ident = _rel(flat(ScalingGroupElement.identity(s.widths).apply(net)), flat(net))
    B = scaling_vectors(s.widths, s.bias, sparse=True)
    w0, w1 = flat(net), flat(g.apply(net))
    nz = w0 != 0
    log_err = float(
        np.max(np.abs(np.log(np.abs(w1[nz])) - np.log(np.abs(w0[nz])) - (B.T @ g.log_c())[nz]))
    )
    signs = int(np.sum(np.sign(w0) != np.sign(w1)))
    worst = max(err_compose, err_abelian, err_inverse, ident)
    return (
        "G is an abelian group (g.h = g_{c c'}, identity, inverse); log|g(w)| = log|w| + B^T log c",
        f"max rel. error {worst:.1e}; log-coordinate error {log_err:.1e}; {signs} signs changed",
        worst < 1e-12 and log_err < 1e-12 and signs == 0,
        "explicit",
    )


def _check_G2(s: _Setting):
    err = _out_err(s.net.forward(s.X), s.g.apply(s.net).forward(s.X))
    return (
        f"N_g(w)(x) = N_w(x) on {len(s.X)} inputs, c in [0.1, 10]",
        f"max output difference / max |output| = {err:.1e}",
        err < 1e-10,
        "explicit",
    )


def _check_G3(s: _Setting):
    P, route = s.paths()
    err = _rel(path_values(s.net, P), path_values(s.g.apply(s.net), P))
    return f"v_p(g(w)) = v_p(w) on {len(P)} paths", f"max rel. error {err:.1e}", err < 1e-11, route


def _check_G4(s: _Setting):
    z0, z1 = s.net.forward_cache(s.X).z, s.g.apply(s.net).forward_cache(s.X).z
    mism, total, ratio_err = 0, 0, 0.0
    for l in range(1, len(s.widths) - 1):
        a, b = z0[l], z1[l]
        clear = np.abs(a) > 1e-9 * np.abs(a).max()
        mism += int(np.sum((a > 0)[clear] != (b > 0)[clear]))
        total += int(clear.sum())
        ratio_err = max(ratio_err, _rel(b[clear], (a * s.g.c[l - 1][None, :])[clear]))
    return (
        "activation statuses 1[z_O > 0] unchanged; z_O multiplied by c_O",
        f"{mism} of {total} hidden statuses differ; z ratio rel. error {ratio_err:.1e}",
        mism == 0 and ratio_err < 1e-9,
        "explicit",
    )


def _sum_over_paths_dp(net: MLP, X: np.ndarray) -> np.ndarray:
    """sum_p v_p a_p(x) x_{i_0}, grouped by the node each path visits in each layer."""
    z = net.forward_cache(X).z
    T = X.copy()  # T[n, i]: sum over partial paths ending at node i of v a x_{i_0}
    for l in range(net.L):
        T = T @ net.weights[l]
        if net.has_bias:
            T = T + net.biases[l][None, :]  # bias paths starting at layer l + 1
        if l + 1 < net.L:
            T = T * (z[l + 1] > 0)  # statuses of the nodes of layer l + 1
    return T


def _check_P1(s: _Setting):
    X = s.X[:8]
    if s.explicit and s.n_paths * len(X) <= 2 * 10**7:
        got, route = network_from_paths(s.net, X, limit=s.limit), "explicit (all paths)"
    else:
        got = _sum_over_paths_dp(s.net, X)
        route = "dynamic programming (paths grouped layer by layer, never listed)"
    err = _out_err(s.net.forward(X), got)
    return (
        f"N_w(x)_k = sum over paths to k of v_p a_p x_(i_0) on {len(X)} inputs",
        f"max difference / max |output| = {err:.1e}",
        err < 1e-10,
        route,
    )


def _check_S1(s: _Setting):
    res = equivalent_by_path_values(s.net, s.g.apply(s.net), limit=s.limit, skeleton=s.skeleton)
    c_err = _rel(res.g.log_c(), s.g.log_c()) if res.equivalent and s.H else 0.0
    other = s.net.copy()
    l = int(s.rng.integers(len(s.widths) - 1))
    i, j = (int(s.rng.integers(h)) for h in other.weights[l].shape)
    other.weights[l][i, j] *= 1.5
    neg = equivalent_by_path_values(s.net, other, limit=s.limit, skeleton=s.skeleton)
    counter, counter_ok = "no hidden node", True
    if s.H:
        P, _ = s.paths()
        counter, cases = "", [("sign flip", sign_flip_counterexample)]
        if s.widths[2] >= 2:
            cases.append(("dead node", dead_node_counterexample))
        for name, make in cases:
            a, b = make(s.net, 1, 0)
            same = _rel(path_values(a, P), path_values(b, P)) < 1e-12
            not_g = find_scaling(a, b) is None
            counter += f"; {name}: equal path values {same}, not in G {not_g}"
            counter_ok = counter_ok and same and not_g
        counter = counter[2:]
    return (
        "w' = g(w) iff equal path values (no zeros, equal signs); c recovered; counterexamples",
        f"g(w): equivalent {res.equivalent}, log c error {c_err:.1e}; one weight x1.5: "
        f"equivalent {neg.equivalent}; {counter}",
        res.equivalent and c_err < 1e-8 and not neg.equivalent and counter_ok,
        f"{res.compared}" + (" (basis-path values determine all by B3)" if not s.explicit else ""),
    )


# ------------------------------------------------------------------------- R1, R2, B1-B4
def _check_R1(s: _Setting):
    found, routes = [], []
    if s.explicit and s.n_paths * s.p <= 5 * 10**7:
        for method in ("svd", "qr"):
            r, _, on = ex.explicit_rank(s.widths, method, s.limit, s.bias)
            found.append(r)
            routes.append(f"explicit {method.upper()} of {on}")
    if s.p <= s.gram_limit:
        r, lam = ex.rank_by_counting(s.widths, s.bias)
        found.append(r)
        gap = f" (eigenvalue gap {lam[r - 1] / lam[0]:.1e} vs {lam[r] / lam[0]:.0e})"
        routes.append("counting A A^T" + (gap if r < len(lam) else ""))
    found.append(s.certificate().rank)
    routes.append("exact certificate")
    return (
        f"rank(A) = m - H = {s.p} - {s.H} = {s.p - s.H}",
        "ranks " + ", ".join(str(r) for r in found),
        all(r == s.p - s.H for r in found),
        "; ".join(routes),
    )


def _check_R2(s: _Setting):
    B = scaling_vectors(s.widths, s.bias, sparse=True)
    cert = s.certificate()
    parts, ok = [], cert.b_zero_on_paths and cert.b_independent and cert.holds
    route = "certificate (path-sum DP per b_O, unit-triangular pivots, dim ker = p - rank)"
    if s.explicit and s.n_paths * s.p <= 5 * 10**7:
        _, A = structure_matrix(s.widths, s.limit, s.bias)
        nnz = int(np.count_nonzero((A.T.astype(np.int64) @ B.T).toarray()))
        parts.append(f"A^T B^T has {nnz} non-zero entries")
        ok = ok and nnz == 0
        route = "explicit (A^T b_O = 0 exactly) + " + route
    parts.append(
        f"b_O sum to 0 on every path: {cert.b_zero_on_paths}; independent: {cert.b_independent};"
        f" dim ker(A^T) = {s.p} - {cert.rank} = {s.p - cert.rank if cert.rank else '?'}"
    )
    return (
        f"ker(A^T) = span of the H = {s.H} vectors b_O",
        "; ".join(parts),
        ok and cert.rank is not None and s.p - cert.rank == s.H == B.shape[0],
        route,
    )


def _distinct(P) -> int:
    return len({tuple(r) for r in np.asarray(P).tolist()})


def _check_B1(s: _Setting):
    Ap = ex.basis_matrix(s.widths, s.bias, s.skeleton, sparse=True)
    n_basis = Ap.shape[1]
    distinct = _distinct(basis_path_array(s.widths, s.skeleton, s.bias))
    if s.dense:
        r, route = rank_svd(Ap.astype(float))[0], "explicit SVD of A'"
    else:
        r = n_basis if s.certificate().basis_triangular else -1
        route = "certificate (unit-triangular on the non-sigma edges)"
    return (
        f"the {s.p - s.H} basis paths are independent (a basis, with R1)",
        f"{n_basis} paths, {distinct} distinct, rank {r}",
        n_basis == distinct == r == s.p - s.H,
        route,
    )


def _check_B2(s: _Setting):
    counts = np.asarray(ex.basis_matrix(s.widths, s.bias, s.skeleton, sparse=True).sum(axis=1))
    skel = np.concatenate(
        [
            (s.skeleton.sigma_mask(l) | s.skeleton.pi_mask(l)).ravel()
            for l in range(len(s.widths) - 1)
        ]
        + ([np.zeros(sum(s.widths[1:]), bool)] if s.bias else [])
    )
    bad = int(np.sum(counts.ravel()[~skel] != 1))
    return (
        "each non-skeleton weight lies in exactly one basis path",
        f"{int((~skel).sum())} non-skeleton weights, {bad} in a number of basis paths != 1",
        bad == 0,
        "explicit (A' row sums, O(m L))",
    )


def _check_B3(s: _Setting):
    P, route = s.paths()
    alpha = path_exponents(s.widths, P, s.skeleton, s.bias)
    Ap = ex.basis_matrix(s.widths, s.bias, s.skeleton, sparse=True)
    exact = (Ap @ alpha.T - ex.incidence_matrix(s.widths, P, s.p)).count_nonzero() == 0
    err = _rel(values_from_basis(_v_explicit(s.net, s.skeleton), alpha), path_values(s.net, P))
    lo, hi = (int(alpha.data.min()), int(alpha.data.max())) if alpha.nnz else (0, 0)
    return (
        f"p = sum_j alpha_j p^j with integer alpha (exact), v_p = prod v_j^alpha_j, {len(P)} paths",
        f"integer identity exact: {exact}; exponents in {lo}..{hi}; value rebuild rel. error "
        f"{err:.1e}",
        exact and err < 1e-9,
        route,
    )


def _check_B4(s: _Setting):
    L = len(s.widths) - 1
    pi, sigma = [None] * (L + 1), [None] * (L + 1)
    for l in range(1, L):
        pi[l] = s.rng.integers(0, s.widths[l - 1], size=s.widths[l])
        sigma[l] = s.rng.integers(0, s.widths[l + 1], size=s.widths[l])
    sk = Skeleton(s.widths, pi, sigma)
    P = basis_path_array(s.widths, sk, s.bias)
    distinct, cert = _distinct(P), s.certificate(sk)
    if s.dense:
        r = rank_svd(ex.basis_matrix(s.widths, s.bias, sk, sparse=True).astype(float))[0]
        route = "explicit SVD of A' + certificate"
    else:
        r, route = cert.rank, "certificate"
    paper = ""
    ok = distinct == len(P) == s.p - s.H and r == s.p - s.H and cert.holds
    if len(set(s.widths[1:-1])) <= 1 and L >= 2 and not s.bias:
        same = np.array_equal(
            np.asarray(skeleton_method_basis(s.widths)), basis_path_array(s.widths, None)
        )
        paper = f"; default skeleton = paper's skeleton method: {same}"
        ok = ok and same
    return (
        "general construction, random pi and sigma: m - H distinct independent paths",
        f"{len(P)} paths, {distinct} distinct, rank {r}{paper}",
        ok,
        route,
    )


# ------------------------------------------------------------------------- G-SGD (I1-A4)
# The explicit route of G-SGD is gspace.explicit (sparse A', triangular solves): independent
# of the O(m) sweeps of gspace.core.gsgd and gspace.fast.
def _check_I1(s: _Setting):
    net, (X, Y, grads) = s.net, s.batch()
    dv = ex.flatten(gsgd.inverse_chain_rule(net, grads, s.skeleton), s.skeleton)
    v = _v_explicit(net, s.skeleton)
    k0 = int(s.skeleton.pi[1][0]) * s.widths[1]  # the skeleton path of chain 0
    picks = np.unique(
        np.concatenate([[k0], s.rng.choice(len(v), size=min(5, len(v)), replace=False)])
    )
    h, fd = 1e-5, []
    for k in picks:
        vals = []
        for sgn in (1.0, -1.0):
            v2 = v.copy()
            v2[k] *= 1.0 + sgn * h
            vals.append(ex.explicit_weight_allocation(net, v2, s.skeleton).loss(X, Y))
        fd.append((vals[0] - vals[1]) / (2 * h * v[k]))
    fd = np.array(fd)
    err = float(
        np.linalg.norm(fd - dv[picks]) / max(1e-300, np.linalg.norm(fd) + np.linalg.norm(dv[picks]))
    )
    return (
        f"dl/dv by ICR (gspace.core.gsgd) = centred finite differences in path space on "
        f"{len(picks)} basis paths (incl. a skeleton path), mse loss, {len(X)} samples",
        f"relative error {err:.1e}",
        err < 1e-5,
        "explicit (v perturbed, weights from a sparse Weight-Allocation solve)",
    )


def _check_I2(s: _Setting):
    _, _, grads = s.batch()
    worst, scale = 0.0, 0.0
    for l in range(1, len(s.widths) - 1):
        f_in = np.sum(s.net.weights[l - 1] * grads.weights[l - 1], axis=0)
        if s.bias:
            f_in = f_in + s.net.biases[l - 1] * grads.biases[l - 1]
        f_out = np.sum(s.net.weights[l] * grads.weights[l], axis=1)
        worst = max(worst, float(np.max(np.abs(f_in - f_out))))
        scale = max(scale, float(np.max(np.abs(f_in))))
    rel = worst / max(scale, 1e-300)
    return (
        "balance identity: at every hidden node, sum of w dl/dw over in-edges = over out-edges",
        f"max |in - out| / max |in| = {rel:.1e}",
        rel < 1e-10,
        "explicit (back-propagated gradients)",
    )


def _check_W1(s: _Setting):
    sk, (_, _, grads) = s.skeleton, s.batch()
    v = gsgd.basis_path_values(s.net, sk)
    v_new = gsgd.update_path_values(v, gsgd.inverse_chain_rule(s.net, grads, sk), s.lr(grads))
    new = gsgd.weight_allocation(s.net, gsgd.path_ratios(v, v_new), v_new, sk)
    err = _rel(_v_explicit(new, sk), ex.flatten(v_new, sk))
    sig = max(
        _rel(new.weights[l][sk.sigma_mask(l)], s.net.weights[l][sk.sigma_mask(l)])
        for l in range(len(s.widths) - 1)
    )
    return (
        "after Weight-Allocation (gspace.core.gsgd) every basis-path value equals v - lr dl/dv",
        f"max rel. error {err:.1e}; sigma-edges changed by {sig:.1e}",
        err < 1e-10 and sig == 0,
        "explicit (basis-path values of the new weights, listed paths)",
    )


def _check_W2(s: _Setting):
    Ap = ex.basis_matrix(s.widths, s.bias, s.skeleton, sparse=True)
    sigma_rows = np.flatnonzero(sigma_edge_mask(s.skeleton, s.bias))
    S = sp.sparse.csc_array(
        (np.ones(len(sigma_rows), dtype=np.int64), (sigma_rows, np.arange(len(sigma_rows)))),
        shape=(s.p, len(sigma_rows)),
    )
    M = sp.sparse.hstack([S, Ap]).tocsc()
    if s.dense:
        r = rank_svd(M.astype(float))[0]
        route = "explicit SVD of [B, A'] (B: unit columns of the sigma-edges)"
    else:
        r = s.p if s.certificate().basis_triangular else -1
        route = "certificate: det [B, A'] = +-det(A' on non-sigma rows) = +-1 (unit triangular)"
    return (
        f"the Weight-Allocation matrix [B, A'] ({s.p} x {M.shape[1]}) has rank m = {s.p}",
        f"rank {r}",
        r == s.p == M.shape[1],
        route,
    )


def _check_A1(s: _Setting):
    net, (_, _, grads) = s.net, s.batch()
    lr = s.lr(grads)
    slow = ex.explicit_gsgd_step(net, grads, lr, s.skeleton)  # raises if ICR is inconsistent
    err = _rel(flat(GSGD(lr=lr, skeleton=s.skeleton).step(net, grads)), flat(slow))
    err_core = _rel(flat(gsgd.gsgd_step(net, grads, lr, s.skeleton)), flat(slow))
    return (
        "the O(m) G-SGD step (gspace.GSGD and gspace.core.gsgd.gsgd_step) equals the "
        "explicit-matrix step",
        f"max rel. weight difference {err:.1e} (fast), {err_core:.1e} (core); the ICR system "
        f"is consistent",
        err < 1e-9 and err_core < 1e-9,
        "explicit sparse matrices (gspace.explicit: A', triangular solves)",
    )


def _check_A2(s: _Setting):
    X, Y, grads = s.batch()
    lr, f_err, v_err, steps = s.lr(grads), 0.0, 0.0, 3
    for a, b in twin_runs(s.net, s.g, lambda: GSGD(lr=lr, skeleton=s.skeleton), X, Y, steps):
        f_err = max(f_err, _out_err(a.forward(s.X), b.forward(s.X)))
        v_err = max(v_err, _rel(_v_explicit(a, s.skeleton), _v_explicit(b, s.skeleton)))
    return (
        f"G-SGD from w and g(w), {steps} steps: same function and path values at every step",
        f"max output difference {f_err:.1e}; basis-path values rel. difference {v_err:.1e}",
        f_err < 1e-8 and v_err < 1e-8,
        "explicit",
    )


def _check_A3(s: _Setting):
    X, Y, _ = s.batch()
    (a, b), lr = next(twin_runs(s.net, s.g, lambda: SGD(lr=0.1), X, Y)), 0.1
    diff = _out_err(a.forward(s.X), b.forward(s.X))
    return (
        "negative control: plain SGD from w and g(w) gives different functions after a step",
        f"output difference / max |output| after one step (lr {lr}) = {diff:.1e}",
        diff > 1e-6,
        "explicit",
    )


def _check_A4(s: _Setting):
    X, Y, _ = s.batch()
    a, b = next(twin_runs(s.net, s.g, lambda: PathSGD(lr=0.01), X, Y))
    err = _rel(flat(s.g.apply(a)), flat(b))
    return (
        "Path-SGD is G-equivariant: one step from g(w) equals g(one step from w)",
        f"max rel. weight difference {err:.1e}",
        err < 1e-10,
        "explicit",
    )


_CHECKS = {c: globals()[f"_check_{c}"] for c in THEORY_CLAIMS + GSGD_CLAIMS}
"""Claim ID -> its check, a function of the setting returning (checked, measured, holds,
route)."""


# ------------------------------------------------------------------------- entry points
def verify(
    widths,
    bias: bool = False,
    seed: int = 0,
    limit: int = DEFAULT_PATH_LIMIT,
    gram_limit: int = 3000,
    claims=None,
    progress: bool = False,
) -> list[ClaimResult]:
    """Check the claims of the theory page on one architecture.

    Parameters
    ----------
    widths : sequence of int
        ``[d, h_1, ..., K]``.
    bias : bool, default False
        Networks with biases (non-zero, so that bias paths matter).
    seed : int, default 0
        Seeds the network, the inputs and the group elements.
    limit : int, default 10**6
        Largest number of paths listed by the explicit route; above, a random sample of
        paths or a scalable route is used (and reported).
    gram_limit : int, default 3000
        Largest number of parameters for which ``A A^T`` (counting route) and dense basis
        matrices are built.
    claims : sequence of str, optional
        Subset of claim IDs; default all.
    progress : bool, default False
        A tqdm progress bar over the claims on stderr.

    Returns
    -------
    list of ClaimResult

    Raises
    ------
    TypeError
        If ``claims`` is a single string instead of a sequence of IDs.
    ValueError
        For bad widths, an unknown claim ID, fewer than 2 weight layers (there is no hidden
        node, hence no group and no skeleton), or ``limit`` or ``gram_limit`` not an integer
        >= 1.

    Examples
    --------
    >>> results = verify([3, 4, 4, 2], claims=["G2", "R1"])
    >>> [(r.claim, r.holds) for r in results]
    [('G2', True), ('R1', True)]
    """
    widths, claims = V.verify_args(widths, claims, list(_CHECKS), limit, gram_limit)
    rng = np.random.default_rng(seed)
    net = nonzero_biases(MLP(widths, bias=bias, rng=rng), rng)
    X, g = rng.normal(size=(16, widths[0])), random_scaling(widths, rng, low=0.1, high=10)
    s = _Setting(widths, bias, rng, net, X, g, Skeleton.default(widths), limit, gram_limit)
    return run_checks({c: (lambda c=c: _CHECKS[c](s)) for c in claims}, progress)


def format_table(results, header: str = "") -> str:
    """A readable table: claim, holds, what was checked, measured, route, seconds.

    Examples
    --------
    >>> print(format_table([ClaimResult("R1", "rank", "28", True, "explicit", 0.01)]))
    claim  holds  seconds  checked / measured / route
    R1     yes       0.01  rank
                           measured: 28
                           route:    explicit
    all 1 claims hold
    """
    lines = [header] if header else []
    lines.append("claim  holds  seconds  checked / measured / route")
    for r in results:
        lines.append(f"{r.claim:<6} {'yes' if r.holds else 'NO':<6} {r.seconds:>7.2f}  {r.checked}")
        lines.append(f"{'':<23}measured: {r.measured}")
        lines.append(f"{'':<23}route:    {r.route}")
    failed = [r.claim for r in results if not r.holds]
    lines.append(
        f"all {len(results)} claims hold" if not failed else f"FAILED: {', '.join(failed)}"
    )
    return "\n".join(lines)


def run_cli(args) -> int:
    """Body of ``gspace verify``: print a table or JSON; return 0 iff every claim holds.

    ``args``: ``widths``, ``bias``, ``json``, optional ``seed`` and ``no_progress`` (by default
    a progress bar shows on a terminal).

    Examples
    --------
    >>> import argparse
    >>> args = argparse.Namespace(widths=[2, 2, 1], bias=False, json=False, seed=0)
    >>> run_cli(args)  # doctest: +ELLIPSIS
    gspace verify: widths [2, 2, 1], no biases, seed 0: ...
    ...
    all 20 claims hold
    0
    """
    widths = list(args.widths)
    bias = bool(getattr(args, "bias", False))
    seed = int(getattr(args, "seed", 0) or 0)
    progress = not getattr(args, "no_progress", False) and sys.stderr.isatty()
    t0 = time.perf_counter()
    results = verify(widths, bias=bias, seed=seed, progress=progress)
    header = (
        f"gspace verify: widths {widths}, {'with' if bias else 'no'} biases, seed {seed}: "
        f"m = {num_params(widths, bias)} parameters, H = {sum(widths[1:-1])} hidden nodes, "
        f"{count_paths(widths, bias):,} paths ({time.perf_counter() - t0:.1f} s)"
    )
    return report(results, header, getattr(args, "json", False))


def report(results, header: str, as_json: bool) -> int:
    """Print ``results`` as JSON or as a table under ``header``; 0 iff every claim holds."""
    if as_json:
        print(json.dumps([r.to_dict() for r in results], indent=1))
    else:
        print(format_table(results, header))
    return 0 if all(r.holds for r in results) else 1
