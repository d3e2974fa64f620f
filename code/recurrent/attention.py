"""Chapter 9: additive attention (加性注意力; Bahdanau, Cho and Bengio, 2015), forward and backward.

At decoder step t the query is the decoder's previous state s_{t-1}: (B, d_q); the keys and values are
the encoder's outputs h_s: (S, B, D) at the source positions s = 1..S. The paper's alignment model
(its appendix A.1.2) scores every position with a one-hidden-layer network, without biases::

    e_{t,s} = v^T tanh(W_a s_{t-1} + U_a h_s)         W_a: (a, d_q)   U_a: (a, D)   v: (a,)
    alpha_{t,s} = exp(e_{t,s}) / sum_{s' real} exp(e_{t,s'})    (0 at every PAD position s)
    c_t = sum_s alpha_{t,s} h_s                       the context: (B, D)

The softmax runs over the real positions of each column only (``mask`` 1), so a PAD position gets
weight exactly 0 and, in the backward pass, exactly 0 gradient. U_a h_s does not depend on t: a
decoder computes ``key_projection(p, hs)`` once per source batch and passes it to every step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, instance_of, positive_int, rng_from
from .cell import ParamSet, _check_finite_gradient, _float_dtype

__all__ = ["AttentionParams", "Attention", "AttentionGrads", "init_attention", "key_projection", "forward",
           "backward"]


@dataclass
class AttentionParams(ParamSet):
    """W_a: (a, d_q) acts on the query, U_a: (a, D) on the encoder outputs, v: (a,) scores."""

    W_a: np.ndarray
    U_a: np.ndarray
    v: np.ndarray

    def __post_init__(self):
        self.W_a = as_float_array("W_a", self.W_a, ndim=2, dims="(a, d_q)")
        a = self.W_a.shape[0]
        self.U_a = as_float_array("U_a", self.U_a, ndim=2, dims="(a, D)")
        if self.U_a.shape[0] != a:
            raise ValueError(f"W_a, U_a: expected the same number of rows a, got {self.W_a.shape} and "
                             f"{self.U_a.shape}")
        self.v = as_float_array("v", self.v, ndim=1, dims="(a,)")
        if self.v.shape != (a,):
            raise ValueError(f"W_a, v: expected v of shape (a,) = ({a},) (a from W_a), got {self.v.shape}")

    @property
    def a(self) -> int:
        """Size of the alignment model's hidden layer."""
        return self.W_a.shape[0]

    @property
    def d_q(self) -> int:
        """Size of the query (the decoder's state)."""
        return self.W_a.shape[1]

    @property
    def D(self) -> int:
        """Size of an encoder output h_s."""
        return self.U_a.shape[1]


def init_attention(d_q: int, D: int, a: int, rng=0, dtype=np.float64) -> AttentionParams:
    """Random W_a, U_a, v with N(0, 1/fan_in) entries (fan-in d_q, D and a)."""
    d_q, D, a = (positive_int(s, x) for s, x in (("d_q", d_q), ("D", D), ("a", a)))
    dtype, rng = _float_dtype(dtype), rng_from(rng)
    return AttentionParams(W_a=rng.normal(0, 1 / np.sqrt(d_q), (a, d_q)).astype(dtype),
                           U_a=rng.normal(0, 1 / np.sqrt(D), (a, D)).astype(dtype),
                           v=rng.normal(0, 1 / np.sqrt(a), a).astype(dtype))


class Attention(NamedTuple):
    """One step of attention for B examples over S source positions."""

    query: np.ndarray      # (B, d_q)     s_{t-1}
    tanh: np.ndarray       # (S, B, a)    tanh(W_a s_{t-1} + U_a h_s)
    scores: np.ndarray     # (S, B)       e_{t,s} (-inf at PAD positions)
    weights: np.ndarray    # (S, B)       alpha_{t,s}: each column sums to 1, exactly 0 at PAD
    context: np.ndarray    # (B, D)       c_t


class AttentionGrads(NamedTuple):
    """Gradients of a loss, given its gradient at the context c_t (and at the weights)."""

    grads: AttentionParams   # dL/dW_a, dL/dU_a, dL/dv
    d_query: np.ndarray      # (B, d_q)
    d_hs: np.ndarray         # (S, B, D)   exactly 0 at PAD positions


