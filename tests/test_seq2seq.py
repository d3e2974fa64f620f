"""Chapter 9: the encoder-decoder with teacher forcing, with and without attention."""
import numpy as np
import pytest

from differences import finite_difference
from recurrent import decoding, seq2seq, training
from recurrent import seq2seq_data as sd
from recurrent.bptt import relative_error

V_SRC, V_TGT = 6, 5
SRC_LENGTHS, TGT_LENGTHS = [4, 1, 3], [2, 3, 1]       # padded, in no order of length
CONFIGS = {"plain": dict(attention=False), "attention": dict(attention=True),
           "attention_bi2": dict(attention=True, bidirectional=True, layers=2)}


def padded(rng, lengths, V):
    T = max(lengths)
    mask = (np.arange(T)[:, None] < np.array(lengths)).astype(float)
    return np.where(mask > 0, rng.integers(3, V, (T, len(lengths))), 0), mask


def model(config, seed=0):
    p = seq2seq.init_seq2seq(V_SRC, V_TGT, 3, 3, d_dec=4, a=3, rng=seed, **CONFIGS[config])
    for _, a in p.items():                     # every bias non-zero, recurrences and scores sharp
        if a.ndim == 1:
            a[...] = np.random.default_rng(seed + 1).normal(0, 0.5, a.shape)
    p.dec.W[...] *= 2
    if p.att is not None:              # keys spread over tanh's bends, so that the query matters
        p.att.U_a[...] *= 3
        p.att.v[...] *= 4
    return p


def batch(seed=0):
    """src, src_mask (T, B); tgt_in = BOS y, tgt_out = y EOS, tgt_mask (L + 1, B)."""
    rng = np.random.default_rng(seed)
    src, src_mask = padded(rng, SRC_LENGTHS, V_SRC)
    y, y_mask = padded(rng, TGT_LENGTHS, V_TGT)
    B = len(TGT_LENGTHS)
    tgt_in = np.concatenate([np.ones((1, B), int), y])
    tgt_out = np.concatenate([y, np.zeros((1, B), int)])
    tgt_out[TGT_LENGTHS, np.arange(B)] = 2
    return src, src_mask, tgt_in, tgt_out, np.concatenate([np.ones((1, B)), y_mask])


@pytest.mark.parametrize("config", CONFIGS)
def test_every_gradient_matches_central_differences(config):
    p, args = model(config), batch()
    loss, grads = seq2seq.loss_and_grads(p, *args)
    names = [name for name, _ in p.items()]
    assert {"enc.E", "enc.l0.U", "E", "W_s", "b_s", "dec.U", "dec.bh", "V", "c"} <= set(names)
    assert ("att.W_a" in names) == (p.att is not None)
    for name, a in p.items():
        def f(value, name=name):
            q = p.copy()
            getattr(q, name)[...] = value
            return seq2seq.loss_and_grads(q, *args)[0]
        numeric = finite_difference(f, a.copy(), eps=1e-4)     # dL/dW_a is small: W_a s_{t-1}
        assert np.abs(numeric).max() > 0, name                   # shifts all scores alike
        assert relative_error(getattr(grads, name), numeric) < 1e-7, name


@pytest.mark.parametrize("config", CONFIGS)
def test_a_padded_batch_is_the_token_weighted_sum_of_single_examples(config):
    """Loss and gradients are means over the real target tokens of the whole batch: N L_batch =
    sum_b N_b L_b, with N_b the real tokens of example b (its length + 1 for EOS)."""
    p = model(config)
    src, src_mask, tgt_in, tgt_out, tgt_mask = batch(1)
    loss, grads = seq2seq.loss_and_grads(p, src, src_mask, tgt_in, tgt_out, tgt_mask)
    N, total, summed = tgt_mask.sum(), 0.0, {name: 0.0 for name, _ in p.items()}
    for b in range(src.shape[1]):
        S, L = int(src_mask[:, b].sum()), int(tgt_mask[:, b].sum())
        one = (src[:S, [b]], np.ones((S, 1)), tgt_in[:L, [b]], tgt_out[:L, [b]], tgt_mask[:L, [b]])
        loss_b, grads_b = seq2seq.loss_and_grads(p, *one)
        total += L * loss_b
        for name, g in grads_b.items():
            summed[name] = summed[name] + L * g
    assert abs(N * loss - total) < 1e-12 * total
    for name, g in grads.items():
        assert relative_error(N * g, summed[name]) < 1e-12, name


