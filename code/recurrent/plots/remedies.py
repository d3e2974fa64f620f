"""Chapter 5's figures: descents on the cliff of a one-unit RNN, and how often a step throws them away."""
from __future__ import annotations

import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np

from .style import COLORS, array, mapping, text

PATH_COLORS = (COLORS["loss"], COLORS["x"], COLORS["h"])      # the descents drawn on the surface


def _surface(ws, bs, L):
    """The grid (W,), (B,) and the loss on it (B, W), checked."""
    ws, bs = array("ws", ws, finite=True), array("bs", bs, finite=True)
    L = array("L", L, ndim=(2,), finite=True)
    if L.shape != (len(bs), len(ws)):
        raise ValueError(f"L: expected shape (len(bs), len(ws)) = ({len(bs)}, {len(ws)}), got {L.shape}")
    if np.any(np.diff(ws) <= 0) or np.any(np.diff(bs) <= 0):
        raise ValueError("ws, bs: expected increasing grid coordinates")
    return ws, bs, L


def cliff(ws, bs, L, paths: dict, title: str):
    """The loss surface log10 L(w, b) of the cliff model with gradient-descent paths drawn on it."""
    ws, bs, L = _surface(ws, bs, L)
    paths = {name: array(f"paths[{name!r}]", p, ndim=(2,), finite=True)
             for name, p in mapping("paths", paths).items()}
    for name, path in paths.items():
        if path.shape[1] != 2:
            raise ValueError(f"paths[{name!r}]: expected shape (steps + 1, 2) of (w, b), got {path.shape}")
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    mesh = ax.pcolormesh(ws, bs, np.log10(L + 1e-12), shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="log₁₀ loss")
    # colours of the house style, each line with a white edge so that it stands out on every part of
    # viridis and in the legend; the first path is drawn on top
    edge = [pe.Stroke(linewidth=3.2, foreground="white"), pe.Normal()]
    for i, (name, path) in enumerate(paths.items()):
        color = PATH_COLORS[i % len(PATH_COLORS)]
        inside = ((path[:, 0] >= ws[0]) & (path[:, 0] <= ws[-1])
                  & (path[:, 1] >= bs[0]) & (path[:, 1] <= bs[-1]))
        first_out = int(np.argmin(inside)) if not inside.all() else len(path)
        shown = path[:first_out]
        ax.plot(shown[:, 0], shown[:, 1], ".-", ms=4, lw=1.4, color=color, label=name, path_effects=edge,
                zorder=3 + len(paths) - i)
        if first_out < len(path):
            x, y = shown[-1]
            target = path[first_out]
            ax.annotate(f"next step: ({target[0]:.0f}, {target[1]:.0f})", xy=(x, y),
                        xytext=(x + 0.5, y + 1.5), color=color, fontsize=8,
                        arrowprops=dict(arrowstyle="->", color=color))
        ax.plot(*path[0], "o", color=color, ms=7, mec="white", zorder=4 + len(paths))
    ax.set_xlim(ws[0], ws[-1])
    ax.set_ylim(bs[0], bs[-1])
    ax.set(xlabel="recurrent weight w", ylabel="bias b", title=text("title", title))
    ax.legend(fontsize=8, loc="lower left")
    return fig


def cliff_seeds(ws, bs, L, starts, thrown, shares: dict, title: str):
    """Chapter 5: where descents on the cliff start, and which of them one step throws far away.

    ``starts``: (S, N, 2) start points (w, b) of N descents for each of S seeds; ``thrown``: (S, N)
    booleans (a step longer than the picture); ``shares``: label -> (S,) share of thrown descents per
    seed, one panel point per seed (for example without and with clipping).
    """
    ws, bs, L = _surface(ws, bs, L)
    starts = array("starts", starts, (3,), finite=True)
    thrown = np.asarray(thrown)
    if thrown.dtype != bool:
        raise TypeError(f"thrown: expected a bool array (S, N), got dtype {thrown.dtype}")
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
    shares = {label: array(f"shares[{label!r}]", v, finite=True)
              for label, v in mapping("shares", shares).items()}
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
    ax2.set(title="per seed", xlabel="gradient descent", ylabel="descents with a step > 10 units (%)")
    ax2.legend(fontsize=8, loc="upper right")
    fig.suptitle(text("title", title))
    return fig
