"""Alignment: chapters matched to sections, turns placed on the clock, measured error bound."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.align import AlignmentWarning, align, cross_validate, match_chapters
from ingest.evaluate import evaluate
from ingest.feed import read_item
from ingest.models import Chapter
from ingest.transcript import parse_markdown
from podlens.errors import PodlensError
from tests.conftest import AXRP_FEED, EP19_FEED, EP19_MD, POSTS


@pytest.fixture(scope="module")
def ep19():
    return read_item(str(EP19_FEED), episode=19), parse_markdown(EP19_MD.read_text("utf-8"))


def test_every_ep19_feed_chapter_matches_its_own_section(ep19):
    item, tr = ep19
    matches = match_chapters(item.chapters, tr.sections)
    assert matches == {i: i for i in range(19)}  # feed and transcript list them in the same order
    assert tr.sections[17] == "Could mechanistic interpretability possibly work?"


def test_fuzzy_matching_survives_typos_and_quotes():
    chapters = [Chapter("Could mechanistic intepretability possibly work?", 10),
                Chapter("Something unrelated entirely", 20),
                Chapter("‘A Mathematical Framework’", 30)]
    sections = ["Could mechanistic interpretability possibly work?", "Intro",
                "'A Mathematical Framework'"]
    assert match_chapters(chapters, sections) == {0: 0, 2: 2}


def test_ep19_turns_get_monotone_times_that_hit_the_chapter_anchors(ep19):
    item, tr = ep19
    turns = tr.to_turns()
    result = align(turns, tr.sections, item.chapters, item.duration)
    starts = np.array([t.start for t in turns])
    assert np.all(np.diff(starts) >= 0) and turns[0].start == 0
    assert all(t.end >= t.start for t in turns)
    first_induction = next(t for t in turns if t.chapter == "Induction heads")
    assert first_induction.start == pytest.approx(7182, abs=0.01)
    # no itunes:duration: the end is estimated past the last chapter (real audio: about 3 h 50 min)
    assert result.duration_estimated and 13800 < result.duration < 14200
    assert turns[-1].end == pytest.approx(result.duration, abs=0.01)


def test_ep19_leave_one_chapter_out_error_is_bounded(ep19):
    item, tr = ep19
    turns = tr.to_turns()
    model = cross_validate(turns, tr.sections, item.chapters, item.duration)
    base = cross_validate(turns, tr.sections, item.chapters, item.duration, uniform=True)
    assert len(model.errors) == len(base.errors) == 17
    # measured: model median 10.2 s (mean 15.5), uniform 5.8 s (mean 13.2)
    assert model.median < 15 and model.mean < 20
    assert base.median < 10


def test_cross_validated_error_over_the_feed_beats_the_uniform_baseline():
    rows = evaluate(str(AXRP_FEED), POSTS)
    assert len(rows) == 25
    model = np.concatenate([r.model for r in rows])
    base = np.concatenate([r.baseline for r in rows])
    assert len(model) > 300
    # measured: model mean 12.3 / median 8.6 s; uniform words 13.1 / 9.5 s
    assert np.median(model) < 10.5 and model.mean() < 14
    assert model.mean() < base.mean()


def test_no_chapters_and_no_duration_is_an_error(ep19):
    _, tr = ep19
    with pytest.raises(PodlensError, match="no clock"):
        align(tr.to_turns(), tr.sections, [], None)


def test_duration_without_chapters_aligns_uniformly_and_warns(ep19):
    _, tr = ep19
    turns = tr.to_turns()
    with pytest.warns(AlignmentWarning):
        result = align(turns, tr.sections, [], 3600.0)
    assert turns[0].start == 0 and turns[-1].end == 3600.0 and not result.duration_estimated
    # one rate throughout: a turn starts at its share of the text (non-space characters)
    sizes = np.array([len("".join(t.text.split())) for t in turns], dtype=float)
    share = np.concatenate([[0.0], np.cumsum(sizes)[:-1]]) / sizes.sum()
    assert np.allclose([t.start for t in turns], 3600 * share, atol=0.02)
