"""Chapter 6 helpers: gradient norms through time for the LSTM and the RNN, the hand-set LSTM."""
import numpy as np
import pytest

from recurrent import bptt, memory, rnn


def test_rnn_gradient_norms_match_bptt_at_the_first_state():
    rng = np.random.default_rng(0)
    p = rnn.init_params(3, 6, 4, rng=0)
    xs, y_last = rng.normal(size=(7, 2, 3)), rng.integers(0, 4, 2)
    norms = memory.rnn_gradient_norms(p, xs, y_last)
    fwd = rnn.forward(p, xs)
    ys, mask = np.zeros((7, 2), int), np.zeros((7, 2))
    ys[-1], mask[-1] = y_last, 1.0
    d_os = bptt.output_grad(fwd.os, ys, mask)
    _, dh0 = bptt.backward(p, xs, fwd, d_os)
    # norms[0] is dL/dh_1; one more step back gives dL/dh_0 from bptt
    first = np.linalg.norm(dh0)
    assert norms.shape == (7,) and norms[-1] == pytest.approx(np.linalg.norm(d_os[-1] @ p.V))
    fwd1 = rnn.forward(p, xs[1:], fwd.hs[0])
    _, dh1 = bptt.backward(p, xs[1:], fwd1, d_os[1:])
    assert norms[0] == pytest.approx(np.linalg.norm(dh1), rel=1e-12) and first > 0


def test_a_larger_forget_bias_keeps_more_gradient_in_the_cell_state():
    kept = [memory.explorer(forget_bias=b, T=40)["lstm_c"][0] for b in (-1.0, 1.0, 4.0)]
    assert kept[0] < kept[1] < kept[2]
    r = memory.explorer(forget_bias=4.0, T=40)
    assert r["lstm_c"][0] > 1e6 * r["rnn_h"][0]
    assert r["lstm_c"][-1] == r["rnn_h"][-1] == 1.0 and 0.95 < r["f_mean"] < 1.0


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
