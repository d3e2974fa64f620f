"""Every bad input to the public API is refused clearly (issue 14).

The callables are enumerated from the package itself (every module's ``__all__``, or its public
functions and classes and their public methods), so a new function is covered without anyone listing
it. For each callable and each argument, Hypothesis draws bad values of the argument's kind (see
tests/api_examples.py) while the other arguments stay valid. The call must raise TypeError or
ValueError whose message names the argument as the signature spells it, before the first ": ".

Each outcome is classified: clear / wrong-exception / unnamed-argument / silent (accepted). Counts go
to artifacts/bad_inputs.json and the failures, one line each, to /work/coord/bad_inputs_report.md.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import signal
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import api_examples as ex
import recurrent

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path("/work/coord/bad_inputs_report.md")
OUTCOMES = ("clear", "wrong-exception", "unnamed-argument", "silent")
SECONDS = 5.0          # a call that runs longer on a bad value is stopped and counted as silent (the
                       # valid examples take at most 0.3 s)


# --- enumeration ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Callee:
    """One public callable: ``module.qualname`` and how to reach it."""

    module: str
    qualname: str          # "forward", "Adam", "Vocab.encode"

    @property
    def key(self) -> str:
        return f"{self.module}.{self.qualname}"

    def resolve(self):
        obj = importlib.import_module(f"recurrent.{self.module}")
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        return obj

    @property
    def owner(self) -> str | None:
        """The class key for a method, else None."""
        return f"{self.module}.{self.qualname.split('.')[0]}" if "." in self.qualname else None

    @property
    def package(self) -> str:
        """The top module under recurrent ("plots" for "plots.spectral"), for SKIP and the owners."""
        return self.module.split(".")[0]


def _is_result_type(obj) -> bool:
    """NamedTuples and frozen dataclasses are typed results made by the package (what compute hands to
    draw); the functions that consume them are tested with bad ones instead. A frozen dataclass that
    checks its fields (``__post_init__``, e.g. an explorer's Control) is something readers build: covered."""
    if not isinstance(obj, type):
        return False
    frozen = dataclasses.is_dataclass(obj) and obj.__dataclass_params__.frozen
    return issubclass(obj, tuple) or (frozen and not hasattr(obj, "__post_init__"))


def _mutant(name: str) -> bool:
    """A copy mutmut (scripts/mutation.py) adds beside a function: x_f__mutmut_3, xǁAdamǁstep__mutmut_1."""
    return "__mutmut" in name or name.startswith("xǁ")


def enumerate_api():
    """(callees, import errors): every public function, class and public method of the package."""
    callees, errors = [], {}
    def failed(name):
        errors[name.removeprefix("recurrent.")] = "the package walk could not import it"

    for info in pkgutil.walk_packages(recurrent.__path__, prefix="recurrent.", onerror=failed):
        name = info.name.removeprefix("recurrent.")
        if any(part.startswith("_") for part in name.split(".")):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as e:                    # noqa: BLE001 (reported by test_every_module_imports)
            errors[name] = f"{type(e).__name__}: {e}"
            continue
        # functions and classes defined here (a re-export is counted where it is defined), restricted to
        # __all__ when the module has one
        public = getattr(module, "__all__", None)
        names = [name for name, obj in vars(module).items()
                 if not _mutant(name) and (name in public if public is not None else not name.startswith("_"))
                 and getattr(obj, "__module__", None) == module.__name__
                 and (inspect.isfunction(obj) or inspect.isclass(obj))]
        mod_name = name
        for name in names:
            obj = getattr(module, name)
            built = f"{mod_name}.{name}" in ex.READER_BUILT
            error_class = isinstance(obj, type) and issubclass(obj, BaseException)
            if (_is_result_type(obj) and not built) or error_class:
                continue
            callees.append(Callee(mod_name, name))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and not _mutant(attr) and inspect.isfunction(member):
                        callees.append(Callee(mod_name, f"{name}.{attr}"))
    return callees, errors


def skipped(c: Callee) -> str | None:
    """The reason a callable is left out, or None. Skipping a class skips its methods too, unless the
    registry builds an instance of it (INSTANCES): then only its constructor is left out."""
    if c.key in ex.SKIP:
        return ex.SKIP[c.key]
    if c.owner in ex.SKIP and c.owner not in ex.INSTANCES:
        return ex.SKIP[c.owner]
    for key in (c.module, c.package):
        if key in ex.SKIP:
            return ex.SKIP[key]
    return None


def parameters(c: Callee):
    """The callable's named parameters (no self, no *args/**kwargs)."""
    sig = inspect.signature(c.resolve())
    return [a for a in sig.parameters.values()
            if a.name != "self" and a.kind not in (a.VAR_POSITIONAL, a.VAR_KEYWORD)]


def spec_for(c: Callee, name: str):
    for table in (ex.FUNCTIONS.get(c.key, {}), ex.FUNCTIONS.get(c.owner or "", {}),
                  ex.MODULES.get(c.module, {}), ex.MODULES.get(c.package, {}), ex.COMMON):
        if name in table:
            return table[name]
    return None


def explicit(c: Callee, name: str) -> bool:
    """Whether an optional argument is given its registry value (function or module tables) rather than
    its default: small sizes for the costly defaults."""
    return any(name in t for t in (ex.FUNCTIONS.get(c.key, {}), ex.FUNCTIONS.get(c.owner or "", {}),
                                   ex.MODULES.get(c.module, {}), ex.MODULES.get(c.package, {})))


def valid_kwargs(c: Callee) -> dict:
    kwargs = {}
    for a in parameters(c):
        if a.default is inspect.Parameter.empty or explicit(c, a.name):
            kwargs[a.name] = spec_for(c, a.name).make()
    return kwargs


def target(c: Callee):
    """The function to call: a bound method on a fresh instance, or the callable itself."""
    if c.owner is None:
        return c.resolve()
    return getattr(ex.INSTANCES[c.owner](), c.qualname.split(".")[1])


CALLEES, IMPORT_ERRORS = enumerate_api()
COVERED = [c for c in CALLEES if not skipped(c)]


def _missing(c: Callee) -> list[str]:
    try:
        params = parameters(c)
    except (TypeError, ValueError):
        return []
    need = [a.name for a in params if a.default is inspect.Parameter.empty and spec_for(c, a.name) is None]
    if c.owner and c.owner not in ex.INSTANCES:
        need.append(f"an instance of {c.owner} in INSTANCES")
    return need


def test_every_module_imports():
    assert not IMPORT_ERRORS, IMPORT_ERRORS


def test_the_registry_supplies_every_required_argument():
    missing = {c.key: m for c in COVERED if (m := _missing(c))}
    assert not missing, ("tests/api_examples.py cannot supply these required arguments; add them to COMMON, "
                         f"MODULES['<module>'] or FUNCTIONS['<module.function>']: {missing}")


def test_every_registry_entry_names_a_callable_that_exists():
    """An entry for a renamed or removed callable would silently stop applying (its small sizes too)."""
    modules = {c.module for c in CALLEES} | {c.package for c in CALLEES}
    known = {c.key for c in CALLEES} | {c.owner for c in CALLEES if c.owner} | modules
    stale = sorted(k for k in [*ex.FUNCTIONS, *ex.INSTANCES, *ex.SKIP, *ex.MODULES, *ex.READER_BUILT]
                   if k not in known)
    assert not stale, f"tests/api_examples.py: these entries name nothing in the package now: {stale}"


def test_the_enumeration_covers_the_package():
    """The walk finds the chapters' functions (guards against an enumeration that finds nothing)."""
    keys = {c.key for c in CALLEES}
    assert len(COVERED) >= 60 and any(k.endswith(".forward") for k in keys), sorted(keys)


RUNNABLE = [c for c in COVERED if not _missing(c)]


@pytest.mark.parametrize("c", RUNNABLE, ids=lambda c: c.key)
def test_every_callable_runs_on_its_valid_examples(c):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _timed(lambda: target(c)(**valid_kwargs(c)))
        except TooSlow:
            pytest.fail(f"{c.key} ran over {SECONDS:.0f} s on its valid examples: give it smaller ones in "
                        "tests/api_examples.py")
    import matplotlib.pyplot as plt
    plt.close("all")


# --- bad values -------------------------------------------------------------------------------------

def _with(a: np.ndarray, index, value) -> np.ndarray:
    a = np.array(a, dtype=float if a.dtype.kind in "iub" else a.dtype)
    a[index] = value
    return a


def _index(data, shape):
    return tuple(data.draw(st.integers(0, s - 1), label="index") for s in shape)


def _resized(data, a: np.ndarray, axes) -> list:
    """Copies of ``a`` with one more (or one fewer) entry along a tied axis: a mismatched dimension."""
    out = []
    for axis in axes:
        if axis >= a.ndim:
            continue
        if data.draw(st.booleans(), label="grow") or a.shape[axis] == 1:
            longer = np.concatenate([a, np.take(a, [0], axis=axis)], axis=axis)
            out.append((f"axis {axis} one longer", longer))
        else:
            out.append((f"axis {axis} one shorter", np.delete(a, 0, axis=axis)))
    return out


def _array_shapes(data, a: np.ndarray, extra: dict) -> list:
    out = []
    if not extra.get("rank_free"):
        out.append(("an extra axis", a[None]))
        if a.ndim:
            out.append(("one axis fewer", a[(0,) * 1]))
    if a.ndim and not extra.get("empty_ok"):
        axis = data.draw(st.integers(0, a.ndim - 1), label="empty axis")
        out.append((f"zero length along axis {axis}", np.take(a, [], axis=axis)))
    out += _resized(data, a, extra.get("tied", ()))
    return out


OTHER_TYPES = [("None", None), ("a string", "abc"), ("a dict", {"a": 1})]


def bad_values(spec: ex.Spec, default, data) -> list:
    """(label, value) pairs of bad values for an argument of this spec, drawn with Hypothesis."""
    kind, extra = spec.kind, spec.extra
    others = [(label, v) for label, v in OTHER_TYPES if not (v is None and default is None)]
    if kind == "int":
        lo = extra["minimum"]
        below = data.draw(st.integers(lo - 1000, lo - 1), label="below")
        v = spec.make()
        return others + [("a float", v + 0.5), ("an integral float", float(v)), ("a bool", True),
                         ("NaN", float("nan")), (f"{below} (< {lo})", below), ("a 1-d array", np.array([v]))]
    if kind == "float":
        v = spec.make()
        out = others + [("a complex number", complex(v, 1)), ("a bool", True), ("NaN", float("nan")),
                        ("inf", float("inf")), ("-inf", -float("inf"))]
        if not extra["array_ok"]:
            out.append(("a 1-d array", np.array([v, v])))
        low, high, interval = extra["low"], extra["high"], extra["interval"]
        gap = data.draw(st.floats(1e-3, 1e3), label="gap")
        if low is not None:
            out.append((f"below {low}", low - gap))
            if interval[0] == "(":
                out.append((f"{low} (excluded)", float(low)))
        if high is not None:
            out.append((f"above {high}", high + gap))
            if interval[1] == ")":
                out.append((f"{high} (excluded)", float(high)))
        return out
    if kind == "array":
        a = np.asarray(spec.make(), dtype=float)
        i = _index(data, a.shape)
        strings = [] if extra.get("labels_ok") else [("a string array", a.astype(str))]
        return others + strings + [
            ("a complex array", a + 0.5j), ("a bool array", a > 0), ("an object array", a.astype(object)),
            ("NaN at " + str(i), _with(a, i, np.nan)),
            ("inf at " + str(i), _with(a, i, -np.inf))] + _array_shapes(data, a, extra)
    if kind == "ids":
        a = np.asarray(spec.make())
        i = _index(data, a.shape)
        high = extra["high"]
        return others + [
            ("a float array", a.astype(float)), ("a bool array", a > 0), ("a string array", a.astype(str)),
            (f"-1 at {i}", _with(a, i, -1).astype(int)),
        ] + ([(f"{high} (= high) at {i}", _with(a, i, high).astype(int))] if high is not None else []) \
            + _array_shapes(data, a, extra)
    if kind == "option":
        options = extra["options"]
        word = data.draw(st.text("abcxyz", min_size=1, max_size=6).filter(lambda s: s not in options),
                         label="unknown")
        return others[:1] + [(f"unknown option {word!r}", word), ("a list of an option", [options[0]]),
                             ("an int", 3), ("a float", 0.5), ("bytes", str(options[0]).encode())]
    if kind == "rng":
        return others + [("a float seed", 1.5), ("a negative seed", -1), ("a bool", True),
                         ("a legacy RandomState", np.random.RandomState(0))]
    if kind == "bool":
        return others + [("the int 1", 1), ("the int 0", 0), ("a 1-d array", np.array([True, False]))]
    if kind == "text":
        return others[:1] + [("an int", 3), ("bytes", b"abc"), ("a list", ["a"])]
    if kind == "callable":
        return [(label, v) for label, v in others if not (v is None and extra["none_ok"])] + [("an int", 3)]
    if kind == "object":
        wrong = extra.get("wrong")
        return others + [("an int", 3)] + ([("a similar object of the wrong type", wrong())] if wrong else [])
    if kind == "mapping":
        out = [(label, v) for label, v in others if not isinstance(v, dict)] + [("a list", [1, 2])]
        return out + ([] if extra["empty_ok"] else [("an empty dict", {})])
    if kind in ("int_seq", "float_seq"):
        out = others + [("an empty list", []), ("a list with a string", ["a"]), ("a list with None", [None])]
        if kind == "int_seq":
            lo = extra["minimum"]
            out += [(f"a list with {lo - 1}", [lo - 1]), ("a list with a float", [1.5])]
        else:
            out += [("a list with NaN", [float("nan")]), ("a list with a complex", [1 + 1j])]
        return out
    if kind == "any":
        return [("a function", len), ("a bare object()", object())]
    if kind == "dtype":
        return [("a string", "abc"), ("an int dtype", np.int64), ("a complex dtype", np.complex128),
                             ("a bool dtype", np.bool_), ("object", object)]
    raise AssertionError(f"unknown kind {kind!r}")


# --- running and classifying ------------------------------------------------------------------------

class TooSlow(BaseException):
    """Raised by the timer: a bad value made the callable run on (it was accepted)."""


def _alarm(signum, frame):
    raise TooSlow


def _timed(fn):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def names_argument(message: str, name: str) -> bool:
    """The part before the first ": " names the argument as a whole word (``p.W: ...``, ``state['x']:``
    and ``inputs, targets: ...`` name p, state and both inputs and targets)."""
    head = message.split(": ", 1)[0] if ": " in message else ""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", head) is not None


def classify(c: Callee, name: str, value, mismatch: bool = False) -> tuple[str, str]:
    """(outcome, detail) of calling c with argument ``name`` set to ``value``, the others valid."""
    import matplotlib.pyplot as plt

    try:
        kwargs = valid_kwargs(c)
        fn = target(c)
    except Exception as e:                  # noqa: BLE001
        return "wrong-exception", f"building the valid arguments failed: {type(e).__name__}: {e}"
    kwargs[name] = value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _timed(lambda: fn(**kwargs))
    except TooSlow:
        return "silent", f"accepted (still running after {SECONDS:.0f} s)"
    except (TypeError, ValueError) as e:
        text = f"{type(e).__name__}: {e}"
        # a dimension that does not match may be reported at the argument it must match
        peers = [a.name for a in parameters(c)] if mismatch else [name]
        named = any(names_argument(str(e), peer) for peer in peers)
        return ("clear" if named else "unnamed-argument"), text[:160]
    except Exception as e:                  # noqa: BLE001
        return "wrong-exception", f"{type(e).__name__}: {e}"[:160]
    finally:
        plt.close("all")
    return "silent", "accepted"


CASES = [(c, a.name) for c in RUNNABLE for a in parameters(c) if spec_for(c, a.name) is not None]
UNCOVERED = [(c.key, a.name) for c in RUNNABLE for a in parameters(c) if spec_for(c, a.name) is None]
RESULTS: dict[tuple[str, str], list] = {}


def _default(c: Callee, name: str):
    """The argument's default (``inspect.Parameter.empty`` when it is required)."""
    return next(a for a in parameters(c) if a.name == name).default


# Known failures at the last refresh of the report, (callable, argument). A fix flips its test red
# (strict xfail): then delete its line here.
# BEGIN KNOWN (rewritten by `python tests/test_api_inputs.py --known` from artifacts/bad_inputs.json)
KNOWN_BY_CALLABLE: dict[str, tuple[str, ...]] = {
}
# END KNOWN
KNOWN = {(key, name) for key, names in KNOWN_BY_CALLABLE.items() for name in names}


def _case_param(case):
    c, name = case
    marks = [pytest.mark.xfail(strict=True, reason="listed in /work/coord/bad_inputs_report.md")] \
        if (c.key, name) in KNOWN else []
    return pytest.param(c, name, id=f"{c.key}-{name}", marks=marks)


@pytest.mark.parametrize("c, name", [_case_param(case) for case in CASES])
def test_bad_inputs_are_refused_clearly(c, name, bad_input_log):
    spec, default, seen = spec_for(c, name), _default(c, name), []

    @settings(max_examples=2, database=None)
    @given(st.data())
    def run(data):
        for label, value in bad_values(spec, default, data):
            outcome, detail = classify(c, name, value, mismatch=label.startswith("axis "))
            seen.append((label, outcome, detail))

    run()
    bad_input_log[(c.key, name)] = seen
    failures = sorted({(label, outcome, detail) for label, outcome, detail in seen if outcome != "clear"})
    assert not failures, "\n".join(f"{label}: {outcome}: {detail}" for label, outcome, detail in failures)


@pytest.fixture(scope="module")
def bad_input_log():
    log: dict = {}
    yield log
    if len(log) == len(CASES):          # a full run only: a -k selection does not overwrite the report
        write_report(log)


OWNERS = {module: "H2" for module in ("plots", "interactive", "spectral", "fixed_points", "remedies",
                                       "vanishing", "claims", "tasks", "controls", "scrubbable")}
OWNERS.update({module: "H3" for module in ("rnn", "bptt", "training", "losses", "lstm", "gru", "long_range",
                                            "stacked", "stacked_grads", "cell", "echo", "architectures",
                                            "memory", "data")})


def write_report(log: dict) -> None:
    counts = Counter(outcome for seen in log.values() for _, outcome, _ in seen)
    per_module = {}
    for (key, _name), seen in log.items():
        module = key.split(".")[0]
        per_module.setdefault(module, Counter()).update(outcome for _, outcome, _ in seen)
    failing = {pair: seen for pair, seen in log.items() if any(o != "clear" for _, o, _ in seen)}
    summary = {"callables_enumerated": len(CALLEES), "callables_covered": len(RUNNABLE),
               "callables_skipped": sorted(c.key for c in CALLEES if skipped(c)),
               "arguments_tested": len(log), "bad_inputs": sum(counts.values()),
               "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
               "per_module": {m: dict(c) for m, c in sorted(per_module.items())},
               "failing_pairs": sorted(f"{k} {a}" for k, a in failing),
               "uncovered_optional_arguments": sorted(f"{k} {a}" for k, a in UNCOVERED)}
    out = ROOT / "artifacts" / "bad_inputs.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    lines = ["# Bad inputs that are not refused clearly (tests/test_api_inputs.py, refreshed by H4)", "",
             f"{summary['bad_inputs']} bad inputs over {len(log)} (callable, argument) pairs of "
             f"{len(RUNNABLE)} callables: " + ", ".join(f"{o} {counts.get(o, 0)}" for o in OUTCOMES), "",
             "A clear refusal: TypeError (wrong type) or ValueError (wrong value) whose message starts with "
             "the argument's name as the signature spells it: `xs: expected ..., got ...`.", "",
             "## Failing (callable: arguments), by owner", ""]
    by_owner: dict[str, dict[str, list[str]]] = {}
    for key, name in sorted(failing):
        owner = OWNERS.get(key.split(".")[0], "?")
        by_owner.setdefault(owner, {}).setdefault(key, []).append(name)
    for owner, keys in sorted(by_owner.items()):
        pairs = "; ".join(f"`{key}`: {', '.join(names)}" for key, names in keys.items())
        lines.append(f"- **{owner}**: {pairs}")
    lines += ["", "## Every bad value that was not refused clearly", "",
             "| module | function | argument | bad value | outcome | what happened |",
             "|---|---|---|---|---|---|"]
    for (key, name), seen in sorted(failing.items()):
        module, func = key.split(".", 1)
        for label, outcome, detail in sorted(set(seen)):
            if outcome != "clear":
                cell = detail.replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {module} | {func} | {name} | {label} | {outcome} | {cell} |")
    if REPORT.parent.exists():
        REPORT.write_text("\n".join(lines) + "\n")


