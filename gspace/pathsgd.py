r"""Path-SGD (Neyshabur, Salakhutdinov and Srebro, NeurIPS 2015): the closest baseline to G-SGD.

Paper-notes section 8. Path-SGD rescales each weight's gradient by the path-norm geometry:

.. math:: w_e \leftarrow w_e - \eta\, g_e / \gamma(w, e), \qquad
          \gamma(w, e) = \sum_{p \ni e} \prod_{f \in p,\, f \ne e} w_f^2 .

For ``e = (a -> b)``, ``gamma(w, e) = gamma_in(a) * gamma_out(b)``: ``gamma_in`` sums the
products of squared weights over the paths from the inputs to ``a``, ``gamma_out`` over the
paths from ``b`` to the outputs. One forward and one backward sweep of all-ones through the
squared weights give both (:func:`path_gamma`). A bias of node ``b`` is an edge from a
constant-1 node, so it starts paths of its own: ``b^2`` adds to ``gamma_in(b)``, and the bias
edge's ``gamma`` is ``gamma_out(b)``.
"""

from __future__ import annotations

import numpy as np

from .network import MLP, Gradients
from .optim import Optimizer, check_grads

__all__ = ["path_gamma", "PathSGD"]


def _gamma_sweeps(weights: list, biases: list | None):
    """gamma_in[l] (h_l,) for l = 0..L-1 and gamma_out[l] (h_l,) for l = 1..L."""
    L = len(weights)
    sq = [np.square(w) for w in weights]
    g_in = [None] * (L + 1)
    g_in[0] = np.ones(weights[0].shape[0])
    for l in range(1, L):
        g_in[l] = g_in[l - 1] @ sq[l - 1]
        if biases is not None:
            g_in[l] += np.square(biases[l - 1])
    g_out = [None] * (L + 1)
    g_out[L] = np.ones(weights[-1].shape[1])
    for l in range(L - 1, 0, -1):
        g_out[l] = sq[l] @ g_out[l + 1]
    return g_in, g_out


def _check_gammas(g_in: list, g_out: list) -> None:
    for name, gs in (("gamma_in", g_in), ("gamma_out", g_out)):
        for l, g in enumerate(gs):
            if g is None:
                continue
            if not np.all(np.isfinite(g)):
                raise FloatingPointError(
                    f"{name} of layer {l} overflowed: the squared path norms through it are "
                    f"too large to represent"
                )
            if not np.all(g > 0):
                j = int(np.flatnonzero(~(g > 0))[0])
                raise ValueError(
                    f"{name} of node {j} of layer {l} is 0: every path through it contains a "
                    f"zero weight, so Path-SGD's scaling gamma(w, e) is 0 for its edges and the "
                    f"step is undefined"
                )


