"""Chapter 6: why the LSTM's cell state carries gradient, measured.

For the LSTM, c_t = f_t * c_{t-1} + i_t * g_t, so the direct path from c_{t-1} to c_t has the
Jacobian diag(f_t); the gates add further paths through h_{t-1}. This module measures what reaches
earlier steps when the loss sits at the last step, for the LSTM beside the plain tanh RNN, and
builds the small hand-set LSTM that stores a value on a "write" signal and drops it on "forget".
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import bptt, lstm, rnn
from ._checks import as_float_array, finite_float, positive_int
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
