"""Chapter 1: the forward equations of a plain (Elman) recurrent network.

The book's notation, used everywhere::

    h_t = tanh(U x_t + W h_{t-1} + b)      x_t: (n,)  h_t: (d,)  U: (d, n)  W: (d, d)  b: (d,)
    o_t = V h_t + c                        o_t: (k,)  V: (k, d)  c: (k,)
    y_hat_t = softmax(o_t)

Arrays put time first and the batch second: ``xs: (T, B, n)``, ``hs: (T, B, d)``, ``os: (T, B, k)``.
One row of a batched array is one example, so ``U x_t`` is written ``x_t @ U.T`` in code.
The input and output layers do not depend on the recurrence, so they are applied to all time
steps in one matrix product; only ``W h_{t-1}`` needs the loop over t.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, as_int_array, choice, positive_int, rng_from

SYMBOLS = ("U", "W", "V", "b", "c")


class Symbols:
    """What every parameter container shares (the RNN's here, the LSTM's and GRU's in gates.py):
    the sizes n, d, k read off U, W, V, and ``items``, ``copy``, ``astype`` over its arrays."""

    @property
    def n(self) -> int:
        """Input size."""
        return self.U.shape[1]

    @property
    def d(self) -> int:
        """Hidden size."""
        return self.W.shape[1]

    @property
    def k(self) -> int:
        """Output size."""
        return self.V.shape[0]

    def items(self):
        """(symbol, array) pairs of the parameters, in field order (absent optional ones skipped)."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)]

    def copy(self):
        return replace(self, **{name: a.copy() for name, a in self.items()})

    def astype(self, dtype):
        return replace(self, **{name: a.astype(dtype) for name, a in self.items()})


@dataclass
class Params(Symbols):
    """The five parameters of the RNN, named by their symbols; shared by every time step.

    U: (d, n), W: (d, d), V: (k, d), b: (d,), c: (k,). Shapes are checked on creation.
    """

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray

    def __post_init__(self):
        U = as_float_array("U", self.U, ndim=2, dims="(d, n)")
        d, n = U.shape
        W = as_float_array("W", self.W, shape=(d, d), dims="(d, d)")
        b = as_float_array("b", self.b, shape=(d,), dims="(d,)")
        V = as_float_array("V", self.V, ndim=2, dims="(k, d)")
        if V.shape[1] != d:
            raise ValueError(f"V: expected shape (k, d) with d={d} (from U), got {V.shape}")
        c = as_float_array("c", self.c, shape=(V.shape[0],), dims="(k,)")
        self.U, self.W, self.V, self.b, self.c = U, W, V, b, c


def init_params(n: int, d: int, k: int, rng=0, dtype=np.float64) -> Params:
    """Random parameters: entries of U, W, V are N(0, 1/fan_in), biases are zero.

    ``rng`` is an int seed or a ``numpy.random.Generator``.
    """
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    rng = rng_from(rng)
    p = Params(U=rng.normal(0, 1 / np.sqrt(n), (d, n)), W=rng.normal(0, 1 / np.sqrt(d), (d, d)),
               V=rng.normal(0, 1 / np.sqrt(d), (k, d)), b=np.zeros(d), c=np.zeros(k))
    return p.astype(dtype)


def check_inputs(p: Params, xs, h0=None):
    """Validate ``xs: (T, B, n)`` and ``h0: (B, d)`` against ``p``; return them as arrays.

    A missing ``h0`` becomes zeros.
    """
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, n)")
    T, B, n = xs.shape
    if T == 0 or B == 0:
        raise ValueError(f"xs: expected at least one time step and one example, got shape {xs.shape}")
    if n != p.n:
        raise ValueError(f"xs: expected last axis n={p.n} (the columns of U), got shape {xs.shape}")
    if h0 is None:
        h0 = np.zeros((B, p.d), dtype=xs.dtype)
    h0 = as_float_array("h0", h0, shape=(B, p.d), dims="(B, d)")
    return xs, h0


def step(p: Params, x, h_prev):
    """One step of the recurrence: h = tanh(U x + W h_prev + b). x: (B, n), h_prev: (B, d) -> (B, d)."""
    xs, h_prev = check_inputs(p, np.asarray(x)[None], h_prev)
    return np.tanh(xs[0] @ p.U.T + h_prev @ p.W.T + p.b)


def _identity(z, out):
    out[...] = z
    return out


ACTIVATIONS = {"tanh": np.tanh, "linear": _identity}


