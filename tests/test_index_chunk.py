"""Chunking: passages are sentence-aligned, short, overlapping, and carry their own start time."""

from __future__ import annotations

import itertools

from index.chunk import ChunkConfig, chunk_episode, chunk_papers
from podlens.models import Episode, PaperDoc, Turn


def _sentences(n: int, words: int = 10, tag: str = "s") -> str:
    return " ".join(
        f"{tag}{i} " + " ".join(f"w{i}x{j}" for j in range(words - 2)) + " end." for i in range(n)
    )


def _episode(turns: list[Turn]) -> Episode:
    return Episode(
        id="t-1",
        title="T",
        podcast="P",
        published=None,
        audio_url=None,
        duration=None,
        turns=turns,
    )


def test_passage_starting_mid_turn_gets_interpolated_start_time():
    # One 300-word turn from 100 s to 400 s: 1 word per second.
    ep = _episode([Turn("A", _sentences(30), "Ch", start=100.0, end=400.0)])
    ps = chunk_episode(ep, ChunkConfig(target_words=100, stride_words=40))
    assert len(ps) > 3
    for p in ps:
        assert p.start == 100.0 + p.word_start
        assert p.end == 100.0 + p.word_end
        assert p.text.startswith("s") and p.text.endswith("end.")  # whole sentences
        assert len(p.text.split()) <= 100
    assert ps[0].start == 100.0 and ps[-1].end == 400.0


def test_windows_overlap_so_every_sentence_is_near_some_passage_start():
    ep = _episode([Turn("A", _sentences(40), "Ch", start=0.0, end=400.0)])
    cfg = ChunkConfig(target_words=150, stride_words=60)
    ps = chunk_episode(ep, cfg)
    for i in range(40):
        first = min(
            (p for p in ps if f"s{i} " in p.text), key=lambda p: p.text.split().index(f"s{i}")
        )
        assert first.text.split().index(f"s{i}") < cfg.stride_words + 10
    # consecutive passages overlap (or touch): no sentence falls between them
    for a, b in itertools.pairwise(ps):
        assert b.word_start <= a.word_end


def test_passages_span_short_turns_but_not_chapters_and_keep_first_speaker():
    ep = _episode(
        [
            Turn("Q", "What is an induction head?", "One", start=0.0, end=2.0),
            Turn("A", "It copies what followed the last occurrence.", "One", start=2.0, end=6.0),
            Turn("Q", "Okay.", "One", start=6.0, end=7.0),
            Turn("A", "New chapter words here.", "Two", start=7.0, end=9.0),
        ]
    )
    ps = chunk_episode(ep)
    assert [p.chapter for p in ps] == ["One", "Two"]
    assert ps[0].speaker == "Q" and ps[0].start == 0.0 and ps[0].end == 7.0
    assert "What is an induction head?\nIt copies" in ps[0].text
    assert ps[0].embed_text.startswith("One. ")  # chapter title is retrieval context only
    assert not ps[0].text.startswith("One.")
    assert ps[1].speaker == "A" and ps[1].start == 7.0


def test_unaligned_turns_give_null_times():
    ps = chunk_episode(_episode([Turn("A", "Hello there. General words.", "C")]))
    assert ps and ps[0].start is None and ps[0].end is None


def test_paper_passages_are_section_aware_with_title_url_and_no_times():
    paper = PaperDoc(
        url="https://arxiv.org/abs/2301.05217",
        title="Progress measures for grokking",
        kind="arxiv",
        abstract="We study grokking. It is sudden.",
        sections=[("Introduction", _sentences(30)), ("Method", "We use restricted loss.")],
    )
    ps = chunk_papers("axrp-19", [paper])
    assert {p.kind for p in ps} == {"paper"}
    assert next(p.chapter for p in ps) == "Abstract"
    assert {p.chapter for p in ps} == {"Abstract", "Introduction", "Method"}
    for p in ps:
        assert p.start is None and p.end is None and p.speaker is None
        assert p.title == paper.title and p.url == paper.url
        assert p.embed_text.startswith("Progress measures for grokking — ")
        assert len(p.text.split()) <= 150
