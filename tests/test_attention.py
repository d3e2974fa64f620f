"""Chapter 9: additive attention, forward and backward, against central differences."""
import numpy as np
import pytest

from differences import finite_difference
from recurrent import attention
from recurrent.bptt import relative_error

S, B, D, d_q, a = 5, 3, 4, 3, 6
LENGTHS = [5, 2, 1]                       # column 1 and 2 are padded


def case(seed=0):
    rng = np.random.default_rng(seed)
    p = attention.init_attention(d_q, D, a, rng=rng)
    p.W_a *= 2.0                           # scores far from uniform
    hs = rng.normal(size=(S, B, D))
    mask = (np.arange(S)[:, None] < np.array(LENGTHS)).astype(float)
    query = rng.normal(size=(B, d_q))
    G_c, G_w = rng.normal(size=(B, D)), rng.normal(size=(S, B))   # L = sum G_c c + sum G_w alpha
    return p, query, hs, mask, G_c, G_w


def loss(p, query, hs, mask, G_c, G_w):
    att = attention.forward(p, query, hs, mask)
    return float(np.sum(G_c * att.context) + np.sum(G_w * att.weights))


@pytest.mark.parametrize("with_weights", [False, True])
def test_gradients_match_central_differences(with_weights):
    p, query, hs, mask, G_c, G_w = case()
    G_w = G_w if with_weights else np.zeros_like(G_w)
    att = attention.forward(p, query, hs, mask)
    back = attention.backward(p, hs, att, G_c, G_w if with_weights else None)
    for name, _ in p.items():
        def f(value, name=name):
            q = p.copy()
            setattr(q, name, value)
            return loss(q, query, hs, mask, G_c, G_w)
        numeric = finite_difference(f, getattr(p, name).copy())
        assert relative_error(getattr(back.grads, name), numeric) < 1e-7, name
    numeric = finite_difference(lambda x: loss(p, x, hs, mask, G_c, G_w), query.copy())
    assert relative_error(back.d_query, numeric) < 1e-7
    numeric = finite_difference(lambda x: loss(p, query, x, mask, G_c, G_w), hs.copy())
    assert relative_error(back.d_hs, numeric) < 1e-7


def test_pad_positions_get_exactly_zero_weight_and_gradient():
    p, query, hs, mask, G_c, G_w = case(1)
    att = attention.forward(p, query, hs, mask)
    back = attention.backward(p, hs, att, G_c, G_w)
    pad = mask == 0
    assert pad.any()
    assert np.all(att.weights[pad] == 0.0) and np.all(att.weights[~pad] > 0)
    assert np.all(back.d_hs[pad] == 0.0)
    assert np.all(np.isneginf(att.scores[pad]))
    # what stands at a PAD position changes nothing at all
    other = hs.copy()
    other[pad] = 1e3
    att2 = attention.forward(p, query, other, mask)
    assert np.array_equal(att2.context, att.context)
    assert np.array_equal(att2.weights, att.weights)
    back2 = attention.backward(p, other, att2, G_c, G_w)
    for name, g in back.grads.items():
        assert np.array_equal(getattr(back2.grads, name), g), name


def test_weights_sum_to_one_and_context_is_their_average():
    p, query, hs, mask, *_ = case(2)
    att = attention.forward(p, query, hs, mask)
    assert np.allclose(att.weights.sum(axis=0), 1.0, rtol=0, atol=1e-15)
    assert np.allclose(att.context, np.einsum("sb,sbd->bd", att.weights, hs), rtol=0, atol=1e-14)
    # a one-token source attends to its only position with weight exactly 1
    assert att.weights[0, 2] == 1.0
    assert np.allclose(att.context[2], hs[0, 2], rtol=0, atol=1e-15)


def test_scores_follow_the_papers_formula():
    p, query, hs, mask, *_ = case(3)
    att = attention.forward(p, query, hs, mask)
    for s in range(S):
        for b in range(B):
            e = p.v @ np.tanh(p.W_a @ query[b] + p.U_a @ hs[s, b])
            if mask[s, b]:
                assert att.scores[s, b] == pytest.approx(e, rel=1e-13)
    w = np.exp(att.scores[:, 0] - att.scores[:, 0].max())
    assert np.allclose(att.weights[:, 0], w / w.sum(), rtol=1e-13, atol=0)


def test_precomputed_keys_give_the_same_result():
    p, query, hs, mask, *_ = case(4)
    keys = attention.key_projection(p, hs)
    assert keys.shape == (S, B, a)
    a1, a2 = attention.forward(p, query, hs, mask), attention.forward(p, query, hs, mask, keys)
    assert np.array_equal(a1.context, a2.context)


def test_no_mask_and_a_constant_score_give_uniform_weights():
    p, query, hs, mask, *_ = case(5)
    p.v[:] = 0.0
    att = attention.forward(p, query, hs, np.ones((S, B)))
    assert np.allclose(att.weights, 1 / S, rtol=1e-15, atol=0)


def test_bad_inputs_are_refused():
    p, query, hs, mask, G_c, _ = case()
    with pytest.raises(ValueError, match="^query"):
        attention.forward(p, query[:, :2], hs, mask)
    with pytest.raises(ValueError, match="^query"):
        attention.forward(p, query[:2], hs, mask)
    with pytest.raises(ValueError, match="^hs"):
        attention.forward(p, query, hs[..., :2], mask)
    with pytest.raises(ValueError, match="^hs"):
        attention.forward(p, query, hs[:, :0], mask[:, :0])
    with pytest.raises(ValueError, match="^hs, mask"):
        attention.forward(p, query, hs, mask[:-1])
    with pytest.raises(ValueError, match="^mask"):
        attention.forward(p, query, hs, 0.5 * mask)
    empty = mask.copy()
    empty[:, 1] = 0
    with pytest.raises(ValueError, match="^mask.*columns \\[1\\]"):
        attention.forward(p, query, hs, empty)
    with pytest.raises(TypeError, match="^mask"):
        attention.forward(p, query, hs, mask > 0)
    with pytest.raises(TypeError, match="^p"):
        attention.forward(p.W_a, query, hs, mask)
    with pytest.raises(ValueError, match="^keys"):
        attention.forward(p, query, hs, mask, np.zeros((S, B, a + 1)))
    att = attention.forward(p, query, hs, mask)
    with pytest.raises(ValueError, match="^d_context"):
        attention.backward(p, hs, att, G_c[:, :1])
    with pytest.raises(ValueError, match="^hs"):
        attention.backward(p, hs[:2], att, G_c)
    with pytest.raises(ValueError, match="^d_weights"):
        attention.backward(p, hs, att, G_c, np.zeros((S, B + 1)))
    with pytest.raises(ValueError, match="^W_a, U_a"):
        attention.AttentionParams(W_a=np.ones((a, d_q)), U_a=np.ones((a + 1, D)), v=np.ones(a))
    with pytest.raises(ValueError, match="^W_a, v"):
        attention.AttentionParams(W_a=np.ones((a, d_q)), U_a=np.ones((a, D)), v=np.ones(a + 1))
    with pytest.raises(ValueError, match="^a"):
        attention.init_attention(d_q, D, 0)
