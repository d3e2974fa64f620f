"""Chapter 9: the encoder (embedding, masked GRU layer, stacked and bidirectional) over padded batches.

Derivatives are checked against central differences (tests/differences.py); a padded batch must give
the outputs, final states and gradients of its sequences run one by one without padding.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from differences import finite_difference
from recurrent import encoder, gru
from recurrent.bptt import relative_error

V, e, d = 7, 3, 4
LENGTHS = [5, 2, 1, 4]                   # B = 4, T = 5: one full, one single token, in no order
SHAPES = [(1, False), (1, True), (2, False), (2, True)]
SHAPE_IDS = ["1 layer", "1 layer bi", "2 layers", "2 layers bi"]


def params(layers, bidirectional, seed=0):
    """An encoder with every bias non-zero and a recurrence strong enough to matter."""
    rng = np.random.default_rng(seed + 100)
    p = encoder.init_encoder(V, e, d, layers, bidirectional, rng=seed)
    for name, a in p.items():
        if a.ndim == 1:
            a[:] = rng.normal(0, 0.5, a.shape)
        elif name.endswith(".W"):
            a *= 1.5
    return p


def batch(lengths=LENGTHS, seed=0):
    """ids (T, B) with real tokens in [1, V) and PAD = 0 after each length; mask (T, B)."""
    lengths = np.asarray(lengths)
    mask = (np.arange(lengths.max())[:, None] < lengths).astype(float)
    ids = np.where(mask > 0, np.random.default_rng(seed).integers(1, V, mask.shape), 0)
    return ids, mask


def readout(p, ids, seed=1):
    """Random weights R_h: (T, B, d_out), R_f: (layers, B, d_out) of the scalar L = <R_h, hs> + <R_f, final>,
    whose gradients with respect to hs and final are R_h and R_f."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=ids.shape + (p.d_out,)), rng.normal(size=(p.layers, ids.shape[1], p.d_out))


def loss(p, ids, mask, R_h, R_f):
    out = encoder.encode(p, ids, mask)
    return float(np.sum(R_h * out.hs) + np.sum(R_f * out.final))


# ---------------------------------------------------------------- gradients against central differences

@pytest.mark.parametrize("lengths", [LENGTHS, [1], [3, 3]], ids=["padded", "one token", "no padding"])
@pytest.mark.parametrize("layers, bidirectional", SHAPES, ids=SHAPE_IDS)
def test_every_parameter_gradient_agrees_with_central_differences(layers, bidirectional, lengths):
    p = params(layers, bidirectional)
    ids, mask = batch(lengths)
    R_h, R_f = readout(p, ids)
    grads = encoder.encode_backward(p, ids, mask, encoder.encode(p, ids, mask), R_h, R_f)
    assert list(grads) == [name for name, _ in p.items()]
    for name, a in p.items():
        def f(value, name=name):
            q = p.copy()
            dict(q.items())[name][...] = value
            return loss(q, ids, mask, R_h, R_f)
        numeric = finite_difference(f, a.copy())
        if len(ids) > 1 or not name.endswith(".W"):                # one step from h_0 = 0: W unused
            assert np.abs(numeric).max() > 1e-3, name              # the check is not vacuous
        assert relative_error(grads[name], numeric) < 1e-7, name


@settings(max_examples=5, deadline=None)
@given(lengths=st.lists(st.integers(1, 4), min_size=1, max_size=3), layers=st.integers(1, 2),
       bidirectional=st.booleans(), seed=st.integers(0, 10**6))
def test_gradients_agree_with_central_differences_for_random_lengths(lengths, layers, bidirectional, seed):
    """Each symbol must pass at eps = 1e-5 or at eps = 1e-4: a random draw may hold tiny gradients whose
    central difference at 1e-5 is mostly rounding error (a wrong derivative fails at both)."""
    p = params(layers, bidirectional, seed)
    ids, mask = batch(lengths, seed)
    R_h, R_f = readout(p, ids, seed + 1)
    grads = encoder.encode_backward(p, ids, mask, encoder.encode(p, ids, mask), R_h, R_f)
    for name, a in p.items():
        def f(value, name=name):
            q = p.copy()
            dict(q.items())[name][...] = value
            return loss(q, ids, mask, R_h, R_f)
        errors = [relative_error(grads[name], finite_difference(f, a.copy(), eps)) for eps in (1e-5, 1e-4)]
        assert min(errors) < 1e-7, (name, errors)


