"""Chapter 9's experiments: runs over seeds, the measurements of a trained model, the gradient and padding
checks, and the stored reference model."""
import dataclasses

import numpy as np
import pytest

from recurrent import data, decoding, encoder, seq2seq
from recurrent import seq2seq_data as sd
from recurrent import seq2seq_experiments as X
from recurrent.training import History

TINY = X.Settings(max_len=3, d=4, e=3, batch=8, steps=3, train_pairs=24, test_pairs=10)
SMALL = X.Settings(max_len=3, d=16, e=8, batch=16, steps=150, lr=0.02, train_pairs=300, test_pairs=80)
EMPTY = History(np.zeros(0), np.zeros(0), np.zeros(0, int), np.zeros(0))


@pytest.fixture(scope="module")
def trained():
    """A small attention model after 150 steps: some test outputs right, some wrong."""
    return X.train_run("attention", 0, SMALL)


def constant_model(token: int) -> X.Run:
    """A plain model whose output layer ignores its input: it always predicts ``token`` (p ~ 1)."""
    p = seq2seq.init_seq2seq(sd.V, sd.V, 2, 3, attention=False, rng=0)
    p.V[...] = 0.0
    p.c[...] = 0.0
    p.c[token] = 10.0
    return X.Run("plain", 0, p, EMPTY, False)


def test_the_conditions_build_the_models_they_name():
    runs = {c: X.train_run(c, 1, TINY) for c in X.CONDITIONS}
    assert runs["plain"].params.att is None and runs["attention"].params.att is not None
    assert runs["stacked"].params.enc.layers == 2 and runs["plain"].params.enc.layers == 1
    assert runs["bidirectional"].params.enc.bidirectional and runs["bidirectional"].params.enc.d_out == 8
    assert [c for c, r in runs.items() if r.reverse_source] == ["reversed"]
    assert all(r.seed == 1 and r.condition == c and len(r.history.loss) == 3 for c, r in runs.items())
    # plain and reversed start from the same weights and pairs; only the source order differs
    assert runs["plain"].history.loss[0] != runs["reversed"].history.loss[0]
    counts = {c: X.count_params(r.params) for c, r in runs.items()}
    assert counts["plain"] == counts["reversed"] < counts["stacked"]


def test_a_run_is_fixed_by_its_seed_and_the_seeds_differ():
    a, b, c = X.train_run("plain", 2, TINY), X.train_run("plain", 2, TINY), X.train_run("plain", 3, TINY)
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a.params.items(), b.params.items()))
    assert not np.array_equal(a.params.V, c.params.V)
    # the initial weights come from the seed's own stream (one Adam step of size 1e-12 barely moves them)
    w = seq2seq.init_seq2seq(sd.V, sd.V, 3, 4, attention=False, rng=X._stream(2, "weights"))
    u = X.train_run("plain", 2, dataclasses.replace(TINY, steps=1, lr=1e-12))
    assert np.abs(u.params.V - w.V).max() < 1e-9


def test_test_pairs_are_another_stream_than_training():
    sources, targets = X.test_pairs(0, TINY)
    train = X._training_pairs(0, TINY)[0]
    assert len(sources) == TINY.test_pairs and targets == [s[::-1] for s in sources]
    assert sources != train[:len(sources)]
    assert X.test_pairs(0, TINY) == (sources, targets) and X.test_pairs(1, TINY)[0] != sources


def test_train_over_seeds_reports_progress_without_numbers():
    lines = []
    runs = X.train_over_seeds("plain", seeds=(0, 1), settings=TINY, log=lines.append)
    assert [r.seed for r in runs] == [0, 1]
    assert lines == ["plain: seed 1/2 done", "plain: seed 2/2 done"]


def test_greedy_exact_match_equals_greedy_decoding_of_each_example(trained):
    sources, targets = X.test_pairs(0, SMALL)
    em = X.exact_match(trained, sources, targets)
    step, one = seq2seq.make_step(trained.params), []
    for s, y in zip(sources, targets):
        b = sd.make_batch([s], [y])
        h = decoding.greedy(step, seq2seq.initial_state(trained.params, b.src), sd.BOS, sd.EOS, len(y) + 1)
        one.append(sd.decode(h.tokens) == y and h.tokens[-1] == sd.EOS)
    assert em.dtype == bool and 0 < em.mean() < 1            # the test sees right and wrong outputs
    assert em.tolist() == one


