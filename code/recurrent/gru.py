"""Chapter 7: the GRU in three variants, forward and backward through time.

The blocks of all gates are stacked into one U, one W and one b, as for the LSTM (``lstm``)::

    "torch", PyTorch's torch.nn.GRU (blocks r, z, n)        U: (3d, n)  W: (3d, d)  b: (3d,)  bh: (d,)
        r = σ(U_r x_t + W_r h_{t-1} + b_r)        z = σ(U_z x_t + W_z h_{t-1} + b_z)
        n = tanh(U_n x_t + b_n + r * (W_n h_{t-1} + bh))       the reset acts after W_n
        h_t = (1 - z) * n + z * h_{t-1}

    "cho", Cho et al. (2014): as "torch" but without bh, and the reset acts before W_n
        n = tanh(U_n x_t + W_n (r * h_{t-1}) + b_n)

    "simple", one update gate Γu (blocks u, n)              U: (2d, n)  W: (2d, d)  b: (2d,)
        u = σ(U_u x_t + W_u h_{t-1} + b_u)        n = tanh(U_n x_t + W_n h_{t-1} + b_n)
        h_t = u * n + (1 - u) * h_{t-1}

``*`` is the elementwise product, ``U_r`` the rows of U that belong to the block r, and so on. The
"simple" GRU is the one often taught as c̃_t = tanh(W_c [c_{t-1}, x_t] + b_c), Γu = σ(W_u [c_{t-1}, x_t] +
b_u), c_t = Γu * c̃_t + (1 - Γu) * c_{t-1}: its c_t is our h_t and W_c = [W_n | U_n]. Its gate u keeps
the *new* candidate where PyTorch's z keeps the *old* state.

PyTorch's two biases b_ih and b_hh are only added, except the n block's: r * (W_n h + b_hn) differs
from r * W_n h + b_hn, so the "torch" GRU keeps b_hn as ``bh`` and ``from_torch`` adds the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, finite_float, instance_of, one_of, positive_int
from .cell import Backward, Forward, _check_finite_gradient, _check_inputs
from .lstm import (
    GatedParams,
    _blocks,
    _check_backward_inputs,
    _dense_grads,
    _random_blocks,
    _rows,
    _sigmoid,
    _torch_biases,
)
from .rnn import _outputs

VARIANTS = ("torch", "cho", "simple")
BLOCKS = {"torch": ("r", "z", "n"), "cho": ("r", "z", "n"), "simple": ("u", "n")}


@dataclass
class GRUParams(GatedParams):
    """GRU parameters of one ``variant`` ("torch", "cho" or "simple"); the blocks are ``p.blocks``.

    U: (G d, n), W: (G d, d), b: (G d,) with G = 3 blocks r, z, n (G = 2 blocks u, n for "simple");
    V: (k, d), c: (k,). bh: (d,) is the bias inside the reset product, for "torch" only (zeros if
    omitted); the other variants have none and need ``bh=None``, and ``items()`` leaves it out.
    """

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray
    bh: np.ndarray | None = None
    variant: str = "torch"

    def __post_init__(self):
        one_of("variant", self.variant, VARIANTS)
        self._check(len(BLOCKS[self.variant]))
        if self.variant == "torch":
            bh = np.zeros(self.d, self.W.dtype) if self.bh is None else self.bh
            self.bh = as_float_array("bh", bh, shape=(self.d,), dims="(d,)")
        elif self.bh is not None:
            raise ValueError(f"bh: the {self.variant!r} GRU has no bias inside the reset product, "
                             f"expected None, got an array of shape {np.shape(self.bh)}")

    @property
    def blocks(self) -> tuple:
        """Names of the stacked blocks of U, W and b, in order."""
        return BLOCKS[self.variant]

    @property
    def kind(self) -> str:
        """The cell's name, recorded by ``forward`` so that ``backward`` can check it."""
        return f"gru/{self.variant}"


def init_gru(n: int, d: int, k: int, variant: str = "torch", rng=0, dtype=np.float64) -> GRUParams:
    """Random GRU parameters of ``variant``: U, W, V are N(0, 1/fan_in), biases (and bh) zero."""
    one_of("variant", variant, VARIANTS)
    return GRUParams(**_random_blocks(n, d, k, len(BLOCKS[variant]), rng, dtype), variant=variant)


def _check(p) -> None:
    instance_of("p", p, GRUParams, "gru.GRUParams")


