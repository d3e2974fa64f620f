"""The shared validators in recurrent._checks: what they accept, what they refuse and how they say it."""
import math
import timeit

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from recurrent import _checks as ck

finite = st.floats(-1e6, 1e6, allow_nan=False)
float_arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                          elements=finite)


# --- as_float_array ---------------------------------------------------------------------------------

@given(float_arrays)
def test_a_finite_float_array_is_returned_as_given(a):
    assert ck.as_float_array("xs", a, ndim=a.ndim) is a


@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                  elements=st.integers(-1000, 1000)))
def test_integer_arrays_become_float64_with_the_same_values(a):
    out = ck.as_float_array("xs", a)
    assert out.dtype == np.float64 and np.array_equal(out, a)


@given(float_arrays, st.sampled_from([complex, bool, object, str]))
def test_complex_bool_object_and_string_arrays_are_type_errors(a, dtype):
    bad = a + 0.5j if dtype is complex else a.astype(dtype)
    with pytest.raises(TypeError, match=r"^xs: expected a float array \(T, B, n\), got a \S+ array of shape"):
        ck.as_float_array("xs", bad, dims="(T, B, n)")


@pytest.mark.parametrize("value", [None, "abc", {"a": 1}, {1, 2}, len])
def test_non_arrays_are_type_errors_naming_the_argument(value):
    with pytest.raises(TypeError, match=r"^h0: expected a float array"):
        ck.as_float_array("h0", value)


def test_ragged_lists_are_value_errors():
    with pytest.raises(ValueError, match=r"^x: expected a float array, got a ragged sequence"):
        ck.as_float_array("x", [[1.0, 2.0], [3.0]])