def test_beam_exact_match_uses_the_best_hypothesis(trained):
    sources, targets = X.test_pairs(1, SMALL)
    sources, targets = sources[:20], targets[:20]
    step = seq2seq.make_step(trained.params)
    want = []
    for s, y in zip(sources, targets):
        state0 = seq2seq.initial_state(trained.params, sd.make_batch([s], [y]).src)
        best = decoding.beam_search(step, state0, sd.BOS, sd.EOS, 4, 3, 0.5)[0]
        want.append(best.tokens.tolist() == [*sd.encode(y).tolist(), sd.EOS])
    assert X.exact_match(trained, sources, targets, width=3, alpha=0.5).tolist() == want


def test_exact_match_feeds_the_source_reversed_when_the_run_says_so(trained):
    sources, targets = X.test_pairs(0, SMALL)
    flipped = trained._replace(reverse_source=True)
    assert X.exact_match(flipped, sources, targets).tolist() == \
        X.exact_match(trained, [s[::-1] for s in sources], targets).tolist()
    assert X.exact_match(flipped, sources, targets).mean() < X.exact_match(trained, sources, targets).mean()


def test_by_length_averages_per_source_length():
    got = X.by_length(np.array([True, False, True, True]), ["1", "22", "33", "4"], lengths=[1, 2, 3])
    assert got[:2].tolist() == [1.0, 0.5] and np.isnan(got[2])
    assert X.by_length([1, 0], ["1", "22"], settings=TINY).shape == (3,)
    assert np.array_equal(X.by_length([1.0, 0.5], ["1", "1"], [1]), [0.75])
    with pytest.raises(ValueError, match="^values, sources"):
        X.by_length([1, 0, 1], ["1", "22"])


def test_token_accuracy_on_a_model_that_always_says_one_token():
    targets = ["1", "21", "11"]                # dec_out: 1 EOS | 2 1 EOS | 1 1 EOS; P = 3
    ones = constant_model(sd.encode("1")[0])
    for forced in (True, False):               # the same output whatever it reads: both agree
        assert np.allclose(X.token_accuracy(ones, targets, targets, forced), [2 / 3, 2 / 3, 0])
    stop = constant_model(sd.EOS)              # stops at once: right exactly where a target ends
    targets = ["1", "22", "333"]
    assert np.allclose(X.token_accuracy(stop, targets, targets, True), [0, 1 / 3, 1 / 2, 1])
    assert np.allclose(X.token_accuracy(stop, targets, targets, False), [0, 0, 0, 0])   # never reaches them


def test_teacher_forced_loss_is_the_training_loss_per_token(trained):
    sources, targets = X.test_pairs(2, SMALL)
    b = sd.make_batch(sources, targets)
    loss = seq2seq.loss_and_grads(trained.params, *b)[0]
    assert abs(X.teacher_forced_loss(trained, sources, targets) - loss) < 1e-12
    stop, Z = constant_model(sd.EOS), np.exp(10.0) + sd.V - 1          # p(EOS) = e^10 / Z, others 1 / Z
    targets = ["1", "22"]                                              # 2 EOS among 5 tokens
    want = (2 * -(10 - np.log(Z)) + 3 * np.log(Z)) / 5
    assert abs(X.teacher_forced_loss(stop, targets, targets) - want) < 1e-12


def test_count_params_counts_every_array():
    p = seq2seq.init_seq2seq(sd.V, sd.V, 3, 4, attention=False, rng=0)
    d, e, V = 4, 3, sd.V
    want = encoder.count_params(V, e, d)["total"] + V * e + d * d + d + (3 * d * e + 3 * d * d + 4 * d) \
        + V * d + V
    assert X.count_params(p) == want
    q = seq2seq.init_seq2seq(sd.V, sd.V, 3, 4, layers=2, bidirectional=True, attention=True, rng=0)
    assert X.count_params(q) == sum(a.size for _, a in q.items()) > want


def tiny_model():
    return seq2seq.init_seq2seq(sd.V, sd.V, 2, 2, d_dec=3, layers=2, bidirectional=True, attention=True,
                                a=2, rng=0)


def test_gradient_errors_cover_every_parameter_and_are_small():
    p, b = tiny_model(), sd.make_batch(["12", "4"], ["21", "4"])
    errors = X.gradient_errors(p, b)
    assert list(errors) == [name for name, _ in p.items()]
    assert {"enc.E", "enc.l1_reverse.W", "E", "W_s", "dec.U", "att.W_a", "att.v", "V", "c"} <= set(errors)
    assert max(errors.values()) < 1e-7


