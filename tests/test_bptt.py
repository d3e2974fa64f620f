"""Chapter 2: the RNN's BPTT against central differences and the book's formulas; the one API of all cells."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import bptt, gru, losses, lstm, rnn


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
    errors = bptt.gradient_check(p, xs, ys, h0, mask=mask)
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_would_catch_a_wrong_derivative(monkeypatch):
    """The check is not vacuous: dropping the tanh derivative (a classic slip) is detected."""
    p, xs, ys, h0, _ = case()
    real_backward = bptt._rnn_backward

    def wrong_backward(p, xs, fwd, d_os, d_hT=None):
        fake = fwd._replace(hs=np.zeros_like(fwd.hs) + 0.5 * fwd.hs)   # wrong 1 - h^2 factor
        return real_backward(p, xs, fake, d_os, d_hT)

    monkeypatch.setattr(bptt, "_rnn_backward", wrong_backward)
    errors = bptt.gradient_check(p, xs, ys, h0)
    assert max(errors["U"], errors["W"], errors["b"]) > 1e-3


def test_delta_recursion_matches_the_book_formula_step_by_step():
    """delta_t = V^T (y_hat_t - y_t)/B + W^T diag(1 - h_{t+1}^2) delta_{t+1}, for one example."""
    p, xs, ys, h0, _ = case(B=1, T=5)
    fwd = rnn.forward(p, xs, h0)
    g = losses.output_grad(fwd.os, ys)
    deltas = [None] * 5
    for t in reversed(range(5)):
        deltas[t] = p.V.T @ g[t, 0]
        if t + 1 < 5:
            deltas[t] += p.W.T @ ((1 - fwd.hs[t + 1, 0] ** 2) * deltas[t + 1])
    dW = sum(np.outer((1 - fwd.hs[t, 0] ** 2) * deltas[t], fwd.hs[t - 1, 0] if t else h0[0])
             for t in range(5))
    back = bptt.backward(p, xs, fwd, g)
    np.testing.assert_allclose(back.grads.W, dW, atol=1e-14)
    np.testing.assert_allclose(back.d_hs[:, 0], np.array(deltas), atol=1e-14)
    np.testing.assert_allclose(back.d_h0[0], p.W.T @ ((1 - fwd.hs[0, 0] ** 2) * deltas[0]), atol=1e-14)


def test_output_grad_is_softmax_minus_one_hot_over_B():
    os, ys = np.random.default_rng(1).normal(size=(3, 4, 5)), np.arange(12).reshape(3, 4) % 5
    np.testing.assert_allclose(losses.output_grad(os, ys), (losses.softmax(os) - rnn.one_hot(ys, 5)) / 4,
                               atol=1e-15)


def test_gradient_of_h0_and_of_a_gradient_arriving_at_hT():
    """backward's dL/dh0 output and d_hT input, checked by differences of L + <g, h_T>."""
    p, xs, ys, h0, _ = case(T=4, B=2)
    g_T = np.random.default_rng(9).normal(size=h0.shape)

    def total(h0_):
        fwd = rnn.forward(p, xs, h0_)
        return losses.cross_entropy(fwd.os, ys) + float(np.sum(g_T * fwd.hs[-1]))

    fwd = rnn.forward(p, xs, h0)
    dh0 = bptt.backward(p, xs, fwd, losses.output_grad(fwd.os, ys), d_hT=g_T).d_h0
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
    with pytest.raises(ValueError, match=r"a, b: expected arrays of one shape, got a \(1,\) and b \(2,\)"):
        bptt.relative_error([1.0], [1.0, 2.0])


def test_truncated_gradient_is_zero_for_inputs_outside_the_window():
    p, xs, ys, h0, _ = case(T=6, B=1)
    mask = np.zeros((6, 1))
    mask[-1] = 1.0                                   # only the loss at the last step
    fwd = rnn.forward(p, xs[3:], rnn.forward(p, xs[:3], h0).hs[-1])   # chunk of 3 from a carried state
    dh = bptt.backward(p, xs[3:], fwd, losses.output_grad(fwd.os, ys[3:], mask[3:])).d_h0
    assert np.abs(dh).max() > 0          # the full gradient would continue back from here ...
    # ... but train_truncated treats the carried state as a constant, so x_1..x_3 get nothing:
    # the chunk's gradient does not depend on them at all.
    xs2 = xs.copy()
    xs2[:3] += 1.0
    fwd2 = rnn.forward(p, xs2[3:], fwd.h0)
    g1 = bptt.backward(p, xs[3:], fwd, losses.output_grad(fwd.os, ys[3:], mask[3:])).grads
    g2 = bptt.backward(p, xs2[3:], fwd2, losses.output_grad(fwd2.os, ys[3:], mask[3:])).grads
    np.testing.assert_array_equal(g1.W, g2.W)




# ---------------------------------------------------------------- the one API, for every cell

CELLS = ["tanh", "relu", "linear", "lstm", "gru/torch", "gru/cho", "gru/simple"]


