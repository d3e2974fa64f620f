"""Binder and set-up: what a stock BinderHub (repo2docker) installs, the lock files it and dev.py
install, dev.py's set-up steps, and links derived from one setting.

repo2docker is asked to generate, not build, the Dockerfile Binder would use (`--no-build --debug`
needs no Docker); the tests read that Dockerfile. The locks are checked against their .in files
offline (recompiling them would need the network). The launch buttons on the book's pages are
checked in test_browser.py, against the same setting.
"""
import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import binder_links
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"requirements.txt": "requirements.in", "requirements-dev.txt": "requirements-dev.in"}
# Build and test tools: in the dev set, never in what Binder installs for readers.
TOOLING = ("jupyter-book", "pytest", "nbval", "hypothesis", "playwright", "jupyter-repo2docker", "ruff",
           "mutmut", "uv")


def test_readme_badge_is_derived_from_the_repository_setting():
    readme = (ROOT / "README.md").read_text()
    assert binder_links.badge() in readme.splitlines(), "run `python3 dev.py links` after changing the URL"


def test_launch_url_follows_each_setting(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/someone/rnn-book/\n  branch: dev\n"
                      "  path_to_book: docs/book\nlaunch_buttons:\n  binderhub_url: https://hub.example/\n")
    s = binder_links.settings(config)
    # without notebook_interface, Jupyter Book's theme opens the classic interface
    assert binder_links.launch_url("gru.ipynb", s) == \
        "https://hub.example/v2/gh/someone/rnn-book/dev?urlpath=tree/docs/book/gru.ipynb"
    assert binder_links.badge(s).startswith("[![Launch on Binder](https://hub.example/badge_logo.svg)](")
    config.write_text(config.read_text() + "  notebook_interface: jupyterlab\n")
    assert binder_links.launch_url("gru.ipynb", binder_links.settings(config)).endswith(
        "?urlpath=lab/tree/docs/book/gru.ipynb")


def test_an_interface_the_theme_does_not_know_is_refused(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/a/b\n"
                      "launch_buttons:\n  notebook_interface: lab\n")
    with pytest.raises(ValueError, match=r"one of \['classic', 'jupyterlab'\], got 'lab'"):
        binder_links.settings(config)


@pytest.mark.parametrize("url", ["", "https://gitlab.com/a/b", "github.com/a/b", "https://github.com/a"])
def test_a_repository_url_binder_cannot_use_is_refused(tmp_path, url):
    config = tmp_path / "_config.yml"
    config.write_text(f"repository:\n  url: '{url}'\n")
    with pytest.raises(ValueError, match="https://github.com/<owner>/<name>"):
        binder_links.settings(config)