def test_gradient_errors_see_a_wrong_gradient(monkeypatch):
    p, b = tiny_model(), sd.make_batch(["12", "4"], ["21", "4"])
    right = seq2seq.loss_and_grads

    def wrong(q, *args):
        loss, g = right(q, *args)
        g.att.v[0] *= 1.001
        return loss, g

    monkeypatch.setattr(seq2seq, "loss_and_grads", wrong)
    errors = X.gradient_errors(p, b)
    assert errors["att.v"] > 1e-5 and errors["V"] < 1e-7


def test_padding_gap_is_at_round_off_and_sees_a_leak(monkeypatch):
    sources, targets = ["4711", "2", "38", "905"], ["1174", "2", "83", "509"]
    for config in (dict(attention=False), dict(attention=True, layers=2, bidirectional=True)):
        p = seq2seq.init_seq2seq(sd.V, sd.V, 3, 4, rng=1, **config)
        assert X.padding_gap(p, sources, targets) < 1e-12
    right = seq2seq.loss_and_grads
    monkeypatch.setattr(seq2seq, "loss_and_grads",       # a loss that depends on the padding
                        lambda q, *args: (right(q, *args)[0] + 1e-3 * args[0].shape[0], right(q, *args)[1]))
    assert X.padding_gap(p, sources, targets) > 1e-6


