"""The Chinese edition's catalogs (book/locale/zh_CN/LC_MESSAGES/<page>.po): complete, intact, in sync.

- every message of every page is translated and none is fuzzy (the catalog's header excepted);
- a translation keeps the markup that must survive: the same inline math byte for byte, the same
  role targets ({eq}, {ref}, {numref}, {doc}, {cite}, {glue:text}; {term} may show Chinese text but
  must keep its English target), the same inline code and the same link targets;
- the catalogs hold exactly the messages that Sphinx's gettext builder extracts from the English
  pages now. An edit to the English text therefore fails here until `python3 dev.py translations`
  has merged it into the catalogs (as an untranslated or fuzzy message) and it has been translated;
- the Chinese edition builds without a warning (a broken role in a translation would warn), and
  each Chinese page shows the same numbers glued from code ({glue:text}) as its English page (a
  translated message is parsed apart from its notebook: book/_ext/editions.py).
"""
import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CATALOGS = BOOK / "locale" / "zh_CN" / "LC_MESSAGES"
PAGES = ["intro"] + re.findall(r"file:\s*(\S+)", (BOOK / "_toc.yml").read_text())
HTML = BOOK / "_build" / "html"             # English; the Chinese edition is in its zh/ folder
SHOWN = 8                  # messages listed per page in a failure message
PASTED = re.compile(r'<span class="pasted-text">(.*?)</span>', re.S)     # myst-nb's {glue:text}

MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$[^$\n]+?\$", re.S)
ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
CODE = re.compile(r"(?<![}`])`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)]*)\)")


def messages(path: Path) -> list:
    """The catalog's messages, without its header (and without obsolete `#~` entries)."""
    with path.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def role_target(role: str, text: str) -> str:
    """What a role points at: `text <target>` for term/ref/doc/numref, else its whole text."""
    match = re.search(r"<([^<>]+)>\s*$", text)
    if role in ("term", "ref", "doc", "numref") and match:
        return match.group(1).strip()
    return text.strip()


def markup(text: str) -> dict:
    """The parts of a message a translation must keep: math, role targets, inline code, links."""
    math = Counter(MATH.findall(text))
    rest = MATH.sub(" ", text)
    roles = Counter((role, role_target(role, body)) for role, body in ROLE.findall(rest))
    rest = ROLE.sub(" ", rest)
    return {"math": math, "roles": roles, "code": Counter(CODE.findall(rest)),
            "links": Counter(LINK.findall(rest))}


def markup_problems(msgid: str, msgstr: str) -> list[str]:
    """How `msgstr` changed the markup of `msgid` (empty if it kept all of it)."""
    problems = []
    for kind, (a, b) in {k: (v, markup(msgstr)[k]) for k, v in markup(msgid).items()}.items():
        if a != b:
            problems.append(f"{kind}: only in the English {dict(a - b)}, only in the Chinese {dict(b - a)}")
    return problems


def _listing(found: dict) -> str:
    lines = []
    for page, items in found.items():
        lines.append(f"{page}.po: {len(items)}")
        lines += [f"    {item}" for item in items[:SHOWN]]
        if len(items) > SHOWN:
            lines.append(f"    ... and {len(items) - SHOWN} more")
    return "\n".join(lines)


def test_every_page_has_a_catalog():
    missing = [p for p in PAGES if not (CATALOGS / f"{p}.po").exists()]
    assert missing == [], f"pages without a zh_CN catalog (run `python3 dev.py translations`): {missing}"


def test_every_message_is_translated_and_none_is_fuzzy():
    found, total, done = {}, 0, 0
    for page in PAGES:
        for m in messages(CATALOGS / f"{page}.po"):
            total += 1
            if not m.string:
                found.setdefault(page, []).append(f"untranslated: {m.id[:70]!r}")
            elif m.fuzzy:
                found.setdefault(page, []).append(f"fuzzy: {m.id[:70]!r}")
            else:
                done += 1
    assert not found, (f"{done} of {total} messages translated; untranslated or fuzzy, per catalog:\n"
                       + _listing(found))


def test_translations_keep_math_roles_code_and_links():
    found = {}
    for page in PAGES:
        for m in messages(CATALOGS / f"{page}.po"):
            if m.string:
                for problem in markup_problems(m.id, m.string):
                    found.setdefault(page, []).append(f"{m.id[:50]!r}: {problem}")
    assert not found, "translations that lost or changed markup:\n" + _listing(found)


@pytest.mark.parametrize("msgid, msgstr, kind", [
    ("the map $x_{t+1} = f(x_t)$ iterates", "迭代映射 $x_{t+1} = f(x_{t})$", "math"),
    ("the {term}`forget gate`", "{term}`遗忘门 <input gate>`", "roles"),
    ("see {eq}`eq-rnn`", "见 {eq}`eq-rnn2`", "roles"),
    ("measured {glue:text}`ratio`", "测得", "roles"),
    ("as in {cite}`pascanu2013`", "如 {cite}`bengio1994`", "roles"),
    ("call `bptt.backward`", "调用 `backward`", "code"),
    ("the [notation](notation.md)", "[记号](glossary.md)", "links"),
])
def test_markup_check_finds_a_changed_part(msgid, msgstr, kind):
    problems = markup_problems(msgid, msgstr)
    assert [p for p in problems if p.startswith(kind + ":")], problems


