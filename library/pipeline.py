"""Ingest then index: the one entry point the CLI and the app use to add an episode.

Order matters for "nothing written on error": every input is fetched, parsed and aligned by
``ingest`` before anything touches ``data_dir``; only then does ``index.build.index_episode``
write (one transaction, FAISS replaced atomically).  Before any of that, the data dir is checked
to be writable: a read-only one is one line at once, not an error after minutes of embedding.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from index.build import index_episode
from index.store import IndexStore
from ingest.pipeline import add_references, align_audio, build_episode
from podlens.config import data_dir as resolve_data_dir
from podlens.errors import PodlensError
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
    audio: str | None = None,
    align_audio_clock: bool = False,
    transcribe: bool = False,
) -> Episode:
    """Build the aligned episode; unless ``dry_run``, index it under ``data_dir``.

    With ``audio`` (a path or URL) or ``align_audio_clock`` (the feed's enclosure) the transcript
    is then aligned to the audio itself (clock "audio"); with ``transcribe`` an item that has no
    transcript gets one from its audio (a machine transcript).  The download and what was heard
    are kept under ``data_dir`` (a temporary folder in a dry run).

    Warnings (e.g. aligned uniformly for lack of chapters) go through :mod:`warnings` as
    :class:`~ingest.align.AlignmentWarning`.
    """
    target = None if dry_run else resolve_data_dir(data_dir)
    if target is not None:
        IndexStore(target).check_writable()
    with (
        contextlib.nullcontext(target)
        if target is not None
        else tempfile.TemporaryDirectory(prefix="podlens-audio-")
    ) as work:
        ep = build_episode(
            feed,
            transcript,
            episode=episode,
            guid=guid,
            progress=progress,
            transcribe_in=work if transcribe else None,
        )
        if (audio or align_audio_clock) and not ep.machine_transcript:
            align_audio(ep, audio, work, progress=progress)
    papers = add_references(ep, target, fetch=not (no_papers or dry_run), progress=progress)
    if target is not None:
        index_episode(ep, target, papers=papers, progress=progress)
    return ep


def align_stored(
    episode_id: str,
    audio: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Episode:
    """Upgrade an episode already in the library to the audio clock, in place: it stays
    searchable on its old clock while the audio is heard, then is re-indexed in one transaction
    with every turn, sentence and "mentioned at" time taken from the audio.

    ``audio`` is the listener's file or URL (``None``: the feed's enclosure).  Audio that does
    not match leaves the episode as it was (with an :class:`~ingest.align.AlignmentWarning`)."""
    target = resolve_data_dir(data_dir)
    store = IndexStore(target)
    ep = store.load_episode(episode_id) if store.exists() else None
    if ep is None:
        raise PodlensError(f"no episode {episode_id!r} in the library at {target}")
    store.check_writable()
    had_papers = any(r.status == "ok" for r in ep.references)
    align_audio(ep, audio, target, progress=progress)
    if ep.clock != "audio":
        return ep
    # The papers were fetched once and are cached on disk: re-attaching them re-times their
    # mentions and keeps their passages in the index.
    papers = add_references(ep, target, fetch=had_papers, progress=progress)
    index_episode(ep, target, papers=papers, progress=progress)
    return ep