def _update(p: GRUParams, ax, h, a, h_new, m):
    """One GRU step from ax = U x_t + b: (B, G d) and h_{t-1}: (B, d); returns h_t.

    Writes the gates into a: (B, G d) and h_t into h_new: (B, d); m: (B, G d) holds W h_{t-1}.
    """
    np.matmul(h, p.W.T, out=m)                              # W h_{t-1} for every block
    if p.variant == "simple":
        u, n = _blocks(np.add(ax, m, out=a), 2)
        _sigmoid(u, out=u)
        np.tanh(n, out=n)
        return np.add(u * n, (1 - u) * h, out=h_new)        # h_t = u * n + (1 - u) * h_{t-1}
    d = p.d
    rz = np.add(ax[:, :2 * d], m[:, :2 * d], out=a[:, :2 * d])
    _sigmoid(rz, out=rz)                                     # r = σ(a_r), z = σ(a_z): adjacent blocks
    r, z, n = _blocks(a, 3)
    if p.variant == "torch":                                # n = tanh(U_n x + b_n + r * (W_n h + bh))
        m_n = np.add(m[:, 2 * d:], p.bh, out=m[:, 2 * d:])
        np.add(ax[:, 2 * d:], r * m_n, out=n)
    else:                                                   # n = tanh(U_n x + b_n + W_n (r * h))
        np.add(ax[:, 2 * d:], (r * h) @ p.W[2 * d:].T, out=n)
    np.tanh(n, out=n)
    return np.add((1 - z) * n, z * h, out=h_new)            # h_t = (1 - z) * n + z * h_{t-1}


def step(p: GRUParams, x, h_prev):
    """One step: x: (B, n), h_prev: (B, d) -> h_t: (B, d)."""
    _check(p)
    x = as_float_array("x", x, ndim=2, dims="(B, n)")
    h_prev = as_float_array("h_prev", h_prev, ndim=2, dims="(B, d)")
    xs, h = _check_inputs(p, x[None], h_prev, names=("x", "h_prev"))
    ax = xs[0] @ p.U.T + p.b
    return _update(p, ax, h, np.empty_like(ax), np.empty(h.shape, ax.dtype), np.empty_like(ax))


def forward(p: GRUParams, xs, h0=None) -> Forward:
    """Run the GRU over ``xs: (T, B, n)`` from h0: (B, d) (zeros if omitted)."""
    _check(p)
    xs, h0 = _check_inputs(p, xs, h0)
    T, B, _ = xs.shape
    AX = xs @ p.U.T                             # U x_t + b for every t at once: (T, B, G d)
    AX += p.b
    hs, gates = np.empty((T, B, p.d), AX.dtype), np.empty_like(AX)
    m = np.empty_like(AX[0])                    # one buffer for W h_{t-1}, reused at every step
    h = h0
    for t in range(T):
        h = _update(p, AX[t], h, gates[t], hs[t], m)
    return Forward(p.kind, h0, hs, _outputs(p.V, p.c, hs), gates=gates)


def backward(p: GRUParams, xs, fwd: Forward, d_os, d_hT=None) -> Backward:
    """BPTT through the GRU given dL/do_t: (T, B, k) and dL/dh_T: (B, d) from later in time (zeros if
    omitted). With dh = dL/dh_t and da_x the gradient at the pre-activation of x::

        torch, cho   da_z = dh * (h_{t-1} - n) * z (1 - z)      da_n = dh * (1 - z) * (1 - n^2)
        torch        da_r = da_n * (W_n h_{t-1} + bh) * r (1 - r)
                     dh_next = dh * z + W_r^T da_r + W_z^T da_z + W_n^T (r * da_n)
        cho          dq = W_n^T da_n  (q = r * h_{t-1})       da_r = dq * h_{t-1} * r (1 - r)
                     dh_next = dh * z + W_r^T da_r + W_z^T da_z + r * dq
        simple       da_u = dh * (n - h_{t-1}) * u (1 - u)      da_n = dh * u * (1 - n^2)
                     dh_next = dh * (1 - u) + W^T [da_u; da_n]

    The local derivatives, the factors after dh (and dq), depend on the forward pass alone, so they
    are computed for all steps at once, into the array dA that the loop then completes in place. In
    the "torch" GRU, dm is the gradient at m = W h_{t-1} + [0; 0; bh], that is [da_r; da_z; r * da_n].
    """
    _check(p)
    xs, h0 = _check_inputs(p, xs, getattr(fwd, "h0", None))
    d_os, d_hT = _check_backward_inputs(p, xs, fwd, d_os, d_hT, h0)
    return _backward(p, xs, fwd, d_os, d_hT)