@given(float_arrays, st.data(), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_one_nan_or_infinite_entry_anywhere_is_refused(a, data, bad):
    i = tuple(data.draw(st.integers(0, s - 1)) for s in a.shape)
    a = a.copy()
    a[i] = bad
    with pytest.raises(ValueError, match=r"^W: expected finite values, got 1 NaN or infinite entries"):
        ck.as_float_array("W", a)


@pytest.mark.parametrize("size", [2, 5000])
def test_finite_entries_whose_sum_overflows_are_accepted_without_a_warning(size):
    a = np.full(size, 1e308)
    assert ck.as_float_array("a", a) is a       # pyproject turns a RuntimeWarning into an error


@given(float_arrays, st.data())
def test_a_wrong_rank_or_shape_is_a_value_error(a, data):
    wanted = rf"^xs: expected a {a.ndim + 1}-d array .*got shape {re_shape(a.shape)}"
    with pytest.raises(ValueError, match=wanted):
        ck.as_float_array("xs", a, ndim=a.ndim + 1)
    axis = data.draw(st.integers(0, a.ndim - 1))
    shape = tuple(s + (i == axis) for i, s in enumerate(a.shape))
    with pytest.raises(ValueError, match=r"^xs: expected shape"):
        ck.as_float_array("xs", a, shape=shape)
    free = tuple(None if i == axis else s for i, s in enumerate(a.shape))
    assert ck.as_float_array("xs", a, shape=free) is a      # None: any length along that axis


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@given(st.integers(1, 3), st.data())
def test_empty_arrays_are_refused_unless_allowed(ndim, data):
    shape = [2] * ndim
    shape[data.draw(st.integers(0, ndim - 1))] = 0
    a = np.zeros(shape)
    with pytest.raises(ValueError, match=r"^xs: expected a non-empty array \(T, B, n\), got shape"):
        ck.as_float_array("xs", a, dims="(T, B, n)")
    assert ck.as_float_array("xs", a, allow_empty=True) is a


# --- as_int_array -----------------------------------------------------------------------------------

@given(st.integers(2, 9), st.lists(st.integers(0, 100), min_size=1, max_size=8), st.data())
def test_ids_in_range_pass_and_one_outside_is_refused(k, raw, data):
    ids = np.array(raw) % k
    assert ck.as_int_array("ys", ids, ndim=1, low=0, high=k) is ids
    bad = ids.copy()
    bad[data.draw(st.integers(0, len(ids) - 1))] = data.draw(st.sampled_from([-1, k, k + 5, -k]))
    with pytest.raises(ValueError, match=rf"^ys: expected indices in \[0, {k}\), got values from"):
        ck.as_int_array("ys", bad, ndim=1, low=0, high=k)


@pytest.mark.parametrize("ids", [np.array([0.0, 1.0]), np.array([True, False]), np.array(["0", "1"]), None])
def test_float_bool_and_string_ids_are_type_errors(ids):
    with pytest.raises(TypeError, match=r"^ids: expected (integer ids|an integer array)"):
        ck.as_int_array("ids", ids, ndim=1, low=0, high=3)


def test_ids_of_any_rank_and_their_rank_check():
    assert ck.as_int_array("first", 2, ndim=None, low=0, high=3) == 2
    with pytest.raises(ValueError, match=r"^ys: expected a 2-d array \(T, B\), got shape \(3,\)"):
        ck.as_int_array("ys", np.zeros(3, int), ndim=2, low=0, high=3, dims="(T, B)")
    with pytest.raises(ValueError, match=r"^ys: expected a non-empty array"):
        ck.as_int_array("ys", np.zeros((0, 2), int), ndim=2, low=0, high=3)


# --- scalars ----------------------------------------------------------------------------------------

@given(st.integers(-50, 50), st.integers(-5, 5))
def test_positive_int_accepts_exactly_the_integers_at_or_above_the_minimum(value, minimum):
    if value >= minimum:
        assert ck.positive_int("T", value, minimum) == value
        assert ck.positive_int("T", np.int64(value), minimum) == value
    else:
        with pytest.raises(ValueError, match=rf"^T: expected an integer >= {minimum}, got {value}$"):
            ck.positive_int("T", value, minimum)


@pytest.mark.parametrize("value", [3.0, 2.5, True, "3", None, np.float64(3), 3 + 0j])
def test_positive_int_refuses_non_integers_with_a_type_error(value):
    with pytest.raises(TypeError, match=r"^steps: expected an integer >= 1, got "):
        ck.positive_int("steps", value)


def test_positive_int_maximum():
    assert ck.positive_int("delay", 3, 0, maximum=3) == 3
    with pytest.raises(ValueError, match=r"^delay: expected an integer in \[0, 3\], got 4"):
        ck.positive_int("delay", 4, 0, maximum=3)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_positive_float_accepts_exactly_the_finite_positive_numbers(x):
    if math.isfinite(x) and x > 0:
        assert ck.positive_float("lr", x) == x
    else:
        with pytest.raises(ValueError, match=r"^lr: expected a (finite number|number > 0), got"):
            ck.positive_float("lr", x)
    if math.isfinite(x) and x >= 0:
        assert ck.positive_float("lr", x, allow_zero=True) == x


@pytest.mark.parametrize("value", [None, "0.1", True, 1 + 1j, np.array([0.1])])
def test_floats_of_the_wrong_type_are_type_errors(value):
    for check in (ck.finite_float, ck.positive_float):
        with pytest.raises(TypeError, match=r"^clip: expected a finite real number, got "):
            check("clip", value)


@given(st.floats(-3, 3), st.sampled_from(["[)", "[]", "()", "(]"]))
def test_float_in_follows_the_interval_ends(x, interval):
    inside = (x >= 0 if interval[0] == "[" else x > 0) and (x <= 1 if interval[1] == "]" else x < 1)
    if inside:
        assert ck.float_in("beta1", x, 0, 1, interval) == x
    else:
        wanted = rf"^beta1: expected a number in \{interval[0]}0, 1\{interval[1]}"
        with pytest.raises(ValueError, match=wanted):
            ck.float_in("beta1", x, 0, 1, interval)


@pytest.mark.parametrize("beta", [1.0, 1.5, -0.1, float("nan"), float("inf")])
def test_adam_betas_outside_zero_one_are_refused(beta):
    with pytest.raises(ValueError, match=r"^beta1: expected a (number in \[0, 1\)|finite number)"):
        ck.float_in("beta1", beta, 0, 1)


def test_float_in_refuses_an_unknown_interval():
    with pytest.raises(ValueError, match=r"^interval: expected one of"):
        ck.float_in("x", 0.5, 0, 1, "[[")


# --- options, bools, instances, mappings, generators ------------------------------------------------

@given(st.one_of(st.text(max_size=5), st.integers(), st.floats(), st.none(), st.lists(st.text(max_size=3)),
                 st.binary(max_size=3)))
def test_one_of_refuses_everything_but_its_options(value):
    options = {"tanh", "relu"}
    if value in ("tanh", "relu"):
        assert ck.one_of("activation", value, options) == value
    else:
        error = ValueError if isinstance(value, str) else TypeError
        with pytest.raises(error, match=r"^activation: expected one of \['relu', 'tanh'\], got "):
            ck.one_of("activation", value, options)


def test_one_of_with_int_options_refuses_bools_and_takes_dict_keys():
    assert ck.one_of("order", 2, (1, 2)) == 2
    with pytest.raises(TypeError, match=r"^order: expected one of \[1, 2\], got bool True"):
        ck.one_of("order", True, (1, 2))
    assert ck.one_of("activation", "tanh", {"tanh": np.tanh}) == "tanh"


@pytest.mark.parametrize("value", [1, 0, "yes", None, np.array([True])])
def test_as_bool_accepts_only_bools(value):
    with pytest.raises(TypeError, match=r"^reverse: expected True or False, got "):
        ck.as_bool("reverse", value)
    assert ck.as_bool("reverse", np.bool_(True)) is True


def test_instance_of_names_the_expected_classes():
    assert ck.instance_of("p", 3, int) == 3
    with pytest.raises(TypeError, match=r"^p: expected int or float, got str 'x'"):
        ck.instance_of("p", "x", (int, float))
    with pytest.raises(TypeError, match=r"^p: expected RNN parameters, got None$"):
        ck.instance_of("p", None, int, expected="RNN parameters")


def test_as_callable():
    assert ck.as_callable("log", print) is print
    with pytest.raises(TypeError, match=r"^log: expected a function, got int 3"):
        ck.as_callable("log", 3)


def test_has_keys():
    state = {"a": 1, "b": 2}
    assert ck.has_keys("state", state, ["a"]) is state
    with pytest.raises(ValueError, match=r"^state: expected keys \['a', 'c'\], missing \['c'\]"):
        ck.has_keys("state", state, ["a", "c"])
    with pytest.raises(TypeError, match=r"^state: expected a mapping with keys"):
        ck.has_keys("state", [("a", 1)], ["a"])


@given(st.integers(0, 2**32))
def test_rng_from_a_seed_is_reproducible(seed):
    assert ck.rng_from(seed).integers(1 << 30) == np.random.default_rng(seed).integers(1 << 30)
    g = np.random.default_rng(seed)
    assert ck.rng_from(g) is g


@pytest.mark.parametrize("value, error", [(-1, ValueError), (None, TypeError), (1.5, TypeError),
                                          (True, TypeError), ("0", TypeError),
                                          (np.random.RandomState(0), TypeError)])
def test_rng_from_refuses_other_seeds_naming_the_argument(value, error):
    with pytest.raises(error, match=r"^seed: expected an int seed"):
        ck.rng_from(value, name="seed")


# --- cost -------------------------------------------------------------------------------------------

def per_call_us(fn, number=2000):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def test_the_validators_are_cheap_on_small_arrays():
    """A few microseconds each: the RNN runs about ten of them per forward pass. Generous bounds (a
    loaded machine); the measured costs are printed and reported in the closing note."""
    xs, ids = np.zeros((5, 2, 3)), np.zeros((5, 2), dtype=np.int64)
    costs = {
        "as_float_array": per_call_us(lambda: ck.as_float_array("xs", xs, ndim=3, dims="(T, B, n)")),
        "as_float_array(shape)": per_call_us(lambda: ck.as_float_array("xs", xs, shape=(5, 2, 3))),
        "as_int_array": per_call_us(lambda: ck.as_int_array("ys", ids, ndim=2, low=0, high=4)),
        "positive_int": per_call_us(lambda: ck.positive_int("T", 5)),
        "positive_float": per_call_us(lambda: ck.positive_float("lr", 0.1)),
        "float_in": per_call_us(lambda: ck.float_in("beta1", 0.9, 0, 1)),
        "one_of": per_call_us(lambda: ck.one_of("activation", "tanh", ("tanh", "relu"))),
        "rng_from": per_call_us(lambda: ck.rng_from(0)),
    }
    print({name: round(us, 2) for name, us in costs.items()})
    assert costs["as_float_array"] < 25 and costs["positive_int"] < 5, costs
