"""Chapter 8: a long-range dependency experiment, the adding problem (加法问题).

The task of Hochreiter and Schmidhuber (1997), in the form used by Le et al. (2015)::

    x_t = (v_t, m_t)     v_t ~ U[0, 1] a value, m_t in {0, 1} a marker; xs: (T, B, 2)
    exactly two markers per sequence: one in the first half (t < T // 2), one in the second half
    y = sum_t m_t v_t    the target, (B,), asked for at the last step only
    o_T = V h_T + c      a linear output layer, k = 1
    L = (1/B) sum_b (o_T - y)^2

Predicting E[y] = 1 for every sequence scores Var(y) = 1/12 + 1/12 = 1/6, the trivial baseline.

Four cells, named by ``cell``, use the book's own forward and backward passes:

    "tanh"   the plain RNN of chapters 1-2: rnn.forward, bptt.backward           rnn.Params
    "irnn"   ReLU units started at W = I, b = 0 (Le et al. 2015): ``relu_forward``, ``elman_backward``
    "lstm"   gates.forward, gates.backward (forget-gate bias 1)                  gates.LSTMParams
    "gru"    the same, PyTorch's GRU                                              gates.GRUParams

All four train with the same loop (``train``): fresh batches every step, Adam, and the gradient clipped
by its global norm. Arrays put time first: xs: (T, B, n), hs: (T, B, d).
"""
from __future__ import annotations

import math

import numpy as np

from . import bptt, gates, rnn
from ._checks import as_float_array, choice, positive_float, positive_int, rng_from

CELLS = ("tanh", "irnn", "lstm", "gru")
LABELS = {"tanh": "tanh RNN", "irnn": "IRNN", "lstm": "LSTM", "gru": "GRU"}   # for figures
BASELINE_MSE = 1.0 / 6.0          # Var(v_1 + v_2) for two independent U[0, 1] values
N_INPUTS, N_OUTPUTS = 2, 1        # (value, marker) in, the sum out


