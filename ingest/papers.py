"""Fetch the works an episode references and turn them into :class:`PaperDoc` s to index.

- arXiv papers: metadata (title, authors, date, abstract) from the arXiv API's Atom feed, parsed
  with feedparser, in batches of ids; full text from the PDF with pypdf, split into sections at
  numbered headings ("1 Introduction", "2.1 Setup"), else into pages.
- Articles and posts: the page's main content via trafilatura (its XML output keeps headings,
  which become sections); a page that turns out to be a PDF is read as one.
- Plain links (Twitter, YouTube, homepages...) are not fetched: status ``"skipped"``.

A work that cannot be fetched gets ``status="failed"`` and a one-line ``error``; it never fails
the episode.  :func:`attach_references` is the one call the ingest pipeline makes.  Requests go
through :mod:`podlens.http` (polite: paced per host, retried, size-capped, cached on disk);
where they go (arXiv's endpoints, mirrors) is :class:`PapersConfig`, from the settings.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from ingest.references import arxiv_id, collect_references, show_notes_titled
from podlens.atomic import atomic_write_json
from podlens.config import ARXIV_API, ARXIV_PDF, Settings, settings
from podlens.http import FetchError, HttpClient, HttpConfig, Response
from podlens.models import Episode, PaperDoc, Reference
from podlens.progress import Progress

log = logging.getLogger(__name__)

FETCHED_KINDS = ("arxiv", "article", "post")
# arXiv asks API clients for one request every 3 seconds.
ARXIV_HOST_INTERVALS = {"export.arxiv.org": 3.0}


@dataclass(frozen=True)
class PapersConfig:
    """Where the works are fetched from and how politely; tests shrink the delays."""

    arxiv_api: str = ARXIV_API
    arxiv_pdf: str = ARXIV_PDF  # ``{id}``: the arXiv id
    arxiv_batch: int = 50  # ids per API query
    # By default what an empty environment gives: public hosts only, the arXiv endpoints allowed.
    http: HttpConfig = field(default_factory=lambda: _papers_http(Settings()))

    @classmethod
    def from_settings(cls, s: Settings) -> PapersConfig:
        """``PODLENS_ARXIV_API``, ``PODLENS_ARXIV_PDF``, ``PODLENS_FETCH_MIRRORS``,
        ``PODLENS_FETCH_INTERVAL``, ``PODLENS_FETCH_DEADLINE`` and ``PODLENS_ALLOW_HOSTS`` (see
        :mod:`podlens.config`).  The works' URLs come from the transcript and show notes, so
        they are fetched from public hosts only; the arXiv endpoints and mirrors the listener
        configured are theirs to point anywhere."""
        return cls(arxiv_api=s.arxiv_api, arxiv_pdf=s.arxiv_pdf, http=_papers_http(s))


def _papers_http(s: Settings) -> HttpConfig:
    own = {urlsplit(u).hostname for u in (s.arxiv_api, s.arxiv_pdf.replace("{id}", "x"))}
    return HttpConfig(
        min_interval=s.fetch_interval,
        host_intervals=ARXIV_HOST_INTERVALS,
        mirrors=dict(s.fetch_mirrors),
        max_seconds=s.fetch_deadline,
        public_only=True,
        allow_hosts=s.allow_hosts | {h.lower() for h in own if h},
    )


@dataclass
class _Run:
    """One fetching run: what to fetch from, the client, and where read PDFs are remembered."""

    config: PapersConfig
    http: HttpClient
    pdf_text_dir: Path | None


# --------------------------------------------------------------------------------------------
# Text clean-up and sectioning
# --------------------------------------------------------------------------------------------
def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _clean_pdf_text(lines: Iterable[str]) -> str:
    text = "\n".join(lines)
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    text = text.replace("\x00", "")
    paras = re.split(r"\n\s*\n", text)
    return "\n\n".join(p for p in (_squash(p) for p in paras) if p)


_NUMBERED = re.compile(r"^(\d{1,2})((?:\.\d{1,2}){0,3})\.?\s+(\S.{0,90})$")
_LETTERED = re.compile(r"^([A-H])((?:\.\d{1,2}){0,3})\.?\s+(\S.{0,90})$")
_NAMED = re.compile(
    r"^(abstract|references|bibliography|acknowledge?ments?|appendix|appendices)$", re.I
)
_END_OF_BODY = re.compile(r"^(references|bibliography)$", re.I)


def _unsmallcap(s: str) -> str:
    """``"I NTRODUCTION"`` (small caps as pypdf sees them) -> ``"INTRODUCTION"``."""
    return re.sub(r"\b([A-Z]) (?=[A-Z]{2,}\b)", r"\1", s)


def _heading_title_ok(title: str) -> bool:
    title = title.strip()
    if not title or not (title[0].isupper() or title[0].isdigit()):
        return False
    if title.endswith((".", ",", ";")) or len(title.split()) > 12:
        return False
    letters = sum(c.isalpha() for c in title)
    return letters >= 3 and letters / len(title) > 0.6


def pdf_sections(pdf: bytes) -> list[tuple[str, str]]:
    """Sections of a paper PDF: ``[(heading, text), ...]``.

    Headings are lines like ``1 Introduction`` / ``2.1 Setup`` whose top-level numbers go up one
    at a time (so numbers inside tables and equations do not pass), plus ``Abstract``; after
    ``References`` only lettered appendix headings (``A Proofs``) open sections and the
    bibliography itself is dropped.  With fewer than two numbered headings the text is split into
    ``Page N`` sections instead.  Raises ``ValueError`` when the bytes are not a readable PDF.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not pdf.lstrip()[:5].startswith(b"%PDF"):
        raise ValueError("not a PDF")
    try:
        reader = PdfReader(io.BytesIO(pdf))
        pages = [(page.extract_text() or "") for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"unreadable PDF ({type(e).__name__})") from e

    sections: list[tuple[str, list[str]]] = [("", [])]
    top = 0  # last top-level section number accepted
    letter = "@"  # last appendix letter accepted
    in_refs = False
    numbered = 0
    for page in pages:
        for raw in page.splitlines():
            line = raw.strip()
            if not line:
                sections[-1][1].append("")
                continue
            cand = _unsmallcap(line)
            if _NAMED.match(cand):
                name = cand.title()
                in_refs = bool(_END_OF_BODY.match(cand))
                sections.append((name, []))
                continue
            m = _NUMBERED.match(cand)
            if m and not in_refs and _heading_title_ok(m.group(3)):
                n = int(m.group(1))
                sub = bool(m.group(2))
                if (not sub and n == top + 1) or (sub and n == top and top > 0):
                    top = n
                    numbered += not sub
                    sections.append((f"{m.group(1)}{m.group(2)} {m.group(3).strip()}", []))
                    continue
            m = _LETTERED.match(cand)
            if m and (in_refs or letter > "@") and _heading_title_ok(m.group(3)):
                ch, sub = m.group(1), bool(m.group(2))
                if (not sub and ord(ch) == ord(letter) + 1) or (sub and ch == letter):
                    letter = ch
                    in_refs = False
                    sections.append((f"{ch}{m.group(2)} {m.group(3).strip()}", []))
                    continue
            sections[-1][1].append(line)
        sections[-1][1].append("")  # page break ends a paragraph

    if numbered < 2:
        return [
            (f"Page {i}", text)
            for i, text in ((i, _clean_pdf_text(p.splitlines())) for i, p in enumerate(pages, 1))
            if text
        ]
    out = []
    for heading, lines in sections:
        if _END_OF_BODY.match(heading):
            continue
        text = _clean_pdf_text(lines)
        if text:
            out.append((heading, text))
    return out


