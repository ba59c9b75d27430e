"""PlainCNN: forward pass against a loop convolution, back-propagation against finite
differences, the channel scaling invariance (claim C1), the channel graph, bad input."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import gspace
from gspace.cnn import channel_graph, draw_channel_graph
from gspace.testing import away_from_kinks, check_gradients, rel_error

from . import strategies as gst


def images(net, size, n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, net.widths[0], size, size)), rng.integers(0, net.widths[-1], n)


def loop_forward(net, X):
    """Independent reference: the network written with explicit loops over positions, in
    NCHW layout, with the padding done by hand."""
    a = X
    for l, W in enumerate(net.weights[:-1]):
        k, s, P = W.shape[2], net.strides[l], net.pool[l]
        p = k // 2
        n, C, H, Wd = a.shape
        ap = np.zeros((n, C, H + 2 * p, Wd + 2 * p))
        ap[:, :, p : p + H, p : p + Wd] = a
        z = np.zeros((n, W.shape[1], (H - 1) // s + 1, (Wd - 1) // s + 1))
        for j in range(W.shape[1]):
            for y in range(z.shape[2]):
                for x in range(z.shape[3]):
                    patch = ap[:, :, s * y : s * y + k, s * x : s * x + k]
                    z[:, j, y, x] = np.sum(patch * W[:, j], axis=(1, 2, 3))
                    z[:, j, y, x] += net.biases[l][j] if net.has_bias else 0.0
        a = np.maximum(z, 0.0)
        pooled = np.zeros(a.shape[:2] + (a.shape[2] // P, a.shape[3] // P))
        for y in range(pooled.shape[2]):
            for x in range(pooled.shape[3]):
                pooled[:, :, y, x] = a[:, :, P * y : P * y + P, P * x : P * x + P].mean(axis=(2, 3))
        a = pooled
    out = a.mean(axis=(2, 3)) @ net.weights[-1]
    return out + net.biases[-1] if net.has_bias else out


@given(arch=gst.cnns(), seed=gst.seeds())
def test_forward_matches_loop_convolution(arch, seed):
    """im2col forward equals the convolution written as loops over output positions."""
    net, size = arch
    X, _ = images(net, size, 3, seed)
    assert rel_error(net.forward(X), loop_forward(net, X), norm=True) < 1e-12


def test_convolution_is_cross_correlation_with_zero_padding():
    """A kernel with a single 1 at tap (0, 0) shifts the image down and right by one pixel
    (cross-correlation, as torch's conv2d; a flipped kernel would shift it up and left)."""
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    W = np.zeros((1, 1, 3, 3))
    W[0, 0, 0, 0] = 1.0
    z = gspace.cnn.conv2d_forward(X, W, 1)
    expected = np.zeros((4, 4))
    expected[1:, 1:] = X[0, 0, :3, :3]
    np.testing.assert_array_equal(z[0, 0], expected)
    z2 = gspace.cnn.conv2d_forward(X, W, 2)
    np.testing.assert_array_equal(z2[0, 0], expected[::2, ::2])
    box = gspace.cnn.conv2d_forward(np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 3, 3)), 1)
    np.testing.assert_array_equal(box[0, 0], [[8, 15, 12], [21, 36, 27], [20, 33, 24]])  # 3x3 sums


def test_shape_facts_of_the_channel_graph_and_from_weights():
    """widths, m (kernel entries and output weights) and H (hidden channels) are those of the
    channel graph; from_weights builds the network the weights describe."""
    net = gspace.PlainCNN(1, [4, 8], strides=[1, 2], n_classes=3, rng=np.random.default_rng(0))
    assert net.forward(np.ones((2, 1, 6, 6))).shape == (2, 3)
    assert (net.widths, net.m, net.H) == ([1, 4, 8, 3], 4 * 9 + 32 * 9 + 24, 12)
    net = gspace.PlainCNN.from_weights([np.ones((1, 2, 1, 1)), np.ones((2, 1))])
    assert float(net.forward(np.full((1, 1, 2, 2), 3.0))[0, 0]) == 6.0  # 2 channels of 3


