"""Results that hold on every reader's machine: experiments over seeds, claims checked where they are made.

numpy picks its tanh, exp and summation kernels at run time (AVX-512, AVX2, arm64 NEON ...), and BLAS
picks its matrix kernels, so the last bits of a float differ from one CPU to the next. A deterministic
computation inherits differences of about 1e-15 relative, harmless at four printed digits. A training
run amplifies them until, a few hundred steps later, it is effectively a different draw: the same
seeded run gave an accuracy of 0.263 on one CPU and 0.399 on another. Two rules follow.

- An experiment whose outcome the text interprets runs over several ``SEEDS``; its figure shows every
  seed, and the text relies only on what holds for all of them.
- What such an experiment prints is the claim, checked (``check``), not the chaotic numbers themselves:
  ``check`` raises ``ClaimFailed`` when a value leaves the claimed range, so a reader's run checks the
  claim too, and its printed line is the same on every CPU as long as the claim holds.

Numbers from deterministic computations (no training) may be printed at up to four significant digits.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, describe

SEEDS = (0, 1, 2, 3, 4)


class ClaimFailed(AssertionError):
    """A claim of the book did not hold in this run; the message gives every value."""


def over_seeds(run: Callable, seeds: Iterable[int] = SEEDS, label: str = "", log=print) -> list:
    """``[run(seed) for seed in seeds]``, reporting progress as ``label: seed i/S`` (no numbers that vary).

    ``log=None`` runs silently.
    """
    if not callable(run):
        raise TypeError(f"run: expected a function of one seed, got {type(run).__name__}")
    if not isinstance(label, str):
        raise TypeError(f"label: expected a str, got {type(label).__name__}")
    if log is not None and not callable(log):
        raise TypeError(f"log: expected a function of one str (print) or None, got {type(log).__name__}")
    seeds = _seeds(seeds)
    results = []
    for i, seed in enumerate(seeds):
        results.append(run(seed))
        if log is not None and label:
            log(f"{label}: seed {i + 1}/{len(seeds)} done")
    return results


@dataclass(frozen=True, eq=False)
class Spread:
    """``mean``, ``min`` and ``max`` over seeds, each of the shape of one seed's values."""

    mean: np.ndarray
    min: np.ndarray
    max: np.ndarray


def spread(values, axis: int = 0) -> Spread:
    """Mean, minimum and maximum over seeds (``axis``) of ``values``: (S, ...) -> each of shape (...)."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis: expected an int, got {type(axis).__name__}")
    values = as_float_array("values", values, allow_empty=True)
    if not -values.ndim <= axis < values.ndim or values.ndim == 0:
        raise ValueError(f"axis: expected an axis of values (shape {values.shape}), got {axis}")
    if values.shape[axis] == 0:
        raise ValueError(f"values: expected at least one seed along axis {axis}, got shape {values.shape}")
    return Spread(mean=values.mean(axis), min=values.min(axis), max=values.max(axis))


def check(statement: str, values, above: float | None = None, below: float | None = None,
          of: str = "seeds") -> str:
    """Assert that every value (one per seed, or any array) lies strictly above ``above`` and below ``below``.

    Returns the line ``"✓ <statement> (all N <of>)"`` (without the count for a single value), which
    depends only on the claim, not on the values;
    raises ``ClaimFailed`` listing the values when one of them breaks the claim.
    """
    if not isinstance(statement, str) or not statement:
        raise TypeError(f"statement: expected a non-empty str, got {statement!r}")
    if above is None and below is None:
        raise ValueError("above, below: expected a bound, got neither")
    for name, bound in (("above", above), ("below", below)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, numbers.Real)):
            raise TypeError(f"{name}: expected a real number or None, got {describe(bound)}")
        if bound is not None and not np.isfinite(bound):
            raise ValueError(f"{name}: expected a finite number or None, got {bound}")
    if above is not None and below is not None and not above < below:
        raise ValueError(f"above, below: expected above < below, got above={above}, below={below}")
    if not isinstance(of, str) or not of:
        raise TypeError(f"of: expected a non-empty str (what the values are), got {of!r}")
    arr = _real_array(values).ravel()
    if arr.size == 0:
        raise ValueError(f"values: expected at least one value, got shape {np.shape(values)}")
    if not np.isfinite(arr).all():     # a run that diverged supports no claim, and says so by name
        raise ValueError(f"values: expected finite values (a run that overflowed or diverged), got "
                         f"{np.array2string(arr, precision=4)}")
    ok = np.ones(arr.size, bool)
    if above is not None:
        ok &= arr > above
    if below is not None:
        ok &= arr < below
    if not ok.all():
        bounds = " and ".join(f"{n} {b:g}" for n, b in (("above", above), ("below", below)) if b is not None)
        raise ClaimFailed(f"the claim '{statement}' does not hold: expected every value {bounds}, got "
                          f"{np.array2string(arr, precision=4)}")
    return f"✓ {statement}" if arr.size == 1 else f"✓ {statement} (all {arr.size} {of})"


def _real_array(values) -> np.ndarray:
    """``values`` as a float array; NaN and inf are kept here and refused by ``check``."""
    arr = None
    if values is not None and not isinstance(values, dict | str | bytes):
        try:
            arr = np.asarray(values)
        except ValueError:                       # ragged nested lists
            arr = None
    if arr is None or arr.dtype.kind not in "iuf":
        shown = describe(values) if arr is None or arr.dtype.kind == "O" else f"an array of dtype {arr.dtype}"
        raise TypeError(f"values: expected real numbers (one per seed, or any array), got {shown}")
    return arr.astype(float)


def _seeds(seeds) -> tuple:
    if isinstance(seeds, str | bytes) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds: expected a sequence of integers >= 0, got {type(seeds).__name__}")
    seeds = tuple(seeds)
    if not seeds or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
                            for s in seeds):
        raise ValueError(f"seeds: expected a non-empty sequence of integers >= 0, got {seeds!r}")
    return seeds
