"""Share links: deep link, audio media fragment, X and WhatsApp within their limits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from snips.share import (
    TWEET_LIMIT,
    audio_link,
    share_links,
    tweet_length,
    twitter_link,
    whatsapp_link,
)
from tests.support.snips_data import awkward_snip

BASE = "https://app.example"


def test_deep_link_and_audio_media_fragment():
    s = awkward_snip(start=11648.5, audio_url="https://cdn.example/ep.mp3#t=1")
    links = share_links(s, BASE)
    assert links["deep_link"] == "https://app.example/?episode=ep-1&t=11648"
    assert links["audio"] == "https://cdn.example/ep.mp3#t=11648.5,11708.5"
    assert audio_link(None, 1, 2) is None
    assert audio_link("https://x/a.mp3?k=v", 10, 70.04) == "https://x/a.mp3?k=v#t=10,70"


def test_twitter_intent_has_title_and_link_within_280_with_urls_as_23():
    s = awkward_snip(title="Optimizer " * 100)  # far too long
    q = parse_qs(urlsplit(twitter_link(s, BASE)).query)
    assert urlsplit(twitter_link(s, BASE)).netloc == "twitter.com"
    assert q["url"] == ["https://app.example/?episode=ep-1&t=65"]
    text = q["text"][0]
    assert text.startswith("“Optimizer Optimizer") and text.endswith("…")
    assert tweet_length(text + " " + q["url"][0]) <= TWEET_LIMIT
    short = parse_qs(urlsplit(twitter_link(awkward_snip(title="Short 🎧"), BASE)).query)
    assert short["text"][0] == '“Short 🎧” — Ep: "One", the #1/best'


def test_tweet_length_counts_urls_as_23_and_emoji_as_2():
    assert tweet_length("hi https://example.com/" + "x" * 100) == 3 + 23
    assert tweet_length("🎧") == 2 and tweet_length("é") == 1


def test_whatsapp_link_prefills_title_and_link_under_the_url_limit():
    s = awkward_snip(title="Word " * 2000)
    link = whatsapp_link(s, BASE)
    assert link.startswith("https://wa.me/?text=") and len(link) <= 2048
    text = parse_qs(urlsplit(link).query)["text"][0]
    assert text.endswith("…\nhttps://app.example/?episode=ep-1&t=65")
