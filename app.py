"""Podlens — ask a podcast a question, hear the answer.

``streamlit run serve.py`` (``make run``) serves it warm; ``streamlit run app.py`` also works.
Pages live in ``app_pages/`` (one file each); shared Streamlit pieces in ``ui/``. The URL carries
the state: ``/?episode=axrp-19&t=7182`` opens that moment, ``/?q=...`` a search.
Other features add their page with one line in ``PAGES`` below.
"""

from __future__ import annotations

import streamlit as st

from ui import warmup
from ui.components import inject_css

st.set_page_config(
    page_title="Podlens",
    page_icon=":material/graphic_eq:",
    layout="wide",
    initial_sidebar_state="collapsed",
)

search_page = st.Page("app_pages/search.py", title="Search", icon=":material/search:", default=True)
library_page = st.Page("app_pages/library.py", title="Library", icon=":material/library_books:")
episode_page = st.Page("app_pages/episode.py", title="Episode", icon=":material/play_circle:")

PAGES = [
    search_page,
    library_page,
    episode_page,
    st.Page("app_pages/snips.py", title="Snips", icon=":material/content_cut:"),
    st.Page("app_pages/demo_grokking.py", title="Grokking", icon=":material/function:"),
    st.Page("app_pages/demo_induction.py", title="Induction heads", icon=":material/science:"),
    st.Page("app_pages/demo_attention.py", title="Attention", icon=":material/visibility:"),
]

page = st.navigation(PAGES, position="top")

# A deep link to a moment (`/?episode=<id>&t=<s>`, no question) opens the episode page there.
if page is search_page and st.query_params.get("episode") and not st.query_params.get("q"):
    st.switch_page(episode_page, query_params=st.query_params.to_dict())

inject_css()
try:
    page.run()
finally:
    warmup.start()  # the search model, loaded in the background once the first page is drawn