def html_document(html: str, url: str) -> tuple[dict, list[tuple[str, str]]]:
    """Main content of an HTML page: ``(metadata, sections)``; headings open sections.

    ``metadata`` has ``title``, ``authors`` (list), ``published`` and ``description`` where the
    page gives them.  Raises ``ValueError`` when no main text can be found.
    """
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        html,
        url=url,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_images=False,
        favor_recall=True,
    )
    if not xml:
        raise ValueError("no main text found")
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    if main is None:
        main = root
    sections: list[tuple[str, list[str]]] = [("", [])]
    for el in main:
        text = _squash(" ".join(el.itertext()))
        if not text:
            continue
        if el.tag == "head":
            sections.append((text, []))
        else:
            sections[-1][1].append(text)
    out = [(h, "\n\n".join(ps)) for h, ps in sections if ps]
    if not out:
        raise ValueError("no main text found")

    meta_obj = trafilatura.extract_metadata(html, default_url=url)
    authors: list[str] = []
    if meta_obj is not None and meta_obj.author:
        authors = [a.strip() for a in re.split(r";|\band\b", meta_obj.author) if a.strip()]
    meta = {
        "title": (meta_obj.title if meta_obj is not None else None) or root.get("title"),
        "authors": authors,
        "published": meta_obj.date if meta_obj is not None else None,
        "description": meta_obj.description if meta_obj is not None else None,
    }
    return meta, out


