"""Honest evaluation of the alignment over a feed and a folder of transcripts.

Two measurements, both predicting from the feed's chapter anchors only:

- **chapter starts**: leave one chapter anchor out, refit, predict its start (interpolation);
- **turn starts**: transcripts from late 2024 on write a timestamp on every turn
  (``**Name** (00:00:09):``); place all turns from the chapter anchors and compare each turn's
  predicted start with the written one.  Many more points than chapter starts (about four times
  as many on the fixture), and the thing a listener jumps to.

Every variant in :data:`ingest.align.CONFIG_GRID` is measured on every episode.  The
"selected" row is nested: for each episode the variant is chosen on the *other* episodes only
(leave one episode out; criterion: mean chapter error + mean turn error there), then scored on
this one, so its number is not tuned on its own test points.  With a single episode there is
nothing to select on and :data:`ingest.align.DEFAULT_CONFIG` is used (it was chosen on the full
fixture feed, which includes every episode of the smaller fixtures: say so when reporting).

Each feed item is paired with its transcript by the slug of its axrp.net link (the markdown
file is ``YYYY-MM-DD-<slug>.markdown``), else by the episode number in the post's title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.align import (
    BASELINE_CONFIG,
    CONFIG_GRID,
    DEFAULT_CONFIG,
    PER_SPEAKER_CONFIG,
    RateConfig,
    cross_validate,
    match_chapters,
    turn_errors,
)
from ingest.feed import item_from_entry, load_feed
from ingest.transcript import LocalTranscripts, parse_transcript

GRID = tuple(dict.fromkeys((BASELINE_CONFIG, PER_SPEAKER_CONFIG, DEFAULT_CONFIG, *CONFIG_GRID)))


@dataclass
class EpisodeEval:
    episode: str
    title: str
    n_chapters: int
    n_matched: int
    has_duration: bool
    chapter_errors: dict[RateConfig, list[float]]  # held-out chapter starts, per variant
    turn_errors: dict[RateConfig, list[float]]  # stamped turns (empty without stamps)
    selected: RateConfig = DEFAULT_CONFIG  # set by select(): chosen without this episode
    selected_on: str = "default"  # "other episodes" once select() ran over >= 2 episodes
    # What align() does: the variant chosen per episode on its own anchors (nested: never on
    # the point scored).  Chapter errors; turn errors from the chapter anchors only.
    auto: list[float] = field(default_factory=list)
    auto_turn: list[float] = field(default_factory=list)
    # Stamped transcripts, stamps used as anchors: every other stamp is an anchor, the rest are
    # measured (stamped_turn); chapters are predicted with those anchors too (stamped_chapter).
    stamped_chapter: list[float] = field(default_factory=list)
    stamped_turn: list[float] = field(default_factory=list)

    @property
    def baseline(self) -> list[float]:
        return self.chapter_errors[BASELINE_CONFIG]

    @property
    def per_speaker(self) -> list[float]:
        return self.chapter_errors[PER_SPEAKER_CONFIG]

    @property
    def model(self) -> list[float]:
        """Held-out chapter errors of the variant selected without this episode."""
        return self.chapter_errors[self.selected]

    @property
    def turn_baseline(self) -> list[float]:
        return self.turn_errors[BASELINE_CONFIG]

    @property
    def turn_per_speaker(self) -> list[float]:
        return self.turn_errors[PER_SPEAKER_CONFIG]

    @property
    def turn_model(self) -> list[float]:
        return self.turn_errors[self.selected]


def _criterion(rows: list[EpisodeEval], cfg: RateConfig) -> float:
    chap = np.concatenate([r.chapter_errors[cfg] for r in rows]) if rows else np.array([])
    turn = np.concatenate([r.turn_errors[cfg] for r in rows]) if rows else np.array([])
    return (chap.mean() if len(chap) else 0.0) + (turn.mean() if len(turn) else 0.0)


def select(rows: list[EpisodeEval]) -> list[EpisodeEval]:
    """Leave one episode out: each row's variant is the one best on all the other rows."""
    if len(rows) < 2:
        for r in rows:
            r.selected, r.selected_on = DEFAULT_CONFIG, "default"
        return rows
    for i, r in enumerate(rows):
        others = rows[:i] + rows[i + 1 :]
        r.selected = min(GRID, key=lambda cfg: _criterion(others, cfg))
        r.selected_on = "other episodes"
    return rows


def evaluate(feed: str, transcripts: str | Path) -> list[EpisodeEval]:
    parsed = load_feed(feed)
    posts = LocalTranscripts(transcripts)
    out = []
    for entry in parsed.entries:
        item = item_from_entry(parsed, entry)
        path = posts.find(item.transcript_url, item.number)
        if path is None or not item.chapters:
            continue
        tr = parse_transcript(path.read_text(encoding="utf-8"), str(path))
        turns = tr.to_turns()
        stamps = [t.stamp for t in tr.turns]
        chap, turn = {}, {}
        for cfg in GRID:
            chap[cfg] = cross_validate(
                turns, tr.sections, item.chapters, item.duration, config=cfg
            ).errors
            turn[cfg] = (
                turn_errors(turns, stamps, tr.sections, item.chapters, item.duration, config=cfg)
                if any(s is not None for s in stamps)
                else []
            )
        held, anchor_stamps = _split_stamps(stamps)
        auto = cross_validate(turns, tr.sections, item.chapters, item.duration, select=True).errors
        auto_turn = (
            turn_errors(turns, stamps, tr.sections, item.chapters, item.duration, select=True)
            if any(s is not None for s in stamps)
            else []
        )
        stamped_chapter, stamped_turn = [], []
        if any(s is not None for s in anchor_stamps):
            stamped_chapter = cross_validate(
                turns,
                tr.sections,
                item.chapters,
                item.duration,
                select=True,
                stamps=anchor_stamps,
            ).errors
            stamped_turn = turn_errors(
                turns,
                held,
                tr.sections,
                item.chapters,
                item.duration,
                anchor_stamps=anchor_stamps,
                select=True,
            )
        out.append(
            EpisodeEval(
                episode=item.number or "?",
                title=item.title,
                n_chapters=len(item.chapters),
                n_matched=len(match_chapters(item.chapters, tr.sections)),
                has_duration=item.duration is not None,
                chapter_errors=chap,
                turn_errors=turn,
                auto=auto,
                auto_turn=auto_turn,
                stamped_chapter=stamped_chapter,
                stamped_turn=stamped_turn,
            )
        )
    return select(out)