def test_chunked_im2col_equals_one_chunk(monkeypatch):
    """Processing the batch image by image (the cache-sized chunks) changes nothing."""
    net = gspace.PlainCNN(2, [3, 4], strides=[2, 1], bias=True, rng=np.random.default_rng(0))
    X, y = images(net, 7, 5, 0)
    _, g = net.loss_and_gradients(X, y)
    monkeypatch.setattr(gspace.cnn, "CHUNK_BYTES", 1)
    _, g1 = net.loss_and_gradients(X, y)
    for a, b in zip(
        [*g.weights, *g.biases, *g.hidden_flow], [*g1.weights, *g1.biases, *g1.hidden_flow]
    ):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def tap_matrices(H, Wd, k, s):
    """Per tap ``(a, b)`` the 0/1 matrix taking an image ``(H, Wd)`` (flat) to the pixels tap
    ``(a, b)`` reads at each output position (flat), zero where it reads the padding."""
    p, Ho, Wo = k // 2, (H - 1) // s + 1, (Wd - 1) // s + 1
    S = np.zeros((k, k, Ho * Wo, H * Wd))
    for a, b, y, x in np.ndindex(k, k, Ho, Wo):
        u, v = s * y + a - p, s * x + b - p
        if 0 <= u < H and 0 <= v < Wd:
            S[a, b, y * Wo + x, u * Wd + v] = 1.0
    return S


@pytest.mark.parametrize("chunk_bytes", [1, 1500, 4000, 2**20])
@pytest.mark.parametrize(
    "H, Wd, k, s",
    [(5, 4, 3, 1), (6, 7, 3, 2), (7, 5, 5, 2), (8, 6, 3, 3), (5, 5, 1, 2), (3, 4, 3, 5)],
)
def test_conv2d_forward_and_backward_equal_the_explicit_tap_matrices(
    H, Wd, k, s, chunk_bytes, monkeypatch
):
    """With per-tap selection matrices S_ab: z = sum W_ab^T S_ab x, dx = sum W_ab S_ab^T dz and
    dW_ab = sum_n (S_ab x) dz^T, for strides up to beyond the kernel, the batch of 7 images in
    chunks of one image, of a few (some of unequal sizes: 4 + 3, 3 + 3 + 1) or all."""
    rng = np.random.default_rng(H * Wd + k + s)
    x, W = rng.normal(size=(7, 2, H, Wd)), rng.normal(size=(2, 3, k, k))
    S = tap_matrices(H, Wd, k, s)
    xs = np.einsum("abqp,nip->nabiq", S, x.reshape(7, 2, -1))  # what each tap reads
    z = np.einsum("nabiq,ijab->njq", xs, W)
    dz = rng.normal(size=z.shape)
    dx = np.einsum("abqp,ijab,njq->nip", S, W, dz)
    dW = np.einsum("nabiq,njq->ijab", xs, dz)
    Ho, Wo = (H - 1) // s + 1, (Wd - 1) // s + 1
    monkeypatch.setattr(gspace.cnn, "CHUNK_BYTES", chunk_bytes)
    z1 = gspace.cnn.conv2d_forward(x, W, s)
    dW1, dx1 = gspace.cnn.conv2d_backward(dz.reshape(z1.shape), x, W, s)
    dW2, none = gspace.cnn.conv2d_backward(dz.reshape(z1.shape), x, W, s, input_grad=False)
    assert z1.shape == (7, 3, Ho, Wo) and dx1.shape == x.shape and none is None
    assert rel_error(z1, z.reshape(z1.shape), norm=True) < 1e-12
    assert rel_error(dx1, dx.reshape(x.shape), norm=True) < 1e-12
    assert rel_error(dW1, dW, norm=True) < 1e-12 and np.array_equal(dW1, dW2)