def path_gamma(net: MLP):
    r"""Path-SGD's scaling ``gamma(w, e)`` for every weight and bias.

    Parameters
    ----------
    net : MLP

    Returns
    -------
    gamma_w : list of ndarray
        ``gamma_w[l]`` of shape ``(h_l, h_{l+1})``.
    gamma_b : list of ndarray or None
        ``gamma_b[l]`` of shape ``(h_{l+1},)``; None for a bias-free network.

    Raises
    ------
    TypeError
        If ``net`` is not an MLP.
    ValueError
        If some ``gamma`` is 0 (all paths through an edge contain a zero weight).
    FloatingPointError
        If a sweep overflows.

    Notes
    -----
    :math:`\gamma(w, e) = \gamma_{in}(a)\, \gamma_{out}(b)` for :math:`e = (a \to b)`, with

    .. math::

        \gamma_{in}^{0} = 1, \quad
        \gamma_{in}^{l+1} = \gamma_{in}^{l} (W^{l})^{\circ 2} + (b^{l})^{\circ 2}, \qquad
        \gamma_{out}^{L} = 1, \quad \gamma_{out}^{l} = (W^{l})^{\circ 2} \gamma_{out}^{l+1},

    (``W^l`` is ``weights[l]``, ``\circ 2`` the elementwise square), and
    :math:`\gamma = \gamma_{out}(b)` for the bias of :math:`b`. Equivalently,
    :math:`\gamma(w, e) = \tfrac{1}{2}\, \partial \|w\|_{path}^2 / \partial w_e / w_e`
    with :math:`\|w\|_{path}^2 = \sum_p v_p^2`.

    References
    ----------
    .. [1] B. Neyshabur, R. Salakhutdinov, N. Srebro, "Path-SGD: Path-Normalized Optimization
       in Deep Neural Networks", NeurIPS 2015.

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[1.0, 2.0]], [[3.0], [4.0]]])
    >>> gw, gb = path_gamma(net)
    >>> gw[0].tolist(), gw[1].tolist()
    ([[9.0, 16.0]], [[1.0], [4.0]])
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gspace.MLP, got {type(net).__name__}")
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        g_in, g_out = _gamma_sweeps(net.weights, net.biases)
    _check_gammas(g_in, g_out)
    gw = [np.outer(g_in[l], g_out[l + 1]) for l in range(net.L)]
    gb = None if net.biases is None else [g_out[l + 1].copy() for l in range(net.L)]
    return gw, gb


class PathSGD(Optimizer):
    r"""Path-SGD: ``w <- w - lr * g / gamma(w, e)``, ``gamma`` recomputed at every step.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`, read at every step.
    momentum : float, default 0
        :math:`\mu \in [0, 1)`, on the rescaled direction (torch convention).
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: the penalty :math:`\frac{\lambda}{2} \|w\|_{path}^2 =
        \frac{\lambda}{2} \sum_p v_p^2` (an L2 penalty on all path values, biases' paths
        included). Its gradient is :math:`\lambda\, w_e\, \gamma(w, e)`, so after the
        rescaling it adds :math:`\lambda w_e` to the direction, which keeps the step
        G-equivariant (claim A4).

    Notes
    -----
    .. math::

        d_t = g_t / \gamma(w_{t-1}) + \lambda w_{t-1}, \qquad
        b_t = \mu b_{t-1} + d_t, \qquad w_t = w_{t-1} - \eta\, b_t .

    Under a positive scaling :math:`g_c` an edge :math:`e = (a \to b)` has
    :math:`w_e \mapsto (c_b / c_a) w_e`, :math:`g_e \mapsto (c_a / c_b) g_e`,
    :math:`\gamma_{in}(a) \mapsto c_a^2 \gamma_{in}(a)` and
    :math:`\gamma_{out}(b) \mapsto c_b^{-2} \gamma_{out}(b)`, so :math:`g_e / \gamma(w, e)`
    transforms like :math:`w_e`: one Path-SGD step commutes with every :math:`g_c` (claim A4).

    The official Path-SGD code stores the parameters as a Python generator that is exhausted
    after its first use, so as released it trains plain SGD (paper-notes section 8); gspace
    applies the rescaling at every step.

    References
    ----------
    .. [1] B. Neyshabur, R. Salakhutdinov, N. Srebro, "Path-SGD: Path-Normalized Optimization
       in Deep Neural Networks", NeurIPS 2015.
    .. [2] Q. Meng et al., "G-SGD: Optimizing ReLU Neural Networks in its Positively
       Scale-Invariant Space", ICLR 2019 (Path-SGD as baseline).

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> _, grads = net.loss_and_gradients(np.ones((5, 3)), np.zeros((5, 2)))
    >>> new = gspace.PathSGD(lr=0.1).step(net, grads)
    >>> gw, _ = gspace.pathsgd.path_gamma(net)
    >>> bool(np.allclose(new.weights[1], net.weights[1] - 0.1 * grads.weights[1] / gw[1]))
    True
    """

    name = "PathSGD"

    def step(self, net: MLP, grads: Gradients) -> MLP:
        """Return the network after one Path-SGD step; ``net`` and ``grads`` are not modified.

        Parameters
        ----------
        net : MLP
        grads : Gradients

        Returns
        -------
        MLP

        Raises
        ------
        TypeError, ValueError
            Bad ``net`` or ``grads``, or a zero ``gamma``.
        FloatingPointError
            If a ``gamma`` sweep overflows or the step is non-finite; the optimizer state is
            then unchanged.
        """
        check_grads(net, grads)
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        W = net.weights
        G = [np.asarray(g, dtype=np.float64) for g in grads.weights]
        gbs = None if net.biases is None else [np.asarray(g, np.float64) for g in grads.biases]
        L = net.L
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
            g_in, g_out = _gamma_sweeps(W, net.biases)
        _check_gammas(g_in, g_out)
        with np.errstate(over="ignore", invalid="ignore"):  # checked by _check_finite_result
            if mu == 0.0 and wd == 0.0:
                # lean kernel: w' = w - (g * (lr / gamma_out)) * (1 / gamma_in)
                new_w = []
                for l in range(L):
                    out = np.multiply(G[l], (lr / g_out[l + 1])[None, :])
                    if l > 0:
                        out *= (1.0 / g_in[l])[:, None]
                    np.subtract(W[l], out, out=out)
                    new_w.append(out)
                new_b = None
                if net.biases is not None:
                    new_b = [
                        b - (lr / g_out[l + 1]) * gb
                        for l, (b, gb) in enumerate(zip(net.biases, gbs))
                    ]
                new_buf = None
            else:
                dw = []
                for l in range(L):
                    d = np.multiply(G[l], (1.0 / g_out[l + 1])[None, :])
                    d *= (1.0 / g_in[l])[:, None]
                    if wd:
                        d += wd * W[l]
                    dw.append(d)
                db = None
                if net.biases is not None:
                    db = [
                        gb / g_out[l + 1] + wd * b for l, (b, gb) in enumerate(zip(net.biases, gbs))
                    ]
                new_buf = None
                if mu:
                    old = self.state.get("momentum_buffer")
                    if old is None:
                        new_buf = (dw, db)
                    else:
                        old_w, old_b = old
                        if [o.shape for o in old_w] != [x.shape for x in dw] or (
                            (old_b is None) != (db is None)
                        ):
                            raise ValueError(
                                "the momentum buffer was built for a network of another "
                                "shape; use a new optimizer for a new network"
                            )
                        new_buf = (
                            [mu * o + x for o, x in zip(old_w, dw)],
                            None if db is None else [mu * o + x for o, x in zip(old_b, db)],
                        )
                    dw, db = new_buf
                new_w = [w - lr * d for w, d in zip(W, dw)]
                new_b = None
                if net.biases is not None:
                    new_b = [b - lr * d for b, d in zip(net.biases, db)]
        new_net = MLP._wrap(new_w, new_b)
        self._check_finite_result(new_net)
        if new_buf is not None:  # commit state only once the step has succeeded
            self.state["momentum_buffer"] = new_buf
        return new_net
