"""Compute once, show three ways: a static figure, a live ipywidgets view, a kernel-free scrubber.

An explorer is three things: ``compute(**values) -> result`` (pure, tested elsewhere),
``draw(result) -> Figure`` (a builder from ``plots``), and a list of ``Control``s, each a keyword
argument of ``compute`` with the finite list of values a reader may choose from.

- ``figure_at_defaults(...)``: the figure at the controls' defaults, the printed book's view.
- ``widget_explorer(...)``: ipywidgets sliders and menus that recompute and redraw (Jupyter, Binder).
  A figure drawn as a ``plots.UpdatableFigure`` is updated in place: only the artists that depend on
  the result are redrawn over a cached background, so a move of a slider costs well under 200 ms.
- ``sprite_explorer(...)``: the same two calls evaluated over every combination of the controls' values,
  drawn as tiles of one PNG image (the *sprite*), with HTML controls whose few lines of JavaScript show
  one tile at a time. It needs no kernel and no network, so it works in the static HTML book.

Because a control only offers the listed values, a reader cannot set a value outside the range the
chapter has checked.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import itertools
import json
import math
from dataclasses import dataclass, fields, is_dataclass

import matplotlib.pyplot as plt
import numpy as np

from .plots.updatable import UpdatableFigure


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


def figure_at_defaults(compute, draw, controls, **overrides):
    """The figure at the controls' defaults (or at ``overrides``): the printed book's view."""
    _check_explorer(compute, draw, controls)
    _check_names(controls, overrides)
    return draw(compute(**(defaults(controls) | overrides)))


class WidgetExplorer:
    """The ipywidgets view: ``widget`` to display, ``controls`` by name, the latest ``result``/``figure``.

    The figure is shown as a PNG image inside an ``Output`` widget. When ``draw`` returns a
    ``plots.UpdatableFigure``, a change of a control updates that figure's artists in place and renders
    only them (``UpdatableFigure.png``); any other figure is drawn again from scratch.
    """

    def __init__(self, compute, draw, controls):
        import ipywidgets as w

        _check_explorer(compute, draw, controls)
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
        return f"<WidgetExplorer with controls {list(self.controls)}>"

    def values(self) -> dict:
        return {name: widget.value for name, widget in self.controls.items()}

    def update(self, change=None) -> None:
        """Recompute at the controls' values and show the new figure (in place where it can be)."""
        self.result = self._compute(**self.values())
        if not (isinstance(self.figure, UpdatableFigure) and self.figure.refresh(self.result)):
            if self.figure is not None:
                plt.close(self.figure)
            self.figure = self._draw(self.result)
            plt.close(self.figure)      # shown through the Output widget only, not again by the backend
        png = self.figure.png() if isinstance(self.figure, UpdatableFigure) else _png(self.figure)
        # the Output widget's outputs set at once: no clear-then-display flicker, and no kernel needed
        self.output.outputs = ({"output_type": "display_data", "metadata": {},
                                "data": {"image/png": base64.b64encode(png).decode(),
                                         "text/plain": "<the explorer's figure, as a PNG image>"}},)

    def _ipython_display_(self):
        from IPython.display import display

        # A saved notebook keeps no widget state, so a front end that opens it before the cell runs
        # shows the text instead of the widget: make that text say what to do.
        bundle = self.widget._repr_mimebundle_()
        labels = ", ".join(w.description for w in self.controls.values())
        bundle["text/plain"] = f"[live explorer with controls: {labels}; run this cell to show them]"
        display(bundle, raw=True)


def widget_explorer(compute, draw, controls) -> WidgetExplorer:
    """ipywidgets sliders (numbers) and menus (names) that recompute and redraw on every change."""
    return WidgetExplorer(compute, draw, controls)


