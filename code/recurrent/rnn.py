"""Chapter 1: the forward equations of a plain (Elman) recurrent network.

The book's notation, used everywhere::

    h_t = phi(U x_t + W h_{t-1} + b)       x_t: (n,)  h_t: (d,)  U: (d, n)  W: (d, d)  b: (d,)
    o_t = V h_t + c                        o_t: (k,)  V: (k, d)  c: (k,)
    y_hat_t = softmax(o_t)

phi is tanh unless the model says otherwise (``Params.activation``: "tanh", "relu" for the IRNN of
chapter 8, "linear" to show what the nonlinearity is for). Arrays put time first and the batch second:
``xs: (T, B, n)``, ``hs: (T, B, d)``, ``os: (T, B, k)``. One row of a batched array is one example,
so ``U x_t`` is written ``x_t @ U.T`` in code. The input and output layers do not depend on the
recurrence, so they are applied to all time steps in one matrix product; only ``W h_{t-1}`` needs
the loop over t.

The container ``Params`` is a ``cell.ParamSet``; ``forward`` returns a ``cell.Forward``, as the LSTM's
and GRU's do (``lstm``, ``gru``); ``bptt`` runs any of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import (
    as_float_array,
    as_int_array,
    has_keys,
    instance_of,
    one_of,
    positive_float,
    positive_int,
    rng_from,
)
from .cell import (
    TORCH_KEYS,
    Forward,
    ParamSet,
    _check_inputs,
    _float_dtype,
)
from .losses import softmax


def _relu(z, out):
    return np.maximum(z, 0.0, out=out)


def _identity(z, out):
    out[...] = z
    return out


ACTIVATIONS = {"tanh": np.tanh, "relu": _relu, "linear": _identity}


@dataclass
class Params(ParamSet):
    """The five parameters of the RNN, named by their symbols; shared by every time step.

    U: (d, n), W: (d, d), V: (k, d), b: (d,), c: (k,). ``activation`` is phi: "tanh" (the book's RNN),
    "relu" (the IRNN) or "linear". Shapes are checked on creation.
    """

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray
    activation: str = "tanh"

    def __post_init__(self):
        one_of("activation", self.activation, ACTIVATIONS)
        U = as_float_array("U", self.U, ndim=2, dims="(d, n)")
        d, n = U.shape
        W = as_float_array("W", self.W, shape=(d, d), dims="(d, d)")
        b = as_float_array("b", self.b, shape=(d,), dims="(d,)")
        V = as_float_array("V", self.V, ndim=2, dims="(k, d)")
        if V.shape[1] != d:
            raise ValueError(f"V: expected shape (k, d) with d={d} (from U), got {V.shape}")
        c = as_float_array("c", self.c, shape=(V.shape[0],), dims="(k,)")
        if 0 in U.shape or V.shape[0] == 0:
            raise ValueError(f"U, V: expected n, d, k >= 1, got U {U.shape} and V {V.shape}")
        self.U, self.W, self.V, self.b, self.c = U, W, V, b, c

    @property
    def kind(self) -> str:
        """The cell's name, recorded by the forward pass so that the backward pass can check it."""
        return f"rnn/{self.activation}"


def init_params(n: int, d: int, k: int, rng=0, dtype=np.float64, activation: str = "tanh") -> Params:
    """Random parameters: entries of U, W, V are N(0, 1/fan_in), biases are zero.

    The fan-in of U is n, that of W and V is d. ``rng`` is an int seed or a ``numpy.random.Generator``.
    """
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    dtype = _float_dtype(dtype)
    rng = rng_from(rng)
    p = Params(U=rng.normal(0, 1 / np.sqrt(n), (d, n)), W=rng.normal(0, 1 / np.sqrt(d), (d, d)),
               V=rng.normal(0, 1 / np.sqrt(d), (k, d)), b=np.zeros(d), c=np.zeros(k), activation=activation)
    return p.astype(dtype)


def init_irnn(n: int, d: int, k: int, rng=0, dtype=np.float64) -> Params:
    """The IRNN of Le et al. (2015): ReLU units started at W = I, b = 0; U, V as in ``init_params``."""
    p = init_params(n, d, k, rng=rng, dtype=dtype, activation="relu")
    p.W[...] = np.eye(p.d)
    return p


def _check_params(p) -> None:
    instance_of("p", p, Params, "rnn.Params")


def step(p: Params, x, h_prev):
    """One step of the recurrence: h = phi(U x + W h_prev + b). x: (B, n), h_prev: (B, d) -> (B, d)."""
    _check_params(p)
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    h_prev = as_float_array("h_prev", h_prev, ndim=2, dims="(B, d)")
    xs, h_prev = _check_inputs(p, x[None], h_prev, names=("x", "h_prev"))
    z = xs[0] @ p.U.T + h_prev @ p.W.T + p.b
    return ACTIVATIONS[p.activation](z, out=z)


def hidden_states(p: Params, xs, h0=None):
    """All hidden states h_1..h_T for inputs ``xs: (T, B, n)``; returns ``hs: (T, B, d)``.

    Only U, W and b are used (the output layer is separate, see ``outputs``).
    """
    _check_params(p)
    xs, h0 = _check_inputs(p, xs, h0)
    return _hidden_states(p, xs, h0)


def _hidden_states(p: Params, xs, h0):
    """hidden_states without the checks of xs and h0, for callers that validated them already."""
    f = ACTIVATIONS[p.activation]
    hs = xs @ p.U.T                  # U x_t for every t at once: (T, B, d)
    hs += p.b                        # ... + b; the loop adds W h_{t-1} and applies phi in place
    Wh = np.empty_like(hs[0])        # one buffer for W h_{t-1}, reused at every step
    WT = p.W.T
    h = h0
    for t in range(len(xs)):
        z = np.add(hs[t], np.matmul(h, WT, out=Wh), out=hs[t])    # z_t = U x_t + b + W h_{t-1}
        h = f(z, out=z)                                           # h_t = phi(z_t)
    return hs


def outputs(V, c, hs):
    """The output layer o_t = V h_t + c for all t at once. V: (k, d), c: (k,), hs: (T, B, d) -> (T, B, k)."""
    V = as_float_array("V", V, ndim=2, dims="(k, d)")
    c = as_float_array("c", c, shape=(V.shape[0],), dims="(k,)")
    hs = as_float_array("hs", hs, ndim=3, dims="(T, B, d)")
    if hs.shape[-1] != V.shape[1]:
        raise ValueError(f"hs: expected last axis d={V.shape[1]} (the columns of V), got shape {hs.shape}")
    return _outputs(V, c, hs)


def _outputs(V, c, hs):
    """outputs without the checks, for the forward passes (their arrays are checked already)."""
    os = hs @ V.T
    os += c
    return os


def forward(p: Params, xs, h0=None) -> Forward:
    """Run the RNN over ``xs: (T, B, n)`` from ``h0: (B, d)`` (zeros if omitted)."""
    _check_params(p)
    xs, h0 = _check_inputs(p, xs, h0)
    hs = _hidden_states(p, xs, h0)
    return Forward(p.kind, h0, hs, _outputs(p.V, p.c, hs))


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
    one_of("biases", biases, ("one", "two"))
    counts = {"U": d * n, "W": d * d, "b": d * (1 if biases == "one" else 2), "V": k * d, "c": k}
    counts["total"] = sum(counts.values())
    return counts


def to_torch(p: Params) -> dict:
    """The same model in PyTorch's names: torch.nn.RNN(n, d) followed by torch.nn.Linear(d, k).

    PyTorch has two hidden biases; all of b goes into bias_ih_l0 and bias_hh_l0 is zero.
    """
    _check_params(p)
    return {"weight_ih_l0": p.U.copy(), "weight_hh_l0": p.W.copy(),
            "bias_ih_l0": p.b.copy(), "bias_hh_l0": np.zeros_like(p.b),
            "linear.weight": p.V.copy(), "linear.bias": p.c.copy()}


def from_torch(state: dict) -> Params:
    """Inverse of ``to_torch``; the two PyTorch biases are added: b = b_ih + b_hh. Only tanh, as torch's."""
    state = has_keys("state", state, TORCH_KEYS)
    W = as_float_array("weight_hh_l0", state["weight_hh_l0"], ndim=2, dims="(d, d)")
    b_ih = as_float_array("bias_ih_l0", state["bias_ih_l0"], shape=(W.shape[1],), dims="(d,)")
    b_hh = as_float_array("bias_hh_l0", state["bias_hh_l0"], shape=(W.shape[1],), dims="(d,)")
    return Params(U=state["weight_ih_l0"], W=W, b=b_ih + b_hh, V=state["linear.weight"],
                  c=state["linear.bias"])


def sample(p: Params, first: int, steps: int, rng=0, temperature: float = 1.0, h0=None):
    """Generate ``steps`` token ids after ``first`` by feeding each sample back as the next input.

    Each token is drawn from softmax(o_t / temperature): temperature 1 is the model's distribution,
    a smaller one sharpens it towards the argmax (greedy decoding), a larger one flattens it. Needs
    n == k (inputs and outputs share one vocabulary). Returns an int array of length steps.
    """
    _check_params(p)
    if p.n != p.k:
        raise ValueError(f"p: expected n == k (one vocabulary) to sample, got n={p.n}, k={p.k}")
    as_int_array("first", np.asarray(first), ndim=0, low=0, high=p.n)
    steps = positive_int("steps", steps)
    temperature = positive_float("temperature", temperature)
    rng = rng_from(rng)
    h = np.zeros((1, p.d)) if h0 is None else as_float_array("h0", h0, shape=(1, p.d), dims="(1, d)")
    token, out, eye = int(first), [], np.eye(p.n)
    for _ in range(steps):
        h = step(p, eye[[token]], h)
        probs = softmax(_outputs(p.V, p.c, h)[0] / temperature)
        token = int(rng.choice(p.k, p=probs))
        out.append(token)
    return np.array(out)


def second_difference(p: Params, x_a, x_b):
    """Second (mixed) difference of the last output over two inputs that are each present or absent.

    Runs the two-step sequences (x_1, x_2) with x_1 in {0, x_a} and x_2 in {0, x_b} and returns
    o(x_a, x_b) - o(x_a, 0) - o(0, x_b) + o(0, 0), shape (k,). It is exactly zero whenever o_2 is an
    affine function of the inputs, as it is for ``p.activation == "linear"``; computing XOR of the two
    presences needs it to be non-zero.
    """
    _check_params(p)
    x_a = as_float_array("x_a", x_a, shape=(p.n,), dims="(n,)")
    x_b = as_float_array("x_b", x_b, shape=(p.n,), dims="(n,)")
    zero = np.zeros(p.n)
    xs = np.stack([np.stack([a, b]) for a, b in ((x_a, x_b), (x_a, zero), (zero, x_b), (zero, zero))],
                  axis=1)                                    # (T=2, B=4, n)
    o = forward(p, xs).os[-1]                                # (4, k)
    return o[0] - o[1] - o[2] + o[3]
