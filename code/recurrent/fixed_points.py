"""Chapter 4: iterated maps, their fixed points, and the derivative of the t-fold map.

A one-unit RNN with no input is an iterated map x_{t+1} = f(x_t). Its t-fold map f^t has, by the
chain rule, the derivative

    d f^t / dx_0 = f'(x_0) f'(x_1) ... f'(x_{t-1})            (the product along the orbit)

which is the one-dimensional version of the Jacobian product of chapter 3. A fixed point x* = f(x*)
is a sink when |f'(x*)| < 1 and a source when |f'(x*)| > 1; a negative slope makes the orbit
alternate from side to side.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._checks import (
    as_callable,
    as_float_array,
    describe,
    finite_float,
    instance_of,
    positive_float,
    positive_int,
    rng_from,
)
from .interactive import Control


@dataclass(frozen=True)
class Map:
    """A scalar map with its derivative, and the interval on which the book draws it."""

    name: str
    f: Callable
    df: Callable
    lo: float
    hi: float

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name: expected a non-empty str, got {describe(self.name)}")
        as_callable("f", self.f, "the map x -> f(x)")
        as_callable("df", self.df, "its derivative x -> f'(x)")
        lo, hi = finite_float("lo", self.lo), finite_float("hi", self.hi)
        if not lo < hi:
            raise ValueError(f"lo, hi: expected lo < hi, got lo={lo}, hi={hi}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)


@dataclass(frozen=True)
class FixedPoint:
    """A fixed point x* = f(x*) of a scalar map: its ``slope`` f'(x*), its ``kind`` ("sink" when
    |f'| < 1, "source" when |f'| > 1, else "neutral") and whether orbits near it ``alternating`` sides."""

    x: float
    slope: float
    kind: str
    alternating: bool


@dataclass(frozen=True, eq=False)
class FixedPoint2D:
    """A fixed point h* = tanh(W h* + b) in d = 2: ``h`` (2,) and the ``eigenvalues`` (2,) of the
    Jacobian diag(1 - h*^2) W of the map there (a sink when both have modulus < 1)."""

    h: np.ndarray
    eigenvalues: np.ndarray


@dataclass(frozen=True, eq=False)
class Bifurcation:
    """Fixed points of h <- tanh(w h + b) over a range of w, one entry per fixed point found:
    ``w``, ``h`` (h*), ``slope`` (f'(h*)) and ``kind`` ("sink", "source" or "neutral"), each (P,)."""

    w: np.ndarray
    h: np.ndarray
    slope: np.ndarray
    kind: np.ndarray


@dataclass(frozen=True, eq=False)
class Trace:
    """What a cobweb figure draws for a map f from x0.

    ``map``: f's formula; ``x0``; ``grid`` (401,) on [lo, hi] and ``f`` = f(grid); ``orbit`` (steps + 1,);
    ``derivative`` (steps + 1,) = |d f^t / dx_0|; ``fixed``: the ``FixedPoint``s in [lo, hi]; ``lo``, ``hi``.
    """

    map: str
    x0: float
    grid: np.ndarray
    f: np.ndarray
    orbit: np.ndarray
    derivative: np.ndarray
    fixed: list
    lo: float
    hi: float


def logistic(r: float) -> Map:
    """f(x) = r x (1 - x) on [0, 1] (needs 0 < r <= 4 to map [0, 1] into itself)."""
    r = positive_float("r", r)
    if r > 4:
        raise ValueError(f"r: expected 0 < r <= 4 so that [0, 1] maps into itself, got {r}")
    return Map(f"{r:g} x (1 - x)", lambda x: r * x * (1 - x), lambda x: r * (1 - 2 * x), 0.0, 1.0)


def quadratic(c: float) -> Map:
    """f(x) = x^2 + c, increasing on [0, inf): for 0 < c < 1/4 a sink below a source, orbits above escape."""
    c = finite_float("c", c)
    return Map(f"x² + {c:g}", lambda x: x * x + c, lambda x: 2 * x, 0.0, 1.0)


def tanh_unit(w: float, b: float = 0.0) -> Map:
    """One RNN unit without input: f(h) = tanh(w h + b), f'(h) = w (1 - f(h)^2), drawn on [-1, 1]."""
    w, b = finite_float("w", w), finite_float("b", b)
    return Map(f"tanh({w:g} h + {b:g})", lambda h: np.tanh(w * h + b),
               lambda h: w * (1 - np.tanh(w * h + b) ** 2), -1.0, 1.0)


def orbit(m: Map, x0: float, steps: int):
    """x_0, f(x_0), ..., f^steps(x_0): an array of steps + 1 values (inf/nan once it escapes)."""
    m, steps = _map("m", m), positive_int("steps", steps)
    xs = np.empty(steps + 1)
    xs[0] = finite_float("x0", x0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            xs[t + 1] = m.f(xs[t])
    return xs


def t_fold_derivative(m: Map, x0: float, steps: int):
    """d f^t / dx_0 for t = 0..steps: cumulative products of f' along the orbit (1 at t = 0)."""
    xs = orbit(m, x0, steps)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.concatenate([[1.0], np.cumprod(m.df(xs[:-1]))])


def fixed_points(m: Map, lo: float | None = None, hi: float | None = None, grid: int = 4001):
    """All solutions of f(x) = x in [lo, hi] where f(x) - x changes sign, refined by bisection.

    Points where f(x) - x touches zero without crossing (a tangency) are not found.
    """
    m = _map("m", m)
    lo = m.lo if lo is None else finite_float("lo", lo)
    hi = m.hi if hi is None else finite_float("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo, hi: expected lo < hi, got lo={lo}, hi={hi}")
    x = np.linspace(lo, hi, positive_int("grid", grid, minimum=3))
    g = m.f(x) - x
    roots = list(x[g == 0])
    for a, b in zip(x[:-1][(g[:-1] * g[1:]) < 0], x[1:][(g[:-1] * g[1:]) < 0]):
        ga = m.f(a) - a
        for _ in range(80):                  # bisection: halves the bracket to below 1e-16
            mid = 0.5 * (a + b)
            gm = m.f(mid) - mid
            if gm == 0 or b - a < 1e-16:
                break
            if np.sign(gm) == np.sign(ga):
                a, ga = mid, gm
            else:
                b = mid
        roots.append(0.5 * (a + b))
    return np.array(sorted(roots))


def classify(m: Map, x_star: float) -> FixedPoint:
    """Slope f'(x*) and the kind of fixed point: sink (|f'| < 1), source (|f'| > 1) or neutral."""
    m, x_star = _map("m", m), finite_float("x_star", x_star)
    slope = float(m.df(x_star))
    if not np.isfinite(slope):
        raise ValueError(f"x_star: expected a point where f' is finite, got f'({x_star}) = {slope}")
    kind = "sink" if abs(slope) < 1 else "source" if abs(slope) > 1 else "neutral"
    return FixedPoint(x=x_star, slope=slope, kind=kind, alternating=bool(slope < 0))


def attracting_cycle(m: Map, x0: float, burn: int = 2000, max_period: int = 64, tol: float = 1e-9):
    """The cycle an orbit settles on: the points after ``burn`` steps, one period long, or None.

    A period p is accepted when |x_{burn + p} - x_burn| < ``tol`` (0 < tol < 1, finite).
    """
    burn, max_period = positive_int("burn", burn, minimum=0), positive_int("max_period", max_period)
    tol = positive_float("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol: expected a tolerance below 1, got {tol}")
    xs = orbit(m, x0, burn + max_period)
    tail = xs[burn:]
    for period in range(1, max_period + 1):
        if abs(tail[period] - tail[0]) < tol:
            return np.sort(tail[:period])
    return None


def logistic_lyapunov(rs, x0: float = 0.2, burn: int = 1000, steps: int = 2000):
    """Lyapunov exponents of the logistic maps r x (1 - x) for each r in ``rs``: (R,) -> (R,).

    lambda(r) = mean over ``steps`` iterations (after ``burn``) of log |f'(x_t)| = log |r (1 - 2 x_t)|,
    the growth rate per step of the derivative of the t-fold map (a test checks it against
    ``t_fold_derivative``). lambda < 0 on an attracting cycle, lambda > 0 where orbits are chaotic.
    """
    rs = as_float_array("rs", rs, ndim=1, dims="(R,)")
    if rs.size == 0 or rs.min() <= 0 or rs.max() > 4:
        raise ValueError(f"rs: expected values in (0, 4], got {rs.size} values in [{rs.min(initial=0)}, "
                         f"{rs.max(initial=0)}]")
    burn, steps = positive_int("burn", burn, minimum=0), positive_int("steps", steps)
    x = np.full(rs.shape, positive_float("x0", x0))
    for _ in range(burn):
        x = rs * x * (1 - x)
    total = np.zeros(rs.shape)
    with np.errstate(divide="ignore"):
        for _ in range(steps):
            total += np.log(np.abs(rs * (1 - 2 * x)))
            x = rs * x * (1 - x)
    return total / steps


def chaos_onset(lo: float = 3.5, hi: float = 3.6, step: float = 1e-4, tol: float = 0.01) -> float:
    """The smallest r on a grid from ``lo`` to ``hi`` whose Lyapunov exponent exceeds ``tol``.

    This is where period doubling ends and chaos begins, r = 3.5699..., to within
    the grid step and the time it takes a finite orbit to tell a long cycle from chaos.
    """
    lo, hi = finite_float("lo", lo), finite_float("hi", hi)
    step, tol = positive_float("step", step), positive_float("tol", tol, allow_zero=True)
    if not 0 < lo < hi <= 4:
        raise ValueError(f"lo, hi: expected 0 < lo < hi <= 4, got lo={lo}, hi={hi}")
    if (hi - lo) / step > 1e6:
        raise ValueError(f"step: expected at most 1e6 grid points from lo to hi, got {(hi - lo) / step:.3g}")
    rs = np.arange(lo, hi + step / 2, step)
    lam = logistic_lyapunov(rs)
    above = np.flatnonzero(lam > tol)
    if above.size == 0:
        raise ValueError(f"no chaotic r in [{lo}, {hi}] (Lyapunov exponent above {tol})")
    return float(rs[above[0]])


def bifurcation(ws, b: float = 0.0) -> Bifurcation:
    """Fixed points of h <- tanh(w h + b) for each w in ``ws`` (W,), with their kind and slope."""
    ws = as_float_array("ws", ws, ndim=1, dims="(W,)")
    points = [(w, classify(m, x)) for w in ws for m in [tanh_unit(float(w), b)] for x in fixed_points(m)]
    return Bifurcation(w=np.array([w for w, _ in points]), h=np.array([p.x for _, p in points]),
                       slope=np.array([p.slope for _, p in points]),
                       kind=np.array([p.kind for _, p in points], dtype=str))


def fixed_points_2d(W, b, starts: int = 50, rng=0):
    """Fixed points of h = tanh(W h + b) for d = 2, by Newton's method from ``starts`` random starts.

    Returns the ``FixedPoint2D``s found (h and the eigenvalues of the Jacobian diag(1 - h^2) W there),
    sorted by h. A singular Newton system (a degenerate fixed point, W = I, where Newton converges only
    linearly and rounding limits h* to about 1e-8) takes the least-squares step, so it converges instead
    of failing; points closer than 1e-6 count as one.
    """
    W = as_float_array("W", W, shape=(2, 2), dims="(2, 2)")
    b = as_float_array("b", b, shape=(2,), dims="(2,)")
    found = []
    for h in rng_from(rng).uniform(-1, 1, (positive_int("starts", starts), 2)):
        for _ in range(200):
            f = np.tanh(W @ h + b)
            J = (1 - f**2)[:, None] * W - np.eye(2)        # Jacobian of F(h) = tanh(W h + b) - h
            step = np.linalg.lstsq(J, f - h, rcond=None)[0]
            h = h - step
            if np.abs(step).max() < 1e-14:
                break
        if np.abs(np.tanh(W @ h + b) - h).max() < 1e-12 and not any(
                np.abs(h - p.h).max() < 1e-6 for p in found):        # a degenerate point is found to ~1e-8
            J = (1 - np.tanh(W @ h + b) ** 2)[:, None] * W
            found.append(FixedPoint2D(h=h, eigenvalues=np.linalg.eigvals(J)))
    # sorted by coordinates rounded to 1e-9, so that a coordinate of +-1e-17 (zero up to rounding, and of
    # either sign on different CPUs) sorts as zero
    return sorted(found, key=lambda p: tuple(np.round(p.h, 9) + 0.0))


def trace(m: Map, x0: float, steps: int = 30) -> Trace:
    """What a cobweb figure draws: the graph of f, the orbit from x0, |d f^t/dx0|, the fixed points."""
    m = _map("m", m)
    grid = np.linspace(m.lo, m.hi, 401)
    return Trace(map=m.name, x0=finite_float("x0", x0), grid=grid, f=m.f(grid), orbit=orbit(m, x0, steps),
                 derivative=np.abs(t_fold_derivative(m, x0, steps)),
                 fixed=[classify(m, x) for x in fixed_points(m)], lo=m.lo, hi=m.hi)


def tanh_unit_trace(w: float = 1.5, b: float = 0.0, x0: float = 0.05, steps: int = 30) -> Trace:
    """``trace`` of the unit h <- tanh(w h + b) started at h_0 = x0 (the chapter's explorer)."""
    return trace(tanh_unit(w, b), x0, steps)


def _map(name: str, m) -> Map:
    return instance_of(name, m, Map, "a fixed_points.Map (logistic, quadratic, tanh_unit)")


CONTROLS = (
    Control("w", (-2.0, -1.0, 0.5, 0.9, 1.1, 1.5, 2.5), 1.5, "weight w", "{:+.1f}"),
    Control("b", (-0.2, 0.0, 0.2), 0.0, "bias b", "{:+.1f}"),
    Control("x0", (-0.05, 0.05, 0.6), 0.05, "start h₀", "{:+.2f}"),
)
