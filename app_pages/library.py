"""Library — the ingested episodes; the empty state ingests the default episode."""

from __future__ import annotations

import streamlit as st

from ui import components, readalong, resources
from ui import library as ui_library
from ui.ingest_panel import add_episode_form, empty_state

st.title("Library")

if not resources.store().has_episodes():
    empty_state()
    # ... or the listener's own shows, from the start.
    with st.expander("Add a feed, an OPML file or AXRP episodes", icon=":material/playlist_add:"):
        ui_library.add_to_library()
    st.stop()

readalong.continue_listening()
items = resources.episodes()
st.caption(f"{len(items)} episode{'s' if len(items) != 1 else ''}")
notes = {}
for s in items:
    ep = resources.episode(s.id)
    notes[s.id] = ep.show_notes if ep else ""
components.library(items, notes)

st.subheader("Shows")
ui_library.shows_overview(items)
with st.expander("Add a feed, an OPML file or AXRP episodes", icon=":material/playlist_add:"):
    ui_library.add_to_library()

with st.expander("Add an episode", icon=":material/add:"):
    add_episode_form()
