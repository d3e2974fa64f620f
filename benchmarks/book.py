"""Time the book as a whole: every notebook's execution, the HTML build, and the whole test suite.

    python benchmarks/book.py                    all three, writes code/recurrent/data/benchmarks/book.json
    python benchmarks/book.py --skip-tests       notebooks and build only
    python benchmarks/book.py book/bptt.ipynb    just these notebooks (no build, no tests)

Notebooks: each is read and executed in memory with nbclient in a fresh kernel, as
scripts/execute_notebooks.py does, but nothing is written back. Build: ``jupyter-book build book``
into a temporary --path-output, so book/_build is left alone (the book is built from the stored
outputs, so this measures Sphinx alone). Tests: ``python -m pytest -q`` from the repository root,
which includes nbval on every notebook (three times: natively and on two other CPU code paths) and
the book build test. Targets: every notebook < 30 s (long_range < 60 s), the test command < 15 min. Run it with the book's environment (.venv/bin/python).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recurrent import data  # where the performance appendix reads the results

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
NOTEBOOK_TARGET_S, TESTS_TARGET_S = 30.0, 900.0
TARGETS_S = {"long_range.ipynb": 60.0}           # the one chapter that trains four cells over seeds


def execute_notebook(path: Path) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        error = None
    except Exception as e:                       # report and go on with the next notebook
        error = f"{type(e).__name__}: {str(e)[-500:]}"
    seconds = time.perf_counter() - start
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    return {"seconds": seconds, "code_cells": cells, "error": error,
            "target_s": TARGETS_S.get(path.name, NOTEBOOK_TARGET_S),
            "ok": error is None and seconds < TARGETS_S.get(path.name, NOTEBOOK_TARGET_S)}


def build_book() -> dict:
    with tempfile.TemporaryDirectory(prefix="book-build-") as out:
        start = time.perf_counter()
        result = subprocess.run([str(BIN / "jupyter-book"), "build", str(BOOK), "--path-output", out],
                                capture_output=True, text=True, cwd=ROOT, timeout=1800)
        seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    return {"seconds": seconds, "returncode": result.returncode,
            "warnings": len(re.findall(r"WARNING", log)), "tail": log[-1500:] if result.returncode else ""}


def run_tests() -> dict:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q"], capture_output=True, text=True, cwd=ROOT,
                            timeout=3600)
    seconds = time.perf_counter() - start
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return {"seconds": seconds, "returncode": result.returncode, "summary": summary, "failed": failed,
            "ok": seconds < TESTS_TARGET_S}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="only these notebooks (default: all in book/)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--skip-tests", action="store_true")
    ap.add_argument("--out", type=Path, default=data.benchmark_path("book"))
    args = ap.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(BOOK.glob("*.ipynb"))
    only_some = bool(args.notebooks)
    result = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": {"platform": platform.platform(), "python": sys.version.split()[0],
                          "logical_cpus": os.cpu_count(),
                          "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None},
              "targets_s": {"notebook": NOTEBOOK_TARGET_S, "tests": TESTS_TARGET_S}, "notebooks": {}}
    print("notebook execution (nbclient, fresh kernel, nothing written back)")
    for path in paths:
        r = execute_notebook(path)
        result["notebooks"][path.name] = r
        mark = "ok" if r["ok"] else ("ERROR " + r["error"][:200] if r["error"] else "MISSED")
        print(f"  {path.name:28} {r['seconds']:7.1f} s  ({r['code_cells']} code cells)  "
              f"< {r['target_s']:.0f} s: {mark}",
              flush=True)
    if not (args.skip_build or only_some):
        print("book build (jupyter-book build book, into a temporary folder, cold cache) ...", flush=True)
        result["build"] = build_book()
        b = result["build"]
        print(f"  {b['seconds']:7.1f} s  returncode {b['returncode']}, {b['warnings']} warnings", flush=True)
    if not (args.skip_tests or only_some):
        print("test suite (python -m pytest -q) ...", flush=True)
        result["tests"] = t = run_tests()
        print(f"  {t['seconds']:7.1f} s  < {TESTS_TARGET_S / 60:.0f} min: {'ok' if t['ok'] else 'MISSED'}; "
              f"returncode {t['returncode']}: {t['summary']}", flush=True)
        for line in t["failed"]:
            print(f"    {line}")
    if hasattr(os, "getloadavg"):
        result["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
