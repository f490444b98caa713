"""Where the listener left each episode: ``<data dir>/listening.json``.

The library is what the listener has (episodes ingested and indexed, see ``pipeline``); where
they are in each is part of it, next to the episodes rather than in the browser, so "Continue
listening" survives a cleared browser, another browser, a restart. One small JSON object
``{episode id: {"t": seconds, "duration": seconds | null, "updated": ISO time}}``, rewritten
whole and atomically (``podlens.atomic``): a crash mid-write leaves the previous file. A
damaged file reads as empty (positions are a convenience, never a reason to fail a page) and is
replaced on the next save. Core code: no Streamlit.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from podlens.atomic import atomic_write_json
from podlens.errors import PodlensError

FILE = "listening.json"
STARTED = 30.0  # seconds: less than this is a peek, not "listening"
FINISHED = 60.0  # seconds before the end: the rest is outro, the episode counts as heard

_lock = threading.Lock()  # one app process, many sessions: serialise read-modify-write


@dataclass(frozen=True)
class Position:
    """Where ``episode`` was left: ``t`` seconds in, of ``duration`` (if known), at ``updated``."""

    episode: str
    t: float
    duration: float | None
    updated: str

    @property
    def in_progress(self) -> bool:
        """Started and not finished: worth a "Continue listening"."""
        if self.t < STARTED:
            return False
        return not (self.duration and self.t >= self.duration - FINISHED)


class PositionStore:
    """Listening positions per episode in ``data_dir``."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / FILE

    def _read(self) -> dict[str, dict]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return raw if isinstance(raw, dict) else {}

    @staticmethod
    def _position(episode: str, row: object) -> Position | None:
        if not isinstance(row, dict):
            return None
        try:
            t = float(row["t"])
            dur = row.get("duration")
            dur = float(dur) if dur is not None else None
            updated = str(row.get("updated") or "")
        except (KeyError, TypeError, ValueError):
            return None
        if not math.isfinite(t) or t < 0:
            return None
        return Position(episode, t, dur, updated)

    def get(self, episode: str) -> Position | None:
        return self._position(episode, self._read().get(episode))

    def save(self, episode: str, t: float, duration: float | None = None) -> Position:
        """Record that ``episode`` is at ``t`` seconds; returns what was stored."""
        if not episode:
            raise PodlensError("a listening position needs an episode id")
        try:
            t = float(t)
        except (TypeError, ValueError):
            raise PodlensError(f"a listening position is a number of seconds, not {t!r}") from None
        if not math.isfinite(t) or t < 0:
            raise PodlensError(f"a listening position is a number of seconds, not {t!r}")
        if duration is not None and (not math.isfinite(duration) or duration <= 0):
            duration = None
        if duration:
            t = min(t, duration)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with _lock:
            rows = self._read()
            rows[episode] = {"t": round(t, 1), "duration": duration, "updated": now}
            atomic_write_json(self.path, rows)
        return Position(episode, round(t, 1), duration, now)

    def recent(self, limit: int = 5, *, in_progress: bool = True) -> list[Position]:
        """The most recently played episodes first (only those started and not finished)."""
        out = [p for k, v in self._read().items() if (p := self._position(k, v)) is not None]
        if in_progress:
            out = [p for p in out if p.in_progress]
        out.sort(key=lambda p: p.updated, reverse=True)
        return out[:limit]
