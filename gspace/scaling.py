"""The positive scaling group G of a ReLU network (paper-notes section 2, claims G1-G4).

For a hidden node ``O`` and ``c > 0`` the operator ``g_{c,O}`` multiplies every incoming weight
of ``O`` by ``c`` and every outgoing weight by ``1/c``. Since ``relu(c z) = c relu(z)`` for
``c > 0`` the network function does not change (G2), nor does any path value (G3) or activation
status (G4). Doing this at every hidden node at once with factors ``c in (R_{>0})^H`` gives
``g_c``; the set of all ``g_c`` is the abelian group ``G`` (G1).

Conventions
-----------
* A group element stores one positive array per hidden layer: ``c[l - 1]`` of shape ``(h_l,)``
  for the hidden layer ``l = 1..L-1`` (the same indexing as ``Gradients.hidden_flow``).
* Hidden nodes are numbered ``O = 0..H-1`` layer by layer (``O = h_1 + ... + h_{l-1} + j`` for
  node ``j`` of layer ``l``), edges ``0..m-1`` layer by layer, row-major in ``weights[l]``
  (the structure matrix's numbering).
* With biases: the bias of node ``b`` of layer ``l + 1`` (``biases[l][b]``) is an edge from a
  constant-1 node, so it scales like an in-weight of ``b`` (by ``c_b`` if ``b`` is hidden, not at
  all if ``b`` is an output). In the log-coordinate matrix the bias entries follow the ``m``
  weights, layer by layer (``biases[0]``, ``biases[1]``, ...).

Two function-preserving normalisations are G transformations, and say so:

* :func:`normalize_skeleton_out_weights` makes every sigma-edge (skeleton out-weight) ``+-1``;
  this is the honest counterpart of the authors' code, which *overwrites* skeleton weights with
  1 (an initialization that changes the function, not a G transformation);
* :func:`balance` finds the group element minimising the sum of squared parameters.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .basis import resolve_skeleton
from .network import MLP, check_widths
from .skeleton import Skeleton

__all__ = [
    "ScalingGroupElement",
    "BalanceWarning",
    "random_scaling",
    "scaling_vectors",
    "hidden_node_index",
    "normalize_skeleton_out_weights",
    "balance",
    "check_same_widths",
]


class BalanceWarning(UserWarning):
    """:func:`balance` stopped at ``max_iter`` before reaching its tolerance."""


def check_same_widths(net_a: MLP, net_b: MLP, what: str = "networks") -> None:
    """Raise ValueError if two networks differ in widths or in having biases.

    Parameters
    ----------
    net_a, net_b : MLP
    what : str, default "networks"
        Used in the error message.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If either is not a :class:`~gspace.MLP`.
    ValueError
        If the widths differ or only one has biases.

    Examples
    --------
    >>> import numpy as np
    >>> a = MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> check_same_widths(a, MLP([2, 4, 1], rng=np.random.default_rng(0)))
    Traceback (most recent call last):
    ...
    ValueError: the two networks must have the same widths, got [2, 3, 1] and [2, 4, 1]
    """
    for n in (net_a, net_b):
        if not isinstance(n, MLP):
            raise TypeError(f"expected gspace.MLP {what}, got {type(n).__name__}")
    if net_a.widths != net_b.widths:
        raise ValueError(
            f"the two {what} must have the same widths, got {net_a.widths} and {net_b.widths}"
        )
    if net_a.has_bias != net_b.has_bias:
        raise ValueError(f"the two {what} must both have biases or both have none")


def hidden_node_index(widths, layer: int, node: int) -> int:
    """Flat index ``O`` of node ``node`` of hidden layer ``layer`` (``1 <= layer <= L-1``).

    Parameters
    ----------
    widths : sequence of int
    layer : int
        A hidden layer, ``1 <= layer <= L - 1``.
    node : int
        ``0 <= node < h_layer``.

    Returns
    -------
    int
        ``O = h_1 + ... + h_{layer-1} + node``.

    Raises
    ------
    ValueError
        If ``layer`` is not hidden or ``node`` is out of range.

    Examples
    --------
    >>> hidden_node_index([3, 4, 5, 2], 2, 1)
    5
    """
    widths = check_widths(widths)
    L = len(widths) - 1
    if not 1 <= layer <= L - 1:
        raise ValueError(f"layer must be a hidden layer 1..{L - 1}, got {layer}")
    if not 0 <= node < widths[layer]:
        raise ValueError(f"node must lie in 0..{widths[layer] - 1} for layer {layer}, got {node}")
    return sum(widths[1:layer]) + node


def _check_c(c, hidden: list[int]) -> list[np.ndarray]:
    if isinstance(c, np.ndarray) or not isinstance(c, (list, tuple)):
        raise TypeError(
            "c must be a list with one array of positive factors per hidden layer "
            f"(shapes {[(h,) for h in hidden]}), got {type(c).__name__}"
        )
    if len(c) != len(hidden):
        raise ValueError(
            f"c must have one array per hidden layer ({len(hidden)} hidden layers with widths "
            f"{hidden}), got {len(c)} arrays"
        )
    out = []
    for k, (ck, h) in enumerate(zip(c, hidden, strict=True)):
        arr = np.asarray(ck)
        if arr.dtype == object or arr.dtype.kind not in "iuf":
            raise TypeError(f"c[{k}] must be a real numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64, copy=True)
        if arr.shape != (h,):
            raise ValueError(
                f"c[{k}] (hidden layer {k + 1}) must have shape ({h},), got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(
                f"c[{k}] (hidden layer {k + 1}) must contain finite positive factors, got "
                f"{arr.tolist()}"
            )
        out.append(arr)
    return out


class ScalingGroupElement:
    """An element ``g_c`` of the positive scaling group ``G``.

    Parameters
    ----------
    widths : sequence of int
        ``[h_0, ..., h_L]`` of the networks it acts on.
    c : list of array_like
        ``c[l - 1]`` of shape ``(h_l,)`` for the hidden layers ``l = 1..L-1``: finite,
        positive factors (copied).

    Raises
    ------
    TypeError
        If ``c`` is not a list of real arrays.
    ValueError
        If ``c`` has the wrong number of arrays, a wrong shape, or a factor that is not
        finite and > 0.

    Notes
    -----
    ``g_c`` multiplies ``weights[l-1][:, j]`` (the in-weights of node ``j`` of hidden layer
    ``l``) and its bias by ``c[l-1][j]`` and ``weights[l][j, :]`` (its out-weights) by
    ``1 / c[l-1][j]``. Composition is elementwise multiplication of factors,
    ``g_c . g_c' = g_{c c'}``; the identity is ``c = 1``; the inverse is ``g_{1/c}`` (G1).
    In log coordinates ``log|g_c(w)| = log|w| + B^T log c`` with ``B`` from
    :func:`scaling_vectors`.

    References
    ----------
    .. [1] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019 (positive scale-invariance of ReLU
       networks; paper-notes claims G1-G4).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> g = ScalingGroupElement([2, 3, 1], [[2.0, 0.5, 4.0]])
    >>> X = np.ones((1, 2))
    >>> bool(np.allclose(g.apply(net).forward(X), net.forward(X)))
    True
    >>> (g @ g.inverse()).c[0].tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, widths, c):
        self._widths = check_widths(widths)
        self._c = _check_c(c, self._widths[1:-1])

    # ---------------------------------------------------------------- construction
    @classmethod
    def identity(cls, widths) -> ScalingGroupElement:
        """The identity ``c = 1``.

        Parameters
        ----------
        widths : sequence of int

        Returns
        -------
        ScalingGroupElement

        Examples
        --------
        >>> ScalingGroupElement.identity([2, 3, 1]).c[0].tolist()
        [1.0, 1.0, 1.0]
        """
        widths = check_widths(widths)
        return cls(widths, [np.ones(h) for h in widths[1:-1]])

    @classmethod
    def single_node(cls, widths, layer: int, node: int, c: float) -> ScalingGroupElement:
        """The operator ``g_{c,O}`` on one hidden node ``O`` = node ``node`` of ``layer``.

        Parameters
        ----------
        widths : sequence of int
        layer : int
            Hidden layer of ``O``, ``1 <= layer <= L - 1``.
        node : int
            Index of ``O`` in its layer.
        c : float
            Factor ``> 0``: in-weights of ``O`` times ``c``, out-weights times ``1/c``.

        Returns
        -------
        ScalingGroupElement

        Raises
        ------
        ValueError
            For a non-hidden layer, a node out of range or ``c <= 0``.

        Examples
        --------
        >>> g = ScalingGroupElement.single_node([2, 3, 3, 1], 2, 1, 5.0)
        >>> [x.tolist() for x in g.c]
        [[1.0, 1.0, 1.0], [1.0, 5.0, 1.0]]
        """
        widths = check_widths(widths)
        hidden_node_index(widths, layer, node)  # validates layer and node
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not (np.isfinite(c) and c > 0):
            raise ValueError(f"the factor c must be a finite real number > 0, got {c!r}")
        cs = [np.ones(h) for h in widths[1:-1]]
        cs[layer - 1][node] = float(c)
        return cls(widths, cs)

    @classmethod
    def from_log(cls, widths, log_c) -> ScalingGroupElement:
        """Element with ``c = exp(log_c)``.

        Parameters
        ----------
        widths : sequence of int
        log_c : array_like of shape (H,)
            Hidden nodes layer by layer.

        Returns
        -------
        ScalingGroupElement

        Raises
        ------
        TypeError
            If ``log_c`` is not a real numeric array.
        ValueError
            If ``log_c`` has the wrong shape, or an entry that is not finite or whose
            ``exp`` overflows to ``inf`` or underflows to 0.

        Examples
        --------
        >>> ScalingGroupElement.from_log([2, 2, 2, 1], [0.0, 0.0, 0.0, np.log(2.0)]).c[1]
        array([1., 2.])
        """
        widths = check_widths(widths)
        hidden = widths[1:-1]
        arr = np.asarray(log_c)
        if arr.dtype == object or arr.dtype.kind not in "iuf":
            raise TypeError(f"log_c must be a real numeric array, got dtype {arr.dtype}")
        log_c = arr.astype(np.float64)
        if log_c.shape != (sum(hidden),):
            raise ValueError(f"log_c must have shape ({sum(hidden)},), got {log_c.shape}")
        with np.errstate(over="ignore", under="ignore"):
            c = np.exp(log_c)
        if not (np.all(np.isfinite(log_c)) and np.all(np.isfinite(c)) and np.all(c > 0)):
            raise ValueError(
                "log_c must be finite with exp(log_c) a finite positive float64 "
                f"(|log_c| below about 709), got {log_c.tolist()}"
            )
        starts = np.cumsum([0] + hidden)
        return cls(widths, [c[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True)])

    # ---------------------------------------------------------------- facts
    @property
    def widths(self) -> list[int]:
        return list(self._widths)

    @property
    def c(self) -> list[np.ndarray]:
        """Copies of the factors, ``c[l - 1]`` of shape ``(h_l,)``."""
        return [x.copy() for x in self._c]

    def log_c(self) -> np.ndarray:
        """``log c`` as one vector.

        Returns
        -------
        ndarray of shape (H,)
            Hidden nodes layer by layer.

        Examples
        --------
        >>> ScalingGroupElement([2, 2, 1], [[1.0, np.e]]).log_c()
        array([0., 1.])
        """
        if not self._c:
            return np.zeros(0)
        return np.log(np.concatenate(self._c))

    def __repr__(self) -> str:
        return f"ScalingGroupElement(widths={self._widths}, c={[x.tolist() for x in self._c]})"

    # ---------------------------------------------------------------- group operations
    def _check_other(self, other) -> ScalingGroupElement:
        if not isinstance(other, ScalingGroupElement):
            raise TypeError(f"can only compose with a ScalingGroupElement, got {type(other)}")
        if other._widths != self._widths:
            raise ValueError(
                f"cannot compose group elements of different widths {self._widths} and "
                f"{other._widths}"
            )
        return other

    def compose(self, other: ScalingGroupElement) -> ScalingGroupElement:
        """``self . other`` (apply ``other`` first); equals ``g_{c * c'}`` (G1).

        Parameters
        ----------
        other : ScalingGroupElement
            Same widths.

        Returns
        -------
        ScalingGroupElement

        Raises
        ------
        TypeError, ValueError
            If ``other`` is not a group element of the same widths.

        Examples
        --------
        >>> g = ScalingGroupElement([2, 2, 1], [[2.0, 3.0]])
        >>> g.compose(g).c[0].tolist()
        [4.0, 9.0]
        """
        other = self._check_other(other)
        return ScalingGroupElement(
            self._widths, [a * b for a, b in zip(self._c, other._c, strict=True)]
        )

    __matmul__ = compose

    def inverse(self) -> ScalingGroupElement:
        """``g_{1/c}`` (G1).

        Returns
        -------
        ScalingGroupElement

        Examples
        --------
        >>> ScalingGroupElement([2, 2, 1], [[2.0, 4.0]]).inverse().c[0].tolist()
        [0.5, 0.25]
        """
        return ScalingGroupElement(self._widths, [1.0 / a for a in self._c])

    def allclose(self, other: ScalingGroupElement, rtol: float = 1e-12) -> bool:
        """Whether the factors agree to relative tolerance ``rtol``.

        Parameters
        ----------
        other : ScalingGroupElement
        rtol : float, default 1e-12

        Returns
        -------
        bool

        Examples
        --------
        >>> g = ScalingGroupElement([2, 2, 1], [[2.0, 4.0]])
        >>> g.allclose(g.inverse().inverse())
        True
        """
        other = self._check_other(other)
        return all(np.allclose(a, b, rtol=rtol, atol=0) for a, b in zip(self._c, other._c))

    # ---------------------------------------------------------------- action
    def apply(self, net: MLP) -> MLP:
        """The network ``g_c(w)``: a new :class:`~gspace.MLP`, ``net`` is not modified.

        Parameters
        ----------
        net : MLP
            Widths must equal ``self.widths``; with or without biases.

        Returns
        -------
        MLP

        Raises
        ------
        TypeError
            If ``net`` is not a :class:`~gspace.MLP`.
        ValueError
            If the widths differ.

        Examples
        --------
        >>> net = MLP.from_weights([[[1.0, 1.0]], [[1.0], [1.0]]], biases=[[0.5, 0.5], [0.0]])
        >>> new = ScalingGroupElement([1, 2, 1], [[2.0, 4.0]]).apply(net)
        >>> new.weights[0].tolist(), new.biases[0].tolist(), new.weights[1].ravel().tolist()
        ([[2.0, 4.0]], [1.0, 2.0], [0.5, 0.25])
        """
        if not isinstance(net, MLP):
            raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
        if net.widths != self._widths:
            raise ValueError(
                f"this group element acts on widths {self._widths}, the network has {net.widths}"
            )
        L = net.L
        ws, bs = [], [] if net.has_bias else None
        for l in range(L):
            w = net.weights[l].copy()
            if l >= 1:  # rows = out-edges of hidden layer l
                w /= self._c[l - 1][:, None]
            if l + 1 <= L - 1:  # columns = in-edges of hidden layer l + 1
                w *= self._c[l][None, :]
            ws.append(w)
            if bs is not None:
                b = net.biases[l].copy()
                if l + 1 <= L - 1:
                    b *= self._c[l]
                bs.append(b)
        return MLP._wrap(ws, bs)

    __call__ = apply


