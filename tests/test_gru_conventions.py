"""Chapter 7: the GRU conventions of different texts and the exact translations between them.

For every pair of named conventions the translator either maps a random parameter set to one that
computes the same states (to 1e-12 in float64, over several seeds and steps), or refuses with a
ValueError; which pairs are exact is stated here independently of the module.
"""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recurrent import data, gru
from recurrent import gru_conventions as gc

NAMES = list(gc.CONVENTIONS)
SEEDS = range(5)
n, d, k, T, B = 3, 4, 2, 6, 2


def random_params(conv, seed, n=n, d=d, zero_biases=False):
    """Random arrays for every key of ``conv`` (non-zero biases unless asked), plus V and c."""
    c = gc.convention(conv)
    rng = np.random.default_rng(seed)
    G = 2 if c.reset == "none" else 3
    U = rng.normal(0, 1 / np.sqrt(n), (G * d, n))
    W = rng.normal(0, 1.5 / np.sqrt(d), (G * d, d))   # a recurrence strong enough to matter
    out = {"U": U, "W": W} if c.layout == "split" else {"WU": np.concatenate([W, U], axis=1)}
    for key in gc.keys(c)[len(out):]:
        size = d if key == "bh" else G * d
        out[key] = np.zeros(size) if zero_biases else rng.normal(0, 0.5, size)
    out.update(V=rng.normal(size=(k, d)), c=rng.normal(size=k))
    return out


def states(params, conv, seed):
    rng = np.random.default_rng(100 + seed)
    xs, h0 = rng.normal(size=(T, B, n)), rng.normal(0, 0.5, (B, d))
    h, hs = h0, []
    for x in xs:
        h = gc.step(params, conv, x, h)
        hs.append(h)
    return np.array(hs), xs, h0


def exact(source, target):
    """Whether a generic parameter set of ``source`` has an exact image in ``target``: the reset must
    stay where it is (a form without reset gate can get an always-open one), and a form without
    biases can only be reached from one without biases whose reset gate is real (an open reset needs
    its bias)."""
    s, t = gc.CONVENTIONS[source], gc.CONVENTIONS[target]
    reset_ok = s.reset == t.reset or s.reset == "none"
    biases_ok = t.biases != "none" or (s.biases == "none" and not (s.reset == "none" != t.reset))
    return reset_ok and biases_ok


@pytest.mark.parametrize("source, target", list(itertools.product(NAMES, NAMES)))
def test_every_pair_is_translated_exactly_or_refused(source, target):
    for seed in SEEDS:
        p = random_params(source, seed)
        if not exact(source, target):
            with pytest.raises(ValueError, match="target: "):
                gc.convert(p, source, target)
            continue
        q = gc.convert(p, source, target)
        assert set(q) == set(gc.keys(target)) | {"V", "c"}
        hs_p, xs, h0 = states(p, source, seed)
        hs_q, _, _ = states(q, target, seed)
        assert np.abs(hs_p - hs_q).max() < 1e-12
        book = gc.to_book(q, target)                 # the book's implementation agrees too
        assert np.abs(gru.forward(book, xs, h0).hs - hs_p).max() < 1e-12


@settings(max_examples=150, deadline=None)
@given(source=st.sampled_from(NAMES), target=st.sampled_from(NAMES), n_=st.integers(1, 5),
       d_=st.integers(1, 5), seed=st.integers(0, 10**6))
def test_translations_hold_for_random_sizes(source, target, n_, d_, seed):
    p = random_params(source, seed, n=n_, d=d_)
    s, t = gc.CONVENTIONS[source], gc.CONVENTIONS[target]
    # a 1 x 1 W_n is diagonal: the reset moves across W_n exactly if no b_hn stands in the way
    moves = (d_ == 1 and "none" not in (s.reset, t.reset) and s.reset != t.reset
             and (s.reset == "before" or s.biases == "none")
             and (t.biases != "none" or s.biases == "none"))
    if not (exact(source, target) or moves):
        with pytest.raises(ValueError, match="target: "):
            gc.convert(p, source, target)
        return
    q = gc.convert(p, source, target)
    rng = np.random.default_rng(seed)
    x, h = rng.normal(size=(3, n_)), rng.normal(size=(3, d_))
    for _ in range(4):
        h_p, h_q = gc.step(p, source, x, h), gc.step(q, target, x, h)
        assert np.abs(h_p - h_q).max() < 1e-12
        h = h_p


