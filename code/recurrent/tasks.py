"""Toy data for the chapters: the shipped text, vocabularies, streams of ids, a delayed-echo task.

Token streams are integer arrays with time first: ``inputs: (L, B)``, ``targets: (L, B)``.
"""
from __future__ import annotations

import re
from importlib import resources

import numpy as np

from ._checks import as_bool, as_int_array, instance_of, one_of, positive_int, rng_from

UNK = "<unk>"


def load_text(name: str = "sonnets") -> str:
    """A text shipped with the package (see ``recurrent/data/README.md``)."""
    one_of("name", name, {"sonnets"})
    return resources.files("recurrent.data").joinpath(f"{name}.txt").read_text(encoding="utf-8")


def tokenize(text: str, level: str = "char") -> list:
    """Split text into characters, or into words and punctuation marks (``level="word"``)."""
    instance_of("text", text, str, "a str")
    one_of("level", level, {"char", "word"})
    if level == "char":
        return list(text)
    return re.findall(r"[\w']+|[^\w\s]", text.lower())


class Vocab:
    """A sorted list of tokens and the map token -> id. Word vocabularies have an ``<unk>`` id 0."""

    def __init__(self, tokens, level: str = "char"):
        self.level = one_of("level", level, {"char", "word"})
        if isinstance(tokens, str | bytes | dict) or not isinstance(tokens, list | tuple | set | frozenset):
            raise TypeError(f"tokens: expected a list of str tokens (tokenize's output), got "
                            f"{type(tokens).__name__}")
        if not all(isinstance(t, str) for t in tokens):
            raise TypeError(f"tokens: expected str tokens, got {sorted({type(t).__name__ for t in tokens})}")
        if not tokens:
            raise ValueError("tokens: expected at least one token, got none")
        tokens = sorted(set(tokens))
        self.tokens = tokens if level == "char" else [UNK] + [t for t in tokens if t != UNK]
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_text(cls, text: str, level: str = "char") -> Vocab:
        return cls(tokenize(text, level), level)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str):
        """Token ids of ``text``. Unknown words map to ``<unk>``; an unknown character is an error."""
        toks = tokenize(instance_of("text", text, str, "a str"), self.level)
        if self.level == "word":
            return np.array([self.index.get(t, 0) for t in toks], dtype=np.int64)
        unknown = sorted(set(toks) - set(self.index))
        if unknown:
            raise ValueError(f"text: expected characters of the vocabulary, got unknown {unknown}")
        return np.array([self.index[t] for t in toks], dtype=np.int64)

    def decode(self, ids) -> str:
        """The text of token ids: ids (N,) integers in [0, len(vocab))."""
        ids = as_int_array("ids", ids, 1, 0, len(self), dims="(N,)", allow_empty=True)
        sep = "" if self.level == "char" else " "
        return sep.join(self.tokens[i] for i in ids.tolist())


def streams(ids, B: int):
    """Cut one id sequence into B contiguous streams for next-token prediction.

    ids: (N,) -> (inputs, targets), each (L, B) with L = (N - 1) // B; targets[t] = the id after
    inputs[t]. Stream b continues where it stopped in the previous chunk, so carrying the hidden
    state from chunk to chunk is meaningful.
    """
    ids = as_int_array("ids", ids, 1, 0, np.iinfo(np.int64).max, dims="(N,)")
    B = positive_int("B", B)
    L = (len(ids) - 1) // B
    if L < 1:
        raise ValueError(f"ids: expected at least B + 1 = {B + 1} ids, got {len(ids)}")
    x = ids[: L * B].reshape(B, L).T
    y = ids[1: L * B + 1].reshape(B, L).T
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def delayed_echo(L: int, B: int, k: int, delay: int, rng=0):
    """Random tokens in, the same tokens ``delay`` steps later out: y_t = x_{t - delay}.

    Returns (inputs, targets, mask), each (L, B); mask is 0 for the first ``delay`` steps, whose
    targets do not exist. A model that ignores the past can only guess: accuracy 1/k.
    """
    L, B, k = positive_int("L", L), positive_int("B", B), positive_int("k", k, minimum=2)
    delay = positive_int("delay", delay, minimum=0)
    if delay >= L:
        raise ValueError(f"delay: expected less than L={L}, got {delay}")
    x = rng_from(rng).integers(0, k, size=(L, B))
    y = np.zeros_like(x)
    y[delay:] = x[: L - delay]
    mask = np.ones((L, B))
    mask[:delay] = 0.0
    return x, y, mask


