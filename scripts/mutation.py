"""Mutation score of the unit tests over the helper package (issue 14, "Tests that catch bugs").

    python scripts/mutation.py                 # the default scope, fresh scratch copy
    python scripts/mutation.py 'recurrent.tasks.*'   # only mutants whose name matches (fnmatch)

mutmut (see [tool.mutmut] in pyproject.toml) seeds one small change at a time (an operator, a constant,
a slice bound, a default argument) into a copy of the package and runs the unit tests that reach the
changed function; a mutant is killed when a test fails. mutmut recognises only the source roots ./,
src/ and source/, so this script lays code/recurrent out as <work>/src/recurrent next to copies of
tests/ and pyproject.toml, runs `mutmut run --max-children 1` there (one worker, OPENBLAS_NUM_THREADS=1)
and prints, per module, the mutants killed, survived and otherwise (timeout, no tests), with the score
killed / (killed + survived). The shared work tree is never touched.

Run time on this machine (2 cores shared with other jobs, one worker), measured 2026-12-02: 541 s for the
3072 mutants of the tree before issue 14; 1335 s for the 3870 mutants after it (the bad-input harness
tests/test_api_inputs.py alone takes about 2 minutes of the clean and coverage runs). `--reuse NAME...`
re-runs only the named mutants, e.g. the survivors after new tests.
"""
import argparse
import ast
import collections
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The scope of issue 14's mutation goal: whole modules, plus the training helpers of chapter 2 only
# (bptt's forward/backward maths is covered by the gradient checks and the torch agreement tests).
SCOPE = ["recurrent.fixed_points.*", "recurrent.tasks.*", "recurrent.claims.*", "recurrent.spectral.*",
         "recurrent.remedies.*", "recurrent.vanishing.*", "recurrent.architectures.*",
         "recurrent.training.x_evaluate__mutmut_*", "recurrent.training.x_train_truncated__mutmut_*",
         "recurrent.training.x_gradient_noise__mutmut_*", "recurrent.echo.x_accuracy_by_window__mutmut_*"]
BY_FUNCTION = ("training", "echo")          # modules scored per function (only some functions in scope)

# A mutant that only changes the wording of an error message (an argument's name passed to a check, the
# shape text `dims=`, the `expected=` text) computes the same; it is counted apart as "wording".
WORDING_CALLS = {"as_float_array", "as_int_array", "positive_int", "finite_float", "positive_float",
                 "float_in", "one_of", "as_bool", "instance_of", "as_callable", "has_keys",
                 "rng_from", "_real", "_map", "_square", "_real_array", "_pair", "check_streams", "integers"}
WORDING_KEYWORDS = {"dims", "expected", "name", "names"}

RESULT = re.compile(r"^\s*(?P<name>recurrent\.\S+?): (?P<status>.+)$")


def lay_out(work: Path) -> None:
    """Copy the package as src/recurrent, the tests and pyproject.toml into a fresh `work` folder."""
    if work.exists():
        shutil.rmtree(work)
    (work / "src").mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "code" / "recurrent", work / "src" / "recurrent", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")


def module_of(name: str) -> str:
    """'recurrent.training.x_evaluate__mutmut_3' -> 'training.evaluate' in BY_FUNCTION, else the module."""
    module, func = name.split(".")[1], name.split(".")[2]
    if module in BY_FUNCTION:
        return module + "." + func.removeprefix("x_").split("__mutmut_")[0]
    return module


def _is_text(node) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and
                                               (node.value is None or isinstance(node.value, str)))


def _without_wording(func: ast.AST) -> str:
    """The function's AST with every message text of the checks it calls blanked out, and its name."""
    func = ast.parse(ast.unparse(func)).body[0]
    func.name = "f"
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            f = node.func
            called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if called in WORDING_CALLS:
                node.keywords = [k for k in node.keywords if k.arg not in WORDING_KEYWORDS]
                if called in ("instance_of", "as_callable"):      # their last positional is the text
                    node.args = node.args[:3 if called == "instance_of" else 2]
                for i in (0, 3) if called == "instance_of" else (0,):
                    if len(node.args) > i and _is_text(node.args[i]):
                        node.args[i] = ast.Constant("")
    return ast.dump(func)


def wording_mutants(work: Path, names) -> set:
    """The mutants among `names` that differ from the original function only in message wording."""
    functions = {}
    for module in {name.split(".")[1] for name in names}:
        tree = ast.parse((work / "mutants" / "src" / "recurrent" / f"{module}.py").read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name:
                functions[(module, node.name)] = node
    wording = set()
    for name in names:
        module, func = name.split(".")[1], name.split(".")[-1]
        orig = functions.get((module, func.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"))
        mutant = functions.get((module, func))
        if orig is not None and mutant is not None and _without_wording(orig) == _without_wording(mutant):
            wording.add(name)
    return wording


def report(table: dict, seconds: float) -> str:
    rows = [f"{'module':28} {'killed':>7} {'survived':>9} {'other':>6} {'score':>7}   "
            f"(without wording: killed, survived, score)"]
    total = collections.Counter()
    for module in sorted(table):
        c = table[module]
        total.update(c)
        rows.append(_row(module, c))
    rows.append(_row("all", total))
    rows.append(f"mutmut run time: {seconds:.0f} s")
    return "\n".join(rows)


def _row(label: str, c: collections.Counter) -> str:
    killed, survived = c["killed"] + c["killed wording"], c["survived"] + c["survived wording"]
    other = sum(c.values()) - killed - survived
    score = killed / (killed + survived) if killed + survived else float("nan")
    k, s = c["killed"], c["survived"]
    real = k / (k + s) if k + s else float("nan")
    return f"{label:28} {killed:7d} {survived:9d} {other:6d} {score:7.1%}   ({k}, {s}, {real:.1%})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("patterns", nargs="*", default=SCOPE, help="mutant names to run (fnmatch patterns)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/recurrent-mutation"), help="scratch folder")
    ap.add_argument("--reuse", action="store_true", help="keep the scratch folder and cached results")
    ap.add_argument("--report", action="store_true", help="only print the scores of the last run in --work")
    args = ap.parse_args(argv)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    seconds = float("nan")
    if not args.report:
        if not args.reuse or not args.work.exists():
            lay_out(args.work)
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", "1", *args.patterns],
                             cwd=args.work, env=env)
        seconds = time.perf_counter() - start
        if run.returncode:
            print(f"mutmut run failed with exit code {run.returncode}", file=sys.stderr)
            return run.returncode
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=args.work,
                         env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    chosen = [(m["name"], m["status"]) for line in out if (m := RESULT.match(line))
              and any(fnmatch.fnmatch(m["name"], p) for p in args.patterns)]
    wording = wording_mutants(args.work, [name for name, _ in chosen])
    table = collections.defaultdict(collections.Counter)
    for name, status in chosen:
        table[module_of(name)][status + (" wording" if name in wording else "")] += 1
    print(report(table, seconds))
    survivors = [name for name, status in chosen if status == "survived" and name not in wording]
    print(f"{sum(status == 'survived' and name in wording for name, status in chosen)} survivors change only "
          f"message wording; the other survivors (`mutmut show NAME` in {args.work} shows one):",
          *survivors, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
