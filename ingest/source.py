"""Read a feed, transcript or chapters file: one the listener named, or one a feed links.

Two doors, kept apart on purpose:

- :func:`read_text` is for what the listener typed (``--feed``, ``--transcript``, the AXRP feed
  setting): a URL is fetched (any host, 127.0.0.1 included: it is their choice), anything else is
  read as a local file by :func:`read_local`, which only this door calls.
- :func:`read_linked` is for every URL that comes *from* a feed or a transcript (chapters,
  transcripts): http(s) only, public hosts only (loopback, private, link-local and reserved
  addresses are refused, redirects included, unless the listener allowed the host with
  ``PODLENS_ALLOW_HOSTS``), never a local file.  A refusal is decided from the URL alone, before
  anything is opened, so its message cannot tell a feed's author whether a file exists.

URLs go through :mod:`podlens.http` (the one client: User-Agent, the overall deadline
``PODLENS_FETCH_DEADLINE``, the streaming size cap ``PODLENS_FETCH_MAX_MB``), fetched once: the
user is waiting, and a retry loop on an unreachable host would only make the error late.  Either
way the result is non-empty UTF-8 or one clear PodlensError naming what was being read.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from podlens.atomic import atomic_write_bytes
from podlens.config import settings
from podlens.errors import PodlensError
from podlens.http import MB, FetchError, HttpClient, HttpConfig


def source_http(public_only: bool, max_mb: float | None = None) -> HttpConfig:
    """One request, no pacing (a handful of files, not a crawl), under the settings' deadline
    and size cap (or the smaller ``max_mb``); ``public_only`` for URLs a feed or transcript
    supplied."""
    s = settings()
    mb = s.fetch_max_mb if max_mb is None else min(max_mb, s.fetch_max_mb)
    return HttpConfig(
        retries=0,
        min_interval=0.0,
        max_bytes=int(mb * MB),
        max_seconds=s.fetch_deadline,
        public_only=public_only,
        allow_hosts=s.allow_hosts,
    )


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


def linked_url(url: str, what: str, base: str | None = None) -> str:
    """``url`` as a feed or transcript gave it, made absolute against ``base`` when that is an
    http(s) URL; PodlensError (decided from the string alone) unless the result is http(s)."""
    url = str(url).strip()
    if base and is_url(base) and not urlparse(url).scheme:
        url = urljoin(base, url)
    if not is_url(url):
        scheme = urlparse(url).scheme
        why = f"{scheme!r} URLs" if scheme else "relative links or local paths"
        raise PodlensError(f"{what} {url}: refused: a feed may link http(s) URLs only, not {why}")
    return url


def read_linked(
    url: str, what: str = "resource", base: str | None = None, max_mb: float | None = None
) -> str:
    """The text at a URL a feed or transcript supplied (see the module doc): http(s) and public
    hosts only, never a local file; at most ``max_mb`` (default: the settings' cap)."""
    url = linked_url(url, what, base)
    return decode_utf8(fetch_url(url, what, public_only=True, max_mb=max_mb), what, url)


def fetch_url(url: str, what: str, public_only: bool = False, max_mb: float | None = None) -> bytes:
    """The body at an http(s) ``url``, through the one HTTP client."""
    try:
        with HttpClient(source_http(public_only, max_mb)) as http:
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
    limit = settings().fetch_max_mb * MB
    try:
        if path.is_file() and path.stat().st_size > limit:
            raise PodlensError(f"{what} {src}: too large (over {limit / MB:g} MB)")
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


AUDIO_MAX_MB = 1024.0  # a 4-hour episode at 320 kbit/s is ~550 MB
AUDIO_DEADLINE = 3600.0  # seconds for one enclosure download, every byte included


def fetch_audio(src: str, cache_dir: Path, *, public_only: bool) -> Path:
    """A local file holding the audio at ``src``: the path itself for a local file, else the
    download, kept in ``cache_dir`` (named by the URL) so a second run fetches nothing.
    ``public_only`` for an enclosure a feed supplied; the listener's ``--audio`` URL may be any
    host."""
    src = str(src).strip()
    if not is_url(src):
        path = Path(
            os.path.expanduser(unquote(urlparse(src).path) if src.startswith("file:") else src)
        )
        if not path.is_file():
            raise PodlensError(f"audio {src}: no such file")
        return path
    suffix = Path(urlparse(src).path).suffix.lower()
    suffix = suffix if suffix in (".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wav", ".flac") else ""
    target = cache_dir / (hashlib.sha256(src.encode("utf-8")).hexdigest()[:24] + suffix)
    if target.is_file() and target.stat().st_size > 0:
        return target
    s = settings()
    config = HttpConfig(
        retries=1,
        min_interval=0.0,
        max_bytes=int(AUDIO_MAX_MB * MB),
        max_seconds=AUDIO_DEADLINE,
        public_only=public_only,
        allow_hosts=s.allow_hosts,
    )
    try:
        with HttpClient(config) as http:
            body = http.get(src, accept="audio/*").body
    except FetchError as e:
        raise PodlensError(f"audio {src}: {e}") from None
    if not body:
        raise PodlensError(f"audio {src}: empty")
    atomic_write_bytes(target, body)
    return target