def make(cell, n, d, k, rng):
    if cell == "lstm":
        return lstm.init_lstm(n, d, k, rng=rng)
    if cell.startswith("gru"):
        return gru.init_gru(n, d, k, variant=cell.split("/")[1], rng=rng)
    return rnn.init_params(n, d, k, rng=rng, activation=cell)


def any_case(cell, n=3, d=4, k=3, T=6, B=2, seed=0, masked=False, loss="cross_entropy"):
    """Parameters with non-zero biases, data, non-zero initial states, targets of ``loss``."""
    rng = np.random.default_rng(seed)
    p = make(cell, n, d, 1 if loss == "last_squared_error" else k, rng)
    p.W *= 1.5
    for _, a in p.items():
        if a.ndim == 1:
            a[:] = rng.normal(0, 0.5, a.shape)
    xs, h0 = rng.normal(size=(T, B, n)), rng.normal(0, 0.5, (B, d))
    c0 = rng.normal(0, 0.5, (B, d)) if cell == "lstm" else None
    if loss == "last_squared_error":
        return p, xs, rng.random(B), h0, c0, None
    mask = (rng.random((T, B)) < 0.6).astype(float) if masked else None
    return p, xs, rng.integers(0, k, (T, B)), h0, c0, mask


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("loss, masked", [("cross_entropy", False), ("cross_entropy", True),
                                          ("last_squared_error", False)], ids=["all", "masked", "squared"])
def test_every_cell_and_loss_agrees_with_central_differences(cell, loss, masked):
    p, xs, ys, h0, c0, mask = any_case(cell, T=7, B=3, seed=2, masked=masked, loss=loss)
    errors = bptt.gradient_check(p, xs, ys, h0, c0, mask, loss=loss)
    assert set(errors) == {name for name, _ in p.items()}
    assert max(errors.values()) < 1e-7, errors


@given(cell=st.sampled_from(CELLS), loss=st.sampled_from(["cross_entropy", "last_squared_error"]),
       n=st.integers(1, 3), d=st.integers(1, 4), T=st.integers(1, 6), B=st.integers(1, 3),
       seed=st.integers(0, 10**6))
def test_gradient_check_holds_for_every_cell_shape_and_seed(cell, loss, n, d, T, B, seed):
    """As in test_lstm: each symbol passes at eps = 1e-5 or 1e-4 (tiny gradients meet rounding at 1e-5)."""
    p, xs, ys, h0, c0, mask = any_case(cell, n, d, 3, T, B, seed, loss=loss)
    fine, coarse = (bptt.gradient_check(p, xs, ys, h0, c0, mask, loss=loss, eps=eps) for eps in (1e-5, 1e-4))
    errors = {name: min(fine[name], coarse[name]) for name in fine}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
def test_initial_states_and_gradients_arriving_at_the_last_state(cell):
    """d_h0, d_c0 and the effect of d_hT, d_cT, by central differences of L + <g_h, h_T> + <g_c, c_T>."""
    p, xs, ys, h0, c0, mask = any_case(cell, T=5, seed=4, masked=True)
    rng = np.random.default_rng(5)
    g_h = rng.normal(size=h0.shape)
    g_c = rng.normal(size=h0.shape) if cell == "lstm" else None

    def total(h0_, c0_):
        fwd = bptt.forward(p, xs, h0_, c0_)
        extra = float(np.sum(g_h * fwd.hs[-1])) + (float(np.sum(g_c * fwd.cs[-1])) if g_c is not None else 0)
        return losses.cross_entropy(fwd.os, ys, mask) + extra

    fwd = bptt.forward(p, xs, h0, c0)
    back = bptt.backward(p, xs, fwd, losses.output_grad(fwd.os, ys, mask), g_h, g_c)
    eps = 1e-6
    for state, grad in ((h0, back.d_h0), (c0, back.d_c0)):
        if state is None:
            assert grad is None
            continue
        numeric = np.zeros_like(state)
        for i in np.ndindex(state.shape):
            e = np.zeros_like(state)
            e[i] = eps
            up = total(h0 + e, c0) if state is h0 else total(h0, c0 + e)
            down = total(h0 - e, c0) if state is h0 else total(h0, c0 - e)
            numeric[i] = (up - down) / (2 * eps)
        assert bptt.relative_error(grad, numeric) < 1e-7


