"""Chapter 2: backpropagation through time (BPTT), and the one API every cell of the book shares.

For the RNN, h_t = phi(z_t), z_t = U x_t + W h_{t-1} + b, o_t = V h_t + c, the backward pass is::

    delta_t  = dL/dh_t = V^T dL/do_t + W^T dz_{t+1},     delta_T = V^T dL/do_T
    dz_t     = phi'(z_t) * delta_t          phi'(z_t) = 1 - h_t^2 (tanh), 1[h_t > 0] (ReLU), 1 (linear)
    dL/dV = sum_t dL/do_t h_t^T        dL/dc = sum_t dL/do_t
    dL/dW = sum_t dz_t h_{t-1}^T       dL/dU = sum_t dz_t x_t^T        dL/db = sum_t dz_t

(each sum over t also runs over the batch). ``dz_t`` is the gradient at the pre-activation z_t, the
only quantity the loop must carry. With the loss of ``losses.cross_entropy``, dL/do_t = (y_hat_t - y_t) / B.

The same calls serve the RNN (``rnn.Params``, tanh or ReLU), the LSTM (``lstm.LSTMParams``) and the
GRU (``gru.GRUParams``)::

    forward(p, xs, h0=None, c0=None) -> cell.Forward            c0: the LSTM's initial cell state
    backward(p, xs, fwd, d_os, d_hT=None, d_cT=None) -> cell.Backward
    loss_and_grads(p, xs, ys, h0=None, c0=None, mask=None, loss="cross_entropy") -> (loss, grads, fwd)
    loss_function(xs, ys, ...) -> L(p)       gradient_check(p, xs, ys, ...) -> {symbol: relative error}
    gradient_norms(p, xs, d_os, h0=None, c0=None) -> GradientNorms(t, h, c)

``loss`` is one of ``losses.LOSSES``: "cross_entropy" (ys: (T, B) ids, with an optional mask) or
"last_squared_error" (ys: (B,) reals, one output, chapter 8). Training is in ``training``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import cell, gru, lstm, rnn
from ._checks import as_callable, as_float_array, as_int_array, instance_of, one_of, positive_float
from .cell import Backward, Forward
from .losses import (
    LOSSES,
    _at_targets,
    _check_ids,
    _check_real_targets,
    _check_targets,
    _log_softmax,
    last_squared_error_grad,
)
from .rnn import Params

CONTAINERS = (rnn.Params, lstm.LSTMParams, gru.GRUParams)
_EXPECTED = "rnn.Params, lstm.LSTMParams or gru.GRUParams"


def _check_cell(p) -> None:
    instance_of("p", p, CONTAINERS, _EXPECTED)


def _no_cell_state(p, name: str, value) -> None:
    if value is not None:
        raise ValueError(f"{name}: only the LSTM has a cell state; for {p.kind} expected None, "
                         f"got {type(value).__name__}")


def forward(p, xs, h0=None, c0=None) -> Forward:
    """Run the cell p over ``xs: (T, B, n)`` from h0: (B, d) and (LSTM only) c0: (B, d), zeros if omitted."""
    if isinstance(p, Params):
        _no_cell_state(p, "c0", c0)
        return rnn.forward(p, xs, h0)
    _check_cell(p)
    if isinstance(p, lstm.LSTMParams):
        return lstm.forward(p, xs, h0, c0)
    _no_cell_state(p, "c0", c0)
    return gru.forward(p, xs, h0)


def backward(p, xs, fwd: Forward, d_os, d_hT=None, d_cT=None) -> Backward:
    """Gradients of the loss given dL/do_t for every step, by backpropagation through time.

    xs: (T, B, n); fwd: ``forward(p, xs, h0, c0)``; d_os: (T, B, k); d_hT, d_cT: (B, d), gradients
    arriving at h_T and (LSTM only) c_T from later in time, zeros if omitted.
    """
    if isinstance(p, Params):
        _no_cell_state(p, "d_cT", d_cT)
        xs, h0 = cell._check_inputs(p, xs, getattr(fwd, "h0", None))
        d_os, d_hT = lstm._check_backward_inputs(p, xs, fwd, d_os, d_hT, h0)
        return _rnn_backward(p, xs, fwd, d_os, d_hT)
    _check_cell(p)
    if isinstance(p, lstm.LSTMParams):
        return lstm.backward(p, xs, fwd, d_os, d_hT, d_cT)
    _no_cell_state(p, "d_cT", d_cT)
    return gru.backward(p, xs, fwd, d_os, d_hT)


def _rnn_backward(p: Params, xs, fwd: Forward, d_os, d_hT=None) -> Backward:
    """The RNN's BPTT of the module docstring, for arrays that are already checked."""
    hs = fwd.hs
    T, B, d = hs.shape
    if p.activation == "tanh":
        slope = 1.0 - hs * hs                      # phi'(z_t) = 1 - h_t^2 for every t at once
    elif p.activation == "relu":
        slope = (hs > 0).astype(hs.dtype)          # 1[z_t > 0]
    else:
        slope = np.ones_like(hs)
    d_hs = d_os @ p.V                              # V^T dL/do_t for every t at once, completed below
    dzs = np.empty_like(hs)
    carry = np.zeros((B, d), hs.dtype) if d_hT is None else d_hT.copy()
    for t in range(T - 1, -1, -1):
        delta = np.add(d_hs[t], carry, out=d_hs[t])         # delta_t = V^T dL/do_t + W^T dz_{t+1}
        np.multiply(delta, slope[t], out=dzs[t])            # dz_t = phi'(z_t) * delta_t
        np.matmul(dzs[t], p.W, out=carry)                   # W^T dz_t, read at step t-1
    cell._check_finite_gradient(dzs)
    # Each sum over t (and b) of outer products is one matrix product over all T*B rows.
    h_prev = np.concatenate([fwd.h0[None], hs[:-1]])        # h_{t-1} for t = 1..T
    rows = T * B
    dz, do = dzs.reshape(rows, d), d_os.reshape(rows, -1)
    grads = Params._computed(U=dz.T @ xs.reshape(rows, -1), W=dz.T @ h_prev.reshape(rows, d), b=dz.sum(0),
                             V=do.T @ hs.reshape(rows, d), c=do.sum(0), activation=p.activation)
    return Backward(grads, carry, d_hs)


