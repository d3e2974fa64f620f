"""Chapter 9: the encoder-decoder (Sutskever et al., 2014; Cho et al., 2014), with optional additive
attention (Bahdanau et al., 2015), trained with teacher forcing.

The encoder (``encoder``) reads the source ids (S, B) into outputs h_s: (S, B, D) and the top layer's
final state h_fin: (B, D). The decoder is a "torch" GRU with its own embedding E: (V_y, e)::

    s_0 = tanh(W_s h_fin + b_s)                       the bridge, always present (Bahdanau et al.'s
                                                      s_0 = tanh(W_s h_1), so d_dec may differ from D)
    plain       s_t = GRU(E[y_{t-1}], s_{t-1})                o_t = V s_t + c
    attention   c_t = attend(s_{t-1}, h_1..h_S)  (``attention``)
                s_t = GRU([E[y_{t-1}]; c_t], s_{t-1})         o_t = V [s_t; c_t] + c

Teacher forcing (教师强制): the decoder reads the true previous token, tgt_in = BOS y_1 .. y_L,
and is scored on tgt_out = y_1 .. y_L EOS. The loss is the cross-entropy summed over the real target
tokens of the whole batch (tgt_mask 1) and divided by their number, N = sum(tgt_mask): every real
token weighs the same, so a long sentence counts more than a short one (no mean of sentence means).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import attention as attn
from . import encoder, gru
from ._checks import as_bool, as_callable, as_float_array, as_int_array, instance_of, positive_int, rng_from
from .cell import _check_finite_gradient
from .losses import _log_softmax
from .training import Adam, History, clip_by_norm

__all__ = ["Seq2SeqParams", "Seq2SeqForward", "init_seq2seq", "forward", "loss_and_grads",
           "initial_state", "make_step", "train"]
GRU_SYMBOLS = ("U", "W", "b", "bh")          # the decoder cell's parameters (its V, c are unused)


@dataclass
class Seq2SeqParams:
    """enc: encoder.EncoderParams; E: (V_y, e) the target embedding; W_s: (d_dec, D), b_s: (d_dec,)
    the bridge; dec: a "torch" gru.GRUParams with n = e (+ D with attention) inputs and d_dec states
    (its V, c unused); att: attention.AttentionParams (d_q = d_dec) or None; V: (V_y, d_dec (+ D)),
    c: (V_y,) the output layer. ``items()`` names every array ("enc.E", "enc.l0.U", "E", "dec.U",
    "att.W_a", "V", ...) and ``p.<name>`` reaches it, so that ``training.Adam`` updates them in place.
    """

    enc: encoder.EncoderParams
    E: np.ndarray
    W_s: np.ndarray
    b_s: np.ndarray
    dec: gru.GRUParams
    V: np.ndarray
    c: np.ndarray
    att: attn.AttentionParams | None = None

    def __post_init__(self):
        instance_of("enc", self.enc, encoder.EncoderParams, "encoder.EncoderParams")
        instance_of("dec", self.dec, gru.GRUParams, "gru.GRUParams")
        if self.dec.variant != "torch":
            raise ValueError(f"dec: expected a GRU of variant 'torch', got {self.dec.variant!r}")
        D, d = self.enc.d_out, self.dec.d
        self.E = as_float_array("E", self.E, ndim=2, dims="(V_y, e)")
        V_y, e = self.E.shape
        self.W_s = as_float_array("W_s", self.W_s, shape=(d, D), dims="(d_dec, D)")
        self.b_s = as_float_array("b_s", self.b_s, shape=(d,), dims="(d_dec,)")
        if self.att is not None:
            instance_of("att", self.att, attn.AttentionParams, "attention.AttentionParams or None")
            if (self.att.d_q, self.att.D) != (d, D):
                raise ValueError(f"att: expected d_q={d} (the decoder's states) and D={D} (the "
                                 f"encoder's outputs), got d_q={self.att.d_q}, D={self.att.D}")
        extra = D if self.att is not None else 0
        if self.dec.n != e + extra:
            raise ValueError(f"E, dec: expected dec.n = e (+ D) = {e + extra}, got n={self.dec.n}")
        self.V = as_float_array("V", self.V, ndim=2, dims="(V_y, d_dec (+ D))")
        if self.V.shape != (V_y, d + extra):
            raise ValueError(f"E, V: expected V: (V_y, d_dec (+ D)) = {(V_y, d + extra)}, got {self.V.shape}")
        self.c = as_float_array("c", self.c, shape=(V_y,), dims="(V_y,)")

    def items(self) -> list:
        """(name, array) pairs of every parameter, in a fixed order."""
        pairs = [(f"enc.{s}", a) for s, a in self.enc.items()]
        pairs += [("E", self.E), ("W_s", self.W_s), ("b_s", self.b_s)]
        pairs += [(f"dec.{s}", getattr(self.dec, s)) for s in GRU_SYMBOLS]
        if self.att is not None:
            pairs += [(f"att.{s}", a) for s, a in self.att.items()]
        return pairs + [("V", self.V), ("c", self.c)]

    def __getattr__(self, name: str):
        if "." in name and name in (arrays := dict(self.items())):   # "enc.l0.U", "dec.W", "att.v"
            return arrays[name]
        raise AttributeError(f"Seq2SeqParams has no parameter {name!r}")

    def _with(self, arrays: dict) -> Seq2SeqParams:
        """A model like self holding ``arrays`` {name: array} (every name of ``items()``)."""
        enc = self.enc
        layers = [enc.layer(i) for i in range(enc.layers)]
        cells = tuple(cell._with({s: arrays[f"enc.{name}.{s}"] for s in GRU_SYMBOLS})
                      for names, cs in layers for name, cell in zip(names, cs))
        att = None if self.att is None else attn.AttentionParams._computed(
            **{s: arrays[f"att.{s}"] for s, _ in self.att.items()})
        dec = self.dec._with({s: arrays[f"dec.{s}"] for s in GRU_SYMBOLS})
        obj = object.__new__(Seq2SeqParams)
        obj.__dict__.update(enc=encoder.EncoderParams(arrays["enc.E"], cells, enc.bidirectional),
                            E=arrays["E"], W_s=arrays["W_s"], b_s=arrays["b_s"], dec=dec,
                            V=arrays["V"], c=arrays["c"], att=att)
        return obj

    def copy(self) -> Seq2SeqParams:  # a deep copy
        return self._with({s: a.copy() for s, a in self.items()})

    def scaled(self, factor: float) -> Seq2SeqParams:
        """A copy with every array multiplied by ``factor`` (for ``training.clip_by_norm``)."""
        factor = float(as_float_array("factor", factor, shape=(), dims="a number"))
        return self._with({s: a * factor for s, a in self.items()})

    def squared_norm(self) -> float:  # the sum of squares of every entry
        return sum(float(np.vdot(a, a)) for _, a in self.items())


def init_seq2seq(V_src: int, V_tgt: int, e: int, d: int, d_dec: int | None = None, layers: int = 1,
                 bidirectional: bool = False, attention: bool = True, a: int | None = None,
                 rng=0) -> Seq2SeqParams:
    """A random model: the encoder from ``encoder.init_encoder(V_src, e, d, layers, bidirectional)``
    (outputs D = d or 2d), d_dec decoder states (D if None), attention of size a (d_dec if None)."""
    V_src, V_tgt, e, d = (positive_int(s, v) for s, v in
                          (("V_src", V_src), ("V_tgt", V_tgt), ("e", e), ("d", d)))
    attention, rng = as_bool("attention", attention), rng_from(rng)
    enc = encoder.init_encoder(V_src, e, d, layers, bidirectional, rng)
    D = enc.d_out
    d_dec = D if d_dec is None else positive_int("d_dec", d_dec)
    att = attn.init_attention(d_dec, D, d_dec if a is None else a, rng) if attention else None
    extra = D if attention else 0
    return Seq2SeqParams(enc=enc, E=rng.normal(size=(V_tgt, e)),
                         W_s=rng.normal(0, 1 / np.sqrt(D), (d_dec, D)), b_s=np.zeros(d_dec),
                         dec=gru.init_gru(e + extra, d_dec, d_dec, rng=rng),
                         V=rng.normal(0, 1 / np.sqrt(d_dec + extra), (V_tgt, d_dec + extra)),
                         c=np.zeros(V_tgt), att=att)


class Seq2SeqForward(NamedTuple):
    """The teacher-forced pass over a batch: T source steps, L target steps, B examples."""

    enc: encoder.EncoderOutput   # hs: (T, B, D), final: (layers, B, D)
    s0: np.ndarray               # (B, d_dec) the bridge's output
    xs: np.ndarray               # (L, B, e (+ D)) the decoder's inputs [E[y_{t-1}]; c_t]
    states: tuple                # per step (plain: one for all steps) the encoder.Layer of the GRU
    steps: tuple                 # per step the attention.Attention (empty without attention)
    features: np.ndarray         # (L, B, d_dec (+ D)) what the output layer reads, [s_t; c_t]
    log_probs: np.ndarray        # (L, B, V_y) log-softmax of o_t


def _check_source(p, src_ids, src_mask, none_ok: bool = False):
    """src_ids: (T, B) in [0, V_src); src_mask: (T, B) 0/1, ones then zeros in each column, with a
    real token in every column when the model attends (None: no padding, if ``none_ok``)."""
    instance_of("p", p, Seq2SeqParams, "seq2seq.Seq2SeqParams")
    src_ids = as_int_array("src_ids", src_ids, 2, 0, p.enc.V, "(T, B)")
    if src_mask is None and none_ok:
        return src_ids, np.ones(src_ids.shape)
    mask = as_float_array("src_mask", src_mask, ndim=2, dims="(T, B)")
    if mask.shape != src_ids.shape:
        raise ValueError(f"src_ids, src_mask: expected one shape (T, B), got {src_ids.shape}, {mask.shape}")
    if not np.isin(mask, (0.0, 1.0)).all() or (mask[1:] > mask[:-1]).any():
        raise ValueError("src_mask: expected 0/1 entries, ones then zeros in every column")
    if p.att is not None and not mask[0].all():
        raise ValueError("src_mask: expected a real token in every column (attention needs one)")
    return src_ids, mask


def _check_batch(p, src_ids, src_mask, tgt_in, *targets):
    src_ids, src_mask = _check_source(p, src_ids, src_mask)
    V_y = p.E.shape[0]
    tgt_in = as_int_array("tgt_in", tgt_in, 2, 0, V_y, "(L, B)")
    if src_ids.shape[1] != tgt_in.shape[1]:
        raise ValueError(f"src_ids, tgt_in: expected B columns in both, got {src_ids.shape}, {tgt_in.shape}")
    if not targets:                                         # forward: no targets
        return src_ids, src_mask, tgt_in
    tgt_out = as_int_array("tgt_out", targets[0], 2, 0, V_y, "(L, B)")
    tgt_mask = as_float_array("tgt_mask", targets[1], ndim=2, dims="(L, B)")
    for name, a in (("tgt_out", tgt_out), ("tgt_mask", tgt_mask)):
        if a.shape != tgt_in.shape:
            raise ValueError(f"tgt_in, {name}: expected one shape (L, B), got {tgt_in.shape}, {a.shape}")
    if not np.isin(tgt_mask, (0.0, 1.0)).all() or tgt_mask.sum() == 0:
        raise ValueError("tgt_mask: expected 0/1 entries with at least one real target token")
    return src_ids, src_mask, tgt_in, tgt_out, tgt_mask


def forward(p: Seq2SeqParams, src_ids, src_mask, tgt_in) -> Seq2SeqForward:
    """Encode src_ids: (T, B) (src_mask: (T, B) 0/1, 1 at the real tokens) and run the decoder over
    tgt_in: (L, B), the true previous tokens."""
    src_ids, src_mask, tgt_in = _check_batch(p, src_ids, src_mask, tgt_in)
    out = encoder.encode(p.enc, src_ids, src_mask)
    s = s0 = np.tanh(out.final[-1] @ p.W_s.T + p.b_s)
    emb = encoder.embed(p.E, tgt_in)                                  # (L, B, e)
    if p.att is None:
        layer = encoder.masked_gru(p.dec, emb, None, s0)
        feats, states, steps, xs = layer.hs, (layer,), (), emb
    else:
        keys, states, steps, xs, feats = attn.key_projection(p.att, out.hs), [], [], [], []
        for t in range(len(tgt_in)):
            a = attn.forward(p.att, s, out.hs, src_mask, keys)
            x = np.concatenate([emb[t], a.context], axis=1)
            layer = encoder.masked_gru(p.dec, x[None], None, s)
            s = layer.hs[0]
            states.append(layer), steps.append(a), xs.append(x)
            feats.append(np.concatenate([s, a.context], axis=1))
        feats, xs, states, steps = np.stack(feats), np.stack(xs), tuple(states), tuple(steps)
    return Seq2SeqForward(out, s0, xs, states, steps, feats, _log_softmax(feats @ p.V.T + p.c))


def loss_and_grads(p: Seq2SeqParams, src_ids, src_mask, tgt_in, tgt_out, tgt_mask):
    """(loss, grads): the mean cross-entropy over the real target tokens (see the module) and its
    gradient with respect to every parameter, a Seq2SeqParams of the same shapes."""
    args = _check_batch(p, src_ids, src_mask, tgt_in, tgt_out, tgt_mask)
    src_ids, src_mask, tgt_in, tgt_out, tgt_mask = args
    f, (L, B), N = forward(p, src_ids, src_mask, tgt_in), tgt_in.shape, tgt_mask.sum()
    rows, cols = np.arange(L)[:, None], np.arange(B)
    loss = -float((f.log_probs[rows, cols, tgt_out] * tgt_mask).sum() / N)
    d_o = np.exp(f.log_probs)                                         # softmax - onehot, weighted
    d_o[rows, cols, tgt_out] -= 1.0
    d_o *= (tgt_mask / N)[..., None]
    g = {"V": np.einsum("tbk,tbf->kf", d_o, f.features), "c": d_o.sum(axis=(0, 1))}
    d_feat = d_o @ p.V                                                # (L, B, d_dec (+ D))
    d, e, hs = p.dec.d, p.E.shape[1], f.enc.hs
    d_hs = np.zeros_like(hs)
    if p.att is None:
        lg = encoder.masked_gru_backward(p.dec, f.xs, None, f.states[0], d_feat)
        dec_grads, d_emb, d_s = [lg.grads], lg.d_xs, lg.d_h0
    else:
        d_s, d_emb, dec_grads, att_grads = np.zeros((B, d)), np.zeros((L, B, e)), [], []
        for t in reversed(range(L)):
            lg = encoder.masked_gru_backward(p.dec, f.xs[t][None], None, f.states[t],
                                             (d_feat[t, :, :d] + d_s)[None])
            d_c = d_feat[t, :, d:] + lg.d_xs[0, :, e:]                # c_t feeds o_t and s_t
            ag = attn.backward(p.att, hs, f.steps[t], d_c)
            d_s = lg.d_h0 + ag.d_query                                # s_{t-1}: GRU and query
            d_emb[t] = lg.d_xs[0, :, :e]
            d_hs += ag.d_hs
            dec_grads.append(lg.grads), att_grads.append(ag.grads)
        g.update({f"att.{s}": sum(getattr(q, s) for q in att_grads) for s, _ in p.att.items()})
    g.update({f"dec.{s}": sum(getattr(q, s) for q in dec_grads) for s in GRU_SYMBOLS})
    g["E"] = encoder.embed_backward(p.E, tgt_in, d_emb)
    d_pre = d_s * (1 - f.s0 ** 2)                                     # through s_0 = tanh(.)
    g.update(W_s=d_pre.T @ f.enc.final[-1], b_s=d_pre.sum(axis=0))
    d_final = np.zeros_like(f.enc.final)
    d_final[-1] = d_pre @ p.W_s
    _check_finite_gradient(d_final)
    enc = encoder.encode_backward(p.enc, src_ids, src_mask, f.enc, d_hs, d_final)
    g.update({f"enc.{s}": a for s, a in enc.items()})
    return loss, p._with(g)


def initial_state(p: Seq2SeqParams, src_ids, src_mask=None) -> tuple:
    """The decoder's state before its first step for the B sources: (s_0: (B, d_dec), hs: (B, T, D),
    mask: (B, T)), batch first as ``decoding`` reorders hypotheses along axis 0."""
    src_ids, mask = _check_source(p, src_ids, src_mask, none_ok=True)
    out = encoder.encode(p.enc, src_ids, mask)
    s0 = np.tanh(out.final[-1] @ p.W_s.T + p.b_s)
    return s0, out.hs.transpose(1, 0, 2).copy(), mask.T.copy()


def make_step(p: Seq2SeqParams):
    """The decoder as ``decoding`` calls it: step(tokens: (K,), state) -> (log_probs: (K, V_y), state),
    state = (s: (K, d_dec), hs: (K, T, D), mask: (K, T)) as made by ``initial_state``."""
    instance_of("p", p, Seq2SeqParams, "seq2seq.Seq2SeqParams")

    def step(tokens, state):
        s, hs, mask = state
        x = encoder.embed(p.E, np.asarray(tokens)[None])[0]           # (K, e)
        if p.att is not None:
            a = attn.forward(p.att, s, hs.transpose(1, 0, 2), mask.T)
            x = np.concatenate([x, a.context], axis=1)
        s_new = encoder.masked_gru(p.dec, x[None], None, s).hs[0]
        feat = s_new if p.att is None else np.concatenate([s_new, a.context], axis=1)
        return _log_softmax(feat @ p.V.T + p.c), (s_new, hs, mask)

    return step


def train(p: Seq2SeqParams, batches, steps: int, lr: float = 0.01, clip: float = 1.0,
          log_every: int = 0, log=print) -> History:
    """Adam on ``batches`` (a list of (src_ids, src_mask, tgt_in, tgt_out, tgt_mask), such as
    seq2seq_data.Batch), taken in turn for ``steps`` steps, each gradient clipped to norm ``clip``;
    p changes in place. Every ``log_every`` steps (0: never) ``log`` gets a line of progress."""
    instance_of("p", p, Seq2SeqParams, "seq2seq.Seq2SeqParams")
    instance_of("batches", batches, (list, tuple), "a list of batches")
    if not batches or any(not isinstance(b, tuple) or len(b) != 5 for b in batches):
        raise ValueError("batches: expected a non-empty list of 5-tuples (src_ids, src_mask, tgt_in, "
                         "tgt_out, tgt_mask)")
    steps = positive_int("steps", steps)                   # clip_by_norm checks clip, Adam lr
    log_every = positive_int("log_every", log_every, minimum=0)
    as_callable("log", log, "a function of one string")
    adam, losses, norms = Adam(p, lr=lr), [], []
    for i in range(steps):
        loss, grads = loss_and_grads(p, *batches[i % len(batches)])
        grads, norm = clip_by_norm(grads, clip)
        adam(p, grads)
        losses.append(loss), norms.append(norm)
        if log_every and (i + 1) % log_every == 0:
            log(f"step {i + 1:>5}/{steps}  loss {np.mean(losses[-log_every:]):.3f} (nats per token)")
    return History(np.array(losses), np.array(norms), np.array([], int), np.array([]))
