"""The positive scaling group G of a ReLU network (claims G1-G4).

For a hidden node ``O`` and ``c > 0``, ``g_{c,O}`` multiplies every in-weight of ``O`` (and
its bias) by ``c`` and every out-weight by ``1/c``. Since ``relu(c z) = c relu(z)`` the
function does not change (G2), nor does any path value (G3) or activation status (G4). All
hidden nodes at once, ``c in (R_{>0})^H``, give ``g_c``; the ``g_c`` form the abelian group
``G`` (G1): ``g_c . g_c' = g_{c c'}``, identity ``c = 1``, inverse ``g_{1/c}``.

A group element stores ``c[l - 1]`` of shape ``(h_l,)`` for the hidden layers ``l = 1..L-1``;
hidden nodes are numbered ``O = h_1 + ... + h_{l-1} + j`` layer by layer. On layers with
parallel edges ``(h_l, h_{l+1}, *taps)`` the factor of a node applies to all its taps.
"""

from __future__ import annotations

import numpy as np
import scipy as sp

from .. import validation as V

__all__ = ["ScalingGroupElement", "random_scaling", "scaling_vectors"]


class ScalingGroupElement:
    """An element ``g_c`` of the positive scaling group ``G``; ``c[l - 1]`` ``(h_l,)``: finite
    positive factors (copied). ``g_c`` multiplies ``weights[l-1][:, j]`` and ``biases[l-1][j]``
    by ``c[l-1][j]`` and ``weights[l][j, :]`` by ``1 / c[l-1][j]``; in log coordinates
    ``log|g_c(w)| = log|w| + B^T log c`` (:func:`scaling_vectors`).

    Examples
    --------
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> g = ScalingGroupElement([2, 3, 1], [[2.0, 0.5, 4.0]])
    >>> X = np.ones((1, 2))
    >>> bool(np.allclose(g.apply(net).forward(X), net.forward(X))), (g @ g.inverse()).c[0].tolist()
    (True, [1.0, 1.0, 1.0])
    """

    def __init__(self, widths, c):
        self._widths, self._c = V.scaling_factors(widths, c)

    @classmethod
    def identity(cls, widths) -> ScalingGroupElement:
        """The identity ``c = 1``."""
        widths = V.widths(widths)
        return cls(widths, [np.ones(h) for h in widths[1:-1]])

    @classmethod
    def single_node(cls, widths, layer: int, node: int, c: float) -> ScalingGroupElement:
        """``g_{c,O}`` on node ``node`` of hidden layer ``layer`` only.

        Examples
        --------
        >>> [x.tolist() for x in ScalingGroupElement.single_node([2, 3, 3, 1], 2, 1, 5.0).c]
        [[1.0, 1.0, 1.0], [1.0, 5.0, 1.0]]
        """
        widths = V.single_node(widths, layer, node, c)
        cs = [np.ones(h) for h in widths[1:-1]]
        cs[layer - 1][node] = float(c)
        return cls(widths, cs)

    @classmethod
    def from_log(cls, widths, log_c) -> ScalingGroupElement:
        """The element ``c = exp(log_c)``, ``log_c`` of shape ``(H,)`` (nodes layer by layer).

        Examples
        --------
        >>> ScalingGroupElement.from_log([2, 2, 2, 1], [0.0, 0.0, 0.0, np.log(2.0)]).c[1]
        array([1., 2.])
        """
        widths, c = V.log_factors(widths, log_c)
        starts = np.cumsum([0] + widths[1:-1])
        return cls(widths, [c[a:b] for a, b in zip(starts[:-1], starts[1:])])

    @property
    def widths(self) -> list[int]:
        return list(self._widths)

    @property
    def c(self) -> list[np.ndarray]:
        """Copies of the factors, ``c[l - 1]`` of shape ``(h_l,)``."""
        return [x.copy() for x in self._c]

    def log_c(self) -> np.ndarray:
        """``log c`` as one vector of shape ``(H,)``."""
        return np.log(np.concatenate(self._c)) if self._c else np.zeros(0)

    def __repr__(self) -> str:
        return f"ScalingGroupElement(widths={self._widths}, c={[x.tolist() for x in self._c]})"

    def compose(self, other: ScalingGroupElement) -> ScalingGroupElement:
        """``self . other`` (apply ``other`` first) ``= g_{c c'}`` (G1).

        Examples
        --------
        >>> g = ScalingGroupElement([2, 2, 1], [[2.0, 3.0]])
        >>> g.compose(g).c[0].tolist()
        [4.0, 9.0]
        """
        V.same_group(self, other)
        return ScalingGroupElement(self._widths, [a * b for a, b in zip(self._c, other._c)])

    __matmul__ = compose

    def inverse(self) -> ScalingGroupElement:
        """``g_{1/c}`` (G1)."""
        return ScalingGroupElement(self._widths, [1.0 / a for a in self._c])

    def allclose(self, other: ScalingGroupElement, rtol: float = 1e-12) -> bool:
        """Whether the factors agree to relative tolerance ``rtol``."""
        V.same_group(self, other)
        return all(np.allclose(a, b, rtol=rtol, atol=0) for a, b in zip(self._c, other._c))

    def apply(self, net):
        """The network ``g_c(w)`` (a new network; ``net`` is not modified).

        Examples
        --------
        >>> net = gspace.MLP.from_weights([[[1.0, 1.0]], [[1.0], [1.0]]], [[0.5, 0.5], [0.0]])
        >>> new = ScalingGroupElement([1, 2, 1], [[2.0, 4.0]]).apply(net)
        >>> new.weights[0].tolist(), new.biases[0].tolist(), new.weights[1].ravel().tolist()
        ([[2.0, 4.0]], [1.0, 2.0], [0.5, 0.25])
        """
        V.acts_on(self._widths, net)
        c = [np.ones(net.widths[0])] + self._c + [np.ones(net.widths[-1])]
        ws = []
        for l, W in enumerate(net.weights):  # W[a, b, taps] c(b) / c(a)
            rows, cols = (-1,) + (1,) * (W.ndim - 1), (1, -1) + (1,) * (W.ndim - 2)
            ws.append(W / c[l].reshape(rows) * c[l + 1].reshape(cols))
        bs = None if net.biases is None else [b * c[l + 1] for l, b in enumerate(net.biases)]
        return net.with_params(ws, bs)

    __call__ = apply


