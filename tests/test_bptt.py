"""Chapter 2 helpers: BPTT gradients against central differences, updates, truncated training."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import bptt, rnn, tasks


def case(n=3, d=5, k=4, T=6, B=2, seed=0, masked=False):
    rng = np.random.default_rng(seed)
    p = rnn.init_params(n, d, k, rng=rng)
    p.W *= 1.5                                  # a non-trivial recurrence, tanh well away from linear
    p.b[:] = rng.normal(0, 0.5, d)
    p.c[:] = rng.normal(0, 0.5, k)
    xs, ys, h0 = rng.normal(size=(T, B, n)), rng.integers(0, k, (T, B)), rng.normal(0, 0.5, (B, d))
    mask = (rng.random((T, B)) < 0.6).astype(float) if masked else None
    return p, xs, ys, h0, mask


def test_every_gradient_agrees_with_central_differences():
    p, xs, ys, h0, _ = case(T=8, B=3)
    errors = bptt.gradient_check(p, xs, ys, h0)
    assert set(errors) == {"U", "W", "V", "b", "c"}
    assert max(errors.values()) < 1e-7, errors


@given(n=st.integers(1, 4), d=st.integers(1, 5), k=st.integers(2, 4), T=st.integers(1, 7),
       B=st.integers(1, 3), seed=st.integers(0, 10**6), masked=st.booleans())
def test_gradient_check_holds_for_random_shapes_and_seeds(n, d, k, T, B, seed, masked):
    p, xs, ys, h0, mask = case(n, d, k, T, B, seed, masked)
    errors = bptt.gradient_check(p, xs, ys, h0, mask)
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_would_catch_a_wrong_derivative(monkeypatch):
    """The check is not vacuous: dropping the tanh derivative (a classic slip) is detected."""
    p, xs, ys, h0, _ = case()
    real_backward = bptt.backward

    def wrong_backward(p, xs, fwd, d_os, d_hT=None):
        fake = fwd._replace(hs=np.zeros_like(fwd.hs) + 0.5 * fwd.hs)   # wrong 1 - h^2 factor
        grads, dh0 = real_backward(p, xs, fake, d_os, d_hT)
        return grads, dh0

    monkeypatch.setattr(bptt, "backward", wrong_backward)
    errors = bptt.gradient_check(p, xs, ys, h0)
    assert max(errors["U"], errors["W"], errors["b"]) > 1e-3


def test_delta_recursion_matches_the_book_formula_step_by_step():
    """delta_t = V^T (y_hat_t - y_t)/B + W^T diag(1 - h_{t+1}^2) delta_{t+1}, for one example."""
    p, xs, ys, h0, _ = case(B=1, T=5)
    fwd = rnn.forward(p, xs, h0)
    g = bptt.output_grad(fwd.os, ys)
    deltas = [None] * 5
    for t in reversed(range(5)):
        deltas[t] = p.V.T @ g[t, 0]
        if t + 1 < 5:
            deltas[t] += p.W.T @ ((1 - fwd.hs[t + 1, 0] ** 2) * deltas[t + 1])
    dW = sum(np.outer((1 - fwd.hs[t, 0] ** 2) * deltas[t], fwd.hs[t - 1, 0] if t else h0[0])
             for t in range(5))
    grads, dh0 = bptt.backward(p, xs, fwd, g)
    np.testing.assert_allclose(grads.W, dW, atol=1e-14)
    np.testing.assert_allclose(dh0[0], p.W.T @ ((1 - fwd.hs[0, 0] ** 2) * deltas[0]), atol=1e-14)


def test_output_grad_is_softmax_minus_one_hot_over_B():
    os, ys = np.random.default_rng(1).normal(size=(3, 4, 5)), np.arange(12).reshape(3, 4) % 5
    np.testing.assert_allclose(bptt.output_grad(os, ys), (rnn.softmax(os) - rnn.one_hot(ys, 5)) / 4,
                               atol=1e-15)


def test_gradient_of_h0_and_of_a_gradient_arriving_at_hT():
    """backward's dL/dh0 output and d_hT input, checked by differences of L + <g, h_T>."""
    p, xs, ys, h0, _ = case(T=4, B=2)
    g_T = np.random.default_rng(9).normal(size=h0.shape)

    def total(h0_):
        fwd = rnn.forward(p, xs, h0_)
        return rnn.cross_entropy(fwd.os, ys) + float(np.sum(g_T * fwd.hs[-1]))

    fwd = rnn.forward(p, xs, h0)
    _, dh0 = bptt.backward(p, xs, fwd, bptt.output_grad(fwd.os, ys), d_hT=g_T)
    numeric = np.zeros_like(h0)
    for i in np.ndindex(h0.shape):
        e = np.zeros_like(h0)
        e[i] = 1e-5
        numeric[i] = (total(h0 + e) - total(h0 - e)) / 2e-5
    assert bptt.relative_error(dh0, numeric) < 1e-7


