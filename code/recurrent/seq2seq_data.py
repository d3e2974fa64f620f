"""Chapter 9: digit-string tasks for sequence to sequence, variable-length batches and bucketing.

The tasks map a string of digits to another string whose length and content are computed in code:

    "reverse"   "4711"   -> "1174"    the main task: y_t = x_{T+1-t}
    "copy"      "4711"   -> "4711"    y_t = x_t
    "addition"  "37+125" -> "162"     the decimal sum of two numbers

Why reversal needs a sequence-to-sequence model: its first output digit is the *last* input digit,
so no model that writes y_t while reading x_t (a sequence labeller, chapter 1's many-to-many RNN)
can produce it; the whole input has to be read first. The output length varies with the input, so
the model also has to learn where to stop (EOS). In an encoder-decoder, y_1 = x_T is one step away
from the encoder's last state while y_T = x_1 lies 2T - 1 steps back; copying has the opposite
pattern (every y_t is T steps from x_t), which is what feeding the source reversed (Sutskever et
al. 2014) changes. Addition is the bonus task: its output is shorter than its input, and a carry
can make the first digit of the sum depend on every input digit.

Vocabulary: PAD = 0, BOS = 1, EOS = 2, then the symbols "0123456789+" (V = 14). A batch is time
first: ids (T, B) int with PAD after each sequence's end and a mask (T, B) float, 1 on the real
tokens and 0 on the padding. With teacher forcing (教师强制) the decoder reads BOS y_1 .. y_L and
is trained to write y_1 .. y_L EOS: the same targets shifted by one step.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_bool, as_float_array, as_int_array, instance_of, one_of, positive_int, rng_from

PAD, BOS, EOS = 0, 1, 2
SYMBOLS = "0123456789+"
TOKENS = ("<pad>", "<bos>", "<eos>", *SYMBOLS)
V = len(TOKENS)
TASKS = ("reverse", "copy", "addition")
_ID = {s: i + 3 for i, s in enumerate(SYMBOLS)}


class Batch(NamedTuple):
    """A padded batch of B pairs: source ids and mask (T_x, B); decoder inputs BOS + y, decoder
    targets y + EOS and their mask, all (T_y + 1, B)."""

    src: np.ndarray
    src_mask: np.ndarray
    dec_in: np.ndarray
    dec_out: np.ndarray
    dec_mask: np.ndarray


def encode(text: str) -> np.ndarray:
    """The ids (L,) int of a string of symbols ("0123456789+"), without BOS or EOS."""
    return _encode("text", text)


def _encode(name: str, text) -> np.ndarray:
    instance_of(name, text, str, "a str")
    unknown = sorted(set(text) - set(_ID))
    if unknown:
        raise ValueError(f"{name}: expected characters of {SYMBOLS!r}, got {unknown}")
    return np.array([_ID[s] for s in text], dtype=np.int64)


def decode(ids) -> str:
    """The string of ids (L,) int: PAD and BOS are skipped, and the string ends at the first EOS."""
    ids = as_int_array("ids", ids, 1, 0, V, dims="(L,)", allow_empty=True).tolist()
    if EOS in ids:
        ids = ids[:ids.index(EOS)]
    return "".join(TOKENS[i] for i in ids if i > EOS)


def answer(task: str, source: str) -> str:
    """The target string of ``source`` for ``task`` (see the module docstring)."""
    one_of("task", task, TASKS)
    instance_of("source", source, str, "a str")
    if task == "addition":
        parts = source.split("+")
        if len(parts) != 2 or not all(p.isdigit() and p.isascii() for p in parts):
            raise ValueError(f"source: expected two numbers joined by '+' such as '37+125', got {source!r}")
        return str(int(parts[0]) + int(parts[1]))
    if not (source.isdigit() and source.isascii()):
        raise ValueError(f"source: expected a non-empty string of digits, got {source!r}")
    return source[::-1] if task == "reverse" else source


def make_pairs(task: str, count: int, min_len: int, max_len: int, rng=0) -> tuple:
    """``count`` random (source, target) string pairs of ``task``: (sources, targets), two lists.

    For "reverse" and "copy" the source length is uniform in [min_len, max_len] and its digits are
    uniform; for "addition" each operand has a uniform number of digits in [min_len, max_len] (no
    leading zero).
    """
    one_of("task", task, TASKS)
    count, min_len = positive_int("count", count), positive_int("min_len", min_len)
    max_len = positive_int("max_len", max_len)
    if max_len < min_len:
        raise ValueError(f"max_len: expected an integer >= min_len = {min_len}, got {max_len}")
    rng = rng_from(rng)

    def number(L):
        digits = rng.integers(0, 10, L)
        if task == "addition" and L > 1:
            digits[0] = rng.integers(1, 10)
        return "".join(str(x) for x in digits)

    sources = []
    for _ in range(count):
        if task == "addition":
            sources.append(number(rng.integers(min_len, max_len + 1)) + "+"
                           + number(rng.integers(min_len, max_len + 1)))
        else:
            sources.append(number(rng.integers(min_len, max_len + 1)))
    return sources, [answer(task, s) for s in sources]


def _sequences(name: str, value) -> list:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name}: expected a list of id sequences, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: expected a non-empty batch (at least one sequence), got none")
    return [as_int_array(f"{name}[{i}]", s, 1, 1, V, dims="(L,) of non-PAD ids") for i, s in enumerate(value)]


def pad_batch(sequences) -> tuple:
    """Pad B id sequences (a list of (L_b,) int arrays, ids in [1, V): no PAD inside) into
    ids (T, B) int with T = max L_b and PAD after each end, and mask (T, B) float, 1 on the real
    tokens: mask[t, b] = 1 exactly when t < L_b."""
    seqs = _sequences("sequences", sequences)
    L = np.array([len(s) for s in seqs])
    ids = np.full((L.max(), len(seqs)), PAD, dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[:len(s), b] = s
    mask = (np.arange(L.max())[:, None] < L[None, :]).astype(np.float64)
    return ids, mask


def lengths(mask) -> np.ndarray:
    """The lengths L_b (B,) int of a batch's mask (T, B), checked to be 1 on a prefix of each column
    and 0 after it, with L_b >= 1."""
    mask = as_float_array("mask", mask, 2, dims="(T, B)")
    if not np.isin(mask, (0.0, 1.0)).all():
        raise ValueError("mask: expected entries 0 or 1, got other values")
    L = mask.sum(axis=0).astype(np.int64)
    prefix = (np.arange(mask.shape[0])[:, None] < L[None, :]).astype(np.float64)
    if not np.array_equal(mask, prefix):
        raise ValueError("mask: expected each column to be 1 up to its length and 0 after it (padding "
                         "at the end)")
    if L.min() < 1:
        raise ValueError(f"mask: expected every sequence to hold at least one token, column {L.argmin()} "
                         "is empty")
    return L


def reverse_within(ids, mask) -> np.ndarray:
    """Each column of ids (T, B) reversed within its real length (mask (T, B)), the padding left at
    the end: "4711" PAD PAD -> "1174" PAD PAD. The input reversal of Sutskever et al. (2014)."""
    L = lengths(mask)
    T = mask.shape[0]
    ids = as_int_array("ids", ids, 2, 0, V, dims="(T, B)")
    if ids.shape != mask.shape:
        raise ValueError(f"ids: expected the shape of mask {mask.shape}, got {ids.shape}")
    t = np.arange(T)[:, None]
    return ids[np.where(t < L, L - 1 - t, t), np.arange(ids.shape[1])]


def _strings(name: str, value) -> list:
    if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
        raise TypeError(f"{name}: expected a list of str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name}: expected a non-empty batch (at least one string), got none")
    return list(value)


def make_batch(sources, targets, reverse_source: bool = False) -> Batch:
    """The padded Batch of B (source, target) string pairs for teacher forcing; with
    ``reverse_source`` each source is fed reversed (its padding still at the end)."""
    sources, targets = _strings("sources", sources), _strings("targets", targets)
    if len(targets) != len(sources):
        raise ValueError(f"targets: expected as many strings as sources ({len(sources)}), got {len(targets)}")
    as_bool("reverse_source", reverse_source)
    if min(len(s) for s in sources) == 0:
        raise ValueError(f"sources: expected non-empty strings, got an empty one at {sources.index('')}")
    src, src_mask = pad_batch([_encode(f"sources[{i}]", s) for i, s in enumerate(sources)])
    if reverse_source:
        src = reverse_within(src, src_mask)
    ys = [_encode(f"targets[{i}]", y) for i, y in enumerate(targets)]
    dec_in, dec_mask = pad_batch([np.concatenate([[BOS], y]).astype(np.int64) for y in ys])
    dec_out, _ = pad_batch([np.concatenate([y, [EOS]]).astype(np.int64) for y in ys])
    return Batch(src, src_mask, dec_in, dec_out, dec_mask)


def _lengths_arg(value) -> np.ndarray:
    return as_int_array("lengths", value, 1, 1, np.iinfo(np.int64).max, dims="(N,) of lengths >= 1")


def buckets(lengths, batch_size: int, rng=0) -> list:
    """Batches of similar lengths: the indices of N sequences of ``lengths`` (N,) sorted by length
    (ties in random order), cut into batches of ``batch_size`` (the last may be smaller), the
    batches in random order. Returns a list of index arrays that covers 0 .. N-1 exactly once."""
    L = _lengths_arg(lengths)
    batch_size, rng = positive_int("batch_size", batch_size), rng_from(rng)
    shuffled = rng.permutation(len(L))
    order = shuffled[np.argsort(L[shuffled], kind="stable")]
    batches = [order[i:i + batch_size] for i in range(0, len(L), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def random_batches(count: int, batch_size: int, rng=0) -> list:
    """The baseline: indices 0 .. count-1 in random order, cut into batches of ``batch_size``."""
    count, batch_size = positive_int("count", count), positive_int("batch_size", batch_size)
    order = rng_from(rng).permutation(count)
    return [order[i:i + batch_size] for i in range(0, count, batch_size)]


def padding_fraction(lengths, batches) -> float:
    """The share of padded slots in a batching: sum_b (|b| max L - sum L) / sum_b |b| max L, over
    the batches (index arrays into ``lengths`` (N,)). 0 when every batch holds equal lengths."""
    L = _lengths_arg(lengths)
    if not isinstance(batches, (list, tuple)):
        raise TypeError(f"batches: expected a list of index arrays, got {type(batches).__name__}")
    if not batches:
        raise ValueError("batches: expected at least one batch, got none")
    slots = padded = 0
    for i, b in enumerate(batches):
        b = as_int_array(f"batches[{i}]", b, 1, 0, len(L), dims="(B,) of indices into lengths")
        slots += len(b) * int(L[b].max())
        padded += len(b) * int(L[b].max()) - int(L[b].sum())
    return padded / slots


def make_batches(sources, targets, batch_size: int, rng=0, bucket: bool = True,
                 reverse_source: bool = False) -> list:
    """The pairs cut into padded Batches of ``batch_size`` (see ``make_batch``): grouped by source
    length with ``buckets`` (``bucket``), else in random order (``random_batches``)."""
    sources, targets = _strings("sources", sources), _strings("targets", targets)
    if len(targets) != len(sources):
        raise ValueError(f"targets: expected as many strings as sources ({len(sources)}), got {len(targets)}")
    batch_size, rng = positive_int("batch_size", batch_size), rng_from(rng)
    as_bool("reverse_source", reverse_source)
    if as_bool("bucket", bucket):
        if min(len(s) for s in sources) == 0:
            raise ValueError(f"sources: expected non-empty strings, got an empty one at {sources.index('')}")
        groups = buckets([len(s) for s in sources], batch_size, rng)
    else:
        groups = random_batches(len(sources), batch_size, rng)
    return [make_batch([sources[i] for i in g], [targets[i] for i in g], reverse_source) for g in groups]
