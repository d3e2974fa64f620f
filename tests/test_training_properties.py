"""Properties and hand-computed values that catch bugs the other tests let through (issue 14).

Each test here was written against a mutant that survived the unit tests (see scripts/mutation.py):
training's per-token loss, raw gradient norm and carried state; spectral's bounds and Gelfand roots;
the ReLU gradient norms of chapter 5 against BPTT; the architectures' initial states and start token.
"""
import numpy as np
import pytest

from recurrent import architectures, bptt, rnn, spectral, tasks, training, vanishing
from recurrent.losses import cross_entropy, softmax


def _model(n=4, d=5, k=4, seed=0):
    return rnn.init_params(n, d, k, rng=seed)


def _no_update(p, grads):
    """An update that changes nothing, so every chunk is read by the same parameters."""


# --- training.train_truncated / evaluate ----------------------------------------------------------

def test_recorded_loss_is_the_per_token_loss_of_each_chunk_read_from_zero_without_carry():
    """With carry=False and an update that changes nothing, step i's loss is evaluate() of chunk i."""
    p, T = _model(), 6
    x, y, m = tasks.delayed_echo(L=24, B=3, k=4, delay=2, rng=3)      # mask 0 on the first 2 steps
    h = training.train_truncated(p, x, y, T=T, steps=4, update=_no_update, mask=m, carry=False)
    for i in range(4):
        sl = slice(i * T, (i + 1) * T)
        assert h.loss[i] == pytest.approx(training.evaluate(p, x[sl], y[sl], m[sl]).loss, rel=1e-12)


def test_recorded_loss_with_a_single_counted_position_is_that_positions_cross_entropy():
    p = _model()
    x, y, _ = tasks.delayed_echo(L=5, B=2, k=4, delay=0, rng=1)
    m = np.zeros((5, 2))
    m[3, 1] = 1.0
    h = training.train_truncated(p, x, y, T=5, steps=1, update=_no_update, mask=m)   # T = L is allowed
    o = rnn.forward(p, np.eye(4)[x]).os[3, 1]
    assert h.loss[0] == pytest.approx(-np.log(softmax(o)[y[3, 1]]), rel=1e-12)


def test_carried_state_is_the_last_state_of_the_previous_chunk():
    """With carry=True, chunk 2's loss is that of the whole stream's second half read after the first."""
    p, T = _model(seed=2), 4
    x, y, _ = tasks.delayed_echo(L=8, B=2, k=4, delay=1, rng=5)
    carried = training.train_truncated(p, x, y, T=T, steps=2, update=_no_update)
    fresh = training.train_truncated(p, x, y, T=T, steps=2, update=_no_update, carry=False)
    whole = rnn.forward(p, np.eye(4)[x])
    tail = rnn.forward(p, np.eye(4)[x[T:]], h0=whole.hs[T - 1])
    expected = cross_entropy(tail.os, y[T:]) / T                # per token: (1/B) sum over b and t, / T
    assert carried.loss[1] == pytest.approx(expected, rel=1e-10)
    assert abs(fresh.loss[1] - carried.loss[1]) > 1e-6


@pytest.mark.parametrize("clip", [None, 1e-3])
def test_recorded_gradient_norm_is_the_raw_norm_before_clipping(clip):
    p = _model(seed=4)
    x, y, _ = tasks.delayed_echo(L=6, B=2, k=4, delay=1, rng=0)
    h = training.train_truncated(p, x, y, T=6, steps=1, update=_no_update, clip=clip)
    _, grads, _ = bptt.loss_and_grads(p, np.eye(4)[x], y)
    assert h.grad_norm[0] == pytest.approx(training.global_norm(grads), rel=1e-12)
    assert h.grad_norm[0] > 1e-2                                  # far above the clip threshold


def test_validation_is_reported_at_every_log_step_and_at_the_last_step():
    p = _model()
    x, y, _ = tasks.delayed_echo(L=40, B=2, k=4, delay=1, rng=0)
    h = training.train_truncated(p, x, y, T=4, steps=5, update=_no_update, log_every=2, log=None,
                                 validate=(x, y))
    assert h.val_step.tolist() == [2, 4, 5]
    assert h.val_loss == pytest.approx([training.evaluate(p, x, y).loss] * 3)


# --- spectral -------------------------------------------------------------------------------------

def test_power_norm_bounds_use_the_spectral_norm_and_the_gelfand_root_starts_at_t_1():
    W = np.array([[0.5, 1.0], [0.0, 0.5]])                       # rho = 0.5, ||W||_2 != Frobenius
    r = spectral.power_norms(W, 6)
    sigma = np.linalg.norm(W, 2)
    assert sigma != pytest.approx(np.linalg.norm(W))
    np.testing.assert_allclose(r.sigma_t, sigma ** np.arange(7))
    np.testing.assert_allclose(r.rho_t, 0.5 ** np.arange(7))
    assert np.isnan(r.gelfand[0])                                # ||W^0||^(1/0) is undefined
    assert r.gelfand[1] == pytest.approx(sigma)                  # ||W^1||^(1/1)
    np.testing.assert_allclose(r.gelfand[1:], r.norm[1:] ** (1.0 / np.arange(1, 7)))


