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

The chapter trains each cell from several seeds at once (``SeedRuns``): the seeds' models are stacked
along a leading axis (``Stack``) and share one Python loop over time (``stacked_loss_and_grads``), with
the same equations; a test checks every seed against ``loss_and_grads`` of its own model.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import bptt, gates, rnn
from ._checks import as_float_array, choice, positive_float, positive_int, rng_from

CELLS = ("tanh", "irnn", "lstm", "gru")
LABELS = {"tanh": "tanh RNN", "irnn": "IRNN", "lstm": "LSTM", "gru": "GRU"}   # for figures
BASELINE_MSE = 1.0 / 6.0          # Var(v_1 + v_2) for two independent U[0, 1] values
N_INPUTS, N_OUTPUTS = 2, 1        # (value, marker) in, the sum out
_BLOCKS = {"tanh": 1, "irnn": 1, "lstm": 4, "gru": 3}     # G, the stacked blocks of U, W and b


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


# --- several seeds at once --------------------------------------------------------------------------
#
# The chapter trains every (cell, T) for several seeds. The seeds' models never interact, so they are
# stacked: every parameter gets a leading seed axis S (``Stack``), the data too (xs: (S, T, B, 2)),
# and each matrix product of a time step becomes S products in one numpy call, so that the Python
# loop over t runs once for all seeds. With numpy's per-call cost dominating at these small sizes,
# that is most of the speed-up. The equations are those of ``rnn``, ``bptt``, ``gates`` and the IRNN
# above, written for the seed axis; a test checks that the loss and every gradient of each seed equal
# what ``loss_and_grads`` gives for that seed's model alone, to rounding error.

class Stack:
    """S independent models of one ``cell``, every parameter stacked along a leading seed axis.

    The arrays have the shapes of the cell's container with S in front, for the LSTM U: (S, 4d, 2),
    W: (S, 4d, d), V: (S, 1, d), b: (S, 4d), c: (S, 1); the GRU (PyTorch's variant) adds bh: (S, d).
    ``items()`` lists them as the containers do, so ``bptt.Adam`` updates a Stack entry by entry,
    exactly as it would update each model on its own. ``model(i)`` is seed i's model as a container.
    """

    def __init__(self, cell: str, arrays: dict):
        choice("cell", cell, set(CELLS))
        want = ("U", "W", "V", "b", "c") + (("bh",) if cell == "gru" else ())
        if tuple(arrays) != want:
            raise ValueError(f"arrays: expected the parameters {want} of cell {cell!r}, got {tuple(arrays)}")
        self.cell, self.names = cell, want
        W = np.asarray(arrays["W"], dtype=float)
        S, d = (W.shape[0], W.shape[-1]) if W.ndim == 3 else (1, 1)
        Gd = _BLOCKS[cell] * d
        shapes = {"U": (S, Gd, N_INPUTS), "W": (S, Gd, d), "V": (S, N_OUTPUTS, d), "b": (S, Gd),
                  "c": (S, N_OUTPUTS), "bh": (S, d)}
        for name in want:                 # no check for finite values: a gradient may hold NaN or inf
            a = np.asarray(arrays[name], dtype=float)
            if a.shape != shapes[name]:
                raise ValueError(f"{name}: expected shape {shapes[name]} for {S} stacked {cell} models with "
                                 f"d = {d} (from W: {W.shape}), got {a.shape}")
            setattr(self, name, a)

    @classmethod
    def of(cls, cell: str, models) -> Stack:
        """Stack the containers ``models`` (one per seed, all of ``cell`` and of the same size)."""
        models = list(models)
        if not models:
            raise ValueError("models: expected at least one model, got none")
        for p in models:
            _check_model(p, cell)
        names = [name for name, _ in models[0].items()]
        shapes = {tuple(a.shape for _, a in p.items()) for p in models}
        if len(shapes) != 1:
            raise ValueError(f"models: expected models of one size, got parameter shapes {sorted(shapes)}")
        return cls(cell, {name: np.stack([getattr(p, name) for p in models]) for name in names})

    @property
    def S(self) -> int:
        """The number of stacked models (seeds)."""
        return self.U.shape[0]

    @property
    def d(self) -> int:
        """Hidden size."""
        return self.W.shape[-1]

    def items(self):
        """(symbol, (S, ...) array) pairs, in the order of the cell's container."""
        return [(name, getattr(self, name)) for name in self.names]

    def model(self, i: int):
        """Seed i's model as the cell's own container (``rnn.Params``, ``gates.LSTMParams``, ...), a copy."""
        if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= i < self.U.shape[0]:
            raise ValueError(f"i: expected a seed index in [0, {self.U.shape[0]}), got {i!r}")
        arrays = {name: a[i].copy() for name, a in self.items()}
        if self.cell == "lstm":
            return gates.LSTMParams(**arrays)
        if self.cell == "gru":
            return gates.GRUParams(**arrays, variant="torch")
        return rnn.Params(**arrays)


