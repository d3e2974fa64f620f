"""The built HTML book in a real browser: headless Chromium driven by Playwright.

Every page is served on 127.0.0.1 and opened at a phone width (390 px) and a desktop width. The tests
have no network: requests to public CDNs are answered from the npm copy of MathJax in
tests/browser/node_modules (installed by `python3 dev.py test`) or refused. Checked on every page:
no uncaught JavaScript error, math rendered, every image loaded, no sideways scrolling, no ipywidgets
left in the page (they would be dead without a kernel). Every kernel-free control must change the
figure when moved. Screenshots go to artifacts/screenshots/.

Without Chromium these tests skip with a message, except under CI (CI=true), where they fail.
"""
import functools
import http.server
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import binder_links
import pytest

from conftest import SHOTS, require_browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"
MATHJAX = ROOT / "tests" / "browser" / "node_modules" / "mathjax" / "es5"
PAGES = ["intro"] + re.findall(r"file:\s*(\S+)", (ROOT / "book" / "_toc.yml").read_text())
WIDTHS = {"phone": 390, "desktop": 1280}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):          # one line per request would bury pytest's report
        pass


@pytest.fixture(scope="module")
def site():
    if not (MATHJAX / "tex-mml-chtml.js").exists():
        require_browser("MathJax is not installed for the tests (cd tests/browser && npm ci)")
    if not (HTML / "intro.html").exists():
        jupyter_book = Path(sys.executable).parent / "jupyter-book"
        subprocess.run([str(jupyter_book), "build", "book"], cwd=ROOT, check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _offline(route):
    """Serve MathJax (script and fonts) from the npm copy; refuse every other outside request."""
    url = route.request.url
    match = re.search(r"/mathjax@3[^/]*/es5/(.+?)(\?.*)?$", url)
    if match and (MATHJAX / match.group(1)).is_file():
        route.fulfill(path=str(MATHJAX / match.group(1)), headers={"Access-Control-Allow-Origin": "*"})
    else:
        route.abort()


def open_page(browser, site, name, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), _offline)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))             # uncaught exceptions
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.url.startswith(site) and r.status >= 400 else None)        # missing local files
    page.goto(f"{site}/{name}.html", wait_until="load")
    if page.locator('script[src*="mathjax"]').count():      # pages without math do not load MathJax
        page.wait_for_function("() => window.MathJax && window.MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => window.MathJax.startup.promise")
    return context, page, errors


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
@pytest.mark.parametrize("name", PAGES)
def test_page_renders_cleanly(browser, site, name, width):
    context, page, errors = open_page(browser, site, name, WIDTHS[width])
    try:
        assert errors == [], f"JavaScript errors on {name}: {errors}"
        math = page.locator(".math").count()
        assert page.locator("mjx-container").count() >= math, "some math was not typeset"
        if name not in ("intro", "references"):
            assert math > 0, "a chapter page without any rendered math"
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.src.slice(0, 80))")
        assert broken == [], f"images that did not load: {broken}"
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow} px at {WIDTHS[width]} px"
        assert page.locator(".jupyter-widgets, .widget-area").count() == 0, "a dead ipywidgets control"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    finally:
        context.close()


EXPLORER_PAGES = [p for p in PAGES if (ROOT / "book" / f"{p}.ipynb").exists()
                  and "interactive.sprite_explorer(" in (ROOT / "book" / f"{p}.ipynb").read_text()]


def test_the_book_has_kernel_free_explorers():
    assert len(EXPLORER_PAGES) >= 3, EXPLORER_PAGES


@pytest.mark.parametrize("name", EXPLORER_PAGES)
def test_every_kernel_free_control_changes_the_figure(browser, site, name):
    context, page, errors = open_page(browser, site, name, WIDTHS["desktop"])
    try:
        explorers = page.locator(".rnn-scrub")
        assert explorers.count() > 0, f"{name} builds an explorer but the page shows none"
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            image = explorer.locator(".rnn-scrub-view img")
            assert explorer.locator(":disabled").count() == 0, "controls disabled: script not run"
            assert explorer.locator(".rnn-scrub-note").count() == 0
            assert image.is_visible(), "the explorer shows no frame"
            box = image.locator("xpath=..").bounding_box()
            assert box["height"] > 100 and box["width"] > 200, f"the explorer's frame is {box}"
            for slider in explorer.locator('input[type="range"]').all():
                before = image.get_attribute("data-frame")
                slider.focus()
                key = "ArrowLeft" if slider.input_value() == slider.get_attribute("max") else "ArrowRight"
                page.keyboard.press(key)
                label = slider.get_attribute("aria-label")
                assert image.get_attribute("data-frame") != before, f"slider {label}: figure unchanged"
            for menu in explorer.locator("select").all():
                before = image.get_attribute("data-frame")
                options = menu.locator("option").all()
                current = menu.input_value()
                menu.select_option(next(o.get_attribute("value") for o in options
                                        if o.get_attribute("value") != current))
                assert image.get_attribute("data-frame") != before, "a menu did not change the figure"
            explorer.scroll_into_view_if_needed()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-explorer-{i}.png"))
        assert errors == []
    finally:
        context.close()


NOTEBOOK_PAGES = [p for p in PAGES if (ROOT / "book" / f"{p}.ipynb").exists()]


@pytest.mark.parametrize("name", NOTEBOOK_PAGES)
def test_notebook_page_offers_binder_and_its_executed_notebook(browser, site, name):
    context, page, errors = open_page(browser, site, name, WIDTHS["phone"])
    try:
        launch = page.locator(".dropdown-launch-buttons")
        launch.locator("button.dropdown-toggle").click()
        binder = launch.locator('a[href*="/v2/gh/"]')
        assert binder.is_visible(), "the launch menu did not open"
        assert binder.get_attribute("href") == binder_links.launch_url(f"{name}.ipynb")

        download = page.locator(".dropdown-download-buttons")
        download.locator("button.dropdown-toggle").click()
        link = download.locator(f'a[href$="_sources/{name}.ipynb"]')
        assert link.is_visible(), "no visible download link for the page's .ipynb"
        served = page.request.get(f"{site}/_sources/{name}.ipynb")
        assert served.ok
        stored = json.loads((ROOT / "book" / f"{name}.ipynb").read_text())
        got = served.json()
        assert [c.get("outputs") for c in got["cells"]] == [c.get("outputs") for c in stored["cells"]]
        assert any(c.get("outputs") for c in got["cells"]), "the downloaded notebook has no outputs"
        assert errors == []
    finally:
        context.close()
