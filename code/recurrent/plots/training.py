"""Chapter 8's figure of measurements along training: quantities recorded at checkpoints, over seeds."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .primitives import seeds
from .style import array, mapping, text


def along_training(step, panels: dict, title: str, xlabel: str = "training step",
                   reference: dict | None = None, styles: dict | None = None):
    """Panels side by side, each with its own y axis: quantities measured at the checkpoints ``step`` (C,).

    ``panels`` maps a panel title to ``(ylabel, log, runs)``: the y label, whether the y axis is
    logarithmic, and ``runs`` mapping a label to an (S, C) array, one row per seed (drawn as
    ``seeds(..., show="lines")``: every seed thin, the median thick). ``reference`` maps a panel title
    to that panel's grey reference lines (name -> value); ``styles`` maps a label to a line format.
    Each panel's legend is below it.
    """
    step = array("step", step, finite=True)
    panels = mapping("panels", panels)
    reference = mapping("reference", reference, allow_none=True)
    for name in reference:
        if name not in panels:
            raise ValueError(f"reference: expected titles of panels {list(panels)}, got {name!r}")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels) + 0.6, 5.0))
    for ax, (name, spec) in zip(np.atleast_1d(axes), panels.items()):
        if not isinstance(spec, tuple) or len(spec) != 3:
            raise TypeError(f"panels[{name!r}]: expected a tuple (ylabel, log, runs), got "
                            f"{type(spec).__name__}")
        ylabel, log, runs = spec
        for label, values in mapping(f"panels[{name!r}] runs", runs).items():
            values = array(f"panels[{name!r}][{label!r}]", values, ndim=(2,))
            if values.shape[1] != len(step):
                raise ValueError(f"panels[{name!r}][{label!r}], step: expected shape (S, len(step)) = "
                                 f"(S, {len(step)}), got {values.shape}")
        seeds(step, runs, text("panels", name), xlabel, ylabel, show="lines", log=log,
              reference=reference.get(name), styles=styles, ax=ax)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17))   # below, not over, the data
    fig.suptitle(text("title", title))
    return fig
