"""The skeleton and the basis paths (section "Skeleton method"; claims B1-B4).

A basis is ``m - H`` independent paths (R1); their values are the G-space coordinates.

* **Skeleton**: an in-parent ``pi(n)`` and an out-child ``sigma(n)`` for every hidden node;
  *sigma-edges* ``n -> sigma(n)`` (the ``H`` free weights of WA), *pi-edges* ``pi(n) -> n``.
  The default ``pi(j) = j mod h_{l-1}``, ``sigma(j) = j mod h_{l+1}`` is, for equal hidden
  widths, the paper's skeleton.
* **Basis (B4)**: for every non-sigma edge ``e = (a -> b)``, in-chain(a) + e + out-chain(b);
  path ``k`` belongs to the ``k``-th non-sigma edge (biases last: bias + out-chain(b)).
* **Exponents (B3)**: ``alpha = sum over the non-sigma edges e = (a -> b) of p of
  (delta_{k(e)} - delta_{Q(a)})``, ``Q(a)`` the basis path carrying a's in-chain, since
  ``p^e - p^{Q(a)} = e + out-chain(b) - out-chain(a)`` telescopes along ``p``.

The layered graph is a ``networkx.DiGraph`` (:func:`network_graph`), skeleton marked.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy as sp

from .. import validation as V
from .paths import edge_offsets, path_edges

__all__ = ["Skeleton", "resolve_skeleton", "basis_path_array", "basis_paths"]
__all__ += ["skeleton_method_basis", "skeleton_paths", "sigma_edge_mask", "path_exponents"]
__all__ += ["values_from_basis", "network_graph", "graph_paths", "count_paths_dp"]


@dataclass(frozen=True, eq=False)
class Skeleton:
    """In-parents ``pi[l]`` (in ``0..h_{l-1}-1``) and out-children ``sigma[l]`` (in
    ``0..h_{l+1}-1``) of the hidden nodes, int arrays ``(h_l,)`` for ``1 <= l <= L-1`` (None at
    ``l = 0`` and ``L``), stored read-only; equal skeletons compare equal and hash alike.

    Examples
    --------
    >>> sk = Skeleton.default([3, 4, 4, 2])
    >>> sk.pi[1].tolist(), sk.sigma[2].tolist(), sk == Skeleton.paper([3, 4, 4, 2])
    ([0, 1, 2, 0], [0, 1, 0, 1], True)
    """

    widths: list
    pi: list
    sigma: list

    def __post_init__(self):
        widths = V.skeleton_maps(self.widths, self.pi, self.sigma)
        object.__setattr__(self, "widths", widths)
        for name in ("pi", "sigma"):
            maps = [None] + [np.array(getattr(self, name)[l], np.int64) for l in range(1, self.L)]
            for arr in maps[1:]:
                arr.flags.writeable = False
            object.__setattr__(self, name, maps + [None])

    def _key(self) -> tuple:
        maps = (tuple(m[l].tolist()) for m in (self.pi, self.sigma) for l in range(1, self.L))
        return (tuple(self.widths), *maps)

    def __eq__(self, other) -> bool:
        return self._key() == other._key() if isinstance(other, Skeleton) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    @classmethod
    def default(cls, widths) -> Skeleton:
        """``pi(j) = j mod h_{l-1}``, ``sigma(j) = j mod h_{l+1}``."""
        w = V.widths(widths)
        hidden = range(1, len(w) - 1)
        pi = [None] + [np.arange(w[l]) % w[l - 1] for l in hidden] + [None]
        return cls(w, pi, [None] + [np.arange(w[l]) % w[l + 1] for l in hidden] + [None])

    @classmethod
    def paper(cls, widths) -> Skeleton:
        """The paper's skeleton; it needs equal hidden widths."""
        return cls.default(V.equal_hidden(widths))

    L = property(lambda self: len(self.widths) - 1, doc="Number of weight layers.")

    def sigma_mask(self, l: int) -> np.ndarray:
        """Boolean mask ``(h_l, h_{l+1})`` of the sigma-edges in ``weights[l]``."""
        mask = np.zeros(self.widths[l : l + 2], dtype=bool)
        if 1 <= l <= self.L - 1:
            mask[np.arange(self.widths[l]), self.sigma[l]] = True
        return mask

    def pi_mask(self, l: int) -> np.ndarray:
        """Boolean mask ``(h_l, h_{l+1})`` of the pi-edges in ``weights[l]``."""
        mask = np.zeros(self.widths[l : l + 2], dtype=bool)
        if 1 <= l + 1 <= self.L - 1:
            mask[self.pi[l + 1], np.arange(self.widths[l + 1])] = True
        return mask

    def in_chain(self, l: int, j: int) -> list[int]:
        """Nodes ``(i_0, ..., i_l)`` of the in-chain of node ``j`` of layer ``l``."""
        return (self.in_chain(l - 1, int(self.pi[l][j])) if l else []) + [j]

    def out_chain(self, l: int, j: int) -> list[int]:
        """Nodes ``(i_l, ..., i_L)`` of the out-chain of node ``j`` of layer ``l``."""
        return [j] + (self.out_chain(l + 1, int(self.sigma[l][j])) if l < self.L else [])


