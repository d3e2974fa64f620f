"""Links of the built site (scripts/link_check.py) and the Colab links (scripts/binder_links.py).

Every internal link and anchor of both editions resolves (English at book/_build/html, Chinese under
zh/); the external links are listed in artifacts/external-links.txt, not fetched. The Colab badge,
buttons and install line derive from the same repository setting as Binder's.
"""
import re
import subprocess
import sys
from pathlib import Path

import binder_links
import link_check
import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    return tmp_path


def test_link_check_finds_missing_files_and_anchors_and_lists_external_links(tmp_path):
    site = _site(tmp_path, {
        "index.html": '<a href="a.html#x">ok</a> <a href="a.html#nope">bad anchor</a>'
                      '<a href="gone.html">bad file</a> <img src="_images/f.png">'
                      '<a href="https://example.org/p">out</a> <a href="mailto:x@y.z">mail</a>'
                      '<a href="#top" id="top">self</a> <a href="zh/">zh</a>',
        "a.html": '<h1 id="x">A</h1><a href="../outside.html">up and out</a><a name="old">n</a>'
                  '<a href="a.html#old">named</a> <link rel="preconnect" href="//cdn.example">',
        "zh/index.html": '<a href="../a.html#x">back</a> <a href="../a.html#%E4%B8%AD">encoded</a>',
        "_static/t.html": '<a href="{{ pathto(x) }}">template</a>',
    })
    result = link_check.check(site)
    assert result.pages == 3
    assert sorted((b.page, b.link) for b in result.broken) == [
        ("a.html", "../outside.html"), ("index.html", "_images/f.png"), ("index.html", "a.html#nope"),
        ("index.html", "gone.html"), ("zh/index.html", "../a.html#%E4%B8%AD")]
    assert result.external == {"https://example.org/p": {"index.html"}}
    (site / "_images").mkdir()
    (site / "_images" / "f.png").write_bytes(b"png")
    assert ("index.html", "_images/f.png") not in {(b.page, b.link) for b in link_check.check(site).broken}


def test_link_check_command_writes_the_report_and_fails_on_a_broken_link(tmp_path, capsys):
    site = _site(tmp_path / "site", {"index.html": '<a href="https://example.org/">x</a>'})
    report = tmp_path / "external.txt"
    assert link_check.main([str(site), "--report", str(report)]) == 0
    assert "https://example.org/\t1 page(s), e.g. index.html" in report.read_text()
    (site / "index.html").write_text('<a href="missing.html">x</a>')
    assert link_check.main([str(site), "--report", str(report)]) == 1
    assert "missing.html: no such file" in capsys.readouterr().out


def build_both_editions(html: Path = HTML) -> None:
    """Run the README's book command if either edition is missing (test_book builds only English)."""
    if (html / "intro.html").exists() and (html / "zh" / "intro.html").exists():
        return
    done = subprocess.run([sys.executable, str(ROOT / "dev.py"), "book"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, "python3 dev.py book failed:\n" + (done.stdout + done.stderr)[-6000:]


def test_every_internal_link_and_anchor_of_both_editions_resolves():
    build_both_editions(HTML)
    result = link_check.check(HTML)
    link_check.write_report(result, link_check.REPORT)
    zh_pages = [p for p in link_check.pages(HTML) if p.relative_to(HTML).parts[0] == "zh"]
    assert len(zh_pages) >= 15 and result.pages >= 2 * len(zh_pages), result.pages
    assert result.internal > 1000
    shown = "\n".join(f"{b.page}: {b.link} ({b.reason})" for b in result.broken[:40])
    assert result.broken == [], f"{len(result.broken)} broken internal links:\n{shown}"
    assert result.external, "no external link at all: the page parser missed them"


def test_colab_links_follow_the_repository_setting(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/someone/fork\n  branch: dev\n"
                      "  path_to_book: docs\nlaunch_buttons:\n  colab_url: https://colab.example/\n")
    s = binder_links.settings(config)
    assert binder_links.colab_url("gru.ipynb", s) == \
        "https://colab.example/github/someone/fork/blob/dev/docs/gru.ipynb"
    assert binder_links.colab_badge(s).endswith("(https://colab.example/github/someone/fork/blob/dev/"
                                                "docs/rnn_equations.ipynb)")
    assert binder_links.colab_install(s) == \
        '%pip install "recurrent-book @ git+https://github.com/someone/fork@dev" myst-nb'
    config.write_text("repository:\n  url: https://github.com/someone/fork\n")
    with pytest.raises(ValueError, match="colab_url"):
        binder_links.colab_url("gru.ipynb", binder_links.settings(config))


def test_readme_colab_badge_and_page_buttons_agree_with_the_setting():
    s = binder_links.settings()
    assert s["colab"], "launch_buttons.colab_url is not set in book/_config.yml: no Colab buttons"
    readme = (ROOT / "README.md").read_text()
    assert binder_links.colab_badge(s) in readme.splitlines(), "run `python3 dev.py links`"
    assert binder_links.colab_install(s) in readme.splitlines(), "run `python3 dev.py links`"
    page = HTML / "gru.html"
    if page.exists():
        buttons = re.findall(r'href="(https://colab[^"]+)"', page.read_text(encoding="utf-8"))
        assert buttons == [binder_links.colab_url("gru.ipynb", s)]
