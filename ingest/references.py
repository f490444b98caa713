"""The works an episode discusses: collected from the show notes and the transcript's links.

One :class:`~podlens.models.Reference` per distinct work.  URLs are normalized so that the ways one
work gets written (``arxiv.org/pdf/2301.05217v2.pdf``, ``https://arxiv.org/abs/2301.05217``,
``http://www.example.com/post/#section``) meet under one key, and each reference lists every
transcript turn that links it as a :class:`~podlens.models.Mention`.

Show notes write URLs with or without a scheme (``Title: arxiv.org/abs/2301.05217``) or as HTML
anchors; both are read.  The title comes from the show notes when the work is listed there, else
from the transcript's link text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from podlens.models import Episode, Mention, Reference

# New-style (2301.05217, 0704.0001) and old-style (hep-th/9901001) arXiv identifiers.
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})"
_ARXIV_PATH = re.compile(rf"^/(?:abs|pdf|html|format)/{_ARXIV_ID}(?:v\d+)?(?:\.pdf)?/?$", re.I)
_ARXIV_HOSTS = {"arxiv.org", "export.arxiv.org", "ar5iv.org", "ar5iv.labs.arxiv.org"}

# Hosts whose pages are papers/articles (fetched, extracted as documents).
_ARTICLE_HOSTS = {
    "transformer-circuits.pub",
    "distill.pub",
    "science.org",
    "nature.com",
    "proceedings.mlr.press",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "openreview.net",
    "aclanthology.org",
    "doi.org",
    "dl.acm.org",
    "jmlr.org",
    "pnas.org",
    "cell.com",
    "biorxiv.org",
    "semanticscholar.org",
}
# Hosts of forum posts / blogs: a post when the path looks like one.
_POST_HOSTS = {
    "lesswrong.com",
    "alignmentforum.org",
    "greaterwrong.com",
    "forum.effectivealtruism.org",
}
_POST_PATH = re.compile(r"^/(?:posts|s)/[A-Za-z0-9]+", re.I)
# Blog-ish paths on any host: /posts/..., /blog/..., /p/... (substack), /YYYY/MM/...
_BLOG_PATH = re.compile(r"/(?:posts?|blog|p|articles?)/[^/]+|/(?:19|20)\d\d/\d\d/[^/]+", re.I)
_BLOG_HOSTS_SUFFIX = (".substack.com", ".blogspot.com", ".googleblog.com", "medium.com")
# Never documents: social media, video, code, models, encyclopedias, archives.
_LINK_HOSTS = {
    "twitter.com",
    "x.com",
    "youtube.com",
    "youtu.be",
    "github.com",
    "gitlab.com",
    "huggingface.co",
    "wikipedia.org",
    "wiktionary.org",
    "web.archive.org",
    "dynalist.io",
    "docs.google.com",
    "drive.google.com",
    "linkedin.com",
    "facebook.com",
    "instagram.com",
    "patreon.com",
    "ko-fi.com",
    "spotify.com",
    "podcasts.apple.com",
}
# Query parameters that never change what a URL points at.
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|ref|ref_src|s|si|feature)$", re.I)

# A URL in running text, with or without a scheme: "arxiv.org/abs/2301.05217".
_URL_IN_TEXT = re.compile(
    r"(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?"
    r"(?:/[^\s<>\"'()]*(?:\([^\s<>\"'()]*\)[^\s<>\"'()]*)*)?",
    re.I,
)
_TRAILING_PUNCT = ".,;:!?"
_TRANSCRIPT_LABEL = re.compile(r"^(?:the\s+|full\s+|episode\s+)*transcript\b", re.I)


def arxiv_id(url: str) -> str | None:
    """The arXiv identifier of an abs/pdf/html URL without its version, else ``None``.

    >>> arxiv_id("https://arxiv.org/pdf/2301.05217v2.pdf")
    '2301.05217'
    """
    parts = urlsplit(_with_scheme(url))
    host = _bare_host(parts.hostname or "")
    if host not in _ARXIV_HOSTS:
        return None
    m = _ARXIV_PATH.match(parts.path)
    return m.group(1).lower() if m else None


def _with_scheme(url: str) -> str:
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        return "https://" + url
    return url


def _bare_host(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _host_in(host: str, hosts: set[str]) -> bool:
    """``en.wikipedia.org`` is in ``{"wikipedia.org"}``."""
    return any(host == h or host.endswith("." + h) for h in hosts)


def normalize_url(url: str) -> str:
    """The canonical form of a URL, used as the identity of a work.

    https, no ``www.``, lower-case host, no fragment, no trailing slash or ``index.html``, no
    tracking parameters; arXiv abs/pdf/versioned URLs become ``https://arxiv.org/abs/<id>``.
    """
    aid = arxiv_id(url)
    if aid:
        return f"https://arxiv.org/abs/{aid}"
    parts = urlsplit(_with_scheme(url))
    host = _bare_host(parts.hostname or "")
    netloc = host + (f":{parts.port}" if parts.port and parts.port not in (80, 443) else "")
    path = parts.path
    path = re.sub(r"/index\.html?$", "/", path, flags=re.I)
    path = path.rstrip("/")
    params = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in params if not _TRACKING.match(k)])
    if host in ("youtube.com", "m.youtube.com") and path == "/watch":
        # A video is its ?v=; playlist position and start offsets are not part of it.
        v = dict(parse_qsl(parts.query)).get("v")
        query = urlencode({"v": v}) if v else query
    return urlunsplit(("https", netloc, path, query, ""))


def classify(url: str) -> str:
    """``"arxiv"`` | ``"article"`` | ``"post"`` | ``"link"`` for a (normalized or raw) URL."""
    if arxiv_id(url):
        return "arxiv"
    parts = urlsplit(_with_scheme(url))
    host = _bare_host(parts.hostname or "")
    path = parts.path or "/"
    if host in _ARXIV_HOSTS:
        return "link"  # listings, search pages
    if _host_in(host, _LINK_HOSTS):
        return "link"
    if _host_in(host, _ARTICLE_HOSTS):
        return "article" if path.strip("/") else "link"
    if _host_in(host, _POST_HOSTS):
        return "post" if _POST_PATH.match(path) else "link"
    if host.endswith(_BLOG_HOSTS_SUFFIX) and path.strip("/"):
        return "post"
    if _BLOG_PATH.search(path):
        return "post"
    # Homepages, "about" pages, funds, products: kept as plain links.
    return "link"


@dataclass
class _Found:
    url: str  # as written (maybe schemeless)
    title: str


def _clean_url_match(raw: str) -> str:
    raw = raw.rstrip(_TRAILING_PUNCT)
    # Drop an unbalanced closing parenthesis: "(see arxiv.org/abs/1234.5678)".
    while raw.endswith(")") and raw.count(")") > raw.count("("):
        raw = raw[:-1].rstrip(_TRAILING_PUNCT)
    return raw


def _looks_like_url(text: str) -> bool:
    m = _URL_IN_TEXT.fullmatch(text.strip())
    return bool(m) and ("/" in text or text.strip().lower().startswith("www."))


def _title_before(text: str) -> str:
    """``"Neel on Twitter: "`` -> ``"Neel on Twitter"``; ``"Title ("`` -> ``"Title"``."""
    t = text.strip()
    t = re.sub(r"[\s:–—(\-]+$", "", t)
    return t.strip()


def _urls_in_text(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _URL_IN_TEXT.finditer(text):
        raw = _clean_url_match(m.group(0))
        has_scheme = raw.lower().startswith(("http://", "https://"))
        # Without a scheme, insist on a path or "www." so "e.g." or "axrp.net." in prose is not
        # taken for a link to a work.
        if not has_scheme and "/" not in raw and not raw.lower().startswith("www."):
            continue
        if not has_scheme and m.start() > 0 and text[m.start() - 1] in "@/":
            continue  # part of an email address or a longer URL
        out.append((m.start(), m.start() + len(raw), raw))
    return out


def show_notes_links(episode: Episode) -> list[_Found]:
    """Every link in the show notes, in order, each with its title as the notes give it.

    Reads ``show_notes_html`` (anchors, and scheme-less URLs in list items such as
    ``"Title: arxiv.org/abs/2301.05217"``), else the plain ``show_notes`` text.
    """
    found: list[_Found] = []
    html = episode.show_notes_html or ""
    if html.strip():
        soup = BeautifulSoup(html, "html.parser")
        blocks = soup.find_all(["li", "p"]) or [soup]
        for block in blocks:
            if block.name == "p" and block.find_parent("li"):
                continue
            found.extend(_links_in_block(block))
    else:
        for line in (episode.show_notes or "").splitlines():
            found.extend(_links_in_line(line))
    return found


def _links_in_block(block) -> list[_Found]:  # type: ignore[no-untyped-def]
    out: list[_Found] = []
    anchors = block.find_all("a", href=True)
    for a in anchors:
        if a.find_parent(["li", "p"]) not in (block, None):
            continue  # belongs to a nested list item, read there
        href = a["href"].strip()
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        text = a.get_text(" ", strip=True)
        if not text or _looks_like_url(text):
            # "Title: <a>arxiv.org/...</a>": the title is the text before the anchor.
            before = []
            for sib in a.previous_siblings:
                before.insert(0, sib.get_text(" ") if hasattr(sib, "get_text") else str(sib))
            text = _title_before("".join(before)) or text
        out.append(_Found(href, text))
        a.extract()  # so its text is not found again as a bare URL below
    own_text = [
        str(t) for t in block.find_all(string=True) if t.find_parent(["li", "p"]) in (block, None)
    ]
    out.extend(_links_in_line(" ".join(own_text)))
    return out


def _links_in_line(line: str) -> list[_Found]:
    out: list[_Found] = []
    prev_end = 0
    for start, end, raw in _urls_in_text(line):
        title = _title_before(line[prev_end:start])
        out.append(_Found(raw, title))
        prev_end = end
    return out


def collect_references(episode: Episode) -> list[Reference]:
    """One Reference per distinct work linked from the show notes or the transcript turns.

    Order: works in the order the show notes list them, then works only the transcript links, in
    the order they are first mentioned.  Each reference's ``mentions`` are the turns that link it
    (one per turn), with the turn's start time (``None`` before alignment) and chapter.  The
    episode's own transcript page (``transcript_url``, or a notes link labelled "The
    transcript") is not a reference.
    """
    refs: dict[str, Reference] = {}
    own = {normalize_url(u) for u in (episode.transcript_url,) if u}

    def ref_for(url: str, title: str) -> Reference | None:
        key = normalize_url(url)
        if key in own or not urlsplit(key).hostname:
            return None
        ref = refs.get(key)
        if ref is None:
            ref = Reference(url=key, title=title.strip() or key, kind=classify(key))
            refs[key] = ref
        elif ref.title == ref.url and title.strip():
            ref.title = title.strip()
        return ref

    for f in show_notes_links(episode):
        if _TRANSCRIPT_LABEL.match(f.title):
            continue  # "The transcript: axrp.net/episode/...": the episode itself
        ref_for(f.url, f.title)

    for i, turn in enumerate(episode.turns):
        for link in turn.links:
            if not link.url or link.url.startswith(("#", "mailto:")):
                continue
            text = link.text if not _looks_like_url(link.text) else ""
            ref = ref_for(link.url, _strip_quotes(text))
            if ref is None:
                continue
            if not any(m.turn == i for m in ref.mentions):
                ref.mentions.append(Mention(start=turn.start, chapter=turn.chapter, turn=i))
    return list(refs.values())


def _strip_quotes(text: str) -> str:
    return text.strip().strip("'\"‘’“”").strip()


def show_notes_titled(episode: Episode) -> set[str]:
    """Normalized URLs whose title the show notes give (these titles are kept over fetched ones)."""
    return {normalize_url(f.url) for f in show_notes_links(episode) if f.title}
