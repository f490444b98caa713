"""Feed items: selection by number or guid, metadata, and chapters in every supported format."""

from __future__ import annotations

import json

import pytest

from ingest.feed import (
    chapters_from_notes,
    episode_id,
    html_to_text,
    load_feed,
    read_item,
    select_entry,
)
from podlens.errors import PodlensError
from podlens.timecode import parse_timestamp
from tests.conftest import AXRP_FEED, EP19_FEED
from tests.support.httpserver import Route


@pytest.mark.parametrize(
    ("line", "start", "title"),
    [
        ("00:01:05 - What is mech interp?", 65, "What is mech interp?"),
        ("0:00:44 Program equilibrium basics", 44, "Program equilibrium basics"),
        ("12:34 Short chapter", 754, "Short chapter"),
        ("(01:02:03) Bracketed", 3723, "Bracketed"),
        ("[1:02:03] Square", 3723, "Square"),
        ("Trailing stamp (1:02:03)", 3723, "Trailing stamp"),
        ("Trailing square [02:03]", 123, "Trailing square"),
        ("- 1:00:00 – En dash list item", 3600, "En dash list item"),
    ],
)
def test_chapter_line_formats(line, start, title):
    (ch,) = chapters_from_notes(f"Intro text 2023\n{line}\nNo stamp here: 3 things")
    assert (ch.start, ch.title) == (start, title)


def test_timestamps_parse_and_reject_nonsense():
    assert parse_timestamp("1:02:03") == 3723
    assert parse_timestamp("02:03") == 123
    assert parse_timestamp("4542") == 4542
    with pytest.raises(PodlensError):
        parse_timestamp("1:99:00")


def test_ep19_item_metadata_and_chapters():
    item = read_item(str(EP19_FEED), episode=19)
    assert item.title == "19 - Mechanistic Interpretability with Neel Nanda"
    assert item.published == "2023-02-04T02:50:00+00:00"
    assert item.audio_url.endswith("19-mechanistic-interpretability-neel-nanda.mp3")
    assert item.duration is None
    assert item.transcript_url == (
        "https://axrp.net/episode/2023/02/04/episode-19-mechanistic-interpretability-neel-nanda.html"
    )
    assert len(item.chapters) == 19 and item.chapters_source == "show notes"
    assert (item.chapters[7].title, item.chapters[7].start) == ("Induction heads", 7182)
    assert item.chapters[4].title == "'A Mathematical Framework for Transformer Circuits'"
    assert "Topics we discuss" in item.notes_text and "<li>" in item.notes_html
    assert episode_id(item) == "axrp-19"


def test_episode_selection_by_title_number_itunes_and_guid():
    parsed = load_feed(str(AXRP_FEED))
    assert select_entry(parsed, episode="38.3").title.startswith("38.3 - Erik Jenner")
    assert select_entry(parsed, episode="045").title.startswith("45 - ")
    assert select_entry(parsed, guid="axrp-fixture-46").title.startswith("46 - ")
    with pytest.raises(PodlensError, match="episode 38 not in the feed"):
        select_entry(parsed, episode="38")  # 38.3's itunes:episode is 38, but it is 38.3
    with pytest.raises(PodlensError, match="guid"):
        select_entry(parsed, guid="nope")


def test_duration_and_transcript_link_from_notes_anchor():
    item = read_item(str(AXRP_FEED), episode=45)
    assert item.duration == 4542
    item = read_item(str(AXRP_FEED), episode=21)  # item link is the site root: no transcript
    assert item.transcript_url is None and len(item.chapters) == 13


def test_podcast_chapters_json_is_fetched_and_preferred(http_server):
    chapters = {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0, "title": "Intro"},
            {"startTime": 5, "title": "Silent", "toc": False},
            {"startTime": 61.5, "title": "Main"},
        ],
    }
    url = http_server.add("/ch.json", Route(json.dumps(chapters).encode(), "application/json"))
    feed = f"""<?xml version="1.0"?><rss version="2.0"
      xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Show: sub</title>
      <item><title>Ep 7: Thing</title><guid>g7</guid>
      <podcast:chapters url="{url}" type="application/json+chapters"/>
      <description>00:00:10 - Note chapter</description></item></channel></rss>"""
    feed_url = http_server.add("/feed.xml", Route(feed.encode(), "application/rss+xml"))
    item = read_item(feed_url, episode=7)
    assert item.chapters_source == "podcast:chapters"
    assert [(c.title, c.start) for c in item.chapters] == [("Intro", 0), ("Main", 61.5)]
    assert episode_id(item) == "show-7"


def test_html_to_text_keeps_links():
    assert html_to_text('<p>See <a href="https://a.b/c">this</a></p><ul><li>x</li></ul>') == (
        "See this (https://a.b/c)\nx"
    )


def _artwork_feed(http_server, channel_img: str, item_img: str = "") -> str:
    feed = f"""<?xml version="1.0"?><rss version="2.0"
      xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Show</title>
      {channel_img}
      <item><title>Ep 1: One</title><guid>g1</guid>{item_img}</item>
      <item><title>Ep 2: Two</title><guid>g2</guid></item></channel></rss>"""
    return http_server.add("/art.xml", Route(feed.encode(), "application/rss+xml"))


def test_artwork_is_the_episodes_own_image_else_the_shows(http_server):
    url = _artwork_feed(
        http_server,
        '<itunes:image href="https://cdn.example/show.jpg"/>',
        '<itunes:image href="https://cdn.example/ep1.jpg"/>',
    )
    assert read_item(url, episode=1).image == "https://cdn.example/ep1.jpg"
    assert read_item(url, episode=2).image == "https://cdn.example/show.jpg"


def test_artwork_that_is_not_http_is_dropped(http_server):
    url = _artwork_feed(http_server, '<itunes:image href="javascript:alert(1)"/>')
    assert read_item(url, episode=2).image is None