@given(arch=gst.cnns(), seed=gst.seeds(), loss=st.sampled_from(["mse", "cross_entropy"]))
def test_backprop_matches_finite_differences(arch, seed, loss):
    """Back-propagated gradients of every kernel entry and bias equal centred finite
    differences (relative error of the whole vector < 1e-6), away from ReLU kinks."""
    net, size = arch
    X, y = images(net, size, 4, seed)
    keep = away_from_kinks(net, X, margin=1e-3)
    assume(keep.sum() >= 1)
    Y = np.random.default_rng(seed).normal(size=(4, net.widths[-1])) if loss == "mse" else y
    err, _, _ = check_gradients(net, X[keep], Y[keep], loss=loss, h=1e-6)
    assert err < 1e-6


@given(arch=gst.cnns(), seed=gst.seeds())
def test_C1_channel_scaling_invariance(arch, seed):
    """C1: multiplying the in-kernels and bias of hidden channel j by c_j > 0 and its
    out-kernels (or output-matrix row) by 1/c_j leaves the function unchanged, with zero
    padding, strides and average pooling."""
    net, size = arch
    X, _ = images(net, size, 3, seed)
    rng = np.random.default_rng(seed)
    ws = [w.copy() for w in net.weights]
    bs = [b.copy() for b in net.biases] if net.has_bias else None
    for l in range(1, net.L):
        c = np.exp(rng.uniform(0.3, 2, net.widths[l]) * rng.choice([-1, 1], net.widths[l]))
        ws[l - 1] *= c[None, :, None, None]
        ws[l] *= (1 / c).reshape((-1,) + (1,) * (ws[l].ndim - 1))
        if bs is not None:
            bs[l - 1] *= c
    scaled = gspace.PlainCNN.from_weights(ws, net.strides, bs, net.pool)
    assert rel_error(scaled.forward(X), net.forward(X), norm=True) < 1e-12
    assert rel_error(scaled.weights[0], net.weights[0]) > 1e-3  # the weights did change


@given(arch=gst.cnns(), seed=gst.seeds())
def test_hidden_flow_is_sum_of_w_times_g_over_in_and_out_kernels(arch, seed):
    """Back-propagation's per-channel sum of z * dl/dz over batch and positions equals the
    sum of w * dl/dw over the channel's in-kernels and bias, and (balance identity I2 on the
    channel graph) over its out-kernels."""
    net, size = arch
    X, y = images(net, size, 3, seed)
    _, g = net.loss_and_gradients(X, y)
    for l in range(1, net.L):
        F_in = net.weights[l - 1] * g.weights[l - 1]
        s_in = F_in.sum(axis=(0, 2, 3)) + (
            net.biases[l - 1] * g.biases[l - 1] if net.has_bias else 0
        )
        F_out = net.weights[l] * g.weights[l]
        s_out = F_out.reshape(F_out.shape[0], -1).sum(axis=1)
        scale = np.abs(F_in).sum() + np.abs(F_out).sum() + 1e-300
        assert np.max(np.abs(g.hidden_flow[l - 1] - s_in)) <= 1e-12 * scale
        assert np.max(np.abs(g.hidden_flow[l - 1] - s_out)) <= 1e-12 * scale


@given(net=gst.networks(gst.widths(min_layers=2)), seed=gst.seeds())
def test_mlp_is_the_cnn_with_1x1_kernels_on_1x1_images(net, seed):
    """An MLP is the PlainCNN with k = 1 on 1x1 images: same logits, gradients, flows."""
    ws = [w[:, :, None, None] for w in net.weights[:-1]] + [net.weights[-1]]
    cnn = gspace.PlainCNN.from_weights(ws, biases=net.biases)
    X, y = gst.batch(net, 5, seed, "cross_entropy")
    loss, g = net.loss_and_gradients(X, y, loss="cross_entropy")
    loss_c, g_c = cnn.loss_and_gradients(X[:, :, None, None], y)
    assert abs(loss - loss_c) <= 1e-12 * max(1, abs(loss))
    for a, b in zip([*g.weights, *g.hidden_flow], [*g_c.weights, *g_c.hidden_flow]):
        np.testing.assert_allclose(b.reshape(a.shape), a, rtol=1e-10, atol=1e-13)


