"""Chapter 3: Jacobian products, gradient norms through time, and the SVD / eigenvalue view.

For h_t = phi(U x_t + W h_{t-1} + b) the Jacobian of one step and of many steps are::

    J_t = dh_t/dh_{t-1} = diag(phi'(z_t)) W          phi' = 1 - h_t^2 for tanh, 1 for linear
    dh_T/dh_k = J_T J_{T-1} ... J_{k+1}

and a gradient g_T = dL/dh_T arriving at the last state reaches h_k as
dL/dh_k = J_{k+1}^T ... J_T^T g_T: the recursion of chapter 2 without the output terms.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, finite_float, one_of, positive_float, positive_int, rng_from
from .interactive import Control

FAMILIES = ("gaussian", "orthogonal", "symmetric")
ACTIVATIONS = ("linear", "tanh")
DERIVATIVE_BOUND = {"linear": 1.0, "tanh": 1.0, "sigmoid": 0.25}   # max |phi'|


@dataclass(frozen=True, eq=False)
class PowerNorms:
    """||W^t||_2 for t = 0..t_max beside its bounds, all of shape (t_max + 1,).

    ``t``: the powers; ``norm``: ||W^t||_2; ``rho_t``: rho(W)^t, a lower bound; ``sigma_t``:
    sigma_max(W)^t, an upper bound; ``gelfand``: ||W^t||^(1/t) (NaN at t = 0), which tends to rho(W).
    """

    t: np.ndarray
    norm: np.ndarray
    rho_t: np.ndarray
    sigma_t: np.ndarray
    gelfand: np.ndarray


@dataclass(frozen=True, eq=False)
class GradientNorms:
    """||dL/dh_k|| for k = 0..T when a unit gradient arrives at h_T, with its bounds and the spectrum of W.

    ``k``: (T + 1,) steps; ``norm``: (T + 1,), norm[T] = 1; ``sigma_bound``: (gamma sigma_max)^(T - k), an
    upper bound (gamma = max |phi'|); ``rho_ref``: rho^(T - k), the linear network's typical rate;
    ``singular_values``: (d,) of W, descending; ``eigenvalues``: (d,) of W, complex; ``activation``: phi's
    name; ``T``: the number of steps.
    """

    k: np.ndarray
    norm: np.ndarray
    sigma_bound: np.ndarray
    rho_ref: np.ndarray
    singular_values: np.ndarray
    eigenvalues: np.ndarray
    activation: str
    T: int


@dataclass(frozen=True, eq=False)
class FreeRun:
    """A tanh network without inputs, h_t = tanh(W h_{t-1}) from h_0, and a unit gradient pushed back
    from h_T.

    ``t``: (T + 1,) steps; ``states``: (T + 1, d) with states[0] = h_0; ``norm``: (T + 1,) ||h_t||;
    ``grad``: (T + 1,) ||dL/dh_k|| for a random unit gradient dL/dh_T, so grad[T] = 1.
    """

    t: np.ndarray
    states: np.ndarray
    norm: np.ndarray
    grad: np.ndarray


@dataclass(frozen=True, eq=False)
class GradientNormsAtInit(GradientNorms):
    """``GradientNorms`` of a random W drawn from ``family`` with spectral radius ``rho``."""

    rho: float
    family: str


def spectral_radius(W) -> float:
    """rho(W) = max |lambda_i(W)|. W: (d, d)."""
    W = _square("W", W)
    return float(np.abs(np.linalg.eigvals(W)).max())


def matrix(family: str, d: int, rho: float, rng=0):
    """A random (d, d) matrix of the given family, scaled so that its spectral radius is ``rho``.

    gaussian: entries N(0, 1/d), a non-normal matrix whose singular values spread above rho;
    orthogonal: rho times a random orthogonal matrix, so every singular value equals rho;
    symmetric: (A + A^T) / 2 scaled, a normal matrix whose singular values are |eigenvalues|.
    """
    one_of("family", family, FAMILIES)
    d, rho, rng = positive_int("d", d), positive_float("rho", rho), rng_from(rng)
    A = rng.normal(0.0, 1.0 / np.sqrt(d), (d, d))
    if family == "orthogonal":
        Q, R = np.linalg.qr(A)
        return rho * Q * np.sign(np.diag(R))          # sign fix: Haar-distributed Q (columns times sign R_ii)
    if family == "symmetric":
        A = (A + A.T) / 2
    return A * (rho / spectral_radius(A))


def nonnormal(rho: float, a: float):
    """The 2x2 matrix [[rho, a], [0, rho]]: spectral radius rho, but ||W^t|| grows first when a is large."""
    rho, a = positive_float("rho", rho), finite_float("a", a)
    return np.array([[rho, a], [0.0, rho]])


def normal(d: int, rho: float, rng=0):
    """A random real normal (d, d) matrix (W W^T = W^T W) with spectral radius ``rho``, neither symmetric
    nor a multiple of an orthogonal matrix: Q B Q^T for a random orthogonal Q and a block-diagonal B of
    2x2 rotation-scalings r R(theta) (and one 1x1 block when d is odd). The moduli r are drawn in
    (0, rho], the largest set to rho; the singular values of W are these moduli."""
    d, rho, rng = positive_int("d", d), positive_float("rho", rho), rng_from(rng)
    Q = matrix("orthogonal", d, 1.0, rng)
    r = rng.uniform(0.1, 1.0, (d + 1) // 2) * rho
    r[0], B = rho, np.zeros((d, d))
    for i, (modulus, theta) in enumerate(zip(r, rng.uniform(0.2, np.pi - 0.2, len(r)))):
        if 2 * i + 1 < d:
            c, s = np.cos(theta), np.sin(theta)
            B[2 * i:2 * i + 2, 2 * i:2 * i + 2] = modulus * np.array([[c, -s], [s, c]])
        else:
            B[2 * i, 2 * i] = modulus
    return Q @ B @ Q.T


def normality_defect(W) -> float:
    """||W W^T - W^T W||_F / ||W||_F^2: 0 for a normal matrix (up to rounding), of order 1 for a strongly
    non-normal one. W: (d, d), not all zero."""
    W = _square("W", W)
    scale = np.sum(W**2)
    if scale == 0:
        raise ValueError("W: expected a matrix that is not all zero, got the zero matrix")
    return float(np.linalg.norm(W @ W.T - W.T @ W) / scale)


def power_norms(W, t_max: int) -> PowerNorms:
    """||W^t||_2 for t = 0..t_max with the bounds rho^t <= ||W^t|| <= sigma_max^t (see ``PowerNorms``).

    Its ``gelfand`` = ||W^t||^(1/t) tends to rho(W) as t grows (Gelfand's formula).
    """
    W, t_max = _square("W", W), positive_int("t_max", t_max)
    norms, P = [1.0], np.eye(len(W))
    for _ in range(t_max):
        P = W @ P
        norms.append(np.linalg.norm(P, 2))
    t, norms = np.arange(t_max + 1), np.array(norms)
    rho, sigma = spectral_radius(W), np.linalg.norm(W, 2)
    with np.errstate(divide="ignore"):
        gelfand = np.where(t > 0, norms ** (1.0 / np.maximum(t, 1)), np.nan)
    return PowerNorms(t=t, norm=norms, rho_t=rho ** t, sigma_t=sigma ** t, gelfand=gelfand)


def svd_power(W, t: int):
    """sum_i sigma_i^t u_i v_i^T from the SVD W = sum_i sigma_i u_i v_i^T (W^t only in special cases)."""
    W, t = _square("W", W), positive_int("t", t)
    U_, s, Vt = np.linalg.svd(W)
    return (U_ * s**t) @ Vt


def gradient_norms(W, T: int, activation: str = "tanh", input_scale: float = 1.0, rng=0) -> GradientNorms:
    """||dL/dh_k|| for k = 0..T when a unit gradient arrives at h_T, in an RNN at initialisation.

    The states follow h_t = phi(W h_{t-1} + u_t) from h_0 = 0, with inputs u_t = U x_t drawn as
    N(0, input_scale^2) per unit (``input_scale=0`` keeps every state at 0). The gradient is pushed
    back by dL/dh_{t-1} = W^T diag(phi'(z_t)) dL/dh_t. See ``GradientNorms`` for the fields.
    """
    W = _square("W", W)
    T, d = positive_int("T", T), len(W)
    one_of("activation", activation, ACTIVATIONS)
    input_scale, rng = positive_float("input_scale", input_scale, allow_zero=True), rng_from(rng)
    u = rng.normal(0.0, input_scale, (T, d))
    g = rng.normal(size=d)
    g /= np.linalg.norm(g)
    hs = np.zeros((T + 1, d))
    for t in range(1, T + 1):
        z = W @ hs[t - 1] + u[t - 1]
        hs[t] = np.tanh(z) if activation == "tanh" else z
    norms = np.empty(T + 1)
    norms[T] = 1.0
    for t in range(T, 0, -1):
        if activation == "tanh":
            g = g * (1.0 - hs[t] ** 2)
        g = W.T @ g
        norms[t - 1] = np.linalg.norm(g)
    s = np.linalg.svd(W, compute_uv=False)
    k = np.arange(T + 1)
    return GradientNorms(k=k, norm=norms, sigma_bound=(DERIVATIVE_BOUND[activation] * s[0]) ** (T - k),
                         rho_ref=spectral_radius(W) ** (T - k), singular_values=s,
                         eigenvalues=np.linalg.eigvals(W), activation=activation, T=T)


def gradient_norms_at_init(rho: float = 0.9, family: str = "gaussian", activation: str = "tanh", d: int = 64,
                           T: int = 100, input_scale: float = 0.1, seed: int = 0) -> GradientNormsAtInit:
    """``gradient_norms`` for a random W of ``family`` with spectral radius ``rho`` (the chapter's explorer).

    W is drawn with ``seed``, the inputs and the arriving gradient with ``seed + 1``. Small inputs
    (``input_scale=0.1``) keep a tanh network near its linear regime at first, so that the spectrum of W,
    not saturation, decides what happens.
    """
    seed = positive_int("seed", seed, minimum=0)
    W = matrix(family, d, rho, seed)
    r = gradient_norms(W, T, activation, input_scale, rng=seed + 1)
    return GradientNormsAtInit(**vars(r), rho=float(rho), family=family)


def free_run(W, h0, T: int, rng=0) -> FreeRun:
    """States of h_t = tanh(W h_{t-1}) for t = 0..T from ``h0`` (no inputs), and a random unit gradient
    at h_T pushed back by dL/dh_{t-1} = W^T diag(1 - h_t^2) dL/dh_t (``rng`` draws its direction).
    W: (d, d), h0: (d,). h0 = 0 stays at the fixed point 0 forever; see ``FreeRun`` for the fields."""
    W = _square("W", W)
    h0 = as_float_array("h0", h0, shape=(len(W),), dims="(d,)")
    T, rng = positive_int("T", T), rng_from(rng)
    hs = np.empty((T + 1, len(W)))
    hs[0] = h0
    for t in range(1, T + 1):
        hs[t] = np.tanh(W @ hs[t - 1])
    g = rng.normal(size=len(W))
    g /= np.linalg.norm(g)
    grad = np.empty(T + 1)
    grad[T] = 1.0
    for t in range(T, 0, -1):
        g = W.T @ (g * (1.0 - hs[t] ** 2))
        grad[t - 1] = np.linalg.norm(g)
    return FreeRun(t=np.arange(T + 1), states=hs, norm=np.linalg.norm(hs, axis=1), grad=grad)


def step_jacobian(W, h):
    """dh_t/dh_{t-1} = diag(1 - h_t^2) W for a tanh step that produced h_t. W: (d, d), h: (d,) -> (d, d)."""
    W = _square("W", W)
    h = as_float_array("h", h, shape=(len(W),), dims="(d,)")
    return (1.0 - h**2)[:, None] * W


CONTROLS = (
    Control("rho", tuple(np.round(np.arange(0.6, 1.41, 0.1), 2)), 0.9, "spectral radius ρ", "{:.1f}"),
    Control("family", FAMILIES, "gaussian", "matrix family"),
    Control("activation", ACTIVATIONS, "tanh", "activation"),
)


def _square(name, W):
    W = as_float_array(name, W, ndim=2, dims="(d, d)")
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"{name}: expected a square matrix (d, d), got shape {W.shape}")
    return W