def test_relative_error():
    assert bptt.relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert bptt.relative_error([0.0], [0.0]) == 0.0
    assert bptt.relative_error([1.0, 0.0], [0.0, 0.0]) == 1.0
    with pytest.raises(ValueError, match="equal shapes"):
        bptt.relative_error([1.0], [1.0, 2.0])


def test_minibatch_gradient_is_the_mean_of_per_example_gradients():
    p, xs, ys, h0, _ = case(B=4)
    _, g_all, _ = bptt.loss_and_grads(p, xs, ys, h0)
    singles = [bptt.loss_and_grads(p, xs[:, [b]], ys[:, [b]], h0[[b]])[1] for b in range(4)]
    for name, g in g_all.items():
        np.testing.assert_allclose(g, np.mean([getattr(s, name) for s in singles], axis=0), atol=1e-14)


def test_sgd_step_is_theta_minus_lr_grad_and_lowers_the_loss():
    p, xs, ys, h0, _ = case()
    loss0, grads, _ = bptt.loss_and_grads(p, xs, ys, h0)
    q = p.copy()
    bptt.sgd(q, grads, lr=1e-3)
    np.testing.assert_allclose(q.W, p.W - 1e-3 * grads.W, atol=1e-16)
    loss1, _, _ = bptt.loss_and_grads(q, xs, ys, h0)
    # first-order decrease: L(theta - lr g) ~ L - lr ||g||^2
    assert loss1 < loss0
    assert (loss0 - loss1) == pytest.approx(1e-3 * bptt.global_norm(grads) ** 2, rel=0.05)


def test_adam_first_step_moves_each_entry_by_about_lr():
    p, xs, ys, h0, _ = case()
    _, grads, _ = bptt.loss_and_grads(p, xs, ys, h0)
    q = p.copy()
    bptt.Adam(q, lr=0.01)(q, grads)
    step = p.W - q.W
    np.testing.assert_allclose(step, 0.01 * np.sign(grads.W) * np.abs(grads.W) / (np.abs(grads.W) + 1e-8),
                               atol=1e-12)


def test_clip_by_norm():
    p, xs, ys, h0, _ = case()
    _, grads, _ = bptt.loss_and_grads(p, xs, ys, h0)
    norm = bptt.global_norm(grads)
    clipped, before = bptt.clip_by_norm(grads, norm / 4)
    assert before == pytest.approx(norm)
    assert bptt.global_norm(clipped) == pytest.approx(norm / 4)
    np.testing.assert_allclose(clipped.U * 4, grads.U)          # direction unchanged
    same, _ = bptt.clip_by_norm(grads, 2 * norm)
    assert same is grads
    with pytest.raises(ValueError, match="max_norm: expected a number > 0"):
        bptt.clip_by_norm(grads, 0.0)


