"""Chapter 6: why the LSTM's cell state carries gradient, measured.

For the LSTM, c_t = f_t * c_{t-1} + i_t * g_t, so the direct path from c_{t-1} to c_t has the
Jacobian diag(f_t); the gates add further paths through h_{t-1}. This module measures what reaches
earlier steps when the loss sits at the last step, for the LSTM beside the plain tanh RNN, and
builds the small hand-set LSTM that stores a value on a "write" signal and drops it on "forget".

The 1997 cell had no forget gate (c_t = c_{t-1} + i_t * g_t, the constant error carousel):
``without_forget_gate`` makes it from any LSTM, ``cell_state_sizes`` shows its cell state drifting
where the forget gate keeps it bounded, and ``jacobian_paths`` compares the full step Jacobians
(``jacobians.lstm_step``) with the direct path diag(f_t), one step and over T steps.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import bptt, jacobians, lstm, rnn
from ._checks import as_float_array, finite_float, instance_of, positive_int
from .interactive import Control
from .losses import last_step_grad


class GradientRatios(NamedTuple):
    """Gradient left at step t of what starts at step T, each curve divided by its value at t = T."""

    t: np.ndarray         # (T,) the steps 1 .. T
    lstm_c: np.ndarray    # (T,) ||dL/dc_t|| / ||dL/dc_T|| of the LSTM
    lstm_h: np.ndarray    # (T,) ||dL/dh_t|| / ||dL/dh_T|| of the LSTM (c_t held fixed)
    rnn_h: np.ndarray     # (T,) ||dL/dh_t|| / ||dL/dh_T|| of a tanh RNN on the same inputs
    forget_bias: float    # the LSTM's forget-gate bias b_f
    f_mean: float         # the mean forget-gate value over every step, example and unit
    T: int                # the sequence length


def gradient_ratios(forget_bias: float = 1.0, T: int = 50, d: int = 32, n: int = 4, B: int = 8,
                    seed: int = 0) -> GradientRatios:
    """Gradient norms through time, an LSTM (cell and hidden state) beside a tanh RNN on the same inputs.

    Inputs xs ~ N(0, 1): (T, B, n) and targets at the last step only are drawn with ``seed``; both
    networks (n inputs, d units, 4 classes) are initialised with ``seed``, the LSTM with ``forget_bias``.
    Each curve is divided by its value at the last step, so it shows how much of the gradient that
    starts at step T is left at step t.
    """
    forget_bias, T = finite_float("forget_bias", forget_bias), positive_int("T", T)
    d, n, B = positive_int("d", d), positive_int("n", n), positive_int("B", B)
    rng = np.random.default_rng(positive_int("seed", seed, minimum=0))
    xs, y_last = rng.normal(size=(T, B, n)), rng.integers(0, 4, B)
    cell = lstm.init_lstm(n, d, 4, rng=seed, forget_bias=forget_bias)
    fwd = bptt.forward(cell, xs)
    r = bptt.gradient_norms(cell, xs, last_step_grad(fwd.os, y_last))
    plain = rnn.init_params(n, d, 4, rng=seed)
    h = bptt.gradient_norms(plain, xs, last_step_grad(bptt.forward(plain, xs).os, y_last)).h
    f_mean = float(fwd.gates[..., d:2 * d].mean())
    return GradientRatios(r.t, r.c / r.c[-1], r.h / r.h[-1], h / h[-1], forget_bias, f_mean, T)


CONTROLS = (
    Control("forget_bias", (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0), 1.0, "forget-gate bias", "{:+.0f}"),
    Control("T", (25, 50, 100), 50, "sequence length T"),
)


def write_read_forget(values, write, forget, read):
    """A one-unit LSTM set by hand: it stores ``values[t]`` when write[t] = 1, keeps it while
    forget[t] = 0, clears it when forget[t] = 1, and shows it in h_t only when read[t] = 1.

    Inputs are x_t = (value, write, forget, read). Returns the forward pass (gates, cs, hs), T steps.
    """
    signals = [as_float_array(name, a, ndim=1, dims="(T,)") for name, a in
               (("values", values), ("write", write), ("forget", forget), ("read", read))]
    if len({len(a) for a in signals}) != 1:
        raise ValueError(f"values, write, forget, read: expected four arrays of one length T, "
                         f"got lengths {[len(a) for a in signals]}")
    xs = np.stack(signals, axis=-1)[:, None, :]                                        # (T, 1, 4)
    big = 20.0                               # sigma(+-20) is 1 or 0 to within 2e-9
    U = np.zeros((4, 4))
    b = np.zeros(4)
    U[0, 1], b[0] = 2 * big, -big            # input gate i: open only on write
    U[1, 2], b[1] = -2 * big, big            # forget gate f: closed only on forget
    U[2, 0] = 1.0                            # candidate g = tanh(value)
    U[3, 3], b[3] = 2 * big, -big            # output gate o: open only on read
    p = lstm.LSTMParams(U=U, W=np.zeros((4, 1)), V=np.ones((1, 1)), b=b, c=np.zeros(1))
    return lstm.forward(p, xs)


def without_forget_gate(p: lstm.LSTMParams) -> lstm.LSTMParams:
    """A copy of p whose forget gate is 1 at every step: the 1997 cell, c_t = c_{t-1} + i_t * g_t.

    b_f = 40 (σ(40) rounds to 1 in float64) and the f blocks of U and W are zero.
    """
    instance_of("p", p, lstm.LSTMParams, "lstm.LSTMParams")
    q, f = p.copy(), slice(p.d, 2 * p.d)
    q.b[f], q.U[f], q.W[f] = 40.0, 0.0, 0.0
    return q


class CellStateSizes(NamedTuple):
    """The largest |c_t| over examples and units at every step, with and without a forget gate."""

    t: np.ndarray          # (T,) the steps 1 .. T
    carousel: np.ndarray   # (T,) the forget gate fixed at 1 (``without_forget_gate``)
    forget: np.ndarray     # (T,) the same cell with its forget gate, bias ``forget_bias``
    forget_bias: float


def cell_state_sizes(T: int = 1000, d: int = 16, n: int = 4, B: int = 8, seed: int = 0,
                     forget_bias: float = 1.0) -> CellStateSizes:
    """max |c_t| of one random LSTM (``init_lstm(n, d, 4, rng=seed)``) on inputs xs ~ N(0, 1): (T, B, n)
    drawn with ``seed``, with its forget gate and with the forget gate fixed at 1."""
    T, d, n, B = (positive_int(s, v) for s, v in (("T", T), ("d", d), ("n", n), ("B", B)))
    forget_bias = finite_float("forget_bias", forget_bias)
    xs = np.random.default_rng(positive_int("seed", seed, minimum=0)).normal(size=(T, B, n))
    p = lstm.init_lstm(n, d, 4, rng=seed, forget_bias=forget_bias)
    size = lambda q: np.abs(lstm.forward(q, xs).cs).max(axis=(1, 2))
    return CellStateSizes(np.arange(1, T + 1), size(without_forget_gate(p)), size(p), forget_bias)


class JacobianPaths(NamedTuple):
    """Largest singular values of the LSTM's step Jacobians, every path against the direct one."""

    one_step_full: np.ndarray     # (T, B) σ_max of the full Jacobian of (h_t, c_t) w.r.t. (h_{t-1}, c_{t-1})
    one_step_direct: np.ndarray   # (T, B) σ_max of diag(f_t), the largest forget gate
    product_full: np.ndarray      # (B,) σ_max of the product J_T ... J_1 of the full Jacobians
    product_direct: np.ndarray    # (B,) σ_max of diag(f_T ... f_1), the direct path over T steps
    forget_bias: float
    T: int


