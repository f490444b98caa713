"""The one HTTP client: every request Podlens sends out passes through :class:`HttpClient`.

One choke point means one User-Agent and one set of manners everywhere: the papers an episode
cites (:mod:`ingest.papers`), a feed, transcript or chapters URL the user names
(:mod:`ingest.source`), the LLM that titles snips (:mod:`snips.ai`) and the Notion push
(:mod:`snips.export`).  Each caller picks an :class:`HttpConfig`; the client does the rest:

- a User-Agent that says who we are, connect/read timeouts and a cap on the whole download
  (against servers that drip bytes);
- retries with exponential backoff on ``retry_statuses`` (429/5xx) and connection errors,
  honouring ``Retry-After``; a host name that does not resolve is never retried (offline, or a
  dead domain: asking again only makes the caller hang);
- at most one request per ``min_interval`` seconds to any one host;
- a cap on the response size, checked on ``Content-Length`` and again while streaming;
- redirects followed by hand, so loops are caught and every hop goes through the same checks;
- ``mirrors``: URL prefixes fetched from elsewhere (a mirror, or a local test server);
- with a ``cache_dir``, a disk cache of successful GETs, so re-ingesting fetches nothing again.

Every failure is a :class:`FetchError` whose message is a short reason ("HTTP 404", "timed out",
"response too large (over 20 MB)", "redirect loop", "could not resolve host example.org",
"unreachable (ConnectionError)"), fit for ``Reference.error`` or for a caller to prefix with what
it was fetching.  Local files are never read here: that is the caller's explicit choice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json as jsonlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from podlens.atomic import atomic_write_bytes, atomic_write_json
from podlens.errors import PodlensError

USER_AGENT = "Podlens/0.1 (open-source podcast companion; +https://github.com/podlens)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MB = 1024 * 1024


class FetchError(PodlensError):
    """A request could not be completed; ``str(e)`` is the one-line reason."""


@dataclass(frozen=True)
class HttpConfig:
    """How politely to fetch; the defaults suit crawling other people's sites, tests shrink the
    delays, API callers turn retries and pacing to what their API asks for."""

    user_agent: str = USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3  # extra attempts after the first
    retry_statuses: frozenset[int] = RETRY_STATUSES
    backoff: float = 1.0  # first retry waits this long, then doubles
    max_backoff: float = 60.0
    min_interval: float = 1.0  # seconds between requests to one host
    host_intervals: Mapping[str, float] = field(default_factory=dict)  # per-host overrides
    max_bytes: int = 20 * MB
    max_redirects: int = 10
    max_seconds: float = 300.0  # reading one body, against servers that drip bytes
    # URL prefix -> replacement: fetch a site from a mirror (or a local test server) instead.
    mirrors: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, url: str) -> str:
        """``url`` as it is actually requested: through the longest matching mirror prefix."""
        matches = [p for p in self.mirrors if url.startswith(p)]
        if not matches:
            return url
        prefix = max(matches, key=len)
        return self.mirrors[prefix] + url[len(prefix) :]


@dataclass
class Response:
    url: str  # as requested (after mirrors)
    final_url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    from_cache: bool = False

    @property
    def text(self) -> str:
        charset = "utf-8"
        for part in self.content_type.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                charset = v.strip("\"'")
        return self.body.decode(charset, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` when it is not."""
        return jsonlib.loads(self.body)


