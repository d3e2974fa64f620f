"""Every stored notebook output on every CPU: nbval strict again, with numpy on other code paths.

The main test run checks the notebooks (nbval strict, configured in pyproject.toml) with numpy on
this machine's fastest kernels. A reader's machine may pick others: numpy dispatches tanh, exp and its
reductions at run time, so AVX-512, AVX2, the x86-64-v2 baseline and arm64 differ in the last bits,
and any output that depends on those bits differs too. These tests run nbval strict over every
notebook again, in a fresh process:

- ``avx2``: numpy narrowed to AVX2 (``NPY_DISABLE_CPU_FEATURES``), as on a CPU without AVX-512;
- ``baseline-nudged``: numpy narrowed to its x86-64-v2 baseline, and every float64 result of tanh, exp
  and log moved by about one unit in the last place (tests/portability/jitter.py, loaded as an IPython
  start-up file), which stands in for the kernels this machine cannot run (arm64, other libms).

Features a CPU lacks are ignored by numpy, so on a machine without AVX-512 the first pass repeats the
native one; the second still differs in its rounding.
"""
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
VARIANTS = {
    "avx2": {"NPY_DISABLE_CPU_FEATURES": AVX512},
    "baseline-nudged": {"NPY_DISABLE_CPU_FEATURES": "X86_V3 " + AVX512},
}


def start_nbval(variant: str, folder: Path) -> subprocess.Popen:
    """nbval strict over book/ in a new process, with numpy on the variant's code path."""
    env = os.environ | VARIANTS[variant]
    if variant.endswith("nudged"):
        startup = folder / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        shutil.copy(ROOT / "tests" / "portability" / "jitter.py", startup / "00-jitter.py")
        env["IPYTHONDIR"] = str(folder / "ipython")
    log = open(folder / "nbval.log", "w")
    command = [sys.executable, "-m", "pytest", "book", "-q", "--no-header", "-p", "no:randomly"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)      # its own process group: stop() ends its kernels too


class Background:
    """The variants, one after the other, in a thread started as soon as pytest has collected these tests
    (tests/conftest.py), so that they run beside the rest of the suite instead of after it: the main
    run keeps one core busy, a pass the other."""

    def __init__(self, folder: Path):
        self.folder, self.results, self.done = folder, {}, {v: threading.Event() for v in VARIANTS}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.processes, self.stopped = [], False

    def _run(self):
        for variant in VARIANTS:
            if self.stopped:
                break
            folder = self.folder / variant
            folder.mkdir(parents=True)
            process = start_nbval(variant, folder)
            self.processes.append(process)
            try:
                returncode = process.wait(timeout=1800)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                returncode = "timeout after 1800 s"
            self.results[variant] = (returncode, (folder / "nbval.log").read_text())
            self.done[variant].set()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopped = True
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)


BACKGROUND: Background | None = None


def start_in_background(folder: Path) -> None:
    """Called by tests/conftest.py once the variants' tests are collected."""
    global BACKGROUND
    if BACKGROUND is None:
        BACKGROUND = Background(folder).start()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_notebook_output_is_the_same_on_other_cpu_code_paths(variant, tmp_path_factory):
    start_in_background(tmp_path_factory.mktemp("portability"))     # if conftest did not start them
    assert BACKGROUND.done[variant].wait(timeout=3600), f"the {variant} pass did not finish"
    returncode, output = BACKGROUND.results[variant]
    tail = output[-8000:]
    assert returncode == 0, f"nbval strict failed with numpy on the {variant} code path:\n{tail}"
    assert " passed" in output and " failed" not in output, tail


def test_the_nudge_changes_numpy_results(tmp_path):
    """The start-up file must really perturb the kernel's numpy, or the second variant tests nothing."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "portability" / "jitter.py", startup / "00-jitter.py")
    code = ("import numpy as np; x = np.linspace(0.1, 2, 5); "
            "print(repr(np.tanh(x).tolist() + np.exp(x).tolist()))")
    (tmp_path / "plain").mkdir()

    def values(ipython_dir):
        out = subprocess.run([sys.executable, "-m", "IPython", "-c", code], capture_output=True, text=True,
                             env=os.environ | {"IPYTHONDIR": str(ipython_dir)}, check=True)
        return eval(out.stdout.strip().splitlines()[-1])          # a list of floats printed by repr

    plain, nudged = values(tmp_path / "plain"), values(tmp_path / "ipython")
    assert all(a != b for a, b in zip(plain, nudged)), (plain, nudged)
    assert max(abs(a - b) / abs(a) for a, b in zip(plain, nudged)) < 1e-15
