"""Write the PyTorch fixtures that tests/test_torch_agreement.py checks the numpy code against.

Run it (once, after changing it) in an environment that has torch:

    pip install torch==2.13.0 numpy
    python scripts/make_torch_fixtures.py

It writes code/recurrent/data/torch/rnn.npz (package data, read through
``recurrent.data.torch_case``). The test suite reads that file and never imports torch.
Every case uses torch.nn.RNN (tanh) followed by torch.nn.Linear in float64, weights drawn here with
a fixed seed, both PyTorch hidden biases non-zero, a non-zero initial state, and the book's loss:
cross-entropy summed over time and averaged over the batch.
"""
from __future__ import annotations

import pathlib

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "code" / "recurrent" / "data" / "torch" / "rnn.npz"
CASES = {"small": dict(n=3, d=5, k=4, T=7, B=2), "medium": dict(n=6, d=8, k=6, T=11, B=3)}


def make_case(name: str, n: int, d: int, k: int, T: int, B: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "weight_ih_l0": rng.normal(0, 0.6, (d, n)), "weight_hh_l0": rng.normal(0, 0.5, (d, d)),
        "bias_ih_l0": rng.normal(0, 0.3, d), "bias_hh_l0": rng.normal(0, 0.3, d),
        "linear.weight": rng.normal(0, 0.7, (k, d)), "linear.bias": rng.normal(0, 0.2, k),
        "xs": rng.normal(0, 1.0, (T, B, n)), "h0": rng.normal(0, 0.5, (B, d)),
        "ys": rng.integers(0, k, (T, B)),
    }
    rnn = torch.nn.RNN(n, d, nonlinearity="tanh", dtype=torch.float64)
    linear = torch.nn.Linear(d, k, dtype=torch.float64)
    with torch.no_grad():
        for key, module in (("weight_ih_l0", rnn), ("weight_hh_l0", rnn), ("bias_ih_l0", rnn),
                            ("bias_hh_l0", rnn)):
            getattr(module, key).copy_(torch.from_numpy(arrays[key]))
        linear.weight.copy_(torch.from_numpy(arrays["linear.weight"]))
        linear.bias.copy_(torch.from_numpy(arrays["linear.bias"]))
    xs = torch.from_numpy(arrays["xs"])
    h0 = torch.from_numpy(arrays["h0"]).clone().requires_grad_(True)
    hs, hT = rnn(xs, h0[None])            # torch.nn.RNN is time-first by default: (T, B, d)
    os = linear(hs)
    ys = torch.from_numpy(arrays["ys"])
    loss = torch.nn.functional.cross_entropy(os.reshape(T * B, k), ys.reshape(T * B),
                                             reduction="sum") / B
    loss.backward()
    out = {f"{name}/{key}": value for key, value in arrays.items()}
    out.update({
        f"{name}/hs": hs.detach().numpy(), f"{name}/os": os.detach().numpy(),
        f"{name}/loss": np.array(loss.item()),
        f"{name}/grad_weight_ih_l0": rnn.weight_ih_l0.grad.numpy(),
        f"{name}/grad_weight_hh_l0": rnn.weight_hh_l0.grad.numpy(),
        f"{name}/grad_bias_ih_l0": rnn.bias_ih_l0.grad.numpy(),
        f"{name}/grad_bias_hh_l0": rnn.bias_hh_l0.grad.numpy(),
        f"{name}/grad_linear.weight": linear.weight.grad.numpy(),
        f"{name}/grad_linear.bias": linear.bias.grad.numpy(),
        f"{name}/grad_h0": h0.grad.numpy(),
        f"{name}/num_params": np.array(sum(p.numel() for p in [*rnn.parameters(), *linear.parameters()])),
    })
    return out


def main() -> None:
    torch.manual_seed(0)
    data = {"torch_version": np.array(torch.__version__)}
    for i, (name, sizes) in enumerate(CASES.items()):
        data.update(make_case(name, **sizes, seed=100 + i))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez(OUT, **data)
    print(f"wrote {OUT.relative_to(OUT.parents[2])}: {len(CASES)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
