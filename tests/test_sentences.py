"""One sentence stream: the splitter's rules, times by word position, and search passages and
snips cut from the same sentences at the same times."""

from __future__ import annotations

import pytest

from index.chunk import chunk_episode
from podlens.sentences import (
    Sentence,
    episode_sentences,
    join_sentences,
    questions_replied_to,
    split_sentences,
)
from snips.window import snap, snip_window
from tests.conftest import EP19_FEED, EP19_MD
from tests.support.snips_data import make_episode


@pytest.fixture(scope="module")
def ep19():
    from ingest.pipeline import build_episode

    return build_episode(str(EP19_FEED), str(EP19_MD), episode=19)


def test_split_sentences_keeps_technical_tokens_and_cuts_run_ons():
    s = split_sentences("We used AdamW. Then S4 came out! Did SoLU help? yes it did " * 1)
    assert s == ["We used AdamW.", "Then S4 came out!", "Did SoLU help? yes it did"]
    long = " ".join(["word"] * 130)
    assert [len(x.split()) for x in split_sentences(long, max_words=60)] == [60, 60, 10]
    assert split_sentences(long, max_words=None) == [long]


def test_sentence_splitting_keeps_abbreviations_and_markdown_link_words():
    text = "See [AdamW](https://arxiv.org/abs/1711.05101), e.g. this one. Dr. Smith agrees? Yes."
    assert split_sentences(text) == ["See AdamW, e.g. this one.", "Dr. Smith agrees?", "Yes."]


def test_trailing_off_and_paragraphs_end_sentences_and_closing_quotes_stay_with_them():
    text = 'And in part because... So it said, "Ah, good." Then (see Fig. 3) it went\n\nnext part'
    assert split_sentences(text) == [
        "And in part because...",
        'So it said, "Ah, good."',
        "Then (see Fig. 3) it went",
        "next part",
    ]


# Turn 1: 10 words in 0-100 s -> 10 s per word.  Sentences of 2, 3 and 5 words.
# Turn 2: another speaker, 100-160 s, two sentences of 3 words each (10 s per word).
EP = make_episode(
    [
        ("Ann", "Intro", "One two. Three four five. Six seven eight nine ten.", 0.0, 100.0),
        ("Bob", "Main", "Alpha beta gamma. Delta epsilon zeta!", 100.0, 160.0),
    ]
)


def test_sentence_times_are_interpolated_by_word_position_within_the_turn():
    s = episode_sentences(EP)
    assert [(x.text, x.start, x.end) for x in s] == [
        ("One two.", 0.0, 20.0),
        ("Three four five.", 20.0, 50.0),
        ("Six seven eight nine ten.", 50.0, 100.0),
        ("Alpha beta gamma.", 100.0, 130.0),
        ("Delta epsilon zeta!", 130.0, 160.0),
    ]
    assert [x.speaker for x in s] == ["Ann", "Ann", "Ann", "Bob", "Bob"]
    assert [x.word for x in s] == [0, 2, 5, 10, 13]
    assert join_sentences(s[1:4]) == "Three four five. Six seven eight nine ten.\nAlpha beta gamma."


def test_unaligned_turns_keep_their_sentences_without_times():
    ep = make_episode([("A", "c", "Hello there. General words.", 0.0, 1.0)])
    ep.turns[0].start = ep.turns[0].end = None
    assert [(s.text, s.start, s.end) for s in episode_sentences(ep)] == [
        ("Hello there.", None, None),
        ("General words.", None, None),
    ]


def test_search_passages_and_snips_of_episode_19_cut_at_the_same_sentences_and_times(ep19):
    stream = episode_sentences(ep19)
    starts = {s.word: s for s in stream}
    ends = {s.word + s.words: s for s in stream}
    passages = chunk_episode(ep19)
    assert len(passages) > 50
    for p in passages:
        first, last = starts[p.word_start], ends[p.word_end]  # passage edges are sentence edges
        assert (p.start, p.end, p.speaker) == (first.start, last.end, first.speaker)
        # A snip of exactly that passage's time is that passage's sentences.
        w = snap(ep19, p.start, p.end)
        assert (w.start, w.end) == (p.start, p.end)
        assert [s.word for s in w.sentences] == [
            s.word for s in stream if p.word_start <= s.word < p.word_end
        ]
        assert join_sentences(w.sentences) == p.text
    # Any tap's snip starts and ends where stream sentences do.
    for at in range(60, int(stream[-1].end), 97):
        w = snip_window(ep19, at)
        i = stream.index(w.sentences[0])
        assert w.sentences == stream[i : i + len(w.sentences)]
        assert (w.start, w.end) == (w.sentences[0].start, w.sentences[-1].end)


def test_a_reply_answers_the_questions_closing_the_other_speakers_turn():
    """One rule for search's "the interview asked What is X?" and ask's reply weighting: the
    questions among the last three sentences of the turn before, when the speaker changes."""

    def turns(*spoken: tuple[str, list[str]]) -> list[Sentence]:
        out = []
        for t, (speaker, texts) in enumerate(spoken):
            out += [Sentence(x, speaker, "", t, 0, None, None) for x in texts]
        return out

    sents = turns(
        (
            "Host",
            [
                "What is a circuit?",
                "It came up.",
                "What is the singular fluctuation?",
                "Why should I care about it?",
            ],
        ),
        ("Guest", ["I'll give two answers.", "First, it measures variance."]),
        ("Guest", ["And another thing."]),
        (
            "Host",
            [
                "What is superposition?",
                "What do they even mean?",
                "Nobody knows.",
                "Sure.",
                "Anyway, it's interesting.",
            ],
        ),
        ("Guest", ["Yes."]),
    )
    assert questions_replied_to(sents, 4) == [2, 3]  # not "What is a circuit?", four back
    assert questions_replied_to(sents, 5) == []  # inside a turn
    assert questions_replied_to(sents, 6) == []  # the same speaker goes on
    assert questions_replied_to(sents, 12) == []  # the open questions were not the last three
    assert questions_replied_to(sents, 0) == []
