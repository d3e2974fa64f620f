"""Chapters 6 and 7: gated cells, the LSTM and the GRU, forward and backward through time.

Every cell keeps the book's symbols: U multiplies the input, W the previous hidden state, b is a bias,
and ``o_t = V h_t + c`` feeds the loss of ``rnn.cross_entropy``. The blocks of all gates are stacked
into one U, one W and one b, so that a single matrix product computes every gate at once::

    LSTM, PyTorch's torch.nn.LSTM (blocks i, f, g, o)           U: (4d, n)  W: (4d, d)  b: (4d,)
        [a_i; a_f; a_g; a_o] = U x_t + W h_{t-1} + b
        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c_t = f * c_{t-1} + i * g                              the cell state, c_0 = 0 unless given
        h_t = o * tanh(c_t)

    GRU "torch", PyTorch's torch.nn.GRU (blocks r, z, n)        U: (3d, n)  W: (3d, d)  b: (3d,)  bh: (d,)
        r = σ(U_r x_t + W_r h_{t-1} + b_r)        z = σ(U_z x_t + W_z h_{t-1} + b_z)
        n = tanh(U_n x_t + b_n + r * (W_n h_{t-1} + bh))       the reset acts after W_n
        h_t = (1 - z) * n + z * h_{t-1}

    GRU "cho", Cho et al. (2014): as "torch" but without bh, and the reset acts before W_n
        n = tanh(U_n x_t + W_n (r * h_{t-1}) + b_n)

    GRU "simple", one update gate Γu (blocks u, n)              U: (2d, n)  W: (2d, d)  b: (2d,)
        u = σ(U_u x_t + W_u h_{t-1} + b_u)        n = tanh(U_n x_t + W_n h_{t-1} + b_n)
        h_t = u * n + (1 - u) * h_{t-1}

``*`` is the elementwise product, ``U_r`` the rows of U that belong to the block r, and so on. The
"simple" GRU is the one often taught as c̃_t = tanh(W_c [c_{t-1}, x_t] + b_c), Γu = σ(W_u [c_{t-1}, x_t] +
b_u), c_t = Γu * c̃_t + (1 - Γu) * c_{t-1}: its c_t is our h_t and W_c = [W_n | U_n]. Its gate u keeps
the *new* candidate where PyTorch's z keeps the *old* state.

One bias per block: PyTorch stores two, ``b_ih`` and ``b_hh``, but where they are only added, the
model sees their sum, so the book keeps one b (``from_torch`` adds them). The exception is the GRU's
``b_hn``: r * (W_n h + b_hn) differs from r * W_n h + b_hn, so the "torch" GRU keeps it as ``bh``.

The letter c names two things: the output bias c (chapter 1) and the LSTM's cell state c_t. Arrays of
cell states are always ``c0``, ``cs``, ``d_cs``; the field ``p.c`` is the output bias.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, as_int_array, choice, positive_int, rng_from
from .bptt import _output_grad, numerical_gradient, output_grad, relative_error
from .rnn import Symbols, _cross_entropy, check_inputs, check_targets, cross_entropy, outputs

VARIANTS = ("torch", "cho", "simple")
LSTM_BLOCKS = ("i", "f", "g", "o")
GRU_BLOCKS = {"torch": ("r", "z", "n"), "cho": ("r", "z", "n"), "simple": ("u", "n")}


def sigmoid(z, out=None):
    """σ(z) = 1 / (1 + exp(-z)), computed as (1 + tanh(z / 2)) / 2, which never overflows.

    ``out``: an array to write the result into (z itself works), as for numpy's own functions.
    """
    s = np.tanh(np.multiply(0.5, z, out=out), out=out)
    s += 1.0
    s *= 0.5
    return s


class _Cell(Symbols):
    """The gated cells' containers: the shared ``Symbols`` plus a check of stacked blocks."""

    def _check(self, G: int) -> None:
        """Validate U: (G d, n), W: (G d, d), b: (G d,), V: (k, d), c: (k,) for G stacked blocks."""
        W = as_float_array("W", self.W, ndim=2, dims=f"({G}d, d)")
        d = W.shape[1]
        if d == 0 or W.shape[0] != G * d:
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
class LSTMParams(_Cell):
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
        return LSTM_BLOCKS

    @property
    def kind(self) -> str:
        """The cell's name, recorded by ``forward`` so that ``backward`` can check it."""
        return "lstm"


