"""Cell diagrams drawn from code: the plain RNN cell, the LSTM cell, the GRU cell and the six wirings.

Every label is a mathtext string in the symbols of the chapter's equations, and ``SYMBOLS`` records,
for each builder (and each panel of a two-panel figure), the symbols it draws; the tests parse the
chapters' equations out of the notebooks and check that both sets agree. The six architecture panels
draw the input and output steps listed in ``ARCHITECTURES``, which the tests compare with the shapes
that ``recurrent.architectures`` returns.

    rnn_cell       eq-rnn-h and eq-rnn-o: x_t, h_{t-1} -> z_t -> h_t -> o_t -> yhat_t
    lstm_cell      eq-lstm-gates and eq-lstm-states: gates i_t, f_t, o_t, candidate g_t, c_t, h_t
    gru_cell       eq-gru-torch (left) and Cho et al.'s candidate, r_t before W_n (right)
    architectures  one-to-one, one-to-many, many-to-one, many-to-many, encoder-decoder, bidirectional
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .style import COLORS

# The symbols each diagram draws (as the tests' extractor spells them: "h_{t-1}", "U_f", "sigma").
SYMBOLS = {
    "rnn_cell": {"x_t", "h_{t-1}", "U", "W", "b", "z_t", "tanh", "h_t", "V", "c", "o_t", "softmax",
                 "hat y_t"},
    "lstm_cell": {"x_t", "h_{t-1}", "c_{t-1}", "i_t", "f_t", "g_t", "o_t", "c_t", "h_t", "sigma",
                  "tanh", "odot"} | {f"{m}_{g}" for m in "UWb" for g in "ifgo"},
    "gru_cell": {"x_t", "h_{t-1}", "r_t", "z_t", "n_t", "h_t", "sigma", "tanh", "odot", "b_{hn}"}
    | {f"{m}_{g}" for m in "UWb" for g in "rzn"},
    "gru_cell_cho": {"x_t", "h_{t-1}", "r_t", "n_t", "U_n", "W_n", "b_n", "tanh", "odot"},
}

# The steps at which each wiring reads an input and emits an output, for T = 3 (encoder-decoder: 3 in,
# 2 out), in the order the panels are drawn; "feedback" marks outputs fed back as the next input, and
# "start" the step at which the decoder reads its start token.
ARCHITECTURES = {
    "one_to_one": {"title": "one-to-one", "inputs": [1], "outputs": [1]},
    "one_to_many": {"title": "one-to-many", "inputs": [1], "outputs": [1, 2, 3], "feedback": True},
    "many_to_one": {"title": "many-to-one", "inputs": [1, 2, 3], "outputs": [3]},
    "many_to_many": {"title": "many-to-many (aligned)", "inputs": [1, 2, 3], "outputs": [1, 2, 3]},
    "encoder_decoder": {"title": "encoder-decoder", "inputs": [1, 2, 3], "outputs": [4, 5],
                        "feedback": True, "start": 4},
    "bidirectional": {"title": "bidirectional", "inputs": [1, 2, 3], "outputs": [1, 2, 3]},
}

_FONT = 11


def _canvas(ax, xlim, ylim, title):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)


def _node(ax, xy, label, color, w=0.9, h=0.5, size=_FONT):
    """A variable: a rounded box in the colour of its kind (input, state, output)."""
    ax.add_patch(FancyBboxPatch((xy[0] - w / 2, xy[1] - h / 2), w, h, boxstyle="round,pad=0.04",
                                fc=color, ec="black", lw=0.8))
    ax.text(*xy, label, ha="center", va="center", fontsize=size, color="white")


def _layer(ax, xy, label, color=COLORS["accent"], w=0.8, h=0.5):
    """A nonlinearity (sigma, tanh, softmax): a square-cornered box."""
    ax.add_patch(FancyBboxPatch((xy[0] - w / 2, xy[1] - h / 2), w, h, boxstyle="square,pad=0.02",
                                fc="white", ec=color, lw=1.4))
    ax.text(*xy, label, ha="center", va="center", fontsize=_FONT, color=color)


def _op(ax, xy, label, r=0.2):
    """A pointwise operation (odot, +, 1 -): a small circle."""
    ax.add_patch(Circle(xy, r, fc="white", ec="black", lw=1.0, zorder=3))
    ax.text(*xy, label, ha="center", va="center", fontsize=_FONT - 1, zorder=4)


def _wire(ax, points, color="black", arrow=True, ls="-", lw=1.1):
    """A polyline through ``points`` with an arrowhead on its last segment."""
    for a, b in zip(points[:-2], points[1:-1]):
        ax.plot([a[0], b[0]], [a[1], b[1]], color=color, ls=ls, lw=lw, solid_capstyle="butt")
    ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>" if arrow else "-",
                                 mutation_scale=11, lw=lw, color=color, ls=ls, shrinkA=0, shrinkB=0))


def _label(ax, xy, text, color="black", ha="left", size=_FONT - 1):
    ax.text(*xy, text, ha=ha, va="center", fontsize=size, color=color)


def rnn_cell():
    """The plain RNN cell of eq-rnn-h and eq-rnn-o: one step, from (x_t, h_{t-1}) to h_t and yhat_t."""
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    _canvas(ax, (-0.7, 8.4), (-1.3, 3.7), "The RNN cell: one step")
    _node(ax, (0, 1), "$h_{t-1}$", COLORS["h"])
    _node(ax, (2.4, -0.8), "$x_t$", COLORS["x"])
    _op(ax, (2.4, 1), "+")
    _wire(ax, [(0.45, 1), (2.2, 1)])
    _label(ax, (1.0, 1.25), "$W$")
    _wire(ax, [(2.4, -0.55), (2.4, 0.8)])
    _label(ax, (2.55, 0.1), "$U$")
    _wire(ax, [(2.4, 2.0), (2.4, 1.2)])
    _label(ax, (2.4, 2.2), "$b$", ha="center")
    _layer(ax, (4.1, 1), r"$\tanh$")
    _wire(ax, [(2.6, 1), (3.7, 1)])
    _label(ax, (2.85, 1.25), "$z_t$")
    _node(ax, (5.8, 1), "$h_t$", COLORS["h"])
    _wire(ax, [(4.5, 1), (5.35, 1)])
    _wire(ax, [(6.25, 1), (8.2, 1)])
    _label(ax, (6.5, 0.7), "to the next step", color=COLORS["grey"], size=_FONT - 2)
    _op(ax, (5.8, 2.3), "+")
    _wire(ax, [(5.8, 1.25), (5.8, 2.1)])
    _label(ax, (5.95, 1.7), "$V$")
    _wire(ax, [(4.8, 2.3), (5.6, 2.3)])
    _label(ax, (4.65, 2.3), "$c$", ha="right")
    _layer(ax, (5.8, 3.15), r"$\mathrm{softmax}$", w=1.5)
    _wire(ax, [(5.8, 2.5), (5.8, 2.9)])
    _label(ax, (5.95, 2.7), "$o_t$")
    _node(ax, (7.6, 3.15), r"$\hat y_t$", COLORS["o"], w=0.8)
    _wire(ax, [(6.55, 3.15), (7.2, 3.15)])
    return fig


def lstm_cell():
    """The LSTM cell of eq-lstm-gates and eq-lstm-states: the cell state runs along the top, the four
    blocks (gates i_t, f_t, o_t with sigma, candidate g_t with tanh) read [x_t, h_{t-1}] from below."""
    fig, ax = plt.subplots(figsize=(8.0, 4.6))
    _canvas(ax, (-0.8, 9.6), (-1.5, 4.3), "The LSTM cell: one step")
    top, gate_y, bus = 3.4, 1.3, 0.0
    _node(ax, (0, top), "$c_{t-1}$", COLORS["h"])
    _node(ax, (0, bus), "$h_{t-1}$", COLORS["h"])
    _node(ax, (1.0, -1.1), "$x_t$", COLORS["x"])
    blocks = {"f": (2.0, r"$\sigma$"), "i": (3.3, r"$\sigma$"), "g": (4.6, r"$\tanh$"),
              "o": (5.9, r"$\sigma$")}
    _wire(ax, [(0.45, bus), (5.9, bus)], arrow=False)
    _wire(ax, [(1.0, -0.85), (1.0, bus)], arrow=False)
    for g, (x, fn) in blocks.items():
        _wire(ax, [(x, bus), (x, gate_y - 0.25)])
        _label(ax, (x + 0.08, 0.55), f"$U_{g}, W_{g}, b_{g}$", size=_FONT - 3)
        _layer(ax, (x, gate_y), fn, w=0.75)
    # cell state: c_{t-1} -> (odot f_t) -> (+ i_t odot g_t) -> c_t
    _wire(ax, [(0.45, top), (1.8, top)])
    _op(ax, (2.0, top), r"$\odot$")
    _wire(ax, [(2.0, gate_y + 0.25), (2.0, top - 0.2)])
    _label(ax, (2.1, 2.0), "$f_t$")
    _op(ax, (3.95, 2.35), r"$\odot$")
    _wire(ax, [(3.3, gate_y + 0.25), (3.3, 2.35), (3.75, 2.35)])
    _label(ax, (2.95, 1.95), "$i_t$")
    _wire(ax, [(4.6, gate_y + 0.25), (4.6, 2.35), (4.15, 2.35)])
    _label(ax, (4.7, 1.95), "$g_t$")
    _op(ax, (3.95, top), "+")
    _wire(ax, [(2.2, top), (3.75, top)])
    _wire(ax, [(3.95, 2.55), (3.95, top - 0.2)])
    _node(ax, (8.6, top), "$c_t$", COLORS["h"])
    _wire(ax, [(4.15, top), (8.15, top)])
    # output: h_t = o_t odot tanh(c_t)
    _layer(ax, (7.0, 2.4), r"$\tanh$", w=0.75)
    _wire(ax, [(7.0, top), (7.0, 2.65)])
    _op(ax, (7.0, gate_y), r"$\odot$")
    _wire(ax, [(7.0, 2.15), (7.0, gate_y + 0.2)])
    _wire(ax, [(5.9, gate_y + 0.25), (5.9, 1.85), (6.5, 1.85), (6.5, gate_y), (6.8, gate_y)])
    _label(ax, (6.0, 2.05), "$o_t$")
    _node(ax, (8.6, gate_y), "$h_t$", COLORS["h"])
    _wire(ax, [(7.2, gate_y), (8.15, gate_y)])
    return fig


def _dot(ax, xy):
    ax.add_patch(Circle(xy, 0.05, fc="black", ec="black", zorder=3))


def _gru_torch(ax):
    top, gate_y, h_bus, x_bus = 3.4, 1.3, 0.3, -0.3
    _canvas(ax, (-0.8, 9.4), (-1.5, 4.3), r"PyTorch: $r_t$ scales $W_n h_{t-1} + b_{hn}$")
    _node(ax, (0, top), "$h_{t-1}$", COLORS["h"])
    _node(ax, (1.0, -1.1), "$x_t$", COLORS["x"])
    _wire(ax, [(0, top - 0.25), (0, h_bus), (4.9, h_bus)], arrow=False)
    _wire(ax, [(1.0, -0.85), (1.0, x_bus), (6.1, x_bus)], arrow=False)
    for g, x in (("r", 1.8), ("z", 3.1)):
        _wire(ax, [(x, x_bus), (x, gate_y - 0.25)])
        _dot(ax, (x, x_bus))
        _dot(ax, (x, h_bus))
        _label(ax, (x + 0.08, 0.75), f"$U_{g}, W_{g}, b_{g}$", size=_FONT - 3)
        _layer(ax, (x, gate_y), r"$\sigma$", w=0.75)
    accent = COLORS["loss"]
    # candidate: n_t = tanh(U_n x_t + b_n + r_t odot (W_n h_{t-1} + b_{hn}))
    _wire(ax, [(4.9, h_bus), (4.9, 0.55)], color=accent, arrow=False)
    _layer(ax, (4.9, 0.8), r"$W_n, b_{hn}$", color=accent, w=1.1, h=0.45)
    _op(ax, (4.9, 1.6), r"$\odot$")
    _wire(ax, [(4.9, 1.03), (4.9, 1.4)], color=accent)
    _wire(ax, [(1.8, gate_y + 0.25), (1.8, 1.95), (4.1, 1.95), (4.1, 1.6), (4.7, 1.6)])
    _label(ax, (1.9, 2.15), "$r_t$")
    _layer(ax, (6.1, 1.6), r"$\tanh$", w=0.75)
    _wire(ax, [(5.1, 1.6), (5.72, 1.6)])
    _wire(ax, [(6.1, x_bus), (6.1, 1.35)])
    _label(ax, (6.2, 0.55), "$U_n, b_n$", size=_FONT - 3)
    # update: h_t = (1 - z_t) odot n_t + z_t odot h_{t-1}
    _op(ax, (3.1, top), r"$\odot$")
    _wire(ax, [(0.45, top), (2.9, top)])
    _wire(ax, [(3.1, gate_y + 0.25), (3.1, top - 0.2)])
    _label(ax, (3.2, 2.4), "$z_t$")
    _op(ax, (4.6, 2.6), "1\u2212", r=0.22)
    _wire(ax, [(3.1, 2.6), (4.38, 2.6)])
    _op(ax, (6.1, 2.6), r"$\odot$")
    _wire(ax, [(4.82, 2.6), (5.9, 2.6)])
    _wire(ax, [(6.1, 1.85), (6.1, 2.4)])
    _label(ax, (6.2, 2.1), "$n_t$")
    _op(ax, (6.1, top), "+")
    _wire(ax, [(3.3, top), (5.9, top)])
    _wire(ax, [(6.1, 2.8), (6.1, top - 0.2)])
    _node(ax, (8.4, top), "$h_t$", COLORS["h"])
    _wire(ax, [(6.3, top), (7.95, top)])


def _gru_cho(ax):
    accent = COLORS["loss"]
    _canvas(ax, (-0.8, 3.9), (-1.5, 4.3), r"Cho et al.: $r_t$ scales $h_{t-1}$ before $W_n$")
    _node(ax, (0, 2.6), "$h_{t-1}$", COLORS["h"])
    _op(ax, (1.3, 2.6), r"$\odot$")
    _wire(ax, [(0.45, 2.6), (1.1, 2.6)])
    _wire(ax, [(1.3, 1.9), (1.3, 2.4)])
    _label(ax, (1.3, 1.7), "$r_t$", ha="center")
    _layer(ax, (1.3, 3.5), "$W_n$", color=accent, w=0.7, h=0.45)
    _wire(ax, [(1.3, 2.8), (1.3, 3.27)], color=accent)
    _layer(ax, (2.8, 3.5), r"$\tanh$", w=0.75)
    _wire(ax, [(1.65, 3.5), (2.42, 3.5)], color=accent)
    _node(ax, (2.8, 1.3), "$x_t$", COLORS["x"])
    _wire(ax, [(2.8, 1.55), (2.8, 3.25)])
    _label(ax, (2.9, 2.4), "$U_n, b_n$", size=_FONT - 3)
    _label(ax, (3.2, 3.9), "$n_t$")
    _wire(ax, [(3.18, 3.5), (3.7, 3.5)])


def gru_cell():
    """The GRU cell of eq-gru-torch (left); right, Cho et al.'s candidate, where r_t scales h_{t-1}
    before the product with W_n (and there is no b_hn). The part that differs is drawn in red."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 4.2), width_ratios=[10.2, 4.7])
    _gru_torch(left)
    _gru_cho(right)
    return fig


