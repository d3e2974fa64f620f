"""Chapter 5: remedies for exploding gradients, gradient clipping on the cliff of a one-unit RNN.

- Gradient clipping, by norm and by value, and the one-unit "cliff" model of Pascanu et al. (2013):
  x_t = w * sigmoid(x_{t-1}) + b from x_0, with loss L = (x_T - target)^2 over the parameters (w, b).

The remedies for vanishing gradients (input reversal, initialisation, the forget gate) are in
``vanishing``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, finite_float, one_of, positive_float, positive_int, rng_from

CLIFF = {"x0": 0.5, "target": 0.7, "T": 50}


@dataclass(frozen=True, eq=False)
class Descent:
    """Gradient descent on the cliff: ``path`` (steps + 1, 2) of (w, b), ``loss`` (steps + 1,) along it,
    ``grad_norm`` (steps,) the norm of each step's gradient before clipping."""

    path: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray


@dataclass(frozen=True, eq=False)
class Descents:
    """N descents on the cliff at once: ``longest_step`` (N,) of each, ``max_grad_norm`` (N,) the largest
    gradient norm met (before clipping), ``end`` (N, 2) the last (w, b) and ``loss`` (N,) there."""

    longest_step: np.ndarray
    max_grad_norm: np.ndarray
    end: np.ndarray
    loss: np.ndarray


