"""Chapter 7: three GRU variants, BPTT through them (through the one API of bptt), agreement with PyTorch.

The fixture recurrent/data/torch/gates.npz is written by scripts/make_torch_gate_fixtures.py with
torch 2.13.0; these tests read it through recurrent.data and never import torch.
"""
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from differences import finite_difference
from recurrent import bptt, data, gru, losses, lstm, rnn

CELLS = ["torch", "cho", "simple"]                  # the GRU by variant
SYMBOLS = {"torch": {"U", "W", "V", "b", "c", "bh"}, "cho": {"U", "W", "V", "b", "c"},
           "simple": {"U", "W", "V", "b", "c"}}


def make(cell, n, d, k, rng=0):
    return gru.init_gru(n, d, k, variant=cell, rng=rng)


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


@pytest.mark.parametrize("cell", ["torch"])
def test_the_gradient_check_is_not_vacuous(cell, monkeypatch):
    """A classic slip, reading the first two gate blocks in the wrong order (f, i or z, r), is caught."""
    p, xs, ys, h0, c0, _ = case(cell)
    real_backward, d = gru._backward, p.d

    def wrong_backward(p, xs, fwd, d_os, d_hT):
        g = fwd.gates
        swapped = np.concatenate([g[..., d:2 * d], g[..., :d], g[..., 2 * d:]], axis=-1)
        return real_backward(p, xs, fwd._replace(gates=swapped), d_os, d_hT)

    monkeypatch.setattr(gru, "_backward", wrong_backward)
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
            h, c = gru.step(p, xs[t], h, c)
            np.testing.assert_allclose(fwd.cs[t], c, rtol=0, atol=1e-13)
        else:
            h = gru.step(p, xs[t], h)
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
        h_new, c_new = gru.step(p, xs[0], h0, c0)
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
    np.testing.assert_allclose(gru.step(p, xs[0], h0)[0], expected, atol=1e-15)


def test_torch_and_cho_grus_are_different_functions_of_the_same_weights():
    p, xs, _, h0, _, _ = case("torch", T=6, seed=7)
    p.bh[:] = 0.0                                   # the only parameter cho lacks: now they share all
    q = replace(p, variant="cho", bh=None)
    gap = np.abs(bptt.forward(p, xs, h0).hs - bptt.forward(q, xs, h0).hs).max()
    assert gap > 1e-3, gap                          # about 0.16 here
    # ... and the difference is only where the reset meets h_{t-1}: from h_0 = 0 the first step agrees
    np.testing.assert_allclose(bptt.forward(p, xs[:1]).hs, bptt.forward(q, xs[:1]).hs, atol=1e-15)


def test_update_gates_of_torch_and_simple_grus_play_opposite_roles():
    """z -> 1 keeps h_{t-1} in PyTorch's GRU; u -> 1 takes the new candidate n in the simple GRU."""
    p, xs, _, h0, _, _ = case("torch", T=1, seed=8)
    p.b[4:8] = 40.0                                 # z = σ(40): saturated at 1
    np.testing.assert_allclose(gru.step(p, xs[0], h0), h0, atol=1e-12)
    q = case("simple", T=1, seed=8)[0]
    q.b[0:4] = 40.0                                 # u = σ(40): saturated at 1
    n = bptt.forward(q, xs, h0).gates[0][:, 4:]
    np.testing.assert_allclose(gru.step(q, xs[0], h0), n, atol=1e-12)
    assert np.abs(n - h0).max() > 0.1


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


@pytest.mark.parametrize("cell", ["torch"])
def test_gradient_norms_accept_any_output_gradient(cell):
    p, xs, ys, h0, c0, _ = case(cell, seed=11)
    d_os = np.random.default_rng(12).normal(size=bptt.forward(p, xs, h0, c0).os.shape)
    back = bptt.backward(p, xs, bptt.forward(p, xs, h0, c0), d_os)
    norms = bptt.gradient_norms(p, xs, d_os, h0, c0)
    np.testing.assert_allclose(norms.h, np.linalg.norm(back.d_hs, axis=(1, 2)), rtol=1e-14)


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


