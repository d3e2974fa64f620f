"""Chapter 9: turning a trained decoder into an output sequence, for any model.

Every function here talks to the model only through a *step function*::

    step(tokens, state) -> (log_probs, new_state)
        tokens: (K,) int           the last token of each of K hypotheses (BOS at the start)
        state:                     an array, or a (nested) tuple or list of arrays, each with the K
                                   hypotheses in axis 0 (e.g. h: (K, d); encoder outputs as (K, T, d))
        log_probs: (K, V) float    log p(next token | hypothesis), each row normalised (-inf allowed)
        new_state:                 the state after reading ``tokens``, same structure, K in axis 0

``state0`` is the state before the first token, for one example (K = 1), except in ``greedy_batch``,
which decodes K independent examples at once. ``reorder`` indexes a state along axis 0: beam search
uses it to follow its backpointers, ``sample`` to copy one example's state ``count`` times.

An output y = (y_1, ..., y_L) is at most ``max_len`` tokens long: it ends with ``eos`` (included in
the tokens and in log p(y)) or is cut at ``max_len``. Its log-probability is
log p(y) = sum_t log p(y_t | y_<t), its normalised score s(y) = log p(y) / lp(L) with the length penalty
lp(L) = ((5 + L) / 6)^alpha of Wu et al. (2016, arXiv:1609.08144; no coverage penalty); alpha = 0: log p(y).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks as ck
from ._checks import as_callable, as_float_array, as_int_array, describe, positive_float, positive_int

LIMIT = 10 ** 6          # outputs ``exhaustive`` may enumerate
_TOL = 1e-6              # |logsumexp(row)| allowed for log-probabilities


class Hypothesis(NamedTuple):
    """One decoded output: tokens (L,) int (no BOS; EOS last when finished), log p(y), s(y)."""

    tokens: np.ndarray
    log_prob: float
    score: float


def length_penalty(length: int, alpha: float = 0.0) -> float:
    """lp(L) = ((5 + L) / 6)^alpha (Wu et al. 2016); 1 for alpha = 0."""
    length = positive_int("length", length)
    alpha = positive_float("alpha", alpha, allow_zero=True)
    return float(((5.0 + length) / 6.0) ** alpha)


def _rows(name: str, state, K: int | None = None) -> int:
    """The number of hypotheses in axis 0 of every array of ``state`` (checked to agree)."""
    if isinstance(state, np.ndarray):
        if state.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected numeric arrays, got {describe(state)}")
        if state.ndim == 0:
            raise ValueError(f"{name}: expected arrays with the hypotheses in axis 0, got "
                             f"{describe(state)}")
        rows = state.shape[0]
    elif isinstance(state, (tuple, list)) and state:
        rows = None
        for part in state:
            rows = _rows(name, part, rows)
    elif isinstance(state, (int, float, np.number)) and not isinstance(state, bool):
        raise ValueError(f"{name}: expected arrays with the hypotheses in axis 0, got {describe(state)}")
    else:
        raise TypeError(f"{name}: expected an array or a non-empty tuple of arrays, got "
                        f"{describe(state)}")
    if K is not None and rows != K:
        raise ValueError(f"{name}: expected {K} hypotheses in axis 0 of every array, got {rows}")
    return rows


def reorder(state, index):
    """The state of hypotheses ``index`` (M,) int: every array of ``state`` indexed along axis 0, the
    structure (array, tuple, named tuple, list) kept. An index may repeat (a hypothesis that grows
    several children) or be left out (one that is dropped)."""
    K = _rows("state", state)
    index = as_int_array("index", index, 1, 0, K, dims="(M,)")
    return _take(state, index)


def _take(state, index):
    if isinstance(state, np.ndarray):
        return state[index]
    parts = [_take(part, index) for part in state]
    return type(state)(*parts) if hasattr(state, "_fields") else type(state)(parts)


def _call(step, tokens: np.ndarray, state, V: int | None):
    """One checked call of the step function: (log_probs (K, V), new_state)."""
    out = step(tokens, state)
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"step: expected to return (log_probs, new_state), got {describe(out)}")
    log_probs, new_state = np.asarray(out[0]), out[1]
    K = len(tokens)
    if log_probs.dtype.kind != "f" or log_probs.ndim != 2 or log_probs.shape[0] != K \
            or (V is not None and log_probs.shape[1] != V):
        want = f"({K}, {V if V is not None else 'V'})"
        raise ValueError(f"step: expected log_probs of shape {want} float, got {describe(log_probs)}")
    if np.isnan(log_probs).any() or (log_probs == np.inf).any():
        raise ValueError("step: expected log_probs without NaN or +inf")
    top = log_probs.max(axis=1, keepdims=True)
    if not np.isfinite(top).all():
        raise ValueError("step: expected every row of log_probs to give some token a probability > 0")
    lse = top[:, 0] + np.log(np.exp(log_probs - top).sum(axis=1))
    if np.abs(lse).max() > _TOL:
        raise ValueError(f"step: expected normalised log-probabilities (logsumexp of each row = 0), "
                         f"got {lse.flat[np.abs(lse).argmax()]:.3g}: apply log_softmax to the logits")
    _rows("step's new_state", new_state, K)
    return log_probs, new_state


def _vocab(V: int | None, log_probs: np.ndarray, **ids) -> int:
    """V from the first step's log_probs, checking that the ids given are in [0, V)."""
    if V is None:
        V = log_probs.shape[1]
        for name, value in ids.items():
            if value >= V:
                raise ValueError(f"{name}: expected an id in [0, {V}) (the step's vocabulary), got {value}")
    return V


