"""Chapter 4's 2-D fixed points and the refusals the issue lists for fixed_points (H2's tests; the 1-D map
tests are in test_fixed_points.py)."""
import numpy as np
import pytest

from recurrent import fixed_points as fp
from recurrent import fixed_points_2d as f2


def numeric_jacobian(W, b, h, eps=1e-6):
    """Central differences of the map h -> tanh(W h + b), column by column."""
    f = lambda v: np.tanh(W @ v + b)
    return np.stack([(f(h + e) - f(h - e)) / (2 * eps) for e in eps * np.eye(2)], axis=1)


@pytest.mark.parametrize("W, b", [
    ([[1.5, 0.0], [0.0, 0.5]], [0.0, 0.0]),
    ([[2.0, 0.3], [-0.4, 1.8]], [0.1, -0.2]),
    ([[0.9, -0.6], [0.6, 0.9]], [0.05, 0.0]),
])
def test_eigenvalues_are_those_of_the_jacobian_of_the_map_at_each_fixed_point(W, b):
    W, b = np.array(W), np.array(b)
    points = fp.fixed_points_2d(W, b)
    assert points
    for p in points:
        assert isinstance(p, fp.FixedPoint2D)
        np.testing.assert_allclose(np.tanh(W @ p.h + b), p.h, atol=1e-12)
        J = numeric_jacobian(W, b, p.h)                     # diag(1 - h*^2) W, not diag(1 - h*) W
        expected = np.sort_complex(np.linalg.eigvals(J))
        np.testing.assert_allclose(np.sort_complex(p.eigenvalues), expected, atol=1e-8)


def test_the_two_bit_map_has_nine_fixed_points_four_of_them_sinks():
    points = fp.fixed_points_2d(2.0 * np.eye(2), np.zeros(2), starts=200)
    assert len(points) == 9
    sinks = [p for p in points if np.all(np.abs(p.eigenvalues) < 1)]
    assert len(sinks) == 4 and all(np.all(np.abs(p.h) > 0.9) for p in sinks)


def test_a_degenerate_map_returns_its_one_fixed_point_instead_of_failing():
    # W = I, b = 0: h = tanh(h) only at h = 0, where the Newton system is singular
    (point,) = fp.fixed_points_2d(np.eye(2), np.zeros(2))
    np.testing.assert_allclose(point.h, 0.0, atol=1e-6)
    np.testing.assert_allclose(point.eigenvalues, [1.0, 1.0], atol=1e-12)     # neutral


def test_typed_results_carry_the_fields_a_figure_reads():
    m = fp.tanh_unit(1.5)
    p = fp.classify(m, fp.fixed_points(m)[0])
    assert isinstance(p, fp.FixedPoint) and p.kind == "sink" and p.slope == pytest.approx(m.df(p.x))
    r = fp.tanh_unit_trace(w=1.5, x0=0.05, steps=10)
    assert isinstance(r, fp.Trace) and r.orbit.shape == r.derivative.shape == (11,)
    assert [q.kind for q in r.fixed] == ["sink", "source", "sink"]
    d = fp.bifurcation(np.array([0.5, 2.0]))
    assert isinstance(d, fp.Bifurcation) and list(d.kind).count("sink") == 3


@pytest.mark.parametrize("call, error, message", [
    (lambda: fp.classify(fp.logistic(3.5), np.nan), ValueError, "x_star: expected a finite number"),
    (lambda: fp.classify(fp.logistic(3.5), "0.5"), TypeError, "x_star: expected a finite real number"),
    (lambda: fp.classify("logistic", 0.5), TypeError, "m: expected a fixed_points.Map"),
    (lambda: fp.attracting_cycle(fp.logistic(3.5), 0.2, tol=np.inf), ValueError, "tol: expected a finite"),
    (lambda: fp.attracting_cycle(fp.logistic(3.5), 0.2, tol=2.0), ValueError, "tol: expected a tolerance"),
    (lambda: fp.attracting_cycle(fp.logistic(3.5), 0.2, burn=-1), ValueError, "burn: expected an integer"),
    (lambda: fp.orbit(fp.logistic(3.5), np.inf, 3), ValueError, "x0: expected a finite number"),
    (lambda: fp.fixed_points_2d(np.eye(2), np.zeros(3)), ValueError, "b: expected shape"),
    (lambda: fp.chaos_onset(lo=3.6, hi=3.5), ValueError, "lo, hi: expected 0 < lo < hi <= 4"),
    (lambda: fp.bifurcation("w"), TypeError, "ws:"),
])
def test_bad_input_is_refused_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the phase portrait and the attracting closed curve (recurrent.fixed_points_2d) -------------------


ROTATION_LIKE = np.array([[0.9, -0.6], [0.6, 0.9]])          # the chapter's W: 1.0817 R(33.7 degrees)
INSIDE_AND_OUTSIDE = np.array([[0.02, 0.0], [0.0, -0.1], [0.95, 0.95], [-0.95, 0.6], [0.3, -0.95]])


def test_rotation_scaling_has_eigenvalues_a_e_to_the_plus_minus_i_theta():
    W = f2.rotation_scaling(1.3, 0.7)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(W)),
                               np.sort_complex(1.3 * np.exp([-0.7j, 0.7j])), atol=1e-14)
    np.testing.assert_allclose(f2.rotation_scaling(np.hypot(0.9, 0.6), np.arctan2(0.6, 0.9)),
                               ROTATION_LIKE, atol=1e-15)


