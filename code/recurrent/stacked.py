"""Chapter 8, several seeds at once: S models of one cell stacked along a leading seed axis.

The chapter trains every (cell, T) for several seeds. The seeds' models never interact, so they are
stacked: every parameter gets a leading seed axis S (``Stack``), the data too (xs: (S, T, B, 2)),
and each matrix product of a time step becomes S products in one numpy call, so that the Python
loop over t runs once for all seeds. With numpy's per-call cost dominating at these small sizes,
that is most of the speed-up. The equations are those of ``rnn``, ``bptt``, ``lstm`` and ``gru``,
written for the seed axis; a test checks that the loss and every gradient of each seed equal what
``bptt.loss_and_grads(..., loss="last_squared_error")`` gives for that seed's model alone.

The cells are named as in ``long_range``: "tanh", "irnn" (ReLU), "lstm", "gru" (PyTorch's variant).
The backward pass is in ``stacked_grads``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from . import gru, lstm, rnn
from ._checks import as_float_array, finite_float, instance_of, one_of

CELLS = ("tanh", "irnn", "lstm", "gru")
N_INPUTS, N_OUTPUTS = 2, 1        # the adding problem: (value, marker) in, the sum out
_BLOCKS = {"tanh": 1, "irnn": 1, "lstm": 4, "gru": 3}     # G, the stacked blocks of U, W and b


def _cell_of(p) -> str:
    """The name of p's cell: "tanh" or "irnn" for an ``rnn.Params`` (by its activation), "lstm", "gru"."""
    instance_of("p", p, (rnn.Params, lstm.LSTMParams, gru.GRUParams),
                "rnn.Params, lstm.LSTMParams or gru.GRUParams")
    if isinstance(p, lstm.LSTMParams):
        return "lstm"
    if isinstance(p, gru.GRUParams):
        if p.variant != "torch":
            raise ValueError(f"p: expected PyTorch's GRU (variant 'torch'), got variant {p.variant!r}")
        return "gru"
    return {"tanh": "tanh", "relu": "irnn"}[one_of("p.activation", p.activation, ("tanh", "relu"))]


def _check_model(p) -> str:
    """p must be a container of one of CELLS with n = 2 inputs and k = 1 output; returns its cell."""
    cell = _cell_of(p)
    if (p.n, p.k) != (N_INPUTS, N_OUTPUTS):
        raise ValueError(f"p: expected n = {N_INPUTS} inputs and k = {N_OUTPUTS} output for the adding "
                         f"problem, got n = {p.n}, k = {p.k}")
    return cell


