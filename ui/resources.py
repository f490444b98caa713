"""Things loaded once per process and shared by every session (``st.cache_resource``).

The embedding model is the slow one (seconds); :mod:`index.embed` keeps it for the whole
process, core callers included, so it is not cached again here. The searcher keeps the FAISS +
lexical index in memory and reloads by itself when the index's generation changes (a new ingest).
Episodes are cached per index generation, so a re-ingest is picked up on the next run.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from index.embed import load_embedder
from index.store import EpisodeSummary, IndexStore
from podlens.config import data_dir
from podlens.models import Episode


def current_data_dir() -> Path:
    return data_dir()


def store() -> IndexStore:
    return IndexStore(current_data_dir())


def embedder():  # -> SentenceTransformer
    """The search model; ``index.embed`` keeps the one copy per process, so no cache here."""
    with st.spinner("Loading the search model…"):
        return load_embedder()


@st.cache_resource(show_spinner="Loading the index…", max_entries=4)
def _searcher(dir_: str):
    from index.search import Searcher

    return Searcher(dir_)  # with index.embed's model


def searcher():
    """The process-wide :class:`index.search.Searcher` for the data dir (needs an episode)."""
    return _searcher(str(current_data_dir()))


def generation() -> int:
    return store().generation()


@st.cache_resource(show_spinner=False, max_entries=16)
def _episode(dir_: str, episode_id: str, gen: int) -> Episode | None:
    return IndexStore(dir_).load_episode(episode_id)


def episode(episode_id: str) -> Episode | None:
    """The stored episode (shared; treat it as read-only)."""
    return _episode(str(current_data_dir()), episode_id, generation())


@st.cache_resource(show_spinner=False, max_entries=4)
def _episodes(dir_: str, gen: int) -> list[EpisodeSummary]:
    return IndexStore(dir_).list_episodes()


def episodes() -> list[EpisodeSummary]:
    return _episodes(str(current_data_dir()), generation())
