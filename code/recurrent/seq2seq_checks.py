"""Chapter 9: checks of the encoder-decoder's gradients and padding on a small model, and its size.

``gradient_errors`` compares ``seq2seq.loss_and_grads`` with central differences for every entry of
every parameter (embeddings, encoder layers and directions, bridge, decoder, attention, output layer);
``padding_gap`` compares a padded batch with the same pairs run one by one, weighted by their target
tokens; ``count_params`` counts the entries. ``seq2seq_experiments`` re-exports all three.
"""
from __future__ import annotations

import numpy as np

from . import seq2seq
from . import seq2seq_data as sd
from ._checks import instance_of, positive_float
from .bptt import relative_error

__all__ = ["count_params", "gradient_errors", "padding_gap"]


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