@pytest.mark.parametrize("cell", CELLS)
def test_loss_and_grads_is_backward_of_the_loss(cell):
    p, xs, ys, h0, c0, mask = any_case(cell, masked=True)
    loss, grads, fwd = bptt.loss_and_grads(p, xs, ys, h0, c0, mask)
    assert loss == losses.cross_entropy(bptt.forward(p, xs, h0, c0).os, ys, mask)
    back = bptt.backward(p, xs, fwd, losses.output_grad(fwd.os, ys, mask))
    assert type(grads) is type(p) and fwd.kind == p.kind
    for (name, a), (_, b) in zip(grads.items(), back.grads.items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_norms_are_the_norms_of_the_backward_states(cell):
    p, xs, ys, h0, c0, _ = any_case(cell, T=5, B=2, seed=8)
    fwd = bptt.forward(p, xs, h0, c0)
    d_os = losses.last_step_grad(fwd.os, ys[-1])
    r = bptt.gradient_norms(p, xs, d_os, h0, c0)
    back = bptt.backward(p, xs, fwd, d_os)
    np.testing.assert_array_equal(r.t, np.arange(1, 6))
    np.testing.assert_allclose(r.h, [np.linalg.norm(back.d_hs[t]) for t in range(5)], rtol=1e-14)
    assert (r.c is None) == (cell != "lstm")


def test_a_backward_pass_that_overflows_raises_floating_point_error_not_value_error():
    """Training loops stop on FloatingPointError; an overflow in the backward pass must raise it too."""
    p = rnn.init_params(2, 3, 1)
    p.W[...] = 1e200 * np.eye(3)                 # from h = 0 the forward pass stays at 0 ...
    xs = np.zeros((3, 1, 2))
    fwd = bptt.forward(p, xs)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(FloatingPointError, match="non-finite"):
        bptt.backward(p, xs, fwd, np.full((3, 1, 1), 1e200))      # ... but W^T dz overflows


def lstm_p():
    return lstm.init_lstm(3, 4, 2)


X = np.zeros((5, 2, 3))


@pytest.mark.parametrize("call, message", [
    (lambda p: bptt.backward(p, X, rnn.forward(p, X), np.zeros((5, 2, 9))), r"d_os: expected shape"),
    (lambda p: bptt.backward(p, X[:3], rnn.forward(p, X), np.zeros((3, 2, 2))),
     r"fwd: expected the forward pass of this rnn/tanh cell over xs of shape \(3, 2, 3\)"),
    (lambda p: bptt.backward(p, X, bptt.forward(rnn.init_irnn(3, 4, 2), X), np.zeros((5, 2, 2))),
     r"fwd: expected the forward pass of this rnn/tanh cell .* got one of 'rnn/relu'"),
    (lambda p: bptt.forward(p, X, c0=np.zeros((2, 4))), r"c0: only the LSTM has a cell state"),
    (lambda p: bptt.forward(gru.init_gru(3, 4, 2), X, c0=np.zeros((2, 4))), r"c0: only the LSTM"),
    (lambda p: bptt.loss_and_grads(p, X, np.zeros((5, 2), int), c0=np.zeros((2, 4))), r"c0: only the LSTM"),
    (lambda p: bptt.backward(p, X, rnn.forward(p, X), np.zeros((5, 2, 2)), d_cT=np.zeros((2, 4))),
     r"d_cT: only the LSTM"),
    (lambda p: bptt.backward(lstm_p(), X[:3], bptt.forward(lstm_p(), X), np.zeros((3, 2, 2))),
     r"fwd: expected the forward pass of this lstm cell over xs of shape \(3, 2, 3\)"),
    (lambda p: bptt.forward(lstm_p(), X, c0=np.zeros((3, 4))), r"c0: expected shape \(B, d\) = \(2, 4\)"),
    (lambda p: bptt.loss_and_grads(p, X, np.zeros((5, 2), int), loss="mse"), r"loss: expected one of"),
    (lambda p: bptt.loss_and_grads(p, X, np.zeros(2), loss="last_squared_error"),
     r"p: expected one output \(k = 1\)"),
    (lambda p: bptt.loss_and_grads(p, X, np.full((5, 2), 2)), r"ys: expected indices in \[0, 2\)"),
    (lambda p: bptt.loss_and_grads(p, X, np.full((5, 2), -1)), r"ys: expected indices in \[0, 2\)"),
    (lambda p: bptt.gradient_check(p, X, np.zeros((5, 2), int), eps=0.0), r"eps: expected a number > 0"),
    (lambda p: bptt.numerical_gradient(lambda q: 0.0, p, "Q"), r"name: expected one of"),
    (lambda p: bptt.numerical_gradient(lambda q: 0.0, p, "U", eps=-1.0), r"eps: expected a number > 0"),
])
def test_bad_value_raises_a_clear_value_error(call, message):
    p = rnn.init_params(3, 4, 2)
    with pytest.raises(ValueError, match=message):
        call(p)


@pytest.mark.parametrize("call, message", [
    (lambda p: bptt.loss_and_grads(None, X, np.zeros((5, 2), int)),
     r"p: expected rnn.Params, lstm.LSTMParams or gru.GRUParams, got None"),
    (lambda p: bptt.forward({"U": 1}, X), r"p: expected rnn.Params, .* got dict"),
    (lambda p: bptt.backward(p, X, (1, 2), np.zeros((5, 2, 2))), r"fwd: expected cell.Forward"),
    (lambda p: bptt.loss_and_grads(p, X, np.zeros((5, 2))), r"ys: expected integer ids"),
    (lambda p: bptt.loss_and_grads(p, X + 0.5j, np.zeros((5, 2), int)), r"xs: expected a float array"),
    (lambda p: bptt.loss_and_grads(p, X, np.zeros((5, 2), int), loss=["cross_entropy"]), r"loss: expected"),
])
def test_bad_type_raises_a_clear_type_error(call, message):
    p = rnn.init_params(3, 4, 2)
    with pytest.raises(TypeError, match=message):
        call(p)
