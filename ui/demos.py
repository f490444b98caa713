"""Streamlit pieces shared by the demo pages; the logic lives in the pure ``demos/`` package.

Training runs are process-wide (``st.cache_resource``), one per configuration: a second visitor
asking for a configuration that is training watches the same run instead of starting another,
and a finished configuration is read from the cache on disk at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from demos import links
from demos.cache import BackgroundRun, config_hash
from podlens.errors import PodlensError
from podlens.links import fmt_time
from ui import resources


@st.cache_resource
def _runs() -> tuple[dict[str, BackgroundRun], threading.Lock]:
    return {}, threading.Lock()


def run_for(demo: str, cfg: Any) -> BackgroundRun | None:
    """The live or last run of ``cfg`` in this server process, if any."""
    runs, _ = _runs()
    return runs.get(f"{demo}/{config_hash(demo, cfg)}")


def start_run(demo: str, cfg: Any, fn: Callable[..., Any]) -> BackgroundRun:
    """Start ``fn(on_record=, stop=)`` for ``cfg`` unless a run of it is already going."""
    runs, lock = _runs()
    key = f"{demo}/{config_hash(demo, cfg)}"
    with lock:
        run = runs.get(key)
        if run is None or run.done:
            run = runs[key] = BackgroundRun(fn, name=demo)
    return run


def run_controls(run: BackgroundRun, total: int, step_key: str = "step") -> None:
    """Progress bar and a stop button for a live run."""
    last = run.records[-1][step_key] if run.records else 0
    st.progress(min(last / max(total, 1), 1.0), text=f"step {last:,} of {total:,}")
    if st.button("Stop", icon=":material/stop:", disabled=run.stopping, key=f"stop_{id(run)}"):
        run.stop()
        st.toast("Stopping after this step; the state is saved.")


def line_chart(records: list[dict[str, Any]], series: dict[str, str], *, y_title: str,
               log_y: bool = True, log_x: bool = True, height: int = 260) -> None:  # fmt: skip
    """Lines of ``series`` ({record key: label}) against step, log axes by default."""
    rows = [
        {"step": max(r["step"], 1), "series": label, "value": r[key]}
        for r in records
        for key, label in series.items()
        if r.get(key) is not None and (not log_y or r[key] > 0)
    ]
    if not rows:
        st.caption("Waiting for the first measurements…")
        return
    df = pd.DataFrame(rows)
    x = alt.X("step:Q", scale=alt.Scale(type="log" if log_x else "linear"), title="step")
    y = alt.Y("value:Q", scale=alt.Scale(type="log" if log_y else "linear"), title=y_title)
    chart = alt.Chart(df).mark_line().encode(x=x, y=y, color=alt.Color("series:N", title=None))
    st.altair_chart(chart.properties(height=height), use_container_width=True)


def heatmap(
    values: list[list[float]], title: str, *, row: str = "layer", col: str = "head"
) -> None:
    df = pd.DataFrame(
        [{row: i, col: j, "score": v} for i, vs in enumerate(values) for j, v in enumerate(vs)]
    )
    base = alt.Chart(df).encode(x=alt.X(f"{col}:O"), y=alt.Y(f"{row}:O"))
    rect = base.mark_rect().encode(
        color=alt.Color("score:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"))
    )
    text = base.mark_text().encode(text=alt.Text("score:Q", format=".2f"))
    st.altair_chart((rect + text).properties(title=title, height=140), use_container_width=True)


@st.cache_data(ttl=600, show_spinner=False)
def _moments(demo: str, episode_id: str, gen: int, data_dir: str) -> list[dict[str, Any]]:
    return links.moments_for_demo(demo, resources.searcher(), episode_id)


def episode_moments(demo: str, limit: int = 6) -> None:
    """Links to the moments of each ingested episode where this demo's idea is discussed."""
    try:
        if not resources.store().has_episodes():
            st.caption("Ingest an episode to see where this is discussed.")
            return
        gen, d = resources.generation(), str(resources.current_data_dir())
        shown = 0
        for ep in resources.episodes():
            for m in _moments(demo, ep.id, gen, d)[:limit]:
                where = f"{fmt_time(m['start'])} · {m['chapter'] or ''}"
                st.markdown(f"- [{ep.title} — {where}]({m['link']})")
                shown += 1
        if not shown:
            st.caption("No moment of the ingested episodes matches this demo closely enough.")
    except PodlensError as e:
        st.caption(str(e))


@st.cache_data(ttl=600, show_spinner=False)
def _chapter_demos(episode_id: str, gen: int, data_dir: str) -> list[list[str]]:
    ep = resources.episode(episode_id)
    if ep is None:
        return []
    return links.episode_chapter_demos(ep, resources.store(), resources.embedder())


def chapter_demo_button(episode: Any, chapter: Any, index: int) -> None:
    """``chapter_actions`` hook: "Run the demo" on the chapters that illustrate a demo."""
    picked = _chapter_demos(episode.id, resources.generation(), str(resources.current_data_dir()))
    for name in picked[index] if index < len(picked) else []:
        st.page_link(links.DEMOS[name]["page"], label=f"Demo: {links.DEMOS[name]['title']}",
                     icon=":material/science:", help="Run the demo")  # fmt: skip