def ngram_perplexity(train_ids, test_ids, k: int, order: int = 1) -> float:
    """Perplexity on ``test_ids`` of an add-one-smoothed n-gram model counted on ``train_ids``.

    order=0: every token equally likely (perplexity k); 1: unigram frequencies; 2: bigram, the
    next token given the previous one. A yardstick for what a sequence model must beat.
    """
    k = positive_int("k", k)
    one_of("order", order, {0, 1, 2})
    train_ids = as_int_array("train_ids", train_ids, 1, 0, k, dims="(N,) ids in [0, k)")
    test_ids = as_int_array("test_ids", test_ids, 1, 0, k, dims="(M,) ids in [0, k)")
    if order == 2 and len(test_ids) < 2:
        raise ValueError(f"test_ids: expected at least 2 ids for a bigram model, got {len(test_ids)}")
    if order == 0:
        return float(k)
    if order == 1:
        p = (np.bincount(train_ids, minlength=k) + 1.0) / (len(train_ids) + k)
        return float(np.exp(-np.mean(np.log(p[test_ids]))))
    counts = np.ones((k, k))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    p = counts / counts.sum(axis=1, keepdims=True)
    return float(np.exp(-np.mean(np.log(p[test_ids[:-1], test_ids[1:]]))))


def windows(ids, T: int, count: int, rng=0):
    """``count`` windows of T + 1 consecutive ids at random start positions, as next-token pairs.

    ids: (N,) -> (inputs, targets), each (T, count); targets[t] is the id after inputs[t].
    """
    ids = as_int_array("ids", ids, 1, 0, np.iinfo(np.int64).max, dims="(N,)")
    T, count = positive_int("T", T), positive_int("count", count)
    if len(ids) < T + 1:
        raise ValueError(f"ids: expected at least T + 1 = {T + 1} ids, got {len(ids)}")
    # the last window starts at N - T - 1 and ends at id N - 1: integers' high end is exclusive
    starts = rng_from(rng).integers(0, len(ids) - T, size=count)
    block = ids[starts[None, :] + np.arange(T + 1)[:, None]]        # (T + 1, count)
    return block[:-1], block[1:]


def copy_task(S: int, episodes: int, B: int, k: int, reverse: bool = False, rng=0):
    """Episodes of 2S steps: S random tokens (ids 1..k), then S blanks (id 0) during which the model
    must output the S tokens in their original order. ``reverse=True`` feeds the source backwards.

    Returns (inputs, targets, mask), each (episodes * 2S, B); the mask is 1 on the output half only.
    The vocabulary has k + 1 entries (0 is the blank); chunks of T = 2S steps are single episodes.
    """
    S, episodes = positive_int("S", S), positive_int("episodes", episodes)
    B, k, reverse = positive_int("B", B), positive_int("k", k), as_bool("reverse", reverse)
    src = rng_from(rng).integers(1, k + 1, size=(episodes, S, B))
    fed = src[:, ::-1] if reverse else src
    inputs = np.concatenate([fed, np.zeros_like(src)], axis=1).reshape(episodes * 2 * S, B)
    targets = np.concatenate([np.zeros_like(src), src], axis=1).reshape(episodes * 2 * S, B)
    mask = np.concatenate([np.zeros((episodes, S, B)), np.ones((episodes, S, B))], axis=1)
    return inputs, targets, mask.reshape(episodes * 2 * S, B)