def _loss_and_output_grad(fwd: Forward, ys, mask, loss: str):
    """The loss of ``fwd.os`` and dL/do_t, after checking ys and mask for ``loss``."""
    if loss == "cross_entropy":
        if mask is None:                               # every position counts: no mask to multiply by
            ys = _check_ids(ys, fwd.os)
        else:
            ys, mask = _check_targets(ys, fwd.os, mask)
        logp = _log_softmax(fwd.os)                    # log y_hat_t, once for the loss and its gradient
        at = _at_targets(ys)
        picked = logp[at] if mask is None else logp[at] * mask
        value = float(-picked.sum() / fwd.os.shape[1])

        def output_grad():                             # dL/do_t = (y_hat_t - onehot(y_t)) * mask / B
            g = np.exp(logp, out=logp)
            g[at] -= 1.0
            g *= (1.0 / fwd.os.shape[1]) if mask is None else mask[..., None] / fwd.os.shape[1]
            return g
        return value, output_grad
    one_of("loss", loss, LOSSES)
    if mask is not None:
        raise ValueError(f"mask: the loss 'last_squared_error' has no mask, expected None, got "
                         f"{type(mask).__name__}")
    ys = _check_real_targets(ys, fwd.os, "p")
    value = float(np.mean((fwd.os[-1, :, 0] - ys) ** 2))
    return value, (lambda: last_squared_error_grad(fwd.os, ys))


def loss_and_grads(p, xs, ys, h0=None, c0=None, mask=None, loss: str = "cross_entropy"):
    """The loss and the gradient of every parameter: returns (loss, grads, fwd).

    loss="cross_entropy": ys: (T, B) ids, mask: (T, B) weights; loss="last_squared_error": ys: (B,).
    A loss that is not finite raises FloatingPointError (training reports it with advice).
    """
    if isinstance(p, Params):           # the RNN: check once, then run the unchecked passes
        _no_cell_state(p, "c0", c0)
        xs, h0 = cell._check_inputs(p, xs, h0)
        hs = rnn._hidden_states(p, xs, h0)
        fwd = Forward(p.kind, h0, hs, rnn._outputs(p.V, p.c, hs))
    else:
        fwd = forward(p, xs, h0, c0)
        xs = cell._check_inputs(p, xs, fwd.h0)[0]
    value, output_grad = _loss_and_output_grad(fwd, ys, mask, loss)
    if not math.isfinite(value):
        raise FloatingPointError(f"the loss became {value}; lower the learning rate or clip the gradient")
    d_os, zeros = output_grad(), np.zeros_like(fwd.h0)       # all checked: the unchecked passes follow
    if isinstance(p, Params):
        return value, _rnn_backward(p, xs, fwd, d_os).grads, fwd
    if isinstance(p, lstm.LSTMParams):
        return value, lstm._backward(p, xs, fwd, d_os, zeros, zeros.copy()).grads, fwd
    return value, gru._backward(p, xs, fwd, d_os, zeros).grads, fwd


