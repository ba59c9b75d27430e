"""Input checks, all in one place: every public function of gspace calls one at its door.

Each raises a ``TypeError`` or ``ValueError`` saying what was wrong and modifies nothing. Networks
are checked by what the core reads: ``widths``, ``weights`` ``(h_l, h_{l+1}, *taps)``, ``biases``.
"""

import math
import numbers
import warnings

import numpy as np
import scipy as sp

LOSSES = ("mse", "cross_entropy")
MAX_DENSE = 3000
CONDITION_LOW = 1e-2  # G-SGD warns below this skeleton-path value


def real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not np.isfinite(value := float(value)):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def learning_rate(value) -> float:
    if (value := real(value, "lr")) <= 0:
        raise ValueError(f"lr (learning rate) must be > 0, got {value}")
    return value


def integer(value, name: str, low: int = 1, kind=ValueError) -> int:
    bad = isinstance(value, bool) or not isinstance(value, numbers.Integral)
    if bad or value < low:
        raise (kind if bad else ValueError)(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def fraction(value, name: str, open_at_0: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    if not (0 < value < 1 if open_at_0 else 0 <= value < 1):
        raise ValueError(f"{name} must lie in {'(0, 1)' if open_at_0 else '[0, 1)'}, got {value}")
    return float(value)


def jobs(value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value == 0:
        raise ValueError(f"jobs must be a non-zero integer (-1: all cores), got {value!r}")
    return int(value)


def positive(value, name: str) -> float:
    out = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else None
    if out is None or not (np.isfinite(out) and out > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return out


def hyperparameters(momentum, weight_decay) -> tuple[float, float]:
    if not 0.0 <= (momentum := real(momentum, "momentum")) < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    if (weight_decay := real(weight_decay, "weight_decay")) < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    return momentum, weight_decay


def adam(betas, eps) -> tuple[tuple[float, float], float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for name, beta in zip(("beta1", "beta2"), betas, strict=True):
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
            raise ValueError(f"betas: {name} must be a real number in [0, 1), got {beta!r}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < np.inf:
        raise ValueError(f"eps must be a finite real number > 0, got {eps!r}")
    return (float(betas[0]), float(betas[1])), float(eps)


def flag(value, name: str = "bias") -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def rng(value, fresh: bool = True):
    if value is None and fresh:
        return np.random.default_rng()
    if not isinstance(value, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (default_rng(seed)), got {type(value).__name__}"
        )
    return value


def choice(value, options, name: str) -> str:
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; accepted: {', '.join(options)}")
    return value


def real_array(a, name: str, shape=None) -> np.ndarray:
    """``a`` as an integer or float array (not copied), of ``shape`` if given."""
    try:
        arr = np.asarray(a)
    except ValueError:  # numpy's "inhomogeneous shape"
        raise ValueError(f"{name} is ragged: its rows have different lengths") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real numeric array (int or float), got dtype {arr.dtype}"
        )
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def float_array(a, name: str, shape=None) -> np.ndarray:
    arr = real_array(a, name, shape).astype(np.float64, copy=True)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return arr


def widths(value) -> list[int]:
    try:
        ws = list(value)
    except TypeError:
        raise TypeError(
            f"widths must be a sequence of integers like [d, h1, ..., K], got {value!r}"
        ) from None
    if len(ws) < 2:
        raise ValueError(f"widths must have at least 2 entries (inputs and outputs), got {ws!r}")
    for w in ws:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)):
            raise TypeError(f"every width must be an integer, got {w!r} in {ws!r}")
        if w < 1:
            raise ValueError(f"every width must be >= 1, got {w} in {ws!r}")
    return [int(w) for w in ws]


def mlp_args(ws, bias, generator):
    flag(bias)
    return widths(ws), rng(generator)


def layer_arrays(weights, biases=None, conv: bool = False) -> tuple[list, list | None]:
    """Copies of chaining weights ``(h_l, h_{l+1})`` (``conv``: odd kernels, then a matrix)."""
    if isinstance(weights, np.ndarray) or len(weights) < 1 + conv:
        cnn = "conv kernels (C_in, C_out, k, k), at least one, then the output matrix (C_last, K)"
        raise TypeError(f"weights must be a list of {cnn if conv else '2-d arrays, one per layer'}")
    ws = [float_array(w, f"weights[{l}]") for l, w in enumerate(weights)]
    for l, w in enumerate(ws):
        kernel = conv and l < len(ws) - 1
        if kernel and (w.ndim != 4 or w.shape[2] != w.shape[3]):
            raise ValueError(f"weights[{l}] must be a kernel (C_in, C_out, k, k), got {w.shape}")
        if kernel and w.shape[2] % 2 == 0:
            raise ValueError(
                f"weights[{l}]: even kernel size {w.shape[2]}; only odd sizes centre the padding"
            )
        if not kernel and w.ndim != 2:
            raise ValueError(
                f"weights[{l}]{' (output layer)' if conv else ''} must be a 2-d array "
                f"(h_l, h_l+1), got shape {w.shape}"
            )
        if min(w.shape) < 1:
            raise ValueError(f"weights[{l}] must not be empty, got shape {w.shape}")
        if l and ws[l - 1].shape[1] != w.shape[0]:
            raise ValueError(
                f"weights[{l - 1}] has shape {ws[l - 1].shape} but weights[{l}] has shape "
                f"{w.shape}: columns must match the next rows (in a CNN: out- and in-channels)"
            )
    if biases is None:
        return ws, None
    if len(biases) != len(ws):
        raise ValueError(f"expected {len(ws)} bias vectors, got {len(biases)}")
    return ws, [
        float_array(b, f"biases[{l}]", (w.shape[1],)) for l, (b, w) in enumerate(zip(biases, ws))
    ]


def inputs(net, X, mlp_only: bool = False) -> np.ndarray:
    """Float64 inputs ``(n, d)``, or for a plain CNN images ``(n, C_0, H, W)`` large enough."""
    if mlp_only:
        network(net, mlp=True)
    X, d = float_array(X, "X"), net.widths[0]
    if not hasattr(net, "strides"):
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X must have shape (n, {d}) for this network, got {X.shape}")
        if X.shape[0] < 1:
            raise ValueError("X must contain at least one sample")
        return X
    if X.ndim != 4 or X.shape[1] != d:
        raise ValueError(f"X must have shape (n, {d}, H, W) for this network, got {X.shape}")
    if min(X.shape) < 1:
        raise ValueError(f"X must hold at least one image of at least 1x1 pixel, got {X.shape}")
    size = X.shape[2:]
    for l, (s, p) in enumerate(zip(net.strides, net.pool)):
        size = tuple((h - 1) // s + 1 for h in size)
        if min(size) < p:
            raise ValueError(
                f"images of {X.shape[2]}x{X.shape[3]} pixels are too small for this network: "
                f"conv layer {l + 1} outputs {size[0]}x{size[1]}, less than its pool size {p}"
            )
        size = tuple(h // p for h in size)
    return X


def batch(net, X, Y, loss: str):
    """``(X, Y)``: ``Y`` float ``(n, K)`` for ``"mse"``, integer labels ``(n,)`` otherwise."""
    choice(loss, LOSSES, "loss")
    X = inputs(net, X)
    n, K = X.shape[0], net.widths[-1]
    if loss != "mse":
        return X, labels(net, Y, n, "for loss='cross_entropy', Y")
    if (Y := float_array(Y, "Y")).shape != (n, K):
        hint = ": these look like class labels; pass loss='cross_entropy' (the default of "
        hint += "gspace.fit and gspace train), or one-hot targets np.eye(K)[y] for mse"
        hint = hint if Y.shape == (n,) else ""
        raise ValueError(f"for loss='mse', Y must have shape ({n}, {K}), got {Y.shape}{hint}")
    return X, Y


def labels(net, Y, n: int, name: str = "y") -> np.ndarray:
    K, Y = net.widths[-1], real_array(Y, name, (n,))
    if Y.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer class labels, got dtype {Y.dtype}")
    if Y.size and (Y.min() < 0 or Y.max() >= K):
        raise ValueError(f"labels must lie in 0..{K - 1} ({K} outputs), got {Y.min()}..{Y.max()}")
    return Y.astype(np.intp)


def backward_args(net, cache, delta) -> None:
    """``cache`` of ``net.forward_cache(X)`` and a finite ``delta`` shaped like the logits."""
    a, ndim = getattr(cache, "a", None), 4 if hasattr(net, "strides") else 2
    ok = isinstance(a, (list, tuple)) and len(a) == len(net.weights) + 1
    if not (ok and np.ndim(a[0]) == ndim and np.shape(a[0])[1] == net.widths[0]):
        got = "None" if cache is None else type(cache).__name__
        if isinstance(a, (list, tuple)) and len(a):
            got = f"the cache of another network (inputs of shape {np.shape(a[0])})"
        raise TypeError(
            f"cache must be the ForwardCache of net.forward_cache(X) for this "
            f"{type(net).__name__}, got {got}"
        )
    if (d := float_array(delta, "delta")).shape != np.shape(a[-1]):  # None: dtype object
        raise ValueError(
            f"delta must have the shape of the logits {np.shape(a[-1])} (dL/dlogits), got {d.shape}"
        )


def network(value, what: str = "net", mlp: bool = False) -> None:
    """A layered network (an MLP, a plain CNN); if ``mlp``, one without parallel edges."""
    if not all(hasattr(value, a) for a in ("weights", "biases", "widths", "with_params")):
        raise TypeError(
            f"{what} must be a gspace.MLP (or another layered network), got {type(value).__name__}"
        )
    if mlp and any(np.ndim(w) != 2 for w in value.weights):
        raise TypeError(
            f"{what} must be a gspace.MLP here, got a {type(value).__name__}: its paths run over "
            f"channels and kernel taps; use the channel graph's routes in gspace.cnn "
            f"(channel_graph, ChannelMatrices)"
        )


def hidden_node(net, layer, node, factor=None) -> None:
    """A hidden node of ``net``; with a ``factor``, one for the dead-node counterexample."""
    network(net)
    if not (1 <= layer <= len(net.widths) - 2 and 0 <= node < net.widths[layer]):
        raise ValueError(f"(layer, node) = ({layer}, {node}) is not a hidden node of {net.widths}")
    if factor is not None and net.widths[layer + 1] < 2:
        raise ValueError("the node needs at least two out-weights for a counterexample")
    if factor is not None and not (np.isfinite(factor) and factor > 0 and factor != 1):
        raise ValueError(f"factor must be finite, > 0 and != 1, got {factor}")


def same_widths(a, b, what: str = "networks", skel=None, resolve=None):
    """Two MLPs of the same widths and biases; with ``resolve``, their skeleton (pi-edges != 0)."""
    network(a, what, mlp=True)
    network(b, what, mlp=True)
    if a.widths != b.widths:
        raise ValueError(f"the two {what} must have the same widths, got {a.widths} and {b.widths}")
    if (a.biases is None) != (b.biases is None):
        raise ValueError(f"the two {what} must both have biases or both have none")
    sk = None if resolve is None else resolve(a.widths, skel)
    for l in range(1, len(a.weights)) if sk is not None else ():
        j = np.arange(a.widths[l])
        if any(np.any(n.weights[l - 1][sk.pi[l], j] == 0) for n in (a, b)):
            raise ValueError(f"a pi-edge weight into hidden layer {l} is 0: cannot read off c")
    return sk


def gradients(net, pa, name: str = "grads", path_arrays: bool = False, nan: bool = False) -> None:
    """``pa`` (a PathArrays if ``path_arrays``) with weights and biases shaped like the network's,
    finite (or nan, if ``nan``)."""
    network(net)
    if path_arrays and type(pa).__name__ != "PathArrays":
        raise TypeError(f"{name} must be a gspace.core.gsgd.PathArrays, got {type(pa).__name__}")
    if not hasattr(pa, "weights"):
        raise TypeError(
            f"{name} must be structured like the net (.weights, .biases), got {type(pa).__name__}"
        )
    if len(pa.weights) != len(net.weights):
        raise ValueError(f"{name} has {len(pa.weights)} weight layers, net has {len(net.weights)}")
    pb = getattr(pa, "biases", None)
    if (pb is None) != (net.biases is None):
        have, net_has = ("has" if x is not None else "has no" for x in (pb, net.biases))
        raise ValueError(f"{name} {have} biases but the network {net_has} biases")
    for kind, arrays, like in (("weights", pa.weights, net.weights), ("biases", pb, net.biases)):
        for l, (a, b) in enumerate(zip(arrays or [], like or [], strict=True)):
            a = real_array(a, f"{name}.{kind}[{l}]")
            if np.shape(a) != b.shape:
                raise ValueError(f"{name}.{kind}[{l}] has shape {np.shape(a)}, expected {b.shape}")
            if not (np.isfinite(a).all() or (nan and not np.isinf(a).any())):
                raise ValueError(f"{name}.{kind}[{l}] contains non-finite values")


def skeleton_maps(ws, pi, sigma) -> list[int]:
    """In-parents ``pi[l]`` and out-children ``sigma[l]`` of the hidden nodes."""
    L = len(ws := widths(ws)) - 1
    if len(pi) != L + 1 or len(sigma) != L + 1:
        raise ValueError(f"pi and sigma must be lists of length L+1 = {L + 1}")
    for name, maps, other in (("pi", pi, -1), ("sigma", sigma, +1)):
        if maps[0] is not None or maps[L] is not None:
            raise ValueError(f"{name}[0] and {name}[L] must be None (only hidden nodes)")
        for l in range(1, L):
            arr, h = np.asarray(maps[l]), ws[l + other]
            if arr.shape != (ws[l],) or arr.dtype.kind not in "iu":
                raise ValueError(
                    f"{name}[{l}] must be an integer array of shape ({ws[l]},), "
                    f"got {arr.dtype} {arr.shape}"
                )
            if arr.size and (arr.min() < 0 or arr.max() >= h):
                raise ValueError(
                    f"{name}[{l}] entries must lie in 0..{h - 1} (layer {l + other} has {h} nodes)"
                )
    return ws


def equal_hidden(ws) -> list[int]:
    ws = widths(ws)
    if len(set(ws[1:-1])) > 1:
        raise ValueError(
            f"the paper's skeleton method needs equal hidden widths, got {ws[1:-1]}; use the "
            f"general construction Skeleton.default(widths) (claim B4), which works for any widths"
        )
    return ws


def skeleton(value, ws=None, none: bool = True, names: bool = False) -> list[int] | None:
    """A Skeleton of widths ``ws`` (returned checked), None if ``none``, a name if ``names``."""
    ws, named = None if ws is None else widths(ws), names and isinstance(value, str)
    if named and value not in ("default", "paper"):
        raise ValueError(f"skeleton must be a Skeleton, None, 'default' or 'paper', got {value!r}")
    if not (named or hasattr(value, "sigma_mask") or (none and value is None)):
        accepted = " or None (default skeleton)" if none else ""
        raise TypeError(f"skeleton must be a gspace.Skeleton{accepted}, got {type(value).__name__}")
    if hasattr(value, "sigma_mask") and ws is not None and list(value.widths) != ws:
        raise ValueError(f"skeleton widths {list(value.widths)} differ from widths {ws}")
    return ws


def gsgd_inputs(net, skel, grads=None, v_new=None, lr=None, R=None) -> None:
    network(net)
    skeleton(skel, net.widths)
    for name, pa in (("grads", grads), ("R", R), ("v_new", v_new)):
        if pa is not None:  # R and v_new: G-SGD's PathArrays; ratios R may be nan (0 / 0)
            gradients(net, pa, name, path_arrays=name != "grads", nan=name == "R")
    if lr is not None:
        learning_rate(lr)


def skeleton_weights(weights, sk, R=None) -> None:
    """Nonzero skeleton weights and, for Weight-Allocation (ratios ``R``), in-chain products."""
    for l in range(1, len(weights)):
        for kind, W, rows, cols, layer in (
            ("pi", weights[l - 1], sk.pi[l], np.arange(len(sk.pi[l])), l - 1),
            ("sigma", weights[l], np.arange(len(sk.sigma[l])), sk.sigma[l], l),
        ):
            if not np.all(w := W[(rows, cols) + tuple(k // 2 for k in W.shape[2:])]):
                j = int(np.flatnonzero(w == 0)[0])
                node = f"into node {cols[j]}" if kind == "pi" else f"out of node {rows[j]}"
                raise ValueError(
                    f"skeleton weight weights[{layer}][{rows[j]}, {cols[j]}] (the {kind}-edge "
                    f"{node} of layer {l}) is 0: its basis paths have value 0, so G-SGD's dl/dv "
                    f"= u / v is undefined; re-initialise (gspace.skeleton_unit) or change skeleton"
                )
    for l in range(1, len(weights)) if R is not None else ():
        pi, nodes, W = sk.pi[l], np.arange(len(sk.pi[l])), R.weights[l - 1]
        pure = nodes if l == 1 else nodes[sk.sigma[l - 1][pi] != nodes]
        if not np.all(v := W[(pi[pure], pure) + tuple(k // 2 for k in W.shape[2:])]):
            raise ValueError(
                f"the new in-chain product of node {int(pure[np.flatnonzero(v == 0)[0]])} of "
                f"layer {l} is 0 (its skeleton path got value 0); Weight-Allocation needs it != 0"
            )


def path_arrays_pair(a, b, name_b: str, finite: bool = False, lr=None):
    """Two PathArrays of one layout (``v`` and ``name_b``); returns the checked ``lr``."""
    for name, pa in (("v", a), (name_b, b)):
        if type(pa).__name__ != "PathArrays":
            raise TypeError(f"{name} must be a PathArrays, got {type(pa).__name__}")
    if len(a.weights) != len(b.weights) or (a.biases is None) != (b.biases is None):
        raise ValueError(f"v and {name_b} must have the same layout (layers and biases)")
    for kind in ("weights", "biases"):
        for l, (x, y) in enumerate(zip(getattr(a, kind) or [], getattr(b, kind) or [])):
            if np.shape(x) != np.shape(y):
                raise ValueError(f"v.{kind}[{l}] has shape {np.shape(x)}, {name_b} {np.shape(y)}")
            if finite and not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
                raise ValueError(f"v.{kind}[{l}] or {name_b}.{kind}[{l}] has non-finite values")
    return learning_rate(lr) if lr is not None else None


def path_limit(ws, limit, bias, count) -> list[int]:
    ws, limit = widths(ws), integer(limit, "limit")
    if (n := count(ws, bias=bias)) > limit:
        raise ValueError(
            f"widths {ws} have {n:.3e} paths ({n} exactly), more than limit={limit}: listing "
            f"them is the explicit route. Raise `limit` if you have the memory, or use the "
            f"scalable route (no path listed): gspace.explicit.gram_by_counting, rank_certificate"
        )
    return ws


def paths(ws, value, bias=None) -> np.ndarray:
    L, P = len(ws := widths(ws)) - 1, np.asarray(value)
    if P.shape in ((0,), (0, L + 1)):  # no paths (but [()] is one path of the wrong length)
        return np.zeros((0, L + 1), dtype=np.int64)
    if P.dtype.kind not in "iu" or P.ndim != 2 or P.shape[1] != L + 1:
        raise ValueError(
            f"paths must be tuples of L + 1 = {L + 1} integer node indices (i_0, ..., i_L) or "
            f"an int array of shape (n, {L + 1}), got dtype {P.dtype} and shape {P.shape}"
        )
    P, hi = P.astype(np.int64), np.asarray(ws)[None, :]
    if np.any(P >= hi) or np.any(P < -1):
        k, l = np.argwhere((P >= hi) | (P < -1))[0]
        raise ValueError(
            f"path {tuple(P[k].tolist())} has node index {P[k, l]} at layer {l}, which has "
            f"{ws[l]} nodes (indices 0..{ws[l] - 1}; -1 only at the start of a bias path)"
        )
    neg = P < 0  # -1 (the bias node) only before the first node index, never at the end
    ok = np.all(np.diff(neg.astype(np.int8), axis=1) <= 0, axis=1) & ~neg[:, L]
    if not ok.all():
        raise ValueError(
            f"path {tuple(P[np.flatnonzero(~ok)[0]].tolist())} is not a path: -1 (the bias node) "
            f"may only fill the leading entries of a bias path, which must end at an output"
        )
    if bias is False and neg.any():
        raise ValueError("bias paths need bias=True (a basis that includes the bias paths)")
    return P


def net_paths(net, value) -> np.ndarray:
    network(net, mlp=True)
    if ((P := paths(net.widths, value)) < 0).any() and net.biases is None:
        raise ValueError("bias paths (leading -1 entries) need a network with biases")
    return P


def exponents(basis_values, alpha):
    """Basis-path values and integer exponents (sparse ``(n, p - H)``) that fit together."""
    v, alpha = np.asarray(basis_values, dtype=np.float64), sp.sparse.coo_array(alpha)
    if v.shape != (alpha.shape[1],):
        raise ValueError(f"basis_values must have shape ({alpha.shape[1]},), got {v.shape}")
    if alpha.data.dtype.kind not in "iu" and not np.all(alpha.data == np.round(alpha.data)):
        raise ValueError(
            "alpha must hold integer exponents (from path_exponents, claim B3), got "
            f"non-integer entries such as {alpha.data[alpha.data != np.round(alpha.data)][0]}"
        )
    alpha.data = alpha.data.astype(np.int64)
    if np.any(bad := (v[alpha.col] == 0) & (alpha.data < 0)):
        raise ValueError(
            f"basis-path value {int(alpha.col[bad][0])} is 0 but is needed with a negative "
            f"exponent: a zero skeleton weight makes the G-space coordinates undefined there"
        )
    return v, alpha


def graph_args(net_or_widths, bias):
    """``(widths, net or None, bias)`` for a graph of a network or of bare widths."""
    if not hasattr(net_or_widths, "weights"):
        return widths(net_or_widths), None, bool(bias)
    network(net := net_or_widths, mlp=True)
    if bias and net.biases is None:
        raise ValueError("bias=True needs a network with biases (or pass widths)")
    return net.widths, net, net.biases is not None if bias is None else bias


def drawable(net_or_widths, bias, max_nodes) -> list[int]:
    if sum(ws := graph_args(net_or_widths, bias)[0]) > max_nodes:
        raise ValueError(f"{sum(ws)} nodes is too many to draw (max_nodes={max_nodes})")
    return ws


def scaling_factors(ws, c):
    """Widths and one array of finite positive factors per hidden layer (copied)."""
    hidden = (ws := widths(ws))[1:-1]
    if isinstance(c, np.ndarray) or not isinstance(c, (list, tuple)):
        raise TypeError(
            "c must be a list with one array of positive factors per hidden layer "
            f"(shapes {[(h,) for h in hidden]}), got {type(c).__name__}"
        )
    if len(c) != len(hidden):
        raise ValueError(f"c must have one array per hidden layer (widths {hidden}), got {len(c)}")
    out = []
    for k, (ck, h) in enumerate(zip(c, hidden)):
        out.append(real_array(ck, f"c[{k}] (hidden layer {k + 1})", (h,)).astype(np.float64))
        if not np.all(np.isfinite(out[k])) or np.any(out[k] <= 0):
            raise ValueError(
                f"c[{k}] (hidden layer {k + 1}) must be finite and positive, got {out[k].tolist()}"
            )
    return ws, out


def single_node(ws, layer, node, c) -> list[int]:
    ws = widths(ws)
    if not 1 <= layer <= len(ws) - 2:
        raise ValueError(f"layer must be a hidden layer 1..{len(ws) - 2}, got {layer}")
    if not 0 <= node < ws[layer]:
        raise ValueError(f"node must lie in 0..{ws[layer] - 1} for layer {layer}, got {node}")
    positive(c, "the factor c")
    return ws


def log_factors(ws, log_c):
    ws = widths(ws)
    log_c = real_array(log_c, "log_c", (sum(ws[1:-1]),)).astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        c = np.exp(log_c)
    if not (np.all(np.isfinite(log_c)) and np.all(np.isfinite(c)) and np.all(c > 0)):
        raise ValueError(
            f"log_c must give finite positive exp(log_c) (|log_c| < 709), got {log_c.tolist()}"
        )
    return ws, c


def same_group(g, h) -> None:
    if type(h).__name__ != "ScalingGroupElement":
        raise TypeError(f"can only compose with a ScalingGroupElement, got {type(h)}")
    if h.widths != g.widths:
        raise ValueError(f"cannot compose elements of different widths {g.widths} and {h.widths}")


def acts_on(ws, net) -> None:
    network(net)
    if net.widths != ws:
        raise ValueError(f"this group element acts on widths {ws}, the network has {net.widths}")


def random_scaling_args(ws, generator, sigma, low, high):
    ws = widths(ws)
    rng(generator, fresh=False)
    if (low is None) != (high is None):
        raise ValueError("give both low and high (uniform factors) or neither (log-normal)")
    if low is not None:
        low, high = float(low), float(high)
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
            raise ValueError(f"need finite 0 < low <= high, got low={low}, high={high}")
    if low is None and not (np.isfinite(sigma := float(sigma)) and sigma >= 0):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
    return ws, low, high, float(sigma)


def momentum_buffer(old, directions) -> None:
    if old is not None and [np.shape(b) for b in old] != [np.shape(d) for d in directions]:
        raise ValueError("momentum buffer of another shape: use a new optimizer for a new network")


def finite_step(opt, new) -> None:
    """Finite weights and biases after a step: ``sum w^2`` first, per array if not finite."""
    with np.errstate(over="ignore"):  # an overflow only sends it to the per-array test
        if math.isfinite(sum([np.vdot(a, a) for a in new.weights + (new.biases or [])])):
            return
    for kind, arrays in (("weights", new.weights), ("biases", new.biases or [])):
        for l, a in enumerate(arrays):
            if not np.all(np.isfinite(a)):
                raise FloatingPointError(
                    f"{opt.name} step produced non-finite {kind} in layer {l} "
                    f"(lr={opt.lr}); lower the learning rate. Optimizer state unchanged."
                )


def _reached(sq, name: str, l: int, j: int) -> bool:
    """Whether nonzero weights join node ``j`` of layer ``l`` to the inputs or outputs."""
    nz, fwd = [(s > 0).astype(float) for s in sq], name == "gamma_in"
    r = np.ones(nz[0].shape[0] if fwd else nz[-1].shape[1])
    for k in range(l) if fwd else range(len(nz) - 1, l - 1, -1):
        r = ((r @ nz[k] if fwd else nz[k] @ r) > 0).astype(float)
    return bool(r[j])


def gammas(g_in, g_out, sq=None) -> None:
    """Path-SGD's sums of squared path values, finite and > 0 (``sq``: squared weights)."""
    for name, gs in (("gamma_in", g_in), ("gamma_out", g_out)):
        for l, g in enumerate(gs):
            if g is not None and not np.all(np.isfinite(g)):
                raise FloatingPointError(
                    f"{name} of layer {l} overflowed: its squared path norms exceed float64's range"
                )
            if g is None or np.all(g > 0):
                continue
            j = int(np.flatnonzero(~(g > 0))[0])
            if sq is not None and _reached(sq, name, l, j):
                raise FloatingPointError(
                    f"{name} of node {j} of layer {l} underflowed to 0 (no zero weight on its "
                    f"paths; squares < 1e-308): rescale (gspace.balance) or use larger weights"
                )
            raise ValueError(
                f"{name} of node {j} of layer {l} is 0: every path through it contains a zero "
                f"weight, so Path-SGD's gamma(w, e) is 0 for its edges: the step is undefined"
            )


def net_pair(net_a, net_b, rtol) -> float:
    same_widths(net_a, net_b)
    return positive(rtol, "rtol")


def s1_pair(net_a, net_b, rtol, limit) -> float:
    rtol, wa, wb = net_pair(net_a, net_b, rtol), net_a.flat_params(), net_b.flat_params()
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
    integer(limit, "limit")
    return rtol


def skeleton_for_net(net, skel, resolve, sigma_nonzero: bool = False):
    """The skeleton of ``net`` (by name only if ``sigma_nonzero``: then with nonzero weights)."""
    network(net, mlp=sigma_nonzero)
    if not sigma_nonzero:
        skeleton(skel, net.widths)
    sk = resolve(net.widths, skel)
    for l in range(1, len(net.weights)) if sigma_nonzero else ():
        if np.any((w := net.weights[l][np.arange(net.widths[l]), sk.sigma[l]]) == 0):
            bad = int(np.flatnonzero(w == 0)[0])
            raise ValueError(
                f"sigma-edge weights[{l}][{bad}, {int(sk.sigma[l][bad])}] (out-weight of node "
                f"{bad} of layer {l}) is 0: no positive scaling makes it +-1"
            )
    return sk


def matrix_route(ws, bias, skel, dense: bool):
    ws = skeleton(skel, ws)
    M = sum(a * b for a, b in zip(ws[:-1], ws[1:])) + (sum(ws[1:]) if flag(bias) else 0)
    if dense and M > MAX_DENSE:
        raise ValueError(
            f"the explicit-matrix route builds M x M dense matrices; M = {M} parameters exceeds "
            f"MAX_PARAMS = {MAX_DENSE}. Use sparse=True, or gspace.GSGD, which needs no matrix."
        )
    return ws, skel, M


def explicit_args(net, skel, grads=None, lr=None, v_new=None) -> None:
    """An MLP without zero parameters (the matrix route takes ``log|w|``), nonzero ``v_new``."""
    network(net, mlp=True)
    gsgd_inputs(net, skel, grads=grads, lr=lr)
    params = net.weights + (net.biases or [])
    if not all(np.all(p) for p in params):
        raise ValueError(
            "the explicit-matrix route works with w * g and log|w| and needs every weight and "
            "bias nonzero; gspace.GSGD handles zero non-skeleton weights"
        )
    n = sum(p.size for p in params) - sum(net.widths[1:-1])  # a sigma-edge per hidden node
    if v_new is not None and not np.all(float_array(v_new, "v_new (basis order)", (n,))):
        raise ValueError("v_new must be nonzero (the system is solved in log space)")


def flatten_args(pa, skel) -> None:
    if type(pa).__name__ != "PathArrays":
        raise TypeError(f"pa must be a PathArrays, got {type(pa).__name__}")
    skeleton(skel, none=False)
    shapes, ws = [np.shape(x) for x in pa.weights], list(skel.widths)
    if shapes != (need := list(zip(ws[:-1], ws[1:]))):
        raise ValueError(f"pa.weights has shapes {shapes}, the skeleton's widths {ws} need {need}")


def unflatten_args(vec, net, skel, resolve):
    network(net)
    skeleton(skel)
    n = sum(p.size for p in net.weights + (net.biases or [])) - sum(net.widths[1:-1])
    if np.shape(vec) != (n,):
        raise ValueError(f"vec must have shape ({n},), got {np.shape(vec)}")
    return resolve(net.widths, skel)


def consistent(residual, F, rtol) -> None:
    if (r := np.linalg.norm(residual)) > rtol * (np.linalg.norm(F) + 1e-300):
        raise ValueError(
            f"F = w * g is not in the column space of A' (residual {r:.3g}): these gradients "
            f"violate the balance identity (claim I2): no loss of the network function has them"
        )


def route_options(ws=None, method="svd", exact=False, scaled=False) -> list[int] | None:
    if method not in ("svd", "qr"):
        raise ValueError(f"method must be 'svd' or 'qr', got {method!r}")
    if exact and scaled:
        raise ValueError("choose exact=True or scaled=True, not both")
    return None if ws is None else widths(ws)


def verify_args(ws, claims, known: list, limit, gram_limit):
    if len(ws := widths(ws)) < 3:
        raise ValueError(f"verify needs at least one hidden layer (widths [d, h, K]), got {ws}")
    integer(limit, "limit")
    integer(gram_limit, "gram_limit")
    if isinstance(claims, str):
        raise TypeError(f"claims must be a sequence of claim IDs like ['{claims}'], got a string")
    return ws, [choice(c, known, "claim ID") for c in (known if claims is None else claims)]


class IllConditionedWarning(UserWarning):
    """G-SGD from a start whose skeleton paths are far from 1 (see :func:`gsgd_conditioning`)."""


def gsgd_conditioning(v, name: str = "GSGD", low: float = CONDITION_LOW) -> bool:
    """Warn (and return True) if a skeleton-path value is below ``low`` (docs: theory page)."""
    if (smallest := float(np.abs(v).min()) if v.size else 1.0) >= low:
        return False
    warnings.warn(
        f"{name}: the smallest skeleton-path value is {smallest:.2g}, far below 1, so some steps "
        f"are about 1/v^2 = 1e{-2 * np.log10(smallest):.0f} times SGD's (ill-conditioned); start "
        f"from the skeleton-unit init (gspace.skeleton_unit, gspace train --init skeleton-unit)",
        IllConditionedWarning,
        stacklevel=4,
    )
    return True


def per_layer(values, n: int, name: str) -> tuple:
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = [values] * n
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"{name} must be an int or a list of {n} ints, got {values!r}") from None
    if len(values) != n:
        raise ValueError(f"{name} needs one entry per convolution layer ({n}), got {values!r}")
    return tuple(integer(v, f"every entry of {name}") for v in values)


def cnn_args(in_channels, channels, n_classes, kernel_size, bias, generator):
    if isinstance(channels, (numbers.Integral, str)) or not hasattr(channels, "__len__"):
        raise TypeError(f"channels must be a list of ints [C_1, ...], got {channels!r}")
    if len(channels) < 1:
        raise ValueError("channels must list at least one convolution layer")
    ws, generator = mlp_args([in_channels, *channels, n_classes], bias, generator)
    for k in (ks := per_layer(kernel_size, len(channels), "kernel_size")):
        if k % 2 == 0:
            raise ValueError(f"even kernel size {k}: only odd sizes keep the zero padding centred")
    return ws, ks, generator


def cnn_layers(weights, strides, biases, pool):
    (ws, bs), L = layer_arrays(weights, biases, conv=True), len(weights) - 1
    strides = per_layer(1 if strides is None else strides, L, "strides")
    return ws, strides, bs, per_layer(1 if pool is None else pool, L, "pool")