def hidden_states(p: Params, xs, h0=None, activation: str = "tanh"):
    """All hidden states h_1..h_T for inputs ``xs: (T, B, n)``; returns ``hs: (T, B, d)``.

    Only U, W and b are used (the output layer is separate, see ``outputs``). ``activation="linear"``
    drops the tanh, h_t = U x_t + W h_{t-1} + b, to show what the nonlinearity is for.
    """
    xs, h0 = check_inputs(p, xs, h0)
    return _hidden_states(p, xs, h0, activation)


def _hidden_states(p: Params, xs, h0, activation: str):
    """hidden_states without the checks of xs and h0, for callers that validated them already."""
    f = ACTIVATIONS[choice("activation", activation, set(ACTIVATIONS))]
    hs = xs @ p.U.T                  # U x_t for every t at once: (T, B, d)
    hs += p.b                        # ... + b; the loop adds W h_{t-1} and applies phi in place
    Wh = np.empty_like(hs[0])        # one buffer for W h_{t-1}, reused at every step
    h = h0
    for t in range(len(xs)):
        z = np.add(hs[t], np.matmul(h, p.W.T, out=Wh), out=hs[t])    # z_t = U x_t + b + W h_{t-1}
        h = f(z, out=z)                                               # h_t = phi(z_t)
    return hs


def outputs(V, c, hs):
    """The output layer o_t = V h_t + c for every t at once. hs: (T, B, d) -> os: (T, B, k)."""
    os = hs @ V.T
    os += c
    return os


class Forward(NamedTuple):
    """What the forward pass computes and the backward pass needs."""

    h0: np.ndarray   # (B, d)
    hs: np.ndarray   # (T, B, d)  h_1 .. h_T
    os: np.ndarray   # (T, B, k)  o_1 .. o_T (logits, before the softmax)
    activation: str = "tanh"


def forward(p: Params, xs, h0=None, activation: str = "tanh") -> Forward:
    """Run the RNN over ``xs: (T, B, n)`` from ``h0: (B, d)`` (zeros if omitted)."""
    xs, h0 = check_inputs(p, xs, h0)
    hs = _hidden_states(p, xs, h0, activation)
    return Forward(h0=h0, hs=hs, os=outputs(p.V, p.c, hs), activation=activation)


def softmax(o, axis: int = -1):
    """Softmax along ``axis``, computed as exp(o - max o) / sum so that no exp overflows."""
    o = np.asarray(o)
    if not np.issubdtype(o.dtype, np.floating):
        o = o.astype(np.float64)
    e = np.exp(o - o.max(axis=axis, keepdims=True))
    return np.divide(e, e.sum(axis=axis, keepdims=True), out=e)


def log_softmax(o, axis: int = -1):
    """log softmax(o) = o - logsumexp(o), stable for logits of any magnitude."""
    shifted = o - o.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def check_targets(ys, os, mask=None):
    """Validate integer targets ``ys: (T, B)`` (and an optional 0/1 ``mask: (T, B)``) against ``os``."""
    T, B, k = np.shape(os)
    ys = as_int_array("ys", ys, ndim=2, low=0, high=k, dims="(T, B)")
    if ys.shape != (T, B):
        raise ValueError(f"ys: expected shape (T, B) = ({T}, {B}) to match os, got {ys.shape}")
    dtype = np.result_type(np.asarray(os).dtype, np.float32)     # float32 logits get a float32 mask
    if mask is None:
        return ys, np.ones((T, B), dtype)
    mask = as_float_array("mask", mask, shape=(T, B), dims="(T, B)")
    return ys, mask.astype(dtype, copy=False)


def cross_entropy(os, ys, mask=None) -> float:
    """Loss L = (1/B) sum_b sum_t -log softmax(o_t)[y_t]: summed over time, averaged over the batch.

    os: (T, B, k) logits; ys: (T, B) integer classes; mask: (T, B) weights (1 = counts, 0 = ignored).
    """
    os = as_float_array("os", os, ndim=3, dims="(T, B, k)")
    ys, mask = check_targets(ys, os, mask)
    return _cross_entropy(os, ys, mask)


def _cross_entropy(os, ys, mask) -> float:
    """cross_entropy without the checks, for callers that validated already (NaN passes through)."""
    logp = log_softmax(os)[at_targets(ys)]          # log softmax(o_t)[y_t] for every t and b: (T, B)
    return float(-(logp * mask).sum() / os.shape[1])


