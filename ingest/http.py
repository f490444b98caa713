"""Fetch a URL or read a local path, with one clear PodlensError for anything that goes wrong."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

from podlens.errors import PodlensError

USER_AGENT = "Podlens/0.1 (+https://github.com/podlens; open-source podcast companion)"
TIMEOUT = (10, 30)  # connect, read (seconds)
MAX_BYTES = 200 * 1024 * 1024


def is_url(src: str) -> bool:
    return urlparse(str(src)).scheme in ("http", "https")


def _local_path(src: str) -> Path:
    parsed = urlparse(src)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(os.path.expanduser(src))


def fetch_bytes(src: str | os.PathLike[str], what: str = "resource") -> bytes:
    """The raw bytes at ``src`` (an http(s) URL, a ``file://`` URL or a local path).

    Raises PodlensError for an unreachable host, a timeout, an HTTP error status, a missing file
    or an empty body.
    """
    src = str(src)
    if not src.strip():
        raise PodlensError(f"empty {what} location")
    if is_url(src):
        try:
            resp = requests.get(
                src,
                timeout=TIMEOUT,
                headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
                allow_redirects=True,
            )
        except requests.Timeout:
            raise PodlensError(f"{what} {src}: timed out") from None
        except requests.RequestException as e:
            reason = type(e).__name__
            raise PodlensError(f"{what} {src}: unreachable ({reason})") from None
        if resp.status_code >= 400:
            msg = f"{what} {src}: HTTP {resp.status_code} {resp.reason or ''}"
            raise PodlensError(msg.rstrip())
        data = resp.content
        if len(data) > MAX_BYTES:
            raise PodlensError(f"{what} {src}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    else:
        scheme = urlparse(src).scheme
        if scheme and scheme != "file" and len(scheme) > 1:  # len 1: a Windows drive letter
            raise PodlensError(f"{what} {src}: unsupported URL scheme {scheme!r}")
        path = _local_path(src)
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


def fetch_text(src: str | os.PathLike[str], what: str = "resource") -> str:
    """The body at ``src`` as text; it must be non-empty UTF-8."""
    return decode_utf8(fetch_bytes(src, what), what, str(src))
