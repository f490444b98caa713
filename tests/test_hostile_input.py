"""Hostile feeds and bad input on the way in (issue 17): links a feed may not make us follow,
clocks that are not clocks, servers that drip or flood, and read-only data dirs.

Each case is a one-line error with exit 2 and nothing written, or a repair with a warning.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.__main__ import main as ingest_main
from ingest.feed import MAX_CHAPTERS, FeedWarning, chapters_from_json, clean_chapters
from podlens.errors import PodlensError
from podlens.http import FetchError, HttpClient, HttpConfig, check_destination, non_public_reason
from podlens.models import Chapter
from tests.support.httpserver import Route

TRANSCRIPT_MD = """---
title: "1 - Test"
---

## Intro <a name="intro"></a>

**Host:** Hello and welcome to the show, today we talk about things.

**Guest:** Thanks for having me, it is good to be here.

## Main <a name="main"></a>

**Host:** So what is it that you study?

**Guest:** It is a thing about neural networks and how they learn.
"""


def feed_xml(extra: str = "", duration: str = "0:30:00", enclosure: str = "") -> bytes:
    """A one-item feed; ``extra`` goes inside the item (chapters/transcript tags)."""
    enc = enclosure or "http://example.invalid/1.mp3"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Test Cast</title><link>http://example.invalid/</link>
<item><title>1 - Test</title><guid>t-1</guid><itunes:episode>1</itunes:episode>
<itunes:duration>{duration}</itunes:duration>
<enclosure url="{enc}" type="audio/mpeg" length="1"/>
<description>Notes.</description>{extra}</item>
</channel></rss>""".encode()


def run_ingest(capsys, *args: str) -> tuple[int, str, str]:
    rc = ingest_main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def dry_run(capsys, feed, transcript) -> tuple[int, str, str]:
    """``ingest --feed FEED --episode 1 --transcript T --dry-run --json``."""
    return run_ingest(
        capsys,
        "--feed",
        str(feed),
        "--episode",
        "1",
        "--transcript",
        str(transcript),
        "--dry-run",
        "--json",
    )


def no_local_allowance(monkeypatch) -> None:
    """The listener's default: no PODLENS_ALLOW_HOSTS (the suite sets one for its server)."""
    monkeypatch.delenv("PODLENS_ALLOW_HOSTS", raising=False)


# -- 1. links a feed may not make us follow ----------------------------------------------------


@pytest.mark.parametrize("target", ["/etc/passwd", "/no/such/file.markdown"])
def test_a_feed_transcript_link_to_a_local_file_is_refused_without_saying_if_it_exists(
    http_server, tmp_path, capsys, monkeypatch, target
):
    no_local_allowance(monkeypatch)
    tag = f'<podcast:transcript url="file://{target}" type="text/html"/>'
    feed = http_server.add("/feed.xml", Route(feed_xml(tag), "application/rss+xml"))
    data = tmp_path / "data"
    rc, out, err = run_ingest(capsys, "--feed", feed, "--episode", "1", "--data-dir", str(data))
    assert rc == 2 and out == ""
    assert err == (
        f"ingest: error: transcript file://{target}: refused: a feed may link http(s) URLs "
        "only, not 'file' URLs\n"
    )
    assert not data.exists()