@dataclass
class GRUParams(_Cell):
    """GRU parameters of one ``variant`` ("torch", "cho" or "simple"); the blocks are ``p.blocks``.

    U: (G d, n), W: (G d, d), b: (G d,) with G = 3 blocks r, z, n (G = 2 blocks u, n for "simple");
    V: (k, d), c: (k,). bh: (d,) is the bias inside the reset product, for "torch" only (zeros if
    omitted); the other variants have none and need ``bh=None``, and ``items()`` leaves it out.
    """

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray
    bh: np.ndarray | None = None
    variant: str = "torch"

    def __post_init__(self):
        choice("variant", self.variant, set(VARIANTS))
        self._check(len(GRU_BLOCKS[self.variant]))
        if self.variant == "torch":
            bh = np.zeros(self.d, self.W.dtype) if self.bh is None else self.bh
            self.bh = as_float_array("bh", bh, shape=(self.d,), dims="(d,)")
        elif self.bh is not None:
            raise ValueError(f"bh: the {self.variant!r} GRU has no bias inside the reset product, "
                             f"expected None, got an array of shape {np.shape(self.bh)}")

    @property
    def blocks(self) -> tuple:
        """Names of the stacked blocks of U, W and b, in order."""
        return GRU_BLOCKS[self.variant]

    @property
    def kind(self) -> str:
        """The cell's name, recorded by ``forward`` so that ``backward`` can check it."""
        return f"gru/{self.variant}"


def _random(n, d, k, blocks, rng, dtype):
    """U, W, V with N(0, 1/fan_in) entries and zero biases, as in ``rnn.init_params``."""
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    rng = rng_from(rng)
    return dict(U=rng.normal(0, 1 / np.sqrt(n), (blocks * d, n)).astype(dtype),
                W=rng.normal(0, 1 / np.sqrt(d), (blocks * d, d)).astype(dtype),
                V=rng.normal(0, 1 / np.sqrt(d), (k, d)).astype(dtype),
                b=np.zeros(blocks * d, dtype), c=np.zeros(k, dtype))


def init_lstm(n: int, d: int, k: int, rng=0, forget_bias: float = 1.0, dtype=np.float64) -> LSTMParams:
    """Random LSTM parameters: U, W, V are N(0, 1/fan_in), biases zero except b_f = ``forget_bias``.

    A forget bias of 1 makes the fresh cell keep about 73% of c_{t-1} per step instead of half of it
    (Gers et al., 2000; Jozefowicz et al., 2015). ``rng`` is an int seed or a numpy Generator.
    """
    forget_bias = float(as_float_array("forget_bias", forget_bias, ndim=0, dims="(a number)"))
    p = LSTMParams(**_random(n, d, k, 4, rng, dtype))
    p.b[p.d:2 * p.d] = forget_bias
    return p


def init_gru(n: int, d: int, k: int, variant: str = "torch", rng=0, dtype=np.float64) -> GRUParams:
    """Random GRU parameters of ``variant``: U, W, V are N(0, 1/fan_in), biases (and bh) zero."""
    choice("variant", variant, set(VARIANTS))
    return GRUParams(**_random(n, d, k, len(GRU_BLOCKS[variant]), rng, dtype), variant=variant)


def _check_cell(p) -> None:
    if not isinstance(p, LSTMParams | GRUParams):
        raise ValueError(f"p: expected LSTMParams or GRUParams, got {type(p).__name__}")


def _states(p, xs, h0, c0):
    """Validate xs: (T, B, n), h0: (B, d) and, for the LSTM, c0: (B, d); missing states are zeros."""
    _check_cell(p)
    xs, h0 = check_inputs(p, xs, h0)
    if isinstance(p, GRUParams):
        if c0 is not None:
            raise ValueError(f"c0: a GRU has no cell state, expected None, got shape {np.shape(c0)}")
        return xs, h0, None
    c0 = np.zeros_like(h0) if c0 is None else as_float_array("c0", c0, shape=h0.shape, dims="(B, d)")
    return xs, h0, c0


