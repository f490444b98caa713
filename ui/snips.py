"""Streamlit pieces for snips: the player's Snip button, snip cards, exports, Best moments.

Layout only: the work is done by the pure ``snips`` package.  The pages pass these to the
components that draw them (``player(..., actions=[snip_button])``, ``result_card(...,
actions=[result_snip_button])``) or call them (``best_moments_panel``); the library is
``app_pages/snips.py``.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from podlens.errors import PodlensError
from podlens.models import Episode
from podlens.timecode import fmt_time
from snips.export import FORMATS, export_file, notion_settings, push_notion
from snips.share import share_links
from snips.store import Snip, SnipStore
from snips.window import DEFAULT_AFTER, DEFAULT_BEFORE, split_speaker
from ui import player_time, resources
from ui.render import md_text
from ui.state import app_base_url, set_moment

SNIPS_PAGE = "app_pages/snips.py"
EPISODE_PAGE = "app_pages/episode.py"
LAST_SNIP = "pl_last_snip"
SNIP_SHORTCUT = "s"


def snip_store() -> SnipStore:
    return SnipStore(resources.current_data_dir())


@st.cache_resource(show_spinner="Loading the snip model…")
def _provider():  # -> snips.ai.Provider
    from snips.ai import provider_from_env

    return provider_from_env(resources.embedder())


def _base_url() -> str | None:
    return app_base_url().rstrip("/") or None


def _save_snip(
    ep: Episode, at: float, before: float, after: float, note: str, tags: str
) -> Snip | None:
    """Cut, summarise and store the window ``[at - before, at + after]``; toast its title with a
    link to the library. Returns the stored snip (``None`` after showing an error)."""
    from snips.capture import create_snip

    try:
        with st.spinner("Writing the title and key takeaways…"):
            snip = create_snip(
                ep,
                at,
                before,
                after,
                provider=_provider(),
                note=note,
                tags=_tags(tags),
            )
            snip = snip_store().save(snip)
    except PodlensError as e:
        st.error(md_text(str(e)))
        return None
    _remember(snip)
    return snip


def _remember(snip: Snip) -> None:
    st.session_state[LAST_SNIP] = snip.id
    st.toast(
        f"Snipped **{md_text(snip.title)}** ({fmt_time(snip.start)}–{fmt_time(snip.end)}) · "
        "[Open in Snips](snips)",
        icon=":material/content_cut:",
        duration="long",
    )


def _last_snip(episode_id: str) -> Snip | None:
    """The snip this session made last, if it is of ``episode_id`` and still stored."""
    last = st.session_state.get(LAST_SNIP)
    if not last:
        return None
    try:
        s = snip_store().get(last)
    except PodlensError:
        return None
    return s if s.episode == episode_id else None


def _tags(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


# Where each snip made in this session was tapped, and the window asked for:
# ``{snip id: (at, before, after)}`` -- what the Adjust popover starts from for that snip.
SNIP_TAPS = "pl_snip_taps"


def _note_tap(snip: Snip, at: float, before: float, after: float) -> None:
    st.session_state.setdefault(SNIP_TAPS, {})[snip.id] = (
        float(round(at)),
        int(before),
        int(after),
    )


def _tap_of(snip: Snip | None, t0: float) -> tuple[float, int, int]:
    """What the Adjust fields start from: the snip's tap (or its end when it was made in
    another session), else the player's position (``t0``) with the default window."""
    if snip is None:
        return float(round(t0)), int(DEFAULT_BEFORE), int(DEFAULT_AFTER)
    tap = st.session_state.get(SNIP_TAPS, {}).get(snip.id)
    return tap if tap else (float(round(snip.end)), int(DEFAULT_BEFORE), int(DEFAULT_AFTER))


def snip_button(episode: Episode, t: float | None = None) -> None:
    """The player's snip controls (a ``player`` action).

    **Snip** (or the ``S`` key) is one tap, like a headphone tap: it reads the player's *live*
    position in the browser and saves the minute that ends there at once. **Adjust** moves or
    widens the last snip's window (or saves a new one), with a note and tags."""
    t0 = float(t or 0.0)
    key = f"snip_{episode.id}"
    at = player_time.live_time_button(
        "Snip",
        key="pl_snip",
        help=f"Save the last {int(DEFAULT_BEFORE)} s you heard with AI key takeaways "
        f"(shortcut: {SNIP_SHORTCUT.upper()})",
        shortcut=SNIP_SHORTCUT,
        icon="cut",
        primary=True,
        fallback=t0,
    )
    if at is not None:
        snip = _save_snip(episode, at, DEFAULT_BEFORE, DEFAULT_AFTER, "", "")
        if snip is not None:
            _note_tap(snip, at, DEFAULT_BEFORE, DEFAULT_AFTER)
    _adjust_popover(episode, t0, key)


def _episode_end(episode: Episode) -> float | None:
    """The latest a snip can end: the episode's duration, when the feed gives a sane one."""
    d = episode.duration
    return float(d) if d and math.isfinite(d) and d > 0 else None


