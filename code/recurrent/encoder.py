"""Chapter 9: the encoder of a sequence-to-sequence model, over padded batches.

Ids are (T, B) integers, time first; ``mask: (T, B)`` is 1 at a real token and 0 at padding, every
column ones then zeros (padding at the end), so its sum is the sequence's length L_b.

    embedding          x_t = E[id_t]                                    E: (V, e), xs: (T, B, e)
    masked GRU layer   h_t = m_t GRU(x_t, h_{t-1}) + (1 - m_t) h_{t-1}   hs: (T, B, d)

After its last real token a sequence's state is carried unchanged, so column b's final state is
h_{L_b}. The states up to L_b are those of ``gru.forward`` over the padded inputs (padding comes
last), and the layer copies h_{L_b} into the padded steps; backward adds the copies' gradients to
h_{L_b} and runs ``gru.backward`` on the cell with V = I, c = 0 (so o_t = h_t).

A stacked encoder feeds each layer's states to the next. A bidirectional layer adds a reverse GRU that
reads each sequence from its own last real token back to its first; its states, put back in token order,
are concatenated with the forward ones, [h_fwd; h_bwd] (Schuster and Paliwal, 1997).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _checks, gru
from ._checks import as_bool, as_float_array, as_int_array, instance_of, positive_int, rng_from
from .cell import Forward
from .lstm import _blocks


def embed(E, ids) -> np.ndarray:
    """The rows of E: (V, e) for ids: (T, B) integers in [0, V): xs: (T, B, e), xs[t, b] = E[ids[t, b]]."""
    E = as_float_array("E", E, ndim=2, dims="(V, e)")
    return E[as_int_array("ids", ids, 2, 0, E.shape[0], "(T, B)")]


def embed_backward(E, ids, d_xs) -> np.ndarray:
    """dL/dE: (V, e) given d_xs = dL/dxs: (T, B, e), each d_xs[t, b] added to row ids[t, b]. A row gets
    gradient only where its id is used: the padding row none from padding, where the encoder's d_xs is 0."""
    E = as_float_array("E", E, ndim=2, dims="(V, e)")
    ids = as_int_array("ids", ids, 2, 0, E.shape[0], "(T, B)")
    d_xs = as_float_array("d_xs", d_xs, shape=ids.shape + E.shape[1:], dims="(T, B, e)")
    dE = np.zeros_like(E)
    np.add.at(dE, ids, d_xs)
    return dE


def _lengths(mask, T: int, B: int) -> np.ndarray:
    """The lengths L_b: (B,) of a (T, B) mask of ones then zeros (all ones if None)."""
    if mask is None:
        return np.full(B, T)
    mask = as_float_array("mask", mask, shape=(T, B), dims="(T, B), as the inputs")
    if not np.isin(mask, (0.0, 1.0)).all():
        raise ValueError("mask: expected only 0 and 1 entries, got other values")
    if (mask[1:] > mask[:-1]).any():
        raise ValueError("mask: expected every column to be ones then zeros (padding at the end), "
                         "got a 1 after a 0")
    return mask.sum(0).astype(int)


def _cell(p, name: str = "p") -> gru.GRUParams:
    """A "torch" GRU's parameters with V = I, c = 0, so that its outputs o_t are its states h_t."""
    instance_of(name, p, gru.GRUParams, "gru.GRUParams")
    if p.variant != "torch":
        raise ValueError(f"{name}: expected a GRU of variant 'torch', got {p.variant!r}")
    return p._with({"V": np.eye(p.d), "c": np.zeros(p.d)})


class Layer(NamedTuple):
    """The forward pass of a masked GRU layer."""

    hs: np.ndarray        # (T, B, d) h_1 .. h_T, carried unchanged through padding
    final: np.ndarray     # (B, d)    h_{L_b}, the state at each sequence's last real token
    lengths: np.ndarray   # (B,)      L_b
    fwd: Forward          # gru.forward of the cell over the padded inputs


class LayerGrads(NamedTuple):
    """The backward pass of a masked GRU layer."""

    grads: gru.GRUParams  # dL/dU, dL/dW, dL/db, dL/dbh (dL/dV, dL/dc zero: the layer has no output)
    d_xs: np.ndarray      # (T, B, n) zero at padded steps
    d_h0: np.ndarray      # (B, d)