class Scrubbable:
    """A kernel-free interactive figure: one picture for every combination of control values.

    The pictures are tiles of one PNG image, the *sprite*, displayed as an ordinary image output; the
    controls are a second, HTML output whose script shows one tile of the sprite at a time. The HTML
    holds no pixels: it names the controls, the tile for each combination, and a ``fingerprint`` of the
    computed results (every float rounded to 3 significant digits), so a stored notebook output that
    nbval compares depends on what the explorer computes, not on how a CPU rasterises it. (nbval does not
    compare PNG images; the rounding keeps differences in the last bits of a float from reaching it.)
    Where the script does not run, the reader sees the whole sprite and disabled controls with a note.
    """

    def __init__(self, compute, draw, controls, dpi: int = 80, colors: int = 64, progress=None,
                 caption: str = ""):
        _check_explorer(compute, draw, controls)
        if not isinstance(caption, str):
            raise TypeError(f"caption: expected a str, got {type(caption).__name__}")
        _check_int("dpi", dpi, 10, 600)
        _check_int("colors", colors, 2, 256)
        if progress is not None and not callable(progress):
            raise TypeError(f"progress: expected a function of one str or None, got "
                            f"{type(progress).__name__}")
        self.controls, self.caption = list(controls), caption
        combos = list(itertools.product(*[range(len(c.values)) for c in self.controls]))
        self.keys, index, prints, results = [], {}, [], []
        for combo in combos:
            values = {c.name: c.values[i] for c, i in zip(self.controls, combo)}
            result = compute(**values)
            fp = fingerprint(result)
            if fp not in index:                  # identical results (a control with no effect) drawn once
                index[fp] = len(prints)
                prints.append(fp)
                results.append(result)
            self.keys.append(("_".join(map(str, combo)), index[fp]))
        layout = "|".join(prints + [k for k, _ in self.keys])
        self.fingerprint = hashlib.sha1(layout.encode()).hexdigest()[:12]
        self.uid = "scrub-" + self.fingerprint
        tiles = []
        for n, result in enumerate(results):
            fig = draw(result)
            tiles.append(_rgb(fig, dpi))
            plt.close(fig)
            if progress and (n + 1) % 25 == 0:
                progress(f"rendered {n + 1}/{len(results)} frames")
        self.tile = tiles[0].shape[1], tiles[0].shape[0]           # (width, height) in pixels
        self.columns = max(1, math.ceil(math.sqrt(len(tiles) * self.tile[1] / self.tile[0])))
        self.sprite = _sprite(tiles, self.columns, colors)
        self.count = len(tiles)

    @functools.cached_property
    def frames(self) -> list:
        """Each distinct picture as PNG bytes, cut from the sprite (for tests; the page uses the sprite)."""
        from PIL import Image

        sheet, (w, h) = Image.open(io.BytesIO(self.sprite)), self.tile
        frames = []
        for i in range(self.count):
            r, c = divmod(i, self.columns)
            out = io.BytesIO()
            sheet.crop((c * w, r * h, (c + 1) * w, (r + 1) * h)).save(out, format="PNG")
            frames.append(out.getvalue())
        return frames

    def frame_for(self, **values) -> bytes:
        """The picture (PNG bytes) shown for these control values (for tests)."""
        _check_names(self.controls, values)
        for c in self.controls:
            if c.name in values and values[c.name] not in c.values:
                raise ValueError(f"{c.name}: expected one of {list(c.values)}, got {values[c.name]!r}")
        combo = "_".join(str(c.values.index(values.get(c.name, c.default))) for c in self.controls)
        return self.frames[dict(self.keys)[combo]]

    def nbytes(self) -> int:
        """Bytes a page stores for this explorer: the sprite PNG and the controls' HTML."""
        return len(self.sprite) + len(self._repr_html_().encode())

    def __repr__(self) -> str:     # no memory address: notebooks store this text and nbval compares it
        names = ", ".join(c.name for c in self.controls)
        return f"<Scrubbable figure over ({names}): {len(self.keys)} combinations, {self.count} frames>"

    def _ipython_display_(self):
        from IPython.display import display

        w, h = self.tile
        rows = math.ceil(self.count / self.columns)
        display({"image/png": base64.b64encode(self.sprite).decode(),
                 "text/plain": f"<all {self.count} frames of the explorer, {self.columns} x {rows} "
                               f"tiles of {w} x {h} px>"}, raw=True)
        display({"text/html": self._repr_html_(), "text/plain": repr(self)}, raw=True)

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
        data = {"keys": dict(self.keys), "labels": [[c.text(v) for v in c.values] for c in self.controls],
                "columns": self.columns, "tile": list(self.tile), "frames": self.count}
        return (
            f'<div class="rnn-scrub" id="{self.uid}" data-fingerprint="{self.fingerprint}">'
            f'<div class="rnn-scrub-controls" style="display:flex;flex-wrap:wrap;gap:0.4em 1.2em;'
            f'margin-bottom:0.4em">{"".join(parts)}</div>'
            f'<p class="rnn-scrub-note" style="font-size:smaller">{_NOTE}</p>'
            + (f'<p class="rnn-scrub-caption" style="font-size:smaller">{html.escape(self.caption)}</p>'
               if self.caption else "") +
            f'<script type="application/json">{json.dumps(data)}</script>'
            f"<script>{_SCRIPT.replace('UID', self.uid)}</script></div>")


