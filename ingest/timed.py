"""Podcasting 2.0 timed transcripts (``<podcast:transcript>``): WebVTT, SRT and JSON.

Their times are real (the host wrote them against the audio), so nothing is estimated: the cues
become :class:`~podlens.models.Turn` s as they are.  Consecutive cues of one speaker form one turn,
which starts at its first cue's start and ends at its last cue's end.

Speakers, per format (see ``../shared/reference/formats.md``):

- VTT: the voice span ``<v Name>text</v>`` (``<v.loud Name>`` too); a cue with several voices is
  split between them in proportion to their text;
- SRT: a ``Name:`` prefix on the cue's first line (a short name: at most four words, no sentence
  punctuation, so "Note: ..." in running text is a speaker only if it looks like one);
- JSON: ``segments[].speaker`` (``startTime``/``endTime`` seconds, ``body`` text; may be one
  word per segment).

A cue that names no speaker continues the previous speaker's turn: captions usually label only
the changes.  When an item offers several transcripts, :func:`choose_transcript` takes VTT or JSON
first, then SRT, then HTML (an HTML page has no times; it is aligned like any untimed transcript).
"""

from __future__ import annotations

import html as htmllib
import json
import math
import re
from dataclasses import dataclass

from podlens.errors import PodlensError
from podlens.models import Chapter, Turn
from podlens.timecode import parse_timestamp

INTRO = "Introduction"  # the chapter of turns before the first chapter starts
UNKNOWN_SPEAKER = "Speaker"  # cues before anyone is named

# MIME type (lower case, no parameters) -> format name; rank: lower is preferred.
FORMATS = {
    "text/vtt": "vtt",
    "application/json": "json",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "text/x-subrip": "srt",
    "text/html": "html",
}
RANK = {"vtt": 0, "json": 0, "srt": 1, "html": 2}
TIMED = frozenset({"vtt", "json", "srt"})


@dataclass(frozen=True)
class TranscriptLink:
    """One ``<podcast:transcript>`` tag of a feed item."""

    url: str
    type: str  # MIME type as written
    language: str | None = None
    rel: str | None = None

    @property
    def format(self) -> str | None:
        """``"vtt"``, ``"json"``, ``"srt"``, ``"html"`` or ``None`` (a type we do not read)."""
        mime = self.type.split(";", 1)[0].strip().lower()
        fmt = FORMATS.get(mime)
        if fmt is None:  # some hosts write no or a generic type: trust the file extension
            ext = self.url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
            fmt = {"vtt": "vtt", "srt": "srt", "json": "json"}.get(ext)
        return fmt


@dataclass
class Cue:
    start: float
    end: float
    speaker: str | None  # None: not named in this cue
    text: str


def choose_transcript(links: list[TranscriptLink]) -> TranscriptLink | None:
    """The transcript to read: VTT/JSON, else SRT, else HTML; the feed's order breaks ties."""
    usable = [(RANK[fmt], i, ln) for i, ln in enumerate(links) if (fmt := ln.format) in RANK]
    return min(usable)[2] if usable else None


# -- timestamps ---------------------------------------------------------------------------------


def _clock(s: str, what: str) -> float:
    """A cue time (``01:02:03.500``, ``02:03.5``, SRT's ``01:02:03,500``) as seconds."""
    try:
        return parse_timestamp(s)
    except PodlensError:
        raise PodlensError(f"{what}: not a cue time: {s.strip()!r}") from None


def _check(cue_no: int, start: float, end: float, what: str) -> None:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
        raise PodlensError(f"{what}: cue {cue_no} has an invalid time")
    if end < start:
        raise PodlensError(f"{what}: cue {cue_no} ends before it starts")


_TAG = re.compile(r"<[^>]*>")
_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")


def _plain(s: str) -> str:
    """Cue markup removed (``<i>``, ``<c.x>``, inline ``<00:00:01.000>``, SSA ``{\\an8}``),
    entities decoded, whitespace collapsed."""
    s = re.sub(r"\{\\[^}]*\}", "", s)
    s = _TAG.sub("", s)
    return re.sub(r"\s+", " ", htmllib.unescape(s)).strip()