def rewrite_known() -> None:
    """Replace the KNOWN block of this file by the failing pairs of the last full run."""
    pairs = json.loads((ROOT / "artifacts" / "bad_inputs.json").read_text())["failing_pairs"]
    by_callable: dict[str, list[str]] = {}
    for pair in pairs:
        key, name = pair.split(" ")
        by_callable.setdefault(key, []).append(name)
    body = ["KNOWN_BY_CALLABLE: dict[str, tuple[str, ...]] = {"]
    for key, names in sorted(by_callable.items()):
        line = f"    {key!r}: {tuple(names)!r},"
        if len(line) <= 110:
            body.append(line)
            continue
        body.append(f"    {key!r}: (")
        row = "       "
        for name in names:
            if len(row) + len(repr(name)) + 2 > 110:
                body.append(row.rstrip())
                row = "       "
            row += f" {name!r},"
        body.append(row + "),")
    body.append("}")
    path = Path(__file__)
    text = path.read_text()
    head, rest = text.split("# BEGIN KNOWN", 1)
    first, _, _ = rest.partition("\n")
    _, tail = rest.split("# END KNOWN", 1)
    path.write_text(head + "# BEGIN KNOWN" + first + "\n" + "\n".join(body) + "\n# END KNOWN" + tail)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--known"]:
        rewrite_known()
