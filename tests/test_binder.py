"""Binder: the configuration a stock BinderHub (repo2docker) accepts, and links derived from one setting.

repo2docker is asked to generate, not build, the Dockerfile Binder would use (`--no-build --debug`
needs no Docker); the tests read that Dockerfile. The launch buttons on the book's pages are checked
in test_browser.py, against the same setting.
"""
import re
import subprocess
import sys
from pathlib import Path

import binder_links
import pytest

ROOT = Path(__file__).resolve().parents[1]


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
    assert copy < install, "requirements.txt ends with `-e .`, which needs the repository copied first"
    assert (ROOT / "requirements.txt").read_text().rstrip().endswith("-e ."), "the helper package"


def test_the_kernel_and_the_jupyter_server_share_one_environment(dockerfile):
    # ipywidgets' front end (jupyterlab_widgets) comes from requirements.txt, which goes to the kernel's
    # environment: if Binder made a separate server environment, the sliders would not render there.
    assert "ENV KERNEL_PYTHON_PREFIX=${NB_PYTHON_PREFIX}" in dockerfile
    pins = (ROOT / "requirements.txt").read_text()
    for package in ("ipywidgets==8.", "jupyterlab_widgets==3.", "jupyterlab==4.", "notebook==7."):
        assert f"\n{package}" in pins, f"requirements.txt should pin {package}*"


def test_binder_sees_no_other_configuration_that_would_override_requirements_txt(dockerfile):
    for name in ("environment.yml", "Pipfile", "binder", ".binder", "setup.py", "install.R", "Project.toml"):
        assert not (ROOT / name).exists(), f"{name} would change what Binder builds"
