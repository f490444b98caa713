"""Read a feed, transcript or chapters file the user named: a URL or a local path.

The two are kept apart on purpose.  A URL goes through :mod:`podlens.http` (the one client, with
its User-Agent, timeouts and size cap), fetched once: the user is waiting, and a retry loop on an
unreachable host would only make the error late.  A local path is read by :func:`read_local`,
which only this module calls, and only for a location that is not a URL.  Either way the result
is non-empty UTF-8 or one clear PodlensError naming what was being read.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from podlens.errors import PodlensError
from podlens.http import MB, FetchError, HttpClient, HttpConfig

# One request, no pacing: a handful of user-named files, not a crawl.
SOURCE_HTTP = HttpConfig(retries=0, min_interval=0.0, max_bytes=200 * MB)


def is_url(src: str) -> bool:
    return urlparse(str(src)).scheme in ("http", "https")


def read_text(src: str | os.PathLike[str], what: str = "resource") -> str:
    """The text at ``src`` (an http(s) URL, a ``file://`` URL or a local path); it must be
    non-empty UTF-8.  PodlensError for an unreachable host, a timeout, an HTTP error status, a
    missing file or an empty body."""
    src = str(src)
    if not src.strip():
        raise PodlensError(f"empty {what} location")
    data = fetch_url(src, what) if is_url(src) else read_local(src, what)
    return decode_utf8(data, what, src)


def fetch_url(url: str, what: str) -> bytes:
    """The body at an http(s) ``url``, through the one HTTP client."""
    try:
        with HttpClient(SOURCE_HTTP) as http:
            data = http.get(url).body
    except FetchError as e:
        raise PodlensError(f"{what} {url}: {e}") from None
    if not data.strip():
        raise PodlensError(f"{what} {url}: empty")
    return data


def read_local(src: str, what: str) -> bytes:
    """The bytes of a local file the user named (a path, ``~/...`` or a ``file://`` URL)."""
    parsed = urlparse(src)
    if parsed.scheme and parsed.scheme != "file" and len(parsed.scheme) > 1:  # 1: a drive letter
        raise PodlensError(f"{what} {src}: unsupported URL scheme {parsed.scheme!r}")
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(os.path.expanduser(src))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PodlensError(f"{what} {src}: no such file") from None
    except IsADirectoryError:
        raise PodlensError(f"{what} {src}: is a directory") from None
    except OSError as e:
        raise PodlensError(f"{what} {src}: cannot read ({e.strerror})") from None
    if not data.strip():
        raise PodlensError(f"{what} {src}: empty")
    return data


def decode_utf8(data: bytes, what: str, src: str) -> str:
    """Decode UTF-8 (a BOM is allowed); PodlensError on anything else."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PodlensError(f"{what} {src}: not UTF-8 (bad byte at offset {e.start})") from None
    if not text.strip():
        raise PodlensError(f"{what} {src}: empty")
    return text
