"""Cut a snip's window out of an aligned episode, snapped to sentence boundaries.

The sentences are the episode's sentence stream (:mod:`podlens.sentences`: times interpolated
through each aligned turn by word position), the same one search passages are cut from, so a
snip and a search hit of the same speech start and end together.  A snip is what the listener
just heard: by default the 60 s that end at the tap.  The raw window is then snapped so the
quote starts and ends on whole sentences:

* at the start, a sentence is kept when at least half of it (by time) lies inside the window;
* at the end, the sentence being spoken at ``at + after`` is kept whole (the listener heard its
  beginning and tapped because of it);
* if nothing qualifies (a single very long sentence), the sentence at the tap is used.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from podlens.errors import PodlensError
from podlens.models import Episode
from podlens.sentences import Sentence, by_turn, episode_sentences

DEFAULT_BEFORE = 60.0
DEFAULT_AFTER = 0.0
# The longest snip: a snip is a moment, not a chapter (and a quote of hours is 100,000+
# characters that the title model, the store and every export would carry).
MAX_WINDOW = 600.0


def _check_times(**times: float) -> None:
    """NaN passes every ``<``/``>`` check, so finiteness is checked first, by name."""
    for name, value in times.items():
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PodlensError(f"{name} must be a finite number of seconds, got {value!r}")


def _check_length(seconds: float, what: str) -> None:
    if seconds > MAX_WINDOW:
        raise PodlensError(
            f"a snip is at most {MAX_WINDOW / 60:.0f} minutes ({MAX_WINDOW:.0f} s): "
            f"{what} is {seconds:g} s"
        )


@dataclass
class Window:
    """A snapped window: its sentences, where it lies, and the quote they make."""

    start: float
    end: float
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def speaker(self) -> str:
        """The speaker with the most words in the window."""
        counts: Counter[str] = Counter()
        for s in self.sentences:
            counts[s.speaker] += s.words
        return counts.most_common(1)[0][0] if counts else ""

    @property
    def chapter(self) -> str:
        """The chapter of the last sentence (where the listener was when they tapped)."""
        return self.sentences[-1].chapter if self.sentences else ""

    @property
    def speakers(self) -> list[str]:
        return list(dict.fromkeys(s.speaker for s in self.sentences))

    @property
    def quote(self) -> str:
        """The verbatim text; when the speaker changes, each turn is prefixed by its speaker."""
        if not self.sentences:
            return ""
        if len(self.speakers) == 1:
            return "\n\n".join(" ".join(s.text for s in g) for g in by_turn(self.sentences))
        parts: list[str] = []
        for turn_sents in by_turn(self.sentences):
            parts.append(f"{turn_sents[0].speaker}: " + " ".join(s.text for s in turn_sents))
        return "\n\n".join(parts)


# "Neel Nanda: ..." as Window.quote starts each turn of a quote with several speakers: a
# capitalised name of one to four words, so "The answer is: yes" names no speaker.
_SPEAKER_PREFIX = re.compile(r"^([A-Z][\w'.-]*(?: [A-Z0-9][\w'.-]*){0,3}):\s+(?=\S)")


def split_speaker(line: str) -> tuple[str, str]:
    """A quote line's speaker and words: ``"Neel Nanda: So..."`` -> ``("Neel Nanda", "So...")``;
    ``("", line)`` when the line names no speaker."""
    m = _SPEAKER_PREFIX.match(line)
    return (m.group(1), line[m.end() :]) if m else ("", line)


def timed_sentences(episode: Episode) -> list[Sentence]:
    """The episode's sentence stream, less the sentences of turns alignment could not place."""
    return [s for s in episode_sentences(episode) if s.start is not None and s.end is not None]


def _require_sentences(episode: Episode, sentences: list[Sentence] | None) -> list[Sentence]:
    sents = sentences if sentences is not None else timed_sentences(episode)
    if not sents:
        raise PodlensError(
            f"episode {episode.id!r} has no aligned transcript (no turn has a start and end time)"
        )
    return sents


def snap(
    episode: Episode, start: float, end: float, sentences: list[Sentence] | None = None
) -> Window:
    """Snap the raw interval ``[start, end]`` to whole sentences (rules in the module doc)."""
    _check_times(start=start, end=end)
    if end < start:
        raise PodlensError(f"window end {end:g}s is before its start {start:g}s")
    _check_length(end - max(0.0, start), "the window")
    sents = _require_sentences(episode, sentences)
    last = sents[-1].end
    start, end = max(0.0, start), min(end, last)
    chosen = [
        s for s in sents if s.start < end and (s.start + s.end) / 2 >= start and s.end > start
    ]
    if not chosen:
        # The window lies inside one long sentence (or past the end): take the one at `end`.
        at = min(end, last)
        chosen = [next((s for s in sents if s.end >= at), sents[-1])]
    return Window(chosen[0].start, chosen[-1].end, chosen)


def snip_window(
    episode: Episode,
    at: float,
    before: float = DEFAULT_BEFORE,
    after: float = DEFAULT_AFTER,
    sentences: list[Sentence] | None = None,
) -> Window:
    """The window a tap at ``at`` seconds captures: ``[at - before, at + after]``, snapped.

    Widen it with a larger ``before``/``after``; move it by moving ``at``.
    """
    _check_times(**{"--at": at, "--before": before, "--after": after})
    if before < 0 or after < 0:
        raise PodlensError("--before and --after must be zero or more seconds")
    if before + after <= 0:
        raise PodlensError("a snip needs a window: --before plus --after must be more than 0 s")
    _check_length(before + after, "--before plus --after")
    if at < 0:
        raise PodlensError(f"--at must be a time in the episode, got {at:g}s")
    sents = _require_sentences(episode, sentences)
    if at > sents[-1].end + 1:
        raise PodlensError(f"--at {at:g}s is past the end of the transcript ({sents[-1].end:.0f}s)")
    return snap(episode, at - before, at + after, sents)
