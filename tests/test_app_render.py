"""The app's pure helpers: safe rendering, highlighting, moments, grouping."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from podlens.models import Chapter, Episode, Link, Turn
from podlens.timecode import MAX_SECONDS, fmt_time, parse_t
from ui.moments import (
    chapter_index_at,
    clamp_t,
    group_by_episode,
    sections,
    transcript_html,
    turn_index_at,
    turns_around,
)
from ui.render import (
    fmt_date,
    fmt_duration,
    highlight_html,
    linkify_html,
    md_link,
    md_text,
    notes_markdown,
    query_terms,
    safe_url,
)

MD = MarkdownIt("commonmark").enable("table")
EVIL = (
    '<script>alert(1)</script> <img src=x onerror="alert(2)"> [click](javascript:alert(3)) '
    "**bold** # not a heading $x^2$ `code` ![i](http://x/y.png) <b>tag</b>"
)


def _render(md: str) -> str:
    return MD.render(md)


def test_md_text_makes_feed_text_render_literally():
    out = _render(md_text(EVIL))
    for bad in ("<script", "<img", "<a ", "<strong>", "<code>", "<b>", "<h1>"):
        assert bad not in out, (bad, out)
    assert "&lt;script&gt;" in out


def test_md_link_only_links_http_urls():
    assert _render(md_link("paper", "https://arxiv.org/abs/2301.05217")).count("<a href=") == 1
    for url in ("javascript:alert(1)", "data:text/html,hi", "/relative", "ftp://x/y", "http://"):
        assert "<a " not in _render(md_link("x", url)), url
    # parentheses in a URL do not end the link early
    out = _render(md_link("w", "https://en.wikipedia.org/wiki/Foo_(bar)"))
    assert 'href="https://en.wikipedia.org/wiki/Foo_%28bar%29"' in out


def test_safe_url_accepts_only_absolute_http_urls():
    assert safe_url("https://axrp.net/x") == "https://axrp.net/x"
    assert safe_url(" http://a.b ") == "http://a.b"
    for bad in ("JavaScript:alert(1)", "//evil.com", "https:/x", "http://a b", None, 3):
        assert safe_url(bad) is None


def test_show_notes_keep_http_links_and_escape_everything_else():
    notes = (
        "Topics we discuss:\n- 00:01:05 - What is <i>it</i>?\n"
        "- A Mathematical Framework (https://transformer-circuits.pub/2021/framework/index.html)\n"
        "- sneaky (javascript:alert(1))\n<script>alert(1)</script>"
    )
    out = _render(notes_markdown(notes))
    assert 'href="https://transformer-circuits.pub/2021/framework/index.html"' in out
    assert "javascript" not in out.split("href")[-1].split(">")[0]
    assert "<script" not in out and "<i>" not in out
    assert out.count("<li>") == 3


def test_query_terms_drop_stopwords_and_keep_technical_words():
    assert query_terms("What is the deal with AdamW and S4?") == ["adamw", "deal", "s4"]
    assert query_terms("") == []


def test_highlight_marks_terms_and_escapes_the_rest():
    out = highlight_html("<b>AdamW</b> & Adam's induction heads", ["adamw", "head"])
    assert "<mark>AdamW</mark>" in out and "<mark>heads</mark>" in out
    assert "&lt;b&gt;" in out and "&amp;" in out and "<b>" not in out
    assert "<mark>Adam" not in out.replace("<mark>AdamW", "")  # whole words only


def test_transcript_links_stay_links_only_for_http():
    text = 'See the grokking paper and "<evil>" here.'
    out = linkify_html(
        text,
        [("grokking paper", "https://arxiv.org/abs/2301.05217"), ("here", "javascript:x")],
        ["grokking"],
    )
    assert '<a href="https://arxiv.org/abs/2301.05217"' in out
    assert "<mark>grokking</mark> paper</a>" in out
    assert "javascript" not in out and "&lt;evil&gt;" in out


def _episode() -> Episode:
    turns = [
        Turn("Daniel Filan", "Hello and welcome.", "Introduction", 0.0, 40.0),
        Turn("Neel Nanda", "Thanks <for> having me.", "Introduction", 40.0, 65.0),
        Turn(
            "Daniel Filan",
            "What are induction heads?",
            "Induction heads",
            7182.0,
            7190.0,
            [Link("induction heads", "https://transformer-circuits.pub/x")],
        ),
        Turn(
            "Neel Nanda",
            "A circuit that copies.\nSecond paragraph.",
            "Induction heads",
            7190.0,
            7300.0,
        ),
    ]
    return Episode(
        id="axrp-19",
        title="19 - Test",
        podcast="AXRP",
        published="2023-02-04T00:00:00+00:00",
        audio_url="https://example.com/a.mp3",
        duration=7400.0,
        chapters=[Chapter("Intro", 0.0), Chapter("Induction heads", 7182.0)],
        turns=turns,
    )


def test_moment_lookup_finds_turn_and_chapter_at_a_time():
    ep = _episode()
    assert turn_index_at(ep.turns, 50) == 1
    assert turn_index_at(ep.turns, 7182) == 2
    assert turn_index_at(ep.turns, 99999) == 3
    assert chapter_index_at(ep.chapters, 7181.9) == 0
    assert chapter_index_at(ep.chapters, 7182) == 1
    assert turn_index_at(ep.turns, None) is None


def test_turns_around_a_moment_include_the_current_turn():
    ep = _episode()
    got = [i for i, _ in turns_around(ep.turns, 7185, before=10, after=10)]
    assert got == [2, 3]


def test_transcript_html_groups_sections_and_marks_the_current_turn():
    ep = _episode()
    out = transcript_html(ep, 2, ["copies"], link_for=lambda s: f"/?episode=axrp-19&t={int(s)}")
    assert out.count('id="pl-now"') == 1
    now = out.split('id="pl-now"')[1].split("</div></div>")[0]
    assert "What are" in now and "1:59:42" in now
    assert out.count('class="pl-section"') == 2
    assert "&lt;for&gt;" in out and "<for>" not in out
    assert 'href="/?episode=axrp-19&amp;t=7182"' in out
    assert "<mark>copies</mark>" in out and "<p>Second paragraph.</p>" in out
    assert [s.title for s in sections(ep.turns)] == ["Introduction", "Induction heads"]


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("7182", 7182.0),
        ("7182.5", 7182.5),
        ("1:59:42", 7182.0),
        ("59:42", 3582.0),
        ("1h59m42s", 7182.0),
        ("", None),
        ("-5", None),
        ("abc", None),
        (None, None),
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("1e12", None),
        ("999999999999", None),  # 31,000 years
        ("9" * 400, None),  # overflows float() to infinity
    ],
)
def test_t_parameter_accepts_seconds_and_clock_forms(raw, want):
    assert parse_t(raw) == want


def test_t_is_clamped_into_the_episode():
    assert clamp_t(-3, 100) == 0 and clamp_t(500, 100) == 99 and clamp_t(None, 100) is None
    assert clamp_t(float("nan"), 100) is None and clamp_t(float("inf"), 100) is None
    assert clamp_t(50, float("nan")) == 50


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.floats(allow_nan=True, allow_infinity=True).map(repr)))
def test_any_t_in_the_url_is_none_or_a_finite_time_inside_the_episode(raw):
    t = parse_t(raw)
    assert t is None or (math.isfinite(t) and 0 <= t <= MAX_SECONDS)
    placed = clamp_t(t, 3600.0)
    assert placed is None or 0 <= placed <= 3599
    assert fmt_time(placed) is not None  # never OverflowError/ValueError on the page


def test_fmt_time_shows_nothing_for_nan_or_infinity():
    assert fmt_time(float("nan")) == fmt_time(float("inf")) == fmt_time(None) == ""
    assert fmt_time(7182.4) == "1:59:42"


def test_results_group_by_episode_in_rank_order():
    rs = [
        SimpleNamespace(episode="b", episode_title="B", score=0.9),
        SimpleNamespace(episode="a", episode_title="A", score=0.8),
        SimpleNamespace(episode="b", episode_title="B", score=0.7),
    ]
    groups = group_by_episode(rs)
    assert [(k, len(v)) for k, _, v in groups] == [("b", 2), ("a", 1)]


def test_durations_and_dates_read_naturally():
    assert fmt_duration(13971) == "3 h 53 min" and fmt_duration(2700) == "45 min"
    assert fmt_date("2023-02-04T08:00:00+00:00") == "4 Feb 2023" and fmt_date(None) == ""


def test_chapter_window_keeps_the_playing_chapter_in_view_and_bounded():
    from ui.moments import chapter_window

    assert chapter_window(10, 3, 40) == (0, 10)
    assert chapter_window(1000, None, 40) == (0, 40)
    assert chapter_window(1000, 500, 40) == (490, 530)
    assert chapter_window(1000, 999, 40) == (960, 1000)
    for cur in range(0, 1000, 37):
        lo, hi = chapter_window(1000, cur, 40)
        assert hi - lo == 40 and lo <= cur < hi


def test_chapter_list_html_escapes_titles_and_links_each_chapter():
    from ui.moments import chapter_list_html

    ep = Episode(
        id="e",
        title="t",
        podcast="p",
        published=None,
        audio_url=None,
        duration=100.0,
        chapters=[Chapter(title=EVIL, start=0.0), Chapter(title="Two", start=65.0)],
    )
    html = chapter_list_html(ep, 1, lambda s: f'/?episode=e&t={int(s)}"x')
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert html.count("<li") == 2 and '<li class="pl-now"><a class="pl-time"' in html
    assert 'href="/?episode=e&amp;t=65&quot;x"' in html
