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
import io

import matplotlib.pyplot as plt

from .controls import Control, check_explorer, check_names, defaults, fingerprint
from .plots.updatable import UpdatableFigure
from .scrubbable import Scrubbable

__all__ = ["Control", "Scrubbable", "WidgetExplorer", "defaults", "figure_at_defaults", "fingerprint",
           "sprite_explorer", "widget_explorer"]


def figure_at_defaults(compute, draw, controls, **overrides):
    """The figure at the controls' defaults (or at ``overrides``): the printed book's view."""
    check_explorer(compute, draw, controls)
    check_names(controls, overrides)
    return draw(compute(**(defaults(controls) | overrides)))


class WidgetExplorer:
    """The ipywidgets view: ``widget`` to display, ``controls`` by name, the latest ``result``/``figure``.

    The figure is shown as a PNG image inside an ``Output`` widget. When ``draw`` returns a
    ``plots.UpdatableFigure``, a change of a control updates that figure's artists in place and renders
    only them (``UpdatableFigure.png``); any other figure is drawn again from scratch.
    """

    def __init__(self, compute, draw, controls):
        import ipywidgets as w

        check_explorer(compute, draw, controls)
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


def sprite_explorer(compute, draw, controls, **kwargs) -> Scrubbable:
    """The kernel-free explorer: ``draw(compute(...))`` precomputed over every combination of control
    values, as tiles of one PNG sprite with HTML controls (see ``Scrubbable``)."""
    return Scrubbable(compute, draw, controls, **kwargs)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