def masked_gru(p: gru.GRUParams, xs, mask=None, h0=None) -> Layer:
    """The masked GRU layer over xs: (T, B, n) with mask: (T, B) (no padding if None), from h0: (B, d)
    (zeros if None); p is a "torch" GRU, whose V and c are not used."""
    fwd = gru.forward(_cell(p), xs, h0)
    T, B, _ = fwd.hs.shape
    lengths, cols = _lengths(mask, T, B), np.arange(B)
    H = np.concatenate([fwd.h0[None], fwd.hs])                   # h_0 .. h_T of the plain GRU
    steps = np.minimum(np.arange(1, T + 1)[:, None], lengths)     # h_t of the layer is H[min(t, L_b)]
    return Layer(H[steps, cols], H[lengths, cols], lengths, fwd)


def masked_gru_backward(p: gru.GRUParams, xs, mask, layer: Layer, d_hs, d_hT=None) -> LayerGrads:
    """Backward through ``layer = masked_gru(p, xs, mask, h0)`` given d_hs = dL/dh_t: (T, B, d) at every
    step and d_hT = dL/dh_T: (B, d) at the final state (zeros if None). A carried copy's gradient goes to
    h_{L_b}; from the plain GRU's total dh_t, as in ``gru.backward``, da_z = dh (h_{t-1} - n) z (1 - z),
    da_n = dh (1 - z)(1 - n^2), da_r = da_n (W_n h_{t-1} + bh) r (1 - r), and d_xs[t] = U^T da_t."""
    q = _cell(p)
    instance_of("layer", layer, Layer, "encoder.Layer (a masked_gru pass)")
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, n)")
    T, B, d = layer.hs.shape
    if xs.shape != (T, B, q.n) or layer.fwd.kind != q.kind or d != q.d:
        raise ValueError(f"layer: expected the masked_gru pass of this cell over xs of shape {xs.shape}, "
                         f"got one with states of shape {layer.hs.shape}")
    lengths, cols = _lengths(mask, T, B), np.arange(B)
    if not np.array_equal(lengths, layer.lengths):
        raise ValueError("mask: expected the mask of the forward pass, got other lengths")
    d_hs, dH = as_float_array("d_hs", d_hs, shape=(T, B, d), dims="(T, B, d)"), np.zeros((T + 1, B, d))
    np.add.at(dH, (np.minimum(np.arange(1, T + 1)[:, None], lengths), cols), d_hs)  # dL/dh_0 .. dL/dh_T
    if d_hT is not None:
        dH[lengths, cols] += as_float_array("d_hT", d_hT, shape=(B, d), dims="(B, d)")
    bwd = gru.backward(q, xs, layer.fwd, dH[1:])
    dh = bwd.d_hs                                  # the total dL/dh_t of the plain GRU, every path
    h_prev = np.concatenate([layer.fwd.h0[None], layer.fwd.hs[:-1]])
    r, z, n = _blocks(layer.fwd.gates, 3)
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_n = dh * (1 - z) * (1 - n ** 2)
    da_r = da_n * (h_prev @ q.W[2 * d:].T + q.bh) * r * (1 - r)
    d_xs = np.concatenate([da_r, da_z, da_n], axis=-1) @ q.U
    grads = bwd.grads._with({"V": np.zeros_like(p.V), "c": np.zeros_like(p.c)})
    return LayerGrads(grads, d_xs, bwd.d_h0 + dH[0])


