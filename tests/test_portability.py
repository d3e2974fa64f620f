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
import subprocess
import sys
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
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def passes(tmp_path_factory):
    """Both variants at once: each kernel uses one core, and the machine has two."""
    running = {}
    for variant in VARIANTS:
        folder = tmp_path_factory.mktemp(variant)
        running[variant] = (start_nbval(variant, folder), folder)
    yield running
    for process, _ in running.values():
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_notebook_output_is_the_same_on_other_cpu_code_paths(variant, passes):
    process, folder = passes[variant]
    returncode = process.wait(timeout=1800)
    output = (folder / "nbval.log").read_text()
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