def _wiring(ax, name, spec):
    """One architecture for T = 3 steps (encoder-decoder: 3 in, 2 out): x below, h in the middle, o
    above; the bidirectional one has a second row of states reading right to left."""
    steps = max(spec["inputs"] + spec["outputs"])
    bi = name == "bidirectional"
    rows = {"x": 0.0, "h": 1.2, "b": 2.2, "o": 3.4 if bi else 2.4}
    _canvas(ax, (0.3, max(steps, 3) + 0.7), (-0.5, rows["o"] + 0.5), spec["title"])
    size = _FONT - 2
    for t in range(1, steps + 1):
        decoder = name == "encoder_decoder" and t > 3
        label = f"$h_{t}$" if not bi else rf"$h^{{\rightarrow}}_{t}$"
        _node(ax, (t, rows["h"]), label, COLORS["accent"] if decoder else COLORS["h"], w=0.7, h=0.42,
              size=_FONT if bi else size)
        if bi:
            _node(ax, (t, rows["b"]), rf"$h^{{\leftarrow}}_{t}$", COLORS["h"], w=0.7, h=0.42, size=_FONT)
        if t > 1:
            _wire(ax, [(t - 0.65, rows["h"]), (t - 0.35, rows["h"])])
            if bi:
                _wire(ax, [(t - 0.35, rows["b"]), (t - 0.65, rows["b"])])
        if t in spec["inputs"]:
            _node(ax, (t, rows["x"]), f"$x_{t}$", COLORS["x"], w=0.6, h=0.4, size=size)
            _wire(ax, [(t, rows["x"] + 0.2), (t, rows["h"] - 0.21)])
        if t == spec.get("start"):
            _node(ax, (t, rows["x"]), "start", COLORS["grey"], w=0.8, h=0.4, size=size - 1)
            _wire(ax, [(t, rows["x"] + 0.2), (t, rows["h"] - 0.21)])
        if t in spec["outputs"]:
            index = t - 3 if name == "encoder_decoder" else t
            _node(ax, (t, rows["o"]), f"$o_{index}$", COLORS["o"], w=0.6, h=0.4, size=size)
            start = rows["b"] if bi else rows["h"]
            _wire(ax, [(t, start + 0.21), (t, rows["o"] - 0.2)])
            if bi:
                _wire(ax, [(t + 0.3, rows["h"]), (t + 0.42, rows["h"]), (t + 0.42, rows["o"] - 0.1),
                           (t + 0.3, rows["o"] - 0.1)], lw=0.8)
            if spec.get("feedback") and t < steps:
                ax.add_patch(FancyArrowPatch((t + 0.3, rows["o"]), (t + 0.75, rows["h"] + 0.21),
                                             connectionstyle="arc3,rad=-0.25", arrowstyle="-|>",
                                             mutation_scale=9, lw=0.8, ls="--", color=COLORS["grey"]))


def architectures():
    """The six wirings of chapter 1 in six panels; dashed arrows feed an output back as the next input
    (greedy decoding), and the decoder's states are drawn in a second colour."""
    fig, axes = plt.subplots(2, 3, figsize=(9.5, 5.6))
    for ax, (name, spec) in zip(axes.flat, ARCHITECTURES.items()):
        _wiring(ax, name, spec)
    return fig


__all__ = ["architectures", "gru_cell", "lstm_cell", "rnn_cell"]
