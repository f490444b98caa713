"""The library's widgets: shows and episodes with their clock, adding many episodes at once (a
feed URL, an OPML file, an AXRP range) with live progress, the search page's show/date filter,
and the episode page's clock notice with "Align to the audio".  Pages call these functions; the
work is :func:`library.feeds.ingest_feeds` and :func:`library.pipeline.align_stored`."""

from __future__ import annotations

import tempfile
import warnings
from collections import defaultdict
from dataclasses import asdict
from datetime import date
from pathlib import Path

import streamlit as st

from index.store import EpisodeSummary
from podlens.errors import PodlensError
from podlens.jobs import BackgroundRun
from podlens.models import Episode
from ui.jobs import job, start_job
from ui.render import md_text

# How each clock is named to the listener (podlens.models.CLOCKS), with why it matters.
CLOCK_LABELS = {
    "transcript": ("timed transcript", "green", "times written by the podcast's transcript"),
    "audio": ("aligned to audio", "green", "times measured on the audio"),
    "chapters": ("chapters", "blue", "placed between the feed's chapter times"),
    "approximate": ("approximate", "orange", "spread over the duration: times are estimates"),
    "none": ("no clock", "gray", "no times in the feed: searchable, no jump"),
}
NO_CLOCK_WHY = (
    "no clock: the feed gives this episode no timed transcript, chapters or duration, so its "
    "words are searchable but there is no moment to jump to"
)


MACHINE_NOTE = (
    ":material/hearing: machine transcript: the feed has no transcript, so this one was heard "
    "on this machine (Whisper); it names no speakers and may mishear names and terms"
)


def clock_badge(clock: str) -> str:
    label, color, _ = CLOCK_LABELS.get(clock, CLOCK_LABELS["none"])
    return f":{color}-badge[:material/schedule: {label}]"


def clock_notice(ep: Episode) -> None:
    """On the episode page: say when its times are estimates, or that it has none."""
    if ep.clock == "none":
        st.info(NO_CLOCK_WHY, icon=":material/timer_off:")
    elif ep.clock == "approximate":
        st.caption(
            ":material/schedule: approximate times: the feed gives only the episode's length, "
            "so turns are spread evenly over it"
        )


def clock_line(ep: Episode) -> None:
    """One line under the episode's title: where its times come from, and for an episode whose
    times are estimated but whose audio is at hand, **Align to the audio** (it runs in the
    background; the page stays usable and redraws on the new clock when it is done)."""
    if ep.machine_transcript:
        st.caption(MACHINE_NOTE)
    elif ep.clock == "audio":
        st.caption(
            ":material/graphic_eq: aligned to the audio: every sentence starts where it is heard"
        )
    elif align_run(ep.id) is not None:
        _align_progress(ep.id)
    elif ep.audio_url and st.button(
        "Align to the audio",
        icon=":material/graphic_eq:",
        type="tertiary",
        key="pl_align",
        help="Times are estimated from the text; hearing the audio places every sentence to "
        "the second (minutes; the episode stays searchable meanwhile).",
    ):
        from ui import resources

        start_align(ep.id, str(resources.current_data_dir()))
        st.rerun()


# What the aligner reports, as the listener reads it (library.pipeline.align_stored's stages).
ALIGN_STAGES = {
    "audio": "Downloading the audio",
    "hear": "Listening to the audio",
    "align-audio": "Placing every word",
    "force": "Timing every word to the hundredth of a second",
    "papers": "Re-timing the papers' mentions",
    "chunk": "Updating the search index",
    "embed": "Updating the search index",
    "store": "Saving",
}


def align_run(episode_id: str) -> BackgroundRun | None:
    """This server's alignment of ``episode_id``, running or finished, if one was started."""
    return job(f"align:{episode_id}")


def start_align(episode_id: str, data_dir: str) -> BackgroundRun:
    """Align ``episode_id`` to its enclosure in a background thread (one per episode)."""
    from library.pipeline import align_stored

    def work(on_record, stop):  # type: ignore[no-untyped-def]
        def progress(stage: str, fraction: float) -> None:
            on_record({"stage": stage, "fraction": fraction})

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ep = align_stored(episode_id, data_dir=data_dir, progress=progress)
        return ep.clock, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]

    return start_job(f"align:{episode_id}", work)


