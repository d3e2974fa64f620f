"""The house style: colours, rcParams, plain-text log tick labels, and the checks every builder shares."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLORS = {"x": "#4C72B0", "h": "#DD8452", "o": "#55A868", "loss": "#C44E52", "grey": "#8C8C8C",
          "accent": "#8172B3"}
CYCLE = [COLORS[c] for c in ("x", "h", "o", "loss", "accent")]
REFERENCE_STYLES = ("--", ":", "-.")


def use_style() -> None:
    """Apply the book's matplotlib style (call once per notebook)."""
    plt.rcParams.update({
        "figure.figsize": (7.0, 3.6), "figure.dpi": 100, "savefig.dpi": 100,
        "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.3, "axes.prop_cycle": plt.cycler(color=CYCLE),
        "figure.constrained_layout.use": True,
    })


@plt.FuncFormatter
def plain_log_labels(value, _pos):
    """Tick labels such as 1e-20 in plain text (mathtext labels cost ~15 ms each to lay out)."""
    return f"1e{round(np.log10(value)):d}" if value > 0 else "0"


def text(name: str, value) -> str:
    """``value`` if it is a str; a TypeError naming ``name`` otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__}")
    return value


def mapping(name: str, value, allow_none: bool = False) -> dict:
    """``value`` as a non-empty dict (label -> data); None (or {}) gives {} when ``allow_none``."""
    if value is None and allow_none:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{name}: expected a dict of label -> values, got {type(value).__name__}")
    if not value and not allow_none:
        raise ValueError(f"{name}: expected at least one entry, got an empty dict")
    return value


def array(name: str, value, ndim: tuple = (1,), finite: bool = False) -> np.ndarray:
    """``value`` as a float array of one of the ranks ``ndim``. Integers and floats only (a bool, complex,
    string or object array is a TypeError); NaN and inf are allowed (not drawn) unless ``finite``."""
    arr = None
    if value is not None and not isinstance(value, dict | str | bytes):
        try:
            arr = np.asarray(value)
        except ValueError:                          # ragged nested lists
            arr = None
    if arr is None or arr.dtype.kind not in "iuf":
        got = type(value).__name__ if arr is None or arr.dtype.kind == "O" else f"a {arr.dtype} array"
        raise TypeError(f"{name}: expected an array of real numbers, got {got}")
    if arr.ndim not in ndim:
        raise ValueError(f"{name}: expected a {' or '.join(f'{d}-d' for d in ndim)} array, got shape "
                         f"{arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one value, got shape {arr.shape}")
    arr = arr.astype(float)
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite values, got {np.size(arr) - np.isfinite(arr).sum()} NaN "
                         f"or infinite entries")
    return arr


def number(name: str, value, positive: bool = False) -> float:
    """``value`` as a finite float (> 0 with ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    if not np.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name}: expected a finite number{' > 0' if positive else ''}, got {value}")
    return float(value)


def labels(name: str, value, count: int) -> list:
    """``value`` as a list of ``count`` labels (str or numbers, shown with str())."""
    if isinstance(value, str | bytes | dict) or not isinstance(value, list | tuple | np.ndarray):
        raise TypeError(f"{name}: expected a list of {count} labels, got {type(value).__name__}")
    if len(value) != count:
        raise ValueError(f"{name}: expected {count} labels, got {len(value)}")
    return [str(v) for v in value]


def fields(name: str, result, *wanted: str):
    """Check that ``result`` (a typed result of a chapter module) has the fields a figure reads."""
    missing = [f for f in wanted if not hasattr(result, f)]
    if missing:
        raise TypeError(f"{name}: expected a result with fields {', '.join(wanted)}, got "
                        f"{type(result).__name__} without {', '.join(missing)}")
    return result
