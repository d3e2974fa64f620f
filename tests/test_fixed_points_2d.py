"""Chapter 4's 2-D fixed points and the refusals the issue lists for fixed_points (H2's tests; the 1-D map
tests are in test_fixed_points.py)."""
import numpy as np
import pytest

from recurrent import fixed_points as fp


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
