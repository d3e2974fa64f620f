"""Shared test set-up: a deterministic hypothesis profile, a non-interactive matplotlib, and headless
Chromium for the browser tests (test_browser.py, test_jupyter.py)."""
import os
import shutil
import subprocess
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# derandomize: the same examples on every run, so CI is reproducible; deadline off because a
# finite-difference check on the larger drawn shapes can take a few hundred milliseconds.
settings.register_profile("book", derandomize=True, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("book")

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]


def require_browser(reason: str | None = None) -> None:
    """Skip when Chromium (or `reason`) is missing, with a message; under CI (CI=true), fail instead."""
    if not Path(CHROMIUM).exists():
        reason = "Chromium is not installed (python3 dev.py test installs it from Debian's packages)"
    elif not reason:
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        if not fonts.strip():
            reason = "no font with Chinese glyphs: the Chinese terms would show as boxes (fonts-wqy-microhei)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run under CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's package) driven by Playwright, shared by every browser test."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


_PORTABILITY = []          # the test_portability module, once its background passes are started


@pytest.hookimpl(trylast=True)          # after -k and -m have deselected what will not run
def pytest_collection_modifyitems(session, config, items):
    """Start the portability passes (tests/test_portability.py) in the background as soon as they are
    collected, so that they run beside the other tests; their tests wait for the results."""
    import tempfile

    if config.option.collectonly:
        return
    for item in items:
        if item.nodeid.startswith("tests/test_portability.py::test_every_notebook"):
            item.module.start_in_background(Path(tempfile.mkdtemp(prefix="recurrent-portability-")))
            _PORTABILITY.append(item.module)
            break


def pytest_sessionfinish(session, exitstatus):
    for module in _PORTABILITY:
        module.BACKGROUND.stop()
