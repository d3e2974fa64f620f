"""Chapter 1: the wirings of one recurrent cell, checked against the forward equations."""
import numpy as np
import pytest

from recurrent import architectures as arch
from recurrent import rnn


@pytest.fixture
def p():
    rng = np.random.default_rng(0)
    q = rnn.init_params(4, 6, 4, rng=rng)
    q.b[:] = rng.normal(0, 0.3, 6)
    return q


def test_shapes(p):
    xs = np.random.default_rng(1).normal(size=(5, 3, 4))
    assert arch.one_to_one(p, xs[0]).shape == (3, 4)
    assert arch.many_to_many(p, xs).shape == (5, 3, 4)
    assert arch.many_to_one(p, xs).shape == (3, 4)
    assert arch.one_to_many(p, xs[0], 7).shape == (7, 3, 4)
    os, context = arch.encoder_decoder(p, p, xs, 2)
    assert os.shape == (2, 3, 4) and context.shape == (3, 6)


def test_many_to_one_is_the_last_output_of_many_to_many(p):
    xs = np.random.default_rng(2).normal(size=(5, 2, 4))
    np.testing.assert_allclose(arch.many_to_one(p, xs), arch.many_to_many(p, xs)[-1], atol=1e-14)


def test_one_to_one_is_a_feed_forward_layer(p):
    x = np.random.default_rng(3).normal(size=(2, 4))
    np.testing.assert_allclose(arch.one_to_one(p, x), np.tanh(x @ p.U.T + p.b) @ p.V.T + p.c, atol=1e-14)


def test_one_to_many_feeds_back_its_own_argmax(p):
    x = np.eye(4)[[1, 3]]
    os = arch.one_to_many(p, x, 4)
    h, inp = np.zeros((2, 6)), x
    for t in range(4):
        h = rnn.step(p, inp, h)
        np.testing.assert_allclose(os[t], h @ p.V.T + p.c, atol=1e-14)
        inp = np.eye(4)[os[t].argmax(1)]
    silent = arch.one_to_many(p, x, 3, feedback=False)
    h2 = rnn.step(p, np.zeros((2, 4)), rnn.step(p, x, np.zeros((2, 6))))
    np.testing.assert_allclose(silent[1], h2 @ p.V.T + p.c, atol=1e-14)


def test_encoder_decoder_output_length_does_not_depend_on_input_length(p):
    rng = np.random.default_rng(4)
    for T_in in (1, 3, 9):
        os, context = arch.encoder_decoder(p, p, rng.normal(size=(T_in, 2, 4)), 5)
        assert os.shape == (5, 2, 4)
    xs = rng.normal(size=(3, 2, 4))
    _, context = arch.encoder_decoder(p, p, xs, 1)
    np.testing.assert_allclose(context, rnn.forward(p, xs).hs[-1], atol=1e-14)


def test_bidirectional_sees_the_future_and_is_symmetric_under_reversal(p):
    rng = np.random.default_rng(5)
    q = rnn.init_params(4, 6, 4, rng=rng)
    V, c = rng.normal(size=(3, 12)), rng.normal(size=3)
    xs = rng.normal(size=(6, 2, 4))
    os, hs = arch.bidirectional(p, q, V, c, xs)
    assert os.shape == (6, 2, 3) and hs.shape == (6, 2, 12)
    # changing the last input changes the first output: o_1 depends on x_T
    xs2 = xs.copy()
    xs2[-1] += 1.0
    assert np.abs(arch.bidirectional(p, q, V, c, xs2)[0][0] - os[0]).max() > 1e-6
    # swapping the two directions and reversing time gives the same states, halves swapped
    V_swap = np.concatenate([V[:, 6:], V[:, :6]], axis=1)
    os_r, _ = arch.bidirectional(q, p, V_swap, c, xs[::-1])
    np.testing.assert_allclose(os_r[::-1], os, atol=1e-13)


def test_predict(p):
    ids, probs = arch.predict(np.array([[0.0, 2.0, 1.0]]))
    assert ids.tolist() == [1] and probs[0] == pytest.approx(np.exp(2) / (1 + np.exp(1) + np.exp(2)))


@pytest.mark.parametrize("call, message", [
    (lambda p: arch.one_to_many(p, np.zeros((2, 4)), 0), r"T_out: expected an integer >= 1, got 0"),
    (lambda p: arch.one_to_many(rnn.init_params(3, 6, 4), np.zeros((2, 3)), 2),
     r"feedback: True needs n == k"),
    (lambda p: arch.encoder_decoder(p, rnn.init_params(4, 5, 4), np.zeros((2, 1, 4)), 2),
     r"dec: expected the hidden size d=6 of enc, got d=5"),
    (lambda p: arch.encoder_decoder(p, p, np.zeros((2, 1, 4)), 2, start=9),
     r"start: expected indices in \[0, 4\)"),
    (lambda p: arch.bidirectional(p, p, np.zeros((3, 6)), np.zeros(3), np.zeros((2, 1, 4))),
     r"V: expected shape \(k, 2d\) = \(k, 12\)"),
])
def test_bad_input_raises_a_clear_value_error(p, call, message):
    with pytest.raises(ValueError, match=message):
        call(p)


@pytest.mark.parametrize("call, message", [
    (lambda p: arch.one_to_one(p, "x"), r"x: expected a float array"),
    (lambda p: arch.one_to_many(None, np.zeros((2, 4)), 2), r"p: expected rnn.Params"),
    (lambda p: arch.one_to_many(p, np.zeros((2, 4)), 2, feedback="yes"), r"feedback: expected"),
    (lambda p: arch.encoder_decoder(p, {}, np.zeros((2, 1, 4)), 2), r"dec: expected rnn.Params"),
    (lambda p: arch.encoder_decoder(p, p, np.zeros((2, 1, 4)), 2, start=1.5), r"start: expected integer"),
    (lambda p: arch.bidirectional(p, None, np.zeros((3, 12)), np.zeros(3), np.zeros((2, 1, 4))),
     r"p_bwd: expected rnn.Params"),
])
def test_bad_type_raises_a_clear_type_error(p, call, message):
    with pytest.raises(TypeError, match=message):
        call(p)


def test_one_to_many_is_greedy_decoding_the_limit_of_sampling_at_low_temperature():
    """Feeding back the argmax (one_to_many) gives the sequence rnn.sample draws as temperature -> 0."""
    p = rnn.init_params(5, 8, 5, rng=4)
    for first in range(5):
        greedy = arch.one_to_many(p, np.eye(5)[[first]], T_out=12).argmax(axis=-1)[:, 0]
        np.testing.assert_array_equal(greedy, rnn.sample(p, first, 12, rng=0, temperature=1e-4))


def test_sampling_draws_from_the_softmax_of_the_logits_over_the_temperature():
    """The first token's frequencies over many draws match softmax(o_1 / tau), for tau = 0.5 and 2."""
    p = rnn.init_params(4, 6, 4, rng=2)
    p.V *= 4.0                                           # logits far enough apart for tau to matter
    o1 = rnn.forward(p, np.eye(4)[[[1]]]).os[0, 0]
    rng = np.random.default_rng(0)
    for tau in (0.5, 2.0):
        draws = np.array([rnn.sample(p, 1, 1, rng=rng, temperature=tau)[0] for _ in range(3000)])
        freq = np.bincount(draws, minlength=4) / len(draws)
        expected = np.exp(o1 / tau) / np.exp(o1 / tau).sum()
        assert np.abs(freq - expected).max() < 0.04, (tau, freq, expected)
