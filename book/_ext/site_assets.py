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
from every page and the script (and its source map) from the output.
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
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        trimmed = drop_fontawesome_script(text)
        if trimmed != text:
            page.write_text(trimmed, encoding="utf-8")
    for name in FONTAWESOME_JS:
        (out / "_static" / "scripts" / name).unlink(missing_ok=True)


def setup(app):
    app.connect("config-inited", _pin_mathjax)
    app.connect("build-finished", _trim_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
