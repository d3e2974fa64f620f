"""Derive the Binder and Colab links from the one setting that names the repository (book/_config.yml).

    python3 dev.py links     rewrite README.md's Binder and Colab badges from book/_config.yml

Jupyter Book derives each notebook page's launch buttons (Binder, and Colab when
`launch_buttons.colab_url` is set) from the same `repository:` and `launch_buttons:` settings;
tests/test_binder.py and tests/test_links.py check that the badges, the buttons and the setting
agree, so changing the repository means editing one line and running the command above.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "book" / "_config.yml"
README = ROOT / "README.md"
FIRST_CHAPTER = "rnn_equations.ipynb"
BADGE = re.compile(r"^\[!\[Launch on Binder\]\(.*$", re.M)
COLAB_BADGE = re.compile(r"^\[!\[Open in Colab\]\(.*$", re.M)
COLAB_LOGO = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_INSTALL = re.compile(r'^%pip install "recurrent-book @ git\+.*$', re.M)
UI = {"classic": "tree", "jupyterlab": "lab/tree"}     # sphinx-book-theme's prefixes (default classic)


def settings(config: Path = CONFIG) -> dict:
    """The repository's owner, name, branch and book folder, and the BinderHub address."""
    data = yaml.safe_load(config.read_text())
    repo, launch = data.get("repository", {}), data.get("launch_buttons", {})
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)/?", repo.get("url", ""))
    if not match:
        raise ValueError(f"repository.url in {config} must be https://github.com/<owner>/<name>, "
                         f"got {repo.get('url')!r}")
    return {"owner": match[1], "name": match[2], "branch": repo.get("branch", "main"),
            "book": repo.get("path_to_book", "book").strip("/"),
            "hub": launch.get("binderhub_url", "https://mybinder.org").rstrip("/"),
            "colab": (launch.get("colab_url") or "").rstrip("/"),
            "ui": _ui(launch.get("notebook_interface", "classic"), config)}


def _ui(interface: str, config: Path) -> str:
    if interface not in UI:
        raise ValueError(f"launch_buttons.notebook_interface in {config} must be one of {sorted(UI)}, "
                         f"got {interface!r}")
    return UI[interface]


def launch_url(notebook: str, s: dict | None = None) -> str:
    """The Binder address that opens book/<notebook> (the form Jupyter Book's buttons use)."""
    s = s or settings()
    return (f"{s['hub']}/v2/gh/{s['owner']}/{s['name']}/{s['branch']}"
            f"?urlpath={s['ui']}/{s['book']}/{notebook}")


def badge(s: dict | None = None) -> str:
    s = s or settings()
    return f"[![Launch on Binder]({s['hub']}/badge_logo.svg)]({launch_url(FIRST_CHAPTER, s)})"


def colab_url(notebook: str, s: dict | None = None) -> str:
    """The Colab address that opens book/<notebook> from GitHub (the form the theme's button uses)."""
    s = s or settings()
    if not s["colab"]:
        raise ValueError(f"launch_buttons.colab_url is not set in {CONFIG}")
    return f"{s['colab']}/github/{s['owner']}/{s['name']}/blob/{s['branch']}/{s['book']}/{notebook}"


def colab_badge(s: dict | None = None) -> str:
    s = s or settings()
    return f"[![Open in Colab]({COLAB_LOGO})]({colab_url(FIRST_CHAPTER, s)})"


def colab_install(s: dict | None = None) -> str:
    """The cell a Colab reader runs first: Colab installs nothing from requirements.txt, and it
    lacks the helper package and myst-nb (the notebooks' `glue`); pyproject.toml names the rest."""
    s = s or settings()
    repo = f"https://github.com/{s['owner']}/{s['name']}@{s['branch']}"
    return f'%pip install "recurrent-book @ git+{repo}" myst-nb'


def main() -> int:
    text = README.read_text()
    if not BADGE.search(text):
        sys.exit("README.md has no line starting with '[![Launch on Binder]' to rewrite")
    s = settings()
    new = BADGE.sub(badge(s), text, count=1)
    if s["colab"]:
        new = COLAB_BADGE.sub(colab_badge(s), new, count=1)
        new = COLAB_INSTALL.sub(colab_install(s), new, count=1)
    if new != text:
        README.write_text(new)
    print(badge(s))
    if s["colab"]:
        print(colab_badge(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
