"""Decoding over a step function: greedy, beam search against exhaustive search, sampling, reorder."""
from typing import NamedTuple

import numpy as np
import pytest

from recurrent import decoding as dc
from recurrent import gru

BOS, EOS = 0, 1


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def bigram(seed, V=4, scale=1.5):
    """A random table log p(next | last); BOS is never produced (probability ~1e-9)."""
    z = scale * np.random.default_rng(seed).normal(size=(V, V))
    z[:, BOS] = -20.0
    return log_softmax(z)


class Ctx(NamedTuple):
    h: np.ndarray          # (K, d) the decoder's state
    ctx: np.ndarray        # (K, 2) a per-example context that stays fixed, as an encoder summary would


def gru_model(seed, V=4, d=3):
    """A tiny random GRU decoder: one-hot token in, softmax(V h + C ctx + c) out; state Ctx(h, ctx)."""
    rng = np.random.default_rng(seed)
    p = gru.init_gru(V, d, V, rng=seed)
    C = rng.normal(size=(V, 2))

    def step(tokens, state):
        h = gru.step(p, np.eye(V)[tokens], state.h)
        logits = 2.0 * (h @ p.V.T + state.ctx @ C.T + p.c)
        return log_softmax(logits), Ctx(h, state.ctx)

    state0 = Ctx(rng.normal(size=(1, d)), rng.normal(size=(1, 2)))
    return step, state0


def models(count, V=4):
    for seed in range(count):
        yield dc.bigram_step(bigram(seed, V)), np.zeros((1, 1))
        yield gru_model(seed, V)


def test_width_one_is_greedy_exactly():
    for step, state0 in models(20):
        g = dc.greedy(step, state0, BOS, EOS, 6)
        for alpha in (0.0, 0.7):
            beam = dc.beam_search(step, state0, BOS, EOS, 6, width=1, alpha=alpha)
            assert len(beam) == 1
            assert np.array_equal(beam[0].tokens, g.tokens) and beam[0].log_prob == g.log_prob


def test_greedy_takes_the_argmax_at_every_step():
    table = bigram(3)
    g = dc.greedy(dc.bigram_step(table), np.zeros((1, 1)), BOS, EOS, 8)
    previous = np.concatenate([[BOS], g.tokens[:-1]])
    assert np.array_equal(g.tokens, table[previous].argmax(axis=1))
    assert g.tokens[-1] == EOS or len(g.tokens) == 8
    assert g.log_prob == pytest.approx(table[previous, g.tokens].sum(), abs=1e-12)


def test_exhaustive_enumerates_a_distribution():
    """Outputs ending with EOS at every length and the outputs cut at max_len partition all
    continuations: their probabilities sum to 1, and there are sum (V-1)^(L-1) + (V-1)^max_len."""
    V, max_len = 4, 4
    for step, state0 in models(5, V):
        outs = dc.exhaustive(step, state0, BOS, EOS, max_len)
        assert len(outs) == sum(3 ** (L - 1) for L in range(1, max_len + 1)) + 3 ** max_len
        assert len({tuple(h.tokens) for h in outs}) == len(outs)
        assert np.exp([h.log_prob for h in outs]).sum() == pytest.approx(1.0, abs=1e-12)
        assert all(EOS not in h.tokens[:-1] for h in outs)


def test_wide_beam_finds_the_exhaustive_argmax_and_greedy_sometimes_does_not():
    V, max_len = 4, 4
    greedy_misses, narrow_misses = 0, 0
    for step, state0 in models(20, V):
        for alpha in (0.0, 0.8):
            exact = dc.exhaustive(step, state0, BOS, EOS, max_len, alpha=alpha)
            wide = dc.beam_search(step, state0, BOS, EOS, max_len, width=V ** max_len, alpha=alpha)
            assert np.array_equal(wide[0].tokens, exact[0].tokens)
            assert wide[0].score == pytest.approx(exact[0].score, abs=1e-12)
            # the wide beam keeps every prefix: the same outputs with the same scores
            assert sorted(h.score for h in wide) == pytest.approx(sorted(h.score for h in exact), abs=1e-12)
            if alpha == 0.0:
                assert wide[0].log_prob == pytest.approx(max(h.log_prob for h in exact), abs=1e-12)
                g = dc.greedy(step, state0, BOS, EOS, max_len)
                greedy_misses += not np.array_equal(g.tokens, exact[0].tokens)
                assert g.log_prob <= exact[0].log_prob + 1e-12
                narrow = dc.beam_search(step, state0, BOS, EOS, max_len, width=2)
                narrow_misses += not np.array_equal(narrow[0].tokens, exact[0].tokens)
    assert greedy_misses >= 3          # the toy models are hard enough for the check to mean something
    assert narrow_misses <= greedy_misses


