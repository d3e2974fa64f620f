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


# --- experiments over seeds (the chapter runs each of them for every seed in claims.SEEDS) ---

CLIFF_BOX = ((4.0, -4.5), (7.0, -3.0))      # starts (w, b) drawn uniformly in [4, 7] x [-4.5, -3]


def cliff_grads(w, b, T: int = CLIFF["T"], x0: float = CLIFF["x0"], target: float = CLIFF["target"]):
    """``cliff_grad`` for many parameter pairs at once: w, b of shape (N,) -> L (N,), grads (N, 2)."""
    T = positive_int("T", T)
    w, b = np.broadcast_arrays(np.asarray(w, dtype=float), np.asarray(b, dtype=float))
    xs = np.empty((T + 1,) + w.shape)
    xs[0] = x0
    for t in range(T):
        xs[t + 1] = w * sigmoid(xs[t]) + b
    g = 2.0 * (xs[T] - target)
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for t in range(T, 0, -1):
        s = sigmoid(xs[t - 1])
        dw += g * s
        db += g
        g = g * (w * s * (1.0 - s))
    return (xs[T] - target) ** 2, np.stack([dw, db], axis=-1)


def descend_many(starts, lr: float, steps: int, clip: float | None = None, how: str = "norm") -> dict:
    """``descend`` from N starts at once, keeping only what the chapter measures.

    starts: (N, 2) pairs (w, b). Returns ``longest_step`` (N,): the longest step of each descent,
    ``max_grad_norm`` (N,): the largest gradient norm met (before clipping), ``end`` (N, 2) and
    ``loss`` (N,): the parameters and the loss after the last step.
    """
    theta = as_float_array("starts", starts, ndim=2, shape=(None, 2), dims="(N, 2)").copy()
    lr, steps = positive_float("lr", lr), positive_int("steps", steps)
    if clip is not None:
        clip = positive_float("clip", clip)
    choice("how", how, {"norm", "value"})
    longest, largest = np.zeros(len(theta)), np.zeros(len(theta))
    with np.errstate(over="ignore", invalid="ignore"):      # a descent thrown far away may overflow
        for _ in range(steps):
            _, g = cliff_grads(theta[:, 0], theta[:, 1])
            norm = np.linalg.norm(g, axis=1)
            largest = np.fmax(largest, norm)
            if clip is not None and how == "value":
                g = np.clip(g, -clip, clip)
            elif clip is not None:
                g = g * np.minimum(1.0, clip / np.where(norm > 0, norm, 1.0))[:, None]
            step = lr * g
            longest = np.fmax(longest, np.linalg.norm(step, axis=1))
            theta = theta - step
        loss = cliff_grads(theta[:, 0], theta[:, 1])[0]
    return {"longest_step": longest, "max_grad_norm": largest, "end": theta, "loss": loss}


def cliff_from_starts(seed: int, n: int = 2000, lr: float = 0.1, steps: int = 150,
                      clip: float = 5.0) -> dict:
    """Gradient descent on the cliff from n starts drawn uniformly in ``CLIFF_BOX`` with ``seed``.

    Returns ``start`` (n, 2) and the ``descend_many`` results ``free`` (no clipping) and ``clipped``
    (clipping by norm to ``clip``) from the same starts.
    """
    starts = np.random.default_rng(seed).uniform(*CLIFF_BOX, size=(positive_int("n", n), 2))
    return {"start": starts, "free": descend_many(starts, lr, steps),
            "clipped": descend_many(starts, lr, steps, clip=clip)}


def reversal_accuracy(S: int, reverse: bool, seed: int, d: int = 48, steps: int = 300, k: int = 4,
                      B: int = 32, lr: float = 1e-2, clip: float = 5.0) -> np.ndarray:
    """Train a tanh RNN on ``tasks.copy_task`` and return its test accuracy at each output position, (S,).

    Training: ``steps`` Adam steps (learning rate ``lr``, gradients clipped to norm ``clip``) of full
    BPTT over one episode of T = 2S steps from h = 0, on 300 episodes of B streams drawn with ``seed``;
    the network is initialised with ``seed`` too. Test: 30 new episodes of 32 streams (seed + 1000).
    The same seed gives the same source tokens in order and reversed.
    """
    from .bptt import Adam, train_truncated
    from .rnn import init_params
    from .tasks import copy_task

    S, steps = positive_int("S", S), positive_int("steps", steps)
    x, y, m = copy_task(S, 300, B, k, reverse, rng=seed)
    x_test, y_test, _ = copy_task(S, 30, 32, k, reverse, rng=seed + 1000)
    p = init_params(k + 1, d, k + 1, rng=seed)
    train_truncated(p, x, y, T=2 * S, steps=steps, mask=m, update=Adam(p, lr=lr), clip=clip, carry=False)
    return copy_accuracy(p, x_test, y_test, S)