@dataclass
class EncoderParams:
    """An embedding E: (V, e) and ``layers`` stacked GRU layers, one cell per direction.

    ``cells`` are "torch" GRUParams, layer-major, the forward direction before the reverse one: l0,
    l0_reverse, l1, ... (PyTorch's order). Layer 0 reads x_t: (e,), layer l > 0 the previous layer's
    states: (d,), or (2d,) if bidirectional. Each cell's V = I and c = 0 are not parameters (the
    encoder has no outputs of its own) and ``items`` leaves them out.
    """

    E: np.ndarray
    cells: tuple
    bidirectional: bool = False

    def __post_init__(self):
        self.E = as_float_array("E", self.E, ndim=2, dims="(V, e)")
        self.bidirectional = as_bool("bidirectional", self.bidirectional)
        instance_of("cells", self.cells, (tuple, list), "a tuple of gru.GRUParams")
        D = 2 if self.bidirectional else 1
        if not self.cells or len(self.cells) % D:
            raise ValueError(f"cells: expected a positive multiple of {D} cells (one per layer and "
                             f"direction), got {len(self.cells)}")
        self.cells = tuple(_cell(cell, f"cells[{i}]") for i, cell in enumerate(self.cells))
        for i, cell in enumerate(self.cells):
            n, d = self.e if i < D else D * self.d, self.d
            if cell.d != d or cell.n != n:
                raise ValueError(f"cells[{i}]: expected a GRU with n={n} inputs and d={d} states, got "
                                 f"n={cell.n}, d={cell.d}")

    V = property(lambda self: self.E.shape[0], doc="Vocabulary size.")
    e = property(lambda self: self.E.shape[1], doc="Embedding size.")
    d = property(lambda self: self.cells[0].d, doc="Hidden size of each direction.")
    directions = property(lambda self: 2 if self.bidirectional else 1, doc="1 or 2.")
    layers = property(lambda self: len(self.cells) // self.directions, doc="Number of layers.")
    d_out = property(lambda self: self.directions * self.d, doc="Size of the outputs, d or 2d.")
    names = property(lambda self: _names(self.layers, self.directions), doc="l0, l0_reverse, l1, ...")

    def layer(self, i: int) -> tuple:
        """The names ("l0", "l0_reverse" for i = 0) and the cells of layer i, forward direction first."""
        D, i = self.directions, positive_int("i", i, 0, self.layers - 1)
        return self.names[i * D:(i + 1) * D], self.cells[i * D:(i + 1) * D]

    def items(self) -> list:
        """(name, array) pairs of every parameter: "E", then "l0.U", "l0.W", "l0.b", "l0.bh", ..."""
        return [("E", self.E)] + [(f"{name}.{s}", a) for name, cell in zip(self.names, self.cells)
                                  for s, a in cell.items() if s not in ("V", "c")]

    def copy(self) -> EncoderParams:  # a deep copy
        return EncoderParams(self.E.copy(), tuple(c.copy() for c in self.cells), self.bidirectional)


def init_encoder(V: int, e: int, d: int, layers: int = 1, bidirectional: bool = False,
                 rng=0) -> EncoderParams:
    """Random encoder parameters: E ~ N(0, 1) (as torch.nn.Embedding) and cells from gru.init_gru."""
    V, e, d = (positive_int(s, v) for s, v in (("V", V), ("e", e), ("d", d)))
    layers, D = positive_int("layers", layers), 2 if as_bool("bidirectional", bidirectional) else 1
    rng = rng_from(rng)                                   # E first, then the cells in order
    return EncoderParams(rng.normal(size=(V, e)), [gru.init_gru(e if i < D else D * d, d, d, rng=rng)
                                                   for i in range(layers * D)], bidirectional)


def _names(layers: int, D: int) -> list:
    """The cells' names "l0", "l0_reverse", "l1", ... (D = 2 directions) in the order of ``cells``."""
    return [f"l{i // D}" + ("_reverse" if i % D else "") for i in range(layers * D)]


class EncoderOutput(NamedTuple):
    """What ``encode`` computes; ``cache`` is what ``encode_backward`` needs."""

    hs: np.ndarray        # (T, B, d_out) the top layer's outputs, zero at padded positions
    final: np.ndarray     # (layers, B, d_out) [h_fwd at the last real token; h_bwd after x_1]
    lengths: np.ndarray   # (B,)
    cache: tuple          # per layer: (inputs, forward Layer, reverse Layer or None)


def _reversal(lengths, T: int):
    """(rows, cols) that reverse each column within its length, rows[t, b] = L_b - 1 - t for t < L_b and
    t at padding (its own inverse), and keep: (T, B, 1), True at the real tokens."""
    t = np.arange(T)[:, None]
    return (np.where(t < lengths, lengths - 1 - t, t), np.arange(len(lengths))), (t < lengths)[..., None]


def _check_ids(p, ids, mask):
    instance_of("p", p, EncoderParams, "encoder.EncoderParams")
    ids = as_int_array("ids", ids, 2, 0, p.V, "(T, B)")                 # not empty
    return ids, _lengths(mask, *ids.shape)


def encode(p: EncoderParams, ids, mask=None) -> EncoderOutput:
    """Run the encoder over ids: (T, B) with mask: (T, B) (no padding if None), from zero states."""
    ids, lengths = _check_ids(p, ids, mask)
    rev, keep = _reversal(lengths, ids.shape[0])
    x, cache, finals = p.E[ids], [], []
    for i in range(p.layers):
        _, cells = p.layer(i)
        f = masked_gru(cells[0], x, mask)
        hs, final, b = [f.hs], [f.final], None
        if p.bidirectional:
            b = masked_gru(cells[1], x[rev], mask)               # reads x_{L_b}, .., x_1
            hs.append(b.hs[rev])                                 # back in the order of the tokens
            final.append(b.final)
        cache.append((x, f, b))
        x = np.concatenate(hs, axis=-1) * keep
        finals.append(np.concatenate(final, axis=-1))
    return EncoderOutput(x, np.stack(finals), lengths, tuple(cache))


def encode_backward(p: EncoderParams, ids, mask, out: EncoderOutput, d_hs=None, d_final=None) -> dict:
    """Gradients {name: array} of every parameter (the names of ``p.items()``) given d_hs = dL/dhs:
    (T, B, d_out) and d_final = dL/dfinal: (layers, B, d_out) (zeros if None); mask as for ``out``."""
    ids, lengths = _check_ids(p, ids, mask)
    instance_of("out", out, EncoderOutput, "encoder.EncoderOutput (an encode pass)")
    T, B = ids.shape
    if out.hs.shape != (T, B, p.d_out) or len(out.cache) != p.layers or out.lengths.shape != (B,) \
            or (out.lengths != lengths).any():
        raise ValueError(f"out: expected the encode pass of p over ids of shape {ids.shape}, got one "
                         f"with outputs of shape {out.hs.shape}")
    dx = np.zeros((T, B, p.d_out)) if d_hs is None else \
        as_float_array("d_hs", d_hs, shape=(T, B, p.d_out), dims="(T, B, d_out)")
    d_final = np.zeros(out.final.shape) if d_final is None else \
        as_float_array("d_final", d_final, shape=out.final.shape, dims="(layers, B, d_out)")
    (rev, keep), d, grads = _reversal(lengths, T), p.d, {}
    for i in reversed(range(p.layers)):
        x, f, b = out.cache[i]
        dh = dx * keep                                           # the outputs are zero at padding
        names, cells = p.layer(i)
        g = masked_gru_backward(cells[0], x, mask, f, dh[..., :d], d_final[i, :, :d])
        dx, parts = g.d_xs, [g.grads]
        if p.bidirectional:
            g = masked_gru_backward(cells[1], x[rev], mask, b, dh[..., d:][rev], d_final[i, :, d:])
            dx = dx + g.d_xs[rev]
            parts.append(g.grads)
        for name, part in zip(names, parts):
            grads.update((f"{name}.{s}", a) for s, a in part.items() if s not in ("V", "c"))
    grads["E"] = embed_backward(p.E, ids, dx)
    return {name: grads[name] for name, _ in p.items()}


def count_params(V: int, e: int, d: int, layers: int = 1, bidirectional: bool = False,
                 biases: str = "one") -> dict:
    """Parameters of ``init_encoder(V, e, d, layers, bidirectional)``: {"E": V e, "l0": ..., "total"}. A cell
    with n inputs has 3d n + 3d d + 4d (b, bh), torch.nn.GRU's 3d n + 3d d + 6d (biases="two": b_ih, b_hh)."""
    V, e, d = (positive_int(s, v) for s, v in (("V", V), ("e", e), ("d", d)))
    layers, D = positive_int("layers", layers), 2 if as_bool("bidirectional", bidirectional) else 1
    bias = {"one": 4, "two": 6}[_checks.one_of("biases", biases, ("one", "two"))]
    counts = {"E": V * e}
    for i, name in enumerate(_names(layers, D)):
        counts[name] = 3 * d * (e if i < D else D * d) + 3 * d * d + bias * d
    counts["total"] = sum(counts.values())
    return counts


def from_torch(state: dict, bidirectional: bool = False) -> EncoderParams:
    """The encoder with PyTorch's parameters ``state``: "embedding.weight" (torch.nn.Embedding) and
    "gru.weight_ih_l0", "gru.bias_hh_l0_reverse", ... (torch.nn.GRU, batch_first=False)."""
    D = 2 if as_bool("bidirectional", bidirectional) else 1
    _checks.has_keys("state", state, ["embedding.weight"])
    layers = max(1, sum(k.startswith("gru.weight_ih_l") for k in state) // D)
    keys, cells = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), []
    for name in _names(layers, D):
        _checks.has_keys("state", state, [f"gru.{k[:-2]}{name}" for k in keys])
        one = {k: state[f"gru.{k[:-2]}{name}"] for k in keys}
        d = np.shape(one["weight_hh_l0"])[-1]
        cells.append(_cell(gru.from_torch(one | {"linear.weight": np.eye(d), "linear.bias": np.zeros(d)})))
    return EncoderParams(state["embedding.weight"], tuple(cells), bidirectional)


def to_torch(p: EncoderParams) -> dict:
    """Inverse of ``from_torch``: PyTorch's names and arrays; bias_ih = b, bias_hh = [0; 0; bh]."""
    state = {"embedding.weight": instance_of("p", p, EncoderParams, "encoder.EncoderParams").E.copy()}
    for name, cell in zip(p.names, p.cells):
        state |= {f"gru.{k[:-2]}{name}": a for k, a in gru.to_torch(cell).items() if k[:3] != "lin"}
    return state