@given(cell=st.sampled_from(CELLS), n=st.integers(1, 9), d=st.integers(1, 9), k=st.integers(1, 9))
def test_count_params_counts_the_arrays_and_follows_the_formulas(cell, n, d, k):
    counts = gru.count_params(n, d, k, variant=cell)
    assert counts["total"] == sum(a.size for _, a in make(cell, n, d, k).items())
    G = {"lstm": 4, "torch": 3, "cho": 3, "simple": 2}[cell]
    extra = d if cell == "torch" else 0
    assert counts["total"] == G * d * (n + d) + G * d + extra + k * d + k
    if cell in ("lstm", "torch"):        # PyTorch: two biases for every block
        assert gru.count_params(n, d, k, biases="two")["total"] == G * d * (n + d) + 2 * G * d + k * d + k


@pytest.mark.parametrize("cell", ["torch"])
def test_to_torch_and_back_is_the_identity(cell):
    p = case(cell, seed=13)[0]
    state = gru.to_torch(p)
    q = gru.from_torch(state)
    for (name, a), (_, b) in zip(p.items(), q.items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    state["weight_hh_l0"][0, 0] += 1.0             # a copy: changing it leaves p alone
    assert p.W[0, 0] != state["weight_hh_l0"][0, 0]
    if cell == "torch":
        np.testing.assert_array_equal(state["bias_hh_l0"], np.r_[np.zeros(8), p.bh])


# ---------------------------------------------------------------- agreement with PyTorch (fixtures)

TORCH_CASES = [case for case in data.torch_cases("gates") if case.startswith("gru")]
TOL = 1e-10


def load(name):
    f = data.torch_case("gates", name)
    return f, gru.from_torch(f)


def test_fixtures_were_made_with_the_pinned_torch():
    assert data.torch_version("gates").startswith("2.13.0")
    assert TORCH_CASES == ["gru_medium", "gru_small"]


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
    saved = 2 * p.d                                  # the merged biases; the GRU keeps bh
    assert gru.count_params(p.n, p.d, p.k, biases="two")["total"] == int(f["num_params"])
    assert gru.count_params(p.n, p.d, p.k, biases="one")["total"] == int(f["num_params"]) - saved


def test_cho_variant_is_not_torchs_gru():
    f, p = load("gru_small")
    q = replace(p, variant="cho", bh=None)
    loss = losses.cross_entropy(bptt.forward(q, f["xs"], f["h0"]).os, f["ys"])
    assert abs(loss - float(f["loss"])) > 1e-3




# ---------------------------------------------------------------- bad input

X = np.zeros((5, 2, 3))


def small(variant="torch"):
    return gru.init_gru(3, 4, 2, variant=variant)


@pytest.mark.parametrize("call, message", [
    (lambda: replace(small(), variant="minimal"), r"variant: expected one of \['cho', 'simple', 'torch'\]"),
    (lambda: replace(small(), variant="cho"), r"bh: the 'cho' GRU has no bias inside the reset product"),
    (lambda: replace(small(), bh=np.zeros(3)), r"bh: expected shape \(d,\) = \(4,\), got \(3,\)"),
    (lambda: replace(small(), variant="simple", bh=None), r"W: expected shape \(2d, d\)"),
    (lambda: gru.init_gru(3, 4, 2, variant="ng"), r"variant: expected one of"),
    (lambda: gru.forward(small(), np.zeros((5, 2, 4))), r"xs: expected last axis n=3"),
    (lambda: gru.forward(small(), X, h0=np.zeros((2, 5))), r"h0: expected shape \(B, d\) = \(2, 4\)"),
    (lambda: gru.step(small(), np.zeros((2, 3)), np.zeros((2, 3))), r"h_prev: expected shape \(B, d\)"),
    (lambda: gru.step(small(), np.zeros((2, 2)), np.zeros((2, 4))), r"x: expected last axis n=3"),
    (lambda: gru.backward(small("cho"), X, gru.forward(small(), X), np.zeros((5, 2, 2))),
     r"fwd: expected the forward pass of this gru/cho cell .* got one of 'gru/torch'"),
    (lambda: gru.backward(small(), X, gru.forward(small(), X), np.zeros((5, 2, 2)), d_hT=np.zeros(4)),
     r"d_hT: expected shape \(B, d\)"),
    (lambda: gru.count_params(3, 4, 2, biases="three"), r"biases: expected one of"),
    (lambda: gru.count_params(3, 4, 2, variant="minimal"), r"variant: expected one of"),
    (lambda: gru.count_params(3, 4, 2, "cho", "two"), r"biases: 'two' counts PyTorch's .* 'cho'"),
    (lambda: gru.count_params(3, 0, 2), r"d: expected an integer >= 1, got 0"),
    (lambda: gru.to_torch(small("simple")), r"p: PyTorch has no 'simple' GRU, expected variant 'torch'"),
    (lambda: gru.from_torch({}), r"state: expected keys .* missing"),
    (lambda: gru.from_torch(lstm.to_torch(lstm.init_lstm(3, 4, 2))),
     r"(weight_hh_l0|bias_ih_l0): expected shape"),
])
def test_bad_value_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: gru.forward(lstm.init_lstm(3, 4, 2), X), r"p: expected gru.GRUParams, got LSTMParams"),
    (lambda: gru.step(rnn.init_params(3, 4, 2), np.zeros((2, 3)), np.zeros((2, 4))),
     r"p: expected gru.GRUParams"),
    (lambda: gru.to_torch({}), r"p: expected gru.GRUParams, got dict"),
    (lambda: replace(small(), variant=["torch"]), r"variant: expected one of"),
])
def test_bad_type_raises_a_clear_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


