"""Chapter 8, several seeds at once: the backward pass of the seed-stacked models of ``stacked``.

The recursions are those of ``bptt.backward`` (the tanh RNN and the IRNN), ``lstm.backward`` and
``gru.backward``, written for the seed axis S and for states as columns, as the forward pass of
``stacked`` computes them; dL/do_t is non-zero at t = T only (the adding problem's squared error).
A test checks every seed's loss and gradients against ``bptt.loss_and_grads`` of its model alone.
"""
from __future__ import annotations

import numpy as np

from .stacked import Stack, _check_stacked_data, _forward, _Pass, _t


def _local_derivatives(cell: str, fw: _Pass, d: int):
    """The factors that turn dL/dh_t (and dL/dc_t) into the gradient at each pre-activation: the parts
    of the backward recursions that depend on the forward pass alone. Returns D: (T, S, G, d, B),
    phi'(z_t) for tanh and IRNN and the D of ``lstm.backward`` and ``gru.backward`` for
    the gated cells, and, for the LSTM, D_c = o (1 - tanh^2 c_t): (T, S, d, B)."""
    hs, h_prev = fw.hx[1:, :, :d], fw.hx[:-1, :, :d]   # h_t and h_{t-1}, t = 1 .. T
    D = np.empty_like(fw.acts)
    if cell == "tanh":
        np.multiply(hs, hs, out=D[:, :, 0])
        np.subtract(1.0, D, out=D)                      # 1 - h_t^2
    elif cell == "irnn":
        np.greater(hs, 0.0, out=D[:, :, 0], casting="unsafe")             # 1[z_t > 0]
    elif cell == "lstm":
        i, f, g, o = (fw.acts[:, :, j] for j in range(4))
        D_i, D_f, D_g, D_o = (D[:, :, j] for j in range(4))
        np.subtract(1.0, i, out=D_i)
        D_i *= i
        D_i *= g                                        # g i (1 - i)
        np.subtract(1.0, f, out=D_f)
        D_f *= f
        D_f[1:] *= fw.cs[:-1]                           # c_{t-1} f (1 - f), c_0 = 0
        D_f[0] = 0.0
        np.multiply(g, g, out=D_g)
        np.subtract(1.0, D_g, out=D_g)
        D_g *= i                                        # i (1 - g^2)
        np.subtract(1.0, o, out=D_o)
        D_o *= o
        D_o *= fw.tanh_c                                # tanh(c_t) o (1 - o)
        D_c = np.multiply(fw.tanh_c, fw.tanh_c)
        np.subtract(1.0, D_c, out=D_c)
        D_c *= o                                        # o (1 - tanh^2 c_t)
        return D, D_c
    else:
        r, z, n, m_n = (fw.acts[:, :, j] for j in range(4))
        D_r, D_z, D_n = (D[:, :, j] for j in range(3))
        np.subtract(1.0, z, out=D_z)
        D_z *= z
        D_z *= h_prev - n                               # (h_{t-1} - n) z (1 - z)
        np.multiply(n, n, out=D_n)
        np.subtract(1.0, D_n, out=D_n)
        D_n *= 1.0 - z                                  # (1 - z) (1 - n^2)
        np.subtract(1.0, r, out=D_r)
        D_r *= r
        D_r *= m_n
        D_r *= D_n                                      # D_n (W_n h_{t-1} + bh) r (1 - r)
    return D, None


def stacked_loss_and_grads(st: Stack, xs, y):
    """The last-step squared error of each model and its gradients: (losses: (S,), grads: Stack).

    xs: (S, T, B, 2), y: (S, B); model s reads xs[s] and is scored on y[s], so grads[s] is the gradient
    of losses[s] with respect to model s alone. The recursions are those of
    ``bptt.backward``, with dL/do_t non-zero at t = T only.
    """
    xs, y = _check_stacked_data(st, xs, y)
    S, T, B, _ = xs.shape
    cell, d = st.cell, st.d
    fw = _forward(st, xs)
    G = fw.acts.shape[2]
    losses = np.mean((fw.o - y) ** 2, axis=1)
    g = 2.0 * (fw.o - y) / B                            # dL/do_T: (S, B)
    dA, D_c = _local_derivatives(cell, fw, d)           # D, made into dL/d(pre-activation) step by step
    W_h = st.W if cell != "gru" else np.concatenate(                  # the W columns of M, not halved
        [st.W[:, :2 * d], np.zeros((S, d, d)), st.W[:, 2 * d:]], axis=1)
    W_h = _t(W_h)
    dh = _t(st.V) * g[:, None, :]                       # dL/dh_T = V^T dL/do_T: (S, d, B)
    dc = np.zeros_like(dh)                              # LSTM: the part of dL/dc_t from step t + 1
    dM = np.zeros((S, G * d, d + 3))                    # dL/d[W | U | b]
    inputs = np.ascontiguousarray(_t(fw.hx[:T]))        # [h_{t-1}; x_t; 1]^T: (T, S, B, d + 3)
    for t in reversed(range(T)):
        da = dA[t]                                      # (S, G, d, B)
        if cell == "lstm":
            dc += dh * D_c[t]                           # dL/dc_t
            da[:, :3] *= dc[:, None]                    # da_i, da_f, da_g
            da[:, 3] *= dh                              # da_o
        elif cell == "gru":
            da[:, :3] *= dh[:, None]                    # da_r, da_z, da_n
            np.multiply(fw.acts[t, :, 0], da[:, 2], out=da[:, 3])   # at W_n h + bh: r da_n
        else:
            da *= dh[:, None]                           # dz_t = phi'(z_t) dL/dh_t
        rows = da.reshape(S, G * d, B)
        dM += rows @ inputs[t]                          # da [h_{t-1}; x_t; 1]^T
        back = W_h @ rows                               # the part of dL/dh_{t-1} through W
        if cell == "lstm":
            dh = back
            dc *= fw.acts[t, :, 1]                      # dL/dc_{t-1} through c_t = f c_{t-1} + ...
        elif cell == "gru":
            dh = dh * fw.acts[t, :, 1] + back           # + dL/dh_t z, through h_t = ... + z h_{t-1}
        else:
            dh = back
    grads = {"V": g[:, None, :] @ _t(fw.hx[T, :, :d]), "c": g.sum(1)[:, None]}
    if cell == "gru":                                   # blocks r, z, U_n x + b_n, W_n h + bh
        r_z, x_n, h_n = dM[:, :2 * d], dM[:, 2 * d:3 * d], dM[:, 3 * d:]
        grads.update(W=np.concatenate([r_z[:, :, :d], h_n[:, :, :d]], axis=1),
                     U=np.concatenate([r_z[:, :, d:d + 2], x_n[:, :, d:d + 2]], axis=1),
                     b=np.concatenate([r_z[:, :, d + 2], x_n[:, :, d + 2]], axis=1), bh=h_n[:, :, d + 2])
    else:
        grads.update(W=dM[:, :, :d], U=dM[:, :, d:d + 2], b=dM[:, :, d + 2])
    return losses, Stack(cell, {name: np.ascontiguousarray(grads[name]) for name in st.names})
