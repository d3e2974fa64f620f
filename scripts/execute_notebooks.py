"""Re-execute the book's notebooks in place: fresh kernel, top to bottom, outputs stored.

    python3 dev.py execute                 every notebook listed in book/
    python3 dev.py execute book/rnn.ipynb  just these

Uses nbclient (as Jupyter Book does) with per-cell timing metadata switched off, so that
re-executing an unchanged notebook changes nothing but what the code prints. Afterwards run
`python3 dev.py test`: nbval then checks that the stored outputs are what the code produces.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parents[1] / "book"


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata.pop("widgets", None)     # live widgets need a kernel; stored state would only add weight
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(args: list[str]) -> int:
    paths = [Path(a).resolve() for a in args] or sorted(BOOK.glob("*.ipynb"))
    for path in paths:
        print(f"executing {path.relative_to(BOOK.parent)} ...", flush=True)
        print(f"  done in {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