def random_scaling(widths, rng, sigma: float = 1.0, low=None, high=None) -> ScalingGroupElement:
    """A random element of ``G``.

    Parameters
    ----------
    widths : sequence of int
    rng : numpy.random.Generator
    sigma : float, default 1.0
        Log-normal factors ``c = exp(N(0, sigma^2))`` (used unless ``low``/``high`` are given).
    low, high : float, optional
        If both are given, factors uniform in ``[low, high]`` (``0 < low <= high``), e.g.
        ``low=0.1, high=10``.

    Returns
    -------
    ScalingGroupElement

    Raises
    ------
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.
    ValueError
        For ``sigma < 0``, only one of ``low``/``high``, or not ``0 < low <= high``.

    Examples
    --------
    >>> import numpy as np
    >>> g = random_scaling([3, 4, 2], np.random.default_rng(0), low=0.1, high=10)
    >>> bool(np.all((g.c[0] >= 0.1) & (g.c[0] <= 10)))
    True
    """
    widths = check_widths(widths)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    hidden = widths[1:-1]
    if (low is None) != (high is None):
        raise ValueError("give both low and high (uniform factors) or neither (log-normal)")
    if low is not None:
        low, high = float(low), float(high)
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
            raise ValueError(f"need finite 0 < low <= high, got low={low}, high={high}")
        cs = [rng.uniform(low, high, size=h) for h in hidden]
    else:
        sigma = float(sigma)
        if not (np.isfinite(sigma) and sigma >= 0):
            raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
        cs = [np.exp(rng.normal(0.0, sigma, size=h)) for h in hidden]
    return ScalingGroupElement(widths, cs)


