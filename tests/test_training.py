"""Chapter 2, training: SGD, Adam, the one clipping function, truncated BPTT, evaluation, gradient noise."""
import numpy as np
import pytest

from recurrent import bptt, gru, lstm, rnn, tasks, training


def case(n=3, d=5, k=4, T=6, B=2, seed=0):
    rng = np.random.default_rng(seed)
    p = rnn.init_params(n, d, k, rng=rng)
    p.W *= 1.5
    p.b[:] = rng.normal(0, 0.5, d)
    p.c[:] = rng.normal(0, 0.5, k)
    xs, ys, h0 = rng.normal(size=(T, B, n)), rng.integers(0, k, (T, B)), rng.normal(0, 0.5, (B, d))
    return p, xs, ys, h0, None


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
    training.sgd(q, grads, lr=1e-3)
    np.testing.assert_allclose(q.W, p.W - 1e-3 * grads.W, atol=1e-16)
    loss1, _, _ = bptt.loss_and_grads(q, xs, ys, h0)
    # first-order decrease: L(theta - lr g) ~ L - lr ||g||^2
    assert loss1 < loss0
    assert (loss0 - loss1) == pytest.approx(1e-3 * training.global_norm(grads) ** 2, rel=0.05)


def test_adam_first_step_moves_each_entry_by_about_lr():
    p, xs, ys, h0, _ = case()
    _, grads, _ = bptt.loss_and_grads(p, xs, ys, h0)
    q = p.copy()
    training.Adam(q, lr=0.01)(q, grads)
    step = p.W - q.W
    np.testing.assert_allclose(step, 0.01 * np.sign(grads.W) * np.abs(grads.W) / (np.abs(grads.W) + 1e-8),
                               atol=1e-12)


def test_clip_by_norm():
    p, xs, ys, h0, _ = case()
    _, grads, _ = bptt.loss_and_grads(p, xs, ys, h0)
    norm = training.global_norm(grads)
    clipped, before = training.clip_by_norm(grads, norm / 4)
    assert before == pytest.approx(norm)
    assert training.global_norm(clipped) == pytest.approx(norm / 4)
    np.testing.assert_allclose(clipped.U * 4, grads.U)          # direction unchanged
    same, _ = training.clip_by_norm(grads, 2 * norm)
    assert same is not grads and all((a == b).all() for (_, a), (_, b) in zip(same.items(), grads.items()))
    with pytest.raises(ValueError, match="clip: expected a number > 0"):
        training.clip_by_norm(grads, 0.0)


def test_truncated_training_learns_a_short_echo_but_not_one_longer_than_the_window():
    """The chapter's claim: with chunks of T <= delay steps no gradient links y_t to x_{t-delay}."""
    x, y, m = tasks.delayed_echo(L=2000, B=16, k=4, delay=2, rng=0)
    xt, yt, mt = tasks.delayed_echo(L=400, B=4, k=4, delay=2, rng=1)
    acc = {}
    for T in (2, 5):
        p = rnn.init_params(4, 12, 4, rng=0)
        training.train_truncated(p, x, y, T=T, steps=1500 // T, mask=m, update=training.Adam(p, lr=1e-2),
                                 clip=5.0)
        acc[T] = training.evaluate(p, xt, yt, mt).accuracy
    assert acc[5] > 0.95 and acc[2] < 0.6, acc


def test_train_truncated_stops_with_a_clear_message_on_a_non_finite_loss():
    text = tasks.load_text()[:400].lower()
    v = tasks.Vocab.from_text(text)
    x, y = tasks.streams(v.encode(text), 2)
    p = rnn.init_params(len(v), 8, len(v), rng=0)

    def diverge(p, g):                    # stands in for an update that overflowed
        p.c[0] = np.inf

    with pytest.raises(FloatingPointError, match="at step 2: the loss became nan; lower the learning rate"):
        training.train_truncated(p, x, y, T=10, steps=50, update=diverge)


def test_train_truncated_logs_progress_and_validation():
    text = tasks.load_text()[:600].lower()
    v = tasks.Vocab.from_text(text)
    ids = v.encode(text)
    x, y = tasks.streams(ids[:500], 4)
    xv, yv = tasks.streams(ids[500:], 1)
    p = rnn.init_params(len(v), 16, len(v), rng=0)
    lines = []
    h = training.train_truncated(p, x, y, T=10, steps=60, update=training.Adam(p, lr=1e-2), log_every=20,
                             log=lines.append, validate=(xv, yv))
    assert len(lines) == 3 and lines[0].startswith("step    20/60") and "held-out" in lines[0]
    assert list(h.val_step) == [20, 40, 60] and h.loss.shape == (60,)
    assert h.loss[-10:].mean() < h.loss[:10].mean()


