"""Chapter 4 helpers: maps, orbits, fixed points and their classification, t-fold derivatives."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import fixed_points as fp


def test_logistic_3_5_settles_on_an_attracting_4_cycle():
    m = fp.logistic(3.5)
    cycle = fp.attracting_cycle(m, 0.2)
    assert cycle is not None and len(cycle) == 4
    assert set(np.round([m.f(x) for x in cycle], 6)) == set(np.round(cycle, 6))   # f maps it onto itself
    multiplier = np.prod([m.df(x) for x in cycle])
    assert abs(multiplier) < 1                                                    # attracting


def test_logistic_fixed_points_and_their_kinds():
    m = fp.logistic(3.5)
    stars = fp.fixed_points(m)
    np.testing.assert_allclose(stars, [0.0, 1 - 1 / 3.5], atol=1e-12)
    inner = fp.classify(m, stars[1])
    assert inner.slope == pytest.approx(2 - 3.5) and inner.kind == "source" and inner.alternating


@given(c=st.floats(0.01, 0.24))
def test_quadratic_has_a_sink_below_a_source_at_the_closed_form(c):
    m = fp.quadratic(c)
    root = np.sqrt(1 - 4 * c)
    np.testing.assert_allclose(fp.fixed_points(m), [(1 - root) / 2, (1 + root) / 2], atol=1e-10)
    kinds = [fp.classify(m, x).kind for x in fp.fixed_points(m)]
    assert kinds == ["sink", "source"]


def test_t_fold_derivative_is_the_product_along_the_orbit_and_matches_differences():
    m = fp.tanh_unit(1.7, 0.1)
    d = fp.t_fold_derivative(m, 0.3, 12)
    xs = fp.orbit(m, 0.3, 12)
    assert d[0] == 1.0 and d[5] == pytest.approx(np.prod([m.df(x) for x in xs[:5]]))
    eps = 1e-6
    numeric = (fp.orbit(m, 0.3 + eps, 12) - fp.orbit(m, 0.3 - eps, 12)) / (2 * eps)
    np.testing.assert_allclose(d, numeric, rtol=1e-7, atol=1e-9)   # differences lose ~1e-10 absolute


def test_derivative_decays_in_a_sink_basin_and_grows_near_the_boundary():
    m = fp.quadratic(0.14)
    source = fp.fixed_points(m)[1]
    inside = fp.t_fold_derivative(m, 0.5, 60)
    assert inside[-1] < 1e-20
    near = fp.t_fold_derivative(m, source - 1e-9, 60)
    assert near.max() > 1e6                        # large while the orbit lingers at the source
    assert near[-1] < near.max() * 1e-6            # ... and it decays once the sink captures it


def test_tanh_unit_bifurcates_at_w_equal_one():
    assert len(fp.fixed_points(fp.tanh_unit(0.9))) == 1
    three = fp.fixed_points(fp.tanh_unit(1.5))
    assert len(three) == 3
    assert [fp.classify(fp.tanh_unit(1.5), x).kind for x in three] == ["sink", "source", "sink"]


def test_fixed_points_2d_and_jacobian_eigenvalues():
    W = np.array([[1.5, 0.0], [0.0, 0.5]])
    points = fp.fixed_points_2d(W, np.zeros(2))
    assert len(points) == 3
    origin = [p for p in points if np.abs(p.h).max() < 1e-12][0]
    np.testing.assert_allclose(sorted(origin.eigenvalues.real), [0.5, 1.5])
    for p in points:
        np.testing.assert_allclose(np.tanh(W @ p.h), p.h, atol=1e-12)


def test_tanh_unit_trace_result():
    r = fp.tanh_unit_trace(w=1.5, b=0.0, x0=0.05, steps=20)
    assert r.orbit.shape == (21,) and r.derivative.shape == (21,)
    assert [p.kind for p in r.fixed] == ["sink", "source", "sink"]


@pytest.mark.parametrize("call, message", [
    (lambda: fp.logistic(5.0), r"r: expected 0 < r <= 4"),
    (lambda: fp.logistic(-1.0), r"r: expected a number > 0"),
    (lambda: fp.tanh_unit(np.inf), "w: expected a finite number"),
    (lambda: fp.orbit(fp.logistic(2.0), 0.1, 0), "steps: expected an integer >= 1"),
    (lambda: fp.fixed_points(fp.logistic(2.0), 1.0, 0.0), "expected lo < hi"),
    (lambda: fp.fixed_points_2d(np.eye(3), np.zeros(2)), r"W: expected shape \(2, 2\)"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bifurcation_diagram_counts_and_symmetry():
    r = fp.bifurcation([0.5, 0.99, 1.01, 2.0])
    assert list(r.w).count(0.5) == 1 and list(r.w).count(2.0) == 3
    outer = r.h[(r.w == 2.0) & (r.kind == "sink")]
    np.testing.assert_allclose(outer, [-outer[1], outer[1]])
    np.testing.assert_allclose(np.tanh(2.0 * outer), outer, atol=1e-12)


def test_lyapunov_exponent_is_the_growth_rate_of_the_t_fold_derivative():
    r, steps = 3.7, 400
    m = fp.logistic(r)
    x0 = fp.orbit(m, 0.2, 1000)[-1]                        # start on the attractor, as burn=1000 does
    d = fp.t_fold_derivative(m, x0, steps)
    lam = fp.logistic_lyapunov(np.array([r]), x0=0.2, burn=1000, steps=steps)[0]
    np.testing.assert_allclose(lam, np.log(np.abs(d[steps])) / steps, rtol=1e-9)


def test_lyapunov_sign_separates_cycles_from_chaos():
    lam = fp.logistic_lyapunov(np.array([2.9, 3.2, 3.5, 3.7, 4.0]))
    assert (lam[:3] < 0).all() and (lam[3:] > 0).all()
    np.testing.assert_allclose(lam[-1], np.log(2), atol=0.02)           # r = 4: exactly log 2
    assert abs(fp.chaos_onset() - 3.5699456) < 2e-3                    # the Feigenbaum point


def test_lyapunov_and_chaos_onset_refuse_bad_input():
    with pytest.raises(ValueError, match="rs: expected values in"):
        fp.logistic_lyapunov(np.array([4.5]))
    with pytest.raises(ValueError, match="no chaotic r"):
        fp.chaos_onset(lo=2.5, hi=3.0, step=0.1)


# --- Tests that catch bugs (issue 14): each kills mutants that survived the tests above. ---

def _numerical_jacobian(W, b, h, eps=1e-6):
    """Central differences of h -> tanh(W h + b), column by column."""
    cols = [(np.tanh(W @ (h + e) + b) - np.tanh(W @ (h - e) + b)) / (2 * eps) for e in eps * np.eye(2)]
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("W, b", [
    (np.array([[1.5, 0.0], [0.0, 0.5]]), np.zeros(2)),                   # three points, two away from 0
    (np.array([[0.5, 0.2], [-0.1, 0.3]]), np.array([0.3, -0.2])),        # a contraction with a bias
    (np.array([[2.0, 0.4], [-0.3, 1.8]]), np.array([0.1, 0.05])),
])
def test_fixed_points_2d_eigenvalues_are_those_of_the_jacobian_of_the_map(W, b):
    """The eigenvalues belong to diag(1 - h*^2) W (not 1 - h*, nor a cube), the derivative of the map."""
    points = fp.fixed_points_2d(W, b)
    assert points
    for p in points:
        np.testing.assert_allclose(np.tanh(W @ p.h + b), p.h, atol=1e-12)       # h* = tanh(W h* + b)
        expected = np.linalg.eigvals(_numerical_jacobian(W, b, p.h))
        np.testing.assert_allclose(np.sort_complex(p.eigenvalues), np.sort_complex(expected), atol=1e-7)


def test_fixed_points_2d_of_a_decoupled_map_are_the_products_of_the_scalar_ones():
    """W = diag(w1, w2), b = 0 decouples: h* = (a, c) with a, c fixed points of the two scalar maps, and
    the eigenvalues are w1 (1 - a^2), w2 (1 - c^2). For w = 1.05 the points are +-0.3..., so sorting by
    the coordinates (not by rounded integers) orders them."""
    w1, w2 = 1.05, 0.6
    points = fp.fixed_points_2d(np.diag([w1, w2]), np.zeros(2))
    a = fp.fixed_points(fp.tanh_unit(w1))
    assert len(a) == 3 and 0.2 < a[2] < 0.5
    np.testing.assert_allclose([p.h for p in points], [[a[0], 0.0], [0.0, 0.0], [a[2], 0.0]], atol=1e-10)
    for p in points:
        np.testing.assert_allclose(sorted(p.eigenvalues.real), sorted([w1 * (1 - p.h[0] ** 2), w2]))
    four = fp.fixed_points_2d(1.05 * np.eye(2), np.zeros(2))
    keys = [tuple(np.round(p.h, 6)) for p in four]               # equal up to the last bits
    assert len(four) == 9 and keys == sorted(keys)


def test_classify_at_the_boundaries_of_the_kinds():
    """|f'| = 1 exactly is neutral, a slope of 0 or 1/2 does not alternate, -1 does."""
    at_one = fp.classify(fp.tanh_unit(1.0), 0.0)                       # f'(0) = w = 1
    assert (at_one.slope, at_one.kind, at_one.alternating) == (1.0, "neutral", False)
    at_minus_one = fp.classify(fp.tanh_unit(-1.0), 0.0)
    assert (at_minus_one.kind, at_minus_one.alternating) == ("neutral", True)
    flat = fp.classify(fp.logistic(2.0), 0.5)                           # f'(x) = 2 (1 - 2x) = 0
    assert (flat.slope, flat.kind, flat.alternating) == (0.0, "sink", False)
    half = fp.classify(fp.tanh_unit(0.5), 0.0)
    assert (half.kind, half.alternating) == ("sink", False)
    steep = fp.classify(fp.tanh_unit(2.0), 0.0)
    assert (steep.kind, steep.alternating) == ("source", False)


