"""Lab 3: implement G-SGD: Inverse-Chain-Rule and Weight-Allocation.

Read with: the G-SGD paper (Meng et al., ICLR 2019), sections "Skeleton method",
"Inverse-Chain-Rule", "Weight-Allocation" and "Algorithm 1"; the gspace docs, theory page,
claims B4, I1, I2, W1 and A1; tutorials 4 and 5.

Learning objectives
-------------------
* compute the chain products rho_in, rho_out and the basis-path values
  v_e = rho_in(a) w_e rho_out(b);
* derive and implement the Inverse-Chain-Rule: dl/dv from back-propagation's dl/dw;
* implement Weight-Allocation: new weights whose basis-path values are the updated ones,
  with the sigma-edges kept;
* assemble one G-SGD step (Algorithm 1) and compare it with gspace's.

Conventions (as in gspace): ``weights[l]`` has shape (h_l, h_{l+1}); layers 1..L-1 are hidden;
no biases. The skeleton is gspace's default (for equal hidden widths it is the paper's): every
hidden node j of layer l has an in-parent pi(j) = j mod h_{l-1} in layer l-1 (its pi-edge
enters j) and an out-child sigma(j) = j mod h_{l+1} in layer l+1 (its sigma-edge leaves j).
The helpers ``pi``, ``sigma`` and ``sigma_mask`` below are given.

Basis paths: one per edge e = (a -> b) that is not a sigma-edge: follow pi down from a to an
input, take e, follow sigma up from b to an output. Per-basis-path numbers (values, dl/dv) are
stored in arrays shaped like ``weights``: entry weights[l][a, b] is the basis path of that edge
(entries on sigma-edges are not basis paths and are not graded).

Use NumPy only in the graded functions. Replace every ``raise NotImplementedError``, then

    gspace lab gsgd --check lab_gsgd.py
"""

import numpy as np


def pi(widths, l):
    """In-parents of the nodes of hidden layer l (1 <= l <= L-1): int array of shape (h_l,)."""
    return np.arange(widths[l]) % widths[l - 1]


def sigma(widths, l):
    """Out-children of the nodes of hidden layer l (1 <= l <= L-1): int array (h_l,)."""
    return np.arange(widths[l]) % widths[l + 1]


def sigma_mask(widths, l):
    """Boolean mask of shape (h_l, h_{l+1}) of the sigma-edges in weights[l] (none if l = 0)."""
    mask = np.zeros((widths[l], widths[l + 1]), dtype=bool)
    if 1 <= l <= len(widths) - 2:
        mask[np.arange(widths[l]), sigma(widths, l)] = True
    return mask


def rho_in(weights):
    """Products of the weights along the in-chains.

    Returns
    -------
    list of length L + 1
        ``rho[l]`` of shape (h_l,) for l = 0..L-1: rho[0] = 1 (inputs), and for a hidden node
        b of layer l, rho[l][b] = rho[l-1][pi(b)] * weights[l-1][pi(b), b]. Entry L is not
        graded (use None).
    """
    raise NotImplementedError("TODO: rho_in")


def rho_out(weights):
    """Products of the weights along the out-chains.

    Returns
    -------
    list of length L + 1
        ``rho[l]`` of shape (h_l,) for l = 1..L: rho[L] = 1 (outputs), and for a hidden node
        b of layer l, rho[l][b] = weights[l][b, sigma(b)] * rho[l+1][sigma(b)]. Entry 0 is not
        graded (use None).
    """
    raise NotImplementedError("TODO: rho_out")


def basis_path_values(weights):
    """Values of the basis paths, in arrays shaped like the weights.

    Returns
    -------
    list of ndarray
        v[l][a, b] = rho_in[l][a] * weights[l][a, b] * rho_out[l+1][b].
    """
    raise NotImplementedError("TODO: basis_path_values")


def inverse_chain_rule(weights, grads):
    """Inverse-Chain-Rule: the gradient of the loss with respect to the basis-path values.

    Parameters
    ----------
    weights : list of ndarray
    grads : list of ndarray
        dl/dw from back-propagation, shaped like ``weights``.

    Returns
    -------
    list of ndarray
        dl/dv, shaped like ``weights`` (graded on the non-sigma entries).

    Notes
    -----
    Write F_e = w_e dl/dw_e and u_j = v_j dl/dv_j. Each path value is a product of weights, so
    the chain rule gives F_e = sum of u_j over the basis paths j that contain e.

    * An edge e = (a -> b) that is neither a sigma-edge nor a pi-edge lies on its own basis
      path only: u_e = F_e, so dl/dv_e = (dl/dw_e) / (rho_in(a) rho_out(b)).
    * The pi-edge entering hidden node b (if it is not also a sigma-edge) lies on its own
      basis path and on every basis path whose in-chain passes through b. So its
      u = F_e - D(b), where D(b) is the sum of u over the basis paths whose in-chain passes
      through b, and dl/dv = u / v.
    * Which paths are those? The paths of the non-sigma edges leaving b, and the paths whose
      in-chain passes through a node c of the next layer with pi(c) = b. That gives a
      recursion for D(b) from the layer above: compute it in one backward sweep, from the
      last hidden layer down. (Sanity check: at every hidden node, the sum of F over the
      in-edges equals the sum over the out-edges, claim I2.)
    """
    raise NotImplementedError("TODO: inverse_chain_rule")


def weight_allocation(weights, v_new):
    """Weight-Allocation: weights whose basis-path values are ``v_new``.

    Parameters
    ----------
    weights : list of ndarray
        The current weights.
    v_new : list of ndarray
        Target basis-path values, shaped like the weights (sigma entries ignored).

    Returns
    -------
    list of ndarray
        New weights: every sigma-edge unchanged (so rho_out does not change), and, layer by
        layer from the inputs, w'[l][a, b] = v_new[l][a, b] / (rho_in'[l][a] * rho_out[l+1][b])
        on the other edges, where rho_in' is computed from the NEW weights of the layers
        below.
    """
    raise NotImplementedError("TODO: weight_allocation")


def gsgd_step(weights, grads, lr):
    """One plain G-SGD step (Algorithm 1): v, dl/dv, v - lr dl/dv, Weight-Allocation.

    Returns
    -------
    list of ndarray
        The new weights.
    """
    raise NotImplementedError("TODO: gsgd_step")


if __name__ == "__main__":
    # Gradients to try your functions with (gspace is fine here, outside the graded code).
    import gspace

    rng = np.random.default_rng(0)
    net = gspace.MLP([3, 4, 4, 2], rng=rng)
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    loss, grads = net.loss_and_gradients(X, Y, loss="mse")
    print(inverse_chain_rule(net.weights, grads.weights))
