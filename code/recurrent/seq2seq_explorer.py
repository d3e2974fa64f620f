"""Chapter 9's explorer: the hypotheses a beam search keeps, and where the best of them attended.

``beam_view(p, source, width)`` decodes one source string with ``decoding.beam_search`` (束搜索) on
the model's step function (``seq2seq.make_step``, ``seq2seq.initial_state``) and returns the best
``width`` of the hypotheses it finished or cut, best first, with log p(y), the length-normalised
score s(y) = log p(y) / lp(L) and whether each is the right answer. It also returns the attention
weights alpha_{t,s} (注意力权重) of the best hypothesis, read by teacher forcing that hypothesis
through ``seq2seq.forward``: row t is the distribution over the source tokens that the decoder used
to write output token t (EOS included). ``search_attention`` records the weights the decoder
computed during the search itself, for every hypothesis; ``beam_view`` checks that the two agree.

The explorer (``interactive``) is ``make_compute(p, sources)`` -> compute(example, width), drawn by
``plots.beam_view``, with ``controls(sources)``: which example, and which beam width.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import attention as attn
from . import decoding, seq2seq
from . import seq2seq_data as sd
from ._checks import as_bool, instance_of, one_of, positive_float, positive_int
from .controls import Control

__all__ = ["BeamView", "beam_view", "make_compute", "controls", "search_attention"]

LABELS = {sd.PAD: "PAD", sd.BOS: "BOS", sd.EOS: "EOS"}      # the map's tick labels of the special tokens


class BeamView(NamedTuple):
    """One beam search on one source: its K = min(width, found) best hypotheses (best first), and the
    attention of the best."""

    source: str               # the source string as given (digits)
    target: str               # the right answer, seq2seq_data.answer(task, source)
    width: int                # the beam width
    alpha: float              # the length-penalty exponent of the scores (0: s(y) = log p(y))
    found: int                # how many hypotheses the search finished or cut (it keeps width
                              # candidates per step, so up to width * max_len); the best K shown
    hypotheses: list          # K strings: the output tokens without the final EOS, best first
    log_probs: np.ndarray     # (K,) log p(y), EOS included when the hypothesis finished
    scores: np.ndarray        # (K,) s(y) = log p(y) / lp(L), the order of the hypotheses
    correct: np.ndarray       # (K,) bool: the target's tokens, then EOS
    finished: np.ndarray      # (K,) bool: ended with EOS (else cut at max_len)
    weights: np.ndarray       # (L, S) alpha_{t,s} of the best hypothesis; each row sums to 1
    source_tokens: list       # S labels, in the order the encoder read them (reversed if so fed)
    output_tokens: list       # L labels: the best hypothesis's tokens (EOS last if it finished)


def _source_ids(p, source: str, reverse_source: bool) -> np.ndarray:
    ids = sd._encode("source", source)
    if len(ids) == 0:
        raise ValueError("source: expected a non-empty string of digits, got ''")
    if ids.max() >= p.enc.V:
        raise ValueError(f"source: expected symbols of the model's source vocabulary (ids < {p.enc.V}), "
                         f"got {source!r}")
    return ids[::-1].copy() if reverse_source else ids


def _check_model(p) -> None:
    instance_of("p", p, seq2seq.Seq2SeqParams, "seq2seq.Seq2SeqParams")
    if p.att is None:
        raise ValueError("p: expected a model with attention (its attention map is drawn), got a plain "
                         "encoder-decoder (p.att is None)")
    if p.E.shape[0] < sd.V:
        raise ValueError(f"p: expected a target vocabulary of seq2seq_data's {sd.V} tokens, got "
                         f"{p.E.shape[0]}")


def _recording_step(p, log: dict):
    """The model's step function with the attention of every prefix written to ``log``:
    log[(BOS, y_1, .., y_t)] = alpha (S,), the weights used to write y_{t+1}. The state is
    seq2seq's (s, hs, mask) and the prefixes read so far (K, t + 1), which follow the beam."""
    inner = seq2seq.make_step(p)

    def step(tokens, state):
        s, hs, mask, prefixes = state
        prefixes = np.concatenate([prefixes, np.asarray(tokens, dtype=np.int64)[:, None]], axis=1)
        a = attn.forward(p.att, s, hs.transpose(1, 0, 2), mask.T)
        for prefix, w in zip(prefixes.tolist(), a.weights.T):
            log[tuple(prefix)] = w
        log_probs, (s_new, hs, mask) = inner(tokens, (s, hs, mask))
        return log_probs, (s_new, hs, mask, prefixes)

    return step


def _max_len(max_len, S: int) -> int:
    return S + 3 if max_len is None else positive_int("max_len", max_len)


def search_attention(p, source: str, width: int, alpha: float = 0.0, reverse_source: bool = False,
                     max_len: int | None = None) -> tuple:
    """(hypotheses, weights): ``decoding.beam_search`` on ``source`` as ``beam_view`` runs it, and the
    attention the decoder computed during that search: weights[i] (L_i, S) for hypothesis i, row t
    the weights used to write its token t. max_len None: S + 3 tokens (S = len(source))."""
    _check_model(p)
    src = _source_ids(p, source, as_bool("reverse_source", reverse_source))
    width, alpha = positive_int("width", width), positive_float("alpha", alpha, allow_zero=True)
    max_len, log = _max_len(max_len, len(src)), {}
    s0, hs, mask = seq2seq.initial_state(p, src[:, None])
    state0 = (s0, hs, mask, np.zeros((1, 0), dtype=np.int64))
    hyps = decoding.beam_search(_recording_step(p, log), state0, sd.BOS, sd.EOS, max_len, width, alpha)
    weights = [np.array([log[(sd.BOS, *h.tokens[:t].tolist())] for t in range(len(h.tokens))])
               for h in hyps]
    return hyps, weights


