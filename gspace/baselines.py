r"""Baselines beyond the paper's: Adam, and ENorm (SGD followed by Equi-normalization).

The paper compares G-SGD with plain SGD and Path-SGD. These optimizers answer two further
questions: does an adaptive method in weight space (Adam) do as well, and does a cheaper use
of the same rescaling symmetry, rebalancing the network after each SGD step (ENorm), give
what G-SGD gives? SGD with momentum is :class:`gspace.SGD` with ``momentum=0.9``, G-SGD with
momentum in G-space is :class:`gspace.GSGD` with ``momentum=0.9``.

Both follow the optimizers' contract: ``new_net = opt.step(net, grads)``, ``net`` and
``grads`` unmodified, state held in the optimizer, ``opt.lr`` read at every step, a step that
raises leaves the state unchanged; both step a :class:`gspace.MLP` or a
:class:`gspace.PlainCNN` (whose hidden nodes are channels).

Invariance (the theory page, section "G-SGD", claims A2 and A3): Adam, like SGD, is *not*
invariant under a positive rescaling ``g``: trained from ``w`` and from ``g(w)`` it computes
different functions; so is SGD with momentum. G-SGD with momentum in G-space is invariant.
ENorm's balancing sweep is a rescaling, so it never changes the function; its SGD step is
not invariant, so ENorm from ``w`` and from ``g(w)`` compute different functions too.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import validation as V
from .core.optim import SGD, Optimizer

__all__ = ["Adam", "ENorm", "enorm_sweep"]


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015) with bias correction, as ``torch.optim.Adam``.

    Parameters
    ----------
    lr : float, default 1e-3
        Step size :math:`\eta`, > 0.
    betas : tuple of 2 float, default (0.9, 0.999)
        Decay rates :math:`\beta_1, \beta_2` of the first and second moment, each in [0, 1).
    eps : float, default 1e-8
        :math:`\epsilon > 0`, added to :math:`\sqrt{\hat v}`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`: L2 penalty added to the gradient (not AdamW's decoupled decay).

    Raises
    ------
    TypeError, ValueError
        Bad hyper-parameters at construction; from :meth:`step`, ``grads`` without the
        structure of ``net`` or non-finite (:func:`gspace.validation.gradients`).
    FloatingPointError
        From :meth:`step`: the update gave non-finite weights; the state is unchanged.

    Notes
    -----
    For every parameter (weights and biases, elementwise), at step :math:`t = 1, 2, \dots`:

    .. math::

        g_t &= \nabla_w \ell(w_{t-1}) + \lambda w_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t), \qquad \hat v_t = v_t / (1 - \beta_2^t) \\
        w_t &= w_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with :math:`m_0 = v_0 = 0`. The step divides each coordinate by its own running scale, so
    it is not equivariant under the rescaling :math:`w \mapsto g(w)`: Adam from :math:`w` and
    from :math:`g(w)` compute different functions after one step (a test shows it).

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
       Algorithm 1.

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> loss, grads = net.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 1)))
    >>> new = gspace.Adam(lr=0.01).step(net, grads)
    >>> step = net.weights[0] - new.weights[0]  # the first step is lr * sign(g), nearly
    >>> bool(np.allclose(step[grads.weights[0] != 0], 0.01 * np.sign(grads.weights[0])[
    ...     grads.weights[0] != 0], rtol=1e-4))
    True
    """

    name = "Adam"

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay=weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for name, beta in zip(("beta1", "beta2"), betas, strict=True):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
                raise ValueError(f"betas: {name} must be a real number in [0, 1), got {beta!r}")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < np.inf:
            raise ValueError(f"eps must be a finite real number > 0, got {eps!r}")
        self.betas, self.eps = (float(betas[0]), float(betas[1])), float(eps)

    def step(self, net, grads):
        V.gradients(net, grads)
        (b1, b2), lr, wd = self.betas, self.lr, self.weight_decay
        params, gs = (
            net.weights + (net.biases or []),
            list(grads.weights) + list(grads.biases or []),
        )
        t = self.state.get("t", 0) + 1
        m_old = self.state.get("m", [np.zeros_like(p) for p in params])
        v_old = self.state.get("v", [np.zeros_like(p) for p in params])
        if [m.shape for m in m_old] != [p.shape for p in params]:
            raise ValueError("the Adam state was built for a network of another shape")
        m, v, new = [], [], []
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            for p, g, m_p, v_p in zip(params, gs, m_old, v_old, strict=True):
                g = np.asarray(g, dtype=np.float64) + wd * p
                m.append(b1 * m_p + (1 - b1) * g)
                v.append(b2 * v_p + (1 - b2) * g * g)
                m_hat, v_hat = m[-1] / (1 - b1**t), v[-1] / (1 - b2**t)
                new.append(p - lr * m_hat / (np.sqrt(v_hat) + self.eps))
        L = net.L
        new_net = net.with_params(new[:L], new[L:] if net.biases is not None else None)
        V.finite_step(self, new_net)
        self.state.update(t=t, m=m, v=v)  # committed only once the step has succeeded
        return new_net

    def __repr__(self) -> str:
        return (
            f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
            f"weight_decay={self.weight_decay})"
        )


