"""The sentence stream of an episode: where speech can be cut, and when each piece is heard.

Search passages and snips are both runs of whole sentences of this one stream, so a search hit
and a snip of the same speech start and end at the same places and times.

Rules (:func:`split_sentences`):

* a sentence ends at ``.``, ``!``, ``?`` or ``…`` (closing quotes and brackets stay with it)
  before whitespace and something that can start a sentence: a capital, a digit, or an opening
  quote or bracket before one;
* a trailing-off ``...`` before a capital ends one too: in speech it is where the speaker
  stops and starts again ("And in part because... So the way I think about it");
* an abbreviation ("e.g.", "Dr.", "vs.", "et al.") never ends one;
* a blank line (a new paragraph) always ends one;
* a run-on longer than :data:`MAX_SENTENCE_WORDS` words (speech has 150-word sentences joined by
  "and") is cut into pieces that long, so a passage (200 words) always holds several sentences
  and a snip can start inside a monologue.

Alignment gives times per turn; inside a turn a sentence's times are interpolated by word
position (one that starts at word 120 of a 300-word turn starts 40 % of the way through it),
unless the audio itself was aligned: then each word's own time (``Turn.word_starts``) is used.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from podlens.models import Episode, Turn
from podlens.text import clean_text, is_question

MAX_SENTENCE_WORDS = 60

_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|vs|etc|e\.g|i\.e|cf|Fig|al)\.$", re.IGNORECASE)
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Sentence:
    """One sentence of an episode's transcript, in the order spoken."""

    text: str
    speaker: str
    chapter: str
    turn: int  # index of its turn in ``episode.turns``
    word: int  # offset of its first word in the episode's word stream (all turns, in order)
    start: float | None  # None when its turn is not aligned
    end: float | None

    @property
    def words(self) -> int:
        return len(self.text.split())


def split_sentences(text: str, max_words: int | None = MAX_SENTENCE_WORDS) -> list[str]:
    """Sentences of ``text`` (whitespace collapsed, links reduced to their words) by the rules in
    the module doc; run-ons are cut every ``max_words`` words (``None``: never)."""
    out: list[str] = []
    for para in _PARAGRAPH.split(text):
        para = clean_text(para)
        at = 0
        for m in _END.finditer(para):
            piece = para[at : m.end()]
            if _ABBREV.search(piece.rstrip("\"'”’)]")):
                continue
            out.extend(_cut(piece, max_words))
            at = m.end()
        out.extend(_cut(para[at:], max_words))
    return out


def _cut(sentence: str, max_words: int | None) -> list[str]:
    words = sentence.split()
    step = max_words or len(words) or 1
    return [" ".join(words[i : i + step]) for i in range(0, len(words), step)]


def turn_words(turn: Turn) -> list[str]:
    """The words of ``turn`` as the sentence stream counts them (``Turn.word_starts`` has one
    time per word of this list)."""
    return [w for piece in split_sentences(turn.text) for w in piece.split()]


def episode_sentences(episode: Episode) -> list[Sentence]:
    """Every sentence of ``episode``'s turns in order, with its word offset and times."""
    out: list[Sentence] = []
    pos = 0
    for ti, turn in enumerate(episode.turns):
        pieces = split_sentences(turn.text)
        total = sum(len(x.split()) for x in pieces)
        done = 0
        for text in pieces:
            n = len(text.split())
            start, end = _interp(turn, done, total), _interp(turn, done + n, total)
            out.append(Sentence(text, turn.speaker, turn.chapter, ti, pos, start, end))
            done += n
            pos += n
    return out


def _interp(turn: Turn, word: int, total: int) -> float | None:
    """Time of the ``word``-th of ``total`` words of ``turn``, linear between its start and end
    (its start throughout when it has no end)."""
    if turn.start is None:
        return None
    if turn.word_starts is not None and len(turn.word_starts) == total and word < total:
        return round(float(turn.word_starts[word]), 2)
    if turn.end is None or total == 0:
        return float(turn.start)
    dur = max(0.0, turn.end - turn.start)
    return round(float(turn.start + dur * word / total), 2)


def by_turn_index(sents: Sequence[Sentence]) -> list[tuple[int, int]]:
    """``[lo, hi)`` sentence index ranges of each run of the same turn, in order."""
    spans: list[tuple[int, int]] = []
    for i, s in enumerate(sents):
        if spans and sents[spans[-1][0]].turn == s.turn:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


def by_turn(sents: Sequence[Sentence]) -> list[list[Sentence]]:
    """``sents`` grouped into runs of the same turn (:func:`by_turn_index`)."""
    return [list(sents[lo:hi]) for lo, hi in by_turn_index(sents)]


def questions_replied_to(sents: Sequence[Sentence], r: int) -> list[int]:
    """The questions a reply answers: when sentence ``r`` opens a turn by another speaker than
    the turn before it, the questions among that turn's last three sentences ("What is X? And
    how does it relate to Y?" asks both; an earlier one was answered in the same turn); else
    ``[]``."""
    if r <= 0 or sents[r - 1].turn == sents[r].turn or sents[r - 1].speaker == sents[r].speaker:
        return []
    turn = sents[r - 1].turn
    return [
        j for j in range(max(r - 3, 0), r) if sents[j].turn == turn and is_question(sents[j].text)
    ]


def asking_text(sents: Sequence[Sentence], q: int) -> str:
    """Question ``q`` with the sentence before it in its turn, which may name what "that" is."""
    if q > 0 and sents[q - 1].turn == sents[q].turn:
        return f"{sents[q - 1].text} {sents[q].text}"
    return sents[q].text


def join_sentences(sents: Sequence[Sentence]) -> str:
    """The text heard over ``sents``: spaces inside a turn, a newline where the turn changes."""
    return "\n".join(" ".join(s.text for s in group) for group in by_turn(sents))


def texts_hash(texts: Sequence[str]) -> str:
    """A short fingerprint of a sentence stream's texts: vectors stored for one stream are
    used only while the stream (the splitter, the transcript) is still the same."""
    h = hashlib.sha1()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]
