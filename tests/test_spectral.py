"""Chapter 3 helpers: matrix families, power norms and their bounds, SVD powers, gradient norms."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from differences import finite_difference
from recurrent import bptt, rnn, spectral


@pytest.mark.parametrize("family", spectral.FAMILIES)
@pytest.mark.parametrize("rho", [0.5, 1.0, 1.7])
def test_matrix_families_have_the_requested_spectral_radius(family, rho):
    W = spectral.matrix(family, 32, rho, rng=1)
    assert spectral.spectral_radius(W) == pytest.approx(rho, rel=1e-10)
    s = np.linalg.svd(W, compute_uv=False)
    if family == "orthogonal":
        np.testing.assert_allclose(s, rho, rtol=1e-10)
    if family == "symmetric":
        np.testing.assert_allclose(W, W.T)
        np.testing.assert_allclose(np.sort(s), np.sort(np.abs(np.linalg.eigvalsh(W))), rtol=1e-10)
    if family == "gaussian":
        assert s[0] > 1.3 * rho                     # non-normal: sigma_max well above rho


@given(seed=st.integers(0, 10**6), d=st.integers(2, 8), rho=st.floats(0.3, 1.5))
def test_power_norms_lie_between_the_bounds(seed, d, rho):
    W = spectral.matrix("gaussian", d, rho, rng=seed)
    r = spectral.power_norms(W, 30)
    assert r.norm[0] == 1.0
    assert np.all(r.rho_t <= r.norm * (1 + 1e-9) + 1e-300)
    assert np.all(r.norm <= r.sigma_t * (1 + 1e-9))


def test_gelfand_formula_converges_to_the_spectral_radius():
    W = spectral.matrix("gaussian", 6, 0.8, rng=3)
    g = spectral.power_norms(W, 400).gelfand
    assert abs(g[400] - 0.8) < abs(g[5] - 0.8) and abs(g[400] - 0.8) < 0.02


@pytest.mark.parametrize("c", [0.5, 0.9, 1.3])
def test_gelfand_root_is_the_t_th_root_of_the_t_th_power(c):
    # W = c I: ||W^t|| = c^t exactly, so ||W^t||^(1/t) = c at every t >= 1 (a root of t + 1 or t - 1 is not)
    r = spectral.power_norms(c * np.eye(3), 12)
    assert np.isnan(r.gelfand[0])
    np.testing.assert_allclose(r.gelfand[1:], c, rtol=1e-12)
    W = spectral.matrix("gaussian", 5, 1.1, rng=2)
    r = spectral.power_norms(W, 9)
    np.testing.assert_allclose(r.gelfand[1:], r.norm[1:] ** (1.0 / np.arange(1, 10)), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_orthogonal_family_is_the_qr_factor_with_a_positive_triangle(seed):
    # The Haar sign fix: W / rho = Q diag(sign R_ii) for A = Q R, so (W / rho)^T A is upper triangular with
    # a positive diagonal (numpy's own Q leaves about half of those diagonal entries negative).
    d, rho = 6, 1.3
    A = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(d), (d, d))   # the draw inside matrix()
    R = (spectral.matrix("orthogonal", d, rho, rng=seed) / rho).T @ A
    np.testing.assert_allclose(np.tril(R, -1), 0.0, atol=1e-12)
    assert np.all(np.diag(R) > 0)
    _, R_numpy = np.linalg.qr(A)
    np.testing.assert_allclose(np.abs(np.diag(R)), np.abs(np.diag(R_numpy)), rtol=1e-12)


def test_gradient_norms_at_init_is_gradient_norms_of_the_drawn_matrix():
    r = spectral.gradient_norms_at_init(rho=1.1, family="symmetric", activation="linear", d=8, T=20, seed=3)
    direct = spectral.gradient_norms(spectral.matrix("symmetric", 8, 1.1, rng=3), 20, "linear", 0.1, rng=4)
    np.testing.assert_array_equal(r.norm, direct.norm)
    assert (r.rho, r.family, r.T, r.activation) == (1.1, "symmetric", 20, "linear")
    assert isinstance(r, spectral.GradientNorms)


def test_nonnormal_matrix_grows_before_it_decays():
    r = spectral.power_norms(spectral.nonnormal(0.9, 5.0), 200)
    assert r.norm.max() > 10 and r.norm[200] < 1e-2
    assert spectral.spectral_radius(spectral.nonnormal(0.9, 5.0)) == pytest.approx(0.9)


def test_svd_power_equals_the_matrix_power_only_for_symmetric_psd_matrices():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 5))
    spd = A @ A.T / 5
    np.testing.assert_allclose(spectral.svd_power(spd, 3), np.linalg.matrix_power(spd, 3), atol=1e-12)
    sym = (A + A.T) / 2                                  # has negative eigenvalues
    assert np.abs(spectral.svd_power(sym, 2) - sym @ sym).max() > 1e-3
    np.testing.assert_allclose(spectral.svd_power(sym, 1), sym, atol=1e-12)   # t = 1 is always exact
    assert np.abs(spectral.svd_power(A, 3) - np.linalg.matrix_power(A, 3)).max() > 1e-3


def test_gradient_norms_linear_with_zero_input_equal_transposed_powers():
    W = spectral.matrix("gaussian", 8, 1.1, rng=2)
    r = spectral.gradient_norms(W, 12, "linear", input_scale=0.0, rng=5)
    rng = np.random.default_rng(5)                       # the same draws as inside: u first, then g
    rng.normal(0.0, 0.0, (12, 8))
    g = rng.normal(size=8)
    g /= np.linalg.norm(g)
    for k in (0, 5, 12):
        expected = np.linalg.norm(np.linalg.matrix_power(W.T, 12 - k) @ g)
        assert r.norm[k] == pytest.approx(expected, rel=1e-10)


def test_gradient_norms_agree_with_bptt_through_the_same_tanh_network():
    W = spectral.matrix("orthogonal", 6, 1.2, rng=4)
    T = 15
    r = spectral.gradient_norms(W, T, "tanh", input_scale=0.3, rng=7)
    rng = np.random.default_rng(7)
    u = rng.normal(0.0, 0.3, (T, 6))
    g = rng.normal(size=6)
    g /= np.linalg.norm(g)
    # the same network written as the book's RNN: U = I, inputs x_t = u_t
    p = rnn.Params(U=np.eye(6), W=W, V=np.zeros((1, 6)), b=np.zeros(6), c=np.zeros(1))
    xs = u[:, None, :]
    fwd = rnn.forward(p, xs)
    dh0 = bptt.backward(p, xs, fwd, np.zeros((T, 1, 1)), d_hT=g[None]).d_h0
    assert r.norm[0] == pytest.approx(np.linalg.norm(dh0), rel=1e-10)


@pytest.mark.parametrize("activation", spectral.ACTIVATIONS)
def test_gradient_never_exceeds_the_sigma_max_bound(activation):
    for rho in (0.5, 1.0, 1.4):
        r = spectral.gradient_norms(spectral.matrix("gaussian", 16, rho, rng=1), 40, activation,
                                    input_scale=0.5)
        assert np.all(r.norm <= r.sigma_bound * (1 + 1e-9))


def test_vanishing_below_one_and_explosion_possible_above():
    small = spectral.gradient_norms_at_init(rho=0.8, family="orthogonal", activation="tanh")   # sigma_max 0.8
    assert small.norm[0] < 0.8 ** 100 * 1.0001
    big = spectral.gradient_norms(spectral.matrix("orthogonal", 64, 1.2, rng=0), 100, "tanh", input_scale=0.0)
    assert big.norm[0] > 1e6                         # states stay at 0: the Jacobian is W itself
    saturated = spectral.gradient_norms(spectral.matrix("orthogonal", 64, 1.2, rng=0), 100, "tanh",
                                        input_scale=3.0)
    assert saturated.norm[0] < 1e-3                  # same W, saturated tanh: it vanishes instead


def test_step_jacobian_matches_central_differences_of_rnn_step():
    rng = np.random.default_rng(0)
    p = rnn.init_params(3, 5, 2, rng=rng)
    x, h_prev = rng.normal(size=(1, 3)), rng.normal(0, 0.5, (1, 5))
    h = rnn.step(p, x, h_prev)[0]
    eps = 1e-6
    numeric = np.stack([(rnn.step(p, x, h_prev + e) - rnn.step(p, x, h_prev - e))[0] / (2 * eps)
                        for e in eps * np.eye(5)], axis=1)
    assert bptt.relative_error(spectral.step_jacobian(p.W, h), numeric) < 1e-8


def test_explorer_is_fast_enough_for_a_slider():
    import time
    spectral.gradient_norms_at_init()
    start = time.perf_counter()
    for _ in range(5):
        spectral.gradient_norms_at_init(rho=1.3, family="symmetric")
    assert (time.perf_counter() - start) / 5 < 0.25     # generous: the budget (50 ms) is benchmarked


@pytest.mark.parametrize("call, message", [
    (lambda: spectral.matrix("hermitian", 4, 1.0), "family: expected one of"),
    (lambda: spectral.matrix("gaussian", 4, -1.0), "rho: expected a number > 0"),
    (lambda: spectral.spectral_radius(np.zeros((2, 3))), r"expected a square matrix \(d, d\)"),
    (lambda: spectral.gradient_norms(np.eye(3), 0), "T: expected an integer >= 1"),
    (lambda: spectral.gradient_norms(np.eye(3), 5, "relu"), "activation: expected one of"),
    (lambda: spectral.power_norms(np.full((2, 2), np.inf), 3), "W: expected finite values"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: spectral.matrix(None, 4, 1.0), "family: expected one of"),
    (lambda: spectral.matrix(["gaussian"], 4, 1.0), "family: expected one of"),
    (lambda: spectral.nonnormal(0.9, "5"), "a: expected a finite real number"),
    (lambda: spectral.gradient_norms(np.eye(3), 2.0), "T: expected an integer"),
    (lambda: spectral.gradient_norms_at_init(seed=1.5), "seed: expected an integer"),
    (lambda: spectral.gradient_norms_at_init(activation=1), "activation: expected one of"),
])
def test_wrong_types_raise_a_type_error_naming_the_argument(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_nonfinite_values_raise_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match="a: expected a finite number"):
        spectral.nonnormal(0.9, np.nan)


# --- normal matrices and the free run from near the fixed point 0 (issue 12) ------------------------

@pytest.mark.parametrize("d", [2, 5, 8])
@pytest.mark.parametrize("seed", [0, 3])
def test_normal_matrix_is_normal_with_the_requested_radius_and_its_moduli_as_singular_values(d, seed):
    W = spectral.normal(d, 0.9, rng=seed)
    np.testing.assert_allclose(W @ W.T, W.T @ W, atol=1e-13)
    assert spectral.normality_defect(W) < 1e-13
    assert spectral.spectral_radius(W) == pytest.approx(0.9, rel=1e-12)
    s = np.linalg.svd(W, compute_uv=False)
    np.testing.assert_allclose(np.sort(s), np.sort(np.abs(np.linalg.eigvals(W))), rtol=1e-10)
    assert s[0] == pytest.approx(0.9, rel=1e-12)
    assert not np.allclose(W, W.T)                         # neither symmetric ...
    if d > 2:
        assert s[0] - s[-1] > 1e-3                         # ... nor a multiple of an orthogonal matrix


@pytest.mark.parametrize("W", [
    spectral.normal(6, 0.9, rng=1), spectral.matrix("symmetric", 6, 1.1, rng=2),
    spectral.matrix("orthogonal", 6, 0.9, rng=3),
])
def test_powers_of_a_normal_matrix_have_norm_sigma_max_to_the_t(W):
    r = spectral.power_norms(W, 50)
    np.testing.assert_allclose(r.norm / r.sigma_t, 1.0, atol=1e-12)
    np.testing.assert_allclose(r.rho_t, r.sigma_t, rtol=1e-12)


def test_normality_defect_is_large_for_non_normal_matrices_and_refuses_zero():
    assert spectral.normality_defect(spectral.nonnormal(0.9, 5.0)) > 0.5
    assert spectral.normality_defect(spectral.matrix("gaussian", 16, 0.9, rng=0)) > 0.05
    assert spectral.normality_defect(np.array([[1.0, 1.0], [0.0, 1.0]])) == pytest.approx(
        np.sqrt(2.0) / 3.0)                                # [[1, 1], [0, 1]]: ||[[1, 0], [0, -1]]|| / 3
    with pytest.raises(ValueError, match="W: expected a matrix that is not all zero"):
        spectral.normality_defect(np.zeros((3, 3)))


def test_free_run_iterates_tanh_of_W_h_and_stays_at_zero_from_zero():
    W = spectral.matrix("orthogonal", 8, 1.2, rng=0)
    h0 = np.linspace(-0.1, 0.1, 8)
    r = spectral.free_run(W, h0, 6)
    np.testing.assert_array_equal(r.states[0], h0)
    for t in range(1, 7):
        np.testing.assert_allclose(r.states[t], np.tanh(W @ r.states[t - 1]), rtol=1e-15)
    np.testing.assert_allclose(r.norm, np.linalg.norm(r.states, axis=1))
    zero = spectral.free_run(W, np.zeros(8), 50)
    assert np.all(zero.norm == 0.0)
    # at h = 0 every tanh' is 1: the gradient is pushed back by W^T alone, ||W^T g|| = 1.2 ||g||
    np.testing.assert_allclose(zero.grad, 1.2 ** (50 - zero.t), rtol=1e-12)


def test_free_run_gradient_matches_central_differences_of_the_t_fold_map():
    W = spectral.matrix("gaussian", 4, 1.3, rng=5)
    h0, T = np.array([0.3, -0.2, 0.5, 0.1]), 7
    r = spectral.free_run(W, h0, T, rng=2)
    g = np.random.default_rng(2).normal(size=4)             # the direction free_run draws
    g /= np.linalg.norm(g)

    def final(h):
        for _ in range(T):
            h = np.tanh(W @ h)
        return g @ h

    numeric = finite_difference(final, h0, eps=1e-6)
    assert bptt.relative_error(np.linalg.norm(numeric), r.grad[0]) < 1e-7
    assert r.grad[T] == 1.0


def test_a_state_near_the_unstable_fixed_point_grows_by_rho_per_step_then_saturates():
    W = spectral.matrix("orthogonal", 16, 1.2, rng=0)
    h0 = np.full(16, 1e-8 / 4.0)                            # ||h0|| = 1e-8
    r = spectral.free_run(W, h0, 300)
    np.testing.assert_allclose(r.norm[:40], 1e-8 * 1.2 ** np.arange(40), rtol=1e-9)
    escape = int(np.argmax(r.norm > 0.5))
    assert 95 <= escape <= 100                              # log(0.5 / 1e-8) / log 1.2 = 97.2
    assert np.all(r.norm[escape:] < np.sqrt(16)) and r.norm[-1] > 0.5


def test_free_run_refuses_a_start_of_the_wrong_shape():
    with pytest.raises(ValueError, match="h0"):
        spectral.free_run(np.eye(3), np.zeros(4), 5)
    with pytest.raises(TypeError, match="T: expected an integer"):
        spectral.free_run(np.eye(3), np.zeros(3), 5.0)