def scaling_vectors(widths, bias: bool = False) -> np.ndarray:
    """The log-coordinate vectors ``b_O`` of all hidden nodes, as a dense matrix ``B``.

    Parameters
    ----------
    widths : sequence of int
    bias : bool, default False
        If True, append one column per bias (layer by layer, ``biases[0]`` first) after the
        ``m`` weight columns.

    Returns
    -------
    B : ndarray of shape (H, m) (or (H, m + number of biases))
        Row ``O`` is ``b_O``: ``+1`` on the in-edges of ``O`` (and its bias), ``-1`` on its
        out-edges, 0 elsewhere.

    Notes
    -----
    ``log|g_c(w)| = log|w| + B^T log c`` (G1). The rows are independent (order nodes by layer:
    each row has a ``+1`` on in-edges no earlier row touches), and they span ``ker(A^T)`` (R2).

    Examples
    --------
    >>> scaling_vectors([1, 2, 1]).astype(int).tolist()
    [[1, 0, -1, 0], [0, 1, 0, -1]]
    """
    widths = check_widths(widths)
    L = len(widths) - 1
    offs = np.concatenate([[0], np.cumsum([a * b for a, b in zip(widths[:-1], widths[1:])])])
    m = int(offs[-1])
    n_bias = sum(widths[1:]) if bias else 0
    boffs = m + np.concatenate([[0], np.cumsum(widths[1:])])
    H = sum(widths[1:-1])
    B = np.zeros((H, m + n_bias))
    O = 0
    for l in range(1, L):
        h_prev, h, h_next = widths[l - 1], widths[l], widths[l + 1]
        for j in range(h):
            B[O, offs[l - 1] + np.arange(h_prev) * h + j] = 1.0  # in-edges: column j
            B[O, offs[l] + j * h_next + np.arange(h_next)] = -1.0  # out-edges: row j
            if bias:
                B[O, boffs[l - 1] + j] = 1.0
            O += 1
    return B