def jacobian_paths(forget_bias: float = 1.0, T: int = 50, d: int = 32, n: int = 4, B: int = 8,
                   seed: int = 0) -> JacobianPaths:
    """The full step Jacobians (``jacobians.lstm_step``) along a run of ``gradient_ratios``' LSTM (same
    inputs and weights for the same arguments), against the direct path diag(f_t) of the cell state."""
    forget_bias, T = finite_float("forget_bias", forget_bias), positive_int("T", T)
    d, n, B = positive_int("d", d), positive_int("n", n), positive_int("B", B)
    xs = np.random.default_rng(positive_int("seed", seed, minimum=0)).normal(size=(T, B, n))
    p = lstm.init_lstm(n, d, 4, rng=seed, forget_bias=forget_bias)
    J = jacobians.along_run(p, xs)
    full, f = J.full, J.f                                             # (T, B, 2d, 2d), (T, B, d)
    product = np.broadcast_to(np.eye(2 * d), (B, 2 * d, 2 * d))
    for t in range(T):
        product = full[t] @ product                                   # J_t ... J_1
    return JacobianPaths(np.linalg.norm(full, 2, axis=(2, 3)), f.max(axis=2),
                         np.linalg.norm(product, 2, axis=(1, 2)), np.prod(f, axis=0).max(axis=1),
                         forget_bias, T)