def _blocks(a, G: int) -> list:
    """The G stacked blocks of the last axis of a: (..., G d), as G views (..., d) in order."""
    d = a.shape[-1] // G
    return [a[..., j * d:(j + 1) * d] for j in range(G)]


def _lstm_update(p: LSTMParams, ax, h, c, a, c_new, h_new):
    """One LSTM step from ax = U x_t + b: (B, 4d) and (h_{t-1}, c_{t-1}); returns (h_t, c_t).

    Writes the gates i, f, g, o into a: (B, 4d), and c_t, h_t into c_new, h_new: (B, d). In
    ``forward`` these are the arrays' rows for step t, so that the loop allocates almost nothing.
    """
    np.add(ax, np.matmul(h, p.W.T, out=a), out=a)           # [a_i; a_f; a_g; a_o] = U x_t + b + W h_{t-1}
    i, f, g, o = _blocks(a, 4)
    sigmoid(a[:, :2 * p.d], out=a[:, :2 * p.d])             # i = σ(a_i), f = σ(a_f): adjacent blocks
    np.tanh(g, out=g)
    sigmoid(o, out=o)
    c = np.add(np.multiply(f, c, out=c_new), i * g, out=c_new)      # c_t = f * c_{t-1} + i * g
    return np.multiply(o, np.tanh(c), out=h_new), c                 # h_t = o * tanh(c_t)


def _gru_update(p: GRUParams, ax, h, a, h_new, m):
    """One GRU step from ax = U x_t + b: (B, G d) and h_{t-1}: (B, d); returns h_t.

    Writes the gates into a: (B, G d) and h_t into h_new: (B, d); m: (B, G d) holds W h_{t-1}.
    """
    np.matmul(h, p.W.T, out=m)                              # W h_{t-1} for every block
    if p.variant == "simple":
        u, n = _blocks(np.add(ax, m, out=a), 2)
        sigmoid(u, out=u)
        np.tanh(n, out=n)
        return np.add(u * n, (1 - u) * h, out=h_new)        # h_t = u * n + (1 - u) * h_{t-1}
    d = p.d
    rz = np.add(ax[:, :2 * d], m[:, :2 * d], out=a[:, :2 * d])
    sigmoid(rz, out=rz)                                     # r = σ(a_r), z = σ(a_z): adjacent blocks
    r, z, n = _blocks(a, 3)
    if p.variant == "torch":                                # n = tanh(U_n x + b_n + r * (W_n h + bh))
        m_n = np.add(m[:, 2 * d:], p.bh, out=m[:, 2 * d:])
        np.add(ax[:, 2 * d:], r * m_n, out=n)
    else:                                                   # n = tanh(U_n x + b_n + W_n (r * h))
        np.add(ax[:, 2 * d:], (r * h) @ p.W[2 * d:].T, out=n)
    np.tanh(n, out=n)
    return np.add((1 - z) * n, z * h, out=h_new)            # h_t = (1 - z) * n + z * h_{t-1}


def step(p, x, h_prev, c_prev=None):
    """One step from x: (B, n). GRU: h_prev: (B, d) -> h_t; LSTM: (h_prev, c_prev) -> (h_t, c_t)."""
    xs, h, c = _states(p, np.asarray(x)[None], h_prev, c_prev)
    ax = xs[0] @ p.U.T + p.b
    a, h_new = np.empty_like(ax), np.empty(h.shape, ax.dtype)
    if c is None:
        return _gru_update(p, ax, h, a, h_new, np.empty_like(ax))
    return _lstm_update(p, ax, h, c, a, np.empty_like(h_new), h_new)


class Forward(NamedTuple):
    """What the forward pass computes and the backward pass needs."""

    kind: str               # p.kind: "lstm" or "gru/<variant>", checked by ``backward``
    h0: np.ndarray          # (B, d)
    c0: np.ndarray | None   # (B, d) for the LSTM, None for a GRU
    hs: np.ndarray          # (T, B, d)  h_1 .. h_T
    cs: np.ndarray | None   # (T, B, d)  c_1 .. c_T for the LSTM, None for a GRU
    gates: np.ndarray       # (T, B, G d) gate values (after σ or tanh), blocks in the order p.blocks
    os: np.ndarray          # (T, B, k)  o_1 .. o_T


