"""The general figures every chapter uses: curves y(x), experiments over seeds, panels of either.

- ``curves``: several curves y(x), on linear, log-y or log-log axes, with optional reference lines.
- ``seeds``: an experiment over seeds, each label an (S, P) array: every seed as points with the mean
  as a line (``show="points"``), every seed as a thin line with the median thick (``"lines"``), or
  every seed as a thin line inside its min-max band (``"band"``).
- ``panels``: either of them on panels side by side that share the y axis.
- ``finish``: reference lines, scales, limits, labels, title and legend of one axes.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .style import COLORS, CYCLE, REFERENCE_STYLES, array, mapping, number, text

SCALES = {None: (), "y": ("y",), "xy": ("x", "y")}
SHOWS = ("points", "lines", "band")


def finish(ax, title: str, xlabel: str, ylabel: str, log: str | None = None, ylim=None,
           reference: dict | None = None, legend: bool = True):
    """Reference lines (name -> y value, grey), log scales (``log``: None, "y" or "xy"), y limits, labels,
    title and legend of ``ax``. Returns the figure."""
    if not isinstance(ax, plt.Axes):
        raise TypeError(f"ax: expected a matplotlib Axes, got {type(ax).__name__}")
    if log is not None and not isinstance(log, str):
        raise TypeError(f"log: expected None, 'y' or 'xy', got {type(log).__name__}")
    if log not in SCALES:
        raise ValueError(f"log: expected one of {list(SCALES)}, got {log!r}")
    if not isinstance(legend, bool):
        raise TypeError(f"legend: expected True or False, got {type(legend).__name__}")
    for j, (name, value) in enumerate(mapping("reference", reference, allow_none=True).items()):
        ax.axhline(number(f"reference[{name!r}]", value), ls=REFERENCE_STYLES[j % 3], lw=1,
                   color=COLORS["grey"], label=name)
    for axis in SCALES[log]:
        getattr(ax, f"set_{axis}scale")("log")
    if ylim is not None:
        low, high = array("ylim", ylim, finite=True)
        ax.set_ylim(low, high)
    ax.set(title=text("title", title), xlabel=text("xlabel", xlabel), ylabel=text("ylabel", ylabel))
    if legend:
        ax.legend(fontsize=8, loc="best")
    return ax.figure


def _axes(ax, figsize=None):
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
    if not isinstance(ax, plt.Axes):
        raise TypeError(f"ax: expected a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def curves(x, ys: dict, title: str, xlabel: str, ylabel: str, log: str | None = None,
           reference: dict | None = None, styles: dict | None = None, ylim=None, ax=None):
    """Several curves y(x): ``x`` (P,), ``ys`` maps a label to a (P,) array.

    ``log``: None (linear), "y" (for quantities that span decades) or "xy" (power laws such as 1/B);
    ``styles`` maps a label to a matplotlib format ("o-", "--"; default "-"); ``reference`` adds grey
    horizontal lines (name -> value).
    """
    x, ax = array("x", x, finite=True), _axes(ax)
    styles = mapping("styles", styles, allow_none=True)
    for name, y in mapping("ys", ys).items():
        y = array(f"ys[{name!r}]", y)
        if y.shape != x.shape:
            raise ValueError(f"ys[{name!r}], x: expected shape {x.shape} like x, got {y.shape}")
        ax.plot(x, y, styles.get(name, "-"), ms=4, label=name)
    return finish(ax, title, xlabel, ylabel, log, ylim, reference)


def seeds(x, runs: dict, title: str, xlabel: str, ylabel: str, show: str = "points", log: bool = False,
          reference: dict | None = None, styles: dict | None = None, ylim=None, ax=None):
    """An experiment over seeds: ``x`` the P settings (numbers, or labels for ``show="points"``), ``runs``
    maps a label to an (S, P) array, one row per seed.

    ``show="points"``: every seed as a point, the mean over seeds as a line (geometric on log axes, where
    it is the typical value); points of different labels are offset sideways so as not to hide each other.
    ``"lines"``: every seed as a thin line, the median as a thick one (NaN where a seed has no value);
    the median is what a claim about the typical run is about, and one seed that went its own way does
    not pull it. ``"band"``: every seed as a thin line inside the shaded min-max band (on a log axis
    values that are exactly zero are left out). ``styles``: label -> line format; ``reference``: grey
    horizontal lines; ``log``: a logarithmic y axis.
    """
    if not isinstance(show, str):
        raise TypeError(f"show: expected one of {list(SHOWS)}, got {type(show).__name__}")
    if show not in SHOWS:
        raise ValueError(f"show: expected one of {list(SHOWS)}, got {show!r}")
    if not isinstance(log, bool):
        raise TypeError(f"log: expected a bool, got {type(log).__name__}")
    ax = _axes(ax, figsize=(7.0, 3.6))
    styles = mapping("styles", styles, allow_none=True)
    if x is None or isinstance(x, dict | str | bytes):
        raise TypeError(f"x: expected the settings (numbers or labels), got {type(x).__name__}")
    if np.ndim(x) != 1:
        raise ValueError(f"x: expected a 1-d sequence of settings, got shape {np.shape(x)}")
    if np.asarray(x).dtype.kind == "b":
        raise TypeError("x: expected the settings (numbers or labels), got a bool array")
    given = list(x) if isinstance(x, list | tuple) else list(np.atleast_1d(x))
    labels = [str(v) for v in given]
    numeric = all(isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
                  for v in given)
    if not numeric and show != "points":
        raise TypeError(f"x: expected numbers for show={show!r}, got {labels}")
    pos = array("x", x, finite=True) if numeric else np.arange(len(labels), dtype=float)
    runs = mapping("runs", runs)
    step = np.min(np.diff(np.sort(pos))) if len(pos) > 1 else 1.0
    for i, (name, values) in enumerate(runs.items()):
        values = np.atleast_2d(array(f"runs[{name!r}]", values, ndim=(1, 2)))
        if values.shape[1] != len(pos):
            raise ValueError(f"runs[{name!r}], x: expected shape (S, len(x)) = (S, {len(pos)}), got "
                             f"{values.shape}")
        color, style = CYCLE[i % len(CYCLE)], styles.get(name, "-")
        if show == "points":
            shift = (i - (len(runs) - 1) / 2) * 0.06 * step
            for row in values:
                ax.plot(pos + shift, row, "o", ms=3.5, alpha=0.55, color=color, mec="none")
            mean, kind = ((np.exp(np.log(values).mean(0)), "geometric mean") if log
                          else (values.mean(0), "mean"))
            ax.plot(pos + shift, mean, style, lw=1.6, color=color,
                    label=f"{name} (line: {kind} of {len(values)} seeds)")
        elif show == "lines":
            for row in values:
                ax.plot(pos, row, style, lw=0.7, alpha=0.35, color=color)
            ax.plot(pos, np.median(values, axis=0), style, lw=1.8, color=color,
                    label=f"{name} (median of {len(values)} seeds)")
        else:
            shown = np.where(values > 0, values, np.nan) if log else values
            for row in shown:
                ax.plot(pos, row, style, lw=0.7, alpha=0.8, color=color)
            some = ~np.all(np.isnan(shown), axis=0)
            ax.fill_between(pos[some], np.nanmin(shown[:, some], axis=0), np.nanmax(shown[:, some], axis=0),
                            color=color, alpha=0.2, lw=0, label=f"{name} ({len(values)} seeds)")
    if not numeric:
        ax.set_xticks(pos, labels)
    return finish(ax, title, xlabel, ylabel, "y" if log else None, ylim, reference)


def panels(x, panels: dict, title: str, xlabel: str, ylabel: str, show: str | None = None,
           window: int | None = None, log: bool = True, reference: dict | None = None, ylim=None):
    """Panels side by side sharing the y axis, one per setting: ``panels`` maps a panel title to the
    ``ys`` of ``curves`` (``show=None``) or to the ``runs`` of ``seeds`` (``show`` one of its options).

    ``window``: each curve (each seed's curve) is drawn as its moving average over that many steps,
    plotted at the window's last step. The legend is in the last panel only.
    """
    panels = mapping("panels", panels)
    if not isinstance(log, bool):
        raise TypeError(f"log: expected a bool, got {type(log).__name__}")
    x = array("x", x, finite=True)
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, int | np.integer):
            raise TypeError(f"window: expected an int or None, got {type(window).__name__}")
        if not 1 <= window <= len(x):
            raise ValueError(f"window: expected 1 <= window <= len(x) = {len(x)}, got {window}")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 0.8, 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    kernel = np.ones(window or 1) / (window or 1)
    shown_x = x[(window or 1) - 1:]
    for i, (ax, (name, data)) in enumerate(zip(axes, panels.items())):
        data = {label: np.array([np.convolve(row, kernel, mode="valid")
                                 for row in np.atleast_2d(array(f"panels[{name!r}][{label!r}]", v, (1, 2)))])
                for label, v in mapping(f"panels[{name!r}]", data).items()}
        if show is None:
            curves(shown_x, {label: v[0] for label, v in data.items()}, text("panels", name), xlabel,
                   ylabel if i == 0 else "", log="y" if log else None, reference=reference, ylim=ylim, ax=ax)
        else:
            seeds(shown_x, data, text("panels", name), xlabel, ylabel if i == 0 else "", show=show, log=log,
                  reference=reference, ylim=ylim, ax=ax)
        if i < len(axes) - 1:
            ax.get_legend().remove()
    fig.suptitle(text("title", title))
    return fig
