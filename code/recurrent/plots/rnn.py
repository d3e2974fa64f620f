"""Chapters 1 and 2's figures: the unrolled RNN, small matrices, gradient checks, mini-batch noise and
the character model over seeds."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .primitives import seeds
from .style import COLORS, CYCLE, array, labels, mapping, number, text


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
    if isinstance(T, bool) or not isinstance(T, int | np.integer):
        raise TypeError(f"T: expected an int, got {type(T).__name__}")
    if not 1 <= T <= 30:
        raise ValueError(f"T: expected 1 <= T <= 30 steps (a drawing), got {T}")
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
    M = array("M", M, ndim=(2,), finite=True)
    row_labels = labels("row_labels", row_labels, M.shape[0])
    col_labels = labels("col_labels", col_labels, M.shape[1])
    fmt, cmap = text("fmt", fmt), text("cmap", cmap)
    if cmap not in plt.colormaps():
        raise ValueError(f"cmap: expected a matplotlib colormap name such as 'Blues', got {cmap!r}")
    try:
        fmt.format(0.5)
    except (ValueError, IndexError, KeyError):
        raise ValueError(f"fmt: expected a format for one number such as '{{:.0f}}', got {fmt!r}") from None
    fig, ax = plt.subplots(figsize=(0.45 * M.shape[1] + 2.0, 0.4 * M.shape[0] + 1.4))
    ax.imshow(M, cmap=cmap, aspect="auto")
    ax.set_xticks(range(M.shape[1]), col_labels)
    ax.set_yticks(range(M.shape[0]), row_labels)
    ax.grid(False)
    for (i, j), v in np.ndenumerate(M):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                color="white" if v > (M.max() + M.min()) / 2 else "black")
    ax.set(title=text("title", title), xlabel=text("xlabel", xlabel), ylabel=text("ylabel", ylabel))
    return fig


def error_bars(errors: dict, threshold: float, title: str, ylabel: str = "relative error"):
    """Bar chart of small positive numbers (one per named quantity) on a log scale."""
    names = list(mapping("errors", errors))
    vals = array("errors", [number(f"errors[{k!r}]", v) for k, v in errors.items()], finite=True)
    threshold = number("threshold", threshold, positive=True)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(names, np.maximum(vals, 1e-18), color=COLORS["o"])
    ax.axhline(threshold, color=COLORS["loss"], ls="--", label=f"required: below {threshold:.0e}")
    ax.set_yscale("log")
    ax.set(title=text("title", title), ylabel=text("ylabel", ylabel) + " (log scale)", xlabel="parameter")
    ax.legend(loc="upper right")
    return fig


def minibatch_noise(B, msd, trace_C, title: str, band: tuple | None = None):
    """Mini-batch gradient noise over seeds: measured against tr(C)/B (log-log), and their ratio.

    ``B``: (P,) batch sizes; ``msd``: (S, P) measured mean squared distance from the full gradient, one
    row per seed; ``trace_C``: (S,) each seed's tr(C). Left: every seed's measurements as points and its
    tr(C)/B as a dashed line of the same colour. Right: the ratio measured / (tr(C)/B) for every seed,
    with 1 and, if given, the claimed ``band = (low, high)`` as reference lines.
    """
    B = array("B", B, finite=True)
    msd = np.atleast_2d(array("msd", msd, (1, 2), finite=True))
    trace_C = array("trace_C", trace_C, finite=True)
    if band is not None:
        if not isinstance(band, tuple | list) or len(band) != 2:
            raise TypeError(f"band: expected a pair (low, high) or None, got {band!r}")
        band = (number("band[0]", band[0]), number("band[1]", band[1]))
        if not band[0] < band[1]:
            raise ValueError(f"band: expected low < high, got {band}")
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
    fig.suptitle(text("title", title))
    return fig


def char_model_seeds(train_loss, val_steps, val_loss, baselines: dict, sample: str, title: str,
                     sample_label: str = "sample"):
    """A character model trained over seeds: loss curves of every seed, and a text panel with a sample.

    ``train_loss``: (S, N) training loss per step; ``val_steps``: (P,); ``val_loss``: (S, P) held-out
    loss; ``baselines``: name -> held-out loss of a reference model (dotted lines); ``sample``: generated
    text, shown verbatim (long lines wrapped) in a monospaced panel under the curves, headed by
    ``sample_label``.
    """
    train_loss = np.atleast_2d(array("train_loss", train_loss, (1, 2), finite=True))
    val_loss = np.atleast_2d(array("val_loss", val_loss, (1, 2), finite=True))
    val_steps = array("val_steps", val_steps, finite=True)
    baselines = mapping("baselines", baselines)
    sample, sample_label = text("sample", sample), text("sample_label", sample_label)
    title = text("title", title)
    if len(train_loss) != len(val_loss) or val_loss.shape[1] != len(val_steps):
        raise ValueError(f"train_loss, val_loss: expected (S, N) and (S, {len(val_steps)}) arrays, "
                         f"got {train_loss.shape} and {val_loss.shape}")
    lines = [piece for line in sample.split("\n") for piece in (textwrap.wrap(line, 84) or [""])]
    fig, (ax, panel) = plt.subplots(2, 1, figsize=(7.0, 4.2 + 0.13 * len(lines)),
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
    panel.axis("off")
    panel.set_title(sample_label, loc="left", fontsize=9, fontweight="bold")
    body = panel.annotate("\n".join(lines).replace("$", r"\$"), xy=(0, 1), xycoords="axes fraction",
                         xytext=(0, -2), textcoords="offset points", family="monospace", fontsize=8,
                         va="top", linespacing=1.3)
    body.set_in_layout(False)            # the panel's height is set from the number of lines above
    return fig