def init_stack(cell: str, d: int, seeds) -> Stack:
    """``init_model(cell, d, rng=numpy.random.default_rng([seed, 0]))`` for each seed, stacked.

    The stream [seed, 0] is the one ``experiment`` initialises with, so seed s of the stack starts
    where ``experiment(cell, T, d=d, seed=s)`` starts.
    """
    seeds = [positive_int("seed", s, minimum=0) for s in seeds]
    return Stack.of(cell, [init_model(cell, d, rng=np.random.default_rng([s, 0])) for s in seeds])


def stacked_data(T: int, B: int, rngs):
    """One batch of B sequences per generator in ``rngs`` (one per seed): xs: (S, T, B, 2), y: (S, B).

    Seed s's batch is ``adding_problem(T, B, rngs[s])``, the same numbers drawn in the same order.
    """
    T, B = positive_int("T", T, minimum=2), positive_int("B", B)
    rngs = [rng_from(r) for r in rngs]
    S = len(rngs)
    xs = np.zeros((S, T, B, 2))
    first, second = np.empty((S, B), int), np.empty((S, B), int)
    for s, rng in enumerate(rngs):                     # the draws of adding_problem, in its order
        xs[s, :, :, 0] = rng.random((T, B))
        first[s] = rng.integers(0, T // 2, B)
        second[s] = rng.integers(T // 2, T, B)
    seeds, cols = np.arange(S)[:, None], np.arange(B)
    xs[seeds, first, cols, 1] = xs[seeds, second, cols, 1] = 1.0
    return xs, xs[seeds, first, cols, 0] + xs[seeds, second, cols, 0]


def _t(M):
    """The transpose of each stacked matrix: (..., m, n) -> (..., n, m), a view."""
    return M.swapaxes(-1, -2)


def _check_stacked_data(st: Stack, xs, y):
    if not isinstance(st, Stack):
        raise ValueError(f"st: expected a Stack, got {type(st).__name__}")
    xs = as_float_array("xs", xs, ndim=4, dims="(S, T, B, 2)")
    if xs.shape[0] != st.S or xs.shape[-1] != N_INPUTS or 0 in xs.shape:
        raise ValueError(f"xs: expected shape (S, T, B, 2) with S = {st.S} and T, B >= 1, got {xs.shape}")
    if y is not None:
        y = as_float_array("y", y, shape=(st.S, xs.shape[2]), dims="(S, B)")
    return xs, y


# Inside the stacked passes, time comes first and states are columns, h_t^T: (S, d, B). The inputs of
# step t are gathered in one column block, [h_{t-1}; x_t; 1]: (S, d + 3, B), and the parameters that
# multiply them in one matrix per model, M = [W | U | b]: (S, G d, d + 3), so that a single product
# M [h_{t-1}; x_t; 1] = W h_{t-1} + U x_t + b gives every block's pre-activation, and in the backward
# pass a single product per step accumulates dL/dW, dL/dU and dL/db together. PyTorch's GRU needs
# W_n h_{t-1} + bh apart from U_n x_t + b_n (the reset multiplies only the first), so its M has a
# fourth block [W_n | 0 | bh] and its third is [0 | U_n | b_n].
#
# σ(z) = (1 + tanh(z / 2)) / 2, as in ``gates.sigmoid``. With the rows of the sigmoid blocks (LSTM:
# i, f, o; GRU: r, z) halved in M, one tanh and t -> t α + β give the sigmoids. Halving is exact,
# so the gates are those of ``gates.forward``.
_HALVED = {"tanh": (1.0,), "irnn": (1.0,), "lstm": (0.5, 0.5, 1.0, 0.5), "gru": (0.5, 0.5, 1.0, 1.0)}
_ALPHA = {cell: np.array(h)[:, None, None] for cell, h in _HALVED.items()}          # (G, 1, 1)
_BETA = {cell: np.where(np.array(h) == 0.5, 0.5, 0.0)[:, None, None] for cell, h in _HALVED.items()}


def _joint(st: Stack):
    """M = [W | U | b]: (S, G d, d + 3), the rows of sigmoid blocks halved; the GRU's as described above."""
    d, S = st.d, st.S
    if st.cell == "gru":
        W, U, b, zero = st.W, st.U, st.b[:, :, None], np.zeros((S, d, d))
        M = np.concatenate([
            np.concatenate([W[:, :2 * d], U[:, :2 * d], b[:, :2 * d]], axis=2),           # r, z
            np.concatenate([zero, U[:, 2 * d:], b[:, 2 * d:]], axis=2),                   # U_n x + b_n
            np.concatenate([W[:, 2 * d:], np.zeros((S, d, 2)), st.bh[:, :, None]], axis=2),  # W_n h + bh
        ], axis=1)
    else:
        M = np.concatenate([st.W, st.U, st.b[:, :, None]], axis=2)
    M *= np.repeat(_HALVED[st.cell], d)[:, None]
    return M


class _Pass(NamedTuple):
    """What the stacked forward pass keeps for the backward pass (time first, states as columns)."""

    hx: np.ndarray            # (T + 1, S, d + 3, B)  [h_{t-1}; x_t; 1] for t = 1 .. T, then h_T
    acts: np.ndarray          # (T, S, G, d, B)  tanh, IRNN: z_t; LSTM: i, f, g, o; GRU: r, z, n, W_n h + bh
    cs: np.ndarray | None     # (T, S, d, B)     LSTM: c_1 .. c_T
    tanh_c: np.ndarray | None  # (T, S, d, B)    LSTM: tanh(c_t)
    o: np.ndarray             # (S, B)           o_T


def _forward(st: Stack, xs, keep: bool = True) -> _Pass:
    """The S models over xs: (S, T, B, 2), model s reading xs[s], from zero states.

    ``keep=False`` reuses one step's arrays at every step, for large test sets: the fields then hold
    the last step only (a time axis of length 1).
    """
    S, T, B, _ = xs.shape
    cell, d = st.cell, st.d
    M = _joint(st)
    G = M.shape[1] // d
    alpha, beta = _ALPHA[cell], _BETA[cell]
    xT = xs.transpose(1, 0, 3, 2)                      # x_t as columns: (T, S, 2, B)
    hx = np.empty((T + 1 if keep else 1, S, d + 3, B))
    hx[:, :, :d] = 0.0                                  # h_0 = 0
    hx[:, :, d + 2] = 1.0
    if keep:
        hx[:T, :, d:d + 2] = xT
    acts = np.empty((T if keep else 1, S, G, d, B))
    lstm = cell == "lstm"
    cs = np.empty((T if keep else 1, S, d, B)) if lstm else None
    tanh_c = np.empty_like(cs) if lstm else None
    c = np.zeros((S, d, B))
    for t in range(T):
        now, nxt, k = (t, t + 1, t) if keep else (0, 0, 0)
        if not keep:
            hx[0, :, d:d + 2] = xT[t]
        a = acts[k]
        np.matmul(M, hx[now], out=a.reshape(S, G * d, B))       # every block's pre-activation
        h_new = hx[nxt, :, :d]
        if cell == "tanh":
            np.tanh(a[:, 0], out=h_new)
        elif cell == "irnn":
            np.maximum(a[:, 0], 0.0, out=h_new)
        elif lstm:
            np.tanh(a, out=a)
            a *= alpha
            a += beta                                   # i, f, g, o
            c = np.multiply(a[:, 1], c, out=cs[k])      # c_t = f * c_{t-1} + i * g
            c += a[:, 0] * a[:, 2]
            np.multiply(a[:, 3], np.tanh(c, out=tanh_c[k]), out=h_new)      # h_t = o * tanh(c_t)
        else:
            rz = a[:, :2]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5                                   # r, z
            n = a[:, 2]
            n += a[:, 0] * a[:, 3]                      # U_n x + b_n + r * (W_n h_{t-1} + bh)
            np.tanh(n, out=n)
            h_prev = hx[now, :, :d]                     # h_t = (1 - z) n + z h_{t-1}, as n + z (h_{t-1} - n)
            np.subtract(h_prev, n, out=h_new)
            h_new *= a[:, 1]
            h_new += n
    h_T = hx[T if keep else 0, :, :d]
    return _Pass(hx, acts, cs, tanh_c, (st.V @ h_T)[:, 0] + st.c)


def stacked_predict(st: Stack, xs):
    """The predictions o_T: (S, B) of the S models for xs: (S, T, B, 2), model s reading xs[s].

    Keeps only the current step, so that a large test set needs little memory.
    """
    xs, _ = _check_stacked_data(st, xs, None)
    return _forward(st, xs, keep=False).o


def stacked_mse(st: Stack, xs, y):
    """Mean squared error of each model on its own data: xs: (S, T, B, 2), y: (S, B) -> (S,)."""
    xs, y = _check_stacked_data(st, xs, y)
    return np.mean((stacked_predict(st, xs) - y) ** 2, axis=1)


def _local_derivatives(cell: str, fw: _Pass, d: int):
    """The factors that turn dL/dh_t (and dL/dc_t) into the gradient at each pre-activation: the parts
    of the backward recursions that depend on the forward pass alone. Returns D: (T, S, G, d, B),
    phi'(z_t) for tanh and IRNN and the D of ``gates._lstm_backward`` and ``gates._gru_backward`` for
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
    of losses[s] with respect to model s alone. The recursions are those of ``elman_backward`` (tanh,
    IRNN) and ``gates.backward`` (LSTM, GRU), with dL/do_t non-zero at t = T only.
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


def stacked_clip(grads: Stack, max_norm: float):
    """Clip each seed's gradient to global norm ``max_norm``, in place; return the norms before, (S,)."""
    max_norm = positive_float("max_norm", max_norm)
    norms = np.sqrt(sum(np.sum((g * g).reshape(grads.S, -1), axis=1) for _, g in grads.items()))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > max_norm, max_norm / norms, 1.0)
    for _, g in grads.items():
        g *= scale.reshape((-1,) + (1,) * (g.ndim - 1))
    return norms


class SeedRuns:
    """One cell trained on the adding problem with T steps, for several seeds at once.

    Seed s uses the streams of ``experiment``: weights from ``default_rng([s, 0])``, training batches
    from ``[s, 1]``, a test set of ``test_size`` sequences from ``[s, 2]``; so all cells see the same
    data for the same seed, and seed s follows ``experiment(cell, T, seed=s)`` up to rounding. ``train``
    continues where the last call stopped (the same Adam state, further fresh batches).

    A seed whose loss or gradient norm stops being finite is frozen at its last finite parameters and
    trains no further; ``stopped[i]`` is the step at which seed i stopped (0: never).
    """

    def __init__(self, cell: str, T: int, seeds, d: int = 32, batch: int = 32, lr: float = 1e-2,
                 clip: float = 1.0, test_size: int = 1000):
        self.cell, self.T = choice("cell", cell, set(CELLS)), positive_int("T", T, minimum=2)
        self.batch, self.clip = positive_int("batch", batch), positive_float("clip", clip)
        test_size = positive_int("test_size", test_size)
        self.seeds = tuple(positive_int("seed", s, minimum=0) for s in seeds)
        if not self.seeds:
            raise ValueError("seeds: expected at least one seed, got none")
        self.params = init_stack(cell, d, self.seeds)
        self.adam = bptt.Adam(self.params, lr=lr)
        self.rngs = [np.random.default_rng([s, 1]) for s in self.seeds]
        self.test = stacked_data(self.T, test_size, [np.random.default_rng([s, 2]) for s in self.seeds])
        self.losses, self.norms = [], []
        self.stopped = np.zeros(len(self.seeds), int)
        self._frozen = {}

    @property
    def steps(self) -> int:
        """Training steps taken so far."""
        return len(self.losses)

    @property
    def loss(self):
        """Training loss at every step so far: (steps, S); NaN after a seed stopped."""
        return np.array(self.losses).reshape(-1, len(self.seeds))

    @property
    def grad_norm(self):
        """Global norm of each seed's gradient before clipping, at every step so far: (steps, S)."""
        return np.array(self.norms).reshape(-1, len(self.seeds))

    def train(self, steps: int) -> SeedRuns:
        """``steps`` more steps: a fresh batch per seed, the stacked gradients, per-seed clipping, Adam."""
        steps = positive_int("steps", steps)
        for _ in range(steps):
            xs, y = stacked_data(self.T, self.batch, self.rngs)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, grads = stacked_loss_and_grads(self.params, xs, y)
                norm = stacked_clip(grads, self.clip)
            bad = ~(np.isfinite(loss) & np.isfinite(norm))
            for i in np.flatnonzero(bad & (self.stopped == 0)):
                self.stopped[i] = self.steps + 1
                self._frozen[i] = {name: a[i].copy() for name, a in self.params.items()}
            if self._frozen:                            # a stopped seed takes no step
                for _, g in grads.items():
                    g[self.stopped > 0] = 0.0
            self.adam(self.params, grads)
            for i, arrays in self._frozen.items():
                for name, a in self.params.items():
                    a[i] = arrays[name]
                loss[i] = norm[i] = np.nan
            self.losses.append(loss)
            self.norms.append(norm)
        return self

    def test_mse(self):
        """The test MSE of every seed's model on its own test set, (S,)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return stacked_mse(self.params, *self.test)

    def baseline_mse(self):
        """The MSE of always predicting 1 on each seed's test set, (S,)."""
        return np.mean((self.test[1] - 1.0) ** 2, axis=1)

    def model(self, i: int):
        """Seed i's trained model (a copy), as the cell's own container."""
        return self.params.model(i)

    def gradient_ratios(self, xs, y) -> dict:
        """||dL/dh_t|| / ||dL/dh_T|| for every seed's model on the same xs: (T', B, 2), y: (B,).

        Returns ``{"t": 1..T', "h": (S, T')}`` and, for the LSTM, ``"c": (S, T')``, the same ratio for
        the cell state (``hidden_gradient_norms`` of each model).
        """
        norms = [hidden_gradient_norms(self.model(i), self.cell, xs, y) for i in range(len(self.seeds))]
        out = {"t": norms[0]["t"]}
        for key in ("h", "c"):
            if key in norms[0]:
                out[key] = np.array([r[key] / r[key][-1] for r in norms])
        return out
