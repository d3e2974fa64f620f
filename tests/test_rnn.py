"""Chapter 1 helpers: forward equations, the containers, one-hot, counts, conversions, validation."""
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import lstm, rnn

sizes = st.integers(1, 6)


def random_case(n, d, k, T, B, seed=0):
    rng = np.random.default_rng(seed)
    p = rnn.init_params(n, d, k, rng=rng)
    p.b[:] = rng.normal(0, 0.3, d)
    p.c[:] = rng.normal(0, 0.3, k)
    return p, rng.normal(size=(T, B, n)), rng.normal(0, 0.5, (B, d))


@given(n=sizes, d=sizes, k=sizes, T=st.integers(1, 8), B=sizes, seed=st.integers(0, 10**6))
def test_forward_equals_T_single_steps(n, d, k, T, B, seed):
    p, xs, h0 = random_case(n, d, k, T, B, seed)
    fwd = rnn.forward(p, xs, h0)
    h = h0
    for t in range(T):
        h = rnn.step(p, xs[t], h)
        np.testing.assert_allclose(fwd.hs[t], h, rtol=0, atol=1e-13)
        np.testing.assert_allclose(fwd.os[t], h @ p.V.T + p.c, rtol=0, atol=1e-13)
    assert fwd.hs.shape == (T, B, d) and fwd.os.shape == (T, B, k)


def test_step_is_the_equation_written_with_column_vectors():
    p, xs, h0 = random_case(3, 4, 2, 1, 1, seed=5)
    x, h_prev = xs[0, 0], h0[0]
    expected = np.tanh(p.U @ x + p.W @ h_prev + p.b)
    np.testing.assert_allclose(rnn.step(p, xs[0], h0)[0], expected, atol=1e-15)