def forward(p, xs, h0=None, c0=None) -> Forward:
    """Run the cell over ``xs: (T, B, n)`` from h0: (B, d) (and, LSTM only, c0: (B, d)); zeros if omitted."""
    xs, h0, c0 = _states(p, xs, h0, c0)
    T, B, _ = xs.shape
    AX = xs @ p.U.T                             # U x_t + b for every t at once: (T, B, G d)
    AX += p.b
    hs, gates = np.empty((T, B, p.d), AX.dtype), np.empty_like(AX)
    h, c, cs = h0, c0, None
    if c0 is None:
        m = np.empty_like(AX[0])                # one buffer for W h_{t-1}, reused at every step
        for t in range(T):
            h = _gru_update(p, AX[t], h, gates[t], hs[t], m)
    else:
        cs = np.empty_like(hs)
        for t in range(T):
            h, c = _lstm_update(p, AX[t], h, c, gates[t], cs[t], hs[t])
    return Forward(p.kind, h0, c0, hs, cs, gates, outputs(p.V, p.c, hs))


class Backward(NamedTuple):
    """Gradients of the loss: every parameter, the initial state, and the state at every step.

    ``d_hs[t-1]`` is dL/dh_t with c_t held fixed; ``d_cs[t-1]`` is dL/dc_t through every path,
    including the one through h_t = o * tanh(c_t): each is what backpropagation carries at that node.
    """

    grads: LSTMParams | GRUParams
    d_h0: np.ndarray          # (B, d)
    d_c0: np.ndarray | None   # (B, d) for the LSTM, None for a GRU
    d_hs: np.ndarray          # (T, B, d)  dL/dh_1 .. dL/dh_T
    d_cs: np.ndarray | None   # (T, B, d)  dL/dc_1 .. dL/dc_T for the LSTM, None for a GRU


def _rows(a):
    """(T, B, m) -> (T B, m): a sum over t and b of outer products becomes one matrix product."""
    return a.reshape(-1, a.shape[-1])


def _dense_grads(xs, hs, dA, d_os) -> dict:
    """dL/dU, dL/db from dA = dL/d(U x_t + b): (T, B, G d), and dL/dV, dL/dc from d_os: (T, B, k)."""
    dA, do = _rows(dA), _rows(d_os)
    return dict(U=dA.T @ _rows(xs), b=dA.sum(0), V=do.T @ _rows(hs), c=do.sum(0))


def _lstm_backward(p: LSTMParams, xs, fwd: Forward, d_os, d_hT, d_cT) -> Backward:
    """BPTT through the LSTM. With dh = dL/dh_t and dc = dL/dc_t, walking t = T .. 1::

        dc = dc_next + dh * o * (1 - tanh^2 c_t)        dc_next = dc * f   (to c_{t-1})
        da_i = dc * g * i (1 - i)    da_f = dc * c_{t-1} * f (1 - f)
        da_g = dc * i * (1 - g^2)    da_o = dh * tanh(c_t) * o (1 - o)
        dh_next = W^T da                                (to h_{t-1})

    The local derivatives, the factors after dh and dc, depend on the forward pass alone, so they
    are computed for all steps at once, into the arrays that the loop then completes in place.
    """
    h_prev = np.concatenate([fwd.h0[None], fwd.hs[:-1]])       # h_{t-1} for t = 1..T
    c_prev = np.concatenate([fwd.c0[None], fwd.cs[:-1]])
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
    grads = LSTMParams(W=_rows(dA).T @ _rows(h_prev), **_dense_grads(xs, fwd.hs, dA, d_os))
    return Backward(grads, dh_next, dc_next, d_hs, d_cs)


