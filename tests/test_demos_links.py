"""Demo <-> episode-moment links: similarity threshold and the override table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from demos import links
from podlens.errors import PodlensError


@dataclass
class _Result:  # the fields of index.search.SearchResult that links reads
    start: float
    end: float
    chapter: str
    speaker: str
    text: str
    link: str


class _Model:
    """Embeds a text as a unit vector that points along [1, 0] when it mentions grokking."""

    def encode(self, texts, **kwargs):  # called as index.embed.embed_texts calls it
        return np.array([[1.0, 0.0] if "grok" in t.lower() else [0.6, 0.8] for t in texts])


class _Searcher:
    model = _Model()

    def __init__(self, results):
        self.results = results
        self.calls = []

    def search(self, query, k=5, kinds=("transcript", "paper"), episode=None):
        self.calls.append((query, k, tuple(kinds), episode))
        return self.results


def _r(start, text):
    return _Result(start, start + 60, "Ch", "Neel Nanda", text, f"/?episode=ep&t={int(start)}")


def test_moments_keep_passages_similar_to_the_demo_description_and_apply_overrides():
    s = _Searcher([_r(300, "So grokking is..."), _r(100, "Unrelated chat"), _r(500, "Grokked!")])
    table = {
        "ep": {"grokking": {"add": [{"start": 50, "note": "intro"}], "remove": [{"start": 520}]}}
    }
    got = links.moments_for_demo("grokking", s, "ep", threshold=0.7, overrides=table)
    assert [(m["start"], m["source"]) for m in got] == [(50.0, "override"), (300, "auto")]
    assert got[0]["link"] == "/?episode=ep&t=50"
    assert s.calls[0][2:] == (("transcript",), "ep")
    assert links.demos_for_span({"grokking": got}, 0, 100) == ["grokking"]


def test_unknown_demo_is_a_clear_error():
    with pytest.raises(PodlensError, match="unknown demo"):
        links.moments_for_demo("chess", _Searcher([]), "ep")


def _unit(*xs):
    v = np.array(xs, dtype=float)
    return v / np.linalg.norm(v)


def test_a_chapter_links_the_demo_it_keeps_discussing_not_one_stray_passage():
    desc = {"grokking": _unit(1, 0, 0), "induction": _unit(0, 1, 0)}
    passages = [
        (10, _unit(1, 0.1, 0)),
        (20, _unit(1, 0.2, 0)),
        (30, _unit(1, 0, 0.1)),  # grokking chapter
        (110, _unit(0, 0, 1)),
        (120, _unit(0, 0, 1)),
        (130, _unit(0, 1, 0)),  # one stray mention
    ]
    scores = links.chapter_scores(desc, passages, [(0, 100), (100, 200), (200, 300)])
    assert scores[0]["grokking"] > 0.95 and scores[1]["induction"] < 0.5 and scores[2] == {}
    assert links.demos_for_chapters(scores, threshold=0.55) == [["grokking"], [], []]


def test_a_chapter_shows_only_demos_close_to_its_best_one():
    scores = [
        {"attention": 0.68, "induction": 0.60, "grokking": 0.2},
        {"attention": 0.62, "induction": 0.61},
    ]
    assert links.demos_for_chapters(scores, threshold=0.55, margin=0.03) == [
        ["attention"],
        ["attention", "induction"],
    ]


def test_episode_19_chapters_offer_the_demo_they_discuss(ep19_data_dir):
    from index.embed import load_embedder
    from index.store import IndexStore

    store = IndexStore(ep19_data_dir)
    ep = store.load_episode("axrp-19")
    picked = dict(
        zip(
            (c.title for c in ep.chapters),
            links.episode_chapter_demos(ep, store, load_embedder()),
            strict=True,
        )
    )
    assert "induction" in picked["Induction heads"]
    assert "induction" in picked["'In-context Learning and Induction Heads'"]
    assert "attention" in picked["How attention works"]
    assert "grokking" in picked["The suddenness of grokking"]
    assert "grokking" in picked["How neural nets learn modular addition"]  # override table
    assert picked["Following Neel's research"] == []
    assert picked["What is mechanistic interpretability?"] == []