def _blocks(text: str) -> list[list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return [[ln for ln in b.split("\n")] for b in re.split(r"\n\s*\n", text) if b.strip()]


# -- WebVTT -------------------------------------------------------------------------------------

_VOICE = re.compile(r"<v(?:\.[^\s>]+)*\s+([^>]+)>(.*?)(?:</v>|(?=<v[\s.])|$)", re.S)


def parse_vtt(text: str, src: str = "transcript") -> list[Cue]:
    what = f"transcript {src}"
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].strip().startswith("WEBVTT"):
        raise PodlensError(f"{what}: not WebVTT (no WEBVTT header)")
    cues: list[Cue] = []
    for block in blocks[1:]:
        head = block[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")):
            continue
        k = next((i for i, ln in enumerate(block[:2]) if "-->" in ln), None)
        if k is None:
            continue  # an identifier without timing is not a cue
        m = _TIMING.match(block[k])
        if not m:
            raise PodlensError(f"{what}: bad cue timing {block[k].strip()!r}")
        start, end = _clock(m.group(1), what), _clock(m.group(2), what)
        _check(len(cues) + 1, start, end, what)
        payload = "\n".join(block[k + 1 :])
        voices = [(v.strip(), _plain(t)) for v, t in _VOICE.findall(payload)]
        voices = [(v, t) for v, t in voices if t]
        if not voices:
            if body := _plain(payload):
                cues.append(Cue(start, end, None, body))
            continue
        before = _plain(payload.split("<v", 1)[0])
        if before:  # text before the first voice belongs to whoever spoke last
            voices.insert(0, ("", before))
        cues.extend(_split(start, end, voices))
    return cues


def _split(start: float, end: float, voices: list[tuple[str, str]]) -> list[Cue]:
    """One cue voiced by several speakers -> one cue each, sharing its time by text length."""
    total = sum(len(t) for _, t in voices) or 1
    out, at = [], start
    for i, (v, t) in enumerate(voices):
        stop = end if i == len(voices) - 1 else at + (end - start) * len(t) / total
        out.append(Cue(round(at, 3), round(stop, 3), v or None, t))
        at = stop
    return out


# -- SRT ----------------------------------------------------------------------------------------

# "Name:" at the start of a cue: up to four words of a name, nothing sentence-like.
_SRT_SPEAKER = re.compile(r"^(?:>>\s*)?([^\W\d][\w.'’\-]*(?:\s+[\w.'’\-]+){0,3})\s*:\s+(.*)$", re.S)


def parse_srt(text: str, src: str = "transcript") -> list[Cue]:
    what = f"transcript {src}"
    cues: list[Cue] = []
    for block in _blocks(text):
        k = next((i for i, ln in enumerate(block[:2]) if "-->" in ln), None)
        if k is None:
            raise PodlensError(f"{what}: not SRT (a block without a 'start --> end' line)")
        m = _TIMING.match(block[k])
        if not m:
            raise PodlensError(f"{what}: bad cue timing {block[k].strip()!r}")
        start, end = _clock(m.group(1), what), _clock(m.group(2), what)
        _check(len(cues) + 1, start, end, what)
        body = _plain(" ".join(block[k + 1 :]))
        if not body:
            continue
        speaker = None
        sm = _SRT_SPEAKER.match(body)
        if sm and not re.search(r"[.!?,;]\s", sm.group(1) + " "):
            speaker, body = sm.group(1).strip(), sm.group(2).strip()
        cues.append(Cue(start, end, speaker, body))
    if not cues:
        raise PodlensError(f"{what}: no cues")
    return cues


# -- JSON (podcastindex) ------------------------------------------------------------------------


def parse_json(text: str, src: str = "transcript") -> list[Cue]:
    what = f"transcript {src}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PodlensError(f"{what}: not JSON ({e.msg})") from None
    segs = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segs, list):
        raise PodlensError(f"{what}: no 'segments' list")
    cues: list[Cue] = []
    for n, s in enumerate(segs, 1):
        if not isinstance(s, dict):
            raise PodlensError(f"{what}: segment {n} is not an object")
        try:
            start = float(s["startTime"])
            end = float(s.get("endTime", start))
        except (KeyError, TypeError, ValueError):
            raise PodlensError(f"{what}: segment {n} has no numeric startTime/endTime") from None
        _check(n, start, end, what)
        body = _plain(str(s.get("body") or ""))
        if not body:
            continue
        speaker = str(s["speaker"]).strip() if s.get("speaker") else None
        cues.append(Cue(start, end, speaker, body))
    return cues


# -- cues -> turns ------------------------------------------------------------------------------

PARSERS = {"vtt": parse_vtt, "srt": parse_srt, "json": parse_json}


def parse_timed(text: str, fmt: str, src: str = "transcript") -> list[Cue]:
    """The cues of a timed transcript in ``fmt`` (``"vtt"``, ``"srt"`` or ``"json"``), in time
    order; PodlensError when it has none or is not that format."""
    if fmt not in PARSERS:
        raise PodlensError(f"transcript {src}: {fmt!r} is not a timed transcript format")
    cues = PARSERS[fmt](text, src)
    if not cues:
        raise PodlensError(f"transcript {src}: no cues with text")
    return sorted(cues, key=lambda c: c.start)  # stable: overlapping cues keep file order


def _join(a: str, b: str) -> str:
    """Join cue texts; word-level JSON puts punctuation in its own segment."""
    return a + b if re.match(r"^[,.;:!?%)\]’']", b) else f"{a} {b}"


def chapter_at(chapters: list[Chapter], t: float) -> str:
    """The title of the chapter playing at ``t`` (chapters sorted by start)."""
    title = INTRO
    for c in chapters:
        if c.start <= t + 1e-6:
            title = c.title
        else:
            break
    return title


def cues_to_turns(cues: list[Cue], chapters: list[Chapter]) -> list[Turn]:
    """Consecutive cues of one speaker -> one turn from its first cue's start to its last
    cue's end; a turn's chapter is the chapter playing when it starts."""
    chapters = sorted(chapters, key=lambda c: c.start)
    turns: list[Turn] = []
    speaker: str | None = None
    for c in cues:
        who = c.speaker or speaker or UNKNOWN_SPEAKER
        if turns and who == speaker:
            t = turns[-1]
            t.text = _join(t.text, c.text)
            t.end = max(t.end or c.end, c.end)
            continue
        turns.append(
            Turn(speaker=who, text=c.text, chapter=chapter_at(chapters, c.start), start=c.start)
        )
        turns[-1].end = c.end
        speaker = who
    for t in turns:
        t.start = round(float(t.start or 0.0), 3)
        t.end = round(float(t.end or 0.0), 3)
    return turns


def sniff(text: str) -> str | None:
    """The timed format ``text`` is written in (``"vtt"``, ``"json"``, ``"srt"``), else None:
    a transcript the user names with ``--transcript`` carries no MIME type."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("{") and '"segments"' in head[:5000]:
        return "json"
    if re.match(r"^\d+\s*\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s+-->", head):
        return "srt"
    return None