def test_maps_are_drawn_on_their_documented_intervals_and_named_by_their_parameters():
    for m, lo, hi, parameter in [(fp.logistic(3.5), 0.0, 1.0, "3.5"), (fp.quadratic(0.2), 0.0, 1.0, "0.2"),
                                 (fp.tanh_unit(1.5, 0.25), -1.0, 1.0, "0.25")]:
        assert (m.lo, m.hi) == (lo, hi) and isinstance(m.name, str) and parameter in m.name
    assert fp.fixed_points(fp.logistic(4.0)).tolist() == pytest.approx([0.0, 0.75])   # r = 4 is allowed


def test_orbits_that_escape_become_inf_or_nan_without_a_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xs = fp.orbit(fp.quadratic(1.0), 2.0, 20)                       # 2, 5, 26, 677, ... overflows
        assert np.isinf(xs[-1]) and np.isfinite(xs[:5]).all()
        d = fp.t_fold_derivative(fp.quadratic(1.0), 0.0, 20)            # f'(0) = 0, then 0 * inf
        assert d[1] == 0.0 and np.isnan(d[-1])
        awkward = fp.Map("2x² - x²", lambda x: 2 * x * x - x * x, lambda x: 2 * x, 0.0, 1.0)
        assert np.isnan(fp.orbit(awkward, 2.0, 20)[-1])                 # inf - inf once x² overflows


