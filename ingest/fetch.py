"""A polite HTTP fetcher for the works an episode references.

Polite means: a User-Agent that says who we are, connect/read timeouts, retries with exponential
backoff on 429/5xx/connection errors (honouring ``Retry-After``), at most one request per
``min_interval`` seconds to any one host, a cap on the response size (checked on
``Content-Length`` and again while streaming), redirects followed by hand so loops are caught, and
a disk cache under ``data_dir/cache/http/`` so re-ingesting an episode fetches nothing again.

Every failure is a :class:`FetchError` whose message is a short reason ("HTTP 404", "timed out",
"response too large (over 20 MB)", "redirect loop", "could not resolve host example.org")
suitable for ``Reference.error``.  A host name that does not resolve is not retried: offline, or
for a dead domain, waiting and asking again only makes the ingest hang.

:meth:`FetchConfig.from_env` reads overrides from the environment (what ``python -m ingest`` and
the app use): ``PODLENS_ARXIV_API``, ``PODLENS_ARXIV_PDF``, ``PODLENS_FETCH_MIRRORS`` and
``PODLENS_FETCH_INTERVAL``; see there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from podlens.atomic import atomic_write_bytes, atomic_write_json
from podlens.errors import PodlensError

DEFAULT_USER_AGENT = "Podlens/0.1 (open-source podcast companion; fetches papers an episode cites)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A URL could not be fetched; ``str(e)`` is the one-line reason."""