def normalize_skeleton_out_weights(net: MLP, skeleton: Skeleton | None = None):
    """The G transformation making every skeleton out-weight (sigma-edge) equal to ``+-1``.

    Parameters
    ----------
    net : MLP
    skeleton : Skeleton or {"default", "paper"}, optional
        Default ``Skeleton.default(net.widths)`` (the paper's skeleton for equal widths).

    Returns
    -------
    new_net : MLP
        ``g(net)``: the same function, path values and activation statuses (G2-G4) and
        ``|weights[l][j, sigma_l(j)]| = 1`` for every hidden node; signs unchanged.
    g : ScalingGroupElement
        The group element, ``new_net = g.apply(net)``.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~gspace.MLP` or ``skeleton`` is not a skeleton.
    ValueError
        If a sigma-edge weight is 0 (no positive scaling can make it +-1) or the skeleton's
        widths differ from the network's.

    Notes
    -----
    Processed from the last hidden layer down: node ``j`` of layer ``l`` gets
    ``c_l(j) = |w_l(j, sigma(j))| * c_{l+1}(sigma(j))`` (``c_L = 1``), so its out-weight
    ``w * c_{l+1} / c_l`` has modulus 1. The authors' code instead *overwrites* skeleton
    weights with 1, which changes the function (an initialization, not a G transformation).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 4, 2], rng=np.random.default_rng(0))
    >>> new, g = normalize_skeleton_out_weights(net)
    >>> np.abs(new.weights[2][[0, 1, 2, 3], [0, 1, 0, 1]]).round(12).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    widths = net.widths
    sk = resolve_skeleton(widths, skeleton)
    L = net.L
    cs = [None] * (L - 1)
    c_next = np.ones(widths[L])
    for l in range(L - 1, 0, -1):
        j = np.arange(widths[l])
        s = np.asarray(sk.sigma[l])
        w = net.weights[l][j, s]
        if np.any(w == 0):
            bad = int(np.flatnonzero(w == 0)[0])
            raise ValueError(
                f"sigma-edge weights[{l}][{bad}, {int(s[bad])}] (out-weight of node {bad} of "
                f"layer {l}) is 0: no positive scaling makes it +-1"
            )
        cs[l - 1] = np.abs(w) * c_next[s]
        c_next = cs[l - 1]
    g = ScalingGroupElement(widths, cs)
    return g.apply(net), g


def balance(net: MLP, tol: float = 1e-10, max_iter: int = 10_000):
    """The G transformation minimising the sum of squared parameters (balanced network).

    Parameters
    ----------
    net : MLP
    tol : float, default 1e-10
        Stop when a sweep changes no ``log c`` by more than ``tol``.
    max_iter : int, default 10000
        Maximum number of sweeps over the hidden layers.

    Returns
    -------
    new_net : MLP
        ``g(net)``, the same function (G2). At the optimum every hidden node with non-zero
        in- and out-weights has equal squared norms in and out:
        ``sum_in w^2 (+ bias^2) = sum_out w^2``.
    g : ScalingGroupElement
        ``new_net = g.apply(net)``.

    Raises
    ------
    ValueError
        For ``tol <= 0`` or ``max_iter < 1``.

    Warns
    -----
    BalanceWarning
        If ``max_iter`` sweeps did not reach ``tol``.

    Notes
    -----
    ``f(c) = sum_e w_e^2 c_{b(e)}^2 / c_{a(e)}^2`` (biases scale like in-weights) is convex in
    ``log c``. Nodes of one layer share no edge, so a whole layer is minimised at once
    (block coordinate descent): with ``I_j`` and ``O_j`` the current squared norms of the
    in- and out-parameters of node ``j``, its factor is ``(O_j / I_j)^(1/4)``. A node whose
    in- or out-parameters are all 0 has no minimiser (the infimum is approached as
    ``c -> 0`` or ``inf``); such a node is left unscaled.

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP.from_weights([[[4.0]], [[0.25]]])
    >>> new, g = balance(net)
    >>> new.weights[0].round(12).tolist(), new.weights[1].round(12).tolist()
    ([[1.0]], [[1.0]])
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    tol = float(tol)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    widths = net.widths
    L = net.L
    ws = [w.copy() for w in net.weights]
    bs = [b.copy() for b in net.biases] if net.has_bias else None
    log_c = [np.zeros(h) for h in widths[1:-1]]
    converged = L < 2
    for _ in range(max_iter if L >= 2 else 0):
        biggest = 0.0
        for l in range(1, L):
            sq_in = np.sum(ws[l - 1] ** 2, axis=0)
            if bs is not None:
                sq_in = sq_in + bs[l - 1] ** 2
            sq_out = np.sum(ws[l] ** 2, axis=1)
            ok = (sq_in > 0) & (sq_out > 0)
            step = np.zeros(widths[l])
            step[ok] = 0.25 * (np.log(sq_out[ok]) - np.log(sq_in[ok]))
            f = np.exp(step)
            ws[l - 1] *= f[None, :]
            ws[l] /= f[:, None]
            if bs is not None:
                bs[l - 1] *= f
            log_c[l - 1] += step
            biggest = max(biggest, float(np.max(np.abs(step))))
        if biggest <= tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"balance did not converge to tol={tol} within max_iter={max_iter} sweeps",
            BalanceWarning,
            stacklevel=2,
        )
    g = ScalingGroupElement(widths, [np.exp(x) for x in log_c])
    return g.apply(net), g
