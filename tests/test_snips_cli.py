"""``python -m snips``: create, list, show, edit, search, delete, export, highlights; errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from ingest.pipeline import build_episode
from snips.__main__ import main
from tests.conftest import EP19_FEED, EP19_MD, REPO


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
        (["create", "--episode", "axrp-19", "--at", "999999"], "past the end"),
        (["show", "missing"], "no snip with id 'missing'"),
        (["export", "--format", "json"], "no snips to export"),
        (["export", "--format", "notion", "--push"], "NOTION_TOKEN"),
        (["highlights", "--episode", "axrp-19", "-n", "0"], "-n must be at least 1"),
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
