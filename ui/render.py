"""Safe text rendering for the app: everything that came from a feed or a transcript is text.

Two output forms:

- **Markdown** for ``st.markdown``: :func:`md_text` escapes every character Markdown (and
  Streamlit's extensions: ``$`` for LaTeX, ``:`` directives, ``~``) would interpret, and
  :func:`md_link` makes a link only for an http(s) URL.
- **HTML** for ``st.html``: :func:`esc` escapes, :func:`highlight_html` wraps query terms in
  ``<mark>``, :func:`linkify_html` turns a turn's own links (http(s) only) into anchors.

No raw HTML from a feed ever reaches the page: ``show_notes_html`` is never rendered.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from podlens.markup import safe_url
from podlens.text import STOP_WORDS

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")
_URL_RE = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")


def esc(text: object) -> str:
    """HTML-escape (quotes too) anything for use in element text or an attribute value."""
    return html.escape("" if text is None else str(text), quote=True)


def md_text(text: object) -> str:
    """``text`` as Markdown that renders literally (no links, emphasis, HTML, LaTeX, headings)."""
    s = "" if text is None else str(text)
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_url(url: str) -> str:
    """Percent-encode the characters that would end a Markdown link target early."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._[]")


def md_link(text: object, url: object) -> str:
    """A Markdown link when ``url`` is http(s); otherwise just the escaped text."""
    label = md_text(text) or md_text(url)
    good = safe_url(url)
    if good is None:
        return label
    return f"[{label}]({_md_url(good).replace('(', '%28').replace(')', '%29')})"


_ICON = re.compile(r":material/[a-z0-9_]+:")


def md_app_link(url: str, label: object = "", icon: str = "") -> str:
    """A Markdown link to a page of this app (``/?episode=..&t=..``, as ``share_link`` makes
    them) or to an http(s) URL: the label escaped, ``icon`` a ``:material/name:`` or nothing,
    the target percent-encoded so it cannot end early. Anything else is just the label."""
    text = (icon if _ICON.fullmatch(icon or "") else "") + md_text(label)
    u = (url or "").strip()
    app_relative = "\\" not in u and (
        u.startswith("?") or (u.startswith("/") and not u.startswith("//"))
    )
    if not text or not (app_relative or safe_url(u)):
        return text
    target = _md_url(u).replace("(", "%28").replace(")", "%29")
    return f"[{text}]({target})"


def linkify_md(text: str) -> str:
    """Plain text (e.g. show notes with links kept as ``title (url)``) as Markdown: the text is
    escaped and each http(s) URL becomes a link."""
    out: list[str] = []
    pos = 0
    for m in _URL_RE.finditer(text or ""):
        out.append(md_text(text[pos : m.start()]))
        url = m.group(0)
        shown = re.sub(r"^https?://(www\.)?", "", url)
        out.append(md_link(shown, url))
        pos = m.end()
    out.append(md_text((text or "")[pos:]))
    return "".join(out)


def notes_markdown(text: str) -> str:
    """Show notes (plain text, one paragraph or list item per line) as safe Markdown."""
    lines = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            lines.append("")
            continue
        bullet = re.match(r"^[-*•]\s+", line)
        body = line[bullet.end() :] if bullet else line
        lines.append(("- " if bullet else "") + linkify_md(body) + ("" if bullet else "  "))
    return "\n".join(lines).strip()


def query_terms(query: str | None) -> list[str]:
    """The words of a question worth highlighting: lower-cased, longest first, without the stop
    words search ignores (so what is marked is what the lexical ranker matched on)."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]*", query or "")
    seen: dict[str, None] = {}
    for w in words:
        w = w.lower().strip("'-")
        if len(w) < 2 or w in STOP_WORDS:
            continue
        seen.setdefault(w, None)
    return sorted(seen, key=lambda w: (-len(w), w))


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alts = "|".join(re.escape(t) for t in terms)
    # Whole words, allowing simple suffixes ("head" marks "heads"; "adamw" marks "AdamW").
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alts})(?:s|es|ed|ing|'s)?(?![A-Za-z0-9])", re.I)


def highlight_spans(text: str, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """``text`` split into ``(piece, is_match)`` pieces for the query ``terms``."""
    pat = _term_pattern(terms)
    if pat is None or not text:
        return [(text or "", False)]
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pat.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def highlight_html(text: str, terms: Sequence[str]) -> str:
    """Escaped HTML of ``text`` with each query term wrapped in ``<mark>``."""
    return "".join(
        f"<mark>{esc(piece)}</mark>" if hit else esc(piece)
        for piece, hit in highlight_spans(text, terms)
    )


def linkify_html(text: str, links: Iterable[tuple[str, str]], terms: Sequence[str] = ()) -> str:
    """Escaped HTML of a transcript turn: the first occurrence of each link's text becomes an
    anchor to its URL (http(s) only; others stay text), query terms are marked."""
    spans: list[tuple[int, int, str]] = []
    for label, url in links:
        good = safe_url(url)
        if not good or not label:
            continue
        i = text.find(label)
        while i != -1 and any(s <= i < e or s < i + len(label) <= e for s, e, _ in spans):
            i = text.find(label, i + 1)
        if i != -1:
            spans.append((i, i + len(label), good))
    spans.sort()
    out: list[str] = []
    pos = 0
    for s, e, url in spans:
        out.append(highlight_html(text[pos:s], terms))
        out.append(
            f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{highlight_html(text[s:e], terms)}</a>"
        )
        pos = e
    out.append(highlight_html(text[pos:], terms))
    return "".join(out)


def fmt_duration(seconds: float | None) -> str:
    """``13830 -> "3 h 50 min"``, ``2700 -> "45 min"``; ``None -> ""``."""
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def fmt_date(published: str | None) -> str:
    """An ISO date-time as ``3 Feb 2023``; anything unparsable is returned as given."""
    if not published:
        return ""
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", published)
    if not m:
        return published
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= mo <= 12:
        return published
    return f"{d} {months[mo - 1]} {y}"
