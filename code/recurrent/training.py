"""Chapter 2, continued: training any cell with BPTT, clipping, optimisers, truncation, evaluation.

Everything here works for every container of the book (``rnn.Params``, ``lstm.LSTMParams``,
``gru.GRUParams``) through the calls of ``bptt``; the LSTM carries (h, c) where the others carry h.
``clip_by_norm`` is the one clipping function of the book (chapter 5 studies it, chapter 8 uses it).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import bptt, lstm
from ._checks import (
    as_bool,
    as_callable,
    as_float_array,
    as_int_array,
    float_in,
    positive_float,
    positive_int,
    rng_from,
)
from .losses import _check_targets, cross_entropy
from .tasks import windows


def _check_grads(grads, name: str = "grads"):
    if not hasattr(grads, "squared_norm") or not hasattr(grads, "items"):
        raise TypeError(f"{name}: expected a parameter container (rnn.Params, lstm.LSTMParams, "
                        f"gru.GRUParams, stacked.Stack), got {type(grads).__name__}")
    return grads


def global_norm(grads) -> float:
    """sqrt of the sum of squares of every gradient entry (for a ``stacked.Stack``: one norm per model)."""
    _check_grads(grads)
    return np.sqrt(grads.squared_norm()) if hasattr(grads, "S") else math.sqrt(grads.squared_norm())


def clip_by_norm(grads, clip: float):
    """Rescale all gradients together so that their global norm is at most ``clip``.

    Returns (clipped copy, norm before clipping); grads is not changed. For a ``stacked.Stack`` each
    model is clipped by its own norm and the norms are an (S,) array. Chapter 5 studies this remedy.
    """
    clip = positive_float("clip", clip)
    _check_grads(grads)
    norm = global_norm(grads)
    if hasattr(grads, "S"):
        with np.errstate(divide="ignore", invalid="ignore"):
            return grads.scaled(np.where(norm > clip, clip / norm, 1.0)), norm
    if norm <= clip:
        return grads.copy(), norm
    return grads.scaled(clip / norm), norm


def sgd(p, grads, lr: float) -> None:
    """The update theta <- theta - lr * dL/dtheta, in place, for every parameter."""
    _check_grads(p, "p")
    _check_grads(grads)
    lr = positive_float("lr", lr)
    if type(grads) is not type(p) or [s for s, _ in grads.items()] != [s for s, _ in p.items()]:
        raise ValueError(f"grads: expected gradients like p, {type(p).__name__}, got {type(grads).__name__}")
    for name, g in grads.items():
        getattr(p, name)[...] -= lr * g


class Adam:
    """Adam (Kingma and Ba, 2015): per-entry steps from running means of g and g^2, in place.

    ``Adam(p)(p, grads)`` takes one step; beta1 and beta2 must lie in [0, 1).
    """

    def __init__(self, p, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        _check_grads(p, "p")
        self.lr = positive_float("lr", lr)
        self.beta1, self.beta2 = float_in("beta1", beta1, 0, 1), float_in("beta2", beta2, 0, 1)
        self.eps = positive_float("eps", eps)
        self.m = {s: np.zeros_like(a) for s, a in p.items()}
        self.v = {s: np.zeros_like(a) for s, a in p.items()}
        self.t = 0

    def __call__(self, p, grads) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        for s, g in grads.items():
            m, v = self.m[s], self.v[s]
            m *= b1
            m += (1 - b1) * g                             # m = beta1 m + (1 - beta1) g
            v *= b2
            v += (1 - b2) * g * g                         # v = beta2 v + (1 - beta2) g^2
            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            getattr(p, s)[...] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class History(NamedTuple):
    """What a training loop records, one entry per step (val_*: one per report)."""

    loss: np.ndarray        # (steps,) the training loss (per token for language models)
    grad_norm: np.ndarray   # (steps,) the global gradient norm before clipping
    val_step: np.ndarray    # (reports,) the steps at which the held-out loss was measured
    val_loss: np.ndarray    # (reports,) the held-out loss per token


def _check_streams(p, inputs, targets, mask=None, names=("inputs", "targets", "mask")):
    """Validate (L, B) id streams against p: inputs in [0, n), targets in [0, k), mask weights >= 0."""
    inputs = as_int_array(names[0], inputs, ndim=2, low=0, high=p.n, dims="(L, B)")
    targets = as_int_array(names[1], targets, ndim=2, low=0, high=p.k, dims="(L, B)")
    if targets.shape != inputs.shape:
        raise ValueError(f"{names[1]}: expected the shape of {names[0]}, {inputs.shape}, got {targets.shape}")
    if mask is None:
        return inputs, targets, np.ones(inputs.shape)
    mask = as_float_array(names[2], mask, shape=inputs.shape, dims="(L, B)")
    if mask.min() < 0:
        raise ValueError(f"{names[2]}: expected weights >= 0, got a smallest entry {mask.min()}")
    return inputs, targets, mask


def train_truncated(p, inputs, targets, T: int, steps: int, update, mask=None,
                    clip: float | None = None, log_every: int = 0, log=print,
                    validate: tuple | None = None, carry: bool = True) -> History:
    """Truncated BPTT over B parallel streams, for any cell: carry the state, cut the gradient.

    inputs, targets: (L, B) integer ids (inputs are one-hot encoded with n = p.n classes);
    the streams are cut into chunks of T steps. Each chunk starts from the previous chunk's last
    state (h, and c for the LSTM), treated as a constant, so no gradient flows further back than T
    steps. When fewer than T steps remain, the state is reset to zero and reading starts again at 0.
    ``update(p, grads)`` changes p in place (``Adam(p)``, or ``lambda p, g: sgd(p, g, lr)``). Every
    ``log_every`` steps a line reports progress and, if ``validate=(inputs, targets)`` is given, the
    loss on those streams; ``log=None`` records the validation losses without reporting anything.
    With ``carry=False`` every chunk starts from zero: the chunks are independent sequences.
    """
    bptt._check_cell(p)
    T, steps = positive_int("T", T), positive_int("steps", steps)
    inputs, targets, mask = _check_streams(p, inputs, targets, mask)
    update = as_callable("update", update, "a function update(p, grads)")
    clip = None if clip is None else positive_float("clip", clip)
    log_every = positive_int("log_every", log_every, minimum=0)
    carry = as_bool("carry", carry)
    if log is not None:
        as_callable("log", log, "a function of one string, or None")
    if validate is not None:
        if not isinstance(validate, tuple) or len(validate) != 2:
            raise TypeError(f"validate: expected a tuple (inputs, targets), got {type(validate).__name__}")
        validate = _check_streams(p, *validate, names=("validate[0]", "validate[1]", "mask"))[:2]
    L, B = inputs.shape
    if L < T:
        raise ValueError(f"T: expected at most the stream length L={L}, got {T}")
    eye, is_lstm = np.eye(p.n), isinstance(p, lstm.LSTMParams)
    h = c = None
    start, losses, norms, val_step, val_loss = 0, [], [], [], []
    for i in range(steps):
        if start + T > L:
            h, c, start = None, None, 0
        sl = slice(start, start + T)
        try:
            with np.errstate(over="ignore", invalid="ignore"):     # reported in words instead
                loss, grads, fwd = bptt.loss_and_grads(p, eye[inputs[sl]], targets[sl], h, c, mask[sl])
        except FloatingPointError as e:
            raise FloatingPointError(f"train_truncated at step {i + 1}: {e}") from None
        if clip is not None:
            grads, norm = clip_by_norm(grads, clip)
        else:
            norm = global_norm(grads)
        update(p, grads)
        losses.append(loss * B / max(mask[sl].sum(), 1.0))
        norms.append(norm)
        if carry:
            h, c = fwd.hs[-1], (fwd.cs[-1] if is_lstm else None)
        start += T
        if log_every and ((i + 1) % log_every == 0 or i + 1 == steps):
            line = f"step {i + 1:>5}/{steps}  loss {np.mean(losses[-log_every:]):.3f}"
            if validate is not None:
                val_step.append(i + 1)
                val_loss.append(evaluate(p, *validate).loss)
                line += f"  held-out {val_loss[-1]:.3f}"
            if log is not None:
                log(line + " (nats per token)")
    return History(*(np.array(a) for a in (losses, norms, val_step, val_loss)))


class Evaluation(NamedTuple):
    """Scores of a model over id streams, averaged over the positions whose mask is non-zero."""

    loss: float          # mean cross-entropy per counted token (nats)
    perplexity: float    # exp(loss)
    accuracy: float      # fraction of counted tokens whose most likely class is the target


def evaluate(p, inputs, targets, mask=None) -> Evaluation:
    """Mean cross-entropy per token and accuracy of p over (L, B) id streams, read from a zero state.

    Both are weighted by ``mask: (L, B)`` (ones if omitted): positions with mask 0 do not count.
    """
    bptt._check_cell(p)
    inputs, targets, mask = _check_streams(p, inputs, targets, mask)
    count = mask.sum()
    if count <= 0:
        raise ValueError("mask: expected at least one counted position (a non-zero weight), got none")
    fwd = bptt.forward(p, np.eye(p.n)[inputs])
    ys, mask = _check_targets(targets, fwd.os, mask)
    loss = cross_entropy(fwd.os, ys, mask) * inputs.shape[1] / count
    correct = ((fwd.os.argmax(-1) == ys) * mask).sum() / count
    return Evaluation(float(loss), float(np.exp(loss)), float(correct))


def flat_grad(grads):
    """All gradient entries as one vector, in the order of ``grads.items()``."""
    _check_grads(grads)
    return np.concatenate([g.ravel() for _, g in grads.items()])


class GradientNoise(NamedTuple):
    """How far mini-batch gradients lie from the full gradient (see ``gradient_noise``)."""

    B: np.ndarray       # (P,) the batch sizes
    msd: np.ndarray     # (P,) measured mean squared distance from the full gradient
    trace_C: float      # tr(C), the total variance of one window's gradient


def gradient_noise(p, ids, T: int, batch_sizes, n_windows: int = 256, trials: int = 200,
                   rng=0) -> GradientNoise:
    """How far a mini-batch gradient lies from the full gradient, for each batch size B.

    ids: (N,) token ids of one text, in [0, p.n). ``n_windows`` windows of T + 1 tokens start at random
    positions; each gives the gradient of its next-token loss (from a zero state). The full gradient g
    is their mean. A mini-batch of size B averages B window gradients drawn with replacement, so its
    expected squared distance from g is exactly tr(C) / B, with C the covariance of one window's gradient.
    """
    bptt._check_cell(p)
    ids = as_int_array("ids", ids, ndim=1, low=0, high=min(p.n, p.k), dims="(N,)")
    T, n_windows = positive_int("T", T), positive_int("n_windows", n_windows)
    trials, rng = positive_int("trials", trials), rng_from(rng)
    if isinstance(batch_sizes, str) or not hasattr(batch_sizes, "__iter__"):
        raise TypeError(f"batch_sizes: expected a sequence of integers, got {type(batch_sizes).__name__}")
    batch_sizes = [positive_int("batch_sizes", B) for B in batch_sizes]
    if not batch_sizes:
        raise ValueError("batch_sizes: expected at least one batch size, got none")
    x, y = windows(ids, T, n_windows, rng)
    eye = np.eye(p.n)
    G = np.stack([flat_grad(bptt.loss_and_grads(p, eye[x[:, [j]]], y[:, [j]])[1]) for j in range(n_windows)])
    g = G.mean(axis=0)
    trace_C = float(((G - g) ** 2).sum(axis=1).mean())
    msd = [np.mean([np.sum((G[rng.integers(0, n_windows, B)].mean(axis=0) - g) ** 2) for _ in range(trials)])
           for B in batch_sizes]
    return GradientNoise(np.array(batch_sizes), np.array(msd), trace_C)