@dataclass(frozen=True, eq=False)
class CliffRuns:
    """Descents from the same ``start`` (n, 2) points: ``free`` without clipping, ``clipped`` with it."""

    start: np.ndarray
    free: Descents
    clipped: Descents


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow; x: a finite number or array of any shape."""
    return _sigmoid(as_float_array("x", x, allow_empty=True))


def _pair(w, b):
    """w and b as finite float arrays of one (broadcast) shape."""
    w, b = as_float_array("w", w, allow_empty=True), as_float_array("b", b, allow_empty=True)
    try:
        return np.broadcast_arrays(w, b)
    except ValueError:
        raise ValueError(f"w, b: expected shapes that broadcast together, got {w.shape} and "
                         f"{b.shape}") from None


def cliff_loss(w, b, T: int = CLIFF["T"], x0: float = CLIFF["x0"], target: float = CLIFF["target"]):
    """L(w, b) = (x_T - target)^2 for x_t = w sigmoid(x_{t-1}) + b; w and b may be arrays (a grid)."""
    w, b = _pair(w, b)
    T, x0, target = positive_int("T", T), finite_float("x0", x0), finite_float("target", target)
    x = np.full(w.shape, x0)
    for _ in range(T):
        x = w * _sigmoid(x) + b
    return (x - target) ** 2


def cliff_grad(w: float, b: float, T: int = CLIFF["T"], x0: float = CLIFF["x0"],
               target: float = CLIFF["target"]):
    """(L, dL/dw, dL/db) by backpropagation through the T steps of the scalar recursion."""
    w, b = finite_float("w", w), finite_float("b", b)
    T, x0, target = positive_int("T", T), finite_float("x0", x0), finite_float("target", target)
    return _cliff_grad(w, b, T, x0, target)


def _cliff_grad(w: float, b: float, T: int, x0: float, target: float):
    xs = np.empty(T + 1)
    xs[0] = x0
    for t in range(T):
        xs[t + 1] = w * _sigmoid(xs[t]) + b
    g = 2.0 * (xs[T] - target)                        # dL/dx_T
    dw = db = 0.0
    for t in range(T, 0, -1):                         # x_t = w s(x_{t-1}) + b
        s = _sigmoid(xs[t - 1])
        dw += g * s
        db += g
        g *= w * s * (1.0 - s)                        # dL/dx_{t-1}
    return float((xs[T] - target) ** 2), np.array([dw, db])


def clip_vector(g, threshold: float, how: str = "norm"):
    """Clip one gradient vector: rescale it to norm <= threshold ("norm") or clip each entry ("value")."""
    g = as_float_array("g", g, ndim=1, dims="(p,)")
    threshold = positive_float("threshold", threshold)
    one_of("how", how, {"norm", "value"})
    if how == "value":
        return np.clip(g, -threshold, threshold)
    norm = np.linalg.norm(g)
    return g if norm <= threshold else g * (threshold / norm)


def descend(start, lr: float, steps: int, clip: float | None = None, how: str = "norm") -> Descent:
    """Gradient descent on the cliff loss from ``start`` = (w, b), optionally clipped to ``clip``."""
    theta = as_float_array("start", start, shape=(2,), dims="(2,) = (w, b)").copy()
    lr, steps = positive_float("lr", lr), positive_int("steps", steps)
    if clip is not None:
        clip = positive_float("clip", clip)
    one_of("how", how, {"norm", "value"})
    path, losses, norms = [theta.copy()], [], []
    cliff = (CLIFF["T"], CLIFF["x0"], CLIFF["target"])
    for _ in range(steps):
        loss, g = _cliff_grad(*theta, *cliff)
        losses.append(loss)
        norms.append(float(np.linalg.norm(g)))
        if clip is not None:
            g = clip_vector(g, clip, how)
        theta = theta - lr * g
        path.append(theta.copy())
    losses.append(_cliff_grad(*theta, *cliff)[0])
    return Descent(path=np.array(path), loss=np.array(losses), grad_norm=np.array(norms))


# --- experiments over seeds (the chapter runs each of them for every seed in claims.SEEDS) ---

CLIFF_BOX = ((4.0, -4.5), (7.0, -3.0))      # starts (w, b) drawn uniformly in [4, 7] x [-4.5, -3]


def cliff_grads(w, b, T: int = CLIFF["T"], x0: float = CLIFF["x0"], target: float = CLIFF["target"]):
    """``cliff_grad`` for many parameter pairs at once: w, b of shape (N,) -> L (N,), grads (N, 2)."""
    w, b = _pair(w, b)
    T, x0, target = positive_int("T", T), finite_float("x0", x0), finite_float("target", target)
    return _cliff_grads(w, b, T, x0, target)


def _cliff_grads(w, b, T: int, x0: float, target: float):
    xs = np.empty((T + 1,) + w.shape)
    xs[0] = x0
    for t in range(T):
        xs[t + 1] = w * _sigmoid(xs[t]) + b
    g = 2.0 * (xs[T] - target)
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for t in range(T, 0, -1):
        s = _sigmoid(xs[t - 1])
        dw += g * s
        db += g
        g = g * (w * s * (1.0 - s))
    return (xs[T] - target) ** 2, np.stack([dw, db], axis=-1)


def descend_many(starts, lr: float, steps: int, clip: float | None = None, how: str = "norm") -> Descents:
    """``descend`` from N starts (N, 2) = pairs (w, b) at once, keeping only what the chapter measures."""
    theta = as_float_array("starts", starts, ndim=2, shape=(None, 2), dims="(N, 2)").copy()
    lr, steps = positive_float("lr", lr), positive_int("steps", steps)
    if clip is not None:
        clip = positive_float("clip", clip)
    one_of("how", how, {"norm", "value"})
    longest, largest = np.zeros(len(theta)), np.zeros(len(theta))
    cliff = (CLIFF["T"], CLIFF["x0"], CLIFF["target"])
    with np.errstate(over="ignore", invalid="ignore"):      # a descent thrown far away may overflow
        for _ in range(steps):
            _, g = _cliff_grads(theta[:, 0], theta[:, 1], *cliff)
            norm = np.linalg.norm(g, axis=1)
            largest = np.fmax(largest, norm)
            if clip is not None and how == "value":
                g = np.clip(g, -clip, clip)
            elif clip is not None:
                g = g * np.minimum(1.0, clip / np.where(norm > 0, norm, 1.0))[:, None]
            step = lr * g
            longest = np.fmax(longest, np.linalg.norm(step, axis=1))
            theta = theta - step
        loss = _cliff_grads(theta[:, 0], theta[:, 1], *cliff)[0]
    return Descents(longest_step=longest, max_grad_norm=largest, end=theta, loss=loss)


def cliff_from_starts(seed: int, n: int = 2000, lr: float = 0.1, steps: int = 150,
                      clip: float = 5.0) -> CliffRuns:
    """Gradient descent on the cliff from n starts drawn uniformly in ``CLIFF_BOX`` with ``seed``, without
    clipping and with clipping by norm to ``clip``."""
    rng, clip = rng_from(positive_int("seed", seed, minimum=0)), positive_float("clip", clip)
    starts = rng.uniform(*CLIFF_BOX, size=(positive_int("n", n), 2))
    return CliffRuns(start=starts, free=descend_many(starts, lr, steps),
                     clipped=descend_many(starts, lr, steps, clip=clip))


