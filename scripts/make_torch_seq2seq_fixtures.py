"""Write the PyTorch fixtures that tests/test_seq2seq_torch.py checks the numpy seq2seq code against.

Run it (once, after changing it) in an environment that has torch:

    pip install torch==2.13.0 numpy
    python scripts/make_torch_seq2seq_fixtures.py

It writes two files of package data, read through ``recurrent.data.torch_case``; the test suite reads
them and never imports torch. Everything is float64, the weights are drawn here with a fixed seed
(both PyTorch GRU biases non-zero and different), and the batches are padded with sequences of
different lengths, one of them a single token, in no particular order of length.

code/recurrent/data/torch/seq2seq_encoder.npz, cases "uni1" (one layer) and "bi2" (two stacked
bidirectional layers): torch.nn.Embedding, then torch.nn.GRU on a pack_padded_sequence, so that
every sequence stops at its own length and the reverse direction starts at its own last real token.
The scalar whose gradients are stored is linear in the outputs, L = sum(d_hs * hs) + sum(d_h_n * h_n),
so that d_hs and d_h_n are exactly the gradients entering the encoder from above.

code/recurrent/data/torch/seq2seq_model.npz, cases "plain" (no attention, one-layer encoder),
"attention" (one-layer encoder) and "attention_bi2" (two-layer bidirectional encoder): the encoder
above and a GRU decoder with its own embedding, run with teacher forcing (it reads the true previous
token). The decoder starts from s_0 = tanh(W_s h_fin + b_s), h_fin the encoder's final state (the last
layer's, forward and backward concatenated). With attention, at step t (Bahdanau et al. 2015):

    e_{t,s} = v^T tanh(W_a s_{t-1} + U_a h_s)      alpha_{t,.} = softmax over the real s of e_{t,.}
    c_t = sum_s alpha_{t,s} h_s    s_t = GRU([emb(y_{t-1}); c_t], s_{t-1})    o_t = V [s_t; c_t] + c

and without it s_t = GRU(emb(y_{t-1}), s_{t-1}), o_t = V s_t + c. The loss is the cross-entropy of
o_t against the true next token, summed over the real target tokens and divided by their number.

code/recurrent/data/torch/seq2seq_attention.npz, case "step": one step of that attention on its own,
for a random query s_{t-1} and random encoder outputs hs (random at PAD positions too, which must take
no part), and L = sum(d_context * c_t) + sum(d_weights * alpha_t), so that d_context and d_weights are
the gradients entering from above.
"""
from __future__ import annotations

import pathlib

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

DATA = pathlib.Path(__file__).resolve().parents[1] / "code" / "recurrent" / "data" / "torch"
PAD, FIRST_ID = 0, 3              # as recurrent.seq2seq_data: PAD = 0, BOS = 1, EOS = 2, then symbols
ENCODERS = {"uni1": dict(layers=1, bidirectional=False), "bi2": dict(layers=2, bidirectional=True)}
MODELS = {"plain": dict(encoder="uni1", attention=False),
          "attention": dict(encoder="uni1", attention=True),
          "attention_bi2": dict(encoder="bi2", attention=True)}
SIZES = dict(V_src=7, V_tgt=6, e=3, d=4, d_dec=5, a=3)       # vocabularies, embedding, hidden, attention
SRC_LENGTHS, TGT_LENGTHS = [5, 2, 1, 4], [3, 4, 1, 2]         # B = 4; T_x = 5, T_y = 4


def padded(rng, lengths, V) -> tuple:
    """Random ids (T, B) in [FIRST_ID, V) within each length, PAD after; the mask (T, B) 0/1."""
    T, B = max(lengths), len(lengths)
    mask = (np.arange(T)[:, None] < np.array(lengths)[None, :]).astype(np.float64)
    ids = np.where(mask > 0, rng.integers(FIRST_ID, V, (T, B)), PAD)
    return ids, mask


