"""``gspace verify``: check the claims of the theory page (G1 ... A4) on one architecture,
each by a named route (:ref:`independent-routes`) that does not call the code it checks."""

import functools
import json
import sys
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from . import explicit as ex
from . import validation as V
from .core import basis, gsgd, paths, sufficiency
from .core.network import MLP
from .core.optim import SGD, PathSGD
from .core.scaling import ScalingGroupElement, random_scaling, scaling_vectors
from .explicit import explicit_basis_path_values as _v
from .fast import GSGD
from .testing import away_from_kinks, flat, numerical_gradient, rel_error

__all__ = ["CLAIMS", "ClaimResult", "verify", "run_checks", "twin_runs", "format_table"]
__all__ += ["report", "run_cli", "nonzero_biases", "fd_path_gradient"]

#: The claim IDs in the order of the theory page's claim table.
CLAIMS = "G1 G2 G3 G4 P1 S1 R1 R2 B1 B2 B3 B4 I1 I2 W1 W2 A1 A2 A3 A4".split()
#: Number of random paths used when all paths cannot be listed.
SAMPLE_PATHS = 100_000
#: Most parameters for dense SVDs of ``A'`` (B1, B4) and ``[B, A']`` (W2); above, the certificate.
DENSE_LIMIT = 1000


@dataclass(frozen=True)
class ClaimResult:
    """One checked claim: what, the measured error or count, whether it holds, route, seconds."""

    claim: str
    checked: str
    measured: str
    holds: bool
    route: str
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """``{"claim", "holds", "detail": "checked: measured [route: route]", ...the rest}``."""
        detail = f"{self.checked}: {self.measured} [route: {self.route}]"
        return {"claim": self.claim, "holds": self.holds, "detail": detail, **asdict(self)}


def run_checks(checks: dict, progress: bool = False) -> list[ClaimResult]:
    """Run and time ``checks``: claim ID -> ``(checked, f, route)``, where ``f()`` returns
    ``(measured, holds)`` or ``(measured, holds, route)`` (a route of its own)."""
    from tqdm.auto import tqdm

    out = []
    bar = tqdm(checks.items(), desc="verify", unit="claim", disable=not progress, leave=False)
    for claim, (checked, f, route) in bar:
        bar.set_postfix_str(claim)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # the random test network is meant to be He-initialised
            warnings.simplefilter("ignore", V.IllConditionedWarning)
            measured, holds, *own = f()
        seconds, route = round(time.perf_counter() - t0, 3), own[0] if own else route
        out.append(ClaimResult(claim, checked, measured, bool(holds), route, seconds))
    return out


def twin_runs(net, g, make_opt, X, Y, steps: int = 1):
    """Yield ``(a_t, b_t)``: one ``make_opt()`` each, stepping ``net`` and ``g(net)`` (A2-A4)."""
    a, b, opt_a, opt_b = net, g.apply(net), make_opt(), make_opt()
    for _ in range(steps):
        a = opt_a.step(a, a.loss_and_gradients(X, Y, loss="mse")[1])
        b = opt_b.step(b, b.loss_and_gradients(X, Y, loss="mse")[1])
        yield a, b


def nonzero_biases(net, rng):
    """A copy of ``net`` with biases (if any) drawn in ``+-[0.1, 0.5]``: bias paths matter."""
    if net.biases is None:
        return net
    b = [rng.uniform(0.1, 0.5, b.size) * rng.choice([-1.0, 1.0], b.size) for b in net.biases]
    return net.with_params([w.copy() for w in net.weights], b)


def fd_path_gradient(loss, v, first: int, rng, h: float):
    """``(picks, dl/dv[picks])`` by centred differences of ``loss(v')`` with relative steps
    ``v'_k = v_k (1 +- h)``, on basis path ``first`` and up to 5 random ones (claim I1)."""
    picks = np.union1d([first], rng.choice(len(v), size=min(5, len(v)), replace=False))

    def at(t):  # the basis-path values with v[picks] scaled by 1 + t
        return loss(v * (1.0 + np.bincount(picks, weights=t, minlength=len(v))))

    return picks, numerical_gradient(at, np.zeros(len(picks)), h) / v[picks]


