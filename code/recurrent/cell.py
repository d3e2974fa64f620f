"""What every cell of the book shares: the parameter containers' base, the input check, and the
results of the forward and backward passes.

``rnn.Params``, ``lstm.LSTMParams`` and ``gru.GRUParams`` are ``ParamSet``s; every forward pass returns
a ``Forward`` and every backward pass a ``Backward``, whichever the cell (``bptt`` runs them all).
Arrays put time first and the batch second: ``xs: (T, B, n)``, ``hs: (T, B, d)``, ``os: (T, B, k)``.
"""
from __future__ import annotations

from dataclasses import fields, replace
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, finite_float

# PyTorch's names of the parameters of torch.nn.RNN, LSTM or GRU (one layer) followed by torch.nn.Linear
TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "linear.weight", "linear.bias")


class ParamSet:
    """What every parameter container shares (rnn.Params, lstm.LSTMParams, gru.GRUParams): the sizes
    n, d, k read off U, W, V, and ``items``, ``copy``, ``astype``, ``squared_norm``, ``scaled``."""

    @property
    def n(self) -> int:
        """Input size."""
        return self.U.shape[1]

    @property
    def d(self) -> int:
        """Hidden size."""
        return self.W.shape[1]

    @property
    def k(self) -> int:
        """Output size."""
        return self.V.shape[0]

    def items(self):
        """(symbol, array) pairs of the parameters, in field order (absent optional ones skipped)."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)]

    @classmethod
    def _computed(cls, **values):
        """A container of arrays the package computed itself (gradients, copies, scaled copies), whose
        shapes are right by construction: made without the checks of __post_init__, which cost more
        than a small forward pass. Finiteness is the caller's to check (``check_finite_gradient``)."""
        obj = object.__new__(cls)
        for f in fields(cls):
            if f.name not in values:
                values[f.name] = f.default
        obj.__dict__.update(values)
        return obj

    def _with(self, arrays: dict):
        """A container like self (same activation or variant) holding ``arrays`` instead."""
        return self._computed(**{f.name: getattr(self, f.name) for f in fields(self)} | arrays)

    def copy(self):
        return self._with({name: a.copy() for name, a in self.items()})

    def astype(self, dtype):
        """A copy with every array converted to the floating-point ``dtype``."""
        dtype = _float_dtype(dtype)
        return replace(self, **{name: a.astype(dtype) for name, a in self.items()})

    def squared_norm(self) -> float:
        """The sum of squares of every entry, ||theta||^2 over all the parameters."""
        return sum(float(np.vdot(a, a)) for _, a in self.items())

    def scaled(self, factor: float):
        """A copy with every array multiplied by the finite number ``factor``."""
        factor = finite_float("factor", factor)
        return self._with({name: a * factor for name, a in self.items()})


def _float_dtype(dtype) -> np.dtype:
    """``dtype`` as a numpy floating dtype; an integer, complex or other dtype is refused."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: expected a floating-point dtype, got {dtype!r}") from None
    if not np.issubdtype(dt, np.floating):
        raise ValueError(f"dtype: expected a floating-point dtype (float32, float64), got {dt}")
    return dt


def _check_finite_gradient(a) -> None:
    """Raise FloatingPointError if the backward pass overflowed: ``a`` holds NaN or inf entries."""
    if not np.isfinite(a.sum()):
        raise FloatingPointError("the gradient became non-finite (the backward pass overflowed); "
                                 "lower the learning rate or clip the gradient")


def _check_inputs(p: ParamSet, xs, h0=None, names: tuple = ("xs", "h0")):
    """Validate ``xs: (T, B, n)`` and ``h0: (B, d)`` against ``p``; return them as arrays.

    A missing ``h0`` becomes zeros. ``names`` are the two arguments' names in the caller's signature.
    """
    x_name, h_name = names
    xs = as_float_array(x_name, xs, ndim=3, dims="(T, B, n)")
    T, B, n = xs.shape
    if T == 0 or B == 0:
        raise ValueError(f"{x_name}: expected at least one time step and one example, got shape {xs.shape}")
    if n != p.n:
        raise ValueError(f"{x_name}: expected last axis n={p.n} (the columns of U), got shape {xs.shape}")
    if h0 is None:
        return xs, np.zeros((B, p.d), dtype=xs.dtype)
    return xs, as_float_array(h_name, h0, shape=(B, p.d), dims="(B, d)")


class Forward(NamedTuple):
    """What the forward pass of any cell computes and its backward pass needs."""

    kind: str                       # p.kind: "rnn/tanh", "rnn/relu", "lstm", "gru/<variant>"
    h0: np.ndarray                  # (B, d)
    hs: np.ndarray                  # (T, B, d)  h_1 .. h_T
    os: np.ndarray                  # (T, B, k)  o_1 .. o_T (logits, before the softmax)
    c0: np.ndarray | None = None    # (B, d)     LSTM only: the initial cell state
    cs: np.ndarray | None = None    # (T, B, d)  LSTM only: c_1 .. c_T
    gates: np.ndarray | None = None  # (T, B, G d) gated cells: gate values, blocks in the order p.blocks


class Backward(NamedTuple):
    """Gradients of the loss: every parameter, the initial state, and the state at every step.

    ``d_hs[t-1]`` is dL/dh_t (for the LSTM with c_t held fixed); ``d_cs[t-1]`` is dL/dc_t through every
    path: each is what backpropagation carries at that node.
    """

    grads: ParamSet                  # the container of p's type, one gradient per symbol
    d_h0: np.ndarray                 # (B, d)
    d_hs: np.ndarray                 # (T, B, d)  dL/dh_1 .. dL/dh_T
    d_c0: np.ndarray | None = None   # (B, d)     LSTM only
    d_cs: np.ndarray | None = None   # (T, B, d)  LSTM only
