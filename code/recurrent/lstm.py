"""Chapter 6: the LSTM, forward and backward through time (PyTorch's torch.nn.LSTM convention).

The cell keeps the book's symbols: U multiplies the input, W the previous hidden state, b is a bias,
and ``o_t = V h_t + c`` feeds the loss. The blocks of the gates are stacked into one U, one W and one
b, so that a single matrix product computes every gate at once::

    LSTM (blocks i, f, g, o)                                     U: (4d, n)  W: (4d, d)  b: (4d,)
        [a_i; a_f; a_g; a_o] = U x_t + W h_{t-1} + b
        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c_t = f * c_{t-1} + i * g                              the cell state, c_0 = 0 unless given
        h_t = o * tanh(c_t)

``*`` is the elementwise product. One bias per block: PyTorch stores two, ``b_ih`` and ``b_hh``, which
the model sees only as their sum, so the book keeps one b (``from_torch`` adds them).

The letter c names two things: the output bias c (chapter 1) and the cell state c_t. Arrays of cell
states are always ``c0``, ``cs``, ``d_cs``; the field ``p.c`` is the output bias.

The helpers for stacked blocks (``GatedParams``, ``blocks``, ``sigmoid``) serve the GRU too (``gru``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, finite_float, has_keys, instance_of, one_of, positive_int, rng_from
from .cell import TORCH_KEYS, Backward, Forward, ParamSet, _check_finite_gradient, _check_inputs, _float_dtype
from .rnn import _outputs

BLOCKS = ("i", "f", "g", "o")


def sigmoid(z):
    """σ(z) = 1 / (1 + exp(-z)), computed as (1 + tanh(z / 2)) / 2, which never overflows. Any shape."""
    return _sigmoid(as_float_array("z", z))


def _sigmoid(z, out=None):
    """sigmoid without the check; ``out``: an array to write the result into (z itself works)."""
    s = np.tanh(np.multiply(0.5, z, out=out), out=out)
    s += 1.0
    s *= 0.5
    return s


class GatedParams(ParamSet):
    """The gated cells' containers: ``ParamSet`` plus a check of G stacked blocks."""

    def _check(self, G: int) -> None:
        """Validate U: (G d, n), W: (G d, d), b: (G d,), V: (k, d), c: (k,) for G stacked blocks."""
        W = as_float_array("W", self.W, ndim=2, dims=f"({G}d, d)")
        d = W.shape[1]
        if W.shape[0] != G * d:
            raise ValueError(f"W: expected shape ({G}d, d), {G} stacked (d, d) blocks, got {W.shape}")
        U = as_float_array("U", self.U, ndim=2, dims=f"({G}d, n)")
        if U.shape[0] != G * d:
            raise ValueError(f"U: expected shape ({G}d, n) with {G}d={G * d} (from W), got {U.shape}")
        b = as_float_array("b", self.b, shape=(G * d,), dims=f"({G}d,)")
        V = as_float_array("V", self.V, ndim=2, dims="(k, d)")
        if V.shape[1] != d:
            raise ValueError(f"V: expected shape (k, d) with d={d} (from W), got {V.shape}")
        c = as_float_array("c", self.c, shape=(V.shape[0],), dims="(k,)")
        self.U, self.W, self.V, self.b, self.c = U, W, V, b, c


@dataclass
class LSTMParams(GatedParams):
    """LSTM parameters. U: (4d, n), W: (4d, d), b: (4d,) stack the blocks i, f, g, o; V: (k, d), c: (k,)."""

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray

    def __post_init__(self):
        self._check(4)

    @property
    def blocks(self) -> tuple:
        """Names of the stacked blocks of U, W and b, in order."""
        return BLOCKS

    @property
    def kind(self) -> str:
        """The cell's name, recorded by ``forward`` so that ``backward`` can check it."""
        return "lstm"