# --------------------------------------------------------------------------------------------
# arXiv
# --------------------------------------------------------------------------------------------
def arxiv_metadata(ids: list[str], run: _Run) -> dict[str, dict]:
    """``{id: {"title", "authors", "published", "abstract"}}`` from the arXiv API (Atom).

    Ids the API does not know are absent from the result; a failing API raises FetchError.
    """
    import feedparser

    cfg = run.config
    out: dict[str, dict] = {}
    for i in range(0, len(ids), cfg.arxiv_batch):
        batch = sorted(set(ids[i : i + cfg.arxiv_batch]))
        query = urlencode({"id_list": ",".join(batch), "max_results": len(batch)})
        res = run.http.get(f"{cfg.arxiv_api}?{query}", accept="application/atom+xml")
        feed = feedparser.parse(res.body)
        if feed.bozo and not feed.entries:
            raise FetchError("arXiv API answered with something that is not an Atom feed")
        for entry in feed.entries:
            aid = arxiv_id(entry.get("id", "")) or arxiv_id(entry.get("link", ""))
            if not aid or _squash(entry.get("title", "")).lower() == "error":
                continue
            out[aid] = {
                "title": _squash(entry.get("title", "")),
                "authors": [a.get("name", "") for a in entry.get("authors", []) if a.get("name")],
                "published": entry.get("published"),
                "abstract": _squash(entry.get("summary", "")) or None,
            }
    return out


def _cached_pdf_sections(pdf: bytes, run: _Run) -> list[tuple[str, str]]:
    """:func:`pdf_sections`, remembered under ``cache/pdf_text/`` by the PDF's hash: reading a
    long paper takes seconds, and a re-ingest should not pay that again."""
    path = None
    if run.pdf_text_dir is not None:
        digest = hashlib.sha256(pdf).hexdigest()
        path = run.pdf_text_dir / f"{digest}.json"
        try:
            return [(h, t) for h, t in json.loads(path.read_text("utf-8"))]
        except (OSError, ValueError, TypeError):
            pass
    sections = pdf_sections(pdf)
    if path is not None:
        atomic_write_json(path, sections)
    return sections


def _is_pdf(res: Response) -> bool:
    return res.body.lstrip()[:5].startswith(b"%PDF") or "pdf" in res.content_type.lower()


def _fetch_arxiv(ref: Reference, meta: dict | None, run: _Run) -> PaperDoc:
    aid = arxiv_id(ref.url)
    assert aid is not None
    if meta:
        ref.authors = meta["authors"]
        ref.published = meta["published"]
        ref.abstract = meta["abstract"]
    body: list[tuple[str, str]] = []
    pdf_error = None
    try:
        res = run.http.get(run.config.arxiv_pdf.format(id=aid), accept="application/pdf")
        if not res.body.lstrip()[:5].startswith(b"%PDF"):
            raise FetchError(f"not a PDF ({res.content_type or 'no content type'})")
        body = _cached_pdf_sections(res.body, run)
        if meta:  # the API's title, authors and abstract are cleaner than the PDF's front page
            body = [s for s in body if s[0] and s[0].lower() != "abstract"]
    except (FetchError, ValueError) as e:
        pdf_error = str(e)
    if not meta and not body:
        raise FetchError(pdf_error or "not found in the arXiv API")
    sections = ([("Abstract", ref.abstract)] if ref.abstract else []) + body
    if pdf_error:
        ref.error = f"full text unavailable: {pdf_error}"
    return PaperDoc(
        url=ref.url,
        title=(meta or {}).get("title") or ref.title,
        kind="arxiv",
        authors=ref.authors,
        published=ref.published,
        abstract=ref.abstract,
        sections=sections,
    )


