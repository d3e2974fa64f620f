"""Chapter 5: remedies for vanishing gradients, measured over seeds.

- Input reversal (Sutskever et al. 2014): the time lags between a source token and its target, and the
  copy task learned in order and reversed.
- Initialisations (Le et al. 2015; Saxe et al. 2014): identity with ReLU (the IRNN), orthogonal, Gaussian.
- The forget gate's bias (Gers et al. 2000; Jozefowicz et al. 2015): how much gradient crosses T steps.

The chapter runs each experiment for every seed in ``claims.SEEDS``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import bptt, losses, lstm, rnn
from ._checks import (
    as_bool,
    as_float_array,
    as_int_array,
    finite_float,
    instance_of,
    positive_float,
    positive_int,
    rng_from,
)
from .spectral import gradient_norms, matrix
from .tasks import copy_task
from .training import Adam, train_truncated


@dataclass(frozen=True, eq=False)
class ReluGradientNorms:
    """||dL/dh_k|| of a ReLU RNN for k = 0..T: ``k``, ``norm`` (T + 1,) with norm[T] = 1; ``active`` (T,)
    the fraction of units with a positive pre-activation at steps 1..T; ``alive`` (T + 1,) the fraction
    active at every step k + 1..T (alive[T] = 1): with W = I only they carry gradient from h_T to h_k."""

    k: np.ndarray
    norm: np.ndarray
    active: np.ndarray
    alive: np.ndarray


@dataclass(frozen=True, eq=False)
class InitialisationNorms:
    """``norm``: family label (``INIT_FAMILIES``) -> ||dL/dh_k||, (T + 1,); for the IRNN ``active``: the
    mean fraction of units active at a step, and ``alive``: the fraction active at all T steps."""

    norm: dict
    active: float
    alive: float


def reversal_lags(S: int, reverse: bool) -> np.ndarray:
    """Steps between reading source token i and emitting its target, for i = 1..S.

    The source is read at steps 1..S (reversed: token i at step S + 1 - i) and target i is emitted at
    step S + i, so the lags are all S without reversal and 1, 3, ..., 2S - 1 with it.
    """
    S, reverse = positive_int("S", S), as_bool("reverse", reverse)
    i = np.arange(1, S + 1)
    read = S + 1 - i if reverse else i
    return S + i - read


def relu_gradient_norms(W, T: int, input_scale: float = 1.0, rng=0) -> ReluGradientNorms:
    """||dL/dh_k|| for a ReLU RNN h_t = relu(W h_{t-1} + u_t) from h_0 = 0, a unit gradient at h_T.

    Also returns ``active``: the fraction of units with a positive pre-activation at each step
    (an inactive unit passes no gradient, whatever W is). u_t ~ N(0, input_scale^2) per unit.
    """
    W = as_float_array("W", W, ndim=2, dims="(d, d)")
    if W.shape[0] != W.shape[1] or W.size == 0:
        raise ValueError(f"W: expected a square matrix (d, d) with d >= 1, got shape {W.shape}")
    T, d = positive_int("T", T), len(W)
    rng = rng_from(rng)
    u = rng.normal(0.0, positive_float("input_scale", input_scale, allow_zero=True), (T, d))
    g = rng.normal(size=d)
    g /= np.linalg.norm(g)
    hs, active = np.zeros((T + 1, d)), np.zeros((T + 1, d), dtype=bool)
    for t in range(1, T + 1):
        z = W @ hs[t - 1] + u[t - 1]
        active[t] = z > 0
        hs[t] = np.maximum(z, 0.0)
    norms = np.empty(T + 1)
    norms[T] = 1.0
    for t in range(T, 0, -1):
        g = W.T @ (g * active[t])
        norms[t - 1] = np.linalg.norm(g)
    # alive[k]: fraction of units active at every step k+1..T (for W = I only they carry gradient)
    alive = np.concatenate([np.cumprod(active[:0:-1], axis=0)[::-1].mean(axis=1), [1.0]])
    return ReluGradientNorms(k=np.arange(T + 1), norm=norms, active=active[1:].mean(axis=1), alive=alive)


def copy_accuracy(p, inputs, targets, S: int):
    """Accuracy of the RNN p at each output position i = 1..S of ``tasks.copy_task`` episodes."""
    p, S = instance_of("p", p, rnn.Params, "an rnn.Params"), positive_int("S", S)
    inputs = as_int_array("inputs", inputs, 2, 0, p.n, dims="(L, B) token ids in [0, n)")
    targets = as_int_array("targets", targets, 2, 0, p.k, dims="(L, B) token ids in [0, k)")
    if targets.shape != inputs.shape:
        raise ValueError(f"targets: expected the shape of inputs {inputs.shape}, got {targets.shape}")
    L, B = inputs.shape
    if L % (2 * S):
        raise ValueError(f"inputs: expected a length that is a multiple of 2S = {2 * S}, got {L}")
    episodes = np.asarray(inputs).reshape(L // (2 * S), 2 * S, B).transpose(1, 0, 2).reshape(2 * S, -1)
    wanted = np.asarray(targets).reshape(L // (2 * S), 2 * S, B).transpose(1, 0, 2).reshape(2 * S, -1)
    predicted = rnn.forward(p, np.eye(p.n)[episodes]).os.argmax(axis=-1)      # each episode from h = 0
    return (predicted[S:] == wanted[S:]).mean(axis=1)


def reversal_accuracy(S: int, reverse: bool, seed: int, d: int = 48, steps: int = 300, k: int = 4,
                      B: int = 32, lr: float = 1e-2, clip: float = 5.0) -> np.ndarray:
    """Train a tanh RNN on ``tasks.copy_task`` and return its test accuracy at each output position, (S,).

    Training: ``steps`` Adam steps (learning rate ``lr``, gradients clipped to norm ``clip``) of full
    BPTT over one episode of T = 2S steps from h = 0, on 300 episodes of B streams drawn with ``seed``;
    the network is initialised with ``seed`` too. Test: 30 new episodes of 32 streams (seed + 1000).
    The same seed gives the same source tokens in order and reversed.
    """
    S, steps, reverse = positive_int("S", S), positive_int("steps", steps), as_bool("reverse", reverse)
    seed, clip = positive_int("seed", seed, minimum=0), positive_float("clip", clip)
    x, y, m = copy_task(S, 300, B, k, reverse, rng=seed)
    x_test, y_test, _ = copy_task(S, 30, 32, k, reverse, rng=seed + 1000)
    p = rnn.init_params(k + 1, d, k + 1, rng=seed)
    train_truncated(p, x, y, T=2 * S, steps=steps, mask=m, update=Adam(p, lr=lr), clip=clip, carry=False)
    return copy_accuracy(p, x_test, y_test, S)


def reversal_experiment(seed: int, lengths=(12, 20), **train) -> dict:
    """``reversal_accuracy`` in order and reversed for each source length S, all with ``seed``.

    Returns label (``"S = 12, in order"``, ``"S = 12, reversed"``, ...) -> accuracy at the output
    positions 1..max(lengths), shape (max(lengths),), NaN beyond S. ``train`` goes to
    ``reversal_accuracy`` (d, steps, lr, ...).
    """
    if isinstance(lengths, str | bytes) or not isinstance(lengths, list | tuple) or not lengths:
        raise TypeError(f"lengths: expected a non-empty tuple of source lengths, got {lengths!r}")
    longest = max(positive_int(f"lengths[{i}]", S) for i, S in enumerate(lengths))
    out = {}
    for S in lengths:
        for reverse in (False, True):
            acc = reversal_accuracy(S, reverse, seed, **train)
            out[f"S = {S}, {'reversed' if reverse else 'in order'}"] = np.concatenate(
                [acc, np.full(longest - S, np.nan)])
    return out


INIT_FAMILIES = ("IRNN (ReLU, W = I)", "tanh, orthogonal W (ρ = 1)", "tanh, Gaussian W (ρ = 1)",
                 "ReLU, Gaussian W (ρ = 1)")


def initialisation_norms(seed: int, d: int = 64, T: int = 200,
                         input_scale: float = 1.0) -> InitialisationNorms:
    """||dL/dh_k||, k = 0..T, for a unit gradient at h_T in each of the four ``INIT_FAMILIES``.

    The random matrices (orthogonal, Gaussian, both scaled to spectral radius 1) and the inputs
    u_t ~ N(0, input_scale^2) are drawn with ``seed``.
    """
    d, seed = positive_int("d", d), positive_int("seed", seed, minimum=0)
    irnn = relu_gradient_norms(np.eye(d), T, input_scale, rng=seed)
    norms = [irnn.norm,
             gradient_norms(matrix("orthogonal", d, 1.0, rng=seed), T, "tanh", input_scale, rng=seed).norm,
             gradient_norms(matrix("gaussian", d, 1.0, rng=seed), T, "tanh", input_scale, rng=seed).norm,
             relu_gradient_norms(matrix("gaussian", d, 1.0, rng=seed), T, input_scale, rng=seed).norm]
    return InitialisationNorms(norm=dict(zip(INIT_FAMILIES, norms, strict=True)),
                               active=float(irnn.active.mean()), alive=float(irnn.alive[0]))


def memory_ratios(seed: int, biases=(0.0, 1.0, 3.0), T: int = 100, d: int = 64, B: int = 8,
                  n: int = 4) -> dict:
    """How much gradient crosses T steps at initialisation: LSTMs with each forget-gate bias, a tanh RNN.

    Inputs xs ~ N(0, 1), shape (T, B, n), and targets at the last step only are drawn with ``seed``;
    the networks (n inputs, d units, n classes) are initialised with ``seed``. Returns label -> ratio:
    ||dL/dc_1|| / ||dL/dc_T|| for ``"LSTM, forget-gate bias <b>"`` and ||dL/dh_0|| / ||dL/dh_T|| for
    ``"tanh RNN"`` (Frobenius norms over the batch and the units).
    """
    T, B, n, d = positive_int("T", T), positive_int("B", B), positive_int("n", n), positive_int("d", d)
    if isinstance(biases, str | bytes) or not isinstance(biases, list | tuple | np.ndarray):
        raise TypeError(f"biases: expected a sequence of forget-gate biases, got {type(biases).__name__}")
    biases = [finite_float(f"biases[{i}]", bias) for i, bias in enumerate(biases)]
    if not biases:
        raise ValueError("biases: expected at least one forget-gate bias, got none")
    rng = rng_from(seed, "seed")
    xs, y_last = rng.normal(size=(T, B, n)), rng.integers(0, n, B)
    ratios = {}
    for bias in biases:
        p = lstm.init_lstm(n, d, n, rng=seed, forget_bias=bias)
        r = bptt.gradient_norms(p, xs, losses.last_step_grad(bptt.forward(p, xs).os, y_last))
        ratios[f"LSTM, forget-gate bias {float(bias)}"] = float(r.c[0] / r.c[-1])
    plain = rnn.init_params(n, d, n, rng=seed)
    fwd = bptt.forward(plain, xs)
    d_os = losses.last_step_grad(fwd.os, y_last)
    d_h0 = bptt.backward(plain, xs, fwd, d_os).d_h0
    ratios["tanh RNN"] = float(np.linalg.norm(d_h0) / np.linalg.norm(d_os[-1] @ plain.V))
    return ratios