@pytest.mark.parametrize("config", CONFIGS)
def test_the_step_function_reproduces_the_teacher_forced_log_probs(config):
    p = model(config)
    src, src_mask, tgt_in, tgt_out, tgt_mask = batch(2)
    f = seq2seq.forward(p, src, src_mask, tgt_in)
    step, state = seq2seq.make_step(p), seq2seq.initial_state(p, src, src_mask)
    for t in range(len(tgt_in)):
        log_probs, state = step(tgt_in[t], state)
        assert np.abs(log_probs - f.log_probs[t]).max() < 1e-12
    assert np.allclose(np.logaddexp.reduce(log_probs, axis=1), 0, rtol=0, atol=1e-12)
    # decoding scores a given output with these log-probs: the loss of that example, summed
    b, L = 0, int(tgt_mask[:, 0].sum())
    state0 = seq2seq.initial_state(p, src[:SRC_LENGTHS[b], [b]])
    score = decoding.sequence_log_prob(step, state0, 1, tgt_out[:L, b])
    loss = seq2seq.loss_and_grads(p, src[:SRC_LENGTHS[b], [b]], np.ones((SRC_LENGTHS[b], 1)), tgt_in[:L, [b]],
                                  tgt_out[:L, [b]], tgt_mask[:L, [b]])[0]
    assert abs(score + L * loss) < 1e-12 * L * loss


@pytest.mark.parametrize("config", CONFIGS)
def test_beam_search_on_the_model_scores_every_hypothesis_as_teacher_forcing_does(config):
    """Beam search reorders the state (s, hs, mask) along axis 0: a wrong reordering would give a
    hypothesis log-probabilities of another prefix."""
    p = model(config)
    src = batch(3)[0][:, [0]]
    step, state0 = seq2seq.make_step(p), seq2seq.initial_state(p, src)
    hyps = decoding.beam_search(step, state0, 1, 2, 4, width=4)
    assert len(hyps) >= 4
    for hyp in hyps:
        rescored = decoding.sequence_log_prob(step, state0, 1, hyp.tokens)
        assert abs(hyp.log_prob - rescored) < 1e-12 * max(1.0, abs(rescored))
    greedy = decoding.greedy(step, state0, 1, 2, 4)
    best_of_one = decoding.beam_search(step, state0, 1, 2, 4, width=1)[0]
    assert np.array_equal(greedy.tokens, best_of_one.tokens)


def test_the_model_works_with_adam_and_clipping():
    p = model("attention")
    loss, grads = seq2seq.loss_and_grads(p, *batch())
    clipped, norm = training.clip_by_norm(grads, 1e-3)
    assert norm == pytest.approx(np.sqrt(sum(np.sum(g ** 2) for _, g in grads.items())), rel=1e-12)
    assert training.global_norm(clipped) == pytest.approx(1e-3, rel=1e-12)
    before = p.copy()
    training.Adam(p, lr=0.1)(p, clipped)
    for (name, a), (_, a0) in zip(p.items(), before.items()):
        assert not np.array_equal(a, a0), name                  # Adam reached every array in place
    assert seq2seq.loss_and_grads(p, *batch())[0] < loss


@pytest.mark.parametrize("attention", [False, True])
def test_training_on_a_copy_task_lowers_the_teacher_forced_loss(attention):
    sources, targets = sd.make_pairs("copy", 96, 1, 3, rng=0)
    batches = [sd.make_batch(sources[i:i + 32], targets[i:i + 32]) for i in range(0, 96, 32)]
    held_out = sd.make_batch(*sd.make_pairs("copy", 64, 1, 3, rng=1))
    p = seq2seq.init_seq2seq(sd.V, sd.V, 8, 16, attention=attention, rng=0)
    before = seq2seq.loss_and_grads(p, *held_out)[0]
    lines = []
    history = seq2seq.train(p, batches, 240, lr=0.01, clip=1.0, log_every=120, log=lines.append)
    after = seq2seq.loss_and_grads(p, *held_out)[0]
    assert len(lines) == 2 and lines[0].startswith("step   120/240")
    assert history.loss.shape == history.grad_norm.shape == (240,)
    assert history.loss[-12:].mean() < 0.1 * history.loss[:12].mean()     # measured: 0.017, 0.002
    assert after < 0.6 * before                    # measured: 0.37 plain, 0.17 with attention
    # the trained model copies the training sources when decoded greedily
    step, correct = seq2seq.make_step(p), 0
    for source in sources[:20]:
        state0 = seq2seq.initial_state(p, sd.encode(source)[:, None])
        hyp = decoding.greedy(step, state0, sd.BOS, sd.EOS, 6)
        correct += sd.decode(hyp.tokens) == source
    assert correct >= 15                                                   # measured: 20 of 20