def adding_problem(T: int, B: int, rng=0):
    """B sequences of the adding problem with T steps: returns ``xs: (T, B, 2)`` and ``y: (B,)``.

    xs[..., 0] holds values drawn uniformly from [0, 1); xs[..., 1] is 1 at one position in the first
    half (t < T // 2) and at one in the second half, 0 elsewhere. y is the sum of the two marked values.
    ``rng`` is an int seed or a ``numpy.random.Generator``.
    """
    T, B, rng = positive_int("T", T, minimum=2), positive_int("B", B), rng_from(rng)
    values = rng.random((T, B))
    first = rng.integers(0, T // 2, B)
    second = rng.integers(T // 2, T, B)
    markers = np.zeros((T, B))
    cols = np.arange(B)
    markers[first, cols] = markers[second, cols] = 1.0
    xs = np.stack([values, markers], axis=-1)
    return xs, values[first, cols] + values[second, cols]


def init_model(cell: str, d: int, rng=0):
    """Parameters of ``cell`` with d hidden units, n = 2 inputs and k = 1 output.

    U, W, V are N(0, 1/fan_in) and the biases zero, as in ``rnn.init_params``; the IRNN then sets
    W = I; the LSTM's forget-gate bias is 1 (``gates.init_lstm``); the GRU is PyTorch's variant.
    """
    choice("cell", cell, set(CELLS))
    if cell == "lstm":
        return gates.init_lstm(N_INPUTS, d, N_OUTPUTS, rng=rng)
    if cell == "gru":
        return gates.init_gru(N_INPUTS, d, N_OUTPUTS, rng=rng)
    p = rnn.init_params(N_INPUTS, d, N_OUTPUTS, rng=rng)
    if cell == "irnn":
        p.W[...] = np.eye(p.d)
        p.b[...] = 0.0
    return p


def relu_forward(p: rnn.Params, xs, h0=None) -> rnn.Forward:
    """The ReLU recurrence h_t = max(0, U x_t + W h_{t-1} + b) over ``xs: (T, B, n)``.

    Returns an ``rnn.Forward`` with hs: (T, B, d), os = V h_t + c: (T, B, k) and activation "relu"
    (so ``bptt.backward``, which is for tanh only, refuses it; use ``elman_backward``).
    """
    xs, h0 = rnn.check_inputs(p, xs, h0)
    hs = xs @ p.U.T                   # U x_t for every t at once, then + b; the loop adds W h_{t-1}
    hs += p.b
    h = h0
    for t in range(len(xs)):
        hs[t] += h @ p.W.T            # z_t
        h = np.maximum(hs[t], 0.0, out=hs[t])
    return rnn.Forward(h0=h0, hs=hs, os=rnn.outputs(p.V, p.c, hs), activation="relu")


def elman_backward(p: rnn.Params, xs, fwd: rnn.Forward, d_os):
    """BPTT for h_t = phi(z_t), z_t = U x_t + W h_{t-1} + b, with phi = tanh or ReLU.

    The recursion of chapter 2 with phi'(z_t) in place of 1 - h_t^2::

        delta_t = V^T dL/do_t + W^T dz_{t+1}      dz_t = phi'(z_t) * delta_t
        phi'(z_t) = 1 - h_t^2 (tanh)   or   1[h_t > 0] (ReLU)

    xs: (T, B, n); fwd from ``rnn.forward`` (tanh) or ``relu_forward``; d_os: (T, B, k).
    Returns (grads: rnn.Params, dL/dh_0: (B, d), d_hs: (T, B, d)) where d_hs[t-1] = delta_t = dL/dh_t.
    For tanh the first two equal what ``bptt.backward`` returns.
    """
    choice("fwd.activation", fwd.activation, {"tanh", "relu"})
    xs, h0 = rnn.check_inputs(p, xs, fwd.h0)
    T, B, _ = xs.shape
    d_os = as_float_array("d_os", d_os, shape=(T, B, p.k), dims="(T, B, k)")
    hs = fwd.hs
    slope = 1.0 - hs ** 2 if fwd.activation == "tanh" else (hs > 0).astype(hs.dtype)   # phi'(z_t)
    deltas = d_os @ p.V                               # V^T dL/do_t for every t at once: (T, B, d)
    dzs = np.empty_like(hs)
    carry = np.zeros((B, p.d))
    for t in reversed(range(T)):
        deltas[t] += carry                            # delta_t, kept as d_hs
        dzs[t] = deltas[t] * slope[t]
        carry = dzs[t] @ p.W                          # W^T dz_t, the part of delta_{t-1} from h_t
    h_prev = np.concatenate([h0[None], hs[:-1]])
    rows = T * B
    dz, do = dzs.reshape(rows, -1), d_os.reshape(rows, -1)
    grads = rnn.Params(U=dz.T @ xs.reshape(rows, -1), W=dz.T @ h_prev.reshape(rows, -1), b=dz.sum(0),
                       V=do.T @ hs.reshape(rows, -1), c=do.sum(0))
    return grads, carry, deltas


def _check_model(p, cell: str) -> None:
    """``cell`` must be one of CELLS and p its parameter container, with n = 2 inputs and k = 1 output."""
    choice("cell", cell, set(CELLS))
    want = {"tanh": rnn.Params, "irnn": rnn.Params, "lstm": gates.LSTMParams, "gru": gates.GRUParams}[cell]
    if not isinstance(p, want):
        raise ValueError(f"p: expected {want.__name__} for cell {cell!r}, got {type(p).__name__}")
    if (p.n, p.k) != (N_INPUTS, N_OUTPUTS):
        raise ValueError(f"p: expected n = {N_INPUTS} inputs and k = {N_OUTPUTS} output for the adding "
                         f"problem, got n = {p.n}, k = {p.k}")


def _check_data(xs, y):
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, 2)")
    if xs.shape[-1] != N_INPUTS or xs.shape[0] == 0 or xs.shape[1] == 0:
        raise ValueError(f"xs: expected shape (T, B, 2) with T, B >= 1, got {xs.shape}")
    y = as_float_array("y", y, shape=(xs.shape[1],), dims="(B,)")
    return xs, y


def forward(p, cell: str, xs):
    """The forward pass of ``cell`` over xs: (T, B, 2) from zero states (``rnn`` or ``gates`` Forward)."""
    _check_model(p, cell)
    if cell == "tanh":
        return rnn.forward(p, xs)
    if cell == "irnn":
        return relu_forward(p, xs)
    return gates.forward(p, xs)


def predict(p, cell: str, xs):
    """The prediction o_T: (B,) of ``cell`` for xs: (T, B, 2)."""
    return forward(p, cell, xs).os[-1, :, 0]


def mse(p, cell: str, xs, y) -> float:
    """Mean squared error (1/B) sum_b (o_T - y)^2 of ``cell`` on xs: (T, B, 2), y: (B,)."""
    xs, y = _check_data(xs, y)
    return float(np.mean((predict(p, cell, xs) - y) ** 2))


def _last_step_grad(fwd, y):
    """dL/do_t for L = (1/B) sum_b (o_T - y)^2: zero except at the last step, 2 (o_T - y) / B there."""
    d_os = np.zeros_like(fwd.os)
    d_os[-1, :, 0] = 2.0 * (fwd.os[-1, :, 0] - y) / len(y)
    return d_os


def loss_and_grads(p, cell: str, xs, y):
    """The squared error at the last step and the gradient of every parameter: (loss, grads).

    xs: (T, B, 2), y: (B,). The tanh RNN uses ``bptt.backward``, the IRNN ``elman_backward``, the gated
    cells ``gates.backward``, each with the same dL/do_t (non-zero at t = T only).
    """
    xs, y = _check_data(xs, y)
    fwd = forward(p, cell, xs)
    loss = float(np.mean((fwd.os[-1, :, 0] - y) ** 2))
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss {loss} is not finite")
    d_os = _last_step_grad(fwd, y)
    if cell == "tanh":
        grads, _ = bptt.backward(p, xs, fwd, d_os)
    elif cell == "irnn":
        grads, _, _ = elman_backward(p, xs, fwd, d_os)
    else:
        grads = gates.backward(p, xs, fwd, d_os).grads
    return loss, grads


def loss_function(cell: str, xs, y):
    """The loss as a function of the parameters alone, for fixed data: returns ``L(p) -> float``."""
    xs, y = _check_data(xs, y)

    def L(p) -> float:
        return mse(p, cell, xs, y)
    return L


def gradient_check(p, cell: str, xs, y, eps: float = 1e-5) -> dict:
    """Relative error between ``loss_and_grads`` and central differences, for each parameter of p."""
    _, grads = loss_and_grads(p, cell, xs, y)
    L, q = loss_function(cell, xs, y), p.copy()
    return {name: bptt.relative_error(g, bptt.numerical_gradient(L, q, name, eps))
            for name, g in grads.items()}


def clip_grads(grads, max_norm: float) -> float:
    """Rescale every gradient in place so that the global norm is at most ``max_norm``; return the norm
    before clipping. Works for ``rnn.Params`` and the gates' containers alike (anything with ``items()``).
    """
    max_norm = positive_float("max_norm", max_norm)
    norm = bptt.global_norm(grads)
    if norm > max_norm:
        for _, g in grads.items():
            g *= max_norm / norm
    return norm


def train(p, cell: str, T: int, steps: int, batch: int = 64, lr: float = 1e-2, clip: float = 1.0,
          rng=0, log_every: int = 0, log=print) -> dict:
    """Train ``cell`` (parameters p, changed in place) on the adding problem with T steps.

    Every step draws a fresh batch of ``batch`` sequences from ``rng`` (an int seed or a Generator),
    computes the loss and gradients, clips them to global norm ``clip`` and takes one Adam step with
    learning rate ``lr`` (``bptt.Adam``). Every ``log_every`` steps (0: never) a line reports the mean
    training loss over the last ``log_every`` steps. A non-finite loss or gradient stops training with a
    FloatingPointError. Returns arrays ``loss`` (steps,) and ``grad_norm`` (steps,), before clipping.
    """
    _check_model(p, cell)
    T, steps = positive_int("T", T, minimum=2), positive_int("steps", steps)
    batch, clip = positive_int("batch", batch), positive_float("clip", clip)
    log_every = positive_int("log_every", log_every, minimum=0)
    update, rng = bptt.Adam(p, lr=lr), rng_from(rng)
    losses, norms = np.empty(steps), np.empty(steps)
    for i in range(steps):
        xs, y = adding_problem(T, batch, rng)
        try:
            with np.errstate(over="ignore", invalid="ignore"):      # reported in words below instead
                loss, grads = loss_and_grads(p, cell, xs, y)
                norm = clip_grads(grads, clip)
            if not math.isfinite(norm):
                raise FloatingPointError(f"the gradient norm {norm} is not finite")
        except (FloatingPointError, ValueError) as e:   # a container refuses a NaN/inf gradient: ValueError
            if isinstance(e, ValueError) and "finite values" not in str(e):
                raise
            raise FloatingPointError(f"train ({cell}, T = {T}) at step {i + 1}: {e}; lower the learning "
                                     f"rate (lr = {lr}) or the clipping threshold (clip = {clip})") from None
        update(p, grads)
        losses[i], norms[i] = loss, norm
        if log_every and ((i + 1) % log_every == 0 or i + 1 == steps):
            recent = losses[max(0, i + 1 - log_every): i + 1].mean()
            log(f"{cell:>4}, T = {T:>3}: step {i + 1:>4}/{steps}  training MSE {recent:.4f}")
    return {"loss": losses, "grad_norm": norms}


def hidden_gradient_norms(p, cell: str, xs, y) -> dict:
    """||dL/dh_t|| for t = 1..T (Frobenius norm over batch and units) for the last-step loss.

    Returns ``{"t": 1..T, "h": (T,)}`` and, for the LSTM, ``"c": (T,)``, the norms of dL/dc_t. For the
    LSTM, dL/dh_t holds c_t fixed, as in ``gates.Backward``.
    """
    xs, y = _check_data(xs, y)
    fwd = forward(p, cell, xs)
    d_os = _last_step_grad(fwd, y)
    if cell in ("lstm", "gru"):
        return gates.gradient_norms(p, xs, d_os=d_os)
    d_hs = elman_backward(p, xs, fwd, d_os)[2]
    return {"t": np.arange(1, len(xs) + 1), "h": np.linalg.norm(d_hs.reshape(len(xs), -1), axis=1)}


def experiment(cell: str, T: int, d: int = 32, steps: int = 300, batch: int = 64, lr: float = 1e-2,
               clip: float = 1.0, seed: int = 0, test_size: int = 1000, log_every: int = 0,
               log=print) -> dict:
    """Initialise ``cell`` with seed ``seed``, train it (``train``), and test it on fresh sequences.

    The initial weights, the training batches and the test set of ``test_size`` sequences come from
    three independent streams, ``numpy.random.default_rng([seed, i])`` for i = 0, 1, 2, so every cell
    trained with the same seed sees the same data. Returns ``params``, ``history`` (from ``train``),
    ``test_mse`` and ``baseline_mse``, the MSE of always predicting 1 on the same test set.
    """
    seed, test_size = positive_int("seed", seed, minimum=0), positive_int("test_size", test_size)
    init_rng, train_rng, test_rng = (np.random.default_rng([seed, i]) for i in range(3))
    p = init_model(cell, d, rng=init_rng)
    history = train(p, cell, T, steps, batch, lr, clip, rng=train_rng, log_every=log_every, log=log)
    xs, y = adding_problem(T, test_size, rng=test_rng)
    return {"cell": cell, "T": T, "params": p, "history": history, "test_mse": mse(p, cell, xs, y),
            "baseline_mse": float(np.mean((y - 1.0) ** 2))}