def test_the_named_conventions_follow_the_texts():
    c = gc.CONVENTIONS
    assert c["pytorch"] == ("after", "old", "split", "two")
    assert c["cho"].reset == "before" and c["cho_v1"].reset == "after"
    assert {c[name].weights for name in ("pytorch", "cho", "cho_v1", "d2l")} == {"old"}
    assert {c[name].weights for name in ("chung", "colah", "ng", "ng_simple")} == {"candidate"}
    assert c["colah"].layout == c["ng"].layout == "stacked" and c["ng_simple"].reset == "none"
    for variant in gru.VARIANTS:
        assert gc.to_book(random_params(f"book_{variant}", 0), f"book_{variant}").variant == variant


@pytest.mark.parametrize("source, target", [(s, t) for s, t in itertools.product(NAMES, NAMES)
                                            if exact(s, t) and exact(t, s)])
def test_round_trips_are_identities(source, target):
    p = random_params(source, 7)
    back = gc.convert(gc.convert(p, source, target), target, source)
    if gc.CONVENTIONS[source].biases == "two":
        # the translation goes through the book's one bias: many (b_ih, b_hh) give one function, and
        # the way back picks one of them (b_hh = 0 except b_hn); it computes the same states, and a
        # second round trip changes nothing
        assert np.abs(states(back, source, 0)[0] - states(p, source, 0)[0]).max() < 1e-12
        again = gc.convert(gc.convert(back, source, target), target, source)
        p = back
        back = again
    assert set(back) == set(p)
    for key in p:
        np.testing.assert_array_equal(back[key], p[key], err_msg=key)


def test_translations_are_not_trivial():
    """The translated arrays differ from the originals, and reading the originals under the other
    convention gives other states: the equivalence is a property of the map, not of the data."""
    pairs = (("cho", "chung"), ("d2l", gc.Convention("before", "candidate", "split", "one")),
             ("book_torch", gc.Convention("after", "candidate", "split", "one")))
    for source, target in pairs:
        p = random_params(source, 3, zero_biases=source == "cho")
        q = gc.convert(p, source, target)
        assert set(q) == set(p)
        assert any(not np.allclose(p[key], q[key]) for key in p), (source, target)
        wrong = states(p, target, 0)[0]
        assert np.abs(wrong - states(p, source, 0)[0]).max() > 1e-2, (source, target)
    p = random_params("pytorch", 3)                    # b_ih alone, or b_ih + b_hh, is not the b
    q = gc.convert(p, "pytorch", "book_torch")
    assert not np.allclose(q["b"], p["b_ih"]) and not np.allclose(q["b"], p["b_ih"] + p["b_hh"])


def test_the_flip_negates_the_update_gate_rows():
    p = random_params("book_cho", 1)
    q = gc.convert(p, "book_cho", "ng")                 # z weights the candidate; [W | U] stacked
    z, r_n = slice(d, 2 * d), np.r_[0:d, 2 * d:3 * d]
    np.testing.assert_array_equal(q["WU"][z], -np.concatenate([p["W"], p["U"]], 1)[z])
    np.testing.assert_array_equal(q["WU"][r_n], np.concatenate([p["W"], p["U"]], 1)[r_n])
    np.testing.assert_array_equal(q["b"][z], -p["b"][z])
    np.testing.assert_array_equal(q["b"][r_n], p["b"][r_n])


def test_two_biases_merge_except_b_hn_when_the_reset_acts_after():
    p = random_params("pytorch", 2)
    q = gc.convert(p, "pytorch", "book_torch")
    np.testing.assert_array_equal(q["b"][:2 * d], p["b_ih"][:2 * d] + p["b_hh"][:2 * d])
    np.testing.assert_array_equal(q["b"][2 * d:], p["b_ih"][2 * d:])
    np.testing.assert_array_equal(q["bh"], p["b_hh"][2 * d:])
    # with the reset before the product, b_hn is outside it and merges too
    two_before = gc.Convention("before", "old", "split", "two")
    p = random_params(two_before, 2)
    q = gc.convert(p, two_before, "d2l")
    np.testing.assert_array_equal(q["b"], p["b_ih"] + p["b_hh"])
    assert np.abs(states(p, two_before, 1)[0] - states(q, "d2l", 1)[0]).max() < 1e-12