def _check_source(p: AttentionParams, hs, mask):
    """Validate hs: (S, B, D) against p and mask: (S, B) of 0/1 with a real position in every column."""
    instance_of("p", p, AttentionParams, "attention.AttentionParams")
    hs = as_float_array("hs", hs, ndim=3, dims="(S, B, D)")
    if 0 in hs.shape[:2]:
        raise ValueError(f"hs: expected at least one position and one example, got shape {hs.shape}")
    if hs.shape[2] != p.D:
        raise ValueError(f"hs: expected last axis D={p.D} (the columns of U_a), got shape {hs.shape}")
    mask = as_float_array("mask", mask, ndim=2, dims="(S, B)")
    if mask.shape != hs.shape[:2]:
        raise ValueError(f"hs, mask: expected mask of shape (S, B) = {hs.shape[:2]} (from hs), got "
                         f"{mask.shape}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask: expected entries 0 (PAD) or 1 (a real position), got other values")
    if not mask.any(axis=0).all():
        empty = np.flatnonzero(~mask.any(axis=0)).tolist()
        raise ValueError(f"mask: expected at least one real position per example, columns {empty} "
                         "have none")
    return hs, mask


def key_projection(p: AttentionParams, hs) -> np.ndarray:
    """U_a h_s for every source position: hs: (S, B, D) -> (S, B, a)."""
    instance_of("p", p, AttentionParams, "attention.AttentionParams")
    hs = as_float_array("hs", hs, ndim=3, dims="(S, B, D)")
    if hs.shape[2] != p.D:
        raise ValueError(f"hs: expected last axis D={p.D} (the columns of U_a), got shape {hs.shape}")
    return hs @ p.U_a.T


def forward(p: AttentionParams, query, hs, mask, keys=None) -> Attention:
    """Weights and context for query s_{t-1}: (B, d_q) over hs: (S, B, D) with mask: (S, B) 0/1.

    ``keys`` is ``key_projection(p, hs)``: (S, B, a) when the caller computed it once for many steps.
    """
    hs, mask = _check_source(p, hs, mask)
    S, B, _ = hs.shape
    query = as_float_array("query", query, shape=(B, p.d_q), dims="(B, d_q)")
    if keys is None:
        keys = hs @ p.U_a.T
    else:
        keys = as_float_array("keys", keys, shape=(S, B, p.a), dims="(S, B, a)")
    z = np.tanh(keys + query @ p.W_a.T)                    # (S, B, a)
    real = mask > 0
    e = np.where(real, z @ p.v, -np.inf)                    # e_{t,s}; PAD positions take no part
    w = np.exp(e - e.max(axis=0))                           # exp(-inf) = 0 exactly
    w /= w.sum(axis=0)
    context = np.einsum("sb,sbd->bd", w, hs)                # c_t = sum_s alpha_{t,s} h_s
    return Attention(query, z, e, w, context)


def backward(p: AttentionParams, hs, att: Attention, d_context, d_weights=None) -> AttentionGrads:
    """Gradients given dL/dc_t: (B, D) and, optionally, dL/dalpha_{t,s}: (S, B) (e.g. a penalty).

    With g_s = dL/dalpha_s = d_c . h_s (+ d_weights), the softmax gives de_s = alpha_s (g_s - sum_s'
    alpha_s' g_s'), then dz_s = de_s v * (1 - tanh^2) and::

        dv = sum_s de_s tanh_s    dW_a = sum_s dz_s s_{t-1}^T    dU_a = sum_s dz_s h_s^T
        d s_{t-1} = W_a^T sum_s dz_s        d h_s = alpha_s d_c + U_a^T dz_s

    Every sum also runs over the batch for the parameters. alpha_s = 0 at PAD, so de_s, dz_s, dh_s are
    exactly 0 there.
    """
    instance_of("p", p, AttentionParams, "attention.AttentionParams")
    instance_of("att", att, Attention, "attention.Attention (from attention.forward)")
    hs = as_float_array("hs", hs, shape=att.tanh.shape[:2] + (p.D,), dims="(S, B, D)")
    S, B, _ = hs.shape
    d_context = as_float_array("d_context", d_context, shape=(B, p.D), dims="(B, D)")
    w, z = att.weights, att.tanh
    g = np.einsum("bd,sbd->sb", d_context, hs)                      # dL/dalpha through c_t
    if d_weights is not None:
        g = g + as_float_array("d_weights", d_weights, shape=(S, B), dims="(S, B)")
    de = w * (g - (w * g).sum(axis=0))                              # softmax backward
    dz = de[..., None] * p.v * (1 - z ** 2)                         # (S, B, a)
    _check_finite_gradient(dz)
    dz_sum = dz.sum(axis=0)                                         # (B, a)
    grads = AttentionParams._computed(W_a=dz_sum.T @ att.query,
                                      U_a=np.einsum("sba,sbd->ad", dz, hs),
                                      v=np.einsum("sb,sba->a", de, z))
    d_hs = w[..., None] * d_context + dz @ p.U_a
    return AttentionGrads(grads, dz_sum @ p.W_a, d_hs)