def test_beam_scores_are_the_log_probs_of_their_tokens():
    for step, state0 in models(6):
        for alpha in (0.0, 1.0):
            for h in dc.beam_search(step, state0, BOS, EOS, 5, width=3, alpha=alpha):
                assert h.log_prob == pytest.approx(dc.sequence_log_prob(step, state0, BOS, h.tokens),
                                                   abs=1e-12)
                assert h.score == pytest.approx(h.log_prob / ((5 + len(h.tokens)) / 6) ** alpha, abs=1e-12)
            scores = [h.score for h in dc.beam_search(step, state0, BOS, EOS, 5, width=3, alpha=alpha)]
            assert scores == sorted(scores, reverse=True)


def test_length_normalisation_prefers_the_longer_output():
    """p(EOS | BOS) = 0.4 beats p(a EOS) = 0.3 on log p; ((5 + L) / 6)^2 turns the ranking round."""
    p = np.array([[1e-9, 0.4, 0.6 - 1e-9], [1e-9, 0.5, 0.5 - 1e-9], [1e-9, 0.5, 0.5 - 1e-9]])
    step, state0 = dc.bigram_step(np.log(p)), np.zeros((1, 1))
    plain = dc.beam_search(step, state0, BOS, EOS, 3, width=4)
    normalised = dc.beam_search(step, state0, BOS, EOS, 3, width=4, alpha=2.0)
    assert plain[0].tokens.tolist() == [EOS] and normalised[0].tokens.tolist() == [2, EOS]
    assert dc.length_penalty(1, 2.0) == 1.0 and dc.length_penalty(2, 2.0) == pytest.approx((7 / 6) ** 2)
    assert dc.length_penalty(7, 0.0) == 1.0


def test_greedy_batch_decodes_each_example_as_greedy_does():
    step, _ = gru_model(4)
    rng = np.random.default_rng(0)
    state0 = Ctx(rng.normal(size=(6, 3)), 2 * rng.normal(size=(6, 2)))
    tokens, mask, log_p = dc.greedy_batch(step, state0, BOS, EOS, 7)
    for b in range(6):
        g = dc.greedy(step, dc.reorder(state0, [b]), BOS, EOS, 7)
        L = int(mask[:, b].sum())
        assert np.array_equal(tokens[:L, b], g.tokens) and log_p[b] == pytest.approx(g.log_prob, abs=1e-12)
        assert (mask[:L, b] == 1).all() and (mask[L:, b] == 0).all() and (tokens[L:, b] == EOS).all()


def test_sampling_follows_the_tempered_softmax():
    table = bigram(2, V=5)
    step, state0, N = dc.bigram_step(table), np.zeros((1, 1)), 20000
    for tau in (0.5, 1.0, 2.0):
        draws = dc.sample(step, state0, BOS, EOS, 1, temperature=tau, rng=1, count=N)
        freq = np.bincount([h.tokens[0] for h in draws], minlength=5) / N
        p = np.exp(log_softmax(table[BOS] / tau))
        assert (np.abs(freq - p) <= 4.5 * np.sqrt(p * (1 - p) / N) + 1e-12).all(), (tau, freq, p)


def test_sampled_sequences_follow_the_model():
    """At temperature 1 the frequency of every whole output matches its exact probability."""
    step, state0 = gru_model(1, V=3)
    exact = {tuple(h.tokens): np.exp(h.log_prob) for h in dc.exhaustive(step, state0, BOS, EOS, 2)}
    N = 20000
    draws = dc.sample(step, state0, BOS, EOS, 2, rng=5, count=N)
    for tokens, p in exact.items():
        freq = sum(tuple(h.tokens) == tokens for h in draws) / N
        assert abs(freq - p) <= 4.5 * np.sqrt(p * (1 - p) / N) + 1e-12, (tokens, freq, p)
    for h in draws[:50]:
        assert h.log_prob == pytest.approx(np.log(exact[tuple(h.tokens)]), abs=1e-12)


