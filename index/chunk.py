"""Turn an episode's timed turns (and fetched papers) into passages a listener can jump to.

A transcript passage is a run of whole sentences of the episode's sentence stream
(:mod:`podlens.sentences`, the one snips are cut from) inside one chapter (it may cross turns, so
a question and the start of its answer sit together and one-word turns never stand alone), at
most ``target_words`` (200) words, about a minute and a half.  Passages overlap: a new one starts
every ``stride_words`` (80) words at a sentence boundary, so every sentence starts within ~80
words of some passage's start and any answer under ~120 words lies whole inside one.  A passage
starting mid-turn starts when its first sentence does (interpolated through the turn by word
position); ``speaker`` is who is talking at that start.

``text`` is exactly what is heard from ``start``; ``embed_text`` (what gets embedded and
BM25-indexed) adds retrieval context that is not part of the moment: the chapter title and the
sentence just before the passage.  Each passage is also cut into sentence groups
(:func:`passage_pieces`) that are embedded separately.  Sizes and context were chosen on the dev
half of ``tests/eval/axrp19.jsonl`` (``bench/eval_search.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from podlens.models import Episode, PaperDoc
from podlens.sentences import episode_sentences, join_sentences, split_sentences


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
    word_start: int = 0  # word offsets of `text` in the episode's word stream / paper section
    word_end: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChunkConfig:
    target_words: int = 200  # a passage grows by whole sentences up to this many words
    stride_words: int = 80  # a new passage starts every ~this many words (sentence-aligned)
    context_words: int = 40  # at most this many words of the preceding sentence as context
    chapter_context: bool = True  # prepend the chapter title to the embedded text
    prev_sentence_context: bool = True  # prepend the sentence before the passage
    paper_target_words: int = 150
    paper_stride_words: int = 100


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


def chunk_episode(episode: Episode, cfg: ChunkConfig | None = None) -> list[Passage]:
    """The transcript passages of ``episode``, in order.

    Sentences of all turns of one chapter form one stream; windows run over that stream, so a
    passage can hold a question and the start of its answer (tiny turns like "Okay." never stand
    alone).  ``speaker``/``turn`` are those of the passage's first sentence, where the jump
    lands; ``word_start``/``word_end`` are offsets in the episode's whole word stream."""
    cfg = cfg or ChunkConfig()
    sents = episode_sentences(episode)
    passages: list[Passage] = []
    i = 0
    while i < len(sents):
        chapter = sents[i].chapter
        j = i
        while j < len(sents) and sents[j].chapter == chapter:
            j += 1
        block = sents[i:j]
        for a, b in _windows([s.words for s in block], cfg.target_words, cfg.stride_words):
            first, last = block[a], block[b - 1]
            text = join_sentences(block[a:b])
            context: list[str] = []
            if cfg.chapter_context and chapter:
                context.append(chapter.rstrip(".?!") + ".")
            if cfg.prev_sentence_context and a > 0:
                context.append(_tail(block[a - 1].text, cfg.context_words))
            passages.append(
                Passage(
                    episode=episode.id,
                    kind="transcript",
                    ord=len(passages),
                    text=text,
                    embed_text=" ".join([*context, text]),
                    speaker=first.speaker,
                    chapter=chapter,
                    start=first.start,
                    end=last.end,
                    turn=first.turn,
                    word_start=first.word,
                    word_end=last.word + last.words,
                )
            )
        i = j
    return passages


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
            sents = split_sentences(body or "")
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