def resolve_skeleton(widths, skeleton=None) -> Skeleton:
    """The skeleton to use: None or ``"default"`` (:meth:`Skeleton.default`), ``"paper"``
    (:meth:`Skeleton.paper`) or a :class:`Skeleton` of these widths."""
    widths = V.skeleton(skeleton, widths, names=True)
    if skeleton is None or skeleton == "default":
        return Skeleton.default(widths)
    return Skeleton.paper(widths) if skeleton == "paper" else skeleton


def _chains(sk: Skeleton):
    """In-chains ``IC[l]`` (h_l, l + 1) for l = 0..L-1 and out-chains ``OC[l]``
    (h_l, L - l + 1) for l = 1..L, as node arrays."""
    w, L = sk.widths, sk.L
    IC, OC = [np.arange(w[0])[:, None]], [None] * (L + 1)
    OC[L] = np.arange(w[L])[:, None]
    for l in range(1, L):
        IC.append(np.hstack([IC[l - 1][sk.pi[l]], np.arange(w[l])[:, None]]))
    for l in range(L - 1, 0, -1):
        OC[l] = np.hstack([np.arange(w[l])[:, None], OC[l + 1][sk.sigma[l]]])
    return IC, OC


def sigma_edge_mask(sk: Skeleton, bias: bool = False) -> np.ndarray:
    """Which edges (weights, then biases if ``bias``) are sigma-edges, in edge order."""
    parts = [sk.sigma_mask(l).ravel() for l in range(sk.L)]
    return np.concatenate(parts + [np.zeros(sum(sk.widths[1:]), bool)] * bool(bias))


def basis_path_array(widths, skeleton=None, bias: bool = False) -> np.ndarray:
    """The basis paths (B4) as an int array ``(m - H, L + 1)`` (plus one row per bias, with
    ``-1`` below its start layer), in basis order."""
    sk = resolve_skeleton(widths, skeleton)
    IC, OC = _chains(sk)
    rows = []
    for l in range(sk.L):
        a, b = np.nonzero(~sk.sigma_mask(l))  # row-major, as the edge numbering
        rows.append(np.hstack([IC[l][a], OC[l + 1][b]]))
    for l in range(sk.L if bias else 0):
        rows.append(np.hstack([np.full((sk.widths[l + 1], l + 1), -1), OC[l + 1]]))
    return np.vstack(rows).astype(np.int64)


def basis_paths(widths, skeleton=None, bias: bool = False) -> list:
    """The ``m - H`` basis paths as tuples (the paper's basis for equal hidden widths and the
    default skeleton; the general construction B4 otherwise).

    Examples
    --------
    >>> basis_paths([2, 2, 1])
    [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0)]
    """
    return [tuple(p) for p in basis_path_array(widths, skeleton, bias).tolist()]


def skeleton_method_basis(widths) -> list:
    """The paper's skeleton method as the paper words it (equal hidden widths): skeleton
    weights input ``j mod d`` -> hidden ``j``, ``j -> j``, hidden ``j`` -> output ``j mod K``;
    the all-skeleton paths and, for each non-skeleton weight ``a -> b``, skeleton in-edges back
    from ``a``, the weight, skeleton out-edges from ``b``; in the order of :func:`basis_paths`.
    """
    w = V.equal_hidden(widths)
    d, K, L = w[0], w[-1], len(w) - 1

    def back(l, a):  # skeleton in-edges from node a of layer l down to an input
        return [a] if l == 0 else [a % d] + [a] * l

    def up(l, b):  # skeleton out-edges from node b of layer l up to an output
        return [b] if l == L else [b] * (L - l) + [b % K]

    out = []
    for l in range(L):
        for a in range(w[l]):
            for b in range(w[l + 1]):
                if l == 0 or not (b == a if l < L - 1 else b == a % K):
                    out.append(tuple(back(l, a) + up(l + 1, b)))
    return out


def skeleton_paths(widths, skeleton=None) -> list:
    """The all-skeleton paths ``(pi(j), j, sigma(j), ...)``, one per node of hidden layer 1.

    Examples
    --------
    >>> skeleton_paths([3, 4, 4, 2])
    [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 0), (0, 3, 3, 1)]
    """
    sk = resolve_skeleton(widths, skeleton)
    if sk.L < 2:
        return []
    IC, OC = _chains(sk)
    return [tuple(IC[1][j].tolist() + OC[1][j, 1:].tolist()) for j in range(sk.widths[1])]


