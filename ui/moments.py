"""Pure logic behind the pages: where a moment falls, grouping, and the transcript's HTML.

Nothing here imports Streamlit, so the behaviour the pages rely on is tested directly.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from podlens.models import Chapter, Episode, Turn
from podlens.timecode import fmt_time
from ui.render import esc, linkify_html

NOW_ID = "pl-now"  # the DOM id of the highlighted turn (scrolled into view)
MAX_CHAPTER_ROWS = 40  # chapter rows drawn as buttons; the rest are one HTML list


def clamp_t(t: float | None, duration: float | None) -> float | None:
    """``t`` (from the URL) placed inside the episode: 0 .. duration - 1; ``None`` when there is
    no usable time (missing, NaN, infinity), which the pages treat as "from the start"."""
    if t is None or not math.isfinite(t):
        return None
    t = max(0.0, t)
    if duration and math.isfinite(duration):
        t = min(t, max(0.0, duration - 1))
    return t


def turn_index_at(turns: Sequence[Turn], t: float | None) -> int | None:
    """Index of the turn being spoken at ``t`` (the last turn starting at or before it)."""
    if t is None or not turns:
        return None
    starts = [tu.start if tu.start is not None else 0.0 for tu in turns]
    i = bisect_right(starts, t) - 1
    return max(0, i)


def chapter_index_at(chapters: Sequence[Chapter], t: float | None) -> int | None:
    """Index of the feed chapter playing at ``t``."""
    if t is None or not chapters:
        return None
    i = bisect_right([c.start for c in chapters], t) - 1
    return max(0, i)


def chapter_window(n: int, current: int | None, size: int = MAX_CHAPTER_ROWS) -> tuple[int, int]:
    """``[lo, hi)``: the at most ``size`` chapters shown as rows, the playing one among the first
    quarter of them (so what comes next is in view), clamped to ``0 .. n``."""
    if n <= size:
        return 0, n
    lo = max(0, (current or 0) - size // 4)
    lo = min(lo, n - size)
    return lo, lo + size


def chapter_list_html(
    episode: Episode, current: int | None, link_for: Callable[[float], str]
) -> str:
    """Every chapter as one escaped HTML list of links that play from it (``target=_self``,
    like the transcript's timestamps), the playing one marked."""
    items = []
    for i, ch in enumerate(episode.chapters):
        stamp = fmt_time(ch.start)
        cls = ' class="pl-now"' if i == current else ""
        items.append(
            f'<li{cls}><a class="pl-time" href="{esc(link_for(ch.start))}" target="_self">'
            f"{esc(stamp)}</a> {esc(ch.title)}</li>"
        )
    return f'<ol class="pl-chapter-list">{"".join(items)}</ol>'


def turns_around(
    turns: Sequence[Turn], t: float, before: float = 45, after: float = 150
) -> list[tuple[int, Turn]]:
    """The turns heard from ``t - before`` to ``t + after`` (at least the current one)."""
    cur = turn_index_at(turns, t)
    if cur is None:
        return []
    out = []
    for i, tu in enumerate(turns):
        s = tu.start or 0.0
        e = tu.end if tu.end is not None else s
        if i == cur or (e >= t - before and s <= t + after):
            out.append((i, tu))
    return out


@dataclass
class Section:
    """A transcript section (heading as written) and its turns, with the time it starts."""

    title: str
    start: float | None
    turns: list[tuple[int, Turn]] = field(default_factory=list)


def sections(turns: Sequence[Turn]) -> list[Section]:
    """Consecutive turns grouped by their transcript section, in reading order."""
    out: list[Section] = []
    for i, tu in enumerate(turns):
        if not out or out[-1].title != tu.chapter:
            out.append(Section(tu.chapter, tu.start))
        out[-1].turns.append((i, tu))
    return out


def group_by_episode(results: Iterable[Any]) -> list[tuple[str, str, list[Any]]]:
    """Search results grouped as ``(episode id, episode title, results)``; groups ordered by
    their best result, results keep the ranker's order."""
    groups: dict[str, tuple[str, list[Any]]] = {}
    for r in results:
        key = getattr(r, "episode", None) or ""
        title = getattr(r, "episode_title", None) or key
        groups.setdefault(key, (title, []))[1].append(r)
    return [(k, title, rs) for k, (title, rs) in groups.items()]


def _secs(s: float) -> str:
    """Seconds for a ``data-*`` attribute: ``7182``, ``7182.5`` (ms at most, no exponent)."""
    return f"{float(s):.3f}".rstrip("0").rstrip(".")


def transcript_html(
    episode: Episode,
    current: int | None,
    terms: Sequence[str] = (),
    link_for: Callable[[float], str] | None = None,
    only: Sequence[tuple[int, Turn]] | None = None,
) -> str:
    """The transcript as HTML: sections with their start time, speaker turns with a timestamp
    that links to that moment, the ``current`` turn marked (``id="pl-now"``,
    ``aria-current="true"``), every turn's ``data-start``/``data-end`` seconds, turn links kept as
    links (http(s) only), query ``terms`` highlighted. All text is escaped.

    ``only`` limits it to some turns (the context around a search hit)."""
    chosen = list(only) if only is not None else list(enumerate(episode.turns))
    parts: list[str] = ['<div class="pl-transcript">']
    last_section = None
    start = 0.0
    for n, (i, tu) in enumerate(chosen):
        # ``data-start`` / ``data-end`` (seconds) on every turn: the read-along component and
        # tests find the turn being heard by them (an unaligned turn takes its predecessor's).
        start = tu.start if tu.start is not None else start
        end = (
            tu.end
            if tu.end is not None
            else (chosen[n + 1][1].start if n + 1 < len(chosen) else None)
        )
        if tu.chapter != last_section:
            if last_section is not None:
                parts.append("</section>")
            last_section = tu.chapter
            stamp = fmt_time(tu.start)
            parts.append(
                f'<section class="pl-section"><h4 class="pl-section-title">'
                f'<span class="pl-time">{esc(stamp)}</span> {esc(tu.chapter)}</h4>'
            )
        cls = "pl-turn pl-now" if i == current else "pl-turn"
        ident = f' id="{NOW_ID}" aria-current="true"' if i == current else ""
        span = f' data-start="{_secs(start)}"'
        if end is not None:
            span += f' data-end="{_secs(end)}"'
        stamp = fmt_time(tu.start)
        if link_for is not None and tu.start is not None:
            time_html = (
                f'<a class="pl-time" href="{esc(link_for(tu.start))}" target="_self" '
                f'title="Play from {esc(stamp)}">{esc(stamp)}</a>'
            )
        else:
            time_html = f'<span class="pl-time">{esc(stamp)}</span>'
        body = linkify_html(tu.text, [(lk.text, lk.url) for lk in tu.links], terms)
        paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
        parts.append(
            f'<div class="{cls}"{ident}{span}>'
            f'<div class="pl-turn-head">{time_html} <b class="pl-speaker">{esc(tu.speaker)}</b>'
            f"</div>{paras}</div>"
        )
    if last_section is not None:
        parts.append("</section>")
    parts.append("</div>")
    return "".join(parts)
