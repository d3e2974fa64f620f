"""The numpy RNN agrees with torch.nn.RNN + torch.nn.Linear and autograd (fixtures, no torch import).

tests/fixtures/rnn_torch.npz is written by scripts/make_torch_fixtures.py with torch 2.13.0.
"""
import pathlib

import numpy as np
import pytest

from recurrent import bptt, rnn

FIXTURES = np.load(pathlib.Path(__file__).parent / "fixtures" / "rnn_torch.npz")
CASES = sorted({key.split("/")[0] for key in FIXTURES.files if "/" in key})
TOL = 1e-10


def load(name):
    f = {key.split("/", 1)[1]: FIXTURES[key] for key in FIXTURES.files if key.startswith(name + "/")}
    return f, rnn.from_torch(f)


def test_fixtures_were_made_with_the_pinned_torch():
    assert str(FIXTURES["torch_version"]).startswith("2.13.0") and CASES == ["medium", "small"]


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_torch(name):
    f, p = load(name)
    fwd = rnn.forward(p, f["xs"], f["h0"])
    np.testing.assert_allclose(fwd.hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fwd.os, f["os"], rtol=0, atol=TOL)
    assert rnn.cross_entropy(fwd.os, f["ys"]) == pytest.approx(float(f["loss"]), abs=TOL)


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_torch_autograd(name):
    f, p = load(name)
    fwd = rnn.forward(p, f["xs"], f["h0"])
    grads, dh0 = bptt.backward(p, f["xs"], fwd, bptt.output_grad(fwd.os, f["ys"]))
    expected = {"U": f["grad_weight_ih_l0"], "W": f["grad_weight_hh_l0"], "V": f["grad_linear.weight"],
                "c": f["grad_linear.bias"], "b": f["grad_bias_ih_l0"]}
    for symbol, g in expected.items():
        np.testing.assert_allclose(getattr(grads, symbol), g, rtol=0, atol=TOL, err_msg=symbol)
    # PyTorch's two biases receive the same gradient: only their sum enters the model
    np.testing.assert_allclose(f["grad_bias_hh_l0"], f["grad_bias_ih_l0"], rtol=0, atol=TOL)
    np.testing.assert_allclose(dh0, f["grad_h0"], rtol=0, atol=TOL)


@pytest.mark.parametrize("name", CASES)
def test_parameter_count_matches_torch(name):
    f, p = load(name)
    assert rnn.count_params(p.n, p.d, p.k, biases="two")["total"] == int(f["num_params"])
    assert rnn.count_params(p.n, p.d, p.k, biases="one")["total"] == int(f["num_params"]) - p.d
