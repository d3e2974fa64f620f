"""Chapter 6: the LSTM, BPTT through it (through the one API of bptt), and agreement with PyTorch.

The fixture recurrent/data/torch/gates.npz is written by scripts/make_torch_gate_fixtures.py with
torch 2.13.0; these tests read it through recurrent.data and never import torch.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from differences import finite_difference
from recurrent import bptt, data, gru, losses, lstm, rnn

CELLS = ["lstm"]
SYMBOLS = {"lstm": {"U", "W", "V", "b", "c"}}


def make(cell, n, d, k, rng=0):
    return lstm.init_lstm(n, d, k, rng=rng)


def case(cell, n=3, d=4, k=3, T=6, B=2, seed=0, masked=False):
    """Parameters with every bias non-zero, data, non-zero initial states and an optional 0/1 mask."""
    rng = np.random.default_rng(seed)
    p = make(cell, n, d, k, rng)
    p.W *= 1.5                                   # a non-trivial recurrence
    for _, a in p.items():
        if a.ndim == 1:
            a[:] = rng.normal(0, 0.5, a.shape)
    xs, ys, h0 = rng.normal(size=(T, B, n)), rng.integers(0, k, (T, B)), rng.normal(0, 0.5, (B, d))
    c0 = rng.normal(0, 0.5, (B, d)) if cell == "lstm" else None
    mask = (rng.random((T, B)) < 0.6).astype(float) if masked else None
    return p, xs, ys, h0, c0, mask



# ---------------------------------------------------------------- gradients against central differences

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("sizes", [dict(n=3, d=4, k=3, T=8, B=3), dict(n=1, d=1, k=2, T=1, B=1),
                                   dict(n=5, d=6, k=4, T=12, B=2)], ids=["medium", "tiny", "long"])
@pytest.mark.parametrize("masked", [False, True], ids=["all", "masked"])
def test_every_gradient_agrees_with_central_differences(cell, sizes, masked):
    p, xs, ys, h0, c0, mask = case(cell, **sizes, seed=3, masked=masked)
    errors = bptt.gradient_check(p, xs, ys, h0, c0, mask)
    assert set(errors) == SYMBOLS[cell]
    assert max(errors.values()) < 1e-7, errors


@given(cell=st.sampled_from(CELLS), n=st.integers(1, 4), d=st.integers(1, 5), k=st.integers(2, 4),
       T=st.integers(1, 7), B=st.integers(1, 3), seed=st.integers(0, 10**6), masked=st.booleans())
def test_gradient_check_holds_for_random_cells_shapes_and_seeds(cell, n, d, k, T, B, seed, masked):
    """Random draws include gradients of 1e-4 whose central difference at eps = 1e-5 is mostly rounding
    error; each symbol must pass at eps = 1e-5 or at eps = 1e-4 (a wrong derivative fails at both)."""
    p, xs, ys, h0, c0, mask = case(cell, n, d, k, T, B, seed, masked)
    fine, coarse = (bptt.gradient_check(p, xs, ys, h0, c0, mask, eps=eps) for eps in (1e-5, 1e-4))
    errors = {name: min(fine[name], coarse[name]) for name in fine}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
def test_initial_state_and_gradients_arriving_at_the_last_state(cell):
    """d_h0, d_c0 and the effect of d_hT, d_cT, by differences of L + <g_h, h_T> + <g_c, c_T>."""
    p, xs, ys, h0, c0, mask = case(cell, T=5, B=2, seed=4, masked=True)
    rng = np.random.default_rng(5)
    g_h = rng.normal(size=h0.shape)
    g_c = rng.normal(size=h0.shape) if cell == "lstm" else None

    def total(q, h0_, c0_):
        fwd = bptt.forward(q, xs, h0_, c0_)
        extra = 0.0 if g_c is None else float(np.sum(g_c * fwd.cs[-1]))
        return losses.cross_entropy(fwd.os, ys, mask) + float(np.sum(g_h * fwd.hs[-1])) + extra

    fwd = bptt.forward(p, xs, h0, c0)
    back = bptt.backward(p, xs, fwd, losses.output_grad(fwd.os, ys, mask), d_hT=g_h, d_cT=g_c)
    assert bptt.relative_error(back.d_h0, finite_difference(lambda h: total(p, h, c0), h0)) < 1e-7
    if cell == "lstm":
        assert bptt.relative_error(back.d_c0, finite_difference(lambda c: total(p, h0, c), c0)) < 1e-7
    else:
        assert back.d_c0 is None and back.d_cs is None
    for name in ("U", "W", "b"):
        numeric = bptt.numerical_gradient(lambda q: total(q, h0, c0), p.copy(), name)
        assert bptt.relative_error(getattr(back.grads, name), numeric) < 1e-7, name


@pytest.mark.parametrize("cell", ["lstm"])
def test_the_gradient_check_is_not_vacuous(cell, monkeypatch):
    """A classic slip, reading the first two gate blocks in the wrong order (f, i or z, r), is caught."""
    p, xs, ys, h0, c0, _ = case(cell)
    real_backward, d = lstm._backward, p.d

    def wrong_backward(p, xs, fwd, d_os, d_hT, d_cT):
        g = fwd.gates
        swapped = np.concatenate([g[..., d:2 * d], g[..., :d], g[..., 2 * d:]], axis=-1)
        return real_backward(p, xs, fwd._replace(gates=swapped), d_os, d_hT, d_cT)

    monkeypatch.setattr(lstm, "_backward", wrong_backward)
    errors = bptt.gradient_check(p, xs, ys, h0, c0)
    assert max(errors["U"], errors["W"], errors["b"]) > 1e-2, errors


# ---------------------------------------------------------------- forward equations

@given(cell=st.sampled_from(CELLS), n=st.integers(1, 5), d=st.integers(1, 5), T=st.integers(1, 8),
       B=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_forward_equals_T_single_steps(cell, n, d, T, B, seed):
    p, xs, _, h0, c0, _ = case(cell, n, d, 3, T, B, seed)
    fwd = bptt.forward(p, xs, h0, c0)
    h, c = h0, c0
    for t in range(T):
        if cell == "lstm":
            h, c = lstm.step(p, xs[t], h, c)
            np.testing.assert_allclose(fwd.cs[t], c, rtol=0, atol=1e-13)
        else:
            h = lstm.step(p, xs[t], h)
        np.testing.assert_allclose(fwd.hs[t], h, rtol=0, atol=1e-13)
    np.testing.assert_allclose(fwd.os, fwd.hs @ p.V.T + p.c, rtol=0, atol=1e-13)
    assert fwd.hs.shape == (T, B, d) and fwd.gates.shape == (T, B, len(p.blocks) * d)


def sig(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("cell", CELLS)
def test_step_is_the_equation_written_with_column_vectors(cell):
    """One example, block by block, in the notation of the module docstring."""
    p, xs, _, h0, c0, _ = case(cell, n=3, d=4, B=1, seed=6)
    x, h = xs[0, 0], h0[0]
    U, W, b = ({g: a[j * 4:(j + 1) * 4] for j, g in enumerate(p.blocks)} for a in (p.U, p.W, p.b))
    a = {g: U[g] @ x + W[g] @ h + b[g] for g in p.blocks}
    if cell == "lstm":
        i, f, g, o = sig(a["i"]), sig(a["f"]), np.tanh(a["g"]), sig(a["o"])
        c = f * c0[0] + i * g
        h_new, c_new = lstm.step(p, xs[0], h0, c0)
        np.testing.assert_allclose(c_new[0], c, atol=1e-15)
        np.testing.assert_allclose(h_new[0], o * np.tanh(c), atol=1e-15)
        return
    if cell == "simple":
        u, n = sig(a["u"]), np.tanh(a["n"])
        expected = u * n + (1 - u) * h
    else:
        r, z = sig(a["r"]), sig(a["z"])
        if cell == "torch":
            n = np.tanh(U["n"] @ x + b["n"] + r * (W["n"] @ h + p.bh))
        else:
            n = np.tanh(U["n"] @ x + W["n"] @ (r * h) + b["n"])
        expected = (1 - z) * n + z * h
    np.testing.assert_allclose(lstm.step(p, xs[0], h0)[0], expected, atol=1e-15)


def test_sigmoid_is_stable_and_exact():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.5, 30.0, 1000.0])
    s = lstm.sigmoid(z)                            # RuntimeWarnings are errors in this test run
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    np.testing.assert_allclose(s[1:-1], sig(z[1:-1]), rtol=1e-15, atol=1e-16)


def test_forward_does_not_modify_its_inputs():
    p, xs, _, h0, c0, _ = case("lstm")
    before = (xs.copy(), h0.copy(), c0.copy(), p.copy())
    bptt.forward(p, xs, h0, c0)
    for a, b in zip((xs, h0, c0), before[:3]):
        np.testing.assert_array_equal(a, b)
    for (_, a), (_, b) in zip(p.items(), before[3].items(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_missing_initial_states_are_zeros():
    p, xs, _, h0, c0, _ = case("lstm")
    np.testing.assert_array_equal(bptt.forward(p, xs).hs, bptt.forward(p, xs, 0 * h0, 0 * c0).hs)


# ---------------------------------------------------------------- the gradient along the chain of states

def last_step_loss(p, xs, y_last, h, c):
    """Cross-entropy at the last step only (summed over the batch / B), running xs from (h, c)."""
    os = bptt.forward(p, xs, h, c).os if len(xs) else rnn.outputs(p.V, p.c, h[None])
    return losses.cross_entropy(os[-1:], y_last[None])


@pytest.mark.parametrize("cell", CELLS)
def test_per_step_state_gradients_agree_with_differences(cell):
    """d_hs[t-1] = dL/dh_t (c_t fixed) and d_cs[t-1] = dL/dc_t (h_t = o tanh c_t follows) for t = 1..T."""
    p, xs, ys, h0, c0, _ = case(cell, T=5, B=2, seed=9)
    y_last, T, d = ys[-1], 5, p.d
    fwd = bptt.forward(p, xs, h0, c0)
    mask = np.zeros((T, 2))
    mask[-1] = 1.0
    back = bptt.backward(p, xs, fwd, losses.output_grad(fwd.os, ys, mask))
    norms = bptt.gradient_norms(p, xs, losses.last_step_grad(fwd.os, y_last), h0, c0)
    np.testing.assert_array_equal(norms.t, np.arange(1, T + 1))
    for t in range(1, T + 1):
        h_t, c_t = fwd.hs[t - 1], None if fwd.cs is None else fwd.cs[t - 1]
        tail = xs[t:]                               # x_{t+1} .. x_T
        d_h = finite_difference(lambda h, tail=tail, c_t=c_t: last_step_loss(p, tail, y_last, h, c_t), h_t)
        assert bptt.relative_error(back.d_hs[t - 1], d_h) < 1e-7, t
        assert norms.h[t - 1] == pytest.approx(np.linalg.norm(d_h), rel=1e-7)
        if cell == "lstm":
            o_t = fwd.gates[t - 1][:, 3 * d:]
            d_c = finite_difference(
                lambda c, tail=tail, o_t=o_t: last_step_loss(p, tail, y_last, o_t * np.tanh(c), c), c_t)
            assert bptt.relative_error(back.d_cs[t - 1], d_c) < 1e-7, t
            assert norms.c[t - 1] == pytest.approx(np.linalg.norm(d_c), rel=1e-7)
    assert (norms.c is not None) == (cell == "lstm")


def test_an_open_forget_gate_carries_the_gradient_unchanged_and_a_closed_one_stops_it():
    p, xs, ys, h0, c0, _ = case("lstm", T=20, seed=10)
    p.W[:] = 0.0                                    # no path through h: only the cell state links steps
    d = p.d
    p.b[d:2 * d] = 30.0                             # f = σ(30) = 1 - 1e-13
    c = bptt.gradient_norms(p, xs, losses.last_step_grad(bptt.forward(p, xs, h0, c0).os, ys[-1]), h0, c0).c
    np.testing.assert_allclose(c, c[-1], rtol=1e-11)
    p.b[d:2 * d] = -30.0                            # f = σ(-30) = 1e-13
    c = bptt.gradient_norms(p, xs, losses.last_step_grad(bptt.forward(p, xs, h0, c0).os, ys[-1]), h0, c0).c
    assert c[-1] > 0.01 and c[-2] < 1e-12 * c[-1]


@pytest.mark.parametrize("cell", ["lstm"])
def test_gradient_norms_accept_any_output_gradient(cell):
    p, xs, ys, h0, c0, _ = case(cell, seed=11)
    d_os = np.random.default_rng(12).normal(size=bptt.forward(p, xs, h0, c0).os.shape)
    back = bptt.backward(p, xs, bptt.forward(p, xs, h0, c0), d_os)
    norms = bptt.gradient_norms(p, xs, d_os, h0, c0)
    np.testing.assert_allclose(norms.h, np.linalg.norm(back.d_hs, axis=(1, 2)), rtol=1e-14)


def test_loss_and_grads_is_backward_of_the_cross_entropy():
    p, xs, ys, h0, c0, mask = case("lstm", masked=True)
    loss, grads, fwd = bptt.loss_and_grads(p, xs, ys, h0, c0, mask)
    assert loss == losses.cross_entropy(fwd.os, ys, mask)
    back = bptt.backward(p, xs, fwd, losses.output_grad(fwd.os, ys, mask))
    for (name, a), (_, b) in zip(grads.items(), back.grads.items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


# ---------------------------------------------------------------- parameters, counts, conversions

@pytest.mark.parametrize("cell", CELLS)
def test_params_items_copy_and_astype(cell):
    p = make(cell, 3, 4, 2)
    assert [s for s, _ in p.items()] == ["U", "W", "V", "b", "c"] + (["bh"] if cell == "torch" else [])
    q = p.copy()
    q.W[0, 0] += 1.0
    assert p.W[0, 0] != q.W[0, 0] and getattr(q, "variant", "lstm") == getattr(p, "variant", "lstm")
    assert all(a.dtype == np.float32 for _, a in p.astype(np.float32).items())
    assert (p.n, p.d, p.k) == (3, 4, 2)


def test_init_lstm_opens_the_forget_gate_and_leaves_the_other_biases_zero():
    p = lstm.init_lstm(3, 4, 2, forget_bias=1.0)
    np.testing.assert_array_equal(p.b, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    assert not lstm.init_lstm(3, 4, 2, forget_bias=0.0).b.any()
    np.testing.assert_array_equal(lstm.init_lstm(3, 4, 2, rng=5).U, lstm.init_lstm(3, 4, 2, rng=5).U)


@given(cell=st.sampled_from(CELLS), n=st.integers(1, 9), d=st.integers(1, 9), k=st.integers(1, 9))
def test_count_params_counts_the_arrays_and_follows_the_formulas(cell, n, d, k):
    counts = lstm.count_params(n, d, k)
    assert counts["total"] == sum(a.size for _, a in make(cell, n, d, k).items())
    G = {"lstm": 4, "torch": 3, "cho": 3, "simple": 2}[cell]
    extra = d if cell == "torch" else 0
    assert counts["total"] == G * d * (n + d) + G * d + extra + k * d + k
    if cell in ("lstm", "torch"):        # PyTorch: two biases for every block
        assert lstm.count_params(n, d, k, "two")["total"] == G * d * (n + d) + 2 * G * d + k * d + k


@pytest.mark.parametrize("cell", ["lstm"])
def test_to_torch_and_back_is_the_identity(cell):
    p = case(cell, seed=13)[0]
    state = lstm.to_torch(p)
    q = lstm.from_torch(state)
    for (name, a), (_, b) in zip(p.items(), q.items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    state["weight_hh_l0"][0, 0] += 1.0             # a copy: changing it leaves p alone
    assert p.W[0, 0] != state["weight_hh_l0"][0, 0]
    if cell == "torch":
        np.testing.assert_array_equal(state["bias_hh_l0"], np.r_[np.zeros(8), p.bh])


# ---------------------------------------------------------------- agreement with PyTorch (fixtures)

TORCH_CASES = [case for case in data.torch_cases("gates") if case.startswith("lstm")]
TOL = 1e-10


def load(name):
    f = data.torch_case("gates", name)
    return f, lstm.from_torch(f)


def test_fixtures_were_made_with_the_pinned_torch():
    assert data.torch_version("gates").startswith("2.13.0")
    assert TORCH_CASES == ["lstm_medium", "lstm_small"]


@pytest.mark.parametrize("name", TORCH_CASES)
def test_forward_matches_torch(name):
    f, p = load(name)
    fwd = bptt.forward(p, f["xs"], f["h0"], f.get("c0"))
    np.testing.assert_allclose(fwd.hs, f["hs"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fwd.hs[-1], f["hT"], rtol=0, atol=TOL)
    if "c0" in f:
        np.testing.assert_allclose(fwd.cs[-1], f["cT"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fwd.os, f["os"], rtol=0, atol=TOL)
    assert losses.cross_entropy(fwd.os, f["ys"]) == pytest.approx(float(f["loss"]), abs=TOL)


@pytest.mark.parametrize("name", TORCH_CASES)
def test_gradients_match_torch_autograd(name):
    f, p = load(name)
    fwd = bptt.forward(p, f["xs"], f["h0"], f.get("c0"))
    back = bptt.backward(p, f["xs"], fwd, losses.output_grad(fwd.os, f["ys"]))
    g, d = back.grads, p.d
    expected = {"U": f["grad_weight_ih_l0"], "W": f["grad_weight_hh_l0"], "b": f["grad_bias_ih_l0"],
                "V": f["grad_linear.weight"], "c": f["grad_linear.bias"]}
    if name.startswith("gru"):
        expected["bh"] = f["grad_bias_hh_l0"][2 * d:]
        # b_hn is not redundant: it sits inside r * (W_n h + b_hn), so its gradient is not b_in's
        assert np.abs(f["grad_bias_hh_l0"][2 * d:] - f["grad_bias_ih_l0"][2 * d:]).max() > 1e-3
        same = slice(0, 2 * d)                      # the r and z biases are only added: same gradient
    else:
        same = slice(None)
        np.testing.assert_allclose(back.d_c0, f["grad_c0"], rtol=0, atol=TOL)
    np.testing.assert_allclose(f["grad_bias_hh_l0"][same], f["grad_bias_ih_l0"][same], rtol=0, atol=TOL)
    for symbol, e in expected.items():
        np.testing.assert_allclose(getattr(g, symbol), e, rtol=0, atol=TOL, err_msg=symbol)
    np.testing.assert_allclose(back.d_h0, f["grad_h0"], rtol=0, atol=TOL)


@pytest.mark.parametrize("name", TORCH_CASES)
def test_parameter_count_matches_torch(name):
    f, p = load(name)
    saved = 4 * p.d                                  # the merged biases
    assert lstm.count_params(p.n, p.d, p.k, biases="two")["total"] == int(f["num_params"])
    assert lstm.count_params(p.n, p.d, p.k, biases="one")["total"] == int(f["num_params"]) - saved




# ---------------------------------------------------------------- bad input

X = np.zeros((5, 2, 3))


def small():
    return lstm.init_lstm(3, 4, 2)


def params(U=(16, 3), W=(16, 4), V=(2, 4), b=(16,), c=(2,)):
    return lstm.LSTMParams(U=np.zeros(U), W=np.zeros(W), V=np.zeros(V), b=np.zeros(b), c=np.zeros(c))


@pytest.mark.parametrize("call, message", [
    (lambda: params(W=(12, 4)), r"W: expected shape \(4d, d\)"),
    (lambda: params(U=(12, 3)), r"U: expected shape \(4d, n\) with 4d=16"),
    (lambda: params(b=(4,)), r"b: expected shape \(4d,\)"),
    (lambda: params(V=(2, 5)), r"V: expected shape \(k, d\) with d=4"),
    (lambda: params(c=(3,)), r"c: expected shape \(k,\)"),
    (lambda: lstm.LSTMParams(U=np.full((16, 3), np.nan), W=np.zeros((16, 4)), V=np.zeros((2, 4)),
                             b=np.zeros(16), c=np.zeros(2)), r"U: expected finite values, got 48 NaN"),
    (lambda: lstm.init_lstm(0, 4, 2), r"n: expected an integer >= 1, got 0"),
    (lambda: lstm.init_lstm(3, 4, 2, forget_bias=np.nan), r"forget_bias: expected a finite"),
    (lambda: lstm.init_lstm(3, 4, 2, dtype=np.int64), r"dtype: expected a floating-point dtype"),
    (lambda: lstm.forward(small(), np.zeros((5, 2, 4))), r"xs: expected last axis n=3"),
    (lambda: lstm.forward(small(), np.zeros((2, 3))), r"xs: expected a 3-d array \(T, B, n\)"),
    (lambda: lstm.forward(small(), X, h0=np.zeros((2, 5))), r"h0: expected shape \(B, d\) = \(2, 4\)"),
    (lambda: lstm.forward(small(), X, c0=np.zeros((3, 4))), r"c0: expected shape \(B, d\) = \(2, 4\)"),
    (lambda: lstm.forward(small(), X, c0=np.full((2, 4), np.inf)), r"c0: expected finite values"),
    (lambda: lstm.step(small(), np.zeros((2, 3)), np.zeros((2, 3))), r"h_prev: expected shape \(B, d\)"),
    (lambda: lstm.step(small(), np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 5))),
     r"c_prev: expected shape"),
    (lambda: lstm.backward(small(), X[:3], lstm.forward(small(), X), np.zeros((3, 2, 2))),
     r"fwd: expected the forward pass of this lstm cell over xs of shape \(3, 2, 3\)"),
    (lambda: lstm.backward(small(), X, lstm.forward(small(), X), np.zeros((5, 2, 3))),
     r"d_os: expected shape \(T, B, k\) = \(5, 2, 2\)"),
    (lambda: lstm.backward(small(), X, lstm.forward(small(), X), np.zeros((5, 2, 2)), d_hT=np.zeros(4)),
     r"d_hT: expected shape \(B, d\)"),
    (lambda: lstm.backward(small(), X, lstm.forward(small(), X), np.zeros((5, 2, 2)), d_cT=np.zeros(4)),
     r"d_cT: expected shape \(B, d\)"),
    (lambda: lstm.count_params(3, 4, 2, biases="three"), r"biases: expected one of"),
    (lambda: lstm.from_torch({}), r"state: expected keys .* missing"),
    (lambda: lstm.from_torch(gru.to_torch(gru.init_gru(3, 4, 2))),
     r"bias_ih_l0: expected shape \(4d,\) = \(16,\)"),
    (lambda: lstm.from_torch(lstm.to_torch(small()) | {"bias_hh_l0": np.zeros(12)}),
     r"bias_hh_l0: expected shape \(4d,\) = \(16,\), got \(12,\)"),
])
def test_bad_value_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: lstm.forward(rnn.init_params(3, 4, 2), X), r"p: expected lstm.LSTMParams, got Params"),
    (lambda: lstm.step(gru.init_gru(3, 4, 2), np.zeros((2, 3)), np.zeros((2, 4))),
     r"p: expected lstm.LSTMParams"),
    (lambda: lstm.to_torch({}), r"p: expected lstm.LSTMParams, got dict"),
    (lambda: lstm.from_torch([1]), r"state: expected a mapping"),
    (lambda: lstm.init_lstm(3, 4, 2, rng="seed"), r"rng: expected an int seed"),
    (lambda: lstm.backward(small(), X, None, np.zeros((5, 2, 2))), r"fwd: expected cell.Forward"),
])
def test_bad_type_raises_a_clear_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()