def test_he_initialization_and_skeleton_unit_start():
    """He: kernel entries have variance 2 / (C_in k^2). Skeleton-unit: exactly the centre
    taps of the skeleton channel pairs become 1, everything else is He's."""
    net = gspace.PlainCNN(8, [16, 16], strides=[1, 2], rng=np.random.default_rng(0))
    assert abs(net.weights[1].var() / (2 / (16 * 9)) - 1) < 0.1
    sk = gspace.PlainCNN(
        8, [16, 16], strides=[1, 2], init="skeleton-unit", rng=np.random.default_rng(0)
    )
    assert net.strides == sk.strides == (1, 2)
    skel = gspace.Skeleton.default(net.widths)
    for l, (w, u) in enumerate(zip(net.weights, sk.weights)):
        mask = np.zeros(w.shape, bool)
        mask[(skel.pi_mask(l) | skel.sigma_mask(l), *(s // 2 for s in w.shape[2:]))] = True
        assert np.all(u[mask] == 1.0) and np.array_equal(u[~mask], w[~mask])
    assert np.all(sk.weights[1][np.arange(16), np.arange(16), 1, 1] == 1.0)


def test_accuracy_and_predict():
    net = gspace.PlainCNN(1, [3], n_classes=4, rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(6, 1, 5, 5))
    pred = net.predict(X)
    assert net.accuracy(X, pred) == 1.0
    assert net.accuracy(X, (pred + 1) % 4) == 0.0


def test_channel_graph_has_k2_parallel_edges_numbered_like_the_weights():
    """The channel graph: channels as nodes, k*k parallel edges per channel pair, one edge
    per kernel entry (edge index = position in the flat weights), centre-tap skeleton."""
    net = gspace.PlainCNN(
        2, [3, 4], kernel_size=[3, 1], n_classes=2, bias=True, rng=np.random.default_rng(0)
    )
    G = channel_graph(net)
    flat = np.concatenate([p.ravel() for p in [*net.weights, *net.biases]])
    assert G.number_of_edges() == flat.size == net.m + net.H + 2
    assert G.number_of_edges((0, 1), (1, 2)) == 9 and G.number_of_edges((1, 0), (2, 3)) == 1
    for *_, d in G.edges(data=True):
        assert d["weight"] == flat[d["edge"]]
    assert sorted(d["edge"] for *_, d in G.edges(data=True)) == list(range(flat.size))
    centre = G.edges[(1, 2), (2, 2), (0, 0)]
    assert centre["sigma"] and centre["pi"]  # the hidden-to-hidden diagonal, tap (0, 0) of 1x1
    assert G.edges[(0, 0), (1, 2), (1, 1)]["pi"]  # input 2 mod 2 = 0 -> channel 2, centre tap
    assert not G.edges[(0, 0), (1, 2), (0, 1)]["pi"]  # same pair, not the centre tap
    assert sum(d["sigma"] for *_, d in G.edges(data=True)) == net.H


def test_draw_channel_graph_draws_each_bundle_once():
    net = gspace.PlainCNN(1, [3, 3], n_classes=2, rng=np.random.default_rng(0))
    ax = draw_channel_graph(net)
    assert len(ax.lines) == 3 + 9 + 6  # one line per channel pair, not per tap
    assert sum(t.get_text() == "3x3" for t in ax.texts) == 12
    assert ax.get_title() == "channel graph [1, 3, 3, 2]: 114 edges in 18 bundles"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="too many"):
        draw_channel_graph(gspace.PlainCNN(1, [50, 50], rng=np.random.default_rng(0)))


# ---------------------------------------------------------------------- bad input
def good_weights():
    return [np.ones((2, 3, 3, 3)), np.ones((3, 4, 3, 3)), np.ones((4, 2))]


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda w: w.__setitem__(1, np.ones((3, 4, 2, 2))), ValueError, "even kernel size 2"),
        (lambda w: w.__setitem__(1, np.ones((3, 4, 3, 1))), ValueError, r"\(C_in, C_out, k, k\)"),
        (lambda w: w.__setitem__(1, np.ones((2, 4, 3, 3))), ValueError, "in-channels"),
        (lambda w: w[0].__setitem__((0, 0, 0, 0), np.nan), ValueError, "non-finite"),
        (lambda w: w[2].__setitem__((0, 0), np.inf), ValueError, "non-finite"),
        (lambda w: w.__setitem__(2, np.ones((4, 2, 1, 1))), ValueError, "output layer"),
        (lambda w: w.__setitem__(0, np.array([["a"]])), TypeError, "real numeric"),
        (lambda w: w.__delitem__(slice(1, 3)), TypeError, "at least one"),
    ],
)
def test_from_weights_rejects_bad_weights_and_modifies_nothing(change, error, match):
    weights = good_weights()
    change(weights)
    before = [w.copy() for w in weights]
    with pytest.raises(error, match=match):
        gspace.PlainCNN.from_weights(weights)
    for w, b in zip(weights, before):
        np.testing.assert_array_equal(w, b)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kernel_size": 4}, ValueError, "even kernel size 4"),
        ({"kernel_size": [3]}, ValueError, "kernel_size needs one entry per"),
        ({"strides": [1, 0]}, ValueError, "strides must be an integer >= 1, got 0"),
        ({"strides": [1, 1.5]}, ValueError, "strides must be an integer >= 1, got 1.5"),
        ({"pool": [1]}, ValueError, "pool needs one entry"),
        ({"channels": 4}, TypeError, "channels must be a list"),
        ({"channels": []}, ValueError, "at least one convolution"),
        ({"channels": [4, 0]}, ValueError, "must be >= 1"),
        ({"init": "xavier"}, ValueError, "unknown init"),
        ({"bias": 1}, TypeError, "bias must be"),
        ({"rng": 0}, TypeError, "numpy.random.Generator"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, error, match):
    args = {"in_channels": 2, "channels": [3, 4], "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=match):
        gspace.PlainCNN(**args)


def test_bad_images_are_rejected_before_any_work():
    net = gspace.PlainCNN.from_weights(good_weights(), strides=[2, 2], pool=[1, 2])
    before = [w.copy() for w in net.weights]
    y = np.zeros(2, int)
    with pytest.raises(ValueError, match=r"shape \(n, 2, H, W\)"):
        net.loss_and_gradients(np.ones((2, 3, 8, 8)), y)  # 3 channels, the net takes 2
    with pytest.raises(ValueError, match=r"shape \(n, 2, H, W\)"):
        net.forward(np.ones((2, 8, 8)))
    with pytest.raises(ValueError, match="too small for this network: conv layer 2 outputs 1x1"):
        net.forward(np.ones((2, 2, 3, 3)))  # 3 -> 2 -> 1 pixels, pooled by 2
    with pytest.raises(ValueError, match="non-finite"):
        net.forward(np.full((2, 2, 8, 8), np.nan))
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        net.loss_and_gradients(np.ones((2, 2, 8, 8)), np.array([0, 2]))
    assert net.forward(np.ones((2, 2, 5, 5))).shape == (2, 2)  # 5 -> 3 -> 2, pooled to 1
    for w, b in zip(net.weights, before):
        np.testing.assert_array_equal(w, b)


def _mlp_only_calls():
    from gspace import explicit, initialization
    from gspace.core import paths, sufficiency
    from gspace.core.basis import network_graph
    from gspace.plotting import draw_network

    net = gspace.PlainCNN(2, [3, 3], init="skeleton-unit", rng=np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(4, 2, 5, 5))
    _, g = net.loss_and_gradients(X, np.arange(4))
    return net, {
        "explicit_gsgd_step": lambda: explicit.explicit_gsgd_step(net, g, 0.1),
        "gspace_coordinates": lambda: explicit.gspace_coordinates(net),
        "path_values": lambda: paths.path_values(net, [(0, 0, 0, 0)]),
        "network_from_paths": lambda: paths.network_from_paths(net, X),
        "find_scaling": lambda: sufficiency.find_scaling(net, net),
        "normalize_skeleton_out_weights": lambda: initialization.normalize_skeleton_out_weights(
            net
        ),
        "balance": lambda: initialization.balance(net),
        "structure_matrix": lambda: paths.structure_matrix(net),
        "network_graph": lambda: network_graph(net),
        "draw_network": lambda: draw_network(net),
    }


@pytest.mark.parametrize("name", list(_mlp_only_calls()[1]))
def test_a_plain_cnn_where_only_an_mlp_is_supported_is_a_clear_type_error(name):
    """Routes written for MLPs (node paths, their explicit matrices, S1, G transformations
    by sigma-edges) refuse a PlainCNN by name, pointing to the channel graph's routes."""
    net, calls = _mlp_only_calls()
    before = [w.copy() for w in net.weights]
    with pytest.raises(TypeError, match="must be a gspace.MLP here, got a PlainCNN"):
        calls[name]()
    assert all(np.array_equal(w, b) for w, b in zip(net.weights, before))


@pytest.mark.parametrize("call", [channel_graph, draw_channel_graph, gspace.cnn.ChannelMatrices])
def test_an_mlp_where_only_a_plain_cnn_is_supported_is_a_clear_type_error(call):
    with pytest.raises(TypeError, match="must be a gspace.PlainCNN, got MLP"):
        call(gspace.MLP([2, 3, 2], rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):  # images for an MLP
        gspace.MLP([2, 3, 2]).forward(np.ones((1, 2, 4, 4)))


def _backward_setting():
    rng = np.random.default_rng(0)
    net = gspace.PlainCNN(2, [3], n_classes=2, rng=rng)  # L = 2, as the MLP [2, 3, 2]
    mlp = gspace.MLP([2, 3, 2], rng=rng)
    X, Xm = rng.normal(size=(4, 2, 5, 5)), rng.normal(size=(4, 2))
    return net, mlp, net.forward_cache(X), mlp.forward_cache(Xm)


@pytest.mark.parametrize(
    "case, error, match",
    [
        ("no cache", TypeError, "ForwardCache of net.forward_cache.X. for this PlainCNN, got None"),
        ("an MLP's cache", TypeError, r"cache of another network \(inputs of shape \(4, 2\)\)"),
        ("delta of 3 images", ValueError, r"shape of the logits \(4, 2\)"),
        ("delta nan", ValueError, "delta contains non-finite"),
        ("delta text", TypeError, "delta must be a real numeric array"),
        ("the MLP given a CNN's cache", TypeError, "for this MLP, got the cache of another"),
    ],
)
def test_backward_refuses_what_the_mlps_refuses_and_modifies_nothing(case, error, match):
    """PlainCNN.backward checks its cache and delta as MLP.backward does (the same code), and
    each network refuses the other's cache, whose arrays would otherwise be misread."""
    net, mlp, cache, mlp_cache = _backward_setting()
    delta = np.ones((4, 2))
    call = {
        "no cache": lambda: net.backward(None, delta),
        "an MLP's cache": lambda: net.backward(mlp_cache, delta),
        "delta of 3 images": lambda: net.backward(cache, np.ones((3, 2))),
        "delta nan": lambda: net.backward(cache, np.full((4, 2), np.nan)),
        "delta text": lambda: net.backward(cache, np.full((4, 2), "x")),
        "the MLP given a CNN's cache": lambda: mlp.backward(cache, delta),
    }[case]
    before = [a.copy() for a in [*net.weights, *mlp.weights, *cache.a, *mlp_cache.a]]
    with pytest.raises(error, match=match):
        call()
    after = [*net.weights, *mlp.weights, *cache.a, *mlp_cache.a]
    assert all(np.array_equal(a, b) for a, b in zip(after, before))
    assert net.backward(cache, delta).weights[0].shape == net.weights[0].shape  # a good call
