"""A real HTTP server on 127.0.0.1 for tests: serves fixtures, honours Range requests.

Tests register routes (path -> Route) and get absolute URLs back; the code under test talks real
HTTP through ``requests``/``feedparser`` with no mocks.  Range support matters for the browser
tests: without ``206 Partial Content`` Chromium cannot seek an ``<audio>`` element.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Request:
    """A request the server received (for POST/PATCH/DELETE routes: APIs under test)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):  # type: ignore[no-untyped-def]
        import json

        return json.loads(self.body.decode("utf-8"))


@dataclass
class Route:
    body: bytes | Callable[[], bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (timeouts)
    file: Path | None = None  # serve a file from disk instead of body (large audio)
    # For APIs: answer each request with handler(request) -> (status, body bytes).
    handler: Callable[[Request], tuple[int, bytes]] | None = None


class FixtureServer:
    """``with FixtureServer() as srv: srv.add("/feed.xml", Route(...)); srv.url("/feed.xml")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.requests: list[Request] = []  # POST/PATCH/DELETE requests, in order
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def do_POST(self) -> None:
                self._api("POST")

            def do_PATCH(self) -> None:
                self._api("PATCH")

            def do_DELETE(self) -> None:
                self._api("DELETE")

            def _api(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                req = Request(method, self.path, dict(self.headers.items()), body)
                server.hits.append(self.path)
                server.requests.append(req)
                path = self.path.split("?", 1)[0]
                route = server.routes.get(self.path) or server.routes.get(path)
                if route is None:
                    # Longest registered prefix ending in "/" (e.g. "/v1/pages/").
                    prefixes = [p for p in server.routes if p.endswith("/") and path.startswith(p)]
                    route = server.routes[max(prefixes, key=len)] if prefixes else None
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.handler is not None:
                    status, data = route.handler(req)
                else:
                    status = route.status
                    data = route.body() if callable(route.body) else route.body
                self._send(status, data, route.content_type, route.headers)

            def _serve(self, head: bool) -> None:
                path = self.path.split("?", 1)[0]
                server.hits.append(self.path)
                route = server.routes.get(self.path) or server.routes.get(path)
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.file is not None:
                    data = route.file.read_bytes()
                else:
                    data = route.body() if callable(route.body) else route.body
                rng = self.headers.get("Range")
                m = re.match(r"bytes=(\d*)-(\d*)", rng or "")
                if m and route.status == 200 and data:
                    first = int(m.group(1)) if m.group(1) else max(0, len(data) - int(m.group(2)))
                    last = int(m.group(2)) if m.group(1) and m.group(2) else len(data) - 1
                    last = min(last, len(data) - 1)
                    part = data[first : last + 1]
                    hdrs = {**route.headers, "Content-Range": f"bytes {first}-{last}/{len(data)}"}
                    self._send(206, part, route.content_type, hdrs, head)
                    return
                self._send(route.status, data, route.content_type, route.headers, head)

            def _send(
                self, status: int, data: bytes, ctype: str, hdrs: dict[str, str], head: bool = False
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Accept-Ranges", "bytes")
                    for k, v in hdrs.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if not head:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> FixtureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
