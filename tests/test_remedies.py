"""Chapter 5 helpers: the cliff model and its gradient, clipping, lags, copy task, ReLU gradients."""
import numpy as np
import pytest

from recurrent import bptt, losses, remedies, rnn, tasks, vanishing


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
    assert free.grad_norm.max() > 1e3
    assert np.linalg.norm(np.diff(free.path, axis=0), axis=1).max() > 100      # thrown far away
    assert np.linalg.norm(np.diff(clipped.path, axis=0), axis=1).max() <= 0.5 + 1e-12
    assert clipped.loss[-1] < 1e-3 and np.abs(clipped.path[-1]).max() < 10


def test_descend_records_the_raw_gradient_norm_before_clipping():
    clipped = remedies.descend((5.3, -3.8), lr=0.1, steps=60, clip=1.0)
    raw = np.array([np.linalg.norm(remedies.cliff_grad(*theta)[1]) for theta in clipped.path[:-1]])
    np.testing.assert_allclose(clipped.grad_norm, raw, rtol=1e-12)
    assert clipped.grad_norm.max() > 10                      # far above the threshold: not the clipped norm
    steps = np.linalg.norm(np.diff(clipped.path, axis=0), axis=1)
    np.testing.assert_allclose(steps, 0.1 * np.minimum(raw, 1.0), rtol=1e-9)
    np.testing.assert_allclose(clipped.loss, [remedies.cliff_grad(*t)[0] for t in clipped.path], rtol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: remedies.descend((5.3, -3.8), 0.1, 5, clip=-1.0), ValueError, "clip: expected a number > 0"),
    (lambda: remedies.descend((5.3, -3.8), 0.1, 5, clip="5"), TypeError, "clip: expected a finite real"),
    (lambda: remedies.descend((5.3, -3.8), 0.1, 5, how="max"), ValueError, "how: expected one of"),
    (lambda: remedies.descend_many(np.zeros((2, 2)), 0.1, 5, clip=np.inf), ValueError, "clip: expected"),
    (lambda: remedies.cliff_from_starts(-1), ValueError, "seed: expected an integer >= 0"),
    (lambda: vanishing.reversal_lags(3, 1), TypeError, "reverse: expected True or False"),
    (lambda: vanishing.relu_gradient_norms(np.ones((2, 3)), 5), ValueError, "W: expected a square matrix"),
    (lambda: vanishing.memory_ratios(0, T=0), ValueError, "T: expected an integer >= 1"),
])
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_clip_vector():
    g = np.array([3.0, -4.0])
    np.testing.assert_allclose(remedies.clip_vector(g, 1.0), [0.6, -0.8])
    np.testing.assert_allclose(remedies.clip_vector(g, 10.0), g)
    np.testing.assert_allclose(remedies.clip_vector(g, 1.0, "value"), [1.0, -1.0])
    with pytest.raises(ValueError, match="how: expected one of"):
        remedies.clip_vector(g, 1.0, "max")


def test_reversal_lags():
    np.testing.assert_array_equal(vanishing.reversal_lags(4, False), [4, 4, 4, 4])
    np.testing.assert_array_equal(vanishing.reversal_lags(4, True), [1, 3, 5, 7])
    for S in (1, 5, 20):
        assert vanishing.reversal_lags(S, True).mean() == vanishing.reversal_lags(S, False).mean() == S


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
    acc = vanishing.copy_accuracy(p, x, y, S=2)
    np.testing.assert_allclose(acc, [(y[2::4] == 1).mean(), (y[3::4] == 1).mean()])
    with pytest.raises(ValueError, match="multiple of 2S"):
        vanishing.copy_accuracy(p, x[:5], y[:5], S=2)


