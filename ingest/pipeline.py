"""Feed + transcript -> aligned :class:`Episode` with its references: everything but storage.

Nothing here writes under ``data_dir`` except the papers' fetch cache; :mod:`library.pipeline`
stores the result through ``index``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ingest.align import AlignmentWarning, align
from ingest.asr import Word, audio_duration, hear, heard_turns
from ingest.audio_align import MIN_MATCHED, AudioAlignment, align_to_audio, apply_to_turns
from ingest.feed import FeedItem, episode_id, read_item
from ingest.forced_align import force_align
from ingest.source import fetch_audio, read_linked, read_text
from ingest.timed import TIMED, choose_transcript, cues_to_turns, parse_timed, sniff
from ingest.transcript import check_transcript_text, check_transcript_words, parse_transcript
from podlens.config import settings
from podlens.errors import PodlensError
from podlens.models import Chapter, Episode, PaperDoc, Turn
from podlens.progress import Progress, no_progress
from podlens.sentences import turn_words


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
    transcribe_in: str | os.PathLike[str] | None = None,
) -> Episode:
    """Parse and align; touches no files but ``transcribe_in``.  With ``transcribe_in`` (a
    folder for the audio and what was heard) an item with no transcript is transcribed on this
    machine (:func:`episode_by_ear`).  Raises PodlensError for any bad input."""
    report = progress or no_progress
    report("feed", 0.0)
    item = read_item(feed, episode=episode, guid=guid)
    report("feed", 1.0)
    if transcribe_in is not None and not transcript and not has_transcript(item):
        return episode_by_ear(item, transcribe_in, progress=progress)
    return episode_from_item(item, transcript, progress=progress, uniform=uniform)


def transcript_source(item: FeedItem, transcript: str | None = None) -> tuple[str, str | None]:
    """``(location, timed format or None)`` of the transcript to read for ``item``: the
    caller's ``transcript``, else the preferred ``<podcast:transcript>``, else its link."""
    chosen = None if transcript else choose_transcript(item.transcripts)
    src = transcript or (chosen.url if chosen else None) or item.transcript_url
    if not src:
        raise PodlensError(
            f"feed item {item.title!r} links no transcript (no <podcast:transcript>, no axrp.net "
            "link in its link or notes); pass --transcript URL|PATH, or --transcribe to hear one"
        )
    fmt = chosen.format if chosen is not None and chosen.format in TIMED else None
    return src, fmt


def episode_from_item(
    item: FeedItem,
    transcript: str | None = None,
    progress: Progress | None = None,
    uniform: bool = False,
    transcript_text: str | None = None,
) -> Episode:
    """One feed item + its transcript -> an Episode on the best clock the data has.

    The transcript is ``transcript`` (the user's), else the item's preferred
    ``<podcast:transcript>`` (VTT/JSON, SRT, HTML), else its transcript link.  A timed
    transcript's times are used as written (clock "transcript"); an untimed one is aligned to the
    chapters ("chapters") or spread over the duration ("approximate"); with neither the episode
    is kept without times (clock "none": searchable, no jump).  ``transcript_text`` is the
    transcript's text when the caller has already read it (the library hashes it first)."""
    report = progress or no_progress
    src, fmt = transcript_source(item, transcript)
    report("transcript", 0.0)
    if transcript_text is not None:
        text = transcript_text
    elif transcript:  # the listener's own choice: a URL or a local file
        text = read_text(src, "transcript")
    else:  # a URL from the feed: http(s) and public hosts only, never a local file
        text = read_linked(src, "transcript", base=item.feed_url)
    check_transcript_text(text, src)
    fmt = fmt or sniff(text)
    report("transcript", 1.0)
    report("align", 0.0)
    duration_estimated = False
    if fmt in TIMED:
        turns = cues_to_turns(parse_timed(text, fmt, src), item.chapters)
        clock = "transcript"
        last = max(t.end or 0.0 for t in turns)
        duration = item.duration or last
        duration_estimated = not item.duration
    else:
        tr = parse_transcript(text, src)
        turns = tr.to_turns()
        stamps = [t.stamp for t in tr.turns]
        if item.chapters or item.duration or any(x is not None for x in stamps):
            result = align(
                turns,
                tr.sections,
                item.chapters,
                item.duration,
                uniform=uniform,
                stamps=stamps,
            )
            duration, duration_estimated, clock = (
                result.duration,
                result.duration_estimated,
                result.clock,
            )
        else:  # no clock at all: keep the words, offer no times rather than invent them
            duration, clock = None, "none"
    check_transcript_words(turns, src)
    report("align", 1.0)
    return _episode(
        item,
        turns,
        duration,
        clock,
        transcript_url=src if "://" in src else str(Path(src).resolve()),
        duration_estimated=duration_estimated,
    )


