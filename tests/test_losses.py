"""The losses of the output layer and their gradients: softmax, cross-entropy, the last-step squared error."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from differences import finite_difference
from recurrent import losses


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12), st.floats(-1e3, 1e3))
def test_softmax_rows_sum_to_one_even_for_huge_logits(values, shift):
    o = np.array([values, [v + shift for v in values]])
    s = losses.softmax(o)
    assert np.all(np.isfinite(s)) and np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(s[0], s[1], atol=1e-9)          # invariant to adding a constant


def test_softmax_naive_formula_overflows_where_the_stable_one_does_not():
    o = np.array([1000.0, 999.0, 0.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(o) / np.exp(o).sum()
    assert np.isnan(naive).any()
    np.testing.assert_allclose(losses.softmax(o), [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0],
                               atol=1e-15)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=10))
def test_log_softmax_matches_log_of_softmax_where_that_is_finite(values):
    o = np.array(values)
    ls = losses.log_softmax(o)
    assert np.all(np.isfinite(ls))
    np.testing.assert_allclose(np.exp(ls).sum(), 1.0, atol=1e-12)
    s = losses.softmax(o)
    ok = s > 1e-300
    np.testing.assert_allclose(ls[ok], np.log(s[ok]), atol=1e-9)


def test_cross_entropy_sums_over_time_and_averages_over_batch():
    rng = np.random.default_rng(3)
    os, ys = rng.normal(size=(4, 3, 5)), rng.integers(0, 5, (4, 3))
    by_hand = sum(-np.log(np.exp(os[t, b, ys[t, b]]) / np.exp(os[t, b]).sum())
                  for t in range(4) for b in range(3)) / 3
    assert losses.cross_entropy(os, ys) == pytest.approx(by_hand, rel=1e-12)
    mask = np.zeros((4, 3))
    mask[-1] = 1.0
    last_only = sum(-np.log(losses.softmax(os[-1, b])[ys[-1, b]]) for b in range(3)) / 3
    assert losses.cross_entropy(os, ys, mask) == pytest.approx(last_only, rel=1e-12)


def test_cross_entropy_of_uniform_logits_is_T_log_k():
    assert losses.cross_entropy(np.zeros((6, 2, 7)), np.zeros((6, 2), int)) == pytest.approx(6 * np.log(7))



def relative(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


def test_output_grad_is_the_derivative_of_the_cross_entropy():
    rng = np.random.default_rng(4)
    os, ys, mask = rng.normal(size=(3, 2, 4)), rng.integers(0, 4, (3, 2)), rng.random((3, 2))
    numeric = finite_difference(lambda o: losses.cross_entropy(o, ys, mask), os, eps=1e-6)
    assert relative(losses.output_grad(os, ys, mask), numeric) < 1e-7


def test_last_step_grad_is_output_grad_with_the_mask_at_T():
    rng = np.random.default_rng(5)
    os, y_last = rng.normal(size=(4, 3, 5)), rng.integers(0, 5, 3)
    ys, mask = np.zeros((4, 3), int), np.zeros((4, 3))
    ys[-1], mask[-1] = y_last, 1.0
    np.testing.assert_array_equal(losses.last_step_grad(os, y_last), losses.output_grad(os, ys, mask))


def test_last_squared_error_and_its_gradient():
    rng = np.random.default_rng(6)
    os, y = rng.normal(size=(5, 3, 1)), rng.random(3)
    assert losses.last_squared_error(os, y) == pytest.approx(np.mean((os[-1, :, 0] - y) ** 2), rel=1e-14)
    numeric = finite_difference(lambda o: losses.last_squared_error(o, y), os, eps=1e-6)
    g = losses.last_squared_error_grad(os, y)
    assert relative(g, numeric) < 1e-7
    assert not g[:-1].any()                                     # only o_T is scored


OS, OS3, OS1 = np.zeros((2, 1, 2)), np.zeros((2, 3, 2)), np.zeros((2, 3, 1))


@pytest.mark.parametrize("call, error, message", [
    (lambda: losses.cross_entropy(OS, np.zeros((2, 1))), TypeError, r"ys: expected integer"),
    (lambda: losses.cross_entropy(OS, np.zeros((3, 1), int)), ValueError, r"ys: expected shape"),
    (lambda: losses.cross_entropy(OS, np.full((2, 1), -1)), ValueError, r"ys: expected indices"),
    (lambda: losses.cross_entropy(OS, np.zeros((2, 1), int), -np.ones((2, 1))), ValueError,
     r"mask: expected weights >= 0"),
    (lambda: losses.last_squared_error(OS3, np.zeros(3)), ValueError, r"os: expected one output"),
    (lambda: losses.last_squared_error(OS1, np.zeros(2)), ValueError, r"ys: expected shape"),
    (lambda: losses.last_step_grad(OS3, np.array([0, 1, 2])), ValueError, r"y_last: expected"),
    (lambda: losses.softmax("abc"), TypeError, r"o: expected"),
])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
