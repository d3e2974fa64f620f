"""Chapter 8: the adding problem, the four cells through the one API, training, seeds stacked."""
import numpy as np
import pytest

from recurrent import bptt, gru, long_range, losses, rnn, stacked, stacked_grads, training


def perturbed_irnn(d=5, seed=1):
    """An IRNN moved away from W = I, b = 0, so that every entry of the gradient is exercised."""
    rng = np.random.default_rng(seed)
    p = long_range.init_model("irnn", d, rng=seed)
    p.W += rng.normal(0, 0.1, p.W.shape)
    p.b[:] = rng.normal(0, 0.1, p.d)
    return p


# --- the adding problem -----------------------------------------------------------------------------

@pytest.mark.parametrize("T, B", [(2, 1), (3, 5), (10, 64), (51, 7)])
def test_adding_problem_layout(T, B):
    xs, y = long_range.adding_problem(T, B, rng=3)
    assert xs.shape == (T, B, 2) and y.shape == (B,)
    values, markers = xs[..., 0], xs[..., 1]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert set(np.unique(markers)) <= {0.0, 1.0}
    np.testing.assert_array_equal(markers[: T // 2].sum(axis=0), 1)     # one marker in the first half
    np.testing.assert_array_equal(markers[T // 2:].sum(axis=0), 1)      # and one in the second half
    np.testing.assert_allclose(y, (values * markers).sum(axis=0), rtol=0, atol=1e-15)


def test_adding_problem_is_reproducible_and_seeds_differ():
    a, ya = long_range.adding_problem(20, 8, rng=0)
    b, yb = long_range.adding_problem(20, 8, rng=np.random.default_rng(0))
    c, _ = long_range.adding_problem(20, 8, rng=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a, c)


def test_trivial_baselines():
    """Predicting 1 scores Var(y) = 1/6; knowing only the recent (second-half) value scores 1/12."""
    T = 10
    xs, y = long_range.adding_problem(T, 200_000, rng=0)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(long_range.BASELINE_MSE, abs=2e-3)
    recent = (xs[T // 2:, :, 0] * xs[T // 2:, :, 1]).sum(axis=0)
    assert np.mean((y - recent - 0.5) ** 2) == pytest.approx(1 / 12, abs=1e-3)
    marker_positions = np.argmax(xs[: T // 2, :, 1], axis=0)
    assert set(np.unique(marker_positions)) == set(range(T // 2))      # every first-half position occurs


# --- the IRNN: forward and backward -----------------------------------------------------------------

def test_irnn_starts_at_the_identity():
    p = long_range.init_model("irnn", 6, rng=0)
    np.testing.assert_array_equal(p.W, np.eye(6))
    np.testing.assert_array_equal(p.b, np.zeros(6))
    assert (p.n, p.k) == (2, 1)


def test_relu_forward_is_the_recurrence():
    p = perturbed_irnn(d=4, seed=2)
    xs, _ = long_range.adding_problem(5, 3, rng=0)
    fwd = bptt.forward(p, xs)
    h = np.zeros((3, 4))
    for t in range(5):
        h = np.maximum(0.0, xs[t] @ p.U.T + h @ p.W.T + p.b)
        np.testing.assert_allclose(fwd.hs[t], h, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(fwd.os, fwd.hs @ p.V.T + p.c, rtol=1e-14, atol=1e-14)
    assert fwd.kind == "rnn/relu"
    tanh = rnn.Params(**dict(p.items()))
    with pytest.raises(ValueError, match="fwd: expected the forward pass of this rnn/tanh cell"):
        bptt.backward(tanh, xs, fwd, np.zeros_like(fwd.os))      # a ReLU pass is not a tanh model's


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_irnn_gradient_matches_central_differences(seed):
    rng = np.random.default_rng(seed)
    p = perturbed_irnn(d=5, seed=seed)
    xs, y = long_range.adding_problem(7, 4, rng=rng)
    hs = bptt.forward(p, xs).hs
    h_prev = np.concatenate([np.zeros((1, 4, 5)), hs[:-1]])
    zs = xs @ p.U.T + h_prev @ p.W.T + p.b
    assert np.abs(zs).min() > 1e-4                       # no pre-activation within eps of the kink at 0
    errors = bptt.gradient_check(p, xs, y, loss="last_squared_error")
    assert set(errors) == {"U", "W", "V", "b", "c"}
    assert max(errors.values()) < 1e-7, errors


def test_irnn_gradient_at_the_identity_initialisation():
    xs, y = long_range.adding_problem(8, 3, rng=5)
    errors = bptt.gradient_check(long_range.init_model("irnn", 4, rng=5), xs, y, loss="last_squared_error")
    assert max(errors.values()) < 1e-7, errors


def test_the_relu_backward_is_the_tanh_recursion_with_the_relu_slope():
    """dz_t = phi'(z_t) delta_t: with phi'(z) = 1[h > 0] in place of 1 - h^2, step by step."""
    p = perturbed_irnn(d=4, seed=3)
    xs, y = long_range.adding_problem(6, 3, rng=1)
    fwd = bptt.forward(p, xs)
    d_os = losses.last_squared_error_grad(fwd.os, y)
    back = bptt.backward(p, xs, fwd, d_os)
    delta = d_os[-1] @ p.V
    for t in reversed(range(6)):
        np.testing.assert_allclose(back.d_hs[t], delta, rtol=1e-12, atol=1e-15)
        delta = (delta * (fwd.hs[t] > 0)) @ p.W + (d_os[t - 1] @ p.V if t else 0)
    np.testing.assert_allclose(back.d_h0, delta, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cell", long_range.CELLS)
def test_every_cell_gradient_matches_central_differences(cell):
    xs, y = long_range.adding_problem(6, 3, rng=4)
    errors = bptt.gradient_check(long_range.init_model(cell, 4, rng=4), xs, y, loss="last_squared_error")
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", long_range.CELLS)
def test_hidden_gradient_norms(cell):
    p = long_range.init_model(cell, 5, rng=0)
    xs, y = long_range.adding_problem(8, 4, rng=0)
    r = long_range.hidden_gradient_norms(p, xs, y)
    np.testing.assert_array_equal(r.t, np.arange(1, 9))
    fwd = bptt.forward(p, xs)
    d_last = 2 * (fwd.os[-1, :, 0] - y)[:, None] / 4 @ p.V                 # dL/dh_T = V^T dL/do_T
    assert r.h[-1] == pytest.approx(np.linalg.norm(d_last), rel=1e-12)
    assert (r.c is not None) == (cell == "lstm")
    if cell == "tanh":                                                    # dL/dh_0 = W^T dz_1
        back = bptt.backward(p, xs, fwd, losses.last_squared_error_grad(fwd.os, y))
        assert r.h[0] == pytest.approx(np.linalg.norm(back.d_hs[0]), rel=1e-12)
        np.testing.assert_allclose(back.d_h0, (back.d_hs[0] * (1 - fwd.hs[0] ** 2)) @ p.W, rtol=1e-12)


# --- clipping and training --------------------------------------------------------------------------

def test_the_one_clipping_function_clips_every_container_and_leaves_grads_alone():
    for cell in long_range.CELLS:
        p = long_range.init_model(cell, 4, rng=0)
        xs, y = long_range.adding_problem(5, 3, rng=0)
        _, grads, _ = bptt.loss_and_grads(p, xs, y, loss="last_squared_error")
        before = training.global_norm(grads)
        clipped, norm = training.clip_by_norm(grads, before / 10)
        assert norm == pytest.approx(before) and type(clipped) is type(grads)
        assert training.global_norm(clipped) == pytest.approx(before / 10)
        assert training.global_norm(grads) == pytest.approx(before)               # a copy: grads unchanged
        same, norm = training.clip_by_norm(clipped, 1e9)                           # below: unchanged
        assert training.global_norm(same) == pytest.approx(before / 10) and norm == pytest.approx(before / 10)


@pytest.mark.parametrize("cell, lr", [("tanh", 1e-2), ("irnn", 1e-2), ("gru", 2e-2)])
def test_training_lowers_the_loss_on_short_sequences(cell, lr):
    p = long_range.init_model(cell, 8, rng=0)
    xs, y = long_range.adding_problem(4, 500, rng=9)
    mse = bptt.loss_function(xs, y, loss="last_squared_error")
    before = mse(p)
    history = long_range.train(p, T=4, steps=200, batch=32, lr=lr, clip=1.0, rng=0)
    after = mse(p)
    assert history.loss.shape == history.grad_norm.shape == (200,) and history.val_loss.size == 0
    assert after < 0.5 * min(before, long_range.BASELINE_MSE)
    assert history.loss[-20:].mean() < history.loss[:20].mean()


def test_training_logs_progress():
    lines = []
    p = long_range.init_model("tanh", 4, rng=0)
    long_range.train(p, T=3, steps=25, batch=4, rng=0, log_every=10, log=lines.append)
    assert len(lines) == 3 and "step   10/25" in lines[0] and "step   25/25" in lines[-1]
    assert all("training MSE" in line for line in lines)


def test_a_non_finite_loss_stops_training():
    p = long_range.init_model("tanh", 4, rng=0)
    p.V[...] = 1e200                                  # o_T^2 overflows to inf
    message = r"train \(tanh, T = 5\) at step 1: the loss became inf; .* lower the learning rate"
    with pytest.raises(FloatingPointError, match=message):
        long_range.train(p, T=5, steps=3, rng=0)
    q = long_range.init_model("irnn", 4, rng=0)
    q.W[...] = 1e3 * np.eye(4)                        # h_t grows like 1000^t: overflow by t = 110
    with pytest.raises(FloatingPointError, match="irnn, T = 120"):
        long_range.train(q, T=120, steps=3, rng=0)


def test_a_short_run_is_deterministic_given_the_seed():
    runs = [long_range.experiment("lstm", 6, d=4, steps=15, batch=8, seed=s, test_size=50) for s in (3, 3, 4)]
    np.testing.assert_array_equal(runs[0].history.loss, runs[1].history.loss)
    for (name, a), (_, b) in zip(runs[0].params.items(), runs[1].params.items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert runs[0].test_mse == runs[1].test_mse
    assert runs[0].baseline_mse == runs[1].baseline_mse
    assert not np.array_equal(runs[0].history.loss, runs[2].history.loss)
    assert runs[0].cell == "lstm" and runs[0].T == 6


def test_adam_updates_gate_containers_in_place():
    p = long_range.init_model("gru", 3, rng=0)
    before = p.copy()
    long_range.train(p, T=4, steps=2, batch=4, rng=0)
    assert isinstance(p, gru.GRUParams)
    assert all(not np.array_equal(a, b) for (_, a), (_, b) in zip(p.items(), before.items()))


# --- several seeds at once -------------------------------------------------------------------------

def perturbed_stack(cell, d=5, seeds=(0, 1, 2), scale=0.1):
    """A Stack moved away from its initialisation, so that every entry of every gradient takes part."""
    st = long_range.init_stack(cell, d, seeds)
    rng = np.random.default_rng(7)
    for _, a in st.items():
        a += rng.normal(0, scale, a.shape)
    return st


def test_init_stack_stacks_each_seeds_init_model():
    st = long_range.init_stack("gru", 4, seeds=(3, 5))
    assert st.S == 2 and st.d == 4 and [n for n, _ in st.items()] == ["U", "W", "V", "b", "c", "bh"]
    assert st.W.shape == (2, 12, 4) and st.V.shape == (2, 1, 4) and st.bh.shape == (2, 4)
    for i, seed in enumerate((3, 5)):
        alone = long_range.init_model("gru", 4, rng=np.random.default_rng([seed, 0]))
        for (name, a), (_, b) in zip(st.model(i).items(), alone.items()):
            np.testing.assert_array_equal(a, b, err_msg=name)
    again = stacked.Stack.of([st.model(0), st.model(1)])
    for (name, a), (_, b) in zip(again.items(), st.items()):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("cell", long_range.CELLS)
def test_stacked_loss_and_grads_are_each_models_own(cell):
    """Every seed's loss and gradients equal loss_and_grads of that seed's model alone."""
    st = perturbed_stack(cell)
    xs, y = long_range.stacked_data(7, 4, [np.random.default_rng(s) for s in range(3)])
    assert xs.shape == (3, 7, 4, 2) and y.shape == (3, 4)
    loss_s, grads = stacked_grads.stacked_loss_and_grads(st, xs, y)
    assert loss_s.shape == (3,) and isinstance(grads, stacked.Stack)
    predictions = stacked.stacked_predict(st, xs)
    np.testing.assert_allclose(stacked.stacked_mse(st, xs, y), loss_s, rtol=1e-13)
    for i in range(3):
        loss, ref, fwd = bptt.loss_and_grads(st.model(i), xs[i], y[i], loss="last_squared_error")
        assert loss_s[i] == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(predictions[i], fwd.os[-1, :, 0], rtol=1e-12)
        assert [n for n, _ in grads.items()] == [n for n, _ in ref.items()]
        for (name, g), (_, r) in zip(grads.items(), ref.items()):
            np.testing.assert_allclose(g[i], r, rtol=1e-10, atol=1e-13, err_msg=f"{cell} d{name}")


@pytest.mark.parametrize("cell", ["irnn", "lstm"])
def test_stacked_gradient_matches_central_differences(cell):
    """A direct check as well: perturb one entry of one seed's parameters, the others' losses stay put."""
    st = perturbed_stack(cell, d=3, seeds=(0, 1))
    xs, y = long_range.stacked_data(5, 3, [np.random.default_rng(s) for s in (4, 5)])
    _, grads = stacked_grads.stacked_loss_and_grads(st, xs, y)
    eps = 1e-6
    for name, a in st.items():
        index = (1,) + (0,) * (a.ndim - 1)
        old = a[index]
        a[index] = old + eps
        up = stacked_grads.stacked_loss_and_grads(st, xs, y)[0]
        a[index] = old - eps
        down = stacked_grads.stacked_loss_and_grads(st, xs, y)[0]
        a[index] = old
        assert up[0] == down[0]                                   # seed 0 does not see seed 1's weights
        numerical = (up[1] - down[1]) / (2 * eps)
        assert numerical == pytest.approx(getattr(grads, name)[index], rel=1e-6, abs=1e-9), name


def test_clip_by_norm_clips_each_stacked_seed_on_its_own():
    st = perturbed_stack("lstm", d=4, seeds=(0, 1, 2), scale=1.0)
    xs, y = long_range.stacked_data(6, 5, [np.random.default_rng(s) for s in range(3)])
    _, grads = stacked_grads.stacked_loss_and_grads(st, xs, y)
    before = [training.global_norm(grads.model(i)) for i in range(3)]
    clipped, norms = training.clip_by_norm(grads, float(np.median(before)))
    np.testing.assert_allclose(norms, before, rtol=1e-12)
    after = [training.global_norm(clipped.model(i)) for i in range(3)]
    np.testing.assert_allclose(after, np.minimum(before, np.median(before)), rtol=1e-12)


@pytest.mark.parametrize("cell", long_range.CELLS)
def test_seed_runs_follow_experiment_seed_by_seed(cell):
    runs = long_range.SeedRuns(cell, 6, seeds=(3, 4), d=4, batch=8, lr=1e-2, test_size=50).train(15)
    assert runs.loss.shape == runs.grad_norm.shape == (15, 2) and runs.steps == 15
    assert list(runs.stopped) == [0, 0]
    for i, seed in enumerate((3, 4)):
        alone = long_range.experiment(cell, 6, d=4, steps=15, batch=8, lr=1e-2, seed=seed, test_size=50)
        np.testing.assert_allclose(runs.loss[:, i], alone.history.loss, rtol=1e-9)
        np.testing.assert_allclose(runs.grad_norm[:, i], alone.history.grad_norm, rtol=1e-9)
        for (name, a), (_, b) in zip(runs.model(i).items(), alone.params.items()):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=name)
        assert runs.test_mse()[i] == pytest.approx(alone.test_mse, rel=1e-9)
        assert runs.baseline_mse()[i] == pytest.approx(alone.baseline_mse, rel=1e-12)


def test_seed_runs_continue_where_they_stopped():
    a = long_range.SeedRuns("tanh", 5, seeds=(0, 1), d=3, batch=4).train(12)
    b = long_range.SeedRuns("tanh", 5, seeds=(0, 1), d=3, batch=4).train(5).train(7)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.test_mse(), b.test_mse())


def test_a_seed_whose_loss_overflows_stops_and_the_others_go_on():
    runs = long_range.SeedRuns("irnn", 120, seeds=(0, 1), d=4, batch=4)
    runs.params.W[0] = 1e3 * np.eye(4)                # seed 0: h_t grows like 1000^t, overflow by t = 110
    frozen = runs.model(0)
    runs.train(3)
    assert list(runs.stopped) == [1, 0]
    assert np.isnan(runs.loss[:, 0]).all() and np.isfinite(runs.loss[:, 1]).all()
    for (name, a), (_, b) in zip(runs.model(0).items(), frozen.items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    start = long_range.init_model("irnn", 4, rng=np.random.default_rng([1, 0]))
    assert not np.array_equal(runs.model(1).W, start.W)                    # seed 1 trained on


def test_gradient_ratios_of_every_seed():
    runs = long_range.SeedRuns("lstm", 6, seeds=(0, 1, 2), d=4, batch=4)
    xs, y = long_range.adding_problem(8, 5, rng=0)
    r = runs.gradient_ratios(xs, y)
    assert r.h.shape == r.c.shape == (3, 8)
    np.testing.assert_array_equal(r.t, np.arange(1, 9))
    np.testing.assert_allclose(r.h[:, -1], 1.0)
    alone = long_range.hidden_gradient_norms(runs.model(2), xs, y)
    np.testing.assert_allclose(r.h[2], alone.h / alone.h[-1], rtol=1e-12)
    assert long_range.SeedRuns("gru", 6, seeds=(0,), d=4).gradient_ratios(xs, y).c is None


# --- bad inputs -------------------------------------------------------------------------------------

STACK_TANH = long_range.init_stack("tanh", 3, seeds=(0, 1))
STACK_LSTM = long_range.init_stack("lstm", 3, seeds=(0, 1))


TANH = long_range.init_model("tanh", 3)


@pytest.mark.parametrize("call, message", [
    (lambda: long_range.adding_problem(1, 4), r"T: expected an integer >= 2, got 1"),
    (lambda: long_range.adding_problem(10, 0), r"B: expected an integer >= 1, got 0"),
    (lambda: long_range.init_model("elman", 4), r"cell: expected one of"),
    (lambda: long_range.init_model("lstm", 0), r"d: expected an integer >= 1, got 0"),
    (lambda: long_range.train(rnn.init_params(3, 4, 1), T=5, steps=2),
     r"p: expected n = 2 inputs and k = 1 output .* got n = 3, k = 1"),
    (lambda: long_range.train(gru.init_gru(2, 3, 1, variant="cho"), T=5, steps=2),
     r"p: expected PyTorch's GRU \(variant 'torch'\), got variant 'cho'"),
    (lambda: long_range.hidden_gradient_norms(TANH, np.zeros((4, 2, 3)), np.zeros(2)),
     r"xs: expected last axis n=2"),
    (lambda: long_range.hidden_gradient_norms(TANH, np.zeros((4, 2, 2)), np.zeros(3)),
     r"y: expected shape \(B,\) = \(2,\)"),
    (lambda: long_range.train(TANH, T=5, steps=0), r"steps: expected an integer >= 1, got 0"),
    (lambda: long_range.train(TANH, T=1, steps=5), r"T: expected an integer >= 2, got 1"),
    (lambda: long_range.train(TANH, T=5, steps=5, lr=-1.0), r"lr: expected a number > 0, got -1.0"),
    (lambda: long_range.train(TANH, T=5, steps=5, clip=0.0), r"clip: expected a number > 0, got 0.0"),
    (lambda: long_range.train(TANH, T=5, steps=5, log_every=-1), r"log_every: expected an integer >= 0"),
    (lambda: long_range.experiment("tanh", 5, steps=2, seed=-1), r"seed: expected an integer >= 0, got -1"),
    (lambda: stacked.Stack("tanh", {"U": np.zeros((2, 3, 2))}),
     r"arrays: expected the parameters \('U', 'W', 'V', 'b', 'c'\) of cell 'tanh', got \('U',\)"),
    (lambda: stacked.Stack("lstm", dict(STACK_LSTM.items(), V=np.zeros((2, 3)))),
     r"V: expected shape \(2, 1, 3\) for 2 stacked lstm models with d = 3 \(from W: \(2, 12, 3\)\), "
     r"got \(2, 3\)"),
    (lambda: stacked.Stack.of([]), r"models: expected at least one model, got none"),
    (lambda: stacked.Stack.of([long_range.init_model("tanh", d) for d in (3, 4)]),
     r"models: expected models of one size"),
    (lambda: stacked.Stack.of([long_range.init_model("tanh", 3), long_range.init_model("irnn", 3)]),
     r"models: expected models of one cell, got \['irnn', 'tanh'\]"),
    (lambda: STACK_TANH.model(2), r"i: expected a seed index in \[0, 2\), got 2"),
    (lambda: stacked.stacked_predict(STACK_TANH, np.zeros((3, 4, 5, 2))),
     r"xs: expected shape \(S, T, B, 2\) with S = 2 and T, B >= 1, got \(3, 4, 5, 2\)"),
    (lambda: stacked.stacked_mse(STACK_TANH, np.zeros((2, 4, 5, 2)), np.zeros((2, 4))),
     r"y: expected shape \(S, B\) = \(2, 5\), got \(2, 4\)"),
    (lambda: long_range.SeedRuns("tanh", 5, seeds=()), r"seeds: expected at least one seed, got none"),
    (lambda: long_range.SeedRuns("tanh", 5, seeds=(0, -1)), r"seeds: expected an integer >= 0, got -1"),
    (lambda: long_range.SeedRuns("tanh", 5, seeds=(0,)).train(0), r"steps: expected an integer >= 1, got 0"),
])
def test_bad_values_raise_value_errors_that_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: long_range.adding_problem(10, 2.5), r"B: expected an integer"),
    (lambda: long_range.adding_problem(10, 4, rng="seed"), r"rng: expected an int seed"),
    (lambda: long_range.train(None, T=5, steps=2), r"p: expected rnn.Params, lstm.LSTMParams or gru"),
    (lambda: stacked.stacked_predict(TANH, np.zeros((1, 4, 5, 2))), r"st: expected stacked.Stack, got"),
    (lambda: stacked.Stack.of(TANH), r"models: expected a sequence"),
    (lambda: STACK_TANH.model(1.0), r"i: expected an integer seed index"),
    (lambda: long_range.init_stack("tanh", 3, seeds=5), r"seeds: expected a sequence"),
])
def test_bad_types_raise_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()
