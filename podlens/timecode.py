"""Clock times as people write them (`1:59:42`), read and written the same way everywhere."""

from __future__ import annotations

import re

from podlens.errors import PodlensError


def fmt_time(seconds: float | None) -> str:
    """``7182.4 -> "1:59:42"``, ``65 -> "1:05"``; ``None -> ""``."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


_CLOCK = re.compile(r"(\d+):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?")
_UNITS = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def parse_timestamp(s: str) -> float:
    """Seconds from a clock time as feeds, transcripts and URLs write it.

    ``"1:02:03" -> 3723``, ``"02:03" -> 123``, ``"3723"``/``"3723.5"``, ``"1h59m42s" -> 7182``.
    Raises :class:`PodlensError` for anything else (minutes or seconds past 59, signs, garbage).
    """
    s = str(s).strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if m := _CLOCK.fullmatch(s):
        a, b, c = m.groups()
        hours, mins, secs = (0, int(a), int(b)) if c is None else (int(a), int(b), int(c))
        if not ((mins >= 60 and c is not None) or secs >= 60):
            return float(hours * 3600 + mins * 60 + secs)
    elif (m := _UNITS.fullmatch(s)) and any(m.groups()):
        h, mi, se = (int(g) if g else 0 for g in m.groups())
        return float(h * 3600 + mi * 60 + se)
    raise PodlensError(f"not a timestamp: {s!r}")


def parse_t(value: object) -> float | None:
    """A ``t`` URL parameter as seconds (any :func:`parse_timestamp` form); ``None`` otherwise."""
    if value is None:
        return None
    try:
        return parse_timestamp(str(value))
    except PodlensError:
        return None
