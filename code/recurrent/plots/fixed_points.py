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


def phase_portrait(result, title: str):
    """Phase portrait of h <- tanh(W h + b) in d = 2 (left) and ||h_t|| along each orbit (right).

    ``result``: a ``fixed_points_2d.PhasePortrait`` (fields x, y, step, orbits, fixed, curve, band). Left:
    the step F(h) - h as grey arrows, the orbits from their starts (triangles), the long-run closed curve
    (thick) and the fixed points (filled: sinks, open: sources and saddles). Right: the radius of each
    orbit against t, with the band of long-run radii shaded.
    """
    fields("result", result, "x", "y", "step", "orbits", "fixed", "curve", "band")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.0), gridspec_kw={"width_ratios": [1, 1.2]})
    X, Y = np.meshgrid(result.x, result.y)
    left.quiver(X, Y, result.step[..., 0], result.step[..., 1], color=COLORS["grey"], alpha=0.6,
                angles="xy", width=0.003)
    closed = np.concatenate([result.curve, result.curve[:1]])
    left.plot(closed[:, 0], closed[:, 1], color=COLORS["loss"], lw=2.5, label="long-run closed curve",
              zorder=3)
    steps = np.arange(result.orbits.shape[1])
    for i, orbit in enumerate(result.orbits):
        color = CYCLE[i % len(CYCLE)] if CYCLE[i % len(CYCLE)] != COLORS["loss"] else COLORS["grey"]
        left.plot(orbit[:, 0], orbit[:, 1], ".-", ms=2.5, lw=0.7, color=color, zorder=2)
        left.plot(*orbit[0], "^", ms=6, color=color, zorder=4)
        right.plot(steps, np.linalg.norm(orbit, axis=1), ".-", ms=2.5, lw=0.8, color=color,
                   label=f"from ({orbit[0, 0]:+.2f}, {orbit[0, 1]:+.2f})")
    for p in result.fixed:
        sink = bool(np.all(np.abs(p.eigenvalues) < 1))
        left.plot(*p.h, "o", ms=8, mew=1.5, color="black", mfc="black" if sink else "white", zorder=5,
                  label="fixed point (sink)" if sink else "fixed point (source or saddle)")
    lo, hi = float(result.band[:, 0].min()), float(result.band[:, 1].max())
    right.axhspan(lo, hi, color=COLORS["loss"], alpha=0.3, label="long-run radius band")
    lim = float(result.x[-1])
    left.set_xlim(-lim, lim)
    left.set_ylim(-lim, lim)
    left.set_aspect("equal")
    left.set(xlabel="$h_1$", ylabel="$h_2$", title="orbits in the plane")
    left.legend(fontsize=7, loc="lower left")
    right.set(xlabel="t (steps)", ylabel=r"$\Vert h_t \Vert$", title="radius along each orbit")
    right.legend(fontsize=7, loc="upper right", ncol=2)
    fig.suptitle(text("title", title))
    return fig
