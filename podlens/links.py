"""Times and deep links, formatted the same way in the CLI, the app and the exports."""

from __future__ import annotations

from urllib.parse import urlencode


def fmt_time(seconds: float | None) -> str:
    """``7182.4 -> "1:59:42"``, ``65 -> "1:05"``; ``None -> ""``."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def deep_link(episode: str, t: float | None = None, q: str | None = None) -> str:
    """The app's link to a moment, relative to the app root: ``/?episode=axrp-19&t=7182``."""
    params: dict[str, str] = {"episode": episode}
    if t is not None:
        params["t"] = str(int(t))
    if q:
        params["q"] = q
    return "/?" + urlencode(params)