def test_irnn_keeps_gradient_only_through_units_that_stay_active():
    r = vanishing.relu_gradient_norms(np.eye(32), 100, input_scale=1.0, rng=0)
    assert r.norm[100] == 1.0 and r.norm[0] < 1.0
    # with W = I, coordinate i of the gradient survives exactly when unit i stayed active throughout
    np.testing.assert_array_equal(r.norm > 0, r.alive > 0)
    assert r.alive[0] < 0.2
    assert np.all(np.diff(r.alive) >= 0)
    assert 0.5 < r.active.mean() < 1.0


def test_cliff_grads_agree_with_the_scalar_gradient():
    w, b = np.array([6.0, 3.0, 5.0, 8.0]), np.array([-2.0, -1.0, -2.6, -4.5])
    L, G = remedies.cliff_grads(w, b)
    assert L.shape == (4,) and G.shape == (4, 2)
    for i in range(4):
        loss, g = remedies.cliff_grad(w[i], b[i])
        assert L[i] == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(G[i], g, rtol=1e-12)


def test_descend_many_agrees_with_descend_and_clipping_bounds_every_step():
    starts = np.array([[5.3, -3.8], [5.0, -4.0], [6.0, -3.2]])
    for clip in (None, 5.0):
        many = remedies.descend_many(starts, lr=0.1, steps=60, clip=clip)
        for i, start in enumerate(starts):
            one = remedies.descend(start, lr=0.1, steps=60, clip=clip)
            np.testing.assert_allclose(many.end[i], one.path[-1], rtol=1e-9)
            assert many.max_grad_norm[i] == pytest.approx(one.grad_norm.max(), rel=1e-9)
            jumps = np.linalg.norm(np.diff(one.path, axis=0), axis=1)
            assert many.longest_step[i] == pytest.approx(jumps.max(), rel=1e-9)
    assert many.longest_step.max() <= 0.5 + 1e-12
    value = remedies.descend_many(starts, lr=0.1, steps=5, clip=1.0, how="value")
    assert value.longest_step.max() <= 0.1 * np.sqrt(2) + 1e-12
    with pytest.raises(ValueError, match=r"starts: expected shape \(N, 2\)"):
        remedies.descend_many(np.zeros((3, 3)), lr=0.1, steps=5)


def test_cliff_from_starts_draws_in_the_box_and_only_clipping_bounds_the_step():
    r = remedies.cliff_from_starts(0, n=200, steps=40)
    (w_lo, b_lo), (w_hi, b_hi) = remedies.CLIFF_BOX
    assert r.start.shape == (200, 2)
    assert (r.start[:, 0] >= w_lo).all() and (r.start[:, 0] <= w_hi).all()
    assert (r.start[:, 1] >= b_lo).all() and (r.start[:, 1] <= b_hi).all()
    np.testing.assert_array_equal(r.start, remedies.cliff_from_starts(0, n=200, steps=40).start)
    assert r.clipped.longest_step.max() <= 0.5 + 1e-12
    assert r.free.longest_step.max() >= r.clipped.longest_step.max()


def test_reversal_experiment_labels_and_padding():
    r = vanishing.reversal_experiment(0, lengths=(2, 3), steps=2, d=8)
    assert list(r) == ["S = 2, in order", "S = 2, reversed", "S = 3, in order", "S = 3, reversed"]
    for label, acc in r.items():
        assert acc.shape == (3,)
        assert np.isnan(acc[2]) == label.startswith("S = 2")
        assert np.all((acc[~np.isnan(acc)] >= 0) & (acc[~np.isnan(acc)] <= 1))
    np.testing.assert_array_equal(vanishing.reversal_accuracy(3, True, 0, steps=2, d=8), r["S = 3, reversed"])


def test_initialisation_norms_start_at_one_and_the_irnn_matches_relu_gradient_norms():
    r = vanishing.initialisation_norms(1, d=16, T=30)
    assert list(r.norm) == list(vanishing.INIT_FAMILIES)
    for norm in r.norm.values():
        assert norm.shape == (31,) and norm[30] == 1.0
    irnn = vanishing.relu_gradient_norms(np.eye(16), 30, 1.0, rng=1)
    np.testing.assert_array_equal(r.norm[vanishing.INIT_FAMILIES[0]], irnn.norm)
    assert r.alive == irnn.alive[0] and r.active == pytest.approx(irnn.active.mean())


