"""Path values represent the network (paper-notes section 4, claim S1).

**S1.** Let ``w`` and ``w'`` have no zero weights and the same signs. Then ``w' = g(w)`` for
some ``g`` in G if and only if ``v_p(w) = v_p(w')`` for every path ``p``.

* :func:`equivalent_by_path_values` decides it from path values alone (all of them when they
  can be listed, else the basis-path values, which determine every path value by B3) and, if
  equivalent, recovers ``c``: ``u = log|w'| - log|w|`` satisfies ``A^T u = 0``, so
  ``u = B^T log c`` (R2); ``log c`` is read off along the pi-edges, where ``B`` is unit
  triangular: ``log c_O = u(pi(O) -> O) + log c_{pi(O)}``.
* :func:`find_scaling` is the weight-space test (any zeros allowed): is there a ``c`` with
  ``g_c(w) = w'``? It is used to show that the two conditions of S1 are necessary.
* :func:`sign_flip_counterexample` and :func:`dead_node_counterexample` build the two
  counterexamples of paper-notes section 4.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .basis import listed_basis_path_values, resolve_skeleton
from .network import MLP
from .paths import DEFAULT_PATH_LIMIT, count_paths, path_array, path_values
from .scaling import ScalingGroupElement, check_same_widths
from .structure import scaling_matrix_sparse

__all__ = [
    "EquivalenceResult",
    "equivalent_by_path_values",
    "recover_scaling",
    "find_scaling",
    "sign_flip_counterexample",
    "dead_node_counterexample",
]


def _params(net: MLP) -> np.ndarray:
    parts = [w.ravel() for w in net.weights]
    if net.has_bias:
        parts += list(net.biases)
    return np.concatenate(parts)


@dataclass(frozen=True)
class EquivalenceResult:
    """Outcome of :func:`equivalent_by_path_values`.

    Attributes
    ----------
    equivalent : bool
        Whether all compared path values agree to ``rtol``.
    g : ScalingGroupElement or None
        If equivalent, the recovered element with ``g.apply(net_a) == net_b`` (to rounding).
    max_rel_diff : float
        Largest relative difference of the compared path values.
    compared : str
        ``"all paths"`` or ``"basis paths"``.
    """

    equivalent: bool
    g: ScalingGroupElement | None
    max_rel_diff: float
    compared: str


def _check_s1_preconditions(net_a: MLP, net_b: MLP) -> None:
    check_same_widths(net_a, net_b)
    wa, wb = _params(net_a), _params(net_b)
    if np.any(wa == 0) or np.any(wb == 0):
        raise ValueError(
            "S1 needs networks without zero weights (or biases): with a zero, path values no "
            "longer determine the G class (see dead_node_counterexample); use find_scaling"
        )
    if np.any(np.sign(wa) != np.sign(wb)):
        raise ValueError(
            "S1 needs equal sign patterns: G never changes a sign, and path values cannot see "
            "a sign flip of a whole node (see sign_flip_counterexample); use find_scaling"
        )


def recover_scaling(net_a: MLP, net_b: MLP, skeleton=None) -> ScalingGroupElement:
    """The ``c`` with ``log|w_b| - log|w_a| = B^T log c`` read along the pi-edges.

    Only meaningful when ``net_b = g(net_a)``; :func:`equivalent_by_path_values` calls it after
    deciding.

    Parameters
    ----------
    net_a, net_b : MLP
        Same widths; non-zero weights on the pi-edges.
    skeleton : Skeleton, optional
        Whose pi-edges are read.

    Returns
    -------
    ScalingGroupElement

    Raises
    ------
    ValueError
        If the widths differ or a pi-edge weight is 0.

    Notes
    -----
    ``b_O`` is ``+1`` on the pi-edge ``pi(O) -> O`` and the only other ``b`` non-zero there is
    ``b_{pi(O)}`` (``-1``), so ``u(pi(O) -> O) = log c_O - log c_{pi(O)}`` (no second term
    for layer-1 nodes): a forward sweep over the layers.

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    >>> g = gspace.random_scaling(net.widths, np.random.default_rng(1))
    >>> recover_scaling(net, g.apply(net)).allclose(g, rtol=1e-10)
    True
    """
    check_same_widths(net_a, net_b)
    widths = net_a.widths
    sk = resolve_skeleton(widths, skeleton)
    log_c = []
    for l in range(1, net_a.L):
        j = np.arange(widths[l])
        pi = np.asarray(sk.pi[l])
        wa, wb = net_a.weights[l - 1][pi, j], net_b.weights[l - 1][pi, j]
        if np.any(wa == 0) or np.any(wb == 0):
            raise ValueError(f"a pi-edge weight into hidden layer {l} is 0: cannot read off c")
        u = np.log(np.abs(wb)) - np.log(np.abs(wa))
        log_c.append(u + (log_c[-1][pi] if l >= 2 else 0.0))
    return ScalingGroupElement(widths, [np.exp(x) for x in log_c])


def equivalent_by_path_values(
    net_a: MLP, net_b: MLP, rtol: float = 1e-9, limit: int = DEFAULT_PATH_LIMIT, skeleton=None
) -> EquivalenceResult:
    """Decide S1: is ``net_b = g(net_a)`` for some ``g`` in G, from path values alone?

    Parameters
    ----------
    net_a, net_b : MLP
        Same widths, no zero weights, same signs (the hypotheses of S1).
    rtol : float, default 1e-9
        Path values agree when ``|v - v'| <= rtol * max(|v|, |v'|)``.
    limit : int
        Compare every path value if there are at most ``limit`` paths; otherwise compare the
        ``m - H`` basis-path values, which determine all path values (B3).
    skeleton : Skeleton, optional
        For the basis paths and the recovery of ``c``.

    Returns
    -------
    EquivalenceResult
        With the recovered ``g`` when equivalent.

    Raises
    ------
    ValueError
        If the widths differ, a weight is 0, or the signs differ (S1 does not apply; see the
        counterexamples), or ``rtol <= 0``, or ``limit`` is not an integer >= 1.

    Notes
    -----
    "If": ``v_p(w) = v_p(w')`` for all ``p`` means ``A^T u = 0`` for ``u = log|w'| - log|w|``,
    so ``u`` is in ``ker(A^T) = span{b_O}`` (R2): ``u = B^T log c``. "Only if": G3.

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019 (path values as a sufficient representation;
       paper-notes claim S1).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], bias=True, rng=np.random.default_rng(0))
    >>> net.biases = [np.full(4, 0.1), np.full(2, -0.2)]
    >>> g = gspace.random_scaling(net.widths, np.random.default_rng(1))
    >>> res = equivalent_by_path_values(net, g.apply(net))
    >>> res.equivalent, res.g.allclose(g, rtol=1e-10)
    (True, True)
    """
    _check_s1_preconditions(net_a, net_b)
    rtol = float(rtol)
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be finite and > 0, got {rtol}")
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
    widths = net_a.widths
    if count_paths(widths, bias=net_a.has_bias) <= limit:
        P = path_array(widths, limit=limit, bias=net_a.has_bias)
        va, vb = path_values(net_a, P), path_values(net_b, P)
        compared = "all paths"
    else:
        va = listed_basis_path_values(net_a, skeleton)
        vb = listed_basis_path_values(net_b, skeleton)
        compared = "basis paths"
    diff = np.abs(va - vb) / np.maximum(np.abs(va), np.abs(vb))
    worst = float(diff.max()) if diff.size else 0.0
    if worst > rtol:
        return EquivalenceResult(False, None, worst, compared)
    return EquivalenceResult(True, recover_scaling(net_a, net_b, skeleton), worst, compared)


def find_scaling(net_a: MLP, net_b: MLP, rtol: float = 1e-9) -> ScalingGroupElement | None:
    """Weight-space test: a ``g`` in G with ``g(net_a) = net_b``, or None if there is none.

    Zeros are allowed (they must sit at the same places); signs must agree. On the non-zero
    parameters ``S``, ``g`` exists iff ``u_S = log|w_b| - log|w_a|`` lies in the span of the
    ``b_O`` restricted to ``S``: solved by least squares (normal equations, ``H x H``) and
    accepted when ``g.apply(net_a)`` matches ``net_b`` to ``rtol``.

    Parameters
    ----------
    net_a, net_b : MLP
        Same widths.
    rtol : float, default 1e-9

    Returns
    -------
    ScalingGroupElement or None

    Raises
    ------
    TypeError
        If either is not a :class:`~gspace.MLP`.
    ValueError
        If the widths differ, or ``rtol`` is not finite and > 0.

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> other = net.copy()
    >>> other.weights[1][0, 0] *= 2.0  # one weight: not a G element
    >>> find_scaling(net, other) is None
    True
    """
    check_same_widths(net_a, net_b)
    rtol = float(rtol)
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be finite and > 0, got {rtol}")
    wa, wb = _params(net_a), _params(net_b)
    if np.any((wa == 0) != (wb == 0)) or np.any(np.sign(wa) != np.sign(wb)):
        return None
    S = wa != 0
    u = np.log(np.abs(wb[S])) - np.log(np.abs(wa[S]))
    B = scaling_matrix_sparse(net_a.widths, bias=net_a.has_bias)[:, np.flatnonzero(S)]
    B = B.astype(np.float64)
    if B.shape[0] == 0:
        log_c = np.zeros(0)
    else:  # least squares by the (H x H) normal equations; B is sparse with 2 entries a column
        log_c = np.linalg.lstsq((B @ B.T).toarray(), B @ u, rcond=None)[0]
    g = ScalingGroupElement.from_log(net_a.widths, log_c)
    got = _params(g.apply(net_a))
    if np.all(np.abs(got - wb) <= rtol * np.maximum(np.abs(got), np.abs(wb))):
        return g
    return None


def sign_flip_counterexample(net: MLP, layer: int = 1, node: int = 0) -> tuple[MLP, MLP]:
    """Why S1 needs equal signs: negate every in- and out-weight (and the bias) of one node.

    Every path value is unchanged (a path through the node picks up two minus signs), yet the
    network function changes (``relu(-z) != -relu(z)``) and no ``g`` in G maps one to the
    other (G never changes a sign).

    Parameters
    ----------
    net : MLP
    layer, node : int
        The hidden node to flip.

    Returns
    -------
    (net, flipped) : tuple of MLP

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> a, b = sign_flip_counterexample(gspace.MLP([2, 3, 1], rng=np.random.default_rng(0)))
    >>> X = np.random.default_rng(1).normal(size=(20, 2))
    >>> bool(np.allclose(a.forward(X), b.forward(X))), find_scaling(a, b) is None
    (False, True)
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    if not 1 <= layer <= net.L - 1 or not 0 <= node < net.widths[layer]:
        raise ValueError(f"(layer, node) = ({layer}, {node}) is not a hidden node of {net.widths}")
    flipped = net.copy()
    flipped.weights[layer - 1][:, node] *= -1.0
    flipped.weights[layer][node, :] *= -1.0
    if flipped.has_bias:
        flipped.biases[layer - 1][node] *= -1.0
    return net.copy(), flipped