def _random_blocks(n, d, k, G, rng, dtype) -> dict:
    """U: (G d, n), W: (G d, d), V: (k, d) with N(0, 1/fan_in) entries (fan-in n for U, d for W and V)
    and zero biases b: (G d,), c: (k,), as in ``rnn.init_params``."""
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    dtype, rng = _float_dtype(dtype), rng_from(rng)
    return dict(U=rng.normal(0, 1 / np.sqrt(n), (G * d, n)).astype(dtype),
                W=rng.normal(0, 1 / np.sqrt(d), (G * d, d)).astype(dtype),
                V=rng.normal(0, 1 / np.sqrt(d), (k, d)).astype(dtype),
                b=np.zeros(G * d, dtype), c=np.zeros(k, dtype))


def init_lstm(n: int, d: int, k: int, rng=0, forget_bias: float = 1.0, dtype=np.float64) -> LSTMParams:
    """Random LSTM parameters: U, W, V are N(0, 1/fan_in), biases zero except b_f = ``forget_bias``.

    A forget bias of 1 makes the fresh cell keep about 73% of c_{t-1} per step instead of half of it
    (Gers et al., 2000; Jozefowicz et al., 2015). ``rng`` is an int seed or a numpy Generator.
    """
    forget_bias = finite_float("forget_bias", forget_bias)
    p = LSTMParams(**_random_blocks(n, d, k, 4, rng, dtype))
    p.b[p.d:2 * p.d] = forget_bias
    return p


def _states(p: LSTMParams, xs, h0, c0, names=("xs", "h0", "c0")):
    """Validate xs: (T, B, n), h0: (B, d), c0: (B, d) against p; missing states are zeros."""
    instance_of("p", p, LSTMParams, "lstm.LSTMParams")
    xs, h0 = _check_inputs(p, xs, h0, names[:2])
    c0 = np.zeros_like(h0) if c0 is None else as_float_array(names[2], c0, shape=h0.shape, dims="(B, d)")
    return xs, h0, c0


def _blocks(a, G: int) -> list:
    """The G stacked blocks of the last axis of a: (..., G d), as G views (..., d) in order."""
    d = a.shape[-1] // G
    return [a[..., j * d:(j + 1) * d] for j in range(G)]


def _update(p: LSTMParams, ax, h, c, a, c_new, h_new):
    """One LSTM step from ax = U x_t + b: (B, 4d) and (h_{t-1}, c_{t-1}); returns (h_t, c_t).

    Writes the gates i, f, g, o into a: (B, 4d), and c_t, h_t into c_new, h_new: (B, d). In
    ``forward`` these are the arrays' rows for step t, so that the loop allocates almost nothing.
    """
    np.add(ax, np.matmul(h, p.W.T, out=a), out=a)           # [a_i; a_f; a_g; a_o] = U x_t + b + W h_{t-1}
    i, f, g, o = _blocks(a, 4)
    _sigmoid(a[:, :2 * p.d], out=a[:, :2 * p.d])             # i = σ(a_i), f = σ(a_f): adjacent blocks
    np.tanh(g, out=g)
    _sigmoid(o, out=o)
    c = np.add(np.multiply(f, c, out=c_new), i * g, out=c_new)      # c_t = f * c_{t-1} + i * g
    return np.multiply(o, np.tanh(c), out=h_new), c                 # h_t = o * tanh(c_t)


def step(p: LSTMParams, x, h_prev, c_prev=None):
    """One step from x: (B, n), h_prev: (B, d), c_prev: (B, d) (zeros if omitted) -> (h_t, c_t)."""
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    h_prev = as_float_array("h_prev", h_prev, ndim=2, dims="(B, d)")
    xs, h, c = _states(p, x[None], h_prev, c_prev, names=("x", "h_prev", "c_prev"))
    ax = xs[0] @ p.U.T + p.b
    h_new = np.empty(h.shape, ax.dtype)
    return _update(p, ax, h, c, np.empty_like(ax), np.empty_like(h_new), h_new)


