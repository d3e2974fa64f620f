"""Input validation shared by every public helper.

Each check names the argument as the caller's signature spells it, says what was expected and what
was given: ``"xs: expected a float array (T, B, n), got a complex128 array of shape (5, 2, 3)"``.
A value of the wrong type (None, a string, a complex or bool array, a float where an int is meant)
raises ``TypeError``; a value of the right type that is wrong (NaN, a negative size, an id out of
range, an unknown option, a shape that does not fit) raises ``ValueError``. Nothing is converted
silently except integer arrays where floats are meant (their values are exact in float64).

The checks are on every call of the RNN, so each is a few microseconds on small arrays.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

_NOT_ARRAYS = (str, bytes, Mapping, set, frozenset)


def describe(value) -> str:
    """A short description of what was given, for the "got ..." part of a message."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (bool, numbers.Number, str)):
        return f"{type(value).__name__} {value!r}"
    return type(value).__name__


def _as_array(name: str, a, expected: str) -> np.ndarray:
    if a is None or isinstance(a, _NOT_ARRAYS) or callable(a):
        raise TypeError(f"{name}: expected {expected}, got {describe(a)}")
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as e:          # ragged nested lists
        raise ValueError(f"{name}: expected {expected}, got a ragged sequence ({e})") from None


def _check_rank(name: str, arr: np.ndarray, ndim, shape, dims, allow_empty: bool) -> None:
    want = dims or (f"{ndim}-d" if ndim is not None else "")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array {want}, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != g for s, g in zip(shape, arr.shape)):
            axes = ["any" if s is None else str(s) for s in shape]
            wanted = "(" + ", ".join(axes) + ("," if len(axes) == 1 else "") + ")"
            raise ValueError(f"{name}: expected shape {want} = {wanted}, got {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name}: expected a non-empty array {want}, got shape {arr.shape}")


def as_float_array(name: str, a, ndim: int | None = None, shape: tuple | None = None,
                   dims: str | None = None, allow_empty: bool = False) -> np.ndarray:
    """Return ``a`` as a finite, non-empty floating-point array, checking its rank and shape.

    ``shape`` may hold ``None`` for an axis of any length. ``dims`` names the axes for the message,
    for example ``"(T, B, n)"``. Integer arrays are converted to float64; bool, complex, object and
    string arrays, None, strings and mappings raise TypeError. Float arrays are returned as given
    (no copy).
    """
    arr = a if type(a) is np.ndarray else _as_array(name, a, f"a float array {dims or ''}".rstrip())
    kind = arr.dtype.kind
    if kind != "f":
        if kind not in "iu":
            want = f"a float array {dims}" if dims else "a float array"
            raise TypeError(f"{name}: expected {want}, got {describe(arr)}")
        arr = arr.astype(np.float64)
    _check_rank(name, arr, ndim, shape, dims, allow_empty)
    if not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite values, got {bad} NaN or infinite entries")
    return arr


def as_int_array(name: str, a, ndim: int | None, low: int, high: int, dims: str = "",
                 allow_empty: bool = False) -> np.ndarray:
    """Return ``a`` as a non-empty integer array of rank ``ndim`` (any rank if None) with entries in
    ``[low, high)``. Float, bool and other dtypes raise TypeError (an id is never 2.0 or True);
    negative ids are out of range unless ``low`` allows them."""
    arr = a if type(a) is np.ndarray else _as_array(name, a, f"an integer array {dims}".rstrip())
    if arr.dtype.kind not in "iu":
        want = f"integer ids {dims}" if dims else "integer ids"
        raise TypeError(f"{name}: expected {want}, got {describe(arr)}")
    _check_rank(name, arr, ndim, None, dims, allow_empty)
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < low or hi >= high:
            raise ValueError(f"{name}: expected indices in [{low}, {high}), got values from {lo} to {hi}")
    return arr


