"""The numpy encoder-decoder agrees with PyTorch: torch.nn.Embedding, torch.nn.GRU on packed padded
batches, a GRU decoder with teacher forcing, additive attention and masked cross-entropy (fixtures, no
torch import).

The fixtures recurrent/data/torch/seq2seq_encoder.npz and seq2seq_model.npz are written by
scripts/make_torch_seq2seq_fixtures.py with torch 2.13.0 (its docstring states the model).
"""
from importlib import resources

import numpy as np
import pytest

from recurrent import gru

TOL = 1e-10
FIXTURES = {"seq2seq_encoder": ["bi2", "uni1"], "seq2seq_model": ["attention", "attention_bi2", "plain"]}


def _load(fixture: str) -> np.lib.npyio.NpzFile:
    # the layout of recurrent.data's fixtures: arrays under "<case>/<key>", the version under
    # "torch_version"
    return np.load(str(resources.files("recurrent.data").joinpath("torch", f"{fixture}.npz")))


def torch_case(fixture: str, case: str) -> dict:
    with _load(fixture) as f:
        return {key.split("/", 1)[1]: f[key] for key in f.files if key.startswith(case + "/")}


def torch_cases(fixture: str) -> list:
    with _load(fixture) as f:
        return sorted({key.split("/", 1)[0] for key in f.files if "/" in key})


def cell(f: dict, name: str) -> gru.GRUParams:
    """The "torch" GRU of PyTorch's parameters ``<name>.weight_ih...`` (a torch.nn.GRU layer
    ``enc_gru.*_l0_reverse`` or a torch.nn.GRUCell ``dec_gru.*``), with V = I and c = 0 so that its
    outputs are its states."""
    prefix, _, suffix = name.partition("*")
    state = {f"{w}_l0": f[f"{prefix}{w}{suffix}"] for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    d = state["weight_hh_l0"].shape[1]
    return gru.from_torch({**state, "linear.weight": np.eye(d), "linear.bias": np.zeros(d)})


def encoder_one_by_one(f: dict):
    """The encoder run by the book's GRU on every sequence alone, unpadded: hs (T, B, D), h_n (L D, B, d)
    in PyTorch's layout (layer-major, forward before reverse)."""
    src, lengths, layers, bi = f["src"], f["src_lengths"], int(f["layers"]), bool(f["bidirectional"])
    T, B = src.shape
    E = f["enc_embedding.weight"]
    hs, h_n = None, []
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


# ---------------------------------------------------------------------------------------- the fixtures

def test_fixtures_were_made_with_the_pinned_torch_and_hold_the_cases():
    for fixture, cases in FIXTURES.items():
        with _load(fixture) as f:
            assert str(f["torch_version"]).startswith("2.13.0")
        assert torch_cases(fixture) == cases


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_batches_are_padded_with_different_lengths(fixture):
    for case in FIXTURES[fixture]:
        f = torch_case(fixture, case)
        lengths, mask = f["src_lengths"], f["src_mask"]
        assert len(set(lengths.tolist())) == len(lengths) and lengths.min() == 1
        np.testing.assert_array_equal(mask.sum(0), lengths)
        assert np.all((f["src"] == 0) == (mask == 0))           # PAD exactly after each end
        assert np.all(f["hs"][mask == 0] == 0)                  # pad_packed_sequence pads with zeros


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
    z = logits - logits.max(-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_p, f["tgt_out"][..., None], -1)[..., 0]
    m = f["tgt_mask"]
    assert (nll * m).sum() / m.sum() == pytest.approx(float(f["loss"]), abs=TOL)