def test_a_feed_chapters_link_to_loopback_is_refused_unless_the_listener_allows_it(
    http_server, tmp_path, capsys, monkeypatch
):
    md = tmp_path / "t.md"
    md.write_text(TRANSCRIPT_MD)
    chapters = json.dumps({"chapters": [{"startTime": 0, "title": "Intro"}]}).encode()
    ch_url = http_server.add("/chapters.json", Route(chapters, "application/json"))
    tag = f'<podcast:chapters url="{ch_url}" type="application/json+chapters"/>'
    feed = http_server.add("/feed.xml", Route(feed_xml(tag), "application/rss+xml"))
    data = tmp_path / "data"
    argv = ["--feed", feed, "--episode", "1", "--transcript", str(md), "--data-dir", str(data)]

    no_local_allowance(monkeypatch)
    rc, out, err = run_ingest(capsys, *argv, "--no-papers")
    assert rc == 2 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"ingest: error: chapters {ch_url}: refused: 127.0.0.1 is a loopback")
    assert "PODLENS_ALLOW_HOSTS" in err
    assert "/chapters.json" not in http_server.hits  # refused before connecting
    assert not data.exists()

    monkeypatch.setenv("PODLENS_ALLOW_HOSTS", "127.0.0.1")
    rc, out, err = run_ingest(capsys, *argv, "--dry-run", "--json")
    assert rc == 0, err
    assert json.loads(out)["chapters"] == [{"title": "Intro", "start": 0.0}]


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(
    http_server, tmp_path, capsys, monkeypatch
):
    """Every hop is checked: ``localhost`` is allowed, the 127.0.0.1 it redirects to is not."""
    monkeypatch.setenv("PODLENS_ALLOW_HOSTS", "localhost")
    target = http_server.add("/secret.json", Route(b'{"chapters": []}', "application/json"))
    hop = http_server.add("/hop", Route(status=302, headers={"Location": target}))
    hop = hop.replace("127.0.0.1", "localhost")
    tag = f'<podcast:chapters url="{hop}" type="application/json+chapters"/>'
    feed = http_server.add("/feed.xml", Route(feed_xml(tag), "application/rss+xml"))
    md = tmp_path / "t.md"
    md.write_text(TRANSCRIPT_MD)
    rc, _, err = run_ingest(
        capsys, "--feed", feed, "--episode", "1", "--transcript", str(md), "--dry-run"
    )
    assert rc == 2 and "refused: 127.0.0.1 is a loopback address" in err
    assert "/secret.json" not in http_server.hits