@st.fragment(run_every=1.0)
def _align_progress(episode_id: str) -> None:
    """The running alignment's progress, redrawn every second without rerunning the page; when
    it ends the page reruns once and shows the episode on its new clock."""
    run = align_run(episode_id)
    if run is None:
        return
    if not run.done:
        last = run.records[-1] if run.records else {"stage": "audio", "fraction": 0.0}
        st.progress(
            min(1.0, max(0.0, float(last["fraction"]))),
            text=f"Aligning to the audio: {ALIGN_STAGES.get(last['stage'], 'aligning')} "
            "(the episode stays searchable on its estimated times meanwhile)",
        )
        return
    if run.error is not None:
        st.error(f"Could not align to the audio: {md_text(str(run.error))}")
        return
    clock, notes = run.result
    if clock != "audio":
        st.warning(md_text(" ".join(notes) or "The audio did not match the transcript."))
        return
    if st.session_state.get("pl_aligned_seen") != (episode_id, id(run)):
        st.session_state["pl_aligned_seen"] = (episode_id, id(run))
        st.rerun(scope="app")  # the page redraws on the new clock


def shows_overview(items: list[EpisodeSummary]) -> None:
    """Each show with its episodes: number of episodes, and each episode's clock."""
    shows: dict[str, list[EpisodeSummary]] = defaultdict(list)
    for s in items:
        shows[s.podcast or "Podcast"].append(s)
    for show, eps in sorted(shows.items()):
        with st.expander(f"{md_text(show)} · {len(eps)} episode{'s' if len(eps) != 1 else ''}"):
            for s in eps:
                when = (s.published or "")[:10]
                st.markdown(
                    f"{clock_badge(s.clock)} {md_text(s.title)}"
                    + (f" · {md_text(when)}" if when else "")
                    + (" · :gray[machine transcript]" if s.machine_transcript else ""),
                    help=CLOCK_LABELS.get(s.clock, CLOCK_LABELS["none"])[2],
                )


def search_filter(items: list[EpisodeSummary]) -> set[str] | None:
    """Show and date filters for search: the episode ids they allow, or None for all."""
    shows = sorted({s.podcast or "Podcast" for s in items})
    dates = sorted(d for s in items if (d := _day(s.published)))
    if len(shows) < 2 and len(set(dates)) < 2:
        return None
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        show = None
        if len(shows) > 1:
            show = st.selectbox(
                "Show", ["All shows", *shows], key="pl_show_filter", label_visibility="collapsed"
            )
            show = None if show == "All shows" else show
        span = None
        if len(set(dates)) > 1:
            span = st.date_input(
                "Published between",
                value=(dates[0], dates[-1]),
                min_value=dates[0],
                max_value=dates[-1],
                key="pl_date_filter",
            )
    allowed = set()
    for s in items:
        if show and (s.podcast or "Podcast") != show:
            continue
        d = _day(s.published)
        if isinstance(span, tuple) and len(span) == 2 and d and not span[0] <= d <= span[1]:
            continue
        allowed.add(s.id)
    return None if len(allowed) == len(items) else allowed


def _day(published: str | None) -> date | None:
    try:
        return date.fromisoformat((published or "")[:10])
    except ValueError:
        return None


