"""Turn an episode's timed turns (and fetched papers) into passages a listener can jump to.

A transcript passage is a run of whole sentences inside one chapter (it may cross turns, so a
question and the start of its answer sit together and one-word turns never stand alone), at most
``target_words`` (200) words, about a minute and a half.  Passages overlap: a new one starts
every ``stride_words`` (80) words at a sentence boundary, so every sentence starts within ~80
words of some passage's start and any answer under ~120 words lies whole inside one.  A passage
starting mid-turn gets its own start time, interpolated through the turn by word position
(alignment gives times per turn only); ``speaker`` is who is talking at that start.

``text`` is exactly what is heard from ``start``; ``embed_text`` (what gets embedded and
BM25-indexed) adds retrieval context that is not part of the moment: the chapter title and the
sentence just before the passage.  Each passage is also cut into sentence groups
(:func:`passage_pieces`) that are embedded separately.  Sizes and context were chosen on the dev
half of ``tests/eval/axrp19.jsonl`` (``bench/eval_search.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from podlens.models import Episode, PaperDoc

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and
# something that can start a sentence.  "e.g. this" and "Mr. X" are rare enough in speech.
_SENT_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"\S+")


@dataclass
class Passage:
    episode: str
    kind: str  # "transcript" | "paper"
    ord: int  # order within (episode, kind)
    text: str  # what the listener hears from `start` (or the paper's words)
    embed_text: str  # text + retrieval context; embedded and lexically indexed
    speaker: str | None = None
    chapter: str | None = None  # transcript section, or the paper's section heading
    start: float | None = None
    end: float | None = None
    title: str | None = None  # paper title (papers only)
    url: str | None = None  # paper URL (papers only)
    turn: int | None = None  # index of the turn in the episode (first sentence's turn)
    word_start: int = 0  # word offsets of `text` inside its turn / paper section
    word_end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChunkConfig:
    target_words: int = 200  # a passage grows by whole sentences up to this many words
    stride_words: int = 80  # a new passage starts every ~this many words (sentence-aligned)
    max_sentence_words: int = 60  # longer "sentences" (run-ons) are cut into pieces this size
    context_words: int = 40  # at most this many words of the preceding sentence as context
    chapter_context: bool = True  # prepend the chapter title to the embedded text
    prev_sentence_context: bool = True  # prepend the sentence before the passage
    paper_target_words: int = 150
    paper_stride_words: int = 100


def split_sentences(text: str, max_words: int = 60) -> list[str]:
    """Sentences of ``text`` (whitespace-normalised); run-ons are cut every ``max_words`` words."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[str] = []
    for sent in _SENT_END.split(text):
        words = sent.split()
        if not words:
            continue
        for i in range(0, len(words), max_words):
            out.append(" ".join(words[i : i + max_words]))
    return out


def _windows(lengths: Sequence[int], target: int, stride: int) -> list[tuple[int, int]]:
    """Sentence index ranges ``[i, j)``: each window grows to <= ``target`` words (at least one
    sentence), the next starts at the first sentence >= ``stride`` words after this one's start
    (never after this one's end, so windows overlap or touch and cover everything).  Every
    sentence thus starts less than ``stride`` words (+ one sentence) into some window."""
    n = len(lengths)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < n:
        j, words = i, 0
        while j < n and (j == i or words + lengths[j] <= target):
            words += lengths[j]
            j += 1
        spans.append((i, j))
        if j >= n and words <= stride:
            break  # the rest is already within `stride` words of this window's start
        k, acc = i, 0
        while k < j and acc < stride:
            acc += lengths[k]
            k += 1
        i = max(k, i + 1)
    return spans


def _tail(text: str, n_words: int) -> str:
    words = text.split()
    return " ".join(words[-n_words:]) if len(words) > n_words else " ".join(words)


@dataclass
class Sentence:
    """One sentence of an episode's transcript, in the order spoken."""

    turn: int  # index of its turn in ``episode.turns``
    text: str
    word: int  # offset of its first word in the episode's whole word stream
    start: float | None
    end: float | None
    speaker: str | None
    chapter: str | None

    @property
    def words(self) -> int:
        return len(self.text.split())


def episode_sentences(episode: Episode, max_sentence_words: int = 60) -> list[Sentence]:
    """Every sentence of ``episode``'s turns, with its word offset and interpolated times (the
    stream :func:`chunk_episode` windows over, and search snaps result starts to)."""
    out: list[Sentence] = []
    pos = 0
    for ti, turn in enumerate(episode.turns):
        pieces = split_sentences(turn.text, max_sentence_words)
        total = sum(len(x.split()) for x in pieces)
        done = 0
        for sent in pieces:
            n = len(sent.split())
            out.append(
                Sentence(
                    ti,
                    sent,
                    pos,
                    _interp(turn, done, total),
                    _interp(turn, done + n, total),
                    turn.speaker,
                    turn.chapter,
                )
            )
            done += n
            pos += n
    return out


def join_sentences(sents: Sequence[Sentence]) -> str:
    """The text heard over ``sents``: spaces inside a turn, a newline where the speaker turns."""
    parts: list[str] = []
    prev_ti = None
    for s in sents:
        parts.append(s.text if s.turn == prev_ti or prev_ti is None else "\n" + s.text)
        prev_ti = s.turn
    return " ".join(parts).replace(" \n", "\n")


