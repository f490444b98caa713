"""The answer block on the search page: a short answer from what was said, then the moments.

Each sentence of the answer ends in its citation number; under it, one chip per citation plays
that moment (the same ``?episode=&t=`` seek the result cards' "Play from here" uses).  When the
episode does not discuss the question the block says so and offers the closest mentions instead.

Follow-ups keep the episode: once a question is answered from an episode, the next question is
answered in that episode first (session state ``pl_ask_episode``); "Ask all episodes" drops the
context.  If the follow-up is not discussed there, the whole library is asked.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ask.answer import Answer, Asker, Citation
from ask.llm import llm_from_env
from index.search import KINDS
from podlens.errors import PodlensError
from podlens.timecode import fmt_time
from ui import resources
from ui.render import md_link, md_text
from ui.state import set_moment

CONTEXT_KEY = "pl_ask_episode"


@st.cache_resource(show_spinner=False, max_entries=4)
def _asker(dir_: str) -> Asker:
    return Asker(searcher=resources.searcher())  # shares the page's searcher and model


def asker() -> Asker:
    """The process-wide :class:`ask.answer.Asker` over the page's searcher (caches sentence
    vectors, so follow-ups on the same moments are fast)."""
    return _asker(str(resources.current_data_dir()))


def _drop_context() -> None:
    st.session_state.pop(CONTEXT_KEY, None)


def answer_for(
    q: str, episode: str | None = None, kinds: Sequence[str] = KINDS, many: bool = False
) -> tuple[Answer, str | None]:
    """The answer to ``q`` and the follow-up context it was asked in (None: everywhere).

    An explicit ``episode`` (the page's filter) wins; else the episode of the previous answer;
    when that one does not discuss ``q`` and the library has ``many`` episodes, all are asked."""
    a = asker()
    llm = llm_from_env()
    context = episode or st.session_state.get(CONTEXT_KEY)
    answer = a.ask(q, episode=context, kinds=kinds, llm=llm)
    if answer.abstained and context and not episode and many:
        context = None
        answer = a.ask(q, kinds=kinds, llm=llm)
    return answer, context


def answer_block(
    q: str, episode: str | None = None, kinds: Sequence[str] = KINDS, many: bool = False
) -> Answer | None:
    """Draw the answer to ``q`` (see the module doc); None when it could not be made."""
    try:
        with st.spinner("Answering…"):
            answer, context = answer_for(q, episode, kinds, many)
    except PodlensError as e:
        st.caption(f"No answer: {md_text(e)}")
        return None
    if not answer.abstained and answer.episode:
        st.session_state[CONTEXT_KEY] = answer.episode
    with st.container(border=True, key="pl_answer"):
        st.markdown("**:material/quick_reference_all: Answer**")
        if answer.abstained:
            st.markdown(f"**{md_text(answer.answer)}**")
            if answer.closest:
                st.caption("Closest mentions")
                _chips(answer.closest, "pl_close")
        else:
            st.markdown(_answer_markdown(answer))
            _chips(answer.citations, "pl_cite")
        notes = []
        if answer.provider != "local":
            notes.append(f"Phrased by {md_text(answer.provider)}, checked against the citations.")
        if answer.reason:
            notes.append(f"Showing the extractive answer: {md_text(answer.reason)}.")
        if notes:
            st.caption(" ".join(notes))
        if context and many and not episode:
            title = next((e.title for e in resources.episodes() if e.id == context), context)
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                st.caption(f"Follow-up questions stay in {md_text(title)}.", width="content")
                st.button(
                    "Ask all episodes",
                    key="pl_ask_all",
                    icon=":material/travel_explore:",
                    on_click=_drop_context,
                    type="tertiary",
                )
    return answer


def _answer_markdown(answer: Answer) -> str:
    """The answer's sentences (escaped) each followed by its citation number in bold."""
    return " ".join(f"{md_text(c.text)} **\\[{c.n:d}\\]**" for c in answer.citations)


def _chips(cites: Sequence[Citation], prefix: str) -> None:
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for c in cites:
            where = f" · {c.speaker}" if c.speaker else ""
            excerpt = c.text if len(c.text) <= 160 else c.text[:157] + "…"
            if c.kind == "paper":
                paper = md_link(c.title or c.url, c.url)  # the same badge as a paper result's
                st.markdown(f":violet-badge[:material/description: Paper] **{c.n:d}** {paper}")
                if c.start is None:
                    continue
                label = f"{c.n:d} · where it comes up ({fmt_time(c.start)})"
            elif c.start is None:
                continue
            else:
                label = f"{c.n:d} · {fmt_time(c.start)}"
            st.button(
                label,
                key=f"{prefix}_{c.n}",
                icon=":material/play_arrow:",
                on_click=set_moment,
                args=(c.episode, c.start),
                help=md_text(f"Play from {fmt_time(c.start)}{where}: “{excerpt}”"),
            )
