"""Claims over seeds: the checked line is stable, a broken claim raises with every value."""
import numpy as np
import pytest

from recurrent import claims


def test_check_returns_a_line_that_depends_only_on_the_claim():
    a = claims.check("accuracy above 0.9", [0.95, 0.99, 0.97], above=0.9)
    b = claims.check("accuracy above 0.9", [0.91, 1.0, 0.93], above=0.9)
    assert a == b == "✓ accuracy above 0.9 (all 3 seeds)"
    assert claims.check("error below 1e-8", [3e-10], below=1e-8) == "✓ error below 1e-8"
    assert claims.check("x in (0, 1)", np.full((2, 3), 0.5), above=0, below=1, of="runs") == \
        "✓ x in (0, 1) (all 6 runs)"


def test_a_broken_claim_raises_and_lists_the_values():
    with pytest.raises(claims.ClaimFailed, match=r"expected every value above 0.9, got \[0.95 0.5"):
        claims.check("accuracy above 0.9", [0.95, 0.5], above=0.9)
    for bad in (np.nan, np.inf, -np.inf):       # a diverged run supports no claim: refused by name
        with pytest.raises(ValueError, match=r"values: expected finite values"):
            claims.check("small", [0.5, bad], below=1.0)
    assert issubclass(claims.ClaimFailed, AssertionError)


def test_check_refuses_malformed_claims():
    with pytest.raises(ValueError, match="expected a bound"):
        claims.check("no bound", [1.0])
    with pytest.raises(TypeError, match="statement: expected a non-empty str"):
        claims.check("", [1.0], above=0)
    with pytest.raises(TypeError, match="above: expected a real number or None"):
        claims.check("s", [1.0], above="0")
    with pytest.raises(ValueError, match="values: expected at least one value"):
        claims.check("s", [], above=0)


def test_over_seeds_runs_every_seed_and_reports_progress_without_numbers():
    lines = []
    out = claims.over_seeds(lambda s: s * 10, seeds=(0, 1, 2), label="toy", log=lines.append)
    assert out == [0, 10, 20]
    assert lines == ["toy: seed 1/3 done", "toy: seed 2/3 done", "toy: seed 3/3 done"]
    assert claims.over_seeds(lambda s: s, label="quiet", log=None) == list(claims.SEEDS)
    with pytest.raises(TypeError, match="run: expected a function"):
        claims.over_seeds(3)
    with pytest.raises(ValueError, match="seeds: expected a non-empty sequence"):
        claims.over_seeds(lambda s: s, seeds=(-1,))


def test_spread_gives_mean_min_max_over_seeds():
    s = claims.spread([[1.0, 4.0], [3.0, 2.0]])
    np.testing.assert_allclose(s.mean, [2.0, 3.0])
    np.testing.assert_allclose(s.min, [1.0, 2.0])
    np.testing.assert_allclose(s.max, [3.0, 4.0])
    with pytest.raises(ValueError, match="expected at least one seed"):
        claims.spread(np.zeros((0, 2)))


# --- Tests that catch bugs (issue 14): each kills mutants that survived the tests above. ---

@pytest.mark.parametrize("values, above, below", [
    ([1.0], 1.0, None),            # strictly above: the bound itself breaks the claim
    ([2.0], None, 2.0),            # strictly below
    ([0.5, 1.5], 1.0, 2.0),        # one value below `above` while every value is below `below`
    ([1.5, 2.5], 1.0, 2.0),        # one value above `below` while every value is above `above`
])
def test_check_bounds_are_strict_and_both_apply(values, above, below):
    with pytest.raises(claims.ClaimFailed):
        claims.check("a claim", values, above=above, below=below)


def test_check_passes_values_strictly_inside_both_bounds():
    assert claims.check("inside", [1.01, 1.99], above=1.0, below=2.0) == "✓ inside (all 2 seeds)"
    assert claims.check("one", 1.5, above=1.0, below=2.0) == "✓ one"


def test_spread_over_a_one_dimensional_list_of_seeds_and_another_axis():
    s = claims.spread([1.0, 3.0, 8.0])
    assert (float(s.mean), float(s.min), float(s.max)) == (4.0, 1.0, 8.0)
    t = claims.spread([[1.0, 4.0], [3.0, 2.0]], axis=1)
    np.testing.assert_allclose(t.mean, [2.5, 2.5])
    np.testing.assert_allclose(t.max, [4.0, 3.0])


def test_spread_accepts_every_axis_of_values_and_no_other():
    values = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(claims.spread(values, axis=-2).mean, [1.5, 2.5, 3.5])   # -ndim is an axis
    with pytest.raises(ValueError, match="axis"):
        claims.spread(values, axis=2)


def test_check_refuses_equal_bounds_and_values_that_are_not_real_numbers():
    with pytest.raises(ValueError, match="above < below"):
        claims.check("a claim", [1.0], above=1.0, below=1.0)
    for bad in (None, "1.0", {"a": 1.0}, [True, False], np.array([1 + 1j]), [[1.0], [1.0, 2.0]]):
        with pytest.raises(TypeError, match="values: expected real numbers"):
            claims.check("a claim", bad, above=0.0)
    assert claims.check("ints count", [2, 3], above=1) == "✓ ints count (all 2 seeds)"
