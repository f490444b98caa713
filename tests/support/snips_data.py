"""Episodes built by hand for the snips tests (no ingest needed)."""

from __future__ import annotations

from podlens.models import Episode, Turn
from snips.store import Snip


def make_episode(turns: list[tuple[str, str, str, float, float]], ep_id: str = "ep-1") -> Episode:
    """``turns``: (speaker, chapter, text, start, end)."""
    return Episode(
        id=ep_id,
        title='Test Episode, "Quoted"',
        podcast="Test Pod",
        published="2024-01-01T00:00:00Z",
        audio_url="https://example.org/audio.mp3",
        duration=max(t[4] for t in turns),
        turns=[Turn(speaker=s, chapter=c, text=x, start=a, end=b) for s, c, x, a, b in turns],
    )


AWKWARD_QUOTE = (
    'He said "quotes, commas" and then,\nnewlines too — with emoji 🎧🚀 and a tab\there. '
    + "Very long. " * 900
)


def awkward_snip(episode: str = "ep-1", start: float = 65.5, **kw) -> Snip:
    base = dict(
        episode=episode,
        start=start,
        end=start + 60,
        quote=AWKWARD_QUOTE,
        title='Is "This" Weird, Really?\nYes',
        takeaways=['Commas, "quotes"; and 🎧 emoji.', "Second\nline takeaway."],
        episode_title='Ep: "One", the #1/best',
        podcast="Pod, Inc.",
        audio_url="https://example.org/a.mp3?x=1",
        speaker="Zoë O'Neil",
        chapter='Chapter: one, "two"',
        note='My note, with "quotes"\nand a second line 🎉',
        tags=["#AI Safety", "optimizers"],
        favourite=True,
        created="2024-05-01T10:00:00Z",
        updated="2024-05-01T10:00:00Z",
    )
    base.update(kw)
    return Snip(**base)