def sprite_explorer(compute, draw, controls, **kwargs) -> Scrubbable:
    """The kernel-free explorer: ``draw(compute(...))`` precomputed over every combination of control
    values, as tiles of one PNG sprite with HTML controls (see ``Scrubbable``)."""
    return Scrubbable(compute, draw, controls, **kwargs)


def fingerprint(result, digits: int = 3) -> str:
    """A hash of ``result`` (nested dicts, NamedTuples, dataclasses, lists, arrays, numbers, strings) with
    floats to ``digits`` significant digits.

    A NamedTuple or dataclass counts as the dict of its fields, so a typed result has the fingerprint of
    the dict it replaced. Two runs that differ only in the last bits of their floats get the same
    fingerprint (unless a value sits within about 1e-13 of a rounding boundary, which is improbable), a
    changed computation another.
    """
    _check_int("digits", digits, 1, 17)

    def canon(x):
        if isinstance(x, tuple) and hasattr(x, "_asdict"):          # a NamedTuple
            x = x._asdict()
        elif is_dataclass(x) and not isinstance(x, type):
            x = {f.name: getattr(x, f.name) for f in fields(x)}
        if isinstance(x, dict):
            return "{" + ",".join(f"{k}:{canon(x[k])}" for k in sorted(x, key=str)) + "}"
        if isinstance(x, str):
            return repr(x)
        if isinstance(x, list | tuple):
            return "[" + ",".join(canon(v) for v in x) + "]"
        arr = np.asarray(x)
        if arr.dtype.kind in "fc":
            flat = np.real(arr).ravel().astype(float)
            text = ",".join(np.format_float_scientific(v, precision=digits - 1, unique=False)
                            if np.isfinite(v) else str(v) for v in flat)
            return f"f{arr.shape}[{text}]"
        if arr.dtype.kind in "biu":
            return f"i{arr.shape}{arr.ravel().tolist()}"
        if arr.dtype.kind == "U":                                    # an array of labels
            return f"s{arr.shape}{arr.ravel().tolist()}"
        raise TypeError(f"result: expected numbers, arrays, strings, lists or dicts, got {type(x).__name__}")
    return hashlib.sha1(canon(result).encode()).hexdigest()[:16]


# The controls start disabled and this note is shown; the script enables them, removes the note, hides the
# sprite (the image output before this one) and shows one tile of it above the controls. Where scripts do
# not run (a notebook JupyterLab does not trust yet strips them), the reader sees the whole sprite, greyed-
# out controls and the note, never a control that moves without effect.
_NOTE = ("The controls above need JavaScript: in Jupyter, run this cell (or trust the notebook) to "
         "enable them. Until then the image above shows every frame at once.")