def test_truncated_training_learns_a_short_echo_but_not_one_longer_than_the_window():
    """The chapter's claim: with chunks of T <= delay steps no gradient links y_t to x_{t-delay}."""
    x, y, m = tasks.delayed_echo(L=2000, B=16, k=4, delay=2, rng=0)
    xt, yt, mt = tasks.delayed_echo(L=400, B=4, k=4, delay=2, rng=1)
    acc = {}
    for T in (2, 5):
        p = rnn.init_params(4, 12, 4, rng=0)
        bptt.train_truncated(p, x, y, T=T, steps=1500 // T, mask=m, update=bptt.Adam(p, lr=1e-2), clip=5.0)
        acc[T] = bptt.evaluate(p, xt, yt, mt)["accuracy"]
    assert acc[5] > 0.95 and acc[2] < 0.6, acc


def test_truncated_gradient_is_zero_for_inputs_outside_the_window():
    p, xs, ys, h0, _ = case(T=6, B=1)
    mask = np.zeros((6, 1))
    mask[-1] = 1.0                                   # only the loss at the last step
    fwd = rnn.forward(p, xs[3:], rnn.forward(p, xs[:3], h0).hs[-1])   # chunk of 3 from a carried state
    _, dh = bptt.backward(p, xs[3:], fwd, bptt.output_grad(fwd.os, ys[3:], mask[3:]))
    assert np.abs(dh).max() > 0          # the full gradient would continue back from here ...
    # ... but train_truncated treats the carried state as a constant, so x_1..x_3 get nothing:
    # the chunk's gradient does not depend on them at all.
    xs2 = xs.copy()
    xs2[:3] += 1.0
    fwd2 = rnn.forward(p, xs2[3:], fwd.h0)
    g1, _ = bptt.backward(p, xs[3:], fwd, bptt.output_grad(fwd.os, ys[3:], mask[3:]))
    g2, _ = bptt.backward(p, xs2[3:], fwd2, bptt.output_grad(fwd2.os, ys[3:], mask[3:]))
    np.testing.assert_array_equal(g1.W, g2.W)


def test_train_truncated_stops_with_a_clear_message_on_a_non_finite_loss():
    text = tasks.load_text()[:400].lower()
    v = tasks.Vocab.from_text(text)
    x, y = tasks.streams(v.encode(text), 2)
    p = rnn.init_params(len(v), 8, len(v), rng=0)

    def diverge(p, g):                    # stands in for an update that overflowed
        p.c[0] = np.inf

    with pytest.raises(FloatingPointError, match="at step 2: the loss became nan; lower the learning rate"):
        bptt.train_truncated(p, x, y, T=10, steps=50, update=diverge)


def test_train_truncated_logs_progress_and_validation():
    text = tasks.load_text()[:600].lower()
    v = tasks.Vocab.from_text(text)
    ids = v.encode(text)
    x, y = tasks.streams(ids[:500], 4)
    xv, yv = tasks.streams(ids[500:], 1)
    p = rnn.init_params(len(v), 16, len(v), rng=0)
    lines = []
    h = bptt.train_truncated(p, x, y, T=10, steps=60, update=bptt.Adam(p, lr=1e-2), log_every=20,
                             log=lines.append, validate=(xv, yv))
    assert len(lines) == 3 and lines[0].startswith("step    20/60") and "held-out" in lines[0]
    assert list(h["val_step"]) == [20, 40, 60] and h["loss"].shape == (60,)
    assert h["loss"][-10:].mean() < h["loss"][:10].mean()


def test_train_truncated_with_log_none_validates_silently(capsys):
    text = tasks.load_text()[:600].lower()
    v = tasks.Vocab.from_text(text)
    ids = v.encode(text)
    x, y = tasks.streams(ids[:500], 4)
    xv, yv = tasks.streams(ids[500:], 1)
    p = rnn.init_params(len(v), 8, len(v), rng=0)
    h = bptt.train_truncated(p, x, y, T=10, steps=30, update=bptt.Adam(p, lr=1e-2), log_every=10,
                             log=None, validate=(xv, yv))
    assert capsys.readouterr().out == ""
    assert list(h["val_step"]) == [10, 20, 30] and h["val_loss"].shape == (3,)


def test_stacked_training_takes_the_steps_train_truncated_takes_for_each_network():
    """S networks side by side = S runs of train_truncated with Adam: same chunks, resets and clipping."""
    rng = np.random.default_rng(5)
    S, L, B, n, d, T, steps = 3, 23, 4, 3, 5, 4, 13             # 13 chunks of 4 > 23 steps: resets
    x, y = rng.integers(0, n, (S, L, B)), rng.integers(0, n, (S, L, B))
    mask = (rng.random((S, L, B)) < 0.8).astype(float)
    starts = [rnn.init_params(n, d, n, rng=s) for s in range(S)]
    for p in starts:
        p.W *= 2.0                                               # large gradients: clipping matters
    nets = {name: np.stack([getattr(p, name) for p in starts]) for name in rnn.SYMBOLS}
    bptt.train_truncated_stacked(nets, x, y, mask, T=T, steps=steps, lr=0.05, clip=0.5)
    for s, p in enumerate(starts):
        history = bptt.train_truncated(p, x[s], y[s], T=T, steps=steps, update=bptt.Adam(p, lr=0.05),
                                       mask=mask[s], clip=0.5)
        assert (history["grad_norm"] > 0.5).any()               # the comparison covers clipped steps
        for name, a in p.items():
            np.testing.assert_allclose(nets[name][s], a, rtol=1e-10, atol=1e-12, err_msg=name)


def test_stacked_training_rejects_mismatched_shapes():
    nets = {name: np.stack([a]) for name, a in rnn.init_params(2, 3, 2).items()}
    x = np.zeros((1, 6, 2), int)
    with pytest.raises(ValueError, match="expected three \\(S, L, B\\) arrays of equal shape"):
        bptt.train_truncated_stacked(nets, x, x[:, :5], np.ones((1, 6, 2)), T=2, steps=1)
    with pytest.raises(ValueError, match="expected S=2 networks"):
        bptt.train_truncated_stacked(nets, np.zeros((2, 6, 2), int), np.zeros((2, 6, 2), int),
                                     np.ones((2, 6, 2)), T=2, steps=1)
    with pytest.raises(ValueError, match="T: expected at most the stream length L=6, got 7"):
        bptt.train_truncated_stacked(nets, x, x, np.ones((1, 6, 2)), T=7, steps=1)


def test_echo_accuracy_gives_each_seed_its_own_row_and_each_window_the_same_start():
    kwargs = dict(tokens=240, L=300, B=4, d=6)
    both = bptt.echo_accuracy(2, [2, 4], [3, 4], **kwargs)
    assert both.shape == (2, 2) and ((0 <= both) & (both <= 1)).all()
    # a seed's data and initial network do not depend on the other seeds or windows
    # (equal up to rounding: the networks are trained side by side)
    np.testing.assert_allclose(bptt.echo_accuracy(2, [4], [4], **kwargs)[0, 0], both[1, 1], atol=0.02)
    assert not np.array_equal(both[0], both[1])


def test_echo_accuracy_learns_the_echo_only_with_a_window_longer_than_the_delay():
    acc = bptt.echo_accuracy(2, [2, 5], [0, 1], d=12, tokens=1500, L=2000, B=16)
    assert (acc[:, 1] > 0.95).all() and (acc[:, 0] < 0.6).all(), acc


@pytest.mark.parametrize("call, message", [
    (lambda: bptt.echo_accuracy(2, [], [0]), "Ks: expected at least one window length"),
    (lambda: bptt.echo_accuracy(2, [0], [0]), "K: expected an integer >= 1"),
    (lambda: bptt.echo_accuracy(2, [50], [0], tokens=40, L=60), "Ks: expected at most min"),
    (lambda: bptt.echo_accuracy(2, [2], [-1]), "seed: expected an integer >= 0"),
    (lambda: bptt.echo_accuracy(2, [2], []), "seeds: expected at least one seed"),
])
def test_echo_accuracy_rejects_bad_windows_and_seeds(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_chapter_figures_draw_every_seed():
    import matplotlib.pyplot as plt

    from recurrent import plots

    B, trace = np.array([1, 2, 4]), np.array([10.0, 20.0])
    fig = plots.minibatch_noise(B, trace[:, None] / B * 1.01, trace, "noise", band=(0.8, 1.25))
    left, right = fig.axes
    assert left.get_xscale() == "log" and left.get_yscale() == "log" and len(left.lines) == 4
    assert right.get_ylabel() == "ratio" and fig.get_suptitle() == "noise"
    with pytest.raises(ValueError, match=r"msd: expected shape \(S, P\) = \(2, 3\)"):
        plots.minibatch_noise(B, np.ones((3, 3)), trace, "noise")
    train, val = np.ones((3, 80)), np.full((3, 4), 2.0)
    fig = plots.char_model_seeds(train, [20, 40, 60, 80], val, {"bigram": 2.5}, "to be\nor not $x$", "lm")
    ax, text = fig.axes
    assert "3 seeds" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.lines) == 3 * 2 + 1 and not text.axison
    assert any("to be\nor not" in t.get_text() for t in text.texts)
    with pytest.raises(ValueError, match=r"expected \(S, N\) and \(S, 2\) arrays"):
        plots.char_model_seeds(train, [20, 40], val, {}, "", "lm")
    plt.close("all")


def test_evaluate_uniform_model_has_perplexity_k():
    p = rnn.init_params(5, 4, 5, rng=0)
    p.V[:] = 0.0
    ids = np.arange(40).reshape(20, 2) % 5
    r = bptt.evaluate(p, ids, ids)
    assert r["perplexity"] == pytest.approx(5.0) and r["loss"] == pytest.approx(np.log(5))


@pytest.mark.parametrize("call, message", [
    (lambda p, f: bptt.backward(p, np.zeros((3, 2, 3)), f, np.zeros((3, 2, 9))), r"d_os: expected shape"),
    (lambda p, f: bptt.numerical_gradient(lambda q: 0.0, p, "Q"), r"name: expected one of"),
    (lambda p, f: bptt.numerical_gradient(lambda q: 0.0, p, "U", eps=-1.0), r"eps: expected a number > 0"),
    (lambda p, f: bptt.sgd(p, p, lr=float("nan")), r"lr: expected a finite number"),
    (lambda p, f: bptt.train_truncated(p, np.zeros((5, 2), int), np.zeros((4, 2), int), 2, 1, None),
     r"inputs, targets: expected two \(L, B\) arrays"),
    (lambda p, f: bptt.train_truncated(p, np.zeros((5, 2), int), np.zeros((5, 2), int), 9, 1, None),
     r"T: expected at most the stream length L=5"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    p = rnn.init_params(3, 4, 2)
    fwd = rnn.forward(p, np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match=message):
        call(p, fwd)


def test_backward_refuses_a_forward_pass_without_tanh():
    p, xs, ys, h0, _ = case()
    fwd = rnn.forward(p, xs, h0, activation="linear")
    with pytest.raises(ValueError, match="expected a forward pass with activation 'tanh'"):
        bptt.backward(p, xs, fwd, bptt.output_grad(fwd.os, ys))


def test_gradient_noise_falls_as_one_over_B():
    text = tasks.load_text()[:1500].lower()
    v = tasks.Vocab.from_text(text)
    p = rnn.init_params(len(v), 16, len(v), rng=0)
    r = bptt.gradient_noise(p, v.encode(text), T=10, batch_sizes=[1, 4, 16], n_windows=64, trials=400, rng=0)
    predicted = r["trace_C"] / r["B"]
    np.testing.assert_allclose(r["msd"], predicted, rtol=0.2)
    assert r["msd"][0] > 10 * r["msd"][2]


def test_flat_grad_order():
    p = rnn.init_params(2, 3, 2)
    v = bptt.flat_grad(p)
    assert v.size == 6 + 9 + 6 + 3 + 2
    np.testing.assert_array_equal(v[:6], p.U.ravel())


def test_clip_by_norm_keeps_the_container_type_of_gated_cells():
    from recurrent import gates

    rng = np.random.default_rng(0)
    for p in (gates.init_lstm(2, 3, 2, rng=0), gates.init_gru(2, 3, 2, rng=0)):
        _, grads, _ = gates.loss_and_grads(p, rng.normal(size=(4, 2, 2)), rng.integers(0, 2, (4, 2)))
        clipped, norm = bptt.clip_by_norm(grads, bptt.global_norm(grads) / 2)
        assert type(clipped) is type(grads)
        assert bptt.global_norm(clipped) == pytest.approx(norm / 2)
