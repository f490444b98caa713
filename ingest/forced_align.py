"""Word times to the hundredth of a second: force-align the transcript to the audio, chunk by chunk.

Whisper's word times (:mod:`ingest.audio_align`) are a tenth of a second off at the median and
miss what it did not hear.  A forced aligner knows the words already and only asks *when* each is
said, so it also times the words Whisper dropped.  PocketSphinx (its US-English acoustic model and
CMU dictionary ship inside the ``pocketsphinx`` wheel) does this for one stretch of speech at a
time; long stretches fail, so the transcript is cut into chunks between words Whisper heard on
both sides of a pause (at least :data:`MIN_CHUNK` s each), and each chunk is aligned to just its
audio.  A chunk that fails, that holds far more audio than its words need (an ad, music), or
whose result puts a word Whisper heard more than :data:`DISAGREE` s away from where it heard it,
keeps the times it had.  Words the dictionary lacks are given the sounds of the dictionary words
they are made of ("interpretability" = "interpret" + "ability") or else skipped by the aligner
and placed between their neighbours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from ingest.asr import SAMPLE_RATE, audio_slices
from ingest.audio_align import AudioAlignment
from podlens.progress import Progress, no_progress

MIN_CHUNK = 15.0  # seconds of audio per aligned chunk, at least
MAX_CHUNK = 60.0  # ... and at most, where a cut can be found
CUT_PAUSE = 0.2  # seconds between two heard words where a chunk may end
DISAGREE = 1.5  # seconds a forced word may sit from where Whisper heard it before the chunk is
# taken to hold speech the transcript lacks, and is left as it was
EDGE = 0.4  # seconds of audio a chunk keeps past its first and last heard word, at most
SPARE = 2.5  # a chunk with more audio than this many times its words' usual length is skipped
BEAMS = (1e-80, 1e-200)  # tried in turn: pruned (fast), then none (slow, never lost)
FRAME = 0.01  # seconds per PocketSphinx frame

_LETTERS = re.compile(r"[^a-z']+")


@dataclass(frozen=True)
class Chunk:
    """Transcript words ``[lo, hi)`` said within ``[start, end)`` seconds of the audio."""

    lo: int
    hi: int
    start: float
    end: float


def chunks(al: AudioAlignment, duration: float) -> list[Chunk]:
    """Cut the transcript into chunks of :data:`MIN_CHUNK` to about :data:`MAX_CHUNK` seconds,
    each from a heard word to a heard word: a chunk ends where two neighbouring heard words have
    a pause between them, and always before speech the transcript lacks (``al.extra``), whose
    audio no chunk holds.  Stretches not pinned by heard words at both ends are left out."""
    n = len(al.starts)
    hard = {b for _, b in al.extra}  # a chunk ends before word b and the next starts at it
    # (word index, the previous chunk's end time, this chunk's start time)
    cuts: list[tuple[int, float, float]] = []
    for i in range(1, n):
        if al.source[i] == al.source[i - 1] == "heard":
            gap = al.starts[i] - al.ends[i - 1]
            if gap >= CUT_PAUSE or i in hard:
                mid = (al.ends[i - 1] + al.starts[i]) / 2
                cuts.append((i, min(mid, al.ends[i - 1] + EDGE), max(mid, al.starts[i] - EDGE)))
    out: list[Chunk] = []
    k = 0
    while k < len(cuts) - 1:
        lo, _, t0 = cuts[k]
        j = k + 1
        while j < len(cuts) - 1 and cuts[j][1] - t0 < MIN_CHUNK and cuts[j][0] not in hard:
            j += 1
        hi, t1, _ = cuts[j]
        if t1 - t0 <= 2 * MAX_CHUNK and hi > lo:
            out.append(Chunk(lo, hi, max(0.0, t0), min(duration, t1)))
        k = j
    return out


class Aligner:
    """PocketSphinx in alignment mode, loaded once (about a second)."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoders = [
            Decoder(lm=None, beam=b, wbeam=b, pbeam=b, maxhmmpf=-1, loglevel="FATAL") for b in BEAMS
        ]

    def spellings(self, word: str) -> list[str]:
        """The dictionary words that say ``word`` ("scale-invariant": "scale", "invariant");
        new compounds are added to the dictionary; ``[]`` when it cannot be said."""
        parts = [p for p in _LETTERS.sub(" ", word.lower().replace("’", "'")).split() if p]
        out = []
        for p in parts:
            p = p.strip("'")
            if not p:
                continue
            if self._decoders[0].lookup_word(p) is None and not self._add_compound(p):
                return []
            out.append(p)
        return out

    def _add_compound(self, word: str) -> bool:
        phones = self._compound(word)
        if phones is None:
            return False
        for d in self._decoders:
            d.add_word(word, phones, True)
        return True

    def _compound(self, word: str) -> str | None:
        """Phones of ``word`` read as two or three dictionary words of 3+ letters, if it is."""
        look = self._decoders[0].lookup_word
        for cut in range(len(word) - 3, 2, -1):
            head, tail = word[:cut], word[cut:]
            if (a := look(head)) is None:
                continue
            if (b := look(tail)) is not None:
                return f"{a} {b}"
            for cut2 in range(len(tail) - 3, 2, -1):
                if (b := look(tail[:cut2])) is not None and (c := look(tail[cut2:])) is not None:
                    return f"{a} {b} {c}"
        return None

    def align(self, words: Sequence[str], pcm: np.ndarray) -> list[float] | None:
        """The start (seconds into ``pcm``, 16 kHz int16) of each of ``words`` (dictionary
        spellings), or None when the speech will not fit them."""
        for d in self._decoders:
            d.set_align_text(" ".join(words))
            d.start_utt()
            d.process_raw(pcm.tobytes(), full_utt=True)
            d.end_utt()
            got = [s for s in d.seg() or () if s.word not in ("<s>", "</s>", "<sil>", "[NOISE]")]
            if len(got) == len(words):
                return [s.start_frame * FRAME for s in got]
        return None