def _adjust_popover(episode: Episode, t0: float, key: str) -> None:
    """Move or widen the last snip, or save a new one.

    The window fields are keyed by the snip they adjust (``snip_<ep>_at_<snip id>``; no snip
    yet: ``snip_<ep>_at``) and start from ``value=`` -- never from writes to their session
    state. A widget whose state is set from code only tells the browser so in the run that
    sets it; if any other run comes between (the page is busy, the popover's widgets mount
    later), the browser mounts the field at its element default and sends that back: the
    "Ends at 0" race. A fresh key per snip makes the element default *be* the tap."""
    with st.popover(":material/tune: Adjust", help="Move or widen the snip, add a note or tags"):
        head = st.container()  # filled last, so it shows a snip the buttons below just saved
        last = _last_snip(episode.id)
        at0, before0, after0 = _tap_of(last, t0)
        suffix = f"_{last.id}" if last is not None else ""
        # Bounded like the CLI's --at (snips.window refuses the rest, NaN included).
        end = _episode_end(episode)
        at = st.number_input(
            "Ends at (seconds)",
            value=min(at0, end) if end is not None else at0,
            min_value=0.0,
            max_value=end,
            step=5.0,
            format="%.0f",
            key=f"{key}_at{suffix}",
            help="The moment of the tap: by default the snip is the minute before it",
        )
        before = st.slider("Seconds before", 10, 180, before0, step=5, key=f"{key}_before{suffix}")
        after = st.slider("Seconds after", 0, 60, after0, step=5, key=f"{key}_after{suffix}")
        st.caption(
            f"Window {fmt_time(max(0.0, at - before))}–{fmt_time(at + after)}, "
            "snapped to whole sentences"
        )
        note = st.text_input("Note", key=f"{key}_note")
        tags = st.text_input("Tags", placeholder="optimizers, grokking", key=f"{key}_tags")
        with st.container(horizontal=True, gap="small"):
            if last is not None and st.button(
                "Update this snip",
                type="primary",
                key=f"{key}_update",
                help="Replace the snip above by this window (keeps its note, tags and star)",
            ):
                moved = _move_snip(episode, last, at - before, at + after, note, tags)
                if moved is not None:
                    _note_tap(moved, at, before, after)
            if st.button(
                "Save as new snip" if last is not None else "Save snip",
                type="secondary" if last is not None else "primary",
                key=f"{key}_save",
            ):
                saved = _save_snip(episode, at, float(before), float(after), note, tags)
                if saved is not None:
                    _note_tap(saved, at, before, after)
        shown = _last_snip(episode.id)
        if shown is not None:
            with head:
                st.markdown(f"**{md_text(shown.title)}**")
                st.caption(
                    f"{fmt_time(shown.start)}–{fmt_time(shown.end)}"
                    + (f" · {md_text(shown.speaker)}" if shown.speaker else "")
                )
                if shown.takeaways:
                    st.markdown("\n".join(f"- {md_text(x)}" for x in shown.takeaways))
                st.page_link(SNIPS_PAGE, label="Open in Snips", icon=":material/content_cut:")
                st.divider()


def _move_snip(
    ep: Episode, old: Snip, start: float, end: float, note: str, tags: str
) -> Snip | None:
    from snips.capture import resnip

    try:
        with st.spinner("Rewriting the title and key takeaways…"):
            new = resnip(ep, old, max(0.0, start), end, provider=_provider())
            if note.strip():
                new.note = note
            new.tags = [*new.tags, *_tags(tags)]
            new = snip_store().move(old.id, new)
    except PodlensError as e:
        st.error(md_text(str(e)))
        return None
    _remember(new)
    return new


def result_snip_button(result: Any) -> None:
    """Snip a search result's passage (transcript results only)."""
    if getattr(result, "kind", "") != "transcript" or result.start is None:
        return
    if st.button(":material/content_cut: Snip", key=f"snip_r_{result.episode}_{result.start}"):
        ep = resources.episode(result.episode)
        if ep is None:
            st.error(f"episode {md_text(result.episode)} is not in the library")
            return
        end = float(result.end or result.start + 60)
        _save_snip(ep, end, max(10.0, end - float(result.start)), 0.0, "", "")


