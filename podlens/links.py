"""Deep links to a moment, the same in the CLI, the app and the exports."""

from __future__ import annotations

from urllib.parse import urlencode


def deep_link(episode: str, t: float | None = None, q: str | None = None) -> str:
    """The app's link to a moment, relative to the app root: ``/?episode=axrp-19&t=7182``."""
    params: dict[str, str] = {"episode": episode}
    if t is not None:
        params["t"] = str(int(t))
    if q:
        params["q"] = q
    return "/?" + urlencode(params)
