"""Typed records that cross package boundaries: what an ingested episode is.

An :class:`Episode` is the unit everything else works on: ``index`` chunks its turns into
passages, ``snips`` cuts quotes out of its turns, the app plays its audio.  It round-trips through
plain JSON (``to_dict``/``from_dict``) so the CLI's ``--dry-run --json`` output and the stored
``episodes/<id>.json`` file are the same shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Link:
    text: str
    url: str


@dataclass
class Chapter:
    """A chapter from the feed: a title and where it starts on the audio clock (seconds)."""

    title: str
    start: float


@dataclass
class Turn:
    """One speaker turn of the transcript, placed on the audio clock.

    ``chapter`` is the transcript section (heading text as written) the turn belongs to;
    ``start``/``end`` are seconds, filled in by alignment (``None`` before it).
    ``word_starts``, when the audio itself was aligned (clock "audio"), is when each word of
    :func:`podlens.sentences.turn_words` is heard; otherwise ``None`` and words are interpolated.
    """

    speaker: str
    text: str
    chapter: str
    start: float | None = None
    end: float | None = None
    links: list[Link] = field(default_factory=list)
    word_starts: list[float] | None = None


@dataclass
class Mention:
    """Where a referenced work comes up: the turn's index, its time and its chapter."""

    start: float | None
    chapter: str
    turn: int | None = None


@dataclass
class Reference:
    """A work the episode discusses (paper, article, post) or a plain link."""

    url: str
    title: str
    kind: str  # "arxiv" | "article" | "post" | "link"
    mentions: list[Mention] = field(default_factory=list)
    # Filled when fetched: authors, published, abstract, status ("ok"/"failed"/"skipped"), error.
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    abstract: str | None = None
    status: str = "pending"
    error: str | None = None


# Where an episode's times come from, best first: "transcript" (a timed transcript, or stamps on
# every turn: real times), "chapters" (the feed's chapter starts, turns placed between them),
# "approximate" (a duration only: turns spread uniformly), "none" (no clock: searchable, no jump).
# "audio" (every word placed where it is heard in the audio: ingest.audio_align) ranks with
# "transcript": real times, to the word.
CLOCKS = ("transcript", "audio", "chapters", "approximate", "none")


def infer_clock(d: dict[str, Any]) -> str:
    """The clock of an episode stored before the field existed: chapters, else a duration."""
    if not any(t.get("start") is not None for t in d.get("turns", [])):
        return "none"
    return "chapters" if d.get("chapters") else "approximate"


@dataclass
class Episode:
    id: str  # stable, e.g. "axrp-19"
    title: str
    podcast: str
    published: str | None  # ISO 8601 date-time
    audio_url: str | None
    duration: float | None  # seconds; estimated when the feed gives none
    chapters: list[Chapter] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    show_notes: str = ""  # plain text with links kept as "text (url)"
    show_notes_html: str = ""  # as published; never rendered raw by the app
    transcript_url: str | None = None
    references: list[Reference] = field(default_factory=list)
    duration_estimated: bool = False
    clock: str = "chapters"  # one of CLOCKS
    image: str | None = None  # artwork URL (http(s)), the episode's or else the show's
    machine_transcript: bool = False  # the turns are what Whisper heard (no human transcript)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Episode:
        d = dict(d)
        if "clock" not in d:
            d["clock"] = infer_clock(d)
        d["chapters"] = [Chapter(**c) for c in d.get("chapters", [])]
        d["turns"] = [
            Turn(**{**t, "links": [Link(**lk) for lk in t.get("links", [])]})
            for t in d.get("turns", [])
        ]
        d["references"] = [
            Reference(**{**r, "mentions": [Mention(**m) for m in r.get("mentions", [])]})
            for r in d.get("references", [])
        ]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class PaperDoc:
    """The fetched text of a referenced work, ready to chunk and index as ``kind: "paper"``.

    ``sections`` are ``(heading, text)`` pairs in reading order (one untitled section when the
    source has no structure).
    """

    url: str
    title: str
    kind: str  # "arxiv" | "article" | "post"
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    abstract: str | None = None
    sections: list[tuple[str, str]] = field(default_factory=list)
