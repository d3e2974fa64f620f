"""The cell diagrams draw exactly the symbols of the chapters' equations, and the six wirings draw the
inputs and outputs that recurrent.architectures computes.

The equations are parsed out of the notebooks' markdown (the labelled $$ ... $$ (eq-...) blocks), their
symbols extracted with a small regex, and compared, both ways, with the symbols in the mathtext of
every text artist of the diagram (per panel) and with the set plots.diagrams.SYMBOLS declares.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from recurrent import architectures as arch  # noqa: E402
from recurrent import rnn  # noqa: E402
from recurrent.plots import diagrams  # noqa: E402

BOOK = Path(__file__).resolve().parents[1] / "book"
FUNCTIONS = ("tanh", "sigma", "softmax", "odot")


def symbols(tex: str) -> set[str]:
    """The symbols of a TeX formula: letters with their subscripts ("h_{t-1}", "U_f", "b_{hn}"),
    "hat y_t" for a hat, and the functions and the product of FUNCTIONS. Words in \\text{} and the
    aligned environment's markup are not symbols."""
    s = re.sub(r"\\text\{[^}]*\}", " ", tex)
    s = re.sub(r"\\(?:begin|end)\{[^}]*\}", " ", s)
    s = re.sub(r"\\(?:operatorname|mathrm)\{(\w+)\}", r" \\\1 ", s)
    found = {f for f in FUNCTIONS if re.search(rf"\\{f}(?![A-Za-z])", s)}
    s = re.sub(r"\\hat\s*\{?\s*([A-Za-z])\s*\}?", r"@\1", s)
    s = re.sub(r"\\[A-Za-z]+", " ", s)
    for m in re.finditer(r"(?<![A-Za-z])(@?)([A-Za-z])(?:_(\{[^{}]*\}|[A-Za-z0-9]))?(?![A-Za-z])", s):
        hat, letter, sub = m.groups()
        name = ("hat " if hat else "") + letter
        if sub:
            sub = sub.replace(" ", "")
            sub = sub[1:-1] if sub.startswith("{") and len(sub) == 3 else sub
            name += f"_{sub}"
        found.add(name)
    return found


def markdown(notebook: str) -> str:
    cells = json.loads((BOOK / notebook).read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def equation(notebook: str, label: str) -> str:
    """The TeX of the display equation labelled ``label`` in ``notebook``."""
    found = re.findall(r"\$\$((?:(?!\$\$).)*)\$\$\s*\(" + re.escape(label) + r"\)", markdown(notebook), re.S)
    assert len(found) == 1, f"{notebook}: expected one $$ ... $$ ({label}), found {len(found)}"
    return found[0]


def cho_candidate() -> str:
    """Cho et al.'s candidate in the GRU chapter, n_t = ... W_n (r_t odot h_{t-1}) ...: one line of an
    inline or display formula (display lines split at \\\\ and \\qquad)."""
    text = markdown("gru.ipynb")
    segments = re.findall(r"\$\$(.*?)\$\$", text, re.S) + re.findall(
        r"(?<!\$)\$([^$]+)\$(?!\$)", re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S))
    pieces = [piece.replace("&", " ") for segment in segments
              for piece in re.split(r"\\\\|\\qquad", segment)]
    found = [piece for piece in pieces if piece.strip().startswith("n_t")
             and r"W_n(r_t\odoth_{t-1})" in piece.replace(" ", "")]
    assert found, "gru.ipynb: no formula n_t = ... W_n (r_t \\odot h_{t-1}) ... (Cho's candidate)"
    return found[0]


def drawn(ax) -> set[str]:
    """The symbols in the mathtext of every text artist of one panel (titles included)."""
    out = set()
    for t in ax.findobj(Text):
        for segment in re.findall(r"\$([^$]+)\$", t.get_text()):
            out |= symbols(segment)
    return out


def mismatch(drawn_symbols: set, expected: set) -> dict:
    """What the diagram draws that the equation lacks, and what it misses."""
    return {"not in the equation": sorted(drawn_symbols - expected),
            "not drawn": sorted(expected - drawn_symbols)}