def test_low_temperature_is_greedy():
    for step, state0 in models(10):
        g = dc.greedy(step, state0, BOS, EOS, 6)
        for h in dc.sample(step, state0, BOS, EOS, 6, temperature=1e-6, rng=0, count=4):
            assert np.array_equal(h.tokens, g.tokens) and h.log_prob == pytest.approx(g.log_prob, abs=1e-12)


def test_sampling_is_reproducible_from_its_seed():
    step, state0 = gru_model(2)
    a = dc.sample(step, state0, BOS, EOS, 6, rng=3, count=5)
    b = dc.sample(step, state0, BOS, EOS, 6, rng=3, count=5)
    assert all(np.array_equal(x.tokens, y.tokens) for x, y in zip(a, b))


def test_reorder_keeps_the_structure():
    h, c = np.arange(6.0).reshape(3, 2), np.arange(3)
    out = dc.reorder((h, [c, Ctx(h, c)]), [2, 2, 0])
    assert isinstance(out, tuple) and isinstance(out[1], list) and isinstance(out[1][1], Ctx)
    assert np.array_equal(out[0], h[[2, 2, 0]]) and np.array_equal(out[1][1].ctx, c[[2, 2, 0]])
    with pytest.raises(ValueError, match=r"^index: expected indices in \[0, 3\)"):
        dc.reorder(h, [3])
    with pytest.raises(ValueError, match="^state: expected 3 hypotheses"):
        dc.reorder((h, np.zeros(2)), [0])


def test_bad_inputs_are_refused():
    step, state0 = dc.bigram_step(bigram(0)), np.zeros((1, 1))
    for width in (0, -1):
        with pytest.raises(ValueError, match=r"^width: expected an integer >= 1, got"):
            dc.beam_search(step, state0, BOS, EOS, 3, width=width)
    with pytest.raises(TypeError, match="^width:"):
        dc.beam_search(step, state0, BOS, EOS, 3, width=1.5)
    with pytest.raises(ValueError, match=r"^eos: expected an id in \[0, 4\)"):
        dc.greedy(step, state0, BOS, 4, 3)
    with pytest.raises(ValueError, match="^state0: expected one example"):
        dc.beam_search(step, np.zeros((2, 1)), BOS, EOS, 3, width=2)
    with pytest.raises(ValueError, match="^temperature: expected a number > 0"):
        dc.sample(step, state0, BOS, EOS, 3, temperature=0.0)
    with pytest.raises(ValueError, match="^alpha: expected a number >= 0"):
        dc.beam_search(step, state0, BOS, EOS, 3, width=2, alpha=-0.5)
    with pytest.raises(ValueError, match="^max_len: expected at most"):
        dc.exhaustive(dc.bigram_step(log_softmax(np.zeros((14, 14)))), state0, BOS, EOS, 8)
    with pytest.raises(ValueError, match=r"^tokens: expected ids in \[0, 4\)"):
        dc.sequence_log_prob(step, state0, BOS, [2, 7])
    with pytest.raises(ValueError, match="^log_p: expected rows of log-probabilities"):
        dc.bigram_step(np.zeros((3, 3)))


def test_misbehaving_step_functions_are_named():
    state0 = np.zeros((1, 1))
    cases = {"logits": lambda t, s: (np.zeros((len(t), 4)), s),
             "shape": lambda t, s: (np.log(np.full((len(t) + 1, 4), 0.25)), s),
             "nan": lambda t, s: (np.full((len(t), 4), np.nan), s),
             "one value": lambda t, s: np.log(np.full((len(t), 4), 0.25)),
             "state rows": lambda t, s: (np.log(np.full((len(t), 4), 0.25)), np.zeros((len(t) + 1, 1)))}
    for _name, step in cases.items():
        with pytest.raises((TypeError, ValueError), match="^step"):
            dc.beam_search(step, state0, BOS, EOS, 3, width=2)
    # -inf (probability 0) is allowed, and such outputs are never preferred
    masked = lambda t, s: (np.log(np.tile([0.0, 0.5, 0.5, 0.0], (len(t), 1))), s)   # noqa: E731
    with np.errstate(divide="ignore"):
        best = dc.beam_search(masked, state0, BOS, EOS, 3, width=16)[0]
    assert set(best.tokens.tolist()) <= {1, 2} and np.isfinite(best.log_prob)
