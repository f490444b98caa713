"""Fuzzing the feed and transcript parsers: any input gives a result or a PodlensError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.feed import chapters_from_notes, item_from_entry, parse_feed_text, select_entry
from ingest.transcript import parse_transcript
from podlens.errors import PodlensError
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
