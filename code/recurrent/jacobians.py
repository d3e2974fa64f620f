"""Chapters 6 and 7: the full one-step Jacobians of the gated cells, through every path.

Chapter 6 follows the gradient along the direct path c_{t-1} -> c_t, whose Jacobian is diag(f_t).
But every gate reads h_{t-1} too, so the step's full Jacobian has four blocks::

    LSTM, with a = U x_t + W h_{t-1} + b and the gates i, f, g, o of ``lstm``
        dc_t/dc_{t-1} = diag(f)                                       the direct path (no peepholes)
        dc_t/dh_{t-1} = diag(c_{t-1} f (1 - f)) W_f + diag(g i (1 - i)) W_i + diag(i (1 - g^2)) W_g
        dh_t/dc_{t-1} = diag(o (1 - tanh^2 c_t)) diag(f)
        dh_t/dh_{t-1} = diag(tanh(c_t) o (1 - o)) W_o + diag(o (1 - tanh^2 c_t)) dc_t/dh_{t-1}

``W_f`` is the f block of W (its rows d..2d), and so on. The GRU has one state; its Jacobian
dh_t/dh_{t-1} is the direct path, the diagonal of the gate that keeps the old state (z for "torch"
and "cho", 1 - u for "simple"), plus the paths through the update gate and through the candidate n
(which include the reset gate r)::

    torch   dh_t/dh_{t-1} = diag(z) + diag((h_{t-1} - n) z (1 - z)) W_z
                            + diag((1 - z)(1 - n^2)) [diag(r) W_n + diag((W_n h_{t-1} + bh) r (1 - r)) W_r]
    cho     the candidate term is diag((1 - z)(1 - n^2)) W_n [diag(r) + diag(h_{t-1} r (1 - r)) W_r]
    simple  dh_t/dh_{t-1} = diag(1 - u) + diag((n - h_{t-1}) u (1 - u)) W_u + diag(u (1 - n^2)) W_n

Every function takes one batch, like ``lstm.step`` and ``gru.step`` (x: (B, n), states (B, d)), and
returns one Jacobian per example: blocks (B, d, d); entry [b, j, m] is d(state_t)_j / d(state_{t-1})_m.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import bptt, gru, lstm
from ._checks import as_float_array, describe, instance_of, positive_float
from .cell import _check_inputs


class LSTMJacobian(NamedTuple):
    """The Jacobian of one LSTM step (h_t, c_t) with respect to (h_{t-1}, c_{t-1}), per example."""

    dh_dh: np.ndarray     # (B, d, d) dh_t/dh_{t-1}
    dh_dc: np.ndarray     # (B, d, d) dh_t/dc_{t-1}
    dc_dh: np.ndarray     # (B, d, d) dc_t/dh_{t-1}, every path of it runs through a gate
    dc_dc: np.ndarray     # (B, d, d) dc_t/dc_{t-1} = diag(f_t), the direct path
    f: np.ndarray         # (B, d) the forget gate f_t
    full: np.ndarray      # (B, 2d, 2d) [[dh_dh, dh_dc], [dc_dh, dc_dc]], the state ordered (h, c)


class GRUJacobian(NamedTuple):
    """The Jacobian dh_t/dh_{t-1} of one GRU step, per example, split by path."""

    direct: np.ndarray    # (B, d, d) diag(keep), the path that bypasses every weight
    via_gate: np.ndarray  # (B, d, d) the path through the update gate (z, or u for "simple")
    via_candidate: np.ndarray  # (B, d, d) the path through the candidate n (the reset gate r included)
    keep: np.ndarray      # (B, d) the share of h_{t-1} kept: z ("torch", "cho") or 1 - u ("simple")
    full: np.ndarray      # (B, d, d) direct + via_gate + via_candidate

    @property
    def gates(self) -> np.ndarray:
        """(B, d, d) every path through a gate or the candidate: full - direct = via_gate + via_candidate."""
        return self.via_gate + self.via_candidate


def _rows_times(v, M):
    """diag(v) M for every example: v: (B, d), M: (d, m) or (B, d, m) -> (B, d, m)."""
    return v[..., :, None] * M


def _diag(v):
    """diag(v) for every example: (B, d) -> (B, d, d)."""
    return v[..., :, None] * np.eye(v.shape[-1], dtype=v.dtype)


def _step_inputs(p, x, h_prev):
    """Validate x: (B, n) and h_prev: (B, d) against p, as ``lstm.step`` and ``gru.step`` do."""
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    h_prev = as_float_array("h_prev", h_prev, ndim=2, dims="(B, d)")
    xs, h = _check_inputs(p, x[None], h_prev, names=("x", "h_prev"))
    return xs[0], h


def lstm_step(p: lstm.LSTMParams, x, h_prev, c_prev=None) -> LSTMJacobian:
    """The full Jacobian of one LSTM step at x: (B, n), h_prev: (B, d), c_prev: (B, d) (zeros if
    omitted): the blocks (B, d, d) and ``full`` (B, 2d, 2d), whose rows and columns order the state
    as (h, c)."""
    instance_of("p", p, lstm.LSTMParams, "lstm.LSTMParams")
    x, h = _step_inputs(p, x, h_prev)
    _, h, c = lstm._states(p, x[None], h, c_prev, names=("x", "h_prev", "c_prev"))
    ax = x @ p.U.T + p.b
    gates = np.empty_like(ax)
    h_new, c_new = np.empty(h.shape, ax.dtype), np.empty(h.shape, ax.dtype)
    lstm._update(p, ax, h, c, gates, c_new, h_new)
    i, f, g, o = lstm._blocks(gates, 4)
    W_i, W_f, W_g, W_o = (p.W[j * p.d:(j + 1) * p.d] for j in range(4))   # the (d, d) blocks of W
    tanh_c = np.tanh(c_new)
    dh_dct = o * (1 - tanh_c ** 2)                                    # dh_t/dc_t, a diagonal
    dc_dh = (_rows_times(c * f * (1 - f), W_f) + _rows_times(g * i * (1 - i), W_i)
             + _rows_times(i * (1 - g ** 2), W_g))
    dh_dh = _rows_times(tanh_c * o * (1 - o), W_o) + _rows_times(dh_dct, dc_dh)
    dc_dc, dh_dc = _diag(f), _diag(dh_dct * f)
    full = np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]])
    return LSTMJacobian(dh_dh, dh_dc, dc_dh, dc_dc, f.copy(), full)


def gru_step(p: gru.GRUParams, x, h_prev) -> GRUJacobian:
    """The Jacobian dh_t/dh_{t-1} of one GRU step (any variant) at x: (B, n), h_prev: (B, d), split
    into the direct path diag(keep), the path through the update gate and the path through the
    candidate; each (B, d, d)."""
    gru._check(p)
    x, h = _step_inputs(p, x, h_prev)
    ax = x @ p.U.T + p.b
    gates, m = np.empty_like(ax), np.empty_like(ax)
    gru._update(p, ax, h, gates, np.empty(h.shape, ax.dtype), m)     # m: W h_{t-1} (+ bh on n)
    d = p.d
    if p.variant == "simple":
        u, n = lstm._blocks(gates, 2)
        W_u, W_n = p.W[:d], p.W[d:]
        keep = 1 - u
        via_gate = _rows_times((n - h) * u * (1 - u), W_u)
        via_candidate = _rows_times(u * (1 - n ** 2), W_n)
    else:
        r, z, n = lstm._blocks(gates, 3)
        W_r, W_z, W_n = p.W[:d], p.W[d:2 * d], p.W[2 * d:]
        keep = z
        via_gate = _rows_times((h - n) * z * (1 - z), W_z)
        dr = r * (1 - r)
        if p.variant == "torch":                   # d/dh of r * (W_n h + bh); m holds W_n h + bh
            inner = _rows_times(r, W_n) + _rows_times(m[:, 2 * d:] * dr, W_r)
        else:                                      # d/dh of W_n (r * h)
            inner = W_n @ (_diag(r) + _rows_times(h * dr, W_r))
        via_candidate = _rows_times((1 - z) * (1 - n ** 2), inner)
    direct = _diag(keep)
    return GRUJacobian(direct, via_gate, via_candidate, keep.copy(), direct + via_gate + via_candidate)


def along_run(p, xs, h0=None, c0=None):
    """The step Jacobians of a gated cell at every step of its run over ``xs: (T, B, n)`` from h0, c0
    (zeros if omitted; a GRU takes no c0): ``lstm_step`` or ``gru_step`` at each step's input and
    previous state, every field with (T, B) in front, e.g. ``full``: (T, B, 2d, 2d) for an LSTM."""
    instance_of("p", p, (lstm.LSTMParams, gru.GRUParams), "lstm.LSTMParams or gru.GRUParams")
    if isinstance(p, gru.GRUParams) and c0 is not None:
        raise TypeError(f"c0: a GRU has no cell state, expected None, got {describe(c0)}")
    fwd = bptt.forward(p, xs, h0) if c0 is None else bptt.forward(p, xs, h0, c0)
    T, B, d = fwd.hs.shape
    previous = lambda s0, s: np.concatenate([s0[None], s[:-1]]).reshape(T * B, d)
    x = np.asarray(xs, dtype=fwd.hs.dtype).reshape(T * B, -1)
    if isinstance(p, lstm.LSTMParams):
        J = lstm_step(p, x, previous(fwd.h0, fwd.hs), previous(fwd.c0, fwd.cs))
    else:
        J = gru_step(p, x, previous(fwd.h0, fwd.hs))
    return type(J)(*(field.reshape(T, B, *field.shape[1:]) for field in J))


def central_differences(p, x, h_prev, c_prev=None, eps: float = 1e-5) -> np.ndarray:
    """The step Jacobian by central differences of ``lstm.step`` or ``gru.step``, to check the two
    functions above: (B, 2d, 2d) for an LSTM (state ordered (h, c), like ``LSTMJacobian.full``), (B, d, d)
    for a GRU (which takes no ``c_prev``). The examples are independent, so moving one coordinate of
    every example's state at once gives one column of every example's Jacobian: 2 steps per column."""
    instance_of("p", p, (lstm.LSTMParams, gru.GRUParams), "lstm.LSTMParams or gru.GRUParams")
    eps = positive_float("eps", eps)
    x, h = _step_inputs(p, x, h_prev)
    if isinstance(p, lstm.LSTMParams):
        _, h, c = lstm._states(p, x[None], h, c_prev, names=("x", "h_prev", "c_prev"))
        state, d = np.concatenate([h, c], axis=1), p.d
        step = lambda s: np.concatenate(lstm.step(p, x, s[:, :d], s[:, d:]), axis=1)
    else:
        if c_prev is not None:
            raise TypeError(f"c_prev: a GRU has no cell state, expected None, got {describe(c_prev)}")
        state, step = h, lambda s: gru.step(p, x, s)
    J = np.empty(state.shape + state.shape[1:], state.dtype)
    for m in range(state.shape[1]):
        e = np.zeros_like(state)
        e[:, m] = eps
        J[:, :, m] = (step(state + e) - step(state - e)) / (2 * eps)
    return J
