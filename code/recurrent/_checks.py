"""Input validation shared by every public helper.

Each check raises ``ValueError`` whose message names the argument, what was expected and what was
given, so that a reader who passes the wrong thing learns how to fix the call.
"""
from __future__ import annotations

import numbers

import numpy as np


def as_float_array(name: str, a, ndim: int | None = None, shape: tuple | None = None,
                   dims: str | None = None) -> np.ndarray:
    """Return ``a`` as a finite floating-point array, checking its rank and shape.

    ``shape`` may hold ``None`` for an axis of any length. ``dims`` names the axes for the message,
    for example ``"(T, B, n)"``.
    """
    arr = np.asarray(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    want = dims or (f"{ndim}-d" if ndim is not None else "")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array {want}, got shape {arr.shape}")
    if shape is not None:
        mismatch = arr.ndim != len(shape) or any(
            s is not None and s != g for s, g in zip(shape, arr.shape, strict=False))
        if mismatch:
            wanted = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name}: expected shape {want} = {wanted}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or infinite entries")
    return arr


def as_int_array(name: str, a, ndim: int, low: int, high: int, dims: str = "") -> np.ndarray:
    """Return ``a`` as an integer array of rank ``ndim`` with entries in ``[low, high)``."""
    arr = np.asarray(a)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name}: expected integer class indices, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array {dims}, got shape {arr.shape}")
    if arr.size and (arr.min() < low or arr.max() >= high):
        raise ValueError(f"{name}: expected indices in [{low}, {high}), "
                         f"got values from {arr.min()} to {arr.max()}")
    return arr


def positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, requiring ``value >= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def positive_float(name: str, value, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float that is > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a number {bound}, got {value}")
    return float(value)


def choice(name: str, value, options) -> str:
    """Return ``value`` if it is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name}: expected one of {sorted(options)}, got {value!r}")
    return value


def rng_from(seed_or_rng) -> np.random.Generator:
    """Accept an int seed or a ``numpy.random.Generator``; anything else is an error."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, numbers.Integral) and not isinstance(seed_or_rng, bool):
        return np.random.default_rng(int(seed_or_rng))
    raise ValueError(f"rng: expected an int seed or a numpy.random.Generator, got {seed_or_rng!r}")
