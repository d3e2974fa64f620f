"""The house style and every figure builder of the book.

Each builder takes arrays (computed elsewhere, by the chapter modules), draws one figure in the house
style and returns the ``matplotlib.figure.Figure``. Notebooks call ``fig = plots.<builder>(...)``;
nothing here computes a result the text relies on.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

COLORS = {"x": "#4C72B0", "h": "#DD8452", "o": "#55A868", "loss": "#C44E52", "grey": "#8C8C8C",
          "accent": "#8172B3"}
CYCLE = [COLORS[c] for c in ("x", "h", "o", "loss", "accent")]


def use_style() -> None:
    """Apply the book's matplotlib style (call once per notebook)."""
    plt.rcParams.update({
        "figure.figsize": (7.0, 3.6), "figure.dpi": 100, "savefig.dpi": 100,
        "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.3, "axes.prop_cycle": plt.cycler(color=CYCLE),
        "figure.constrained_layout.use": True,
    })


def _node(ax, xy, label, color, w=0.7, h=0.5):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                fc=color, ec="black", lw=0.8, alpha=0.9))
    ax.text(x, y, label, ha="center", va="center", fontsize=10, color="white", weight="bold")


def _arrow(ax, a, b, label=None, color="black", offset=(0.12, 0.0), rad=0.0):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, lw=1.0, color=color,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))
    if label:
        mid = ((a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1])
        ax.text(*mid, label, fontsize=9, color=color, ha="left", va="center", style="italic")


def unrolled(T: int = 4):
    """The RNN unrolled over T steps: x_t -> h_t -> o_t -> L_t, with h_{t-1} -> h_t through W."""
    fig, ax = plt.subplots(figsize=(1.7 * T + 1.6, 3.6))
    ys = {"x": 0.0, "h": 1.2, "o": 2.4, "L": 3.4}
    _node(ax, (0, ys["h"]), "$h_0$", COLORS["grey"])
    for t in range(1, T + 1):
        X = 1.6 * t
        _node(ax, (X, ys["x"]), f"$x_{{{t}}}$", COLORS["x"])
        _node(ax, (X, ys["h"]), f"$h_{{{t}}}$", COLORS["h"])
        _node(ax, (X, ys["o"]), f"$o_{{{t}}}$", COLORS["o"])
        _node(ax, (X, ys["L"]), f"$L_{{{t}}}$", COLORS["loss"], h=0.4)
        _arrow(ax, (X, ys["x"] + 0.3), (X, ys["h"] - 0.3), "U")
        _arrow(ax, (X, ys["h"] + 0.3), (X, ys["o"] - 0.3), "V")
        _arrow(ax, (X, ys["o"] + 0.3), (X, ys["L"] - 0.25), f"$y_{{{t}}}$", offset=(0.12, 0.0))
        _arrow(ax, (X - 1.6 + 0.4, ys["h"]), (X - 0.4, ys["h"]), "W", offset=(-0.15, 0.18))
    ax.set_xlim(-0.6, 1.6 * T + 0.8)
    ax.set_ylim(-0.5, 3.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"The RNN unrolled over T = {T} steps: the same U, W, V at every step")
    return fig