def test_forward_does_not_modify_its_inputs():
    p, xs, h0 = random_case(3, 4, 2, 5, 2)
    before = (xs.copy(), h0.copy(), p.copy())
    rnn.forward(p, xs, h0)
    np.testing.assert_array_equal(xs, before[0])
    np.testing.assert_array_equal(h0, before[1])
    for (_, a), (_, b) in zip(p.items(), before[2].items(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_one_hot():
    np.testing.assert_array_equal(rnn.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    assert rnn.one_hot(np.zeros((4, 2), int), 5).shape == (4, 2, 5)
    with pytest.raises(ValueError, match=r"indices in \[0, 3\)"):
        rnn.one_hot([3], 3)


def test_count_params_one_and_two_biases():
    one = rnn.count_params(27, 32, 27)
    two = rnn.count_params(27, 32, 27, biases="two")
    assert one == {"U": 864, "W": 1024, "b": 32, "V": 864, "c": 27, "total": 2811}
    assert two["total"] - one["total"] == 32
    p = rnn.init_params(27, 32, 27)
    assert sum(a.size for _, a in p.items()) == one["total"]


def test_torch_conversion_round_trip_and_bias_sum():
    p, _, _ = random_case(3, 4, 2, 1, 1)
    state = rnn.to_torch(p)
    assert state["weight_ih_l0"].shape == (4, 3) and state["linear.weight"].shape == (2, 4)
    state["bias_hh_l0"] = np.full(4, 0.25)
    state["bias_ih_l0"] = p.b - 0.25
    q = rnn.from_torch(state)
    np.testing.assert_allclose(q.b, p.b, atol=1e-15)


def test_sample_returns_valid_ids_and_is_seeded():
    p = rnn.init_params(5, 8, 5, rng=1)
    a, b = rnn.sample(p, 0, 20, rng=7), rnn.sample(p, 0, 20, rng=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20,) and a.min() >= 0 and a.max() < 5
    # a very low temperature makes sampling greedy: it must follow the argmax of the logits
    greedy = rnn.sample(p, 0, 10, rng=1, temperature=1e-3)
    h, tok = np.zeros((1, 8)), 0
    for t in range(10):
        h = rnn.step(p, np.eye(5)[[tok]], h)
        tok = int((h @ p.V.T + p.c).argmax())
        assert greedy[t] == tok


@pytest.mark.parametrize("call, message", [
    (lambda p: rnn.forward(p, np.zeros((4, 2))), r"xs: expected a 3-d array \(T, B, n\), got shape \(4, 2\)"),
    (lambda p: rnn.forward(p, np.zeros((4, 2, 5))), r"xs: expected last axis n=3"),
    (lambda p: rnn.forward(p, np.full((2, 1, 3), np.nan)), r"xs: expected finite values, got 6 NaN"),
    (lambda p: rnn.forward(p, np.zeros((2, 1, 3)), np.zeros((2, 4))), r"h0: expected shape \(B, d\)"),
    (lambda p: rnn.step(p, np.zeros((2, 5)), np.zeros((2, 4))), r"x: expected last axis n=3"),
    (lambda p: rnn.step(p, np.zeros((2, 3)), np.zeros((2, 5))), r"h_prev: expected shape \(B, d\)"),
    (lambda p: rnn.step(p, np.zeros(3), np.zeros((1, 4))), r"x: expected a 2-d array \(B, n\)"),
    (lambda p: rnn.count_params(0, 4, 2), r"n: expected an integer >= 1, got 0"),
    (lambda p: rnn.init_params(3, 4, 2, dtype=np.int64), r"dtype: expected a floating-point dtype"),
    (lambda p: rnn.sample(p, 0, 5), r"expected n == k"),
    (lambda p: rnn.sample(rnn.init_params(3, 4, 3), 0, 5, temperature=0.0), r"temperature: expected"),
    (lambda p: rnn.Params(U=np.zeros((4, 3)), W=np.zeros((4, 5)), V=np.zeros((2, 4)),
                          b=np.zeros(4), c=np.zeros(2)), r"W: expected shape \(d, d\)"),
    (lambda p: rnn.Params(U=np.zeros((4, 3)), W=np.zeros((4, 4)), V=np.zeros((2, 5)),
                          b=np.zeros(4), c=np.zeros(2)), r"V: expected shape \(k, d\) with d=4"),
    (lambda p: replace(p, activation="relu6"), r"activation: expected one of"),
    (lambda p: rnn.from_torch(rnn.to_torch(p) | {"bias_hh_l0": np.zeros(3)}), r"bias_hh_l0: expected shape"),
    (lambda p: rnn.from_torch(rnn.to_torch(p) | {"bias_ih_l0": np.zeros(5)}), r"bias_ih_l0: expected shape"),
    (lambda p: rnn.from_torch({"weight_ih_l0": p.U}), r"state: expected keys .* missing"),
    (lambda p: rnn.second_difference(p, np.zeros(2), np.zeros(3)), r"x_a: expected shape \(n,\)"),
])
def test_bad_value_raises_a_clear_value_error(call, message):
    p = rnn.init_params(3, 4, 2)
    with pytest.raises(ValueError, match=message):
        call(p)


@pytest.mark.parametrize("call, message", [
    (lambda p: rnn.step(lstm.init_lstm(3, 4, 2), np.zeros((2, 3)), np.zeros((2, 4))),
     r"p: expected rnn.Params, got LSTMParams"),
    (lambda p: rnn.forward(None, np.zeros((2, 1, 3))), r"p: expected rnn.Params, got None"),
    (lambda p: rnn.forward(p, np.array([[["a", "b", "c"]]])), r"xs: expected a float array"),
    (lambda p: rnn.forward(p, np.zeros((2, 1, 3)) + 0.5j), r"xs: expected a float array"),
    (lambda p: rnn.init_params(3, 4, 2, rng="seed"), r"rng: expected an int seed"),
    (lambda p: rnn.init_params(3.0, 4, 2), r"n: expected an integer"),
    (lambda p: rnn.init_params(3, 4, 2, dtype="no such dtype"), r"dtype: expected a floating-point dtype"),
    (lambda p: rnn.count_params(3, 4, 2, biases=["one"]), r"biases: expected one of"),
    (lambda p: rnn.from_torch([1, 2]), r"state: expected a mapping"),
    (lambda p: rnn.to_torch({}), r"p: expected rnn.Params, got dict"),
])
def test_bad_type_raises_a_clear_type_error(call, message):
    p = rnn.init_params(3, 4, 2)
    with pytest.raises(TypeError, match=message):
        call(p)


def test_init_params_scales_each_matrix_by_its_own_fan_in():
    """U is N(0, 1/n) (its fan-in is the input size n), W and V are N(0, 1/d): with n = 4 and
    d = 400 the standard deviations differ tenfold, so swapping the fan-ins cannot pass."""
    p = rnn.init_params(4, 400, 300, rng=0)
    assert np.std(p.U) == pytest.approx(1 / np.sqrt(4), rel=0.05)
    assert np.std(p.W) == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert np.std(p.V) == pytest.approx(1 / np.sqrt(400), rel=0.02)
    assert not p.b.any() and not p.c.any()
    assert rnn.init_params(3, 4, 2, dtype=np.float32).U.dtype == np.float32


def test_init_irnn_is_relu_units_from_the_identity():
    p = rnn.init_irnn(3, 5, 2, rng=1)
    assert p.activation == "relu" and p.kind == "rnn/relu"
    np.testing.assert_array_equal(p.W, np.eye(5))
    assert not p.b.any()
    xs = np.random.default_rng(2).normal(size=(4, 2, 3))
    h = np.zeros((2, 5))
    for t in range(4):
        h = np.maximum(xs[t] @ p.U.T + h @ p.W.T + p.b, 0.0)
    np.testing.assert_allclose(rnn.forward(p, xs).hs[-1], h, atol=1e-13)


def test_linear_activation_drops_the_tanh():
    p, xs, h0 = random_case(3, 4, 2, 5, 2)
    hs = rnn.hidden_states(replace(p, activation="linear"), xs, h0)
    h = h0
    for t in range(5):
        h = xs[t] @ p.U.T + h @ p.W.T + p.b
        np.testing.assert_allclose(hs[t], h, atol=1e-13)


@given(seed=st.integers(0, 10**6))
def test_second_difference_vanishes_for_a_linear_rnn_and_not_for_tanh(seed):
    p, _, _ = random_case(2, 3, 2, 1, 1, seed)
    x_a, x_b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert np.abs(rnn.second_difference(replace(p, activation="linear"), x_a, x_b)).max() < 1e-12
    scaled = rnn.Params(U=3 * p.U, W=3 * p.W, V=p.V, b=p.b, c=p.c)      # well into tanh's curvature
    assert np.abs(rnn.second_difference(scaled, x_a, x_b)).max() > 1e-6
