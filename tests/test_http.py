"""The one HTTP client against a real local HTTP server: limits, retries, redirects, the cache."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podlens.http import MB, USER_AGENT, FetchError, HttpClient, HttpConfig
from tests.support.httpserver import Route


def fast_config(**kw) -> HttpConfig:
    base = dict(
        connect_timeout=2.0,
        read_timeout=0.5,
        retries=2,
        backoff=0.01,
        min_interval=0.0,
        host_intervals={},
        max_bytes=20 * MB,
    )
    base.update(kw)
    return HttpConfig(**base)


def cached_client(data_dir, config: HttpConfig, **kw) -> HttpClient:
    """A client caching under ``data_dir/cache/http``, as the paper fetcher's does."""
    return HttpClient(config, cache_dir=data_dir / "cache" / "http", **kw)


def test_a_second_fetch_of_a_url_is_served_from_the_disk_cache(http_server, tmp_path):
    url = http_server.add("/paper.html", Route(b"<html><p>hello</p></html>"))
    first = cached_client(tmp_path, fast_config()).get(url)
    assert first.body == b"<html><p>hello</p></html>" and not first.from_cache
    hits = len(http_server.hits)
    # A new fetcher (a re-ingest) over the same data dir makes no request.
    again = cached_client(tmp_path, fast_config()).get(url)
    assert again.from_cache and again.body == first.body
    assert again.content_type.startswith("text/html")
    assert len(http_server.hits) == hits
    cached = list((tmp_path / "cache" / "http").rglob("*"))
    assert any(p.suffix == ".body" for p in cached) and any(p.suffix == ".json" for p in cached)
    assert not any(p.name.endswith(".tmp") for p in cached)


def test_a_404_fails_with_its_status_and_is_not_retried_or_cached(http_server, tmp_path):
    url = http_server.url("/missing")
    f = cached_client(tmp_path, fast_config())
    with pytest.raises(FetchError, match="HTTP 404"):
        f.get(url)
    assert http_server.hits == ["/missing"]
    with pytest.raises(FetchError):
        f.get(url)
    assert len(http_server.hits) == 2


def test_a_server_that_never_answers_in_time_fails_as_a_timeout_after_the_retries(
    http_server, tmp_path
):
    url = http_server.add("/slow", Route(b"late", delay=1.5))
    f = cached_client(tmp_path, fast_config(read_timeout=0.3, retries=1))
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        f.get(url)
    assert time.monotonic() - t0 < 3
    assert http_server.hits == ["/slow", "/slow"]


