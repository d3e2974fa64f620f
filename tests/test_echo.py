"""Chapter 2's delayed-echo experiment: seeds trained side by side, accuracy by truncation window."""
import numpy as np
import pytest

from recurrent import echo, rnn, training

SYMBOLS = ("U", "W", "V", "b", "c")


def test_stacked_training_takes_the_steps_train_truncated_takes_for_each_network():
    """S networks side by side = S runs of train_truncated with Adam: same chunks, resets and clipping."""
    rng = np.random.default_rng(5)
    S, L, B, n, d, T, steps = 3, 23, 4, 3, 5, 4, 13             # 13 chunks of 4 > 23 steps: resets
    x, y = rng.integers(0, n, (S, L, B)), rng.integers(0, n, (S, L, B))
    mask = (rng.random((S, L, B)) < 0.8).astype(float)
    starts = [rnn.init_params(n, d, n, rng=s) for s in range(S)]
    for p in starts:
        p.W *= 2.0                                               # large gradients: clipping matters
    nets = {name: np.stack([getattr(p, name) for p in starts]) for name in SYMBOLS}
    echo.train_truncated_stacked(nets, x, y, mask, T=T, steps=steps, lr=0.05, clip=0.5)
    for s, p in enumerate(starts):
        history = training.train_truncated(p, x[s], y[s], T=T, steps=steps,
                                           update=training.Adam(p, lr=0.05), mask=mask[s], clip=0.5)
        assert (history.grad_norm > 0.5).any()               # the comparison covers clipped steps
        for name, a in p.items():
            np.testing.assert_allclose(nets[name][s], a, rtol=1e-10, atol=1e-12, err_msg=name)


def test_stacked_training_rejects_mismatched_shapes():
    nets = {name: np.stack([a]) for name, a in rnn.init_params(2, 3, 2).items()}
    x = np.zeros((1, 6, 2), int)
    with pytest.raises(ValueError, match=r"targets, mask: expected the shape \(S, L, B\)"):
        echo.train_truncated_stacked(nets, x, x[:, :5], np.ones((1, 6, 2)), T=2, steps=1)
    with pytest.raises(ValueError, match="inputs: expected S=1 rows of streams"):
        echo.train_truncated_stacked(nets, np.zeros((2, 6, 2), int), np.zeros((2, 6, 2), int),
                                     np.ones((2, 6, 2)), T=2, steps=1)
    with pytest.raises(ValueError, match="T: expected at most the stream length L=6, got 7"):
        echo.train_truncated_stacked(nets, x, x, np.ones((1, 6, 2)), T=7, steps=1)


def test_echo_accuracy_gives_each_seed_its_own_row_and_each_window_the_same_start():
    kwargs = dict(tokens=240, L=300, B=4, d=6)
    both = echo.accuracy_by_window(2, [2, 4], [3, 4], **kwargs)
    assert both.shape == (2, 2) and ((0 <= both) & (both <= 1)).all()
    # a seed's data and initial network do not depend on the other seeds or windows
    # (equal up to rounding: the networks are trained side by side)
    np.testing.assert_allclose(echo.accuracy_by_window(2, [4], [4], **kwargs)[0, 0], both[1, 1], atol=0.02)
    assert not np.array_equal(both[0], both[1])


def test_echo_accuracy_learns_the_echo_only_with_a_window_longer_than_the_delay():
    acc = echo.accuracy_by_window(2, [2, 5], [0, 1], d=12, tokens=1500, L=2000, B=16)
    assert (acc[:, 1] > 0.95).all() and (acc[:, 0] < 0.6).all(), acc


@pytest.mark.parametrize("call, message", [
    (lambda: echo.accuracy_by_window(2, [], [0]), "Ks: expected at least one window length"),
    (lambda: echo.accuracy_by_window(2, [0], [0]), "Ks: expected an integer >= 1"),
    (lambda: echo.accuracy_by_window(2, [50], [0], tokens=40, L=60), "Ks: expected at most min"),
    (lambda: echo.accuracy_by_window(2, [2], [-1]), "seeds: expected an integer >= 0"),
    (lambda: echo.accuracy_by_window(2, [2], []), "seeds: expected at least one seed"),
])
def test_echo_accuracy_rejects_bad_windows_and_seeds(call, message):
    with pytest.raises(ValueError, match=message):
        call()