def _backward(p: GRUParams, xs, fwd: Forward, d_os, d_hT) -> Backward:
    """backward for arrays that are checked already (d_hT: a (B, d) array, not None)."""
    h0, dh_next = fwd.h0, d_hT
    d = p.d
    h_prev = np.concatenate([h0[None], fwd.hs[:-1]])           # h_{t-1} for t = 1..T
    d_hs = d_os @ p.V                                          # first V^T dL/do_t for every t at once
    dA = np.empty_like(fwd.gates)
    dh_next = dh_next.copy()                                   # the gradient arriving from step t + 1
    if p.variant == "simple":
        u, n = _blocks(fwd.gates, 2)
        D_u, D_n = _blocks(dA, 2)                               # first D, with da = D * [dh; dh]
        np.multiply((n - h_prev) * u, 1 - u, out=D_u)
        np.multiply(u, 1 - n ** 2, out=D_n)
        for t in reversed(range(len(xs))):
            dh = np.add(d_hs[t], dh_next, out=d_hs[t])
            da = np.multiply(dA[t], np.concatenate([dh, dh], axis=-1), out=dA[t])
            np.add(dh * (1 - u[t]), da @ p.W, out=dh_next)
        _check_finite_gradient(dA)
        grads = GRUParams._computed(W=_rows(dA).T @ _rows(h_prev), variant=p.variant,
                                    **_dense_grads(xs, fwd.hs, dA, d_os))
        return Backward(grads, dh_next, d_hs)
    r, z, n = _blocks(fwd.gates, 3)
    D_r, D_z, D_n = _blocks(dA, 3)                              # first D
    np.multiply((h_prev - n) * z, 1 - z, out=D_z)
    np.multiply(1 - z, 1 - n ** 2, out=D_n)
    if p.variant == "torch":                                   # da = D * [dh; dh; dh]
        m_n = h_prev @ p.W[2 * d:].T + p.bh                    # W_n h_{t-1} + bh for every t
        np.multiply(D_n * m_n * r, 1 - r, out=D_r)
        dm = np.empty_like(dA)
        for t in reversed(range(len(xs))):
            dh = np.add(d_hs[t], dh_next, out=d_hs[t])
            da = np.multiply(dA[t], np.concatenate([dh, dh, dh], axis=-1), out=dA[t])
            dm[t, :, :2 * d] = da[:, :2 * d]                                        # da_r, da_z
            np.multiply(r[t], da[:, 2 * d:], out=dm[t, :, 2 * d:])                  # r * da_n
            np.add(dh * z[t], dm[t] @ p.W, out=dh_next)                             # dh z + W^T dm
        _check_finite_gradient(dm)
        grads = GRUParams._computed(W=_rows(dm).T @ _rows(h_prev), bh=_rows(dm[..., 2 * d:]).sum(0),
                          variant=p.variant, **_dense_grads(xs, fwd.hs, dA, d_os))
        return Backward(grads, dh_next, d_hs)
    np.multiply(h_prev * r, 1 - r, out=D_r)                    # cho: da_r = dq * D_r
    W_rz, W_n = p.W[:2 * d], p.W[2 * d:]
    for t in reversed(range(len(xs))):
        dh = np.add(d_hs[t], dh_next, out=d_hs[t])
        da_r, da_z, da_n = _blocks(dA[t], 3)
        np.multiply(dh, da_z, out=da_z)
        np.multiply(dh, da_n, out=da_n)
        dq = da_n @ W_n
        np.multiply(dq, da_r, out=da_r)
        np.add(dh * z[t] + r[t] * dq, dA[t, :, :2 * d] @ W_rz, out=dh_next)
    _check_finite_gradient(dA)
    dW = np.concatenate([_rows(dA[..., :2 * d]).T @ _rows(h_prev),      # W_n multiplies q = r * h_{t-1}
                         _rows(dA[..., 2 * d:]).T @ _rows(r * h_prev)])
    grads = GRUParams._computed(W=dW, variant=p.variant, **_dense_grads(xs, fwd.hs, dA, d_os))
    return Backward(grads, dh_next, d_hs)