def test_save_and_load_round_trip(tmp_path):
    for config in (dict(attention=False), dict(attention=True, layers=2, bidirectional=True, d_dec=5, a=3)):
        p = seq2seq.init_seq2seq(sd.V, 9, 3, 4, rng=2, **config)
        path = X.save_params(p, tmp_path / "m.npz", {"note": "x"})
        q = X.load_params(path)
        assert [n for n, _ in q.items()] == [n for n, _ in p.items()]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(p.items(), q.items()))
    with pytest.raises(ValueError, match="^path"):
        X.load_params(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", x=np.ones(2))
    with pytest.raises(ValueError, match="^path"):
        X.load_params(tmp_path / "other.npz")


def test_the_stored_reference_model_is_the_code_s_attention_run_of_seed_0():
    run = X.reference_model()
    assert (run.condition, run.seed, run.reverse_source) == ("attention", 0, False)
    assert run.params.att is not None and run.params.enc.d == X.SETTINGS.d
    assert len(run.history.loss) == X.SETTINGS.steps
    assert data.model_path("seq2seq_reference").is_file()
    # the first training steps are deterministic up to round-off: rerun 3 and compare with the stored ones
    short = X.train_run("attention", 0, dataclasses.replace(X.SETTINGS, steps=3))
    assert np.abs(short.history.loss - run.history.loss[:3]).max() < 1e-10
    sources, targets = X.test_pairs(0)
    assert X.exact_match(run, sources, targets).mean() > 0.5           # a trained model, not a fresh one


def test_a_stale_reference_file_fails_loudly(tmp_path):
    run = X.reference_model()
    meta = X.reference_meta(run)
    for key, value in (("settings", dict(meta["settings"], steps=1)), ("pairs", "0" * 16),
                       ("condition", "plain")):
        path = X.save_params(run.params, tmp_path / f"{key}.npz", dict(meta, **{key: value}))
        with pytest.raises(ValueError, match=f"^path: .*stale.*{key}"):
            X.reference_model(path)
    assert X.reference_model(X.save_params(run.params, tmp_path / "ok.npz", meta)).seed == 0


def test_bad_inputs_are_refused_by_name():
    with pytest.raises(ValueError, match="^condition"):
        X.train_run("deep", 0, TINY)
    with pytest.raises(ValueError, match="^seed"):
        X.train_run("plain", -1, TINY)
    with pytest.raises(TypeError, match="^settings"):
        X.train_run("plain", 0, {"steps": 3})
    with pytest.raises(ValueError, match="^max_len"):
        X.Settings(min_len=4, max_len=3)
    with pytest.raises(ValueError, match="^task"):
        X.Settings(task="sort")
    run = constant_model(sd.EOS)
    with pytest.raises(ValueError, match="^width"):
        X.exact_match(run, ["1"], ["1"], width=0)
    with pytest.raises(TypeError, match="^run"):
        X.exact_match(run.params, ["1"], ["1"])
    with pytest.raises(ValueError, match="^targets"):
        X.token_accuracy(run, ["1", "2"], ["1"], True)
    with pytest.raises(TypeError, match="^batch"):
        X.gradient_errors(run.params, [1, 2])


def test_init_model_is_where_train_run_starts():
    p = X.init_model("stacked", 4, TINY)
    assert p.enc.layers == 2 and p.att is None
    u = X.train_run("stacked", 4, dataclasses.replace(TINY, steps=1, lr=1e-12))
    assert max(np.abs(a - b).max() for (_, a), (_, b) in zip(p.items(), u.params.items())) < 1e-9
    assert X.count_params(X.init_model("attention", 0)) == X.count_params(X.reference_model().params)


def test_beam_versus_exhaustive_counts_on_toy_models():
    r = X.beam_versus_exhaustive(models=30, V=4, max_len=4, widths=(1, 2, 27))
    assert r.models == 30 and r.widths == (1, 2, 27) and r.greedy_mismatches == 0
    assert r.found[0] <= r.found[1] <= r.found[2] == 30      # width (V-1)^(max_len-1) keeps every prefix
    assert r.found[0] < 30                                   # greedy misses on some toy models


def test_the_counterexample_is_a_real_miss_of_a_beam_as_wide_as_the_vocabulary():
    c = X.beam_counterexample()
    assert c.width == 5
    beam = decoding.beam_search(c.step, c.state0, c.bos, c.eos, 5, c.width)[0]
    best = decoding.exhaustive(c.step, c.state0, c.bos, c.eos, 5)[0]
    assert np.array_equal(beam.tokens, c.beam_tokens) and np.array_equal(best.tokens, c.best_tokens)
    assert c.best_log_prob > c.beam_log_prob + 1e-3
    for seed in range(c.model):                                          # the first such model
        step = decoding.bigram_step(X.toy_bigram(seed, 5, 1.0))
        assert decoding.beam_search(step, c.state0, 0, 1, 5, 5)[0].log_prob >= \
            decoding.exhaustive(step, c.state0, 0, 1, 5)[0].log_prob - 1e-9
    with pytest.raises(ValueError, match="^search"):
        X.beam_counterexample(V=4, scale=3.0, search=5)


def test_beam_check_on_the_reference_model():
    sources = ["7", "12", "40", "5"]
    r = X.beam_check(X.reference_model(), sources, widths=(1, 3))
    assert r.count == 4 and r.widths == (1, 3) and r.greedy_mismatches == 0
    assert (r.found <= 4).all() and r.found[1] == 4          # a wide beam finds the argmax here


def test_scheduled_inputs_replace_real_tokens_by_the_models_guesses(trained):
    sources, targets = X.test_pairs(3, SMALL)
    b = sd.make_batch(sources[:40], targets[:40])
    assert np.array_equal(X.scheduled_inputs(trained, b, 0.0), b.dec_in)
    guess = seq2seq.forward(trained.params, b.src, b.src_mask, b.dec_in).log_probs.argmax(axis=-1)
    full = X.scheduled_inputs(trained, b, 1.0)
    real = b.dec_mask[1:] > 0
    assert np.array_equal(full[0], b.dec_in[0]) and np.array_equal(full[1:][real], guess[:-1][real])
    assert np.array_equal(full[1:][~real], b.dec_in[1:][~real])          # PAD stays PAD
    half = X.scheduled_inputs(trained, b, 0.5, rng=1)
    changed = (half != b.dec_in).mean() / (full != b.dec_in).mean()
    assert 0.2 < changed < 0.8 and np.array_equal(half, X.scheduled_inputs(trained, b, 0.5, rng=1))
    with pytest.raises(ValueError, match="^epsilon"):
        X.scheduled_inputs(trained, b, 1.5)


def test_explorer_sources_spread_over_lengths():
    chosen = X.explorer_sources()
    assert [len(s) for s in chosen] == list(range(1, 7)) and chosen == X.explorer_sources()
    sources = X.test_pairs(0)[0][:200]
    assert set(chosen) <= set(sources)
    assert [len(s) for s in X.explorer_sources(3)] == [1, 4, 6]      # lengths 1, 3.5 -> 4, 6
    run, changed = X.reference_model(), 0
    step = seq2seq.make_step(run.params)
    for x in chosen:                           # the width changes the answer where the model hesitates
        state0 = seq2seq.initial_state(run.params, sd.make_batch([x], [x]).src)
        outs = {tuple(decoding.beam_search(step, state0, sd.BOS, sd.EOS, len(x) + 3, w)[0].tokens)
                for w in (1, 8)}
        changed += len(outs) > 1
    assert changed >= 2
