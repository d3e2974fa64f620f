"""Write the PyTorch fixtures that tests/test_lstm.py and tests/test_gru.py check the numpy cells against.

Run it (once, after changing it) in an environment that has torch:

    pip install torch==2.13.0 numpy
    python scripts/make_torch_gate_fixtures.py

It writes code/recurrent/data/torch/gates.npz (package data, read through
``recurrent.data.torch_case``). The test suite reads that file and never imports torch.
Every case is torch.nn.LSTM or torch.nn.GRU followed by torch.nn.Linear in float64, weights drawn
here with a fixed seed, the two PyTorch biases non-zero and different, a non-zero initial state
(h0, and c0 for the LSTM), and the book's loss: cross-entropy summed over time, averaged over the batch.
"""
from __future__ import annotations

import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "code" / "recurrent" / "data" / "torch" / "gates.npz"
SIZES = {"small": dict(n=3, d=5, k=4, T=7, B=2), "medium": dict(n=6, d=8, k=6, T=11, B=3)}
CELLS = {"lstm": (torch.nn.LSTM, 4), "gru": (torch.nn.GRU, 3)}
WEIGHTS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def make_case(name: str, cell: str, n: int, d: int, k: int, T: int, B: int, seed: int) -> dict:
    module_class, blocks = CELLS[cell]
    rng = np.random.default_rng(seed)
    arrays = {
        "weight_ih_l0": rng.normal(0, 0.6, (blocks * d, n)),
        "weight_hh_l0": rng.normal(0, 0.5, (blocks * d, d)),
        "bias_ih_l0": rng.normal(0, 0.3, blocks * d), "bias_hh_l0": rng.normal(0, 0.3, blocks * d),
        "linear.weight": rng.normal(0, 0.7, (k, d)), "linear.bias": rng.normal(0, 0.2, k),
        "xs": rng.normal(0, 1.0, (T, B, n)), "h0": rng.normal(0, 0.5, (B, d)),
        "ys": rng.integers(0, k, (T, B)),
    }
    if cell == "lstm":
        arrays["c0"] = rng.normal(0, 0.5, (B, d))
    rnn = module_class(n, d, dtype=torch.float64)
    linear = torch.nn.Linear(d, k, dtype=torch.float64)
    with torch.no_grad():
        for key in WEIGHTS:
            getattr(rnn, key).copy_(torch.from_numpy(arrays[key]))
        linear.weight.copy_(torch.from_numpy(arrays["linear.weight"]))
        linear.bias.copy_(torch.from_numpy(arrays["linear.bias"]))
    xs = torch.from_numpy(arrays["xs"])
    h0 = torch.from_numpy(arrays["h0"]).clone().requires_grad_(True)
    if cell == "lstm":
        c0 = torch.from_numpy(arrays["c0"]).clone().requires_grad_(True)
        hs, (hT, cT) = rnn(xs, (h0[None], c0[None]))       # time-first by default: hs is (T, B, d)
    else:
        hs, hT = rnn(xs, h0[None])
    os = linear(hs)
    ys = torch.from_numpy(arrays["ys"])
    loss = torch.nn.functional.cross_entropy(os.reshape(T * B, k), ys.reshape(T * B),
                                             reduction="sum") / B
    loss.backward()
    out = {f"{name}/{key}": value for key, value in arrays.items()}
    out.update({f"{name}/grad_{key}": getattr(rnn, key).grad.numpy() for key in WEIGHTS})
    out.update({
        f"{name}/hs": hs.detach().numpy(), f"{name}/hT": hT.detach().numpy()[0],
        f"{name}/os": os.detach().numpy(), f"{name}/loss": np.array(loss.item()),
        f"{name}/grad_linear.weight": linear.weight.grad.numpy(),
        f"{name}/grad_linear.bias": linear.bias.grad.numpy(),
        f"{name}/grad_h0": h0.grad.numpy(),
        f"{name}/num_params": np.array(sum(p.numel() for p in [*rnn.parameters(), *linear.parameters()])),
    })
    if cell == "lstm":
        out.update({f"{name}/cT": cT.detach().numpy()[0], f"{name}/grad_c0": c0.grad.numpy()})
    return out


def main() -> None:
    torch.manual_seed(0)
    data = {"torch_version": np.array(torch.__version__)}
    seed = 200
    for cell in CELLS:
        for size, sizes in SIZES.items():
            data.update(make_case(f"{cell}_{size}", cell, **sizes, seed=seed))
            seed += 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez(OUT, **data)
    cases = len(CELLS) * len(SIZES)
    print(f"wrote {OUT.relative_to(OUT.parents[2])}: {cases} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
