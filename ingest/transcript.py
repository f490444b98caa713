"""Parse an AXRP transcript into speaker turns, from the Jekyll markdown or the rendered page.

Both sources give the same turns: ``speaker``, ``text`` (paragraphs joined by a blank line, inline
markdown reduced to its text), ``chapter`` (the section heading as written, without its
``<a name>`` anchor; turns before the first heading are in "Introduction") and ``links``.

Speaker lines come in the site's two styles, ``**Name:**`` and (from late 2024)
``**Name** (01:02:03):`` with ``(01:02:03):`` marking later paragraphs of the same turn; those
stamps are kept in :attr:`ParsedTurn.stamp` / ``para_stamps``.  A paragraph that no speaker line
introduces (the closing credits after the last turn, a note after a heading) belongs to the
previous speaker: on AXRP the host reads the credits.  Text before the first speaker line (summary,
"Topics we discuss") is not part of any turn.
"""

from __future__ import annotations

import html as htmllib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

from podlens.errors import PodlensError
from podlens.models import Link, Turn
from podlens.timecode import parse_timestamp

INTRO = "Introduction"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ANCHOR = re.compile(r"<a\s+name=[\"'][^\"']*[\"']\s*>\s*</a>", re.I)
_STAMP = r"\(?(\d{1,2}:\d{2}(?::\d{2})?)\)?"
_SPEAKER = re.compile(
    r"^\*\*(?P<name>[^*\n]{1,80}?)(?::\*\*|\*\*\s*(?:\((?P<ts>\d{1,2}:\d{2}(?::\d{2})?)\))?\s*:)"
    r"\s*(?P<rest>.*)$"
)
_CONT = re.compile(r"^\((\d{1,2}:\d{2}(?::\d{2})?)\):\s*(.*)$")
_SPEAKER_TEXT = re.compile(
    r"^(?P<name>[^:\n]{1,80}?)\s*(?:\((?P<ts>\d{1,2}:\d{2}(?::\d{2})?)\))?\s*:$"
)
_MD_LINK = re.compile(
    r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+|[^@>\s]+@[^@>\s]+\.[^>\s]+)>")


@dataclass
class ParsedTurn:
    speaker: str
    paragraphs: list[str]
    chapter: str
    links: list[Link] = field(default_factory=list)
    stamp: float | None = None  # seconds, when the transcript writes one

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def to_turn(self) -> Turn:
        return Turn(
            speaker=self.speaker, text=self.text, chapter=self.chapter, links=list(self.links)
        )


@dataclass
class Transcript:
    title: str | None
    sections: list[str]  # every heading in order, as written (even ones with no turns)
    turns: list[ParsedTurn]

    def to_turns(self) -> list[Turn]:
        return [t.to_turn() for t in self.turns]


def _seconds(stamp: str | None) -> float | None:
    try:
        return parse_timestamp(stamp) if stamp else None
    except PodlensError:  # a garbled stamp is no anchor; the turn is aligned like any other
        return None


def _ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _md_inline(s: str, links: list[Link]) -> str:
    """Reduce inline markdown to its text, collecting links."""

    def link(m: re.Match[str]) -> str:
        text = _md_inline(m.group(1), [])
        if not m.group(0).startswith("!"):
            links.append(Link(text=_ws(text), url=m.group(2)))
            return text
        return text

    s = _MD_LINK.sub(link, s)

    def auto(m: re.Match[str]) -> str:
        target = m.group(1)
        url = target if re.match(r"^(https?|mailto):", target) else "mailto:" + target
        text = target[7:] if target.startswith("mailto:") else target
        links.append(Link(text=text, url=url))
        return text

    s = _AUTOLINK.sub(auto, s)
    s = re.sub(r"<[^>]+>", "", s)  # inline HTML tags
    s = re.sub(r"`([^`]*)`", r"\1", s)
    s = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", s)
    s = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"\1", s)
    s = re.sub(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)", r"\1", s)
    s = re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|~])", r"\1", s)
    return _ws(htmllib.unescape(s))


def _heading_text(raw: str) -> str:
    return _md_inline(_ANCHOR.sub("", raw), [])


