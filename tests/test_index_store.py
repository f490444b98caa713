"""The index on disk: re-ingest replaces, a killed ingest changes nothing, FAISS is derived."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.build import index_episode
from index.search import Searcher
from index.store import _HEADER, FAISS_NAME, IndexStore
from podlens.errors import PodlensError
from podlens.models import Chapter, Episode, PaperDoc, Turn

REPO = Path(__file__).resolve().parent.parent


def small_episode(version: str = "v1", eid: str = "test-1") -> Episode:
    topics = {
        "v1": [
            "We trained the grokking model with AdamW and weight decay.",
            "Induction heads attend to the token after a previous copy of the current token.",
            "Superposition lets a model store more features than it has neurons.",
        ],
        "v2": [
            "This re-recorded version talks about sparse autoencoders instead.",
            "Attention heads route information between positions.",
        ],
    }[version]
    turns = [
        Turn(
            "Host", f"Question {i}? Please explain.", "Chapter A", start=i * 20.0, end=i * 20.0 + 5
        )
        if i % 2 == 0
        else Turn(
            "Guest",
            topics[(i // 2) % len(topics)] + " That is the idea.",
            "Chapter A",
            start=i * 20.0 - 15,
            end=i * 20.0 + 10,
        )
        for i in range(2 * len(topics))
    ]
    return Episode(
        id=eid,
        title=f"Test episode {version}",
        podcast="Test pod",
        published="2023-01-01",
        audio_url=None,
        duration=200.0,
        chapters=[Chapter("Chapter A", 0.0)],
        turns=turns,
    )


def _passage_rows(d: Path, eid: str) -> int:
    con = sqlite3.connect(d / "index" / "podlens.db")
    try:
        return con.execute("SELECT count(*) FROM passages WHERE episode = ?", (eid,)).fetchone()[0]
    finally:
        con.close()


def test_reingest_replaces_passages_never_duplicates(tmp_path: Path):
    first = index_episode(small_episode(), tmp_path)
    n = _passage_rows(tmp_path, "test-1")
    assert n == first["passages"] > 0
    second = index_episode(small_episode(), tmp_path)
    assert _passage_rows(tmp_path, "test-1") == n
    assert second["generation"] == first["generation"] + 1
    store = IndexStore(tmp_path)
    assert [e.id for e in store.list_episodes()] == ["test-1"]
    assert store.load_episode("test-1") == small_episode()
    assert store.load_episode("nope") is None
    # Vectors and FAISS match the passages one to one.
    con = sqlite3.connect(tmp_path / "index" / "podlens.db")
    assert con.execute("SELECT count(*) FROM vectors").fetchone()[0] == n
    con.close()
    index, gen = store.read_faiss()
    assert index.ntotal == n and gen == second["generation"]


def test_ingest_killed_inside_write_transaction_leaves_previous_index(tmp_path: Path):
    index_episode(small_episode("v1"), tmp_path)
    before = _passage_rows(tmp_path, "test-1")
    # The child pauses inside the real write transaction (after the inserts, before COMMIT)
    # through replace_episode's before_commit hook, says so, and waits to be killed.
    script = textwrap.dedent(
        f"""
        import functools, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.test_index_store import small_episode
        from index.build import index_episode
        from index.store import IndexStore

        def pause():
            print("index: paused inside the write transaction", file=sys.stderr, flush=True)
            time.sleep(120)

        IndexStore.replace_episode = functools.partialmethod(
            IndexStore.replace_episode, before_commit=pause
        )
        index_episode(small_episode("v2"), {str(tmp_path)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        seen = []
        for line in proc.stderr:  # the marker is printed inside the transaction, after inserts
            seen.append(line)
            if "paused inside the write transaction" in line:
                break
        else:
            pytest.fail("ingest ended without pausing: " + "".join(seen[-5:]))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = IndexStore(tmp_path)
    assert store.load_episode("test-1").title == "Test episode v1"
    assert _passage_rows(tmp_path, "test-1") == before
    hits = Searcher(tmp_path).search("which optimizer trained the grokking model", k=3)
    assert any("AdamW" in h.text for h in hits)
    assert not any("sparse autoencoders" in h.text for h in hits)
    # And the next ingest goes through normally.
    index_episode(small_episode("v2"), tmp_path)
    assert store.load_episode("test-1").title == "Test episode v2"


@pytest.mark.parametrize("damage", ["missing", "corrupt", "stale"])
def test_missing_corrupt_or_stale_faiss_is_rebuilt_from_sqlite(tmp_path: Path, damage: str):
    index_episode(small_episode(), tmp_path)
    index_episode(small_episode("v1", eid="test-2"), tmp_path)
    faiss_path = tmp_path / "index" / FAISS_NAME
    good = faiss_path.read_bytes()
    if damage == "missing":
        faiss_path.unlink()
    elif damage == "corrupt":
        faiss_path.write_bytes(good[: len(good) // 2])
    else:  # a FAISS file from before the last write (generation stamp behind)
        index_episode(small_episode("v2", eid="test-2"), tmp_path)
        faiss_path.write_bytes(good)
    store = IndexStore(tmp_path)
    index, gen = store.read_faiss()
    total = _passage_rows(tmp_path, "test-1") + _passage_rows(tmp_path, "test-2")
    assert index.ntotal == total and gen == store.generation()
    # the repaired file was written back: valid, stamped with the current generation
    _magic, stamped, length = _HEADER.unpack_from(faiss_path.read_bytes())
    assert stamped == store.generation() and length == len(faiss_path.read_bytes()) - _HEADER.size
    hits = Searcher(tmp_path).search("more features than neurons", k=2, episode="test-1")
    assert hits and "Superposition" in hits[0].text


def test_searcher_picks_up_new_ingests_and_filters_by_kind_and_episode(tmp_path: Path):
    index_episode(small_episode(), tmp_path)
    s = Searcher(tmp_path)
    assert {r.episode for r in s.search("attention heads", k=5)} == {"test-1"}
    paper = PaperDoc(
        url="https://arxiv.org/abs/2301.05217",
        title="Progress measures for grokking",
        kind="arxiv",
        sections=[("Method", "We define restricted loss and excluded loss.")],
    )
    index_episode(small_episode("v2", eid="test-2"), tmp_path, papers=[paper])
    res = s.search("restricted loss excluded loss", k=3, kinds=("paper",))
    assert res and all(r.kind == "paper" for r in res)
    d = res[0].to_dict()
    assert d["title"] == paper.title and d["url"] == paper.url
    assert d["start"] is None and d["end"] is None and d["link"] == "/?episode=test-2"
    only = s.search("attention heads", k=5, kinds=("transcript",), episode="test-2")
    assert only and {r.episode for r in only} == {"test-2"}
    assert all("title" not in r.to_dict() for r in only)


def test_searcher_without_index_is_a_clear_error(tmp_path: Path):
    with pytest.raises(PodlensError, match="no index yet"):
        Searcher(tmp_path)
    assert IndexStore(tmp_path).has_episodes() is False
    assert IndexStore(tmp_path).list_episodes() == []
    assert not (tmp_path / "index").exists()  # reading creates nothing
