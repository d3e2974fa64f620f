"""The built HTML book in a real browser: headless Chromium driven by Playwright.

Every page of both editions (English at the site's root, Chinese under zh/) is served on 127.0.0.1
and opened at a phone width (390 px) and a desktop width. The tests have no network: requests to
public CDNs are answered from the npm copy of MathJax in tests/browser/node_modules (installed by
`python3 dev.py test`) or refused. Checked on every page:
no uncaught JavaScript error, math rendered, every image loaded, no sideways scrolling, no ipywidgets
left in the page (they would be dead without a kernel), the page's language (lang="en" or "zh-CN").
Every kernel-free control must change the figure when moved, in both editions. The Chinese pages'
text must be drawn with a font that has Chinese glyphs (what Chromium reports it used, not boxes),
the Chinese search must find a page by a Chinese term, and each page's link to its twin in the
other edition must lead there. Screenshots go to artifacts/screenshots/.

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
EDITIONS = {"en": "", "zh": "zh/"}            # edition -> its folder in the site
LANG = {"en": "en", "zh": "zh-CN"}            # edition -> the <html lang> of its pages


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):          # one line per request would bury pytest's report
        pass


@pytest.fixture(scope="module")
def site():
    if not (MATHJAX / "tex-mml-chtml.js").exists():
        require_browser("MathJax is not installed for the tests (cd tests/browser && npm ci)")
    if not all((HTML / folder / "intro.html").exists() for folder in EDITIONS.values()):
        subprocess.run([sys.executable, str(ROOT / "dev.py"), "book"], cwd=ROOT, check=True,
                       capture_output=True)
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


def open_page(browser, site, name, width, edition="en"):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), _offline)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))             # uncaught exceptions
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.url.startswith(site) and r.status >= 400 else None)        # missing local files
    page.goto(f"{site}/{EDITIONS[edition]}{name}.html", wait_until="load")
    if page.locator('script[src*="mathjax"]').count():      # pages without math do not load MathJax
        page.wait_for_function("() => window.MathJax && window.MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => window.MathJax.startup.promise")
    return context, page, errors


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("edition", EDITIONS)
def test_page_renders_cleanly(browser, site, edition, name, width):
    context, page, errors = open_page(browser, site, name, WIDTHS[width], edition)
    try:
        assert errors == [], f"JavaScript errors on {name}: {errors}"
        assert page.evaluate("() => document.documentElement.lang") == LANG[edition]
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
        prefix = "" if edition == "en" else f"{edition}-"
        page.screenshot(path=str(SHOTS / f"{prefix}{name}-{width}.png"), full_page=True)
    finally:
        context.close()


EXPLORER_PAGES = [p for p in PAGES if (ROOT / "book" / f"{p}.ipynb").exists()
                  and "interactive.sprite_explorer(" in (ROOT / "book" / f"{p}.ipynb").read_text()]


def test_the_book_has_kernel_free_explorers():
    assert len(EXPLORER_PAGES) >= 3, EXPLORER_PAGES


@pytest.mark.parametrize("name", EXPLORER_PAGES)
@pytest.mark.parametrize("edition", EDITIONS)
def test_every_kernel_free_control_changes_the_figure(browser, site, edition, name):
    context, page, errors = open_page(browser, site, name, WIDTHS["desktop"], edition)
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
            prefix = "" if edition == "en" else f"{edition}-"
            page.screenshot(path=str(SHOTS / f"{prefix}{name}-explorer-{i}.png"))
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


def _chinese_fonts() -> set[str]:
    """Families fontconfig says cover Chinese (every name it lists for each of them)."""
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}


_PROBE_CHINESE_TEXT = """() => {
    // Mark up to 12 elements of the article whose own text has Chinese characters; return how
    // many Chinese characters each one's own text holds.
    const counts = [];
    const cjk = /[\\u3400-\\u9fff]/g;
    for (const el of document.querySelectorAll("main h1, main h2, main p, main li, main dd")) {
        const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join("");
        const n = (own.match(cjk) || []).length;
        if (n && el.getClientRects().length) {
            el.setAttribute("data-cjk-probe", counts.length);
            counts.push(n);
            if (counts.length === 12) break;
        }
    }
    return counts;
}"""


@pytest.mark.parametrize("name", PAGES)
def test_chinese_text_is_drawn_with_chinese_glyphs(browser, site, name):
    """Chromium's own account (DevTools CSS.getPlatformFontsForNode) of the fonts it drew a page's
    Chinese text with: each probed element's Chinese characters come from a font that has them;
    without one they would be drawn as missing-glyph boxes from some other font."""
    chinese_fonts = _chinese_fonts()
    assert chinese_fonts, "fontconfig knows no font with Chinese glyphs"
    context, page, errors = open_page(browser, site, name, WIDTHS["desktop"], "zh")
    try:
        counts = page.evaluate(_PROBE_CHINESE_TEXT)
        assert counts, f"zh/{name}.html shows no Chinese text in its article"
        cdp = context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        for i, chinese in enumerate(counts):
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f'[data-cjk-probe="{i}"]'})
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
            drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] in chinese_fonts)
            assert drawn >= chinese, (f"element {i}: {chinese} Chinese characters, {drawn} glyphs from "
                                      f"a Chinese font; fonts used: {fonts}")
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("term, expected", [("遗忘门", "lstm"), ("束搜索", "seq2seq"),
                                            ("雅可比矩阵", "svd_view")])
def test_chinese_search_finds_the_page_of_a_chinese_term(browser, site, term, expected):
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), _offline)
    page = context.new_page()
    try:
        page.goto(f"{site}/zh/search.html?q={term}", wait_until="load")
        page.wait_for_function("() => { const s = document.querySelector('#search-results .search-summary');"
                               " return s && s.textContent.trim().length > 0; }", timeout=30000)
        found = page.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')]"
                              ".map(a => a.getAttribute('href'))")
        pages = {re.sub(r"\.html.*$", "", href).split("/")[-1] for href in found}
        assert expected in pages, f"searching {term!r} found {sorted(pages)}"
    finally:
        context.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_each_page_links_to_the_same_page_in_the_other_edition(edition):
    """In the built HTML: every page's edition link points at the same page of the other edition."""
    other = next(e for e in EDITIONS if e != edition)
    for path in sorted((HTML / EDITIONS[edition]).glob("*.html")):
        text = path.read_text(encoding="utf-8")
        if path.name == "index.html" and "<html" not in text:    # Jupyter Book's redirect to intro
            continue
        assert f'<html lang="{LANG[edition]}"' in text, f"{path.name}: not lang={LANG[edition]}"
        links = re.findall(r'class="[^"]*recurrent-edition-switch[^"]*" href="([^"]+)"', text)
        assert len(links) == 1, f"{edition}/{path.name}: {len(links)} edition links"
        target = (path.parent / links[0]).resolve()
        assert target == (HTML / EDITIONS[other] / path.name).resolve(), f"{path.name} -> {links[0]}"
        assert target.exists(), f"{edition}/{path.name} links to a missing {links[0]}"


@pytest.mark.parametrize("name", ["intro", "lstm"])
def test_the_edition_switch_leads_there_and_back_at_phone_width(browser, site, name):
    context, page, errors = open_page(browser, site, name, WIDTHS["phone"], "en")
    try:
        for edition in ("zh", "en"):
            switch = page.locator("a.recurrent-edition-switch")
            assert switch.is_visible(), "no visible edition link in the page header"
            with page.expect_navigation():
                switch.click()
            assert page.url == f"{site}/{EDITIONS[edition]}{name}.html"
            assert page.evaluate("() => document.documentElement.lang") == LANG[edition]
        assert errors == []
    finally:
        context.close()