def _common(step, state0, bos, eos, max_len, one: bool = True):
    as_callable("step", step, "a step function (tokens, state) -> (log_probs, new_state)")
    K = _rows("state0", state0)
    if one and K != 1:
        raise ValueError(f"state0: expected one example (1 row in axis 0), got {K} rows")
    bos, eos = positive_int("bos", bos, 0), positive_int("eos", eos, 0)
    return K, bos, eos, positive_int("max_len", max_len)


def greedy_batch(step, state0, bos: int, eos: int, max_len: int):
    """Greedy decoding of K independent examples: y_t = argmax_v log p(v | y_<t), until EOS.

    state0 has K rows. Returns tokens (L, K) int, mask (L, K) float (1 up to and including each
    example's EOS; the tokens after it are ``eos``) and log p(y) (K,); L <= max_len is the longest
    output. Ties go to the lowest id.
    """
    K, bos, eos, max_len = _common(step, state0, bos, eos, max_len, one=False)
    tokens, state, V = np.full(K, bos, dtype=np.int64), state0, None
    alive, log_p, out, mask = np.ones(K, bool), np.zeros(K), [], []
    for _ in range(max_len):
        log_probs, state = _call(step, tokens, state, V)
        V = _vocab(V, log_probs, bos=bos, eos=eos)
        tokens = np.where(alive, log_probs.argmax(axis=1), eos)
        log_p += np.where(alive, log_probs[np.arange(K), tokens], 0.0)
        out.append(tokens)
        mask.append(alive.astype(np.float64))
        alive = alive & (tokens != eos)
        if not alive.any():
            break
    return np.array(out), np.array(mask), log_p


def greedy(step, state0, bos: int, eos: int, max_len: int) -> Hypothesis:
    """The greedy output of one example (see ``greedy_batch``); its score is log p(y)."""
    _common(step, state0, bos, eos, max_len)
    tokens, mask, log_p = greedy_batch(step, state0, bos, eos, max_len)
    return Hypothesis(tokens[mask[:, 0] > 0, 0], float(log_p[0]), float(log_p[0]))


def _hypothesis(tokens, log_p: float, alpha: float) -> Hypothesis:
    tokens = np.array(tokens, dtype=np.int64)
    return Hypothesis(tokens, float(log_p), float(log_p) / length_penalty(len(tokens), alpha))