class Stack:
    """S independent models of one ``cell``, every parameter stacked along a leading seed axis.

    The arrays have the shapes of the cell's container with S in front, for the LSTM U: (S, 4d, 2),
    W: (S, 4d, d), V: (S, 1, d), b: (S, 4d), c: (S, 1); the GRU (PyTorch's variant) adds bh: (S, d).
    ``items()`` lists them as the containers do, so ``bptt.Adam`` updates a Stack entry by entry,
    exactly as it would update each model on its own. ``model(i)`` is seed i's model as a container.
    """

    def __init__(self, cell: str, arrays: dict):
        one_of("cell", cell, CELLS)
        if not isinstance(arrays, Mapping):
            raise TypeError(f"arrays: expected a dict of arrays by symbol, got {type(arrays).__name__}")
        want = ("U", "W", "V", "b", "c") + (("bh",) if cell == "gru" else ())
        if tuple(arrays) != want:
            raise ValueError(f"arrays: expected the parameters {want} of cell {cell!r}, got {tuple(arrays)}")
        self.cell, self.names = cell, want
        W = np.asarray(arrays["W"], dtype=float)
        if W.ndim != 3:
            raise ValueError(f"W: expected a 3-d array (S, G d, d) of stacked models, got shape {W.shape}")
        S, d = W.shape[0], W.shape[-1]
        Gd = _BLOCKS[cell] * d
        shapes = {"U": (S, Gd, N_INPUTS), "W": (S, Gd, d), "V": (S, N_OUTPUTS, d), "b": (S, Gd),
                  "c": (S, N_OUTPUTS), "bh": (S, d)}
        for name in want:                 # no check for finite values: a gradient may hold NaN or inf
            a = np.asarray(arrays[name], dtype=float)
            if a.shape != shapes[name]:
                raise ValueError(f"{name}: expected shape {shapes[name]} for {S} stacked {cell} models with "
                                 f"d = {d} (from W: {W.shape}), got {a.shape}")
            setattr(self, name, a)

    @classmethod
    def of(cls, models) -> Stack:
        """Stack the containers ``models`` (one per seed, all of one cell and of the same size)."""
        if isinstance(models, str) or not hasattr(models, "__iter__"):
            raise TypeError(f"models: expected a sequence of containers, got {type(models).__name__}")
        models = list(models)
        if not models:
            raise ValueError("models: expected at least one model, got none")
        cells = {_check_model(p) for p in models}
        if len(cells) != 1:
            raise ValueError(f"models: expected models of one cell, got {sorted(cells)}")
        cell = cells.pop()
        names = [name for name, _ in models[0].items()]
        shapes = {tuple(a.shape for _, a in p.items()) for p in models}
        if len(shapes) != 1:
            raise ValueError(f"models: expected models of one size, got parameter shapes {sorted(shapes)}")
        return cls(cell, {name: np.stack([getattr(p, name) for p in models]) for name in names})

    @property
    def S(self) -> int:
        """The number of stacked models (seeds)."""
        return self.U.shape[0]

    @property
    def d(self) -> int:
        """Hidden size."""
        return self.W.shape[-1]

    def items(self):
        """(symbol, (S, ...) array) pairs, in the order of the cell's container."""
        return [(name, getattr(self, name)) for name in self.names]

    def copy(self) -> Stack:
        return Stack(self.cell, {name: a.copy() for name, a in self.items()})

    def squared_norm(self):
        """The sum of squares of every entry of each model: (S,)."""
        return sum(np.sum((a * a).reshape(self.S, -1), axis=1) for _, a in self.items())

    def scaled(self, factor) -> Stack:
        """A copy with model s's arrays multiplied by factor[s] (factor: (S,) or a number)."""
        if np.ndim(factor) == 0:
            factor = np.full(self.S, finite_float("factor", factor))
        factor = as_float_array("factor", factor, shape=(self.S,), dims="(S,)")
        return Stack(self.cell, {name: a * factor.reshape((-1,) + (1,) * (a.ndim - 1))
                                 for name, a in self.items()})

    def model(self, i: int):
        """Seed i's model as the cell's own container (``rnn.Params``, ``lstm.LSTMParams``, ...), a copy."""
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise TypeError(f"i: expected an integer seed index, got {type(i).__name__}")
        if not 0 <= i < self.S:
            raise ValueError(f"i: expected a seed index in [0, {self.S}), got {i}")
        arrays = {name: a[i].copy() for name, a in self.items()}
        if self.cell == "lstm":
            return lstm.LSTMParams(**arrays)
        if self.cell == "gru":
            return gru.GRUParams(**arrays, variant="torch")
        return rnn.Params(**arrays, activation="relu" if self.cell == "irnn" else "tanh")


def _t(M):
    """The transpose of each stacked matrix: (..., m, n) -> (..., n, m), a view."""
    return M.swapaxes(-1, -2)


def _check_stacked_data(st: Stack, xs, y, need_y: bool = True):
    instance_of("st", st, Stack, "stacked.Stack")
    xs = as_float_array("xs", xs, ndim=4, dims="(S, T, B, 2)")
    if xs.shape[0] != st.S or xs.shape[-1] != N_INPUTS or 0 in xs.shape:
        raise ValueError(f"xs: expected shape (S, T, B, 2) with S = {st.S} and T, B >= 1, got {xs.shape}")
    if need_y:
        y = as_float_array("y", y, shape=(st.S, xs.shape[2]), dims="(S, B)")
    return xs, y


# Inside the stacked passes, time comes first and states are columns, h_t^T: (S, d, B). The inputs of
# step t are gathered in one column block, [h_{t-1}; x_t; 1]: (S, d + 3, B), and the parameters that
# multiply them in one matrix per model, M = [W | U | b]: (S, G d, d + 3), so that a single product
# M [h_{t-1}; x_t; 1] = W h_{t-1} + U x_t + b gives every block's pre-activation, and in the backward
# pass a single product per step accumulates dL/dW, dL/dU and dL/db together. PyTorch's GRU needs
# W_n h_{t-1} + bh apart from U_n x_t + b_n (the reset multiplies only the first), so its M has a
# fourth block [W_n | 0 | bh] and its third is [0 | U_n | b_n].
#
# σ(z) = (1 + tanh(z / 2)) / 2, as in ``lstm.sigmoid``. With the rows of the sigmoid blocks (LSTM:
# i, f, o; GRU: r, z) halved in M, one tanh and t -> t α + β give the sigmoids. Halving is exact,
# so the gates are those of ``lstm.forward`` and ``gru.forward``.
_HALVED = {"tanh": (1.0,), "irnn": (1.0,), "lstm": (0.5, 0.5, 1.0, 0.5), "gru": (0.5, 0.5, 1.0, 1.0)}
_ALPHA = {cell: np.array(h)[:, None, None] for cell, h in _HALVED.items()}          # (G, 1, 1)
_BETA = {cell: np.where(np.array(h) == 0.5, 0.5, 0.0)[:, None, None] for cell, h in _HALVED.items()}


