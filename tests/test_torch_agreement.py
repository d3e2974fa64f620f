"""The numpy RNN agrees with torch.nn.RNN + torch.nn.Linear and autograd (fixtures, no torch import).

The fixture recurrent/data/torch/rnn.npz is written by scripts/make_torch_fixtures.py with torch 2.13.0
and read here through recurrent.data.
"""
import numpy as np
import pytest

from recurrent import bptt, data, losses, rnn

CASES = data.torch_cases("rnn")
TOL = 1e-10


def load(name):
    f = data.torch_case("rnn", name)
    return f, rnn.from_torch(f)


def test_fixtures_were_made_with_the_pinned_torch():
    assert data.torch_version("rnn").startswith("2.13.0") and CASES == ["medium", "small"]


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_torch(name):
    f, p = load(name)
    fwd = rnn.forward(p, f["xs"], f["h0"])
    np.testing.assert_allclose(fwd.hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fwd.os, f["os"], rtol=0, atol=TOL)
    assert losses.cross_entropy(fwd.os, f["ys"]) == pytest.approx(float(f["loss"]), abs=TOL)


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_torch_autograd(name):
    f, p = load(name)
    fwd = rnn.forward(p, f["xs"], f["h0"])
    back = bptt.backward(p, f["xs"], fwd, losses.output_grad(fwd.os, f["ys"]))
    grads, dh0 = back.grads, back.d_h0
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


@pytest.mark.parametrize("name", CASES)
def test_the_one_api_gives_torchs_loss_and_gradients(name):
    f, p = load(name)
    loss, grads, _ = bptt.loss_and_grads(p, f["xs"], f["ys"], f["h0"])
    assert loss == pytest.approx(float(f["loss"]), abs=TOL)
    np.testing.assert_allclose(grads.W, f["grad_weight_hh_l0"], rtol=0, atol=TOL)


def test_the_data_helper_refuses_unknown_fixtures_and_cases():
    with pytest.raises(ValueError, match=r"fixture: expected one of"):
        data.torch_case("lstm", "small")
    with pytest.raises(ValueError, match=r"case: expected one of \['medium', 'small'\]"):
        data.torch_case("rnn", "large")
    with pytest.raises(ValueError, match=r"name: expected one of"):
        data.benchmark("results")


def test_benchmark_results_are_read_from_package_data():
    cells = data.benchmark("cells")
    assert {"date", "cases", "peak"} <= set(cells)
    assert data.benchmark_path("cells").name == "cells.json" and data.benchmark_path("cells").is_file()
    assert {"date"} <= set(data.benchmark("book")) | {"date"}
