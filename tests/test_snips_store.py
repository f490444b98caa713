"""The snip library: SQLite WAL, stable ids, filters, search, edits, concurrent saves."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import threading

import pytest

from podlens.errors import PodlensError
from snips.store import Snip, SnipStore, snip_id
from tests.support.snips_data import awkward_snip


def _snip(ep: str, start: float, **kw) -> Snip:
    return Snip(episode=ep, start=start, end=start + 60, quote=f"quote {ep} {start}", **kw)


def test_library_is_sqlite_wal_in_the_data_dir_and_survives_reopening(tmp_path):
    store = SnipStore(tmp_path)
    saved = store.save(awkward_snip())
    assert (tmp_path / "snips.db").exists()
    con = sqlite3.connect(tmp_path / "snips.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    again = SnipStore(tmp_path).get(saved.id)
    assert again == saved
    assert again.tags == ["ai safety", "optimizers"]
    assert again.takeaways == saved.takeaways and again.favourite is True


def test_snip_id_is_stable_for_the_same_moment_and_saving_twice_keeps_one_row(tmp_path):
    store = SnipStore(tmp_path)
    a = store.save(_snip("ep", 10, note="first", tags=["x"]))
    b = store.save(_snip("ep", 10, tags=["y"]))
    assert a.id == b.id == snip_id("ep", 10, 70)
    assert len(store.list()) == 1
    got = store.get(a.id)
    assert got.note == "first" and got.tags == ["x", "y"] and got.created == a.created


def test_list_filters_by_episode_tag_and_favourite_in_stable_order(tmp_path):
    store = SnipStore(tmp_path)
    store.save(_snip("b", 5, tags=["t1"]))
    store.save(_snip("a", 50, tags=["t2"], favourite=True))
    store.save(_snip("a", 5, tags=["T1"]))
    assert [(s.episode, s.start) for s in store.list()] == [("a", 5), ("a", 50), ("b", 5)]
    assert [s.start for s in store.list(episode="a")] == [5, 50]
    assert [(s.episode, s.start) for s in store.list(tag="#t1")] == [("a", 5), ("b", 5)]
    assert [s.start for s in store.list(favourite=True)] == [50]
    assert store.tags() == [("t1", 2), ("t2", 1)]


def test_search_within_snips_matches_every_word_anywhere(tmp_path):
    store = SnipStore(tmp_path)
    store.save(_snip("a", 1, title="Optimizer weirdness", note="AdamW matters"))
    store.save(_snip("a", 100, title="Induction heads", takeaways=["Heads copy tokens."]))
    store.save(_snip("a", 200, title="100% sure_thing"))
    assert [s.start for s in store.search("adamw OPTIMIZER")] == [1]
    assert [s.start for s in store.search("copy")] == [100]
    assert [s.start for s in store.search("100%")] == [200]
    assert store.search("_") == [s for s in store.list() if "_" in s.title]
    assert store.search("nothing-like-this") == []


def test_edit_and_delete(tmp_path):
    store = SnipStore(tmp_path)
    s = store.save(_snip("a", 1))
    e = store.update(s.id, title="New", note="n", tags=["Z", "#z"], favourite=True)
    assert (e.title, e.note, e.tags, e.favourite) == ("New", "n", ["z"], True)
    assert store.get(s.id[:6]).title == "New"  # unique prefix
    with pytest.raises(PodlensError, match="cannot edit"):
        store.update(s.id, id="x")
    store.delete(s.id)
    assert store.list() == []
    with pytest.raises(PodlensError, match="no snip"):
        store.delete(s.id)
    with pytest.raises(PodlensError, match="no snip"):
        store.get("nope")


def test_a_failed_write_leaves_the_library_unchanged(tmp_path):
    store = SnipStore(tmp_path)
    store.save(_snip("a", 1, title="kept"))
    bad = _snip("a", 1, title="half-written")
    bad.takeaways = [object()]  # not JSON-serialisable: fails inside the transaction
    with pytest.raises(TypeError):
        store.save(bad)
    assert [s.title for s in store.list()] == ["kept"]


def _save_many(data_dir: str, worker: int, n: int) -> None:
    store = SnipStore(data_dir)
    for i in range(n):
        store.save(_snip(f"ep{worker}", float(i), tags=[f"w{worker}"]))


def test_concurrent_saves_from_two_processes_all_land(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_save_many, args=(str(tmp_path), w, 25)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = SnipStore(tmp_path)
    assert len(store.list(episode="ep1")) == 25
    assert len(store.list(episode="ep2")) == 25
    assert store.tags() == [("w1", 25), ("w2", 25)]


def test_concurrent_saves_from_threads_all_land(tmp_path):
    threads = [threading.Thread(target=_save_many, args=(str(tmp_path), w, 20)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(SnipStore(tmp_path).list()) == 80
