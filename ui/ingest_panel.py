"""Ingesting from the app: the empty state's one-click default episode, and "add an episode".

Runs the real ``library.pipeline.ingest`` in the script thread and shows its
``progress(stage, fraction)`` calls live in an ``st.status`` with a progress bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import streamlit as st

from podlens.config import data_dir
from podlens.errors import PodlensError
from ui.render import md_text

STAGES = {
    "feed": "Reading the feed",
    "transcript": "Reading the transcript",
    "align": "Placing the transcript on the audio clock",
    "references": "Collecting the writings discussed",
    "papers": "Fetching the papers",
    "chunk": "Cutting the transcript into passages",
    "embed": "Embedding passages for search",
    "store": "Saving the index",
    "done": "Done",
}


@dataclass
class Source:
    """What to ingest: a feed (URL or path), which item, optionally the transcript."""

    feed: str
    episode: str | None = None
    transcript: str | None = None
    guid: str | None = None
    label: str = ""


def default_source() -> Source:
    """AXRP episode 19 (Neel Nanda on mechanistic interpretability), from the podcast's feed
    (``$PODLENS_AXRP_FEED`` points it at a mirror or a local file, as for ``python -m ingest``);
    the transcript is the one the feed item links."""
    from ingest.pipeline import axrp_feed_url

    return Source(feed=axrp_feed_url(), episode="19", label="AXRP 19")


def is_network_error(message: str) -> bool:
    m = message.lower()
    return any(
        w in m
        for w in (
            "unreachable",
            "timed out",
            "connection",
            "could not resolve host",
            "name or service not known",
            "temporary failure in name resolution",
            "network",
        )
    )


def explain_error(message: str, src: Source) -> str:
    """A user-facing explanation of a failed ingest (the network case called out)."""
    if is_network_error(message):
        host = urlsplit(src.feed).netloc or src.feed
        return (
            f"**Can't reach {md_text(host)}** — you seem to be offline (or the podcast's host is "
            "down). "
            "Podlens needs the network only to fetch an episode; everything after that works "
            "offline. Try again when you're connected, or ingest local files from a terminal: "
            "`python -m ingest --feed FEED.xml --transcript TRANSCRIPT.md --episode 19`.\n\n"
            f"Details: {md_text(message)}"
        )
    return f"**Ingest failed.** {md_text(message)}"


def run_ingest(src: Source, *, no_papers: bool = False):
    """Ingest ``src`` with live progress; returns the Episode, or ``None`` after showing why not."""
    from library.pipeline import ingest

    name = src.label or src.feed
    with st.status(f"Ingesting {md_text(name)}…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting…")

        def progress(stage: str, fraction: float) -> None:
            f = min(1.0, max(0.0, float(fraction or 0.0)))
            label = STAGES.get(stage, stage.replace("_", " ").capitalize())
            bar.progress(f, text=f"{md_text(label)} ({int(f * 100)}%)")

        try:
            ep = ingest(
                feed=src.feed,
                transcript=src.transcript,
                episode=src.episode,
                guid=src.guid,
                data_dir=str(data_dir()),
                no_papers=no_papers,
                progress=progress,
            )
        except PodlensError as e:
            status.update(label=f"Couldn't ingest {md_text(name)}", state="error", expanded=True)
            st.error(explain_error(str(e), src))
            return None
        bar.progress(1.0, text="Done")
        status.update(label=f"Ingested {md_text(ep.title)}", state="complete", expanded=False)
    return ep


def empty_state() -> None:
    """What the app shows before anything is ingested."""
    st.markdown(
        "### Nothing ingested yet\n"
        "Podlens works on the episodes you add. It reads the podcast's feed (audio and chapter "
        "times) and the episode's transcript, places every sentence on the audio clock, and "
        "indexes it so you can **ask a question and jump to the moment it is answered**.\n\n"
        "Start with **AXRP episode 19** — Neel Nanda on mechanistic interpretability (3 h 50 "
        "min, about a minute to ingest). Or from a terminal: `python -m ingest axrp 19`."
    )
    if st.button("Ingest AXRP 19", type="primary", icon=":material/download:", key="pl_ingest"):
        ep = run_ingest(default_source())
        if ep is not None:
            st.success(f"Ready: {md_text(ep.title)}")
            st.page_link(
                "app_pages/episode.py",
                label="Open the episode",
                icon=":material/play_circle:",
                query_params={"episode": ep.id},
            )
            st.page_link("app_pages/search.py", label="Ask it a question", icon=":material/search:")


def add_episode_form() -> None:
    """Ingest another episode from a feed URL or file (and optionally a transcript)."""
    with st.form("pl_add_episode"):
        feed = st.text_input("Feed (URL or path)", placeholder="https://…/rss")
        number = st.text_input("Episode number or GUID", placeholder="19")
        transcript = st.text_input(
            "Transcript (optional: URL or path; found from the feed when empty)"
        )
        no_papers = st.checkbox("Skip fetching the papers it discusses", value=False)
        go = st.form_submit_button("Ingest", type="primary")
    if go:
        which = number.strip()
        if not feed.strip() or not which:
            st.warning("Give a feed (URL or path) and the episode's number or GUID.")
            return
        numeric = re.fullmatch(r"\d+(\.\d+)?", which) is not None
        src = Source(
            feed=feed.strip(),
            episode=which if numeric else None,
            guid=None if numeric else which,
            transcript=transcript.strip() or None,
            label=f"episode {which}",
        )
        ep = run_ingest(src, no_papers=no_papers)
        if ep is not None:
            st.success(f"Ready: {md_text(ep.title)}")