def test_a_redirect_to_itself_is_reported_as_a_loop(http_server, tmp_path):
    url = http_server.add("/loop", Route(status=302, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirect loop"):
        cached_client(tmp_path, fast_config()).get(url)
    assert len(http_server.hits) == 1


def test_a_two_step_redirect_loop_is_reported_too(http_server, tmp_path):
    http_server.add("/a", Route(status=301, headers={"Location": "/b"}))
    url = http_server.add("/b", Route(status=302, headers={"Location": "/a"}))
    with pytest.raises(FetchError, match="redirect loop"):
        cached_client(tmp_path, fast_config()).get(url)


def test_redirects_are_followed_and_the_final_url_kept(http_server, tmp_path):
    http_server.add("/pdf/2301.05217", Route(status=301, headers={"Location": "/pdf/final"}))
    http_server.add("/pdf/final", Route(b"%PDF-1.4 ...", content_type="application/pdf"))
    res = cached_client(tmp_path, fast_config()).get(http_server.url("/pdf/2301.05217"))
    assert res.final_url == http_server.url("/pdf/final") and res.body.startswith(b"%PDF")


def test_a_50_mb_response_is_refused_without_reading_it(http_server, tmp_path):
    big = b"%PDF-1.4\n" + b"0" * (50 * MB)
    url = http_server.add("/huge.pdf", Route(big, content_type="application/pdf"))
    f = cached_client(tmp_path, fast_config())
    with pytest.raises(FetchError, match=r"too large \(over 20 MB\)"):
        f.get(url)
    assert not list(tmp_path.rglob("*.body"))


class _NoLengthHandler(BaseHTTPRequestHandler):
    """Streams a body without Content-Length (HTTP/1.0, ends at close): only the running count
    can catch it."""

    protocol_version = "HTTP/1.0"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        try:
            for _ in range(50):
                self.wfile.write(b"x" * MB)
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_a_body_without_content_length_is_cut_off_at_the_size_limit(tmp_path):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _NoLengthHandler)
    srv.daemon_threads = True
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/stream"
        with pytest.raises(FetchError, match="too large"):
            cached_client(tmp_path, fast_config(max_bytes=2 * MB)).get(url)
    finally:
        srv.shutdown()
        srv.server_close()


def test_5xx_and_429_are_retried_with_exponential_backoff_then_succeed(http_server, tmp_path):
    calls = {"n": 0}
    statuses = [503, 429, 200]

    def body() -> bytes:
        # The server reads Route.status after calling body(): answer 503, then 429, then 200.
        route.status = statuses[calls["n"]]
        calls["n"] += 1
        return b"ok" if route.status == 200 else b"busy"

    route = Route(body, headers={"Retry-After": "0"})
    url = http_server.add("/flaky", route)
    slept: list[float] = []
    f = cached_client(tmp_path, fast_config(backoff=0.5, retries=3), sleep=slept.append)
    assert f.get(url).body == b"ok"
    assert http_server.hits == ["/flaky"] * 3
    assert slept == [0.5, 1.0]


def test_retry_after_is_honoured_up_to_the_backoff_cap(http_server, tmp_path):
    url = http_server.add("/busy", Route(b"slow down", status=429, headers={"Retry-After": "120"}))
    slept: list[float] = []
    f = cached_client(tmp_path, fast_config(retries=2, max_backoff=7.0), sleep=slept.append)
    with pytest.raises(FetchError, match="HTTP 429"):
        f.get(url)
    assert slept == [7.0, 7.0]
    assert len(http_server.hits) == 3


def test_requests_to_one_host_are_spaced_by_the_rate_limit(http_server, tmp_path):
    for i in range(3):
        http_server.add(f"/p{i}", Route(b"x"))
    f = cached_client(tmp_path, fast_config(min_interval=0.25))
    t0 = time.monotonic()
    for i in range(3):
        f.get(http_server.url(f"/p{i}"))
    assert time.monotonic() - t0 >= 0.5  # three requests, two gaps
    # Cached answers cost no wait.
    t1 = time.monotonic()
    for i in range(3):
        f.get(http_server.url(f"/p{i}"))
    assert time.monotonic() - t1 < 0.2


class _UserAgentRecorder(BaseHTTPRequestHandler):
    """Answers any GET with text and any POST with a JSON chat completion that is also a Notion
    page; records each request's User-Agent in ``server.seen``."""

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, body: bytes, content_type: str) -> None:
        self.server.seen.append((self.command, self.headers.get("User-Agent")))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(b"ok", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        summary = json.dumps({"title": "T", "takeaways": ["A."]})
        body = {"id": "page-1", "choices": [{"message": {"content": summary}}]}
        self._answer(json.dumps(body).encode(), "application/json")


@pytest.fixture
def recorder():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _UserAgentRecorder)
    srv.daemon_threads = True
    srv.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_client_says_who_it_is(recorder, tmp_path):
    srv, base = recorder
    cached_client(tmp_path, fast_config(user_agent="Podlens-test/1.0 (+contact)")).get(base + "/")
    assert srv.seen == [("GET", "Podlens-test/1.0 (+contact)")]
    assert HttpConfig().user_agent.startswith("Podlens/")


def test_every_outside_request_goes_out_with_the_one_user_agent(recorder):
    from ingest.source import read_text
    from snips.ai import OpenAIProvider
    from snips.export import NotionClient

    srv, base = recorder
    assert read_text(base + "/feed.xml", "feed") == "ok"  # a feed or transcript URL
    assert OpenAIProvider(base + "/v1", "m").summarize("A quote.").title == "T"  # the LLM
    assert NotionClient("t", base + "/v1").call("POST", "/pages", {})["id"] == "page-1"
    assert srv.seen == [("GET", USER_AGENT), ("POST", USER_AGENT), ("POST", USER_AGENT)]
