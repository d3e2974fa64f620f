"""The book's two editions, English at the site's root and Chinese under zh/, linked page to page.

`python3 dev.py book` builds the English pages into book/_build/html/ and the Chinese ones
(Sphinx's `language = "zh_CN"`, translated from book/locale/) into book/_build/html/zh/. In both,
this extension

- puts a link to the same page in the other edition in the article header (beside the theme's
  buttons), and a <link rel="alternate" hreflang> in the page's <head>;
- writes the page's language as a BCP 47 tag (`lang="zh-CN"`, where Sphinx would write the
  catalog name `zh_CN`);
- in the Chinese edition, gives the search index's word splitter (jieba) the glossary's Chinese
  terms as a user dictionary, so that a term such as 遗忘门 is indexed as one word;
- translates the captions of the table of contents' parts ("Gated cells") from the root page's
  catalog: sphinx-external-toc adds the toctrees after Sphinx's translation step has run;
- lets a translated message use {glue:text}: Sphinx parses each translated message as a small
  Markdown document of its own, which lacks the notebook's glue data, so myst-nb's glue roles
  would find no key there; the glue roles fall back to the notebook's own glue data.
"""
import logging
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
# language (Sphinx's `language`) -> (folder of its edition inside the site, the link's text, BCP 47 tag)
EDITIONS = {"en": ("", "English", "en"), "zh_CN": ("zh/", "中文", "zh-CN")}
# A glossary entry: the term on one line, then an indented definition starting with its Chinese name.
_GLOSSARY_NAME = re.compile(r"^\S[^\n]*\n {2,}([\u3400-\u9fff][\u3400-\u9fff\w·-]*)", re.M)


def edition(language) -> str:
    return language if language in EDITIONS else "en"


def other_edition_url(pagename: str, language) -> str:
    """Relative URL, from page `pagename` of the `language` edition, of the same page in the other."""
    here = edition(language)
    there = next(lang for lang in EDITIONS if lang != here)
    up = "../" * (pagename.count("/") + EDITIONS[here][0].count("/"))
    return f"{up}{EDITIONS[there][0]}{pagename}.html"


def glossary_names(text: str) -> list[str]:
    """The Chinese names that start the glossary's definitions (book/glossary.md), in order."""
    return _GLOSSARY_NAME.findall(text)


def _page_context(app, pagename, templatename, context, doctree):
    here = edition(app.config.language)
    there = next(lang for lang in EDITIONS if lang != here)
    url = other_edition_url(pagename, app.config.language)
    context["recurrent_other_edition"] = {"url": url, "text": EDITIONS[there][1],
                                          "lang": EDITIONS[there][2]}
    context["language"] = EDITIONS[here][2]
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{EDITIONS[there][2]}" href="{url}" />')


def _config_inited(app, config):
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    options = dict(config.html_theme_options or {})
    end = options.get("article_header_end", ["article-header-buttons.html"])
    if isinstance(end, str):
        end = [end]
    options["article_header_end"] = ["edition-switch.html", *[e for e in end if e != "edition-switch.html"]]
    config.html_theme_options = options


def _search_dictionary(app):
    if edition(app.config.language) != "zh_CN" or app.builder.format != "html":
        return
    glossary = Path(app.srcdir) / "glossary.md"
    if not glossary.exists():
        return
    words = Path(app.doctreedir) / "jieba-glossary.txt"
    words.parent.mkdir(parents=True, exist_ok=True)
    words.write_text("".join(f"{name} 1000 n\n" for name in glossary_names(glossary.read_text("utf-8"))),
                     encoding="utf-8")
    app.config.html_search_options = {**(app.config.html_search_options or {}), "dict": str(words)}
    try:                                    # jieba logs each dictionary load at DEBUG level
        import jieba
        jieba.setLogLevel(logging.WARNING)
    except ImportError:                     # Sphinx then indexes no Chinese word; the tests say so
        pass


_CATALOGS = {}     # (language, docname) -> {msgid: msgstr} of that page's catalog


def _catalog(app, docname: str) -> dict:
    key = (app.config.language, docname)
    if key not in _CATALOGS:
        from babel.messages.pofile import read_po

        path = Path(app.srcdir) / "locale" / str(app.config.language) / "LC_MESSAGES" / f"{docname}.po"
        messages = {}
        if path.exists():
            with open(path, "rb") as f:
                messages = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
        _CATALOGS[key] = messages
    return _CATALOGS[key]


def _translate_captions(app, doctree):
    """The parts' captions in the table of contents, in the edition's language."""
    if edition(app.config.language) == "en":
        return
    from sphinx import addnodes

    messages = _catalog(app, app.env.docname)
    for toctree in doctree.findall(addnodes.toctree):
        caption = toctree.get("caption")
        if caption and caption in messages:
            toctree["caption"] = messages[caption]


_CLIENTS = {}      # path of a notebook -> its myst-nb client (this process), whose glue data it keeps


def _glue_in_translations():
    """Let {glue:text} in a translated message find the glue data of the notebook it belongs to.

    myst-nb keeps a notebook's glue data on a renderer it stores on the document only while it
    parses the notebook; Sphinx's Locale transform parses each translated message afterwards as a
    separate Markdown document. This notes each notebook's client (whose glue data myst-nb extracts
    from the stored outputs) and falls back to it when a document has no renderer.
    """
    from myst_nb import sphinx_ as nb_sphinx
    from myst_nb.core.variables import VariableOutput
    from myst_nb.ext.glue import directives, roles, utils

    if getattr(nb_sphinx.create_client, "recurrent_editions", False):
        return
    create_client, original = nb_sphinx.create_client, utils.retrieve_glue_data

    def noting_client(notebook, path, *args, **kwargs):
        client = create_client(notebook, path, *args, **kwargs)
        _CLIENTS[str(path)] = client
        return client

    def retrieve_glue_data(document, key):
        env = getattr(document.settings, "env", None)
        if "nb_renderer" not in document and env is not None and env.docname:
            client = _CLIENTS.get(str(env.doc2path(env.docname)))
            glue = getattr(client, "glue_data", None) or {}
            if key in glue:
                return VariableOutput(data=glue[key]["data"], metadata=glue[key].get("metadata", {}),
                                      nb_renderer=None, vtype="glue")
        return original(document, key)

    noting_client.recurrent_editions = True
    nb_sphinx.create_client = noting_client
    for module in (roles, directives):
        module.retrieve_glue_data = retrieve_glue_data


def setup(app):
    _glue_in_translations()
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _search_dictionary)
    app.connect("doctree-read", _translate_captions)
    app.connect("html-page-context", _page_context, priority=100)   # before the theme drops empty parts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
