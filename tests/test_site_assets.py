"""Every script a page loads is the site's own or pinned with an integrity hash (book/_ext/site_assets.py).

The browser tests open every page of both editions (English at the root, Chinese under zh/) with the
network cut off as in test_browser.py: the CDN's MathJax is answered from the npm copy pinned in
tests/browser/package.json, so Chromium checks the pages' integrity hash against that file. Also
checked: the theme's icons still render from its web fonts, without fontawesome.js.
"""
import base64
import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

import test_browser
from test_browser import PAGES, site  # noqa: F401  (site: the fixture serving the built book)
from test_links import build_both_editions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import site_assets  # noqa: E402

ASSETS = ROOT / "tests" / "browser"
EDITIONS = {"en": "", "zh": "zh/"}


@pytest.fixture(scope="module", autouse=True)
def both_editions():
    """Before `site` serves the book: both editions built (test_book's build is English only)."""
    build_both_editions(test_browser.HTML)


def test_mathjax_pin_is_the_tests_npm_release():
    pinned = json.loads((ASSETS / "package.json").read_text())["devDependencies"]["mathjax"]
    locked = json.loads((ASSETS / "package-lock.json").read_text())["packages"]["node_modules/mathjax"]
    assert pinned == locked["version"] == site_assets.MATHJAX_VERSION
    assert f"mathjax@{site_assets.MATHJAX_VERSION}/" in site_assets.MATHJAX_URL
    assert site_assets.MATHJAX_URL.endswith(site_assets.MATHJAX_FILE)


def test_mathjax_integrity_hash_is_that_of_the_npm_file():
    npm_file = ASSETS / "node_modules" / "mathjax" / site_assets.MATHJAX_FILE
    if not npm_file.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{npm_file} is missing under CI (python3 dev.py test installs it)")
        pytest.skip("MathJax is not installed for the tests (cd tests/browser && npm ci)")
    digest = base64.b64encode(hashlib.sha384(npm_file.read_bytes()).digest()).decode()
    assert site_assets.MATHJAX_SRI == f"sha384-{digest}"


def test_drop_fontawesome_script_removes_only_that_tag():
    head = ('<link rel="stylesheet" href="_static/styles/theme.css" />\n'
            '  <script defer src="../_static/scripts/fontawesome.js?digest=55c2"></script>\n'
            '  <script src="_static/doctools.js?v=1"></script>\n')
    trimmed = site_assets.drop_fontawesome_script(head)
    assert "fontawesome" not in trimmed
    assert trimmed == head.replace('  <script defer src="../_static/scripts/fontawesome.js?digest=55c2">'
                                   '</script>\n', "")
    assert site_assets.drop_fontawesome_script(trimmed) == trimmed


def _pages(edition):
    return [pytest.param(edition, name, id=f"{edition}-{name}") for name in PAGES]