def test_memory_ratios_grow_with_the_forget_bias():
    r = vanishing.memory_ratios(0, biases=(0.0, 3.0), T=30, d=16)
    assert list(r) == ["LSTM, forget-gate bias 0.0", "LSTM, forget-gate bias 3.0", "tanh RNN"]
    assert r["LSTM, forget-gate bias 3.0"] > 100 * r["LSTM, forget-gate bias 0.0"] > 0
    # the tanh RNN ratio is ||dL/dh_0|| / ||dL/dh_T||, as bptt.backward computes it
    p = rnn.init_params(4, 16, 4, rng=0)
    rng = np.random.default_rng(0)
    xs, y_last = rng.normal(size=(30, 8, 4)), rng.integers(0, 4, 8)
    fwd = rnn.forward(p, xs)
    ys, mask = np.zeros((30, 8), int), np.zeros((30, 8))
    ys[-1], mask[-1] = y_last, 1.0
    d_os = losses.output_grad(fwd.os, ys, mask)
    dh0 = bptt.backward(p, xs, fwd, d_os).d_h0
    assert r["tanh RNN"] == pytest.approx(np.linalg.norm(dh0) / np.linalg.norm(d_os[-1] @ p.V))


def test_chapter_5_figure_builders():
    import matplotlib.pyplot as plt

    from recurrent import plots

    ws, bs = np.linspace(0, 10, 20), np.linspace(-8, 2, 20)
    L = remedies.cliff_loss(*np.meshgrid(ws, bs))
    starts = np.random.default_rng(0).uniform((4, -4.5), (7, -3), (3, 50, 2))
    thrown = np.zeros((3, 50), bool)
    thrown[:, :2] = True
    fig = plots.cliff_seeds(ws, bs, L, starts, thrown, {"free": thrown.mean(1), "clipped": [0, 0, 0]}, "t")
    assert len(fig.axes) == 3 and fig.axes[0].get_xlabel() and fig.axes[1].get_ylabel()
    with pytest.raises(ValueError, match="starts, thrown"):
        plots.cliff_seeds(ws, bs, L, starts, thrown[:, :3], {}, "t")
    runs = {"a": np.array([[1.0, 0.1, 0.0], [1.0, 0.2, 0.01]]), "b": np.ones((2, 3))}
    fig = plots.seeds([0, 1, 2], runs, "t", "k", "norm", show="band", log=True)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 4 and ax.get_title() == "t"
    with pytest.raises(ValueError, match=r"runs\[.a.\], x: expected shape \(S, len\(x\)\) = \(S, 3\)"):
        plots.seeds([0, 1, 2], {"a": np.ones((2, 4))}, "t", "k", "norm", show="band", log=True)
    plt.close("all")


def test_cliff_figure_draws_each_path_in_its_own_visible_colour_with_a_legend_entry():
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from recurrent import plots
    ws, bs = np.linspace(0, 10, 20), np.linspace(-8, 2, 20)
    L = remedies.cliff_loss(*np.meshgrid(ws, bs))
    paths = {"no clipping": np.array([[5.3, -3.8], [5.0, -3.0]]),
             "clipped": np.array([[5.3, -3.8], [5.2, -3.5]])}
    fig = plots.cliff(ws, bs, L, paths, title="t")
    ax = fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    assert labels == list(paths)
    colours = [mcolors.to_rgb(h.get_color()) for h in handles]
    assert len(set(colours)) == len(colours)
    assert all(min(c) < 0.8 for c in colours)           # none white or near-white (invisible in the legend)
    plt.close(fig)
