"""Chapter 9: checks of the encoder-decoder and of beam search, scheduled sampling's inputs, storage.

``gradient_errors`` compares ``seq2seq.loss_and_grads`` with central differences for every entry of
every parameter (embeddings, encoder layers and directions, bridge, decoder, attention, output layer);
``padding_gap`` compares a padded batch with the same pairs run one by one, weighted by their target
tokens; ``count_params`` counts the entries. ``beam_versus_exhaustive`` (toy bigram models),
``beam_check`` (a trained model) and ``beam_counterexample`` compare beam search with exhaustive search.
``scheduled_inputs`` builds scheduled sampling's decoder inputs (Bengio et al. 2015); ``save_params`` /
``load_params`` store a model. ``seq2seq_experiments`` re-exports all of them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import decoding, seq2seq
from . import seq2seq_data as sd
from ._checks import float_in, instance_of, positive_float, positive_int, rng_from
from .bptt import relative_error
from .losses import _log_softmax

__all__ = ["count_params", "gradient_errors", "padding_gap", "BeamVersusExhaustive", "beam_versus_exhaustive",
           "toy_bigram", "BeamCheck", "beam_check", "Counterexample", "beam_counterexample",
           "scheduled_inputs", "save_params", "load_params"]
BOS, EOS = 0, 1                        # of the toy bigram models


def count_params(params) -> int:
    """The number of entries of every array of a Seq2SeqParams."""
    instance_of("params", params, seq2seq.Seq2SeqParams, "seq2seq.Seq2SeqParams")
    return int(sum(a.size for _, a in params.items()))


def _loss_batch(p, batch) -> tuple:
    instance_of("p", p, seq2seq.Seq2SeqParams, "seq2seq.Seq2SeqParams")
    if not isinstance(batch, tuple) or len(batch) != 5:
        raise TypeError(f"batch: expected a 5-tuple (src_ids, src_mask, tgt_in, tgt_out, tgt_mask) such "
                        f"as seq2seq_data.Batch, got {type(batch).__name__}")
    seq2seq.loss_and_grads(p, *batch)                  # checks the shapes and ids, naming them
    return tuple(np.asarray(a) for a in batch)


def gradient_errors(p, batch, eps: float = 1e-4) -> dict:
    """{name: relative error} of ``seq2seq.loss_and_grads``'s gradient of each parameter of p against
    central differences (L(a + eps e_i) - L(a - eps e_i)) / (2 eps) for every entry i, on ``batch``
    (src_ids, src_mask, tgt_in, tgt_out, tgt_mask); the error is ||g - g_num|| / max(||g||, ||g_num||)
    (``bptt.relative_error``). eps = 1e-4 rather than 1e-5: dL/dW_a is small (W_a s_{t-1} moves every score
    of a step alike), and round-off then dominates a smaller step. Costs 2 forward passes per entry, so
    it is for small models: e = d = 2, d_dec = 3, a = 2 with 2 bidirectional layers (444 entries) on two
    pairs of lengths 2 and 1 takes about 0.8 s."""
    src, src_mask, tgt_in, tgt_out, tgt_mask = _loss_batch(p, batch)
    eps = positive_float("eps", eps)
    _, grads = seq2seq.loss_and_grads(p, src, src_mask, tgt_in, tgt_out, tgt_mask)
    rows, cols, N = np.arange(len(tgt_in))[:, None], np.arange(tgt_in.shape[1]), tgt_mask.sum()

    def loss(q):
        f = seq2seq.forward(q, src, src_mask, tgt_in)
        return -float((f.log_probs[rows, cols, tgt_out] * tgt_mask).sum() / N)

    q, errors = p.copy(), {}
    for name, a in q.items():
        numeric = np.zeros(a.shape)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + eps
            up = loss(q)
            a[i] = keep - eps
            numeric[i] = (up - loss(q)) / (2 * eps)
            a[i] = keep
        errors[name] = relative_error(getattr(grads, name), numeric)
    return errors


def padding_gap(p, sources, targets) -> float:
    """The largest relative difference, over the loss and every gradient, between the padded batch of
    the pairs (``seq2seq_data.make_batch``) and the token-weighted sum of the pairs run one by one:
    N L = sum_b N_b L_b, N g = sum_b N_b g_b, N_b = L_y,b + 1 real target tokens. 0 in exact arithmetic."""
    instance_of("p", p, seq2seq.Seq2SeqParams, "seq2seq.Seq2SeqParams")
    b = sd.make_batch(sources, targets)
    loss, grads = seq2seq.loss_and_grads(p, *b)
    N, total, summed = b.dec_mask.sum(), 0.0, {name: 0.0 for name, _ in p.items()}
    for i in range(len(sources)):
        one = sd.make_batch([sources[i]], [targets[i]])
        n_i = one.dec_mask.sum()
        loss_i, grads_i = seq2seq.loss_and_grads(p, *one)
        total += n_i * loss_i
        for name, g in grads_i.items():
            summed[name] = summed[name] + n_i * g
    gaps = [abs(N * loss - total) / abs(total)]
    gaps += [relative_error(N * g, summed[name]) for name, g in grads.items()]
    return float(max(gaps))


def _shape_config(p: seq2seq.Seq2SeqParams) -> dict:
    return dict(V_src=p.enc.V, V_tgt=int(p.E.shape[0]), e=p.enc.e, d=p.enc.d, d_dec=p.dec.d,
                layers=p.enc.layers, bidirectional=p.enc.bidirectional, attention=p.att is not None,
                a=None if p.att is None else int(p.att.W_a.shape[0]))


def save_params(p, path, meta: dict | None = None) -> Path:
    """Write p to the .npz file ``path``: every array under its name (``p.items()``), the shapes under
    "config" and ``meta`` (a JSON-serialisable dict) under "meta", both as JSON text."""
    instance_of("p", p, seq2seq.Seq2SeqParams, "seq2seq.Seq2SeqParams")
    instance_of("path", path, (str, Path), "a file path (str or pathlib.Path)")
    meta = {} if meta is None else dict(instance_of("meta", meta, dict, "a dict or None"))
    path = Path(path)
    np.savez_compressed(path, config=json.dumps(_shape_config(p)), meta=json.dumps(meta),
                        **dict(p.items()))
    return path


def _read(path) -> tuple:
    instance_of("path", path, (str, Path), "a file path (str or pathlib.Path)")
    if not Path(path).is_file():
        raise ValueError(f"path: expected an .npz file written by save_params, got {str(path)!r} "
                         "(no such file)")
    with np.load(path) as f:
        if "config" not in f.files:
            raise ValueError("path: expected an .npz file written by save_params, got one without 'config'")
        arrays = {k: f[k] for k in f.files}
    config = json.loads(str(arrays.pop("config")))
    meta = json.loads(str(arrays.pop("meta", "{}")))
    p = seq2seq.init_seq2seq(config["V_src"], config["V_tgt"], config["e"], config["d"], config["d_dec"],
                             config["layers"], config["bidirectional"], config["attention"], config["a"])
    for name, a in p.items():
        if name not in arrays or arrays[name].shape != a.shape:
            raise ValueError(f"path: expected an array {name!r} of shape {a.shape} in {str(path)!r}, got "
                             f"{'none' if name not in arrays else arrays[name].shape}")
        a[...] = arrays[name]
    return p, meta


def load_params(path) -> seq2seq.Seq2SeqParams:
    """The Seq2SeqParams stored by ``save_params`` in ``path``."""
    return _read(path)[0]


def toy_bigram(rng, V: int = 5, scale: float = 1.0) -> np.ndarray:
    """A random next-token table log p(next | last): (V, V), logits scale N(0, 1), with BOS = 0 never
    produced (logit -20) and EOS = 1 (``decoding.bigram_step`` turns it into a step function)."""
    V, scale = positive_int("V", V, 2), positive_float("scale", scale)
    z = scale * rng_from(rng).normal(size=(V, V))
    z[:, BOS] = -20.0
    return _log_softmax(z)


class BeamVersusExhaustive(NamedTuple):
    models: int               # toy models tried
    widths: tuple             # beam widths
    found: np.ndarray         # (W,) int: models where that width's best output is the exhaustive argmax
    greedy_mismatches: int    # models where width 1's output differs from decoding.greedy's


def _widths(widths) -> tuple:
    if not isinstance(widths, (list, tuple)) or not widths:
        raise TypeError(f"widths: expected a non-empty list of beam widths, got {type(widths).__name__}")
    return tuple(positive_int(f"widths[{i}]", w) for i, w in enumerate(widths))


def beam_versus_exhaustive(models: int = 40, V: int = 5, max_len: int = 5, widths=(1, 2, 3, 5),
                           rng=0) -> BeamVersusExhaustive:
    """On ``models`` random toy bigram models (``toy_bigram(rng, V)``, one after the other from ``rng``)
    with outputs of at most ``max_len`` tokens: how often beam search of each width finds the exhaustive
    argmax (decoding.exhaustive), and how often width 1 differs from greedy decoding (never, if correct)."""
    models, max_len = positive_int("models", models), positive_int("max_len", max_len)
    V, rng, widths = positive_int("V", V, 2), rng_from(rng), _widths(widths)
    found, mismatches, state0 = np.zeros(len(widths), int), 0, np.zeros((1, 1))
    for _ in range(models):
        step = decoding.bigram_step(toy_bigram(rng, V))
        best = decoding.exhaustive(step, state0, BOS, EOS, max_len)[0].tokens
        for j, w in enumerate(widths):
            beam = decoding.beam_search(step, state0, BOS, EOS, max_len, w)[0]
            found[j] += np.array_equal(beam.tokens, best)
        one = decoding.beam_search(step, state0, BOS, EOS, max_len, 1)[0].tokens
        mismatches += not np.array_equal(one, decoding.greedy(step, state0, BOS, EOS, max_len).tokens)
    return BeamVersusExhaustive(models, widths, found, mismatches)


class BeamCheck(NamedTuple):
    count: int                # sources checked
    widths: tuple
    found: np.ndarray         # (W,) int: sources where that width's best output is the exhaustive argmax
    greedy_mismatches: int    # sources where width 1's output differs from decoding.greedy's


def _the_run(run):
    from .seq2seq_experiments import Run
    return instance_of("run", run, Run, "seq2seq_experiments.Run (from train_run)")


def beam_check(run, sources, widths=(1, 5), max_len: int | None = None) -> BeamCheck:
    """The same comparison on a trained ``run`` for each of ``sources``: exhaustive search over every
    output of at most ``max_len`` tokens (None: the source's length + 1, the right answer's, EOS
    included). There are about 13^max_len of them (V = 14): keep sources to 3 digits or fewer."""
    run, widths = _the_run(run), _widths(widths)
    sources = sd._strings("sources", sources)
    max_len = None if max_len is None else positive_int("max_len", max_len)
    step, found, mismatches = seq2seq.make_step(run.params), np.zeros(len(widths), int), 0
    for s in sources:
        b, m = sd.make_batch([s], [s], run.reverse_source), max_len or len(s) + 1
        state0 = seq2seq.initial_state(run.params, b.src)
        best = decoding.exhaustive(step, state0, sd.BOS, sd.EOS, m)[0].tokens
        for j, w in enumerate(widths):
            beam = decoding.beam_search(step, state0, sd.BOS, sd.EOS, m, w)[0]
            found[j] += np.array_equal(beam.tokens, best)
        one = decoding.beam_search(step, state0, sd.BOS, sd.EOS, m, 1)[0].tokens
        mismatches += not np.array_equal(one, decoding.greedy(step, state0, sd.BOS, sd.EOS, m).tokens)
    return BeamCheck(len(sources), widths, found, mismatches)


class Counterexample(NamedTuple):
    model: int                # the seed of the toy model (toy_bigram(model, V, scale))
    width: int                # the beam width that misses (V)
    step: object              # its step function, state0 and tokens, for decoding's functions
    state0: np.ndarray
    bos: int
    eos: int
    beam_tokens: np.ndarray   # beam search's best output and its log-probability
    beam_log_prob: float
    best_tokens: np.ndarray   # the exhaustive argmax, more probable
    best_log_prob: float


def beam_counterexample(V: int = 5, max_len: int = 5, scale: float = 1.0,
                        search: int = 2000) -> Counterexample:
    """The first toy model ``toy_bigram(seed, V, scale)``, seed = 0, 1, .., on which beam search of width
    V misses the exhaustive argmax over outputs of at most ``max_len`` tokens (by more than 1e-9 in log
    p): a beam as wide as the vocabulary is no guarantee. ValueError if none of ``search`` models has one."""
    V, max_len = positive_int("V", V, 2), positive_int("max_len", max_len)
    search = positive_int("search", search)
    scale, state0 = positive_float("scale", scale), np.zeros((1, 1))
    for seed in range(search):
        step = decoding.bigram_step(toy_bigram(seed, V, scale))
        beam = decoding.beam_search(step, state0, BOS, EOS, max_len, V)[0]
        best = decoding.exhaustive(step, state0, BOS, EOS, max_len)[0]
        if best.log_prob > beam.log_prob + 1e-9:
            return Counterexample(seed, V, step, state0, BOS, EOS, beam.tokens, beam.log_prob, best.tokens,
                                  best.log_prob)
    raise ValueError(f"search: no model among the first {search} has beam width {V} miss the argmax "
                     f"(V={V}, max_len={max_len}, scale={scale}); expected a larger search")


def scheduled_inputs(run, batch, epsilon: float, rng=0) -> np.ndarray:
    """Scheduled sampling's decoder inputs (Bengio et al. 2015): dec_in (L, B) of ``batch`` (a
    seq2seq_data.Batch) with each real token at t >= 1 replaced, with probability ``epsilon``, by the
    model's own greedy prediction of it (the teacher-forced argmax at step t - 1); BOS and PAD stay."""
    run = _the_run(run)
    instance_of("batch", batch, sd.Batch, "seq2seq_data.Batch")
    epsilon, rng = float_in("epsilon", epsilon, 0.0, 1.0, "[]"), rng_from(rng)
    f = seq2seq.forward(run.params, batch.src, batch.src_mask, batch.dec_in)
    guess = f.log_probs.argmax(axis=-1)                           # (L, B): the model's y_t, t = 1..L
    swap = (rng.random(batch.dec_in.shape) < epsilon) & (batch.dec_mask > 0)
    swap[0] = False
    out = batch.dec_in.copy()
    out[1:][swap[1:]] = guess[:-1][swap[1:]]
    return out
