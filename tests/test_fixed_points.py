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
