"""Chapter 6 helpers: gradient norms through time for the LSTM and the RNN, the hand-set LSTM."""
import numpy as np
import pytest

from recurrent import bptt, losses, memory, rnn


def test_gradient_ratios_are_bptts_norms_divided_by_the_last_one():
    r = memory.gradient_ratios(forget_bias=2.0, T=12, d=5, n=3, B=4, seed=3)
    rng = np.random.default_rng(3)
    xs, y_last = rng.normal(size=(12, 4, 3)), rng.integers(0, 4, 4)
    plain = rnn.init_params(3, 5, 4, rng=3)
    fwd = bptt.forward(plain, xs)
    d_hs = bptt.backward(plain, xs, fwd, losses.last_step_grad(fwd.os, y_last)).d_hs
    norms = np.linalg.norm(d_hs.reshape(12, -1), axis=1)
    np.testing.assert_allclose(r.rnn_h, norms / norms[-1], rtol=1e-12)
    np.testing.assert_array_equal(r.t, np.arange(1, 13))
    assert r.T == 12 and r.forget_bias == 2.0 and r.lstm_c[-1] == r.lstm_h[-1] == 1.0


def test_a_larger_forget_bias_keeps_more_gradient_in_the_cell_state():
    kept = [memory.gradient_ratios(forget_bias=b, T=40).lstm_c[0] for b in (-1.0, 1.0, 4.0)]
    assert kept[0] < kept[1] < kept[2]
    r = memory.gradient_ratios(forget_bias=4.0, T=40)
    assert r.lstm_c[0] > 1e6 * r.rnn_h[0]
    assert r.lstm_c[-1] == r.rnn_h[-1] == 1.0 and 0.95 < r.f_mean < 1.0


def test_hand_set_lstm_writes_keeps_reads_and_forgets():
    values = np.array([0, 0.8, 0, 0, -0.5, 0, 0, 0, 0, 0])
    write = np.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    forget = np.array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
    read = np.array([0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    fwd = memory.write_read_forget(values, write, forget, read)
    c, h = fwd.cs[:, 0, 0], fwd.hs[:, 0, 0]
    np.testing.assert_allclose(c[1:6], np.tanh(0.8), atol=1e-6)     # written at step 2, kept
    assert abs(c[6]) < 1e-6 and abs(c[9]) < 1e-6                     # forgotten at step 7
    assert h[3] == pytest.approx(np.tanh(np.tanh(0.8)), abs=1e-6)    # read at step 4
    assert abs(h[8]) < 1e-6 and abs(h[2]) < 1e-6                     # nothing to read / not reading


@pytest.mark.parametrize("call, error, message", [
    (lambda: memory.gradient_ratios(forget_bias=np.nan), ValueError, "forget_bias: expected a finite"),
    (lambda: memory.gradient_ratios(T=0), ValueError, "T: expected an integer >= 1"),
    (lambda: memory.gradient_ratios(seed=-1), ValueError, "seed: expected an integer >= 0"),
    (lambda: memory.write_read_forget([0, 1], [0, 1], [0], [0, 0]),
     ValueError, "expected four arrays of one"),
    (lambda: memory.write_read_forget("ab", [0, 1], [0, 0], [0, 0]), TypeError, "values: expected"),
])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- H3 (issue 12): the 1997 cell, all paths

def test_without_forget_gate_fixes_f_at_one_and_leaves_p_alone():
    from recurrent import lstm
    p = lstm.init_lstm(3, 4, 2, rng=1)
    p.W *= 2
    before = p.copy()
    q = memory.without_forget_gate(p)
    xs = np.random.default_rng(0).normal(0, 3, size=(6, 2, 3))
    fwd = lstm.forward(q, xs)
    np.testing.assert_array_equal(fwd.gates[..., 4:8], 1.0)
    i, g = fwd.gates[..., :4], fwd.gates[..., 8:12]
    np.testing.assert_allclose(fwd.cs, np.cumsum(i * g, axis=0), rtol=1e-13, atol=1e-15)  # c_{t-1} + i g
    for (name, a), (_, b) in zip(p.items(), before.items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    with pytest.raises(TypeError, match="^p: "):
        memory.without_forget_gate(rnn.init_params(3, 4, 2))


def test_cell_state_sizes_are_the_largest_cell_states_of_both_cells():
    from recurrent import lstm
    r = memory.cell_state_sizes(T=30, d=3, n=2, B=2, seed=4, forget_bias=0.5)
    xs = np.random.default_rng(4).normal(size=(30, 2, 2))
    p = lstm.init_lstm(2, 3, 4, rng=4, forget_bias=0.5)
    np.testing.assert_array_equal(r.forget, np.abs(lstm.forward(p, xs).cs).max(axis=(1, 2)))
    carousel = lstm.forward(memory.without_forget_gate(p), xs).cs
    np.testing.assert_array_equal(r.carousel, np.abs(carousel).max(axis=(1, 2)))
    np.testing.assert_array_equal(r.t, np.arange(1, 31))
    assert r.carousel[-1] > 2 * r.forget.max()          # without a reset the sum of i g drifts away


def test_jacobian_paths_product_is_the_jacobian_of_the_last_state_by_central_differences():
    from differences import finite_difference
    from recurrent import lstm
    T, d, n = 4, 2, 3
    r = memory.jacobian_paths(forget_bias=0.5, T=T, d=d, n=n, B=1, seed=2)
    xs = np.random.default_rng(2).normal(size=(T, 1, n))
    p = lstm.init_lstm(n, d, 4, rng=2, forget_bias=0.5)

    def last(state, j):
        fwd = lstm.forward(p, xs, state[None, :d], state[None, d:])
        return np.concatenate([fwd.hs[-1, 0], fwd.cs[-1, 0]])[j]

    J = np.array([finite_difference(lambda s, j=j: last(s, j), np.zeros(2 * d)) for j in range(2 * d)])
    np.testing.assert_allclose(r.product_full[0], np.linalg.norm(J, 2), rtol=1e-8)
    f = lstm.forward(p, xs).gates[:, 0, d:2 * d]
    np.testing.assert_allclose(r.one_step_direct[:, 0], f.max(axis=1), rtol=1e-15)
    np.testing.assert_allclose(r.product_direct[0], np.prod(f, axis=0).max(), rtol=1e-14)
    assert (r.one_step_full >= r.one_step_direct * (1 - 1e-12)).all()   # diag(f_t) is a block of J_t
    assert r.T == T and r.forget_bias == 0.5
