"""``streamlit run serve.py``: the app (``app.py``), ready before its first listener arrives.

Streamlit runs a page script per visit, so whatever the pages need from the process -- torch,
TransformerLens, sentence-transformers, the search model -- was loaded on the first visit's
critical path: a shared ``/?q=...`` link to a freshly started app took 10+ s to draw, a demo page
~9 s. Here the process loads them while the server starts, as model servers do: the heavy
modules the pages import and the search model are loaded in ``st.App``'s lifespan (before the
server answers any request). ``make run`` pays those seconds once; every page's first render
is then a warm one.

``streamlit run app.py`` still works (the pages then import on first use and load the model in
the background, ``ui.warmup``, after the first page is drawn).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import streamlit as st

from podlens.config import data_dir
from ui import warmup


def preload() -> None:
    """What a first visit would otherwise wait for: the pages' heavy modules (torch and
    TransformerLens, imported by the demo pages and the episode page's demo links) and the
    search model."""
    from demos import attention, grokking, induction  # noqa: F401
    from ui import demos  # noqa: F401

    warmup.preload(str(data_dir()))


@asynccontextmanager
async def lifespan(_app: st.App):
    # Runs once Streamlit's runtime has started (its caches are live), before any request.
    await asyncio.to_thread(preload)
    yield


app = st.App("app.py", lifespan=lifespan)