def test_fixed_points_honour_lo_hi_and_the_grid():
    m = fp.logistic(3.5)
    np.testing.assert_allclose(fp.fixed_points(m, lo=0.1), [1 - 1 / 3.5])
    np.testing.assert_allclose(fp.fixed_points(m, hi=0.5), [0.0])
    with pytest.raises(ValueError, match="expected lo < hi"):
        fp.fixed_points(m, 0.5, 0.5)
    # on the 3-point grid -1, 0, 1 only the exact root 0 is seen: f(h) - h has no sign change
    # between grid points (it is 0 at one end), so the outer sinks of tanh(1.5 h) are missed
    np.testing.assert_allclose(fp.fixed_points(fp.tanh_unit(1.5), grid=3), [0.0])
    with pytest.raises(ValueError, match="grid"):
        fp.fixed_points(m, grid=2)


def test_attracting_cycle_periods_one_and_max_period_and_none_for_chaos():
    cycle = fp.attracting_cycle(fp.logistic(2.5), 0.2)                 # the sink 1 - 1/r = 0.6
    np.testing.assert_allclose(cycle, [0.6], atol=1e-9)
    assert len(fp.attracting_cycle(fp.logistic(3.5), 0.2, max_period=4)) == 4
    assert fp.attracting_cycle(fp.logistic(4.0), 0.2, max_period=8) is None


def test_lyapunov_of_a_map_that_dies_out_is_log_r_and_r_must_be_in_0_4():
    """For r < 1 the orbit tends to the sink 0 where f'(0) = r, so lambda = log r."""
    np.testing.assert_allclose(fp.logistic_lyapunov([0.5, 0.9]), np.log([0.5, 0.9]), atol=1e-3)
    np.testing.assert_allclose(fp.logistic_lyapunov([0.5], burn=0, steps=3000), np.log(0.5), atol=1e-3)
    for bad in ([0.0], [-1.0], [4.5], [[3.0]]):
        with pytest.raises(ValueError, match="rs"):
            fp.logistic_lyapunov(bad)