def snip_card(s: Snip, key: str) -> None:
    """One snip in the library: title, quote, takeaways, note; play, edit, share, delete."""
    store = snip_store()
    with st.container(border=True, key=f"snip_card_{key}"):
        star = "★ " if s.favourite else ""
        st.markdown(f"#### {star}{md_text(s.title)}")
        st.caption(
            f"{md_text(s.episode_title or s.episode)} · {fmt_time(s.start)}–{fmt_time(s.end)}"
            + (f" · {md_text(s.chapter)}" if s.chapter else "")
        )
        # One paragraph a speaker turn (consecutive "> " lines would run into one paragraph).
        st.markdown("\n>\n".join(f"> {_quote_line(line)}" for line in s.quote.splitlines() if line))
        if s.speaker and not split_speaker(s.quote.strip())[0]:  # else each turn names it
            st.caption(f"— {md_text(s.speaker)}")
        if s.takeaways:
            st.markdown("\n".join(f"- {md_text(t)}" for t in s.takeaways))
        if s.note:
            st.markdown(f"**Note:** {md_text(s.note)}")
        if s.tags:
            st.caption(" ".join(f"#{md_text(t)}" for t in s.tags))
        with st.container(horizontal=True, gap="small"):
            if st.button(":material/play_arrow: Play", key=f"play_{key}"):
                set_moment(s.episode, s.start)
                st.switch_page(
                    EPISODE_PAGE, query_params={"episode": s.episode, "t": str(int(s.start))}
                )
            fav_label = (
                ":material/star: Unfavourite" if s.favourite else ":material/star: Favourite"
            )
            if st.button(fav_label, key=f"fav_{key}"):
                store.update(s.id, favourite=not s.favourite)
                st.rerun()
            with st.popover(":material/share: Share"):
                links = share_links(s, _base_url())
                st.link_button("Post on X", links["x"] or "")
                st.link_button("Send on WhatsApp", links["whatsapp"] or "")
                st.code(links["deep_link"], language=None, wrap_lines=True)
                if links["audio"]:
                    st.code(links["audio"], language=None, wrap_lines=True)
            with st.popover(":material/edit: Edit"):
                title = st.text_input("Title", s.title, key=f"title_{key}")
                note = st.text_area("Note", s.note, key=f"note_{key}")
                tags = st.text_input("Tags", ", ".join(s.tags), key=f"tags_{key}")
                if st.button("Save", key=f"save_{key}", type="primary"):
                    store.update(
                        s.id,
                        title=title.strip() or s.title,
                        note=note,
                        tags=[t for t in tags.replace(",", " ").split() if t],
                    )
                    st.rerun()
            if st.button(":material/delete: Delete", key=f"del_{key}"):
                store.delete(s.id)
                st.rerun()


def _quote_line(line: str) -> str:
    """A quote line as Markdown, its "Speaker: " prefix (multi-speaker quotes) in bold."""
    speaker, words = split_speaker(line)
    return f"**{md_text(speaker)}:** {md_text(words)}" if speaker else md_text(line)


def export_downloads(snips: list[Snip]) -> None:
    """A download button per export format, and the Notion push when configured."""
    if not snips:
        st.caption("Nothing to export yet.")
        return
    base = _base_url()
    with st.container(horizontal=True, gap="small"):
        for name, fmt in FORMATS.items():
            file = export_file(name, snips, base)
            st.download_button(
                md_text(fmt.label), file.data, file.name, file.mime, icon=":material/download:"
            )
    settings = notion_settings()
    if settings and st.button("Push to Notion", icon=":material/cloud_upload:"):
        try:
            with st.spinner("Pushing to Notion…"):
                pages = push_notion(
                    snips, settings[0], settings[1], resources.current_data_dir(), base
                )
            st.success(f"Pushed {len(pages)} page(s) to Notion.")
        except PodlensError as e:
            st.error(md_text(str(e)))


@st.cache_data(show_spinner="Finding the best moments…", max_entries=16)
def _best_moments(episode_id: str, n: int, gen: int) -> list[dict[str, Any]]:
    from snips.highlights import best_moments

    ep = resources.episode(episode_id)
    return [m.to_dict() for m in best_moments(ep, n)] if ep else []


def best_moments_panel(episode: Episode, t: float | None = None, n: int = 5) -> None:
    """ "Best moments": the episode's most snippable minutes, played one after another."""
    moments = _best_moments(episode.id, n, resources.generation())
    if not moments:
        return
    qkey = f"pl_best_{episode.id}"
    with st.expander("Best moments", icon=":material/auto_awesome:", expanded=False):
        pos = st.session_state.get(qkey)
        with st.container(horizontal=True, gap="small"):
            if st.button("Play best moments", icon=":material/playlist_play:", key=f"{qkey}_all"):
                st.session_state[qkey] = 0
                set_moment(episode.id, moments[0]["start"])
                st.rerun()
            has_next = pos is not None and pos + 1 < len(moments)
            if has_next and st.button(
                "Next moment", icon=":material/skip_next:", key=f"{qkey}_next"
            ):
                st.session_state[qkey] = pos + 1
                set_moment(episode.id, moments[pos + 1]["start"])
                st.rerun()
        for i, m in enumerate(moments):
            now = " (playing)" if pos == i else ""
            st.markdown(
                f"**{fmt_time(m['start'])}–{fmt_time(m['end'])}** · {md_text(m['chapter'])}{now}"
            )
            st.caption(md_text(m["quote"][:280] + ("…" if len(m["quote"]) > 280 else "")))
            with st.container(horizontal=True, gap="small"):
                if st.button("Play", icon=":material/play_arrow:", key=f"{qkey}_p{i}"):
                    st.session_state[qkey] = i
                    set_moment(episode.id, m["start"])
                    st.rerun()
                if st.button("Snip", icon=":material/content_cut:", key=f"{qkey}_s{i}"):
                    _save_snip(episode, m["end"], m["end"] - m["start"], 0.0, "", "best-moment")