def loss_function(xs, ys, h0=None, c0=None, mask=None, loss: str = "cross_entropy"):
    """The loss as a function of the parameters alone, for fixed data: returns ``L(p) -> float``.

    The data are checked now, as far as they can be without p: xs: (T, B, n), h0, c0: (B, d),
    ys: (T, B) ids >= 0 and mask: (T, B) weights >= 0 (cross-entropy) or ys: (B,) reals. L(p) checks
    the rest (n, d, k of p).
    """
    one_of("loss", loss, LOSSES)
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, n)")
    T, B, _ = xs.shape
    for name, state in (("h0", h0), ("c0", c0)):
        if state is not None:
            state = as_float_array(name, state, shape=(B, None), dims="(B, d)")
    if loss == "cross_entropy":
        ys = as_int_array("ys", ys, ndim=2, low=0, high=np.iinfo(np.int64).max, dims="(T, B)")
        if ys.shape != (T, B):
            raise ValueError(f"ys: expected shape (T, B) = ({T}, {B}) to match xs, got {ys.shape}")
        if mask is not None and as_float_array("mask", mask, shape=(T, B), dims="(T, B)").min() < 0:
            raise ValueError("mask: expected weights >= 0, got a negative entry")
    else:
        if mask is not None:
            raise ValueError(f"mask: the loss 'last_squared_error' has no mask, expected None, got "
                             f"{type(mask).__name__}")
        as_float_array("ys", ys, shape=(B,), dims="(B,)")

    def L(p) -> float:
        return _loss_and_output_grad(forward(p, xs, h0, c0), ys, mask, loss)[0]
    return L


def numerical_gradient(loss_fn, p, name: str, eps: float = 1e-5):
    """Central differences (L(theta + eps) - L(theta - eps)) / (2 eps) for every entry of p.<name>.

    ``loss_fn(p) -> float``. Costs 2 * size evaluations; the entry is restored afterwards.
    """
    as_callable("loss_fn", loss_fn, "a function loss_fn(p) -> float")
    _check_cell(p)
    one_of("name", name, [s for s, _ in p.items()])
    eps = positive_float("eps", eps)
    theta = getattr(p, name)
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + eps
        up = loss_fn(p)
        theta[i] = old - eps
        down = loss_fn(p)
        theta[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def relative_error(a, b) -> float:
    """||a - b|| / max(||a||, ||b||) in the Frobenius norm (0 when both are zero)."""
    a, b = as_float_array("a", a, allow_empty=True), as_float_array("b", b, allow_empty=True)
    if a.shape != b.shape:
        raise ValueError(f"a, b: expected arrays of one shape, got a {a.shape} and b {b.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def gradient_check(p, xs, ys, h0=None, c0=None, mask=None, loss: str = "cross_entropy",
                   eps: float = 1e-5) -> dict:
    """Relative error between BPTT and central differences, {symbol: error} for each parameter of p."""
    eps = positive_float("eps", eps)
    _, grads, _ = loss_and_grads(p, xs, ys, h0, c0, mask, loss)
    L, q = loss_function(xs, ys, h0, c0, mask, loss), p.copy()
    return {name: relative_error(g, numerical_gradient(L, q, name, eps)) for name, g in grads.items()}


class GradientNorms(NamedTuple):
    """||dL/dh_t|| (and, for the LSTM, ||dL/dc_t||) for t = 1..T, Frobenius norms over batch and units."""

    t: np.ndarray              # (T,) the steps 1 .. T
    h: np.ndarray              # (T,) or (S, T) for several models
    c: np.ndarray | None       # the same for the LSTM's cell state, None for the other cells


def gradient_norms(p, xs, d_os, h0=None, c0=None) -> GradientNorms:
    """How much gradient reaches each step: one backward pass of p over ``xs: (T, B, n)`` with the
    loss given by its gradient ``d_os: (T, B, k)`` (``losses.last_step_grad`` puts it at t = T only).

    For the LSTM, dL/dh_t holds c_t fixed, as in ``cell.Backward``.
    """
    fwd = forward(p, xs, h0, c0)
    back = backward(p, xs, fwd, d_os)
    T = len(back.d_hs)
    c = None if back.d_cs is None else np.linalg.norm(back.d_cs.reshape(T, -1), axis=1)
    return GradientNorms(np.arange(1, T + 1), np.linalg.norm(back.d_hs.reshape(T, -1), axis=1), c)
