"""Episode — the player page: audio at the top, chapters, the transcript at the moment.

URL: ``/episode?episode=<id>&t=<seconds>[&q=<question>]`` (the app's root redirects a bare
``/?episode=..&t=..`` here). Clicking a chapter or a "mentioned at" chip moves ``t`` in the URL.
"""

from __future__ import annotations

import streamlit as st

from podlens.markup import safe_url
from ui import components, readalong, resources, state
from ui import demos as ud
from ui import library as ui_library
from ui import snips as ui_snips
from ui.ingest_panel import empty_state
from ui.moments import clamp_t
from ui.render import md_text, query_terms

if not resources.store().has_episodes():
    st.title("Episode")
    empty_state()
    st.stop()

episodes = resources.episodes()
ep_id, t = state.moment()
if not ep_id:
    # No episode in the URL: the most recent one, so the page is never blank.
    ep_id = episodes[0].id
    st.query_params["episode"] = ep_id

ep = resources.episode(ep_id)
if ep is None:
    st.title("Episode not found")
    st.warning(
        f"There is no episode `{md_text(ep_id)}` in your library. Pick one from the Library."
    )
    st.page_link("app_pages/library.py", label="Library", icon=":material/library_books:")
    st.stop()

if t is None:
    # No moment in the link: resume where this listener left off (saved in the data dir).
    t = readalong.saved_position(ep.id)
t = clamp_t(t, ep.duration)
q = state.question()
terms = query_terms(q)

components.player(ep, t, autoplay=state.take_autoplay(), actions=[ui_snips.snip_button])
ui_library.clock_notice(ep)

with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
    if safe_url(ep.image):  # the feed's artwork; http(s) only (ingest checks it too)
        st.image(ep.image, width=72)
    st.markdown(f"## {md_text(ep.title)}")
st.caption(
    components.episode_meta_line(
        ep.podcast, ep.published, ep.duration, len(ep.chapters), ep.duration_estimated
    )
)
ui_library.clock_line(ep)
if q:
    st.caption(f"Highlighting: {md_text(q)}")

left, right = st.columns([2, 3], gap="medium")
with left:
    st.markdown("#### Chapters")
    with st.container(height=560, key="pl_chapters"):
        components.chapters(ep, t, actions=[ud.chapter_demo_button])
with right, st.container(key="pl_tcol"):
    # No "now at" here: the player bar's label follows the live position (ui.readalong).
    st.markdown("#### Transcript")
    readalong.transcript(ep, t, terms, height=560)

notes_tab, writings_tab = st.tabs(["Show notes", "Writings we discuss"])
with notes_tab:
    components.show_notes(ep)
with writings_tab:
    components.writings(ep)

ui_snips.best_moments_panel(ep, t or 0.0)
