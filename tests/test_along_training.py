"""Chapter 8: the step Jacobians and the gradient measured along training (recurrent.along_training)."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from differences import finite_difference
from recurrent import along_training, bptt, claims, long_range, lstm, plots, rnn


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


def numerical_step_jacobians(step, xs, states):
    """Central differences of state_t = step(x_t, state_{t-1}) at every t and b: (T, B, m, m).

    ``states``: (T + 1, B, m), the states state_0 .. state_T of the forward pass."""
    T, B, m = xs.shape[0], xs.shape[1], states.shape[-1]
    J = np.zeros((T, B, m, m))
    for t in range(T):
        for b in range(B):
            for j in range(m):
                f = lambda s, t=t, b=b, j=j: step(xs[t, [b]], s[None])[0, j]   # noqa: E731
                J[t, b, j] = finite_difference(f, states[t, b])
    return J


def rnn_case(activation, seed):
    rng = np.random.default_rng(seed)
    p = rnn.init_params(2, 4, 1, rng=rng, activation=activation)
    p.W *= 1.5
    p.b[:] = rng.normal(0, 0.5, p.d)
    xs = rng.normal(size=(5, 3, 2))
    return p, xs


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("seed", range(3))
def test_rnn_step_jacobians_agree_with_central_differences(activation, seed):
    p, xs = rnn_case(activation, seed)
    h0 = np.random.default_rng(seed + 10).normal(0, 0.5, (3, 4))
    J = along_training.rnn_step_jacobians(p, xs, h0)
    hs = bptt.forward(p, xs, h0).hs
    if activation == "relu":       # central differences need every pre-activation away from the kink
        z = xs @ p.U.T + np.concatenate([h0[None], hs[:-1]]) @ p.W.T + p.b
        assert np.abs(z).min() > 1e-4
    numeric = numerical_step_jacobians(lambda x, h: rnn.step(p, x, h), xs,
                                       np.concatenate([h0[None], hs]))
    assert J.shape == (5, 3, 4, 4)
    assert rel_error(J, numeric) < 1e-7


@pytest.mark.parametrize("seed", range(3))
def test_lstm_step_jacobians_agree_with_central_differences(seed):
    rng = np.random.default_rng(seed)
    p = lstm.init_lstm(2, 3, 1, rng=rng)
    p.W *= 1.5
    xs = rng.normal(size=(4, 2, 2))
    J = along_training.lstm_step_jacobians(p, xs)
    fwd = bptt.forward(p, xs)
    states = np.concatenate([np.zeros((1, 2, 6)), np.concatenate([fwd.hs, fwd.cs], axis=-1)])
    step = lambda x, s: np.concatenate(lstm.step(p, x, s[:, :3], s[:, 3:]), axis=1)   # noqa: E731
    numeric = numerical_step_jacobians(step, xs, states)
    assert J.shape == (4, 2, 6, 6)
    assert rel_error(J, numeric) < 1e-7
    f = fwd.gates[..., 3:6]
    np.testing.assert_allclose(J[..., 3:, 3:], f[..., None] * np.eye(3), rtol=0, atol=1e-15)


def test_largest_singular_values_against_numpy():
    rng = np.random.default_rng(0)
    J = rng.normal(size=(3, 2, 4, 4))
    got = along_training.largest_singular_values(J)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, np.linalg.norm(J, 2, axis=(-2, -1)), rtol=1e-13)
    np.testing.assert_allclose(along_training.largest_singular_values(np.diag([0.5, -3.0, 2.0])), 3.0)
    with pytest.raises(ValueError, match="J: expected square matrices"):
        along_training.largest_singular_values(np.ones((2, 3)))


def test_measure_rnn_reads_its_parts():
    p = long_range.init_model("tanh", 5, rng=1)
    xs, y = long_range.adding_problem(12, 4, rng=2)
    m = along_training.measure(p, xs, y)
    norms = long_range.hidden_gradient_norms(p, xs, y)
    assert m.ratio == pytest.approx(norms.h[0] / norms.h[-1], rel=1e-13)
    assert m.sigma_W == pytest.approx(np.linalg.norm(p.W, 2), rel=1e-13)
    assert m.rho_W == pytest.approx(np.abs(np.linalg.eigvals(p.W)).max(), rel=1e-12)
    hs = bptt.forward(p, xs).hs
    by_hand = np.array([[np.linalg.norm(np.diag(1 - hs[t, b] ** 2) @ p.W, 2) for b in range(4)]
                        for t in range(12)])
    assert m.sigma_J == pytest.approx(np.exp(np.log(by_hand).mean()), rel=1e-12)
    assert m.bound == pytest.approx(np.prod(by_hand[1:], axis=0).max(), rel=1e-12)
    assert np.isnan(m.ratio_c) and np.isnan(m.forget)


def test_measure_lstm_reads_its_parts():
    p = long_range.init_model("lstm", 4, rng=1)
    xs, y = long_range.adding_problem(10, 3, rng=2)
    m = along_training.measure(p, xs, y)
    norms = long_range.hidden_gradient_norms(p, xs, y)
    assert m.ratio_c == pytest.approx(norms.c[0] / norms.c[-1], rel=1e-13)
    f = bptt.forward(p, xs).gates[..., 4:8]
    assert m.forget == pytest.approx(f.max(-1).mean(), rel=1e-13)
    assert 0 < m.forget < 1 and m.sigma_J > 0
    assert np.isnan(m.sigma_W) and np.isnan(m.rho_W) and np.isnan(m.bound)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cell", ["tanh", "irnn"])
def test_the_ratio_never_exceeds_the_singular_value_bound(cell, seed):
    rng = np.random.default_rng(seed)
    p = long_range.init_model(cell, 6, rng=seed)
    p.W *= rng.uniform(0.5, 2.0)
    xs, y = long_range.adding_problem(15, 5, rng=seed)
    m = along_training.measure(p, xs, y)
    assert 0 < m.ratio <= m.bound * (1 + 1e-12)


@pytest.mark.parametrize("cell", ["tanh", "lstm"])
def test_track_records_without_changing_the_training(cell):
    kw = dict(d=4, batch=4, lr=1e-2)
    tracked = long_range.SeedRuns(cell, 8, (0, 1), **kw)
    plain = long_range.SeedRuns(cell, 8, (0, 1), **kw).train(6)
    xs, y = long_range.adding_problem(8, 3, rng=5)
    ck = along_training.track(tracked, 6, 2, xs, y)
    np.testing.assert_array_equal(tracked.loss, plain.loss)
    np.testing.assert_array_equal(ck.step, [0, 2, 4, 6])
    assert all(getattr(ck, f).shape == (4, 2) for f in ck._fields[1:])
    last = along_training.measure(plain.model(1), xs, y)
    np.testing.assert_allclose([getattr(ck, f)[-1, 1] for f in ck._fields[1:]], list(last),
                               rtol=1e-12, equal_nan=True)
    first = along_training.measure(long_range.init_stack(cell, 4, (0,)).model(0), xs, y)
    np.testing.assert_allclose([getattr(ck, f)[0, 0] for f in ck._fields[1:]], list(first),
                               rtol=1e-12, equal_nan=True)


def test_track_refuses_what_it_cannot_measure():
    xs, y = long_range.adding_problem(6, 2, rng=0)
    gru_runs = long_range.SeedRuns("gru", 6, (0,), d=3, batch=2)
    with pytest.raises(ValueError, match="runs: expected a run of one of the cells"):
        along_training.track(gru_runs, 2, 1, xs, y)
    runs = long_range.SeedRuns("tanh", 6, (0,), d=3, batch=2)
    with pytest.raises(ValueError, match="steps: expected a multiple of every = 2, got 3"):
        along_training.track(runs, 3, 2, xs, y)
    with pytest.raises(TypeError, match="runs: expected long_range.SeedRuns"):
        along_training.track("runs", 2, 1, xs, y)
    with pytest.raises(ValueError, match="y: expected"):
        along_training.track(runs, 2, 1, xs, y[:1])
    with pytest.raises(TypeError, match="p: expected a tanh or ReLU rnn.Params or an lstm.LSTMParams"):
        along_training.measure(long_range.init_model("gru", 3), xs, y)
    with pytest.raises(TypeError, match="p: expected rnn.Params"):
        along_training.rnn_step_jacobians(long_range.init_model("lstm", 3), xs)
    with pytest.raises(TypeError, match="p: expected lstm.LSTMParams"):
        along_training.lstm_step_jacobians(long_range.init_model("tanh", 3), xs)


def test_along_training_figure():
    plots.use_style()
    step = np.arange(0, 60, 20)
    runs = np.array([[1e-3, 1e-8, 1e-12], [1e-4, 1e-9, 1e-20]])
    fig = plots.along_training(step, {"ratio": ("ratio (log scale)", True, {"RNN": runs}),
                                      "sigma": ("σ_max", False, {"RNN": runs * 0 + 1.2})},
                               title="t", reference={"sigma": {"1": 1.0}}, styles={"RNN": "--"})
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "linear"]
    assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in fig.axes)
    assert fig.axes[1].get_lines()[-1].get_ydata()[0] == 1.0          # the reference line
    with pytest.raises(ValueError, match="reference: expected titles of panels"):
        plots.along_training(step, {"a": ("y", True, {"RNN": runs})}, title="t", reference={"b": {}})
    with pytest.raises(TypeError, match="panels\\['a'\\]: expected a tuple"):
        plots.along_training(step, {"a": {"RNN": runs}}, title="t")
    plt.close("all")


def test_seeds_default_is_what_the_chapter_uses():
    assert len(claims.SEEDS) >= 5
