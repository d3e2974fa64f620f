"""Check every internal link and anchor of the built site; list the external links.

    .venv/bin/python scripts/link_check.py [SITE] [--report FILE]

SITE is book/_build/html by default: the English edition at its root and the Chinese edition under
zh/, so one run checks both and the links between them. Every href and src in every page (except
Sphinx's copied templates under _static/ and the page sources under _sources/) must name a file of
the site, and a #fragment must be an id (or an <a name>) in the page it points to. External links
cannot be reached from the machines that build the book, so they are not fetched: they are written,
each once with the number of pages that use it, to the report file (artifacts/external-links.txt).
Exits 1 and prints each broken link if there is one.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "book" / "_build" / "html"
REPORT = ROOT / "artifacts" / "external-links.txt"
SKIPPED_DIRS = ("_static", "_sources")      # templates and downloads, not pages
LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src",
              "source": "src", "video": "src", "audio": "src"}
NOT_FETCHED = ("preconnect", "dns-prefetch")  # <link rel=...> hints, not links


class Broken(NamedTuple):
    page: str          # the page's path inside the site
    link: str          # the link as written
    reason: str


class Result(NamedTuple):
    pages: int
    internal: int                          # internal links checked
    broken: list[Broken]
    external: dict[str, set[str]]          # external URL -> pages that link to it


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        link = attrs.get(LINK_ATTRS.get(tag, ""))
        if link is not None and not (tag == "link" and attrs.get("rel", "") in NOT_FETCHED):
            self.links.append(link)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html")
                  if not any(part in SKIPPED_DIRS for part in p.relative_to(site).parts[:-1]))


def check(site: Path = SITE) -> Result:
    """Every internal link and anchor of the site in `site`, and its external links."""
    site = site.resolve()
    parsed = {path: parse(path) for path in pages(site)}
    ids: dict[Path, set[str]] = {path: page.ids for path, page in parsed.items()}
    broken, external, internal = [], defaultdict(set), 0
    for path, page in parsed.items():
        name = path.relative_to(site).as_posix()
        for link in page.links:
            parts = urlsplit(link.strip())
            if parts.scheme in ("http", "https") or link.startswith("//"):
                external[link.strip()].add(name)
                continue
            if parts.scheme:               # mailto:, data:, javascript:
                continue
            internal += 1
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if site not in target.parents and target != site:
                broken.append(Broken(name, link, "points outside the site"))
            elif not target.is_file():
                broken.append(Broken(name, link, "no such file"))
            elif parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = parse(target).ids
                if unquote(parts.fragment) not in ids[target]:
                    broken.append(Broken(name, link, f"no id {unquote(parts.fragment)!r} there"))
    return Result(len(parsed), internal, broken, dict(external))


def write_report(result: Result, report: Path) -> None:
    report.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{url}\t{len(where)} page(s), e.g. {min(where)}"
             for url, where in sorted(result.external.items())]
    report.write_text("# External links of the built site (not fetched): URL, pages that use it\n"
                      + "".join(line + "\n" for line in lines), encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", type=Path, default=SITE)
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"{args.site} holds no built site (python3 dev.py book)", file=sys.stderr)
        return 2
    result = check(args.site)
    write_report(result, args.report)
    for b in result.broken:
        print(f"{b.page}: {b.link}: {b.reason}")
    print(f"{result.pages} pages, {result.internal} internal links, {len(result.broken)} broken; "
          f"{len(result.external)} external links listed in {args.report}")
    return 1 if result.broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
