"""Where a network starts: initializations, and two function-preserving G transformations.

Where a network starts matters in G-space: G-SGD updates a basis-path value ``v`` with
``dl/dv = u / v``, so a tiny path value gets a huge step, and from He initialization every
skeleton path's value is a product of ``L`` small weights. Say which is which:

* :func:`skeleton_unit` (an *initialization*: the function changes) sets every skeleton weight
  to 1, as the authors' released code does before training SGD and G-SGD alike;
* :func:`normalize_skeleton_out_weights` and :func:`balance` are *G transformations* (the
  function, the path values and, by claim A2, G-SGD's trajectory stay the same): useful for
  reading weights, useless as a cure.

Measurements of the effect on training are in the docs ("Initialisation" in the theory
page).
"""

from __future__ import annotations

import warnings

import numpy as np

from . import validation as V
from .core.basis import resolve_skeleton
from .core.network import MLP
from .core.scaling import ScalingGroupElement

__all__ = ["INITS", "DEFAULT_INIT", "skeleton_unit", "initialize"]
__all__ += ["normalize_skeleton_out_weights", "balance", "BalanceWarning"]

INITS = ("he", "skeleton-unit")

#: Default of ``gspace train --init`` and ``gspace demo``: see :func:`initialize`.
DEFAULT_INIT = "skeleton-unit"


class BalanceWarning(UserWarning):
    """:func:`balance` stopped at ``max_iter`` before reaching its tolerance."""


def skeleton_unit(net, skeleton=None):
    """A copy of ``net`` with every pi-edge and sigma-edge weight set to 1 (biases copied).

    For equal hidden widths and the default skeleton these are the paper's skeleton weights.
    An initialization, not a G transformation: every skeleton path gets value 1 and each
    non-skeleton basis path is worth its single weight.

    Examples
    --------
    >>> import numpy as np
    >>> net = skeleton_unit(MLP([2, 3, 3, 2], rng=np.random.default_rng(0)))
    >>> net.weights[1].diagonal().tolist(), [float(net.weights[0][j % 2, j]) for j in range(3)]
    ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    """
    sk = V.skeleton_for_net(net, skeleton, resolve_skeleton)
    weights = [w.copy() for w in net.weights]
    for l, w in enumerate(weights):  # a convolution: the centre tap of each skeleton pair
        w[(sk.pi_mask(l) | sk.sigma_mask(l),) + tuple(k // 2 for k in w.shape[2:])] = 1.0
    return net.with_params(weights, None if net.biases is None else [b.copy() for b in net.biases])


def initialize(widths, *, init: str = DEFAULT_INIT, bias: bool = False, rng=None) -> MLP:
    """A new network: He initialization (``"he"``), then :func:`skeleton_unit` for the default
    ``"skeleton-unit"``, for every optimizer (a comparison starts all of them from the same
    network; measurements: docs).

    Examples
    --------
    >>> import numpy as np
    >>> a = initialize([3, 4, 2], init="he", rng=np.random.default_rng(0))
    >>> b = initialize([3, 4, 2], rng=np.random.default_rng(0))
    >>> int(np.sum(a.weights[0] != b.weights[0]))  # the 4 pi-edges of layer 1
    4
    """
    V.choice(init, INITS, "init")
    net = MLP(widths, bias=bias, rng=rng)
    return skeleton_unit(net) if init == "skeleton-unit" else net


def normalize_skeleton_out_weights(net, skeleton=None):
    """The G transformation making every sigma-edge (skeleton out-weight) ``+-1``.

    Processed from the last hidden layer down: node ``j`` of layer ``l`` gets
    ``c_l(j) = |w_l(j, sigma(j))| * c_{l+1}(sigma(j))`` (``c_L = 1``). Returns
    ``(g.apply(net), g)``.

    Examples
    --------
    >>> import numpy as np
    >>> new, g = normalize_skeleton_out_weights(MLP([3, 4, 4, 2], rng=np.random.default_rng(0)))
    >>> np.abs(new.weights[2][[0, 1, 2, 3], [0, 1, 0, 1]]).round(12).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    sk = V.skeleton_for_net(net, skeleton, resolve_skeleton, sigma_nonzero=True)
    cs, c_next = [None] * (len(net.weights) - 1), np.ones(net.widths[-1])
    for l in range(len(net.weights) - 1, 0, -1):
        w = net.weights[l][np.arange(net.widths[l]), sk.sigma[l]]
        cs[l - 1] = c_next = np.abs(w) * c_next[sk.sigma[l]]
    g = ScalingGroupElement(net.widths, cs)
    return g.apply(net), g


def balance(net, tol: float = 1e-10, max_iter: int = 10_000):
    """The G transformation minimising the sum of squared parameters; ``(g(net), g)``.

    ``f(c) = sum_e w_e^2 c_b^2 / c_a^2`` is convex in ``log c``; nodes of one layer share no
    edge, so a layer is minimised at once: node ``j`` gets ``(O_j / I_j)^(1/4)`` with ``I_j``,
    ``O_j`` the squared norms of its in- and out-parameters (a node with all-zero in- or
    out-parameters is left alone). Warns :class:`BalanceWarning` if ``max_iter`` sweeps do not
    reach ``tol``.

    Examples
    --------
    >>> new, g = balance(MLP.from_weights([[[4.0]], [[0.25]]]))
    >>> new.weights[0].round(12).tolist(), new.weights[1].round(12).tolist()
    ([[1.0]], [[1.0]])
    """
    tol, max_iter = V.balance_args(net, tol, max_iter)
    ws = [w.copy() for w in net.weights]
    bs = None if net.biases is None else [b.copy() for b in net.biases]
    log_c = [np.zeros(h) for h in net.widths[1:-1]]
    for _ in range(max_iter if len(ws) >= 2 else 0):
        biggest = 0.0
        for l in range(1, len(ws)):
            sq_in = np.sum(ws[l - 1] ** 2, axis=0) + (bs[l - 1] ** 2 if bs is not None else 0.0)
            sq_out = np.sum(ws[l] ** 2, axis=1)
            ok = (sq_in > 0) & (sq_out > 0)
            step = np.where(
                ok,
                0.25 * (np.log(np.where(ok, sq_out, 1.0)) - np.log(np.where(ok, sq_in, 1.0))),
                0.0,
            )
            ws[l - 1] *= np.exp(step)[None, :]
            ws[l] /= np.exp(step)[:, None]
            if bs is not None:
                bs[l - 1] *= np.exp(step)
            log_c[l - 1] += step
            biggest = max(biggest, float(np.max(np.abs(step))))
        if biggest <= tol:
            break
    else:
        if len(ws) >= 2:
            warnings.warn(
                f"balance did not converge to tol={tol} within max_iter={max_iter} sweeps",
                BalanceWarning,
                stacklevel=2,
            )
    g = ScalingGroupElement(net.widths, [np.exp(x) for x in log_c])
    return g.apply(net), g
