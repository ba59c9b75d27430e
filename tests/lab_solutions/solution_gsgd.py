"""A NumPy-only solution of lab 3; its mathematics does not call gspace (see test_labs.py).

The helpers pi and sigma are the starter's own."""

import numpy as np

from gspace.labs.lab_gsgd import pi, sigma  # the starter's own helpers


def sigma_mask(widths, l):
    mask = np.zeros((widths[l], widths[l + 1]), dtype=bool)
    if 1 <= l <= len(widths) - 2:
        mask[np.arange(widths[l]), sigma(widths, l)] = True
    return mask


def _widths(weights):
    return [weights[0].shape[0]] + [w.shape[1] for w in weights]


def rho_in(weights):
    ws, L = _widths(weights), len(weights)
    rho = [np.ones(ws[0])]
    for l in range(1, L):
        p = pi(ws, l)
        rho.append(rho[l - 1][p] * weights[l - 1][p, np.arange(ws[l])])
    return rho + [None]


def rho_out(weights):
    ws, L = _widths(weights), len(weights)
    rho = [None] * (L + 1)
    rho[L] = np.ones(ws[L])
    for l in range(L - 1, 0, -1):
        s = sigma(ws, l)
        rho[l] = weights[l][np.arange(ws[l]), s] * rho[l + 1][s]
    return rho


def basis_path_values(weights):
    ri, ro = rho_in(weights), rho_out(weights)
    return [ri[l][:, None] * w * ro[l + 1][None, :] for l, w in enumerate(weights)]


def inverse_chain_rule(weights, grads):
    ws, L = _widths(weights), len(weights)
    ri, ro, v = rho_in(weights), rho_out(weights), basis_path_values(weights)
    dv = [g / (ri[l][:, None] * ro[l + 1][None, :]) for l, g in enumerate(grads)]
    F = [w * g for w, g in zip(weights, grads)]
    D = [None] + [np.zeros(h) for h in ws[1:-1]] + [np.zeros(ws[L])]
    for l in range(L - 1, 0, -1):  # D(b) for the nodes b of hidden layer l, from the top
        for b in range(ws[l]):
            s = sigma(ws, l)[b]
            D[l][b] = F[l][b].sum() - F[l][b, s]
            if l + 1 < L and pi(ws, l + 1)[s] == b:
                D[l][b] += D[l + 1][s]
    for l in range(1, L):  # the pi-edge entering b, unless it is a sigma-edge
        for b in range(ws[l]):
            a = pi(ws, l)[b]
            if l - 1 >= 1 and sigma(ws, l - 1)[a] == b:
                continue
            dv[l - 1][a, b] = (F[l - 1][a, b] - D[l][b]) / v[l - 1][a, b]
    return dv


def weight_allocation(weights, v_new):
    ws, L = _widths(weights), len(weights)
    ro = rho_out(weights)
    new = [w.copy() for w in weights]
    rin = np.ones(ws[0])
    for l in range(L):
        free = ~sigma_mask(ws, l)
        new[l][free] = (v_new[l] / (rin[:, None] * ro[l + 1][None, :]))[free]
        if l + 1 < L:
            p = pi(ws, l + 1)
            rin = rin[p] * new[l][p, np.arange(ws[l + 1])]
    return new


def gsgd_step(weights, grads, lr):
    v, dv = basis_path_values(weights), inverse_chain_rule(weights, grads)
    return weight_allocation(weights, [a - lr * d for a, d in zip(v, dv)])
