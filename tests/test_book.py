"""The book as a whole: notebook hygiene, the table of contents, and the build with warnings as errors.

nbval (configured in pyproject.toml) re-executes every notebook and compares its outputs; these
tests check what nbval does not: that the stored notebooks were run top to bottom, import their
functions from the package instead of defining them, caption their figures, and that the HTML book
builds without a single warning, and fails when a notebook cell raises.
"""
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def toc_files():
    return re.findall(r"(?:root|file):\s*(\S+)", (BOOK / "_toc.yml").read_text())


def test_there_are_notebooks_and_each_is_in_the_table_of_contents():
    assert len(NOTEBOOKS) >= 2
    listed = toc_files()
    for nb in NOTEBOOKS:
        assert nb.stem in listed, f"{nb.name} is not listed in book/_toc.yml"
    for name in listed:
        assert list(BOOK.glob(name + ".*")), f"_toc.yml lists {name}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_executed_top_to_bottom_without_errors(path):
    cells = [c for c in code_cells(path) if "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}: run all in a fresh kernel"
    for cell in cells:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"stored error output: {out.get('ename')}"
            assert not re.search(r"/(work|tmp|home|root)/[\w.-]+", json.dumps(out)), "local path in an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_defines_no_functions_and_imports_the_package(path):
    sources = ["".join(c["source"]) for c in code_cells(path)]
    for src in sources:
        assert not re.search(r"^\s*(def|class)\s", src, re.M), f"a notebook defines a function:\n{src}"
    assert "from recurrent import" in sources[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_code_fits_the_page(path):
    """Code lines longer than 88 characters scroll sideways in the HTML book."""
    for cell in code_cells(path):
        for line in "".join(cell["source"]).splitlines():
            assert len(line) <= 88, f"{len(line)} characters: {line}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_caption(path):
    """A figure's caption is in its cell's metadata (myst-nb numbers it); a kernel-free explorer, whose
    image output is the sprite of all its frames, carries its caption in its own HTML output."""
    for cell in code_cells(path):
        if any("image/png" in out.get("data", {}) for out in cell["outputs"]):
            caption = cell["metadata"].get("mystnb", {}).get("figure", {}).get("caption", "")
            html = "".join("".join(out.get("data", {}).get("text/html", "")) for out in cell["outputs"])
            explorer = re.search(r'class="rnn-scrub-caption"[^>]*>([^<]{20,})<', html)
            source = "".join(cell["source"])[:200]
            assert len(caption) > 20 or explorer, f"figure without a caption in:\n{source}"


def build(book_dir: Path, out_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER_BOOK), "build", "-W", "--keep-going", "--path-output", str(out_dir),
                           str(book_dir)], capture_output=True, text=True, timeout=900)


def test_book_builds_without_warnings():
    result = build(BOOK, BOOK)
    log = result.stdout + result.stderr
    assert result.returncode == 0, "jupyter-book build -W failed:\n" + log[-6000:]
    html = BOOK / "_build" / "html"
    for name in toc_files():
        assert (html / f"{name}.html").exists(), f"{name}.html was not built"


def test_the_book_is_built_from_the_stored_outputs_that_nbval_checks():
    """The build does not execute the notebooks again: nbval has just compared their stored outputs
    with a fresh run (natively and on other CPU code paths), and the pages show those outputs."""
    config = (BOOK / "_config.yml").read_text()
    assert re.search(r'^\s*execute_notebooks:\s*"?off"?\s*$', config, re.M), "the build would re-execute"
    html = (BOOK / "_build" / "html" / "bptt.html")
    if html.exists():                                   # built by test_book_builds_without_warnings
        stored = next(o["text"] for c in code_cells(BOOK / "bptt.ipynb") for o in c["outputs"]
                      if o["output_type"] == "stream")
        first_line = "".join(stored).splitlines()[0].strip()
        assert first_line[:40] in html.read_text(encoding="utf-8").replace("&#8217;", "'")


def page_weight(name: str) -> tuple[int, int]:
    """Bytes a first visit to a page downloads: its HTML and the local images, scripts and styles it
    loads, as stored and as sent by a server that compresses text (gzip), as static hosts do."""
    html = BOOK / "_build" / "html"
    page = html / f"{name}.html"
    assets = set(re.findall(r'(?:src|href)="((?:_images|_static)/[^"?#]+)', page.read_text(encoding="utf-8")))
    files = [page] + [html / a for a in sorted(assets) if (html / a).is_file()]
    stored = sum(f.stat().st_size for f in files)
    sent = sum(len(gzip.compress(f.read_bytes())) if f.suffix in {".html", ".js", ".css", ".svg"}
               else f.stat().st_size for f in files)
    return stored, sent


def test_every_chapter_page_weighs_under_3_mb():
    if not (BOOK / "_build" / "html" / "intro.html").exists():
        pytest.skip("the book has not been built yet (test_book_builds_without_warnings builds it)")
    for name in toc_files():
        stored, sent = page_weight(name)
        assert sent < 3_000_000, f"{name}.html: {sent / 1e6:.2f} MB sent ({stored / 1e6:.2f} MB stored)"


