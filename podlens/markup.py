"""Feed and user text as inert Markdown/HTML, and links that are http(s) only.

Podcast feeds, transcripts and snip notes are written by other people; wherever Podlens writes
them into Markdown or HTML (the app's pages through ``ui/render.py``, the exports in
``snips/export.py``) they must come out as the text they are: no links, images (tracking pixels),
emphasis, HTML tags or comments (an export's ``<!-- podlens:end -->`` marker) made from them.
This module is the shared base; the app's renderer adds Streamlit's own Markdown extensions.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlparse

# Inline syntax of CommonMark, GFM and Obsidian: emphasis (* _ ~ ==), code (`), links and
# images ([ ] and the ! before them need [), autolinks and HTML (< >), tables (|), math ($),
# tags and headings (#), block references (^), comments (%%), the backslash itself.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>~$=^|#%])")
# Block syntax that only counts at the start of a line: lists (- + 1. 1)), quotes (>).
_MD_LINE_START = re.compile(r"^(\s*)([-+]|\d+(?=[.)]))", re.M)


def md_escape(text: object) -> str:
    """``text`` as Markdown that renders as exactly that text in CommonMark, GFM and Obsidian.

    Lighter than escaping every punctuation mark, so an exported note stays readable as plain
    text ("don't", "e.g.", "(2023)" are unchanged)."""
    s = "" if text is None else str(text)
    s = _MD_INLINE.sub(r"\\\1", s)
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), s)


def _escape_marker(marker: str) -> str:
    # "- x" -> "\- x"; "12. x" -> "12\. x" (the escape goes before the "." that follows).
    return "\\" + marker if marker in "-+" else marker + "\\"


def html_escape(text: object) -> str:
    """HTML-escape (quotes too) for element text or a double- or single-quoted attribute."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else ``None`` (no ``javascript:``,
    ``data:``, ``file:``, relative or malformed URLs)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or any(c in url for c in "\x00\n\r\t "):
        return None
    try:
        parsed = urlparse(url)
    except ValueError:
        return None
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        return None
    return url


def md_url(url: str) -> str:
    """An http(s) URL as a Markdown link target: the characters that would end it early or
    break out of it (spaces, ``<>()`` and quotes) percent-encoded."""
    encoded = quote(url, safe=":/?#@!$&*+,;=%~-._[]")
    return encoded.replace("(", "%28").replace(")", "%29")


def md_link(text: object, url: object) -> str:
    """``[text](url)`` when ``url`` is http(s); otherwise just the escaped text."""
    label = md_escape(text)
    good = safe_url(url)
    if good is None:
        return label
    return f"[{label or md_escape(good)}]({md_url(good)})"