def test_gradient_norm_references_are_hand_computed_for_a_diagonal_w():
    W = np.diag([0.9, 0.5])
    r = spectral.gradient_norms(W, 8, "tanh", input_scale=0.2, rng=1)
    k = np.arange(9)
    np.testing.assert_allclose(r.sigma_bound, 0.9 ** (8 - k))   # max |tanh'| = 1 times sigma_max
    np.testing.assert_allclose(r.rho_ref, 0.9 ** (8 - k))
    np.testing.assert_allclose(r.singular_values, [0.9, 0.5])


def test_linear_gradient_norms_do_not_depend_on_the_inputs():
    """For phi(z) = z the Jacobian is W whatever the states: ||dL/dh_k|| = ||(W^T)^(T-k) g||."""
    W = spectral.matrix("gaussian", 5, 1.1, rng=2)
    T = 9
    r = spectral.gradient_norms(W, T, "linear", input_scale=2.0, rng=3)
    rng = np.random.default_rng(3)
    rng.normal(0.0, 2.0, (T, 5))                                  # the inputs, drawn first
    g = rng.normal(size=5)
    g /= np.linalg.norm(g)
    expected = [np.linalg.norm(np.linalg.matrix_power(W.T, T - k) @ g) for k in range(T + 1)]
    np.testing.assert_allclose(r.norm, expected, rtol=1e-10)
    tanh = spectral.gradient_norms(W, T, "tanh", input_scale=2.0, rng=3)
    assert np.all(tanh.norm[:-1] < r.norm[:-1])                   # saturation: tanh' < 1 shrinks it


# --- vanishing.relu_gradient_norms (chapter 5) against BPTT through the same ReLU network -------

@pytest.mark.parametrize("W_of, seed", [(lambda d: np.eye(d), 0),
                                         (lambda d: spectral.matrix("gaussian", d, 1.0, rng=1), 2)])
def test_relu_gradient_norms_agree_with_bptt_through_the_same_relu_network(W_of, seed):
    d, T, scale = 6, 12, 0.7
    W = W_of(d)
    r = vanishing.relu_gradient_norms(W, T, input_scale=scale, rng=seed)
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, scale, (T, d))
    g = rng.normal(size=d)
    g /= np.linalg.norm(g)
    p = rnn.Params(U=np.eye(d), W=W, V=np.zeros((1, d)), b=np.zeros(d), c=np.zeros(1), activation="relu")
    xs = u[:, None, :]
    fwd = rnn.forward(p, xs)
    back = bptt.backward(p, xs, fwd, np.zeros((T, 1, 1)), d_hT=g[None])
    expected = np.concatenate([[np.linalg.norm(back.d_h0)], np.linalg.norm(back.d_hs[:, 0], axis=1)])
    assert r.k.tolist() == list(range(T + 1))
    np.testing.assert_allclose(r.norm, expected, rtol=1e-10, atol=1e-300)
    assert r.norm[T] == 1.0
    on = fwd.hs[:, 0] > 0                                         # (T, d): units active at t = 1..T
    np.testing.assert_allclose(r.active, on.mean(axis=1))
    alive = [on[k:].all(axis=0).mean() for k in range(T)] + [1.0]   # active at every step k+1..T
    np.testing.assert_allclose(r.alive, alive)


def test_initialisation_norms_are_those_of_the_four_families_drawn_with_the_seed():
    seed, d, T, scale = 3, 6, 10, 0.5
    r = vanishing.initialisation_norms(seed, d=d, T=T, input_scale=scale)
    irnn = vanishing.relu_gradient_norms(np.eye(d), T, scale, rng=seed)
    expected = [irnn.norm,
                spectral.gradient_norms(spectral.matrix("orthogonal", d, 1.0, rng=seed), T, "tanh", scale,
                                        rng=seed).norm,
                spectral.gradient_norms(spectral.matrix("gaussian", d, 1.0, rng=seed), T, "tanh", scale,
                                        rng=seed).norm,
                vanishing.relu_gradient_norms(spectral.matrix("gaussian", d, 1.0, rng=seed), T, scale,
                                              rng=seed).norm]
    assert list(r.norm) == list(vanishing.INIT_FAMILIES)
    for got, want in zip(r.norm.values(), expected):
        np.testing.assert_allclose(got, want)
    assert r.active == pytest.approx(irnn.active.mean()) and r.alive == pytest.approx(irnn.alive[0])


