"""G-SGD (theory page, section "G-SGD"): every stage of Algorithm 1 against an independent
route, the claims I1, I2, W1, W2, A2, A3, numerical safety, atomic steps and bad input."""

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import gspace
from gspace.core.gsgd import (
    PathArrays,
    basis_path_values,
    gsgd_step,
    inverse_chain_rule,
    path_ratios,
    rho_in,
    rho_out,
    update_path_values,
    weight_allocation,
)
from gspace.core.network import Gradients
from gspace.testing import away_from_kinks, rel_error

from . import _gsgd_helpers as H
from . import strategies as gst

small_nets = gst.networks(gst.widths(max_layers=4, max_width=5))


def _basis_entries(net, sk):
    """(kind, l, index) of every basis coordinate: non-sigma weight entries, then biases."""
    out = []
    for l in range(net.L):
        for a, b in zip(*np.nonzero(~sk.sigma_mask(l))):
            out.append(("w", l, (int(a), int(b))))
    if net.biases is not None:
        for l in range(net.L):
            for b in range(net.widths[l + 1]):
                out.append(("b", l, (b,)))
    return out


def _get(pa, entry):
    kind, l, ix = entry
    return (pa.weights if kind == "w" else pa.biases)[l][ix]


def _flat(pa, net, sk):
    return np.array([_get(pa, e) for e in _basis_entries(net, sk)])


def _data(net, seed, loss="mse", n=8):
    return gst.batch(net, n, seed, loss)


# ----------------------------------------------------------------------------- basis values
@given(net=small_nets)
def test_basis_path_values_are_products_along_the_basis_paths(net):
    """B4: the basis path of a non-sigma edge e = (a -> b) is in-chain(a) + e + out-chain(b)
    and its value is the product of its weights (a bias path: bias times the out-chain)."""
    sk = gspace.Skeleton.default(net.widths)
    v = basis_path_values(net)
    for kind, l, ix in _basis_entries(net, sk):
        if kind == "w":
            path = H.basis_path_of_edge(sk, l, *ix)
            expected = H.path_value(net, path)
        else:
            (b,) = ix
            chain = sk.out_chain(l + 1, b)
            expected = net.biases[l][b] * np.prod(
                [net.weights[l + 1 + k][chain[k], chain[k + 1]] for k in range(len(chain) - 1)]
            )
        assert _get(v, (kind, l, ix)) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_rho_by_hand_and_skeleton_path_value():
    net = gspace.MLP.from_weights(
        [[[2.0, 3.0]], [[5.0, 1.0], [1.0, 7.0]], [[1.0], [4.0]]], biases=None
    )
    assert [r.tolist() for r in rho_in(net)[:3]] == [[1.0], [2.0, 3.0], [10.0, 21.0]]
    assert [r.tolist() for r in rho_out(net)[1:]] == [[5.0, 28.0], [1.0, 4.0], [1.0]]
    # the skeleton path of chain 1 is (0, 1, 1, 0): 3 * 7 * 4
    assert basis_path_values(net).weights[0][0, 1] == 84.0


# ----------------------------------------------------------------------------- ICR
@given(net=small_nets, seed=gst.seeds(), loss=st.sampled_from(["mse", "cross_entropy"]))
def test_icr_hidden_flow_route_equals_weight_sum_route(net, seed, loss):
    """The fast step reads the per-node sums of w * g from back-propagation's hidden_flow;
    with gradients that carry no flows it sums w * g itself: both equal the core step."""
    X, Y = _data(net, seed, loss)
    _, grads = net.loss_and_gradients(X, Y, loss)
    assert grads.hidden_flow is not None
    plain = Gradients(grads.weights, grads.biases)
    assert plain.hidden_flow is None
    a = gspace.GSGD(lr=1e-3).step(net, grads)
    b = gspace.GSGD(lr=1e-3).step(net, plain)
    c = gsgd_step(net, grads, 1e-3)
    for x, y, z in zip(
        a.weights + (a.biases or []), b.weights + (b.biases or []), c.weights + (c.biases or [])
    ):
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12 * (1 + np.abs(x).max()))
        np.testing.assert_allclose(x, z, rtol=1e-9, atol=1e-12 * (1 + np.abs(x).max()))


