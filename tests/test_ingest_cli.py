"""`python -m ingest`: dry-run JSON, the `axrp N` shortcut over real HTTP, and every bad input
giving a one-line error, exit code 2 and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.__main__ import main
from tests.conftest import EP19_FEED, EP19_MD, REPO
from tests.support.axrp_html import render_post_html
from tests.support.httpserver import Route

EP19_PAGE = "/episode/2023/02/04/episode-19-mechanistic-interpretability-neel-nanda.html"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=120,
    )


def _files(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*")) if d.exists() else []


def test_dry_run_json_has_the_contract_shape_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    r = _cli(
        "--feed",
        str(EP19_FEED),
        "--transcript",
        str(EP19_MD),
        "--episode",
        "19",
        "--data-dir",
        str(data),
        "--dry-run",
        "--json",
        "--no-papers",
    )
    assert r.returncode == 0, r.stderr
    ep = json.loads(r.stdout)
    assert {
        "id",
        "title",
        "podcast",
        "published",
        "audio_url",
        "duration",
        "chapters",
        "turns",
    } <= set(ep)
    assert ep["id"] == "axrp-19" and ep["podcast"] == "AXRP - the AI X-risk Research Podcast"
    assert len(ep["chapters"]) == 19 and set(ep["chapters"][0]) == {"title", "start"}
    assert len(ep["turns"]) == 469
    for t in ep["turns"]:
        assert {"speaker", "text", "start", "end", "chapter", "links"} <= set(t)
        assert t["speaker"] and t["end"] >= t["start"]
        assert all(set(lk) == {"text", "url"} for lk in t["links"])
    assert ep["turns"][-1]["end"] == ep["duration"]
    assert not data.exists()


def _serve_axrp(http_server) -> str:
    page = render_post_html(EP19_MD.read_text("utf-8"))
    page_url = http_server.add(EP19_PAGE, Route(page.encode()))
    feed = (
        EP19_FEED.read_text("utf-8")
        .replace(
            "https://axrp.net/episode/2023/02/04/episode-19-mechanistic-interpretability-neel-nanda.html",
            page_url,
        )
        .replace(
            "axrp.net/episode/2023/02/04/episode-19-mechanistic-interpretability-neel-nanda.html",
            page_url,
        )
    )
    return http_server.add("/rss", Route(feed.encode(), "application/rss+xml"))


def test_axrp_shortcut_fetches_feed_and_html_page_over_http(
    http_server, tmp_path, capsys, monkeypatch
):
    feed_url = _serve_axrp(http_server)
    monkeypatch.setenv("PODLENS_AXRP_FEED", feed_url)
    data = tmp_path / "data"
    rc = main(["axrp", "19", "--dry-run", "--json", "--no-papers", "--data-dir", str(data)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    ep = json.loads(out.out)
    assert ep["id"] == "axrp-19" and len(ep["turns"]) == 469
    assert ep["transcript_url"].endswith(EP19_PAGE)
    assert {"/rss", EP19_PAGE} <= set(http_server.hits)
    assert ep["turns"][2]["chapter"] == "What is mechanistic interpretability?"
    assert ep["turns"][2]["start"] == 65.0
    assert not data.exists()


def test_axrp_shortcut_feed_flag_overrides_env(http_server, tmp_path):
    feed_url = _serve_axrp(http_server)
    r = _cli(
        "axrp",
        "19",
        "--feed",
        feed_url,
        "--dry-run",
        "--no-papers",
        "--data-dir",
        str(tmp_path / "d"),
        env={"PODLENS_AXRP_FEED": "http://127.0.0.1:9/x"},
    )
    assert r.returncode == 0, r.stderr
    assert "axrp-19" in r.stdout and not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("malformed_feed", "malformed feed"),
        ("unknown_episode", "episode 99 not in the feed"),
        ("unreachable", "unreachable"),
        ("http_404", "HTTP 404"),
        ("empty_transcript", "empty"),
        ("non_utf8_transcript", "not UTF-8"),
    ],
)
def test_bad_input_gives_one_line_error_exit_2_and_writes_nothing(
    case, message, tmp_path, http_server
):
    data = tmp_path / "data"
    feed, transcript, episode = str(EP19_FEED), str(EP19_MD), "19"
    if case == "malformed_feed":
        feed = str(tmp_path / "bad.xml")
        Path(feed).write_text("<rss><channel><item><title>oops</title></chan")
    elif case == "unknown_episode":
        episode = "99"
    elif case == "unreachable":
        feed = "http://127.0.0.1:9/feed.xml"  # discard port: nothing listens
    elif case == "http_404":
        transcript = http_server.url("/missing.html")
    elif case == "empty_transcript":
        transcript = http_server.add("/empty.html", Route(b""))
    elif case == "non_utf8_transcript":
        transcript = str(tmp_path / "latin1.markdown")
        Path(transcript).write_bytes("**Daniel Filan:**\nCaf\u00e9 na\u00efve\n".encode("latin-1"))
    r = _cli(
        "--feed",
        feed,
        "--transcript",
        transcript,
        "--episode",
        episode,
        "--data-dir",
        str(data),
        "--no-papers",
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ingest: error: "), r.stderr
    assert message in lines[0]
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert _files(data) == []


def test_usage_errors_are_one_line_exit_2(capsys):
    assert main(["--feed", str(EP19_FEED)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ingest: error:")


def test_status_exit_code_reflects_whether_anything_is_ingested(tmp_path):
    assert main(["status", "--quiet", "--data-dir", str(tmp_path / "empty")]) == 1


def test_align_eval_prints_table_and_summary(capsys):
    assert main(["align-eval", "--feed", str(EP19_FEED), "--transcripts", str(EP19_MD.parent)]) == 0
    out = capsys.readouterr().out
    assert "uniform words (baseline)" in out and "per-speaker rates (model)" in out
    assert "17 held-out chapter starts" in out
