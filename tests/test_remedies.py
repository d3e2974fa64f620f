"""Chapter 5 helpers: the cliff model and its gradient, clipping, lags, copy task, ReLU gradients."""
import numpy as np
import pytest

from recurrent import bptt, remedies, rnn, tasks


@pytest.mark.parametrize("w, b", [(6.0, -2.0), (3.0, -1.0), (5.0, -2.6), (8.0, -4.5)])
def test_cliff_gradient_matches_central_differences(w, b):
    loss, g = remedies.cliff_grad(w, b)
    eps = 1e-6
    numeric = np.array([(remedies.cliff_loss(w + eps, b) - remedies.cliff_loss(w - eps, b)) / (2 * eps),
                        (remedies.cliff_loss(w, b + eps) - remedies.cliff_loss(w, b - eps)) / (2 * eps)])
    assert loss == pytest.approx(float(remedies.cliff_loss(w, b)))
    assert bptt.relative_error(g, numeric) < 1e-7


def test_cliff_loss_accepts_a_grid():
    W, B = np.meshgrid(np.linspace(0, 10, 7), np.linspace(-8, 2, 5))
    L = remedies.cliff_loss(W, B)
    assert L.shape == (5, 7)
    assert L[2, 3] == pytest.approx(float(remedies.cliff_loss(W[2, 3], B[2, 3])))


def test_the_cliff_is_steep_and_clipping_keeps_descent_local():
    free = remedies.descend((5.3, -3.8), lr=0.1, steps=150)
    clipped = remedies.descend((5.3, -3.8), lr=0.1, steps=150, clip=5.0)
    assert free["grad_norm"].max() > 1e3
    assert np.linalg.norm(np.diff(free["path"], axis=0), axis=1).max() > 100      # thrown far away
    assert np.linalg.norm(np.diff(clipped["path"], axis=0), axis=1).max() <= 0.5 + 1e-12
    assert clipped["loss"][-1] < 1e-3 and np.abs(clipped["path"][-1]).max() < 10


def test_clip_vector():
    g = np.array([3.0, -4.0])
    np.testing.assert_allclose(remedies.clip_vector(g, 1.0), [0.6, -0.8])
    np.testing.assert_allclose(remedies.clip_vector(g, 10.0), g)
    np.testing.assert_allclose(remedies.clip_vector(g, 1.0, "value"), [1.0, -1.0])
    with pytest.raises(ValueError, match="how: expected one of"):
        remedies.clip_vector(g, 1.0, "max")


def test_reversal_lags():
    np.testing.assert_array_equal(remedies.reversal_lags(4, False), [4, 4, 4, 4])
    np.testing.assert_array_equal(remedies.reversal_lags(4, True), [1, 3, 5, 7])
    for S in (1, 5, 20):
        assert remedies.reversal_lags(S, True).mean() == remedies.reversal_lags(S, False).mean() == S


def test_copy_task_layout():
    x, y, m = tasks.copy_task(S=3, episodes=2, B=4, k=5, rng=0)
    assert x.shape == y.shape == m.shape == (12, 4)
    np.testing.assert_array_equal(y[3:6], x[0:3])
    assert (x[3:6] == 0).all() and m[:3].sum() == 0 and m[3:6].min() == 1
    xr, yr, _ = tasks.copy_task(S=3, episodes=2, B=4, k=5, reverse=True, rng=0)
    np.testing.assert_array_equal(xr[0:3], x[0:3][::-1])
    np.testing.assert_array_equal(yr, y)


def test_copy_accuracy_of_a_perfect_and_of_a_blind_model():
    x, y, _ = tasks.copy_task(S=2, episodes=3, B=2, k=3, rng=0)
    p = rnn.init_params(4, 5, 4, rng=0)
    p.V[:] = 0.0
    p.c[:] = [0.0, 1.0, 0.0, 0.0]                        # always predicts token 1
    acc = remedies.copy_accuracy(p, x, y, S=2)
    np.testing.assert_allclose(acc, [(y[2::4] == 1).mean(), (y[3::4] == 1).mean()])
    with pytest.raises(ValueError, match="multiple of 2S"):
        remedies.copy_accuracy(p, x[:5], y[:5], S=2)


def test_irnn_keeps_gradient_only_through_units_that_stay_active():
    r = remedies.relu_gradient_norms(np.eye(32), 100, input_scale=1.0, rng=0)
    assert r["norm"][100] == 1.0 and r["norm"][0] < 1.0
    # with W = I, coordinate i of the gradient survives exactly when unit i stayed active throughout
    np.testing.assert_array_equal(r["norm"] > 0, r["alive"] > 0)
    assert r["alive"][0] < 0.2
    assert np.all(np.diff(r["alive"]) >= 0)
    assert 0.5 < r["active"].mean() < 1.0
