"""Library — the ingested episodes; the empty state ingests the default episode."""

from __future__ import annotations

import streamlit as st

from ui import components, resources
from ui.ingest_panel import add_episode_form, empty_state

st.title("Library")

if not resources.store().has_episodes():
    empty_state()
    st.stop()

items = resources.episodes()
st.caption(f"{len(items)} episode{'s' if len(items) != 1 else ''}")
notes = {}
for s in items:
    ep = resources.episode(s.id)
    notes[s.id] = ep.show_notes if ep else ""
components.library(items, notes)

with st.expander("Add an episode", icon=":material/add:"):
    add_episode_form()