def enorm_sweep(net):
    r"""One Equi-normalization sweep: rescale each hidden layer in turn to balance its norms.

    Parameters
    ----------
    net : MLP or PlainCNN
        For a :class:`gspace.PlainCNN` the nodes are the channels: the in-weights of channel
        :math:`j` of a hidden layer are its kernel ``weights[l-1][:, j]`` (and bias), its
        out-weights ``weights[l][j]`` (the next kernels' input channel, or the output row).

    Returns
    -------
    MLP or PlainCNN
        ``g(net)`` for a positive rescaling ``g``: the same function (claim G2).

    Notes
    -----
    For hidden layers :math:`l = 1, \dots, L-1` in this order, with the weights as they are
    after the previous layers' rescaling, every node :math:`j` of layer :math:`l` is rescaled
    by

    .. math::

        c_j = \sqrt{\frac{\lVert w^{l+1}(j, \cdot) \rVert_2}
                         {\lVert (w^{l}(\cdot, j),\ b^{l}_j) \rVert_2}}

    (in-weights and bias multiplied by :math:`c_j`, out-weights divided by it), after which
    the node's in- and out-norms are equal. This is the block coordinate descent step of
    Stock et al. (Equi-normalization, Theorem 1, with p = 2): it minimizes
    :math:`\sum_l \lVert w^l \rVert_2^2 (+ \lVert b^l \rVert_2^2)` over the rescalings of one
    layer, the others fixed (cost :math:`c^2 \lVert in \rVert^2 + \lVert out \rVert^2 / c^2`,
    minimal at :math:`c^4 = \lVert out \rVert^2 / \lVert in \rVert^2`). Departure from the
    paper: the bias of node :math:`j` is counted with its in-weights and rescaled with them
    (the paper's released code leaves biases out), so that the sweep is an exact rescaling
    :math:`g` and keeps the function. A node whose in- or out-norm is 0 is left unscaled.

    For an MLP this is one sweep of :func:`gspace.balance`, which repeats sweeps until they
    converge (a test checks that they agree); this one also serves plain CNNs.

    References
    ----------
    .. [1] P. Stock, B. Graham, R. Gribonval and H. Jegou, "Equi-normalization of Neural
       Networks", ICLR 2019, section 3.

    Examples
    --------
    >>> import gspace
    >>> net = gspace.MLP.from_weights([[[4.0]], [[0.25]]])
    >>> enorm_sweep(net).weights[0].tolist(), enorm_sweep(net).weights[1].tolist()
    ([[1.0]], [[1.0]])
    """
    ws = [np.array(w, dtype=np.float64) for w in net.weights]
    bs = None if net.biases is None else [np.array(b, dtype=np.float64) for b in net.biases]
    with np.errstate(all="ignore"):  # non-finite results: ENorm.step refuses them
        for l in range(1, len(ws)):
            _balance_layer(ws[l - 1], ws[l], None if bs is None else bs[l - 1])
    return net.with_params(ws, bs)


def _balance_layer(w_in, w_out, b_in) -> None:
    """Balance, in place, the nodes between ``w_in`` (node j: ``w_in[:, j, ...]``, bias
    ``b_in[j]``) and ``w_out`` (node j: ``w_out[j, ...]``)."""
    sq_in = np.sum(w_in**2, axis=tuple(a for a in range(w_in.ndim) if a != 1))
    sq_in = sq_in + (b_in**2 if b_in is not None else 0.0)
    sq_out = np.sum(w_out**2, axis=tuple(range(1, w_out.ndim)))
    ok = (sq_in > 0) & (sq_out > 0)
    c = np.ones_like(sq_in)
    c[ok] = np.sqrt(np.sqrt(sq_out[ok] / sq_in[ok]))
    w_in *= c.reshape((1, -1) + (1,) * (w_in.ndim - 2))
    w_out /= c.reshape((-1,) + (1,) * (w_out.ndim - 1))
    if b_in is not None:
        b_in *= c


class ENorm(Optimizer):
    r"""ENorm: an SGD step followed by one Equi-normalization sweep (Stock et al., ICLR 2019).

    Parameters
    ----------
    lr : float, default 0.1
        Learning rate of the SGD step, > 0.
    weight_decay : float, default 0
        L2 penalty of the SGD step, >= 0.

    Raises
    ------
    TypeError, ValueError
        As :class:`gspace.SGD`.
    FloatingPointError
        From :meth:`step`, as :class:`gspace.SGD`.

    Notes
    -----
    .. math::

        w_t = \mathrm{sweep}\big(w_{t-1} - \eta (\nabla_w \ell(w_{t-1}) + \lambda w_{t-1})\big)

    with :func:`enorm_sweep` (biases counted with the in-weights and rescaled; the exponent
    1/2 of the ratio of norms, p = 2). The sweep changes the weights but not the function:
    ENorm follows SGD in function space, from a balanced representative of each point.
    No momentum: a momentum buffer would have to be rescaled with the weights (the paper
    discusses it); this baseline, like the paper's released code, is plain SGD.

    References
    ----------
    .. [1] P. Stock, B. Graham, R. Gribonval and H. Jegou, "Equi-normalization of Neural
       Networks", ICLR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> import gspace
    >>> net = gspace.MLP([2, 3, 1], rng=np.random.default_rng(0))
    >>> loss, grads = net.loss_and_gradients(np.ones((4, 2)), np.zeros((4, 1)))
    >>> new = gspace.ENorm(lr=0.1).step(net, grads)
    >>> sgd = gspace.SGD(lr=0.1).step(net, grads)
    >>> X = np.random.default_rng(1).normal(size=(5, 2))
    >>> bool(np.allclose(new.forward(X), sgd.forward(X)))
    True
    """

    name = "ENorm"

    def __init__(self, lr=0.1, weight_decay=0.0):
        super().__init__(lr, weight_decay=weight_decay)

    def step(self, net, grads):
        stepped = SGD(self.lr, weight_decay=self.weight_decay).step(net, grads)
        new = enorm_sweep(stepped)
        V.finite_step(self, new)
        return new

    def __repr__(self) -> str:
        return f"ENorm(lr={self.lr}, weight_decay={self.weight_decay})"
