"""Figures an explorer updates in place: new data on the same artists, only those artists rendered again.

Rebuilding a figure for every move of a slider costs its construction (axes, ticks, legends) and a
full render; most of that does not change with the result. An ``UpdatableFigure`` keeps its artists:
``refresh(result)`` puts the new data on the artists that depend on the result (``set_data``,
``set_text``), and ``png()`` renders everything else once into a cached background and, after that,
only those artists over it. A static ``savefig`` (the printed book, the kernel-free sprite) draws the
figure as any other.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


class UpdatableFigure(Figure):
    """A figure with ``refresh(result) -> bool``, ``png() -> bytes`` and ``rgb() -> (H, W, 3)`` (see the
    module docstring).

    The builder that makes it (``plt.figure(FigureClass=UpdatableFigure)``) calls
    ``set_updater(update, artists)``: ``update(result)`` sets the new data on ``artists`` and returns
    False when more of the figure would have to change (axis limits, the number of points on a fixed
    axis), in which case the caller builds a new figure instead.
    """

    def set_updater(self, update, artists) -> None:
        if not callable(update):
            raise TypeError(f"update: expected a function of one result, got {type(update).__name__}")
        if isinstance(artists, str | bytes | dict) or not hasattr(artists, "__iter__"):
            raise TypeError(f"artists: expected a list of matplotlib artists, got {type(artists).__name__}")
        artists = list(artists)
        if not all(isinstance(a, Artist) for a in artists):
            raise TypeError(f"artists: expected matplotlib artists only, got "
                            f"{sorted({type(a).__name__ for a in artists if not isinstance(a, Artist)})}")
        self._update, self._artists, self._background = update, artists, None

    def refresh(self, result) -> bool:
        """Put ``result`` on the figure's artists; False if the figure must be built again instead."""
        if not hasattr(self, "_update"):
            return False
        return bool(self._update(result))

    def png(self) -> bytes:
        """The figure as PNG bytes at its dpi, rendering only the changing artists once cached."""
        if not hasattr(self, "_update"):
            buf = io.BytesIO()
            self.savefig(buf, format="png")
            return buf.getvalue()
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(self.rgb()).save(out, format="png", compress_level=1)
        return out.getvalue()

    def rgb(self) -> np.ndarray:
        """The figure at its dpi as an (H, W, 3) uint8 array (only the changing artists, once cached)."""
        if not isinstance(self.canvas, FigureCanvasAgg):
            FigureCanvasAgg(self)
        canvas = self.canvas
        if self._background is None or self._background[1] != (canvas.get_width_height(), self.dpi):
            for a in self._artists:
                a.set_animated(True)
            try:
                canvas.draw()
            finally:
                for a in self._artists:
                    a.set_animated(False)
            self._background = canvas.copy_from_bbox(self.bbox), (canvas.get_width_height(), self.dpi)
        else:
            canvas.restore_region(self._background[0])
        for a in self._artists:
            self.draw_artist(a)
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()