def heatmap(M, row_labels, col_labels, title: str, xlabel: str, ylabel: str, fmt: str = "{:.0f}",
            cmap: str = "Blues"):
    """A small matrix with its entries written in the cells (for one-hot codes and the like)."""
    M = np.asarray(M)
    fig, ax = plt.subplots(figsize=(0.45 * M.shape[1] + 2.0, 0.4 * M.shape[0] + 1.4))
    ax.imshow(M, cmap=cmap, aspect="auto")
    ax.set_xticks(range(M.shape[1]), col_labels)
    ax.set_yticks(range(M.shape[0]), row_labels)
    ax.grid(False)
    for (i, j), v in np.ndenumerate(M):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                color="white" if v > (M.max() + M.min()) / 2 else "black")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def error_bars(errors: dict, threshold: float, title: str, ylabel: str = "relative error"):
    """Bar chart of small positive numbers (one per named quantity) on a log scale."""
    names, vals = list(errors), np.array(list(errors.values()), dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(names, np.maximum(vals, 1e-18), color=COLORS["o"])
    ax.axhline(threshold, color=COLORS["loss"], ls="--", label=f"required: below {threshold:.0e}")
    ax.set_yscale("log")
    ax.set(title=title, ylabel=ylabel + " (log scale)", xlabel="parameter")
    ax.legend(loc="upper right")
    return fig


def loss_curves(steps, train_loss, val_steps=None, val_loss=None, baselines=None,
                title: str = "", ylabel: str = "cross-entropy (nats per character)"):
    """Training loss per step (with a moving average), validation points, and baseline lines."""
    train_loss = np.asarray(train_loss)
    fig, ax = plt.subplots()
    ax.plot(steps, train_loss, color=COLORS["grey"], lw=0.6, alpha=0.5, label="training, per step")
    w = max(1, len(train_loss) // 40)
    smooth = np.convolve(train_loss, np.ones(w) / w, mode="valid")
    ax.plot(np.asarray(steps)[w - 1:], smooth, color=COLORS["h"], label=f"training, mean of {w} steps")
    if val_loss is not None:
        ax.plot(val_steps, val_loss, "o-", color=COLORS["x"], label="held-out text")
    for i, (name, value) in enumerate((baselines or {}).items()):
        ax.axhline(value, ls=":", color=CYCLE[(i + 3) % len(CYCLE)], label=name)
    ax.set(title=title, xlabel="training step (one chunk of every stream)", ylabel=ylabel)
    ax.legend(fontsize=8, loc="best")
    return fig


def bars(labels, values, title: str, xlabel: str, ylabel: str, reference: dict | None = None,
         log: bool = False, color: str = "x"):
    """A bar per label, with optional horizontal reference lines (name -> value)."""
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    ax.bar([str(s) for s in labels], values, color=COLORS[color])
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, ls="--", color=CYCLE[(i + 3) % len(CYCLE)], label=name)
    if reference:
        ax.legend(loc="best")
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return fig


def loglog(x, ys: dict, title: str, xlabel: str, ylabel: str, styles: dict | None = None):
    """Several curves y(x) on log-log axes (for power laws such as a 1/B decay)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, y in ys.items():
        ax.plot(x, y, (styles or {}).get(name, "o-"), label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return fig


def semilogy(x, ys: dict, title: str, xlabel: str, ylabel: str, styles: dict | None = None,
             ylim=None, ax=None):
    """Several curves y(x) with a logarithmic y axis (for quantities that span decades)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    for name, y in ys.items():
        ax.plot(x, y, (styles or {}).get(name, "-"), label=name)
    ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, loc="best")
    return fig


def gradient_flow(result: dict):
    """Chapter 3's explorer: ||dL/dh_k|| against k (log scale) beside the spectrum of W."""
    # Fixed margins instead of constrained layout, and no mathtext in strings that change from frame
    # to frame: both make a redraw several times faster, which matters for live sliders and for
    # rendering every frame of the kernel-free version.
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4), gridspec_kw={"width_ratios": [1.6, 1]},
                                      layout="none")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    k, T = result["k"], result["T"]
    norm = np.clip(result["norm"], 1e-45, None)
    left.plot(k, norm, color=COLORS["h"], lw=2, label="‖∂L/∂hₖ‖")
    left.plot(k, result["rho_ref"], "--", color=COLORS["grey"], lw=1, label="ρ^(T−k)")
    left.plot(k, result["sigma_bound"], ":", color=COLORS["loss"], lw=1,
              label="(γ σ_max)^(T−k), the bound")
    left.set_yscale("log")
    left.set_ylim(1e-45, 1e20)
    left.yaxis.set_major_formatter(_plain_log_labels)
    left.set(xlabel="time step k (the gradient starts at k = T)", ylabel="‖∂L/∂hₖ‖ (log scale)",
             title=f"{result['family']} W, ρ = {result['rho']:.2f}, {result['activation']}, T = {T}")
    left.legend(fontsize=8, loc="lower right")
    left.annotate(f"at k = 0: {result['norm'][0]:.1e}", xy=(0, norm[0]), xytext=(0.05, 0.9),
                  textcoords="axes fraction", fontsize=9)
    s = result["singular_values"]
    idx = np.arange(1, len(s) + 1)
    right.plot(idx, s, color=COLORS["loss"], label="singular values σᵢ")
    right.plot(idx, np.sort(np.abs(result["eigenvalues"]))[::-1], color=COLORS["x"],
               label="|λᵢ| (sorted)")
    right.axhline(1.0, color="black", lw=0.8, ls="--")
    right.set_ylim(0, 3.2)
    right.set(xlabel="index i", ylabel="value", title="Spectrum of W")
    right.legend(fontsize=8, loc="upper right")
    return fig