def test_chaos_onset_includes_hi_and_not_beyond():
    """lambda(3.56) < 0 < lambda(3.60) (period 8, then chaos): on the grid {3.56, 3.60} the onset is
    hi itself; on {3.52, 3.56} there is none, even though 3.60 (past hi) is chaotic."""
    lam = fp.logistic_lyapunov([3.52, 3.56, 3.60])
    assert lam[0] < 0 and lam[1] < 0 and lam[2] > 0.1
    assert fp.chaos_onset(lo=3.56, hi=3.60, step=0.04) == pytest.approx(3.60)
    with pytest.raises(ValueError, match="no chaotic r"):
        fp.chaos_onset(lo=3.52, hi=3.56, step=0.04)


def test_bifurcation_uses_the_bias_and_records_the_slope_at_each_point():
    r = fp.bifurcation([0.5, 2.0], b=0.5)
    np.testing.assert_allclose(np.tanh(r.w * r.h + 0.5), r.h, atol=1e-12)
    np.testing.assert_allclose(r.slope, r.w * (1 - r.h ** 2), atol=1e-12)


def test_trace_grid_spans_the_map_interval_and_holds_f_on_it():
    m = fp.logistic(3.2)
    r = fp.trace(m, 0.3)
    assert r.grid.shape == (401,) and (r.grid[0], r.grid[-1]) == (0.0, 1.0)
    np.testing.assert_allclose(r.f, m.f(r.grid))
    assert r.orbit.shape == (31,) and r.x0 == 0.3
    default = fp.tanh_unit_trace()
    assert default.orbit[0] == 0.05 and default.orbit.shape == (31,) and "1.5" in default.map
    np.testing.assert_allclose(default.orbit[1], np.tanh(1.5 * 0.05))
    biased = fp.tanh_unit_trace(w=0.5, b=0.2, x0=0.1, steps=3)
    np.testing.assert_allclose(biased.orbit[1], np.tanh(0.5 * 0.1 + 0.2))


def test_attracting_cycle_accepts_no_burn_in_and_refuses_tolerances_of_one_and_above():
    m = fp.logistic(2.5)
    assert fp.attracting_cycle(fp.logistic(2.5), 0.6, burn=0) is not None   # 0.6 is the fixed point itself
    for tol in (1.0, 1.5):
        with pytest.raises(ValueError, match="tol"):
            fp.attracting_cycle(m, 0.2, tol=tol)


def test_chaos_onset_range_limits():
    assert 3.56 < fp.chaos_onset(lo=0.5, hi=3.6, step=0.01) < 3.6          # any 0 < lo is allowed
    assert fp.chaos_onset(lo=3.9, hi=4.0, step=0.05) == pytest.approx(3.9)  # hi = 4 is allowed
    assert 3.59 <= fp.chaos_onset(lo=3.59, hi=3.6, step=1e-6, tol=0.0) <= 3.6   # 1e4 points, tol = 0
    for lo, hi in ((0.0, 3.6), (3.5, 3.5), (3.5, 4.5)):
        with pytest.raises(ValueError, match="lo, hi"):
            fp.chaos_onset(lo=lo, hi=hi)
    with pytest.raises(ValueError, match="step"):
        fp.chaos_onset(lo=3.5, hi=3.6, step=1e-8)                           # 1e7 grid points


def test_lyapunov_exponent_is_minus_infinity_at_a_superstable_point_without_a_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lam = fp.logistic_lyapunov([2.0], x0=0.5, burn=0, steps=10)        # f'(1/2) = 0 exactly
    assert lam[0] == -np.inf


def test_bifurcation_refuses_a_two_dimensional_ws():
    with pytest.raises(ValueError, match="ws"):
        fp.bifurcation([[0.5, 2.0]])


def test_a_map_refuses_what_is_not_a_map():
    good = dict(name="x/2", f=lambda x: x / 2, df=lambda x: 0.5, lo=0.0, hi=1.0)
    fp.Map(**good)
    for field, bad, error in [("name", None, TypeError), ("name", "", TypeError), ("f", 3, TypeError),
                              ("df", "x", TypeError), ("lo", np.nan, ValueError), ("hi", "1", TypeError),
                              ("hi", -1.0, ValueError), ("lo", True, TypeError)]:
        with pytest.raises(error, match=rf"^({field}|lo, hi):"):
            fp.Map(**(good | {field: bad}))