def dead_node_counterexample(net: MLP, layer: int = 1, node: int = 0, factor: float = 3.0):
    """Why S1 needs non-zero weights: a node whose in-weights are all 0.

    The first network is ``net`` with every in-weight (and the bias) of the node set to 0;
    the second also multiplies one of its out-weights by ``factor``. All path values agree
    (every path through the node has value 0) and so do the functions (the node outputs
    ``relu(0) = 0``), but no ``g`` in G maps one to the other when the node has at least two
    out-weights: ``g`` scales all out-weights of a node by the same ``1/c``, so it cannot
    change their ratios.

    Parameters
    ----------
    net : MLP
    layer, node : int
        The hidden node made dead; it needs at least two out-weights.
    factor : float, default 3.0
        Multiplies its first out-weight in the second network.

    Returns
    -------
    (dead, changed) : tuple of MLP

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> a, b = dead_node_counterexample(gspace.MLP([2, 3, 2], rng=np.random.default_rng(0)))
    >>> X = np.random.default_rng(1).normal(size=(20, 2))
    >>> bool(np.allclose(a.forward(X), b.forward(X))), find_scaling(a, b) is None
    (True, True)
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    if not 1 <= layer <= net.L - 1 or not 0 <= node < net.widths[layer]:
        raise ValueError(f"(layer, node) = ({layer}, {node}) is not a hidden node of {net.widths}")
    if net.widths[layer + 1] < 2:
        raise ValueError("the node needs at least two out-weights for a counterexample")
    if not (np.isfinite(factor) and factor > 0 and factor != 1):
        raise ValueError(f"factor must be finite, > 0 and != 1, got {factor}")
    dead = net.copy()
    dead.weights[layer - 1][:, node] = 0.0
    if dead.has_bias:
        dead.biases[layer - 1][node] = 0.0
    changed = dead.copy()
    changed.weights[layer][node, 0] *= factor
    return dead, changed
