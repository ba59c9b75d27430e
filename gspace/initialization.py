"""Where a network starts: the skeleton-unit initialization and two G transformations."""

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
    """A copy of ``net`` with every pi- and sigma-edge weight (a kernel's centre tap) set to 1,
    as the authors' code starts; an initialization, not a G transformation."""
    sk = V.skeleton_for_net(net, skeleton, resolve_skeleton)
    weights = [w.copy() for w in net.weights]
    for l, w in enumerate(weights):
        w[(sk.pi_mask(l) | sk.sigma_mask(l),) + tuple(k // 2 for k in w.shape[2:])] = 1.0
    return net.with_params(weights, None if net.biases is None else [b.copy() for b in net.biases])


def initialize(widths, *, init: str = DEFAULT_INIT, bias: bool = False, rng=None) -> MLP:
    """A new MLP: He initialization, then :func:`skeleton_unit` unless ``init="he"``."""
    V.choice(init, INITS, "init")
    net = MLP(widths, bias=bias, rng=rng)
    return skeleton_unit(net) if init == "skeleton-unit" else net


def normalize_skeleton_out_weights(net, skeleton=None):
    """``(g(net), g)`` for the G transformation that makes every sigma-edge ``+-1``: from the
    last hidden layer down, ``c_l(j) = |w_l(j, sigma(j))| c_{l+1}(sigma(j))`` (``c_L = 1``)."""
    sk = V.skeleton_for_net(net, skeleton, resolve_skeleton, sigma_nonzero=True)
    cs, c_next = [None] * (len(net.weights) - 1), np.ones(net.widths[-1])
    for l in range(len(net.weights) - 1, 0, -1):
        w = net.weights[l][np.arange(net.widths[l]), sk.sigma[l]]
        cs[l - 1] = c_next = np.abs(w) * c_next[sk.sigma[l]]
    g = ScalingGroupElement(net.widths, cs)
    return g.apply(net), g


def balance(net, tol: float = 1e-10, max_iter: int = 10_000):
    """``(g(net), g)`` for the G transformation minimising the sum of squared parameters, by
    sweeps until no ``|log c| > tol`` (:doc:`/data`); :class:`BalanceWarning` after ``max_iter``."""
    V.network(net, mlp=True)
    tol, max_iter = V.positive(tol, "tol"), V.integer(max_iter, "max_iter")
    ws = [w.copy() for w in net.weights]
    bs = None if net.biases is None else [b.copy() for b in net.biases]
    log_c = [np.zeros(h) for h in net.widths[1:-1]]
    for _ in range(max_iter):
        biggest = 0.0
        for l in range(1, len(ws)):
            sq_in = np.sum(ws[l - 1] ** 2, axis=0) + (bs[l - 1] ** 2 if bs is not None else 0.0)
            sq_out = np.sum(ws[l] ** 2, axis=1)
            ok, step = (sq_in > 0) & (sq_out > 0), np.zeros_like(sq_in)
            step[ok] = 0.25 * (np.log(sq_out[ok]) - np.log(sq_in[ok]))
            ws[l - 1] *= np.exp(step)
            ws[l] /= np.exp(step)[:, None]
            if bs is not None:
                bs[l - 1] *= np.exp(step)
            log_c[l - 1] += step
            biggest = max(biggest, float(np.max(np.abs(step))))
        if biggest <= tol:
            break
    else:
        msg = f"balance did not converge to tol={tol} within max_iter={max_iter} sweeps"
        warnings.warn(msg, BalanceWarning, stacklevel=2)
    g = ScalingGroupElement(net.widths, [np.exp(x) for x in log_c])
    return g.apply(net), g