def test_edited_gradients_cannot_reuse_stale_flows():
    """Gradients are read-only: clipping or noise in place raises, and every edit makes a
    new Gradients without hidden_flow, so G-SGD sums w * g from the edited arrays. The step
    on clipped gradients equals the core step on them (and differs from the unclipped one)."""
    net = gspace.MLP([3, 4, 4, 2], bias=True, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, grads = net.loss_and_gradients(X, Y)
    with pytest.raises(ValueError, match="read-only"):
        np.clip(grads.weights[1], -1e-3, 1e-3, out=grads.weights[1])
    with pytest.raises(ValueError, match="read-only"):
        grads.weights[0] += 1.0
    with pytest.raises(TypeError):
        grads.weights[0] = np.zeros((3, 4))
    with pytest.raises(dataclasses.FrozenInstanceError):
        grads.hidden_flow = None
    with pytest.raises(ValueError, match="init=False"):
        dataclasses.replace(grads, hidden_flow=grads.hidden_flow)
    clipped = dataclasses.replace(grads, weights=[np.clip(g, -1e-3, 1e-3) for g in grads.weights])
    assert clipped.hidden_flow is None
    a = gspace.GSGD(lr=0.1).step(net, clipped)
    b = gsgd_step(net, clipped, 0.1)
    c = gspace.GSGD(lr=0.1).step(net, grads)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)
    assert not all(np.allclose(x, y) for x, y in zip(a.weights, c.weights))


@given(
    net=gst.networks(gst.widths(max_layers=3, max_width=4)),
    seed=gst.seeds(),
    loss=st.sampled_from(["mse", "cross_entropy"]),
)
def test_I1_icr_equals_finite_difference_in_path_space(net, seed, loss):
    """I1: dl/dv from the Inverse-Chain-Rule equals a centred finite difference taken in path
    space: move one basis-path value, hold the others, allocate the weights (WA), evaluate."""
    X, Y = _data(net, seed, loss, n=6)
    keep = away_from_kinks(net, X, margin=1e-3)
    assume(keep.sum() >= 2)
    X, Y = X[keep], Y[keep]
    sk = gspace.Skeleton.default(net.widths)
    _, grads = net.loss_and_gradients(X, Y, loss)
    v = basis_path_values(net)
    dv = inverse_chain_rule(net, grads)
    analytic, numeric = [], []
    for entry in _basis_entries(net, sk):
        kind, l, ix = entry
        vj = _get(v, entry)
        h = 1e-6 * abs(vj)
        f = []
        for sign in (1.0, -1.0):
            pw = [x.copy() for x in v.weights]
            pb = None if v.biases is None else [x.copy() for x in v.biases]
            (pw if kind == "w" else pb)[l][ix] += sign * h
            f.append(H.allocate(net, PathArrays(pw, pb)).loss(X, Y, loss))
        # compare u = v dl/dv (the derivative in log|v|), which is scale-free
        numeric.append(vj * (f[0] - f[1]) / (2 * h))
        analytic.append(vj * _get(dv, entry))
    assert rel_error(analytic, numeric, norm=True) < 1e-6


@given(net=small_nets, seed=gst.seeds())
def test_I2_balance_identity_and_skeleton_gradient_from_any_chain_weight(net, seed):
    """I2: at every hidden node the sum of F = w dl/dw over the in-edges (bias included) equals
    the sum over the out-edges; hence every edge of a skeleton path gives the same skeleton-path
    gradient u_P = F_f - sum of u over the other basis paths through f."""
    X, Y = _data(net, seed)
    _, grads = net.loss_and_gradients(X, Y)
    sk = gspace.Skeleton.default(net.widths)
    F = [w * g for w, g in zip(net.weights, grads.weights)]
    Fb = None if net.biases is None else [b * g for b, g in zip(net.biases, grads.biases)]
    for l in range(1, net.L):
        f_in = F[l - 1].sum(axis=0) + (Fb[l - 1] if Fb is not None else 0.0)
        np.testing.assert_allclose(f_in, F[l].sum(axis=1), rtol=1e-9, atol=1e-12)
    # brute-force membership: basis path -> set of edges
    v = basis_path_values(net)
    dv = inverse_chain_rule(net, grads)
    entries = _basis_entries(net, sk)
    members = {}
    for kind, l, ix in entries:
        if kind == "w":
            path = H.basis_path_of_edge(sk, l, *ix)
            edges = {("w", *e) for e in H.all_edges_of_path(path)}
        else:
            (b,) = ix
            chain = sk.out_chain(l + 1, b)
            edges = {("b", l, b)} | {
                ("w", l + 1 + k, chain[k], chain[k + 1]) for k in range(len(chain) - 1)
            }
        members[(kind, l, ix)] = edges
    u = {e: _get(v, e) * _get(dv, e) for e in entries}
    scale = 1e-12 + max(abs(x) for x in u.values())
    for entry, edges in members.items():
        kind, l, ix = entry
        if kind != "w" or not H.pure_pi_mask(sk, l)[ix]:
            continue  # only skeleton paths
        for edge in edges:
            Fe = F[edge[1]][edge[2], edge[3]]
            others = sum(u[o] for o, es in members.items() if o != entry and edge in es)
            assert abs((Fe - others) - u[entry]) <= 1e-9 * scale


