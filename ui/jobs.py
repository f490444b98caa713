"""Long jobs of this server process, by key: a demo's training run, aligning an episode to its
audio, adding feeds to the library.  Every session sees the same ones, so a second visitor
watches a running job instead of starting it again; pages draw a job's progress from its
``records`` (:class:`podlens.jobs.BackgroundRun`) without waiting for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

from podlens.jobs import BackgroundRun


@st.cache_resource
def _jobs() -> tuple[dict[str, BackgroundRun], threading.Lock]:
    return {}, threading.Lock()


def job(key: str) -> BackgroundRun | None:
    """The job ``key``, running or finished, if one was started in this server."""
    runs, _ = _jobs()
    return runs.get(key)


def start_job(key: str, work: Callable[..., Any], name: str | None = None) -> BackgroundRun:
    """Run ``work(on_record=, stop=)`` in the background as ``key``, unless it is running."""
    runs, lock = _jobs()
    with lock:
        run = runs.get(key)
        if run is None or run.done:
            run = runs[key] = BackgroundRun(work, name=name or key)
    return run
