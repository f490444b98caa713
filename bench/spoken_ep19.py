"""Episode 19's own text as speech whose true times are known, for the audio benchmarks.

The first ``minutes`` of the episode's turns, spoken by espeak-ng
(:func:`tests.support.speech.speak_turns`) with what real podcast audio adds: an untranscribed
intro, an ad every ~10 minutes, fillers every ninth sentence, three speaking rates and noise.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ep19 import EP19_MD
from ingest.transcript import parse_transcript
from tests.support.speech import SpokenTranscript, speak_turns

INTRO = "Hello and welcome to the show. This episode is brought to you by Acme."
WPM = 175  # the middle of the three rates: how much text fills the minutes asked for


@dataclass
class Stretch(SpokenTranscript):
    """The spoken stretch, and the seconds it took to synthesise."""

    seconds: float = 0.0

    @property
    def spoken_words(self) -> list[str]:
        """Every word said, in order: the intro, the inserts and the transcript."""
        out = INTRO.split()
        for i, s in enumerate(self.sentences):
            out += self.inserts.get(i, "").split() + s.split()
        return out


def speak(minutes: float, work: Path) -> Stretch:
    """Synthesise about ``minutes`` of episode 19 from its first turn into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    turns = parse_transcript(EP19_MD.read_text(encoding="utf-8"), "ep19").to_turns()
    chosen, n = [], 0
    for t in turns:
        chosen.append(t)
        n += len(t.text.split())
        if n >= minutes * WPM:
            break

    def ads_at(n_sentences: int) -> range:
        every = max(1, round(n_sentences / max(1.0, minutes / 10)))
        return range(every, n_sentences, every)

    t0 = time.perf_counter()
    spoken = speak_turns(chosen, work, title="Spoken", intro=INTRO, ads_at=ads_at, wav="speech.wav")
    return Stretch(**vars(spoken), seconds=time.perf_counter() - t0)


def error_stats(errs: list[float]) -> dict[str, float]:
    """Median, p90 and max of absolute errors (seconds)."""
    xs = sorted(abs(e) for e in errs)
    return {
        "median_s": round(statistics.median(xs), 3),
        "p90_s": round(xs[int(0.9 * (len(xs) - 1))], 3),
        "max_s": round(xs[-1], 3),
    }
