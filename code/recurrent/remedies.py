"""Chapter 5: remedies for exploding and vanishing gradients.

- Gradient clipping, by norm and by value, and the one-unit "cliff" model of Pascanu et al. (2013):
  x_t = w * sigmoid(x_{t-1}) + b from x_0, with loss L = (x_T - target)^2 over the parameters (w, b).
- Input reversal (Sutskever et al. 2014): the time lags between a source token and its target.
- Initialisations (Le et al. 2015; Saxe et al. 2014): identity with ReLU, orthogonal, Gaussian.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, choice, positive_float, positive_int
from .bptt import clip_by_norm  # noqa: F401  (re-exported: clipping a whole set of RNN gradients)

CLIFF = {"x0": 0.5, "target": 0.7, "T": 50}


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def cliff_loss(w, b, T: int = CLIFF["T"], x0: float = CLIFF["x0"], target: float = CLIFF["target"]):
    """L(w, b) = (x_T - target)^2 for x_t = w sigmoid(x_{t-1}) + b; w and b may be arrays (a grid)."""
    T = positive_int("T", T)
    x = np.full(np.broadcast(np.asarray(w), np.asarray(b)).shape, float(x0))
    for _ in range(T):
        x = w * sigmoid(x) + b
    return (x - target) ** 2


def cliff_grad(w: float, b: float, T: int = CLIFF["T"], x0: float = CLIFF["x0"],
               target: float = CLIFF["target"]):
    """(L, dL/dw, dL/db) by backpropagation through the T steps of the scalar recursion."""
    T = positive_int("T", T)
    xs = np.empty(T + 1)
    xs[0] = x0
    for t in range(T):
        xs[t + 1] = w * sigmoid(xs[t]) + b
    g = 2.0 * (xs[T] - target)                        # dL/dx_T
    dw = db = 0.0
    for t in range(T, 0, -1):                         # x_t = w s(x_{t-1}) + b
        s = sigmoid(xs[t - 1])
        dw += g * s
        db += g
        g *= w * s * (1.0 - s)                        # dL/dx_{t-1}
    return float((xs[T] - target) ** 2), np.array([dw, db])


def clip_vector(g, threshold: float, how: str = "norm"):
    """Clip one gradient vector: rescale it to norm <= threshold ("norm") or clip each entry ("value")."""
    g = as_float_array("g", g, ndim=1, dims="(p,)")
    threshold = positive_float("threshold", threshold)
    choice("how", how, {"norm", "value"})
    if how == "value":
        return np.clip(g, -threshold, threshold)
    norm = np.linalg.norm(g)
    return g if norm <= threshold else g * (threshold / norm)


def descend(start, lr: float, steps: int, clip: float | None = None, how: str = "norm") -> dict:
    """Gradient descent on the cliff loss from ``start`` = (w, b), optionally with clipping.

    Returns ``path`` (steps + 1, 2), ``loss`` (steps + 1,) and ``grad_norm`` (steps,) before clipping.
    """
    theta = as_float_array("start", start, shape=(2,), dims="(2,) = (w, b)").copy()
    lr, steps = positive_float("lr", lr), positive_int("steps", steps)
    path, losses, norms = [theta.copy()], [], []
    for _ in range(steps):
        loss, g = cliff_grad(*theta)
        losses.append(loss)
        norms.append(float(np.linalg.norm(g)))
        if clip is not None:
            g = clip_vector(g, clip, how)
        theta = theta - lr * g
        path.append(theta.copy())
    losses.append(cliff_grad(*theta)[0])
    return {"path": np.array(path), "loss": np.array(losses), "grad_norm": np.array(norms)}


def reversal_lags(S: int, reverse: bool) -> np.ndarray:
    """Steps between reading source token i and emitting its target, for i = 1..S.

    The source is read at steps 1..S (reversed: token i at step S + 1 - i) and target i is emitted at
    step S + i, so the lags are all S without reversal and 1, 3, ..., 2S - 1 with it.
    """
    S = positive_int("S", S)
    i = np.arange(1, S + 1)
    read = S + 1 - i if reverse else i
    return S + i - read


def relu_gradient_norms(W, T: int, input_scale: float = 1.0, rng=0) -> dict:
    """||dL/dh_k|| for a ReLU RNN h_t = relu(W h_{t-1} + u_t) from h_0 = 0, a unit gradient at h_T.

    Also returns ``active``: the fraction of units with a positive pre-activation at each step
    (an inactive unit passes no gradient, whatever W is). u_t ~ N(0, input_scale^2) per unit.
    """
    W = as_float_array("W", W, ndim=2, dims="(d, d)")
    T, d = positive_int("T", T), len(W)
    rng = np.random.default_rng(rng)
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
    return {"k": np.arange(T + 1), "norm": norms, "active": active[1:].mean(axis=1), "alive": alive}


def copy_accuracy(p, inputs, targets, S: int):
    """Accuracy of the RNN p at each output position i = 1..S of ``tasks.copy_task`` episodes."""
    from .rnn import forward

    S = positive_int("S", S)
    L, B = np.shape(inputs)
    if L % (2 * S):
        raise ValueError(f"inputs: expected a length that is a multiple of 2S = {2 * S}, got {L}")
    episodes = np.asarray(inputs).reshape(L // (2 * S), 2 * S, B).transpose(1, 0, 2).reshape(2 * S, -1)
    wanted = np.asarray(targets).reshape(L // (2 * S), 2 * S, B).transpose(1, 0, 2).reshape(2 * S, -1)
    predicted = forward(p, np.eye(p.n)[episodes]).os.argmax(axis=-1)      # each episode from h = 0
    return (predicted[S:] == wanted[S:]).mean(axis=1)
