"""Controls of an explorer and what every view of it shares: the values a reader may choose, the checks
of compute/draw/controls, and the ``fingerprint`` of a result that stored outputs are compared by."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, is_dataclass

import numpy as np


@dataclass(frozen=True)
class Control:
    """One control: keyword ``name`` of compute, the allowed ``values``, the ``default`` and a label."""

    name: str
    values: tuple
    default: object
    label: str
    fmt: str = "{}"

    def __post_init__(self):
        for field in ("name", "label", "fmt"):
            if not isinstance(getattr(self, field), str):
                raise TypeError(f"{field}: expected a str, got {type(getattr(self, field)).__name__}")
        if not self.name.isidentifier():
            raise ValueError(f"name: expected a keyword argument name of compute, got {self.name!r}")
        if not isinstance(self.values, tuple):
            raise TypeError(f"values: expected a tuple of the values a reader may choose, got "
                            f"{type(self.values).__name__}")
        if len(self.values) < 2:
            raise ValueError(f"values: expected at least 2 values for control {self.name}, got "
                             f"{list(self.values)}")
        if self.default not in self.values:
            raise ValueError(f"default: expected the default among {list(self.values)} for control "
                             f"{self.name}, got {self.default!r}")

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in self.values)

    def text(self, value) -> str:
        """The label of one of this control's ``values``, written with ``fmt``."""
        if not any(_same_value(value, v) for v in self.values):
            raise ValueError(f"value: expected one of {list(self.values)} (the values of control "
                             f"{self.name}), got {value!r}")
        return self.fmt.format(value)


def _same_value(a, b) -> bool:
    """a equals b as a control value: numbers by value (0.5 == np.float64(0.5)), others by type and value."""
    def number(x):
        return isinstance(x, int | float | np.number) and not isinstance(x, bool | np.bool_)
    if number(a) and number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


def defaults(controls) -> dict:
    """The default value of every control, by name."""
    return {c.name: c.default for c in check_controls(controls)}


def check_controls(controls) -> list:
    """``controls`` as a non-empty list of ``Control``s with distinct names."""
    if isinstance(controls, str | bytes | dict) or not hasattr(controls, "__iter__"):
        raise TypeError(f"controls: expected a sequence of Control, got {type(controls).__name__}")
    controls = list(controls)
    bad = [type(c).__name__ for c in controls if not isinstance(c, Control)]
    if bad or not controls:
        raise TypeError(f"controls: expected a non-empty sequence of Control, got {bad or 'nothing'}")
    names = [c.name for c in controls]
    if len(set(names)) < len(names):
        raise ValueError(f"controls: expected distinct names, got {names}")
    return controls


def fingerprint(result, digits: int = 3) -> str:
    """A hash of ``result`` (nested dicts, NamedTuples, dataclasses, lists, arrays, numbers, strings) with
    floats to ``digits`` significant digits.

    A NamedTuple or dataclass counts as the dict of its fields, so a typed result has the fingerprint of
    the dict it replaced. Two runs that differ only in the last bits of their floats get the same
    fingerprint (unless a value sits within about 1e-13 of a rounding boundary, which is improbable), a
    changed computation another.
    """
    check_int("digits", digits, 1, 17)

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


def check_names(controls, values) -> None:
    names = {c.name for c in controls}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"expected control names among {sorted(names)}, got {sorted(unknown)}")


def check_explorer(compute, draw, controls) -> None:
    for name, f in (("compute", compute), ("draw", draw)):
        if not callable(f):
            raise TypeError(f"{name}: expected a function, got {type(f).__name__}")
    check_controls(controls)


def check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}: expected an int from {low} to {high}, got {value}")