def count_params(n: int, d: int, k: int, variant: str = "torch", biases: str = "one") -> dict:
    """Number of parameters of each symbol of a GRU of ``variant`` with sizes (n, d, k).

    ``biases="one"`` is the book's cell (one b, plus bh for the "torch" GRU); ``"two"`` is PyTorch's
    torch.nn.GRU, which keeps b_ih and b_hh for every block.
    """
    n, d, k = (positive_int(s, v) for s, v in (("n", n), ("d", d), ("k", k)))
    one_of("variant", variant, VARIANTS)
    one_of("biases", biases, ("one", "two"))
    if biases == "two" and variant != "torch":
        raise ValueError(f"biases: 'two' counts PyTorch's torch.nn.GRU, which has no {variant!r} variant")
    G = len(BLOCKS[variant])
    counts = {"U": G * d * n, "W": G * d * d, "b": G * d * (2 if biases == "two" else 1)}
    if variant == "torch" and biases == "one":
        counts["bh"] = d
    counts.update(V=k * d, c=k)
    counts["total"] = sum(counts.values())
    return counts


def to_torch(p: GRUParams) -> dict:
    """The same model in PyTorch's names: torch.nn.GRU(n, d), then torch.nn.Linear(d, k).

    All of b goes into bias_ih_l0; bias_hh_l0 is zero except its n block, which is bh.
    """
    _check(p)
    if p.variant != "torch":
        raise ValueError(f"p: PyTorch has no {p.variant!r} GRU, expected variant 'torch'")
    bias_hh = np.zeros_like(p.b)
    bias_hh[2 * p.d:] = p.bh
    return {"weight_ih_l0": p.U.copy(), "weight_hh_l0": p.W.copy(), "bias_ih_l0": p.b.copy(),
            "bias_hh_l0": bias_hh, "linear.weight": p.V.copy(), "linear.bias": p.c.copy()}


def from_torch(state: dict) -> GRUParams:
    """Inverse of ``to_torch`` (the "torch" variant): b = bias_ih_l0 + bias_hh_l0 except the n block
    of bias_hh_l0, which becomes bh."""
    state, W, b_ih, b_hh = _torch_biases(state, 3)
    d = W.shape[1]
    b = b_ih + np.concatenate([b_hh[:2 * d], np.zeros(d)])
    return GRUParams(U=state["weight_ih_l0"], W=W, b=b, bh=b_hh[2 * d:], V=state["linear.weight"],
                     c=state["linear.bias"], variant="torch")


class JacobianPaths(NamedTuple):
    """σ_max (largest singular value) of a GRU's step Jacobians dh_t/dh_{t-1}, split by path."""
    one_step_full: np.ndarray     # (T, B) the full Jacobian, every path
    one_step_direct: np.ndarray   # (T, B) the direct path diag(keep): the largest share kept
    one_step_gates: np.ndarray    # (T, B) every other path (through z or u, and through n and r)
    product_full: np.ndarray      # (B,) the product J_T ... J_1 of the full Jacobians
    product_direct: np.ndarray    # (B,) diag(keep_T ... keep_1), the direct path over T steps
    update_bias: float


def jacobian_paths(update_bias: float = 0.0, T: int = 50, d: int = 32, n: int = 4, B: int = 8,
                   seed: int = 0, variant: str = "torch") -> JacobianPaths:
    """Step Jacobians (``jacobians.gru_step``) along a run of ``init_gru(n, d, 4, variant, rng=seed)`` on
    xs ~ N(0, 1): (T, B, n) from ``seed``, the gate keeping h_{t-1} biased by ``update_bias`` (b_z; b_u =
    -update_bias for "simple"). h_0 = 0."""
    from . import jacobians  # here, as jacobians imports this module

    update_bias, T = finite_float("update_bias", update_bias), positive_int("T", T)
    d, n, B = positive_int("d", d), positive_int("n", n), positive_int("B", B)
    xs = np.random.default_rng(positive_int("seed", seed, minimum=0)).normal(size=(T, B, n))
    p = init_gru(n, d, 4, variant=variant, rng=seed)
    simple = variant == "simple"                              # init_gru checked the variant
    p.b[slice(0, d) if simple else slice(d, 2 * d)] = -update_bias if simple else update_bias
    J = jacobians.along_run(p, xs)
    full, keep = J.full, J.keep                               # (T, B, d, d), (T, B, d)
    product = np.eye(d)
    for t in range(T):
        product = full[t] @ product                          # J_t ... J_1
    sigma = lambda M: np.linalg.norm(M, 2, axis=(-2, -1))
    return JacobianPaths(sigma(full), keep.max(axis=2), sigma(J.gates),
                         sigma(product), np.prod(keep, axis=0).max(axis=1), update_bias)