# (builder, panel, key of SYMBOLS, the equation's TeX, symbols of the equation the panel omits)
CASES = {
    "rnn_cell": ("rnn_cell", 0, "rnn_cell",
                 lambda: equation("rnn_equations.ipynb", "eq-rnn-h")
                 + equation("rnn_equations.ipynb", "eq-rnn-o"), set()),
    "lstm_cell": ("lstm_cell", 0, "lstm_cell",
                  lambda: equation("lstm.ipynb", "eq-lstm-gates") + equation("lstm.ipynb", "eq-lstm-states"),
                  set()),
    "gru_cell (PyTorch)": ("gru_cell", 0, "gru_cell", lambda: equation("gru.ipynb", "eq-gru-torch"), set()),
    "gru_cell (Cho)": ("gru_cell", 1, "gru_cell_cho", cho_candidate, set()),
}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_the_extractor_reads_subscripts_hats_and_functions():
    assert symbols(r"z_t = U x_t + W h_{t-1} + b, \qquad h_t = \tanh(z_t)") == {
        "z_t", "U", "x_t", "W", "h_{t-1}", "b", "h_t", "tanh"}
    assert symbols(r"\hat y_t = \operatorname{softmax}(o_t) \text{ output gate}") == {
        "hat y_t", "softmax", "o_t"}
    assert symbols(r"r_t \odot (W_n h_{t-1} + b_{hn})") == {"r_t", "odot", "W_n", "h_{t-1}", "b_{hn}"}
    assert symbols(r"\mathrm{softmax}") == {"softmax"}
    assert symbols(r"\sigma(U_f x_t)") == {"sigma", "U_f", "x_t"}


@pytest.mark.parametrize("case", CASES)
def test_each_diagram_draws_exactly_the_symbols_of_its_equation(case):
    builder, panel, key, tex, omitted = CASES[case]
    fig = getattr(diagrams, builder)()
    assert isinstance(fig, Figure)
    on_figure = drawn(fig.axes[panel])
    in_equation = symbols(tex()) - omitted
    assert on_figure == diagrams.SYMBOLS[key], mismatch(on_figure, diagrams.SYMBOLS[key])
    assert on_figure == in_equation, mismatch(on_figure, in_equation)


@pytest.mark.parametrize("old, new", [("$f_t$", "$F_t$"), ("$U_f, W_f, b_f$", "$U_f, W_f$"),
                                      (r"$\sigma$", r"$\tanh$")])
def test_a_renamed_or_dropped_label_is_caught(old, new):
    """The comparison is not vacuous: change one label of the LSTM diagram and it fails."""
    fig = diagrams.lstm_cell()
    texts = [t for t in fig.axes[0].findobj(Text) if t.get_text() == old]
    assert texts, f"the LSTM diagram has no label {old}"
    for t in texts:
        t.set_text(new)
    expected = symbols(equation("lstm.ipynb", "eq-lstm-gates") + equation("lstm.ipynb", "eq-lstm-states"))
    assert drawn(fig.axes[0]) != expected


def _labels(ax, letter):
    """Positions (x) of the nodes labelled $<letter>_<step>$ in an architecture panel, by step."""
    out = {}
    for t in ax.texts:
        m = re.fullmatch(r"\$" + letter + r"_(\d)\$", t.get_text())
        if m:
            out[int(m.group(1))] = t.get_position()[0]
    return out


def _computed():
    """Shapes from recurrent.architectures for the panels' sizes: T = 3 (encoder-decoder 3 in, 2 out)."""
    p = rnn.init_params(n=5, d=4, k=5, rng=0)
    q = rnn.init_params(n=5, d=4, k=5, rng=1)
    xs = rnn.one_hot(np.random.default_rng(0).integers(0, 5, size=(3, 2)), 5)
    V2, c2 = np.ones((5, 8)), np.zeros(5)
    return {"one_to_one": (1, arch.one_to_one(p, xs[0])[None]),
            "one_to_many": (1, arch.one_to_many(p, xs[0], T_out=3)),
            "many_to_one": (3, arch.many_to_one(p, xs)[None]),
            "many_to_many": (3, arch.many_to_many(p, xs)),
            "encoder_decoder": (3, arch.encoder_decoder(p, q, xs, T_out=2)[0]),
            "bidirectional": (3, arch.bidirectional(p, q, V2, c2, xs)[0])}


def test_the_six_wirings_draw_the_inputs_and_outputs_the_architectures_compute():
    fig = diagrams.architectures()
    computed = _computed()
    assert list(diagrams.ARCHITECTURES) == list(computed)
    for ax, (name, spec) in zip(fig.axes, diagrams.ARCHITECTURES.items()):
        assert callable(getattr(arch, name)), name
        assert ax.get_title() == spec["title"]
        n_inputs, os = computed[name]
        xs_drawn, os_drawn = _labels(ax, "x"), _labels(ax, "o")
        assert len(xs_drawn) == n_inputs, name
        assert len(os_drawn) == os.shape[0], name
        if name == "many_to_one":                       # read out at the last input's step only
            assert list(os_drawn.values()) == [xs_drawn[max(xs_drawn)]]
        if name == "encoder_decoder":                   # the decoder writes after the encoder has read
            assert min(os_drawn.values()) > max(xs_drawn.values())
        arrows = [t.get_text() for t in ax.texts if r"\leftarrow" in t.get_text()]
        assert bool(arrows) == (name == "bidirectional"), name

