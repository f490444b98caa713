"""Streamlit pieces shared by the demo pages; the logic lives in the pure ``demos/`` package.

Training runs are process-wide (``st.cache_resource``), one per configuration: a second visitor
asking for a configuration that is training watches the same run instead of starting another,
and a finished configuration is read from the cache on disk at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from demos import links
from demos.cache import config_hash
from podlens.errors import PodlensError
from podlens.jobs import BackgroundRun
from podlens.timecode import fmt_time
from ui import resources
from ui.jobs import job, start_job
from ui.render import md_app_link, md_text

# Where each demo of ``demos.links.DEMOS`` lives in the app (``app.py`` lists these pages).
DEMO_PAGES = {
    "grokking": "app_pages/demo_grokking.py",
    "induction": "app_pages/demo_induction.py",
    "attention": "app_pages/demo_attention.py",
}


def _key(demo: str, cfg: Any) -> str:
    return f"{demo}/{config_hash(demo, cfg)}"


def run_for(demo: str, cfg: Any) -> BackgroundRun | None:
    """The live or last run of ``cfg`` in this server process, if any."""
    return job(_key(demo, cfg))


def start_run(demo: str, cfg: Any, fn: Callable[..., Any]) -> BackgroundRun:
    """Start ``fn(on_record=, stop=)`` for ``cfg`` unless a run of it is already going."""
    return start_job(_key(demo, cfg), fn, name=demo)


def run_controls(run: BackgroundRun, total: int, step_key: str = "step") -> None:
    """Progress bar and a stop button for a live run."""
    last = run.records[-1][step_key] if run.records else 0
    st.progress(min(last / max(total, 1), 1.0), text=f"step {last:,} of {total:,}")
    if st.button("Stop", icon=":material/stop:", disabled=run.stopping, key=f"stop_{id(run)}"):
        run.stop()
        st.toast("Stopping after this step; the state is saved.")


def _legend(columns: int = 2) -> alt.Legend:
    # Above the plot: a legend at the right squeezes the chart to nothing on a phone, one at
    # the bottom sits far below the axis title.
    return alt.Legend(
        orient="top", direction="horizontal", title=None, labelLimit=320, columns=columns
    )


def line_chart(
    records: list[dict[str, Any]],
    series: dict[str, str],
    *,
    y_title: str,
    log_y: bool = True,
    log_x: bool = True,
    height: int = 200,
    title: str | None = None,
    y_domain: tuple[float, float] | None = None,
    rules: dict[float, str] | None = None,
    steps: dict[int, str] | None = None,
) -> None:
    """Lines of ``series`` ({record key: label}) against step, log axes by default.

    Log axes are fitted to the data (not stretched to whole decades) so a loss between 2 and 5
    fills the plot. ``rules``: {y value: label} dashed reference lines (e.g. a threshold);
    ``steps``: {step: label} dashed vertical lines (e.g. "memorised").
    ``height`` is the plot's; Streamlit fits axes, legend and title into the chart's height, so
    room for them is added.
    """
    rows = [
        {"step": max(r["step"], 1) if log_x else r["step"], "series": label, "value": r[key]}
        for r in records
        for key, label in series.items()
        if r.get(key) is not None and (not log_y or r[key] > 0)
    ]
    if not rows:
        st.caption("Waiting for the first measurements…")
        return
    df = pd.DataFrame(rows)
    xs = alt.Scale(type="log", nice=False) if log_x else alt.Scale(type="linear", nice=False)
    if log_y:
        ys = alt.Scale(type="log", nice=False, padding=6)
    else:
        ys = alt.Scale(type="linear", domain=list(y_domain)) if y_domain else alt.Scale()
    x = alt.X(
        "step:Q",
        scale=xs,
        title="step" + (" (log scale)" if log_x else ""),
        axis=alt.Axis(format="~s"),
    )
    y = alt.Y(
        "value:Q",
        scale=ys,
        title=y_title + (" (log scale)" if log_y else ""),
        axis=alt.Axis(format="~g" if log_y else ",~r"),
    )
    order = list(series.values())
    cols = 1 if max(map(len, order)) > 20 else 2
    legend = _legend(cols) if len(series) > 1 else None
    color = alt.Color(
        "series:N",
        sort=order,
        legend=legend,
        scale=alt.Scale(domain=order, range=_PALETTE[: len(order)]),
    )
    chart = (
        alt.Chart(df).mark_line().encode(x=x, y=y, color=color, tooltip=["series", "step", "value"])
    )
    for value, label in (rules or {}).items():
        rule = alt.Chart(pd.DataFrame({"y": [value], "label": [label]}))
        chart += rule.mark_rule(strokeDash=[4, 4], color="gray").encode(y="y:Q")
        chart += rule.mark_text(align="left", baseline="bottom", dx=4, dy=-2, color="gray").encode(
            y="y:Q", x=alt.value(0), text="label:N"
        )
    for step, label in (steps or {}).items():
        at = max(step, 1) if log_x else step
        rule = alt.Chart(pd.DataFrame({"step": [at], "label": [label]}))
        chart += rule.mark_rule(strokeDash=[4, 4], color="gray").encode(x="step:Q")
        chart += rule.mark_text(align="right", baseline="top", dx=-3, dy=2, color="gray").encode(
            x="step:Q", y=alt.value(0), text="label:N"
        )
    rows = -(-len(series) // cols) if len(series) > 1 else 0
    height += 60 + 22 * rows + (28 if title else 0)
    st.altair_chart(chart.properties(height=height, title=title or ""), use_container_width=True)


# Distinct hues in a fixed order, so "train"/"test" and "layer 0"/"layer 1" never share a blue.
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def heatmap(values: list[list[float]], title: str, *, threshold: float | None = None) -> None:
    """A [layer][head] grid of scores in 0..1, each cell labelled with its value (rows L0, L1…,
    columns H0, H1…); cells at or above ``threshold`` get a bold label. No colour legend: the
    numbers are in the cells."""
    df = pd.DataFrame(
        [
            {
                "layer": f"L{i}",
                "head": f"H{j}",
                "score": v,
                "hot": v >= 0.5,
                "strong": threshold is not None and v >= threshold,
            }
            for i, vs in enumerate(values)
            for j, v in enumerate(vs)
        ]
    )
    axis = {"labelAngle": 0, "labelFontSize": 13, "ticks": False, "domain": False}
    base = alt.Chart(df).encode(
        x=alt.X("head:O", title=None, axis=alt.Axis(orient="top", **axis)),
        y=alt.Y("layer:O", title=None, axis=alt.Axis(**axis)),
    )
    layers = [
        base.mark_rect(stroke="white", strokeWidth=1).encode(
            color=alt.Color("score:Q", scale=alt.Scale(domain=[0, 1], scheme="blues"), legend=None),
            tooltip=["layer", "head", alt.Tooltip("score:Q", format=".2f")],
        )
    ]
    for strong in (False, True):
        layers.append(
            base.transform_filter(f"datum.strong == {str(strong).lower()}")
            .mark_text(fontSize=15, fontWeight="bold" if strong else "normal")
            .encode(
                text=alt.Text("score:Q", format=".2f"),
                color=alt.condition("datum.hot", alt.value("white"), alt.value("black")),
            )
        )
    # Streamlit fits the whole chart (title and labels too) into ``height``.
    st.altair_chart(
        alt.layer(*layers).properties(title=title, height=64 + 44 * len(values)),
        use_container_width=True,
    )


def frequency_bars(norms: list[float], key: list[int]) -> None:
    """Norm of the embedding per Fourier frequency (1 .. len(norms)), key frequencies
    highlighted."""
    df = pd.DataFrame({"frequency": range(1, len(norms) + 1), "norm": norms})
    df["kind"] = ["key frequency" if f in key else "other" for f in df["frequency"]]
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("frequency:O", title="frequency k", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("norm:Q", title="norm of W_E"),
            color=alt.Color(
                "kind:N",
                legend=_legend(),
                scale=alt.Scale(domain=["key frequency", "other"], range=[_PALETTE[1], "#9aa5b1"]),
            ),
            tooltip=["frequency", alt.Tooltip("norm:Q", format=".2f")],
        )
    )
    st.altair_chart(chart.properties(height=300), use_container_width=True)


# Sizes the view's iframe to its content (CircuitsVis' zoomed pattern grows with the page width,
# so no fixed height fits both a desktop and a phone); Streamlit's ``srcdoc`` iframes are
# same-origin, so the page inside may set its frame's height. A white card: the view's own colours
# are for a light page, unreadable on the dark theme.
_FIT_FRAME = """<style>body { font-family: "Source Sans Pro", "Source Sans 3", sans-serif;
  margin: 0; padding: 8px; background: #fff; color: #222; border-radius: 8px; }
h1, h2, h3, h4, div, span, text { font-family: inherit; }</style>
<script>(function () {
  function fit() {
    var f = window.frameElement; if (!f) return;
    var h = Math.ceil(document.body.getBoundingClientRect().height) + 16;
    if (Math.abs(f.clientHeight - h) > 4) f.style.height = h + "px";
  }
  function start() { new ResizeObserver(fit).observe(document.body); fit(); }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();</script>"""


def attention_view(html: str, height: int = 700) -> None:
    """CircuitsVis HTML in an iframe that fits its content (``height`` until it has loaded)."""
    # In front: CircuitsVis' ``<div/>`` is not self-closing in HTML, so whatever follows it
    # lands inside the div that React then renders over.
    # safe-render: CircuitsVis' own HTML; typed words reach it only through attention.safe_label
    st.iframe(_FIT_FRAME + html, height=height)  # safe-render: see above


def position_loss_chart(losses: list[float], repeat_len: int) -> None:
    """Loss of each prediction on ``[r, r]`` (``len(losses) == 2L - 1``; entry ``j`` predicts
    token ``j + 2``, counting from 1), the two copies in two colours, split by a dashed line."""
    tokens = range(2, len(losses) + 2)
    df = pd.DataFrame(
        {
            "token": tokens,
            "loss": losses,
            "part": [
                "first copy (random)" if t <= repeat_len else "second copy (a repeat)"
                for t in tokens
            ],
        }
    )
    x = alt.X(
        "token:Q",
        title="token predicted (position in the sequence)",
        scale=alt.Scale(domain=[1, len(losses) + 1], nice=False),
    )
    line = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("loss:Q", title="loss (nats)"),
            color=alt.Color("part:N", legend=_legend(), scale=alt.Scale(range=_PALETTE[:2])),
            tooltip=["token", alt.Tooltip("loss:Q", format=".2f")],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"token": [repeat_len + 0.5]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(x="token:Q")
    )
    st.altair_chart((line + rule).properties(height=280), use_container_width=True)


def token_loss_chart(labels: list[str], losses: list[float], predictable: list[bool]) -> None:
    """Loss of each next-token prediction on a typed sequence: bar j is the loss of predicting
    token j + 2 (``labels[j + 1]``); orange where an earlier copy says what comes next."""
    df = pd.DataFrame(
        {
            "position": range(2, len(losses) + 2),
            "token": labels[1 : len(losses) + 1],
            "loss": losses,
            "kind": [
                "repeats what followed before" if x else "new continuation" for x in predictable
            ],
        }
    )
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("position:O", title="token predicted (position)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("loss:Q", title="loss (nats)"),
            color=alt.Color(
                "kind:N",
                legend=_legend(),
                scale=alt.Scale(
                    domain=["new continuation", "repeats what followed before"],
                    range=["#9aa5b1", _PALETTE[1]],
                ),
            ),
            tooltip=["position", "token", alt.Tooltip("loss:Q", format=".2f"), "kind"],
        )
    )
    st.altair_chart(chart.properties(height=260), use_container_width=True)


def bars(values: dict[str, float], *, x_title: str, y_title: str, highlight: str | None = None):
    """A small bar chart of ``{label: value}`` in the given order; ``highlight`` in orange."""
    order = list(values)
    df = pd.DataFrame({"label": order, "value": list(values.values())})
    df["kind"] = ["highlight" if k == highlight else "other" for k in order]
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=order, title=x_title, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color(
                "kind:N",
                legend=None,
                scale=alt.Scale(domain=["highlight", "other"], range=[_PALETTE[1], _PALETTE[0]]),
            ),
            tooltip=["label", alt.Tooltip("value:Q", format=".3f")],
        )
    )
    st.altair_chart(chart.properties(height=220), use_container_width=True)


@st.cache_data(ttl=600, show_spinner=False)
def _moments(demo: str, episode_id: str, gen: int, data_dir: str) -> list[dict[str, Any]]:
    return links.moments_for_demo(demo, resources.searcher(), episode_id)


def episode_moments(demo: str, limit: int = 6) -> None:
    """Links to the moments of each ingested episode where this demo's idea is discussed; drawn
    once the search model is loaded (in the background, ``ui.warmup``), never holding the page."""
    from ui import warmup

    warmup.deferred(
        lambda: _episode_moments(demo, limit), "Finding where the episodes discuss this…"
    )


def _episode_moments(demo: str, limit: int) -> None:
    try:
        if not resources.store().has_episodes():
            st.caption("Ingest an episode to see where this is discussed.")
            return
        gen, d = resources.generation(), str(resources.current_data_dir())
        shown = 0
        for ep in resources.episodes():
            moments = _moments(demo, ep.id, gen, d)[:limit]
            if not moments:
                continue
            lines = [f"**{md_text(ep.title)}** — listen from:"]
            for m in moments:
                where = f"{fmt_time(m['start'])} · {m['chapter']}" if m["chapter"] else ""
                lines.append("- " + md_app_link(m["link"], where or fmt_time(m["start"])))
            st.markdown("\n".join(lines))
            shown += len(moments)
        if not shown:
            st.caption("No moment of the ingested episodes matches this demo closely enough.")
    except PodlensError as e:
        st.caption(md_text(str(e)))


@st.cache_data(ttl=600, show_spinner=False)
def _chapter_demos(episode_id: str, gen: int, data_dir: str) -> list[list[str]]:
    ep = resources.episode(episode_id)
    if ep is None:
        return []
    return links.episode_chapter_demos(ep, resources.store(), resources.embedder())


def chapter_demo_button(episode: Any, chapter: Any, index: int) -> None:
    """A chapter action: "Run the demo" on the chapters that illustrate a demo."""
    picked = _chapter_demos(episode.id, resources.generation(), str(resources.current_data_dir()))
    for name in picked[index] if index < len(picked) else []:
        st.page_link(
            DEMO_PAGES[name],
            label=f"Demo: {links.DEMOS[name]['title']}",
            icon=":material/science:",
            help="Run the demo",
        )
