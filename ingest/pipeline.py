"""Feed + transcript -> aligned :class:`Episode` -> index: the one entry point the CLI and app use.

Order matters for "nothing written on error": every input is fetched, parsed and aligned before
anything touches ``data_dir``; only then does ``index.build.index_episode`` write (atomically).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ingest.align import align
from ingest.feed import episode_id, read_item
from ingest.http import fetch_text
from ingest.transcript import parse_transcript
from podlens.config import data_dir as resolve_data_dir
from podlens.errors import PodlensError
from podlens.models import Chapter, Episode, PaperDoc

Progress = Callable[[str, float], None]

AXRP_FEED = "https://axrpodcast.libsyn.com/rss"


def axrp_feed_url(override: str | None = None) -> str:
    """The AXRP feed: ``override`` (``--feed``), else ``$PODLENS_AXRP_FEED``, else the real one."""
    return override or os.environ.get("PODLENS_AXRP_FEED") or AXRP_FEED


def build_episode(
    feed: str,
    transcript: str | None = None,
    episode: str | int | None = None,
    guid: str | None = None,
    progress: Progress | None = None,
    uniform: bool = False,
) -> Episode:
    """Parse and align; touches no files.  Raises PodlensError for any bad input."""
    report = progress or (lambda stage, fraction: None)
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
    tr = parse_transcript(fetch_text(src, "transcript"), src)
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
    """HOOK after alignment: set ``episode.references`` and return the papers to index.

    ``fetch=False`` (``--no-papers`` or ``--dry-run``) lists references without any network or
    disk access.  Fetching reads its overrides from the environment
    (:meth:`ingest.fetch.FetchConfig.from_env`: ``PODLENS_ARXIV_API``, ``PODLENS_ARXIV_PDF``,
    ``PODLENS_FETCH_MIRRORS``, ``PODLENS_FETCH_INTERVAL``).
    """
    from ingest.fetch import FetchConfig
    from ingest.papers import attach_references

    config = FetchConfig.from_env() if fetch else None
    return attach_references(episode, data_dir, fetch=fetch, progress=progress, config=config)


def ingest(
    feed: str,
    transcript: str | None = None,
    episode: str | int | None = None,
    guid: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
    no_papers: bool = False,
    progress: Progress | None = None,
) -> Episode:
    """Build the aligned episode; unless ``dry_run``, index it under ``data_dir``.

    Warnings (e.g. aligned uniformly for lack of chapters) go through :mod:`warnings` as
    :class:`~ingest.align.AlignmentWarning`.
    """
    ep = build_episode(feed, transcript, episode=episode, guid=guid, progress=progress)
    papers = add_references(
        ep,
        None if dry_run else resolve_data_dir(data_dir),
        fetch=not (no_papers or dry_run),
        progress=progress,
    )
    if dry_run:
        return ep
    from index.build import index_episode

    index_episode(ep, resolve_data_dir(data_dir), papers=papers, progress=progress)
    return ep


def has_episodes(data_dir: str | os.PathLike[str] | None = None) -> bool:
    d = resolve_data_dir(data_dir)
    try:
        from index.store import IndexStore
    except ImportError:
        return (d / "index" / "podlens.db").is_file()
    return bool(IndexStore(d).has_episodes())
