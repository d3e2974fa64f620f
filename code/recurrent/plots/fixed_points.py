"""Chapter 4's figures: the cobweb of an orbit with the derivative of the t-fold map, bifurcations."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import COLORS, CYCLE, fields, mapping, plain_log_labels, text
from .updatable import UpdatableFigure

LIMIT = 1e30           # the derivative panel spans 1e-30 to 1e30


def _staircase(orbit, lo: float, hi: float):
    """The cobweb's path (x0, lo), (x0, x1), (x1, x1), (x1, x2), ... of the finite points near [lo, hi]."""
    xs = orbit[np.isfinite(orbit)]
    xs = xs[(xs >= lo - 1) & (xs <= hi + 1)]
    if len(xs) < 2:
        return xs[:1], np.full(len(xs[:1]), lo)
    px, py = np.repeat(xs, 2)[1:-1], np.repeat(xs, 2)[2:]
    return np.concatenate([[xs[0]], px]), np.concatenate([[lo], py])


def cobweb(result):
    """Cobweb diagram of an orbit of x <- f(x) (left) and |d f^t/dx_0| along it (right, log scale).

    ``result``: a ``fixed_points.Trace`` (fields map, x0, grid, f, orbit, derivative, fixed, lo, hi).
    The figure is an ``UpdatableFigure``: an explorer puts a new trace on the same interval in place.
    """
    fields("result", result, "map", "x0", "grid", "f", "orbit", "derivative", "fixed", "lo", "hi")
    fig = plt.figure(FigureClass=UpdatableFigure, figsize=(8.4, 3.6), layout="none")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.28)
    lo, hi, steps = result.lo, result.hi, len(result.derivative)
    left.plot([lo, hi], [lo, hi], color=COLORS["grey"], lw=0.8, ls="--", label="y = x")
    graph, = left.plot(result.grid, result.f, color=COLORS["x"], lw=1.8, label="y = f(x)")
    path, = left.plot([], [], color=COLORS["h"], lw=1, label="orbit")
    start, = left.plot([], [], "^", color=COLORS["h"], ms=7)
    style = dict(color=COLORS["loss"], ms=8, mew=1.5, ls="none")
    sinks, = left.plot([], [], "o", mfc=COLORS["loss"], **style)
    others, = left.plot([], [], "o", mfc="white", **style)
    left.set_xlim(lo, hi)
    left.set_ylim(lo, hi)
    left.set_aspect("equal")
    left.set(xlabel="x(t)", ylabel="x(t+1)")
    kinds = left.text(0.02, 0.98, "", transform=left.transAxes, va="top", fontsize=7.5)
    left.legend(fontsize=7.5, loc="lower right")
    derivative, = right.plot(np.arange(steps), np.ones(steps), "o-", ms=3, color=COLORS["h"])
    right.axhline(1.0, color=COLORS["grey"], lw=0.8, ls="--")
    right.set_yscale("log")
    right.set_ylim(1 / LIMIT, LIMIT)
    right.set_xlim(-0.05 * steps, 1.05 * (steps - 1))
    right.yaxis.set_major_formatter(plain_log_labels)
    right.set(xlabel="t (steps)", ylabel="|d fᵗ(x₀) / dx₀| (log scale)")

    def update(r) -> bool:
        fields("result", r, "map", "x0", "grid", "f", "orbit", "derivative", "fixed", "lo", "hi")
        if (r.lo, r.hi, len(r.derivative)) != (lo, hi, steps):
            return False
        graph.set_data(r.grid, r.f)
        path.set_data(*_staircase(r.orbit, lo, hi))
        start.set_data([r.orbit[0]], [lo])
        sink = [p.x for p in r.fixed if p.kind == "sink"]
        other = [p.x for p in r.fixed if p.kind != "sink"]
        sinks.set_data(sink, sink)
        others.set_data(other, other)
        listed = ", ".join(f"{p.kind} {p.x:+.3f} (f'={p.slope:+.2f})" for p in r.fixed)
        kinds.set_text(listed.replace(", s", "\ns"))
        left.set_title(f"f(x) = {r.map}")
        derivative.set_ydata(np.clip(r.derivative, 1 / LIMIT, LIMIT))
        right.set_title(f"derivative of the t-fold map from x₀ = {r.x0:+.2f}")
        return True

    update(result)
    fig.set_updater(update, [graph, path, start, sinks, others, kinds, left.title, derivative, right.title])
    return fig


def bifurcation(diagrams: dict, title: str):
    """Fixed points h* of h <- tanh(w h + b) against w: sinks as dots, sources as open circles.

    ``diagrams`` maps a label (e.g. "b = 0") to a ``fixed_points.Bifurcation`` (fields w, h, kind).
    """
    fig, ax = plt.subplots()
    for i, (label, r) in enumerate(mapping("diagrams", diagrams).items()):
        fields(f"diagrams[{label!r}]", r, "w", "h", "kind")
        color = CYCLE[i % len(CYCLE)]
        sink = np.asarray(r.kind) == "sink"
        ax.plot(r.w[sink], r.h[sink], ".", ms=3, color=color, label=f"{label}: sinks")
        ax.plot(r.w[~sink], r.h[~sink], "o", ms=3, mfc="white", color=color, label=f"{label}: sources")
    ax.axvline(1.0, color=COLORS["grey"], lw=0.8, ls="--")
    ax.set(xlabel="recurrent weight w", ylabel="fixed point h*", title=text("title", title))
    ax.legend(fontsize=8, loc="upper left")
    return fig