@pytest.fixture(scope="module")
def dockerfile():
    repo2docker = Path(sys.executable).parent / "jupyter-repo2docker"
    result = subprocess.run([str(repo2docker), "--no-build", "--debug", str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_binder_uses_python_from_runtime_txt(dockerfile):
    version = re.fullmatch(r"python-(3\.\d+)\s*", (ROOT / "runtime.txt").read_text())[1]
    assert version == "3.11", "requirements.txt is pinned for Python 3.11"
    assert f"Building conda environment for python={version}" in dockerfile


def test_binder_installs_the_pinned_requirements_with_the_whole_repository_present(dockerfile):
    install = dockerfile.index('${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "requirements.txt"')
    copy = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    assert copy < install, "requirements.txt installs `-e .`, which needs the repository copied first"
    assert "-e ." in (ROOT / "requirements.txt").read_text().splitlines(), "the helper package"
    assert "requirements-dev" not in dockerfile, "Binder installs the reader set only"


def test_the_kernel_and_the_jupyter_server_share_one_environment(dockerfile):
    # ipywidgets' front end (jupyterlab_widgets) comes from requirements.txt, which goes to the kernel's
    # environment: if Binder made a separate server environment, the sliders would not render there.
    assert "ENV KERNEL_PYTHON_PREFIX=${NB_PYTHON_PREFIX}" in dockerfile
    pins = (ROOT / "requirements.txt").read_text()
    for package in ("ipywidgets==8.", "jupyterlab-widgets==3.", "jupyterlab==4.", "notebook==7."):
        assert f"\n{package}" in pins, f"requirements.txt should pin {package}*"


def test_binder_sees_no_other_configuration_that_would_override_requirements_txt(dockerfile):
    for name in ("environment.yml", "Pipfile", "binder", ".binder", "setup.py", "install.R", "Project.toml"):
        assert not (ROOT / name).exists(), f"{name} would change what Binder builds"


# --- the lock files and their inputs -------------------------------------------------------------

def included(name: str) -> list[str]:
    """The requirement files that the .in file `name` includes with `-r`."""
    return [line[3:].strip() for line in (ROOT / name).read_text().splitlines() if line.startswith("-r ")]


def direct_requirements(name: str) -> dict[str, Requirement]:
    """The requirements written in the .in file `name`, with those of the files it includes (-r)."""
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split(" #")[0].strip() if not line.startswith("#") else ""
        if line.startswith("-r "):
            found |= direct_requirements(line[3:].strip())
        elif line and not line.startswith("-"):
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = requirement
    return found


def lock_entries(name: str) -> dict[str, tuple[str, set[str]]]:
    """For each pin `pkg==version` in the lock `name`: (version, the sources its `# via` lines name)."""
    entries, current = {}, None
    for line in (ROOT / name).read_text().splitlines():
        pin = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if pin:
            current = canonicalize_name(pin[1])
            entries[current] = (pin[2], set())
        elif line.startswith("-e "):
            current = line
            entries[current] = ("editable", set())
        elif current and (via := re.fullmatch(r"\s+#\s+(?:via\s*)?(\S.*)?", line)) and via[1]:
            entries[current][1].add(via[1].strip())
        elif line and not line.lstrip().startswith("#"):
            raise AssertionError(f"{name}: unexpected line {line!r}")
    return entries


@pytest.mark.parametrize("lock", LOCKS)
def test_each_lock_pins_every_direct_requirement_of_its_input_within_its_range(lock):
    pins = lock_entries(lock)
    for name, requirement in direct_requirements(LOCKS[lock]).items():
        assert name in pins, f"{LOCKS[lock]} asks for {name}, {lock} lacks it: run `python3 dev.py lock`"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), \
            f"{lock} pins {name}=={pins[name][0]}, outside {requirement} in {LOCKS[lock]}"


@pytest.mark.parametrize("lock", LOCKS)
def test_the_packages_a_lock_calls_direct_are_exactly_those_of_its_inputs(lock):
    # a requirement removed from (or added to) an .in file without recompiling shows up here
    entries = lock_entries(lock)
    for source in [LOCKS[lock], *included(LOCKS[lock])]:
        listed = {name for name, (_, via) in entries.items() if f"-r {source}" in via and "-e " not in name}
        own = set(direct_requirements(source)).difference(*map(direct_requirements, included(source)))
        assert listed == own, f"{lock} is out of date with {source}: run `python3 dev.py lock`"


@pytest.mark.parametrize("lock", LOCKS)
def test_each_lock_installs_the_package_editable_and_names_its_compile_command(lock):
    text = (ROOT / lock).read_text()
    assert "-e ." in text.splitlines(), f"{lock} must install the helper package (`-e .` in requirements.in)"
    header = "\n".join(text.splitlines()[:2])
    assert "python3 dev.py lock" in header and f"uv pip compile {LOCKS[lock]} " in header, header
    assert "/tmp" not in text and str(ROOT) not in text, f"{lock} names a path of this machine"


def test_the_dev_lock_pins_every_reader_package_at_the_reader_version():
    # the tests run the notebooks with the versions Binder gives the readers
    reader, dev = lock_entries("requirements.txt"), lock_entries("requirements-dev.txt")
    assert len(dev) > len(reader) > 50
    for name, (version, _) in reader.items():
        assert name in dev, f"requirements-dev.txt lacks {name}"
        assert dev[name][0] == version, f"{name}: {version} for readers, {dev[name][0]} for the tests"
        if not name.startswith("-e "):
            assert "-c requirements.txt" in dev[name][1], f"{name} is not constrained by requirements.txt"


def test_binder_gets_none_of_the_build_and_test_tooling():
    reader, dev_inputs = lock_entries("requirements.txt"), direct_requirements("requirements-dev.in")
    for tool in TOOLING:
        assert tool in dev_inputs, f"{tool} should be a direct requirement of requirements-dev.in"
        assert tool not in reader, f"requirements.txt (Binder) pins the dev tool {tool}"
        assert tool not in direct_requirements("requirements.in")


def test_jupyter_book_is_capped_below_2():
    book = direct_requirements("requirements-dev.in")["jupyter-book"]
    assert not book.specifier.contains("2.0.0") and book.specifier.contains("1.0.4")


def test_everything_the_notebooks_and_the_package_import_is_a_reader_requirement():
    sources = [p.read_text() for p in ROOT.glob("code/recurrent/*.py")]
    for notebook in ROOT.glob("book/*.ipynb"):
        sources += ["".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]
                    if c["cell_type"] == "code"]
    imported = set()
    for node in (n for text in sources for n in ast.walk(ast.parse(text))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    distribution = {"PIL": "pillow", "IPython": "ipython"}
    own_or_stdlib = {"recurrent"} | set(sys.stdlib_module_names) | {"__future__"}
    needed = {canonicalize_name(distribution.get(m, m)) for m in imported - own_or_stdlib}
    assert "numpy" in needed and "ipywidgets" in needed
    missing = needed - set(direct_requirements("requirements.in"))
    assert not missing, f"imported by the notebooks or the package, not in requirements.in: {missing}"


# --- dev.py: the environment's stamp and failed set-up steps --------------------------------------

@pytest.fixture()
def dev(monkeypatch, tmp_path):
    """dev.py as a module, with ROOT in a temporary folder and commands recorded instead of run."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "APT_LISTS_LOCK", tmp_path / "apt-lists.lock")   # held by no one
    module.calls = []
    return module


def test_every_requirements_file_is_part_of_the_environments_stamp(dev, tmp_path):
    on_disk = {p.name for p in ROOT.glob("requirements*") if p.suffix in (".in", ".txt")}
    assert on_disk == set(dev.LOCKS) | set(dev.LOCKS.values()) and on_disk <= set(dev.SETUP_FILES)
    for name in dev.SETUP_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    stamp = dev.setup_digest(tmp_path)
    for name in dev.SETUP_FILES:
        before = (tmp_path / name).read_text()
        (tmp_path / name).write_text(before + "\n")
        assert dev.setup_digest(tmp_path) != stamp, f"a change to {name} does not reinstall .venv/"
        (tmp_path / name).write_text(before)
    assert dev.setup_digest(tmp_path) == stamp


def failing_at(dev, monkeypatch, word: str, status: int = 100):
    """Make dev.run record each command and fail (exit `status`) on the first one containing `word`."""
    def run(cmd, **kw):
        dev.calls.append([str(c) for c in cmd])
        return status if word in dev.calls[-1] else 0
    monkeypatch.setattr(dev, "run", run)


@pytest.mark.parametrize("step", ["update", "install"])
def test_an_apt_get_that_fails_stops_the_set_up_and_says_what_to_run(dev, monkeypatch, step):
    failing_at(dev, monkeypatch, step)
    with pytest.raises(SystemExit) as stop:
        dev.apt_install(["chromium", "fonts-wqy-microhei"])
    message = str(stop.value)
    assert f"set-up failed: apt-get -o DPkg::Lock::Timeout=120 {step}" in message
    assert "exit status 100" in message
    assert "apt-get install -y chromium fonts-wqy-microhei" in message
    assert all("DPkg::Lock::Timeout=120" in call for call in dev.calls), "apt-get must wait for the dpkg lock"
    assert len(dev.calls) == (1 if step == "update" else 2), "nothing runs after a failed step"


def test_apt_get_update_waits_for_the_lists_lock_and_stops_when_it_stays_held(dev, monkeypatch, tmp_path):
    # apt-get update fails at once on a held lock (it ignores DPkg::Lock::Timeout): dev.py waits itself
    lock = tmp_path / "apt-lists.lock"
    lock.touch()
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time\n"
                               f"f = open({str(lock)!r}, 'a'); fcntl.lockf(f, fcntl.LOCK_EX)\n"
                               "print('held', flush=True); time.sleep(float(sys.argv[1]))", "1.5"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        assert not dev.wait_for_lock(lock, timeout_s=0.2)
        failing_at(dev, monkeypatch, "no such step")
        monkeypatch.setattr(dev, "APT_LOCK_TIMEOUT_S", 0.2)
        with pytest.raises(SystemExit, match=r"another process has held .*apt-lists.lock for 0.2 s"):
            dev.apt_install(["chromium"])
        assert dev.calls == [], "apt-get must not run while the lock is held"
        assert dev.wait_for_lock(lock, timeout_s=30), "the lock is free once its holder exits"
        assert 1.0 < time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()


def test_an_apt_get_that_succeeds_but_leaves_chromium_missing_stops_too(dev, monkeypatch):
    failing_at(dev, monkeypatch, "no such step")
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="Chromium or a font with Chinese glyphs is still missing"):
        dev.apt_install(["chromium"])


def test_a_failed_npm_install_stops_the_set_up(dev, monkeypatch, tmp_path):
    (tmp_path / "tests" / "browser").mkdir(parents=True)
    failing_at(dev, monkeypatch, "npm", status=1)
    monkeypatch.setattr(dev.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(dev, "has_chinese_font", lambda: True)
    with pytest.raises(SystemExit, match=r"set-up failed: npm ci .* in tests/browser \(exit status 1\)"):
        dev.ensure_browser()
    assert dev.calls == [["npm", "ci", "--no-audit", "--no-fund"]]


@pytest.mark.parametrize("step", ["install", "check"])
def test_a_failed_pip_step_stops_the_set_up_and_leaves_no_stamp(dev, monkeypatch, tmp_path, step):
    for name in dev.SETUP_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setattr(dev, "PY", Path(sys.executable))          # an existing interpreter: no venv is made
    monkeypatch.setattr(dev, "STAMP", tmp_path / "stamp")
    failing_at(dev, monkeypatch, step, status=1)
    with pytest.raises(SystemExit, match=f"set-up failed: pip {step}"):
        dev.ensure_env()
    assert not (tmp_path / "stamp").exists(), "a failed install must be retried on the next command"
    assert dev.calls[0][-4:] == ["install", "-q", "-r", "requirements-dev.txt"]