def _ranked(hyps: list) -> list:
    return sorted(hyps, key=lambda h: -h.score)       # stable: ties keep the order found


def beam_search(step, state0, bos: int, eos: int, max_len: int, width: int,
                alpha: float = 0.0) -> list:
    """Beam search (束搜索): keep the ``width`` most probable prefixes at each step (Sutskever et al. 2014).

    At step t every live prefix is extended by every token; of the K V candidates the ``width``
    with the highest log p(y_<=t) are kept (prefixes of one length rank the same under lp). A kept
    candidate that ends with EOS is finished and leaves the beam, so the beam narrows; the search
    stops when it is empty or after ``max_len`` steps, and the live prefixes then count as outputs
    cut at max_len. Returns every finished or cut hypothesis, best score s(y) first (``alpha`` > 0
    favours longer outputs). Width 1 is greedy decoding; a width of at least V^max_len keeps every
    prefix and so finds the exhaustive argmax.
    """
    _, bos, eos, max_len = _common(step, state0, bos, eos, max_len)
    width = positive_int("width", width)
    alpha = positive_float("alpha", alpha, allow_zero=True)
    prefixes, log_p = np.zeros((1, 0), dtype=np.int64), np.zeros(1)
    tokens, state, V, done = np.array([bos]), state0, None, []
    for _ in range(max_len):
        log_probs, state = _call(step, tokens, state, V)
        V = _vocab(V, log_probs, bos=bos, eos=eos)
        candidates = (log_p[:, None] + log_probs).ravel()
        best = np.argsort(-candidates, kind="stable")[:width]
        parent, tokens = np.divmod(best, V)
        prefixes = np.concatenate([prefixes[parent], tokens[:, None]], axis=1)
        log_p, ended = candidates[best], tokens == eos
        done += [_hypothesis(y, s, alpha) for y, s in zip(prefixes[ended], log_p[ended])]
        keep = ~ended
        prefixes, log_p, tokens = prefixes[keep], log_p[keep], tokens[keep]
        if not keep.any():
            break
        state = _take(state, parent[keep])
    done += [_hypothesis(y, s, alpha) for y, s in zip(prefixes, log_p)]
    return _ranked(done)


def exhaustive(step, state0, bos: int, eos: int, max_len: int, alpha: float = 0.0) -> list:
    """Every output of at most ``max_len`` tokens with its log p(y) and s(y), best first: the exact
    argmax that beam search approximates. There are sum_{L<=max_len} (V-1)^(L-1) + (V-1)^max_len
    outputs (at most ``LIMIT``), so this is for small V and short outputs only."""
    _, bos, eos, max_len = _common(step, state0, bos, eos, max_len)
    alpha = positive_float("alpha", alpha, allow_zero=True)
    prefixes, log_p = np.zeros((1, 0), dtype=np.int64), np.zeros(1)
    tokens, state, V, done = np.array([bos]), state0, None, []
    for t in range(max_len):
        log_probs, state = _call(step, tokens, state, V)
        V = _vocab(V, log_probs, bos=bos, eos=eos)
        if t == 0:
            total = sum((V - 1) ** (L - 1) for L in range(1, max_len + 1)) + (V - 1) ** max_len
            if total > LIMIT:
                raise ValueError(f"max_len: expected at most {LIMIT} outputs to enumerate, got "
                                 f"{total} (V = {V}, max_len = {max_len})")
        ends = log_p + log_probs[:, eos]
        done += [_hypothesis(np.append(y, eos), s, alpha) for y, s in zip(prefixes, ends)]
        grow = np.array([v for v in range(V) if v != eos])
        parent = np.repeat(np.arange(len(prefixes)), len(grow))
        tokens = np.tile(grow, len(prefixes))
        log_p = log_p[parent] + log_probs[parent, tokens]
        prefixes = np.concatenate([prefixes[parent], tokens[:, None]], axis=1)
        state = _take(state, parent)
    done += [_hypothesis(y, s, alpha) for y, s in zip(prefixes, log_p)]
    return _ranked(done)


