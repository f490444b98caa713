"""The URL is the state: ``?episode=<id>&t=<seconds>&q=<question>``.

Pages read the moment from ``st.query_params`` on every run and write it back on every
navigation, so a link reproduces the view and the browser's back/forward buttons step through
what the listener did (Streamlit pushes a history entry when the query string changes).
Widgets that mirror a parameter (the question box) are re-synced from the URL when it changes
under them (back/forward), and only then, so typing is never overwritten.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import streamlit as st

from podlens.links import deep_link
from podlens.timecode import parse_t

AUTOPLAY_KEY = "pl_autoplay"


def moment() -> tuple[str | None, float | None]:
    """``(episode id, t seconds)`` from the URL; either may be ``None``."""
    ep = st.query_params.get("episode") or None
    return ep, parse_t(st.query_params.get("t"))


def question() -> str:
    return (st.query_params.get("q") or "").strip()


def set_moment(episode: str, t: float | None, autoplay: bool = True) -> None:
    """Point the player at ``t`` in ``episode`` (usable as a button callback)."""
    st.query_params["episode"] = episode
    if t is None:
        st.query_params.pop("t", None)
    else:
        st.query_params["t"] = str(int(t))
    st.session_state[AUTOPLAY_KEY] = autoplay


def take_autoplay() -> bool:
    """Whether this run follows a click on "Play" (one-shot: deep links don't autoplay)."""
    return bool(st.session_state.pop(AUTOPLAY_KEY, False))


def set_question(q: str) -> None:
    """A new question: the player moment belongs to the previous one, drop it."""
    q = (q or "").strip()
    if q:
        st.query_params["q"] = q
    else:
        st.query_params.pop("q", None)
    st.query_params.pop("episode", None)
    st.query_params.pop("t", None)


def sync_widget(key: str, param: str, default: str = "") -> None:
    """Copy ``?param=`` into ``st.session_state[key]`` when the URL changed since the last run
    (first load, back/forward, a deep link), before the widget is drawn."""
    value = st.query_params.get(param) or default
    marker = f"_synced_{key}"
    if st.session_state.get(marker) != value or key not in st.session_state:
        st.session_state[key] = value
        st.session_state[marker] = value


def mark_synced(key: str, param_value: str) -> None:
    st.session_state[f"_synced_{key}"] = param_value


def app_base_url() -> str:
    """``scheme://host:port/`` of the running app (for copyable absolute links)."""
    try:
        url = st.context.url or ""
    except Exception:  # AppTest and old runtimes have no browser URL
        url = ""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}/"
    return ""


def share_link(episode: str, t: float | None = None, q: str | None = None) -> str:
    """The deep link to a moment: absolute when the app's address is known, else relative."""
    rel = deep_link(episode, t, q)
    base = app_base_url()
    return urljoin(base, rel) if base else rel