def test_train_truncated_with_log_none_validates_silently(capsys):
    text = tasks.load_text()[:600].lower()
    v = tasks.Vocab.from_text(text)
    ids = v.encode(text)
    x, y = tasks.streams(ids[:500], 4)
    xv, yv = tasks.streams(ids[500:], 1)
    p = rnn.init_params(len(v), 8, len(v), rng=0)
    h = training.train_truncated(p, x, y, T=10, steps=30, update=training.Adam(p, lr=1e-2), log_every=10,
                             log=None, validate=(xv, yv))
    assert capsys.readouterr().out == ""
    assert list(h.val_step) == [10, 20, 30] and h.val_loss.shape == (3,)


def test_evaluate_uniform_model_has_perplexity_k():
    p = rnn.init_params(5, 4, 5, rng=0)
    p.V[:] = 0.0
    ids = np.arange(40).reshape(20, 2) % 5
    r = training.evaluate(p, ids, ids)
    assert r.perplexity == pytest.approx(5.0) and r.loss == pytest.approx(np.log(5))


def test_gradient_noise_falls_as_one_over_B():
    text = tasks.load_text()[:1500].lower()
    v = tasks.Vocab.from_text(text)
    p = rnn.init_params(len(v), 16, len(v), rng=0)
    r = training.gradient_noise(p, v.encode(text), T=10, batch_sizes=[1, 4, 16], n_windows=64, trials=400,
                                rng=0)
    predicted = r.trace_C / r.B
    np.testing.assert_allclose(r.msd, predicted, rtol=0.2)
    assert r.msd[0] > 10 * r.msd[2]


def test_flat_grad_order():
    p = rnn.init_params(2, 3, 2)
    v = training.flat_grad(p)
    assert v.size == 6 + 9 + 6 + 3 + 2
    np.testing.assert_array_equal(v[:6], p.U.ravel())


def test_clip_by_norm_keeps_the_container_type_of_gated_cells():
    rng = np.random.default_rng(0)
    for p in (lstm.init_lstm(2, 3, 2, rng=0), gru.init_gru(2, 3, 2, rng=0)):
        _, grads, _ = bptt.loss_and_grads(p, rng.normal(size=(4, 2, 2)), rng.integers(0, 2, (4, 2)))
        clipped, norm = training.clip_by_norm(grads, training.global_norm(grads) / 2)
        assert type(clipped) is type(grads)
        assert training.global_norm(clipped) == pytest.approx(norm / 2)


def text_streams(chars=600, B=4):
    text = tasks.load_text()[:chars].lower()
    v = tasks.Vocab.from_text(text)
    return v, tasks.streams(v.encode(text), B)


def test_evaluate_averages_over_the_counted_positions_only():
    """With a mask, the loss is sum(mask * nll) / sum(mask) and the accuracy counts masked positions only."""
    rng = np.random.default_rng(3)
    p = rnn.init_params(4, 6, 4, rng=1)
    x, y = rng.integers(0, 4, (9, 3)), rng.integers(0, 4, (9, 3))
    mask = np.zeros((9, 3))
    mask[::3] = 1.0                                    # a third of the positions count
    os = bptt.forward(p, np.eye(4)[x]).os
    logp = os - np.log(np.exp(os).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, y[..., None], -1)[..., 0]
    r = training.evaluate(p, x, y, mask)
    assert r.loss == pytest.approx((nll * mask).sum() / mask.sum(), rel=1e-12)
    assert r.accuracy == pytest.approx(((os.argmax(-1) == y) * mask).sum() / mask.sum(), rel=1e-12)
    assert r.loss != pytest.approx(nll.mean(), rel=1e-3)      # not the mean over every position


def test_truncated_training_reads_every_chunk_including_the_last_then_starts_again():
    """L = 3T: steps 1, 2, 3 read [0, T), [T, 2T), [2T, 3T); step 4 reads [0, T) again, from a zero state."""
    rng = np.random.default_rng(4)
    T, L, B = 4, 12, 2
    x, y = rng.integers(0, 3, (L, B)), rng.integers(0, 3, (L, B))
    p = rnn.init_params(3, 5, 3, rng=2)
    h = training.train_truncated(p, x, y, T=T, steps=5, update=lambda p, g: None)   # p never changes
    eye, h0, expected = np.eye(3), None, []
    for start in (0, T, 2 * T, 0, T):
        if start == 0:
            h0 = None
        loss, _, fwd = bptt.loss_and_grads(p, eye[x[start:start + T]], y[start:start + T], h0)
        expected.append(loss / T)                      # per token: B / (T B) of the batch-mean loss
        h0 = fwd.hs[-1]
    np.testing.assert_allclose(h.loss, expected, rtol=1e-12)


