"""Toy data: the shipped text, vocabularies, streams, the delayed-echo task, n-gram baselines."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import tasks


def test_shipped_text_loads():
    text = tasks.load_text()
    assert text.startswith("From fairest creatures") and text.count("\n\n") == 7   # eight sonnets
    assert len(text) > 4000


def test_char_vocab_round_trip_and_sorted_ids():
    v = tasks.Vocab.from_text("hello world")
    assert v.tokens == sorted(set("hello world")) and len(v) == 8
    np.testing.assert_array_equal(v.encode("hello"), [v.index[c] for c in "hello"])
    assert v.decode(v.encode("low world")) == "low world"
    with pytest.raises(ValueError, match=r"unknown \['z'\]"):
        v.encode("zoo")


def test_word_vocab_maps_unknown_words_to_unk():
    v = tasks.Vocab.from_text("The cat sat. The dog sat!", level="word")
    assert v.tokens[0] == tasks.UNK and "cat" in v.index and "." in v.index
    ids = v.encode("the bird sat")
    assert ids.tolist() == [v.index["the"], 0, v.index["sat"]]
    assert v.decode(ids) == "the <unk> sat"


def test_streams_are_contiguous_and_shifted_by_one():
    ids = np.arange(23)
    x, y = tasks.streams(ids, 4)
    assert x.shape == y.shape == (5, 4)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(x[:, 1], [5, 6, 7, 8, 9])      # stream 1 continues in time
    with pytest.raises(ValueError, match="at least B \\+ 1 = 5 ids"):
        tasks.streams(np.arange(4), 4)


def test_delayed_echo():
    x, y, m = tasks.delayed_echo(L=10, B=3, k=5, delay=3, rng=0)
    np.testing.assert_array_equal(y[3:], x[:7])
    assert m[:3].sum() == 0 and m[3:].min() == 1
    with pytest.raises(ValueError, match="delay: expected less than L=10"):
        tasks.delayed_echo(L=10, B=1, k=2, delay=10)


def test_ngram_perplexities():
    ids = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    assert tasks.ngram_perplexity(ids, ids, k=2, order=0) == 2.0
    assert tasks.ngram_perplexity(ids, ids, k=2, order=1) == pytest.approx(2.0)
    # alternating text: the bigram model predicts almost perfectly (add-one smoothing aside)
    assert tasks.ngram_perplexity(ids, ids, k=2, order=2) == pytest.approx(1 / (5 / 6) ** 1, rel=0.2)
    with pytest.raises(ValueError, match="order: expected one of"):
        tasks.ngram_perplexity(ids, ids, k=2, order=3)


def test_windows_are_consecutive_ids():
    x, y = tasks.windows(np.arange(100), T=5, count=7, rng=0)
    assert x.shape == y.shape == (5, 7)
    np.testing.assert_array_equal(np.diff(x, axis=0), 1)
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="at least T \\+ 1 = 6 ids"):
        tasks.windows(np.arange(5), T=5, count=1)


# --- Tests that catch bugs (issue 14): each kills mutants that survived the tests above. ---

def test_encode_returns_integer_ids_even_for_an_empty_text():
    for v in (tasks.Vocab.from_text("abc"), tasks.Vocab.from_text("a b", level="word")):
        ids = v.encode("")
        assert ids.shape == (0,) and ids.dtype == np.int64          # usable as an index, not float64
        assert v.encode(v.tokens[-1]).dtype == np.int64


def test_streams_with_exactly_b_plus_one_ids_give_one_step():
    x, y = tasks.streams(np.arange(5), 4)                             # N = B + 1: L = (N - 1) // B = 1
    np.testing.assert_array_equal(x, [[0, 1, 2, 3]])
    np.testing.assert_array_equal(y, [[1, 2, 3, 4]])
    x, y = tasks.streams(np.arange(9), 4)                             # N = 2B + 1: L = 2, nothing left over
    assert x.shape == (2, 4) and y[-1, -1] == 8


def test_delayed_echo_without_delay_and_with_every_token():
    x, y, m = tasks.delayed_echo(L=200, B=4, k=2, delay=0, rng=1)
    np.testing.assert_array_equal(y, x)
    assert m.min() == 1
    assert set(np.unique(x)) == {0, 1}                                # ids 0 .. k-1, each drawn
    with pytest.raises(ValueError, match="k"):
        tasks.delayed_echo(L=10, B=1, k=1, delay=0)                   # one token: nothing to remember


def test_ngram_perplexities_by_hand():
    # unigram (the default order): add-one counts of [0, 0, 1] over k = 2 give p = (3/5, 2/5)
    assert tasks.ngram_perplexity([0, 0, 1], [0, 1], k=2) == pytest.approx(1 / np.sqrt(0.6 * 0.4))
    # a token never seen in training still has its add-one count: p = (3/5, 1/5, 1/5), perplexity 5
    assert tasks.ngram_perplexity([0, 0], [2], k=3, order=1) == pytest.approx(5.0)
    # bigram: counts 1 + pairs of [0, 1, 0] = [[1, 2], [2, 1]]; rows normalised -> p(1|0) = 2/3, p(1|1) = 1/3
    assert tasks.ngram_perplexity([0, 1, 0], [0, 1, 1], k=2, order=2) == pytest.approx(3 / np.sqrt(2))
    # bigram rows, not columns: counts [[2, 2], [1, 1]] have rows 4 and 2 -> every p = 1/2
    assert tasks.ngram_perplexity([0, 0, 1], [0, 0, 1], k=2, order=2) == pytest.approx(2.0)


def test_windows_of_exactly_t_plus_one_ids_start_at_zero():
    x, y = tasks.windows(np.arange(6), T=5, count=3, rng=0)
    np.testing.assert_array_equal(x, np.tile(np.arange(5)[:, None], 3))
    np.testing.assert_array_equal(y, x + 1)


@given(N=st.integers(2, 40), T=st.integers(1, 12), seed=st.integers(0, 50))
def test_windows_start_anywhere_from_zero_to_the_last_position_and_never_run_past_the_end(N, T, seed):
    if N < T + 1:
        with pytest.raises(ValueError, match="at least T \\+ 1"):
            tasks.windows(np.arange(N), T, count=1, rng=seed)
        return
    x, y = tasks.windows(np.arange(N), T, count=400, rng=seed)
    assert y.max() <= N - 1 and x.min() >= 0
    starts = set(x[0].tolist())
    assert starts <= set(range(N - T)) and {0, N - T - 1} <= starts     # both ends are drawn


def test_copy_task_draws_every_token_from_1_to_k_and_never_the_blank():
    x, y, m = tasks.copy_task(S=5, episodes=40, B=4, k=3, rng=0)
    source = x.reshape(40, 10, 4)[:, :5]
    assert set(np.unique(source)) == {1, 2, 3}
    np.testing.assert_array_equal(y.reshape(40, 10, 4)[:, 5:], source)


def test_bigram_perplexity_needs_two_test_ids():
    with pytest.raises(ValueError, match="test_ids: expected at least 2"):
        tasks.ngram_perplexity([0, 1, 0], [1], k=2, order=2)
    assert tasks.ngram_perplexity([0, 1, 0], [0, 1], k=2, order=2) == pytest.approx(3 / 2)   # 1 / p(1|0)


@pytest.mark.parametrize("call", [
    lambda: tasks.windows(np.arange(12).reshape(2, 6), T=1, count=1),   # long enough: only the rank is wrong
    lambda: tasks.streams(np.arange(12).reshape(2, 6), B=1),
    lambda: tasks.Vocab.from_text("abc").decode([[0, 1]]),
])
def test_id_sequences_must_be_one_dimensional(call):
    with pytest.raises(ValueError, match="ids"):
        call()
