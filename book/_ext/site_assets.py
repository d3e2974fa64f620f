"""What every page loads from outside the site, pinned; and the theme's icon script left out.

MathJax. Sphinx's default MathJax address names a floating major version (`mathjax@3`), so what a
reader's browser runs could change under the book at any time, and nothing checks it. This
extension points every page at one exact release on the CDN and gives the script tag a Subresource
Integrity hash: a browser refuses the file unless its SHA-384 digest is the one below. The hash
was computed from the same release's npm package (`tests/browser/package.json` pins it, and
`package-lock.json` pins that package's own sha512), and tests/test_site_assets.py recomputes it
from that file, so the pin, the hash and the tests' copy of MathJax cannot drift apart.

Font Awesome. pydata-sphinx-theme loads `fontawesome.js` (1.5 MB, 0.54 MB compressed) on every
page: it swaps each `<i class="fa-...">` icon for an inline SVG. The theme's stylesheet already
carries Font Awesome's web-font rules (and ships the fonts), which draw the same icons from those
`<i>` elements, so the script only duplicates them. After the build, this removes the script's tag
from every page and the script (and its source map) from the output. The fonts themselves hold
every Font Awesome icon (0.27 MB for the two a page needs) while the theme shows about twenty: the
build also writes a subset of each font with just the icons named in the pages and the theme's
scripts (fontTools, a matplotlib dependency; WOFF, as WOFF2 would need brotli), and points the
stylesheet's @font-face rules at those subsets.
"""
from __future__ import annotations

import re
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
MATHJAX_URL = f"https://cdn.jsdelivr.net/npm/mathjax@{MATHJAX_VERSION}/es5/tex-mml-chtml.js"
MATHJAX_FILE = "es5/tex-mml-chtml.js"          # the same file inside the npm package
MATHJAX_SRI = "sha384-Wuix6BuhrWbjDBs24bXrjf4ZQ5aFeFWBuKkFekO2t8xFU0iNaLQfp2K6/1Nxveei"

FONTAWESOME_JS = ("fontawesome.js", "fontawesome.js.map", "fontawesome.js.LICENSE.txt")
_FONTAWESOME_TAG = re.compile(r'[ \t]*<script\b[^>]*\bsrc="[^"]*_static/scripts/fontawesome\.js'
                              r'[^"]*"[^>]*>\s*</script>[ \t]*\n?')


FONTS = "vendor/fontawesome/webfonts"          # under _static/
FONT_NAMES = ("fa-solid-900", "fa-regular-400", "fa-brands-400")
THEME_CSS = "styles/pydata-sphinx-theme.css"
_ICON_RULE = re.compile(r'([^{}]+)\{content:"\\([0-9a-f]{2,6})"\}')
_ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")


def icon_codepoints(css: str) -> dict[str, int]:
    """Font Awesome class -> the code point its ::before draws, from the stylesheet's rules."""
    found = {}
    for selectors, code in _ICON_RULE.findall(css):
        for selector in selectors.split(","):
            if match := re.fullmatch(r"\.(fa-[\w-]+):+before", selector.strip()):
                found[match[1]] = int(code, 16)
    return found


def used_icons(texts) -> set[str]:
    """Every `fa-...` class named in `texts` (pages and scripts): styles and sizes included."""
    return {name for text in texts for name in _ICON_CLASS.findall(text)}


def point_at_subset(css: str, font: str) -> str:
    """The stylesheet with `font`'s @font-face reading only its subset."""
    rule = re.compile(r"src:url\(\.\./" + re.escape(f"{FONTS}/{font}.woff2)") + r"[^;}]*")
    return rule.sub(f'src:url(../{FONTS}/{font}.subset.woff) format("woff")', css)


def subset_icon_fonts(static: Path, texts) -> set[int]:
    """Write `<font>.subset.woff` beside each Font Awesome font and point the theme's CSS at them."""
    from fontTools import subset

    css_file = static / THEME_CSS
    css = css_file.read_text(encoding="utf-8")
    codes = icon_codepoints(css)
    wanted = {codes[name] for name in used_icons(texts) if name in codes}
    for font in FONT_NAMES:
        source = static / FONTS / f"{font}.ttf"
        if not source.exists():
            continue
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        face = subset.load_font(str(source), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted)
        subsetter.subset(face)
        subset.save_font(face, str(static / FONTS / f"{font}.subset.woff"), options)
        css = point_at_subset(css, font)
    css_file.write_text(css, encoding="utf-8")
    return wanted


def drop_fontawesome_script(text: str) -> str:
    """`text` (a page's HTML) without the theme's fontawesome.js script tag."""
    return _FONTAWESOME_TAG.sub("", text)


def _pin_mathjax(app, config):
    config.mathjax_path = MATHJAX_URL
    config.mathjax_options = {**(config.mathjax_options or {}),
                              "integrity": MATHJAX_SRI, "crossorigin": "anonymous"}


def _trim_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    texts = []
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        trimmed = drop_fontawesome_script(text)
        if trimmed != text:
            page.write_text(trimmed, encoding="utf-8")
        texts.append(trimmed)
    static = out / "_static"
    for name in FONTAWESOME_JS:
        (static / "scripts" / name).unlink(missing_ok=True)
    texts += [js.read_text(encoding="utf-8", errors="replace") for js in static.rglob("*.js")]
    if (static / THEME_CSS).exists():
        subset_icon_fonts(static, texts)


def setup(app):
    app.connect("config-inited", _pin_mathjax)
    app.connect("build-finished", _trim_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