class _Builder:
    def __init__(self) -> None:
        self.sections: list[str] = []
        self.turns: list[ParsedTurn] = []
        self.chapter = INTRO
        self.current: ParsedTurn | None = None
        self.last_speaker: str | None = None

    def heading(self, text: str) -> None:
        text = text or "Untitled section"
        self.sections.append(text)
        self.chapter = text
        self.current = None

    def speaker(self, name: str, stamp: float | None) -> None:
        name = _ws(name).rstrip(":").strip()
        self.current = ParsedTurn(speaker=name, paragraphs=[], chapter=self.chapter, stamp=stamp)
        self.turns.append(self.current)
        self.last_speaker = name

    def paragraph(self, text: str, links: list[Link]) -> None:
        if not text:
            return
        if self.current is None:
            if self.last_speaker is None:
                return  # preamble before any speaker: summary, topic list
            self.current = ParsedTurn(
                speaker=self.last_speaker, paragraphs=[], chapter=self.chapter
            )
            self.turns.append(self.current)
        self.current.paragraphs.append(text)
        self.current.links.extend(links)

    def finish(self, title: str | None, src: str) -> Transcript:
        turns = [t for t in self.turns if t.paragraphs]
        if not turns:
            raise PodlensError(f"transcript {src}: no speaker turns found")
        return Transcript(title=title, sections=self.sections, turns=turns)


