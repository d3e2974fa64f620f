"""Chapter 6: why the LSTM's cell state carries gradient, measured.

For the LSTM, c_t = f_t * c_{t-1} + i_t * g_t, so the direct path from c_{t-1} to c_t has the
Jacobian diag(f_t); the gates add further paths through h_{t-1}. This module measures what reaches
earlier steps when the loss sits at the last step, for the LSTM beside the plain tanh RNN, and
builds the small hand-set LSTM that stores a value on a "write" signal and drops it on "forget".
"""
from __future__ import annotations

import numpy as np

from . import gates, rnn
from ._checks import positive_int
from .bptt import output_grad
from .interactive import Control


def rnn_gradient_norms(p: rnn.Params, xs, y_last) -> np.ndarray:
    """||dL/dh_t|| for t = 1..T of a tanh RNN with the cross-entropy at the last step only. (T,)"""
    fwd = rnn.forward(p, xs)
    T, B, _ = fwd.os.shape
    ys, mask = np.zeros((T, B), int), np.zeros((T, B))
    ys[-1], mask[-1] = y_last, 1.0
    g = output_grad(fwd.os, ys, mask)[-1] @ p.V            # dL/dh_T: (B, d)
    norms = np.empty(T)
    for t in range(T - 1, -1, -1):                          # dL/dh_{t-1} = W^T diag(1 - h_t^2) dL/dh_t
        norms[t] = np.linalg.norm(g)
        g = (g * (1.0 - fwd.hs[t] ** 2)) @ p.W
    return norms


def explorer(forget_bias: float = 1.0, T: int = 50, d: int = 32, n: int = 4, B: int = 8, seed: int = 0):
    """Gradient norms through time, LSTM (cell and hidden state) beside a tanh RNN on the same inputs.

    Each curve is divided by its value at the last step, so it shows how much of the gradient that
    starts at step T is left at step t. Also returns the mean forget-gate value ``f_mean``.
    """
    T = positive_int("T", T)
    rng = np.random.default_rng(seed)
    xs, y_last = rng.normal(size=(T, B, n)), rng.integers(0, 4, B)
    lstm = gates.init_lstm(n, d, 4, rng=seed, forget_bias=forget_bias)
    r = gates.gradient_norms(lstm, xs, y_last)
    plain = rnn_gradient_norms(rnn.init_params(n, d, 4, rng=seed), xs, y_last)
    f_mean = float(gates.forward(lstm, xs).gates[..., d:2 * d].mean())
    return {"t": r["t"], "lstm_c": r["c"] / r["c"][-1], "lstm_h": r["h"] / r["h"][-1],
            "rnn_h": plain / plain[-1], "forget_bias": forget_bias, "f_mean": f_mean, "T": T}


CONTROLS = (
    Control("forget_bias", (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0), 1.0, "forget-gate bias", "{:+.0f}"),
    Control("T", (25, 50, 100), 50, "sequence length T"),
)


def write_read_forget(values, write, forget, read):
    """A one-unit LSTM set by hand: it stores ``values[t]`` when write[t] = 1, keeps it while
    forget[t] = 0, clears it when forget[t] = 1, and shows it in h_t only when read[t] = 1.

    Inputs are x_t = (value, write, forget, read). Returns the forward pass (gates, cs, hs), T steps.
    """
    xs = np.stack([values, write, forget, read], axis=-1).astype(float)[:, None, :]   # (T, 1, 4)
    big = 20.0                               # sigma(+-20) is 1 or 0 to within 2e-9
    U = np.zeros((4, 4))
    b = np.zeros(4)
    U[0, 1], b[0] = 2 * big, -big            # input gate i: open only on write
    U[1, 2], b[1] = -2 * big, big            # forget gate f: closed only on forget
    U[2, 0] = 1.0                            # candidate g = tanh(value)
    U[3, 3], b[3] = 2 * big, -big            # output gate o: open only on read
    p = gates.LSTMParams(U=U, W=np.zeros((4, 1)), V=np.ones((1, 1)), b=b, c=np.zeros(1))
    return gates.forward(p, xs)
