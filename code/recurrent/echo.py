"""Chapter 2's delayed-echo experiment: how the truncation window K limits what BPTT can learn.

``accuracy_by_window`` trains one RNN per seed and window on the delayed-echo task of ``tasks`` and
measures its test accuracy. The seeds' networks are trained side by side (``train_truncated_stacked``):
the steps of ``training.train_truncated`` with ``training.Adam`` and per-network clipping, each matrix
product batched over the seeds, so that one Python loop serves all of them.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, as_int_array, float_in, has_keys, positive_float, positive_int
from .losses import _softmax
from .rnn import Params, init_params
from .tasks import delayed_echo
from .training import evaluate

SYMBOLS = ("U", "W", "V", "b", "c")


def _integers(name: str, values) -> list:
    """``values`` (a sequence or array of integers) as a list; a single number or a string is refused."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name}: expected a sequence of integers, got {type(values).__name__}")
    return list(values)


def accuracy_by_window(delay: int, Ks, seeds, k: int = 4, d: int = 16, tokens: int = 3000,
                       L: int = 4000, B: int = 32, lr: float = 1e-2, clip: float = 5.0):
    """Test accuracy on the delayed-echo task after truncated BPTT with each window K: (S, P) array.

    Each of the S ``seeds`` draws its training streams (L, B), its test streams (500, 8) and its
    initial parameters (d hidden units). For every window K in ``Ks`` (P values), a copy of each
    seed's initial network is trained on that seed's streams with ``tokens // K`` updates of K steps,
    exactly as ``train_truncated`` with ``Adam(lr)`` and ``clip`` would do (the S networks are
    trained side by side, see ``train_truncated_stacked``), so every K sees the same tokens.
    Row s, column j is seed s's test accuracy after training with window Ks[j]; chance is 1/k.
    """
    Ks, seeds = _integers("Ks", Ks), _integers("seeds", seeds)
    Ks = [positive_int("Ks", K) for K in Ks]
    if not Ks:
        raise ValueError("Ks: expected at least one window length, got none")
    seeds = [positive_int("seeds", seed, minimum=0) for seed in seeds]
    if not seeds:
        raise ValueError("seeds: expected at least one seed, got none")
    tokens, L = positive_int("tokens", tokens), positive_int("L", L)
    clip = positive_float("clip", clip)
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
            accuracy[i, j] = evaluate(p, x_test, y_test, m_test).accuracy
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
    by ``accuracy_by_window`` to run a chapter's seeds side by side.
    """
    T, steps = positive_int("T", T), positive_int("steps", steps)
    lr, eps = positive_float("lr", lr), positive_float("eps", eps)
    beta1, beta2 = float_in("beta1", beta1, 0, 1), float_in("beta2", beta2, 0, 1)
    clip = None if clip is None else positive_float("clip", clip)
    nets = has_keys("nets", nets, SYMBOLS)
    U = as_float_array("nets['U']", nets["U"], ndim=3, dims="(S, d, n)")
    S, d, n = U.shape
    V = as_float_array("nets['V']", nets["V"], shape=(S, None, d), dims="(S, k, d)")
    k = V.shape[1]
    shapes = {"U": (S, d, n), "W": (S, d, d), "V": (S, k, d), "b": (S, d), "c": (S, k)}
    for name in SYMBOLS:
        nets[name] = as_float_array(f"nets[{name!r}]", nets[name], shape=shapes[name], dims=str(shapes[name]))
    U, W, V, b, c = (nets[name] for name in SYMBOLS)
    inputs = as_int_array("inputs", inputs, ndim=3, low=0, high=n, dims="(S, L, B)")
    targets = as_int_array("targets", targets, ndim=3, low=0, high=k, dims="(S, L, B)")
    mask = as_float_array("mask", mask, ndim=3, dims="(S, L, B)")
    if targets.shape != inputs.shape or mask.shape != inputs.shape:
        raise ValueError(f"targets, mask: expected the shape (S, L, B) = {inputs.shape} of inputs, "
                         f"got {targets.shape} and {mask.shape}")
    if inputs.shape[0] != S:
        raise ValueError(f"inputs: expected S={S} rows of streams (one per network), got {inputs.shape[0]}")
    _, L, B = inputs.shape
    if L < T:
        raise ValueError(f"T: expected at most the stream length L={L}, got {T}")
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
        d_os = _softmax(os)                       # unchecked: non-finite networks are reported below
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
