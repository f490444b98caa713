"""Synthesised speech whose true times are known, for testing the audio clock.

espeak-ng (GPL-3, run as a separate program, only here and in bench/) speaks each sentence to its
own WAV; the pieces are joined with pauses, and the offset of each piece's first sound is where
that sentence truly starts.  Extras model real podcast audio: speech the transcript lacks (an
intro, an ad, fillers), a varied speaking rate and noise.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16_000
ESPEAK = shutil.which("espeak-ng")


@dataclass
class Speech:
    """The audio, and where each transcript sentence truly starts (seconds)."""

    path: Path
    duration: float
    sentence_starts: list[float] = field(default_factory=list)


def speak(text: str, *, wpm: int = 175) -> np.ndarray:
    """``text`` spoken by espeak-ng as float32 mono at :data:`RATE`, leading and trailing
    silence trimmed (so sample 0 is the first sound)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.wav"
        subprocess.run(
            [ESPEAK, "-v", "en-us", "-s", str(wpm), "-w", str(out), "--", text],
            check=True,
            capture_output=True,
        )
        with wave.open(str(out)) as w:
            sr = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    x = pcm.astype(np.float32) / 32768.0
    n = round(len(x) * RATE / sr)
    x = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)
    loud = np.flatnonzero(np.abs(x) > 0.02)
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


def synthesise(
    sentences: list[str],
    path: Path,
    *,
    pause: float = 0.35,
    turn_breaks: set[int] | None = None,
    turn_pause: float = 1.0,
    intro: str | None = None,
    inserts: dict[int, str] | None = None,
    rates: tuple[int, ...] = (175,),
    noise: float = 0.0,
    seed: int = 0,
) -> Speech:
    """Speak ``sentences`` in order into the WAV ``path``.

    ``turn_breaks``: indices of sentences that open a new turn (a longer pause before them);
    ``intro``: untranscribed speech before the first sentence; ``inserts``: untranscribed speech
    (an ad, fillers) spoken just before sentence i; ``rates``: words per minute, cycled per
    sentence; ``noise``: std of added white noise (speech peaks near 0.5)."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = [np.zeros(int(0.5 * RATE), np.float32)]
    at = 0.5
    starts: list[float] = []

    def add(x: np.ndarray, gap: float) -> None:
        nonlocal at
        parts.extend([x, np.zeros(int(gap * RATE), np.float32)])
        at += (len(x) + int(gap * RATE)) / RATE

    if intro:
        add(speak(intro, wpm=rates[0]), 1.5)
    for i, s in enumerate(sentences):
        if inserts and i in inserts:
            add(speak(inserts[i], wpm=rates[0]), pause)
        starts.append(round(at, 3))
        gap = turn_pause if turn_breaks and i + 1 in turn_breaks else pause
        add(speak(s, wpm=rates[i % len(rates)]), gap)
    audio = np.concatenate(parts)
    if noise:
        audio = audio + rng.normal(0.0, noise, len(audio)).astype(np.float32)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return Speech(path=path, duration=len(audio) / RATE, sentence_starts=starts)


# A stretch of episode 19 (both speakers, ~3 minutes of speech) with what real podcast audio
# adds: an untranscribed intro, an ad, fillers, three speaking rates, noise, and a sentence of
# words no pronouncing dictionary has.
FIRST_TURN, TURNS = 12, 10
INTRO = "Hello and welcome. This show is brought to you by Acme, the makers of fine anvils."
AD = "We will be right back after a short word from our sponsor. Acme anvils never let you down."
FILLERS = "Um, so, you know, like,"
EXOTIC = "We trained it with AdamW in TransformerLens, using a SoLU layer."


@dataclass
class SpokenTranscript:
    """A markdown transcript and its speech: the turns and sentences as ingest reads them back,
    the index of each turn's first sentence, the transcript words before each sentence, and
    the untranscribed speech said just before sentence i."""

    md: Path
    turns: list
    sentences: list[str]
    first_of_turn: list[int]
    words_before: list[int]
    inserts: dict[int, str]
    speech: Speech


def speak_turns(
    turns: list,
    d: Path,
    *,
    title: str,
    intro: str,
    ads_at: Callable[[int], Iterable[int]],
    wav: str = "a.wav",
) -> SpokenTranscript:
    """Write ``turns`` as the markdown transcript ``d/t.md`` and speak it into ``d/<wav>`` with
    what real podcast audio adds: ``intro``, fillers before every ninth sentence, :data:`AD`
    before the sentences ``ads_at(number of sentences)``, three speaking rates and noise."""
    from ingest.transcript import parse_transcript
    from podlens.sentences import split_sentences

    md = d / "t.md"
    body = "\n\n".join(f"**{t.speaker}:** {t.text}" for t in turns)
    md.write_text(f'---\ntitle: "{title}"\n---\n\n## Part one\n\n{body}\n', encoding="utf-8")
    mine = parse_transcript(md.read_text(encoding="utf-8"), "t").to_turns()
    sentences, first_of_turn, words_before, n = [], [], [], 0
    for t in mine:
        first_of_turn.append(len(sentences))
        for sentence in split_sentences(t.text):
            sentences.append(sentence)
            words_before.append(n)
            n += len(sentence.split())
    inserts = {i: FILLERS for i in range(5, len(sentences), 9)}
    inserts.update({i: AD for i in ads_at(len(sentences))})
    speech = synthesise(
        sentences,
        d / wav,
        turn_breaks=set(first_of_turn[1:]),
        intro=intro,
        inserts=inserts,
        rates=(160, 195, 175),
        noise=0.01,
    )
    return SpokenTranscript(md, mine, sentences, first_of_turn, words_before, inserts, speech)


def spoken_episode(transcript_md: Path, d: Path) -> tuple[Speech, list[int]]:
    """Write ``d/t.md`` (a markdown transcript of the stretch, one ad in its middle) and
    ``d/a.wav`` (its speech); the speech with the true start of every sentence, and the index
    of each turn's first sentence."""
    from ingest.transcript import parse_transcript

    turns = parse_transcript(transcript_md.read_text(encoding="utf-8"), "ep19").to_turns()
    turns = turns[FIRST_TURN : FIRST_TURN + TURNS]
    turns[3].text = EXOTIC + " " + turns[3].text
    spoken = speak_turns(turns, d, title="1 - Aligned", intro=INTRO, ads_at=lambda n: [n // 2])
    return spoken.speech, spoken.first_of_turn


def feed_with_audio(audio_url: str) -> str:
    """A one-item feed whose enclosure is ``audio_url`` and which links no transcript."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Test Cast</title><link>http://example.invalid/</link>
<item><title>1 - Aligned</title><guid>a-1</guid><itunes:episode>1</itunes:episode>
<enclosure url="{audio_url}" type="audio/wav" length="1"/>
<description>Notes.</description></item>
</channel></rss>"""
