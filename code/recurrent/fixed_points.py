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

from ._checks import as_float_array, positive_float, positive_int
from .interactive import Control


@dataclass(frozen=True)
class Map:
    """A scalar map with its derivative, and the interval on which the book draws it."""

    name: str
    f: Callable
    df: Callable
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
    c = float(c)
    return Map(f"x² + {c:g}", lambda x: x * x + c, lambda x: 2 * x, 0.0, 1.0)


def tanh_unit(w: float, b: float = 0.0) -> Map:
    """One RNN unit without input: f(h) = tanh(w h + b), f'(h) = w (1 - f(h)^2), drawn on [-1, 1]."""
    w, b = float(w), float(b)
    if not (np.isfinite(w) and np.isfinite(b)):
        raise ValueError(f"w, b: expected finite numbers, got w={w}, b={b}")
    return Map(f"tanh({w:g} h + {b:g})", lambda h: np.tanh(w * h + b),
               lambda h: w * (1 - np.tanh(w * h + b) ** 2), -1.0, 1.0)


def orbit(m: Map, x0: float, steps: int):
    """x_0, f(x_0), ..., f^steps(x_0): an array of steps + 1 values (inf/nan once it escapes)."""
    steps = positive_int("steps", steps)
    xs = np.empty(steps + 1)
    xs[0] = float(x0)
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
    lo = m.lo if lo is None else float(lo)
    hi = m.hi if hi is None else float(hi)
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


def classify(m: Map, x_star: float) -> dict:
    """Slope f'(x*) and the kind of fixed point: sink (|f'| < 1), source (|f'| > 1) or neutral."""
    slope = float(m.df(x_star))
    kind = "sink" if abs(slope) < 1 else "source" if abs(slope) > 1 else "neutral"
    return {"x": float(x_star), "slope": slope, "kind": kind, "alternating": slope < 0}


def attracting_cycle(m: Map, x0: float, burn: int = 2000, max_period: int = 64, tol: float = 1e-9):
    """The cycle an orbit settles on: the points after ``burn`` steps, one period long, or None."""
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
    rs = np.arange(lo, hi + step / 2, step)
    lam = logistic_lyapunov(rs)
    above = np.flatnonzero(lam > tol)
    if above.size == 0:
        raise ValueError(f"no chaotic r in [{lo}, {hi}] (Lyapunov exponent above {tol})")
    return float(rs[above[0]])


def bifurcation(ws, b: float = 0.0) -> dict:
    """Fixed points of h <- tanh(w h + b) for each w in ``ws``, with their kind and |slope|.

    Returns flat arrays ``w``, ``h``, ``slope`` and ``kind`` (one entry per fixed point found).
    """
    out = {"w": [], "h": [], "slope": [], "kind": []}
    for w in np.asarray(ws, dtype=float):
        m = tanh_unit(w, b)
        for x in fixed_points(m):
            p = classify(m, x)
            out["w"].append(w)
            out["h"].append(x)
            out["slope"].append(p["slope"])
            out["kind"].append(p["kind"])
    return {k: np.array(v) for k, v in out.items()}


def fixed_points_2d(W, b, starts: int = 50, rng=0):
    """Fixed points of h = tanh(W h + b) for d = 2, by Newton's method from random starts.

    Returns a list of dicts with ``h`` and the eigenvalues of the Jacobian diag(1 - h^2) W there.
    """
    W = as_float_array("W", W, shape=(2, 2), dims="(2, 2)")
    b = as_float_array("b", b, shape=(2,), dims="(2,)")
    found = []
    for h in np.random.default_rng(rng).uniform(-1, 1, (positive_int("starts", starts), 2)):
        for _ in range(100):
            f = np.tanh(W @ h + b)
            J = (1 - f**2)[:, None] * W - np.eye(2)        # Jacobian of F(h) = tanh(W h + b) - h
            step = np.linalg.solve(J, f - h)
            h = h - step
            if np.abs(step).max() < 1e-14:
                break
        if np.abs(np.tanh(W @ h + b) - h).max() < 1e-12 and not any(
                np.abs(h - p["h"]).max() < 1e-8 for p in found):
            J = (1 - np.tanh(W @ h + b) ** 2)[:, None] * W
            found.append({"h": h, "eigenvalues": np.linalg.eigvals(J)})
    # sorted by coordinates rounded to 1e-9, so that a coordinate of +-1e-17 (zero up to rounding, and of
    # either sign on different CPUs) sorts as zero
    return sorted(found, key=lambda p: tuple(np.round(p["h"], 9) + 0.0))


def trace(m: Map, x0: float, steps: int = 30) -> dict:
    """What a cobweb figure draws: the graph of f, the orbit from x0, |d f^t/dx0|, the fixed points."""
    grid = np.linspace(m.lo, m.hi, 401)
    return {"map": m.name, "x0": float(x0), "grid": grid, "f": m.f(grid), "orbit": orbit(m, x0, steps),
            "derivative": np.abs(t_fold_derivative(m, x0, steps)),
            "fixed": [classify(m, x) for x in fixed_points(m)], "lo": m.lo, "hi": m.hi}


def cobweb(w: float = 1.5, b: float = 0.0, x0: float = 0.05, steps: int = 30) -> dict:
    """The chapter's explorer: ``trace`` of the unit h <- tanh(w h + b) started at h_0 = x0."""
    return trace(tanh_unit(w, b), x0, steps)


CONTROLS = (
    Control("w", (-2.0, -1.0, 0.5, 0.9, 1.1, 1.5, 2.5), 1.5, "weight w", "{:+.1f}"),
    Control("b", (-0.2, 0.0, 0.2), 0.0, "bias b", "{:+.1f}"),
    Control("x0", (-0.05, 0.05, 0.6), 0.05, "start h₀", "{:+.2f}"),
)
