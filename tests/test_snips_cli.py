"""``python -m snips``: create, list, show, edit, search, delete, export, highlights; errors."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.pipeline import build_episode
from podlens.errors import PodlensError
from podlens.timecode import MAX_SECONDS, seconds_arg
from snips.__main__ import main
from snips.ai import Summary
from snips.capture import create_snip
from snips.window import MAX_WINDOW, snap
from tests.conftest import EP19_FEED, EP19_MD, REPO
from tests.support.snips_data import make_episode


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    ep = build_episode(str(EP19_FEED), str(EP19_MD), episode=19)
    (d / "episodes").mkdir()
    (d / "episodes" / "axrp-19.json").write_text(json.dumps(ep.to_dict()))
    return d


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_list_edit_search_export_delete_round_trip(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PODLENS_LLM_BASE_URL", raising=False)
    dd = ["--data-dir", str(data_dir)]
    code, out, _ = run(
        capsys,
        "create",
        "--episode",
        "axrp-19",
        "--at",
        "11705",
        "--tag",
        "optim",
        "--note",
        'a "note", with commas',
        "--json",
        *dd,
    )
    assert code == 0
    snip = json.loads(out)
    assert snip["title"] and 1 <= len(snip["takeaways"]) <= 3
    assert snip["end"] >= 11705 - 1 and snip["start"] <= 11705 - 55

    # Same tap again: the same stable id, still one snip.
    code, out, _ = run(capsys, "create", "--episode", "axrp-19", "--at", "11705", "--json", *dd)
    assert json.loads(out)["id"] == snip["id"]
    code, out, _ = run(capsys, "list", "--json", *dd)
    assert [s["id"] for s in json.loads(out)] == [snip["id"]]

    code, out, _ = run(
        capsys,
        "edit",
        snip["id"][:8],
        "--title",
        "Weird optimizers",
        "--add-tag",
        "favourites",
        "--favourite",
        "--json",
        *dd,
    )
    edited = json.loads(out)
    assert edited["title"] == "Weird optimizers" and edited["favourite"] is True
    assert edited["tags"] == ["favourites", "optim"]

    code, out, _ = run(capsys, "search", "adamw", "--json", *dd)
    assert [s["id"] for s in json.loads(out)] == [snip["id"]]
    code, out, _ = run(capsys, "list", "--tag", "optim", *dd)
    assert snip["id"] in out and "Weird optimizers" in out

    code, out, _ = run(capsys, "show", snip["id"], "--json", *dd)
    links = json.loads(out)["links"]
    assert links["audio"].endswith(f"#t={edited['start']:g},{edited['end']:g}".replace(".0,", ","))
    assert links["x"].startswith("https://twitter.com/intent/tweet?")

    out_csv = tmp_path / "r.csv"
    code, out, _ = run(capsys, "export", "--format", "readwise", "--out", str(out_csv), *dd)
    rows = list(csv.DictReader(out_csv.open(newline="")))
    assert rows[0]["Location"] == str(int(edited["start"]))
    assert 'a "note", with commas' in rows[0]["Note"]
    vault = tmp_path / "vault"
    run(capsys, "export", "--format", "obsidian", "--out", str(vault), *dd)
    run(capsys, "export", "--format", "obsidian", "--out", str(vault), *dd)
    notes = list(vault.rglob("*.md"))
    assert len(notes) == 1 and notes[0].read_text().count("### [") == 1

    code, out, _ = run(capsys, "edit", snip["id"], "--start", "11600", "--json", *dd)
    moved = json.loads(out)
    assert moved["start"] < snip["start"] and moved["id"] != snip["id"]
    assert moved["note"] == 'a "note", with commas' and moved["favourite"] is True

    code, out, _ = run(capsys, "delete", moved["id"], *dd)
    assert code == 0
    code, out, _ = run(capsys, "list", "--json", *dd)
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--episode", "nope", "--at", "5"], "episode 'nope' is not in"),
        (["create", "--episode", "axrp-19", "--at", "99999"], "past the end"),
        (["show", "missing"], "no snip with id 'missing'"),
        (["export", "--format", "json"], "no snips to export"),
        (["export", "--format", "notion", "--push"], "NOTION_TOKEN"),
        (["highlights", "--episode", "axrp-19", "-n", "0"], "-n must be between 1 and 50"),
    ],
)
def test_errors_are_one_line_and_exit_2(data_dir, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.delenv("NOTION_TOKEN", raising=False)
    empty = tmp_path / "empty"
    ddir = data_dir if argv[0] in ("create", "highlights") else empty
    code, _out, err = run(capsys, *argv, "--data-dir", str(ddir))
    assert code == 2
    assert err.startswith("python -m snips: error: ") and message in err, err
    assert err.count("\n") == 1


def test_highlights_json_as_a_subprocess(data_dir):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "snips",
            "highlights",
            "--episode",
            "axrp-19",
            "-n",
            "3",
            "--no-titles",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )
    assert r.returncode == 0, r.stderr
    moments = json.loads(r.stdout)
    assert len(moments) == 3 and all(m["start"] < m["end"] for m in moments)
    assert len({m["chapter"] for m in moments}) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "--at", "11705", "--before", "1e12"], "--before must be between 0 and"),
        (["create", "--at", "11705", "--before", "nan"], "--before must be a finite number"),
        (["create", "--at", "11705", "--after", "inf"], "--after must be a finite number"),
        (["create", "--at", "nan"], "--at must be a finite number"),
        (["create", "--at=-inf"], "--at must be a finite number"),
        (["create", "--at", "1e12"], "--at must be between 0 and"),
        (["create", "--at", "11705", "--before", "700"], "a snip is at most 10 minutes"),
        (["create", "--at", "11705", "--before", "500", "--after", "200"], "at most 10 minutes"),
        (["create", "--at", "soon"], "--at must be a time in seconds"),
        (["highlights", "-n", "nan"], "-n must be a whole number"),
        (["highlights", "-n", "100000"], "-n must be between 1 and 50"),
    ],
)
def test_absurd_numbers_are_one_line_errors_and_save_nothing(data_dir, capsys, argv, message):
    before = sorted(p.name for p in data_dir.rglob("*"))
    code, out, err = run(
        capsys, *argv[:1], "--episode", "axrp-19", *argv[1:], "--data-dir", str(data_dir)
    )
    assert code == 2 and out == ""
    assert err.startswith("python -m snips: error: ") and message in err, err
    assert err.count("\n") == 1
    assert sorted(p.name for p in data_dir.rglob("*")) == before  # nothing written


def test_time_flags_accept_seconds_and_clock_times():
    parse = seconds_arg("--at")
    assert parse("11705") == parse("3:15:05") == parse("3h15m5s") == 11705.0
    assert parse("90.5") == 90.5 and parse("1e3") == 1000.0
    with pytest.raises(PodlensError, match="--at must be a finite number"):
        parse("1" * 400)  # a digit string that overflows to infinity


def test_editing_a_window_to_nan_or_hours_is_refused_and_keeps_the_snip(
    data_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("PODLENS_LLM_BASE_URL", raising=False)
    d = tmp_path / "d"
    (d / "episodes").mkdir(parents=True)
    (d / "episodes" / "axrp-19.json").write_text(
        (data_dir / "episodes" / "axrp-19.json").read_text()
    )
    dd = ["--data-dir", str(d)]
    code, out, _ = run(
        capsys, "create", "--episode", "axrp-19", "--at", "11705", "--local", "--json", *dd
    )
    snip = json.loads(out)
    for flags, message in [
        (["--start", "nan"], "--start must be a finite number"),
        (["--end", "inf"], "--end must be a finite number"),
        (["--start", "0", "--end", "11705"], "a snip is at most 10 minutes"),
    ]:
        code, _out, err = run(capsys, "edit", snip["id"], *flags, *dd)
        assert code == 2 and message in err and err.count("\n") == 1, err
    code, out, _ = run(capsys, "show", snip["id"], "--json", *dd)
    kept = json.loads(out)
    assert (kept["start"], kept["end"], kept["quote"]) == (
        snip["start"],
        snip["end"],
        snip["quote"],
    )


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_time_flags_take_only_finite_seconds_in_range(x):
    parse = seconds_arg("--at")
    if math.isfinite(x) and 0 <= x <= MAX_SECONDS:
        assert parse(repr(x)) == x
    else:
        with pytest.raises(PodlensError, match="--at must be"):
            parse(repr(x))


class _Titler:
    """A provider that costs nothing: these tests are about the window, not the title."""

    def summarize(self, quote, context=None):
        return Summary(title="t", takeaways=[], provider="test")


_EP = make_episode(
    [("A", "c1", f"Sentence number {i} is here.", i * 10.0, i * 10.0 + 9.0) for i in range(200)]
)


@settings(max_examples=200, deadline=None)
@given(
    at=st.floats(allow_nan=True, allow_infinity=True),
    before=st.floats(allow_nan=True, allow_infinity=True),
    after=st.floats(allow_nan=True, allow_infinity=True),
)
def test_the_capture_api_refuses_nan_infinity_and_windows_over_ten_minutes(at, before, after):
    try:
        snip = create_snip(_EP, at, before, after, provider=_Titler())
    except PodlensError:
        return
    assert all(math.isfinite(v) for v in (at, before, after))
    assert 0 < before + after <= MAX_WINDOW
    # Snapping to whole sentences may add the rest of the sentence being spoken at each edge.
    assert math.isfinite(snip.start) and math.isfinite(snip.end)
    assert 0 <= snip.end - snip.start <= MAX_WINDOW + 2 * 10


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(allow_nan=True, allow_infinity=True),
    end=st.floats(allow_nan=True, allow_infinity=True),
)
def test_snapping_refuses_nan_infinity_and_windows_over_ten_minutes(start, end):
    try:
        w = snap(_EP, start, end)
    except PodlensError:
        return
    assert math.isfinite(start) and math.isfinite(end) and end - max(0.0, start) <= MAX_WINDOW
    assert w.end - w.start <= MAX_WINDOW + 2 * 10
