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
