"""The skeleton of a network: an in-parent pi and an out-child sigma for every hidden node.

Paper-notes section 6, claim B4. For every hidden node ``n`` of layer ``l`` (``1 <= l <= L-1``)
choose an in-parent ``pi(n)`` in layer ``l - 1`` and an out-child ``sigma(n)`` in layer
``l + 1``. The defaults ``pi(j) = j mod h_{l-1}`` and ``sigma(j) = j mod h_{l+1}`` give, for equal
hidden widths, exactly the paper's skeleton (Skeleton method): input ``j mod d`` -> hidden
``j``, the diagonal ``j -> j`` between hidden layers, hidden ``j`` -> output ``j mod K``.

Edge names used throughout gspace:

* a *sigma-edge* is ``n -> sigma(n)`` for a hidden node ``n``; these are the ``H`` free weights
  that Weight-Allocation keeps fixed;
* a *pi-edge* is ``pi(n) -> n`` for a hidden node ``n``;
* a *skeleton edge* is a pi-edge or a sigma-edge (for the paper's skeleton with equal widths the
  two sets overlap on the hidden-to-hidden diagonal).

In code the layer index ``l`` of ``pi[l]`` and ``sigma[l]`` is the layer of the hidden node, so
``pi[0]`` and ``sigma[0]`` are None (inputs have neither), as are ``pi[L]`` and ``sigma[L]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import check_widths

__all__ = ["Skeleton"]


@dataclass(frozen=True, eq=False)
class Skeleton:
    """In-parents ``pi`` and out-children ``sigma`` of the hidden nodes.

    Parameters
    ----------
    widths : list of int
        ``[h_0, ..., h_L]``.
    pi : list
        ``pi[l]`` for ``1 <= l <= L-1``: int array of shape ``(h_l,)`` with entries in
        ``0..h_{l-1}-1``; ``pi[0]`` and ``pi[L]`` are None.
    sigma : list
        ``sigma[l]`` for ``1 <= l <= L-1``: int array of shape ``(h_l,)`` with entries in
        ``0..h_{l+1}-1``; ``sigma[0]`` and ``sigma[L]`` are None.

    Raises
    ------
    TypeError, ValueError
        For bad widths (see :func:`gspace.network.check_widths`).
    ValueError
        If ``pi`` or ``sigma`` has the wrong length, shape or dtype, an entry out of range,
        or a non-None entry at layer 0 or ``L``.

    Notes
    -----
    The skeleton stores read-only int64 copies of ``pi[l]`` and ``sigma[l]`` (and ``widths``
    as a list), so later changes to the caller's arrays cannot reach it. Two skeletons are
    equal when their widths, ``pi`` and ``sigma`` are; skeletons are hashable.

    Examples
    --------
    >>> sk = Skeleton.default([3, 4, 4, 2])
    >>> sk.pi[1].tolist(), sk.sigma[2].tolist()
    ([0, 1, 2, 0], [0, 1, 0, 1])
    >>> sk.is_paper_skeleton
    True
    >>> sk == Skeleton.paper([3, 4, 4, 2])
    True
    """

    widths: list
    pi: list
    sigma: list

    def __post_init__(self):
        widths = check_widths(self.widths)
        L = len(widths) - 1
        if len(self.pi) != L + 1 or len(self.sigma) != L + 1:
            raise ValueError(f"pi and sigma must be lists of length L+1 = {L + 1}")
        for name, maps, other in (("pi", self.pi, -1), ("sigma", self.sigma, +1)):
            if maps[0] is not None or maps[L] is not None:
                raise ValueError(f"{name}[0] and {name}[L] must be None (only hidden nodes)")
            for l in range(1, L):
                arr = np.asarray(maps[l])
                if arr.shape != (widths[l],) or arr.dtype.kind not in "iu":
                    raise ValueError(
                        f"{name}[{l}] must be an integer array of shape ({widths[l]},), "
                        f"got {arr.dtype} {arr.shape}"
                    )
                h = widths[l + other]
                if arr.size and (arr.min() < 0 or arr.max() >= h):
                    raise ValueError(
                        f"{name}[{l}] entries must lie in 0..{h - 1} (layer {l + other} has "
                        f"{h} nodes)"
                    )

        # store checked copies (read-only), so the caller's arrays cannot change the skeleton
        object.__setattr__(self, "widths", list(widths))
        for name in ("pi", "sigma"):
            maps = [None] * (L + 1)
            for l in range(1, L):
                arr = np.array(getattr(self, name)[l], dtype=np.int64)
                arr.flags.writeable = False
                maps[l] = arr
            object.__setattr__(self, name, maps)

    def _key(self) -> tuple:
        inner = range(1, self.L)
        return (
            tuple(self.widths),
            tuple(tuple(self.pi[l].tolist()) for l in inner),
            tuple(tuple(self.sigma[l].tolist()) for l in inner),
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, Skeleton):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @classmethod
    def default(cls, widths) -> Skeleton:
        """``pi(j) = j mod h_{l-1}``, ``sigma(j) = j mod h_{l+1}`` (the paper's skeleton for
        equal hidden widths)."""
        widths = check_widths(widths)
        L = len(widths) - 1
        pi = [None] * (L + 1)
        sigma = [None] * (L + 1)
        for l in range(1, L):
            j = np.arange(widths[l])
            pi[l] = j % widths[l - 1]
            sigma[l] = j % widths[l + 1]
        return cls(widths, pi, sigma)

    @classmethod
    def paper(cls, widths) -> Skeleton:
        """The paper's skeleton (Skeleton method); it needs equal hidden widths.

        Raises
        ------
        ValueError
            For unequal hidden widths, pointing to the general construction.
        """
        widths = check_widths(widths)
        hidden = widths[1:-1]
        if len(set(hidden)) > 1:
            raise ValueError(
                f"the paper's skeleton method needs equal hidden widths, got {hidden}; "
                f"use the general construction Skeleton.default(widths) (claim B4), which "
                f"works for any widths"
            )
        return cls.default(widths)

    @property
    def L(self) -> int:
        return len(self.widths) - 1

    @property
    def is_paper_skeleton(self) -> bool:
        """True if equal hidden widths and pi, sigma are the defaults."""
        hidden = self.widths[1:-1]
        if len(set(hidden)) > 1:
            return False
        d = Skeleton.default(self.widths)
        return all(
            np.array_equal(self.pi[l], d.pi[l]) and np.array_equal(self.sigma[l], d.sigma[l])
            for l in range(1, self.L)
        )

    def sigma_mask(self, l: int) -> np.ndarray:
        """Boolean mask of shape ``(h_l, h_{l+1})`` of the sigma-edges in ``weights[l]``.

        ``weights[l]`` holds edges from layer ``l`` to layer ``l + 1``; sigma-edges leave a
        hidden node of layer ``l`` (so there are none for ``l = 0``).
        """
        w = self.widths
        mask = np.zeros((w[l], w[l + 1]), dtype=bool)
        if 1 <= l <= self.L - 1:
            mask[np.arange(w[l]), self.sigma[l]] = True
        return mask

    def pi_mask(self, l: int) -> np.ndarray:
        """Boolean mask of shape ``(h_l, h_{l+1})`` of the pi-edges in ``weights[l]``.

        pi-edges enter a hidden node of layer ``l + 1`` (none for ``l = L - 1``).
        """
        w = self.widths
        mask = np.zeros((w[l], w[l + 1]), dtype=bool)
        if 1 <= l + 1 <= self.L - 1:
            mask[self.pi[l + 1], np.arange(w[l + 1])] = True
        return mask

    def in_chain(self, l: int, j: int) -> list[int]:
        """Nodes ``(i_0, ..., i_l)`` of the in-chain of node ``j`` of layer ``l``: follow pi
        down to an input."""
        nodes = [j]
        for k in range(l, 0, -1):
            nodes.append(int(self.pi[k][nodes[-1]]))
        return nodes[::-1]

    def out_chain(self, l: int, j: int) -> list[int]:
        """Nodes ``(i_l, ..., i_L)`` of the out-chain of node ``j`` of layer ``l``: follow
        sigma up to an output."""
        nodes = [j]
        for k in range(l, self.L):
            nodes.append(int(self.sigma[k][nodes[-1]]))
        return nodes
