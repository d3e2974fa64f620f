"""Chapter 9's figures: what a trained encoder-decoder gets right, over seeds, and where it looks.

Every builder takes plain arrays (measured elsewhere, in ``seq2seq_experiments``) and shows every
seed, not only a summary:

- ``accuracy_by_length``: exact-match accuracy against source length (the fixed-context bottleneck).
- ``exposure_bias`` (暴露偏差): token accuracy per output position, teacher-forced (教师强制, solid)
  and free-running (dashed).
- ``attention_maps``: attention weights (注意力权重) alpha_{t,s} as heat maps, one per example, source
  tokens across, output steps down.
- ``beam_widths``: exact-match accuracy against beam width (束宽, the k of beam search 束搜索).
- ``conditions``: one accuracy per seed for each model variant, with its parameter count.
- ``loss_curves``: the training loss per step (moving average), every seed thin, the mean bold.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .primitives import finish, seeds
from .style import CYCLE, array, mapping, text

ACCURACY = "exact-match accuracy"
UNIT_RANGE = (-0.03, 1.03)              # accuracies: the whole of [0, 1], with room for points at 0 and 1


def _settings(name: str, value, integer: bool = False) -> np.ndarray:
    """Increasing, finite x values (P,): lengths, positions or widths (``integer``: whole numbers >= 1)."""
    x = array(name, value, finite=True)
    if np.any(np.diff(x) <= 0):
        raise ValueError(f"{name}: expected increasing values, got {x.tolist()}")
    if integer and (np.any(x != np.round(x)) or x[0] < 1):
        raise ValueError(f"{name}: expected whole numbers >= 1, got {x.tolist()}")
    return x


def _runs(name: str, value, columns: int | None, other: str = "", ndim: int = 2, unit: bool = True) -> dict:
    """``value``: label -> finite (S, columns) array ((S,) with ``ndim=1``; any number of columns when
    ``columns`` is None), checked; values in [0, 1] when ``unit`` (accuracies), > 0 otherwise (losses
    on a log axis)."""
    out = {}
    for label, v in mapping(name, value).items():
        where = f"{name}[{label!r}]"
        v = array(where, v, ndim=(ndim,), finite=True)
        if columns is not None and v.shape[1] != columns:
            raise ValueError(f"{where}, {other}: expected shape (S, len({other})) = (S, {columns}), "
                             f"got {v.shape}")
        if unit and (v.min() < 0 or v.max() > 1):
            raise ValueError(f"{where}: expected accuracies in [0, 1], got values from {v.min():g} to "
                             f"{v.max():g}")
        if not unit and v.min() <= 0:
            raise ValueError(f"{where}: expected losses > 0 (a log axis), got a minimum of {v.min():g}")
        out[label] = v
    return out


def _spread(ax, x, values, color, style: str, label: str):
    """Every seed of ``values`` (S, P) as a thin line, their mean as a bold one labelled ``label``."""
    for row in values:
        ax.plot(x, row, style, lw=0.7, alpha=0.4, color=color)
    ax.plot(x, values.mean(0), style, lw=2.0, color=color, label=f"{label} (bold: mean of {len(values)} "
                                                                 f"seeds)")


def accuracy_by_length(lengths, accuracy: dict, title: str = "Exact match against source length"):
    """Exact-match accuracy against source length: ``lengths`` (L,) source lengths S; ``accuracy``
    maps a label (a model variant) to an (S, L) array, the share of test pairs of each length that one
    seed's model writes exactly right. One colour per label: every seed a point, the mean a line."""
    title, lengths = text("title", title), _settings("lengths", lengths, integer=True)
    accuracy = _runs("accuracy", accuracy, len(lengths), "lengths")
    ax = plt.subplots(figsize=(7.0, 3.8))[1]
    seeds(lengths, accuracy, title, "source length S (tokens)", ACCURACY, show="points",
          ylim=UNIT_RANGE, ax=ax)
    ax.set_xticks(lengths, [f"{v:g}" for v in lengths])
    return ax.figure


