"""Toy data: the shipped text, vocabularies, streams, the delayed-echo task, n-gram baselines."""
import numpy as np
import pytest

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
