"""Independent, brute-force routes used by the G-SGD / Path-SGD tests (not the library's)."""

from __future__ import annotations

import itertools

import numpy as np


def all_edges_of_path(path):
    """Edges of a full path (i_0..i_L) as (l, a, b) triples of weights[l][a, b]."""
    return [(l, path[l], path[l + 1]) for l in range(len(path) - 1)]


def enumerate_paths(widths):
    """Every input-to-output path (i_0, ..., i_L)."""
    return list(itertools.product(*[range(h) for h in widths]))


def enumerate_bias_paths(widths):
    """Every path that starts at the bias of node b of layer s (1 <= s <= L): (s, b, i_{s+1},
    ..., i_L)."""
    L = len(widths) - 1
    out = []
    for s in range(1, L + 1):
        for tail in itertools.product(*[range(h) for h in widths[s:]]):
            out.append((s, *tail))
    return out


def skeleton_mask(sk, l):
    """Pi- or sigma-edges in weights[l]."""
    return sk.sigma_mask(l) | sk.pi_mask(l)


def pure_pi_mask(sk, l):
    """Pi-edges that are not sigma-edges: the edges naming the skeleton basis paths."""
    return sk.pi_mask(l) & ~sk.sigma_mask(l)


def basis_path_of_edge(sk, l, a, b):
    """Full path of the basis path named by weights[l][a, b] (non-sigma): in-chain(a) + e +
    out-chain(b), built with Skeleton.in_chain / out_chain."""
    return tuple(sk.in_chain(l, a) + sk.out_chain(l + 1, b))


def path_value(net, path):
    return float(np.prod([net.weights[l][a, b] for l, a, b in all_edges_of_path(path)]))


def allocate(net, v_new, sk=None):
    """The network with basis-path values ``v_new`` (skeleton ``sk``): Weight-Allocation of
    the ratios ``v_new / v(net)``."""
    from gspace.core.gsgd import basis_path_values, path_ratios, weight_allocation

    return weight_allocation(net, path_ratios(basis_path_values(net, sk), v_new), v_new, sk)