def _gru_backward(p: GRUParams, xs, fwd: Forward, d_os, d_hT) -> Backward:
    """BPTT through the GRU. With dh = dL/dh_t and da_x the gradient at the pre-activation of x::

        torch, cho   da_z = dh * (h_{t-1} - n) * z (1 - z)      da_n = dh * (1 - z) * (1 - n^2)
        torch        da_r = da_n * (W_n h_{t-1} + bh) * r (1 - r)
                     dh_next = dh * z + W_r^T da_r + W_z^T da_z + W_n^T (r * da_n)
        cho          dq = W_n^T da_n  (q = r * h_{t-1})       da_r = dq * h_{t-1} * r (1 - r)
                     dh_next = dh * z + W_r^T da_r + W_z^T da_z + r * dq
        simple       da_u = dh * (n - h_{t-1}) * u (1 - u)      da_n = dh * u * (1 - n^2)
                     dh_next = dh * (1 - u) + W^T [da_u; da_n]

    The local derivatives, the factors after dh (and dq), depend on the forward pass alone, so they
    are computed for all steps at once, into the array dA that the loop then completes in place. In
    the "torch" GRU, dm is the gradient at m = W h_{t-1} + [0; 0; bh], that is [da_r; da_z; r * da_n].
    """
    d = p.d
    h_prev = np.concatenate([fwd.h0[None], fwd.hs[:-1]])       # h_{t-1} for t = 1..T
    d_hs = d_os @ p.V                                          # first V^T dL/do_t for every t at once
    dA = np.empty_like(fwd.gates)
    dh_next = d_hT.copy()                                      # the gradient arriving from step t + 1
    if p.variant == "simple":
        u, n = _blocks(fwd.gates, 2)
        D_u, D_n = _blocks(dA, 2)                              # first D, with da = D * [dh; dh]
        np.multiply((n - h_prev) * u, 1 - u, out=D_u)
        np.multiply(u, 1 - n ** 2, out=D_n)
        for t in reversed(range(len(xs))):
            dh = np.add(d_hs[t], dh_next, out=d_hs[t])
            da = np.multiply(dA[t], np.concatenate([dh, dh], axis=-1), out=dA[t])
            np.add(dh * (1 - u[t]), da @ p.W, out=dh_next)
        grads = GRUParams(W=_rows(dA).T @ _rows(h_prev), variant=p.variant,
                          **_dense_grads(xs, fwd.hs, dA, d_os))
        return Backward(grads, dh_next, None, d_hs, None)
    r, z, n = _blocks(fwd.gates, 3)
    D_r, D_z, D_n = _blocks(dA, 3)                             # first D
    np.multiply((h_prev - n) * z, 1 - z, out=D_z)
    np.multiply(1 - z, 1 - n ** 2, out=D_n)
    if p.variant == "torch":                                   # da = D * [dh; dh; dh]
        m_n = h_prev @ p.W[2 * d:].T + p.bh                    # W_n h_{t-1} + bh for every t
        np.multiply(D_n * m_n * r, 1 - r, out=D_r)
        dm = np.empty_like(dA)
        for t in reversed(range(len(xs))):
            dh = np.add(d_hs[t], dh_next, out=d_hs[t])
            da = np.multiply(dA[t], np.concatenate([dh, dh, dh], axis=-1), out=dA[t])
            dm[t, :, :2 * d] = da[:, :2 * d]                                        # da_r, da_z
            np.multiply(r[t], da[:, 2 * d:], out=dm[t, :, 2 * d:])                  # r * da_n
            np.add(dh * z[t], dm[t] @ p.W, out=dh_next)                             # dh z + W^T dm
        grads = GRUParams(W=_rows(dm).T @ _rows(h_prev), bh=_rows(dm[..., 2 * d:]).sum(0),
                          variant=p.variant, **_dense_grads(xs, fwd.hs, dA, d_os))
        return Backward(grads, dh_next, None, d_hs, None)
    np.multiply(h_prev * r, 1 - r, out=D_r)                    # cho: da_r = dq * D_r
    W_rz, W_n = p.W[:2 * d], p.W[2 * d:]
    for t in reversed(range(len(xs))):
        dh = np.add(d_hs[t], dh_next, out=d_hs[t])
        da_r, da_z, da_n = _blocks(dA[t], 3)
        np.multiply(dh, da_z, out=da_z)
        np.multiply(dh, da_n, out=da_n)
        dq = da_n @ W_n
        np.multiply(dq, da_r, out=da_r)
        np.add(dh * z[t] + r[t] * dq, dA[t, :, :2 * d] @ W_rz, out=dh_next)
    dW = np.concatenate([_rows(dA[..., :2 * d]).T @ _rows(h_prev),     # W_n multiplies q = r * h_{t-1}
                         _rows(dA[..., 2 * d:]).T @ _rows(r * h_prev)])
    grads = GRUParams(W=dW, variant=p.variant, **_dense_grads(xs, fwd.hs, dA, d_os))
    return Backward(grads, dh_next, None, d_hs, None)