def _fetch_page(ref: Reference, run: _Run) -> PaperDoc:
    res = run.http.get(ref.url, accept="text/html,application/xhtml+xml,application/pdf;q=0.9")
    try:
        if _is_pdf(res):
            meta: dict = {}
            sections = _cached_pdf_sections(res.body, run)
        else:
            ctype = res.content_type.lower()
            if ctype and not any(t in ctype for t in ("html", "xml", "text/plain")):
                raise FetchError(f"unsupported content type ({res.content_type})")
            meta, sections = html_document(res.text, res.final_url)
    except ValueError as e:
        raise FetchError(str(e)) from e
    ref.authors = meta.get("authors") or []
    ref.published = meta.get("published")
    ref.abstract = meta.get("description")
    return PaperDoc(
        url=ref.url,
        title=meta.get("title") or ref.title,
        kind=ref.kind,
        authors=ref.authors,
        published=ref.published,
        abstract=ref.abstract,
        sections=sections,
    )


def fetch_papers(
    references: list[Reference],
    data_dir: str | Path | None,
    *,
    config: PapersConfig | None = None,
    progress: Progress | None = None,
    keep_titles: Iterable[str] = (),
) -> list[PaperDoc]:
    """Fetch every arxiv/article/post reference; return the documents that could be read.

    Updates each Reference in place: ``status`` ("ok" | "failed" | "skipped" for plain links),
    ``error``, ``authors``, ``published``, ``abstract``; its ``title`` becomes the fetched title
    unless its URL is in ``keep_titles`` (titles the show notes give).  Responses are cached under
    ``data_dir/cache/http`` so a second run makes no requests.  ``progress("papers", fraction)``
    is called as works complete.  ``config`` defaults to :meth:`PapersConfig.from_settings`.
    """
    config = config or PapersConfig.from_settings(settings())
    cache = Path(data_dir) / "cache" if data_dir is not None else None
    with HttpClient(config.http, cache_dir=cache / "http" if cache else None) as http:
        run = _Run(config, http, cache / "pdf_text" if cache else None)
        return _fetch_all(references, run, progress, set(keep_titles))


def _fetch_all(
    references: list[Reference], run: _Run, progress: Progress | None, keep: set[str]
) -> list[PaperDoc]:
    todo = [r for r in references if r.kind in FETCHED_KINDS]
    for r in references:
        if r.kind not in FETCHED_KINDS:
            r.status, r.error = "skipped", None
    if progress:
        progress("papers", 0.0)

    arxiv_ids = [aid for r in todo if r.kind == "arxiv" and (aid := arxiv_id(r.url))]
    metas: dict[str, dict] = {}
    api_error = None
    if arxiv_ids:
        try:
            metas = arxiv_metadata(arxiv_ids, run)
        except FetchError as e:
            api_error = f"arXiv API: {e}"
            log.warning("%s", api_error)

    docs: list[PaperDoc] = []
    for i, ref in enumerate(todo, 1):
        ref.error = None
        try:
            if ref.kind == "arxiv":
                meta = metas.get(arxiv_id(ref.url) or "")
                try:
                    doc = _fetch_arxiv(ref, meta, run)
                except FetchError as e:
                    raise FetchError(f"{api_error}; PDF: {e}" if api_error else str(e)) from e
            else:
                doc = _fetch_page(ref, run)
        except FetchError as e:
            ref.status, ref.error = "failed", str(e)
            log.info("could not fetch %s: %s", ref.url, e)
        except Exception as e:  # a parser bug on one odd document must not sink the episode
            ref.status, ref.error = "failed", f"could not read ({type(e).__name__}: {e})"
            log.exception("reading %s failed", ref.url)
        else:
            ref.status = "ok"
            if ref.url not in keep and doc.title:
                ref.title = doc.title
            doc.title = ref.title if ref.url in keep else doc.title
            docs.append(doc)
        if progress:
            progress("papers", i / len(todo))
    if progress and not todo:
        progress("papers", 1.0)
    return docs


def attach_references(
    episode: Episode,
    data_dir: str | Path | None,
    *,
    fetch: bool = True,
    progress: Progress | None = None,
    config: PapersConfig | None = None,
) -> list[PaperDoc]:
    """Set ``episode.references`` from its show notes and turns; fetch the works if ``fetch``.

    Returns the documents to index as ``kind: "paper"`` (empty when ``fetch`` is false: then
    every reference is listed with its mentions and ``status="skipped"``).  Never raises for a
    work that cannot be fetched; its reference records ``status="failed"`` and ``error``.
    ``config`` defaults to :meth:`PapersConfig.from_settings` (read only when fetching).
    """
    refs = collect_references(episode)
    episode.references = refs
    if not fetch:
        for r in refs:
            r.status, r.error = "skipped", None
        return []
    return fetch_papers(
        refs, data_dir, config=config, progress=progress, keep_titles=show_notes_titled(episode)
    )