def reversal_experiment(seed: int, lengths=(12, 20), **train) -> dict:
    """``reversal_accuracy`` in order and reversed for each source length S, all with ``seed``.

    Returns label (``"S = 12, in order"``, ``"S = 12, reversed"``, ...) -> accuracy at the output
    positions 1..max(lengths), shape (max(lengths),), NaN beyond S. ``train`` goes to
    ``reversal_accuracy`` (d, steps, lr, ...).
    """
    longest = max(positive_int("S", S) for S in lengths)
    out = {}
    for S in lengths:
        for reverse in (False, True):
            acc = reversal_accuracy(S, reverse, seed, **train)
            out[f"S = {S}, {'reversed' if reverse else 'in order'}"] = np.concatenate(
                [acc, np.full(longest - S, np.nan)])
    return out


INIT_FAMILIES = ("IRNN (ReLU, W = I)", "tanh, orthogonal W (ρ = 1)", "tanh, Gaussian W (ρ = 1)",
                 "ReLU, Gaussian W (ρ = 1)")


def initialisation_norms(seed: int, d: int = 64, T: int = 200, input_scale: float = 1.0) -> dict:
    """||dL/dh_k||, k = 0..T, for a unit gradient at h_T in each of the four ``INIT_FAMILIES``.

    The random matrices (orthogonal, Gaussian, both scaled to spectral radius 1) and the inputs
    u_t ~ N(0, input_scale^2) are drawn with ``seed``. Returns ``norm``: label -> (T + 1,), and for
    the IRNN ``active``: the mean fraction of units active at a step, and ``alive``: the fraction
    active at every one of the T steps (with W = I only they carry gradient from h_T to h_0).
    """
    from .spectral import gradient_norms, matrix

    irnn = relu_gradient_norms(np.eye(d), T, input_scale, rng=seed)
    norms = [irnn["norm"],
             gradient_norms(matrix("orthogonal", d, 1.0, rng=seed), T, "tanh", input_scale, rng=seed)["norm"],
             gradient_norms(matrix("gaussian", d, 1.0, rng=seed), T, "tanh", input_scale, rng=seed)["norm"],
             relu_gradient_norms(matrix("gaussian", d, 1.0, rng=seed), T, input_scale, rng=seed)["norm"]]
    return {"norm": dict(zip(INIT_FAMILIES, norms, strict=True)), "active": float(irnn["active"].mean()),
            "alive": float(irnn["alive"][0])}


def memory_ratios(seed: int, biases=(0.0, 1.0, 3.0), T: int = 100, d: int = 64, B: int = 8,
                  n: int = 4) -> dict:
    """How much gradient crosses T steps at initialisation: LSTMs with each forget-gate bias, a tanh RNN.

    Inputs xs ~ N(0, 1), shape (T, B, n), and targets at the last step only are drawn with ``seed``;
    the networks (n inputs, d units, n classes) are initialised with ``seed``. Returns label -> ratio:
    ||dL/dc_1|| / ||dL/dc_T|| for ``"LSTM, forget-gate bias <b>"`` and ||dL/dh_0|| / ||dL/dh_T|| for
    ``"tanh RNN"`` (Frobenius norms over the batch and the units).
    """
    from . import bptt, gates, rnn

    T = positive_int("T", T)
    rng = np.random.default_rng(seed)
    xs, y_last = rng.normal(size=(T, B, n)), rng.integers(0, n, B)
    ratios = {}
    for bias in biases:
        r = gates.gradient_norms(gates.init_lstm(n, d, n, rng=seed, forget_bias=bias), xs, y_last)
        ratios[f"LSTM, forget-gate bias {float(bias)}"] = float(r["c"][0] / r["c"][-1])
    plain = rnn.init_params(n, d, n, rng=seed)
    fwd = rnn.forward(plain, xs)
    ys, mask = np.zeros((T, B), int), np.zeros((T, B))
    ys[-1], mask[-1] = y_last, 1.0
    d_os = bptt.output_grad(fwd.os, ys, mask)
    _, dh0 = bptt.backward(plain, xs, fwd, d_os)
    ratios["tanh RNN"] = float(np.linalg.norm(dh0) / np.linalg.norm(d_os[-1] @ plain.V))
    return ratios