def forward(p: LSTMParams, xs, h0=None, c0=None) -> Forward:
    """Run the LSTM over ``xs: (T, B, n)`` from h0, c0: (B, d) (zeros if omitted)."""
    xs, h0, c0 = _states(p, xs, h0, c0)
    T, B, _ = xs.shape
    AX = xs @ p.U.T                             # U x_t + b for every t at once: (T, B, 4d)
    AX += p.b
    hs, gates = np.empty((T, B, p.d), AX.dtype), np.empty_like(AX)
    cs = np.empty_like(hs)
    h, c = h0, c0
    for t in range(T):
        h, c = _update(p, AX[t], h, c, gates[t], cs[t], hs[t])
    return Forward(p.kind, h0, hs, _outputs(p.V, p.c, hs), c0=c0, cs=cs, gates=gates)


def _rows(a):
    """(T, B, m) -> (T B, m): a sum over t and b of outer products becomes one matrix product."""
    return a.reshape(-1, a.shape[-1])


def _dense_grads(xs, hs, dA, d_os) -> dict:
    """dL/dU, dL/db from dA = dL/d(U x_t + b): (T, B, G d), and dL/dV, dL/dc from d_os: (T, B, k)."""
    dA, do = _rows(dA), _rows(d_os)
    return dict(U=dA.T @ _rows(xs), b=dA.sum(0), V=do.T @ _rows(hs), c=do.sum(0))


def _check_backward_inputs(p, xs, fwd, d_os, d_hT, h0):
    """Validate fwd (the forward pass of p over xs), d_os: (T, B, k) and d_hT: (B, d)."""
    instance_of("fwd", fwd, Forward, "cell.Forward (a forward pass)")
    T, B, _ = xs.shape
    if fwd.kind != p.kind or fwd.hs.shape != (T, B, p.d) or fwd.os.shape != (T, B, p.k):
        raise ValueError(f"fwd: expected the forward pass of this {p.kind} cell over xs of shape {xs.shape}, "
                         f"got one of {fwd.kind!r} with hs of shape {fwd.hs.shape}")
    d_os = as_float_array("d_os", d_os, shape=(T, B, p.k), dims="(T, B, k)")
    d_hT = np.zeros_like(h0) if d_hT is None else as_float_array("d_hT", d_hT, shape=h0.shape, dims="(B, d)")
    return d_os, d_hT


def backward(p: LSTMParams, xs, fwd: Forward, d_os, d_hT=None, d_cT=None) -> Backward:
    """BPTT through the LSTM given dL/do_t: (T, B, k), and dL/dh_T, dL/dc_T: (B, d) arriving from later
    in time (zeros if omitted). With dh = dL/dh_t and dc = dL/dc_t, walking t = T .. 1::

        dc = dc_next + dh * o * (1 - tanh^2 c_t)        dc_next = dc * f   (to c_{t-1})
        da_i = dc * g * i (1 - i)    da_f = dc * c_{t-1} * f (1 - f)
        da_g = dc * i * (1 - g^2)    da_o = dh * tanh(c_t) * o (1 - o)
        dh_next = W^T da                                (to h_{t-1})

    The local derivatives, the factors after dh and dc, depend on the forward pass alone, so they
    are computed for all steps at once, into the arrays that the loop then completes in place.
    """
    xs, h0, c0 = _states(p, xs, getattr(fwd, "h0", None), getattr(fwd, "c0", None))
    d_os, d_hT = _check_backward_inputs(p, xs, fwd, d_os, d_hT, h0)
    d_cT = np.zeros_like(c0) if d_cT is None else as_float_array("d_cT", d_cT, shape=c0.shape, dims="(B, d)")
    return _backward(p, xs, fwd, d_os, d_hT, d_cT)


