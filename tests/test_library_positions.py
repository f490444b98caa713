"""Listening positions (``library.positions``): saved per episode in the data dir, atomically,
and "Continue listening" offers only what was started and not finished."""

from __future__ import annotations

import json

import pytest

from library.positions import FILE, PositionStore
from podlens.errors import PodlensError


def test_a_saved_position_is_read_back_by_a_new_store(tmp_path):
    PositionStore(tmp_path).save("axrp-19", 7182.44, 14000)
    got = PositionStore(tmp_path).get("axrp-19")
    assert got is not None and got.t == 7182.4 and got.duration == 14000 and got.in_progress
    assert json.loads((tmp_path / FILE).read_text())["axrp-19"]["t"] == 7182.4


def test_continue_listening_lists_started_unfinished_episodes_newest_first(tmp_path, monkeypatch):
    store = PositionStore(tmp_path)
    times = (f"2026-01-01T00:00:{i:02d}" for i in range(60))  # each save a second later

    class Clock:
        @staticmethod
        def now(tz=None):
            class T:
                def isoformat(self, timespec=None):
                    return next(times)

            return T()

    monkeypatch.setattr("library.positions.datetime", Clock)
    store.save("a", 600, 3600)
    store.save("peeked", 5, 3600)  # a peek is not listening
    store.save("b", 1200, None)
    store.save("done", 3590, 3600)  # the outro: heard
    assert [p.episode for p in store.recent()] == ["b", "a"]


@pytest.mark.parametrize("bad", [-1, float("nan"), "soon", None])
def test_a_bad_position_is_refused_and_leaves_the_file_alone(tmp_path, bad):
    store = PositionStore(tmp_path)
    store.save("a", 100)
    before = (tmp_path / FILE).read_bytes()
    with pytest.raises(PodlensError):
        store.save("a", bad)
    assert (tmp_path / FILE).read_bytes() == before


def test_a_damaged_file_reads_as_empty_and_is_replaced_on_save(tmp_path):
    (tmp_path / FILE).write_text("{not json", encoding="utf-8")
    store = PositionStore(tmp_path)
    assert store.get("a") is None and store.recent() == []
    store.save("a", 100)
    assert store.get("a").t == 100