def test_training_prints_nothing_unless_asked(capsys):
    p = model("plain")
    seq2seq.train(p, [batch()], 2)
    assert capsys.readouterr().out == ""


def test_bad_inputs_are_refused():
    p = model("attention")
    src, src_mask, tgt_in, tgt_out, tgt_mask = batch()
    with pytest.raises(ValueError, match="^src_ids"):
        seq2seq.loss_and_grads(p, src + V_SRC, src_mask, tgt_in, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="^tgt_in"):
        seq2seq.loss_and_grads(p, src, src_mask, tgt_in + V_TGT, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="^tgt_in, tgt_out"):
        seq2seq.loss_and_grads(p, src, src_mask, tgt_in, tgt_out[:-1], tgt_mask)
    with pytest.raises(ValueError, match="^tgt_in, tgt_mask"):
        seq2seq.loss_and_grads(p, src, src_mask, tgt_in, tgt_out, tgt_mask[:, :2])
    with pytest.raises(ValueError, match="^tgt_mask"):
        seq2seq.loss_and_grads(p, src, src_mask, tgt_in, tgt_out, 0 * tgt_mask)
    with pytest.raises(ValueError, match="^src_ids, tgt_in"):
        seq2seq.loss_and_grads(p, src[:, :2], src_mask[:, :2], tgt_in, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="^src_ids, src_mask"):
        seq2seq.loss_and_grads(p, src, src_mask[:-1], tgt_in, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="^src_ids: expected a non-empty"):       # an empty batch
        seq2seq.loss_and_grads(p, src[:, :0], src_mask[:, :0], tgt_in[:, :0], tgt_out[:, :0],
                               tgt_mask[:, :0])
    with pytest.raises(ValueError, match="^tgt_in: expected a non-empty"):
        seq2seq.loss_and_grads(p, src, src_mask, tgt_in[:0], tgt_out[:0], tgt_mask[:0])
    empty = src_mask.copy()
    empty[:, 1] = 0
    with pytest.raises(ValueError, match="^src_mask: expected a real token in every column"):
        seq2seq.loss_and_grads(p, src, empty, tgt_in, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="^src_mask: expected 0/1 entries, ones then zeros"):
        seq2seq.loss_and_grads(p, src, src_mask[::-1], tgt_in, tgt_out, tgt_mask)
    with pytest.raises(TypeError, match="^src_mask"):
        seq2seq.loss_and_grads(p, src, None, tgt_in, tgt_out, tgt_mask)
    with pytest.raises(TypeError, match="^tgt_in"):
        seq2seq.loss_and_grads(p, src, src_mask, tgt_in.astype(float), tgt_out, tgt_mask)
    with pytest.raises(TypeError, match="^p"):
        seq2seq.loss_and_grads(p.dec, src, src_mask, tgt_in, tgt_out, tgt_mask)
    with pytest.raises(ValueError, match="^steps"):
        seq2seq.train(p, [batch()], 0)
    with pytest.raises(ValueError, match="^batches"):
        seq2seq.train(p, [], 1)
    with pytest.raises(ValueError, match="^d_dec"):
        seq2seq.init_seq2seq(V_SRC, V_TGT, 3, 3, d_dec=0)
    with pytest.raises(ValueError, match="^att"):
        seq2seq.Seq2SeqParams(p.enc, p.E, p.W_s, p.b_s, p.dec, p.V, p.c,
                              seq2seq.attn.init_attention(5, 3, 3))
    with pytest.raises(ValueError, match="^E, dec"):
        seq2seq.Seq2SeqParams(p.enc, p.E, p.W_s, p.b_s, p.dec, p.V, p.c, None)
