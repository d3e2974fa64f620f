"""Chapter 8, continued: the gradient and the recurrent Jacobian measured along training, over seeds.

Chapter 3 measured the step Jacobians at initialisation; here they are measured at checkpoints while
``long_range.SeedRuns`` trains, on one fixed probe batch of the adding problem (xs: (T, B, 2), y: (B,)).
The step Jacobian of each cell, at every step t and every sequence b of the probe::

    tanh RNN, IRNN   J_t = dh_t/dh_{t-1} = diag(phi'(z_t)) W                           (d, d)
                     phi'(z_t) = 1 - h_t^2 (tanh), 1[h_t > 0] (ReLU)
    LSTM             J_t = d(h_t, c_t)/d(h_{t-1}, c_{t-1}), every path          (2d, 2d)
                     blocks [[dh/dh, dh/dc], [dc/dh, dc/dc]] (``jacobians.lstm_step``);
                     its direct path dc_t/dc_{t-1} = diag(f_t) has largest singular value max_j f_tj

What a checkpoint records for every seed (``Checkpoints``): the gradient ratio
||dL/dh_1|| / ||dL/dh_T|| (``long_range.hidden_gradient_norms``; for the LSTM also the ratio at c),
the geometric mean over t and b of sigma_max(J_t), and either sigma_max(W) and rho(W) of the
recurrent weights and the bound on the ratio (RNN), or the mean over t and b of max_j f_tj (LSTM).
With the loss at step T only, dL/dh_1 = J_2^T ... J_T^T dL/dh_T for each sequence, so (with the
Frobenius norms over the batch that ``bptt.gradient_norms`` takes)::

    ratio <= bound = max_b prod_{t=2}^{T} sigma_max(J_t^(b))

Recording does not change the training: the run is trained in chunks of ``every`` steps, which
``SeedRuns.train`` continues exactly.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import bptt, jacobians, lstm, rnn
from ._checks import as_float_array, instance_of, positive_int
from .long_range import SeedRuns, hidden_gradient_norms

TRACKED = ("tanh", "irnn", "lstm")      # the cells whose step Jacobian this module assembles


def rnn_step_jacobians(p: rnn.Params, xs, h0=None) -> np.ndarray:
    """J_t = dh_t/dh_{t-1} = diag(phi'(z_t)) W of a tanh or ReLU RNN over ``xs: (T, B, n)``: (T, B, d, d).

    ``h0: (B, d)`` is the initial state (zeros if omitted); phi' is read off h_t as in ``bptt``.
    """
    instance_of("p", p, rnn.Params, "rnn.Params")
    if p.activation not in ("tanh", "relu"):
        raise ValueError(f"p: expected activation 'tanh' or 'relu', got {p.activation!r}")
    hs = bptt.forward(p, xs, h0).hs
    slope = 1.0 - hs * hs if p.activation == "tanh" else (hs > 0).astype(hs.dtype)
    return slope[..., None] * p.W                    # row i of W scaled by phi'(z_t)_i


def lstm_step_jacobians(p: lstm.LSTMParams, xs, h0=None, c0=None) -> np.ndarray:
    """J_t = d(h_t, c_t)/d(h_{t-1}, c_{t-1}) of the LSTM over ``xs: (T, B, n)``: (T, B, 2d, 2d).

    The state (h, c) is ordered h first; ``h0``, ``c0``: (B, d), zeros if omitted. Each step's
    Jacobian is ``jacobians.lstm_step`` at that step's input and previous state.
    """
    instance_of("p", p, lstm.LSTMParams, "lstm.LSTMParams")
    return jacobians.along_run(p, xs, h0, c0).full


def largest_singular_values(J) -> np.ndarray:
    """sigma_max of every matrix of ``J: (..., m, m)``: an array of shape (...)."""
    J = as_float_array("J", J, dims="(..., m, m)")
    if J.ndim < 2 or J.shape[-1] != J.shape[-2]:
        raise ValueError(f"J: expected square matrices (..., m, m), got shape {J.shape}")
    return np.linalg.svd(J, compute_uv=False)[..., 0]


class Measurement(NamedTuple):
    """One model measured on a probe batch (see the module docstring); NaN where a cell has no value."""

    ratio: float        # ||dL/dh_1|| / ||dL/dh_T||
    ratio_c: float      # ||dL/dc_1|| / ||dL/dc_T|| (LSTM), else NaN
    sigma_J: float      # geometric mean over t and b of sigma_max(J_t)
    bound: float        # max_b prod_{t=2}^T sigma_max(J_t^(b)), an upper bound on ratio (RNN), else NaN
    sigma_W: float      # sigma_max(W) (RNN), else NaN
    rho_W: float        # spectral radius of W (RNN), else NaN
    forget: float       # mean over t and b of max_j f_tj, sigma_max of dc_t/dc_{t-1} (LSTM), else NaN


def measure(p, xs, y) -> Measurement:
    """The ``Measurement`` of one model p (tanh RNN, IRNN or LSTM) on xs: (T, B, 2), y: (B,)."""
    norms = hidden_gradient_norms(p, xs, y)
    ratio = float(norms.h[0] / norms.h[-1])
    if isinstance(p, lstm.LSTMParams):
        f = bptt.forward(p, xs).gates[..., p.d:2 * p.d]              # blocks i, f, g, o
        log_sigma = np.log(largest_singular_values(lstm_step_jacobians(p, xs)))
        return Measurement(ratio, float(norms.c[0] / norms.c[-1]), float(np.exp(log_sigma.mean())),
                           np.nan, np.nan, np.nan, float(f.max(axis=-1).mean()))
    if not isinstance(p, rnn.Params) or p.activation not in ("tanh", "relu"):
        raise TypeError(f"p: expected a tanh or ReLU rnn.Params or an lstm.LSTMParams, got "
                        f"{type(p).__name__}")
    with np.errstate(divide="ignore"):               # a ReLU step with every unit off has sigma 0
        log_sigma = np.log(largest_singular_values(rnn_step_jacobians(p, xs)))    # (T, B)
    bound = np.exp(log_sigma[1:].sum(axis=0).max())
    W_sigma = np.linalg.svd(p.W, compute_uv=False)[0]
    return Measurement(ratio, np.nan, float(np.exp(log_sigma.mean())), float(bound), float(W_sigma),
                       float(np.abs(np.linalg.eigvals(p.W)).max()), np.nan)


class Checkpoints(NamedTuple):
    """Every seed measured at every checkpoint: ``step`` (C,), each field of ``Measurement`` (C, S)."""

    step: np.ndarray
    ratio: np.ndarray
    ratio_c: np.ndarray
    sigma_J: np.ndarray
    bound: np.ndarray
    sigma_W: np.ndarray
    rho_W: np.ndarray
    forget: np.ndarray


def track(runs: SeedRuns, steps: int, every: int, xs, y) -> Checkpoints:
    """Train ``runs`` for ``steps`` more steps, measuring every seed now and after each ``every`` steps.

    The probe batch xs: (T', B, 2), y: (B,) is the same at every checkpoint (T' may differ from the
    runs' T). ``steps`` must be a multiple of ``every``; the result has steps // every + 1 checkpoints,
    ``step`` counting from the start of the runs' training.
    """
    instance_of("runs", runs, SeedRuns, "long_range.SeedRuns")
    if runs.cell not in TRACKED:
        raise ValueError(f"runs: expected a run of one of the cells {TRACKED}, got cell {runs.cell!r}")
    steps, every = positive_int("steps", steps), positive_int("every", every)
    if steps % every:
        raise ValueError(f"steps: expected a multiple of every = {every}, got {steps}")
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, 2)")
    y = as_float_array("y", y, shape=(xs.shape[1],), dims="(B,)")
    at, rows = [], []
    for chunk in range(steps // every + 1):
        if chunk:
            runs.train(every)
        at.append(runs.steps)
        rows.append([measure(runs.model(i), xs, y) for i in range(len(runs.seeds))])
    values = np.array(rows)                                          # (C, S, fields)
    return Checkpoints(np.array(at), *np.moveaxis(values, -1, 0))