# ---------------------------------------------------------------- the step Jacobians along a run, by path

@pytest.mark.parametrize("variant", CELLS)
@pytest.mark.parametrize("bias", [0.0, 2.5])
def test_jacobian_paths_product_is_dh_T_dh_0_by_central_differences(variant, bias):
    """product_full is σ_max of dh_T/dh_0, which central differences of gru.forward give directly."""
    T, d, n, B, seed = 6, 3, 2, 2, 4
    r = gru.jacobian_paths(bias, T=T, d=d, n=n, B=B, seed=seed, variant=variant)
    xs = np.random.default_rng(seed).normal(size=(T, B, n))
    p = gru.init_gru(n, d, 4, variant=variant, rng=seed)
    keep_rows = slice(0, d) if variant == "simple" else slice(d, 2 * d)
    p.b[keep_rows] = -bias if variant == "simple" else bias
    fwd = gru.forward(p, xs, np.zeros((B, d)))
    for b in range(B):
        run = lambda h0, b=b: gru.forward(p, xs[:, b:b + 1], h0[None]).hs[-1, 0]       # h_T: (d,)
        J = np.array([finite_difference(lambda h0, i=i, run=run: run(h0)[i], np.zeros(d)) for i in range(d)])
        assert abs(np.linalg.norm(J, 2) - r.product_full[b]) < 1e-7 * np.linalg.norm(J, 2)
    keep = fwd.gates[..., keep_rows]
    keep = 1 - keep if variant == "simple" else keep
    np.testing.assert_allclose(r.one_step_direct, keep.max(axis=2), rtol=1e-12)
    np.testing.assert_allclose(r.product_direct, np.prod(keep, axis=0).max(axis=1), rtol=1e-12)
    assert r.one_step_full.shape == r.one_step_gates.shape == (T, B) and r.update_bias == bias
    assert np.all(r.one_step_gates > 0)                 # the paths through the gates are there


def test_a_large_update_bias_keeps_the_gradient_along_the_direct_path():
    low, high = (gru.jacobian_paths(bias, T=30, d=8, B=4, seed=1) for bias in (0.0, 4.0))
    assert np.all(high.product_direct > 100 * low.product_direct)
    share = lambda r: (r.one_step_direct / r.one_step_full).mean()
    assert share(high) > share(low) + 0.05
    assert high.one_step_gates.mean() < low.one_step_gates.mean() / 2


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(update_bias=float("nan")), ValueError, "update_bias: expected a finite"),
    (dict(update_bias="1"), TypeError, "update_bias"),
    (dict(T=0), ValueError, "T: expected an integer >= 1"),
    (dict(variant="keras"), ValueError, "variant: expected one of"),
])
def test_jacobian_paths_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        gru.jacobian_paths(**kwargs)
