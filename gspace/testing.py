"""Gradient checking as a library function (the cs231n / minitorch culture).

* centred finite differences in float64: ``(f(x + h) - f(x - h)) / (2 h)``;
* relative error ``|a - b| / max(1e-12, |a| + |b|)``;
* test points kept away from ReLU kinks, where finite differences are meaningless.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core.network import MLP, Gradients

__all__ = [
    "rel_error",
    "numerical_gradient",
    "check_gradients",
    "min_preactivation_margin",
    "away_from_kinks",
    "flat",
]


def flat(x) -> np.ndarray:
    """Weights then biases of a network or of gradients as one vector (edge numbering).

    Examples
    --------
    >>> flat(MLP.from_weights([[[1.0, 2.0]], [[3.0], [4.0]]]))
    array([1., 2., 3., 4.])
    """
    return np.concatenate([np.ravel(p) for p in [*x.weights, *(x.biases or [])]])


def rel_error(a, b, norm: bool = False) -> float:
    """Relative error ``|a - b| / max(1e-12, |a| + |b|)``.

    Parameters
    ----------
    a, b : array_like
        Same shape.
    norm : bool, default False
        False: the largest elementwise relative error. True: the same formula with the
        Euclidean norms of the whole arrays, ``||a - b|| / max(1e-12, ||a|| + ||b||)``; use it
        for a gradient check, where entries far smaller than the finite-difference noise
        (about ``1e-16 |f| / h``) cannot be resolved elementwise.

    Returns
    -------
    float

    Examples
    --------
    >>> rel_error([1.0, 2.0], [1.0, 2.0])
    0.0
    >>> round(rel_error(1.0, 1.1), 4)
    0.0476
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if norm:
        num = np.linalg.norm(a - b)
        return float(num / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Centred finite-difference gradient of a scalar function, in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; ``x`` is passed as a float64 array of the shape of ``x``.
    x : array_like
        Point at which to differentiate (not modified).
    h : float, default 1e-6
        Step, > 0.

    Returns
    -------
    ndarray of the shape of ``x``

    Raises
    ------
    ValueError
        If ``h`` is not a finite number > 0.

    Examples
    --------
    >>> g = numerical_gradient(lambda v: float(np.sum(v**2)), np.array([1.0, -2.0]))
    >>> np.round(g, 6)
    array([ 2., -4.])
    """
    ok = isinstance(h, (int, float, np.floating)) and not isinstance(h, bool)
    if not (ok and np.isfinite(h) and h > 0):
        raise ValueError(f"the finite-difference step h must be a finite number > 0, got {h!r}")
    x = np.array(x, dtype=np.float64)  # private copy
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f(x.copy())
        flat[i] = old - h
        f_minus = f(x.copy())
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def min_preactivation_margin(net: MLP, X) -> float:
    """Smallest ``|z|`` over all hidden pre-activations of the batch (inf without hidden layers).

    A finite-difference step ``h`` is safe when it moves no pre-activation across 0; the
    margin says how far the nearest kink is.

    Parameters
    ----------
    net : MLP or PlainCNN
    X : array_like of shape (n, d)

    Returns
    -------
    float
        ``min |z^l_{n,j}|`` over samples ``n``, hidden layers ``l = 1..L-1`` and their nodes.

    Examples
    --------
    >>> net = MLP.from_weights([[[1.0]], [[1.0]]])
    >>> min_preactivation_margin(net, np.array([[0.5], [-2.0]]))
    0.5
    """
    cache = net.forward_cache(X)
    zs = [np.abs(z) for z in cache.z[1:-1]]
    return float(min((z.min() for z in zs), default=np.inf))


def away_from_kinks(net: MLP, X, margin: float = 1e-3) -> np.ndarray:
    """Boolean mask of the samples whose hidden pre-activations all satisfy ``|z| > margin``.

    Use it to drop samples that sit near a ReLU kink before a gradient check.

    Parameters
    ----------
    net : MLP or PlainCNN
    X : array_like of shape (n, d)
    margin : float, default 1e-3

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> net = MLP.from_weights([[[1.0]], [[1.0]]])
    >>> away_from_kinks(net, np.array([[1.0], [1e-6], [-2.0]]))
    array([ True, False,  True])
    """
    cache = net.forward_cache(X)
    n = cache.a[0].shape[0]
    ok = np.ones(n, dtype=bool)
    for z in cache.z[1:-1]:
        ok &= np.all(np.abs(z).reshape(n, -1) > margin, axis=1)  # (n, h) or (n, C, H, W)
    return ok


def check_gradients(
    net: MLP, X, Y, loss: str = "mse", h: float = 1e-6
) -> tuple[float, Gradients, Gradients]:
    """Compare back-propagation with centred finite differences on every weight and bias.

    Parameters
    ----------
    net : MLP or PlainCNN
    X, Y : array_like
        As for :meth:`MLP.loss_and_gradients`.
    loss : {"mse", "cross_entropy"}
    h : float
        Finite-difference step.

    Returns
    -------
    error : float
        Relative error of the whole gradient vector (weights then biases),
        ``rel_error(analytic, numeric, norm=True)``.
    analytic, numeric : Gradients

    Examples
    --------
    >>> net = MLP([3, 4, 2], rng=np.random.default_rng(0))
    >>> X = np.random.default_rng(1).normal(size=(5, 3))
    >>> err, _, _ = check_gradients(net, X, np.array([0, 1, 1, 0, 1]), loss="cross_entropy")
    >>> err < 1e-6
    True
    """
    _, analytic = net.loss_and_gradients(X, Y, loss=loss)
    num = numerical_gradient(lambda p: net.with_flat_params(p).loss(X, Y, loss), flat(net), h)
    params = [*net.weights, *(net.biases or [])]
    parts = np.split(num, np.cumsum([p.size for p in params])[:-1])
    shaped = [x.reshape(p.shape) for x, p in zip(parts, params)]
    numeric = Gradients(shaped[: net.L], shaped[net.L :] or None)
    return rel_error(flat(analytic), flat(numeric), norm=True), analytic, numeric