def path_exponents(widths, paths, skeleton=None, bias: bool = False):
    """Integer exponents ``alpha`` (sparse ``(n, p - H)``) with ``p = sum_k alpha_k p^k``, so
    ``v_p = prod_k v_k^{alpha_k}`` (B3; signs included, since ``sgn^{-1} = sgn``)."""
    sk = resolve_skeleton(widths, skeleton)
    P = V.paths(sk.widths, paths, bias=bias)
    sigma = sigma_edge_mask(sk, bias)
    k_of_edge = np.full(sigma.size, -1, dtype=np.int64)
    k_of_edge[~sigma] = np.arange(int((~sigma).sum()))
    offs, w, Q = edge_offsets(sk.widths), sk.widths, [None] * (sk.L + 1)
    for l in range(1, sk.L):  # Q[l][a]: the basis path that carries the in-chain of a
        pi_edge = offs[l - 1] + sk.pi[l] * w[l] + np.arange(w[l])
        inherited = Q[l - 1][sk.pi[l]] if l >= 2 else np.full(w[l], -1)
        Q[l] = np.where(sigma[pi_edge], inherited, k_of_edge[pi_edge])
    E, rows, cols, vals = path_edges(sk.widths, P), [], [], []
    for l in range(sk.L):
        idx = np.flatnonzero(E[:, l] >= 0)
        idx = idx[~sigma[E[idx, l]]]  # the non-sigma edges e of each path: +1 at k(e)
        rows, cols, vals = rows + [idx], cols + [k_of_edge[E[idx, l]]], vals + [idx * 0 + 1]
        if l >= 1:  # ... and -1 at Q(a) when e leaves a hidden node a
            src = idx[P[idx, l] >= 0]
            rows, cols, vals = rows + [src], cols + [Q[l][P[src, l]]], vals + [src * 0 - 1]
    shape = (P.shape[0], int((~sigma).sum()))
    alpha = sp.sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )
    alpha.sum_duplicates()
    alpha.eliminate_zeros()
    return alpha


def values_from_basis(basis_values, alpha) -> np.ndarray:
    """Path values rebuilt from basis-path values: ``v_p = prod_k v_k^{alpha_k}`` (B3)."""
    v, alpha = V.exponents(basis_values, alpha)
    out = np.ones(alpha.shape[0])
    np.multiply.at(out, alpha.row, v[alpha.col] ** alpha.data.astype(np.float64))
    return out


def network_graph(net_or_widths, skeleton=None, bias: bool | None = None) -> nx.DiGraph:
    """The layered network as a ``networkx.DiGraph``: nodes ``(layer, index)`` (and
    ``("bias", l)``), edges with their index ``edge``, flags ``pi``, ``sigma``, ``skeleton``
    and, for a network, its ``weight``.

    Examples
    --------
    >>> G = network_graph([3, 4, 4, 2])
    >>> G.number_of_nodes(), G.number_of_edges(), G.edges[(1, 2), (2, 2)]["sigma"]
    (13, 36, True)
    """
    widths, net, bias = V.graph_args(net_or_widths, bias)
    sk, e = resolve_skeleton(widths, skeleton), itertools.count()  # edges in their order
    G = nx.DiGraph(widths=list(widths))
    for l, h in enumerate(widths):
        G.add_nodes_from((((l, i), {"index": i}) for i in range(h)), layer=l, bias=False)
    for l in range(sk.L):
        sig, pim = sk.sigma_mask(l), sk.pi_mask(l)
        for i, j in np.ndindex(sig.shape):
            flags = {"sigma": bool(sig[i, j]), "pi": bool(pim[i, j])}
            G.add_edge((l, i), (l + 1, j), edge=next(e), skeleton=sig[i, j] | pim[i, j], **flags)
    for l in range(sk.L if bias else 0):
        G.add_node(("bias", l), layer=l, index=-1, bias=True)
        for j in range(widths[l + 1]):
            G.add_edge(("bias", l), (l + 1, j), edge=next(e), sigma=False, pi=False, skeleton=False)
    for a, b, d in G.edges(data=True) if net is not None else ():
        w = net.biases[a[1]][b[1]] if a[0] == "bias" else net.weights[a[0]][a[1], b[1]]
        d["weight"] = float(w)
    return G


def graph_paths(G: nx.DiGraph) -> list:
    """All source-to-output paths via ``nx.all_simple_paths``, in the format and order of
    :func:`gspace.core.paths.enumerate_paths`."""
    L = len(G.graph["widths"]) - 1
    outputs = [(L, k) for k in range(G.graph["widths"][L])]
    out = []
    for s in (n for n, d in G.nodes(data=True) if d["bias"] or d["layer"] == 0):
        for p in nx.all_simple_paths(G, s, outputs):
            idx = [-1] * (L + 1)
            for node in p[G.nodes[p[0]]["bias"] :]:  # skip the constant node of a bias path
                idx[G.nodes[node]["layer"]] = G.nodes[node]["index"]
            out.append(tuple(idx))
    bias_paths = sorted((p for p in out if p[0] < 0), key=lambda p: (p.count(-1), p))
    return sorted(p for p in out if p[0] >= 0) + bias_paths


def count_paths_dp(G: nx.DiGraph) -> int:
    """Number of source-to-output paths by dynamic programming in topological order.

    Examples
    --------
    >>> count_paths_dp(network_graph([784, 64, 64, 64, 64, 10]))
    131533373440
    """
    count = {}
    for n in nx.topological_sort(G):
        count[n] = sum(count[q] for q in G.predecessors(n)) or 1
    return sum(c for (layer, _), c in count.items() if layer == len(G.graph["widths"]) - 1)
