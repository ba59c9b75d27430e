"""Path values represent the network (claim S1).

**S1.** If ``w`` and ``w'`` have no zero weights and the same signs, ``w' = g(w)`` for some
``g`` in G iff ``v_p(w) = v_p(w')`` for every path ``p``. "If": ``u = log|w'| - log|w|``
satisfies ``A^T u = 0``, so ``u = B^T log c`` (R2), read off along the pi-edges. "Only if":
G3. Both conditions are needed (:func:`sign_flip_counterexample`,
:func:`dead_node_counterexample`; :func:`find_scaling` is the weight-space test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validation as V
from .basis import basis_path_array, resolve_skeleton
from .paths import DEFAULT_PATH_LIMIT, count_paths, path_array, path_values
from .scaling import ScalingGroupElement, scaling_vectors

__all__ = ["EquivalenceResult", "equivalent_by_path_values", "recover_scaling", "find_scaling"]
__all__ += ["sign_flip_counterexample", "dead_node_counterexample"]


@dataclass(frozen=True)
class EquivalenceResult:
    """Outcome of :func:`equivalent_by_path_values` (``compared``: ``"all paths"`` or
    ``"basis paths"``)."""

    equivalent: bool
    g: ScalingGroupElement | None
    max_rel_diff: float
    compared: str


def recover_scaling(net_a, net_b, skeleton=None) -> ScalingGroupElement:
    """The ``c`` with ``log|w_b| - log|w_a| = B^T log c``, read along the pi-edges.

    Examples
    --------
    >>> net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    >>> g = gspace.random_scaling(net.widths, np.random.default_rng(1))
    >>> recover_scaling(net, g.apply(net)).allclose(g, rtol=1e-10)
    True
    """
    sk = V.same_widths(net_a, net_b, skel=skeleton, resolve=resolve_skeleton)
    log_c = []
    for l in range(1, len(net_a.weights)):
        pi, j = sk.pi[l], np.arange(net_a.widths[l])
        u = np.log(np.abs(net_b.weights[l - 1][pi, j])) - np.log(
            np.abs(net_a.weights[l - 1][pi, j])
        )
        log_c.append(u + (log_c[-1][pi] if l >= 2 else 0.0))
    return ScalingGroupElement(net_a.widths, [np.exp(x) for x in log_c])


def equivalent_by_path_values(
    net_a, net_b, rtol: float = 1e-9, limit: int = DEFAULT_PATH_LIMIT, skeleton=None
) -> EquivalenceResult:
    """Decide S1 from path values alone: all of them when at most ``limit`` paths, else the
    basis-path values (which determine every path value, B3); recover ``g`` if equivalent.

    Examples
    --------
    >>> net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    >>> net.biases = [np.full(4, 0.1), np.full(2, -0.2)]
    >>> g = gspace.random_scaling(net.widths, np.random.default_rng(1))
    >>> res = equivalent_by_path_values(net, g.apply(net))
    >>> res.equivalent, res.g.allclose(g, rtol=1e-10)
    (True, True)
    """
    rtol, bias = V.s1_pair(net_a, net_b, rtol, limit), net_a.biases is not None
    if count_paths(net_a.widths, bias=bias) <= limit:
        P, compared = path_array(net_a.widths, limit=limit, bias=bias), "all paths"
    else:
        P, compared = basis_path_array(net_a.widths, skeleton, bias=bias), "basis paths"
    va, vb = path_values(net_a, P), path_values(net_b, P)
    diff = np.abs(va - vb) / np.maximum(np.abs(va), np.abs(vb))
    worst = float(diff.max()) if diff.size else 0.0
    if worst > rtol:
        return EquivalenceResult(False, None, worst, compared)
    return EquivalenceResult(True, recover_scaling(net_a, net_b, skeleton), worst, compared)


def find_scaling(net_a, net_b, rtol: float = 1e-9) -> ScalingGroupElement | None:
    """Weight-space test (zeros allowed): a ``g`` with ``g(net_a) = net_b``, or None: least
    squares for ``log|w_b| - log|w_a| = B^T log c`` on the nonzero parameters (same zeros and
    signs needed), accepted if ``g(net_a)`` matches ``net_b`` to ``rtol``.

    Examples
    --------
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> other = net.copy()
    >>> other.weights[1][0, 0] *= 2.0  # one weight: not a G element
    >>> find_scaling(net, other) is None
    True
    """
    rtol = V.net_pair(net_a, net_b, rtol)
    wa, wb = net_a.flat_params(), net_b.flat_params()
    if np.any((wa == 0) != (wb == 0)) or np.any(np.sign(wa) != np.sign(wb)):
        return None
    S = wa != 0
    u = np.log(np.abs(wb[S])) - np.log(np.abs(wa[S]))
    B = scaling_vectors(net_a.widths, net_a.biases is not None, sparse=True)[:, np.flatnonzero(S)]
    B = B.astype(np.float64)
    log_c = np.linalg.lstsq((B @ B.T).toarray(), B @ u, rcond=None)[0] if B.shape[0] else u[:0]
    g = ScalingGroupElement.from_log(net_a.widths, log_c)
    got = g.apply(net_a).flat_params()
    return g if np.all(np.abs(got - wb) <= rtol * np.maximum(np.abs(got), np.abs(wb))) else None


def sign_flip_counterexample(net, layer: int = 1, node: int = 0):
    """Why S1 needs equal signs: ``(net, flipped)``, one hidden node's in- and out-weights
    (and bias) negated: same path values, other function, no ``g`` in G between them.

    Examples
    --------
    >>> a, b = sign_flip_counterexample(gspace.MLP([2, 3, 1], rng=np.random.default_rng(0)))
    >>> X = np.random.default_rng(1).normal(size=(20, 2))
    >>> bool(np.allclose(a.forward(X), b.forward(X))), find_scaling(a, b) is None
    (False, True)
    """
    V.hidden_node(net, layer, node)
    flipped = net.copy()
    flipped.weights[layer - 1][:, node] *= -1.0
    flipped.weights[layer][node, :] *= -1.0
    if flipped.biases is not None:
        flipped.biases[layer - 1][node] *= -1.0
    return net.copy(), flipped


def dead_node_counterexample(net, layer: int = 1, node: int = 0, factor: float = 3.0):
    """Why S1 needs nonzero weights: ``(dead, changed)``, a node's in-weights (and bias) 0,
    one out-weight times ``factor`` in ``changed``: same path values and function, no ``g``.

    Examples
    --------
    >>> a, b = dead_node_counterexample(gspace.MLP([2, 3, 2], rng=np.random.default_rng(0)))
    >>> X = np.random.default_rng(1).normal(size=(20, 2))
    >>> bool(np.allclose(a.forward(X), b.forward(X))), find_scaling(a, b) is None
    (True, True)
    """
    V.hidden_node(net, layer, node, factor)
    dead = net.copy()
    dead.weights[layer - 1][:, node] = 0.0
    if dead.biases is not None:
        dead.biases[layer - 1][node] = 0.0
    changed = dead.copy()
    changed.weights[layer][node, 0] *= factor
    return dead, changed
