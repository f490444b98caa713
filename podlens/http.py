"""The one HTTP client: every request Podlens sends out passes through :class:`HttpClient`.

One choke point means one User-Agent and one set of manners everywhere: the papers an episode
cites (:mod:`ingest.papers`), a feed, transcript or chapters URL the user names
(:mod:`ingest.source`), the LLM that titles snips (:mod:`snips.ai`) and the Notion push
(:mod:`snips.export`).  Each caller picks an :class:`HttpConfig`; the client does the rest:

- a User-Agent that says who we are, connect/read timeouts and an overall deadline per fetch
  (``max_seconds``: every hop, retry and byte of the body together), enforced by a watchdog that
  shuts the socket down, so a server that drips one byte every few seconds cannot hold us;
- http and https only; with ``public_only`` (every URL a feed or transcript names), the host must
  resolve to public addresses only (no loopback, private, link-local or reserved ones), checked
  for every resolved address before connecting, again on the connected socket's peer address
  (no DNS-rebinding window), and on every redirect hop; ``allow_hosts`` (the listener's
  ``PODLENS_ALLOW_HOSTS``) and the hosts of ``mirrors`` are exempt;
- retries with exponential backoff on ``retry_statuses`` (429/5xx) and connection errors,
  honouring ``Retry-After``; a host name that does not resolve is never retried (offline, or a
  dead domain: asking again only makes the caller hang);
- at most one request per ``min_interval`` seconds to any one host;
- a cap on the response size, checked on ``Content-Length`` and again while streaming (the
  read stops at the cap: memory stays bounded whatever the server sends);
- redirects followed by hand, so loops are caught and every hop goes through the same checks;
- ``mirrors``: URL prefixes fetched from elsewhere (a mirror, or a local test server);
- with a ``cache_dir``, a disk cache of successful GETs, so re-ingesting fetches nothing again.

Every failure is a :class:`FetchError` whose message is a short reason ("HTTP 404", "timed out",
"response too large (over 20 MB)", "redirect loop", "could not resolve host example.org",
"unreachable (ConnectionError)", "refused: 127.0.0.1 is a loopback address ..."), fit for
``Reference.error`` or for a caller to prefix with what it was fetching.  Local files are never
read here: that is the caller's explicit choice.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
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
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from podlens.atomic import atomic_write_bytes, atomic_write_json
from podlens.errors import PodlensError

USER_AGENT = "Podlens/0.1 (open-source podcast companion; +https://github.com/podlens)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
SCHEMES = ("http", "https")
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
    # One fetch from first byte sent to last byte read, every hop and retry included.
    max_seconds: float = 60.0
    # URLs from feeds and transcripts: public addresses only, except the listener's allowances.
    public_only: bool = False
    allow_hosts: frozenset[str] = frozenset()
    # URL prefix -> replacement: fetch a site from a mirror (or a local test server) instead.
    mirrors: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, url: str) -> str:
        """``url`` as it is actually requested: through the longest matching mirror prefix."""
        matches = [p for p in self.mirrors if url.startswith(p)]
        if not matches:
            return url
        prefix = max(matches, key=len)
        return self.mirrors[prefix] + url[len(prefix) :]

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` is exempt from ``public_only``: the listener named it (an allowance,
        or the target of one of their mirrors)."""
        host = host.lower().strip("[]")
        if host in self.allow_hosts:
            return True
        return any(
            (urlsplit(repl).hostname or "").lower() == host for repl in self.mirrors.values()
        )


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
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, _WatchedAdapter())
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
        body unless ``only`` names another status (a 404's page is not worth downloading).
        All of it within ``max_seconds``."""
        deadline = _Deadline(self.config.max_seconds)
        previous = getattr(_active, "fetch", None)
        _active.fetch = _Fetch(deadline, self.config)
        try:
            return self._follow(method, url, json, headers, only, deadline)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            if deadline.expired:
                raise FetchError(deadline.message) from e
            raise FetchError(f"connection error ({type(e).__name__})") from e
        finally:
            deadline.cancel()
            _active.fetch = previous

    def _follow(
        self,
        method: str,
        url: str,
        json: Any,
        headers: dict[str, str],
        only: int | None,
        deadline: _Deadline,
    ) -> Response:
        seen = [url]
        current = url
        for _ in range(self.config.max_redirects + 1):
            check_destination(current, self.config)
            resp = self._send_with_retries(method, current, json, headers, deadline)
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
                body = (
                    b""
                    if only not in (None, resp.status_code)
                    else self._read_capped(resp, deadline)
                )
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
        self, method: str, url: str, json: Any, headers: dict[str, str], deadline: _Deadline
    ) -> requests.Response:
        """The server's answer; on a retry status after the last attempt, that answer."""
        cfg = self.config
        last_error = "failed"
        for attempt in range(cfg.retries + 1):
            if deadline.expired:
                raise FetchError(deadline.message)
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
            except requests.RequestException as e:
                if deadline.expired:  # the watchdog shut the socket
                    raise FetchError(deadline.message) from e
                if not isinstance(e, requests.ConnectionError):  # a bad URL, a bad header
                    raise FetchError(f"request failed ({type(e).__name__})") from e
                if _name_not_resolved(e):  # offline or no such domain: asking again won't help
                    host = urlsplit(url).hostname or url
                    raise FetchError(f"could not resolve host {host}") from e
                last_error = f"unreachable ({type(e).__name__})"
                retry_after = None
            except (urllib3.exceptions.HTTPError, OSError) as e:  # escaped requests' wrapping
                if deadline.expired:
                    raise FetchError(deadline.message) from e
                last_error = f"unreachable ({type(e).__name__})"
                retry_after = None
            else:
                if resp.status_code not in cfg.retry_statuses or attempt == cfg.retries:
                    return resp
                retry_after = resp.headers.get("Retry-After")
                resp.close()
            if attempt < cfg.retries:
                pause = self._backoff(attempt, retry_after)
                if pause >= deadline.remaining():  # waiting would end past the deadline
                    break
                self._sleep(pause)
        raise FetchError(last_error)

    def _read_capped(self, resp: requests.Response, deadline: _Deadline) -> bytes:
        """The body, streamed into one buffer that never grows past ``max_bytes``: the read
        stops at the cap (or at the deadline, when the watchdog shuts the socket)."""
        limit = self.config.max_bytes
        too_big = f"response too large (over {limit / MB:g} MB)"
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(too_big)
        body = bytearray()
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                if len(body) + len(chunk) > limit:
                    raise FetchError(too_big)
                body += chunk
                if deadline.expired:
                    break
        except requests.Timeout as e:
            raise FetchError("timed out") from e
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            if deadline.expired:
                raise FetchError(deadline.message) from e
            raise FetchError(f"connection error ({type(e).__name__})") from e
        if deadline.expired:  # a close-delimited body just ends when the socket is shut
            raise FetchError(deadline.message)
        return bytes(body)


# -- where a request may go -----------------------------------------------------------------------
def check_destination(url: str, config: HttpConfig) -> None:
    """FetchError unless ``url`` is http(s) and, with ``config.public_only``, its host resolves
    to public addresses only (every address it resolves to: one private one is enough to refuse)
    or is one the listener allowed."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise FetchError(f"unsupported URL scheme {parts.scheme!r} (http and https only)")
    host = parts.hostname
    if not host:
        raise FetchError("no host in the URL")
    if not config.public_only or config.host_allowed(host):
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise FetchError("bad port in the URL") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(f"could not resolve host {host}") from e
    for info in infos:
        _check_address(host, str(info[4][0]))


def _check_address(host: str, address: str) -> None:
    why = non_public_reason(address)
    if why:
        shown = host if host == address else f"{host} ({address})"
        raise FetchError(
            f"refused: {shown} is a {why} address (a feed may only link public hosts; "
            "PODLENS_ALLOW_HOSTS allows one)"
        )


def non_public_reason(address: str) -> str | None:
    """``"loopback"``, ``"private"``, ``"link-local"``, ... for an address a feed must not make
    us fetch from; ``None`` for a public one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unparseable"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for why, bad in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if bad:
            return why
    return None if ip.is_global else "non-public"


# -- the deadline watchdog ------------------------------------------------------------------------
class _Deadline:
    """Shuts down every socket of one fetch when ``seconds`` have passed.  A per-read timeout
    cannot stop a server that sends a byte just before each timeout; closing the socket from a
    timer thread makes whatever read is blocked return at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self.message = f"timed out (no complete answer within {seconds:g} s)"
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not self.expired:
                self._socks.append(sock)
                return
        _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._socks.clear()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            socks, self._socks = self._socks, []
        for sock in socks:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@dataclass
class _Fetch:
    """The fetch this thread is making: its deadline and its destination rules."""

    deadline: _Deadline
    config: HttpConfig


_active = threading.local()


def _on_connected(conn: HTTPConnection) -> None:
    """A connection of the current fetch is open: put it under the deadline and, for a
    ``public_only`` fetch, check the address it actually reached (not a second DNS answer)."""
    fetch: _Fetch | None = getattr(_active, "fetch", None)
    if fetch is None:
        return
    fetch.deadline.watch(conn.sock)
    cfg = fetch.config
    if cfg.public_only and not conn.proxy and not cfg.host_allowed(conn.host):
        try:
            peer = conn.sock.getpeername()[0] if conn.sock is not None else ""
        except OSError:
            return
        try:
            _check_address(conn.host, str(peer))
        except FetchError:
            conn.close()
            raise


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _on_connected(self)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self.sock is not None:  # a kept-alive connection: this fetch's deadline now
            _on_connected(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _on_connected(self)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self.sock is not None:
            _on_connected(self)
        super().request(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter with connections that report to the current fetch (see above)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is urllib3.ProxyManager:
            manager.pool_classes_by_scheme = _POOLS
        return manager


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