def _spans(path: str | Path, wanted: list[Chunk]) -> Iterator[tuple[Chunk, np.ndarray]]:
    """Each chunk with its audio as 16 kHz int16, decoding the file once, in order, holding one
    slice and one chunk at a time."""
    buf = np.zeros(0, np.int16)
    buf_at = 0.0  # seconds at buf[0]
    slices = audio_slices(path)
    for c in wanted:
        while buf_at + len(buf) / SAMPLE_RATE < c.end:
            nxt = next(slices, None)
            if nxt is None:
                break
            pcm = (np.clip(nxt[1], -1, 1) * 32767).astype(np.int16)
            buf = np.concatenate([buf, pcm]) if len(buf) else pcm
            if not len(buf) or buf_at > nxt[0]:
                buf_at = nxt[0]
        lo = max(0, int((c.start - buf_at) * SAMPLE_RATE))
        hi = int((c.end - buf_at) * SAMPLE_RATE)
        yield c, buf[lo:hi]
        buf, buf_at = buf[lo:], buf_at + lo / SAMPLE_RATE


def force_align(
    path: str | Path,
    words: Sequence[str],
    al: AudioAlignment,
    duration: float,
    progress: Progress | None = None,
) -> AudioAlignment:
    """``al`` with the words of every chunk that aligns re-timed by PocketSphinx (their source
    becomes ``"forced"``); ``words`` are the transcript's words as written, one per entry of
    ``al``.  Progress is reported as stage ``"force"``."""
    report = progress or no_progress
    todo = chunks(al, duration)
    report("force", 0.0)
    if not todo:
        return al
    aligner = Aligner()
    starts, ends, source = list(al.starts), list(al.ends), list(al.source)
    pace = _seconds_per_word(al)
    for k, (c, pcm) in enumerate(_spans(path, todo)):
        report("force", k / len(todo))
        if c.end - c.start > SPARE * pace * (c.hi - c.lo) + 2.0:
            continue  # more audio than words: something untranscribed is in there
        spelled_by = {i: aligner.spellings(words[i]) for i in range(c.lo, c.hi)}
        if sum(bool(sp) for sp in spelled_by.values()) < 2:
            continue
        got = aligner.align([p for sp in spelled_by.values() for p in sp], pcm)
        if got is None:
            continue
        forced, at = {}, 0
        for i, sp in spelled_by.items():
            if sp:
                forced[i] = round(c.start + got[at], 3)
                at += len(sp)
        if any(
            abs(t - al.starts[i]) > DISAGREE for i, t in forced.items() if al.source[i] == "heard"
        ):
            continue  # the chunk's audio is not just its words (something Whisper skipped)
        for i, t in forced.items():
            starts[i], source[i] = t, "forced"
        _between(starts, ends, source, c)
    report("force", 1.0)
    return replace(al, starts=starts, ends=ends, source=source)


def _between(starts: list[float], ends: list[float], source: list[str], c: Chunk) -> None:
    """Within a chunk: words the aligner skipped start between their forced neighbours, and
    every word ends where the next begins."""
    forced = [i for i in range(c.lo, c.hi) if source[i] == "forced"]
    for a, b in pairwise(forced):
        for k, i in enumerate(range(a + 1, b), start=1):
            starts[i] = round(starts[a] + (starts[b] - starts[a]) * k / (b - a), 3)
    for i in range(c.lo, c.hi - 1):
        ends[i] = max(starts[i], starts[i + 1])


def _seconds_per_word(al: AudioAlignment) -> float:
    steps = sorted(
        b - a
        for a, b, s, t in zip(al.starts, al.starts[1:], al.source, al.source[1:], strict=False)
        if s == t == "heard" and b > a
    )
    return steps[len(steps) // 2] if steps else 0.4
