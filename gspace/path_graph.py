"""The network as a networkx graph: paths through networkx, path counting, the skeleton figure.

Nodes are ``(l, i)`` (node ``i`` of layer ``l``) with attributes ``layer`` and ``index``; with
biases, one constant node ``("bias", l)`` per layer ``l = 0..L-1`` feeds every node of layer
``l + 1`` (attributes ``layer=l``, ``index=-1``, ``bias=True``). Edges carry ``weight`` (if a
network is given), ``edge`` (index in the edge numbering), ``sigma`` and ``pi`` (whether the
edge is ``n -> sigma(n)`` or ``pi(n) -> n``) and ``skeleton`` (either).

A path of :mod:`gspace.paths` corresponds to a simple path of the graph from an input node
(or a bias node) to an output node; :func:`graph_paths` lists them with ``nx.all_simple_paths``
as an independent route, and :func:`count_paths_dp` counts them by dynamic programming over a
topological order (``count(n) = sum over predecessors``), without listing them.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .basis import resolve_skeleton
from .network import MLP, check_widths
from .paths import edge_offsets

__all__ = ["network_graph", "graph_paths", "count_paths_dp", "draw_network"]


def _widths_and_net(net_or_widths):
    if isinstance(net_or_widths, MLP):
        return net_or_widths.widths, net_or_widths
    return check_widths(net_or_widths), None


def network_graph(net_or_widths, skeleton=None, bias: bool | None = None) -> nx.DiGraph:
    """The layered network as a ``networkx.DiGraph``.

    Parameters
    ----------
    net_or_widths : MLP or sequence of int
        A network (edges get its ``weight``) or just widths.
    skeleton : Skeleton, optional
        Default :meth:`Skeleton.default` (the paper's skeleton for equal hidden widths).
    bias : bool, optional
        Add the constant bias nodes. Default: whether the network has biases (False for
        widths).

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    TypeError, ValueError
        For bad widths or a bad skeleton (see :func:`gspace.basis.resolve_skeleton`), or
        (ValueError) ``bias=True`` with a bias-free network.

    Examples
    --------
    >>> G = network_graph([3, 4, 4, 2])
    >>> G.number_of_nodes(), G.number_of_edges()
    (13, 36)
    >>> G.edges[(1, 2), (2, 2)]["sigma"], G.edges[(1, 2), (2, 0)]["sigma"]
    (True, False)
    """
    widths, net = _widths_and_net(net_or_widths)
    if bias is None:
        bias = net is not None and net.has_bias
    if bias and net is not None and not net.has_bias:
        raise ValueError("bias=True needs a network with biases (or pass widths)")
    sk = resolve_skeleton(widths, skeleton)
    L = len(widths) - 1
    offs = edge_offsets(widths)
    G = nx.DiGraph(widths=list(widths))
    for l, h in enumerate(widths):
        for i in range(h):
            G.add_node((l, i), layer=l, index=i, bias=False)
    for l in range(L):
        sig, pim = sk.sigma_mask(l), sk.pi_mask(l)
        for i in range(widths[l]):
            for j in range(widths[l + 1]):
                attrs = {
                    "edge": int(offs[l] + i * widths[l + 1] + j),
                    "sigma": bool(sig[i, j]),
                    "pi": bool(pim[i, j]),
                    "skeleton": bool(sig[i, j] or pim[i, j]),
                }
                if net is not None:
                    attrs["weight"] = float(net.weights[l][i, j])
                G.add_edge((l, i), (l + 1, j), **attrs)
    if bias:
        b0 = int(offs[-1])
        for l in range(L):
            G.add_node(("bias", l), layer=l, index=-1, bias=True)
            for j in range(widths[l + 1]):
                attrs = {"edge": b0 + j, "sigma": False, "pi": False, "skeleton": False}
                if net is not None:
                    attrs["weight"] = float(net.biases[l][j])
                G.add_edge(("bias", l), (l + 1, j), **attrs)
            b0 += widths[l + 1]
    return G


def graph_paths(G: nx.DiGraph) -> list:
    """All input-to-output (and bias-to-output) paths via ``nx.all_simple_paths``.

    Parameters
    ----------
    G : networkx.DiGraph
        From :func:`network_graph`.

    Returns
    -------
    list of tuple
        In the :mod:`gspace.paths` format ``(i_0, ..., i_L)``, ``-1`` before the start layer
        of a bias path; sorted like :func:`gspace.paths.enumerate_paths`.

    Examples
    --------
    >>> graph_paths(network_graph([2, 1, 2]))
    [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 0, 1)]
    """
    widths = G.graph["widths"]
    L = len(widths) - 1
    outputs = [(L, k) for k in range(widths[L])]
    sources = [n for n, d in G.nodes(data=True) if d["bias"] or d["layer"] == 0]
    out = []
    for s in sources:
        for p in nx.all_simple_paths(G, s, outputs):
            idx = [-1] * (L + 1)
            for node in p:
                if G.nodes[node]["bias"]:
                    continue
                idx[G.nodes[node]["layer"]] = G.nodes[node]["index"]
            out.append(tuple(idx))
    weight_paths = sorted(p for p in out if p[0] >= 0)
    bias_paths = sorted((p for p in out if p[0] < 0), key=lambda p: (p.count(-1), p))
    return weight_paths + bias_paths


def count_paths_dp(G: nx.DiGraph) -> int:
    """Number of source-to-output paths by dynamic programming on a topological order.

    Parameters
    ----------
    G : networkx.DiGraph
        From :func:`network_graph`.

    Returns
    -------
    int
        Exact. ``count(n) = 1`` for a source (input or bias node), else the sum of ``count``
        over the predecessors; the answer is the sum over the outputs.

    Examples
    --------
    >>> count_paths_dp(network_graph([784, 64, 64, 64, 64, 10]))
    131533373440
    """
    count = {}
    for n in nx.topological_sort(G):
        preds = list(G.predecessors(n))
        count[n] = 1 if not preds else sum(count[q] for q in preds)
    L = len(G.graph["widths"]) - 1
    return sum(count[(L, k)] for k in range(G.graph["widths"][L]))


def draw_network(net_or_widths, skeleton=None, ax=None, max_nodes: int = 200, show_bias=None):
    """Draw the layered network with the skeleton weights highlighted (the paper's figure).

    Parameters
    ----------
    net_or_widths : MLP or sequence of int
        With a network, edge widths follow ``|w|`` and colours the sign.
    skeleton : Skeleton, optional
        Default :meth:`Skeleton.default`.
    ax : matplotlib.axes.Axes, optional
        Drawn into a new figure if None.
    max_nodes : int, default 200
        Refuse to draw more nodes than this (the figure would be unreadable).
    show_bias : bool, optional
        Draw the constant bias nodes; default: whether the network has biases.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the network has more than ``max_nodes`` nodes, or as :func:`network_graph`.

    Notes
    -----
    Layers run left to right. Non-skeleton edges are thin and grey; pi-edges (skeleton
    in-edges) are drawn in blue, sigma-edges (skeleton out-edges, the weights G-SGD's
    Weight-Allocation keeps fixed) in red, and edges that are both in purple.

    Examples
    --------
    >>> ax = draw_network([3, 4, 4, 2])
    >>> ax.get_title()
    'widths [3, 4, 4, 2]: skeleton pi-edges (blue), sigma-edges (red)'
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    widths, net = _widths_and_net(net_or_widths)
    n_nodes = sum(widths)
    if n_nodes > max_nodes:
        raise ValueError(
            f"{n_nodes} nodes is too many to draw (max_nodes={max_nodes}); draw a smaller "
            f"network or raise max_nodes"
        )
    G = network_graph(net_or_widths, skeleton, bias=show_bias)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.4 * len(widths), 1.0 + 0.45 * max(widths)))
    pos = {}
    for n, d in G.nodes(data=True):
        h = widths[d["layer"]]
        if d["bias"]:  # the constant node of layer l sits above that layer's nodes
            pos[n] = (d["layer"], (h - 1) / 2 + 1.0)
        else:
            pos[n] = (d["layer"], (h - 1) / 2 - d["index"])
    wmax = max((abs(d.get("weight", 1.0)) for *_, d in G.edges(data=True)), default=1.0) or 1.0
    for kind in ("plain", "skeleton"):
        for u, v, d in G.edges(data=True):
            if (kind == "skeleton") != d["skeleton"]:
                continue
            if d["sigma"] and d["pi"]:
                color = "tab:purple"
            elif d["sigma"]:
                color = "tab:red"
            elif d["pi"]:
                color = "tab:blue"
            else:
                color = "0.75"
            lw = 2.5 if d["skeleton"] else 0.7
            if "weight" in d:
                lw *= 0.4 + 1.2 * abs(d["weight"]) / wmax
            style = "--" if d.get("weight", 1.0) < 0 else "-"
            (x0, y0), (x1, y1) = pos[u], pos[v]
            ax.plot([x0, x1], [y0, y1], style, color=color, lw=lw, zorder=2 if d["skeleton"] else 1)
    xs = np.array([pos[n][0] for n in G.nodes])
    ys = np.array([pos[n][1] for n in G.nodes])
    face = ["white" if not G.nodes[n]["bias"] else "0.85" for n in G.nodes]
    ax.scatter(xs, ys, s=160, c=face, edgecolors="black", zorder=3)
    for n in G.nodes:
        if G.nodes[n]["bias"]:
            ax.annotate("1", pos[n], ha="center", va="center", fontsize=7, zorder=4)
    ax.set_xticks(range(len(widths)))
    ax.set_xticklabels([f"layer {l}" for l in range(len(widths))])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"widths {list(widths)}: skeleton pi-edges (blue), sigma-edges (red)")
    handles = [
        Line2D([], [], color="tab:blue", lw=2.5, label="pi-edge (skeleton in-edge)"),
        Line2D([], [], color="tab:red", lw=2.5, label="sigma-edge (skeleton out-edge)"),
        Line2D([], [], color="tab:purple", lw=2.5, label="both"),
        Line2D([], [], color="0.75", lw=0.7, label="other weight"),
    ]
    if net is not None:
        handles.append(Line2D([], [], color="black", ls="--", label="negative weight"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    return ax
