"""Episode 19 for the search eval and bench: the real ingest pipeline when it is there.

``load_ep19()`` runs ``ingest.pipeline.build_episode`` (parse + align, writes nothing) on the
shared markdown + feed.
Until the ingest package has its transcript parser and aligner, it falls back to a minimal
markdown reader (turn text with links reduced to their text, section headings, times interpolated
by words between the feed's chapter starts) that is good enough for search evaluation.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from podlens.models import Chapter, Episode, Turn

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EP19_MD = (
    SHARED
    / "axrp"
    / "posts"
    / "2023-02-03-episode-19-mechanistic-interpretability-neel-nanda.markdown"
)
EP19_FEED = SHARED / "axrp" / "feed-episode-19.xml"


def load_ep19() -> tuple[Episode, str]:
    """``(episode, source)`` where source is ``"ingest.pipeline"`` or ``"bench fallback"``."""
    try:
        from ingest.pipeline import build_episode
    except ImportError:
        return _fallback(), "bench fallback"
    try:
        ep = build_episode(str(EP19_FEED), str(EP19_MD), episode=19)
    except Exception as e:
        warnings.warn(f"ingest.pipeline failed ({e}); using the bench fallback", stacklevel=2)
        return _fallback(), "bench fallback"
    return ep, "ingest.pipeline"


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_CHAPTER_LINE = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})\s*-\s*([^<&\n]*)")


def _fallback() -> Episode:
    md = EP19_MD.read_text(encoding="utf-8")
    body = md.split("---", 2)[2]
    turns: list[Turn] = []
    section = ""
    speaker = None
    paras: list[str] = []

    def flush() -> None:
        if speaker and paras:
            turns.append(Turn(speaker=speaker, text=" ".join(paras), chapter=section))

    for line in body.splitlines():
        line = line.strip()
        h = re.match(r"^#{2,3}\s+(.*?)\s*<a name=", line)
        if h:
            flush()
            paras, speaker = [], speaker
            section = h.group(1)
            continue
        s = re.match(r"^\*\*([^*]+):\*\*$", line)
        if s:
            flush()
            speaker, paras = s.group(1), []
            continue
        if speaker and line:
            text = _LINK.sub(r"\1", line).replace("*", "")
            paras.append(text)
    flush()
    feed = EP19_FEED.read_text(encoding="utf-8")
    anchors = [int(a) * 3600 + int(b) * 60 + int(c) for a, b, c, _ in _CHAPTER_LINE.findall(feed)]
    sections = []
    for t in turns:
        if t.chapter not in sections:
            sections.append(t.chapter)
    # Intro before the first heading starts at 0; then one feed anchor per heading, in order.
    starts = {"": 0.0}
    for title, a in zip([s for s in sections if s], anchors, strict=False):
        starts[title] = float(a)
    words = [len(t.text.split()) for t in turns]
    rate = 2.6  # words per second, only for the section past the last anchor
    for i, t in enumerate(turns):
        sec_turns = [j for j, u in enumerate(turns) if u.chapter == t.chapter]
        s0 = starts.get(t.chapter, 0.0)
        later = [starts[c] for c in sections[sections.index(t.chapter) + 1 :] if c in starts]
        total = sum(words[j] for j in sec_turns)
        s1 = later[0] if later else s0 + total / rate
        done = sum(words[j] for j in sec_turns if j < i)
        t.start = s0 + (s1 - s0) * done / total
        t.end = s0 + (s1 - s0) * (done + words[i]) / total
    return Episode(
        id="axrp-19",
        title="19 - Mechanistic Interpretability with Neel Nanda",
        podcast="AXRP - the AI X-risk Research Podcast",
        published="2023-02-04T02:50:00+00:00",
        audio_url=None,
        duration=turns[-1].end,
        chapters=[Chapter(title=c, start=starts[c]) for c in sections if c in starts],
        turns=turns,
    )