@plt.FuncFormatter
def _plain_log_labels(value, _pos):
    """Tick labels such as 1e-20 in plain text (mathtext labels cost ~15 ms each to lay out)."""
    return f"1e{round(np.log10(value)):d}" if value > 0 else "0"


def semilogy_panels(x, panels: dict, xlabel: str, ylabel: str, title: str, ylim=None):
    """Side-by-side log-y panels sharing the y axis: ``panels`` maps a panel title to {label: y}."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 0.8, 3.4), sharey=True)
    for ax, (name, curves) in zip(np.atleast_1d(axes), panels.items()):
        semilogy(x, curves, title=name, xlabel=xlabel, ylabel=ylabel if ax is np.atleast_1d(axes)[0] else "",
                 ylim=ylim, ax=ax)
    fig.suptitle(title)
    return fig


def power_bounds(r: dict, rho: float, title: str):
    """||W^t|| between rho^t and sigma_max^t (left, log scale); Gelfand's ||W^t||^(1/t) -> rho (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    semilogy(r["t"], {r"$\Vert W^t\Vert_2$": r["norm"], r"$\sigma_{\max}^t$ (upper bound)": r["sigma_t"],
                      r"$\rho^t$ (lower bound)": r["rho_t"]}, title=title, xlabel="power $t$",
             ylabel="matrix norm (log scale)", styles={r"$\sigma_{\max}^t$ (upper bound)": ":",
                                                       r"$\rho^t$ (lower bound)": "--"}, ax=left)
    right.plot(r["t"][1:], r["gelfand"][1:], color=COLORS["h"], label=r"$\Vert W^t\Vert^{1/t}$")
    right.axhline(rho, color=COLORS["grey"], ls="--", label=r"$\rho(W)$")
    right.set(xlabel="power $t$", ylabel=r"$\Vert W^t\Vert^{1/t}$", title="Gelfand's formula")
    right.legend(fontsize=8)
    return fig