def exposure_bias(positions, teacher_forced: dict, free_running: dict,
                  title: str = "Token accuracy per output position"):
    """Teacher-forced against free-running token accuracy per output position.

    ``positions`` (P,) output positions t; ``teacher_forced`` and ``free_running`` map the same labels
    to (S, P) arrays: the share of tokens at position t that are right when the decoder reads the true
    previous tokens (teacher forcing) or its own (free running). One colour per label, solid =
    teacher-forced, dashed = free-running; every seed thin, the mean bold.
    """
    title, positions = text("title", title), _settings("positions", positions)
    teacher_forced = _runs("teacher_forced", teacher_forced, len(positions), "positions")
    free_running = _runs("free_running", free_running, len(positions), "positions")
    if list(teacher_forced) != list(free_running):
        raise ValueError(f"teacher_forced, free_running: expected the same labels, got "
                         f"{list(teacher_forced)} and {list(free_running)}")
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    for i, label in enumerate(teacher_forced):
        color = CYCLE[i % len(CYCLE)]
        _spread(ax, positions, teacher_forced[label], color, ".-", f"{label}, teacher-forced")
        _spread(ax, positions, free_running[label], color, ".--", f"{label}, free-running")
    ax.set_xticks(positions, [f"{v:g}" for v in positions])
    return finish(ax, title, "output position t", "token accuracy", ylim=UNIT_RANGE)


def _example(i: int, example):
    """One (source_tokens, output_tokens, weights (L, S)) triple of ``examples``, checked."""
    where = f"examples[{i}]"
    if not isinstance(example, tuple | list) or len(example) != 3:
        raise TypeError(f"{where}: expected a triple (source_tokens, output_tokens, weights), got "
                        f"{type(example).__name__}")
    source, output, weights = example
    for part, tokens in (("source_tokens", source), ("output_tokens", output)):
        if (not isinstance(tokens, list | tuple) or not tokens
                or not all(isinstance(s, str) for s in tokens)):
            raise TypeError(f"{where} {part}: expected a non-empty list of str tokens, got {tokens!r}")
    weights = array(f"{where} weights", weights, ndim=(2,), finite=True)
    if weights.shape != (len(output), len(source)):
        raise ValueError(f"{where} weights: expected shape (len(output_tokens), len(source_tokens)) = "
                         f"({len(output)}, {len(source)}), got {weights.shape}")
    if weights.min() < 0 or np.abs(weights.sum(1) - 1).max() > 1e-6:
        raise ValueError(f"{where} weights: expected rows of non-negative weights summing to 1, got row "
                         f"sums {np.round(weights.sum(1), 6).tolist()}")
    return [s.replace("$", r"\$") for s in source], [s.replace("$", r"\$") for s in output], weights


def attention_maps(examples, title: str = "Where the decoder looks"):
    """Attention weights as heat maps, one per example, side by side with one shared colour bar.

    ``examples``: a list of (source_tokens, output_tokens, weights): the source's tokens (S,), the
    tokens the decoder wrote (L,) and the attention weights (L, S), row t the weights alpha_{t,s} over
    the source when the decoder wrote output token t (each row sums to 1). Panels are as wide as their
    sources, so that every cell is the same size.
    """
    title = text("title", title)
    if not isinstance(examples, list | tuple):
        raise TypeError(f"examples: expected a list of (source_tokens, output_tokens, weights), got "
                        f"{type(examples).__name__}")
    if not examples:
        raise ValueError("examples: expected at least one example, got an empty list")
    checked = [_example(i, e) for i, e in enumerate(examples)]
    widths = [len(s) for s, _, _ in checked]
    tallest = max(len(o) for _, o, _ in checked)
    fig, axes = plt.subplots(1, len(checked), width_ratios=widths, squeeze=False,
                             figsize=(min(0.42 * sum(widths) + 0.9 * len(checked) + 1.4, 12.0),
                                      0.36 * tallest + 2.0))
    for ax, (source, output, weights) in zip(axes[0], checked):
        image = ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal")
        ax.set_xticks(range(len(source)), source)
        ax.set_yticks(range(len(output)), output)
        ax.grid(False)
        ax.set(title=f"{''.join(s for s in source if len(s) == 1)} → "
                     f"{''.join(s for s in output if len(s) == 1)}",
               xlabel="source token s", ylabel="output step t")
    fig.colorbar(image, ax=list(axes[0]), label=r"attention weight $\alpha_{t,s}$", shrink=0.9)
    fig.suptitle(title)
    return fig


