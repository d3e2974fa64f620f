"""Chapter 8: a long-range dependency experiment, the adding problem (加法问题).

The task of Hochreiter and Schmidhuber (1997), in the form used by Le et al. (2015)::

    x_t = (v_t, m_t)     v_t ~ U[0, 1] a value, m_t in {0, 1} a marker; xs: (T, B, 2)
    exactly two markers per sequence: one in the first half (t < T // 2), one in the second half
    y = sum_t m_t v_t    the target, (B,), asked for at the last step only
    o_T = V h_T + c      a linear output layer, k = 1
    L = (1/B) sum_b (o_T - y)^2                    bptt's loss "last_squared_error"

Predicting E[y] = 1 for every sequence scores Var(y) = 1/12 + 1/12 = 1/6, the trivial baseline.

Four cells, named by ``cell`` only where they are made (``init_model``); after that the container
says which cell it is, and the calls of ``bptt`` and ``training`` serve all four:

    "tanh"   the plain RNN of chapters 1-2                      rnn.Params (activation "tanh")
    "irnn"   ReLU units started at W = I, b = 0 (Le et al. 2015)  rnn.Params (activation "relu")
    "lstm"   the LSTM of chapter 6, forget-gate bias 1           lstm.LSTMParams
    "gru"    the GRU of chapter 7, PyTorch's variant             gru.GRUParams

All four train with the same loop (``train``): fresh batches every step, Adam, and the gradient clipped
by its global norm. The chapter trains each cell from several seeds at once (``SeedRuns``), with the
stacked passes of ``stacked``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import bptt, gru, lstm, rnn, training
from ._checks import as_callable, as_float_array, one_of, positive_float, positive_int, rng_from
from .bptt import GradientNorms
from .losses import last_squared_error_grad
from .stacked import CELLS, N_INPUTS, N_OUTPUTS, Stack, _check_model, stacked_mse
from .stacked_grads import stacked_loss_and_grads

LABELS = {"tanh": "tanh RNN", "irnn": "IRNN", "lstm": "LSTM", "gru": "GRU"}   # for figures
BASELINE_MSE = 1.0 / 6.0          # Var(v_1 + v_2) for two independent U[0, 1] values
LOSS = "last_squared_error"


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


def stacked_data(T: int, B: int, rngs):
    """One batch of B sequences per generator in ``rngs`` (one per seed): xs: (S, T, B, 2), y: (S, B).

    Seed s's batch is ``adding_problem(T, B, rngs[s])``, the same numbers drawn in the same order.
    """
    T, B = positive_int("T", T, minimum=2), positive_int("B", B)
    rngs = [rng_from(r, "rngs") for r in _sequence("rngs", rngs)]
    if not rngs:
        raise ValueError("rngs: expected one generator or seed per model, got none")
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


def _sequence(name: str, values) -> list:
    """``values`` (a list, tuple or array) as a list; a single number, a string or None is refused."""
    if values is None or isinstance(values, str | bytes | dict) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name}: expected a sequence, got {type(values).__name__}")
    return list(values)


def init_model(cell: str, d: int, rng=0):
    """Parameters of ``cell`` with d hidden units, n = 2 inputs and k = 1 output.

    U, W, V are N(0, 1/fan_in) and the biases zero, as in ``rnn.init_params``; the IRNN has W = I
    (``rnn.init_irnn``); the LSTM's forget-gate bias is 1 (``lstm.init_lstm``); the GRU is PyTorch's.
    """
    one_of("cell", cell, CELLS)
    if cell == "lstm":
        return lstm.init_lstm(N_INPUTS, d, N_OUTPUTS, rng=rng)
    if cell == "gru":
        return gru.init_gru(N_INPUTS, d, N_OUTPUTS, rng=rng)
    if cell == "irnn":
        return rnn.init_irnn(N_INPUTS, d, N_OUTPUTS, rng=rng)
    return rnn.init_params(N_INPUTS, d, N_OUTPUTS, rng=rng)


def train(p, T: int, steps: int, batch: int = 64, lr: float = 1e-2, clip: float = 1.0, rng=0,
          log_every: int = 0, log=print) -> training.History:
    """Train p (any of the four cells, changed in place) on the adding problem with T steps.

    Every step draws a fresh batch of ``batch`` sequences from ``rng`` (an int seed or a Generator),
    computes the loss and gradients (``bptt.loss_and_grads`` with loss "last_squared_error"), clips
    them to global norm ``clip`` (``training.clip_by_norm``) and takes one Adam step with learning rate
    ``lr``. Every ``log_every`` steps (0: never) a line reports the mean training loss over the last
    ``log_every`` steps. A non-finite loss or gradient stops training with a FloatingPointError.
    Returns a ``training.History`` (no held-out losses: val_step and val_loss are empty).
    """
    cell = _check_model(p)
    T, steps = positive_int("T", T, minimum=2), positive_int("steps", steps)
    batch, clip = positive_int("batch", batch), positive_float("clip", clip)
    log_every = positive_int("log_every", log_every, minimum=0)
    log = as_callable("log", log, "a function of one string, such as print")
    update, rng = training.Adam(p, lr=lr), rng_from(rng)
    losses, norms = np.empty(steps), np.empty(steps)
    for i in range(steps):
        xs, y = adding_problem(T, batch, rng)
        try:
            with np.errstate(over="ignore", invalid="ignore"):      # reported in words below instead
                loss, grads, _ = bptt.loss_and_grads(p, xs, y, loss=LOSS)
                grads, norm = training.clip_by_norm(grads, clip)
        except FloatingPointError as e:
            raise FloatingPointError(f"train ({cell}, T = {T}) at step {i + 1}: {e}; lower the learning "
                                     f"rate (lr = {lr}) or the clipping threshold (clip = {clip})") from None
        update(p, grads)
        losses[i], norms[i] = loss, norm
        if log_every and ((i + 1) % log_every == 0 or i + 1 == steps):
            recent = losses[max(0, i + 1 - log_every): i + 1].mean()
            log(f"{cell:>4}, T = {T:>3}: step {i + 1:>4}/{steps}  training MSE {recent:.4f}")
    return training.History(losses, norms, np.array([], int), np.array([]))


def hidden_gradient_norms(p, xs, y) -> GradientNorms:
    """||dL/dh_t|| (and, LSTM, ||dL/dc_t||) for t = 1..T of the last-step squared error on xs, y."""
    _check_model(p)
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, 2)")
    y = as_float_array("y", y, shape=(xs.shape[1],), dims="(B,)")
    fwd = bptt.forward(p, xs)
    return bptt.gradient_norms(p, xs, last_squared_error_grad(fwd.os, y))


class Experiment(NamedTuple):
    """One cell trained on the adding problem and tested on fresh sequences (see ``experiment``)."""

    cell: str                    # "tanh", "irnn", "lstm" or "gru"
    T: int                       # the sequence length
    params: object               # the trained container
    history: training.History    # loss and gradient norm of every step
    test_mse: float              # (1/N) sum (o_T - y)^2 on the test set
    baseline_mse: float          # the same for always predicting 1


def experiment(cell: str, T: int, d: int = 32, steps: int = 300, batch: int = 64, lr: float = 1e-2,
               clip: float = 1.0, seed: int = 0, test_size: int = 1000, log_every: int = 0,
               log=print) -> Experiment:
    """Initialise ``cell`` with seed ``seed``, train it (``train``), and test it on fresh sequences.

    The initial weights, the training batches and the test set of ``test_size`` sequences come from
    three independent streams, ``numpy.random.default_rng([seed, i])`` for i = 0, 1, 2, so every cell
    trained with the same seed sees the same data.
    """
    seed, test_size = positive_int("seed", seed, minimum=0), positive_int("test_size", test_size)
    init_rng, train_rng, test_rng = (np.random.default_rng([seed, i]) for i in range(3))
    p = init_model(cell, d, rng=init_rng)
    history = train(p, T, steps, batch, lr, clip, rng=train_rng, log_every=log_every, log=log)
    xs, y = adding_problem(T, test_size, rng=test_rng)
    test_mse = bptt.loss_function(xs, y, loss=LOSS)(p)
    return Experiment(cell, T, p, history, test_mse, float(np.mean((y - 1.0) ** 2)))


def init_stack(cell: str, d: int, seeds) -> Stack:
    """``init_model(cell, d, rng=numpy.random.default_rng([seed, 0]))`` for each seed, stacked.

    The stream [seed, 0] is the one ``experiment`` initialises with, so seed s of the stack starts
    where ``experiment(cell, T, d=d, seed=s)`` starts.
    """
    seeds = [positive_int("seeds", s, minimum=0) for s in _sequence("seeds", seeds)]
    if not seeds:
        raise ValueError("seeds: expected at least one seed, got none")
    return Stack.of([init_model(cell, d, rng=np.random.default_rng([s, 0])) for s in seeds])


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
        self.cell, self.T = one_of("cell", cell, CELLS), positive_int("T", T, minimum=2)
        self.batch, self.clip = positive_int("batch", batch), positive_float("clip", clip)
        test_size = positive_int("test_size", test_size)
        self.seeds = tuple(positive_int("seeds", s, minimum=0) for s in _sequence("seeds", seeds))
        if not self.seeds:
            raise ValueError("seeds: expected at least one seed, got none")
        self.params = init_stack(cell, d, self.seeds)
        self.adam = training.Adam(self.params, lr=lr)
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
                grads, norm = training.clip_by_norm(grads, self.clip)
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

    def gradient_ratios(self, xs, y) -> GradientNorms:
        """||dL/dh_t|| / ||dL/dh_T|| for every seed's model on the same xs: (T', B, 2), y: (B,).

        Returns ``GradientNorms(t: 1..T', h: (S, T'), c: (S, T') for the LSTM, else None)``, the ratios
        of ``hidden_gradient_norms`` of each model.
        """
        norms = [hidden_gradient_norms(self.model(i), xs, y) for i in range(len(self.seeds))]
        c = None if norms[0].c is None else np.array([r.c / r.c[-1] for r in norms])
        return GradientNorms(norms[0].t, np.array([r.h / r.h[-1] for r in norms]), c)