def positive_int(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int, requiring ``minimum <= value`` (and ``value <= maximum``).

    Python and numpy integers are accepted; bools, floats (even 3.0), strings and None raise TypeError.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise TypeError(f"{name}: expected an integer {bound}, got {describe(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name}: expected an integer {bound}, got {value}")
    return int(value)


def finite_float(name: str, value) -> float:
    """Return a real, finite ``value`` as a float. Bools, complex numbers, strings and None raise
    TypeError; NaN and infinities raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a finite real number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return value


def positive_float(name: str, value, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float that is > 0 (or >= 0 with ``allow_zero``)."""
    value = finite_float(name, value)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a number {bound}, got {value}")
    return value


def float_in(name: str, value, low: float, high: float, interval: str = "[)") -> float:
    """Return ``value`` as a finite float in the interval from ``low`` to ``high``; ``interval`` says
    which ends are closed: ``"[)"`` (the default, e.g. a probability or Adam's beta in [0, 1)),
    ``"[]"``, ``"()"`` or ``"(]"``."""
    if interval not in ("[)", "[]", "()", "(]"):
        raise ValueError(f"interval: expected one of '[)', '[]', '()', '(]', got {interval!r}")
    value = finite_float(name, value)
    above = value >= low if interval[0] == "[" else value > low
    below = value <= high if interval[1] == "]" else value < high
    if not (above and below):
        raise ValueError(f"{name}: expected a number in {interval[0]}{low}, {high}{interval[1]}, "
                         f"got {value}")
    return value


def one_of(name: str, value, options):
    """Return ``value`` if it is one of ``options`` (a set, tuple, list or dict's keys).

    A value of another type than every option (a list, None, a number where names are meant) raises
    TypeError; a value of the right type that is not an option raises ValueError.
    """
    shown = sorted(options, key=repr)
    if not any(type(value) is type(o) or (isinstance(value, type(o)) and not isinstance(value, bool))
               for o in shown):
        raise TypeError(f"{name}: expected one of {shown}, got {describe(value)}")
    if value not in options:
        raise ValueError(f"{name}: expected one of {shown}, got {value!r}")
    return value


def as_bool(name: str, value) -> bool:
    """Return ``value`` if it is a bool (Python or numpy); 0, 1, "yes" and None raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {describe(value)}")
    return bool(value)


def instance_of(name: str, value, types, expected: str | None = None):
    """Return ``value`` if it is an instance of ``types`` (a class or a tuple of classes); else raise
    TypeError saying ``expected`` (by default the class names)."""
    if not isinstance(value, types):
        if expected is None:
            classes = types if isinstance(types, tuple) else (types,)
            expected = " or ".join(t.__name__ for t in classes)
        raise TypeError(f"{name}: expected {expected}, got {describe(value)}")
    return value


def as_callable(name: str, value, expected: str = "a function"):
    """Return ``value`` if it can be called; else raise TypeError."""
    if not callable(value):
        raise TypeError(f"{name}: expected {expected}, got {describe(value)}")
    return value


def has_keys(name: str, value, keys) -> Mapping:
    """Return ``value`` if it is a mapping holding every key in ``keys``: TypeError if it is not a
    mapping, ValueError naming the missing keys otherwise."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping with keys {sorted(keys)}, got {describe(value)}")
    missing = [key for key in keys if key not in value]
    if missing:
        raise ValueError(f"{name}: expected keys {sorted(keys)}, missing {sorted(missing)}")
    return value


def rng_from(seed_or_rng, name: str = "rng") -> np.random.Generator:
    """Accept an int seed >= 0 or a ``numpy.random.Generator``; anything else is an error (None too:
    a fresh unseeded generator would make the book's numbers change from run to run)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, bool) or not isinstance(seed_or_rng, numbers.Integral):
        raise TypeError(f"{name}: expected an int seed or a numpy.random.Generator, "
                        f"got {describe(seed_or_rng)}")
    if seed_or_rng < 0:
        raise ValueError(f"{name}: expected an int seed >= 0 or a numpy.random.Generator, "
                         f"got {seed_or_rng}")
    return np.random.default_rng(int(seed_or_rng))