def gru_names(layers: int, bidirectional: bool) -> list:
    """PyTorch's parameter names of torch.nn.GRU, e.g. weight_ih_l1_reverse."""
    suffixes = [f"l{k}{r}" for k in range(layers) for r in (["", "_reverse"] if bidirectional else [""])]
    return [f"{w}_{s}" for s in suffixes for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def set_weights(module, prefix: str, arrays: dict, rng, scale: float = 0.5) -> None:
    """Draw every parameter of ``module`` into arrays["<prefix>.<name>"] and copy it into the module."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            value = rng.normal(0, scale, tuple(param.shape))
            arrays[f"{prefix}.{name}"] = value
            param.copy_(torch.from_numpy(value))


def run_encoder(arrays: dict, rng, layers: int, bidirectional: bool):
    """nn.Embedding + nn.GRU over the packed batch arrays["src"]; returns the modules, hs, h_n."""
    V, e, d = SIZES["V_src"], SIZES["e"], SIZES["d"]
    embedding = torch.nn.Embedding(V, e, dtype=torch.float64)
    gru = torch.nn.GRU(e, d, num_layers=layers, bidirectional=bidirectional, dtype=torch.float64)
    set_weights(embedding, "enc_embedding", arrays, rng, scale=1.0)
    set_weights(gru, "enc_gru", arrays, rng)
    src = torch.from_numpy(arrays["src"])
    T = src.shape[0]
    packed = pack_padded_sequence(embedding(src), torch.tensor(SRC_LENGTHS), enforce_sorted=False)
    out, h_n = gru(packed)                           # h_n: (layers * directions, B, d)
    hs, _ = pad_packed_sequence(out, total_length=T)  # (T, B, directions * d), zeros after each end
    return (embedding, gru), hs, h_n


def grads_of(prefix: str, module) -> dict:
    return {f"grad_{prefix}.{name}": p.grad.numpy().copy() for name, p in module.named_parameters()}


def encoder_case(name: str, layers: int, bidirectional: bool, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    src, src_mask = padded(rng, SRC_LENGTHS, SIZES["V_src"])
    arrays = {"src": src, "src_mask": src_mask, "src_lengths": np.array(SRC_LENGTHS),
              "layers": np.array(layers), "bidirectional": np.array(bidirectional)}
    (embedding, gru), hs, h_n = run_encoder(arrays, rng, layers, bidirectional)
    d_hs = rng.normal(0, 1, tuple(hs.shape)) * src_mask[..., None]     # nothing enters after the end
    d_h_n = rng.normal(0, 1, tuple(h_n.shape))
    loss = (hs * torch.from_numpy(d_hs)).sum() + (h_n * torch.from_numpy(d_h_n)).sum()
    loss.backward()
    arrays.update(d_hs=d_hs, d_h_n=d_h_n, hs=hs.detach().numpy(), h_n=h_n.detach().numpy(),
                  loss=np.array(loss.item()),
                  num_params=np.array(sum(p.numel() for m in (embedding, gru) for p in m.parameters())))
    arrays.update(grads_of("enc_embedding", embedding))
    arrays.update(grads_of("enc_gru", gru))
    return {f"{name}/{key}": value for key, value in arrays.items()}


def additive_attention(s_prev, hs, src_mask, W_a, U_a, v):
    """Scores e: (B, T_x), weights alpha: (B, T_x) (exactly 0 at PAD), context c: (B, D) (Bahdanau)."""
    keys = torch.einsum("ad,tbd->tba", U_a.weight, hs)                 # U_a h_s: (T_x, B, a)
    e = v(torch.tanh(W_a(s_prev)[None] + keys))[..., 0].T              # (B, T_x)
    e = e.masked_fill(torch.from_numpy(src_mask.T) == 0, float("-inf"))
    alpha = torch.softmax(e, dim=1)
    return e, alpha, torch.einsum("bt,tbd->bd", alpha, hs)


def attention_case(name: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    S, B, D, d_q, a = max(SRC_LENGTHS), len(SRC_LENGTHS), SIZES["d"], SIZES["d_dec"], SIZES["a"]
    _, mask = padded(rng, SRC_LENGTHS, SIZES["V_src"])
    arrays = {"src_mask": mask, "src_lengths": np.array(SRC_LENGTHS),
              "query": rng.normal(0, 1, (B, d_q)), "hs": rng.normal(0, 1, (S, B, D))}
    modules = {"W_a": torch.nn.Linear(d_q, a, bias=False, dtype=torch.float64),
               "U_a": torch.nn.Linear(D, a, bias=False, dtype=torch.float64),
               "v": torch.nn.Linear(a, 1, bias=False, dtype=torch.float64)}
    for prefix, module in modules.items():
        set_weights(module, prefix, arrays, rng, scale=0.8)
    query = torch.from_numpy(arrays["query"]).clone().requires_grad_(True)
    hs = torch.from_numpy(arrays["hs"]).clone().requires_grad_(True)
    e, alpha, context = additive_attention(query, hs, mask, *modules.values())
    d_context, d_weights = rng.normal(0, 1, (B, D)), rng.normal(0, 1, (B, S))
    loss = (context * torch.from_numpy(d_context)).sum() + (alpha * torch.from_numpy(d_weights)).sum()
    loss.backward()
    arrays.update(d_context=d_context, d_weights=d_weights, scores=e.detach().numpy(),
                  weights=alpha.detach().numpy(), context=context.detach().numpy(),
                  loss=np.array(loss.item()), grad_query=query.grad.numpy(), grad_hs=hs.grad.numpy())
    for prefix, module in modules.items():
        arrays.update(grads_of(prefix, module))
    return {f"{name}/{key}": value for key, value in arrays.items()}


def model_case(name: str, encoder: str, attention: bool, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    cfg = ENCODERS[encoder]
    src, src_mask = padded(rng, SRC_LENGTHS, SIZES["V_src"])
    tgt, tgt_mask = padded(rng, TGT_LENGTHS, SIZES["V_tgt"])
    # teacher forcing: the decoder reads BOS, y_1, ..., y_L and predicts y_1, ..., y_L, EOS
    tgt_in = np.concatenate([np.full((1, len(TGT_LENGTHS)), 1), tgt])
    tgt_out = np.concatenate([tgt, np.full((1, len(TGT_LENGTHS)), PAD)])
    tgt_out[np.array(TGT_LENGTHS), np.arange(len(TGT_LENGTHS))] = 2
    tgt_mask = np.concatenate([np.ones((1, len(TGT_LENGTHS))), tgt_mask])
    arrays = {"src": src, "src_mask": src_mask, "src_lengths": np.array(SRC_LENGTHS),
              "tgt_in": tgt_in, "tgt_out": tgt_out, "tgt_mask": tgt_mask,
              "layers": np.array(cfg["layers"]), "bidirectional": np.array(cfg["bidirectional"]),
              "attention": np.array(attention)}
    (enc_embedding, enc_gru), hs, h_n = run_encoder(arrays, rng, **cfg)
    D = hs.shape[-1]                                                   # directions * d
    h_fin = torch.cat(list(h_n[-2:]), dim=1) if cfg["bidirectional"] else h_n[-1]
    V, e, d_dec, a = SIZES["V_tgt"], SIZES["e"], SIZES["d_dec"], SIZES["a"]
    modules = {"dec_embedding": torch.nn.Embedding(V, e, dtype=torch.float64),
               "bridge": torch.nn.Linear(D, d_dec, dtype=torch.float64),
               "dec_gru": torch.nn.GRUCell(e + (D if attention else 0), d_dec, dtype=torch.float64),
               "out": torch.nn.Linear(d_dec + (D if attention else 0), V, dtype=torch.float64)}
    if attention:
        modules.update(W_a=torch.nn.Linear(d_dec, a, bias=False, dtype=torch.float64),
                       U_a=torch.nn.Linear(D, a, bias=False, dtype=torch.float64),
                       v=torch.nn.Linear(a, 1, bias=False, dtype=torch.float64))
    for prefix, module in modules.items():
        set_weights(module, prefix, arrays, rng, scale=1.0 if prefix == "dec_embedding" else 0.5)
    s = torch.tanh(modules["bridge"](h_fin))
    s0, logits, alphas, states, contexts = s, [], [], [], []
    for t in range(tgt_in.shape[0]):
        x = modules["dec_embedding"](torch.from_numpy(tgt_in[t]))
        if attention:
            _, alpha, context = additive_attention(s, hs, src_mask, modules["W_a"], modules["U_a"],
                                                   modules["v"])
            alphas.append(alpha)
            contexts.append(context)
            x = torch.cat([x, context], dim=1)
        s = modules["dec_gru"](x, s)
        states.append(s)
        logits.append(modules["out"](torch.cat([s, context], dim=1) if attention else s))
    logits = torch.stack(logits)                                       # (T_y + 1, B, V)
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(tgt_out).reshape(-1),
                                           reduction="none").reshape(tgt_out.shape)
    mask = torch.from_numpy(tgt_mask)
    loss = (ce * mask).sum() / mask.sum()
    loss.backward()
    arrays.update(hs=hs.detach().numpy(), h_n=h_n.detach().numpy(), s0=s0.detach().numpy(),
                  states=torch.stack(states).detach().numpy(),                    # (T_y + 1, B, d_dec)
                  logits=logits.detach().numpy(), loss=np.array(loss.item()))
    if attention:
        arrays["alphas"] = torch.stack(alphas).detach().numpy()       # (T_y + 1, B, T_x)
        arrays["contexts"] = torch.stack(contexts).detach().numpy()   # (T_y + 1, B, D)
    everything = {"enc_embedding": enc_embedding, "enc_gru": enc_gru, **modules}
    for prefix, module in everything.items():
        arrays.update(grads_of(prefix, module))
    arrays["num_params"] = np.array(sum(p.numel() for m in everything.values() for p in m.parameters()))
    return {f"{name}/{key}": value for key, value in arrays.items()}


def write(filename: str, cases: dict, make, seed: int) -> None:
    """Write ``make(name, **cases[name], seed)`` for every case into DATA / filename."""
    data = {"torch_version": np.array(torch.__version__)}
    for i, (name, cfg) in enumerate(cases.items()):
        data.update(make(name, **cfg, seed=seed + i))
    path = DATA / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    print(f"wrote {path.relative_to(DATA.parents[2])}: {len(cases)} cases, {path.stat().st_size} bytes")


def main() -> None:
    torch.manual_seed(0)
    write("seq2seq_encoder.npz", ENCODERS, encoder_case, seed=300)
    write("seq2seq_model.npz", MODELS, model_case, seed=400)
    write("seq2seq_attention.npz", {"step": {}}, attention_case, seed=500)


if __name__ == "__main__":
    main()