def cobweb(result: dict):
    """Cobweb diagram of an orbit of x <- f(x) (left) and |d f^t/dx_0| along it (right, log scale)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6), gridspec_kw={"width_ratios": [1, 1.15]},
                                      layout="none")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.28)
    lo, hi = result["lo"], result["hi"]
    left.plot([lo, hi], [lo, hi], color=COLORS["grey"], lw=0.8, ls="--", label="y = x")
    left.plot(result["grid"], result["f"], color=COLORS["x"], lw=1.8, label="y = f(x)")
    xs = result["orbit"][np.isfinite(result["orbit"])]
    xs = xs[(xs >= lo - 1) & (xs <= hi + 1)]
    if len(xs) > 1:
        px = np.repeat(xs, 2)[1:-1]                  # (x0, x0), (x0, x1), (x1, x1), (x1, x2), ...
        py = np.repeat(xs, 2)[2:]
        left.plot(np.concatenate([[xs[0]], px]), np.concatenate([[lo], py]), color=COLORS["h"], lw=1,
                  label="orbit")
    left.plot([xs[0]], [lo], "^", color=COLORS["h"], ms=7)
    for p in result["fixed"]:
        style = dict(color=COLORS["loss"], ms=8, mew=1.5)
        left.plot([p["x"]], [p["x"]], "o", mfc=COLORS["loss"] if p["kind"] == "sink" else "white", **style)
    left.set_xlim(lo, hi)
    left.set_ylim(lo, hi)
    left.set_aspect("equal")
    kinds = ", ".join(f"{p['kind']} {p['x']:+.3f} (f'={p['slope']:+.2f})" for p in result["fixed"])
    left.set(xlabel="x(t)", ylabel="x(t+1)", title=f"f(x) = {result['map']}")
    left.text(0.02, 0.98, kinds.replace(", s", "\ns"), transform=left.transAxes, va="top", fontsize=7.5)
    left.legend(fontsize=7.5, loc="lower right")
    t = np.arange(len(result["derivative"]))
    right.plot(t, np.clip(result["derivative"], 1e-30, 1e30), "o-", ms=3, color=COLORS["h"])
    right.axhline(1.0, color=COLORS["grey"], lw=0.8, ls="--")
    right.set_yscale("log")
    right.set_ylim(1e-30, 1e30)
    right.yaxis.set_major_formatter(_plain_log_labels)
    right.set(xlabel="t (steps)", ylabel="|d fᵗ(x₀) / dx₀| (log scale)",
              title=f"derivative of the t-fold map from x₀ = {result['x0']:+.2f}")
    return fig


def bifurcation(diagrams: dict, title: str):
    """Fixed points h* of h <- tanh(w h + b) against w: sinks as dots, sources as open circles.

    ``diagrams`` maps a label (e.g. "b = 0") to the result of ``fixed_points.bifurcation``.
    """
    fig, ax = plt.subplots()
    for i, (label, r) in enumerate(diagrams.items()):
        color = CYCLE[i % len(CYCLE)]
        sink = r["kind"] == "sink"
        ax.plot(r["w"][sink], r["h"][sink], ".", ms=3, color=color, label=f"{label}: sinks")
        ax.plot(r["w"][~sink], r["h"][~sink], "o", ms=3, mfc="white", color=color, label=f"{label}: sources")
    ax.axvline(1.0, color=COLORS["grey"], lw=0.8, ls="--")
    ax.set(xlabel="recurrent weight w", ylabel="fixed point h*", title=title)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def lines(x, ys: dict, title: str, xlabel: str, ylabel: str, reference: dict | None = None,
          styles: dict | None = None, ylim=None):
    """Several curves y(x) on linear axes, with optional horizontal reference lines (name -> value)."""
    fig, ax = plt.subplots()
    for name, y in ys.items():
        ax.plot(x, y, (styles or {}).get(name, "o-"), ms=4, label=name)
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, ls="--", lw=1, color=CYCLE[(i + 3) % len(CYCLE)], label=name)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, loc="best")
    return fig


def cliff(ws, bs, L, paths: dict, title: str):
    """The loss surface log10 L(w, b) of the cliff model with gradient-descent paths drawn on it."""
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    mesh = ax.pcolormesh(ws, bs, np.log10(L + 1e-12), shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="log₁₀ loss")
    for i, (name, path) in enumerate(paths.items()):
        color = ("white", COLORS["loss"], COLORS["h"])[i % 3]
        inside = ((path[:, 0] >= ws[0]) & (path[:, 0] <= ws[-1])
                  & (path[:, 1] >= bs[0]) & (path[:, 1] <= bs[-1]))
        first_out = int(np.argmin(inside)) if not inside.all() else len(path)
        shown = path[:first_out]
        ax.plot(shown[:, 0], shown[:, 1], ".-", ms=3, lw=1, color=color, label=name)
        if first_out < len(path):
            x, y = shown[-1]
            target = path[first_out]
            ax.annotate(f"next step: ({target[0]:.0f}, {target[1]:.0f})", xy=(x, y),
                        xytext=(x + 0.5, y + 1.5), color=color, fontsize=8,
                        arrowprops=dict(arrowstyle="->", color=color))
        ax.plot(*path[0], "o", color=color, ms=6)
    ax.set_xlim(ws[0], ws[-1])
    ax.set_ylim(bs[0], bs[-1])
    ax.set(xlabel="recurrent weight w", ylabel="bias b", title=title)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def memory_flow(result: dict):
    """Chapter 6's explorer: gradient left at step t of what starts at step T, LSTM vs tanh RNN."""
    fig, ax = plt.subplots(figsize=(7.2, 3.6), layout="none")
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.88)
    t = result["t"]
    ax.plot(t, np.clip(result["lstm_c"], 1e-40, None), color=COLORS["o"], lw=2,
            label="LSTM, cell state c")
    ax.plot(t, np.clip(result["lstm_h"], 1e-40, None), color=COLORS["x"], lw=1.5,
            label="LSTM, hidden state h")
    ax.plot(t, np.clip(result["rnn_h"], 1e-40, None), color=COLORS["loss"], lw=1.5, ls="--",
            label="tanh RNN, hidden state h")
    ax.set_yscale("log")
    ax.set_ylim(1e-40, 1e4)
    ax.yaxis.set_major_formatter(_plain_log_labels)
    ax.set(xlabel="time step t (the loss is at t = T)", ylabel="‖∂L/∂state_t‖ / ‖∂L/∂state_T‖ (log)",
           title=f"forget-gate bias {result['forget_bias']:+.0f} (mean f = {result['f_mean']:.2f}), "
                 f"T = {result['T']}")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def gate_trace(fwd, signals: dict, title: str):
    """A one-unit LSTM over time: its three gates (top), its states (middle), its inputs (bottom)."""
    fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(7.2, 5.6), sharex=True,
                                              gridspec_kw={"height_ratios": [1.1, 1.1, 1]})
    t = np.arange(1, len(fwd.hs) + 1)
    g = fwd.gates[:, 0, :]
    bands = ((0, "input gate i", COLORS["x"], 0.0), (1, "forget gate f", COLORS["h"], 1.5),
             (3, "output gate o", COLORS["accent"], 3.0))
    for j, name, color, offset in bands:
        top.step(t, g[:, j] + offset, where="mid", color=color, lw=1.5)
        top.text(t[-1] + 0.3, offset + 0.5, name, color=color, fontsize=8, va="center")
    top.set_yticks([0, 1, 1.5, 2.5, 3.0, 4.0], ["0", "1", "0", "1", "0", "1"])
    top.set(ylabel="gate value", title=title)
    middle.plot(t, g[:, 2], ":", color=COLORS["grey"], lw=1.2, label="candidate g = tanh(value)")
    middle.plot(t, fwd.cs[:, 0, 0], "o-", color=COLORS["o"], lw=2, ms=4, label="cell state c")
    middle.plot(t, fwd.hs[:, 0, 0], "s--", color=COLORS["loss"], lw=1.5, ms=3, label="hidden state h")
    middle.set(ylabel="state")
    middle.legend(fontsize=7.5, loc="upper right")
    for k, values in enumerate(signals.values()):
        bottom.step(t, np.asarray(values) + 1.5 * k, where="mid")
    bottom.set_yticks([1.5 * k for k in range(len(signals))], list(signals))
    bottom.set(xlabel="time step t", ylabel="input")
    return fig

