"""Parse a podcast RSS/Atom feed (feedparser) and pull one item's metadata and chapters.

Chapters come from a ``<podcast:chapters>`` JSON file when the item links one, else from the
timestamp lines of the show notes.  Supported note formats (one chapter per line / list item):
``HH:MM:SS - Title``, ``H:MM:SS Title``, ``MM:SS Title``, ``(HH:MM:SS) Title``,
``[HH:MM:SS] Title`` and the same bracketed stamps at the end of a line (``Title (1:02:03)``).
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
import warnings
import xml.sax
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from bs4 import BeautifulSoup

from ingest.source import is_url, read_linked, read_text
from ingest.timed import TranscriptLink
from podlens.errors import PodlensError
from podlens.markup import safe_url
from podlens.models import Chapter
from podlens.timecode import MAX_SECONDS, fmt_time, parse_timestamp

_TS = r"(\d{1,2}:\d{2}(?::\d{2})?)"
_SEP = r"[\s\-–—:|.]*"
# A stamp at the start of the line, bare or in brackets, then an optional separator and the title.
_LEAD = re.compile(rf"^\s*(?:[-*•]\s*)?(?:\({_TS}\)|\[{_TS}\]|{_TS})(?=[\s\-–—:|)\]]){_SEP}(\S.*)$")
# A bracketed stamp at the end of the line: "Title (1:02:03)" / "Title [1:02:03]".
_TRAIL = re.compile(rf"^\s*(?:[-*•]\s*)?(\S.*?){_SEP}(?:\({_TS}\)|\[{_TS}\])\s*$")
_TITLE_NUM = re.compile(r"^\s*(?:episode|ep\.?|#)?\s*(\d+(?:\.\d+)?)(?=\s*[-–—:|.)]|\s)", re.I)
_AXRP_LINK = re.compile(r"(?:https?://)?(?:www\.)?axrp\.net/episode/[^\s\"'<>)\]]+?\.html", re.I)
# The same page layout on any host (a mirror, a local test server): /episode/YYYY/MM/DD/slug.html
# More chapters than any episode has: past this a chapter list is an attack on the Episode page.
MAX_CHAPTERS = 1000
MAX_CHAPTER_TITLE = 300  # characters
CHAPTERS_MAX_MB = 5.0  # a podcast:chapters file; real ones are a few kB


class FeedWarning(UserWarning):
    """A value from the feed was unusable and was dropped or repaired (the CLI prints it)."""


_EPISODE_PAGE = re.compile(r"https?://[^\s\"'<>/]+/episode/\d{4}/\d{2}/\d{2}/[^\s\"'<>)\]]+?\.html")


@dataclass
class FeedItem:
    podcast: str
    title: str
    guid: str | None
    number: str | None  # episode number as the feed writes it ("19", "38.3")
    published: str | None
    audio_url: str | None
    duration: float | None
    link: str | None
    notes_html: str
    notes_text: str
    transcript_url: str | None
    chapters: list[Chapter] = field(default_factory=list)
    chapters_source: str = "none"  # "podcast:chapters" | "show notes" | "none"
    feed_url: str | None = None
    # Every <podcast:transcript> tag, in feed order (feedparser keeps only the last one).
    transcripts: list[TranscriptLink] = field(default_factory=list)
    image: str | None = None  # the episode's artwork (<itunes:image>), else the show's


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: one line per block, links kept as ``text (url)``."""
    if not fragment:
        return ""
    if "<" not in fragment:
        return html.unescape(fragment).strip()
    soup = BeautifulSoup(fragment, "html.parser")
    for a in soup.find_all("a"):
        href = a.get("href")
        text = a.get_text()
        if href and href.strip() and text.strip() and href.strip() not in text:
            a.replace_with(f"{text} ({href.strip()})")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(["p", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr"]):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in soup.get_text().split("\n")]
    return "\n".join(ln for ln in lines if ln)


def chapters_from_notes(text: str) -> list[Chapter]:
    """Chapters from timestamp lines in plain-text show notes (see module doc for formats)."""
    out: list[Chapter] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _LEAD.match(line)
        if m:
            stamp = m.group(1) or m.group(2) or m.group(3)
            title = m.group(4)
        else:
            m = _TRAIL.match(line)
            if not m:
                continue
            stamp = m.group(2) or m.group(3)
            title = m.group(1)
        title = title.strip().strip("-–—:|").strip()
        if not title:
            continue
        try:
            start = parse_timestamp(stamp)
        except PodlensError:
            continue
        out.append(Chapter(title=title, start=start))
    return out


def chapters_from_json(text: str, src: str) -> list[Chapter]:
    """Chapters from a Podcasting 2.0 JSON chapters file (``toc: false`` entries skipped)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PodlensError(f"chapters {src}: not JSON ({e.msg})") from None
    items = data.get("chapters") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise PodlensError(f"chapters {src}: no 'chapters' list")
    out = []
    unusable = 0
    for c in items:
        if not isinstance(c, dict) or c.get("toc") is False:
            continue
        start = _seconds(c.get("startTime"))
        if start is None:
            unusable += 1
            continue
        out.append(Chapter(title=str(c.get("title") or f"Chapter {len(out) + 1}"), start=start))
    if unusable:
        warnings.warn(
            FeedWarning(
                f"chapters {src}: dropped {unusable} chapter(s) whose startTime is missing, "
                f"not a number, NaN, infinite, negative or past {MAX_SECONDS / 86400:g} days"
            ),
            stacklevel=2,
        )
    if items and not out and unusable:
        raise PodlensError(f"chapters {src}: no chapter has a usable startTime")
    return clean_chapters(out, None, f"chapters {src}")


def _seconds(value: Any) -> float | None:
    """A chapter time from JSON: a finite number of seconds in [0, MAX_SECONDS], else None.
    JSON numbers may be NaN/Infinity (Python's json reads them) or strings; booleans are not
    times."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        t = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return t if math.isfinite(t) and 0 <= t <= MAX_SECONDS else None


def clean_chapters(chapters: list[Chapter], duration: float | None, what: str) -> list[Chapter]:
    """Chapters the rest of Podlens can trust, repairing what a feed got wrong with a
    :class:`FeedWarning` each: times that are not finite seconds in [0, MAX_SECONDS] or that
    start at or past ``duration`` are dropped; out-of-order chapters are sorted (stably);
    an exact repeat (same start and title) is dropped; titles are cut to MAX_CHAPTER_TITLE
    characters; past MAX_CHAPTERS only the first ones are kept.  Two chapters may share a start
    with different titles: real feeds list a section and its first subsection that way."""

    def warn(message: str) -> None:
        warnings.warn(FeedWarning(f"{what}: {message}"), stacklevel=3)

    ok = [c for c in chapters if _seconds(c.start) is not None]
    if len(ok) < len(chapters):
        warn(f"dropped {len(chapters) - len(ok)} chapter(s) with an invalid start time")
    if duration is not None and math.isfinite(duration) and duration > 0:
        inside = [c for c in ok if c.start < duration]
        if len(inside) < len(ok):
            warn(
                f"dropped {len(ok) - len(inside)} chapter(s) starting at or after the end of "
                f"the episode ({fmt_time(duration)})"
            )
        ok = inside
    if any(b.start < a.start for a, b in itertools.pairwise(ok)):
        warn("chapters were out of order; sorted by start time")
        ok = sorted(ok, key=lambda c: c.start)
    out: list[Chapter] = []
    seen: set[tuple[float, str]] = set()
    for c in ok:
        key = (c.start, c.title.strip().casefold())
        if key not in seen:
            seen.add(key)
            out.append(c)
    if len(out) < len(ok):
        warn(f"dropped {len(ok) - len(out)} repeated chapter(s) (same start and title)")
    if any(len(c.title) > MAX_CHAPTER_TITLE for c in out):
        warn(f"cut chapter titles longer than {MAX_CHAPTER_TITLE} characters")
        out = [
            Chapter(title=c.title[: MAX_CHAPTER_TITLE - 1].rstrip() + "…", start=c.start)
            if len(c.title) > MAX_CHAPTER_TITLE
            else c
            for c in out
        ]
    if len(out) > MAX_CHAPTERS:
        warn(f"{len(out)} chapters; kept the first {MAX_CHAPTERS}")
        out = out[:MAX_CHAPTERS]
    return out


def _norm_num(s: str | None) -> str | None:
    if s is None:
        return None
    s = str(s).strip()
    if not re.fullmatch(r"\d+(?:\.\d+)?", s):
        return None
    whole, _, frac = s.partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def title_number(title: str) -> str | None:
    m = _TITLE_NUM.match(title or "")
    return _norm_num(m.group(1)) if m else None


def _numbers(entry: Any) -> tuple[str | None, set[str]]:
    """The item's displayed number and every number ``--episode`` may match it by."""
    tnum = title_number(entry.get("title", ""))
    inum = _norm_num(entry.get("itunes_episode"))
    keys = {n for n in (tnum,) if n}
    # itunes:episode counts unless the title shows it is a sub-episode ("38.3" with episode 38).
    if inum and not (tnum and tnum != inum and tnum.split(".")[0] == inum):
        keys.add(inum)
    return (tnum or inum), keys


def _duration(raw: Any) -> float | None:
    """``itunes:duration`` in seconds; None (with a FeedWarning) when it is not a positive
    finite clock time under MAX_SECONDS (NaN, infinity, negative, garbage)."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        d = parse_timestamp(str(raw))
    except PodlensError:
        d = None
    if d is not None and math.isfinite(d) and 0 < d <= MAX_SECONDS:
        return d
    warnings.warn(
        FeedWarning(f"itunes:duration {str(raw)[:40]!r} is not a usable duration; ignored"),
        stacklevel=2,
    )
    return None


def _published(entry: Any) -> str | None:
    st = entry.get("published_parsed") or entry.get("updated_parsed")
    if st:
        try:
            return datetime(*st[:6], tzinfo=UTC).isoformat()
        except (TypeError, ValueError):
            return None
    return None


def _audio_url(entry: Any) -> str | None:
    for enc in entry.get("enclosures", []) or []:
        href = enc.get("href") or enc.get("url")
        if href and (str(enc.get("type", "")).startswith("audio") or not enc.get("type")):
            return href
    for ln in entry.get("links", []) or []:
        if ln.get("rel") == "enclosure" and ln.get("href"):
            return ln["href"]
    return None


def _safe_audio_url(entry: Any) -> str | None:
    """The enclosure URL if it is http(s): the app hands it to the browser's player, and a
    ``file:`` or ``javascript:`` enclosure has no business there (dropped with a warning)."""
    url = _audio_url(entry)
    if url and not is_url(url.strip()):
        warnings.warn(
            FeedWarning(f"enclosure {url[:80]!r} is not an http(s) URL; ignored"), stacklevel=2
        )
        return None
    return url.strip() if url else None


def _image(parsed: Any, entry: Any) -> str | None:
    """The episode's ``<itunes:image href>``, else the show's (``<itunes:image>`` or RSS
    ``<image><url>``): http(s) only, since the lock screen and the library load it."""
    for holder in (entry, parsed.feed):
        img = holder.get("image")
        href = img.get("href") or img.get("url") if isinstance(img, dict) else None
        if safe_url(href):
            return href.strip()
    return None


def _notes_html(entry: Any) -> str:
    best = ""
    for c in entry.get("content", []) or []:
        v = c.get("value") or ""
        if len(v) > len(best):
            best = v
    summ = entry.get("summary") or entry.get("description") or ""
    return best if len(best) >= len(summ) else summ


def _transcript_url(entry: Any, notes_html: str, notes_text: str) -> str | None:
    pt = entry.get("podcast_transcript")
    if isinstance(pt, dict) and pt.get("url") and "html" in str(pt.get("type", "")):
        return pt["url"]
    candidates = [entry.get("link") or ""]
    if notes_html:
        soup = BeautifulSoup(notes_html, "html.parser") if "<" in notes_html else None
        if soup is not None:
            candidates += [a.get("href") or "" for a in soup.find_all("a")]
    candidates += [notes_html, notes_text]
    for c in candidates:
        m = _AXRP_LINK.search(c or "")
        if m:
            url = m.group(0)
            return url if url.lower().startswith("http") else "https://" + url
    for c in candidates:
        m = _EPISODE_PAGE.search(c or "")
        if m:
            return m.group(0)
    return None


_PODCAST_NS = "https://podcastindex.org/namespace/1.0"


def transcript_tags(text: str) -> list[list[TranscriptLink]]:
    """The ``<podcast:transcript>`` tags of each item (RSS ``item`` / Atom ``entry``), in
    document order.  Read from the XML itself because feedparser keeps one per item; entities
    are not resolved and nothing is fetched (a feed is untrusted input)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    out: list[list[TranscriptLink]] = []
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname not in ("item", "entry"):
            continue
        links = []
        for t in el.iter():
            if not isinstance(t.tag, str):
                continue
            q = etree.QName(t)
            if q.localname == "transcript" and (q.namespace or "").rstrip("/") in (
                _PODCAST_NS,
                _PODCAST_NS.replace("https", "http"),
            ):
                url = (t.get("url") or "").strip()
                if url:
                    links.append(
                        TranscriptLink(
                            url=url,
                            type=(t.get("type") or "").strip(),
                            language=t.get("language"),
                            rel=t.get("rel"),
                        )
                    )
        out.append(links)
    return out


def load_feed(src: str) -> Any:
    """Fetch and parse a feed; PodlensError when it is not a feed feedparser can read."""
    text = read_text(src, "feed")
    return parse_feed_text(text, src)


def parse_feed_text(text: str, src: str = "feed") -> Any:
    try:
        parsed = feedparser.parse(text)
    except Exception as e:  # feedparser is lenient; anything escaping it is a malformed feed
        raise PodlensError(f"feed {src}: cannot parse ({type(e).__name__})") from None
    exc = parsed.get("bozo_exception")
    if isinstance(exc, xml.sax.SAXParseException):  # not well-formed XML: don't guess
        why = str(exc).splitlines()[0] if str(exc) else "not well-formed"
        raise PodlensError(f"feed {src}: malformed feed ({why})")
    if not parsed.get("entries"):
        if parsed.get("bozo"):
            exc = parsed.get("bozo_exception")
            why = str(exc).splitlines()[0] if exc else "not XML"
            raise PodlensError(f"feed {src}: malformed feed ({why})")
        if not parsed.get("feed") or not parsed.get("version"):
            raise PodlensError(f"feed {src}: not an RSS or Atom feed")
        raise PodlensError(f"feed {src}: the feed has no items")
    tags = transcript_tags(text)
    parsed["podlens_transcripts"] = tags if len(tags) == len(parsed.entries) else []
    return parsed


def select_entry(parsed: Any, episode: str | int | None = None, guid: str | None = None) -> Any:
    entries = parsed.entries
    if guid is not None:
        for e in entries:
            if str(e.get("id", "")).strip() == str(guid).strip():
                return e
        raise PodlensError(f"no item with guid {guid!r} in the feed")
    if episode is None:
        raise PodlensError("choose an item with --episode N or --guid G")
    want = _norm_num(str(episode))
    if want is None:
        raise PodlensError(f"--episode must be a number like 19 or 38.3, not {episode!r}")
    for e in entries:
        if want in _numbers(e)[1]:
            return e
    nums = sorted({n for e in entries if (n := _numbers(e)[0])}, key=lambda n: float(n))
    shown = ", ".join(nums[:12]) + (" ..." if len(nums) > 12 else "")
    raise PodlensError(f"episode {episode} not in the feed (it has {shown or 'no numbered items'})")


def item_from_entry(parsed: Any, entry: Any, feed_url: str | None = None) -> FeedItem:
    notes_html = _notes_html(entry)
    notes_text = html_to_text(notes_html)
    chapters: list[Chapter] = []
    source = "none"
    duration = _duration(entry.get("itunes_duration"))
    pc = entry.get("podcast_chapters")
    if isinstance(pc, dict) and pc.get("url"):
        # A URL from the feed: http(s) and public hosts only, never a local file.
        url = pc["url"]
        text = read_linked(url, "chapters", base=feed_url, max_mb=CHAPTERS_MAX_MB)
        chapters = chapters_from_json(text, url)
        source = "podcast:chapters"
    if not chapters:
        chapters = chapters_from_notes(notes_text)
        source = "show notes" if chapters else "none"
    chapters = clean_chapters(chapters, duration, f"{source} of {entry.get('title') or 'item'}")
    number, _ = _numbers(entry)
    transcripts = _item_transcripts(parsed, entry, feed_url)
    return FeedItem(
        podcast=str(parsed.feed.get("title") or "").strip() or "Podcast",
        title=str(entry.get("title") or "").strip() or "Untitled episode",
        guid=entry.get("id"),
        number=number,
        published=_published(entry),
        audio_url=_safe_audio_url(entry),
        duration=duration,
        link=entry.get("link"),
        notes_html=notes_html,
        notes_text=notes_text,
        transcript_url=_transcript_url(entry, notes_html, notes_text),
        chapters=chapters,
        chapters_source=source,
        feed_url=feed_url,
        transcripts=transcripts,
        image=_image(parsed, entry),
    )


def _item_transcripts(parsed: Any, entry: Any, feed_url: str | None) -> list[TranscriptLink]:
    """The entry's transcript tags, relative URLs resolved against the feed's."""
    tags: list[list[TranscriptLink]] = parsed.get("podlens_transcripts") or []
    links: list[TranscriptLink] = []
    for i, e in enumerate(parsed.entries):
        if e is entry and i < len(tags):
            links = tags[i]
            break
    if not links:  # feedparser's single tag (the XML was unreadable to lxml)
        pt = entry.get("podcast_transcript")
        if isinstance(pt, dict) and pt.get("url"):
            links = [TranscriptLink(url=pt["url"], type=str(pt.get("type") or ""))]
    if feed_url and is_url(feed_url):
        links = [
            TranscriptLink(urljoin(feed_url, ln.url), ln.type, ln.language, ln.rel)
            if not is_url(ln.url)
            else ln
            for ln in links
        ]
    return links


def read_item(feed: str, episode: str | int | None = None, guid: str | None = None) -> FeedItem:
    parsed = load_feed(feed)
    entry = select_entry(parsed, episode=episode, guid=guid)
    return item_from_entry(parsed, entry, feed_url=feed if is_url(feed) else None)


def podcast_slug(podcast: str) -> str:
    """A short name for ids: "AXRP - the AI X-risk Research Podcast" -> "axrp"."""
    head = re.split(r"\s+[-–—:|]\s+|:\s", podcast or "", maxsplit=1)[0]
    slug = re.sub(r"[^a-z0-9]+", "-", head.lower()).strip("-")
    if len(slug) > 24:
        words = [w for w in slug.split("-") if w]
        slug = "".join(w[0] for w in words) if len(words) > 2 else slug[:24].strip("-")
    return slug or "podcast"


def episode_id(item: FeedItem) -> str:
    base = podcast_slug(item.podcast)
    if item.number:
        return f"{base}-{item.number.replace('.', '-')}"
    t = re.sub(r"[^a-z0-9]+", "-", item.title.lower()).strip("-")[:40].strip("-")
    return f"{base}-{t or 'episode'}"
