"""Compute once, show three ways: a static figure, a live ipywidgets view, a kernel-free scrubber.

An explorer is three things: ``compute(**values) -> result`` (pure, tested elsewhere),
``draw(result) -> Figure`` (a builder from ``plots``), and a list of ``Control``s, each a keyword
argument of ``compute`` with the finite list of values a reader may choose from.

- ``live(...)``: ipywidgets sliders and menus that recompute and redraw (Jupyter, Binder).
- ``scrubbable(...)``: the same two calls evaluated over every combination of the controls' values,
  stored as PNG frames in one HTML block whose controls swap the frame with a few lines of
  JavaScript. It needs no kernel and no network, so it works in the static HTML book.

Because a control only offers the listed values, a reader cannot set a value outside the range the
chapter has checked.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np


@dataclass(frozen=True)
class Control:
    """One control: keyword ``name`` of compute, the allowed ``values``, the ``default`` and a label."""

    name: str
    values: tuple
    default: object
    label: str
    fmt: str = "{}"

    def __post_init__(self):
        if len(self.values) < 2:
            raise ValueError(f"Control {self.name}: expected at least 2 values, got {list(self.values)}")
        if self.default not in self.values:
            raise ValueError(f"Control {self.name}: expected the default among {list(self.values)}, "
                             f"got {self.default!r}")

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in self.values)

    def text(self, value) -> str:
        return self.fmt.format(value)


def defaults(controls) -> dict:
    return {c.name: c.default for c in controls}


def static(compute, draw, controls, **overrides):
    """The figure at the controls' defaults (or at ``overrides``): the printed book's view."""
    _check_names(controls, overrides)
    return draw(compute(**(defaults(controls) | overrides)))


class LiveView:
    """The ipywidgets view: ``widget`` to display, ``controls`` by name, the latest ``result``/``figure``."""

    def __init__(self, compute, draw, controls):
        import ipywidgets as w

        self._compute, self._draw = compute, draw
        self.controls = {}
        for c in controls:
            if c.numeric:
                options = [(c.text(v), v) for v in c.values]
                widget = w.SelectionSlider(options=options, value=c.default, description=c.label,
                                           continuous_update=False, style={"description_width": "initial"},
                                           layout=w.Layout(width="420px"))
            else:
                widget = w.Dropdown(options=list(c.values), value=c.default, description=c.label,
                                    style={"description_width": "initial"})
            widget.observe(self.update, names="value")
            self.controls[c.name] = widget
        self.output = w.Output()
        self.widget = w.VBox([w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap")),
                              self.output])
        self.result = self.figure = None
        self.update()

    def __repr__(self) -> str:
        return f"<LiveView with controls {list(self.controls)}>"

    def values(self) -> dict:
        return {name: widget.value for name, widget in self.controls.items()}

    def update(self, change=None) -> None:
        from IPython.display import display

        self.result = self._compute(**self.values())
        if self.figure is not None:
            plt.close(self.figure)
        self.figure = self._draw(self.result)
        with self.output:
            self.output.clear_output(wait=True)
            display(self.figure)
        plt.close(self.figure)          # shown through the Output widget only, not again by the backend

    def _ipython_display_(self):
        from IPython.display import display

        # A saved notebook keeps no widget state, so a front end that opens it before the cell runs
        # shows the text instead of the widget: make that text say what to do.
        bundle = self.widget._repr_mimebundle_()
        labels = ", ".join(w.description for w in self.controls.values())
        bundle["text/plain"] = f"[live explorer with controls: {labels}; run this cell to show them]"
        display(bundle, raw=True)


def live(compute, draw, controls) -> LiveView:
    """Sliders (numbers) and menus (names) that recompute and redraw on every change."""
    return LiveView(compute, draw, controls)


class Scrubbable:
    """A kernel-free interactive figure: PNG frames for every combination of control values."""

    def __init__(self, compute, draw, controls, dpi: int = 80, colors: int = 64, progress=None):
        self.controls = list(controls)
        combos = list(itertools.product(*[range(len(c.values)) for c in self.controls]))
        self.keys, frames, index = [], [], {}
        for n, combo in enumerate(combos):
            values = {c.name: c.values[i] for c, i in zip(self.controls, combo)}
            fig = draw(compute(**values))
            png = _png(fig, dpi, colors)
            plt.close(fig)
            if png not in index:                 # identical frames (e.g. a control with no effect) once
                index[png] = len(frames)
                frames.append(png)
            self.keys.append(("_".join(map(str, combo)), index[png]))
            if progress and (n + 1) % 25 == 0:
                progress(f"rendered {n + 1}/{len(combos)} frames")
        self.frames = frames
        self.uid = "scrub-" + hashlib.sha1(b"".join(frames)).hexdigest()[:12]

    def frame_for(self, **values) -> bytes:
        """The PNG frame shown for these control values (for tests)."""
        combo = "_".join(str(c.values.index(values.get(c.name, c.default))) for c in self.controls)
        return self.frames[dict(self.keys)[combo]]

    def nbytes(self) -> int:
        return len(self._repr_html_().encode())

    def __repr__(self) -> str:     # no memory address: notebooks store this text and nbval compares it
        names = ", ".join(c.name for c in self.controls)
        return f"<Scrubbable figure over ({names}): {len(self.keys)} combinations, {len(self.frames)} frames>"

    def _repr_html_(self) -> str:
        parts = []
        for i, c in enumerate(self.controls):
            start = c.values.index(c.default)
            if c.numeric:
                parts.append(
                    f'<label>{html.escape(c.label)} <input type="range" min="0" max="{len(c.values) - 1}" '
                    f'step="1" value="{start}" data-i="{i}" aria-label="{html.escape(c.label)}" disabled>'
                    f' <output>{html.escape(c.text(c.default))}</output></label>')
            else:
                options = "".join(f'<option value="{j}"{" selected" if j == start else ""}>'
                                  f"{html.escape(c.text(v))}</option>" for j, v in enumerate(c.values))
                parts.append(f'<label>{html.escape(c.label)} <select data-i="{i}" disabled>{options}</select>'
                             '</label>')
        labels = [[c.text(v) for v in c.values] for c in self.controls]
        data = {"frames": [base64.b64encode(f).decode() for f in self.frames], "keys": dict(self.keys),
                "labels": labels}
        start = "_".join(str(c.values.index(c.default)) for c in self.controls)
        first = data["frames"][dict(self.keys)[start]]
        return (
            f'<div class="rnn-scrub" id="{self.uid}">'
            f'<div class="rnn-scrub-controls" style="display:flex;flex-wrap:wrap;gap:0.4em 1.2em;'
            f'margin-bottom:0.4em">{"".join(parts)}</div>'
            f'<img style="max-width:100%;height:auto" alt="interactive figure; move the controls above" '
            f'src="data:image/png;base64,{first}">'
            f'<p class="rnn-scrub-note" style="font-size:smaller">{_NOTE}</p>'
            f'<script type="application/json">{json.dumps(data)}</script>'
            f"<script>{_SCRIPT.replace('UID', self.uid)}</script></div>")


def scrubbable(compute, draw, controls, **kwargs) -> Scrubbable:
    """Precompute ``draw(compute(...))`` over every combination of control values (see ``Scrubbable``)."""
    return Scrubbable(compute, draw, controls, **kwargs)


# The controls start disabled and this note is shown; the script enables them and removes the note. Where
# scripts do not run (a notebook JupyterLab does not trust yet strips them), the reader sees greyed-out
# controls and the note, never a control that moves without effect.
_NOTE = ("The controls above need JavaScript: in Jupyter, run this cell (or trust the notebook) to "
         "enable them.")

_SCRIPT = """(function () {
  var here = document.currentScript;
  var root = (here && here.closest(".rnn-scrub")) || document.getElementById("UID");
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var inputs = root.querySelectorAll("[data-i]"), img = root.querySelector("img");
  function show() {
    var key = [];
    inputs.forEach(function (el) {
      key[+el.dataset.i] = el.value;
      var out = el.parentNode.querySelector("output");
      if (out) { out.textContent = data.labels[+el.dataset.i][+el.value]; }
    });
    img.src = "data:image/png;base64," + data.frames[data.keys[key.join("_")]];
  }
  inputs.forEach(function (el) {
    el.disabled = false;
    el.addEventListener("input", show);
    el.addEventListener("change", show);
  });
  var note = root.querySelector(".rnn-scrub-note");
  if (note) { note.remove(); }
})();"""


def _png(fig, dpi: int, colors: int) -> bytes:
    """The figure as a palette PNG: line art loses nothing visible at 64 colours and shrinks ~3x."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    image = image.quantize(colors=colors, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _check_names(controls, values) -> None:
    names = {c.name for c in controls}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"expected control names among {sorted(names)}, got {sorted(unknown)}")