def activations(z, functions: dict, title: str):
    """Activation functions (left) and their derivatives (right). ``functions``: name -> (f, f')."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for name, (f, df) in functions.items():
        left.plot(z, f(z), label=name)
        right.plot(z, df(z), label=name)
    left.set(xlabel="z", ylabel="φ(z)", title=title)
    right.set(xlabel="z", ylabel="φ′(z)", title="derivatives")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    return fig


def semilogy_reference(x, ys: dict, reference: dict, title: str, xlabel: str, ylabel: str,
                       styles: dict | None = None, ylim=None, ax=None):
    """``semilogy`` with dashed horizontal reference lines (name -> value), such as a trivial baseline."""
    fig = semilogy(x, ys, title=title, xlabel=xlabel, ylabel=ylabel, styles=styles, ylim=ylim, ax=ax)
    ax = ax if ax is not None else fig.axes[0]
    for i, (name, value) in enumerate(reference.items()):
        ax.axhline(value, ls=("--", ":", "-.")[i % 3], lw=1, color=COLORS["grey"], label=name)
    ax.legend(fontsize=8, loc="best")
    return fig


def training_panels(steps, panels: dict, reference: dict, title: str, xlabel: str, ylabel: str,
                    window: int = 10):
    """Training curves on log-y panels side by side, one panel per setting, with reference lines.

    ``panels`` maps a panel title to {label: loss per step}; each curve is drawn as its moving average
    over ``window`` steps (plotted at the window's last step). The legend is in the last panel only.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 0.8, 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    kernel = np.ones(window) / window
    for i, (ax, (name, curves)) in enumerate(zip(axes, panels.items())):
        smooth = {label: np.convolve(y, kernel, mode="valid") for label, y in curves.items()}
        semilogy_reference(np.asarray(steps)[window - 1:], smooth, reference, title=name, xlabel=xlabel,
                           ylabel=ylabel if i == 0 else "", ax=ax)
        if i < len(axes) - 1:
            ax.get_legend().remove()
    fig.suptitle(title)
    return fig


def seeds(x, runs: dict, title: str, xlabel: str, ylabel: str, reference: dict | None = None,
          log: bool = False, ylim=None, ax=None):
    """An experiment over seeds: every seed as a point, the mean over seeds as a line (geometric on log axes).

    ``x``: the settings (numbers or labels), shape (P,); ``runs`` maps a label to an (S, P) array, one row
    per seed. Points of different labels are offset sideways a little so that they do not hide each
    other. ``reference`` adds dashed horizontal lines (name -> value); ``log`` a logarithmic y axis.
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7.0, 3.6))
    labels = [str(v) for v in x]
    numeric = all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in x)
    pos = np.asarray(x, float) if numeric else np.arange(len(x), dtype=float)
    step = np.min(np.diff(np.sort(pos))) if len(pos) > 1 else 1.0
    for i, (name, values) in enumerate(runs.items()):
        values = np.atleast_2d(np.asarray(values, float))
        if values.shape[1] != len(pos):
            raise ValueError(f"runs[{name!r}]: expected shape (S, {len(pos)}), got {values.shape}")
        color = CYCLE[i % len(CYCLE)]
        shift = (i - (len(runs) - 1) / 2) * 0.06 * step
        for row in values:
            ax.plot(pos + shift, row, "o", ms=3.5, alpha=0.55, color=color, mec="none")
        # on a log axis the geometric mean is the typical value; the arithmetic one follows the largest
        mean, kind = (np.exp(np.log(values).mean(0)), "geometric mean") if log else (values.mean(0), "mean")
        ax.plot(pos + shift, mean, "-", lw=1.6, color=color,
                label=f"{name} (line: {kind} of {len(values)} seeds)")
    if not numeric:
        ax.set_xticks(pos, labels)
    return _finish_seed_axes(ax, reference, log, ylim, title, xlabel, ylabel)


def _finish_seed_axes(ax, reference, log, ylim, title, xlabel, ylabel):
    """Reference lines, scale, limits, labels and legend shared by the figures over seeds."""
    for j, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, ls=("--", ":", "-.")[j % 3], lw=1, color=COLORS["grey"], label=name)
    if log:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, loc="best")
    return ax.figure


# Figure builders added for single chapters go below, each group under its chapter's marker.
# --- bptt (chapter 2) ---
def minibatch_noise(B, msd, trace_C, title: str, band: tuple | None = None):
    """Mini-batch gradient noise over seeds: measured against tr(C)/B (log-log), and their ratio.

    ``B``: (P,) batch sizes; ``msd``: (S, P) measured mean squared distance from the full gradient, one
    row per seed; ``trace_C``: (S,) each seed's tr(C). Left: every seed's measurements as points and its
    tr(C)/B as a dashed line of the same colour. Right: the ratio measured / (tr(C)/B) for every seed,
    with 1 and, if given, the claimed ``band = (low, high)`` as reference lines.
    """
    B, msd, trace_C = np.asarray(B, float), np.atleast_2d(np.asarray(msd, float)), np.asarray(trace_C, float)
    if msd.shape != (len(trace_C), len(B)):
        raise ValueError(f"msd: expected shape (S, P) = ({len(trace_C)}, {len(B)}), got {msd.shape}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.5))
    for i, (row, tr) in enumerate(zip(msd, trace_C)):
        color = CYCLE[i % len(CYCLE)]
        left.plot(B, row, "o", ms=4, color=color, alpha=0.8, label="measured" if i == 0 else None)
        left.plot(B, tr / B, "--", lw=1, color=color, label=r"$\mathrm{tr}(C)/B$" if i == 0 else None)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set(xlabel="batch size $B$", ylabel=r"$E\,\Vert g_B - g\Vert^2$",
             title=f"{len(msd)} seeds, one colour each")
    left.legend(fontsize=8)
    seeds([str(int(b)) for b in B], {"measured / (tr(C)/B)": msd / (trace_C[:, None] / B)},
          title="ratio to the prediction", xlabel="batch size $B$", ylabel="ratio",
          reference={"ratio 1": 1.0}, ax=right)
    if band is not None:
        for j, bound in enumerate(band):
            right.axhline(bound, ls=":", lw=1, color=COLORS["loss"],
                          label=f"claimed band, {band[0]:g} to {band[1]:g}" if j == 0 else None)
        right.set_ylim(band[0] - 0.1, band[1] + 0.3)          # room for the legend above the band
        right.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    return fig


def char_model_seeds(train_loss, val_steps, val_loss, baselines: dict, sample: str, title: str,
                     sample_label: str = "sample"):
    """A character model trained over seeds: loss curves of every seed, and a text panel with a sample.

    ``train_loss``: (S, N) training loss per step; ``val_steps``: (P,); ``val_loss``: (S, P) held-out
    loss; ``baselines``: name -> held-out loss of a reference model (dotted lines); ``sample``: generated
    text, shown verbatim (long lines wrapped) in a monospaced panel under the curves, headed by
    ``sample_label``.
    """
    train_loss = np.atleast_2d(np.asarray(train_loss, float))
    val_loss = np.atleast_2d(np.asarray(val_loss, float))
    if len(train_loss) != len(val_loss) or val_loss.shape[1] != len(val_steps):
        raise ValueError(f"train_loss, val_loss: expected (S, N) and (S, {len(val_steps)}) arrays, "
                         f"got {train_loss.shape} and {val_loss.shape}")
    import textwrap

    lines = [piece for line in sample.split("\n") for piece in (textwrap.wrap(line, 84) or [""])]
    fig, (ax, text) = plt.subplots(2, 1, figsize=(7.0, 4.2 + 0.13 * len(lines)),
                                   height_ratios=(3.2, 0.5 + 0.13 * len(lines)))
    w = max(1, train_loss.shape[1] // 40)
    steps = np.arange(1, train_loss.shape[1] + 1)
    for i, (tr, va) in enumerate(zip(train_loss, val_loss)):
        smooth = np.convolve(tr, np.ones(w) / w, mode="valid")
        ax.plot(steps[w - 1:], smooth, color=COLORS["h"], lw=0.9, alpha=0.6,
                label=f"training, mean of {w} steps" if i == 0 else None)
        ax.plot(val_steps, va, "o-", ms=2.5, lw=0.9, color=COLORS["x"], alpha=0.6,
                label="held-out sonnet" if i == 0 else None)
    for i, (name, value) in enumerate(baselines.items()):
        ax.axhline(value, ls=":", color=CYCLE[(i + 3) % len(CYCLE)], label=name)
    ax.set(title=f"{title} ({len(val_loss)} seeds, one line each)",
           xlabel="training step (one chunk of every stream)", ylabel="cross-entropy (nats per character)")
    ax.legend(fontsize=8, loc="upper right")
    text.axis("off")
    text.set_title(sample_label, loc="left", fontsize=9, fontweight="bold")
    body = text.annotate("\n".join(lines).replace("$", r"\$"), xy=(0, 1), xycoords="axes fraction",
                         xytext=(0, -2), textcoords="offset points", family="monospace", fontsize=8,
                         va="top", linespacing=1.3)
    body.set_in_layout(False)            # the panel's height is set from the number of lines above
    return fig


# --- remedies (chapter 5) ---
def cliff_seeds(ws, bs, L, starts, thrown, shares: dict, title: str):
    """Chapter 5: where descents on the cliff start, and which of them one step throws far away.

    ``starts``: (S, N, 2) start points (w, b) of N descents for each of S seeds; ``thrown``: (S, N)
    booleans (a step longer than the picture); ``shares``: label -> (S,) share of thrown descents per
    seed, one panel point per seed (for example without and with clipping).
    """
    starts, thrown = np.asarray(starts, float), np.asarray(thrown, bool)
    if starts.ndim != 3 or starts.shape[2] != 2 or thrown.shape != starts.shape[:2]:
        raise ValueError(f"starts, thrown: expected shapes (S, N, 2) and (S, N), got {starts.shape} "
                         f"and {thrown.shape}")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.0, 4.0), width_ratios=(1.6, 1.0))
    mesh = ax.pcolormesh(ws, bs, np.log10(L + 1e-12), shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="log₁₀ loss")
    flat, hit = starts.reshape(-1, 2), thrown.ravel()
    ax.plot(flat[~hit, 0], flat[~hit, 1], ".", ms=1.0, color="white", alpha=0.25)
    ax.plot(flat[hit, 0], flat[hit, 1], "o", ms=3.0, color=COLORS["loss"], mec="white", mew=0.4,
            label=f"thrown without clipping ({hit.sum()} of {hit.size}, {len(starts)} seeds)")
    ax.set_xlim(ws[0], ws[-1])
    ax.set_ylim(bs[0], bs[-1])
    ax.set(xlabel="recurrent weight w", ylabel="bias b", title="start points")
    ax.legend(fontsize=8, loc="lower left")
    for j, share in enumerate(shares.values()):
        share = 100 * np.asarray(share, float)
        offsets = np.linspace(-0.12, 0.12, len(share)) if len(share) > 1 else np.zeros(1)
        ax2.plot(j + offsets, share, "o", ms=4, alpha=0.7, color=COLORS["loss"], mec="none",
                 label="one seed" if j == 0 else None)
        ax2.hlines(share.mean(), j - 0.25, j + 0.25, color="black", lw=1.4,
                   label="mean over seeds" if j == 0 else None)
    ax2.set_xticks(range(len(shares)), list(shares))
    ax2.set_xlim(-0.6, len(shares) - 0.4)
    ax2.set_ylim(bottom=0)
    ax2.set(title="per seed", ylabel="descents with a step > 10 units (%)")
    ax2.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    return fig


def seed_bands(x, runs: dict, title: str, xlabel: str, ylabel: str, log: bool = True, ax=None):
    """Chapter 5: curves over seeds, every seed as a thin line inside its shaded min-max band.

    ``runs`` maps a label to an (S, P) array (one row per seed, P = len(x)). On a log axis values
    that are exactly zero are left out (the line of that seed stops).
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7.0, 3.6))
    x = np.asarray(x, float)
    for i, (name, values) in enumerate(runs.items()):
        values = np.atleast_2d(np.asarray(values, float))
        if values.shape[1] != len(x):
            raise ValueError(f"runs[{name!r}]: expected shape (S, {len(x)}), got {values.shape}")
        shown = np.where(values > 0, values, np.nan) if log else values
        color = CYCLE[i % len(CYCLE)]
        for row in shown:
            ax.plot(x, row, "-", lw=0.7, alpha=0.8, color=color)
        some = ~np.all(np.isnan(shown), axis=0)
        low = np.nanmin(shown[:, some], axis=0)
        high = np.nanmax(shown[:, some], axis=0)
        ax.fill_between(x[some], low, high, color=color, alpha=0.2, lw=0,
                        label=f"{name} ({len(values)} seeds)")
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8, loc="best")
    return fig