def random_scaling(widths, rng, sigma: float = 1.0, low=None, high=None) -> ScalingGroupElement:
    """A random element of ``G``: factors ``exp(N(0, sigma^2))``, or uniform in ``[low, high]``.

    Examples
    --------
    >>> g = random_scaling([3, 4, 2], np.random.default_rng(0), low=0.1, high=10)
    >>> bool(np.all((g.c[0] >= 0.1) & (g.c[0] <= 10)))
    True
    """
    widths, low, high, sigma = V.random_scaling_args(widths, rng, sigma, low, high)
    hidden = widths[1:-1]
    if low is not None:
        return ScalingGroupElement(widths, [rng.uniform(low, high, size=h) for h in hidden])
    return ScalingGroupElement(widths, [np.exp(rng.normal(0.0, sigma, size=h)) for h in hidden])


def scaling_vectors(widths, bias: bool = False, sparse: bool = False):
    """The vectors ``b_O`` as rows of ``B`` ``(H, m)`` (dense, or sparse int64): ``+1`` on the
    in-edges of ``O`` and its bias (columns after the weights), ``-1`` on its out-edges. They
    span ``ker(A^T)`` (R2); ``log|g_c(w)| = log|w| + B^T log c``.

    Examples
    --------
    >>> scaling_vectors([1, 2, 1]).astype(int).tolist()
    [[1, 0, -1, 0], [0, 1, 0, -1]]
    """
    widths = V.widths(widths)
    sizes = [a * b for a, b in zip(widths[:-1], widths[1:])]
    offs = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    boffs = offs[-1] + np.concatenate([[0], np.cumsum(widths[1:])]).astype(np.int64)
    rows, cols, vals, O = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)], 0
    for l in range(1, len(widths) - 1):
        hp, h, hn, j = widths[l - 1], widths[l], widths[l + 1], np.arange(widths[l])
        rows += [np.repeat(O + j, hp), np.repeat(O + j, hn)] + [O + j] * bool(bias)
        cols += [offs[l - 1] + (np.arange(hp)[None, :] * h + j[:, None]).ravel()]  # in-edges
        cols += [offs[l] + (j[:, None] * hn + np.arange(hn)[None, :]).ravel()]  # out-edges
        cols += [boffs[l - 1] + j] * bool(bias)
        vals += [np.ones(h * hp), -np.ones(h * hn)] + [np.ones(h)] * bool(bias)
        O += h
    shape = (O, int(offs[-1]) + bias * sum(widths[1:]))
    B = sp.sparse.csr_array(
        (np.concatenate(vals).astype(np.int64), (np.concatenate(rows), np.concatenate(cols))),
        shape=shape,
    )
    return B if sparse else B.toarray().astype(np.float64)