def test_icr_is_the_papers_formula_for_the_paper_skeleton():
    """Skeleton method, equal widths: the skeleton path of chain j has u_j = s1_j g(s1_j) minus
    the sum of F over the non-skeleton out-edges of chain j in layers 2..L (code weights[1:]);
    a non-skeleton weight has dl/dv = g / (rho_in rho_out)."""
    rng = np.random.default_rng(5)
    net = gspace.MLP([3, 4, 4, 4, 2], rng=rng)
    X, Y = gst.batch(net, 9, 1, "mse")
    _, grads = net.loss_and_gradients(X, Y)
    sk = gspace.Skeleton.paper(net.widths)
    v = basis_path_values(net)
    dv = inverse_chain_rule(net, grads)
    d, h, L = 3, 4, net.L
    for j in range(h):
        s1 = (j % d, j)
        u = net.weights[0][s1] * grads.weights[0][s1]
        for l in range(1, L):
            for c in range(net.widths[l + 1]):
                if not sk.sigma_mask(l)[j, c]:  # non-skeleton out-edge of chain node j
                    u -= net.weights[l][j, c] * grads.weights[l][j, c]
        assert dv.weights[0][s1] == pytest.approx(u / v.weights[0][s1], rel=1e-10)


# ----------------------------------------------------------------------------- WA, update
@given(net=small_nets, seed=gst.seeds(), lr=st.floats(1e-4, 1e-2))
def test_W1_after_wa_basis_values_equal_updated_values(net, seed, lr):
    """W1: after Weight-Allocation every basis-path value equals v - lr dl/dv (rel. error
    < 1e-10), both through the stage functions and through GSGD.step."""
    X, Y = _data(net, seed)
    _, grads = net.loss_and_gradients(X, Y)
    sk = gspace.Skeleton.default(net.widths)
    v = basis_path_values(net)
    v_new = update_path_values(v, inverse_chain_rule(net, grads), lr)
    R = path_ratios(v, v_new)
    for new in (weight_allocation(net, R, v_new), gspace.GSGD(lr=lr).step(net, grads)):
        got = _flat(basis_path_values(new), net, sk)
        assert rel_error(got, _flat(v_new, net, sk)) < 1e-10


@given(net=small_nets, seed=gst.seeds())
def test_W2_weight_allocation_is_unique_once_free_weights_are_fixed(net, seed):
    """W2: the weights are determined by the basis-path values and the H free (sigma) weights:
    WA from any network with the same sigma-edges gives the same weights."""
    sk = gspace.Skeleton.default(net.widths)
    rng = np.random.default_rng(seed)
    other_w = []
    for l, w in enumerate(net.weights):
        o = rng.uniform(0.5, 2.0, size=w.shape) * rng.choice([-1.0, 1.0], size=w.shape)
        m = sk.sigma_mask(l)
        o[m] = w[m]
        other_w.append(o)
    other_b = None if net.biases is None else [rng.normal(size=b.shape) for b in net.biases]
    other = gspace.MLP.from_weights(other_w, other_b)
    v = basis_path_values(net)
    a = H.allocate(net, v)
    b = H.allocate(other, v)
    for x, y, w in zip(a.weights + (a.biases or []), b.weights + (b.biases or []),
                       net.weights + (net.biases or [])):  # fmt: skip
        np.testing.assert_allclose(x, y, rtol=1e-10)
        np.testing.assert_allclose(x, w, rtol=1e-10)  # and it recovers the network


def test_wa_is_the_papers_formula_for_the_paper_skeleton():
    """Skeleton method, equal widths: s1_j <- s1_j R_j; first-layer non-skeleton
    w <- w - lr g / S_b^2; later non-skeleton w <- (w - lr g / (P_a S_b)^2) / R_a; the
    skeleton weights of layers 2..L do not change."""
    net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(2))
    net = gspace.skeleton_unit(net)
    net = gspace.MLP.from_weights([w * 1.3 for w in net.weights])  # skeleton weights 1.3
    X, Y = gst.batch(net, 9, 2, "mse")
    _, g = net.loss_and_gradients(X, Y)
    lr = 0.05
    sk = gspace.Skeleton.paper(net.widths)
    P, S = rho_in(net), rho_out(net)
    v = basis_path_values(net)
    dv = inverse_chain_rule(net, g)
    new = gspace.GSGD(lr=lr).step(net, g)
    R = np.array([1 - lr * dv.weights[0][j % 3, j] / v.weights[0][j % 3, j] for j in range(4)])
    for l in range(net.L):
        for a in range(net.widths[l]):
            for b in range(net.widths[l + 1]):
                w, gg = net.weights[l][a, b], g.weights[l][a, b]
                if l == 0 and sk.pi_mask(0)[a, b]:
                    expected = w * R[b]
                elif l > 0 and sk.sigma_mask(l)[a, b]:
                    expected = w
                elif l == 0:
                    expected = w - lr * gg / S[1][b] ** 2
                else:
                    expected = (w - lr * gg / (P[l][a] * S[l + 1][b]) ** 2) / R[a]
                assert new.weights[l][a, b] == pytest.approx(expected, rel=1e-12)