def _episode(
    item: FeedItem,
    turns: list[Turn],
    duration: float | None,
    clock: str,
    **fields: object,
) -> Episode:
    """The Episode of feed ``item`` with these ``turns`` on ``clock`` (``fields``: the rest)."""
    return Episode(
        id=episode_id(item),
        title=item.title,
        podcast=item.podcast,
        published=item.published,
        audio_url=item.audio_url,
        image=item.image,
        duration=round(duration, 2) if duration else None,
        chapters=[Chapter(title=c.title, start=c.start) for c in item.chapters],
        turns=turns,
        show_notes=item.notes_text,
        show_notes_html=item.notes_html,
        clock=clock,
        **fields,  # type: ignore[arg-type]
    )


def has_transcript(item: FeedItem) -> bool:
    """Whether the feed gives ``item`` a transcript to read (a tag or a link)."""
    return bool(choose_transcript(item.transcripts) or item.transcript_url)


def episode_by_ear(
    item: FeedItem, work_dir: str | os.PathLike[str], progress: Progress | None = None
) -> Episode:
    """An episode with audio but no transcript, transcribed on this machine: Whisper hears the
    enclosure (:func:`ingest.asr.hear`, kept under ``work_dir`` so a stopped run resumes), its
    words become turns cut at pauses (:func:`ingest.asr.heard_turns`) timed to the hundredth by
    forced alignment, on the audio clock, marked ``machine_transcript``."""
    report = progress or no_progress
    if not item.audio_url:
        raise PodlensError(f"feed item {item.title!r} has no transcript and no audio to hear")
    path, duration, words = _hear(item.audio_url, work_dir, public_only=True, report=report)
    if not words:
        raise PodlensError(f"audio {item.audio_url}: no speech was heard in it")
    heard = AudioAlignment([w.start for w in words], [w.end for w in words], ["heard"] * len(words))
    timed = force_align(path, [w.text for w in words], heard, duration, report)
    words = [
        Word(start, max(start, w.end), w.text) for w, start in zip(words, timed.starts, strict=True)
    ]
    turns = heard_turns(words, item.chapters)
    return _episode(item, turns, duration, "audio", machine_transcript=True)


def _hear(
    src: str, work_dir: str | os.PathLike[str], *, public_only: bool, report: Progress
) -> tuple[Path, float, list[Word]]:
    """The audio at ``src`` fetched into ``work_dir/audio`` (kept), its length, and every word
    heard in it (kept in ``work_dir/asr``, so a stopped run resumes): stages "audio", "hear"."""
    work = Path(work_dir)
    report("audio", 0.0)
    path = fetch_audio(src, work / "audio", public_only=public_only)
    duration = audio_duration(path)
    report("audio", 1.0)
    return path, duration, hear(path, work / "asr", progress=report)


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


def align_audio(
    episode: Episode,
    audio: str | None,
    work_dir: str | os.PathLike[str],
    progress: Progress | None = None,
) -> None:
    """Put ``episode`` on the clock of its audio (in place): ``audio`` is the listener's file or
    URL, ``None`` for the feed's enclosure.  The audio is heard (:mod:`ingest.asr`), every word
    placed where it is heard (:mod:`ingest.audio_align`), then timed to the hundredth of a
    second by forced alignment between heard words (:mod:`ingest.forced_align`); the clock
    becomes ``"audio"``.

    Downloads and what was heard are kept under ``work_dir`` (``audio/``, ``asr/``), so a second
    run is quick and a stopped one resumes.  Audio that does not match the transcript (under
    :data:`~ingest.audio_align.MIN_MATCHED` of its words heard) leaves the episode on its old
    clock, with a warning; so does an unsure stretch, in its own place only."""
    report = progress or no_progress
    src = audio or episode.audio_url
    if not src:
        raise PodlensError(f"episode {episode.id}: no audio to align (no enclosure; pass --audio)")
    path, duration, words = _hear(src, work_dir, public_only=audio is None, report=report)
    report("align-audio", 0.0)
    al = align_to_audio(episode.turns, words, duration)
    report("align-audio", 1.0)
    if al.heard_share < MIN_MATCHED:
        warnings.warn(
            AlignmentWarning(
                f"audio {src}: only {al.heard_share:.0%} of the transcript was heard in it; "
                f"kept the {episode.clock} clock"
            ),
            stacklevel=2,
        )
        return
    words = [w for t in episode.turns for w in turn_words(t)]
    al = force_align(path, words, al, duration, report)
    apply_to_turns(episode.turns, al)
    for lo, hi in al.unsure:
        warnings.warn(
            AlignmentWarning(
                f"audio {src}: words {lo}-{hi} ({al.starts[lo]:.0f}-{al.ends[hi - 1]:.0f} s) "
                "were not heard; their times are spread between the nearest heard words"
            ),
            stacklevel=2,
        )
    episode.duration = round(duration, 2)
    episode.duration_estimated = False
    episode.clock = "audio"