def add_to_library() -> None:
    """Add many episodes: a feed URL (every item), an OPML file, or an AXRP episode range.  The
    work runs in the background (it takes minutes, hours with transcribing); its progress is
    drawn here, and the listener may use the rest of the app meanwhile."""
    run = job("library")
    if run is not None and not run.done:
        _library_progress()
        return
    if run is not None:
        _library_summary(run)
    transcribe = st.checkbox(
        "Transcribe episodes that have no transcript",
        key="pl_add_transcribe",
        help="Hears the audio on this machine (Whisper tiny.en): a few minutes per hour of "
        "audio. Without it, such episodes are skipped and say so.",
    )
    feed_tab, opml_tab, axrp_tab = st.tabs(["Feed URL", "OPML file", "AXRP episodes"])
    with feed_tab, st.form("pl_add_feed", border=False):
        url = st.text_input("Feed URL", placeholder="https://example.com/feed.xml")
        if st.form_submit_button("Add every episode", icon=":material/playlist_add:"):
            if url.strip():
                _start_adding([url.strip()], None, f"Adding {url.strip()}", transcribe)
            else:
                st.warning("Enter a feed URL.")
    with opml_tab, st.form("pl_add_opml", border=False):
        up = st.file_uploader("Subscriptions (OPML)", type=["opml", "xml"])
        if st.form_submit_button("Add every feed", icon=":material/playlist_add:"):
            if up is None:
                st.warning("Choose an OPML file exported from your podcast app.")
            else:
                _add_opml(up.getvalue(), transcribe)
    with axrp_tab, st.form("pl_add_axrp", border=False):
        lo, hi = st.columns(2)
        first = lo.number_input("From episode", min_value=1, value=1, step=1)
        last = hi.number_input("To episode", min_value=1, value=50, step=1)
        if st.form_submit_button("Add these episodes", icon=":material/playlist_add:"):
            if first > last:
                st.warning("The first episode number is larger than the last.")
            else:
                from ingest.pipeline import axrp_feed_url

                numbers = (float(first), float(last))
                _start_adding([axrp_feed_url()], numbers, f"AXRP {first}–{last}", transcribe)


def _add_opml(data: bytes, transcribe: bool) -> None:
    from library.feeds import feeds_from_opml

    with tempfile.NamedTemporaryFile(suffix=".opml", delete=False) as f:
        f.write(data)
    try:
        feeds = feeds_from_opml(f.name)
    except PodlensError as e:
        st.error(md_text(str(e)))
        return
    finally:
        Path(f.name).unlink(missing_ok=True)
    label = f"Adding {len(feeds)} feed{'s' if len(feeds) != 1 else ''}"
    _start_adding(feeds, None, label, transcribe)


def _start_adding(
    feeds: list[str], numbers: tuple[float, float] | None, label: str, transcribe: bool
) -> None:
    """Start :func:`library.feeds.ingest_feeds` in the background; each item it finishes is a
    record ``{done, total, title, status, reason}`` the progress fragment draws."""
    from library.feeds import ingest_feeds
    from podlens.config import data_dir

    target = data_dir()

    def work(on_record, stop):  # type: ignore[no-untyped-def]
        def on_item(done: int, total: int, r) -> None:  # type: ignore[no-untyped-def]
            on_record({"done": done, "total": total, **asdict(r)})

        report = ingest_feeds(
            feeds,
            data_dir=target,
            numbers=numbers,
            bar=False,
            on_item=on_item,
            transcribe=transcribe,
        )
        return label, report

    start_job("library", work)
    st.session_state["pl_library_label"] = label
    st.rerun()


@st.fragment(run_every=1.0)
def _library_progress() -> None:
    """The running library job, redrawn every second; the page reruns once when it ends (the
    episodes it added then show up: the app's caches follow the index's generation)."""
    run = job("library")
    if run is None:
        return
    if run.done:
        st.rerun(scope="app")
    last = run.records[-1] if run.records else None
    label = st.session_state.get("pl_library_label", "Adding episodes")
    with st.status(f"{md_text(label)}…", expanded=True, state="running"):
        if last is None:
            st.progress(0.0, text="Reading the feed…")
        else:
            st.progress(
                last["done"] / max(1, last["total"]),
                text=f"{last['done']:d}/{last['total']:d}: {md_text(last['title'][:60])}",
            )
        for r in run.records[-8:]:
            st.write(f"**{md_text(r['status'])}** {md_text(r['title'])}: {md_text(r['reason'])}")
        st.caption("You can keep using Podlens; episodes are searchable as soon as they land.")


def _library_summary(run: BackgroundRun) -> None:
    """What the last library job did: added / unchanged / skipped, each item with its reason."""
    if run.error is not None:
        st.error(f"Adding episodes failed: {md_text(str(run.error))}")
        return
    label, report = run.result
    n_in, n_same, n_skip = (report.count(x) for x in ("ingested", "unchanged", "skipped"))
    state = "error" if n_skip and not (n_in or n_same) else "complete"
    with st.status(
        f"{md_text(label)}: {n_in:d} added, {n_same:d} unchanged, {n_skip:d} skipped",
        state=state,
        expanded=bool(n_skip),
    ):
        for r in report.items:
            st.write(f"**{md_text(r.status)}** {md_text(r.title)}: {md_text(r.reason)}")
