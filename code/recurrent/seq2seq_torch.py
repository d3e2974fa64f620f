"""Chapter 9: the encoder-decoder of the PyTorch fixtures as the book's parameters, and their agreement.

scripts/make_torch_seq2seq_fixtures.py (torch 2.13.0) builds the chapter's models from torch modules,
``torch.nn.Embedding``, ``torch.nn.GRU`` over packed padded batches (the encoder), a
``torch.nn.Linear`` bridge and a ``torch.nn.GRUCell`` decoder (its docstring states the model), and
stores their parameters, a batch, the teacher-forced outputs, the masked loss and every autograd
gradient (``recurrent.data``, fixture "seq2seq_model"). This module reads those parameters into a
``seq2seq.Seq2SeqParams`` and torch's gradients under the book's names, and ``agreement`` measures
how far the book's numpy model is from torch on every case. Nothing here imports torch.

Naming: torch's GRU keeps two biases, b_ih and b_hh; the book's "torch" GRU keeps b = b_ih (+ b_hh in
the r and z blocks, where both are only added) and bh = b_hh's n block, which sits inside the reset
product (chapter 7).
"""
from __future__ import annotations

import numpy as np

from . import attention, encoder, gru, seq2seq
from ._checks import instance_of
from .data import torch_case, torch_cases

__all__ = ["cell_of", "encoder_of", "model_of", "model_grads", "log_probs", "agreement"]
_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _fixture(f, *keys: str) -> dict:
    instance_of("f", f, dict, "a case of the seq2seq_model fixture (recurrent.data.torch_case)")
    missing = [k for k in keys if k not in f]
    if missing:
        raise ValueError(f"f: expected a case of the seq2seq_model fixture, got a dict without {missing}")
    return f


def cell_of(f: dict, name: str) -> gru.GRUParams:
    """The "torch" GRU of the parameters ``<prefix><weight><suffix>`` for name = "<prefix>*<suffix>"
    (a torch.nn.GRU layer "enc_gru.*_l0_reverse" or the torch.nn.GRUCell "dec_gru.*"), with V = I and
    c = 0, so that its outputs are its states."""
    f = _fixture(f)
    instance_of("name", name, str, "a str '<prefix>*<suffix>'")
    prefix, star, suffix = name.partition("*")
    keys = [f"{prefix}{w}{suffix}" for w in _WEIGHTS]
    if not star or any(k not in f for k in keys):
        raise ValueError(f"f, name: expected '<prefix>*<suffix>' naming four GRU arrays of the case f, got "
                         f"{name!r} (missing: {[k for k in keys if k not in f]})")
    state = {f"{w}_l0": f[k] for w, k in zip(_WEIGHTS, keys)}
    d = state["weight_hh_l0"].shape[1]
    return gru.from_torch({**state, "linear.weight": np.eye(d), "linear.bias": np.zeros(d)})


def encoder_of(f: dict) -> encoder.EncoderParams:
    """The encoder of the fixture's torch.nn.Embedding ("enc_embedding.*") and torch.nn.GRU ("enc_gru.*")."""
    f = _fixture(f, "bidirectional", "enc_embedding.weight")
    state = {key[len("enc_"):]: value for key, value in f.items()
             if key.startswith(("enc_embedding.", "enc_gru."))}
    return encoder.from_torch(state, bidirectional=bool(f["bidirectional"]))


def model_of(f: dict) -> seq2seq.Seq2SeqParams:
    """The whole model: the encoder, the decoder's embedding ("dec_embedding"), the bridge ("bridge"),
    the GRUCell ("dec_gru"), the attention's bias-free Linear layers ("W_a", "U_a", "v"), the output
    layer ("out")."""
    f = _fixture(f, "attention", "bidirectional", "enc_embedding.weight", "dec_embedding.weight")
    att = None
    if bool(f["attention"]):
        att = attention.AttentionParams(W_a=f["W_a.weight"], U_a=f["U_a.weight"], v=f["v.weight"][0])
    return seq2seq.Seq2SeqParams(
        enc=encoder_of(f), E=f["dec_embedding.weight"], W_s=f["bridge.weight"], b_s=f["bridge.bias"],
        dec=cell_of(f, "dec_gru.*"), V=f["out.weight"], c=f["out.bias"], att=att)


def _cell_grads(f: dict, prefix: str, suffix: str = "") -> dict:
    g = {w: f[f"grad_{prefix}.{w}{suffix}"] for w in _WEIGHTS}
    d = g["weight_hh"].shape[1]
    # b_ih and b_hh are only added in the r and z blocks: torch gives them one gradient, and b gets it
    return {"U": g["weight_ih"], "W": g["weight_hh"], "b": g["bias_ih"], "bh": g["bias_hh"][2 * d:]}


def model_grads(f: dict) -> dict:
    """torch's autograd gradients under the names of ``Seq2SeqParams.items()`` ("enc.l0.U", "att.v", ...)."""
    f = _fixture(f, "attention", "bidirectional", "layers", "grad_enc_embedding.weight")
    out = {"enc.E": f["grad_enc_embedding.weight"]}
    for k in range(int(f["layers"])):
        for r in ["", "_reverse"] if bool(f["bidirectional"]) else [""]:
            out.update({f"enc.l{k}{r}.{s}": g for s, g in _cell_grads(f, "enc_gru", f"_l{k}{r}").items()})
    out.update({"E": f["grad_dec_embedding.weight"], "W_s": f["grad_bridge.weight"],
                "b_s": f["grad_bridge.bias"], "V": f["grad_out.weight"], "c": f["grad_out.bias"]})
    out.update({f"dec.{s}": g for s, g in _cell_grads(f, "dec_gru").items()})
    if bool(f["attention"]):
        out.update({"att.W_a": f["grad_W_a.weight"], "att.U_a": f["grad_U_a.weight"],
                    "att.v": f["grad_v.weight"][0]})
    return out


def log_probs(f: dict) -> np.ndarray:
    """torch's logits (L, B, V_y) as log-probabilities (a log-softmax in float64)."""
    z = _fixture(f, "logits")["logits"] - f["logits"].max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def agreement(cases=None) -> dict:
    """{case: the largest absolute difference} between torch and the book's model on every stored case of
    "seq2seq_model" (or the listed ``cases``): over the loss, the encoder states, the log-probabilities and
    every gradient, for the same parameters and the same padded batch."""
    known = torch_cases("seq2seq_model")
    cases = known if cases is None else cases
    if isinstance(cases, str) or not isinstance(cases, list | tuple):
        raise TypeError(f"cases: expected a list of case names from {known} or None, got {cases!r}")
    if not cases or any(c not in known for c in cases):
        raise ValueError(f"cases: expected a non-empty list of case names from {known}, got {cases!r}")
    gaps = {}
    for case in cases:
        f = torch_case("seq2seq_model", case)
        p = model_of(f)
        batch = (f["src"], f["src_mask"], f["tgt_in"], f["tgt_out"], f["tgt_mask"])
        fwd = seq2seq.forward(p, *batch[:3])
        loss, grads = seq2seq.loss_and_grads(p, *batch)
        got, expected = dict(grads.items()), model_grads(f)
        if set(got) != set(expected):
            raise ValueError(f"case {case!r}: torch names {sorted(expected)}, the model {sorted(got)}")
        gaps[case] = max([abs(loss - float(f["loss"])), np.abs(fwd.enc.hs - f["hs"]).max(),
                          np.abs(fwd.log_probs - log_probs(f)).max()]
                         + [np.abs(got[k] - expected[k]).max() for k in expected])
    return gaps
