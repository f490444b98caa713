"""Make a snip: cut the window, summarise the quote, fill in the episode's details."""

from __future__ import annotations

from podlens.models import Episode
from podlens.sentences import Sentence
from snips.ai import Provider, SnipContext, provider_from_env
from snips.store import Snip, normalise_tags
from snips.window import DEFAULT_AFTER, DEFAULT_BEFORE, Window, snap, snip_window


def snip_from_window(
    episode: Episode,
    window: Window,
    provider: Provider | None = None,
    note: str = "",
    tags: list[str] | None = None,
    favourite: bool = False,
) -> Snip:
    """A snip of ``window`` with its title and takeaways from ``provider`` (default: env)."""
    provider = provider or provider_from_env()
    quote = window.quote
    summary = provider.summarize(
        quote,
        SnipContext(
            episode_title=episode.title,
            podcast=episode.podcast,
            chapter=window.chapter,
            speaker=window.speaker,
        ),
    )
    provider_label = summary.provider
    if summary.fallback_reason:
        provider_label += f" (fallback: {summary.fallback_reason})"
    return Snip(
        episode=episode.id,
        start=window.start,
        end=window.end,
        quote=quote,
        title=summary.title,
        takeaways=summary.takeaways,
        episode_title=episode.title,
        podcast=episode.podcast,
        audio_url=episode.audio_url,
        speaker=window.speaker,
        chapter=window.chapter,
        note=note,
        tags=normalise_tags(tags),
        favourite=favourite,
        provider=provider_label,
    )


def create_snip(
    episode: Episode,
    at: float,
    before: float = DEFAULT_BEFORE,
    after: float = DEFAULT_AFTER,
    provider: Provider | None = None,
    note: str = "",
    tags: list[str] | None = None,
    favourite: bool = False,
    sentences: list[Sentence] | None = None,
) -> Snip:
    """The snip a tap at ``at`` seconds makes (not yet saved: ``SnipStore.save`` it)."""
    window = snip_window(episode, at, before, after, sentences)
    return snip_from_window(episode, window, provider, note, tags, favourite)


def resnip(
    episode: Episode, snip: Snip, start: float, end: float, provider: Provider | None = None
) -> Snip:
    """``snip`` moved or widened to ``[start, end]`` (snapped), re-summarised; user fields kept."""
    window = snap(episode, start, end)
    new = snip_from_window(episode, window, provider, snip.note, snip.tags, snip.favourite)
    new.created = snip.created
    return new
