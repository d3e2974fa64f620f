"""The errata appendix and the glossary, read as text (nothing is executed or built).

The errata's entries follow the seeds' order, each links to the chapter that develops it and
shows a computation; the glossary is sorted and defines every term the pages link to, in English
and Chinese.
"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ENTRY = re.compile(r"^## Seed (\d{3}): ")
LINK = re.compile(r"\{(?:ref|doc|numref|eq)\}`[^`]+`")
TERM = re.compile(r"\{term\}`([^`]+)`")


def errata_cells():
    return json.loads((BOOK / "errata.ipynb").read_text(encoding="utf-8"))["cells"]


def entries():
    """(seed number, markdown source, the next cell) for every entry of the errata."""
    cells = errata_cells()
    out = []
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        match = ENTRY.match(source)
        if cell["cell_type"] == "markdown" and match:
            out.append((int(match.group(1)), source, cells[i + 1] if i + 1 < len(cells) else None))
    return out


def test_the_errata_cover_all_five_seeds_in_order():
    seeds = [seed for seed, _, _ in entries()]
    assert seeds == sorted(seeds)
    assert set(seeds) == {0, 1, 2, 3, 4}


def test_every_entry_links_to_the_chapters_and_shows_a_computation():
    for _seed, source, following in entries():
        title = source.splitlines()[0]
        assert LINK.search(source), f"{title}: no link to the chapter that develops it"
        assert following is not None and following["cell_type"] == "code", title


def test_the_checked_and_correct_list_covers_every_seed():
    text = "\n".join("".join(c["source"]) for c in errata_cells())
    tail = text[text.index("## Statements checked and found correct"):]
    for seed in ("000", "001", "002", "003", "004"):
        assert f"**Seed {seed}.**" in tail, seed


def test_the_errata_page_has_no_build_notes():
    text = "\n".join("".join(c["source"]) for c in errata_cells() if c["cell_type"] == "markdown")
    assert "added with them" not in text
    assert not re.search(r"\bTODO\b|\bissue \d+", text)


def glossary_terms():
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    body = text[text.index("```{glossary}"):]
    return re.findall(r"^([^\s`][^\n]*)\n  \S", body, re.M), body


def test_the_glossary_is_sorted_and_gives_every_term_in_chinese():
    terms, body = glossary_terms()
    assert terms == sorted(terms, key=str.lower)
    for term in terms:
        definition = body[body.index(f"\n{term}\n") + len(term) + 2:].lstrip()
        assert re.match(r"[\u4e00-\u9fff]", definition), f"{term}: no Chinese term first"


def test_every_linked_term_has_a_glossary_entry():
    terms = {t.lower() for t in glossary_terms()[0]}
    used = {}
    pages = [(p.name, p.read_text(encoding="utf-8")) for p in BOOK.glob("*.md")]
    for path in BOOK.glob("*.ipynb"):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        pages.append((path.name, "\n".join("".join(c["source"]) for c in cells
                                           if c["cell_type"] == "markdown")))
    for name, text in pages:
        for role in TERM.findall(text):
            target = re.search(r"<([^>]+)>$", role)
            used.setdefault((target.group(1) if target else role).lower(), set()).add(name)
    missing = {t: sorted(v) for t, v in used.items() if t not in terms}
    assert not missing, f"{{term}} links without a glossary entry: {missing}"