def backward(p, xs, fwd: Forward, d_os, d_hT=None, d_cT=None) -> Backward:
    """Gradients of the loss given dL/do_t for every step, by backpropagation through time.

    xs: (T, B, n); fwd: the result of ``forward(p, xs, h0, c0)``; d_os: (T, B, k); d_hT, d_cT: (B, d),
    gradients arriving at h_T and (LSTM only) c_T from later in time, zeros if omitted.
    """
    xs, h0, c0 = _states(p, xs, fwd.h0, fwd.c0)
    T, B, _ = xs.shape
    if fwd.kind != p.kind or fwd.hs.shape != (T, B, p.d):
        raise ValueError(f"fwd: expected the forward pass of this {p.kind} cell over xs {xs.shape}, "
                         f"got one of {fwd.kind!r} with hs of shape {fwd.hs.shape}")
    d_os = as_float_array("d_os", d_os, shape=(T, B, p.k), dims="(T, B, k)")
    d_hT = np.zeros_like(h0) if d_hT is None else as_float_array("d_hT", d_hT, shape=h0.shape, dims="(B, d)")
    if c0 is None:
        if d_cT is not None:
            raise ValueError(f"d_cT: a GRU has no cell state, expected None, got shape {np.shape(d_cT)}")
        return _gru_backward(p, xs, fwd, d_os, d_hT)
    d_cT = np.zeros_like(c0) if d_cT is None else as_float_array("d_cT", d_cT, shape=c0.shape, dims="(B, d)")
    return _lstm_backward(p, xs, fwd, d_os, d_hT, d_cT)


def loss_and_grads(p, xs, ys, h0=None, c0=None, mask=None):
    """Cross-entropy loss (as ``rnn.cross_entropy``) and every parameter's gradient: (loss, grads, fwd)."""
    fwd = forward(p, xs, h0, c0)
    ys, mask = check_targets(ys, fwd.os, mask)
    loss = _cross_entropy(fwd.os, ys, mask)
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss}; lower the learning rate or clip the gradient")
    return loss, backward(p, xs, fwd, _output_grad(fwd.os, ys, mask)).grads, fwd


def gradient_check(p, xs, ys, h0=None, c0=None, mask=None, eps: float = 1e-5) -> dict:
    """Relative error between BPTT and central differences, for each parameter of the cell."""
    _, grads, _ = loss_and_grads(p, xs, ys, h0, c0, mask)
    L = lambda q: cross_entropy(forward(q, xs, h0, c0).os, ys, mask)
    q = p.copy()
    return {name: relative_error(g, numerical_gradient(L, q, name, eps)) for name, g in grads.items()}


def gradient_norms(p, xs, y_last=None, h0=None, c0=None, d_os=None) -> dict:
    """||dL/dh_t|| and (LSTM) ||dL/dc_t|| for t = 1..T, from one backward pass.

    The loss is either the cross-entropy at the last step only, for targets ``y_last: (B,)``, or
    given through its gradient ``d_os: (T, B, k)`` (pass exactly one). Each norm is the Frobenius
    norm over the batch and the d units. Returns ``{"t": 1..T, "h": (T,), "c": (T,) (LSTM only)}``.
    """
    fwd = forward(p, xs, h0, c0)
    T, B, k = fwd.os.shape
    if (y_last is None) == (d_os is None):
        raise ValueError("y_last, d_os: expected exactly one of them, got "
                         f"{'both' if d_os is not None else 'neither'}")
    if y_last is not None:
        y_last = as_int_array("y_last", y_last, ndim=1, low=0, high=k, dims="(B,)")
        if y_last.shape != (B,):
            raise ValueError(f"y_last: expected shape (B,) = ({B},), got {y_last.shape}")
        ys, mask = np.zeros((T, B), int), np.zeros((T, B))
        ys[-1], mask[-1] = y_last, 1.0
        d_os = output_grad(fwd.os, ys, mask)
    back = backward(p, xs, fwd, d_os)
    norms = {"t": np.arange(1, T + 1), "h": np.linalg.norm(back.d_hs.reshape(T, -1), axis=1)}
    if back.d_cs is not None:
        norms["c"] = np.linalg.norm(back.d_cs.reshape(T, -1), axis=1)
    return norms


