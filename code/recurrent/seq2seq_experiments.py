"""Chapter 9: the experiments of the sequence-to-sequence chapter and their measurements.

Five model variants ("conditions", ``CONDITIONS``) are trained on the task of ``SETTINGS`` from each
seed: "plain" (one GRU layer, no attention), "reversed" (plain, the source fed reversed; Sutskever et
al. 2014), "stacked" (plain with a 2-layer encoder), "bidirectional" (plain with a bidirectional
encoder, D = 2d) and "attention" (one unidirectional layer with additive attention). A seed fixes three
independent streams: the initial weights (``init_model``), the training pairs and their bucketed
batches; the test pairs (``test_pairs``) come from a fourth stream.

Measurements of a trained ``Run`` on N test pairs: ``exact_match`` (N,) bool, greedy (width 1) or
beam search; ``token_accuracy`` (P,) per output position t = 1..P (EOS included), teacher-forced or
free-running; ``teacher_forced_loss`` in nats per token; ``by_length`` averages per source length.
``reference_model`` loads the stored attention run of seed 0 (written by
scripts/train_seq2seq_reference.py), identical on every CPU, for the illustrations that print numbers;
``explorer_sources`` picks the explorer's examples with it. The checks (gradients, padding, beam search
against exhaustive search, scheduled sampling's inputs, storage) live in ``seq2seq_checks`` and are
re-exported here.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from . import claims, decoding, seq2seq
from . import seq2seq_data as sd
from ._checks import as_bool, as_float_array, instance_of, one_of, positive_float, positive_int
from .seq2seq_checks import (  # noqa: F401 (the chapter's API, re-exported)
    _read,
    beam_check,
    beam_counterexample,
    beam_versus_exhaustive,
    count_params,
    gradient_errors,
    load_params,
    padding_gap,
    save_params,
    scheduled_inputs,
    toy_bigram,
)
from .training import History

__all__ = ["Settings", "SETTINGS", "CONDITIONS", "Run", "train_run", "train_over_seeds", "test_pairs",
           "init_model", "exact_match", "by_length", "token_accuracy", "teacher_forced_loss",
           "reference_meta", "reference_model", "explorer_sources"]   # and seq2seq_checks' functions


@dataclass(frozen=True)
class Settings:
    """What a run trains on and how: the task and its source lengths, embedding size e, hidden size d
    (per direction), batch size, Adam steps, learning rate, clipping norm, and the number of training
    and test pairs."""

    task: str = "reverse"
    min_len: int = 1
    max_len: int = 6
    d: int = 32
    e: int = 16
    batch: int = 32
    steps: int = 200
    lr: float = 0.015
    clip: float = 1.0
    train_pairs: int = 2000
    test_pairs: int = 500

    def __post_init__(self):
        one_of("task", self.task, sd.TASKS)
        for name in ("min_len", "max_len", "d", "e", "batch", "steps", "train_pairs", "test_pairs"):
            positive_int(name, getattr(self, name))
        if self.max_len < self.min_len:
            raise ValueError(f"max_len: expected an integer >= min_len = {self.min_len}, got {self.max_len}")
        positive_float("lr", self.lr)
        positive_float("clip", self.clip)


SETTINGS = Settings()      # the chapter's: 5 conditions x 5 seeds train and are measured in about 30 s
CONDITIONS = {
    "plain": dict(attention=False, layers=1, bidirectional=False, reverse_source=False),
    "reversed": dict(attention=False, layers=1, bidirectional=False, reverse_source=True),
    "stacked": dict(attention=False, layers=2, bidirectional=False, reverse_source=False),
    "bidirectional": dict(attention=False, layers=1, bidirectional=True, reverse_source=False),
    "attention": dict(attention=True, layers=1, bidirectional=False, reverse_source=False),
}
_STREAMS = {"weights": 0, "pairs": 1, "batches": 2, "test": 3}


class Run(NamedTuple):
    """One trained model: its condition and seed, parameters, training History, and whether the
    source is fed reversed."""

    condition: str
    seed: int
    params: seq2seq.Seq2SeqParams
    history: History
    reverse_source: bool


def _stream(seed: int, purpose: str) -> np.random.Generator:
    return np.random.default_rng([positive_int("seed", seed, 0), _STREAMS[purpose]])


def _settings(settings) -> Settings:
    return instance_of("settings", settings, Settings, "seq2seq_experiments.Settings")


def _training_pairs(seed: int, s: Settings) -> tuple:
    return sd.make_pairs(s.task, s.train_pairs, s.min_len, s.max_len, _stream(seed, "pairs"))


def init_model(condition: str, seed: int, settings: Settings = SETTINGS) -> seq2seq.Seq2SeqParams:
    """The untrained model of ``condition`` that ``train_run(condition, seed, settings)`` starts from."""
    c, s = CONDITIONS[one_of("condition", condition, tuple(CONDITIONS))], _settings(settings)
    return seq2seq.init_seq2seq(sd.V, sd.V, s.e, s.d, layers=c["layers"], bidirectional=c["bidirectional"],
                                attention=c["attention"], rng=_stream(seed, "weights"))


def train_run(condition: str, seed: int, settings: Settings = SETTINGS) -> Run:
    """Train ``condition`` (a key of ``CONDITIONS``) from ``seed`` with ``settings``."""
    p, c, s = init_model(condition, seed, settings), CONDITIONS[condition], settings
    sources, targets = _training_pairs(seed, s)
    batches = sd.make_batches(sources, targets, s.batch, _stream(seed, "batches"), bucket=True,
                              reverse_source=c["reverse_source"])
    history = seq2seq.train(p, batches, s.steps, lr=s.lr, clip=s.clip)
    return Run(condition, seed, p, history, c["reverse_source"])


def train_over_seeds(condition: str, seeds=claims.SEEDS, settings: Settings = SETTINGS, log=print) -> list:
    """``[train_run(condition, seed, settings) for seed in seeds]``, a progress line per seed
    ("attention: seed 3/5 done"; ``log=None``: silent)."""
    one_of("condition", condition, tuple(CONDITIONS))
    _settings(settings)
    return claims.over_seeds(lambda seed: train_run(condition, seed, settings), seeds, condition, log)


def test_pairs(seed: int, settings: Settings = SETTINGS) -> tuple:
    """``settings.test_pairs`` (sources, targets) drawn from a stream of ``seed`` that training does
    not use (short sources may still coincide with training pairs: there are only 10 of length 1)."""
    s = _settings(settings)
    return sd.make_pairs(s.task, s.test_pairs, s.min_len, s.max_len, _stream(seed, "test"))


test_pairs.__test__ = False                       # not a pytest test, despite its name


def _run(run) -> Run:
    return instance_of("run", run, Run, "seq2seq_experiments.Run (from train_run)")


def _batch(run: Run, sources, targets) -> sd.Batch:
    return sd.make_batch(sources, targets, run.reverse_source)


def _greedy(run: Run, b: sd.Batch, max_len: int) -> tuple:
    state0 = seq2seq.initial_state(run.params, b.src, b.src_mask)
    return decoding.greedy_batch(seq2seq.make_step(run.params), state0, sd.BOS, sd.EOS, max_len)


def exact_match(run: Run, sources, targets, width: int = 1, alpha: float = 0.0) -> np.ndarray:
    """(N,) bool: whether the decoded output of each source is exactly its target (then EOS).
    ``width`` 1: ``decoding.greedy_batch`` on all N at once; above 1: ``decoding.beam_search`` on each
    source, its best hypothesis under the length penalty ``alpha``. Outputs are cut at max L_y + 1."""
    run, b = _run(run), _batch(_run(run), sources, targets)
    width = positive_int("width", width)
    alpha = positive_float("alpha", alpha, allow_zero=True)
    P = b.dec_out.shape[0]
    if width == 1:
        tokens, mask, _ = _greedy(run, b, P)
        L = tokens.shape[0]
        want = np.full((max(L, P), len(sources)), -1)
        want[:P][b.dec_mask > 0] = b.dec_out[b.dec_mask > 0]
        got = np.full_like(want, -1)
        got[:L][mask > 0] = tokens[mask > 0]
        return (got == want).all(axis=0)
    step, out = seq2seq.make_step(run.params), np.zeros(len(sources), bool)
    for i in range(len(sources)):
        S, Ly = int(b.src_mask[:, i].sum()), int(b.dec_mask[:, i].sum())
        state0 = seq2seq.initial_state(run.params, b.src[:S, [i]])
        best = decoding.beam_search(step, state0, sd.BOS, sd.EOS, P, width, alpha)[0]
        out[i] = np.array_equal(best.tokens, b.dec_out[:Ly, i])
    return out


def by_length(values, sources, lengths=None, settings: Settings = SETTINGS) -> np.ndarray:
    """The mean of ``values`` (N,) (numbers, or booleans such as ``exact_match``'s) over the sources of
    each length in ``lengths`` (default settings.min_len .. settings.max_len): (len(lengths),); NaN for
    a length no source has."""
    if isinstance(values, np.ndarray) and values.dtype == bool:
        values = values.astype(float)
    values = as_float_array("values", values, ndim=1, dims="(N,)")
    sources = sd._strings("sources", sources)
    if len(sources) != len(values):
        raise ValueError(f"values, sources: expected a source per value ({len(values)}), got {len(sources)}")
    s = _settings(settings)
    lengths = sd._lengths_arg(np.arange(s.min_len, s.max_len + 1) if lengths is None else lengths)
    L = np.array([len(x) for x in sources])
    return np.array([values[L == n].mean() if (L == n).any() else np.nan for n in lengths])


def token_accuracy(run: Run, sources, targets, teacher_forced: bool) -> np.ndarray:
    """(P,) the accuracy of the output token at position t = 1..P (P = max L_y + 1, EOS included) over
    the examples whose target has position t. ``teacher_forced``: the argmax of the teacher-forced
    log-probabilities (the true prefix read); else the greedy free-running output, position by
    position (a position after an early EOS counts as wrong)."""
    run = _run(run)
    b = _batch(run, sources, targets)
    if as_bool("teacher_forced", teacher_forced):
        f = seq2seq.forward(run.params, b.src, b.src_mask, b.dec_in)
        right = f.log_probs.argmax(axis=-1) == b.dec_out
    else:
        P = b.dec_out.shape[0]
        tokens, mask, _ = _greedy(run, b, P)
        got = np.full(b.dec_out.shape, -1)
        got[:len(tokens)] = np.where(mask > 0, tokens, -1)
        right = got == b.dec_out
    return (right * b.dec_mask).sum(axis=1) / b.dec_mask.sum(axis=1)


def teacher_forced_loss(run: Run, sources, targets) -> float:
    """The teacher-forced cross-entropy of the pairs, in nats per target token (EOS included)."""
    run = _run(run)
    b = _batch(run, sources, targets)
    f = seq2seq.forward(run.params, b.src, b.src_mask, b.dec_in)
    picked = np.take_along_axis(f.log_probs, b.dec_out[..., None], axis=-1)[..., 0]
    return -float((picked * b.dec_mask).sum() / b.dec_mask.sum())


def _fingerprint(seed: int, s: Settings) -> str:
    """A hash of the training pairs of ``seed``: a changed task generator makes a stored run stale."""
    sources, targets = _training_pairs(seed, s)
    return hashlib.sha256("\n".join(f"{x} {y}" for x, y in zip(sources, targets)).encode()).hexdigest()[:16]


def reference_meta(run: Run, settings: Settings = SETTINGS) -> dict:
    """What ``reference_model`` checks, stored with the reference run: its condition (and that
    condition's definition), seed, settings, training pairs' hash and training History."""
    run, s = _run(run), _settings(settings)
    return dict(condition=run.condition, definition=CONDITIONS[run.condition], seed=run.seed,
                settings=asdict(s), pairs=_fingerprint(run.seed, s),
                loss=run.history.loss.tolist(), grad_norm=run.history.grad_norm.tolist())


def reference_model(path=None) -> Run:
    """The stored reference run: ``train_run("attention", 0)`` with ``SETTINGS``, written by
    scripts/train_seq2seq_reference.py into recurrent/data/seq2seq_reference.npz (``path`` None).
    Loading the weights, rather than training, makes it the same model on every CPU. Raises
    ValueError when the file was written with other settings, another condition or other training
    pairs than the code's now (re-run the script)."""
    from . import data
    path = data.model_path("seq2seq_reference") if path is None else path
    p, meta = _read(path)
    want = dict(condition="attention", definition=CONDITIONS["attention"], seed=0, settings=asdict(SETTINGS),
                pairs=_fingerprint(0, SETTINGS))
    stale = [k for k, v in want.items() if meta.get(k) != v]
    if stale:
        raise ValueError(f"path: the stored reference model in {str(path)!r} is stale: its "
                         f"{', '.join(stale)} differ from the code's (stored {[meta.get(k) for k in stale]}, "
                         f"expected {[want[k] for k in stale]}); re-run scripts/train_seq2seq_reference.py")
    history = History(np.array(meta["loss"]), np.array(meta["grad_norm"]), np.array([], int), np.array([]))
    return Run("attention", 0, p, history, CONDITIONS["attention"]["reverse_source"])


def explorer_sources(count: int = 6, settings: Settings = SETTINGS) -> list:
    """``count`` sources for the beam explorer, chosen from the first 200 pairs of ``test_pairs(0)`` with
    the stored reference model so that the beam width visibly matters. Source lengths spread evenly from
    settings.min_len to settings.max_len (short to long); for each length the source ranked first by:
    a width-8 beam's best output differs from the greedy one, then the greedy output is wrong, then the
    smallest gap in log p between the width-8 beam's best two hypotheses (the closest call).
    Deterministic: the stored model is the same on every CPU."""
    count, s = positive_int("count", count), _settings(settings)
    run = reference_model()
    sources, targets = test_pairs(0, s)
    sources, targets = sources[:200], targets[:200]
    b = _batch(run, sources, targets)
    greedy, mask, _ = _greedy(run, b, b.dec_out.shape[0] + 2)
    right = exact_match(run, sources, targets)
    step, ranked = seq2seq.make_step(run.params), {}
    for i, x in enumerate(sources):
        state0 = seq2seq.initial_state(run.params, b.src[:len(x), [i]])
        top = decoding.beam_search(step, state0, sd.BOS, sd.EOS, b.dec_out.shape[0] + 2, 8)
        same = np.array_equal(top[0].tokens, greedy[mask[:, i] > 0, i])
        gap = top[0].score - top[1].score if len(top) > 1 else np.inf
        ranked.setdefault(len(x), []).append((same, bool(right[i]), round(gap, 9), i))
    chosen = []
    for L in np.linspace(s.min_len, s.max_len, count).round().astype(int):
        pool = sorted(ranked.get(int(L), []) or ranked[min(ranked, key=lambda n: abs(n - L))])
        pick = next((c for c in pool if sources[c[-1]] not in chosen), pool[0])
        chosen.append(sources[pick[-1]])
    return chosen