def _backward(p: LSTMParams, xs, fwd: Forward, d_os, d_hT, d_cT) -> Backward:
    """backward for arrays that are checked already (d_hT, d_cT: (B, d) arrays, not None)."""
    h0, c0 = fwd.h0, fwd.c0
    h_prev = np.concatenate([h0[None], fwd.hs[:-1]])           # h_{t-1} for t = 1..T
    c_prev = np.concatenate([c0[None], fwd.cs[:-1]])
    i, f, g, o = _blocks(fwd.gates, 4)
    tanh_c = np.tanh(fwd.cs)
    dA = np.empty_like(fwd.gates)                              # first D, with da = D * [dc; dc; dc; dh]
    D_i, D_f, D_g, D_o = _blocks(dA, 4)
    np.multiply(g * i, 1 - i, out=D_i)
    np.multiply(c_prev * f, 1 - f, out=D_f)
    np.multiply(i, 1 - g ** 2, out=D_g)
    np.multiply(tanh_c * o, 1 - o, out=D_o)
    d_cs = np.multiply(o, 1 - tanh_c ** 2, out=tanh_c)         # first D_c, with dc = dc_next + dh * D_c
    d_hs = d_os @ p.V                                          # first V^T dL/do_t for every t at once
    dh_next, dc_next = d_hT.copy(), d_cT.copy()                # gradients arriving from step t + 1
    for t in reversed(range(len(xs))):
        dh = np.add(d_hs[t], dh_next, out=d_hs[t])                                  # dL/dh_t
        dc = np.add(dc_next, np.multiply(dh, d_cs[t], out=d_cs[t]), out=d_cs[t])    # dL/dc_t
        da = np.multiply(dA[t], np.concatenate([dc, dc, dc, dh], axis=-1), out=dA[t])
        np.matmul(da, p.W, out=dh_next)                                            # W^T da
        np.multiply(dc, f[t], out=dc_next)                                         # dc * f
    _check_finite_gradient(dA)
    grads = LSTMParams._computed(W=_rows(dA).T @ _rows(h_prev), **_dense_grads(xs, fwd.hs, dA, d_os))
    return Backward(grads, dh_next, d_hs, d_c0=dc_next, d_cs=d_cs)


def count_params(n: int, d: int, k: int, biases: str = "one") -> dict:
    """Number of parameters of each symbol of an LSTM with sizes (n, d, k).

    ``biases="one"`` is the book's cell (one b); ``"two"`` is PyTorch's torch.nn.LSTM, which keeps
    b_ih and b_hh for every block.
    """
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    one_of("biases", biases, ("one", "two"))
    counts = {"U": 4 * d * n, "W": 4 * d * d, "b": 4 * d * (2 if biases == "two" else 1), "V": k * d, "c": k}
    counts["total"] = sum(counts.values())
    return counts


def to_torch(p: LSTMParams) -> dict:
    """The same model in PyTorch's names: torch.nn.LSTM(n, d), then torch.nn.Linear(d, k).

    All of b goes into bias_ih_l0; bias_hh_l0 is zero.
    """
    instance_of("p", p, LSTMParams, "lstm.LSTMParams")
    return {"weight_ih_l0": p.U.copy(), "weight_hh_l0": p.W.copy(), "bias_ih_l0": p.b.copy(),
            "bias_hh_l0": np.zeros_like(p.b), "linear.weight": p.V.copy(), "linear.bias": p.c.copy()}


def _torch_biases(state, G: int):
    """W = weight_hh_l0: (G d, d) and the two biases (G d,) of a PyTorch state dict, checked."""
    state = has_keys("state", state, TORCH_KEYS)
    W = as_float_array("weight_hh_l0", state["weight_hh_l0"], ndim=2, dims=f"({G}d, d)")
    d = W.shape[1]
    b_ih = as_float_array("bias_ih_l0", state["bias_ih_l0"], shape=(G * d,), dims=f"({G}d,)")
    b_hh = as_float_array("bias_hh_l0", state["bias_hh_l0"], shape=(G * d,), dims=f"({G}d,)")
    return state, W, b_ih, b_hh


def from_torch(state: dict) -> LSTMParams:
    """Inverse of ``to_torch``: b = bias_ih_l0 + bias_hh_l0."""
    state, W, b_ih, b_hh = _torch_biases(state, 4)
    return LSTMParams(U=state["weight_ih_l0"], W=W, b=b_ih + b_hh, V=state["linear.weight"],
                      c=state["linear.bias"])
