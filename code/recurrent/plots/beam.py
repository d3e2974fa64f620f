"""Chapter 9's explorer figure: a beam search's hypotheses beside the attention map of the best one."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .style import COLORS, array, fields
from .updatable import UpdatableFigure

ROWS = 8                  # hypotheses listed at most (the widest beam the chapter offers)
WIDEST = 24               # characters of an output listed at most
_FIELDS = ("source", "target", "width", "found", "hypotheses", "log_probs", "scores", "correct",
           "finished", "weights", "source_tokens", "output_tokens")
_COLUMNS = ((0.02, "left", "rank"), (0.12, "left", "output y"), (0.66, "right", "log p(y)"),
            (0.86, "right", "score s(y)"), (0.97, "center", ""))


def _checked(result):
    fields("result", result, *_FIELDS)
    K = len(result.hypotheses)
    if K == 0:
        raise ValueError("result: expected at least one hypothesis, got none")
    for name in ("log_probs", "scores", "correct", "finished"):
        if np.shape(getattr(result, name)) != (K,):
            raise ValueError(f"result: expected {name} of shape ({K},) (one per hypothesis), got "
                             f"{np.shape(getattr(result, name))}")
    weights = array("result", result.weights, ndim=(2,), finite=True)
    shape = (len(result.output_tokens), len(result.source_tokens))
    if weights.shape != shape:
        raise ValueError(f"result: expected weights of shape (len(output_tokens), len(source_tokens)) = "
                         f"{shape}, got {weights.shape}")
    return weights


def beam_view(result):
    """The beam-search explorer's frame: left, the hypotheses (rank, output, log p(y), score s(y) and
    a mark for the right answer; "…" marks an output cut at max_len); right, the attention weights
    alpha_{t,s} of the best hypothesis, rows its output steps, columns the source tokens as read.

    ``result``: a ``seq2seq_explorer.BeamView``. Every frame has the same size and layout. The figure
    is an ``UpdatableFigure``: a result with the same source and best output tokens (another beam
    width) is put on it in place.
    """
    weights = _checked(result)
    fig = plt.figure(FigureClass=UpdatableFigure, figsize=(8.0, 3.6), layout="none")
    left, right, top, bottom = 0.02, 0.56, 0.82, 0.08          # the table, in figure coordinates
    step = (top - bottom) / (ROWS + 1.5)

    def column(x):
        return left + x * (right - left)

    for x, ha, head in _COLUMNS:
        fig.text(column(x), top - step / 2, head, ha=ha, va="center", fontsize=9, color=COLORS["grey"])
    fig.add_artist(Line2D([left, right], [top - step, top - step], color=COLORS["grey"], lw=0.8))
    cells = [[fig.text(column(x), top - step * (k + 1.5), "", ha=ha, va="center", fontsize=9,
                       family="DejaVu Sans Mono" if j == 1 else None)
              for j, (x, ha, _) in enumerate(_COLUMNS)] for k in range(ROWS)]
    note = fig.text(left, bottom - 0.02, "", ha="left", va="center", fontsize=8, color=COLORS["grey"])
    ax = fig.add_axes((0.64, 0.15, 0.26, 0.68))
    image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(result.source_tokens)), [str(s) for s in result.source_tokens])
    ax.set_yticks(range(len(result.output_tokens)), [str(s) for s in result.output_tokens])
    ax.grid(False)
    ax.set(xlabel="source token s (as read)", ylabel="output step t (best y)")
    ax.set_title("attention of the best hypothesis", fontsize=9)
    fig.colorbar(image, cax=fig.add_axes((0.92, 0.15, 0.015, 0.68), label="<colorbar>"),
                 label=r"weight $\alpha_{t,s}$")
    title = fig.suptitle("", x=0.02, ha="left", y=0.97)
    drawn = (result.source, list(result.source_tokens), list(result.output_tokens))

    def update(r) -> bool:
        w = _checked(r)
        if (r.source, list(r.source_tokens), list(r.output_tokens)) != drawn:
            return False                                    # other tick labels: build anew
        image.set_data(w)
        for k, row in enumerate(cells):
            if k >= len(r.hypotheses):
                for cell in row:
                    cell.set_text("")
                continue
            shown = (r.hypotheses[k] or "(empty)") + ("" if r.finished[k] else "…")
            shown = shown if len(shown) <= WIDEST else shown[:WIDEST - 1] + "…"     # the column's room
            texts = (f"{k + 1}", shown, f"{r.log_probs[k]:.2f}", f"{r.scores[k]:.2f}",
                     "✓" if r.correct[k] else "✗")
            for cell, text in zip(row, texts):
                cell.set_text(text)
                cell.set_fontweight("bold" if k == 0 else "normal")
            row[-1].set_color(COLORS["o"] if r.correct[k] else COLORS["loss"])
        more = f", the best {ROWS} listed" if len(r.hypotheses) > ROWS else ""
        note.set_text(f"{r.found} hypotheses found{more}")
        title.set_text(f"source {r.source} (answer {r.target}), beam width {r.width}")
        return True

    update(result)
    fig.set_updater(update, [image, note, title, *(cell for row in cells for cell in row)])
    return fig
