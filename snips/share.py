"""Links to a snip: the app's deep link, the audio moment, and prefilled X and WhatsApp posts."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from podlens.config import settings
from podlens.links import deep_link
from snips.store import Snip

TWEET_LIMIT = 280
TWEET_URL_WEIGHT = 23  # t.co: every URL counts as 23 characters
WHATSAPP_URL_LIMIT = 2048  # keep the wa.me link short enough for every browser and app


def app_url(base_url: str | None = None) -> str:
    """Where the app is served: ``base_url``, ``$PODLENS_APP_URL``, else localhost:8501."""
    return (base_url or settings().app_url).rstrip("/")


def fmt_seconds(t: float) -> str:
    """``12.0 -> "12"``, ``12.34 -> "12.3"`` (what media fragments and exports print)."""
    t = round(float(t), 1)
    return str(int(t)) if t == int(t) else f"{t:.1f}"


def snip_deep_link(snip: Snip, base_url: str | None = None) -> str:
    """Absolute link to the moment in the app: ``http://host/?episode=axrp-19&t=11497``."""
    return app_url(base_url) + deep_link(snip.episode, snip.start)


def audio_link(audio_url: str | None, start: float, end: float) -> str | None:
    """The enclosure with a media fragment, ``audio.mp3#t=11497,11557`` (any old one replaced)."""
    if not audio_url:
        return None
    parts = urlsplit(audio_url)
    return urlunsplit(parts._replace(fragment=f"t={fmt_seconds(start)},{fmt_seconds(end)}"))


def tweet_length(text: str) -> int:
    """Length as X counts it: URLs are 23, most Latin characters 1, others (CJK, emoji) 2."""
    n = 0
    rest = re.sub(r"https?://\S+", lambda m: "\0", text)
    n += rest.count("\0") * TWEET_URL_WEIGHT
    for ch in unicodedata.normalize("NFC", rest.replace("\0", "")):
        cp = ord(ch)
        light = (
            cp <= 0x10FF
            or 0x2000 <= cp <= 0x200D
            or 0x2010 <= cp <= 0x201F
            or 0x2032 <= cp <= 0x2037
        )
        n += 1 if light else 2
    return n


def _truncate(text: str, fits) -> str:  # type: ignore[no-untyped-def]
    """The longest prefix of ``text`` (cut at a word, with "…") for which ``fits`` holds."""
    if fits(text):
        return text
    words = text.split()
    while words:
        words.pop()
        cand = " ".join(words).rstrip(" ,;:.-—") + "…"
        if fits(cand):
            return cand
    return ""


def share_text(snip: Snip) -> str:
    title = re.sub(r"\s+", " ", snip.title).strip() or "A moment"
    source = snip.episode_title or snip.podcast
    return f"“{title}” — {source}" if source else f"“{title}”"


def twitter_link(snip: Snip, base_url: str | None = None) -> str:
    """``https://twitter.com/intent/tweet?text=...&url=...``; the post fits in 280."""
    url = snip_deep_link(snip, base_url)
    # X joins text and url with a space; the url counts 23.
    budget = TWEET_LIMIT - TWEET_URL_WEIGHT - 1
    text = _truncate(share_text(snip), lambda t: tweet_length(t) <= budget)
    query = urlencode({"text": text, "url": url}, quote_via=quote)
    return "https://twitter.com/intent/tweet?" + query


def whatsapp_link(snip: Snip, base_url: str | None = None) -> str:
    """``https://wa.me/?text=...`` with the title and the link, under 2048 characters in all."""
    url = snip_deep_link(snip, base_url)

    def build(text: str) -> str:
        return "https://wa.me/?" + urlencode({"text": f"{text}\n{url}"}, quote_via=quote)

    text = _truncate(share_text(snip), lambda t: len(build(t)) <= WHATSAPP_URL_LIMIT)
    return build(text)


def share_links(snip: Snip, base_url: str | None = None) -> dict[str, str | None]:
    return {
        "deep_link": snip_deep_link(snip, base_url),
        "audio": audio_link(snip.audio_url, snip.start, snip.end),
        "x": twitter_link(snip, base_url),
        "whatsapp": whatsapp_link(snip, base_url),
    }