def _split_stamps(stamps: list[float | None]) -> tuple[list[float | None], list[float | None]]:
    """``(held out, anchors)``: alternate the written stamps between the two, in turn order."""
    held: list[float | None] = [None] * len(stamps)
    anchors: list[float | None] = [None] * len(stamps)
    n = 0
    for i, s in enumerate(stamps):
        if s is None:
            continue
        (anchors if n % 2 == 0 else held)[i] = s
        n += 1
    return held, anchors


def _mm(e: np.ndarray) -> str:
    return f"{e.mean():6.1f} /{np.median(e):5.1f}" if len(e) else f"{'-':>13}"


def _summary(name: str, e: np.ndarray) -> str:
    if not len(e):
        return f"  {name:<30} (no points)"
    return (
        f"  {name:<30} mean {e.mean():6.1f} s  median {np.median(e):6.1f} s  "
        f"p90 {np.percentile(e, 90):6.1f} s  max {e.max():6.1f} s  "
        f"within 30 s {np.mean(e <= 30):.0%}"
    )


def format_report(rows: list[EpisodeEval]) -> str:
    lines = [
        f"{'ep':>5} {'chap':>4} {'match':>5} {'dur':>3} {'held':>4} "
        f"{'uniform mean/med':>16} {'per-spk mean/med':>16} {'model mean/med':>15} "
        f"{'turns':>5} {'turn unif/model':>15}  title"
    ]
    for r in rows:
        tb, tm = np.array(r.turn_baseline), np.array(r.turn_model)
        ts = f"{tb.mean():6.1f} /{tm.mean():6.1f}" if len(tb) else f"{'-':>15}"
        lines.append(
            f"{r.episode:>5} {r.n_chapters:>4} {r.n_matched:>5} "
            f"{'y' if r.has_duration else 'n':>3} {len(r.baseline):>4} "
            f"{_mm(np.array(r.baseline)):>16} {_mm(np.array(r.per_speaker)):>16} "
            f"{_mm(np.array(r.model)):>15} {len(tb):>5} {ts:>15}  {r.title[:40]}"
        )
    if not rows:
        return "\n".join(lines)

    def cat(get) -> np.ndarray:
        return np.concatenate([np.asarray(get(r), dtype=float) for r in rows])

    allb = cat(lambda r: r.baseline)
    lines += [
        "",
        f"{len(rows)} episodes, {len(allb)} held-out chapter starts (leave one chapter out)",
    ]
    chosen = sorted({r.selected.name for r in rows})
    how = (
        "chosen per episode on the other episodes (leave one episode out)"
        if rows[0].selected_on == "other episodes"
        else "fixed default, chosen earlier on the 25-episode fixture feed"
    )
    model_name = "selected model"
    for name, e in (
        ("uniform words (baseline)", allb),
        ("per-speaker rates (model)", cat(lambda r: r.per_speaker)),
        (model_name, cat(lambda r: r.model)),
    ):
        lines.append(_summary(name, e))
    lines.append(_summary("per-episode choice (align)", cat(lambda r: r.auto)))
    lines.append(f"  selected model: {how}: {'; '.join(chosen)}")
    worse = [
        r.episode for r in rows if len(r.auto) >= 4 and np.mean(r.auto) > np.mean(r.baseline) + 1e-9
    ]
    lines.append(
        "  per-episode choice worse than uniform (mean, >= 4 held-out chapters): "
        + (", ".join(worse) if worse else "none")
    )
    tb = cat(lambda r: r.turn_baseline)
    if len(tb):
        n_eps = sum(1 for r in rows if r.turn_baseline)
        lines += [
            "",
            f"turn level: {len(tb)} turn starts written in {n_eps} transcripts, "
            "predicted from the chapter anchors only",
        ]
        for name, e in (
            ("uniform words (baseline)", tb),
            ("per-speaker rates (model)", cat(lambda r: r.turn_per_speaker)),
            (model_name, cat(lambda r: r.turn_model)),
            ("per-episode choice (align)", cat(lambda r: r.auto_turn)),
        ):
            lines.append(_summary(name, e))
    st = cat(lambda r: r.stamped_turn)
    if len(st):
        sc = cat(lambda r: r.stamped_chapter)
        n_eps = sum(1 for r in rows if r.stamped_turn)
        lines += [
            "",
            f"stamps as anchors ({n_eps} transcripts): every other stamp anchors, the rest "
            "are measured",
            _summary("held-out stamps", st),
            _summary("chapter starts (same anchors)", sc),
        ]
        stamped = {r.episode for r in rows if r.stamped_turn}
        mixed = np.concatenate(
            [np.asarray(r.stamped_chapter if r.episode in stamped else r.auto) for r in rows]
        )
        lines.append(_summary("all chapters, every clock", mixed))
    return "\n".join(lines)
