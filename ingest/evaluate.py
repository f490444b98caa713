"""Leave-one-chapter-out evaluation of the alignment over a feed and a folder of transcripts.

Each feed item is paired with its transcript by the slug of its axrp.net link (the markdown
file is ``YYYY-MM-DD-<slug>.markdown``), else by the episode number in the post's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.align import cross_validate
from ingest.feed import item_from_entry, load_feed, title_number
from ingest.transcript import parse_transcript


@dataclass
class EpisodeEval:
    episode: str
    title: str
    n_chapters: int
    n_matched: int
    has_duration: bool
    baseline: list[float]
    model: list[float]


def _post_index(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    by_slug, by_num = {}, {}
    for p in sorted(folder.glob("*.markdown")) + sorted(folder.glob("*.md")):
        slug = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", p.stem)
        by_slug[slug] = p
        head = p.read_text(encoding="utf-8", errors="replace")[:600]
        m = re.search(r"^title:\s*\"?(.*?)\"?\s*$", head, re.M)
        if m and (n := title_number(m.group(1))):
            by_num.setdefault(n, p)
    return by_slug, by_num


def evaluate(feed: str, transcripts: str | Path) -> list[EpisodeEval]:
    from ingest.align import match_chapters

    parsed = load_feed(feed)
    by_slug, by_num = _post_index(Path(transcripts))
    out = []
    for entry in parsed.entries:
        item = item_from_entry(parsed, entry)
        path = None
        if item.transcript_url:
            slug = item.transcript_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
            path = by_slug.get(slug)
        if path is None and item.number:
            path = by_num.get(item.number)
        if path is None or not item.chapters:
            continue
        tr = parse_transcript(path.read_text(encoding="utf-8"), str(path))
        turns = tr.to_turns()
        base = cross_validate(turns, tr.sections, item.chapters, item.duration, uniform=True)
        mod = cross_validate(turns, tr.sections, item.chapters, item.duration, uniform=False)
        out.append(EpisodeEval(
            episode=item.number or "?", title=item.title, n_chapters=len(item.chapters),
            n_matched=len(match_chapters(item.chapters, tr.sections)),
            has_duration=item.duration is not None,
            baseline=base.errors, model=mod.errors,
        ))
    return out


def format_report(rows: list[EpisodeEval]) -> str:
    lines = [f"{'ep':>5} {'chap':>4} {'match':>5} {'dur':>3} {'held':>4} "
             f"{'uniform mean/med (s)':>21} {'model mean/med (s)':>19}  title"]
    for r in rows:
        b, m = np.array(r.baseline), np.array(r.model)
        bs = f"{b.mean():7.1f} /{np.median(b):6.1f}" if len(b) else f"{'-':>14}"
        ms = f"{m.mean():7.1f} /{np.median(m):6.1f}" if len(m) else f"{'-':>14}"
        lines.append(f"{r.episode:>5} {r.n_chapters:>4} {r.n_matched:>5} "
                     f"{'y' if r.has_duration else 'n':>3} {len(b):>4} {bs:>21} {ms:>19}  "
                     f"{r.title[:48]}")
    allb = np.concatenate([r.baseline for r in rows]) if rows else np.array([])
    allm = np.concatenate([r.model for r in rows]) if rows else np.array([])
    if len(allb):
        lines.append("")
        lines.append(f"{len(rows)} episodes, {len(allb)} held-out chapter starts")
        for name, e in (("uniform words (baseline)", allb), ("per-speaker rates (model)", allm)):
            lines.append(f"  {name:<26} mean {e.mean():6.1f} s  median {np.median(e):6.1f} s  "
                         f"p90 {np.percentile(e, 90):6.1f} s  within 30 s {np.mean(e <= 30):.0%}")
    return "\n".join(lines)
