"""The seq2seq digit tasks, padded batches with masks, teacher forcing, input reversal, bucketing."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recurrent import seq2seq_data as sd

digits = st.text("0123456789", min_size=1, max_size=12)
strings = st.lists(digits, min_size=1, max_size=8)


def test_vocabulary_layout():
    assert (sd.PAD, sd.BOS, sd.EOS) == (0, 1, 2) and sd.V == 14 == len(sd.TOKENS)
    assert sd.encode("0123456789+").tolist() == list(range(3, 14))


@given(st.text("0123456789+", max_size=20))
def test_encode_decode_round_trip(text):
    ids = sd.encode(text)
    assert ids.dtype == np.int64 and len(ids) == len(text) and sd.decode(ids) == text
    # decode skips BOS and PAD and stops at the first EOS
    wrapped = np.concatenate([[sd.BOS], ids, [sd.EOS], sd.encode("12"), [sd.PAD, sd.PAD]]).astype(int)
    assert sd.decode(wrapped) == text


@given(digits, digits)
def test_answers(a, b):
    assert sd.answer("reverse", a) == a[::-1] and sd.answer("copy", a) == a
    assert sd.answer("addition", f"{a}+{b}") == str(int(a) + int(b))


@pytest.mark.parametrize("task", sd.TASKS)
def test_make_pairs_respects_the_lengths_and_answers(task):
    sources, targets = sd.make_pairs(task, 300, 2, 6, rng=3)
    assert len(sources) == len(targets) == 300
    assert all(sd.answer(task, s) == t for s, t in zip(sources, targets))
    if task == "addition":
        sizes = [len(part) for s in sources for part in s.split("+")]
        assert all(not part.startswith("0") for s in sources for part in s.split("+"))
    else:
        sizes = [len(s) for s in sources]
    assert min(sizes) == 2 and max(sizes) == 6                       # every length of the range occurs
    assert sd.make_pairs(task, 50, 2, 6, rng=9) == sd.make_pairs(task, 50, 2, 6, rng=9)


def test_a_carry_reaches_the_first_digit_of_the_sum():
    assert sd.answer("addition", "999+1") == "1000" and sd.answer("addition", "899+1") == "900"
    assert sd.answer("addition", "0+0") == "0" and sd.answer("reverse", "4711") == "1174"


def test_reversal_output_step_one_is_the_last_input():
    sources, targets = sd.make_pairs("reverse", 100, 1, 9, rng=0)
    assert all(t[0] == s[-1] and len(t) == len(s) for s, t in zip(sources, targets))
    sources, targets = sd.make_pairs("addition", 100, 1, 4, rng=0)
    assert all(len(t) < len(s) for s, t in zip(sources, targets))    # the sum is shorter than "a+b"


@given(strings)
def test_pad_batch_masks_cover_exactly_the_real_tokens(texts):
    seqs = [sd.encode(t) for t in texts]
    ids, mask = sd.pad_batch(seqs)
    T, B = ids.shape
    assert (T, B) == (max(len(s) for s in seqs), len(seqs)) and mask.shape == (T, B)
    assert mask.dtype == np.float64 and set(np.unique(mask)) <= {0.0, 1.0}
    for b, s in enumerate(seqs):
        assert np.array_equal(ids[mask[:, b] == 1, b], s)                 # real tokens, in order
        assert (ids[len(s):, b] == sd.PAD).all() and mask[:len(s), b].all() and not mask[len(s):, b].any()
    assert np.array_equal(sd.lengths(mask), [len(s) for s in seqs])
    assert ((ids != sd.PAD) == (mask == 1)).all()


@given(strings, st.booleans())
def test_make_batch_shifts_the_targets_by_one(texts, reverse):
    targets = [t[::-1] for t in texts]
    batch = sd.make_batch(texts, targets, reverse_source=reverse)
    for b, (x, y) in enumerate(zip(texts, targets)):
        L = len(y) + 1
        assert batch.dec_mask[:, b].sum() == L
        assert batch.dec_in[0, b] == sd.BOS and batch.dec_out[L - 1, b] == sd.EOS
        assert np.array_equal(batch.dec_in[1:L, b], batch.dec_out[:L - 1, b])   # teacher forcing
        assert sd.decode(batch.dec_out[:, b]) == y and sd.decode(batch.dec_in[:, b]) == y
        assert sd.decode(batch.src[:, b]) == (x[::-1] if reverse else x)
        assert np.array_equal(batch.src_mask[:, b] == 1, batch.src[:, b] != sd.PAD)


@given(strings)
def test_reverse_within_keeps_padding_at_the_end_and_is_an_involution(texts):
    ids, mask = sd.pad_batch([sd.encode(t) for t in texts])
    rev = sd.reverse_within(ids, mask)
    assert [sd.decode(rev[:, b]) for b in range(len(texts))] == [t[::-1] for t in texts]
    assert np.array_equal(rev == sd.PAD, ids == sd.PAD)
    assert np.array_equal(sd.reverse_within(rev, mask), ids)


@given(st.lists(st.integers(1, 30), min_size=1, max_size=200), st.integers(1, 40), st.integers(0, 99))
def test_buckets_cover_every_index_exactly_once(lengths, batch_size, seed):
    batches = sd.buckets(lengths, batch_size, rng=seed)
    flat = np.concatenate(batches)
    assert np.array_equal(np.sort(flat), np.arange(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)
    assert sum(len(b) == batch_size for b in batches) >= len(lengths) // batch_size
    # sorted by length: any two batches' length ranges overlap at most at one value
    spans = sorted((min(np.take(lengths, b)), max(np.take(lengths, b))) for b in batches)
    assert all(hi <= lo for (_, hi), (lo, _) in zip(spans, spans[1:]))
    random = sd.random_batches(len(lengths), batch_size, rng=seed)
    assert np.array_equal(np.sort(np.concatenate(random)), np.arange(len(lengths)))


def test_bucketing_saves_padding_on_a_seeded_example():
    sources, _ = sd.make_pairs("reverse", 512, 1, 16, rng=0)
    L = np.array([len(s) for s in sources])
    bucketed = sd.padding_fraction(L, sd.buckets(L, 32, rng=0))
    shuffled = [sd.padding_fraction(L, sd.random_batches(len(L), 32, rng=s)) for s in range(5)]
    assert bucketed < 0.1 < 0.3 < min(shuffled)


def test_padding_fraction_counts_padded_slots():
    L = np.array([3, 1, 2, 2])
    assert sd.padding_fraction(L, [np.array([0, 1]), np.array([2, 3])]) == pytest.approx(2 / 10)
    assert sd.padding_fraction(L, [np.array([2, 3]), np.array([0]), np.array([1])]) == 0.0
    ids, mask = sd.pad_batch([sd.encode("4" * n) for n in L])
    assert sd.padding_fraction(L, [np.arange(4)]) == pytest.approx(1 - mask.mean())


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="^sequences: expected a non-empty batch"):
        sd.pad_batch([])
    with pytest.raises(ValueError, match=r"^sequences\[1\]: expected indices in \[1, 14\)"):
        sd.pad_batch([np.array([3, 4]), np.array([5, 14])])
    with pytest.raises(ValueError, match=r"^sequences\[0\]: expected indices in \[1, 14\)"):
        sd.pad_batch([np.array([3, sd.PAD])])
    with pytest.raises(ValueError, match=r"^sequences\[0\]: expected a non-empty"):
        sd.pad_batch([np.array([], dtype=int)])
    with pytest.raises(ValueError, match="^targets: expected as many strings as sources"):
        sd.make_batch(["12", "3"], ["21"])
    with pytest.raises(ValueError, match="^sources: expected a non-empty batch"):
        sd.make_batch([], [])
    with pytest.raises(ValueError, match=r"^sources\[1\]: expected characters"):
        sd.make_batch(["12", "3x"], ["21", "x3"])
    with pytest.raises(ValueError, match=r"^lengths: expected indices in \[1, "):
        sd.buckets([3, -1, 2], 2)
    with pytest.raises(ValueError, match=r"^lengths: expected indices in \[1, "):
        sd.buckets([3, 0, 2], 2)
    with pytest.raises(ValueError, match="^max_len: expected an integer >= min_len"):
        sd.make_pairs("reverse", 3, 5, 4)
    with pytest.raises(ValueError, match="^mask: expected each column to be 1 up to its length"):
        sd.lengths(np.array([[1.0], [0.0], [1.0]]))
    with pytest.raises(ValueError, match="^ids: expected the shape of mask"):
        sd.reverse_within(np.ones((2, 2), dtype=int), np.ones((3, 2)))
    with pytest.raises(ValueError, match="^source: expected two numbers"):
        sd.answer("addition", "12+")
    with pytest.raises(ValueError, match=r"^batches\[0\]: expected indices in \[0, 3\)"):
        sd.padding_fraction([1, 2, 3], [np.array([0, 3])])


@pytest.mark.parametrize("bucket", [True, False])
def test_make_batches_holds_every_pair_once(bucket):
    sources, targets = sd.make_pairs("reverse", 70, 1, 9, rng=2)
    batches = sd.make_batches(sources, targets, 16, rng=0, bucket=bucket, reverse_source=True)
    assert [b.src.shape[1] for b in batches].count(16) == 4 and sum(b.src.shape[1] for b in batches) == 70
    pairs = sorted((sd.decode(b.src[:, i]), sd.decode(b.dec_out[:, i])) for b in batches
                   for i in range(b.src.shape[1]))
    assert pairs == sorted((s[::-1], t) for s, t in zip(sources, targets))
    src_pad = np.mean(np.concatenate([1 - b.src_mask.ravel() for b in batches]))
    L = [len(s) for s in sources]
    groups = sd.buckets(L, 16, rng=0) if bucket else sd.random_batches(70, 16, rng=0)
    assert src_pad == pytest.approx(sd.padding_fraction(L, groups), abs=1e-12)
    assert (src_pad < 0.2) if bucket else (src_pad > 0.3)