@pytest.mark.parametrize("lengths", [LENGTHS, [5, 0, 3, 1]], ids=["padded", "an empty column"])
def test_masked_layer_gradients_of_inputs_initial_state_and_every_parameter(lengths):
    rng = np.random.default_rng(5)
    p = gru.init_gru(3, d, 2, rng=rng)                                # V, c of this cell are not used
    p.b[:], p.bh[:] = rng.normal(0, 0.5, 3 * d), rng.normal(0, 0.5, d)
    xs, h0 = rng.normal(size=(5, 4, 3)), rng.normal(0, 0.5, (4, d))
    _, mask = batch(lengths)
    R, R_T = rng.normal(size=(5, 4, d)), rng.normal(size=(4, d))

    def total(p=p, xs=xs, h0=h0):
        layer = encoder.masked_gru(p, xs, mask, h0)
        return float(np.sum(R * layer.hs) + np.sum(R_T * layer.final))

    layer = encoder.masked_gru(p, xs, mask, h0)
    g = encoder.masked_gru_backward(p, xs, mask, layer, R, R_T)
    assert relative_error(g.d_xs, finite_difference(lambda x: total(xs=x), xs)) < 1e-7
    assert relative_error(g.d_h0, finite_difference(lambda h: total(h0=h), h0)) < 1e-7
    for name, a in p.items():
        def f(value, name=name):
            return total(p=p._with({name: value}))
        assert relative_error(getattr(g.grads, name), finite_difference(f, a.copy())) < 1e-7, name
    assert not g.d_xs[mask == 0].any()                                # padded inputs are ignored
    assert not g.grads.V.any() and not g.grads.c.any()                # the layer has no outputs


def test_embedding_backward_is_a_scatter_add_and_pad_gets_gradient_only_where_used():
    rng = np.random.default_rng(2)
    E, R = rng.normal(size=(V, e)), rng.normal(size=(3, 2, e))
    ids = np.array([[1, 1], [0, 3], [3, 0]])                          # PAD = 0 used twice
    dE = encoder.embed_backward(E, ids, R)
    assert relative_error(dE, finite_difference(lambda M: float(np.sum(R * encoder.embed(M, ids))), E)) < 1e-7
    assert not dE[[2, 4, 5, 6]].any()                                # unused rows
    p = params(1, True)
    ids, mask = batch()
    assert (ids[mask == 0] == 0).all() and not (ids[mask > 0] == 0).any()
    R_h, R_f = readout(p, ids)
    grads = encoder.encode_backward(p, ids, mask, encoder.encode(p, ids, mask), R_h, R_f)
    assert not grads["E"][0].any()                                   # PAD only at padding: no gradient
    ids[0, 1] = 0                                                    # PAD as a real token
    assert encoder.encode_backward(p, ids, mask, encoder.encode(p, ids, mask), R_h, R_f)["E"][0].any()


# ---------------------------------------------------------------- padding changes nothing

@pytest.mark.parametrize("layers, bidirectional", SHAPES, ids=SHAPE_IDS)
def test_padded_batch_equals_each_sequence_alone(layers, bidirectional):
    p = params(layers, bidirectional, seed=3)
    ids, mask = batch(seed=4)
    R_h, R_f = readout(p, ids, seed=5)
    out = encoder.encode(p, ids, mask)
    grads = encoder.encode_backward(p, ids, mask, out, R_h, R_f)
    summed = {name: np.zeros_like(a) for name, a in p.items()}
    for b, L in enumerate(LENGTHS):
        alone = encoder.encode(p, ids[:L, b:b + 1], None)
        np.testing.assert_allclose(out.hs[:L, b], alone.hs[:, 0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out.final[:, b], alone.final[:, 0], rtol=1e-12, atol=1e-12)
        g = encoder.encode_backward(p, ids[:L, b:b + 1], None, alone, R_h[:L, b:b + 1], R_f[:, b:b + 1])
        for name in summed:
            summed[name] += g[name]
    assert not out.hs[mask == 0].any()                               # outputs are zero at padding
    for name, g in grads.items():
        np.testing.assert_allclose(g, summed[name], rtol=1e-12, atol=1e-12, err_msg=name)


@settings(max_examples=20, deadline=None)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=4), layers=st.integers(1, 2),
       bidirectional=st.booleans(), seed=st.integers(0, 10**6))