# --- architectures --------------------------------------------------------------------------------

def test_architectures_start_from_the_given_initial_state():
    p = _model(n=3, d=4, k=3, seed=1)
    xs = np.random.default_rng(0).normal(size=(5, 2, 3))
    h0 = np.random.default_rng(1).normal(size=(2, 4))
    os = architectures.many_to_many(p, xs, h0)
    np.testing.assert_allclose(os, rnn.forward(p, xs, h0).os)
    assert np.abs(os - architectures.many_to_many(p, xs)).max() > 1e-6
    np.testing.assert_allclose(architectures.many_to_one(p, xs, h0), rnn.forward(p, xs, h0).os[-1])
    first = architectures.one_to_many(p, xs[0], 3, h0=h0)[0]
    np.testing.assert_allclose(first, rnn.forward(p, xs[:1], h0).os[0])


def test_encoder_decoder_starts_the_decoder_from_the_context_and_the_one_hot_start_token():
    enc, dec = _model(n=3, d=4, k=3, seed=2), _model(n=5, d=4, k=5, seed=3)
    xs = np.random.default_rng(0).normal(size=(6, 2, 3))
    for start in (0, 4):
        os, context = architectures.encoder_decoder(enc, dec, xs, 3, start=start)
        np.testing.assert_allclose(context, rnn.forward(enc, xs).hs[-1])
        x0 = np.zeros((2, 5))
        x0[:, start] = 1.0
        np.testing.assert_allclose(os, architectures.one_to_many(dec, x0, 3, h0=context))
    default, _ = architectures.encoder_decoder(enc, dec, xs, 3)
    np.testing.assert_allclose(default, architectures.encoder_decoder(enc, dec, xs, 3, start=0)[0])
    with pytest.raises(ValueError, match="start"):
        architectures.encoder_decoder(enc, dec, xs, 3, start=5)         # ids run 0 .. n - 1


def test_predict_takes_the_most_likely_class_over_the_last_axis():
    os = np.random.default_rng(0).normal(size=(4, 3, 6))                # T, B, k all different
    ids, probs = architectures.predict(os)
    assert ids.shape == probs.shape == (4, 3)
    np.testing.assert_array_equal(ids, os.argmax(axis=-1))
    np.testing.assert_allclose(probs, softmax(os).max(axis=-1))


# --- second round: survivors of the run after the first round -------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda p: architectures.one_to_one(p, np.zeros((1, 2, 3))), "x"),
    (lambda p: architectures.one_to_many(p, np.zeros((1, 2, 3)), 2), "x"),
    (lambda p: architectures.bidirectional(p, p, np.zeros((3, 8)), np.zeros(3), np.zeros((2, 3))), "xs"),
    (lambda p: architectures.encoder_decoder(p, p, np.zeros((2, 1, 3)), 2, start=[0]), "start"),
    (lambda p: training.gradient_noise(p, np.zeros((2, 8), int), 2, [1]), "ids"),
])
def test_inputs_of_the_wrong_rank_are_refused_naming_the_argument(call, name):
    p = _model(n=3, d=4, k=3)
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call(p)


def test_relu_gradient_norms_with_no_input_keep_every_unit_off():
    """From h_0 = 0 with u = 0 every pre-activation is exactly 0: no unit is active (z > 0), no gradient
    passes, whatever W is; a 1x1 W is a network too."""
    r = vanishing.relu_gradient_norms(np.eye(3), 5, input_scale=0.0)
    assert r.active.tolist() == [0.0] * 5 and r.norm[:-1].tolist() == [0.0] * 5 and r.norm[-1] == 1.0
    one = vanishing.relu_gradient_norms(np.array([[2.0]]), 4, rng=1)
    assert one.norm.shape == (5,)


def test_copy_accuracy_of_models_that_always_answer_one_token():
    """A model whose output is c alone (V = 0) answers argmax c at every step: its accuracy at output
    position i is the fraction of episodes whose i-th source token is that id."""
    S, k = 3, 4
    x, y, _ = tasks.copy_task(S, episodes=50, B=2, k=k, rng=0)
    for answer in (0, 2):
        c = np.zeros(k + 1)
        c[answer] = 1.0
        p = rnn.Params(U=np.zeros((5, k + 1)), W=np.zeros((5, 5)), V=np.zeros((k + 1, 5)), b=np.zeros(5), c=c)
        acc = vanishing.copy_accuracy(p, x, y, S)
        wanted = y.reshape(50, 2 * S, 2)[:, S:].transpose(1, 0, 2).reshape(S, -1)
        np.testing.assert_allclose(acc, (wanted == answer).mean(axis=1))
    assert acc.min() > 0                                                 # id 2 is drawn at every position