_SCRIPT = """(function () {
  var here = document.currentScript;
  var root = (here && here.closest(".rnn-scrub")) || document.getElementById("UID");
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  function findSprite() {          // the last image before the controls, in the same cell's outputs
    var box = root.closest(".cell_output") || root.closest(".jp-OutputArea") ||
      root.closest(".output_wrapper") || root.parentNode;     // Jupyter Book, JupyterLab/Notebook 7, classic
    var found = null;
    box.querySelectorAll("img").forEach(function (im) {
      if (!root.contains(im) && (im.compareDocumentPosition(root) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        found = im;
      }
    });
    return found;
  }
  var tries = 0;
  (function wait() {                // a front end may attach the image output a moment later
    var sprite = findSprite();
    if (sprite) { start(sprite); } else if (++tries < 100) { setTimeout(wait, 50); }
  })();
  function start(sprite) {
    var w = data.tile[0], h = data.tile[1], cols = data.columns, rows = Math.ceil(data.frames / cols);
    var view = document.createElement("div");
    view.className = "rnn-scrub-view";
    view.style.cssText = "position:relative;overflow:hidden;width:100%;max-width:" + w + "px;" +
      "aspect-ratio:" + w + " / " + h + ";margin-bottom:0.4em";
    var img = document.createElement("img");
    img.src = sprite.src;
    img.alt = "interactive figure; move the controls below it";
    img.style.cssText = "position:absolute;max-width:none;height:auto;width:" + (100 * cols) + "%";
    view.appendChild(img);
    root.insertBefore(view, root.firstChild);
    sprite.style.display = "none";
      var inputs = root.querySelectorAll("[data-i]");
    function show() {
      var key = [];
      inputs.forEach(function (el) {
        key[+el.dataset.i] = el.value;
        var out = el.parentNode.querySelector("output");
        if (out) { out.textContent = data.labels[+el.dataset.i][+el.value]; }
      });
      var k = data.keys[key.join("_")];
      img.style.left = (-100 * (k % cols)) + "%";
      img.style.top = (-100 * Math.floor(k / cols)) + "%";
      img.dataset.frame = k;
      root.dataset.frame = k;
    }
    show();
    inputs.forEach(function (el) {
      el.disabled = false;
      el.addEventListener("input", show);
      el.addEventListener("change", show);
    });
    var note = root.querySelector(".rnn-scrub-note");
    if (note) { note.remove(); }
  }
})();"""


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _rgb(fig, dpi: int) -> np.ndarray:
    """The figure rendered at ``dpi`` as an (H, W, 3) uint8 array."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _sprite(tiles, columns: int, colors: int) -> bytes:
    """Tiles of equal size in a grid of ``columns``, as one palette PNG (line art loses nothing visible at
    64 colours and shrinks about threefold)."""
    from PIL import Image

    h, w = tiles[0].shape[:2]
    if any(t.shape != tiles[0].shape for t in tiles):
        raise ValueError(f"draw: expected every frame to have the size of the first ({w} x {h} px), got "
                         f"{sorted({(t.shape[1], t.shape[0]) for t in tiles})}")
    rows = math.ceil(len(tiles) / columns)
    sheet = np.full((rows * h, columns * w, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = tile
    image = Image.fromarray(sheet).quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                                            dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _check_names(controls, values) -> None:
    names = {c.name for c in controls}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"expected control names among {sorted(names)}, got {sorted(unknown)}")


def _check_explorer(compute, draw, controls) -> None:
    for name, f in (("compute", compute), ("draw", draw)):
        if not callable(f):
            raise TypeError(f"{name}: expected a function, got {type(f).__name__}")
    if isinstance(controls, str | bytes) or not hasattr(controls, "__iter__"):
        raise TypeError(f"controls: expected a sequence of Control, got {type(controls).__name__}")
    bad = [type(c).__name__ for c in controls if not isinstance(c, Control)]
    if bad or not list(controls):
        raise TypeError(f"controls: expected a non-empty sequence of Control, got {bad or 'nothing'}")


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}: expected an int from {low} to {high}, got {value}")