def test_padding_changes_no_output_for_random_lengths(lengths, layers, bidirectional, seed):
    p = params(layers, bidirectional, seed)
    ids, mask = batch(lengths, seed)
    out = encoder.encode(p, ids, mask)
    for b, L in enumerate(lengths):
        alone = encoder.encode(p, ids[:L, b:b + 1], None)
        np.testing.assert_allclose(out.hs[:L, b], alone.hs[:, 0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out.final[:, b], alone.final[:, 0], rtol=1e-12, atol=1e-12)


def test_masked_layer_is_the_masked_recursion_of_gru_steps():
    """h_t = m_t GRU(x_t, h_{t-1}) + (1 - m_t) h_{t-1}, step by step with gru.step."""
    rng = np.random.default_rng(6)
    p = gru.init_gru(3, d, 2, rng=rng)
    xs, h0 = rng.normal(size=(5, 4, 3)), rng.normal(size=(4, d))
    _, mask = batch()
    layer, h = encoder.masked_gru(p, xs, mask, h0), h0
    for t in range(5):
        m = mask[t][:, None]
        h = m * gru.step(p, xs[t], h) + (1 - m) * h
        np.testing.assert_allclose(layer.hs[t], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.final, h, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer.final, layer.hs[np.array(LENGTHS) - 1, np.arange(4)])


def test_reverse_direction_of_a_padded_sequence_reads_it_from_its_own_last_token():
    p = params(1, True, seed=7)
    ids, mask = batch(seed=8)
    out = encoder.encode(p, ids, mask)
    for b, L in enumerate(LENGTHS):
        reversed_alone = encoder.masked_gru(p.cells[1], p.E[ids[:L, b][::-1]][:, None])
        np.testing.assert_allclose(out.hs[:L, b, d:], reversed_alone.hs[::-1, 0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out.final[0, b, d:], reversed_alone.final[0], rtol=1e-12, atol=1e-12)
        forward_alone = encoder.masked_gru(p.cells[0], p.E[ids[:L, b]][:, None])
        np.testing.assert_allclose(out.final[0, b, :d], forward_alone.final[0], rtol=1e-12, atol=1e-12)
    # the reverse state at the first token has read the whole sequence: it differs from the forward one
    assert not np.allclose(out.hs[0, 0, d:], out.hs[0, 0, :d])


def test_reversing_the_whole_padded_array_instead_is_caught(monkeypatch):
    """The classic slip, flipping the padded (T, B) array so that short sequences start with padding."""
    real = encoder._reversal

    def naive(lengths, T):
        (rows, cols), keep = real(lengths, T)
        return (np.broadcast_to(np.arange(T)[::-1, None], rows.shape), cols), keep

    p = params(1, True, seed=7)
    ids, mask = batch(seed=8)
    right = encoder.encode(p, ids, mask)
    monkeypatch.setattr(encoder, "_reversal", naive)
    wrong = encoder.encode(p, ids, mask)
    for b, L in enumerate(LENGTHS):                  # the reverse final states of the short ones differ
        assert np.allclose(wrong.final[0, b, d:], right.final[0, b, d:], atol=1e-3) == (L == len(ids)), b


def test_an_empty_column_keeps_the_zero_state():
    p = params(2, True)
    ids, mask = batch([3, 2])
    mask[:, 1] = 0
    out = encoder.encode(p, ids, mask)
    assert not out.final[:, 1].any() and not out.hs[:, 1].any()
    R_h, R_f = readout(p, ids)
    grads = encoder.encode_backward(p, ids, mask, out, R_h, R_f)
    alone = encoder.encode(p, ids[:3, :1], None)
    g = encoder.encode_backward(p, ids[:3, :1], None, alone, R_h[:, :1], R_f[:, :1])
    for name in grads:
        np.testing.assert_allclose(grads[name], g[name], rtol=1e-12, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- parameters

@pytest.mark.parametrize("layers, bidirectional", SHAPES + [(3, True)], ids=SHAPE_IDS + ["3 layers bi"])
def test_count_params_counts_the_arrays_and_follows_the_hand_formula(layers, bidirectional):
    Vs, es, ds = 14, 8, 16
    p = encoder.init_encoder(Vs, es, ds, layers, bidirectional, rng=1)
    D = 2 if bidirectional else 1
    cell = lambda n, biases: 3 * ds * n + 3 * ds * ds + biases * ds       # U, W, and b (+ bh)
    by_hand = Vs * es + D * cell(es, 4) + (layers - 1) * D * cell(D * ds, 4)
    torch_by_hand = Vs * es + D * cell(es, 6) + (layers - 1) * D * cell(D * ds, 6)
    counts = encoder.count_params(Vs, es, ds, layers, bidirectional)
    assert counts["total"] == by_hand == sum(a.size for _, a in p.items())
    assert encoder.count_params(Vs, es, ds, layers, bidirectional, biases="two")["total"] == torch_by_hand
    assert set(counts) == {"E", "total"} | {name.split(".")[0] for name, _ in p.items()}
    assert (p.layers, p.directions, p.d_out, p.V, p.e, p.d) == (layers, D, D * ds, Vs, es, ds)


def test_from_torch_reads_pytorchs_names_and_to_torch_writes_them():
    p = params(2, True, seed=9)
    state = {"embedding.weight": p.E}
    for i in range(2):
        names, cells = p.layer(i)
        for name, cell in zip(names, cells):
            for key, value in gru.to_torch(cell).items():
                if not key.startswith("linear"):
                    state[f"gru.{key[:-2]}{name}"] = value
    assert "gru.bias_hh_l1_reverse" in state
    q = encoder.from_torch(state, bidirectional=True)
    assert [n for n, _ in q.items()] == [n for n, _ in p.items()]
    for (name, a), (_, b) in zip(p.items(), q.items()):
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-15, err_msg=name)
    back = encoder.to_torch(q)                                       # and the way back
    assert set(back) == set(state)
    for key, value in state.items():
        np.testing.assert_allclose(back[key], value, rtol=1e-15, atol=1e-15, err_msg=key)


def test_copy_is_deep_and_cells_have_identity_readout():
    p = params(1, True)
    q = p.copy()
    q.E[0, 0] += 1.0
    dict(q.items())["l0_reverse.W"][0, 0] += 1.0
    assert p.E[0, 0] != q.E[0, 0] and p.cells[1].W[0, 0] != q.cells[1].W[0, 0]
    assert all((c.V == np.eye(d)).all() and not c.c.any() for c in p.cells)


# ---------------------------------------------------------------- bad inputs

IDS, MASK = batch()
G, XS = lambda variant="torch": gru.init_gru(3, 4, 2, variant), np.zeros((5, 4, 3))
P1, P2, P1_BI = (lambda: params(1, False)), (lambda: params(2, False)), (lambda: params(1, True))


@pytest.mark.parametrize("call, message", [
    (lambda: encoder.encode(P1(), IDS, MASK[:, :3]), r"mask: expected shape \(T, B\)"),
    (lambda: encoder.encode(P1(), IDS, MASK[:4]), r"mask: expected shape \(T, B\)"),
    (lambda: encoder.encode(P1(), IDS, 0.5 * MASK), r"mask: expected only 0 and 1"),
    (lambda: encoder.encode(P1(), IDS, MASK[::-1]), r"mask: expected every column to be ones"),
    (lambda: encoder.encode(P1(), IDS + V, MASK), r"ids: expected indices in \[0, 7\)"),
    (lambda: encoder.encode(P1(), -IDS, MASK), r"ids: expected indices in \[0, 7\)"),
    (lambda: encoder.encode(P1(), np.zeros((5, 0), int), np.zeros((5, 0))),
     r"ids: expected a non-empty array \(T, B\), got shape \(5, 0\)"),
    (lambda: encoder.encode(P1(), IDS[:, 0], MASK[:, 0]), r"ids: expected a 2-d array"),
    (lambda: encoder.encode_backward(P1_BI(), IDS, MASK, encoder.encode(P1(), IDS, MASK)),
     r"out: expected the encode pass of p"),
    (lambda: encoder.encode_backward(P1(), IDS, MASK, encoder.encode(P1(), IDS, None)),
     r"out: expected the encode pass of p"),
    (lambda: encoder.encode_backward(P1(), IDS, MASK, encoder.encode(P1(), IDS, MASK),
                                     d_hs=np.zeros((5, 4, 8))), r"d_hs: expected shape"),
    (lambda: encoder.encode_backward(P2(), IDS, MASK, encoder.encode(P2(), IDS, MASK),
                                     d_final=np.zeros((1, 4, 4))), r"d_final: expected shape"),
    (lambda: encoder.masked_gru(G(), XS, MASK[:, :2]), r"mask: expected shape"),
    (lambda: encoder.masked_gru(G("cho"), XS), r"p: expected a GRU of variant"),
    (lambda: encoder.masked_gru_backward(G(), XS, MASK, encoder.masked_gru(G(), XS), np.zeros((5, 4, 4))),
     r"mask: expected the mask of the forward pass"),
    (lambda: encoder.masked_gru_backward(G(), XS, MASK,
                                         encoder.masked_gru(G(), XS, MASK),
                                         XS), r"d_hs: expected shape"),
    (lambda: encoder.masked_gru_backward(G(), np.zeros((4, 4, 3)), MASK,
                                         encoder.masked_gru(G(), XS, MASK),
                                         np.zeros((5, 4, 4))), r"layer: expected the masked_gru pass"),
    (lambda: encoder.embed_backward(np.zeros((V, e)), IDS, np.zeros((5, 4, 2))), r"d_xs: expected shape"),
    (lambda: encoder.EncoderParams(np.zeros((V, e)), P1_BI().cells, False),
     r"cells\[1\]: expected a GRU with n=4 inputs and d=4 states, got n=3"),
    (lambda: encoder.EncoderParams(np.zeros((V, e)), P1().cells, True),
     r"cells: expected a positive multiple of 2 cells"),
    (lambda: encoder.EncoderParams(np.zeros((V, e)), (), False), r"cells: expected a positive multiple"),
    (lambda: encoder.from_torch({"embedding.weight": np.zeros((V, e))}), r"state: expected keys"),
    (lambda: encoder.count_params(V, e, d, biases="three"), r"biases: expected one of"),
    (lambda: encoder.init_encoder(V, e, 0), r"d: expected an integer >= 1, got 0"),
    (lambda: P2().layer(2), r"i: expected an integer in \[0, 1\], got 2"),
])
def test_bad_value_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: encoder.encode(P1(), IDS.astype(float), MASK), r"ids: expected integer ids"),
    (lambda: encoder.encode(G(), IDS, MASK), r"p: expected encoder.EncoderParams"),
    (lambda: encoder.encode(P1(), IDS, MASK > 0), r"mask: expected a float array"),
    (lambda: encoder.encode_backward(P1(), IDS, MASK, None), r"out: expected encoder.EncoderOutput"),
    (lambda: encoder.masked_gru(P1(), XS), r"p: expected gru.GRUParams"),
    (lambda: encoder.EncoderParams(np.zeros((V, e)), (G(), None), True),
     r"cells\[1\]: expected gru.GRUParams"),
    (lambda: encoder.init_encoder(V, e, d, bidirectional=1), r"bidirectional: expected True or False"),
])
def test_bad_type_raises_a_clear_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()