def chunk_episode(episode: Episode, cfg: ChunkConfig | None = None) -> list[Passage]:
    """The transcript passages of ``episode``, in order.

    Sentences of all turns of one chapter form one stream; windows run over that stream, so a
    passage can hold a question and the start of its answer (tiny turns like "Okay." never stand
    alone).  ``speaker``/``turn`` are those of the passage's first sentence, where the jump
    lands; ``word_start``/``word_end`` are offsets in the episode's whole word stream."""
    cfg = cfg or ChunkConfig()
    # (turn index, sentence, word offset in episode, start time, end time)
    sents = [
        (s.turn, s.text, s.word, s.start, s.end)
        for s in episode_sentences(episode, cfg.max_sentence_words)
    ]
    passages: list[Passage] = []
    i = 0
    while i < len(sents):
        chapter = episode.turns[sents[i][0]].chapter
        j = i
        while j < len(sents) and episode.turns[sents[j][0]].chapter == chapter:
            j += 1
        block = sents[i:j]
        lengths = [len(b[1].split()) for b in block]
        for a, b in _windows(lengths, cfg.target_words, cfg.stride_words):
            first, last = block[a], block[b - 1]
            turn = episode.turns[first[0]]
            parts: list[str] = []
            prev_ti = None
            for ti, sent, *_ in block[a:b]:
                parts.append(sent if ti == prev_ti or prev_ti is None else "\n" + sent)
                prev_ti = ti
            text = " ".join(parts).replace(" \n", "\n")
            context: list[str] = []
            if cfg.chapter_context and chapter:
                context.append(chapter.rstrip(".?!") + ".")
            if cfg.prev_sentence_context and a > 0:
                context.append(_tail(block[a - 1][1], cfg.context_words))
            passages.append(
                Passage(
                    episode=episode.id,
                    kind="transcript",
                    ord=len(passages),
                    text=text,
                    embed_text=" ".join([*context, text]),
                    speaker=turn.speaker,
                    chapter=chapter,
                    start=first[3],
                    end=last[4],
                    turn=first[0],
                    word_start=first[2],
                    word_end=last[2] + len(last[1].split()),
                )
            )
        i = j
    return passages


def _interp(turn, word: int, total: int) -> float | None:
    """Time of the ``word``-th word of ``turn``, linear in words between its start and end."""
    if turn.start is None:
        return None
    if turn.end is None or total == 0:
        return float(turn.start)
    return round(float(turn.start + (turn.end - turn.start) * word / total), 2)


def chunk_window_baseline(episode: Episode, words: int = 200) -> list[Passage]:
    """The naive baseline the issue measures against: consecutive 200-word windows over the
    whole transcript, ignoring turns and sentences (speaker/chapter/time of the first word).
    Used only by ``bench/eval_search.py`` for the comparison."""
    stream: list[tuple[int, int, str]] = []  # (turn, word index in turn, word)
    for ti, turn in enumerate(episode.turns):
        for wi, w in enumerate(turn.text.split()):
            stream.append((ti, wi, w))
    out: list[Passage] = []
    for s in range(0, len(stream), words):
        part = stream[s : s + words]
        ti, wi, _ = part[0]
        turn = episode.turns[ti]
        n = max(1, len(turn.text.split()))
        start = None
        if turn.start is not None and turn.end is not None:
            start = turn.start + (turn.end - turn.start) * wi / n
        text = " ".join(w for _, _, w in part)
        out.append(
            Passage(
                episode=episode.id,
                kind="transcript",
                ord=len(out),
                text=text,
                embed_text=text,
                speaker=turn.speaker,
                chapter=turn.chapter,
                start=start,
                end=None,
                turn=ti,
                word_start=wi,
                word_end=wi + len(part),
            )
        )
    return out


def chunk_papers(
    episode_id: str, papers: Iterable[PaperDoc], cfg: ChunkConfig | None = None
) -> list[Passage]:
    """Passages of fetched papers: sentence windows inside each section (never across one), the
    embedded text prefixed with the paper title and section heading."""
    cfg = cfg or ChunkConfig()
    out: list[Passage] = []
    for paper in papers:
        sections = list(paper.sections)
        if paper.abstract and not any((h or "").strip().lower() == "abstract" for h, _ in sections):
            sections.insert(0, ("Abstract", paper.abstract))
        for heading, body in sections:
            sents = split_sentences(body or "", cfg.max_sentence_words)
            if not sents:
                continue
            lengths = [len(s.split()) for s in sents]
            offsets = [0]
            for n in lengths:
                offsets.append(offsets[-1] + n)
            for i, j in _windows(lengths, cfg.paper_target_words, cfg.paper_stride_words):
                text = " ".join(sents[i:j])
                head = " — ".join(x for x in (paper.title, heading) if x)
                out.append(
                    Passage(
                        episode=episode_id,
                        kind="paper",
                        ord=len(out),
                        text=text,
                        embed_text=f"{head}. {text}" if head else text,
                        chapter=heading or None,
                        title=paper.title,
                        url=paper.url,
                        word_start=offsets[i],
                        word_end=offsets[j],
                    )
                )
    return out


def piece_offsets(text: str, min_words: int = 20, max_words: int = 50) -> list[int]:
    """Word offset inside ``text`` of each of :func:`passage_pieces`' groups (same arguments)."""
    out, at = [], 0
    for piece in passage_pieces(text, min_words, max_words):
        out.append(at)
        at += len(piece.split())
    return out


def passage_pieces(text: str, min_words: int = 20, max_words: int = 50) -> list[str]:
    """Sentence groups of a passage (``min_words``..~``max_words`` words each), embedded
    separately so that a question matching one or two sentences still finds the passage
    (its dense score is the best of the passage's and its pieces' similarities)."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for sent in split_sentences(text, max_words):
        k = len(sent.split())
        if cur and n + k > max_words and n >= min_words:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(sent)
        n += k
    if cur:
        if out and n < min_words // 2:
            out[-1] += " " + " ".join(cur)
        else:
            out.append(" ".join(cur))
    return out
