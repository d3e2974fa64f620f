"""The book as a whole: notebook hygiene, the table of contents, and the build with warnings as errors.

nbval (configured in pyproject.toml) re-executes every notebook and compares its outputs; these
tests check what nbval does not: that the stored notebooks were run top to bottom, import their
functions from the package instead of defining them, caption their figures, and that the HTML book
builds without a single warning, and fails when a notebook cell raises.
"""
import gzip
import json
import re
import shutil
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
    for cell in code_cells(path):
        if any("image/png" in out.get("data", {}) for out in cell["outputs"]):
            caption = cell["metadata"].get("mystnb", {}).get("figure", {}).get("caption", "")
            assert len(caption) > 20, f"figure without a caption in:\n{''.join(cell['source'])[:200]}"


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


def test_a_notebook_cell_that_raises_fails_the_build(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(BOOK / "_config.yml", book)
    shutil.copy(BOOK / "references.bib", book)
    shutil.copytree(BOOK / "_ext", book / "_ext")
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\n")
    cell = {"cell_type": "code", "execution_count": None, "id": "raise", "metadata": {}, "outputs": [],
            "source": ["raise ValueError('a cell that raises')"]}
    title = {"cell_type": "markdown", "id": "title", "metadata": {}, "source": ["# A page"]}
    nb = {"cells": [title, cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
          "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    (book / "index.ipynb").write_text(json.dumps(nb))
    result = build(book, tmp_path)
    assert result.returncode != 0
    assert "Executing notebook failed" in result.stdout + result.stderr
    report = (tmp_path / "_build" / "html" / "reports" / "index.err.log").read_text()
    assert "ValueError: a cell that raises" in re.sub(r"\x1b\[[0-9;]*m", "", report)   # no colour codes


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