def test_reset_placement_maps_only_for_diagonal_W_n_and_zero_b_hn():
    p = random_params("book_torch", 4)
    p["W"][2 * d:] = np.diag(np.diag(p["W"][2 * d:]))
    with pytest.raises(ValueError, match="bh = 0"):
        gc.convert(p, "book_torch", "book_cho")
    p["bh"][:] = 0.0
    q = gc.convert(p, "book_torch", "book_cho")       # exact now, both ways
    assert np.abs(states(p, "book_torch", 0)[0] - states(q, "book_cho", 0)[0]).max() < 1e-12
    back = gc.convert(q, "book_cho", "book_torch")
    assert all(np.array_equal(back[key], p[key]) for key in p)
    p["W"][2 * d, d - 1] = 1e-3                        # one off-diagonal entry is enough to refuse
    with pytest.raises(ValueError, match="diagonal W_n"):
        gc.convert(p, "book_torch", "d2l")
    one = random_params("cho", 0, d=1)                 # d = 1: W_n is 1 x 1, so diagonal
    q = gc.convert(one, "cho", "pytorch")
    x, h = np.ones((2, n)), np.full((2, 1), 0.3)
    assert np.abs(gc.step(one, "cho", x, h) - gc.step(q, "pytorch", x, h)).max() < 1e-12


def test_an_always_open_reset_reduces_to_the_simplified_gru():
    p = random_params("d2l", 5)
    with pytest.raises(ValueError, match="r = 1 for every input"):
        gc.convert(p, "d2l", "ng_simple")
    p["U"][:d] = 0.0
    p["W"][:d] = 0.0
    p["b"][:d] = gc.OPEN - 10.0                         # σ(30) < 1 in float64: still refused
    with pytest.raises(ValueError, match="r = 1 for every input"):
        gc.convert(p, "d2l", "ng_simple")
    p["b"][:d] = gc.OPEN
    q = gc.convert(p, "d2l", "ng_simple")
    assert np.abs(states(p, "d2l", 0)[0] - states(q, "ng_simple", 0)[0]).max() < 1e-12


def test_zero_biases_reach_the_forms_without_biases():
    p = random_params("pytorch", 6, zero_biases=True)
    q = gc.convert(p, "pytorch", "cho_v1")
    assert set(q) == {"U", "W", "V", "c"}
    assert np.abs(states(p, "pytorch", 0)[0] - states(q, "cho_v1", 0)[0]).max() < 1e-12
    p["b_hh"][-1] = 0.1
    with pytest.raises(ValueError, match="has no biases"):
        gc.convert(p, "pytorch", "cho_v1")


def test_the_pytorch_form_agrees_with_torch_nn_gru():
    """The literal transcription of PyTorch's equations, on PyTorch's own weights and states."""
    f = data.torch_case("gates", "gru_medium")
    p = {"U": f["weight_ih_l0"], "W": f["weight_hh_l0"], "b_ih": f["bias_ih_l0"], "b_hh": f["bias_hh_l0"]}
    h, worst = f["h0"], 0.0
    for x, h_torch in zip(f["xs"], f["hs"]):
        h = gc.step(p, "pytorch", x, h)
        worst = max(worst, np.abs(h - h_torch).max())
    assert worst < 1e-12
    assert np.abs(f["hs"][0] - f["h0"]).max() > 1e-2            # the states do move


def test_bad_inputs_are_refused_by_name():
    p = random_params("pytorch", 0)
    with pytest.raises(ValueError, match="source: expected one of"):
        gc.convert(p, "torch", "d2l")
    with pytest.raises(TypeError, match="source: expected a name of CONVENTIONS"):
        gc.to_book(p, ("after", "old", "split", "two"))
    with pytest.raises(ValueError, match="source.reset"):
        gc.to_book(p, gc.Convention("inside", "old", "split", "two"))
    with pytest.raises(ValueError, match="missing \\['b_hh'\\]"):
        gc.to_book({key: p[key] for key in ("U", "W", "b_ih")}, "pytorch")
    with pytest.raises(ValueError, match="params\\['b_ih'\\]: expected shape"):
        gc.to_book(p | {"b_ih": np.zeros(5)}, "pytorch")
    with pytest.raises(ValueError, match="params\\['WU'\\]"):
        gc.to_book({"WU": np.zeros((12, 4))}, "colah")
    with pytest.raises(TypeError, match="p: expected gru.GRUParams"):
        gc.from_book(p, "pytorch")
    with pytest.raises(ValueError, match="x, h_prev: expected shapes"):
        gc.step(p, "pytorch", np.zeros((2, n + 1)), np.zeros((2, d)))
