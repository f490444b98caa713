"""Ingest then index: the one entry point the CLI and the app use to add an episode.

Order matters for "nothing written on error": every input is fetched, parsed and aligned by
``ingest`` before anything touches ``data_dir``; only then does ``index.build.index_episode``
write (one transaction, FAISS replaced atomically).  Before any of that, the data dir is checked
to be writable: a read-only one is one line at once, not an error after minutes of embedding.
"""

from __future__ import annotations

import os

from index.build import index_episode
from index.store import IndexStore
from ingest.pipeline import add_references, build_episode
from podlens.config import data_dir as resolve_data_dir
from podlens.models import Episode
from podlens.progress import Progress


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
    target = None if dry_run else resolve_data_dir(data_dir)
    if target is not None:
        IndexStore(target).check_writable()
    ep = build_episode(feed, transcript, episode=episode, guid=guid, progress=progress)
    papers = add_references(ep, target, fetch=not (no_papers or dry_run), progress=progress)
    if target is not None:
        index_episode(ep, target, papers=papers, progress=progress)
    return ep
