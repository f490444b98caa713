"""Episode 19's own text as speech whose true times are known, for the audio benchmarks.

The first ``minutes`` of the episode's turns, spoken by espeak-ng (``tests/support/speech.py``)
with what real podcast audio adds: an untranscribed intro, an ad every ~10 minutes, fillers every
ninth sentence, three speaking rates and noise.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ep19 import EP19_MD
from ingest.transcript import parse_transcript
from podlens.models import Turn
from podlens.sentences import split_sentences
from tests.support.speech import AD, FILLERS, Speech, synthesise

INTRO = "Hello and welcome to the show. This episode is brought to you by Acme."
WPM = 175  # the middle of the three rates: how much text fills the minutes asked for


@dataclass
class Stretch:
    """The spoken stretch: its markdown transcript, turns, sentences and the speech."""

    md: Path
    turns: list[Turn]
    sentences: list[str]
    first_of_turn: list[int]  # index of each turn's first sentence
    words_before: list[int]  # per sentence, the transcript words before it
    inserts: dict[int, str]  # untranscribed speech said just before sentence i
    speech: Speech
    seconds: float  # to synthesise

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
    md = work / "t.md"
    body = "\n\n".join(f"**{t.speaker}:** {t.text}" for t in chosen)
    md.write_text('---\ntitle: "Spoken"\n---\n\n## Part\n\n' + body + "\n", "utf-8")
    turns = parse_transcript(md.read_text(encoding="utf-8"), "b").to_turns()
    sentences, first_of_turn, words_before = [], [], []
    n = 0
    for t in turns:
        first_of_turn.append(len(sentences))
        for s in split_sentences(t.text):
            sentences.append(s)
            words_before.append(n)
            n += len(s.split())
    every_ad = max(1, round(len(sentences) / max(1.0, minutes / 10)))
    inserts = {i: FILLERS for i in range(5, len(sentences), 9)}
    inserts.update({i: AD for i in range(every_ad, len(sentences), every_ad)})
    t0 = time.perf_counter()
    speech = synthesise(
        sentences,
        work / "speech.wav",
        turn_breaks=set(first_of_turn[1:]),
        intro=INTRO,
        inserts=inserts,
        rates=(160, 195, 175),
        noise=0.01,
    )
    return Stretch(
        md,
        turns,
        sentences,
        first_of_turn,
        words_before,
        inserts,
        speech,
        time.perf_counter() - t0,
    )


def error_stats(errs: list[float]) -> dict[str, float]:
    """Median, p90 and max of absolute errors (seconds)."""
    xs = sorted(abs(e) for e in errs)
    return {
        "median_s": round(statistics.median(xs), 3),
        "p90_s": round(xs[int(0.9 * (len(xs) - 1))], 3),
        "max_s": round(xs[-1], 3),
    }