def test_markup_check_accepts_a_faithful_translation():
    msgid = ("The {term}`hidden state` $h_t$ of {eq}`eq-h` is `h` ([notation](notation.md)), "
             "{cite}`elman1990`; ratio {glue:text}`r`.")
    msgstr = ("式 {eq}`eq-h` 的{term}`隐藏状态 <hidden state>` $h_t$ 即 `h`（[记号](notation.md)），"
              "{cite}`elman1990`；比值 {glue:text}`r`。")
    assert markup_problems(msgid, msgstr) == []


@pytest.fixture(scope="module")
def dev():
    """dev.py as a module (its Sphinx builds), using the tools beside the running Python."""
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not module.BIN.joinpath("sphinx-build").exists():
        module.BIN = Path(sys.executable).parent
    return module


@pytest.fixture(scope="module")
def extracted(dev, tmp_path_factory):
    """The messages Sphinx's gettext builder extracts from the English pages now: page -> msgids."""
    out = tmp_path_factory.mktemp("gettext")
    status = dev.sphinx_build("gettext", out, "-q", doctrees=tmp_path_factory.mktemp("doctrees"))
    assert status == 0, "the gettext build failed"
    return {pot.stem: {m.id for m in messages(pot)} for pot in out.glob("*.pot")}


def test_catalogs_hold_exactly_the_english_messages(extracted):
    assert sorted(extracted) == sorted(PAGES), "pages the gettext build extracts differ from _toc.yml"
    found = {}
    for page, english in extracted.items():
        path = CATALOGS / f"{page}.po"
        catalog = {m.id for m in messages(path)} if path.exists() else set()
        items = [f"new in the English: {i[:70]!r}" for i in sorted(english - catalog)]
        items += [f"no longer in the English: {i[:70]!r}" for i in sorted(catalog - english)]
        if items:
            found[page] = items
    assert not found, ("the catalogs are out of date with the English text: run `python3 dev.py "
                       "translations`, then translate what it marks\n" + _listing(found))


@pytest.fixture(scope="module")
def chinese_build(dev, tmp_path_factory):
    """A fresh build of the Chinese edition, as `dev.py book` makes it (warnings are errors)."""
    out = tmp_path_factory.mktemp("zh") / "html"
    status = dev.sphinx_build("html", out, "-W", "--keep-going", "-q", "-D", f"language={dev.ZH}",
                              "-D", f"locale_dirs={dev.LOCALE}", doctrees=tmp_path_factory.mktemp("doctrees"))
    return status, out


def test_the_chinese_edition_builds_without_warnings(chinese_build):
    status, out = chinese_build
    assert status == 0, "the Chinese build warned or failed (its messages are in the captured output)"
    assert all((out / f"{page}.html").exists() for page in PAGES)


def test_chinese_pages_show_the_numbers_glued_from_code(chinese_build):
    if not (HTML / "intro.html").exists():            # the English edition, as `dev.py book` builds it
        subprocess.run([sys.executable, str(ROOT / "dev.py"), "book"], cwd=ROOT, check=True,
                       capture_output=True)
    glued, differ = 0, {}
    for page in PAGES:
        english = Counter(PASTED.findall((HTML / f"{page}.html").read_text(encoding="utf-8")))
        chinese = Counter(PASTED.findall((chinese_build[1] / f"{page}.html").read_text(encoding="utf-8")))
        glued += sum(english.values())
        if english != chinese:
            differ[page] = [f"only in English: {dict(english - chinese)}, "
                            f"only in Chinese: {dict(chinese - english)}"]
    assert glued > 0, "no {glue:text} value found in the English pages"
    assert not differ, "glued values that differ between the editions:\n" + _listing(differ)


def test_the_table_of_contents_parts_are_in_chinese(chinese_build):
    """The parts' captions ("Gated cells") come from the root page's catalog: sphinx-external-toc adds
    the toctrees after Sphinx's translation step, so book/_ext/editions.py translates them itself."""
    captions = re.findall(r"^\s*- caption:\s*(.+?)\s*$", (BOOK / "_toc.yml").read_text(), re.M)
    translated = {m.id: m.string for m in messages(BOOK / "locale" / "zh_CN" / "LC_MESSAGES" / "intro.po")}
    assert captions and all(translated.get(c) for c in captions), "a part caption has no translation"
    for page in ("intro", "seq2seq"):
        html = (chinese_build[1] / f"{page}.html").read_text(encoding="utf-8")
        for caption in captions:
            assert translated[caption] in html and f">{caption}<" not in html, (page, caption)
