"""Chapter 2: backpropagation through time (BPTT), gradient checking and training.

With L = (1/B) sum_b sum_t L_t and softmax + cross-entropy at every step, the backward pass is::

    dL/do_t  = (y_hat_t - y_t) / B                                   (T, B, k)
    delta_t  = dL/dh_t = V^T dL/do_t + W^T diag(1 - h_{t+1}^2) delta_{t+1},   delta_T = V^T dL/do_T
    dL/dV = sum_t dL/do_t h_t^T        dL/dc = sum_t dL/do_t
    dL/dW = sum_t diag(1 - h_t^2) delta_t h_{t-1}^T
    dL/dU = sum_t diag(1 - h_t^2) delta_t x_t^T
    dL/db = sum_t diag(1 - h_t^2) delta_t

(each sum over t also runs over the batch). In code ``dz_t = diag(1 - h_t^2) delta_t`` is the
gradient at the pre-activation z_t = U x_t + W h_{t-1} + b, the only quantity the loop must carry.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ._checks import as_float_array, positive_float, positive_int, rng_from
from .rnn import (
    Forward,
    Params,
    _cross_entropy,
    at_targets,
    check_inputs,
    check_targets,
    cross_entropy,
    forward,
    init_params,
    softmax,
)
from .tasks import delayed_echo, windows


def output_grad(os, ys, mask=None):
    """dL/do_t = (softmax(o_t) - onehot(y_t)) * mask / B for the loss of ``rnn.cross_entropy``."""
    ys, mask = check_targets(ys, os, mask)
    return _output_grad(os, ys, mask)


def _output_grad(os, ys, mask):
    """output_grad without the checks, for callers that validated ys and mask already."""
    g = softmax(os)
    g[at_targets(ys)] -= 1.0                         # softmax(o_t) - onehot(y_t)
    g *= mask[..., None] / os.shape[1]
    return g


def backward(p: Params, xs, fwd: Forward, d_os, d_hT=None):
    """Gradients of the loss given dL/do_t for every step; returns (grads: Params, dL/dh_0: (B, d)).

    xs: (T, B, n); fwd: the result of ``rnn.forward(p, xs, h0)``; d_os: (T, B, k);
    d_hT: (B, d), a gradient arriving at h_T from later in time (zero if omitted).
    """
    if fwd.activation != "tanh":
        raise ValueError(f"backward: expected a forward pass with activation 'tanh', "
                         f"got {fwd.activation!r}")
    xs, h0 = check_inputs(p, xs, fwd.h0)
    T, B, _ = xs.shape
    d_os = as_float_array("d_os", d_os, shape=(T, B, p.k), dims="(T, B, k)")
    hs = fwd.hs
    carry = np.zeros((B, p.d)) if d_hT is None else as_float_array("d_hT", d_hT, shape=(B, p.d))
    deltas = d_os @ p.V                   # V^T dL/do_t for every t at once: (T, B, d)
    dzs = np.empty_like(hs)
    for t in reversed(range(T)):
        delta = deltas[t] + carry         # delta_t = V^T dL/do_t + W^T dz_{t+1}
        dzs[t] = delta * (1.0 - hs[t] ** 2)
        carry = dzs[t] @ p.W              # W^T dz_t, read at step t-1
    h_prev = np.concatenate([h0[None], hs[:-1]])          # h_{t-1} for t = 1..T
    # Each sum over t (and b) of outer products is one matrix product over all T*B rows.
    rows = T * B
    dz, do = dzs.reshape(rows, -1), d_os.reshape(rows, -1)
    grads = Params(U=dz.T @ xs.reshape(rows, -1), W=dz.T @ h_prev.reshape(rows, -1), b=dz.sum(0),
                   V=do.T @ hs.reshape(rows, -1), c=do.sum(0))
    return grads, carry


def loss_and_grads(p: Params, xs, ys, h0=None, mask=None):
    """Cross-entropy loss and its gradient for every parameter; returns (loss, grads, forward)."""
    fwd = forward(p, xs, h0)
    ys, mask = check_targets(ys, fwd.os, mask)
    loss = _cross_entropy(fwd.os, ys, mask)
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss}; lower the learning rate or clip the gradient")
    grads, _ = backward(p, xs, fwd, _output_grad(fwd.os, ys, mask))
    return loss, grads, fwd


def numerical_gradient(loss_fn, p: Params, name: str, eps: float = 1e-5):
    """Central differences (L(theta + eps) - L(theta - eps)) / (2 eps) for every entry of p.<name>.

    ``loss_fn(p) -> float``. Costs 2 * size evaluations; the entry is restored afterwards.
    """
    if name not in dict(p.items()):
        raise ValueError(f"name: expected one of {[s for s, _ in p.items()]}, got {name!r}")
    eps = positive_float("eps", eps)
    theta = getattr(p, name)
    g = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + eps
        up = loss_fn(p)
        theta[i] = old - eps
        down = loss_fn(p)
        theta[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def relative_error(a, b) -> float:
    """||a - b|| / max(||a||, ||b||) in the Frobenius norm (0 when both are zero)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: expected equal shapes, got {a.shape} and {b.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def loss_function(xs, ys, h0=None, mask=None):
    """The loss as a function of the parameters alone, for fixed data: returns ``L(p) -> float``."""
    def L(p: Params) -> float:
        return cross_entropy(forward(p, xs, h0).os, ys, mask)
    return L


def gradient_check(p: Params, xs, ys, h0=None, mask=None, eps: float = 1e-5) -> dict:
    """Relative error between BPTT and central differences for each of U, W, V, b, c."""
    _, grads, _ = loss_and_grads(p, xs, ys, h0, mask)
    L, q = loss_function(xs, ys, h0, mask), p.copy()
    return {name: relative_error(g, numerical_gradient(L, q, name, eps)) for name, g in grads.items()}


def global_norm(grads: Params) -> float:
    """sqrt of the sum of squares of every gradient entry."""
    return math.sqrt(sum(float(np.sum(g * g)) for _, g in grads.items()))


def clip_by_norm(grads: Params, max_norm: float):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    Returns (clipped grads, norm before clipping). Chapter 5 studies this remedy.
    """
    max_norm = positive_float("max_norm", max_norm)
    norm = global_norm(grads)
    if norm <= max_norm:
        return grads, norm
    # dataclasses.replace keeps the container's type, so LSTM and GRU gradients clip too
    return replace(grads, **{s: g * (max_norm / norm) for s, g in grads.items()}), norm


def sgd(p: Params, grads: Params, lr: float) -> None:
    """The update theta <- theta - lr * dL/dtheta, in place, for every parameter."""
    lr = positive_float("lr", lr)
    for name, g in grads.items():
        getattr(p, name)[...] -= lr * g


class Adam:
    """Adam (Kingma and Ba, 2015): per-entry steps from running means of g and g^2, in place."""

    def __init__(self, p: Params, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.lr = positive_float("lr", lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, positive_float("eps", eps)
        self.m = {s: np.zeros_like(a) for s, a in p.items()}
        self.v = {s: np.zeros_like(a) for s, a in p.items()}
        self.t = 0

    def __call__(self, p: Params, grads: Params) -> None:
        self.t += 1
        for s, g in grads.items():
            self.m[s] = self.beta1 * self.m[s] + (1 - self.beta1) * g
            self.v[s] = self.beta2 * self.v[s] + (1 - self.beta2) * g * g
            m_hat = self.m[s] / (1 - self.beta1 ** self.t)
            v_hat = self.v[s] / (1 - self.beta2 ** self.t)
            getattr(p, s)[...] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def train_truncated(p: Params, inputs, targets, T: int, steps: int, update, mask=None,
                    clip: float | None = None, log_every: int = 0, log=print,
                    validate: tuple | None = None, carry: bool = True) -> dict:
    """Truncated BPTT over B parallel streams: carry the hidden state, cut the gradient.

    inputs, targets: (L, B) integer ids (inputs are one-hot encoded with n = p.n classes);
    the streams are cut into chunks of T steps. Each chunk starts from the previous chunk's last
    hidden state, treated as a constant, so no gradient flows further back than T steps. At the end
    of the streams the state is reset to zero and reading starts again. ``update(p, grads)`` changes
    p in place (``Adam(p)``, or ``lambda p, g: sgd(p, g, lr)``). Every ``log_every`` steps a line
    reports progress and, if ``validate=(inputs, targets)`` is given, the loss on those streams;
    ``log=None`` records the validation losses without reporting anything.
    Returns arrays: the loss per token of every step (``"loss"``), the gradient norm before clipping
    (``"grad_norm"``) and, with ``validate``, ``"val_step"`` and ``"val_loss"``.
    With ``carry=False`` every chunk starts from h = 0: the chunks are independent sequences.
    """
    T, steps = positive_int("T", T), positive_int("steps", steps)
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or np.shape(targets) != inputs.shape:
        raise ValueError(f"inputs, targets: expected two (L, B) arrays of equal shape, "
                         f"got {inputs.shape} and {np.shape(targets)}")
    L, B = inputs.shape
    if L < T:
        raise ValueError(f"T: expected at most the stream length L={L}, got {T}")
    mask = np.ones((L, B)) if mask is None else np.asarray(mask, dtype=float)
    eye = np.eye(p.n)
    h, start, history = None, 0, {"loss": [], "grad_norm": [], "val_step": [], "val_loss": []}
    for i in range(steps):
        if start + T > L:
            h, start = None, 0
        sl = slice(start, start + T)
        try:
            with np.errstate(over="ignore", invalid="ignore"):     # reported in words instead
                loss, grads, fwd = loss_and_grads(p, eye[inputs[sl]], targets[sl], h, mask[sl])
        except FloatingPointError as e:
            raise FloatingPointError(f"train_truncated at step {i + 1}: {e}") from None
        per_token = loss * B / max(mask[sl].sum(), 1.0)
        if clip is not None:
            grads, norm = clip_by_norm(grads, clip)
        else:
            norm = global_norm(grads)
        update(p, grads)
        history["loss"].append(per_token)
        history["grad_norm"].append(norm)
        h, start = (fwd.hs[-1] if carry else None), start + T
        if log_every and ((i + 1) % log_every == 0 or i + 1 == steps):
            line = f"step {i + 1:>5}/{steps}  loss {np.mean(history['loss'][-log_every:]):.3f}"
            if validate is not None:
                history["val_step"].append(i + 1)
                history["val_loss"].append(evaluate(p, *validate)["loss"])
                line += f"  held-out {history['val_loss'][-1]:.3f}"
            if log is not None:
                log(line + " (nats per token)")
    return {k: np.array(v) for k, v in history.items()}


def echo_accuracy(delay: int, Ks, seeds, k: int = 4, d: int = 16, tokens: int = 3000, L: int = 4000,
                  B: int = 32, lr: float = 1e-2, clip: float = 5.0):
    """Test accuracy on the delayed-echo task after truncated BPTT with each window K: (S, P) array.

    Each of the S ``seeds`` draws its training streams (L, B), its test streams (500, 8) and its
    initial parameters (d hidden units). For every window K in ``Ks`` (P values), a copy of each
    seed's initial network is trained on that seed's streams with ``tokens // K`` updates of K steps,
    exactly as ``train_truncated`` with ``Adam(lr)`` and ``clip`` would do (the S networks are
    trained side by side, see ``train_truncated_stacked``), so every K sees the same tokens.
    Row s, column j is seed s's test accuracy after training with window Ks[j]; chance is 1/k.
    """
    Ks = [positive_int("K", K) for K in Ks]
    if not Ks:
        raise ValueError("Ks: expected at least one window length, got none")
    seeds = [positive_int("seed", seed, minimum=0) for seed in seeds]
    if not seeds:
        raise ValueError("seeds: expected at least one seed, got none")
    tokens = positive_int("tokens", tokens)
    for K in Ks:
        if K > min(tokens, L):
            raise ValueError(f"Ks: expected at most min(tokens, L) = {min(tokens, L)} steps, got {K}")
    data, tests, starts = [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        data.append(delayed_echo(L, B, k, delay, rng))
        tests.append(delayed_echo(500, 8, k, delay, rng))
        starts.append(init_params(k, d, k, rng=rng))
    x, y, m = (np.stack(arrays) for arrays in zip(*data))
    accuracy = np.empty((len(seeds), len(Ks)))
    for j, K in enumerate(Ks):
        nets = {name: np.stack([getattr(p, name) for p in starts]) for name, _ in starts[0].items()}
        train_truncated_stacked(nets, x, y, m, T=K, steps=tokens // K, lr=lr, clip=clip)
        for i, (x_test, y_test, m_test) in enumerate(tests):
            p = Params(**{name: a[i] for name, a in nets.items()})
            accuracy[i, j] = evaluate(p, x_test, y_test, m_test)["accuracy"]
    return accuracy


def train_truncated_stacked(nets: dict, inputs, targets, mask, T: int, steps: int, lr: float = 1e-3,
                            clip: float | None = None, beta1: float = 0.9, beta2: float = 0.999,
                            eps: float = 1e-8) -> None:
    """``train_truncated`` with ``Adam`` for S independent networks at once, in place.

    nets: {"U": (S, d, n), "W": (S, d, d), "V": (S, k, d), "b": (S, d), "c": (S, k)}, network s in
    row s; inputs, targets, mask: (S, L, B), network s reads streams s. Every network takes exactly
    the steps ``train_truncated(p_s, inputs[s], targets[s], T, steps, Adam(p_s, lr, beta1, beta2,
    eps), mask[s], clip)`` takes (same chunks, state carried and reset the same way, gradient clipped
    per network); each product is simply batched over s, so one pass of the loop serves all S. Used
    by ``echo_accuracy`` to run a chapter's seeds side by side.
    """
    T, steps = positive_int("T", T), positive_int("steps", steps)
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    mask = np.asarray(mask, dtype=float)
    if inputs.ndim != 3 or targets.shape != inputs.shape or mask.shape != inputs.shape:
        raise ValueError(f"inputs, targets, mask: expected three (S, L, B) arrays of equal shape, "
                         f"got {inputs.shape}, {targets.shape} and {mask.shape}")
    S, L, B = inputs.shape
    U, W, V, b, c = (nets[name] for name in ("U", "W", "V", "b", "c"))
    if U.shape[0] != S:
        raise ValueError(f"nets: expected S={S} networks (one per row of inputs), got {U.shape[0]}")
    if L < T:
        raise ValueError(f"T: expected at most the stream length L={L}, got {T}")
    n, d, k = U.shape[2], U.shape[1], V.shape[1]
    eye, rows = np.eye(n), T * B
    m1 = {name: np.zeros_like(a) for name, a in nets.items()}
    m2 = {name: np.zeros_like(a) for name, a in nets.items()}
    h, start = np.zeros((S, B, d)), 0
    for i in range(steps):
        if start + T > L:
            h, start = np.zeros((S, B, d)), 0
        xs, ys, w = eye[inputs[:, start:start + T]], targets[:, start:start + T], mask[:, start:start + T]
        # forward: (S, T, B, .) arrays, the recursion of rnn.forward batched over the S networks
        hs = xs @ U.transpose(0, 2, 1)[:, None] + b[:, None, None]
        h_prev = np.empty_like(hs)
        for t in range(T):
            h_prev[:, t] = h
            h = hs[:, t] = np.tanh(hs[:, t] + h @ W.transpose(0, 2, 1))
        os = hs @ V.transpose(0, 2, 1)[:, None] + c[:, None, None]
        d_os = softmax(os)
        ok = np.isfinite(d_os).all(axis=(1, 2, 3))
        if not ok.all():
            raise FloatingPointError(f"train_truncated_stacked at step {i + 1}: the loss of network(s) "
                                     f"{np.flatnonzero(~ok).tolist()} became non-finite")
        np.put_along_axis(d_os, ys[..., None], np.take_along_axis(d_os, ys[..., None], -1) - 1.0, -1)
        d_os *= w[..., None] / B                                     # dL/do_t, as output_grad
        # backward: the recursion of backward, batched over the S networks
        deltas = d_os @ V[:, None]
        dzs = np.empty_like(hs)
        carry = np.zeros((S, B, d))
        for t in reversed(range(T)):
            dzs[:, t] = (deltas[:, t] + carry) * (1.0 - hs[:, t] ** 2)
            carry = dzs[:, t] @ W
        dz, do = dzs.reshape(S, rows, d).transpose(0, 2, 1), d_os.reshape(S, rows, k).transpose(0, 2, 1)
        grads = {"U": dz @ xs.reshape(S, rows, n), "W": dz @ h_prev.reshape(S, rows, d),
                 "V": do @ hs.reshape(S, rows, d), "b": dz.sum(2), "c": do.sum(2)}
        if clip is not None:                                         # clip_by_norm, network by network
            norm = np.sqrt(sum((g * g).reshape(S, -1).sum(1) for g in grads.values()))
            scale = np.where(norm > clip, clip / np.where(norm > 0, norm, 1.0), 1.0)
            grads = {name: g * scale.reshape((S,) + (1,) * (g.ndim - 1)) for name, g in grads.items()}
        for name, g in grads.items():                               # Adam, step i + 1
            m1[name] = beta1 * m1[name] + (1 - beta1) * g
            m2[name] = beta2 * m2[name] + (1 - beta2) * g * g
            m_hat = m1[name] / (1 - beta1 ** (i + 1))
            v_hat = m2[name] / (1 - beta2 ** (i + 1))
            nets[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)
        start += T


def evaluate(p: Params, inputs, targets, mask=None) -> dict:
    """Mean cross-entropy per token and accuracy of p over (L, B) id streams, read from h = 0."""
    inputs = np.asarray(inputs)
    fwd = forward(p, np.eye(p.n)[inputs])
    ys, mask = check_targets(targets, fwd.os, mask)
    count = mask.sum()
    loss = cross_entropy(fwd.os, ys, mask) * inputs.shape[1] / count
    correct = ((fwd.os.argmax(-1) == ys) * mask).sum() / count
    return {"loss": float(loss), "perplexity": float(np.exp(loss)), "accuracy": float(correct)}


def flat_grad(grads: Params):
    """All gradient entries as one vector, in the order U, W, V, b, c."""
    return np.concatenate([g.ravel() for _, g in grads.items()])


def gradient_noise(p: Params, ids, T: int, batch_sizes, n_windows: int = 256, trials: int = 200,
                   rng=0) -> dict:
    """How far a mini-batch gradient lies from the full gradient, for each batch size B.

    ids: (N,) token ids of one text. ``n_windows`` windows of T + 1 tokens start at random positions;
    each gives the gradient of its next-token loss (from h_0 = 0). The full gradient g is their mean.
    A mini-batch of size B averages B window gradients drawn with replacement, so its expected squared
    distance from g is exactly tr(C) / B, with C the covariance of one window's gradient.
    Returns ``{"B", "msd"}`` (measured mean squared distance over ``trials`` draws) and ``"trace_C"``.
    """
    T, n_windows = positive_int("T", T), positive_int("n_windows", n_windows)
    trials, rng = positive_int("trials", trials), rng_from(rng)
    x, y = windows(ids, T, n_windows, rng)
    eye = np.eye(p.n)
    G = np.stack([flat_grad(loss_and_grads(p, eye[x[:, [j]]], y[:, [j]])[1]) for j in range(n_windows)])
    g = G.mean(axis=0)
    trace_C = float(((G - g) ** 2).sum(axis=1).mean())
    batch_sizes = [positive_int("batch size", B) for B in batch_sizes]
    msd = [np.mean([np.sum((G[rng.integers(0, n_windows, B)].mean(axis=0) - g) ** 2) for _ in range(trials)])
           for B in batch_sizes]
    return {"B": np.array(batch_sizes), "msd": np.array(msd), "trace_C": trace_C}