def _rel(a, b) -> float:  # largest elementwise |a - b| / max(|a|, |b|) (0 for empty arrays)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(1e-300, np.maximum(np.abs(a), np.abs(b)))
    return float(np.max(np.abs(a - b) / scale, initial=0.0))


def _out_err(a, b) -> float:  # output difference relative to the output scale
    return float(np.max(np.abs(a - b)) / max(1e-300, np.max(np.abs(a))))


def verify(
    widths,
    bias: bool = False,
    seed: int = 0,
    limit: int = paths.DEFAULT_PATH_LIMIT,
    gram_limit: int = 3000,
    claims=None,
    progress: bool = False,
) -> list[ClaimResult]:
    """Check ``claims`` (default all) on a random network of ``widths`` seeded by ``seed``, by the
    routes ``limit`` and ``gram_limit`` allow (:ref:`independent-routes`). TypeError for a string
    ``claims``; ValueError for bad widths, no hidden layer, unknown claims, a limit < 1."""
    widths, claims = V.verify_args(widths, claims, CLAIMS, limit, gram_limit)
    rng = np.random.default_rng(seed)
    net = nonzero_biases(MLP(widths, bias=bias, rng=rng), rng)
    X = rng.normal(size=(16, widths[0]))
    g, sk = random_scaling(widths, rng, low=0.1, high=10), basis.Skeleton.default(widths)
    L, p, H = len(widths) - 1, paths.num_params(widths, bias), sum(widths[1:-1])
    n_basis, n_paths = p - H, paths.count_paths(widths, bias)
    explicit = n_paths <= limit  # every path can be listed
    listable = explicit and n_paths * p <= 5 * 10**7  # and A built
    dense = p <= min(gram_limit, DENSE_LIMIT)  # dense SVDs of A' and [B, A']
    cert = functools.cache(lambda: ex.rank_certificate(widths, sk, bias))  # on first use
    Ap = functools.cache(lambda: ex.basis_matrix(widths, bias, sk, sparse=True))  # sparse A'

    @functools.cache
    def path_set():  # all paths if they can be listed, else a random sample plus the basis paths
        if explicit:
            return paths.path_array(widths, limit, bias), "explicit (all paths)"
        P = np.stack([rng.integers(0, h, size=SAMPLE_PATHS) for h in widths], axis=1)
        if bias:  # a share of bias paths, start layer uniform in 1..L
            start = rng.integers(1, L + 1, size=SAMPLE_PATHS // 10)
            P[: len(start)][np.arange(L + 1)[None, :] < start[:, None]] = -1
        P = np.vstack([P, basis.basis_path_array(widths, sk, bias)])
        return P, f"sample ({SAMPLE_PATHS} random paths + the {n_basis} basis paths)"

    @functools.cache
    def batch():  # inputs away from ReLU kinks, random mse targets, and the gradients there
        Y = np.random.default_rng(1).normal(size=(len(X), widths[-1]))
        keep = away_from_kinks(net, X, margin=1e-3)
        Xb, Yb = (X[keep], Y[keep]) if keep.any() else (X, Y)
        return Xb, Yb, net.loss_and_gradients(Xb, Yb)[1]

    @functools.cache
    def lr():  # a learning rate that moves every basis-path value by at most 10% (no sign flip)
        dv = ex.explicit_inverse_chain_rule(net, batch()[2], sk)
        return float(0.1 / max(1e-300, np.max(np.abs(dv / _v(net, sk)))))

    checks = {}

    def check(claim, checked, route="explicit"):  # files f() -> (measured, holds[, route])
        return lambda f: checks.setdefault(claim, (checked, f, route))

    # --------------------------------------------------------------------- G1-G4, P1, S1
    @check("G1", "G is abelian (g h = g_cc', identity, inverse); log|g(w)| = log|w| + B^T log c")
    def _():
        h = random_scaling(widths, rng, low=0.1, high=10)
        worst = max(
            _rel(flat(g.apply(h.apply(net))), flat((g @ h).apply(net))),
            _rel((g @ h).log_c(), (h @ g).log_c()),
            _rel(flat(g.inverse().apply(g.apply(net))), flat(net)),
            _rel(flat(ScalingGroupElement.identity(widths).apply(net)), flat(net)),
        )
        w0, w1 = flat(net), flat(g.apply(net))
        nz = w0 != 0
        shift = (scaling_vectors(widths, bias, sparse=True).T @ g.log_c())[nz]
        log_err = np.max(np.abs(np.log(np.abs(w1[nz])) - np.log(np.abs(w0[nz])) - shift))
        signs = int(np.sum(np.sign(w0) != np.sign(w1)))
        ok = worst < 1e-12 and log_err < 1e-12 and signs == 0
        return f"max rel. error {worst:.1e}; log error {log_err:.1e}; {signs} signs changed", ok

    @check("G2", f"N_g(w)(x) = N_w(x) on {len(X)} inputs, c in [0.1, 10]")
    def _():
        err = _out_err(net.forward(X), g.apply(net).forward(X))
        return f"max output difference / max |output| = {err:.1e}", err < 1e-10

    @check("G3", "v_p(g(w)) = v_p(w) on every path, or on a sample")
    def _():
        P, route = path_set()
        err = _rel(paths.path_values(net, P), paths.path_values(g.apply(net), P))
        return f"max rel. error {err:.1e} on {len(P)} paths", err < 1e-11, route

    @check("G4", "activation statuses 1[z_O > 0] unchanged; z_O multiplied by c_O")
    def _():
        z0, z1 = net.forward_cache(X).z, g.apply(net).forward_cache(X).z
        mism, total, ratio_err = 0, 0, 0.0
        for l in range(1, L):
            clear = np.abs(z0[l]) > 1e-9 * np.abs(z0[l]).max()
            mism += int(np.sum((z0[l] > 0)[clear] != (z1[l] > 0)[clear]))
            total += int(clear.sum())
            ratio_err = max(ratio_err, _rel(z1[l][clear], (z0[l] * g.c[l - 1])[clear]))
        ok = mism == 0 and ratio_err < 1e-9
        return f"{mism} of {total} hidden statuses differ; z ratio rel. error {ratio_err:.1e}", ok

    @check("P1", "N_w(x)_k = sum over paths to k of v_p a_p x_(i_0)")
    def _():
        X8 = X[:8]
        if explicit and n_paths * len(X8) <= 2 * 10**7:
            got, route = paths.network_from_paths(net, X8, limit=limit), "explicit (all paths)"
        else:  # got[n, i]: sum of v a x_(i_0) over the partial paths ending at node i
            z, got = net.forward_cache(X8).z, X8
            route = "dynamic programming (paths grouped layer by layer, never listed)"
            for l in range(L):
                got = got @ net.weights[l] + (net.biases[l] if bias else 0.0)
                if l + 1 < L:
                    got = got * (z[l + 1] > 0)  # the statuses of the nodes of layer l + 1
        err = _out_err(net.forward(X8), got)
        return f"max difference / max |output| = {err:.1e} on {len(X8)} inputs", err < 1e-10, route

    @check("S1", "w' = g(w) iff equal path values (no zeros, equal signs); counterexamples")
    def _():
        eq, other = sufficiency.equivalent_by_path_values, net.copy()
        res = eq(net, g.apply(net), limit=limit, skeleton=sk)
        c_err = _rel(res.g.log_c(), g.log_c()) if res.equivalent else 0.0
        l = int(rng.integers(L))
        i, j = (int(rng.integers(h)) for h in other.weights[l].shape)
        other.weights[l][i, j] *= 1.5
        neg = eq(net, other, limit=limit, skeleton=sk)
        ok = res.equivalent and c_err < 1e-8 and not neg.equivalent
        first = f"g(w): equivalent {res.equivalent}, log c error {c_err:.1e}; one weight x1.5: "
        measured = [first + f"equivalent {neg.equivalent}"]
        cases = {"sign flip": sufficiency.sign_flip_counterexample}
        cases |= {"dead node": sufficiency.dead_node_counterexample} if widths[2] >= 2 else {}
        P = path_set()[0]
        for name, make in cases.items():  # equal path values, yet not related by any g
            a, b = make(net, 1, 0)
            same = _rel(paths.path_values(a, P), paths.path_values(b, P)) < 1e-12
            not_g = sufficiency.find_scaling(a, b) is None
            measured.append(f"{name}: equal path values {same}, not in G {not_g}")
            ok = ok and same and not_g
        by_b3 = "" if explicit else " (basis-path values determine all by B3)"
        return "; ".join(measured), ok, res.compared + by_b3

    # --------------------------------------------------------------------- R1, R2, B1-B4
    @check("R1", f"rank(A) = m - H = {p} - {H} = {n_basis}")
    def _():
        found = []  # (rank, route)
        if listable:
            for method in ("svd", "qr"):
                r, _, on = ex.explicit_rank(widths, method, limit, bias)
                found.append((r, f"explicit {method.upper()} of {on}"))
        if p <= gram_limit:
            r, lam = ex.rank_by_counting(widths, bias)
            gap = f" (eigenvalue gap {lam[r - 1] / lam[0]:.1e} vs {lam[r] / lam[0]:.0e})"
            found.append((r, "counting A A^T" + (gap if r < len(lam) else "")))
        found.append((cert().rank, "exact certificate"))
        ranks, routes = zip(*found)
        ok = all(r == n_basis for r in ranks)
        return "ranks " + ", ".join(map(str, ranks)), ok, "; ".join(routes)

    @check("R2", f"ker(A^T) = span of the H = {H} vectors b_O")
    def _():
        B, c = scaling_vectors(widths, bias, sparse=True), cert()
        dim = p - c.rank if c.holds else "?"
        measured = (
            f"b_O sum to 0 on every path: {c.b_zero_on_paths}; independent: {c.b_independent};"
            f" dim ker(A^T) = {p} - {c.rank} = {dim}"
        )
        ok = c.b_zero_on_paths and c.b_independent and dim == H == B.shape[0]
        route = "certificate (path-sum DP per b_O, unit-triangular pivots, dim ker = p - rank)"
        if listable:
            _, A = paths.structure_matrix(widths, limit, bias)
            nnz = int(np.count_nonzero((A.T.astype(np.int64) @ B.T).toarray()))
            measured = f"A^T B^T has {nnz} non-zero entries; " + measured
            ok, route = ok and nnz == 0, "explicit (A^T b_O = 0 exactly) + " + route
        return measured, ok, route

    @check("B1", f"the {n_basis} basis paths are independent (a basis, with R1)")
    def _():
        n = Ap().shape[1]
        distinct = len(np.unique(basis.basis_path_array(widths, sk, bias), axis=0))
        if dense:
            r, route = paths.rank_svd(Ap().astype(float))[0], "explicit SVD of A'"
        else:
            r = n if cert().basis_triangular else -1
            route = "certificate (unit-triangular on the non-sigma edges)"
        return f"{n} paths, {distinct} distinct, rank {r}", n == distinct == r == n_basis, route

    @check("B2", "each non-skeleton weight lies in exactly one basis path")
    def _():
        skel = [(sk.sigma_mask(l) | sk.pi_mask(l)).ravel() for l in range(L)]
        skel = np.concatenate(skel + ([np.zeros(sum(widths[1:]), bool)] if bias else []))
        bad = int(np.sum(np.asarray(Ap().sum(axis=1)).ravel()[~skel] != 1))
        measured = f"{np.sum(~skel)} non-skeleton weights, {bad} in a number of basis paths != 1"
        return measured, bad == 0, "explicit (A' row sums)"

    @check("B3", "p = sum_j alpha_j p^j with integer alpha (exact), v_p = prod v_j^alpha_j")
    def _():
        P, route = path_set()
        alpha = basis.path_exponents(widths, P, sk, bias)
        exact = (Ap() @ alpha.T - ex.incidence_matrix(widths, P, p)).count_nonzero() == 0
        err = _rel(basis.values_from_basis(_v(net, sk), alpha), paths.path_values(net, P))
        lo, hi = (int(alpha.data.min()), int(alpha.data.max())) if alpha.nnz else (0, 0)
        measured = f"{len(P)} paths; integer identity exact: {exact}; exponents in {lo}..{hi}"
        return measured + f"; value rebuild rel. error {err:.1e}", exact and err < 1e-9, route

    @check("B4", "general construction, random pi and sigma: m - H distinct independent paths")
    def _():
        pi, sigma = [None] * (L + 1), [None] * (L + 1)
        for l in range(1, L):
            pi[l] = rng.integers(0, widths[l - 1], size=widths[l])
            sigma[l] = rng.integers(0, widths[l + 1], size=widths[l])
        rsk = basis.Skeleton(widths, pi, sigma)
        P = basis.basis_path_array(widths, rsk, bias)
        distinct, c = len(np.unique(P, axis=0)), ex.rank_certificate(widths, rsk, bias)
        if dense:
            r = paths.rank_svd(ex.basis_matrix(widths, bias, rsk))[0]
            route = "explicit SVD of A' + certificate"
        else:
            r, route = c.rank, "certificate"
        ok, paper = distinct == len(P) == r == n_basis and c.holds, ""
        if len(set(widths[1:-1])) == 1 and not bias:  # equal hidden widths: the paper's case
            paper_basis = basis.skeleton_method_basis(widths)
            same = np.array_equal(paper_basis, basis.basis_path_array(widths))
            paper, ok = f"; default skeleton = paper's skeleton method: {same}", ok and same
        return f"{len(P)} paths, {distinct} distinct, rank {r}{paper}", ok, route

    # --------------------------------------------------------------------- G-SGD (I1-A4)
    @check("I1", "dl/dv by ICR (core) = centred finite differences in path space, mse loss")
    def _():
        Xb, Yb, grads = batch()
        dv = ex.flatten(gsgd.inverse_chain_rule(net, grads, sk), sk)
        k0 = int(sk.pi[1][0]) * widths[1]  # the skeleton path of chain 0
        wa = functools.partial(ex.explicit_weight_allocation, net, skeleton=sk)
        picks, fd = fd_path_gradient(lambda v2: wa(v2).loss(Xb, Yb), _v(net, sk), k0, rng, 1e-5)
        err = rel_error(fd, dv[picks], norm=True)
        measured = f"relative error {err:.1e} on {len(picks)} basis paths (one a skeleton path)"
        route = "explicit (v perturbed, weights by a sparse Weight-Allocation solve)"
        return measured + f", {len(Xb)} samples", err < 1e-5, route

    @check("I2", "balance: at every hidden node, sum of w dl/dw over in-edges = over out-edges")
    def _():
        worst, scale, (w, b), grads = 0.0, 0.0, (net.weights, net.biases), batch()[2]
        for l in range(1, L):
            f_in = np.sum(w[l - 1] * grads.weights[l - 1], axis=0)
            f_in = f_in + (b[l - 1] * grads.biases[l - 1] if bias else 0.0)
            f_out = np.sum(w[l] * grads.weights[l], axis=1)
            worst = max(worst, float(np.max(np.abs(f_in - f_out))))
            scale = max(scale, float(np.max(np.abs(f_in))))
        rel = worst / max(scale, 1e-300)
        return f"max |in - out| / max |in| = {rel:.1e}", rel < 1e-10

    @check("W1", "after Weight-Allocation (core) every basis-path value is v - lr dl/dv")
    def _():
        v = gsgd.basis_path_values(net, sk)
        v_new = gsgd.update_path_values(v, gsgd.inverse_chain_rule(net, batch()[2], sk), lr())
        new = gsgd.weight_allocation(net, gsgd.path_ratios(v, v_new), v_new, sk)
        err, fixed = _rel(_v(new, sk), ex.flatten(v_new, sk)), basis.sigma_edge_mask(sk, bias)
        sig = _rel(flat(new)[fixed], flat(net)[fixed])  # the sigma-edges keep their weights
        measured = f"max rel. error {err:.1e}; sigma-edges changed by {sig:.1e}"
        route = "explicit (basis-path values of the new weights, listed paths)"
        return measured, err < 1e-10 and sig == 0, route

    @check("W2", f"the Weight-Allocation matrix [B, A'] has rank m = {p}")
    def _():
        if dense:
            M = ex.augmented_matrix(widths, bias, sk)
            r, n, route = paths.rank_svd(M)[0], M.shape[1], "explicit SVD of [B, A']"
        else:  # B: one unit column per sigma-edge (H of them), then the columns of A'
            r, n = (p if cert().basis_triangular else -1), H + Ap().shape[1]
            route = "certificate: det [B, A'] = +-det(A' on non-sigma rows) = +-1 (unit triangular)"
        return f"rank {r} of a {p} x {n} matrix", r == p == n, route

    @check("A1", "the O(m) G-SGD step (gspace.GSGD, core gsgd_step) = the explicit-matrix step")
    def _():
        grads = batch()[2]
        slow = flat(ex.explicit_gsgd_step(net, grads, lr(), sk))  # raises if ICR is inconsistent
        err = _rel(flat(GSGD(lr=lr(), skeleton=sk).step(net, grads)), slow)
        err_core = _rel(flat(gsgd.gsgd_step(net, grads, lr(), sk)), slow)
        measured = f"max rel. weight difference {err:.1e} (fast), {err_core:.1e} (core); the ICR "
        route = "explicit sparse matrices (gspace.explicit: A', triangular solves)"
        return measured + "system is consistent", err < 1e-9 and err_core < 1e-9, route

    @check("A2", "G-SGD from w and g(w), 3 steps: same function and path values at every step")
    def _():
        f_err = v_err = 0.0
        for a, b in twin_runs(net, g, lambda: GSGD(lr=lr(), skeleton=sk), *batch()[:2], steps=3):
            f_err = max(f_err, _out_err(a.forward(X), b.forward(X)))
            v_err = max(v_err, _rel(_v(a, sk), _v(b, sk)))
        measured = f"max output difference {f_err:.1e}; basis-path values rel. difference "
        return measured + f"{v_err:.1e}", f_err < 1e-8 and v_err < 1e-8

    @check("A3", "negative control: plain SGD from w and g(w) gives different functions")
    def _():
        a, b = next(twin_runs(net, g, lambda: SGD(lr=0.1), *batch()[:2]))
        diff = _out_err(a.forward(X), b.forward(X))
        return f"output difference / max |output| after one step (lr 0.1) = {diff:.1e}", diff > 1e-6

    @check("A4", "Path-SGD is G-equivariant: one step from g(w) equals g(one step from w)")
    def _():
        a, b = next(twin_runs(net, g, lambda: PathSGD(lr=0.01), *batch()[:2]))
        err = _rel(flat(g.apply(a)), flat(b))
        return f"max rel. weight difference {err:.1e}", err < 1e-10

    return run_checks({c: checks[c] for c in claims}, progress)


def format_table(results, header: str = "") -> str:
    """A table: claim, holds, seconds, then what was checked, measured, and the route."""
    lines = ([header] if header else []) + ["claim  holds  seconds  checked / measured / route"]
    for r in results:
        lines.append(f"{r.claim:<6} {'yes' if r.holds else 'NO':<6} {r.seconds:>7.2f}  {r.checked}")
        lines += [f"{'':<23}measured: {r.measured}", f"{'':<23}route:    {r.route}"]
    failed = [r.claim for r in results if not r.holds]
    lines.append(f"FAILED: {', '.join(failed)}" if failed else f"all {len(results)} claims hold")
    return "\n".join(lines)


def run_cli(args) -> int:
    """Body of ``gspace verify`` (``args``: ``widths``, ``bias``, ``json``, optional ``seed``
    and ``no_progress``): print a table or JSON; 0 iff every claim holds."""
    widths, bias = list(args.widths), bool(getattr(args, "bias", False))
    seed = int(getattr(args, "seed", 0) or 0)
    progress = not getattr(args, "no_progress", False) and sys.stderr.isatty()
    t0 = time.perf_counter()
    results = verify(widths, bias=bias, seed=seed, progress=progress)
    header = (
        f"gspace verify: widths {widths}, {'with' if bias else 'no'} biases, seed {seed}: "
        f"m = {paths.num_params(widths, bias)} parameters, H = {sum(widths[1:-1])} hidden "
        f"nodes, {paths.count_paths(widths, bias):,} paths ({time.perf_counter() - t0:.1f} s)"
    )
    return report(results, header, getattr(args, "json", False))


def report(results, header: str, as_json: bool) -> int:
    """Print ``results`` as JSON or as a table under ``header``; 0 iff every claim holds."""
    table = format_table(results, header)
    print(json.dumps([r.to_dict() for r in results], indent=1) if as_json else table)
    return 0 if all(r.holds for r in results) else 1