class HttpClient:
    """``HttpClient(config).get(url) -> Response`` (status 200) or raises :class:`FetchError`;
    :meth:`request` for any method, returning whatever status the server ends on."""

    def __init__(
        self,
        config: HttpConfig | None = None,
        *,
        cache_dir: str | Path | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config or HttpConfig()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.config.user_agent
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the two entry points -------------------------------------------------------------------
    def get(self, url: str, *, accept: str | None = None) -> Response:
        """GET ``url``; any final status but 200 is a FetchError (``"HTTP 404"``).  Served from
        and stored in the disk cache when the client has one."""
        url = self.config.resolve(url)
        cached = self._from_cache(url)
        if cached is not None:
            return cached
        res = self._exchange("GET", url, None, {"Accept": accept} if accept else {}, only=200)
        if res.status != 200:
            raise FetchError(f"HTTP {res.status}")
        self._to_cache(res)
        return res

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: str | None = None,
    ) -> Response:
        """Send one request (retried, paced, redirects followed) and read the body (capped);
        the caller judges the status.  FetchError only when no answer could be had."""
        hdrs = dict(headers or {})
        if accept:
            hdrs["Accept"] = accept
        return self._exchange(method, self.config.resolve(url), json, hdrs, only=None)

    def _exchange(
        self, method: str, url: str, json: Any, headers: dict[str, str], only: int | None
    ) -> Response:
        """Follow redirects from ``url`` (mirrors already applied) to a final answer; read its
        body unless ``only`` names another status (a 404's page is not worth downloading)."""
        seen = [url]
        current = url
        for _ in range(self.config.max_redirects + 1):
            resp = self._send_with_retries(method, current, json, headers)
            if resp.status_code in REDIRECT_STATUSES:
                location = resp.headers.get("Location")
                resp.close()
                if not location:
                    raise FetchError(f"HTTP {resp.status_code} without Location")
                nxt = self.config.resolve(urljoin(current, location))
                if nxt in seen:
                    raise FetchError("redirect loop")
                seen.append(nxt)
                current = nxt
                if resp.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
                    method, json = "GET", None  # what browsers (and requests) do
                continue
            try:
                body = b"" if only not in (None, resp.status_code) else self._read_capped(resp)
            finally:
                resp.close()
            return Response(
                seen[0],
                current,
                resp.status_code,
                resp.headers.get("Content-Type", ""),
                body,
            )
        raise FetchError(f"too many redirects (over {self.config.max_redirects})")

    # -- cache ----------------------------------------------------------------------------------
    def _cache_paths(self, url: str) -> tuple[Path, Path] | None:
        if self.cache_dir is None:
            return None
        h = hashlib.sha256(url.encode("utf-8")).hexdigest()
        d = self.cache_dir / h[:2]
        return d / f"{h}.body", d / f"{h}.json"

    def _from_cache(self, url: str) -> Response | None:
        paths = self._cache_paths(url)
        if paths is None or not paths[1].exists():
            return None
        body_path, meta_path = paths
        try:
            meta = jsonlib.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("url") != url or meta.get("size") != len(body):
            return None
        return Response(
            url, meta["final_url"], meta["status"], meta["content_type"], body, from_cache=True
        )

    def _to_cache(self, res: Response) -> None:
        paths = self._cache_paths(res.url)
        if paths is None:
            return
        body_path, meta_path = paths
        # Body first, then the metadata that vouches for it: a crash between leaves no entry.
        atomic_write_bytes(body_path, res.body)
        atomic_write_json(
            meta_path,
            {
                "url": res.url,
                "final_url": res.final_url,
                "status": res.status,
                "content_type": res.content_type,
                "size": len(res.body),
                "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        )

    # -- politeness -----------------------------------------------------------------------------
    def _wait_turn(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        interval = self.config.host_intervals.get(host, self.config.min_interval)
        with self._lock:
            now = time.monotonic()
            last = self._last.get(host)
            wait = 0.0 if last is None else last + interval - now
            self._last[host] = now + max(0.0, wait)
        if wait > 0:
            self._sleep(wait)

    def _backoff(self, attempt: int, retry_after: str | None = None) -> float:
        delay = self.config.backoff * (2**attempt)
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                with contextlib.suppress(TypeError, ValueError):
                    delay = max(delay, parsedate_to_datetime(retry_after).timestamp() - time.time())
        return min(delay, self.config.max_backoff)

    # -- the wire -------------------------------------------------------------------------------
    def _send_with_retries(
        self, method: str, url: str, json: Any, headers: dict[str, str]
    ) -> requests.Response:
        """The server's answer; on a retry status after the last attempt, that answer."""
        cfg = self.config
        last_error = "failed"
        for attempt in range(cfg.retries + 1):
            self._wait_turn(url)
            self.requests_made += 1
            try:
                resp = self.session.request(
                    method,
                    url,
                    json=json,
                    headers=headers,
                    timeout=(cfg.connect_timeout, cfg.read_timeout),
                    stream=True,
                    allow_redirects=False,
                )
            except requests.Timeout:
                last_error = "timed out"
                retry_after = None
            except requests.ConnectionError as e:
                if _name_not_resolved(e):  # offline or no such domain: asking again won't help
                    host = urlsplit(url).hostname or url
                    raise FetchError(f"could not resolve host {host}") from e
                last_error = f"unreachable ({type(e).__name__})"
                retry_after = None
            except requests.RequestException as e:
                raise FetchError(f"request failed ({type(e).__name__})") from e
            else:
                if resp.status_code not in cfg.retry_statuses or attempt == cfg.retries:
                    return resp
                retry_after = resp.headers.get("Retry-After")
                resp.close()
            if attempt < cfg.retries:
                self._sleep(self._backoff(attempt, retry_after))
        raise FetchError(last_error)

    def _read_capped(self, resp: requests.Response) -> bytes:
        limit = self.config.max_bytes
        too_big = f"response too large (over {limit / MB:g} MB)"
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(too_big)
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.config.max_seconds
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FetchError(too_big)
                if time.monotonic() > deadline:
                    raise FetchError("timed out")
                chunks.append(chunk)
        except requests.Timeout as e:
            raise FetchError("timed out") from e
        except requests.RequestException as e:
            raise FetchError(f"connection error ({type(e).__name__})") from e
        return b"".join(chunks)


def _name_not_resolved(exc: BaseException) -> bool:
    """Whether a connection error comes from a host name that did not resolve (DNS)."""
    kinds: tuple[type[BaseException], ...] = (socket.gaierror,)
    nre = getattr(urllib3.exceptions, "NameResolutionError", None)  # urllib3 >= 2
    if nre is not None:
        kinds += (nre,)
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kinds):
            return True
        nested = (*e.args, getattr(e, "reason", None), e.__cause__, e.__context__)
        stack.extend(x for x in nested if isinstance(x, BaseException))
    return False
