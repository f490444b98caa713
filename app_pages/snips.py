"""Snips — your saved moments: filter, search, edit, favourite, share, export."""

from __future__ import annotations

import streamlit as st

from ui import resources
from ui import snips as ui_snips

st.title("Snips")
store = ui_snips.snip_store()

episodes = store.episodes()
tags = [t for t, _ in store.tags()]
with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
    labels = {ep: f"{title or ep} ({n})" for ep, title, n in episodes}
    episode = st.selectbox(
        "Episode", [None, *labels], format_func=lambda e: "All episodes" if e is None else labels[e]
    )
    tag = st.selectbox("Tag", [None, *tags], format_func=lambda t: "All tags" if t is None else t)
    favourites = st.toggle("Favourites only")
query = st.text_input("Search your snips", placeholder="weight decay", key="snips_q")

snips = store.list(episode=episode, tag=tag, favourite=True if favourites else None, query=query)
st.caption(f"{len(snips)} snip{'s' if len(snips) != 1 else ''}")
if not snips and not episodes:
    st.info("No snips yet. Play an episode and press **Snip** to save the minute you just heard.")

with st.expander("Export", icon=":material/download:"):
    ui_snips.export_downloads(snips)

for i, s in enumerate(snips):
    ui_snips.snip_card(s, key=f"{i}_{s.id}")

if episode:
    ep = resources.episode(episode)
    if ep is not None:
        ui_snips.best_moments_panel(ep)
