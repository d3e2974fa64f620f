"""The numpy encoder-decoder agrees with PyTorch: torch.nn.Embedding, torch.nn.GRU on packed padded
batches, a GRU decoder with teacher forcing, additive attention and masked cross-entropy (fixtures, no
torch import).

The fixtures recurrent/data/torch/seq2seq_encoder.npz, seq2seq_attention.npz and seq2seq_model.npz are
written by scripts/make_torch_seq2seq_fixtures.py with torch 2.13.0 (its docstring states the model).
Every array agrees to TOL = 1e-10 (measured: below 2e-15).
"""
import numpy as np
import pytest

from recurrent import attention, encoder, gru, seq2seq
from recurrent.data import torch_case, torch_cases, torch_version
from recurrent.seq2seq_torch import agreement, encoder_of, model_of
from recurrent.seq2seq_torch import cell_of as cell
from recurrent.seq2seq_torch import log_probs as torch_log_probs
from recurrent.seq2seq_torch import model_grads as expected_model_grads

TOL = 1e-10
FIXTURES = {"seq2seq_encoder": ["bi2", "uni1"], "seq2seq_attention": ["step"],
            "seq2seq_model": ["attention", "attention_bi2", "plain"]}



def encoder_one_by_one(f: dict):
    """The encoder run by the book's GRU on every sequence alone, unpadded: hs (T, B, D), h_n (L D, B, d)
    in PyTorch's layout (layer-major, forward before reverse)."""
    src, lengths, layers, bi = f["src"], f["src_lengths"], int(f["layers"]), bool(f["bidirectional"])
    T, B = src.shape
    E = f["enc_embedding.weight"]
    h_n = []
    outs = [E[src[:L, b]][:, None, :] for b, L in enumerate(lengths)]      # (L, 1, e) per sequence
    for k in range(layers):
        finals, new_outs = [], []
        for r in ["", "_reverse"] if bi else [""]:
            p = cell(f, f"enc_gru.*_l{k}{r}")
            runs = [gru.forward(p, x[::-1] if r else x).hs for x in outs]
            new_outs.append([h[::-1] if r else h for h in runs])
            finals.append(np.stack([h[-1, 0] for h in runs]))
        outs = [np.concatenate(parts, axis=-1) for parts in zip(*new_outs)]
        h_n.extend(finals)
    hs = np.zeros((T, B, outs[0].shape[-1]))
    for b, L in enumerate(lengths):
        hs[:L, b] = outs[b][:, 0]
    return hs, np.stack(h_n)


def attention_of(f: dict) -> attention.AttentionParams:
    """S3's attention parameters of the fixture's bias-free torch.nn.Linear layers W_a, U_a, v."""
    return attention.AttentionParams(W_a=f["W_a.weight"], U_a=f["U_a.weight"], v=f["v.weight"][0])