# --- long range (chapter 8) ---
def seed_curves(x, curves: dict, title: str, xlabel: str, ylabel: str, reference: dict | None = None,
                styles: dict | None = None, log: bool = True, ylim=None, ax=None):
    """Curves over seeds: every seed as a thin line, their median at each x as a thick line.

    ``x``: (P,); ``curves`` maps a label to an (S, P) array, one row per seed (NaN where a seed has no
    value, for example after it stopped; the median is NaN there too). The median is what a claim
    about the typical run is about, and unlike a mean it is not pulled about by one seed that went its
    own way (or to zero, on a log axis). ``styles`` maps a label to the thick line's style ("--");
    ``reference`` adds grey horizontal lines (name -> value); ``log`` a logarithmic y axis.
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7.0, 3.6))
    x = np.asarray(x, float)
    for i, (name, values) in enumerate(curves.items()):
        values = np.atleast_2d(np.asarray(values, float))
        if values.shape[1] != len(x):
            raise ValueError(f"curves[{name!r}]: expected shape (S, {len(x)}), got {values.shape}")
        color, style = CYCLE[i % len(CYCLE)], (styles or {}).get(name, "-")
        for row in values:
            ax.plot(x, row, style, lw=0.7, alpha=0.35, color=color)
        ax.plot(x, np.median(values, axis=0), style, lw=1.8, color=color,
                label=f"{name} (median of {len(values)} seeds)")
    return _finish_seed_axes(ax, reference, log, ylim, title, xlabel, ylabel)


def seed_panels(steps, panels: dict, reference: dict, title: str, xlabel: str, ylabel: str,
                window: int = 10, ylim=None):
    """``seed_curves`` of training losses on log-y panels side by side, one panel per setting.

    ``panels`` maps a panel title to {label: (S, steps) losses}; each seed's curve is its moving average
    over ``window`` steps (plotted at the window's last step). The legend is in the last panel only;
    ``ylim`` fixes the (shared) y range, cutting off rare spikes.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 0.8, 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    kernel = np.ones(window) / window
    x = np.asarray(steps)[window - 1:]
    for i, (ax, (name, curves)) in enumerate(zip(axes, panels.items())):
        smooth = {label: np.array([np.convolve(row, kernel, mode="valid") for row in np.atleast_2d(v)])
                  for label, v in curves.items()}
        seed_curves(x, smooth, title=name, xlabel=xlabel, ylabel=ylabel if i == 0 else "",
                    reference=reference, ylim=ylim, ax=ax)
        if i < len(axes) - 1:
            ax.get_legend().remove()
    fig.suptitle(title)
    return fig
