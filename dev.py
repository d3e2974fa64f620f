#!/usr/bin/env python3
"""Set up, build and test the book. Needs nothing but Python 3.11 (and the package registries).

    python3 dev.py book      build the HTML book from the notebooks' stored outputs: English into
                             book/_build/html, Chinese (book/locale/zh_CN) into book/_build/html/zh
    python3 dev.py test      every test: unit and property tests, nbval (strict) on every notebook
                             natively and again on two other CPU code paths (tests/test_portability.py),
                             the book build with warnings as errors, the built book in headless
                             Chromium (installed from Debian's packages if missing), and the
                             notebooks in JupyterLab 4 and Notebook 7 in the same browser
    python3 dev.py execute   re-execute every notebook in place, top to bottom in a fresh kernel
    python3 dev.py lab       open the notebooks in JupyterLab
    python3 dev.py translations   after an English edit: extract the English text and merge it into
                             the Chinese catalogs book/locale/zh_CN/LC_MESSAGES/*.po (new or changed
                             messages arrive untranslated or fuzzy; tests/test_translation.py lists them)
    python3 dev.py links     rewrite README.md's Binder and Colab badges from the repository URL in
                             book/_config.yml
    python3 dev.py lock      compile requirements.in and requirements-dev.in into the pinned
                             requirements.txt and requirements-dev.txt (with uv; extra arguments go
                             to it, for example `--upgrade-package numpy`), then reinstall .venv/

Each command first makes sure that .venv/ exists and holds exactly requirements-dev.txt (the
reader set of requirements.txt, which also installs the helper package `recurrent` from code/,
plus the build and test tools); it reinstalls only when one of SETUP_FILES changed. Extra
arguments after `test` go to pytest (for example `-k softmax`). A set-up step that fails (pip,
apt-get, npm) stops the command with a message saying what failed and what to run.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".requirements.sha256"
# The lock files and what they are compiled from: a change to any of them reinstalls .venv/.
LOCKS = {"requirements.txt": "requirements.in", "requirements-dev.txt": "requirements-dev.in"}
SETUP_FILES = (*LOCKS, *LOCKS.values(), "pyproject.toml")
# apt-get waits this long for another apt-get's dpkg lock before it gives up (DPkg::Lock::Timeout).
# `apt-get update` ignores that option and fails at once if another one holds the package lists'
# lock (apt 2.6), so dev.py waits for that lock itself, as long.
APT_LOCK_TIMEOUT_S = 120
APT_LISTS_LOCK = Path("/var/lib/apt/lists/lock")


def say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def run(cmd, **kw) -> int:
    say("$ " + " ".join(str(c) for c in cmd))
    return subprocess.call([str(c) for c in cmd], cwd=kw.pop("cwd", ROOT), **kw)


def fail(step: str, todo: str, status: int | None = None) -> None:
    """Stop the command: set-up step `step` failed (with exit `status`); `todo` says what to run."""
    how = f" (exit status {status})" if status is not None else ""
    sys.exit(f"[dev] set-up failed: {step}{how}.\n[dev] {todo}")


def setup_digest(root: Path) -> str:
    """SHA-256 over the names and contents of SETUP_FILES in `root`: the stamp of an installed .venv/."""
    digest = hashlib.sha256()
    for name in SETUP_FILES:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_env() -> None:
    if sys.version_info[:2] != (3, 11):
        say(f"warning: the requirements are pinned for Python 3.11, this is {sys.version.split()[0]}")
    digest = setup_digest(ROOT)
    if PY.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PY.exists():
        say(f"creating {VENV.relative_to(ROOT)}/")
        venv.create(VENV, with_pip=True)
    say("installing requirements-dev.txt (about a minute on a fresh machine)")
    pip = [PY, "-m", "pip", "--disable-pip-version-check"]
    if status := run([*pip, "install", "-q", "-r", "requirements-dev.txt"]):
        fail("pip install -r requirements-dev.txt",
             "See pip's messages above; after fixing the cause, run the same command again.", status)
    if status := run([*pip, "check"]):
        fail("pip check", "The installed packages conflict (see above): `python3 dev.py lock` "
             "recompiles the locks; or delete .venv/ to install from scratch.", status)
    STAMP.write_text(digest)


def lock(args: list[str]) -> int:
    """Compile requirements.in -> requirements.txt, then requirements-dev.in -> requirements-dev.txt.

    uv (pinned in requirements-dev.txt) keeps every version a lock already pins unless `args` ask
    otherwise (`--upgrade-package NAME`, `--upgrade`). The dev lock is constrained to the reader
    lock's pins, so .venv/ runs the notebooks with the versions Binder installs. uv refuses a
    constraints file with an editable line, so it reads those pins from a copy without `-e .`; the
    lock's annotations then name requirements.txt, where the pins come from.
    """
    def compile_(source: str, lock_file: str, *constraints: Path) -> int:
        shown = " ".join(["uv pip compile", source, *("-c requirements.txt" for _ in constraints),
                          "-o", lock_file])
        return run([BIN / "uv", "pip", "compile", "--quiet", "--python", PY, *args, source,
                    *(f"--constraint={c}" for c in constraints), "-o", lock_file,
                    "--custom-compile-command", f"python3 dev.py lock  ({shown})"])

    if status := compile_("requirements.in", "requirements.txt"):
        return status
    reader_lock = (ROOT / "requirements.txt").read_text().splitlines(keepends=True)
    with tempfile.TemporaryDirectory() as tmp:
        pins = Path(tmp) / "requirements.txt"
        pins.write_text("".join(line for line in reader_lock if not line.startswith("-e ")))
        if status := compile_("requirements-dev.in", "requirements-dev.txt", pins):
            return status
        dev_lock = ROOT / "requirements-dev.txt"
        dev_lock.write_text(dev_lock.read_text().replace(str(pins), "requirements.txt"))
    ensure_env()
    return 0


def ensure_browser() -> None:
    """Chromium (Debian's package) and the npm files the browser tests serve instead of CDNs.

    Installs what is missing when it can (apt-get needs root), and stops if an install fails. If it
    cannot install, the browser tests skip with a message, except under CI (CI=true), where they fail.
    """
    missing = [] if shutil.which("chromium") else ["chromium", "fonts-dejavu-core", "fonts-liberation"]
    if not has_chinese_font():      # the pages give Chinese terms; without a font they show as boxes
        missing.append("fonts-wqy-microhei")
    if missing:
        if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
            apt_install(missing)
        else:
            say(f"cannot install {' '.join(missing)} here (needs root and apt-get): browser tests will skip")
    assets = ROOT / "tests" / "browser"
    if not (assets / "node_modules" / "mathjax").exists():
        if not shutil.which("npm"):
            say("npm is not installed: browser tests will skip (they need MathJax from npm)")
            return
        npm = ["npm", "ci", "--no-audit", "--no-fund"]
        if status := run(npm, cwd=assets):
            fail(" ".join(npm) + " in tests/browser", "See npm's messages above, then run "
                 f"`(cd tests/browser && {' '.join(npm)})` and this command again.", status)


def apt_install(packages: list[str]) -> None:
    """Install Debian `packages`, waiting up to APT_LOCK_TIMEOUT_S for another apt-get to finish."""
    say(f"installing {' '.join(packages)} from Debian's packages (about a minute)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_S}"]
    by_hand = f"apt-get update && apt-get install -y {' '.join(packages)}"
    if not wait_for_lock(APT_LISTS_LOCK, APT_LOCK_TIMEOUT_S):
        fail(f"apt-get update: another process has held {APT_LISTS_LOCK} for {APT_LOCK_TIMEOUT_S} s",
             f"Wait for the other apt-get to finish; then run `{by_hand}` and this command again.")
    for step in (["apt-get", *wait, "update", "-qq"], ["apt-get", *wait, "install", "-y", "-qq", *packages]):
        if status := run(step, env=env):
            fail(" ".join(step), "The browser tests need these packages. If another apt-get held "
                 f"the lock, wait for it to finish; then run `{by_hand}` and this command again.", status)
    if not shutil.which("chromium") or not has_chinese_font():
        fail(f"apt-get install {' '.join(packages)}", "apt-get succeeded, but Chromium or a font with "
             f"Chinese glyphs is still missing (fc-list :lang=zh); run `{by_hand}` and read its output.")


def wait_for_lock(path: Path, timeout_s: float) -> bool:
    """Wait until no other process holds the lock apt-get takes on `path` (fcntl); False on timeout."""
    import fcntl  # POSIX only, like apt-get

    if not path.exists():
        return True
    deadline = time.monotonic() + timeout_s
    with path.open("a") as handle:
        def taken() -> bool:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            return True

        if not taken():
            say(f"waiting up to {timeout_s:g} s for {path}: another apt-get holds it")
            while not taken():
                if time.monotonic() > deadline:
                    return False
                time.sleep(min(0.5, timeout_s))
        fcntl.lockf(handle, fcntl.LOCK_UN)
    return True


def has_chinese_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"
LOCALE = BOOK / "locale"            # the translations: LOCALE/zh_CN/LC_MESSAGES/<page>.po
ZH = "zh_CN"
ZH_HTML = HTML / "zh"               # the Chinese edition, inside the English site
ZH_BUILD = BOOK / "_build" / "zh" / "html"
# Settings whose paths are relative to the folder of conf.py (Jupyter Book's build has it in book/).
CONFDIR_PATHS = ("bibtex_bibfiles", "html_static_path", "html_extra_path", "templates_path")


def sphinx_conf(into: Path) -> Path:
    """Write the Sphinx conf.py that Jupyter Book derives from book/_config.yml into folder `into`.

    `jupyter-book config sphinx` writes conf.py beside the configuration file it reads, so it reads a
    copy of _config.yml in `into`: book/ never holds a conf.py that could go stale.
    """
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy(BOOK / "_config.yml", into / "_config.yml")
    if status := run([BIN / "jupyter-book", "config", "sphinx", BOOK, "--config", into / "_config.yml"],
                     stdout=subprocess.DEVNULL):
        sys.exit(f"[dev] jupyter-book config sphinx failed (exit status {status})")
    with (into / "conf.py").open("a", encoding="utf-8") as conf:   # paths Sphinx reads from confdir
        conf.write(f"\nimport os as _os\n_book = {str(BOOK)!r}\nfor _key in {CONFDIR_PATHS!r}:\n"
                   "    if _key in globals():\n"
                   "        globals()[_key] = [_os.path.join(_book, p) for p in globals()[_key]]\n")
    return into


def sphinx_build(builder: str, out: Path, *options: str, doctrees: Path | None = None) -> int:
    """sphinx-build of book/ with Jupyter Book's configuration, the stored outputs and book/_ext.

    The doctrees (Sphinx's cache) go to `doctrees`, by default a folder of book/_build/ per builder.
    """
    doctrees = doctrees or BOOK / "_build" / f".doctrees-{builder}-{out.name}"
    with tempfile.TemporaryDirectory() as tmp:
        conf = sphinx_conf(Path(tmp))
        env = os.environ | {"PYTHONPATH": os.pathsep.join(
            p for p in (str(BOOK / "_ext"), os.environ.get("PYTHONPATH", "")) if p)}
        return run([BIN / "sphinx-build", "-b", builder, "-c", conf, "-d", doctrees,
                    "-D", "nb_execution_mode=off", *options, BOOK, out], env=env)


def build_book() -> int:
    """English into book/_build/html/ (Jupyter Book's build), then Chinese into its zh/ folder."""
    start = time.monotonic()
    if status := run([BIN / "jupyter-book", "build", "-W", "--keep-going", BOOK]):
        return status
    middle = time.monotonic()
    # Built apart, then copied in: Sphinx and myst-nb write beside their output folder too.
    status = sphinx_build("html", ZH_BUILD, "-W", "--keep-going", "-q",
                          "-D", f"language={ZH}", "-D", f"locale_dirs={LOCALE}")
    if status == 0:
        shutil.rmtree(ZH_HTML, ignore_errors=True)
        shutil.copytree(ZH_BUILD, ZH_HTML)
    say(f"build times: English {middle - start:.0f} s, Chinese {time.monotonic() - middle:.0f} s")
    return status


def update_translations() -> int:
    """Extract the English text (gettext builder) and merge it into the zh_CN catalogs (sphinx-intl).

    A new or changed English message arrives in its catalog untranslated or fuzzy (with the old
    translation as a suggestion); tests/test_translation.py fails until it is translated.
    """
    pot = BOOK / "_build" / "gettext"
    shutil.rmtree(pot, ignore_errors=True)
    if status := sphinx_build("gettext", pot, "-q"):
        return status
    return run([BIN / "sphinx-intl", "update", "-p", pot, "-d", LOCALE, "-l", ZH])


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    # The book's matrices are small: one BLAS thread is faster than two, and much faster when the
    # two cores are shared (measured: 0.1 ms against 2.5 ms for one gradient product under load).
    # Notebook kernels, nbval and the book build inherit this from here.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if command not in {"book", "test", "execute", "lab", "links", "lock", "translations"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    if command == "lock" and (BIN / "uv").exists():    # no need to install the locks about to change
        return lock(argv[1:])
    ensure_env()
    if command == "lock":
        return lock(argv[1:])
    if command == "book":
        status = build_book()
        if status == 0:
            say(f"built: open {HTML / 'index.html'} (English) or {ZH_HTML / 'index.html'} (Chinese)")
        return status
    if command == "translations":
        return update_translations()
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