# Decimal numbers the prose may state because they are set-up constants or quotations, not results.
# Each entry: (page, number as written) and why it is not a measurement.
PROSE_CONSTANTS = {
    ("fixed_points.ipynb", "0.82"): "the source in seed 001's figure, quoted before the book computes it",
    ("fixed_points.ipynb", "0.17"): "the sink in seed 001's figure, quoted before the book computes it",
    ("lstm.ipynb", "0.8"): "the value the hand-set LSTM is given to store (an input of the example)",
    ("remedies.ipynb", "0.1"): "the learning rate of the descent on the cliff (a set-up constant)",
    ("svd_view.ipynb", "0.1"): "the standard deviation of the inputs (a set-up constant)",
}
_NOT_PROSE = [
    re.compile(r"\$\$.*?\$\$", re.S),                        # display math
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),   # amsmath environments
    re.compile(r"(?<!\\)\$[^$\n]+?\$"),                       # inline math
    re.compile(r"\{(?:glue:text|glue|cite|cite:p|cite:t|eq|numref|ref|term|doc)\}`[^`]*`"),
    re.compile(r"```.*?```", re.S),                           # fenced blocks: code, directive headers
    re.compile(r"`[^`\n]*`"),                                 # inline code
    re.compile(r"\]\([^)]*\)"),                               # link targets
]
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def prose(markdown: str) -> str:
    """The words of a markdown cell, without math, code, roles (glue, citations, references) and links."""
    for pattern in _NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def test_prose_prints_no_measured_number_by_hand():
    """A decimal number in the text is a result typed by hand unless it comes from code (glue, an output)
    or is a constant of the set-up listed in PROSE_CONSTANTS; math and citations are not prose."""
    found = []
    for path in NOTEBOOKS + sorted(BOOK.glob("*.md")):
        cells = (json.loads(path.read_text())["cells"] if path.suffix == ".ipynb"
                 else [{"cell_type": "markdown", "source": path.read_text()}])
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            for number in _DECIMAL.findall(prose("".join(cell["source"]))):
                if (path.name, number) not in PROSE_CONSTANTS:
                    found.append(f"{path.name}: {number}")
    assert found == [], "decimal numbers typed into the prose (glue them from code, or list a set-up "\
        "constant in PROSE_CONSTANTS with the reason):\n" + "\n".join(found)


def test_the_prose_filter_keeps_words_and_drops_math_code_and_roles():
    text = "It reaches 0.92 at $r = 3.57$, {glue:text}`x` and `lr = 0.1` {cite}`a2000` [b](c.1.2) 2.5"
    assert _DECIMAL.findall(prose(text)) == ["0.92", "2.5"]


# What a reader of the HTML book sees of a cell: markdown always; a code cell's source unless it is
# removed (remove-cell, remove-input) and its outputs unless they are removed (remove-cell, remove-output).
# hide-input collapses the source behind a toggle, which is how cells kept for the page's mechanics show.
_MECHANICS = re.compile(r"\bnbval\b|\bpytest\b|\bissue \d+|tests/test_\w+|\bCI\b|distinct frames")


def visible_text(cell) -> str:
    tags = set(cell.get("metadata", {}).get("tags", []))
    if cell["cell_type"] == "markdown":
        return "".join(cell["source"])
    if "remove-cell" in tags:
        return ""
    parts = [] if tags & {"remove-input", "hide-input"} else ["".join(cell["source"])]
    if "remove-output" not in tags:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_reader_facing_text_has_no_test_or_build_mechanics():
    """Comments about nbval, issue numbers and frame counts are for maintainers: cells that exist for
    them are removed or collapsed in the HTML, and the prose never mentions them."""
    found = []
    for path in NOTEBOOKS + sorted(BOOK.glob("*.md")):
        cells = (json.loads(path.read_text())["cells"] if path.suffix == ".ipynb"
                 else [{"cell_type": "markdown", "source": path.read_text()}])
        for cell in cells:
            for match in _MECHANICS.finditer(visible_text(cell)):
                found.append(f"{path.name}: {match.group(0)!r}")
    assert found == [], "test or build mechanics visible to readers:\n" + "\n".join(found)


def test_implementations_are_shown_by_literalinclude_of_code_that_exists():
    """Code shown to readers is included from the package (highlighted, always in sync), never printed
    with inspect.getsource, and every included object exists in the file it names."""
    import ast
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        for cell in cells:
            source = "".join(cell["source"])
            assert "getsource" not in source, f"{path.name}: use a literalinclude, not inspect.getsource"
            for file, options in re.findall(r"```\{literalinclude\}\s+(\S+)\n((?::\w+:.*\n)*)", source):
                target = (BOOK / file).resolve()
                assert target.is_file(), f"{path.name}: literalinclude of a missing file {file}"
                name = re.search(r":pyobject:\s*(\S+)", options)
                if name:
                    tree = ast.parse(target.read_text())
                    defined = {n.name for n in ast.walk(tree)
                               if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
                    assert name.group(1).split(".")[-1] in defined, \
                        f"{path.name}: {file} defines no {name.group(1)}"