def at_targets(ys):
    """Index of the target entries: ``a[at_targets(ys)][t, b] == a[t, b, ys[t, b]]`` for a: (T, B, k)."""
    T, B = ys.shape
    return np.arange(T)[:, None], np.arange(B), ys


def one_hot(ids, k: int):
    """One-hot vectors: integer array of any shape S -> float array of shape S + (k,)."""
    k = positive_int("k", k)
    ids = np.asarray(ids)
    ids = as_int_array("ids", ids, ndim=ids.ndim, low=0, high=k)
    return np.eye(k)[ids]


def count_params(n: int, d: int, k: int, biases: str = "one") -> dict:
    """Number of parameters of each symbol for sizes (n, d, k).

    ``biases="one"`` is the book's (and the seeds') model with one hidden bias b; ``"two"`` is
    PyTorch's torch.nn.RNN, which keeps b_ih and b_hh although only their sum matters.
    """
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    choice("biases", biases, {"one", "two"})
    counts = {"U": d * n, "W": d * d, "b": d * (1 if biases == "one" else 2), "V": k * d, "c": k}
    counts["total"] = sum(counts.values())
    return counts


def to_torch(p: Params) -> dict:
    """The same model in PyTorch's names: torch.nn.RNN(n, d) followed by torch.nn.Linear(d, k).

    PyTorch has two hidden biases; all of b goes into bias_ih_l0 and bias_hh_l0 is zero.
    """
    return {"weight_ih_l0": p.U.copy(), "weight_hh_l0": p.W.copy(),
            "bias_ih_l0": p.b.copy(), "bias_hh_l0": np.zeros_like(p.b),
            "linear.weight": p.V.copy(), "linear.bias": p.c.copy()}


def from_torch(state: dict) -> Params:
    """Inverse of ``to_torch``; the two PyTorch biases are added: b = b_ih + b_hh."""
    need = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "linear.weight", "linear.bias"}
    missing = need - set(state)
    if missing:
        raise ValueError(f"state: expected keys {sorted(need)}, missing {sorted(missing)}")
    return Params(U=state["weight_ih_l0"], W=state["weight_hh_l0"],
                  b=np.asarray(state["bias_ih_l0"]) + np.asarray(state["bias_hh_l0"]),
                  V=state["linear.weight"], c=state["linear.bias"])


def sample(p: Params, first: int, steps: int, rng=0, temperature: float = 1.0, h0=None):
    """Generate ``steps`` token ids after ``first`` by feeding each sample back as the next input.

    Needs n == k (inputs and outputs share one vocabulary). Returns an int array of length steps.
    """
    if p.n != p.k:
        raise ValueError(f"sample: expected n == k (one vocabulary), got n={p.n}, k={p.k}")
    as_int_array("first", np.asarray(first), ndim=0, low=0, high=p.n)
    steps = positive_int("steps", steps)
    if not temperature > 0:
        raise ValueError(f"temperature: expected a number > 0, got {temperature}")
    rng = rng_from(rng)
    h = np.zeros((1, p.d)) if h0 is None else as_float_array("h0", h0, shape=(1, p.d), dims="(1, d)")
    token, out = int(first), []
    for _ in range(steps):
        h = step(p, np.eye(p.n)[[token]], h)
        probs = softmax(outputs(p.V, p.c, h)[0] / temperature)
        token = int(rng.choice(p.k, p=probs))
        out.append(token)
    return np.array(out)


def interaction(p: Params, x_a, x_b, activation: str = "tanh"):
    """Second difference of the last output over two inputs that are each present or absent.

    Runs the two-step sequences (x_1, x_2) with x_1 in {0, x_a} and x_2 in {0, x_b} and returns
    o(x_a, x_b) - o(x_a, 0) - o(0, x_b) + o(0, 0), shape (k,). It is exactly zero whenever o_2 is an
    affine function of the inputs, as it is for ``activation="linear"``; computing XOR of the two
    presences needs it to be non-zero.
    """
    x_a = as_float_array("x_a", x_a, shape=(p.n,), dims="(n,)")
    x_b = as_float_array("x_b", x_b, shape=(p.n,), dims="(n,)")
    zero = np.zeros(p.n)
    xs = np.stack([np.stack([a, b]) for a, b in ((x_a, x_b), (x_a, zero), (zero, x_b), (zero, zero))],
                  axis=1)                                    # (T=2, B=4, n)
    o = forward(p, xs, activation=activation).os[-1]         # (4, k)
    return o[0] - o[1] - o[2] + o[3]