def sample(step, state0, bos: int, eos: int, max_len: int, temperature: float = 1.0, rng=0,
           count: int = 1) -> list:
    """``count`` outputs drawn by ancestral sampling: y_t ~ softmax(log p(. | y_<t) / temperature).

    Temperature 1 samples the model itself; below 1 it sharpens the distribution (towards greedy
    decoding as it goes to 0), above 1 flattens it (towards uniform). Each Hypothesis holds the
    model's log p(y) (at temperature 1) as log_prob and score. The ``count`` samples are decoded
    together, as ``count`` copies of state0.
    """
    _, bos, eos, max_len = _common(step, state0, bos, eos, max_len)
    temperature = positive_float("temperature", temperature)
    rng, count = ck.rng_from(rng), positive_int("count", count)
    tokens, state = np.full(count, bos, dtype=np.int64), _take(state0, np.zeros(count, dtype=np.int64))
    alive, log_p, out, V = np.ones(count, bool), np.zeros(count), [], None
    for _ in range(max_len):
        log_probs, state = _call(step, tokens, state, V)
        V = _vocab(V, log_probs, bos=bos, eos=eos)
        z = (log_probs - log_probs.max(axis=1, keepdims=True)) / temperature
        cdf = np.cumsum(np.exp(z), axis=1)
        u = rng.random(count) * cdf[:, -1]
        drawn = np.minimum((cdf <= u[:, None]).sum(axis=1), V - 1)
        tokens = np.where(alive, drawn, eos)
        log_p += np.where(alive, log_probs[np.arange(count), tokens], 0.0)
        out.append(np.where(alive, tokens, -1))
        alive = alive & (tokens != eos)
        if not alive.any():
            break
    out = np.array(out)
    return [Hypothesis(out[out[:, i] >= 0, i], float(log_p[i]), float(log_p[i])) for i in range(count)]


def sequence_log_prob(step, state0, bos: int, tokens) -> float:
    """log p(y) of a given output ``tokens`` (L,) int, read with teacher forcing: the sum of
    log p(y_t | bos, y_1 .. y_{t-1}); the same number decoding reports for that output."""
    as_callable("step", step, "a step function (tokens, state) -> (log_probs, new_state)")
    if _rows("state0", state0) != 1:
        raise ValueError(f"state0: expected one example (1 row in axis 0), got {_rows('state0', state0)}")
    bos = positive_int("bos", bos, 0)
    tokens = as_int_array("tokens", tokens, 1, 0, np.iinfo(np.int64).max, dims="(L,)")
    inputs, total, state, V = np.concatenate([[bos], tokens[:-1]]), 0.0, state0, None
    for t, y in enumerate(tokens.tolist()):
        log_probs, state = _call(step, inputs[t:t + 1], state, V)
        V = _vocab(V, log_probs, bos=bos)
        if t == 0 and tokens.max() >= V:
            raise ValueError(f"tokens: expected ids in [0, {V}), got values up to {tokens.max()}")
        total += float(log_probs[0, y])
    return total


def bigram_step(log_p):
    """A toy step function: log p(next | last token) from a fixed table ``log_p`` (V, V) whose rows
    are normalised log-probabilities. Its state is passed through unchanged (any K rows)."""
    log_p = as_float_array("log_p", log_p, 2, dims="(V, V)")
    V = log_p.shape[0]
    if log_p.shape != (V, V):
        raise ValueError(f"log_p: expected a square table (V, V), got shape {log_p.shape}")
    lse = np.log(np.exp(log_p - log_p.max(axis=1, keepdims=True)).sum(axis=1)) + log_p.max(axis=1)
    if np.abs(lse).max() > _TOL:
        raise ValueError(f"log_p: expected rows of log-probabilities (logsumexp 0), got "
                         f"{lse.flat[np.abs(lse).argmax()]:.3g}")
    table = log_p.copy()

    def step(tokens, state):
        tokens = as_int_array("tokens", tokens, 1, 0, V, dims="(K,)")
        return table[tokens], state

    return step

