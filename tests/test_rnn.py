"""Chapter 1 helpers: forward equations, softmax, cross-entropy, one-hot, counts, conversions."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import rnn

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


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12), st.floats(-1e3, 1e3))
def test_softmax_rows_sum_to_one_even_for_huge_logits(values, shift):
    o = np.array([values, [v + shift for v in values]])
    s = rnn.softmax(o)
    assert np.all(np.isfinite(s)) and np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(s[0], s[1], atol=1e-9)          # invariant to adding a constant


def test_softmax_naive_formula_overflows_where_the_stable_one_does_not():
    o = np.array([1000.0, 999.0, 0.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(o) / np.exp(o).sum()
    assert np.isnan(naive).any()
    np.testing.assert_allclose(rnn.softmax(o), [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0],
                               atol=1e-15)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=10))
def test_log_softmax_matches_log_of_softmax_where_that_is_finite(values):
    o = np.array(values)
    ls = rnn.log_softmax(o)
    assert np.all(np.isfinite(ls))
    np.testing.assert_allclose(np.exp(ls).sum(), 1.0, atol=1e-12)
    s = rnn.softmax(o)
    ok = s > 1e-300
    np.testing.assert_allclose(ls[ok], np.log(s[ok]), atol=1e-9)


def test_cross_entropy_sums_over_time_and_averages_over_batch():
    rng = np.random.default_rng(3)
    os, ys = rng.normal(size=(4, 3, 5)), rng.integers(0, 5, (4, 3))
    by_hand = sum(-np.log(np.exp(os[t, b, ys[t, b]]) / np.exp(os[t, b]).sum())
                  for t in range(4) for b in range(3)) / 3
    assert rnn.cross_entropy(os, ys) == pytest.approx(by_hand, rel=1e-12)
    mask = np.zeros((4, 3))
    mask[-1] = 1.0
    last_only = sum(-np.log(rnn.softmax(os[-1, b])[ys[-1, b]]) for b in range(3)) / 3
    assert rnn.cross_entropy(os, ys, mask) == pytest.approx(last_only, rel=1e-12)


def test_cross_entropy_of_uniform_logits_is_T_log_k():
    assert rnn.cross_entropy(np.zeros((6, 2, 7)), np.zeros((6, 2), int)) == pytest.approx(6 * np.log(7))


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
    with pytest.raises(ValueError, match="missing"):
        rnn.from_torch({"weight_ih_l0": p.U})


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
    (lambda p: rnn.forward(p, np.zeros((0, 2, 3))), r"at least one time step"),
    (lambda p: rnn.forward(p, np.full((2, 1, 3), np.nan)), r"xs: expected finite values, got 6 NaN"),
    (lambda p: rnn.forward(p, np.zeros((2, 1, 3)), np.zeros((2, 4))), r"h0: expected shape \(B, d\)"),
    (lambda p: rnn.forward(p, np.array([[["a", "b", "c"]]])), r"xs: expected a numeric array"),
    (lambda p: rnn.cross_entropy(np.zeros((2, 1, 2)), np.zeros((2, 1))), r"ys: expected integer"),
    (lambda p: rnn.cross_entropy(np.zeros((2, 1, 2)), np.zeros((3, 1), int)), r"ys: expected shape"),
    (lambda p: rnn.count_params(3, 4, 2, biases="three"), r"biases: expected one of"),
    (lambda p: rnn.count_params(0, 4, 2), r"n: expected an integer >= 1, got 0"),
    (lambda p: rnn.init_params(3, 4, 2, rng="seed"), r"rng: expected an int seed"),
    (lambda p: rnn.sample(p, 0, 5), r"expected n == k"),
    (lambda p: rnn.Params(U=np.zeros((4, 3)), W=np.zeros((4, 5)), V=np.zeros((2, 4)),
                          b=np.zeros(4), c=np.zeros(2)), r"W: expected shape \(d, d\)"),
    (lambda p: rnn.Params(U=np.zeros((4, 3)), W=np.zeros((4, 4)), V=np.zeros((2, 5)),
                          b=np.zeros(4), c=np.zeros(2)), r"V: expected shape \(k, d\) with d=4"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    p = rnn.init_params(3, 4, 2)
    with pytest.raises(ValueError, match=message):
        call(p)


def test_linear_activation_drops_the_tanh():
    p, xs, h0 = random_case(3, 4, 2, 5, 2)
    hs = rnn.hidden_states(p, xs, h0, activation="linear")
    h = h0
    for t in range(5):
        h = xs[t] @ p.U.T + h @ p.W.T + p.b
        np.testing.assert_allclose(hs[t], h, atol=1e-13)
    with pytest.raises(ValueError, match="activation: expected one of"):
        rnn.forward(p, xs, activation="relu6")


@given(seed=st.integers(0, 10**6))
def test_interaction_vanishes_exactly_for_a_linear_rnn_and_not_for_tanh(seed):
    p, _, _ = random_case(2, 3, 2, 1, 1, seed)
    x_a, x_b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert np.abs(rnn.interaction(p, x_a, x_b, "linear")).max() < 1e-12
    scaled = rnn.Params(U=3 * p.U, W=3 * p.W, V=p.V, b=p.b, c=p.c)      # well into tanh's curvature
    assert np.abs(rnn.interaction(scaled, x_a, x_b, "tanh")).max() > 1e-6