@given(net=small_nets, seed=gst.seeds())
def test_step_equals_the_composition_of_the_stages(net, seed):
    """GSGD.step (fused kernel) equals WA(net, v - lr ICR) computed stage by stage."""
    X, Y = _data(net, seed)
    _, grads = net.loss_and_gradients(X, Y)
    lr = 0.01
    v_new = update_path_values(basis_path_values(net), inverse_chain_rule(net, grads), lr)
    a = H.allocate(net, v_new)
    b = gspace.GSGD(lr=lr).step(net, grads)
    c = gspace.GSGD(lr=lr, weight_decay=1e-300).step(net, grads)  # the general kernel
    for x, y, z in zip(a.weights + (a.biases or []), b.weights + (b.biases or []),
                       c.weights + (c.biases or [])):  # fmt: skip
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(z, x, rtol=1e-9, atol=1e-12)


def test_momentum_and_weight_decay_follow_the_definition():
    """Momentum on dl/dv (torch convention) and weight decay lambda * v on the non-skeleton
    basis paths (biases' paths included), then the path-value update and WA."""
    net = gspace.MLP([3, 4, 3, 2], bias=True, rng=np.random.default_rng(0))
    net = gspace.MLP.from_weights(net.weights, [np.full(b.shape, 0.1) for b in net.biases])
    sk = gspace.Skeleton.default(net.widths)
    lr, mu, wd = 0.02, 0.9, 0.05
    opt = gspace.GSGD(lr=lr, momentum=mu, weight_decay=wd)
    nets, buf = [net], None
    for t in range(3):
        X, Y = gst.batch(net, 8, t, "mse")
        cur = nets[-1]
        _, g = cur.loss_and_gradients(X, Y)
        v = basis_path_values(cur)
        dv = inverse_chain_rule(cur, g)
        d_w = []
        for l in range(cur.L):
            decay = ~(sk.sigma_mask(l) | H.pure_pi_mask(sk, l))
            d_w.append(dv.weights[l] + wd * v.weights[l] * decay)
        d_b = [x + wd * y for x, y in zip(dv.biases, v.biases)]
        d = d_w + d_b
        buf = d if buf is None else [mu * b + x for b, x in zip(buf, d)]
        L = cur.L
        v_new = PathArrays(
            [x - lr * b for x, b in zip(v.weights, buf[:L])],
            [x - lr * b for x, b in zip(v.biases, buf[L:])],
        )
        expected = weight_allocation(cur, path_ratios(v, v_new), v_new)
        got = opt.step(cur, g)
        for x, y in zip(got.weights + got.biases, expected.weights + expected.biases):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-13)
        nets.append(got)


def test_no_hidden_layer_gsgd_is_sgd():
    """Without hidden nodes G is trivial, the basis paths are the weights, G-SGD is SGD."""
    net = gspace.MLP([4, 3], bias=True, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 6, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    a = gspace.GSGD(lr=0.1).step(net, g)
    b = gspace.SGD(lr=0.1).step(net, g)
    np.testing.assert_allclose(a.weights[0], b.weights[0], rtol=1e-14)
    np.testing.assert_allclose(a.biases[0], b.biases[0], rtol=1e-14)


def test_custom_skeleton_step_matches_stages():
    """Any choice of pi and sigma works (B4); the step equals the stage composition."""
    widths = [3, 5, 2, 4, 2]
    rng = np.random.default_rng(4)
    pi = [None] + [rng.integers(0, widths[l - 1], size=widths[l]) for l in range(1, 4)] + [None]
    sigma = [None] + [rng.integers(0, widths[l + 1], size=widths[l]) for l in range(1, 4)]
    sigma += [None]
    sk = gspace.Skeleton(widths, pi, sigma)
    net = gspace.MLP(widths, bias=True, rng=rng)
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    v_new = update_path_values(basis_path_values(net, sk), inverse_chain_rule(net, g, sk), 0.01)
    a = H.allocate(net, v_new, sk)
    b = gspace.GSGD(lr=0.01, skeleton=sk).step(net, g)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-12)
    got = _flat(basis_path_values(b, sk), net, sk)
    assert rel_error(got, _flat(v_new, net, sk)) < 1e-10