def per_layer(h_n: np.ndarray, bidirectional: bool) -> np.ndarray:
    """torch's h_n: (layers * D, B, d), forward before reverse, as (layers, B, D d) = [h_fwd; h_bwd]."""
    D = 2 if bidirectional else 1
    LD, B, d = h_n.shape
    return h_n.reshape(LD // D, D, B, d).transpose(0, 2, 1, 3).reshape(LD // D, B, D * d)


def expected_cell_grads(f: dict, prefix: str, suffix: str = "") -> dict:
    """torch's gradients of one GRU as gradients of the book's symbols: b = b_ih + [b_hh_r; b_hh_z; 0]
    gets b_ih's gradient, bh = b_hh_n gets the n block of b_hh's."""
    g = {w: f[f"grad_{prefix}.{w}{suffix}"] for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    d = g["weight_hh"].shape[1]
    # both biases of the r and z blocks are only added: torch gives them the same gradient
    np.testing.assert_allclose(g["bias_hh"][:2 * d], g["bias_ih"][:2 * d], rtol=0, atol=TOL)
    return {"U": g["weight_ih"], "W": g["weight_hh"], "b": g["bias_ih"], "bh": g["bias_hh"][2 * d:]}


def expected_encoder_grads(f: dict) -> dict:
    """torch's gradients under the names of ``EncoderParams.items()``: "E", "l0.U", "l1_reverse.bh"..."""
    out = {"E": f["grad_enc_embedding.weight"]}
    for k in range(int(f["layers"])):
        for r in ["", "_reverse"] if bool(f["bidirectional"]) else [""]:
            for symbol, g in expected_cell_grads(f, "enc_gru", f"_l{k}{r}").items():
                out[f"l{k}{r}.{symbol}"] = g
    return out





# ---------------------------------------------------------------------------------------- the fixtures

def test_fixtures_were_made_with_the_pinned_torch_and_hold_the_cases():
    for fixture, cases in FIXTURES.items():
        assert torch_version(fixture).startswith("2.13.0")
        assert torch_cases(fixture) == cases


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_batches_are_padded_with_different_lengths(fixture):
    for case in FIXTURES[fixture]:
        f = torch_case(fixture, case)
        lengths, mask = f["src_lengths"], f["src_mask"]
        assert len(set(lengths.tolist())) == len(lengths) and lengths.min() == 1
        np.testing.assert_array_equal(mask.sum(0), lengths)
        if fixture != "seq2seq_attention":
            assert np.all((f["src"] == 0) == (mask == 0))       # PAD exactly after each end
            assert np.all(f["hs"][mask == 0] == 0)              # pad_packed_sequence pads with zeros


@pytest.mark.parametrize("case", FIXTURES["seq2seq_encoder"])
def test_the_books_gru_on_each_sequence_alone_is_torchs_packed_encoder(case):
    f = torch_case("seq2seq_encoder", case)
    hs, h_n = encoder_one_by_one(f)
    np.testing.assert_allclose(hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(h_n, f["h_n"], rtol=0, atol=TOL)


def decoder_by_hand(f: dict):
    """The teacher-forced decoder of the fixture's docstring, written out with the book's GRU step:
    logits (T_y, B, V) and, with attention, the weights alphas (T_y, B, T_x)."""
    hs, mask, attention = f["hs"], f["src_mask"], bool(f["attention"])
    h_n = f["h_n"]
    h_fin = np.concatenate([h_n[-2], h_n[-1]], axis=1) if bool(f["bidirectional"]) else h_n[-1]
    s = np.tanh(h_fin @ f["bridge.weight"].T + f["bridge.bias"])
    p = cell(f, "dec_gru.*")
    logits, alphas = [], []
    for t in range(len(f["tgt_in"])):
        x = f["dec_embedding.weight"][f["tgt_in"][t]]
        if attention:
            e = np.einsum("tba,a->bt", np.tanh(s @ f["W_a.weight"].T + hs @ f["U_a.weight"].T),
                          f["v.weight"][0])
            e = np.where(mask.T > 0, e, -np.inf)
            alpha = np.exp(e - e.max(1, keepdims=True))
            alpha /= alpha.sum(1, keepdims=True)
            context = np.einsum("bt,tbd->bd", alpha, hs)
            alphas.append(alpha)
            x = np.concatenate([x, context], axis=1)
        s = gru.step(p, x, s)
        top = np.concatenate([s, context], axis=1) if attention else s
        logits.append(top @ f["out.weight"].T + f["out.bias"])
    return np.stack(logits), (np.stack(alphas) if attention else None)


@pytest.mark.parametrize("case", FIXTURES["seq2seq_model"])
def test_the_fixture_model_is_the_one_its_script_states(case):
    f = torch_case("seq2seq_model", case)
    hs, h_n = encoder_one_by_one(f)
    np.testing.assert_allclose(hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(h_n, f["h_n"], rtol=0, atol=TOL)
    logits, alphas = decoder_by_hand(f)
    np.testing.assert_allclose(logits, f["logits"], rtol=0, atol=TOL)
    if alphas is not None:
        np.testing.assert_allclose(alphas, f["alphas"], rtol=0, atol=TOL)
        assert np.all(f["alphas"][:, f["src_mask"].T == 0] == 0)     # PAD gets weight exactly 0
    nll = -np.take_along_axis(torch_log_probs(f), f["tgt_out"][..., None], -1)[..., 0]
    m = f["tgt_mask"]
    assert (nll * m).sum() / m.sum() == pytest.approx(float(f["loss"]), abs=TOL)


def test_the_fixtures_tell_the_conventions_apart():
    # the reverse direction must start at each sequence's own last token: run over the whole padded
    # column (PAD embeddings first), it ends elsewhere
    f = torch_case("seq2seq_encoder", "bi2")
    p = cell(f, "enc_gru.*_l0_reverse")
    xs = f["enc_embedding.weight"][f["src"]]                              # (T, B, e), PAD rows too
    naive = gru.forward(p, xs[::-1]).hs[-1]                               # after reading x_1
    short = f["src_lengths"] < len(f["src"])
    assert np.abs(naive[short] - f["h_n"][1][short]).max(axis=1).min() > 1e-3   # every one of them
    # the loss is a mean over the real tokens of the batch, not a mean of per-sentence means
    f = torch_case("seq2seq_model", "plain")
    nll = -np.take_along_axis(torch_log_probs(f), f["tgt_out"][..., None], -1)[..., 0]
    m = f["tgt_mask"]
    per_sentence = ((nll * m).sum(0) / m.sum(0)).mean()
    assert abs(per_sentence - float(f["loss"])) > 1e-3


# --------------------------------------------------------------------------------- the encoder (S2's)

@pytest.mark.parametrize("case", FIXTURES["seq2seq_encoder"])
def test_encoder_outputs_and_final_states_match_torch(case):
    f = torch_case("seq2seq_encoder", case)
    out = encoder.encode(encoder_of(f), f["src"], f["src_mask"])
    np.testing.assert_allclose(out.hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(out.final, per_layer(f["h_n"], bool(f["bidirectional"])), rtol=0, atol=TOL)


@pytest.mark.parametrize("case", FIXTURES["seq2seq_encoder"])
def test_encoder_gradients_match_torch_autograd(case):
    f = torch_case("seq2seq_encoder", case)
    p = encoder_of(f)
    out = encoder.encode(p, f["src"], f["src_mask"])
    grads = encoder.encode_backward(p, f["src"], f["src_mask"], out, d_hs=f["d_hs"],
                                    d_final=per_layer(f["d_h_n"], bool(f["bidirectional"])))
    expected = expected_encoder_grads(f)
    assert set(grads) == set(expected) == {name for name, _ in p.items()}
    for name, g in expected.items():
        np.testing.assert_allclose(grads[name], g, rtol=0, atol=TOL, err_msg=name)
    assert np.all(grads["E"][0] == 0)            # PAD (id 0) is embedded but never read


@pytest.mark.parametrize("case", FIXTURES["seq2seq_encoder"])
def test_encoder_parameter_count_and_torch_names_match_torch(case):
    f = torch_case("seq2seq_encoder", case)
    p = encoder_of(f)
    sizes = dict(layers=int(f["layers"]), bidirectional=bool(f["bidirectional"]))
    counts = encoder.count_params(p.V, p.e, p.d, **sizes, biases="two")
    assert counts["total"] == int(f["num_params"])
    # the book's cell keeps b (3d) and bh (d): 2d fewer than torch's b_ih and b_hh, per cell
    cells = sizes["layers"] * (2 if sizes["bidirectional"] else 1)
    assert encoder.count_params(p.V, p.e, p.d, **sizes)["total"] == int(f["num_params"]) - 2 * p.d * cells
    state = encoder.to_torch(p)
    assert set(state) == {key[len("enc_"):] for key in f if key.startswith(("enc_embedding.", "enc_gru."))}
    back = encoder.from_torch(state, bidirectional=sizes["bidirectional"])
    assert [name for name, _ in back.items()] == [name for name, _ in p.items()]
    for (name, a), (_, a_back) in zip(p.items(), back.items()):
        np.testing.assert_array_equal(a_back, a, err_msg=name)



# ------------------------------------------------------------------------------- attention (S3's)

def test_attention_step_matches_torch():
    f = torch_case("seq2seq_attention", "step")
    att = attention.forward(attention_of(f), f["query"], f["hs"], f["src_mask"])
    np.testing.assert_allclose(att.scores.T, f["scores"], rtol=0, atol=TOL)    # -inf at PAD in both
    np.testing.assert_allclose(att.weights.T, f["weights"], rtol=0, atol=TOL)
    np.testing.assert_allclose(att.context, f["context"], rtol=0, atol=TOL)
    assert np.all(att.weights[f["src_mask"] == 0] == 0)


def test_attention_gradients_match_torch_autograd():
    f = torch_case("seq2seq_attention", "step")
    p = attention_of(f)
    att = attention.forward(p, f["query"], f["hs"], f["src_mask"])
    back = attention.backward(p, f["hs"], att, f["d_context"], d_weights=f["d_weights"].T)
    np.testing.assert_allclose(back.grads.W_a, f["grad_W_a.weight"], rtol=0, atol=TOL)
    np.testing.assert_allclose(back.grads.U_a, f["grad_U_a.weight"], rtol=0, atol=TOL)
    np.testing.assert_allclose(back.grads.v, f["grad_v.weight"][0], rtol=0, atol=TOL)
    np.testing.assert_allclose(back.d_query, f["grad_query"], rtol=0, atol=TOL)
    np.testing.assert_allclose(back.d_hs, f["grad_hs"], rtol=0, atol=TOL)
    assert np.all(f["grad_hs"][f["src_mask"] == 0] == 0) and np.all(back.d_hs[f["src_mask"] == 0] == 0)


@pytest.mark.parametrize("case", ["attention", "attention_bi2"])
def test_attention_weights_along_the_decoder_match_torch(case):
    f = torch_case("seq2seq_model", case)
    p = attention_of(f)
    queries = np.concatenate([f["s0"][None], f["states"][:-1]])      # s_{t-1} for t = 1..T_y
    for t, s_prev in enumerate(queries):
        att = attention.forward(p, s_prev, f["hs"], f["src_mask"])
        np.testing.assert_allclose(att.weights.T, f["alphas"][t], rtol=0, atol=TOL)
        np.testing.assert_allclose(att.context, f["contexts"][t], rtol=0, atol=TOL)


# ------------------------------------------------------------------------- the whole model (S3's)

def batch(f: dict) -> tuple:
    return f["src"], f["src_mask"], f["tgt_in"], f["tgt_out"], f["tgt_mask"]


@pytest.mark.parametrize("case", FIXTURES["seq2seq_model"])
def test_teacher_forced_pass_matches_torch(case):
    f = torch_case("seq2seq_model", case)
    fwd = seq2seq.forward(model_of(f), f["src"], f["src_mask"], f["tgt_in"])
    np.testing.assert_allclose(fwd.enc.hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fwd.s0, f["s0"], rtol=0, atol=TOL)
    d_dec = f["s0"].shape[1]
    np.testing.assert_allclose(fwd.features[..., :d_dec], f["states"], rtol=0, atol=TOL)
    if bool(f["attention"]):
        np.testing.assert_allclose(fwd.features[..., d_dec:], f["contexts"], rtol=0, atol=TOL)
        weights = np.stack([step.weights.T for step in fwd.steps])
        np.testing.assert_allclose(weights, f["alphas"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fwd.log_probs, torch_log_probs(f), rtol=0, atol=TOL)


@pytest.mark.parametrize("case", FIXTURES["seq2seq_model"])
def test_loss_and_every_gradient_match_torch_autograd(case):
    f = torch_case("seq2seq_model", case)
    p = model_of(f)
    loss, grads = seq2seq.loss_and_grads(p, *batch(f))
    assert loss == pytest.approx(float(f["loss"]), abs=TOL)
    expected = expected_model_grads(f)
    got = dict(grads.items())
    assert set(got) == set(expected) == {name for name, _ in p.items()}
    for name, g in expected.items():
        np.testing.assert_allclose(got[name], g, rtol=0, atol=TOL, err_msg=name)
    for name in ("enc.E", "E"):                  # PAD (id 0) is read only where the loss ignores it
        assert np.all(got[name][0] == 0), name


@pytest.mark.parametrize("case", FIXTURES["seq2seq_model"])
def test_model_parameter_count_matches_torch(case):
    f = torch_case("seq2seq_model", case)
    p = model_of(f)
    cells = int(f["layers"]) * (2 if bool(f["bidirectional"]) else 1)
    # the book's GRUs keep b and bh where torch keeps b_ih and b_hh: 2d fewer per cell, decoder's too
    fewer = 2 * p.enc.d * cells + 2 * p.dec.d
    assert sum(a.size for _, a in p.items()) == int(f["num_params"]) - fewer


@pytest.mark.parametrize("case", FIXTURES["seq2seq_model"])
def test_the_decoding_step_fed_the_true_tokens_gives_torchs_log_probs(case):
    f = torch_case("seq2seq_model", case)
    p = model_of(f)
    step, expected = seq2seq.make_step(p), torch_log_probs(f)
    state = seq2seq.initial_state(p, f["src"], f["src_mask"])      # the whole batch: K = B
    np.testing.assert_allclose(state[0], f["s0"], rtol=0, atol=TOL)
    for t, tokens in enumerate(f["tgt_in"]):
        log_probs, state = step(tokens, state)
        np.testing.assert_allclose(log_probs, expected[t], rtol=0, atol=TOL, err_msg=f"step {t}")


def test_agreement_reports_every_case_below_the_tolerance_and_names_bad_cases():
    gaps = agreement()
    assert sorted(gaps) == FIXTURES["seq2seq_model"] and max(gaps.values()) < TOL
    assert list(agreement(["plain"])) == ["plain"]
    with pytest.raises(ValueError, match="cases"):
        agreement(["no such case"])
    with pytest.raises(ValueError, match="without"):
        model_of({"attention": True})
    with pytest.raises(TypeError, match="cases"):
        agreement("plain")
    with pytest.raises(ValueError, match="name"):
        cell(torch_case("seq2seq_model", "plain"), "no_gru.*")
