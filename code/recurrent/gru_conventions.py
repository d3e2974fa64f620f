"""Chapter 7: the GRU as different texts write it, and exact translations between their parameters.

A text's GRU is described by four choices, a ``Convention``:

- ``reset``: where the reset gate r acts in the candidate, ``"after"`` the matrix product,
  n = tanh(U_n x + b_n + r * (W_n h_{t-1} + b_hn)) (PyTorch), ``"before"`` it,
  n = tanh(U_n x + W_n (r * h_{t-1}) + b_n) (Cho et al.'s published version), or ``"none"``
  (the simplified GRU, no reset gate);
- ``weights``: which term the update gate z weights, ``"old"`` (h_t = z * h_{t-1} + (1 - z) * n) or
  ``"candidate"`` (h_t = (1 - z) * h_{t-1} + z * n);
- ``layout``: ``"split"`` keeps U: (G d, n) and W: (G d, d); ``"stacked"`` keeps one matrix
  WU = [W | U]: (G d, d + n) that multiplies the concatenation [h_{t-1}; x_t];
- ``biases``: ``"none"``, ``"one"`` (b: (G d,), plus bh: (d,) inside the reset product when the reset
  acts after it) or ``"two"`` (PyTorch's b_ih and b_hh: (G d,) each).

The blocks are stacked in the order r, z, n (z, n without a reset gate). A parameter set is a dict of
these arrays, with an optional read-out V: (k, d), c: (k,) that every translation passes through.

Every translation goes through the book's ``gru.GRUParams`` (variant "torch", "cho" or "simple" for
the reset after, before or none). The exact equivalences it uses:

- flipping the update gate negates z's rows of U, W and its biases, since σ(-a) = 1 - σ(a);
- [W | U] [h; x] = W h + U x;
- two biases merge into one by addition for r and z, and for n when the reset acts before the product
  (or not at all); when it acts after, b_hn stays separate as bh, because r * (W_n h + b_hn) differs
  from r * W_n h + b_hn;
- a GRU without reset gate is a GRU whose reset is always open: U_r = 0, W_r = 0, σ(b_r) = 1 exactly
  in floating point (b_r = ``OPEN``); the converse holds only for such a closed-form r.

Where no exact map exists, the translation raises ValueError saying why: reset before vs after with a
non-diagonal W_n (or b_hn != 0), a reset gate that is not always open into a form without one, and
non-zero biases into a form without biases.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, has_keys, instance_of, one_of
from .gru import GRUParams
from .lstm import _sigmoid


class Convention(NamedTuple):
    """How a text writes the GRU: ``reset`` placement, what z ``weights``, ``layout``, ``biases``."""

    reset: str
    weights: str
    layout: str
    biases: str


CHOICES = {"reset": ("after", "before", "none"), "weights": ("old", "candidate"),
           "layout": ("split", "stacked"), "biases": ("none", "one", "two")}

CONVENTIONS = {
    "pytorch": Convention("after", "old", "split", "two"),      # torch.nn.GRU, cuDNN
    "cho_v1": Convention("after", "old", "split", "none"),      # arXiv:1406.1078v1
    "cho": Convention("before", "old", "split", "none"),        # EMNLP 2014 = arXiv v3
    "d2l": Convention("before", "old", "split", "one"),         # Dive into Deep Learning
    "chung": Convention("before", "candidate", "split", "none"),  # Chung et al. 2014
    "colah": Convention("before", "candidate", "stacked", "none"),  # colah's blog, 2015
    "ng": Convention("before", "candidate", "stacked", "one"),  # Ng's course, full GRU
    "ng_simple": Convention("none", "candidate", "stacked", "one"),  # Ng's simplified GRU
    "book_torch": Convention("after", "old", "split", "one"),   # gru.GRUParams, variant "torch"
    "book_cho": Convention("before", "old", "split", "one"),    # variant "cho"
    "book_simple": Convention("none", "candidate", "split", "one"),  # variant "simple"
}

VARIANT = {"after": "torch", "before": "cho", "none": "simple"}     # the book's variant per reset
RESET = {v: r for r, v in VARIANT.items()}
OPEN = 40.0                       # a reset bias with σ(OPEN) = 1 exactly in float64: r is always open


def convention(conv) -> Convention:
    """A ``Convention`` from a name of ``CONVENTIONS`` or a Convention (each field checked)."""
    return _convention("conv", conv)


def _convention(name: str, value) -> Convention:
    if isinstance(value, str):
        return CONVENTIONS[one_of(name, value, CONVENTIONS)]
    instance_of(name, value, Convention, "a name of CONVENTIONS or a Convention")
    for field, options in CHOICES.items():
        one_of(f"{name}.{field}", getattr(value, field), options)
    return value


def _blocks(reset: str) -> int:
    return 2 if reset == "none" else 3


def _gate_rows(reset: str, d: int) -> slice:
    """The rows of the update gate z (u) in the stacked blocks."""
    return slice(0, d) if reset == "none" else slice(d, 2 * d)


def keys(conv) -> tuple:
    """The names of the arrays a parameter set of convention ``conv`` holds (without V and c)."""
    c = convention(conv)
    weights = ("U", "W") if c.layout == "split" else ("WU",)
    if c.biases == "none":
        return weights
    if c.biases == "two":
        return weights + ("b_ih", "b_hh")
    return weights + (("b", "bh") if c.reset == "after" else ("b",))


def _split(params, c: Convention) -> dict:
    """Validated U: (G d, n), W: (G d, d), b_ih, b_hh: (G d,) (zeros if absent), V, c of ``params``."""
    params = has_keys("params", params, keys(c))
    G = _blocks(c.reset)
    if c.layout == "split":
        W = as_float_array("params['W']", params["W"], ndim=2, dims=f"({G}d, d)")
        d = W.shape[1]
        U = as_float_array("params['U']", params["U"], ndim=2, dims=f"({G}d, n)")
    else:
        WU = as_float_array("params['WU']", params["WU"], ndim=2, dims=f"({G}d, d + n)")
        d = WU.shape[0] // G
        if WU.shape[0] != G * d or WU.shape[1] <= d:
            raise ValueError(f"params['WU']: expected shape ({G}d, d + n), {G} stacked blocks of [W | U] "
                             f"with n >= 1, got {WU.shape}")
        W, U = WU[:, :d], WU[:, d:]
    if W.shape != (G * d, d) or U.shape[0] != G * d:
        raise ValueError(f"params: expected U: ({G}d, n) and W: ({G}d, d) with {G} blocks, got "
                         f"U: {U.shape}, W: {W.shape}")
    zeros = np.zeros(G * d, W.dtype)
    out = {"U": U.copy(), "W": W.copy(), "b_ih": zeros, "b_hh": zeros.copy()}
    names = {"one": ("b", "bh"), "two": ("b_ih", "b_hh")}.get(c.biases, ())
    for name, key in zip(names, ("b_ih", "b_hh")):
        if name == "bh" and c.reset != "after":
            continue
        v = as_float_array(f"params[{name!r}]", params[name], ndim=1, dims=f"({G}d,)")
        expected = (d,) if name == "bh" else (G * d,)
        if v.shape != expected:
            raise ValueError(f"params[{name!r}]: expected shape {expected}, got {v.shape}")
        out[key] = v.copy() if name != "bh" else np.concatenate([np.zeros((G - 1) * d), v])
    out["V"] = as_float_array("params['V']", params.get("V", np.zeros((1, d))), ndim=2, dims="(k, d)")
    out["c"] = as_float_array("params['c']", params.get("c", np.zeros(len(out["V"]))), ndim=1,
                              dims="(k,)")
    return out


def to_book(params, source) -> GRUParams:
    """The book's ``GRUParams`` computing the same h_t as ``params`` written in convention ``source``.

    The variant is "torch", "cho" or "simple" for the reset after, before or none. Without V and c
    in ``params``, the read-out is zero with k = 1 (it does not affect h_t).
    """
    c = _convention("source", source)
    s = _split(params, c)
    d = s["W"].shape[1]
    b = s["b_ih"] + s["b_hh"]                       # exact for r, z, and n unless the reset is after
    bh = None
    if c.reset == "after":
        b[2 * d:] = s["b_ih"][2 * d:]
        bh = s["b_hh"][2 * d:].copy()
    book_weights = "candidate" if c.reset == "none" else "old"
    if c.weights != book_weights:                   # σ(-a) = 1 - σ(a): negate the gate's rows
        rows = _gate_rows(c.reset, d)
        for a in (s["U"], s["W"], b):
            a[rows] *= -1
    return GRUParams(U=s["U"], W=s["W"], V=s["V"].copy(), b=b, c=s["c"].copy(), bh=bh,
                     variant=VARIANT[c.reset])


def _diagonal_W_n(p: GRUParams, target: str) -> None:
    d = p.d
    W_n = p.W[2 * d:]
    off = np.abs(W_n - np.diag(np.diag(W_n))).max()
    bh = 0.0 if p.bh is None else np.abs(p.bh).max()
    if off > 0 or bh > 0:
        raise ValueError(f"target: no exact map from the reset {RESET[p.variant]} the product to "
                         f"{target} it: W_n (r * h) = r * (W_n h) only for diagonal W_n and bh = 0, got "
                         f"off-diagonal entries up to {off:.3g} and |bh| up to {bh:.3g}")


def _reset(p: GRUParams, variant: str) -> GRUParams:
    """``p`` rewritten for the reset placement of ``variant``, exactly, or ValueError."""
    d = p.d
    if variant == p.variant:
        return p
    if p.variant == "simple":                       # open a reset gate: r = σ(OPEN) = 1 for every input
        zero = np.zeros_like(p.U[:d])
        u, n = slice(0, d), slice(d, 2 * d)
        U = np.concatenate([zero, -p.U[u], p.U[n]])
        W = np.concatenate([np.zeros_like(p.W[:d]), -p.W[u], p.W[n]])
        b = np.concatenate([np.full(d, OPEN), -p.b[u], p.b[n]])
        return GRUParams(U=U, W=W, V=p.V.copy(), b=b, c=p.c.copy(), variant=variant)
    if variant == "simple":
        r_open = (not p.U[:d].any() and not p.W[:d].any()
                  and bool(np.all(_sigmoid(p.b[:d].copy()) == 1.0)))
        if not r_open:
            raise ValueError("target: a GRU without reset gate equals this one only if r = 1 for "
                             "every input, which needs U_r = 0, W_r = 0 and σ(b_r) = 1 (b_r >= "
                             f"{OPEN:g}); got max |U_r| {np.abs(p.U[:d]).max():.3g}, max |W_r| "
                             f"{np.abs(p.W[:d]).max():.3g}, min b_r {p.b[:d].min():.3g}")
        z, n = slice(d, 2 * d), slice(2 * d, 3 * d)
        b_n = p.b[n] + (p.bh if p.bh is not None else 0.0)
        return GRUParams(U=np.concatenate([-p.U[z], p.U[n]]), W=np.concatenate([-p.W[z], p.W[n]]),
                         V=p.V.copy(), b=np.concatenate([-p.b[z], b_n]), c=p.c.copy(),
                         variant="simple")
    _diagonal_W_n(p, RESET[variant])
    return GRUParams(U=p.U.copy(), W=p.W.copy(), V=p.V.copy(), b=p.b.copy(), c=p.c.copy(),
                     variant=variant)


def from_book(p: GRUParams, target) -> dict:
    """The parameters of convention ``target`` that compute the same h_t as the book's ``p``.

    Returns a dict with the arrays ``keys(target)`` plus V and c. Raises ValueError where no exact
    translation exists (see the module's docstring).
    """
    instance_of("p", p, GRUParams, "gru.GRUParams")
    c = _convention("target", target)
    q = _reset(p, VARIANT[c.reset])
    d, G = q.d, _blocks(c.reset)
    U, W, b = q.U.copy(), q.W.copy(), q.b.copy()
    bh = q.bh.copy() if q.bh is not None else np.zeros(d)
    if c.weights != ("candidate" if c.reset == "none" else "old"):
        rows = _gate_rows(c.reset, d)
        for a in (U, W, b):
            a[rows] *= -1
    out = {"U": U, "W": W} if c.layout == "split" else {"WU": np.concatenate([W, U], axis=1)}
    if c.biases == "none":
        if b.any() or bh.any():
            raise ValueError(f"target: the convention has no biases, but the GRU's biases are not "
                             f"zero (largest |b| {np.abs(b).max():.3g}, |bh| {np.abs(bh).max():.3g})")
    elif c.biases == "two":
        b_hh = np.zeros(G * d)
        if c.reset == "after":
            b_hh[2 * d:] = bh
        out.update(b_ih=b, b_hh=b_hh)
    else:
        out["b"] = b
        if c.reset == "after":
            out["bh"] = bh
    out.update(V=q.V.copy(), c=q.c.copy())
    return out


def convert(params, source, target) -> dict:
    """``params`` of convention ``source`` rewritten in convention ``target`` (same h_t, exactly)."""
    return from_book(to_book(params, source), target)


def step(params, conv, x, h_prev):
    """One step of the GRU written as convention ``conv`` writes it: x: (B, n), h_prev: (B, d) -> (B, d).

    A direct transcription of the text's equations, independent of ``gru.step``.
    """
    c = convention(conv)
    s = _split(params, c)
    W, U = s["W"], s["U"]
    d = W.shape[1]
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    h = as_float_array("h_prev", h_prev, ndim=2, dims="(B, d)")
    if x.shape[1] != U.shape[1] or h.shape != (len(x), d):
        raise ValueError(f"x, h_prev: expected shapes (B, {U.shape[1]}) and (B, {d}), got {x.shape} "
                         f"and {h.shape}")
    if c.layout == "stacked":
        pre = lambda rows, state: np.concatenate([state, x], 1) @ np.concatenate(
            [W[rows], U[rows]], 1).T
    else:
        pre = lambda rows, state: state @ W[rows].T + x @ U[rows].T
    blk = [slice(j * d, (j + 1) * d) for j in range(_blocks(c.reset))]
    z_blk, n_blk = blk[-2], blk[-1]
    z = _sigmoid(pre(z_blk, h) + s["b_ih"][z_blk] + s["b_hh"][z_blk])
    if c.reset == "none":
        a_n = pre(n_blk, h) + s["b_ih"][n_blk] + s["b_hh"][n_blk]
    else:
        r = _sigmoid(pre(blk[0], h) + s["b_ih"][blk[0]] + s["b_hh"][blk[0]])
        if c.reset == "after":
            a_n = x @ U[n_blk].T + s["b_ih"][n_blk] + r * (h @ W[n_blk].T + s["b_hh"][n_blk])
        else:
            a_n = pre(n_blk, r * h) + s["b_ih"][n_blk] + s["b_hh"][n_blk]
    n = np.tanh(a_n)
    return z * h + (1 - z) * n if c.weights == "old" else (1 - z) * h + z * n
