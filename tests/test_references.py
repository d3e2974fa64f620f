"""The bibliography and its back-links.

Every key the chapters cite is in book/references.bib and every entry there is cited. The
back-link extension (book/_ext/citation_backlinks.py) is checked on a tiny Sphinx project
built in a temporary folder: under each entry of its references page, links to exactly the
sections citing it, in reading order.
"""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK / "_ext"))

import citation_backlinks  # noqa: E402

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")


def _book_texts():
    for path in sorted(BOOK.glob("*.md")):
        yield path.name, path.read_text(encoding="utf-8")
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        yield path.name, "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
        )


def cited_keys():
    keys = {}
    for name, text in _book_texts():
        for group in CITE.findall(text):
            for key in group.split(","):
                keys.setdefault(key.strip(), set()).add(name)
    return keys


def bib_keys():
    text = (BOOK / "references.bib").read_text(encoding="utf-8")
    return re.findall(r"^@\w+\{([^,\s]+),", text, re.M)


def test_bib_keys_are_unique():
    keys = bib_keys()
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_every_cited_key_is_in_the_bibliography():
    missing = {k: sorted(v) for k, v in cited_keys().items() if k not in set(bib_keys())}
    assert not missing, f"cited but not in references.bib: {missing}"


def test_every_bibliography_entry_is_cited():
    unused = sorted(set(bib_keys()) - set(cited_keys()))
    assert not unused, f"entries of references.bib that no page cites: {unused}"


def test_the_plain_rnn_is_attributed_to_elman():
    assert "rnn_equations.ipynb" in cited_keys().get("elman1990", set())


def test_the_cite_pattern_reads_every_role_form():
    text = "{cite}`a2000` and {cite:p}`b2001,c2002` and {cite:t}`d2003`"
    assert [k for g in CITE.findall(text) for k in g.split(",")] == [
        "a2000", "b2001", "c2002", "d2003"]


def test_backlinks_orders_documents_and_drops_repeats():
    citing = {
        "b": [("k1", "s1", "One"), ("k1", "s1", "One"), ("k2", "s2", "Two")],
        "a": [("k1", "", "")],
    }
    assert citation_backlinks.backlinks(citing, "k1", ["a", "b"]) == [
        ("a", "", ""), ("b", "s1", "One")]
    assert citation_backlinks.backlinks(citing, "k2", ["a", "b"]) == [("b", "s2", "Two")]
    assert citation_backlinks.backlinks(citing, "k3", ["a", "b"]) == []


BIB = """
@misc{alpha2000, author = {Alpha, Ann}, title = {First}, year = {2000}}
@misc{beta2001, author = {Beta, Ben}, title = {Second}, year = {2001}}
@misc{gamma2002, author = {Gamma, Gil}, title = {Third}, year = {2002}}
@misc{delta2003, author = {Delta, Dan}, title = {Fourth}, year = {2003}}
"""
PAGES = {
    "index": "Home\n====\n\n.. toctree::\n\n   one\n   two\n   three\n   refs\n",
    "one": "Chapter one\n===========\n\nIntro :cite:p:`alpha2000`.\n\n"
           "Deep section\n------------\n\nAgain :cite:t:`alpha2000,beta2001`.\n",
    "two": "Chapter two\n===========\n\nSome text.\n\nLater part\n----------\n\n"
           "Here :cite:p:`beta2001`.\n",
    "three": "Chapter three\n=============\n\nPowers :math:`W^t`\n------------------\n\n"
             "Here :cite:p:`delta2003`.\n",
    "refs": "References\n==========\n\n.. bibliography::\n   :all:\n",
}


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory):
    from sphinx.application import Sphinx

    src = tmp_path_factory.mktemp("tiny")
    (src / "refs.bib").write_text(BIB, encoding="utf-8")
    (src / "conf.py").write_text(
        "extensions = ['sphinxcontrib.bibtex', 'citation_backlinks']\n"
        "bibtex_bibfiles = ['refs.bib']\n", encoding="utf-8")
    for name, text in PAGES.items():
        (src / f"{name}.rst").write_text(text, encoding="utf-8")
    out = src / "_build"
    app = Sphinx(str(src), str(src), str(out), str(out / ".doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    return out


def _entry(html, surname):
    """The HTML of the bibliography entry whose text starts with the author's name."""
    blocks = re.findall(r'<div class="citation".*?</div>', html, re.S)
    found = [b for b in blocks if surname in b]
    assert len(found) == 1, (surname, blocks)
    return found[0]


def test_each_entry_links_to_the_sections_citing_it(tiny_book):
    html = (tiny_book / "refs.html").read_text(encoding="utf-8")
    alpha = _entry(html, "Alpha")
    links = re.findall(r'<a class="reference internal" href="([^"]+)">([^<]+)</a>', alpha)
    assert links == [("one.html#chapter-one", "Chapter one"),
                     ("one.html#deep-section", "Chapter one, Deep section")]
    beta = _entry(html, "Beta")
    links = re.findall(r'<a class="reference internal" href="([^"]+)">([^<]+)</a>', beta)
    assert links == [("one.html#deep-section", "Chapter one, Deep section"),
                     ("two.html#later-part", "Chapter two, Later part")]
    assert "Cited in:" in alpha and "Cited in:" in beta


def test_an_uncited_entry_gets_no_backlinks(tiny_book):
    html = (tiny_book / "refs.html").read_text(encoding="utf-8")
    assert "Cited in:" not in _entry(html, "Gamma")


def test_the_links_point_at_existing_anchors(tiny_book):
    html = (tiny_book / "refs.html").read_text(encoding="utf-8")
    for page, anchor in re.findall(r'href="(\w+)\.html#([\w-]+)"', html):
        target = (tiny_book / f"{page}.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in target, (page, anchor)


def test_a_link_whose_title_holds_math_makes_the_page_load_mathjax(tiny_book):
    """The references page has no math of its own; a section title with math copied into a link
    must still be typeset, so the page loads MathJax."""
    html = (tiny_book / "refs.html").read_text(encoding="utf-8")
    assert 'class="math' in _entry(html, "Delta")
    assert re.search(r"<script[^>]+mathjax", html)
