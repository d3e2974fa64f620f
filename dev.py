#!/usr/bin/env python3
"""Set up, build and test the book. Needs nothing but Python 3.11 (and the package registries).

    python3 dev.py book      build the HTML book into book/_build/html from the notebooks' stored outputs
    python3 dev.py test      every test: unit and property tests, nbval (strict) on every notebook
                             natively and again on two other CPU code paths (tests/test_portability.py),
                             the book build with warnings as errors, the built book in headless
                             Chromium (installed from Debian's packages if missing), and the
                             notebooks in JupyterLab 4 and Notebook 7 in the same browser
    python3 dev.py execute   re-execute every notebook in place, top to bottom in a fresh kernel
    python3 dev.py lab       open the notebooks in JupyterLab
    python3 dev.py links     rewrite README.md's Binder badge from the repository URL in book/_config.yml

Each command first makes sure that .venv/ exists and holds exactly requirements.txt (which also
installs the helper package `recurrent` from code/); it reinstalls only when requirements.txt or
pyproject.toml changed. Extra arguments after `test` go to pytest (for example `-k softmax`).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".requirements.sha256"


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd, **kw) -> int:
    say("$ " + " ".join(str(c) for c in cmd))
    return subprocess.call([str(c) for c in cmd], cwd=kw.pop("cwd", ROOT), **kw)


def ensure_env() -> None:
    if sys.version_info[:2] != (3, 11):
        say(f"warning: requirements.txt is pinned for Python 3.11, this is {sys.version.split()[0]}")
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    if PY.exists() and STAMP.exists() and STAMP.read_text() == digest.hexdigest():
        return
    if not PY.exists():
        say(f"creating {VENV.relative_to(ROOT)}/")
        venv.create(VENV, with_pip=True)
    say("installing requirements.txt (about a minute on a fresh machine)")
    if run([PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", "requirements.txt"]):
        sys.exit("[dev] pip install failed; see the messages above")
    STAMP.write_text(digest.hexdigest())


def ensure_browser() -> None:
    """Chromium (Debian's package) and the npm files the browser tests serve instead of CDNs.

    Installs what is missing when it can (apt-get needs root). If it cannot, the browser tests skip
    with a message, except under CI (CI=true), where they fail.
    """
    missing = [] if shutil.which("chromium") else ["chromium", "fonts-dejavu-core", "fonts-liberation"]
    if not has_chinese_font():      # the pages give Chinese terms; without a font they show as boxes
        missing.append("fonts-wqy-microhei")
    if missing:
        if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
            say(f"installing {' '.join(missing)} from Debian's packages (about a minute)")
            env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
            run(["apt-get", "update", "-qq"], env=env)
            run(["apt-get", "install", "-y", "-qq", *missing], env=env)
        else:
            say(f"cannot install {' '.join(missing)} here (needs root and apt-get): browser tests will skip")
    assets = ROOT / "tests" / "browser"
    if not (assets / "node_modules" / "mathjax").exists():
        if shutil.which("npm"):
            run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=assets)
        else:
            say("npm is not installed: browser tests will skip (they need MathJax from npm)")


def has_chinese_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def build_book() -> int:
    return run([BIN / "jupyter-book", "build", "-W", "--keep-going", "book"])


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    # The book's matrices are small: one BLAS thread is faster than two, and much faster when the
    # two cores are shared (measured: 0.1 ms against 2.5 ms for one gradient product under load).
    # Notebook kernels, nbval and the book build inherit this from here.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if command not in {"book", "test", "execute", "lab", "links"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    ensure_env()
    if command == "book":
        status = build_book()
        if status == 0:
            say(f"built: open {ROOT / 'book/_build/html/index.html'} in a browser")
        return status
    if command == "test":
        ensure_browser()
        return run([PY, "-m", "pytest", *argv[1:]])
    if command == "execute":
        return run([PY, "scripts/execute_notebooks.py", *argv[1:]])
    if command == "links":
        return run([PY, "scripts/binder_links.py"])
    return run([BIN / "jupyter", "lab", "book"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