def test_skeleton_assigned_between_steps_takes_effect():
    """opt.skeleton is read at every step (the per-widths index cache follows it)."""
    widths = [3, 4, 4, 2]
    net = gspace.MLP(widths, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    other = gspace.Skeleton(
        widths,
        [None, np.array([2, 1, 0, 2]), np.array([3, 2, 1, 0]), None],
        [None, np.array([1, 2, 3, 0]), np.array([1, 0, 1, 0]), None],
    )
    opt = gspace.GSGD(lr=0.05)
    opt.step(net, g)
    opt.skeleton = other
    got = opt.step(net, g)
    expected = gspace.GSGD(lr=0.05, skeleton=other).step(net, g)
    default = gspace.GSGD(lr=0.05).step(net, g)
    for x, y in zip(got.weights, expected.weights):
        np.testing.assert_array_equal(x, y)
    assert any(not np.allclose(x, y) for x, y in zip(got.weights, default.weights))


# ----------------------------------------------------------------------------- invariance
@given(
    net=gst.networks(gst.widths(max_layers=4, max_width=5), min_abs=0.3, max_abs=1.5),
    gseed=gst.seeds(),
    seed=gst.seeds(),
    hyper=st.sampled_from([(0.0, 0.0), (0.9, 0.01)]),
)
def test_A2_gsgd_trajectory_is_invariant_under_scaling(net, gseed, seed, hyper):
    """A2: G-SGD from w and from g(w) (factors in [0.1, 10]) gives the same outputs and the
    same basis-path values after 20 steps (relative difference < 1e-9), with or without
    momentum and weight decay."""
    g = gspace.random_scaling(net.widths, np.random.default_rng(gseed), low=0.1, high=10.0)
    mu, wd = hyper
    a, b = net, g.apply(net)
    opt_a = gspace.GSGD(lr=1e-3, momentum=mu, weight_decay=wd)
    opt_b = gspace.GSGD(lr=1e-3, momentum=mu, weight_decay=wd)
    for t in range(20):
        X, Y = gst.batch(net, 8, seed + t, "mse")
        a = opt_a.step(a, a.loss_and_gradients(X, Y)[1])
        b = opt_b.step(b, b.loss_and_gradients(X, Y)[1])
    X, _ = gst.batch(net, 16, seed + 99, "mse")
    assert rel_error(a.forward(X), b.forward(X), norm=True) < 1e-9
    sk = gspace.Skeleton.default(net.widths)
    va, vb = basis_path_values(a), basis_path_values(b)
    assert rel_error(_flat(va, net, sk), _flat(vb, net, sk), norm=True) < 1e-9


@pytest.mark.parametrize("widths, bias", [([3, 4, 4, 2], False), ([3, 5, 2, 3], True)])
def test_A3_sgd_trajectory_is_not_invariant(widths, bias):
    """A3 (negative control): plain SGD from w and from g(w) computes different functions
    after one step, while G-SGD from the same pair does not."""
    rng = np.random.default_rng(0)
    net = gspace.MLP(widths, bias=bias, rng=rng)
    other = gspace.random_scaling(widths, rng, low=0.1, high=10.0).apply(net)
    X, Y = gst.batch(net, 16, 0, "mse")
    assert rel_error(net.forward(X), other.forward(X), norm=True) < 1e-12  # G2
    diffs = {}
    for name, opt in (("sgd", gspace.SGD), ("gsgd", gspace.GSGD)):
        a = opt(lr=0.01).step(net, net.loss_and_gradients(X, Y)[1])
        b = opt(lr=0.01).step(other, other.loss_and_gradients(X, Y)[1])
        diffs[name] = rel_error(a.forward(X), b.forward(X), norm=True)
    assert diffs["sgd"] > 1e-4
    assert diffs["gsgd"] < 1e-12


# ----------------------------------------------------------------------------- safety
def _one_hidden_node(g0):
    """widths [1, 1, 1], weights 1 and 1; hand-made consistent grads with dl/dv = g0."""
    net = gspace.MLP.from_weights([[[1.0]], [[1.0]]])
    grads = Gradients([np.array([[g0]]), np.array([[g0]])])
    return net, grads


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.5}])  # fused and general kernel
def test_negative_ratio_flips_the_sign_of_the_skeleton_weight(kwargs):
    """R < 0 is allowed: the skeleton path's value changes sign and WA flips the pi-edge."""
    net, grads = _one_hidden_node(0.5)
    new = gspace.GSGD(lr=4.0, **kwargs).step(net, grads)  # R = 1 - 4 * 0.5 / 1 = -1
    assert new.weights[0][0, 0] == -1.0 and new.weights[1][0, 0] == 1.0
    assert basis_path_values(new).weights[0][0, 0] == 1.0 - 4.0 * 0.5


def test_zero_ratio_raises_and_keeps_state():
    """R = 0 cannot be allocated: FloatingPointError, state unchanged."""
    net, grads = _one_hidden_node(0.5)
    opt = gspace.GSGD(lr=2.0, momentum=0.5)  # R = 1 - 2 * 0.5 = 0
    with pytest.raises(FloatingPointError, match="value 0"):
        opt.step(net, grads)
    assert opt.state == {}
    with pytest.raises(FloatingPointError, match="value 0"):
        gspace.GSGD(lr=2.0).step(net, grads)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.5}])  # fused and general kernel
