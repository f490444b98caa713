"""Search — the front door: ask a question, get the moments that answer it, play from there.

URL: ``/?q=<question>`` shows the results; ``&episode=<id>&t=<s>`` adds the player at that moment
with the transcript around it ("Play from here" sets them, so back/forward step through plays).
"""

from __future__ import annotations

import time

import streamlit as st

from podlens.errors import PodlensError
from podlens.timecode import fmt_time
from ui import ask as ui_ask
from ui import components, readalong, resources, state
from ui import library as ui_library
from ui import snips as ui_snips
from ui.ingest_panel import empty_state
from ui.moments import clamp_t, group_by_episode
from ui.render import md_text, query_terms

SCOPES = {"both": "Episodes + papers", "episodes": "Episodes", "papers": "Papers"}
KINDS = {"both": ("transcript", "paper"), "episodes": ("transcript",), "papers": ("paper",)}
K = 8

st.title("Ask your podcasts")

if not resources.store().has_episodes():
    empty_state()
    st.stop()

episodes = resources.episodes()
q = state.question()

# The question box mirrors ?q= (re-synced on back/forward); submitting writes the URL.
state.sync_widget("pl_q", "q")
with (
    st.form("pl_search", border=False, enter_to_submit=True),
    st.container(horizontal=True, vertical_alignment="bottom", gap="small"),
):
    typed = st.text_input(
        "Question",
        key="pl_q",
        placeholder="e.g. Why does the optimizer matter for grokking?",
        label_visibility="collapsed",
    )
    asked = st.form_submit_button("Search", type="primary", icon=":material/search:")
if asked and (typed or "").strip() != q:
    state.set_question(typed)
    state.mark_synced("pl_q", (typed or "").strip())
    st.rerun()

scope = st.query_params.get("in") or "both"
if scope not in SCOPES:
    scope = "both"
with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
    chosen = st.segmented_control(
        "Search in",
        options=list(SCOPES),
        format_func=SCOPES.get,
        default=scope,
        key=f"pl_scope_{scope}",
        label_visibility="collapsed",
    )
    ep_filter = None
    if len(episodes) > 1:
        names = {"": "All episodes", **{e.id: e.title for e in episodes}}
        current = st.query_params.get("in_episode") or ""
        ep_filter = (
            st.selectbox(
                "Episode",
                options=list(names),
                format_func=names.get,
                index=list(names).index(current) if current in names else 0,
                label_visibility="collapsed",
                key=f"pl_epf_{current}",
            )
            or None
        )
        if (ep_filter or "") != current:
            if ep_filter:
                st.query_params["in_episode"] = ep_filter
            else:
                st.query_params.pop("in_episode", None)
if chosen and chosen != scope:
    st.query_params["in"] = chosen
    st.rerun()
allowed = ui_library.search_filter(episodes)  # show and date (None: every episode)

# The player: after "Play from here" (or a link with a question and a moment).
ep_id, t = state.moment()
if ep_id:
    ep = resources.episode(ep_id)
    if ep is None:
        st.warning(f"No episode {md_text(ep_id)} in the library.")
    else:
        t = clamp_t(t, ep.duration) or 0.0
        components.player(ep, t, autoplay=state.take_autoplay(), actions=[ui_snips.snip_button])
        with st.expander(f"Transcript around {fmt_time(t)}", expanded=True):
            readalong.transcript(ep, t, query_terms(q), height=300, around=True)
            st.page_link(
                components.EPISODE_PAGE,
                label="Open the full episode here",
                icon=":material/open_in_new:",
                query_params={"episode": ep.id, "t": str(int(t))},
            )

if not q:
    st.caption(
        f"{len(episodes)} episode{'s' if len(episodes) != 1 else ''} in your library. "
        "Ask in your own words; results jump to the moment the answer starts."
    )
    components.home(episodes)  # things to ask, continue listening, library, recent snips
    st.stop()

try:
    searcher = resources.searcher()
    started = time.perf_counter()
    results = searcher.search(
        q, k=K if allowed is None else 4 * K, kinds=KINDS[scope], episode=ep_filter
    )
    if allowed is not None:  # filtered after ranking: the best moments within those episodes
        results = [r for r in results if r.episode in allowed][:K]
    took = time.perf_counter() - started
except PodlensError as e:
    st.error(md_text(str(e)))
    st.stop()

if not results:
    st.info("Nothing matched. Try other words, or search in both episodes and papers.")
    st.stop()

# The answer first, every sentence cited to a playable moment (ui/ask.py); the moments below.
ui_ask.answer_block(q, episode=ep_filter, kinds=KINDS[scope], many=len(episodes) > 1)

terms = query_terms(q)
noun = "paper passages" if scope == "papers" else "moments"
st.caption(f"{len(results)} {noun} · {took * 1000:.0f} ms")
idx = 0
for _eid, title, group in group_by_episode(results):
    st.subheader(md_text(title), divider="gray")
    for r in group:
        components.result_card(r, terms, idx, q=q, actions=[ui_snips.result_snip_button])
        idx += 1