def test_truncated_training_carries_the_lstm_cell_state_too():
    rng = np.random.default_rng(6)
    x, y = rng.integers(0, 3, (8, 2)), rng.integers(0, 3, (8, 2))
    p = lstm.init_lstm(3, 4, 3, rng=0)
    h = training.train_truncated(p, x, y, T=4, steps=2, update=lambda p, g: None)
    first = bptt.forward(p, np.eye(3)[x[:4]])
    second, _, _ = bptt.loss_and_grads(p, np.eye(3)[x[4:]], y[4:], first.hs[-1], first.cs[-1])
    assert h.loss[1] == pytest.approx(second / 4, rel=1e-12)
    without_c, _, _ = bptt.loss_and_grads(p, np.eye(3)[x[4:]], y[4:], first.hs[-1])
    assert h.loss[1] != pytest.approx(without_c / 4, rel=1e-9)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_train_truncated_and_evaluate_work_for_the_gated_cells(cell):
    v, (x, y) = text_streams(400, 2)
    p = lstm.init_lstm(len(v), 8, len(v)) if cell == "lstm" else gru.init_gru(len(v), 8, len(v))
    before = training.evaluate(p, x, y).loss
    h = training.train_truncated(p, x, y, T=10, steps=40, update=training.Adam(p, lr=2e-2), clip=5.0)
    assert h.loss.shape == (40,) and training.evaluate(p, x, y).loss < before


@pytest.mark.parametrize("beta", [1.0, 1.5, -0.1, float("nan")])
def test_adam_refuses_betas_outside_zero_one(beta):
    p = rnn.init_params(2, 3, 2)
    for name in ("beta1", "beta2"):
        with pytest.raises(ValueError, match=name):
            training.Adam(p, **{name: beta})


@pytest.mark.parametrize("bad", [-1, 5])
def test_token_ids_out_of_range_are_refused_not_wrapped(bad):
    p = rnn.init_params(5, 4, 5)
    ids = np.zeros((6, 2), int)
    ids[2, 1] = bad
    ok = np.zeros((6, 2), int)
    with pytest.raises(ValueError, match=r"inputs: expected indices in \[0, 5\)"):
        training.evaluate(p, ids, ok)
    with pytest.raises(ValueError, match=r"targets: expected indices in \[0, 5\)"):
        training.train_truncated(p, ok, ids, T=2, steps=1, update=lambda p, g: None)
    with pytest.raises(ValueError, match=r"ids: expected indices in \[0, 5\)"):
        training.gradient_noise(p, ids[:, 1], T=2, batch_sizes=[1], n_windows=2, trials=1)


@pytest.mark.parametrize("call, error, message", [
    (lambda p: training.sgd(p, p, lr=float("nan")), ValueError, r"lr: expected a finite number"),
    (lambda p: training.train_truncated(p, np.zeros((5, 2), int), np.zeros((4, 2), int), 2, 1, print),
     ValueError, r"targets: expected the shape of inputs, \(5, 2\), got \(4, 2\)"),
    (lambda p: training.train_truncated(p, np.zeros((5, 2), int), np.zeros((5, 2), int), 9, 1, print),
     ValueError, r"T: expected at most the stream length L=5"),
    (lambda p: training.train_truncated(p, np.zeros((5, 2), int), np.zeros((5, 2), int), 2, 1, None),
     TypeError, r"update: expected a function"),
    (lambda p: training.train_truncated(p, np.zeros((5, 2)), np.zeros((5, 2), int), 2, 1, print),
     TypeError, r"inputs: expected integer ids"),
    (lambda p: training.evaluate(p, np.zeros((5, 2), int), np.zeros((5, 2), int), np.zeros((5, 2))),
     ValueError, r"mask: expected at least one counted position"),
    (lambda p: training.clip_by_norm({"U": 1}, 1.0), TypeError, r"grads: expected a parameter container"),
    (lambda p: training.clip_by_norm(p, "1"), TypeError, r"clip: "),
    (lambda p: training.gradient_noise(p, np.zeros(20, int), 2, 4), TypeError, r"batch_sizes: expected"),
    (lambda p: training.evaluate(None, np.zeros((5, 2), int), np.zeros((5, 2), int)), TypeError, r"p: "),
])
def test_bad_input_raises_a_clear_error(call, error, message):
    p = rnn.init_params(3, 4, 3)
    with pytest.raises(error, match=message):
        call(p)
