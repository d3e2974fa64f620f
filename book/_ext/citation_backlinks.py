"""Back-links on the references page: under each entry, the sections that cite it.

sphinxcontrib-bibtex 2.x turns every ``{cite}`` role into a ``pending_xref`` node with
``refdomain == "cite"`` whose ``reftarget`` holds the cited keys ("key1,key2"); the
bibliography directive later becomes ``citation`` nodes whose first id is the
``citation_id`` of the domain's ``Citation`` records. This extension

1. on ``doctree-read``, records for each document the (key, section id, section title) of
   every citation in it (in ``env.recurrent_citing``, purged and merged per document so that
   incremental and parallel builds stay right);
2. on ``doctree-resolved`` (after the bibliography has been expanded), appends a paragraph
   "Cited in: chapter, section; ..." with links to those sections under each entry.
"""
from docutils import nodes
from sphinx import addnodes
from sphinxcontrib.bibtex.citation_target import parse_citation_targets
from sphinxcontrib.bibtex.domain import get_docnames

ENV_ATTR = "recurrent_citing"
# The paragraph's words and punctuation per edition (Sphinx's `language`): lead, separator, end.
WORDS = {"en": ("Cited in: ", "; ", "."), "zh_CN": ("引用于：", "；", "。")}


def _section(node):
    """(id, title node) of the innermost section around ``node`` that has both; ("", None)
    if there is none. The title is a copy, so that math in it stays math in the link."""
    node = node.parent
    while node is not None:
        if isinstance(node, nodes.section) and node["ids"]:
            titles = [c for c in node.children if isinstance(c, nodes.title)]
            if titles:
                return node["ids"][0], titles[0].deepcopy()
        node = node.parent
    return "", None


def citing_places(doctree):
    """Where a document cites: a list of (key, section id, section title node), in order.

    The section is the innermost one around the citation; ("", None) when there is none.
    """
    places = []
    for ref in doctree.findall(addnodes.pending_xref):
        if ref.get("refdomain") != "cite":
            continue
        where = _section(ref)
        for target in parse_citation_targets(ref["reftarget"]):
            places.append((target.key, *where))
    return places


def backlinks(citing, key, docnames):
    """The places citing ``key``: (docname, section id, section title), documents in the
    order of ``docnames``, each section once."""
    seen, out = set(), []
    for docname in docnames:
        for cited, section_id, title in citing.get(docname, ()):
            if cited == key and (docname, section_id) not in seen:
                seen.add((docname, section_id))
                out.append((docname, section_id, title))
    return out


def _record(app, doctree):
    citing = getattr(app.env, ENV_ATTR, None)
    if citing is None:
        citing = {}
        setattr(app.env, ENV_ATTR, citing)
    citing[app.env.docname] = citing_places(doctree)


def _purge(app, env, docname):
    getattr(env, ENV_ATTR, {}).pop(docname, None)


def _merge(app, env, docnames, other):
    citing = getattr(env, ENV_ATTR, None)
    if citing is None:
        citing = {}
        setattr(env, ENV_ATTR, citing)
    theirs = getattr(other, ENV_ATTR, {})
    citing.update({name: theirs[name] for name in docnames if name in theirs})


def _label(env, docname, title):
    """Inline nodes "Chapter title, section title" (only the chapter's for its top section)."""
    doc_title = env.titles.get(docname)
    parts = [c.deepcopy() for c in doc_title.children] if doc_title else [nodes.Text(docname)]
    if title is not None and (doc_title is None or title.astext() != doc_title.astext()):
        parts += [nodes.Text(", ")] + [c.deepcopy() for c in title.children]
    return parts


def _add_backlinks(app, doctree, fromdocname):
    if app.builder.format != "html":
        return
    env = app.env
    citing = getattr(env, ENV_ATTR, {})
    id_to_key = {c.citation_id: c.key for c in env.get_domain("cite").citations}
    order = list(get_docnames(env))
    for entry in list(doctree.findall(nodes.citation)):
        key = id_to_key.get(entry["ids"][0]) if entry["ids"] else None
        places = backlinks(citing, key, order) if key else []
        if not places:
            continue
        lead, separator, end = WORDS.get(app.config.language, WORDS["en"])
        para = nodes.paragraph(classes=["cited-in"])
        para += nodes.Text(lead)
        for i, (docname, section_id, title) in enumerate(places):
            if i:
                para += nodes.Text(separator)
            uri = app.builder.get_relative_uri(fromdocname, docname)
            if section_id:
                uri += "#" + section_id
            para += nodes.reference("", "", *_label(env, docname, title), refuri=uri,
                                    internal=True)
        para += nodes.Text(end)
        entry += para
    if any(True for _ in doctree.findall(nodes.math)):
        # Section titles copied into the links may hold math: the page then needs MathJax, which
        # Sphinx adds only to pages whose math it saw while reading them.
        env.get_domain("math").data["has_equations"][fromdocname] = True


def setup(app):
    app.setup_extension("sphinxcontrib.bibtex")
    app.connect("doctree-read", _record)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-resolved", _add_backlinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 2}
