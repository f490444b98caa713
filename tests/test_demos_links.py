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

    def encode(self, texts, normalize_embeddings=True):
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