def beam_view(p, source: str, width: int, alpha: float = 0.0, reverse_source: bool = False,
              max_len: int | None = None, task: str = "reverse") -> BeamView:
    """Beam search of ``width`` on one ``source`` string of model ``p`` (with attention), compared
    with the right answer of ``task``; the source is fed reversed when ``reverse_source`` (as the model
    was trained). max_len None: S + 3 output tokens. The weights are those of seq2seq.forward run
    teacher-forced on the best hypothesis (checked against the search's own to 1e-9)."""
    target = sd.answer(one_of("task", task, sd.TASKS), source)
    hyps, searched = search_attention(p, source, width, alpha, reverse_source, max_len)
    src = _source_ids(p, source, reverse_source)
    best = hyps[0].tokens
    tgt_in = np.concatenate([[sd.BOS], best[:-1]]).astype(np.int64)[:, None]
    f = seq2seq.forward(p, src[:, None], np.ones((len(src), 1)), tgt_in)
    weights = np.array([step.weights[:, 0] for step in f.steps])               # (L, S)
    if not np.allclose(weights, searched[0], rtol=0, atol=1e-9):            # the same computation
        raise RuntimeError("the teacher-forced attention differs from the search's")
    found, hyps = len(hyps), hyps[:width]
    # every token but the final EOS shown, so that a stray <bos> or <pad> is seen, not dropped
    texts = ["".join(sd.TOKENS[i] for i in h.tokens.tolist() if i != sd.EOS) for h in hyps]
    finished = np.array([h.tokens[-1] == sd.EOS for h in hyps])
    right = np.append(sd.encode(target), sd.EOS)
    return BeamView(
        source=source, target=target, width=int(width), alpha=float(alpha), found=found, hypotheses=texts,
        log_probs=np.array([h.log_prob for h in hyps]), scores=np.array([h.score for h in hyps]),
        correct=np.array([np.array_equal(h.tokens, right) for h in hyps]), finished=finished, weights=weights,
        source_tokens=[sd.TOKENS[i] for i in src],
        output_tokens=[LABELS.get(i, sd.TOKENS[i]) for i in best.tolist()])


def _sources(sources) -> tuple:
    if isinstance(sources, str) or not isinstance(sources, list | tuple):
        raise TypeError(f"sources: expected a list of source strings, got {type(sources).__name__}")
    if not sources:
        raise ValueError("sources: expected at least one source string, got none")
    for i, s in enumerate(sources):
        if not isinstance(s, str):
            raise TypeError(f"sources: expected strings, got {type(s).__name__} at {i}")
        if not s or set(s) - set(sd.SYMBOLS):
            raise ValueError(f"sources: expected non-empty strings of {sd.SYMBOLS!r}, got {s!r} at {i}")
    return tuple(sources)


def make_compute(p, sources, alpha: float = 0.0, reverse_source: bool = False, task: str = "reverse"):
    """The explorer's compute(example, width) -> BeamView: ``beam_view`` of sources[example]."""
    _check_model(p)
    sources = _sources(sources)
    alpha = positive_float("alpha", alpha, allow_zero=True)
    reverse_source, task = as_bool("reverse_source", reverse_source), one_of("task", task, sd.TASKS)
    for i, s in enumerate(sources):
        try:
            sd.answer(task, s)
        except ValueError:
            raise ValueError(f"sources: expected sources that task {task!r} has an answer for, got "
                             f"{s!r} at {i}") from None

    def compute(example: int, width: int) -> BeamView:
        example = positive_int("example", example, 0, len(sources) - 1)
        return beam_view(p, sources[example], width, alpha, reverse_source, task=task)

    return compute


@dataclass(frozen=True)
class _ExampleControl(Control):
    """The example control: values are indices into ``sources``, shown as the source strings."""

    sources: tuple = ()

    def text(self, value) -> str:
        super().text(value)                               # checks that value is one of the values
        return self.sources[value]


def controls(sources, widths=(1, 2, 3, 5, 8), default_width: int = 3) -> list:
    """The explorer's controls: ``example`` (an index into ``sources``, labelled with the source
    string) and the beam ``width`` (one of ``widths``, ``default_width`` first shown)."""
    sources = _sources(sources)
    if len(sources) < 2:
        raise ValueError(f"sources: expected at least 2 examples to choose from, got {len(sources)}")
    if isinstance(widths, str) or not isinstance(widths, list | tuple):
        raise TypeError(f"widths: expected a list of beam widths, got {type(widths).__name__}")
    widths = tuple(positive_int("widths", w) for w in widths)
    if len(widths) < 2 or len(set(widths)) < len(widths):
        raise ValueError(f"widths: expected at least 2 distinct beam widths, got {list(widths)}")
    default_width = positive_int("default_width", default_width)
    if default_width not in widths:
        raise ValueError(f"default_width: expected one of {list(widths)}, got {default_width}")
    return [_ExampleControl("example", tuple(range(len(sources))), 0, "example", sources=sources),
            Control("width", widths, default_width, "beam width")]