def test_tiny_ratio_grows_later_weights_and_keeps_path_values(kwargs):
    """R near 0 is not clipped: weights after the node grow like 1/R, the basis-path values are
    exactly the requested ones."""
    net = gspace.MLP.from_weights([[[1.0]], [[1.0, 1.0]]])
    grads = Gradients([np.array([[0.5]]), np.array([[0.5, 0.0]])])
    lr = 2.0 * (1 - 1e-9)  # R = 1e-9
    new = gspace.GSGD(lr=lr, **kwargs).step(net, grads)
    assert new.weights[1][0, 1] == pytest.approx(1e9, rel=1e-6)
    v = basis_path_values(new)
    assert v.weights[1][0, 1] == pytest.approx(1.0, rel=1e-12)
    assert v.weights[0][0, 0] == pytest.approx(1e-9, rel=1e-6)


def test_overflowing_step_raises_and_keeps_state():
    net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    huge = Gradients([x * 1e10 for x in g.weights])
    for kwargs in ({}, {"momentum": 0.5}):
        opt = gspace.GSGD(lr=1e300, **kwargs)
        with pytest.raises(FloatingPointError, match="non-finite|value 0"):
            opt.step(net, huge)
        assert opt.state == {}
    # with a momentum buffer already there: the failed step leaves it as it was
    opt = gspace.GSGD(lr=0.01, momentum=0.5)
    opt.step(net, g)
    buf = [x.copy() for x in opt.state["momentum_buffer"]]
    opt.lr = 1e300
    with pytest.raises(FloatingPointError, match="non-finite|value 0"):
        opt.step(net, huge)
    for x, y in zip(opt.state["momentum_buffer"], buf):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "widths, layer, kind",
    [
        ([3, 4, 4, 2], 0, "pi"),
        ([3, 4, 4, 2], 1, "sigma"),
        ([3, 4, 4, 2], 2, "sigma"),
        ([3, 2, 5, 2], 1, "pi"),  # weights[1][0, 2]: a pi-edge that is not a sigma-edge
    ],
)
def test_zero_skeleton_weight_is_a_clear_error(widths, layer, kind):
    net = gspace.MLP(widths, rng=np.random.default_rng(0))
    sk = gspace.Skeleton.default(net.widths)
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    ws = [w.copy() for w in net.weights]
    mask = sk.pi_mask(layer) if kind == "pi" else sk.sigma_mask(layer)
    a, b = np.argwhere(mask)[1]
    ws[layer][a, b] = 0.0
    bad = gspace.MLP.from_weights(ws)
    words = rf"weights\[{layer}\]\[{a}, {b}\].*{kind}-edge"
    opt = gspace.GSGD(lr=0.1, momentum=0.5)
    opt.step(net, g)
    buf = [x.copy() for x in opt.state["momentum_buffer"]]
    with pytest.raises(ValueError, match=words):
        opt.step(bad, g)
    for x, y in zip(opt.state["momentum_buffer"], buf):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match=words):
        inverse_chain_rule(bad, g)


def test_path_ratios_mark_zero_valued_paths_as_undefined():
    """R = v'/v; a path of value 0 (zero bias) has no ratio: nan there, by design."""
    v = PathArrays([np.array([[2.0, 4.0]])], [np.array([0.0, 1.0])])
    v_new = PathArrays([np.array([[1.0, -4.0]])], [np.array([0.5, 3.0])])
    R = path_ratios(v, v_new)
    np.testing.assert_array_equal(R.weights[0], [[0.5, -1.0]])
    assert np.isnan(R.biases[0][0]) and R.biases[0][1] == 3.0


def test_wa_reads_v_new_where_the_ratio_is_undefined():
    """Zero biases and a zero non-skeleton weight (paths of value 0, R = nan): WA takes their
    new values from v_new, and gsgd_step still equals the fast GSGD.step."""
    net = gspace.MLP([3, 4, 4, 2], bias=True, rng=np.random.default_rng(1))  # biases 0
    w = [x.copy() for x in net.weights]
    w[1][0, 3] = 0.0  # not a skeleton weight of the default (paper) skeleton
    net = gspace.MLP.from_weights(w, net.biases)
    _, g = net.loss_and_gradients(*gst.batch(net, 8, 0, "mse"))
    v = basis_path_values(net)
    v_new = update_path_values(v, inverse_chain_rule(net, g), 0.01)
    R = path_ratios(v, v_new)
    assert np.isnan(R.weights[1][0, 3]) and np.isnan(R.biases[0]).all()
    a, b = gsgd_step(net, g, 0.01), gspace.GSGD(lr=0.01).step(net, g)
    assert a.weights[1][0, 3] != 0.0 and np.any(a.biases[0] != 0.0)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)


