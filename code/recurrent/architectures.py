"""Chapter 1: the ways one recurrent cell is wired into a model.

Every function here is a few lines around ``rnn.hidden_states`` and ``rnn.outputs``; the point is
which inputs go in, which hidden states feed the output layer, and the shapes that result.

    one-to-one     xs: (1, B, n)            -> os: (1, B, k)   (a feed-forward net: T = 1)
    many-to-many   xs: (T, B, n)            -> os: (T, B, k)   (aligned: one output per input)
    many-to-one    xs: (T, B, n)            -> o:  (B, k)      (only the last state is read out)
    one-to-many    x:  (B, n), T_out        -> os: (T_out, B, k)
    encoder-decoder xs: (T_in, B, n), T_out -> os: (T_out, B, k)   (T_in and T_out independent)
    bidirectional  xs: (T, B, n)            -> os: (T, B, k)   (reads [h_fwd_t; h_bwd_t])
"""
from __future__ import annotations

import numpy as np

from ._checks import as_bool, as_float_array, as_int_array, instance_of, positive_int
from .losses import _softmax
from .rnn import Params, _check_inputs, _outputs, forward, hidden_states


def many_to_many(p: Params, xs, h0=None):
    """One output per input step. xs: (T, B, n) -> os: (T, B, k)."""
    return forward(p, xs, h0).os


def one_to_one(p: Params, x):
    """A single step from a zero state: an ordinary one-hidden-layer network. x: (B, n) -> (B, k)."""
    instance_of("p", p, Params, "rnn.Params")
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    _check_inputs(p, x[None], None, names=("x", "h0"))
    return forward(p, x[None]).os[0]


def many_to_one(p: Params, xs, h0=None):
    """Read the sequence, then read out only the last hidden state. xs: (T, B, n) -> o: (B, k)."""
    hs = hidden_states(p, xs, h0)
    return _outputs(p.V, p.c, hs[-1])


def one_to_many(p: Params, x, T_out: int, h0=None, feedback: bool = True):
    """One input, then ``T_out`` outputs. x: (B, n) -> os: (T_out, B, k).

    After the first step the input is the previous step's most likely output as a one-hot vector
    (``feedback=True``, which needs n == k: greedy decoding, the argmax at every step, never a sample)
    or a zero vector (``feedback=False``).
    """
    instance_of("p", p, Params, "rnn.Params")
    T_out, feedback = positive_int("T_out", T_out), as_bool("feedback", feedback)
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    if feedback and p.n != p.k:
        raise ValueError(f"feedback: True needs n == k (outputs fed back as inputs), got n={p.n}, k={p.k}")
    _, h = _check_inputs(p, x[None], h0, names=("x", "h0"))
    os = []
    for _ in range(T_out):
        h = hidden_states(p, x[None], h)[0]
        o = _outputs(p.V, p.c, h)
        os.append(o)
        x = np.eye(p.k)[o.argmax(axis=1)] if feedback else np.zeros_like(x)
    return np.stack(os)


def encoder_decoder(enc: Params, dec: Params, xs, T_out: int, start: int = 0):
    """Sequence to sequence of another length. xs: (T_in, B, n) -> (os: (T_out, B, k), context: (B, d)).

    The encoder's last hidden state (the context) is the decoder's initial state; the decoder starts
    from the one-hot token ``start`` and feeds back its own most likely outputs (greedy decoding).
    Only the encoder's U, W, b are used. The two cells must have the same hidden size d.
    """
    instance_of("enc", enc, Params, "rnn.Params")
    instance_of("dec", dec, Params, "rnn.Params")
    if enc.d != dec.d:
        raise ValueError(f"dec: expected the hidden size d={enc.d} of enc, got d={dec.d}")
    start = int(as_int_array("start", np.asarray(start), ndim=0, low=0, high=dec.n, dims="(a token id)"))
    context = hidden_states(enc, xs)[-1]
    x0 = np.zeros((context.shape[0], dec.n))
    x0[:, start] = 1.0
    return one_to_many(dec, x0, T_out, h0=context), context


def bidirectional(p_fwd: Params, p_bwd: Params, V, c, xs):
    """Two RNNs read the sequence in opposite directions; o_t = V [h_fwd_t; h_bwd_t] + c.

    xs: (T, B, n); V: (k, 2d); c: (k,) -> (os: (T, B, k), hs: (T, B, 2d)). Only the U, W, b of
    ``p_fwd`` and ``p_bwd`` are used. Every o_t depends on the whole sequence, past and future.
    """
    instance_of("p_fwd", p_fwd, Params, "rnn.Params")
    instance_of("p_bwd", p_bwd, Params, "rnn.Params")
    xs = as_float_array("xs", xs, ndim=3, dims="(T, B, n)")
    hs_fwd = hidden_states(p_fwd, xs)
    hs_bwd = hidden_states(p_bwd, xs[::-1])[::-1]   # h_bwd_t has read x_T .. x_t
    hs = np.concatenate([hs_fwd, hs_bwd], axis=-1)
    V = as_float_array("V", V, ndim=2, dims="(k, 2d)")
    if V.shape[1] != hs.shape[-1]:
        raise ValueError(f"V: expected shape (k, 2d) = (k, {hs.shape[-1]}), got {V.shape}")
    c = as_float_array("c", c, shape=(V.shape[0],), dims="(k,)")
    return _outputs(V, c, hs), hs


def predict(os):
    """Most likely class and its probability at every position. os: (..., k) -> (ids, probs)."""
    probs = _softmax(as_float_array("os", os, dims="(..., k)"))
    ids = probs.argmax(axis=-1)
    return ids, np.take_along_axis(probs, ids[..., None], axis=-1)[..., 0]
