"""Streamlit pieces shared by the pages: player, transcript, chapters, result cards, library."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from index.store import EpisodeSummary
from podlens.models import Chapter, Episode
from podlens.timecode import fmt_time
from ui import readalong
from ui.moments import (
    MAX_CHAPTER_ROWS,
    chapter_index_at,
    chapter_list_html,
    chapter_window,
)
from ui.player_time import live_time_button
from ui.render import (
    esc,
    fmt_date,
    fmt_duration,
    highlight_html,
    md_app_link,
    md_link,
    md_text,
    notes_markdown,
    safe_url,
)
from ui.state import set_moment, set_question, share_link

EPISODE_PAGE = "app_pages/episode.py"

# What a page adds to a component, drawn in its row of buttons: ``fn(episode, t)`` in the player
# bar (``t``: the player's position as the app knows it, the last seek; the browser's live
# position is not sent back), ``fn(episode, chapter, index)`` on a chapter row,
# ``fn(result)`` on a search result card.
PlayerAction = Callable[[Episode, float], None]
ChapterAction = Callable[[Episode, Chapter, int], None]
ResultAction = Callable[[Any], None]

_AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
}

# The page's look: readable marks and a "now" turn in light and dark themes (translucent
# colours over whatever the theme's background is), the player bar kept on screen.
CSS = """
<style>
.pl-transcript { font-size: 0.98rem; line-height: 1.55; }
.pl-transcript p { margin: 0 0 0.45rem 0; }
.pl-section-title { font-size: 1.02rem; margin: 1.1rem 0 0.4rem 0; padding: 0; }
.pl-turn { padding: 0.35rem 0.6rem; border-left: 3px solid transparent; border-radius: 4px; }
.pl-turn.pl-now { border-left-color: #ff8c00; background: rgba(255, 165, 0, 0.14); }
.pl-turn-head { font-size: 0.86rem; margin-bottom: 0.1rem; }
.pl-time { font-variant-numeric: tabular-nums; opacity: 0.8; margin-right: 0.35rem;
  text-decoration: none; }
a.pl-time:hover { text-decoration: underline; }
.pl-transcript mark, .pl-passage mark { background: rgba(255, 200, 0, 0.38); color: inherit;
  padding: 0 1px; border-radius: 2px; }
.pl-passage { line-height: 1.55; margin: 0.15rem 0 0.35rem 0; }
.pl-passage p { margin: 0 0 0.3rem 0; }
.pl-passage .pl-speaker { font-weight: 600; margin-right: 0.3rem; }
.pl-passage .pl-answer { font-weight: 600; background: rgba(70, 140, 255, 0.12);
  border-radius: 3px; padding: 0 2px; }
.pl-meta { font-size: 0.85rem; opacity: 0.8; }
/* Sticky on the layout wrapper Streamlit puts around the keyed container (the container alone
   is exactly as tall as its wrapper, so it would have no room to stick). */
[data-testid="stLayoutWrapper"]:has(> .st-key-pl_player), .st-key-pl_player {
  position: sticky; top: 3.75rem; z-index: 90; }
.st-key-pl_player { padding: 0.35rem 0 0.5rem 0; background: var(--pl-bg);
  border-bottom: 1px solid rgba(128, 128, 128, 0.25); }
.st-key-pl_player audio { width: 100%; }
[data-testid="stMainBlockContainer"] { padding-top: 4rem; }
.st-key-pl_chapters button p { text-align: left; }
@media (max-width: 640px) {
  /* Phone: the transcript right under the player, the chapter list after it and shorter. */
  [data-testid="stColumn"]:has(.st-key-pl_tcol) { order: -1; }
  .st-key-pl_chapters { max-height: 340px !important; height: auto !important; }
  [data-testid="stMarkdownContainer"] h2 { font-size: 1.45rem; }
  h1 { font-size: 2rem !important; }
  [data-testid="stMainBlockContainer"] { padding-top: 3.5rem; }
  /* The sticky bar took a quarter of a phone's height: tighter rows, smaller controls. */
  .st-key-pl_player { padding: 0.15rem 0 0.3rem 0; }
  .st-key-pl_player [data-testid="stVerticalBlock"], .st-key-pl_player,
  .st-key-pl_player [data-testid="stHorizontalBlock"] { row-gap: 0.3rem; column-gap: 0.35rem; }
  .st-key-pl_player button { min-height: 2rem; padding: 0.1rem 0.55rem; }
  .st-key-pl_player button p, .st-key-pl_player .pl-now-label { font-size: 0.85rem; }
  /* The speed control (in its fragment's block) is as wide as it is: the block's wrapper asks
     for 128px and wrapped it onto a row of its own. */
  .st-key-pl_player [data-testid="stLayoutWrapper"]:has(.st-key-pl_player_ctl) {
    flex: 0 0 fit-content; width: fit-content; }
}
</style>
"""

# The player bar's background must be the theme's (it covers the page scrolling under it): read
# it from the app root, whatever the theme (light, dark, custom), and follow theme switches.
BG_SCRIPT = """<script>
(function () {
  function sync() {
    var app = document.querySelector('.stApp');
    if (!app) return;
    var bg = getComputedStyle(app).backgroundColor;
    if (bg && bg !== 'rgba(0, 0, 0, 0)') document.documentElement.style.setProperty('--pl-bg', bg);
  }
  sync();
  if (!window.__plBgTimer) window.__plBgTimer = setInterval(sync, 1000);
})();
</script>"""


def inject_css() -> None:
    try:
        dark = (st.context.theme.type or "") == "dark"
    except Exception:  # no browser context under AppTest
        dark = False
    bg = "#171614" if dark else "#ffffff"  # until the script below reads the real one
    st.html(CSS.replace("</style>", f":root {{ --pl-bg: {bg}; }}\n</style>"))
    st.html(BG_SCRIPT, unsafe_allow_javascript=True)


def audio_type(url: str) -> str:
    path = url.split("?", 1)[0].lower()
    for ext, mime in _AUDIO_TYPES.items():
        if path.endswith(ext):
            return mime
    return "audio/mpeg"


def _jump(episode_id: str, t: float | None) -> None:
    set_moment(episode_id, t, autoplay=True)


def _jump_button(
    label: str,
    episode_id: str,
    t: float,
    key: str,
    *,
    icon: str | None = ":material/play_arrow:",
    help: str | None = None,
    kind: str = "secondary",
) -> None:
    """A button that plays ``episode_id`` from ``t`` seconds.  ``label`` and ``help`` are plain
    text (a chapter title comes from the feed) and are escaped here; ``kind`` is Streamlit's
    button type (primary / secondary / tertiary)."""
    st.button(
        md_text(label),
        icon=icon,
        key=key,
        type=kind,
        on_click=_jump,
        args=(episode_id, t),
        help=md_text(help) if help else None,
    )


def link_popover(link: str, label: str = "Link", key: str | None = None) -> None:
    """A small popover holding the copyable deep link (``st.code`` has a copy button)."""
    with st.popover(f":material/link: {md_text(label)}", help="Copy a link to this moment"):
        st.code(link, language=None, wrap_lines=True)


# -- player -------------------------------------------------------------------------------------


def player(
    ep: Episode,
    t: float | None,
    *,
    autoplay: bool = False,
    actions: Sequence[PlayerAction] = (),
) -> None:
    """The player bar: audio at ``t``, where that is (chapter, speaker), link, the page's
    ``actions`` (e.g. Snip).

    Drawn at the top of the page and kept there while scrolling (sticky), also at phone width."""
    t0 = float(t or 0.0)
    with st.container(key="pl_player"):
        url = safe_url(ep.audio_url)
        if url:
            st.audio(url, format=audio_type(url), start_time=int(t0), autoplay=autoplay)
        else:
            st.warning("The feed gives no playable audio link for this episode.")
        now = None
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            readalong.now_label(ep, t0)  # time · chapter · speaker, following the audio
            now = live_time_button(
                "Where am I?",
                key="pl_whereami",
                help="Move the chapter list and the page's link to where you are listening",
            )
            with st.popover(":material/link: Link", help="Copy a link to where you are now"):
                readalong.live_link(ep, t0)
            for action in actions:
                action(ep, t0)
            readalong.player_controls(ep, t0)  # speed, keys, headphones, resume reports
    if now is not None and abs(now - t0) >= 1:
        set_moment(ep.id, now, autoplay=False)
        st.rerun()


# -- chapters -----------------------------------------------------------------------------------


def chapters(ep: Episode, t: float | None, *, actions: Sequence[ChapterAction] = ()) -> None:
    """Clickable chapter list (sets the player time), the playing chapter marked, each with a
    copyable deep link and the page's ``actions`` (e.g. a chapter's demo).

    At most ``MAX_CHAPTER_ROWS`` rows of buttons, around the playing chapter: each row is
    several Streamlit elements, and a feed with thousands of chapters made the page take minutes.
    Past that, "All N chapters" lists every chapter as one HTML block of links (one element,
    fast at any length)."""
    current = chapter_index_at(ep.chapters, t) if t is not None else None
    if not ep.chapters:
        st.caption("The feed gives no chapters for this episode.")
        return
    lo, hi = chapter_window(len(ep.chapters), current, MAX_CHAPTER_ROWS)
    if lo > 0:
        st.caption(f"{lo:d} earlier chapters: see all {len(ep.chapters):d} below")
    for i in range(lo, hi):
        ch = ep.chapters[i]
        # Wraps: a chapter with a long title and two demos would clip its last demo link.
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            _jump_button(
                f"{fmt_time(ch.start)}  {ch.title}",
                ep.id,
                ch.start,
                f"pl_ch_{i}",
                icon=None,
                help=f"Play from {fmt_time(ch.start)}",
                kind="primary" if i == current else "tertiary",
            )
            st.markdown(
                md_app_link(share_link(ep.id, ch.start), icon=":material/link:"), width="content"
            )
            for action in actions:
                action(ep, ch, i)
    if hi - lo < len(ep.chapters):
        with st.expander(f"All {len(ep.chapters):d} chapters", icon=":material/list:"):
            st.html(chapter_list_html(ep, current, lambda s: share_link(ep.id, s)))


# -- episode header, notes, writings ------------------------------------------------------------


def episode_meta_line(
    podcast: str | None,
    published: str | None,
    duration: float | None,
    chapters: int | None,
    estimated: bool = False,
) -> str:
    bits = []
    if podcast:
        bits.append(md_text(podcast))
    if published:
        bits.append(md_text(fmt_date(published)))
    if duration:
        bits.append(("≈ " if estimated else "") + fmt_duration(duration))
    if chapters:
        bits.append(f"{chapters:d} chapters")
    return " · ".join(bits)


def show_notes(ep: Episode) -> None:
    if ep.show_notes.strip():
        st.markdown(notes_markdown(ep.show_notes))
    else:
        st.caption("The feed has no show notes for this episode.")
    if ep.transcript_url and safe_url(ep.transcript_url):
        st.markdown("Transcript: " + md_link(ep.transcript_url, ep.transcript_url))


_WORK_KINDS = {"arxiv": "arXiv paper", "article": "Article", "post": "Post"}
MAX_CHIPS = 12


def writings(ep: Episode) -> None:
    """The "Writings we discuss" panel: each referenced work with title, authors, abstract and
    link, and "mentioned at" chips that play the moments where it comes up.  A work that could
    not be fetched is a plain link with the reason (caption and tooltip); links that are not
    works (Twitter, GitHub...) are listed at the end."""
    works = [r for r in ep.references if r.kind != "link"]
    others = [r for r in ep.references if r.kind == "link"]
    if not works:
        st.caption("No referenced papers or articles were found for this episode.")
    else:
        fetched = sum(r.status == "ok" for r in works)
        st.caption(
            f"{len(works)} works discussed"
            + (f" · {fetched:d} fetched, their text searchable" if fetched else "")
        )
    for wi, ref in enumerate(works):
        with st.container(border=True, key=f"pl_work_{wi}"):
            kind = md_text(_WORK_KINDS.get(ref.kind, ref.kind))
            link = md_link(ref.title or ref.url, ref.url)
            if ref.status == "failed":
                reason = ref.error or "unknown reason"
                st.markdown(
                    f":gray-badge[{kind}] {link}",
                    help=f"Couldn't fetch this work: {md_text(reason)}",
                )
                st.caption(f":material/link_off: Couldn't fetch ({md_text(reason)}): a plain link.")
            else:
                st.markdown(f":violet-badge[{kind}] **{link}**")
            meta = []
            if ref.authors:
                shown = ", ".join(ref.authors[:6]) + (" et al." if len(ref.authors) > 6 else "")
                meta.append(md_text(shown))
            if ref.published:
                meta.append(md_text(fmt_date(ref.published)))
            if ref.status == "ok" and ref.error:  # e.g. metadata but no full text
                meta.append(md_text(ref.error))
            if meta:
                st.caption(" · ".join(meta))
            if ref.abstract:
                with st.expander("Abstract"):
                    st.markdown(md_text(ref.abstract))
            _mention_chips(ep, ref, wi)
    if others:
        with st.expander(f"Other links ({len(others)})"):
            st.markdown("\n".join(f"- {md_link(r.title or r.url, r.url)}" for r in others))


def _mention_chips(ep: Episode, ref: Any, wi: int) -> None:
    """The "mentioned at 1:24:43, 1:59:42" chips: buttons that play from there."""
    first: dict[int, str] = {}
    for m in ref.mentions:
        if m.start is not None:
            first.setdefault(round(m.start), m.chapter or "")
    if not first:
        return
    times = sorted(first)
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption("mentioned at", width="content")
        for s in times[:MAX_CHIPS]:
            where = f" · {first[s]}" if first[s] else ""
            _jump_button(
                fmt_time(s),
                ep.id,
                float(s),
                f"pl_ref_{wi}_{s}",
                icon=None,
                help=f"Play from {fmt_time(s)}{where}",
            )
        if len(times) > MAX_CHIPS:
            st.caption(f"+{len(times) - MAX_CHIPS} more", width="content")


# -- search results -----------------------------------------------------------------------------


NO_CLOCK = "no clock: the feed gives no times for this episode"
# A result offers "Play the answer" when its answering sentence is said at least this long after
# the result's start (closer, "Play from here" is as good).
ANSWER_JUMP_S = 10.0


def result_text_html(r: Any, terms: list[str]) -> str:
    """A result's text as the listener reads it: one paragraph per speaker turn, the name first,
    the answering sentence (``r.answer``) emphasised, query terms marked.  Paper passages and
    results without turns are their plain marked text."""
    turns = getattr(r, "turns", None) or []
    if r.kind == "paper" or not turns:
        return highlight_html(r.text, terms)
    answer = getattr(r, "answer", None) or ""
    out, marked = [], False
    for t in turns:
        at = t.text.find(answer) if answer and not marked else -1
        if at >= 0:
            marked = True
            body = (
                highlight_html(t.text[:at], terms)
                + '<span class="pl-answer" data-pl-answer="1">'
                + highlight_html(answer, terms)
                + "</span>"
                + highlight_html(t.text[at + len(answer) :], terms)
            )
        else:
            body = highlight_html(t.text, terms)
        out.append(f'<p><span class="pl-speaker">{esc(t.speaker)}:</span>{body}</p>')
    return "".join(out)


def result_card(
    r: Any,
    terms: list[str],
    idx: int,
    *,
    q: str | None = None,
    actions: Sequence[ResultAction] = (),
) -> None:
    """One search hit: where it is (time · speaker · chapter), the passage with the question's
    words marked, Play from here (and Play the answer when the emphasised sentence comes later),
    open in the episode, a copyable link, the page's ``actions`` (e.g. Snip). Paper passages are
    labelled as such and link to the paper."""
    with st.container(border=True, key=f"pl_result_{idx}"):
        if r.kind == "paper":
            title = md_link(r.title or r.url, r.url)
            st.markdown(f":violet-badge[:material/description: Paper] **{title}**")
            if r.chapter:
                st.caption(md_text(r.chapter))
        else:
            bits = [f"**{fmt_time(r.start)}**"]
            if r.speaker:
                bits.append(md_text(r.speaker))
            if r.chapter:
                bits.append(md_text(r.chapter))
            st.markdown(":blue-badge[:material/graphic_eq: Episode] " + " · ".join(bits))
        st.html(f'<div class="pl-passage">{result_text_html(r, terms)}</div>')
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            if r.start is not None:
                _jump_button("Play from here", r.episode, r.start, f"pl_play_{idx}", kind="primary")
                at = r.answer_start
                if at is not None and at - r.start >= ANSWER_JUMP_S:
                    _jump_button(
                        f"Play the answer ({fmt_time(at)})",
                        r.episode,
                        at,
                        f"pl_answer_{idx}",
                        icon=":material/fast_forward:",
                        help="Play from the emphasised sentence",
                    )
                st.page_link(
                    EPISODE_PAGE,
                    label="Open in episode",
                    icon=":material/open_in_new:",
                    query_params={"episode": r.episode, "t": str(int(r.start))},
                )
                link_popover(share_link(r.episode, r.start, q))
            elif r.kind == "paper":
                t = _first_mention(r.episode, r.url)
                if t is None:
                    st.caption("Not mentioned at a known time in the episode.")
                else:
                    _jump_button(
                        f"Where the episode discusses it ({fmt_time(t)})",
                        r.episode,
                        t,
                        f"pl_play_{idx}",
                        help="Play the episode from where this work is first mentioned",
                    )
            else:  # a transcript passage of an episode with no clock
                st.caption(
                    f":material/timer_off: {NO_CLOCK}",
                    help="The feed gives no timed transcript, chapters or duration for this "
                    "episode, so its words are searchable but there is no moment to play.",
                )
            for action in actions:
                action(r)


def _first_mention(episode_id: str, url: str | None) -> float | None:
    """When ``episode_id`` first mentions the work at ``url`` (seconds), if it does."""
    from ui import resources

    ep = resources.episode(episode_id) if url else None
    ref = next((x for x in (ep.references if ep else []) if x.url == url), None)
    starts = [m.start for m in (ref.mentions if ref else []) if m.start is not None]
    return min(starts) if starts else None


# -- library ------------------------------------------------------------------------------------


def blurb(text: str, limit: int = 260) -> str:
    """The first paragraph of show notes, cut at a word near ``limit`` characters."""
    first = next((p.strip() for p in (text or "").split("\n") if len(p.strip()) > 40), "")
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def library(items: list[EpisodeSummary], notes: dict[str, str] | None = None) -> None:
    """Episode cards: title (opens the episode), podcast · date · duration · chapters, blurb."""
    for s in items:
        with st.container(border=True, key=f"pl_ep_{s.id}"):
            st.page_link(
                EPISODE_PAGE,
                label=f"**{md_text(s.title)}**",
                icon=":material/play_circle:",
                query_params={"episode": s.id},
            )
            st.caption(episode_meta_line(s.podcast, s.published, s.duration, s.chapters))
            text = blurb((notes or {}).get(s.id, ""))
            if text:
                st.markdown(md_text(text))


# -- home ---------------------------------------------------------------------------------------

# Chapter titles that are not topics to ask about.
_NOT_TOPICS = ("intro", "outro", "following", "wrap", "closing", "sponsor", "ad break")


def suggested_questions(items: list[EpisodeSummary], n: int = 4) -> list[str]:
    """A few things to ask, drawn from the library's chapter titles (newest episodes first):
    real topics of the episodes, so each one finds a moment."""
    from ui import resources

    out: list[str] = []
    for s in items:
        ep = resources.episode(s.id)
        for ch in ep.chapters if ep else []:
            title = " ".join(ch.title.split())
            low = title.lower()
            if len(title) < 8 or any(low.startswith(w) for w in _NOT_TOPICS):
                continue
            if low not in (q.lower() for q in out):
                out.append(title)
    # Spread over the episode rather than its first few chapters.
    if len(out) > n:
        step = len(out) / n
        out = [out[int(i * step)] for i in range(n)]
    return out


def _ask(q: str) -> None:
    set_question(q)  # the question box picks it up from the URL (ui.state.sync_widget)


def home(items: list[EpisodeSummary]) -> None:
    """The front page under the question box: things to ask, "Continue listening", the
    library's episodes and the latest snips."""
    qs = suggested_questions(items)
    if qs:
        st.caption("Try asking about")
        with st.container(horizontal=True, gap="small", key="pl_suggested"):
            for i, q in enumerate(qs):
                st.button(
                    md_text(q), key=f"pl_suggest_{i}", on_click=_ask, args=(q,), type="secondary"
                )
    readalong.continue_listening()
    st.markdown("#### Your library")
    library(items[:3])
    if len(items) > 3:
        st.page_link("app_pages/library.py", label=f"All {len(items)} episodes")
    recent_snips()


def recent_snips(limit: int = 3) -> None:
    """The latest snips (newest first), each playing from its start."""
    from snips.store import SnipStore
    from ui import resources

    snips = sorted(
        SnipStore(resources.current_data_dir()).list(), key=lambda s: s.created, reverse=True
    )[:limit]
    if not snips:
        return
    st.markdown("#### Recent snips")
    for s in snips:
        with st.container(border=True, key=f"pl_recent_snip_{s.id}"):
            st.page_link(
                EPISODE_PAGE,
                label=f"**{md_text(s.title)}**",
                icon=":material/content_cut:",
                query_params={"episode": s.episode, "t": str(int(s.start))},
            )
            st.caption(
                f"{md_text(s.episode_title or s.episode)} · {fmt_time(s.start)}–{fmt_time(s.end)}"
            )
    st.page_link("app_pages/snips.py", label="All snips", icon=":material/content_cut:")