def test_orbit_2d_iterates_the_map():
    b = np.array([0.1, -0.2])
    hs = f2.orbit_2d(ROTATION_LIKE, b, [0.3, 0.4], 5)
    assert hs.shape == (6, 2)
    np.testing.assert_array_equal(hs[0], [0.3, 0.4])
    for t in range(1, 6):
        np.testing.assert_allclose(hs[t], np.tanh(ROTATION_LIKE @ hs[t - 1] + b), rtol=1e-15)


def test_orbits_from_inside_and_outside_settle_on_one_closed_curve_around_the_source():
    (zero,) = fp.fixed_points_2d(ROTATION_LIKE, np.zeros(2))
    assert f2.kind(zero) == "source" and np.all(np.abs(zero.eigenvalues.imag) > 0.5)
    band = f2.radius_band(ROTATION_LIKE, np.zeros(2), INSIDE_AND_OUTSIDE)
    np.testing.assert_allclose(band, np.tile(band[0], (5, 1)), atol=1e-6)   # one band from every start
    lo, hi = band[0]
    assert 0.5 < lo < hi < 0.56 and hi - lo > 0.01                 # a curve, not a circle or a point
    # a periodic orbit would return close to its start; this one fills the curve (quasi-periodic)
    late = f2.orbit_2d(ROTATION_LIKE, np.zeros(2), INSIDE_AND_OUTSIDE[0], 3000)[2000:]
    returns = [np.abs(late[p:] - late[:-p]).max() for p in range(1, 200)]
    assert min(returns) > 1e-3


def test_the_curve_is_born_at_a_equals_one_with_the_cubic_radius():
    starts = INSIDE_AND_OUTSIDE[:2]
    below = f2.radius_band(f2.rotation_scaling(0.95, 0.6), np.zeros(2), starts)
    assert np.all(below < 1e-12)                                   # a sink: every orbit goes to 0
    for a in (1.01, 1.03):
        lo, hi = f2.radius_band(f2.rotation_scaling(a, 0.6), np.zeros(2), starts, burn=20000)[0]
        assert abs((lo + hi) / 2 / f2.cubic_radius(a) - 1) < 0.03  # exact as a -> 1
    assert np.isnan(f2.cubic_radius(1.0)) and f2.cubic_radius(1.25) == pytest.approx(1.6 * np.sqrt(0.2))


def test_phase_portrait_collects_what_the_figure_draws():
    pp = f2.phase_portrait(ROTATION_LIKE, np.zeros(2), INSIDE_AND_OUTSIDE, steps=10, grid=5)
    assert pp.orbits.shape == (5, 11, 2) and pp.step.shape == (5, 5, 2)
    h = np.array([pp.x[3], pp.y[1]])
    np.testing.assert_allclose(pp.step[1, 3], np.tanh(ROTATION_LIKE @ h) - h)
    angles = np.arctan2(pp.curve[:, 1], pp.curve[:, 0])
    assert np.all(np.diff(angles) >= 0)
    r = np.linalg.norm(pp.curve, axis=1)
    assert r.min() >= pp.band[0, 0] - 1e-12 and r.max() <= pp.band[0, 1] + 1e-12
    assert np.abs(np.diff(r)).max() < 1e-3                         # neighbours in angle: a smooth curve
    assert [f2.kind(p) for p in pp.fixed] == ["source"]


def test_kind_names_sinks_sources_and_saddles():
    kinds = {f2.kind(p) for p in fp.fixed_points_2d([[1.5, 0.0], [0.0, 0.5]], [0.0, 0.0])}
    assert kinds == {"sink", "saddle"}
    with pytest.raises(TypeError, match="point: expected a fixed_points.FixedPoint2D"):
        f2.kind((0.0, 0.0))


@pytest.mark.parametrize("call, error, message", [
    (lambda: f2.orbit_2d(np.eye(3), np.zeros(2), np.zeros(2), 3), ValueError, r"W: .*\(2, 2\)"),
    (lambda: f2.orbit_2d(np.eye(2), np.zeros(2), [0.1], 3), ValueError, "h0"),
    (lambda: f2.radius_band(np.eye(2), np.zeros(2), np.zeros((3, 3))), ValueError, r"starts: expected shape"),
    (lambda: f2.radius_band(np.eye(2), np.zeros(2), np.zeros((1, 2)), burn=-1), ValueError, "burn"),
    (lambda: f2.rotation_scaling(-1.0, 0.3), ValueError, "a: expected a number > 0"),
    (lambda: f2.cubic_radius([1.2, 0.0]), ValueError, "a: expected moduli > 0"),
    (lambda: f2.phase_portrait(np.eye(2), np.zeros(2), np.zeros((1, 2)), grid=1), ValueError, "grid"),
    (lambda: f2.phase_portrait(np.eye(2), np.zeros(2), np.zeros((1, 2)), steps=2.0), TypeError, "steps"),
])
def test_refusals_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_phase_portrait_figure_draws_the_curve_and_refuses_other_results():
    import matplotlib.pyplot as plt

    from recurrent import plots
    pp = f2.phase_portrait(ROTATION_LIKE, np.zeros(2), INSIDE_AND_OUTSIDE, steps=10, grid=5)
    fig = plots.phase_portrait(pp, "a title")
    left, right = fig.axes
    assert left.get_xlabel() == "$h_1$" and right.get_ylabel() == r"$\Vert h_t \Vert$"
    assert any(len(line.get_xdata()) == len(pp.curve) + 1 for line in left.lines)
    plt.close(fig)
    with pytest.raises(TypeError, match="result: expected a result with fields"):
        plots.phase_portrait({"x": [0.0]}, "a title")
