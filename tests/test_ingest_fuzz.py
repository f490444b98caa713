"""Fuzzing the feed and transcript parsers: any input gives a result or a PodlensError."""

from __future__ import annotations

import json
import math
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.feed import (
    MAX_CHAPTERS,
    FeedWarning,
    chapters_from_json,
    chapters_from_notes,
    clean_chapters,
    item_from_entry,
    parse_feed_text,
    select_entry,
)
from ingest.transcript import parse_transcript
from podlens.errors import PodlensError
from podlens.models import Chapter
from podlens.timecode import MAX_SECONDS
from tests.conftest import EP19_FEED, EP19_MD

FEED = EP19_FEED.read_text("utf-8")
MD = EP19_MD.read_text("utf-8")[:6000]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

pieces = st.sampled_from(
    [
        "<rss>",
        "</rss>",
        "<channel>",
        "<item>",
        "</item>",
        "<title>",
        "</title>",
        "19 - x",
        "<itunes:duration>",
        "1:02:03",
        "99:99:99",
        "<enclosure url='' />",
        "<guid>",
        "]]>",
        "<![CDATA[",
        "&amp;",
        "&bogus;",
        "\x00",
        "00:01:05 - A",
        "(1:00)",
        "[2:03]",
        "\n",
        "<description>",
        "</description>",
        "<itunes:episode>",
        "</itunes:episode>",
        "é",
        "<<",
    ]
)


def _cut(text: str, i: int, j: int, insert: str) -> str:
    i, j = sorted((i % (len(text) + 1), j % (len(text) + 1)))
    return text[:i] + insert + text[j:]


def _try_feed(text: str) -> None:
    try:
        parsed = parse_feed_text(text, "fuzz")
        entry = select_entry(parsed, episode="19")
        item_from_entry(parsed, entry)
    except PodlensError:
        pass


@SETTINGS
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.lists(pieces, max_size=6).map("".join))
def test_feed_parser_mutations_raise_only_podlens_errors(i, j, insert):
    _try_feed(_cut(FEED, i, j, insert))


@SETTINGS
@given(st.text(max_size=400))
def test_feed_parser_on_arbitrary_text_raises_only_podlens_errors(text):
    _try_feed(text)
    chapters_from_notes(text)


md_pieces = st.sampled_from(
    [
        "**Daniel Filan:**",
        "**X** (00:01):",
        "(00:02):",
        '## H <a name="h"></a>',
        "### ",
        "[a](b)",
        "[a](",
        "](",
        "<a href='x'>",
        "<!--",
        "-->",
        "```",
        "\r\n",
        "\n\n",
        "> ",
        "- ",
        "**",
        "*",
        "_",
        "\\",
        '<div class="post-content">',
        "<p><strong>N:</strong>",
        "</p>",
        "é",
    ]
)


@SETTINGS
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.lists(md_pieces, max_size=6).map("".join))
def test_transcript_parser_mutations_raise_only_podlens_errors(i, j, insert):
    try:
        tr = parse_transcript(_cut(MD, i, j, insert), "fuzz")
        assert all(t.speaker for t in tr.turns)
    except PodlensError:
        pass


@SETTINGS
@given(st.text(max_size=400))
def test_transcript_parser_on_arbitrary_text_raises_only_podlens_errors(text):
    try:
        tr = parse_transcript(text, "fuzz")
        assert all(t.speaker and t.text for t in tr.turns)
    except PodlensError:
        pass


# -- chapter times: whatever a feed writes, what comes out is a clock ---------------------------

start_times = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "12.5", "", "x", "0x10"]),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
)
chapter_items = st.fixed_dictionaries(
    {"startTime": start_times}, optional={"title": st.text(max_size=20), "toc": st.booleans()}
)


def _assert_is_a_clock(chapters, duration=None) -> None:  # type: ignore[no-untyped-def]
    starts = [c.start for c in chapters]
    assert all(math.isfinite(s) and 0 <= s <= MAX_SECONDS for s in starts)
    assert starts == sorted(starts)
    assert len(chapters) <= MAX_CHAPTERS
    if duration:
        assert all(s < duration for s in starts)
    keys = [(c.start, c.title.strip().casefold()) for c in chapters]
    assert len(keys) == len(set(keys))
    json.dumps([c.__dict__ for c in chapters], allow_nan=False)  # never bare NaN/Infinity


@SETTINGS
@given(st.lists(chapter_items, max_size=30))
def test_chapters_json_with_any_start_times_gives_a_valid_clock_or_one_error(items):
    # allow_nan: Python's json writes (and reads) NaN/Infinity, as hostile files do.
    text = json.dumps({"chapters": items}, allow_nan=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeedWarning)
        try:
            chapters = chapters_from_json(text, "fuzz")
        except PodlensError as e:
            assert "\n" not in str(e)
            return
    _assert_is_a_clock(chapters)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)),
        max_size=30,
    ),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_clean_chapters_repairs_any_times_and_duration(pairs, duration):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeedWarning)
        out = clean_chapters([Chapter(t, s) for s, t in pairs], duration, "fuzz")
    ok = duration is not None and math.isfinite(duration) and duration > 0
    _assert_is_a_clock(out, duration if ok else None)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 99), st.integers(0, 99)), max_size=12)
)
def test_show_notes_stamps_of_any_size_give_a_valid_clock(stamps):
    notes = "\n".join(f"{h}:{m:02d}:{s:02d} - Chapter {i}" for i, (h, m, s) in enumerate(stamps))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeedWarning)
        out = clean_chapters(chapters_from_notes(notes), None, "fuzz")
    _assert_is_a_clock(out)
