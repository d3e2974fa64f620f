"""The full one-step Jacobians of the LSTM and the GRU (recurrent.jacobians) against central
differences of lstm.step and gru.step, and the structure of their paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from differences import finite_difference
from recurrent import gru, jacobians, lstm

VARIANTS = ("torch", "cho", "simple")


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


def numerical_jacobian(f, state):
    """Central differences of f: (B, m) -> (B, m') at state, one (m', m) Jacobian per example."""
    out = f(state)
    J = np.zeros((state.shape[0], out.shape[1], state.shape[1]))
    for b in range(state.shape[0]):
        for j in range(out.shape[1]):
            J[b, j] = finite_difference(lambda s, b=b, j=j: f(s)[b, j], state)[b]
    return J


def lstm_case(n=3, d=4, B=2, seed=0, scale=1.5):
    rng = np.random.default_rng(seed)
    p = lstm.init_lstm(n, d, 2, rng=rng)
    p.W *= scale                                       # a recurrence strong enough to matter
    p.b[:] = rng.normal(0, 0.5, p.b.shape)
    x, h, c = rng.normal(size=(B, n)), rng.normal(0, 0.5, (B, d)), rng.normal(0, 0.5, (B, d))
    return p, x, h, c


def gru_case(variant, n=3, d=4, B=2, seed=0, scale=1.5):
    rng = np.random.default_rng(seed)
    p = gru.init_gru(n, d, 2, variant=variant, rng=rng)
    p.W *= scale
    p.b[:] = rng.normal(0, 0.5, p.b.shape)
    if variant == "torch":
        p.bh[:] = rng.normal(0, 0.5, p.bh.shape)
    return p, rng.normal(size=(B, n)), rng.normal(0, 0.5, (B, d))


def lstm_state_map(p, x):
    """(h_{t-1}, c_{t-1}) -> (h_t, c_t), both concatenated: (B, 2d) -> (B, 2d)."""
    d = p.d
    return lambda s: np.concatenate(lstm.step(p, x, s[:, :d], s[:, d:]), axis=1)


# ---------------------------------------------------------------- against central differences

@pytest.mark.parametrize("seed", range(5))
def test_lstm_jacobian_agrees_with_central_differences(seed):
    p, x, h, c = lstm_case(seed=seed)
    J = jacobians.lstm_step(p, x, h, c)
    numeric = numerical_jacobian(lstm_state_map(p, x), np.concatenate([h, c], axis=1))
    assert J.full.shape == (2, 8, 8)
    assert rel_error(J.full, numeric) < 1e-7
    d = p.d
    for block, rows, cols in ((J.dh_dh, slice(0, d), slice(0, d)), (J.dh_dc, slice(0, d), slice(d, None)),
                              (J.dc_dh, slice(d, None), slice(0, d)),
                              (J.dc_dc, slice(d, None), slice(d, None))):
        np.testing.assert_array_equal(block, J.full[:, rows, cols])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", range(5))
def test_gru_jacobian_agrees_with_central_differences(variant, seed):
    p, x, h = gru_case(variant, seed=seed)
    J = jacobians.gru_step(p, x, h)
    numeric = numerical_jacobian(lambda s: gru.step(p, x, s), h)
    assert J.full.shape == (2, 4, 4)
    assert rel_error(J.full, numeric) < 1e-7
    np.testing.assert_allclose(J.direct + J.via_gate + J.via_candidate, J.full, rtol=0, atol=1e-15)
    np.testing.assert_allclose(J.gates, J.full - J.direct, rtol=0, atol=1e-15)
    assert np.linalg.norm(J.gates) > 0.05 * np.linalg.norm(J.direct)


@settings(max_examples=25, deadline=None)
@given(cell=st.sampled_from(("lstm",) + VARIANTS), n=st.integers(1, 4), d=st.integers(1, 5),
       B=st.integers(1, 3), seed=st.integers(0, 10**6), scale=st.floats(0.1, 3.0))
def test_jacobians_agree_for_random_shapes_and_seeds(cell, n, d, B, seed, scale):
    if cell == "lstm":
        p, x, h, c = lstm_case(n, d, B, seed, scale)
        J, numeric = (jacobians.lstm_step(p, x, h, c).full,
                      numerical_jacobian(lstm_state_map(p, x), np.concatenate([h, c], axis=1)))
    else:
        p, x, h = gru_case(cell, n, d, B, seed, scale)
        J, numeric = jacobians.gru_step(p, x, h).full, numerical_jacobian(lambda s: gru.step(p, x, s), h)
    assert rel_error(J, numeric) < 1e-7


@pytest.mark.parametrize("variant", VARIANTS)
def test_gru_paths_are_the_derivatives_with_the_other_factors_frozen(variant):
    """Each path alone, by central differences: h_t = (1 - z) n + z h_{t-1} ("torch", "cho") with only
    h_{t-1}, only z(h_{t-1}) or only n(h_{t-1}) varying; "simple" likewise with u."""
    p, x, h0 = gru_case(variant, seed=7)
    d = p.d
    gates = lambda s: lstm._blocks(gru.forward(p, x[None], s).gates[0], 3 if variant != "simple" else 2)
    if variant == "simple":
        u0, n0 = gates(h0)
        paths = {"direct": lambda s: u0 * n0 + (1 - u0) * s,
                 "via_gate": lambda s: gates(s)[0] * n0 + (1 - gates(s)[0]) * h0,
                 "via_candidate": lambda s: u0 * gates(s)[1] + (1 - u0) * h0}
    else:
        _, z0, n0 = gates(h0)
        paths = {"direct": lambda s: (1 - z0) * n0 + z0 * s,
                 "via_gate": lambda s: (1 - gates(s)[1]) * n0 + gates(s)[1] * h0,
                 "via_candidate": lambda s: (1 - z0) * gates(s)[2] + z0 * h0}
    J = jacobians.gru_step(p, x, h0)
    for name, f in paths.items():
        assert rel_error(getattr(J, name), numerical_jacobian(f, h0)) < 1e-7, name
    assert J.keep.shape == (2, d)


# ---------------------------------------------------------------- the structure of the paths

def test_lstm_cell_to_cell_block_is_the_forget_gate_and_the_gates_add_paths_through_h():
    """No gate reads c_{t-1} (no peepholes), so dc_t/dc_{t-1} is diag(f_t) exactly; the gates' paths
    enter through h_{t-1}: dc_t/dh_{t-1} is not zero in general, so the product of full Jacobians over
    two steps differs from the product of the diag(f_t)."""
    p, x, h, c = lstm_case(seed=1)
    J = jacobians.lstm_step(p, x, h, c)
    f = lstm.forward(p, x[None], h, c).gates[0, :, p.d:2 * p.d]
    np.testing.assert_array_equal(J.f, f)
    for b in range(2):
        np.testing.assert_array_equal(J.dc_dc[b], np.diag(f[b]))
    assert np.linalg.norm(J.dc_dh) > 0.05 * np.linalg.norm(J.dc_dc)
    assert np.linalg.norm(J.dh_dh) > 0.05
    d = p.d
    two_steps = (J.full @ J.full)[:, d:, d:]
    assert rel_error(two_steps, J.dc_dc @ J.dc_dc) > 1e-3


def test_without_recurrent_weights_only_the_direct_paths_remain():
    p, x, h, c = lstm_case(seed=2)
    p.W[:] = 0
    J = jacobians.lstm_step(p, x, h, c)
    h_t, c_t = lstm.step(p, x, h, c)
    o = lstm.forward(p, x[None], h, c).gates[0, :, 3 * p.d:]
    assert not J.dh_dh.any() and not J.dc_dh.any()
    for b in range(2):
        np.testing.assert_array_equal(J.dc_dc[b], np.diag(J.f[b]))
        np.testing.assert_allclose(J.dh_dc[b], np.diag(o[b] * (1 - np.tanh(c_t[b]) ** 2) * J.f[b]),
                                   rtol=1e-15, atol=0)
    for variant in VARIANTS:
        q, x, h = gru_case(variant, seed=2)
        q.W[:] = 0
        G = jacobians.gru_step(q, x, h)
        assert not G.via_gate.any() and not G.via_candidate.any(), variant
        np.testing.assert_array_equal(G.full, G.direct)
        for b in range(2):
            np.testing.assert_array_equal(G.direct[b], np.diag(G.keep[b]))


def test_a_forget_gate_fixed_open_is_the_constant_error_carousel():
    """With f_t = 1 (a forget bias so large that sigma rounds to 1) c_t = c_{t-1} + i g, and the
    direct path dc_t/dc_{t-1} is the identity exactly."""
    p, x, h, c = lstm_case(seed=3)
    p.b[p.d:2 * p.d] = 40.0
    p.W[p.d:2 * p.d] = 0.0
    p.U[p.d:2 * p.d] = 0.0
    J = jacobians.lstm_step(p, x, h, c)
    np.testing.assert_array_equal(J.dc_dc, np.broadcast_to(np.eye(p.d), J.dc_dc.shape))
    assert J.dc_dh.any()


def test_the_gru_keep_gate_is_z_or_one_minus_u():
    for variant in VARIANTS:
        p, x, h = gru_case(variant, seed=4)
        gates = gru.forward(p, x[None], h).gates[0]
        keep = gates[:, p.d:2 * p.d] if variant != "simple" else 1 - gates[:, :p.d]
        np.testing.assert_array_equal(jacobians.gru_step(p, x, h).keep, keep)


def test_each_example_of_a_batch_gets_its_own_jacobian():
    p, x, h, c = lstm_case(B=3, seed=5)
    J = jacobians.lstm_step(p, x, h, c)
    one = jacobians.lstm_step(p, x[1:2], h[1:2], c[1:2])
    np.testing.assert_allclose(J.full[1:2], one.full, rtol=1e-14, atol=1e-15)
    assert rel_error(J.full[0], J.full[1]) > 1e-3
    q, x, h = gru_case("cho", B=3, seed=5)
    np.testing.assert_allclose(jacobians.gru_step(q, x, h).full[2:], jacobians.gru_step(q, x[2:], h[2:]).full,
                               rtol=1e-14, atol=1e-15)


def test_missing_cell_state_is_zeros_and_float32_stays_float32():
    p, x, h, c = lstm_case(seed=6)
    np.testing.assert_array_equal(jacobians.lstm_step(p, x, h).full,
                                  jacobians.lstm_step(p, x, h, np.zeros_like(h)).full)
    p32 = p.astype(np.float32)
    J = jacobians.lstm_step(p32, x.astype(np.float32), h.astype(np.float32), c.astype(np.float32))
    assert J.full.dtype == np.float32
    assert rel_error(J.full.astype(np.float64), jacobians.lstm_step(p, x, h, c).full) < 1e-5


# ---------------------------------------------------------------- bad inputs

def test_bad_inputs_are_refused_by_name():
    p, x, h, c = lstm_case()
    q, _, _ = gru_case("torch")
    with pytest.raises(TypeError, match="^p: "):
        jacobians.lstm_step(q, x, h, c)
    with pytest.raises(TypeError, match="^p: "):
        jacobians.gru_step(p, x, h)
    with pytest.raises(ValueError, match="^x: "):
        jacobians.lstm_step(p, x[0], h, c)
    with pytest.raises(ValueError, match="^x: "):
        jacobians.gru_step(q, x[:, :2], h)
    with pytest.raises(ValueError, match="^h_prev: "):
        jacobians.lstm_step(p, x, h[:1], c)
    with pytest.raises(ValueError, match="^c_prev: "):
        jacobians.lstm_step(p, x, h, c[:, :2])
    with pytest.raises(ValueError, match="^h_prev: "):
        jacobians.gru_step(q, x, np.full_like(h, np.nan))


def test_central_differences_of_the_package_agree_with_the_tests_reference():
    p, x, h, c = lstm_case(seed=8)
    reference = numerical_jacobian(lstm_state_map(p, x), np.concatenate([h, c], axis=1))
    assert rel_error(jacobians.central_differences(p, x, h, c), reference) < 1e-9
    assert rel_error(jacobians.central_differences(p, x, h, c), jacobians.lstm_step(p, x, h, c).full) < 1e-7
    for variant in VARIANTS:
        q, x, h = gru_case(variant, seed=8)
        reference = numerical_jacobian(lambda s, q=q, x=x: gru.step(q, x, s), h)
        assert rel_error(jacobians.central_differences(q, x, h), reference) < 1e-9, variant
    with pytest.raises(TypeError, match="^c_prev: "):
        jacobians.central_differences(q, x, h, h)
    with pytest.raises(TypeError, match="^p: "):
        jacobians.central_differences(None, x, h)
    with pytest.raises(ValueError, match="^eps: "):
        jacobians.central_differences(q, x, h, eps=0.0)


def test_the_transposed_jacobians_are_one_step_of_the_backward_passes():
    """One step of BPTT maps the gradient at (h_t, c_t) to the gradient at (h_{t-1}, c_{t-1}) by J_t^T:
    lstm.backward and gru.backward over T = 1 with no loss on the output agree with the Jacobians."""
    p, x, h, c = lstm_case(seed=9)
    rng = np.random.default_rng(9)
    d_h, d_c = rng.normal(size=(2, 2, p.d))
    fwd = lstm.forward(p, x[None], h, c)
    back = lstm.backward(p, x[None], fwd, np.zeros((1, 2, p.k)), d_h, d_c)
    J = jacobians.lstm_step(p, x, h, c).full
    expected = np.einsum("bji,bj->bi", J, np.concatenate([d_h, d_c], axis=1))
    np.testing.assert_allclose(np.concatenate([back.d_h0, back.d_c0], axis=1), expected, rtol=1e-12,
                               atol=1e-14)
    for variant in VARIANTS:
        q, x, h = gru_case(variant, seed=9)
        fwd = gru.forward(q, x[None], h)
        back = gru.backward(q, x[None], fwd, np.zeros((1, 2, q.k)), d_h)
        expected = np.einsum("bji,bj->bi", jacobians.gru_step(q, x, h).full, d_h)
        np.testing.assert_allclose(back.d_h0, expected, rtol=1e-12, atol=1e-14, err_msg=variant)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_along_a_run_each_step_gets_the_jacobian_at_its_own_input_and_previous_state(cell):
    rng = np.random.default_rng(7)
    T, B, n, d = 5, 3, 4, 6
    xs, h0 = rng.normal(size=(T, B, n)), rng.normal(0, 0.5, (B, d))
    if cell == "lstm":
        p, c0 = lstm.init_lstm(n, d, 2, rng=7), rng.normal(0, 0.5, (B, d))
        J = jacobians.along_run(p, xs, h0, c0)
        fwd = lstm.forward(p, xs, h0, c0)
        states = [(h0, c0)] + list(zip(fwd.hs[:-1], fwd.cs[:-1]))
        expected = [jacobians.lstm_step(p, xs[t], *states[t]).full for t in range(T)]
    else:
        p = gru.init_gru(n, d, 2, rng=7)
        J = jacobians.along_run(p, xs, h0)
        hs = gru.forward(p, xs, h0).hs
        expected = [jacobians.gru_step(p, xs[t], ([h0] + list(hs[:-1]))[t]).full for t in range(T)]
        assert J.gates.shape == (T, B, d, d)
        with pytest.raises(TypeError, match="c0"):
            jacobians.along_run(p, xs, h0, h0)
    assert J.full.shape[:2] == (T, B)
    np.testing.assert_array_equal(J.full, np.stack(expected))
