"""Data for the app's tests: episode 19 ingested from ../shared by the real pipeline, and a silent
WAV standing in for the enclosure (Chromium needs real, seekable audio to move ``currentTime``)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

WAV_RATE = 3000  # Hz, 8-bit mono: ~11 MB per hour; Chromium refuses much lower rates


def write_silence_wav(path: Path, seconds: float, rate: int = WAV_RATE) -> Path:
    """An 8-bit unsigned mono PCM WAV of ``seconds`` of silence (sample value 128)."""
    n = int(seconds * rate)
    header = b"RIFF" + struct.pack("<I", 36 + n) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    data = b"data" + struct.pack("<I", n)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(header + fmt + data)
        chunk = b"\x80" * (1 << 20)
        left = n
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return path


def feed_with_enclosure(feed: Path, audio_url: str, out: Path) -> Path:
    """A copy of ``feed`` whose enclosure points at ``audio_url`` (the fixture's is a
    placeholder on example.invalid)."""
    text = feed.read_text(encoding="utf-8")
    text, n = re.subn(
        r'(<enclosure\b[^>]*\burl=")[^"]*(")',
        lambda m: m.group(1) + audio_url.replace("&", "&amp;") + m.group(2),
        text,
    )
    assert n == 1, f"expected one enclosure in {feed}, found {n}"
    text = re.sub(r'(<enclosure\b[^>]*\btype=")[^"]*(")', r"\1audio/wav\2", text)
    out.write_text(text, encoding="utf-8")
    return out


def ingest_ep19(data_dir: Path, feed: Path, transcript: Path) -> None:
    """Ingest episode 19 from local files with the real pipeline (no papers: no network)."""
    from library.pipeline import ingest

    ingest(
        feed=str(feed),
        transcript=str(transcript),
        episode="19",
        data_dir=str(data_dir),
        no_papers=True,
    )
