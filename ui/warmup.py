"""Load the slow things in the background once the app's first page is drawn.

The embedding model takes seconds to load (20 s on a busy 2-core machine), and the first page
that needs it -- a demo page's "where the episode discusses this", the first search, the first
snip -- used to pay for it on its critical path. :func:`start` loads it in a daemon thread once
per process (``index.embed`` keeps the one copy and locks around loading, so a page asking for it
meanwhile waits for the same load instead of starting a second). Nothing is started for an empty
library: there is nothing to search yet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import streamlit as st

from ui.render import md_text

_LOG = logging.getLogger(__name__)


def preload(data_dir: str) -> None:
    """Load the search model for ``data_dir``'s library (nothing for an empty one). Never
    raises: the page that needs the model loads it again and shows the error. ``serve.py`` calls
    this while the server starts; :func:`start` in a thread once the first page is drawn."""
    try:
        from index.embed import load_embedder
        from index.store import IndexStore

        if not IndexStore(data_dir).has_episodes():
            return
        load_embedder()
    except Exception as e:
        _LOG.warning("warm-up failed: %s", e)


@st.cache_resource(show_spinner=False)
def _started(data_dir: str) -> threading.Thread:
    t = threading.Thread(target=preload, args=(data_dir,), name="podlens-warmup", daemon=True)
    t.start()
    return t


def start() -> None:
    """Start the warm-up (once per process and data dir; later calls return at once)."""
    from ui import resources

    _started(str(resources.current_data_dir()))


def ready() -> bool:
    """Whether the background load has finished (or had nothing to do)."""
    from ui import resources

    return not _started(str(resources.current_data_dir())).is_alive()


def deferred(render: Callable[[], None], waiting: str) -> None:
    """``render()`` once the model is loaded; until then ``waiting`` as a caption, re-checked
    every second by a fragment, so the rest of the page is drawn at once (and only this part
    waits). When the load is done the page reruns once and ``render`` is drawn in place."""
    start()
    if ready():
        render()
        return

    @st.fragment(run_every=1.0)
    def _wait() -> None:
        if ready():
            st.rerun()  # the whole page, so this fragment is drawn without its timer
        st.caption(f":material/hourglass_top: {md_text(waiting)}")

    _wait()