def count_params(n: int, d: int, k: int, cell: str, biases: str = "one", variant: str = "torch") -> dict:
    """Number of parameters of each symbol of an LSTM or GRU with sizes (n, d, k).

    ``biases="one"`` is the book's cell (one b, plus bh for the "torch" GRU); ``"two"`` is PyTorch's
    torch.nn.LSTM / torch.nn.GRU, which keep b_ih and b_hh for every block. ``variant`` is the GRU's.
    """
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    choice("cell", cell, {"lstm", "gru"})
    choice("biases", biases, {"one", "two"})
    choice("variant", variant, set(VARIANTS))
    if cell == "lstm" and variant != "torch":
        raise ValueError(f"variant: the LSTM has only the 'torch' convention, got {variant!r}")
    if biases == "two" and variant != "torch":
        raise ValueError(f"biases: 'two' counts PyTorch's torch.nn.GRU, which has no {variant!r} variant")
    G = 4 if cell == "lstm" else len(GRU_BLOCKS[variant])
    counts = {"U": G * d * n, "W": G * d * d, "b": G * d * (2 if biases == "two" else 1)}
    if cell == "gru" and variant == "torch" and biases == "one":
        counts["bh"] = d
    counts.update(V=k * d, c=k)
    counts["total"] = sum(counts.values())
    return counts


def to_torch(p) -> dict:
    """The same model in PyTorch's names: torch.nn.LSTM(n, d) or torch.nn.GRU(n, d), then Linear(d, k).

    All of b goes into bias_ih_l0; bias_hh_l0 is zero except, for the GRU, its n block, which is bh.
    """
    _check_cell(p)
    if isinstance(p, GRUParams) and p.variant != "torch":
        raise ValueError(f"p: PyTorch has no {p.variant!r} GRU, expected variant 'torch'")
    bias_hh = np.zeros_like(p.b)
    if isinstance(p, GRUParams):
        bias_hh[2 * p.d:] = p.bh
    return {"weight_ih_l0": p.U.copy(), "weight_hh_l0": p.W.copy(), "bias_ih_l0": p.b.copy(),
            "bias_hh_l0": bias_hh, "linear.weight": p.V.copy(), "linear.bias": p.c.copy()}


def from_torch(state: dict, cell: str):
    """Inverse of ``to_torch`` for ``cell`` "lstm" or "gru" (the "torch" variant).

    b = bias_ih_l0 + bias_hh_l0, except the GRU's n block of bias_hh_l0, which becomes bh.
    """
    choice("cell", cell, {"lstm", "gru"})
    need = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "linear.weight", "linear.bias"}
    missing = need - set(state)
    if missing:
        raise ValueError(f"state: expected keys {sorted(need)}, missing {sorted(missing)}")
    W = as_float_array("weight_hh_l0", state["weight_hh_l0"], ndim=2, dims="(G d, d)")
    d, G = W.shape[1], (4 if cell == "lstm" else 3)
    b_ih = as_float_array("bias_ih_l0", state["bias_ih_l0"], shape=(G * d,), dims=f"({G}d,)")
    b_hh = as_float_array("bias_hh_l0", state["bias_hh_l0"], shape=(G * d,), dims=f"({G}d,)")
    common = dict(U=state["weight_ih_l0"], W=W, V=state["linear.weight"], c=state["linear.bias"])
    if cell == "lstm":
        return LSTMParams(b=b_ih + b_hh, **common)
    b = b_ih + np.concatenate([b_hh[:2 * d], np.zeros(d)])
    return GRUParams(b=b, bh=b_hh[2 * d:], variant="torch", **common)