def test_chain_product_out_of_float64_range_is_a_clear_error():
    """A chain of skeleton weights 1e-6 has rho_in = 1e-324 at layer 54, which underflows to
    0: FloatingPointError naming the node, not a silent nan or inf."""
    net = gspace.MLP.from_weights([np.full((1, 1), 1e-6)] * 60)
    grads = Gradients([np.full((1, 1), 1.0)] * 60)
    words = "rho_in of node 0 of layer 54 is 0.0.*float64 range"
    with pytest.raises(FloatingPointError, match=words):
        gspace.GSGD(lr=0.1).step(net, grads)


def test_skeleton_path_value_out_of_float64_range_is_a_clear_error():
    """Each chain product in range, their product (the skeleton-path value, the same in every
    rescaling of the network) is not: FloatingPointError naming the node, not inf or nan."""
    net = gspace.MLP.from_weights([[[1e-200]], [[1e-200]]])
    grads = Gradients([np.ones((1, 1)), np.ones((1, 1))])
    words = "skeleton path through node 0 of layer 1.*float64 range"
    for kwargs in ({}, {"momentum": 0.5}):
        opt = gspace.GSGD(lr=0.1, **kwargs)
        with pytest.raises(FloatingPointError, match=words):
            opt.step(net, grads)
        assert opt.state == {}


def test_icr_out_of_float64_range_is_a_clear_error():
    """dl/dv = g / (rho_in(a) rho_out(b)) beyond the float64 range: FloatingPointError, not
    an array holding inf. Widths [1, 2, 2, 1]: the non-sigma edge weights[1][1, 0] has
    rho_in(a) = rho_out(b) = 1e-200, every skeleton path has value 1e-200."""
    ws = [np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 1))]
    ws[0][0, 1] = ws[2][0, 0] = 1e-200
    net = gspace.MLP.from_weights(ws)
    grads = Gradients([np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 1))])
    with pytest.raises(FloatingPointError, match="non-finite"):
        gspace.GSGD(lr=0.1).step(net, grads)


def test_zero_non_skeleton_weight_is_harmless():
    """A zero weight off the skeleton has a basis path of value 0 but a well-defined gradient
    dl/dv = g / (rho_in rho_out) (no division by w): the step moves it and W1 holds."""
    net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    sk = gspace.Skeleton.default(net.widths)
    ws = [w.copy() for w in net.weights]
    a, b = np.argwhere(~(sk.pi_mask(1) | sk.sigma_mask(1)))[0]
    ws[1][a, b] = 0.0
    net = gspace.MLP.from_weights(ws)
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    assert g.weights[1][a, b] != 0.0
    lr = 0.01
    v = basis_path_values(net)
    dv = inverse_chain_rule(net, g)
    assert dv.weights[1][a, b] == pytest.approx(
        g.weights[1][a, b] / (rho_in(net)[1][a] * rho_out(net)[2][b]), rel=1e-12
    )
    new = gspace.GSGD(lr=lr).step(net, g)
    assert new.weights[1][a, b] != 0.0
    v_new = update_path_values(v, dv, lr)
    assert rel_error(_flat(basis_path_values(new), net, sk), _flat(v_new, net, sk)) < 1e-10


