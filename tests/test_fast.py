"""The fast G-SGD (gspace.fast.GSGD, the default gspace.GSGD) equals the core and the
explicit-matrix route: one implementation of the mathematics, a faster variant tested equal."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace import explicit
from gspace.core import gsgd
from gspace.core.network import Gradients

from . import _gsgd_helpers as H
from . import strategies as gst

# random weights in [0.3, 1.5] on purpose: equality, not training, is what is tested here
pytestmark = pytest.mark.filterwarnings("ignore::gspace.validation.IllConditionedWarning")

ARCH = gst.widths(min_layers=2, max_layers=5, min_width=1, max_width=5)


def _rel(a, b) -> float:
    """max |a - b| / max |a| over all parameters of two networks."""
    x, y = (np.concatenate([p.ravel() for p in n.weights + (n.biases or [])]) for n in (a, b))
    return float(np.max(np.abs(x - y)) / max(1e-300, np.max(np.abs(x))))


def _case(ws_sk, bias, seed, loss="mse"):
    widths, sk = ws_sk
    rng = np.random.default_rng(seed)
    ws = [
        rng.uniform(0.3, 1.5, (a, b)) * rng.choice([-1.0, 1.0], (a, b))
        for a, b in zip(widths[:-1], widths[1:])
    ]
    bs = [rng.uniform(0.2, 1.0, b) * rng.choice([-1.0, 1.0], b) for b in widths[1:]]
    net = gspace.MLP.from_weights(ws, bs if bias else None)
    X, Y = gst.batch(net, 8, seed, loss)
    _, grads = net.loss_and_gradients(X, Y, loss)
    v, dv = gsgd.basis_path_values(net, sk), gsgd.inverse_chain_rule(net, grads, sk)
    ratio = max(np.max(np.abs(d / x)) for d, x in zip(dv.weights, v.weights))
    return net, sk, grads, 0.1 / max(ratio, 1.0)  # moves a basis-path value by <= 10%


@given(
    gst.skeletons(ARCH) | ARCH.map(lambda w: (w, None)),
    st.booleans(),
    gst.seeds(),
    st.sampled_from(["mse", "cross_entropy"]),
)
def test_fast_equals_core_equals_explicit(ws_sk, bias, seed, loss):
    """A1 for all three: gspace.GSGD (fused, flows from back-propagation) = core gsgd_step
    (the stages in order) = explicit matrices (triangular solves), to 1e-12 relative, for
    equal and unequal widths, random pi and sigma, with and without biases."""
    net, sk, grads, lr = _case(ws_sk, bias, seed, loss)
    fast = gspace.GSGD(lr=lr, skeleton=sk).step(net, grads)
    core = gsgd.gsgd_step(net, grads, lr, sk)
    matrices = explicit.explicit_gsgd_step(net, grads, lr, sk)
    assert _rel(core, fast) < 1e-12
    assert _rel(core, matrices) < 1e-12


def _core_step_with_momentum(net, grads, sk, lr, mu, wd, buffer):
    """The core stages with the authors' momentum and weight decay written out: weight decay
    on the non-skeleton basis-path values, momentum on dl/dv, then update and WA."""
    sk = sk or gspace.Skeleton.default(net.widths)
    v, d = gsgd.basis_path_values(net, sk), gsgd.inverse_chain_rule(net, grads, sk)
    dw = []
    for l, (x, g) in enumerate(zip(v.weights, d.weights)):
        decayed = ~(H.pure_pi_mask(sk, l) | sk.sigma_mask(l))
        dw.append(g + wd * x * decayed)
    db = [g + wd * x for x, g in zip(v.biases or [], d.biases or [])]
    flat = dw + db
    buffer = flat if buffer is None else [mu * b + x for b, x in zip(buffer, flat)]
    L = len(dw)
    step = gsgd.PathArrays(buffer[:L], buffer[L:] if net.biases is not None else None)
    new = H.allocate(net, gsgd.update_path_values(v, step, lr), sk)
    return new, buffer


@given(
    gst.skeletons(ARCH) | ARCH.map(lambda w: (w, None)),
    st.booleans(),
    gst.seeds(),
    st.sampled_from([(0.9, 0.0), (0.0, 0.01), (0.5, 0.1)]),
)
def test_fast_momentum_and_weight_decay_equal_the_core_stages(ws_sk, bias, seed, hyper):
    """Momentum and weight decay (authors' code): three fused steps equal three steps of the
    core stages with the penalty and the momentum buffer written out, to 1e-12."""
    mu, wd = hyper
    net, sk, grads, lr = _case(ws_sk, bias, seed)
    lr *= 0.3
    opt = gspace.GSGD(lr=lr, momentum=mu, weight_decay=wd, skeleton=sk)
    a = b = net
    buffer = None
    for _ in range(3):
        a = opt.step(a, grads)
        b, buffer = _core_step_with_momentum(b, grads, sk, lr, mu, wd, buffer)
        assert _rel(b, a) < 1e-12


def test_gradients_without_flows_take_the_summing_route():
    """Hand-made gradients have no hidden_flow; the fast step sums w * g and still equals the
    core (and differs from a step that would trust the wrong flows)."""
    net = gspace.MLP([3, 5, 4, 2], rng=np.random.default_rng(0))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    noisy = Gradients([x + 1e-3 * np.random.default_rng(1).normal(size=x.shape) for x in g.weights])
    assert noisy.hidden_flow is None
    a = gspace.GSGD(lr=0.05).step(net, noisy)
    assert _rel(gsgd.gsgd_step(net, noisy, 0.05), a) < 1e-12
    assert _rel(gsgd.gsgd_step(net, g, 0.05), a) > 1e-6


def test_flows_hold_only_for_the_network_they_were_computed_with():
    """Flows are sums of w * g for the weights back-propagation ran with; stepping another
    network with those gradients must not use them (the step equals the core step)."""
    net = gspace.MLP([3, 5, 4, 2], bias=True, rng=np.random.default_rng(0))
    other = gspace.MLP([3, 5, 4, 2], bias=True, rng=np.random.default_rng(1))
    X, Y = gst.batch(net, 8, 0, "mse")
    _, g = net.loss_and_gradients(X, Y)
    assert g.flows_for(net.weights) is not None and g.flows_for(other.weights) is None
    assert g.flows_for(net.copy().weights) is None  # equal values, other arrays
    a = gspace.GSGD(lr=0.01).step(other, g)
    assert _rel(gsgd.gsgd_step(other, g, 0.01), a) < 1e-12


@given(st.booleans(), gst.seeds(), st.sampled_from([[1, 1], [1, 2], [2, 1]]))
def test_one_gsgd_for_mlps_and_cnns(bias, seed, strides):
    """Layers with parallel edges (conv kernels (C_in, C_out, k, k), the skeleton at the centre
    tap) go through the same core stages and the same fast step: fast = core, and after WA
    every basis-path value (off the sigma-edges) is v - lr dl/dv (W1 on the channel graph)."""
    rng = np.random.default_rng(seed)
    net = gspace.PlainCNN(
        2, [3, 4], kernel_size=3, strides=strides, n_classes=3, bias=bias, rng=rng
    )
    X, y = rng.normal(size=(4, 2, 5, 5)), rng.integers(0, 3, size=4)
    _, g = net.loss_and_gradients(X, y, "cross_entropy")
    assert g.flows_for(net.weights) is not None  # the CNN's backward hands over its flows
    core = gsgd.gsgd_step(net, g, 1e-3)
    assert _rel(core, gspace.GSGD(lr=1e-3).step(net, g)) < 1e-12
    v, dv = gsgd.basis_path_values(net), gsgd.inverse_chain_rule(net, g)
    want, got = gsgd.update_path_values(v, dv, 1e-3), gsgd.basis_path_values(core)
    sk = gspace.Skeleton.default(net.widths)
    for l, (a, b) in enumerate(zip(got.weights, want.weights)):
        keep = np.ones(a.shape, dtype=bool)
        if l >= 1:  # the sigma-edges leave the hidden layers
            centre = tuple(k // 2 for k in a.shape[2:])
            keep[(np.arange(a.shape[0]), sk.sigma[l], *centre)] = False
        np.testing.assert_allclose(a[keep], b[keep], rtol=1e-10, atol=1e-14)


def test_one_scalar_result_check_falls_back_to_the_per_array_check():
    """The result is tested by one scalar, sum w^2: a non-finite weight gives exactly the
    per-array check's error (the one SGD raises), the state unchanged; finite weights whose
    squares overflow the sum still step, equal to the core step."""
    sk = gspace.Skeleton.default([3, 2, 2])
    i = next(i for i in range(3) if i != sk.pi[1][0])  # weights[0][i, 0]: not a skeleton edge
    net = gspace.MLP.from_weights([np.full((3, 2), 0.5), np.full((2, 2), 0.5)])
    g0 = np.zeros((3, 2))
    g0[i, 0] = 10.0  # no skeleton-edge gradient: u = 0, every ratio R = 1
    grads = Gradients([g0, np.zeros((2, 2))])
    errors = []
    for opt in (gspace.SGD(lr=1e308), gspace.GSGD(lr=1e308, momentum=0.5)):
        with pytest.raises(FloatingPointError, match="non-finite weights in layer 0") as info:
            opt.step(net, grads)
        assert opt.state == {}
        errors.append(str(info.value))
    assert errors[1] == "G" + errors[0]
    w0 = net.weights[0].copy()
    w0[i, 0] = 1e160  # (1e160)^2 overflows: the fallback finds every weight finite
    huge = gspace.MLP.from_weights([w0, net.weights[1]])
    small = Gradients([0.1 * np.ones((3, 2)), 0.1 * np.ones((2, 2))])
    fast, core = gspace.GSGD(lr=0.01).step(huge, small), gsgd.gsgd_step(huge, small, 0.01)
    for a, b in zip(fast.weights, core.weights):
        assert np.all(np.isfinite(a)) and np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


@pytest.mark.parametrize("values", [[0.0099], [0.0101], [0.0101] * 2, [0.0125, 2.0, 0.0099]])
def test_conditioning_warning_is_decided_by_the_smallest_path_value(values):
    """The cheap pre-test (sum 1/v^2 < 99^2) only skips the check when every |v| > 0.01; the
    warning comes exactly when the smallest skeleton-path value is below 0.01."""
    n = len(values)  # one hidden layer: v_j = w(0 -> j) * w(j -> 0) = values[j]
    net = gspace.MLP.from_weights([np.array([values]), np.ones((n, 1))])
    grads = Gradients([np.full((1, n), 1e-6), np.full((n, 1), 1e-6)])
    assert np.allclose(gsgd.basis_path_values(net).weights[0], values)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gspace.GSGD(lr=0.01).step(net, grads)
    warned = [w for w in caught if issubclass(w.category, gspace.validation.IllConditionedWarning)]
    assert len(warned) == (min(values) < 0.01)
