"""Chapter 4 in two dimensions: orbits of h <- tanh(W h + b), the phase portrait, and the attracting closed
curve around a source whose eigenvalues are complex.

For W = a R(theta) (a rotation by theta scaled by a > 1) and b = 0 the fixed point h = 0 is a source:
the Jacobian there is W itself, with eigenvalues a e^{+-i theta} outside the unit circle, so orbits spiral
out. Far from 0 the tanh saturates and pulls them back in. Between the two an invariant closed curve
attracts every orbit except the one that sits at 0. The weakly nonlinear estimate of its radius: with
tanh(z) = z - z^3 / 3 + ..., one step maps a radius r to about a r - (a r)^3 (cos^4 phi + sin^4 phi) / 3,
and cos^4 + sin^4 averages to 3/4 over the angles phi an orbit visits, so the radius that maps to
itself is r = (2 / a) sqrt(1 - 1 / a) (``cubic_radius``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, finite_float, positive_float, positive_int
from .fixed_points import FixedPoint2D, fixed_points_2d


@dataclass(frozen=True, eq=False)
class PhasePortrait:
    """What the phase-portrait figure draws for h <- tanh(W h + b) in d = 2.

    ``W`` (2, 2), ``b`` (2,); ``x``, ``y``: (G,) grid coordinates of the square [-lim, lim]^2; ``step``:
    (G, G, 2) the displacement F(h) - h at the grid point (x[j], y[i]) in row i, column j; ``orbits``:
    (S, steps + 1, 2) the orbits from the S starts; ``fixed``: the fixed points (``FixedPoint2D``);
    ``curve``: (P, 2) points of one long-run orbit (after ``burn`` steps), in order of angle, so that
    joining them draws the closed curve it fills; ``band``: (S, 2) the smallest and largest ||h_t|| over
    ``tail`` steps after ``burn`` steps, for each start.
    """

    W: np.ndarray
    b: np.ndarray
    x: np.ndarray
    y: np.ndarray
    step: np.ndarray
    orbits: np.ndarray
    fixed: tuple
    curve: np.ndarray
    band: np.ndarray


def rotation_scaling(a: float, theta: float):
    """W = a R(theta) = a [[cos theta, -sin theta], [sin theta, cos theta]], eigenvalues a e^{+-i theta}."""
    a, theta = positive_float("a", a), finite_float("theta", theta)
    c, s = np.cos(theta), np.sin(theta)
    return a * np.array([[c, -s], [s, c]])


def orbit_2d(W, b, h0, steps: int):
    """The orbit h_0, h_1, ..., h_steps of h_t = tanh(W h_{t-1} + b).

    W: (2, 2), b and h0: (2,) -> (steps + 1, 2)."""
    W, b = _map(W, b)
    h0 = as_float_array("h0", h0, shape=(2,), dims="(2,)")
    hs = np.empty((positive_int("steps", steps) + 1, 2))
    hs[0] = h0
    for t in range(1, len(hs)):
        hs[t] = np.tanh(W @ hs[t - 1] + b)
    return hs


def radius_band(W, b, starts, burn: int = 2000, tail: int = 2000):
    """The smallest and largest ||h_t|| for t = burn + 1 .. burn + tail along the orbit from each start.

    W: (2, 2), b: (2,), starts: (S, 2) -> (S, 2) of (min, max). Orbits that settle on the same attracting
    set give the same band; a band of width 0 is a fixed point."""
    W, b = _map(W, b)
    starts = as_float_array("starts", starts, ndim=2, dims="(S, 2)")
    if starts.shape[1] != 2:
        raise ValueError(f"starts: expected shape (S, 2), got {starts.shape}")
    burn, tail = positive_int("burn", burn, minimum=0), positive_int("tail", tail)
    h = starts.T.copy()                                 # (2, S): every orbit at once
    for _ in range(burn):
        h = np.tanh(W @ h + b[:, None])
    lo, hi = np.full(len(starts), np.inf), np.zeros(len(starts))
    for _ in range(tail):
        h = np.tanh(W @ h + b[:, None])
        r = np.linalg.norm(h, axis=0)
        lo, hi = np.minimum(lo, r), np.maximum(hi, r)
    return np.stack([lo, hi], axis=1)


def cubic_radius(a):
    """The weakly nonlinear estimate (2 / a) sqrt(1 - 1 / a) of the closed curve's radius for
    W = a R(theta), b = 0 (see the module docstring); NaN for a <= 1, where 0 is a sink and there is
    no curve. a: any shape, every entry > 0."""
    a = as_float_array("a", a)
    if np.any(a <= 0):
        raise ValueError(f"a: expected moduli > 0, got values down to {a.min()}")
    with np.errstate(invalid="ignore"):
        r = np.where(a > 1, 2.0 / a * np.sqrt(np.maximum(1.0 - 1.0 / a, 0.0)), np.nan)
    return float(r) if r.ndim == 0 else r


def phase_portrait(W, b, starts, steps: int = 40, lim: float = 1.0, grid: int = 21, burn: int = 2000,
                   tail: int = 2000) -> PhasePortrait:
    """Orbits from ``starts`` (S, 2), the step field on a ``grid`` x ``grid`` square of half-width ``lim``,
    the fixed points, the long-run curve of the first start and every start's radius band (see
    ``PhasePortrait``). W: (2, 2), b: (2,)."""
    W, b = _map(W, b)
    starts = as_float_array("starts", starts, ndim=2, dims="(S, 2)")
    if starts.shape[1] != 2:
        raise ValueError(f"starts: expected shape (S, 2), got {starts.shape}")
    steps, grid = positive_int("steps", steps), positive_int("grid", grid, minimum=2)
    lim = positive_float("lim", lim)
    band = radius_band(W, b, starts, burn, tail)
    x = y = np.linspace(-lim, lim, grid)
    H = np.stack(np.meshgrid(x, y), axis=-1)            # (G, G, 2), H[i, j] = (x[j], y[i])
    step = np.tanh(H @ W.T + b) - H
    orbits = np.stack([orbit_2d(W, b, h0, steps) for h0 in starts])
    late = orbit_2d(W, b, starts[0], burn + tail)[burn + 1:]
    curve = late[np.argsort(np.arctan2(late[:, 1], late[:, 0]))]
    fixed = tuple(fixed_points_2d(W, b))
    return PhasePortrait(W=W, b=b, x=x, y=y, step=step, orbits=orbits, fixed=fixed, curve=curve, band=band)


def kind(point: FixedPoint2D) -> str:
    """"sink" when both eigenvalues of the Jacobian have modulus < 1, "source" when both exceed 1,
    "saddle" when one does each, "neutral" otherwise."""
    if not isinstance(point, FixedPoint2D):
        raise TypeError(f"point: expected a fixed_points.FixedPoint2D, got {type(point).__name__}")
    m = np.abs(point.eigenvalues)
    if np.all(m < 1):
        return "sink"
    if np.all(m > 1):
        return "source"
    return "saddle" if np.any(m < 1) and np.any(m > 1) else "neutral"


def _map(W, b):
    return (as_float_array("W", W, shape=(2, 2), dims="(2, 2)"),
            as_float_array("b", b, shape=(2,), dims="(2,)"))