# ----------------------------------------------------------------------------- contract
@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9, "weight_decay": 1e-3}])
def test_step_does_not_modify_inputs(kwargs):
    net = gspace.MLP([3, 4, 5, 2], bias=True, rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    before = [x.copy() for x in net.weights + net.biases]
    g_before = [x.copy() for x in g.weights + g.biases + g.hidden_flow]
    opt = gspace.GSGD(lr=0.01, **kwargs)
    opt.step(opt.step(net, g), g)
    v = basis_path_values(net)
    dv = inverse_chain_rule(net, g)
    v_copy = [x.copy() for x in v.weights + v.biases]
    v_new = update_path_values(v, dv, 0.1)
    weight_allocation(net, path_ratios(v, v_new), v_new)
    for x, y in zip(net.weights + net.biases, before):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(g.weights + g.biases + g.hidden_flow, g_before):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(v.weights + v.biases, v_copy):
        np.testing.assert_array_equal(x, y)


def test_lr_is_read_at_every_step():
    net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    opt = gspace.GSGD(lr=0.1)
    opt.lr = 0.02
    a = opt.step(net, g)
    b = gspace.GSGD(lr=0.02).step(net, g)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"lr": 0.0}, ValueError, "> 0"),
        ({"lr": -1.0}, ValueError, "> 0"),
        ({"lr": "0.1"}, TypeError, "real number"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, r"\[0, 1\)"),
        ({"lr": 0.1, "momentum": -0.1}, ValueError, r"\[0, 1\)"),
        ({"lr": 0.1, "weight_decay": -1e-4}, ValueError, ">= 0"),
        ({"lr": 0.1, "skeleton": "paper"}, TypeError, "Skeleton"),
    ],
)
def test_bad_hyperparameters(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        gspace.GSGD(**kwargs)


def test_bad_grads_and_skeleton_rejected_and_state_unchanged():
    net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    opt = gspace.GSGD(lr=0.1, momentum=0.5)
    opt.step(net, g)
    buf = [x.copy() for x in opt.state["momentum_buffer"]]
    bad = [
        (Gradients([g.weights[0]]), "weight layers"),
        (Gradients([g.weights[0].T, g.weights[1]]), "shape"),
        (Gradients([g.weights[0] * np.nan, g.weights[1]]), "non-finite"),
        (Gradients(g.weights, [np.zeros(4), np.zeros(2)]), "biases"),
    ]
    for gr, words in bad:
        with pytest.raises(ValueError, match=words):
            opt.step(net, gr)
    with pytest.raises(TypeError, match="structure"):
        opt.step(net, [g.weights])
    with pytest.raises(TypeError, match="MLP"):
        opt.step(net.weights, g)
    wrong = gspace.GSGD(lr=0.1, skeleton=gspace.Skeleton.default([3, 5, 2]))
    with pytest.raises(ValueError, match="widths"):
        wrong.step(net, g)
    for x, y in zip(opt.state["momentum_buffer"], buf):
        np.testing.assert_array_equal(x, y)
    other = gspace.MLP([3, 5, 2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="momentum buffer"):
        opt.step(other, other.loss_and_gradients(X, Y)[1])


def test_stage_functions_reject_bad_input():
    net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    v = basis_path_values(net)
    with pytest.raises(TypeError, match="MLP"):
        basis_path_values(net.weights)
    with pytest.raises(TypeError, match="Skeleton"):
        rho_in(net, skeleton="default")
    with pytest.raises(ValueError, match="widths"):
        rho_out(net, skeleton=gspace.Skeleton.default([3, 5, 2]))
    with pytest.raises(ValueError, match="> 0"):
        update_path_values(v, v, 0.0)
    with pytest.raises(TypeError, match="PathArrays"):
        update_path_values(v.weights, v, 0.1)
    with pytest.raises(ValueError, match="layout"):
        update_path_values(v, PathArrays(v.weights), 0.1)
    with pytest.raises(ValueError, match="non-finite"):
        update_path_values(v, PathArrays([w * np.nan for w in v.weights], v.biases), 0.1)
    with pytest.raises(ValueError, match="layout"):
        path_ratios(v, PathArrays(v.weights))
    with pytest.raises(ValueError, match="shape"):
        path_ratios(v, PathArrays([v.weights[0].T, v.weights[1]], v.biases))
    one = PathArrays([np.ones_like(w) for w in v.weights], [np.ones_like(b) for b in v.biases])
    with pytest.raises(ValueError, match="shape"):
        weight_allocation(net, one, PathArrays([v.weights[0].T, v.weights[1]], v.biases))
    with pytest.raises(ValueError, match="non-finite"):
        weight_allocation(net, one, PathArrays([v.weights[0] * np.inf, v.weights[1]], v.biases))
    with pytest.raises(ValueError, match="biases"):
        weight_allocation(net, one, PathArrays(v.weights))
    with pytest.raises(ValueError, match=r"R\.weights\[0\] contains non-finite"):
        weight_allocation(net, PathArrays([one.weights[0] * np.inf, v.weights[1]], v.biases), v)
    with pytest.raises(ValueError, match="node 1 of layer 1"):
        weight_allocation(
            net, PathArrays([one.weights[0] * [1, 0, 1, 1], one.weights[1]], one.biases), v
        )


# ----------------------------------------------------------------------------- deep nets
def test_deep_network_trains_100_steps_without_overflow():
    """Issue 4 item 6: 20 hidden layers of width 8 train for 100 steps at a sensible learning
    rate (0.01) from He initialisation with the skeleton weights set to 1: no overflow, every
    weight finite, the loss falls by more than a factor 10 (from 947 to 1.52 when measured)."""
    rng = np.random.default_rng(0)
    widths = [8] + [8] * 20 + [3]
    net = gspace.skeleton_unit(gspace.MLP(widths, rng=rng))
    X = rng.normal(size=(64, 8))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    opt = gspace.GSGD(lr=0.01)
    first = net.loss(X, y, "cross_entropy")
    for _ in range(100):
        _, g = net.loss_and_gradients(X, y, "cross_entropy")
        net = opt.step(net, g)
    assert all(np.all(np.isfinite(w)) for w in net.weights)
    v = basis_path_values(net)
    assert all(np.all(np.isfinite(x)) for x in v.weights)
    assert net.loss(X, y, "cross_entropy") < 0.1 * first
