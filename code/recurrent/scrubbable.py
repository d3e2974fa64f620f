"""The kernel-free explorer: every combination of control values drawn as tiles of one PNG sprite,
with HTML controls whose few lines of JavaScript show one tile at a time (``Scrubbable``)."""
from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import itertools
import json
import math

import matplotlib.pyplot as plt
import numpy as np

from .controls import check_explorer, check_int, check_names, fingerprint
from .plots.updatable import UpdatableFigure


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
        check_explorer(compute, draw, controls)
        if not isinstance(caption, str):
            raise TypeError(f"caption: expected a str, got {type(caption).__name__}")
        check_int("dpi", dpi, 10, 600)
        check_int("colors", colors, 2, 256)
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
        tiles, fig = [], None
        for n, result in enumerate(results):
            # an UpdatableFigure takes the next result in place and renders only what changed
            if not (isinstance(fig, UpdatableFigure) and fig.refresh(result)):
                if fig is not None:
                    plt.close(fig)
                fig = draw(result)
                if isinstance(fig, UpdatableFigure):
                    fig.set_dpi(dpi)
            tiles.append(fig.rgb() if isinstance(fig, UpdatableFigure) else _rgb(fig, dpi))
            if progress and (n + 1) % 25 == 0:
                progress(f"rendered {n + 1}/{len(results)} frames")
        plt.close(fig)
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
        check_names(self.controls, values)
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
