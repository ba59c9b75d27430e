"""The path graph (networkx): attributes, paths through networkx, DP path counts, drawing."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gspace
from gspace.core.basis import count_paths_dp, graph_paths, network_graph
from gspace.core.paths import count_paths, enumerate_paths
from gspace.plotting import draw_network

from . import strategies as gst

SMALL = gst.widths(min_layers=1, max_layers=4, min_width=1, max_width=4)


@given(SMALL, st.booleans())
def test_networkx_paths_equal_itertools_paths(widths, bias):
    """Paths listed by nx.all_simple_paths equal the itertools enumeration (bias paths too)."""
    G = network_graph(widths, bias=bias)
    assert graph_paths(G) == enumerate_paths(widths, bias=bias)


@given(gst.widths(min_layers=1, max_layers=6, min_width=1, max_width=9), st.booleans())
def test_path_count_by_dynamic_programming(widths, bias):
    """The number of paths, counted on the graph by DP, is h_0 ... h_L (plus bias paths)."""
    assert count_paths_dp(network_graph(widths, bias=bias)) == count_paths(widths, bias=bias)


@given(gst.skeletons(SMALL.filter(lambda w: len(w) >= 3)))
def test_node_and_edge_attributes(ws_sk):
    widths, sk = ws_sk
    rng = np.random.default_rng(0)
    net = gspace.MLP(widths, bias=True, rng=rng)
    G = network_graph(net, sk)
    for l, h in enumerate(widths):
        for i in range(h):
            assert G.nodes[(l, i)]["layer"] == l and G.nodes[(l, i)]["index"] == i
    k = 0
    for l in range(net.L):
        for i in range(widths[l]):
            for j in range(widths[l + 1]):
                d = G.edges[(l, i), (l + 1, j)]
                assert d["weight"] == net.weights[l][i, j] and d["edge"] == k
                assert d["sigma"] == sk.sigma_mask(l)[i, j] and d["pi"] == sk.pi_mask(l)[i, j]
                assert d["skeleton"] == (d["sigma"] or d["pi"])
                k += 1
    assert G.edges[("bias", 0), (1, 0)]["weight"] == net.biases[0][0]


def test_draw_network_highlights_the_skeleton():
    fig, ax = plt.subplots()
    out = draw_network([3, 4, 4, 2], ax=ax)
    assert out is ax
    colors = [line.get_color() for line in ax.lines]
    # paper skeleton of 3-4-4-2: 4 pi-edges into layer 1, 4 diagonal edges (both), 4 sigma
    # edges into the outputs
    assert colors.count("tab:blue") == 4
    assert colors.count("tab:purple") == 4
    assert colors.count("tab:red") == 4
    assert len(ax.lines) == 36
    plt.close(fig)
    ax = draw_network(gspace.MLP([2, 3, 2], bias=True, rng=np.random.default_rng(0)))
    assert len(ax.lines) == 12 + 5
    plt.close(ax.figure)


def test_draw_refuses_huge_networks():
    with pytest.raises(ValueError, match="too many to draw"):
        draw_network([784, 64, 10])
    with pytest.raises(ValueError, match="needs a network with biases"):
        network_graph(gspace.MLP([2, 2], rng=np.random.default_rng(0)), bias=True)
