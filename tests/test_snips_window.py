"""The snip window: 60 s ending at the tap, snapped to whole sentences."""

from __future__ import annotations

import pytest

from podlens.errors import PodlensError
from snips.window import snap, snip_window, split_speaker
from tests.support.snips_data import make_episode

# Turn 1: 10 words in 0-100 s -> 10 s per word.  Sentences of 2, 3 and 5 words.
# Turn 2: another speaker, 100-160 s, two sentences of 3 words each (10 s per word).
EP = make_episode(
    [
        ("Ann", "Intro", "One two. Three four five. Six seven eight nine ten.", 0.0, 100.0),
        ("Bob", "Main", "Alpha beta gamma. Delta epsilon zeta!", 100.0, 160.0),
    ]
)


def test_default_window_is_the_minute_ending_at_the_tap_snapped_to_sentences():
    # Raw window 55-115 s.  "Six..." (50-100) has its midpoint (75) inside -> kept whole;
    # "Alpha..." (100-130) is being spoken at the tap -> kept whole.
    w = snip_window(EP, at=115)
    assert (w.start, w.end) == (50.0, 130.0)
    assert [s.text for s in w.sentences] == ["Six seven eight nine ten.", "Alpha beta gamma."]
    assert w.quote == "Ann: Six seven eight nine ten.\n\nBob: Alpha beta gamma."
    assert w.chapter == "Main"  # where the listener was at the tap
    assert w.speaker == "Ann"  # most words


def test_each_turn_of_a_quote_gives_back_its_speaker_and_words_but_a_colon_in_speech_does_not():
    lines = [line for line in snip_window(EP, at=115).quote.splitlines() if line]
    assert [split_speaker(line) for line in lines] == [
        ("Ann", "Six seven eight nine ten."),
        ("Bob", "Alpha beta gamma."),
    ]
    said = "The first one is: intuitively, there is a spectrum."
    assert split_speaker(said) == ("", said)


def test_sentence_mostly_before_the_window_is_dropped():
    # Raw 40-100: "Three four five." is 20-50, midpoint 35 < 40 -> out.
    w = snip_window(EP, at=100, before=60)
    assert [s.text for s in w.sentences] == ["Six seven eight nine ten."]


def test_window_widens_with_before_and_after():
    narrow = snip_window(EP, at=115, before=10)
    wide = snip_window(EP, at=115, before=100, after=30)
    assert narrow.start >= wide.start and narrow.end <= wide.end
    assert (wide.start, wide.end) == (20.0, 160.0)


def test_window_inside_one_long_sentence_takes_that_sentence():
    w = snip_window(EP, at=80, before=5)
    assert [s.text for s in w.sentences] == ["Six seven eight nine ten."]


def test_snap_moves_a_window_to_new_times():
    w = snap(EP, 125, 160)
    assert [s.text for s in w.sentences] == ["Delta epsilon zeta!"]
    assert w.quote == "Delta epsilon zeta!"


def test_bad_windows_are_clear_errors():
    with pytest.raises(PodlensError, match="past the end"):
        snip_window(EP, at=500)
    with pytest.raises(PodlensError, match="zero or more"):
        snip_window(EP, at=50, before=-1)
    with pytest.raises(PodlensError, match="more than 0"):
        snip_window(EP, at=50, before=0, after=0)
    unaligned = make_episode([("A", "c", "Hello there.", 0.0, 1.0)])
    unaligned.turns[0].start = None
    with pytest.raises(PodlensError, match="no aligned transcript"):
        snip_window(unaligned, at=1)