def beam_widths(widths, accuracy: dict, title: str = "Exact match against beam width"):
    """Exact-match accuracy against beam width: ``widths`` (W,) beam widths k (width 1 is greedy);
    ``accuracy`` maps a label to an (S, W) array, one row per seed. The widths are spaced evenly (they
    usually double); every seed a point, the mean a line."""
    title, widths = text("title", title), _settings("widths", widths, integer=True)
    accuracy = _runs("accuracy", accuracy, len(widths), "widths")
    ax = plt.subplots(figsize=(6.0, 3.8))[1]
    return seeds([f"{w:g}" for w in widths], accuracy, title, "beam width k", ACCURACY,
                 show="points", ylim=UNIT_RANGE, ax=ax)


def conditions(accuracy: dict, params: dict | None = None, title: str = "Exact match of each variant"):
    """One accuracy per seed for each model variant: ``accuracy`` maps a condition ("plain",
    "attention", ...) to an (S,) array; every seed a dot, the mean a black bar. ``params``, if given,
    maps conditions to their parameter counts, written under their names."""
    title, accuracy = text("title", title), _runs("accuracy", accuracy, None, ndim=1)
    counts = {}
    for name, count in mapping("params", params, allow_none=True).items():
        if name not in accuracy:
            raise ValueError(f"params: expected conditions of accuracy {list(accuracy)}, got {name!r}")
        if isinstance(count, bool) or not isinstance(count, int | np.integer):
            raise TypeError(f"params[{name!r}]: expected an int parameter count, got {type(count).__name__}")
        if count < 1:
            raise ValueError(f"params[{name!r}]: expected a parameter count >= 1, got {count}")
        counts[name] = int(count)
    fig, ax = plt.subplots(figsize=(1.3 * len(accuracy) + 2.2, 3.8))
    for j, values in enumerate(accuracy.values()):
        offsets = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(1)
        ax.plot(j + offsets, values, "o", ms=5, alpha=0.75, color=CYCLE[j % len(CYCLE)], mec="none",
                label="one seed" if j == 0 else None)
        ax.hlines(values.mean(), j - 0.28, j + 0.28, color="black", lw=1.6,
                  label=f"mean over {len(values)} seeds" if j == 0 else None)
    ticks = [f"{name}\n{counts[name]:,} parameters" if name in counts else name for name in accuracy]
    ax.set_xticks(range(len(accuracy)), ticks, fontsize=8)
    ax.set_xlim(-0.6, len(accuracy) - 0.4)
    ax.grid(False, axis="x")
    return finish(ax, title, "model variant", ACCURACY, ylim=UNIT_RANGE)


def loss_curves(losses: dict, title: str = "Training loss", window: int | None = None):
    """Training loss per step over seeds, on a log axis: ``losses`` maps a label to an (S, steps)
    array of the teacher-forced cross-entropy per step, one row per seed. Each seed is drawn as its
    moving average over ``window`` steps (default: a 30th of the run), thin; the mean over seeds of
    those, bold."""
    title, losses = text("title", title), _runs("losses", losses, None, unit=False)
    steps = {v.shape[1] for v in losses.values()}
    if len(steps) != 1:
        raise ValueError(f"losses: expected the same number of steps for every label, got {sorted(steps)}")
    n = steps.pop()
    if window is None:
        window = max(1, n // 30)
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise TypeError(f"window: expected an int or None, got {type(window).__name__}")
    if not 1 <= window <= n:
        raise ValueError(f"window: expected 1 <= window <= steps = {n}, got {window}")
    kernel = np.ones(window) / window
    x = np.arange(window, n + 1)
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    for i, (label, v) in enumerate(losses.items()):
        smooth = np.array([np.convolve(row, kernel, mode="valid") for row in v])
        _spread(ax, x, smooth, CYCLE[i % len(CYCLE)], "-", label)
    ax.set_xlim(0, n)
    finish(ax, title, "training step", "cross-entropy (nats per token)", log="y")
    if window > 1:
        ax.get_legend().set_title(f"each line: moving average over {window} steps", prop={"size": 8})
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))     # a loss spans a decade or two:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.2, 0.5, 1, 2 in plain text
    ax.yaxis.set_minor_formatter(NullFormatter())
    return fig