def _joint(st: Stack):
    """M = [W | U | b]: (S, G d, d + 3), the rows of sigmoid blocks halved; the GRU's as described above."""
    d, S = st.d, st.S
    if st.cell == "gru":
        W, U, b, zero = st.W, st.U, st.b[:, :, None], np.zeros((S, d, d))
        M = np.concatenate([
            np.concatenate([W[:, :2 * d], U[:, :2 * d], b[:, :2 * d]], axis=2),           # r, z
            np.concatenate([zero, U[:, 2 * d:], b[:, 2 * d:]], axis=2),                   # U_n x + b_n
            np.concatenate([W[:, 2 * d:], np.zeros((S, d, 2)), st.bh[:, :, None]], axis=2),  # W_n h + bh
        ], axis=1)
    else:
        M = np.concatenate([st.W, st.U, st.b[:, :, None]], axis=2)
    M *= np.repeat(_HALVED[st.cell], d)[:, None]
    return M


class _Pass(NamedTuple):
    """What the stacked forward pass keeps for the backward pass (time first, states as columns)."""

    hx: np.ndarray            # (T + 1, S, d + 3, B)  [h_{t-1}; x_t; 1] for t = 1 .. T, then h_T
    acts: np.ndarray          # (T, S, G, d, B)  tanh, IRNN: z_t; LSTM: i, f, g, o; GRU: r, z, n, W_n h + bh
    cs: np.ndarray | None     # (T, S, d, B)     LSTM: c_1 .. c_T
    tanh_c: np.ndarray | None  # (T, S, d, B)    LSTM: tanh(c_t)
    o: np.ndarray             # (S, B)           o_T


def _forward(st: Stack, xs, keep: bool = True) -> _Pass:
    """The S models over xs: (S, T, B, 2), model s reading xs[s], from zero states.

    ``keep=False`` reuses one step's arrays at every step, for large test sets: the fields then hold
    the last step only (a time axis of length 1).
    """
    S, T, B, _ = xs.shape
    cell, d = st.cell, st.d
    M = _joint(st)
    G = M.shape[1] // d
    alpha, beta = _ALPHA[cell], _BETA[cell]
    xT = xs.transpose(1, 0, 3, 2)                      # x_t as columns: (T, S, 2, B)
    hx = np.empty((T + 1 if keep else 1, S, d + 3, B))
    hx[:, :, :d] = 0.0                                  # h_0 = 0
    hx[:, :, d + 2] = 1.0
    if keep:
        hx[:T, :, d:d + 2] = xT
    acts = np.empty((T if keep else 1, S, G, d, B))
    lstm = cell == "lstm"
    cs = np.empty((T if keep else 1, S, d, B)) if lstm else None
    tanh_c = np.empty_like(cs) if lstm else None
    c = np.zeros((S, d, B))
    for t in range(T):
        now, nxt, k = (t, t + 1, t) if keep else (0, 0, 0)
        if not keep:
            hx[0, :, d:d + 2] = xT[t]
        a = acts[k]
        np.matmul(M, hx[now], out=a.reshape(S, G * d, B))       # every block's pre-activation
        h_new = hx[nxt, :, :d]
        if cell == "tanh":
            np.tanh(a[:, 0], out=h_new)
        elif cell == "irnn":
            np.maximum(a[:, 0], 0.0, out=h_new)
        elif lstm:
            np.tanh(a, out=a)
            a *= alpha
            a += beta                                   # i, f, g, o
            c = np.multiply(a[:, 1], c, out=cs[k])      # c_t = f * c_{t-1} + i * g
            c += a[:, 0] * a[:, 2]
            np.multiply(a[:, 3], np.tanh(c, out=tanh_c[k]), out=h_new)      # h_t = o * tanh(c_t)
        else:
            rz = a[:, :2]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5                                   # r, z
            n = a[:, 2]
            n += a[:, 0] * a[:, 3]                      # U_n x + b_n + r * (W_n h_{t-1} + bh)
            np.tanh(n, out=n)
            h_prev = hx[now, :, :d]                     # h_t = (1 - z) n + z h_{t-1}, as n + z (h_{t-1} - n)
            np.subtract(h_prev, n, out=h_new)
            h_new *= a[:, 1]
            h_new += n
    h_T = hx[T if keep else 0, :, :d]
    return _Pass(hx, acts, cs, tanh_c, (st.V @ h_T)[:, 0] + st.c)


def stacked_predict(st: Stack, xs):
    """The predictions o_T: (S, B) of the S models for xs: (S, T, B, 2), model s reading xs[s].

    Keeps only the current step, so that a large test set needs little memory.
    """
    xs, _ = _check_stacked_data(st, xs, None, need_y=False)
    return _forward(st, xs, keep=False).o


def stacked_mse(st: Stack, xs, y):
    """Mean squared error of each model on its own data: xs: (S, T, B, 2), y: (S, B) -> (S,)."""
    xs, y = _check_stacked_data(st, xs, y)
    return np.mean((stacked_predict(st, xs) - y) ** 2, axis=1)