def _open(browser, site, edition, name):  # noqa: F811
    """The page as test_browser.open_page opens it, plus every script request it made."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), test_browser._offline)
    page = context.new_page()
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto(f"{site}/{EDITIONS[edition]}{name}.html", wait_until="load")
    return context, page, scripts


@pytest.mark.parametrize("edition, name", _pages("en") + _pages("zh"))
def test_every_outside_script_is_pinned_with_an_integrity_hash(browser, site, edition, name):  # noqa: F811
    context, page, requested = _open(browser, site, edition, name)
    try:
        if page.locator("script[src*='mathjax']").count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=15000)       # an integrity mismatch blocks the script
            page.evaluate("() => MathJax.startup.promise")
            assert page.locator("mjx-container").count() > 0
        tags = page.evaluate("""() => [...document.querySelectorAll('script[src]')].map(s =>
            ({src: s.src, integrity: s.integrity, crossorigin: s.crossOrigin}))""")
        outside = [t for t in tags if not t["src"].startswith(site)]
        unpinned = [t["src"] for t in outside if not t["integrity"].startswith("sha384-")
                    or t["crossorigin"] != "anonymous"]
        assert unpinned == [], f"scripts from outside the site without an integrity hash: {unpinned}"
        assert all(re.search(r"@\d+\.\d+\.\d+/", t["src"]) for t in outside), outside
        pinned = {t["src"] for t in outside}
        loose = [url for url in requested if not url.startswith(site) and url not in pinned]
        assert loose == [], f"scripts fetched from outside the site by other means: {loose}"
        assert not any("fontawesome.js" in url for url in requested)
    finally:
        context.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_theme_icons_render_from_the_web_fonts(browser, site, edition):  # noqa: F811
    context, page, requested = _open(browser, site, edition, "bptt")
    try:
        page.evaluate("() => document.fonts.ready")
        icons = page.evaluate("""() => [...document.querySelectorAll('i[class*="fa-"]')]
            .filter(i => i.offsetParent !== null).map(i => {
                const before = getComputedStyle(i, '::before');
                return {cls: i.className, content: before.content, font: before.fontFamily,
                        weight: before.fontWeight, width: i.getBoundingClientRect().width};
            })""")
        assert len(icons) >= 5, icons          # search, theme switch, launch, download, full screen...
        for icon in icons:
            assert icon["content"] not in ("none", "normal", '""'), f"no glyph for {icon}"
            assert "Font Awesome 6" in icon["font"] and icon["width"] > 4, icon
            face = f'{icon["weight"]} 16px "{icon["font"].split(",")[0].strip(chr(34))}"'
            assert page.evaluate("f => document.fonts.check(f)", face), f"font not loaded: {icon}"
        assert page.locator("svg.svg-inline--fa").count() == 0, "fontawesome.js ran after all"
    finally:
        context.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_icon_fonts_hold_just_the_icons_the_site_names(edition):
    from fontTools.ttLib import TTFont

    static = test_browser.HTML / EDITIONS[edition] / "_static"
    css = (static / site_assets.THEME_CSS).read_text(encoding="utf-8")
    assert ".woff2)" not in css, "a @font-face still reads a full Font Awesome font"
    texts = [p.read_text(encoding="utf-8") for p in (static.parent).glob("*.html")]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in static.rglob("*.js")]
    codes = site_assets.icon_codepoints(css)
    wanted = {codes[n] for n in site_assets.used_icons(texts) if n in codes}
    assert {codes["fa-github"], codes["fa-magnifying-glass"], codes["fa-sun"]} <= wanted
    held = {}
    for font in site_assets.FONT_NAMES:
        path = static / site_assets.FONTS / f"{font}.subset.woff"
        assert f"{font}.subset.woff" in css and path.stat().st_size < 30_000, path
        held[font] = set(TTFont(str(path)).getBestCmap())
    assert wanted <= held["fa-solid-900"] | held["fa-brands-400"] | held["fa-regular-400"]
    assert codes["fa-github"] in held["fa-brands-400"] and codes["fa-bars"] in held["fa-solid-900"]
    assert len(held["fa-solid-900"]) < 3 * len(wanted), "the subset kept icons no page names"


def test_icon_classes_map_to_code_points_and_subset_rules_are_rewritten():
    css = ('.fa-github:before{content:"\\f09b"}.fa-github-square:before,.fa-square-github:before'
           '{content:"\\f092"}@font-face{font-family:X;src:url(../vendor/fontawesome/webfonts/'
           'fa-brands-400.woff2) format("woff2"),url(../vendor/fontawesome/webfonts/fa-brands-400.ttf)'
           ' format("truetype")}')
    assert site_assets.icon_codepoints(css) == {"fa-github": 0xF09B, "fa-github-square": 0xF092,
                                                "fa-square-github": 0xF092}
    assert site_assets.used_icons(['<i class="fab fa-github fa-lg">']) == {"fa-github", "fa-lg"}
    rewritten = site_assets.point_at_subset(css, "fa-brands-400")
    assert rewritten.endswith('src:url(../vendor/fontawesome/webfonts/fa-brands-400.subset.woff) '
                              'format("woff")}')
    assert site_assets.point_at_subset(css, "fa-solid-900") == css