@dataclass
class FetchConfig:
    """Knobs for :class:`Fetcher` and the paper fetchers; tests shrink the delays."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3  # extra attempts after the first
    backoff: float = 1.0  # first retry waits this long, then doubles
    max_backoff: float = 60.0
    min_interval: float = 1.0  # seconds between requests to one host
    # arXiv asks API clients for one request every 3 seconds.
    host_intervals: dict[str, float] = field(default_factory=lambda: {"export.arxiv.org": 3.0})
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 10
    max_seconds: float = 300.0  # whole download, against servers that drip bytes
    cache: bool = True
    arxiv_api: str = "https://export.arxiv.org/api/query"
    arxiv_pdf: str = "https://arxiv.org/pdf/{id}"
    arxiv_batch: int = 50  # ids per API query
    # URL prefix -> replacement: fetch a site from a mirror (or a local test server) instead.
    mirrors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> FetchConfig:
        """The defaults, overridden by these environment variables where set (non-empty):

        - ``PODLENS_ARXIV_API``: the arXiv API query URL (default
          ``https://export.arxiv.org/api/query``).
        - ``PODLENS_ARXIV_PDF``: the PDF URL template, with ``{id}`` for the arXiv id (default
          ``https://arxiv.org/pdf/{id}``).
        - ``PODLENS_FETCH_MIRRORS``: whitespace-separated ``PREFIX=REPLACEMENT`` pairs; a URL that
          starts with PREFIX is fetched from REPLACEMENT + the rest (longest prefix wins), e.g.
          ``https://transformer-circuits.pub/=http://127.0.0.1:8000/tc/``.
        - ``PODLENS_FETCH_INTERVAL``: seconds between two requests to one host (default 1; arXiv's
          own hosts keep their 3 s).  Lower it only for your own mirror or a test server.

        Raises :class:`PodlensError` for a malformed value.
        """
        env = os.environ if environ is None else environ
        cfg = cls()
        if api := env.get("PODLENS_ARXIV_API", "").strip():
            cfg.arxiv_api = api
        if pdf := env.get("PODLENS_ARXIV_PDF", "").strip():
            if "{id}" not in pdf:
                raise PodlensError(f"PODLENS_ARXIV_PDF must contain {{id}}: {pdf!r}")
            cfg.arxiv_pdf = pdf
        for pair in env.get("PODLENS_FETCH_MIRRORS", "").split():
            prefix, sep, repl = pair.partition("=")
            if not sep or not prefix or not repl:
                raise PodlensError(
                    f"PODLENS_FETCH_MIRRORS: expected PREFIX=REPLACEMENT, got {pair!r}"
                )
            cfg.mirrors[prefix] = repl
        if interval := env.get("PODLENS_FETCH_INTERVAL", "").strip():
            try:
                cfg.min_interval = float(interval)
            except ValueError:
                cfg.min_interval = -1.0
            if not cfg.min_interval >= 0:
                raise PodlensError(f"PODLENS_FETCH_INTERVAL must be seconds >= 0: {interval!r}")
        return cfg

    def resolve(self, url: str) -> str:
        """``url`` as it is actually requested: through the longest matching mirror prefix."""
        matches = [p for p in self.mirrors if url.startswith(p)]
        if not matches:
            return url
        prefix = max(matches, key=len)
        return self.mirrors[prefix] + url[len(prefix) :]


@dataclass
class FetchResult:
    url: str  # as requested
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


class Fetcher:
    """``Fetcher(data_dir).get(url) -> FetchResult`` or raises :class:`FetchError`."""

    def __init__(
        self,
        data_dir: str | Path | None,
        config: FetchConfig | None = None,
        session: requests.Session | None = None,
        sleep=time.sleep,  # type: ignore[no-untyped-def]
    ) -> None:
        self.config = config or FetchConfig()
        self.cache_dir = Path(data_dir) / "cache" / "http" if data_dir is not None else None
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.config.user_agent
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.requests_made = 0

    # -- cache ------------------------------------------------------------------------------
    def _cache_paths(self, url: str) -> tuple[Path, Path] | None:
        if self.cache_dir is None or not self.config.cache:
            return None
        h = hashlib.sha256(url.encode("utf-8")).hexdigest()
        d = self.cache_dir / h[:2]
        return d / f"{h}.body", d / f"{h}.json"

    def _from_cache(self, url: str) -> FetchResult | None:
        paths = self._cache_paths(url)
        if paths is None or not paths[1].exists():
            return None
        body_path, meta_path = paths
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("url") != url or meta.get("size") != len(body):
            return None
        return FetchResult(
            url, meta["final_url"], meta["status"], meta["content_type"], body, from_cache=True
        )

    def _to_cache(self, res: FetchResult) -> None:
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

    # -- politeness ---------------------------------------------------------------------------
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

    # -- fetching -----------------------------------------------------------------------------
    def get(self, url: str, *, accept: str | None = None) -> FetchResult:
        url = self.config.resolve(url)
        cached = self._from_cache(url)
        if cached is not None:
            return cached
        res = self._get_following_redirects(url, accept)
        self._to_cache(res)
        return res

    def _get_following_redirects(self, url: str, accept: str | None) -> FetchResult:
        seen = [url]
        current = url
        for _ in range(self.config.max_redirects + 1):
            resp = self._request_with_retries(current, accept)
            if resp.is_redirect or resp.status_code in (301, 302, 303, 307, 308):
                location = resp.headers.get("Location")
                resp.close()
                if not location:
                    raise FetchError(f"HTTP {resp.status_code} without Location")
                nxt = self.config.resolve(urljoin(current, location))
                if nxt in seen:
                    raise FetchError("redirect loop")
                seen.append(nxt)
                current = nxt
                continue
            try:
                if resp.status_code != 200:
                    raise FetchError(f"HTTP {resp.status_code}")
                body = self._read_capped(resp)
            finally:
                resp.close()
            return FetchResult(
                url, current, resp.status_code, resp.headers.get("Content-Type", ""), body
            )
        raise FetchError(f"too many redirects (over {self.config.max_redirects})")

    def _request_with_retries(self, url: str, accept: str | None) -> requests.Response:
        cfg = self.config
        headers = {"Accept": accept} if accept else {}
        last_error = "failed"
        for attempt in range(cfg.retries + 1):
            self._wait_turn(url)
            self.requests_made += 1
            try:
                resp = self.session.get(
                    url,
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
                last_error = f"connection error ({type(e).__name__})"
                retry_after = None
            except requests.RequestException as e:
                raise FetchError(f"request failed ({type(e).__name__})") from e
            else:
                if resp.status_code not in RETRY_STATUSES:
                    return resp
                last_error = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After")
                resp.close()
            if attempt < cfg.retries:
                self._sleep(self._backoff(attempt, retry_after))
        raise FetchError(last_error)

    def _read_capped(self, resp: requests.Response) -> bytes:
        limit = self.config.max_bytes
        too_big = f"response too large (over {limit / 1024 / 1024:g} MB)"
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
