"""Chapters 1, 2 and 8: the output layer's losses and their gradients dL/do_t.

Two losses, for every cell alike (``bptt.loss_and_grads(..., loss=...)`` names them)::

    "cross_entropy"       L = (1/B) sum_b sum_t m_t,b (-log softmax(o_t)[y_t])   ys: (T, B) ids, mask m
                          dL/do_t = m_t (softmax(o_t) - onehot(y_t)) / B
    "last_squared_error"  L = (1/B) sum_b (o_T - y)^2                            ys: (B,) reals, k = 1
                          dL/do_T = 2 (o_T - y) / B,  dL/do_t = 0 for t < T

The first is the language-model loss of chapters 1-7, the second the adding problem's of chapter 8.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import as_float_array, as_int_array

LOSSES = ("cross_entropy", "last_squared_error")


def _axis(o, axis) -> int:
    """``axis`` checked against the rank of o (negative axes count from the end)."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis: expected an integer, got {type(axis).__name__}")
    if not -o.ndim <= axis < max(o.ndim, 1):
        raise ValueError(f"axis: expected an axis of the {o.ndim}-d array o, in [{-o.ndim}, {o.ndim}), "
                         f"got {axis}")
    return int(axis)


def softmax(o, axis: int = -1):
    """Softmax along ``axis``, computed as exp(o - max o) / sum so that no exp overflows."""
    o = as_float_array("o", o)
    return _softmax(o, _axis(o, axis))


def _softmax(o, axis: int = -1):
    """softmax without the check of o (a NaN or inf logit passes through, for the training loops)."""
    e = np.exp(o - o.max(axis=axis, keepdims=True))
    return np.divide(e, e.sum(axis=axis, keepdims=True), out=e)


def log_softmax(o, axis: int = -1):
    """log softmax(o) = o - logsumexp(o), stable for logits of any magnitude."""
    o = as_float_array("o", o)
    return _log_softmax(o, _axis(o, axis))


def _log_softmax(o, axis: int = -1):
    shifted = o - o.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _check_targets(ys, os, mask=None):
    """Validate integer targets ``ys: (T, B)`` (and optional weights ``mask: (T, B)`` >= 0) against
    ``os: (T, B, k)``; returns (ys, mask) with a mask of ones if none was given."""
    T, B, _ = os.shape
    ys = _check_ids(ys, os)
    dtype = np.result_type(os.dtype, np.float32)     # float32 logits get a float32 mask
    if mask is None:
        return ys, np.ones((T, B), dtype)
    mask = as_float_array("mask", mask, shape=(T, B), dims="(T, B)")
    if mask.min() < 0:
        raise ValueError(f"mask: expected weights >= 0, got a smallest entry {mask.min()}")
    return ys, mask.astype(dtype, copy=False)


def _check_ids(ys, os):
    """Validate integer targets ``ys: (T, B)`` with ids in [0, k) against ``os: (T, B, k)``."""
    T, B, k = os.shape
    ys = as_int_array("ys", ys, ndim=2, low=0, high=k, dims="(T, B)")
    if ys.shape != (T, B):
        raise ValueError(f"ys: expected shape (T, B) = ({T}, {B}) to match os, got {ys.shape}")
    return ys


def _at_targets(ys):
    """Index of the target entries: ``a[_at_targets(ys)][t, b] == a[t, b, ys[t, b]]`` for a: (T, B, k)."""
    T, B = ys.shape
    return np.arange(T)[:, None], np.arange(B), ys


def cross_entropy(os, ys, mask=None) -> float:
    """Loss L = (1/B) sum_b sum_t -log softmax(o_t)[y_t]: summed over time, averaged over the batch.

    os: (T, B, k) logits; ys: (T, B) integer classes; mask: (T, B) weights (1 = counts, 0 = ignored).
    """
    os = as_float_array("os", os, ndim=3, dims="(T, B, k)")
    ys, mask = _check_targets(ys, os, mask)
    return _cross_entropy(os, ys, mask)


def _cross_entropy(os, ys, mask) -> float:
    """cross_entropy without the checks, for callers that validated already (NaN passes through).

    ``mask=None`` counts every position, as a mask of ones would.
    """
    logp = _log_softmax(os)[_at_targets(ys)]          # log softmax(o_t)[y_t] for every t and b: (T, B)
    if mask is not None:
        logp *= mask
    return float(-logp.sum() / os.shape[1])


def output_grad(os, ys, mask=None):
    """dL/do_t = (softmax(o_t) - onehot(y_t)) * mask / B for the loss of ``cross_entropy``. (T, B, k)"""
    os = as_float_array("os", os, ndim=3, dims="(T, B, k)")
    ys, mask = _check_targets(ys, os, mask)
    return _output_grad(os, ys, mask)


def _output_grad(os, ys, mask):
    """output_grad without the checks, for callers that validated ys and mask (None: all ones) already."""
    g = np.exp(_log_softmax(os))                      # softmax(o_t), as exp of the log_softmax the loss uses
    g[_at_targets(ys)] -= 1.0                         # softmax(o_t) - onehot(y_t)
    g *= (1.0 / os.shape[1]) if mask is None else mask[..., None] / os.shape[1]
    return g


def last_step_grad(os, y_last):
    """dL/do_t for the cross-entropy at the last step only, with targets ``y_last: (B,)`` ids. (T, B, k)

    The same as ``output_grad`` with a mask that is 1 at t = T and 0 before.
    """
    os = as_float_array("os", os, ndim=3, dims="(T, B, k)")
    T, B, k = os.shape
    y_last = as_int_array("y_last", y_last, ndim=1, low=0, high=k, dims="(B,)")
    if y_last.shape != (B,):
        raise ValueError(f"y_last: expected shape (B,) = ({B},), got {y_last.shape}")
    ys, mask = np.zeros((T, B), int), np.zeros((T, B), os.dtype)
    ys[-1], mask[-1] = y_last, 1.0
    return _output_grad(os, ys, mask)


def _check_real_targets(ys, os, os_name: str = "os"):
    """Validate real targets ``ys: (B,)`` for the last-step squared error of ``os: (T, B, 1)``.

    ``os_name`` is what the caller calls the source of os (the model ``p`` in ``bptt``).
    """
    T, B, k = os.shape
    if k != 1:
        raise ValueError(f"{os_name}: expected one output (k = 1) for the loss 'last_squared_error', "
                         f"got k = {k}")
    ys = as_float_array("ys", ys, ndim=1, dims="(B,)")
    if ys.shape != (B,):
        raise ValueError(f"ys: expected shape (B,) = ({B},) to match os, got {ys.shape}")
    return ys


def last_squared_error(os, ys) -> float:
    """L = (1/B) sum_b (o_T - y)^2 for os: (T, B, 1) and real targets ys: (B,)."""
    os = as_float_array("os", os, ndim=3, dims="(T, B, 1)")
    ys = _check_real_targets(ys, os)
    return float(np.mean((os[-1, :, 0] - ys) ** 2))


def last_squared_error_grad(os, ys):
    """dL/do_t of ``last_squared_error``: 2 (o_T - y) / B at t = T, zero before. (T, B, 1)"""
    os = as_float_array("os", os, ndim=3, dims="(T, B, 1)")
    ys = _check_real_targets(ys, os)
    d_os = np.zeros_like(os)
    d_os[-1, :, 0] = 2.0 * (os[-1, :, 0] - ys) / len(ys)
    return d_os