def parse_markdown(text: str, src: str = "transcript") -> Transcript:
    """Parse the site's Jekyll markdown source."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    title = None
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            fm = text[4:end]
            m = re.search(r"^title:\s*(.*)$", fm, re.M)
            if m:
                title = m.group(1).strip().strip("\"'") or None
            text = text[end + 4 :].split("\n", 1)[1] if "\n" in text[end + 4 :] else ""
    b = _Builder()
    para: list[str] = []

    def flush() -> None:
        if para:
            links: list[Link] = []
            t = _md_inline(" ".join(para), links)
            b.paragraph(t, links)
            para.clear()

    in_fence = False
    for raw in text.split("\n"):
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            flush()
            continue
        if in_fence:
            if line.strip():
                para.append(line.strip())
            continue
        if not line.strip():
            flush()
            continue
        h = _HEADING.match(line)
        if h and len(h.group(1)) >= 2:
            flush()
            b.heading(_heading_text(h.group(2)))
            continue
        s = _SPEAKER.match(line.strip())
        if s:
            flush()
            b.speaker(s.group("name"), _seconds(s.group("ts")))
            rest = s.group("rest").strip()
            if rest:
                para.append(rest)
            continue
        c = _CONT.match(line.strip())
        if c:
            flush()
            if c.group(2).strip():
                para.append(c.group(2).strip())
            continue
        stripped = line.strip()
        if re.fullmatch(r"(?:-{3,}|\*{3,}|_{3,})", stripped):
            flush()
            continue
        li = re.match(r"^(?:[-*+]|\d+[.)])\s+(.*)$", stripped)
        if li:  # each list item is its own paragraph
            flush()
            para.append(li.group(1))
            continue
        bq = re.match(r"^>\s?(.*)$", stripped)
        if bq:
            stripped = bq.group(1).strip()
            if not stripped:
                flush()
                continue
        para.append(stripped)
    flush()
    return b.finish(title, src)


def _html_inline(tag: Tag, links: list[Link]) -> str:
    for a in tag.find_all("a"):
        href = a.get("href")
        text = _ws(a.get_text())
        if href and text and not href.startswith("#"):
            links.append(Link(text=text, url=href))
    return _ws(tag.get_text())


def _speaker_of(p: Tag) -> tuple[str, float | None, Tag | None] | None:
    """If ``p`` opens a turn (starts with ``<strong>Name:</strong>`` or
    ``<strong>Name</strong> (00:09):``), the name, the stamp and the first strong tag."""
    first = None
    for child in p.children:
        if isinstance(child, NavigableString) and not child.strip():
            continue
        first = child
        break
    if not isinstance(first, Tag) or first.name not in ("strong", "b"):
        return None
    label = _ws(first.get_text())
    after = ""
    sib = first.next_sibling
    if isinstance(sib, NavigableString):
        after = str(sib)
    if label.endswith(":"):
        m = _SPEAKER_TEXT.match(label)
        return (m.group("name"), _seconds(m.group("ts")), first) if m else None
    m = re.match(r"^\s*(?:\((\d{1,2}:\d{2}(?::\d{2})?)\))?\s*:", after)
    if m and 0 < len(label) <= 80:
        return label, _seconds(m.group(1)), first
    return None


def parse_html(text: str, src: str = "transcript") -> Transcript:
    """Parse the rendered axrp.net page (kramdown, theme minima)."""
    soup = BeautifulSoup(text, "lxml")
    body = (
        soup.select_one("div.post-content")
        or soup.select_one("[itemprop=articleBody]")
        or soup.find("article")
        or soup.body
        or soup
    )
    title_tag = soup.select_one(".post-title") or soup.find("h1") or soup.find("title")
    title = _ws(title_tag.get_text()) if title_tag else None
    b = _Builder()
    for el in body.find_all(["h2", "h3", "h4", "h5", "h6", "p", "li", "pre"]):
        if el.name == "p" and el.find_parent("li") is not None:
            continue  # a loose list item's paragraph: the <li> is handled
        if el.name in ("h2", "h3", "h4", "h5", "h6"):
            b.heading(_ws(el.get_text()))
            continue
        if el.name == "li" and el.find_parent("li") is not None and el.find("p") is None:
            pass
        if el.name == "p":
            sp = _speaker_of(el)
            if sp:
                name, stamp, strong = sp
                strong.extract()
                first = next(iter(el.children), None)
                if isinstance(first, NavigableString):
                    first.replace_with(re.sub(r"^\s*(?:\(\d[\d:]*\))?\s*:?", "", str(first)))
                b.speaker(name, stamp)
                links: list[Link] = []
                rest = _html_inline(el, links)
                if rest:
                    b.paragraph(rest, links)
                continue
            raw = _ws(el.get_text())
            m = _CONT.match(raw)
            if m:
                first = next(iter(el.children), None)
                if isinstance(first, NavigableString):
                    first.replace_with(re.sub(r"^\s*\(\d[\d:]*\):\s*", "", str(first)))
        if el.name == "li":
            # the list item's own text, without nested lists (they come as their own <li>)
            for sub in el.find_all(["ul", "ol"]):
                sub.extract()
        links = []
        b.paragraph(_html_inline(el, links), links)
    return b.finish(title, src)


# Caps against hostile or mistaken inputs (the longest AXRP episode is about 50,000 words):
# past them parsing, aligning and embedding would take gigabytes and minutes for nothing.
MAX_TRANSCRIPT_CHARS = 10_000_000
MAX_TRANSCRIPT_WORDS = 200_000


def check_transcript_text(text: str, src: str) -> None:
    """PodlensError for a transcript too large to be one episode (checked before parsing)."""
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise PodlensError(
            f"transcript {src}: too large ({len(text):,} characters; at most "
            f"{MAX_TRANSCRIPT_CHARS:,})"
        )


def check_transcript_words(turns: list[Turn], src: str) -> None:
    """PodlensError for more words than any episode has (checked before aligning/embedding)."""
    words = sum(len(t.text.split()) for t in turns)
    if words > MAX_TRANSCRIPT_WORDS:
        raise PodlensError(
            f"transcript {src}: too long ({words:,} words; at most {MAX_TRANSCRIPT_WORDS:,})"
        )


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head or "<div" in head


def parse_transcript(text: str, src: str = "transcript") -> Transcript:
    """Markdown or HTML, whichever ``text`` is."""
    if not text.strip():
        raise PodlensError(f"transcript {src}: empty")
    if looks_like_html(text):
        return parse_html(text, src)
    return parse_markdown(text, src)


class LocalTranscripts:
    """A folder of transcripts (AXRP's ``YYYY-MM-DD-<slug>.markdown`` posts) found for a feed
    item by the slug of its transcript link, else by the episode number in the post's title."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        from ingest.feed import title_number

        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise PodlensError(f"transcripts folder {self.folder}: not a directory")
        self.by_slug: dict[str, Path] = {}
        self.by_number: dict[str, Path] = {}
        for p in sorted(self.folder.glob("*.markdown")) + sorted(self.folder.glob("*.md")):
            self.by_slug[re.sub(r"^\d{4}-\d{2}-\d{2}-", "", p.stem)] = p
            head = p.read_text(encoding="utf-8", errors="replace")[:600]
            m = re.search(r"^title:\s*\"?(.*?)\"?\s*$", head, re.M)
            if m and (n := title_number(m.group(1))):
                self.by_number.setdefault(n, p)

    def find(self, transcript_url: str | None, number: str | None) -> Path | None:
        if transcript_url:
            slug = transcript_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
            if slug in self.by_slug:
                return self.by_slug[slug]
        return self.by_number.get(number) if number else None
