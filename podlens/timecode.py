"""Clock times as people write them (`1:59:42`), read and written the same way everywhere."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from podlens.errors import PodlensError

# No episode is this long; a time past it is a typo or an attack (``--at 1e12``), not a moment.
MAX_SECONDS = 7 * 24 * 3600.0


def fmt_time(seconds: float | None) -> str:
    """``7182.4 -> "1:59:42"``, ``65 -> "1:05"``; ``None`` (and NaN/infinity) ``-> ""``."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


_CLOCK = re.compile(r"(\d+):(\d{1,2})(?::(\d{1,2}))?(?:[.,](\d{1,3}))?")
_UNITS = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def parse_timestamp(s: str) -> float:
    """Seconds from a clock time as feeds, transcripts and URLs write it.

    ``"1:02:03" -> 3723``, ``"02:03" -> 123``, ``"3723"``/``"3723.5"``, ``"1h59m42s" -> 7182``;
    cue times keep their milliseconds: ``"01:02:03.500"`` (VTT) and ``"01:02:03,500"`` (SRT)
    ``-> 3723.5``.
    Raises :class:`PodlensError` for anything else (minutes or seconds past 59, signs, garbage,
    and digit strings so long that they overflow to infinity).
    """
    s = str(s).strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        v = float(s)
        if not math.isfinite(v):
            raise PodlensError(f"not a timestamp: {s[:40]!r}… (too large)")
        return v
    if m := _CLOCK.fullmatch(s):
        a, b, c, frac = m.groups()
        hours, mins, secs = (0, int(a), int(b)) if c is None else (int(a), int(b), int(c))
        if not ((mins >= 60 and c is not None) or secs >= 60):
            return hours * 3600 + mins * 60 + secs + int((frac or "0").ljust(3, "0")) / 1000
    elif (m := _UNITS.fullmatch(s)) and any(m.groups()):
        h, mi, se = (int(g) if g else 0 for g in m.groups())
        return float(h * 3600 + mi * 60 + se)
    raise PodlensError(f"not a timestamp: {s!r}")


def parse_t(value: object) -> float | None:
    """A ``t`` URL parameter as seconds (any :func:`parse_timestamp` form); ``None`` otherwise
    (garbage, NaN, infinity, past :data:`MAX_SECONDS`). The page clamps it into the episode."""
    if value is None:
        return None
    try:
        t = parse_timestamp(str(value))
    except PodlensError:
        return None
    return t if math.isfinite(t) and t <= MAX_SECONDS else None


def seconds_arg(name: str) -> Callable[[str], float]:
    """argparse type for a time flag (``--at 11705``, ``--at 3:15:05``, ``--before 90.5``): a
    finite number of seconds from 0 to :data:`MAX_SECONDS`; else a one-line PodlensError naming
    the flag (argparse lets it through to ``cli_errors``: exit 2)."""

    def parse(text: str) -> float:
        raw = str(text).strip()
        try:
            v = float(raw)
        except ValueError:
            try:
                v = parse_timestamp(raw)
            except PodlensError:
                raise PodlensError(
                    f"{name} must be a time in seconds (e.g. 11705 or 3:15:05), got {raw!r}"
                ) from None
        if not math.isfinite(v):
            raise PodlensError(f"{name} must be a finite number of seconds, got {raw!r}")
        if not 0 <= v <= MAX_SECONDS:
            raise PodlensError(f"{name} must be between 0 and {MAX_SECONDS:.0f} seconds, got {raw}")
        return v

    parse.__name__ = "seconds"
    return parse
