"""Feed + transcript -> aligned :class:`Episode` with its references: everything but storage.

Nothing here writes under ``data_dir`` except the papers' fetch cache; :mod:`library.pipeline`
stores the result through ``index``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.align import align
from ingest.feed import episode_id, read_item
from ingest.source import read_text
from ingest.transcript import parse_transcript
from podlens.config import settings
from podlens.errors import PodlensError
from podlens.models import Chapter, Episode, PaperDoc
from podlens.progress import Progress, no_progress


def axrp_feed_url(override: str | None = None) -> str:
    """The AXRP feed: ``override`` (``--feed``), else ``$PODLENS_AXRP_FEED``, else the real one."""
    return override or settings().axrp_feed


def build_episode(
    feed: str,
    transcript: str | None = None,
    episode: str | int | None = None,
    guid: str | None = None,
    progress: Progress | None = None,
    uniform: bool = False,
) -> Episode:
    """Parse and align; touches no files.  Raises PodlensError for any bad input."""
    report = progress or no_progress
    report("feed", 0.0)
    item = read_item(feed, episode=episode, guid=guid)
    report("feed", 1.0)
    if not item.chapters and not item.duration:
        raise PodlensError(
            f"feed item {item.title!r} has neither chapters nor a duration: no clock to align to"
        )
    src = transcript or item.transcript_url
    if not src:
        raise PodlensError(
            f"feed item {item.title!r} links no transcript (no axrp.net link in its link or "
            "notes); pass --transcript URL|PATH"
        )
    report("transcript", 0.0)
    tr = parse_transcript(read_text(src, "transcript"), src)
    report("transcript", 1.0)
    turns = tr.to_turns()
    report("align", 0.0)
    result = align(turns, tr.sections, item.chapters, item.duration, uniform=uniform)
    report("align", 1.0)
    return Episode(
        id=episode_id(item),
        title=item.title,
        podcast=item.podcast,
        published=item.published,
        audio_url=item.audio_url,
        duration=round(result.duration, 2),
        chapters=[Chapter(title=c.title, start=c.start) for c in item.chapters],
        turns=turns,
        show_notes=item.notes_text,
        show_notes_html=item.notes_html,
        transcript_url=src if "://" in src else str(Path(src).resolve()),
        duration_estimated=result.duration_estimated,
    )


def add_references(
    episode: Episode,
    data_dir: str | os.PathLike[str] | None,
    *,
    fetch: bool,
    progress: Progress | None = None,
) -> list[PaperDoc]:
    """After alignment: set ``episode.references`` and return the papers to index.

    ``fetch=False`` (``--no-papers`` or ``--dry-run``) lists references without any network or
    disk access.  Fetching takes its endpoints and pacing from the settings
    (:meth:`ingest.papers.PapersConfig.from_settings`: ``PODLENS_ARXIV_API``,
    ``PODLENS_ARXIV_PDF``, ``PODLENS_FETCH_MIRRORS``, ``PODLENS_FETCH_INTERVAL``).
    """
    from ingest.papers import attach_references

    return attach_references(episode, data_dir, fetch=fetch, progress=progress)