def test_a_relative_chapters_link_in_a_local_feed_is_not_read_as_a_local_file(
    tmp_path, capsys, monkeypatch
):
    (tmp_path / "chapters.json").write_text('{"chapters": [{"startTime": 0}]}')
    feed = tmp_path / "feed.xml"
    feed.write_bytes(feed_xml('<podcast:chapters url="chapters.json" type="application/json"/>'))
    monkeypatch.chdir(tmp_path)
    rc, _, err = run_ingest(capsys, "--feed", str(feed), "--episode", "1", "--dry-run")
    assert rc == 2
    assert err == (
        "ingest: error: chapters chapters.json: refused: a feed may link http(s) URLs only, "
        "not relative links or local paths\n"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "private"),  # carrier-grade NAT
        ("240.0.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_only_public_addresses_count_as_public(address, why):
    reason = non_public_reason(address)
    assert (reason is None) == (why is None)


def test_a_public_only_fetch_refuses_other_schemes_and_private_hosts_before_connecting():
    cfg = HttpConfig(public_only=True)
    for url, msg in [
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("ftp://example.org/x", "unsupported URL scheme 'ftp'"),
        ("http://10.0.0.8/feed", "refused: 10.0.0.8 is a private address"),
        ("http://[::1]:8080/x", "refused: ::1 is a loopback address"),
        ("http://localhost/x", "refused: localhost (127.0.0.1) is a loopback address"),
    ]:
        with pytest.raises(FetchError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            check_destination(url, cfg)
    check_destination("http://localhost/x", HttpConfig(public_only=True, allow_hosts={"localhost"}))
    check_destination("http://10.0.0.8/x", HttpConfig())  # the listener's own URL: any host


def test_an_enclosure_that_is_not_http_is_dropped_with_a_warning(tmp_path, capsys):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(feed_xml(enclosure="javascript:alert(1)"))
    md = tmp_path / "t.md"
    md.write_text(TRANSCRIPT_MD)
    rc, out, err = dry_run(capsys, feed, md)
    assert rc == 0, err
    assert json.loads(out)["audio_url"] is None
    assert "ingest: warning: enclosure 'javascript:alert(1)' is not an http(s) URL" in err


# -- 3. clocks that are not clocks ---------------------------------------------------------------


def strict_json(text: str):  # type: ignore[no-untyped-def]
    def refuse(name: str):  # type: ignore[no-untyped-def]
        raise AssertionError(f"bare {name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def test_nan_infinite_negative_late_repeated_and_unordered_chapters_are_repaired_with_warnings(
    http_server, tmp_path, capsys
):
    chapters = (
        '{"chapters": ['
        '{"startTime": 0, "title": "Intro"},'
        '{"startTime": "Infinity", "title": "Inf string"},'
        '{"startTime": NaN, "title": "NaN literal"},'
        '{"startTime": 1e999, "title": "Overflow"},'
        '{"startTime": -5, "title": "Negative"},'
        '{"startTime": true, "title": "Bool"},'
        '{"title": "No time"},'
        '{"startTime": 900, "title": "Main"},'
        '{"startTime": 600, "title": "Earlier"},'
        '{"startTime": 900, "title": "Main"},'
        '{"startTime": 99999, "title": "Past the end"}'
        "]}"
    )
    ch_url = http_server.add("/c.json", Route(chapters.encode(), "application/json"))
    tag = f'<podcast:chapters url="{ch_url}" type="application/json+chapters"/>'
    feed = http_server.add("/feed.xml", Route(feed_xml(tag), "application/rss+xml"))
    md = tmp_path / "t.md"
    md.write_text(TRANSCRIPT_MD)
    rc, out, err = dry_run(capsys, feed, md)
    assert rc == 0, err
    ep = strict_json(out)
    assert ep["chapters"] == [
        {"title": "Intro", "start": 0.0},
        {"title": "Earlier", "start": 600.0},
        {"title": "Main", "start": 900.0},
    ]
    warnings = [ln for ln in err.splitlines() if ln.startswith("ingest: warning: ")]
    text = "\n".join(warnings)
    assert "dropped 6 chapter(s) whose startTime is missing, not a number, NaN" in text
    assert "out of order; sorted" in text
    assert "dropped 1 repeated chapter(s)" in text
    assert "dropped 1 chapter(s) starting at or after the end of the episode (30:00)" in text


@pytest.mark.parametrize("raw", ["NaN", "inf", "-5", "1" * 400, "garbage", "0"])
def test_an_unusable_itunes_duration_is_ignored_with_a_warning(tmp_path, capsys, raw):
    feed = tmp_path / "feed.xml"
    notes = b"<description>00:00:00 - Intro&lt;br/&gt;00:10:00 - Main"
    feed.write_bytes(feed_xml(duration=raw).replace(b"<description>Notes.", notes))
    md = tmp_path / "t.md"
    md.write_text(TRANSCRIPT_MD)
    rc, out, err = dry_run(capsys, feed, md)
    assert rc == 0, err
    ep = strict_json(out)
    assert ep["duration_estimated"] is True
    assert "ingest: warning: itunes:duration" in err and "not a usable duration" in err


def test_chapters_past_the_cap_are_cut_with_a_warning():
    text = json.dumps({"chapters": [{"startTime": i, "title": f"c{i}"} for i in range(1500)]})
    with pytest.warns(FeedWarning, match=f"1500 chapters; kept the first {MAX_CHAPTERS}"):
        out = chapters_from_json(text, "c.json")
    assert len(out) == MAX_CHAPTERS and out[-1].start == MAX_CHAPTERS - 1


def test_a_chapters_file_with_no_usable_time_is_one_line_error():
    with pytest.warns(FeedWarning), pytest.raises(PodlensError, match="no chapter has a usable"):
        chapters_from_json('{"chapters": [{"startTime": "NaN"}]}', "c.json")


def test_chapters_sharing_a_start_with_different_titles_are_kept():
    """Real feeds list a section and its first subsection at one time (AXRP 19 does)."""
    both = [Chapter("Section", 60.0), Chapter("Its first part", 60.0)]
    assert clean_chapters(both, 3600.0, "x") == both


# -- 8. servers that drip or flood ----------------------------------------------------------------


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sent = 0  # bytes of /flood written before the client hung up

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        try:
            if self.path == "/drip-body":  # headers at once, then a byte every 0.2 s
                self.send_response(200)
                self.send_header("Content-Length", "10000")
                self.end_headers()
                for _ in range(10000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif self.path == "/drip-headers":  # never finishes its status line and headers
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(10000):
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif self.path == "/flood":  # an endless body with no Content-Length
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                block = b"a" * 65536
                while True:
                    self.wfile.write(block)
                    type(self).sent += len(block)
        except OSError:  # the client gave up: what we want
            return


@pytest.fixture
def hostile_server() -> Iterator[str]:
    _Hostile.sent = 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_server_that_drips_bytes_fails_at_the_overall_deadline(hostile_server, path):
    config = HttpConfig(max_seconds=1.0, read_timeout=5.0, retries=2, backoff=0.01)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out \(no complete answer within 1 s\)"):
        HttpClient(config).get(hostile_server + path)
    assert time.monotonic() - t0 < 3.0  # each read came well within read_timeout


def test_the_fetch_deadline_setting_bounds_a_feed_read(hostile_server, monkeypatch):
    from ingest.source import read_text

    monkeypatch.setenv("PODLENS_FETCH_DEADLINE", "0.8")
    t0 = time.monotonic()
    with pytest.raises(PodlensError, match=r"^feed http://\S+/drip-body: timed out"):
        read_text(hostile_server + "/drip-body", "feed")
    assert time.monotonic() - t0 < 3.0


def test_an_endless_body_stops_at_the_size_cap_while_streaming(hostile_server, monkeypatch):
    from ingest.source import read_text

    monkeypatch.setenv("PODLENS_FETCH_MAX_MB", "1")
    t0 = time.monotonic()
    with pytest.raises(PodlensError, match=r"feed \S+: response too large \(over 1 MB\)"):
        read_text(hostile_server + "/flood", "feed")
    assert time.monotonic() - t0 < 5.0
    time.sleep(0.2)
    # The server could only push what fits in the socket buffers past the 1 MB read.
    assert _Hostile.sent < 64 * 1024 * 1024


def test_a_declared_body_over_the_cap_is_refused_unread(http_server):
    url = http_server.add("/big", Route(b"x" * (3 * 1024 * 1024)))
    with pytest.raises(FetchError, match=r"response too large \(over 2 MB\)"):
        HttpClient(HttpConfig(max_bytes=2 * 1024 * 1024, retries=0)).get(url)


def test_a_transcript_longer_than_any_episode_is_one_line_error(tmp_path, capsys, monkeypatch):
    import ingest.transcript as transcript

    monkeypatch.setattr(transcript, "MAX_TRANSCRIPT_WORDS", 20)
    feed = tmp_path / "feed.xml"
    feed.write_bytes(feed_xml())
    md = tmp_path / "t.md"
    md.write_text(TRANSCRIPT_MD)
    data = tmp_path / "data"
    rc, out, err = run_ingest(
        capsys,
        "--feed",
        str(feed),
        "--episode",
        "1",
        "--transcript",
        str(md),
        "--data-dir",
        str(data),
    )
    assert rc == 2 and out == ""
    assert err == f"ingest: error: transcript {md}: too long (39 words; at most 20)\n"
    assert not data.exists()


def test_a_transcript_file_over_the_size_cap_is_refused_before_reading(tmp_path, monkeypatch):
    from ingest.source import read_text

    monkeypatch.setenv("PODLENS_FETCH_MAX_MB", "1")
    big = tmp_path / "big.md"
    big.write_bytes(b"word " * 300_000)
    with pytest.raises(PodlensError, match=r"^transcript \S+big.md: too large \(over 1 MB\)$"):
        read_text(str(big), "transcript")


def test_nan_and_infinite_fetch_settings_are_refused(monkeypatch):
    from podlens.config import settings

    for name in ("PODLENS_FETCH_DEADLINE", "PODLENS_FETCH_MAX_MB"):
        for bad in ("nan", "inf", "-1", "0"):
            monkeypatch.setenv(name, bad)
            with pytest.raises(PodlensError, match=name):
                settings()
        monkeypatch.delenv(name)


# -- 4. a read-only data dir ---------------------------------------------------------------------


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` (recursively) truly read-only for this process.  As root, permission bits
    stop nothing, so the tree is made immutable (``chattr +i``); elsewhere ``chmod a-w``."""
    if os.geteuid() == 0:
        r = subprocess.run(["chattr", "-R", "+i", str(path)], capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True)
            pytest.skip(f"cannot make a read-only folder as root here: {r.stderr.strip()}")
        undo = ["chattr", "-R", "-i", str(path)]
    else:
        subprocess.run(["chmod", "-R", "a-w", str(path)], check=True)
        undo = ["chmod", "-R", "u+w", str(path)]
    try:
        with pytest.raises(OSError):  # the mechanism really stops writes
            (path / "probe").write_text("x")
        yield
    finally:
        subprocess.run(undo, check=True)


def _tree(path: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(path.rglob("*"))
    }


@pytest.fixture
def ro_data(ep19_data_dir, tmp_path) -> Iterator[Path]:
    """A copy of the episode-19 data dir with one snip, made read-only."""
    from snips.store import Snip, SnipStore

    d = tmp_path / "ro"
    shutil.copytree(ep19_data_dir, d)
    SnipStore(d).save(Snip(episode="axrp-19", start=60.0, end=90.0, quote="q", title="Kept"))
    with read_only(d):
        yield d


def test_reads_work_in_a_read_only_data_dir_and_write_nothing(ro_data):
    import sys

    before = _tree(ro_data)
    py = sys.executable
    for args, expect in [
        (["-m", "index", "list"], "axrp-19"),
        (["-m", "ingest", "status"], "episodes ingested"),
        (["-m", "snips", "list"], "Kept"),
        (["-m", "index", "search", "induction heads", "-k", "2"], "axrp-19"),
    ]:
        r = subprocess.run(
            [py, *args, "--data-dir", str(ro_data)],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": "."},
            timeout=300,
        )
        assert r.returncode == 0, (args, r.stderr)
        assert expect in r.stdout, (args, r.stdout)
        assert "Traceback" not in r.stderr
    assert _tree(ro_data) == before


def test_writes_to_a_read_only_data_dir_fail_with_one_line(ro_data, capsys, monkeypatch):
    from snips.__main__ import main as snips_main

    before = _tree(ro_data)
    rc = snips_main(["create", "--episode", "axrp-19", "--at", "300", "--data-dir", str(ro_data)])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("python -m snips: error: cannot write the snip library")

    # ingest refuses before reading the feed: the feed does not even exist.
    import library.pipeline as lp

    monkeypatch.setattr(lp, "build_episode", lambda *a, **k: pytest.fail("parsed anyway"))
    rc, out, err = run_ingest(
        capsys, "--feed", "/no/such/feed.xml", "--episode", "1", "--data-dir", str(ro_data)
    )
    assert rc == 2 and out == ""
    assert err.startswith(f"ingest: error: data directory {ro_data / 'index'} is read-only")
    assert len(err.splitlines()) == 1
    assert _tree(ro_data) == before


def test_ingest_checks_the_data_dir_is_writable_before_parsing(tmp_path, capsys, monkeypatch):
    """The same check where no read-only mechanism exists: a folder that refuses new files."""
    import tempfile

    import library.pipeline as lp

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(lp, "build_episode", lambda *a, **k: pytest.fail("parsed anyway"))
    rc, _, err = run_ingest(
        capsys, "--feed", "f.xml", "--episode", "1", "--data-dir", str(tmp_path / "d")
    )
    assert rc == 2
    assert err == (
        f"ingest: error: data directory {tmp_path / 'd' / 'index'} is read-only "
        "(Permission denied): nothing was written\n"
    )


def test_a_snip_library_that_does_not_exist_yet_lists_empty_and_creates_nothing(tmp_path):
    from snips.store import SnipStore

    store = SnipStore(tmp_path / "new")
    assert store.list() == [] and store.tags() == []
    assert not (tmp_path / "new").exists()
