"""Gradient checking: centred differences, relative errors, points away from ReLU kinks."""

import numpy as np

from .core.network import Gradients

__all__ = ["rel_error", "numerical_gradient", "check_gradients", "min_preactivation_margin"]
__all__ += ["away_from_kinks", "flat"]


def flat(x) -> np.ndarray:
    """Weights then biases of a network or of gradients as one vector (edge numbering)."""
    return np.concatenate([np.ravel(p) for p in [*x.weights, *(x.biases or [])]])


def rel_error(a, b, norm: bool = False) -> float:
    """Largest elementwise ``|a - b| / max(1e-12, |a| + |b|)`` of two arrays of one shape;
    with ``norm`` the same formula on Euclidean norms (for gradient checks)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if norm:
        return float(np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b)))
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, h: float = 1e-6) -> np.ndarray:
    """Centred finite-difference gradient ``(f(x + h) - f(x - h)) / (2 h)`` of a scalar
    function ``f`` of float64 arrays shaped like ``x`` (not modified)."""
    ok = isinstance(h, (int, float, np.floating)) and not isinstance(h, bool)
    if not (ok and np.isfinite(h) and h > 0):
        raise ValueError(f"the finite-difference step h must be a finite number > 0, got {h!r}")
    x, grad = np.array(x, dtype=np.float64), []  # a private copy
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[i] += h
        down.flat[i] -= h
        grad.append((f(up) - f(down)) / (2.0 * h))
    return np.array(grad, dtype=np.float64).reshape(x.shape)


def min_preactivation_margin(net, X) -> float:
    """Smallest ``|z|`` over the hidden pre-activations of ``net`` on ``X`` (inf without any)."""
    zs = net.forward_cache(X).z[1:-1]
    return float(min((np.abs(z).min() for z in zs), default=np.inf))


def away_from_kinks(net, X, margin: float = 1e-3) -> np.ndarray:
    """Mask ``(n,)`` of the samples whose hidden pre-activations all have ``|z| > margin``."""
    cache = net.forward_cache(X)
    ok = np.ones(len(cache.a[0]), dtype=bool)
    for z in cache.z[1:-1]:
        ok &= np.all(np.abs(z).reshape(len(ok), -1) > margin, axis=1)  # (n, h) or (n, C, H, W)
    return ok


def check_gradients(net, X, Y, loss: str = "mse", h: float = 1e-6):
    """Back-propagation against :func:`numerical_gradient` on every weight and bias:
    ``(rel_error(analytic, numeric, norm=True), analytic, numeric)``, two Gradients."""
    _, analytic = net.loss_and_gradients(X, Y, loss=loss)
    num = numerical_gradient(lambda p: net.with_flat_params(p).loss(X, Y, loss), flat(net), h)
    shaped = net.with_flat_params(num)  # the numeric gradient in the shapes of net
    numeric = Gradients(shaped.weights, shaped.biases)
    return rel_error(flat(analytic), flat(numeric), norm=True), analytic, numeric
