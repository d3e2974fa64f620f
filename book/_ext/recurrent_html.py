"""Small Sphinx fixes for the HTML book.

Jupyter Book 1.x ends up with sphinx-thebe's inline configuration script twice in every page's
<head>, so every page threw "Identifier 'THEBE_JS_URL' has already been declared". Once the HTML is
written, this keeps only the first copy of any repeated inline <script> line in each page's head.
"""
import re
from pathlib import Path

_INLINE_SCRIPT = re.compile(r"^\s*<script>[^<]*</script>\s*$", re.M)


def dedupe_head_scripts(text: str) -> str:
    head_end = text.find("</head>")
    if head_end < 0:
        return text
    head, seen = text[:head_end], set()

    def keep_first(match):
        line = match.group(0).strip()
        if line in seen:
            return ""
        seen.add(line)
        return match.group(0)

    return _INLINE_SCRIPT.sub(keep_first, head) + text[head_end:]


def _fix_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = dedupe_head_scripts(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _fix_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
