"""Chapters 6 and 7's figures: gradient through the LSTM's cell state, a hand-set LSTM over time, and
activation functions."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import COLORS, array, fields, mapping, plain_log_labels, text
from .updatable import UpdatableFigure


def memory_flow(result):
    """Chapter 6's explorer: gradient left at step t of what starts at step T, LSTM vs tanh RNN.

    ``result``: the result of the chapter's explorer in ``memory`` (fields t, lstm_c, lstm_h, rnn_h,
    forget_bias, f_mean, T). The figure is an ``UpdatableFigure``: an explorer puts a new result of the
    same T on it in place.
    """
    wanted = ("t", "lstm_c", "lstm_h", "rnn_h", "forget_bias", "f_mean", "T")
    fields("result", result, *wanted)
    fig = plt.figure(FigureClass=UpdatableFigure, figsize=(7.2, 3.6), layout="none")
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.88)
    t = np.asarray(result.t)
    cell, = ax.plot(t, t * 0.0 + 1, color=COLORS["o"], lw=2, label="LSTM, cell state c")
    hidden, = ax.plot(t, t * 0.0 + 1, color=COLORS["x"], lw=1.5, label="LSTM, hidden state h")
    plain, = ax.plot(t, t * 0.0 + 1, color=COLORS["loss"], lw=1.5, ls="--", label="tanh RNN, hidden state h")
    ax.set_yscale("log")
    ax.set_ylim(1e-40, 1e4)
    ax.set_xlim(t[0] - 0.02 * (t[-1] - t[0]), t[-1] + 0.02 * (t[-1] - t[0]))
    ax.yaxis.set_major_formatter(plain_log_labels)
    ax.set(xlabel="time step t (the loss is at t = T)", ylabel="‖∂L/∂state_t‖ / ‖∂L/∂state_T‖ (log)")
    ax.legend(fontsize=8, loc="lower right")

    def update(r) -> bool:
        fields("result", r, *wanted)
        if np.shape(r.t) != t.shape or not np.array_equal(r.t, t):
            return False
        for line, y in ((cell, r.lstm_c), (hidden, r.lstm_h), (plain, r.rnn_h)):
            line.set_ydata(np.clip(y, 1e-40, None))
        ax.set_title(f"forget-gate bias {r.forget_bias:+.0f} (mean f = {r.f_mean:.2f}), T = {r.T}")
        return True

    update(result)
    fig.set_updater(update, [cell, hidden, plain, ax.title])
    return fig


def gate_trace(fwd, signals: dict, title: str):
    """A one-unit LSTM over time: its three gates (top), its states (middle), its inputs (bottom)."""
    fields("fwd", fwd, "hs", "cs", "gates")
    signals = mapping("signals", signals)
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
    top.set(ylabel="gate value", title=text("title", title))
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
    z = array("z", z, finite=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for name, pair in mapping("functions", functions).items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(map(callable, pair))):
            raise TypeError(f"functions[{name!r}]: expected a pair of functions (f, f'), got {pair!r}")
        f, df = pair
        left.plot(z, f(z), label=name)
        right.plot(z, df(z), label=name)
    left.set(xlabel="z", ylabel="φ(z)", title=text("title", title))
    right.set(xlabel="z", ylabel="φ′(z)", title="derivatives")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    return fig
