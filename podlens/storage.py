"""Data-directory manners the stores share: reads that work read-only, writes refused early.

A data dir may be read-only (a shared copy, a backup mounted read-only, a CD of someone's
library): every read command must still work there and write nothing, and every write command
must say so in one line before it starts long work (``ingest`` checks before parsing and
embedding, not after).

- :func:`connect_read` opens an existing SQLite database for reading.  Where the database and
  its folder are writable it is an ordinary connection (in WAL mode SQLite creates and removes
  its ``-wal``/``-shm`` files as usual); where they are not it opens ``mode=ro``, and when even
  that cannot work (a WAL database whose ``-shm`` file cannot be created) ``immutable=1``: nobody
  can write there, so the file cannot change under the reader.
- :func:`check_writable` proves a folder takes new files by creating (and removing) one:
  permission bits alone say nothing for root, and an immutable folder or a read-only mount is
  only found out by trying.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import quote

from podlens.errors import PodlensError


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def connect_read(path: str | os.PathLike[str], timeout: float = 30.0) -> sqlite3.Connection:
    """A connection to the existing database at ``path`` that reads without writing anything
    where writing is impossible (see the module doc).  PodlensError when it cannot be read."""
    path = Path(path)
    uri = "file:" + quote(str(path.resolve()))
    attempts: list[tuple[str, bool]] = []
    if _writable(path) and _writable(path.parent):
        attempts.append((str(path), False))
    attempts += [(uri + "?mode=ro", True), (uri + "?mode=ro&immutable=1", True)]
    last: sqlite3.Error | None = None
    for target, is_uri in attempts:
        con = None
        try:
            con = sqlite3.connect(target, timeout=timeout, isolation_level=None, uri=is_uri)
            con.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the file
            return con
        except sqlite3.Error as e:
            last = e
            if con is not None:
                con.close()
    raise PodlensError(f"cannot read {path}: {last}")


def check_writable(folder: str | os.PathLike[str], *files: str | os.PathLike[str]) -> None:
    """PodlensError (one line) unless new files can be created in ``folder`` (or, if it does
    not exist yet, in its nearest existing parent: that is where it will be made) and each of
    ``files`` that exists can be written."""
    folder = Path(folder)
    probe_dir = folder
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise PodlensError(f"data directory {folder}: {probe_dir} is not a directory")
    try:
        fd, name = tempfile.mkstemp(prefix=".podlens-write-check.", dir=probe_dir)
    except OSError as e:
        raise PodlensError(
            f"data directory {folder} is read-only ({e.strerror or e}): nothing was written"
        ) from None
    os.close(fd)
    Path(name).unlink(missing_ok=True)
    for f in files:
        f = Path(f)
        if f.exists() and not _writable(f):
            raise PodlensError(f"{f} is read-only: nothing was written")


def write_error(what: str | os.PathLike[str], exc: BaseException) -> PodlensError:
    """The one-line error for a write that failed on the disk (read-only, full, locked)."""
    detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return PodlensError(f"cannot write {what}: {detail}")
