"""The snip library: SQLite in ``data_dir/snips.db`` (WAL), one row per snip.

Every write is one ``BEGIN IMMEDIATE`` transaction on its own connection, so two processes (two
app sessions, the app and the CLI) can save at the same time: SQLite serialises the writers and
``busy_timeout`` makes the second wait instead of failing.  A snip's id is derived from its
episode and window (:func:`snip_id`), so saving the same moment twice updates one row and exports
keyed by id never duplicate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podlens.errors import PodlensError
from podlens.storage import connect_read, write_error

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS snips (
    id TEXT PRIMARY KEY,
    episode TEXT NOT NULL,
    episode_title TEXT NOT NULL DEFAULT '',
    podcast TEXT NOT NULL DEFAULT '',
    audio_url TEXT,
    title TEXT NOT NULL DEFAULT '',
    takeaways TEXT NOT NULL DEFAULT '[]',
    quote TEXT NOT NULL DEFAULT '',
    speaker TEXT NOT NULL DEFAULT '',
    chapter TEXT NOT NULL DEFAULT '',
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    favourite INTEGER NOT NULL DEFAULT 0,
    provider TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snips_episode ON snips (episode, start);
CREATE TABLE IF NOT EXISTS snip_tags (
    snip_id TEXT NOT NULL REFERENCES snips (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (snip_id, tag)
);
CREATE INDEX IF NOT EXISTS snip_tags_tag ON snip_tags (tag);
"""


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def snip_id(episode: str, start: float, end: float) -> str:
    """Stable id of a moment: the same episode and window (to 0.1 s) give the same id."""
    key = f"{episode}|{start:.1f}|{end:.1f}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def normalise_tags(tags: list[str] | tuple[str, ...] | None) -> list[str]:
    """Tags as stored: trimmed, no leading '#', lowercase, unique, sorted."""
    out = {t.strip().lstrip("#").strip().lower() for t in tags or () if t and t.strip("# ")}
    return sorted(out)


@dataclass
class Snip:
    episode: str
    start: float
    end: float
    quote: str
    title: str = ""
    takeaways: list[str] = field(default_factory=list)
    episode_title: str = ""
    podcast: str = ""
    audio_url: str | None = None
    speaker: str = ""
    chapter: str = ""
    note: str = ""
    tags: list[str] = field(default_factory=list)
    favourite: bool = False
    provider: str = ""
    id: str = ""
    created: str = ""
    updated: str = ""

    def __post_init__(self) -> None:
        self.start = round(float(self.start), 2)
        self.end = round(float(self.end), 2)
        self.tags = normalise_tags(self.tags)
        if not self.id:
            self.id = snip_id(self.episode, self.start, self.end)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Snip:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


_COLUMNS = [f.name for f in fields(Snip)]


def _row_to_snip(row: sqlite3.Row) -> Snip:
    d = dict(row)
    d["takeaways"] = json.loads(d["takeaways"])
    d["tags"] = json.loads(d["tags"])
    d["favourite"] = bool(d["favourite"])
    return Snip.from_dict(d)


class SnipStore:
    """``SnipStore(data_dir)``: the library in ``data_dir/snips.db``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        # Nothing touches the disk until the first write: listing the snips of a read-only
        # data dir (or of one with no library yet) must create nothing.
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "snips.db"
        self._schema_ready = False

    # ------------------------------------------------------------------ connections

    def _connect(self) -> sqlite3.Connection:
        """A connection for writing: creates the folder, the file and the schema if needed;
        a one-line PodlensError where the data dir is read-only."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA busy_timeout = 30000")
            # Persistent once set; a second process racing to set it may see "locked".
            with contextlib.suppress(sqlite3.OperationalError):
                con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            con.execute("PRAGMA foreign_keys = ON")
            if not self._schema_ready:
                con.executescript(_SCHEMA)  # idempotent; executescript commits
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self._schema_ready = True
        except (OSError, sqlite3.OperationalError) as e:
            raise write_error(f"the snip library {self.path}", e) from None
        return con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands or none of it does."""
        con = self._connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    raise
                if con.in_transaction:
                    con.execute("COMMIT")
            except sqlite3.OperationalError as e:
                if any(w in str(e) for w in ("readonly", "read-only", "unable to open")):
                    raise write_error(f"the snip library {self.path}", e) from None
                raise
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A connection that only reads (:func:`podlens.storage.connect_read`); with no
        library file yet, an empty in-memory one, so reads answer "no snips" and create
        nothing."""
        if self.path.exists():
            con = connect_read(self.path, timeout=30)
            con.execute("PRAGMA busy_timeout = 30000")
        else:
            con = sqlite3.connect(":memory:", isolation_level=None)
            con.executescript(_SCHEMA)
        con.row_factory = sqlite3.Row
        try:
            yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ writes

    def save(self, snip: Snip) -> Snip:
        """Insert the snip, or update the one with the same id (same moment) in place.

        Saving a moment again refreshes its AI fields and quote; the user's note is replaced only
        by a non-empty one, tags are merged and the favourite flag is kept if already set.
        Returns the stored snip.
        """
        with self._tx() as con:
            old = con.execute("SELECT * FROM snips WHERE id = ?", (snip.id,)).fetchone()
            now = now_iso()
            if old is not None:
                prev = _row_to_snip(old)
                snip.note = snip.note or prev.note
                snip.tags = normalise_tags([*prev.tags, *snip.tags])
                snip.favourite = snip.favourite or prev.favourite
                snip.created = prev.created
            else:
                snip.created = snip.created or now
            snip.updated = now
            self._write(con, snip)
        return snip

    def update(self, snip_id_: str, **changes: Any) -> Snip:
        """Edit fields of a stored snip (title, note, tags, favourite, takeaways, ...)."""
        allowed = set(_COLUMNS) - {"id", "created", "updated", "episode"}
        bad = set(changes) - allowed
        if bad:
            raise PodlensError(f"cannot edit {', '.join(sorted(bad))} of a snip")
        with self._tx() as con:
            row = con.execute("SELECT * FROM snips WHERE id = ?", (snip_id_,)).fetchone()
            if row is None:
                raise PodlensError(f"no snip with id {snip_id_!r}")
            snip = _row_to_snip(row)
            for k, v in changes.items():
                setattr(snip, k, v)
            snip.tags = normalise_tags(snip.tags)
            snip.updated = now_iso()
            self._write(con, snip)
        return snip

    def move(self, snip_id_: str, replacement: Snip) -> Snip:
        """Replace a snip by one with a new window (new id), keeping the user's fields."""
        with self._tx() as con:
            row = con.execute("SELECT * FROM snips WHERE id = ?", (snip_id_,)).fetchone()
            if row is None:
                raise PodlensError(f"no snip with id {snip_id_!r}")
            old = _row_to_snip(row)
            replacement.note = replacement.note or old.note
            replacement.tags = normalise_tags([*old.tags, *replacement.tags])
            replacement.favourite = replacement.favourite or old.favourite
            replacement.created = old.created
            replacement.updated = now_iso()
            con.execute("DELETE FROM snips WHERE id = ?", (snip_id_,))
            self._write(con, replacement)
        return replacement

    def delete(self, snip_id_: str) -> None:
        with self._tx() as con:
            cur = con.execute("DELETE FROM snips WHERE id = ?", (snip_id_,))
            if cur.rowcount == 0:
                raise PodlensError(f"no snip with id {snip_id_!r}")

    @staticmethod
    def _write(con: sqlite3.Connection, snip: Snip) -> None:
        d = snip.to_dict()
        d["takeaways"] = json.dumps(snip.takeaways, ensure_ascii=False)
        d["tags"] = json.dumps(snip.tags, ensure_ascii=False)
        d["favourite"] = int(bool(snip.favourite))
        cols = ", ".join(f'"{c}"' for c in _COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        con.execute(
            f"INSERT OR REPLACE INTO snips ({cols}) VALUES ({marks})", [d[c] for c in _COLUMNS]
        )
        con.execute("DELETE FROM snip_tags WHERE snip_id = ?", (snip.id,))
        con.executemany(
            "INSERT INTO snip_tags (snip_id, tag) VALUES (?, ?)", [(snip.id, t) for t in snip.tags]
        )

    # ------------------------------------------------------------------ reads

    def get(self, snip_id_: str) -> Snip:
        with self._read() as con:
            row = con.execute("SELECT * FROM snips WHERE id = ?", (snip_id_,)).fetchone()
            if row is None:
                # Accept a unique prefix, as git does, so CLI users can type short ids.
                rows = con.execute(
                    "SELECT * FROM snips WHERE id LIKE ? || '%'", (snip_id_,)
                ).fetchall()
                if len(rows) != 1 or not snip_id_:
                    raise PodlensError(f"no snip with id {snip_id_!r}")
                row = rows[0]
        return _row_to_snip(row)

    def list(
        self,
        episode: str | None = None,
        tag: str | None = None,
        favourite: bool | None = None,
        query: str | None = None,
    ) -> list[Snip]:
        """Snips in a stable order (episode, start, end, id), optionally filtered.

        ``query`` searches title, quote, takeaways, note, tags, speaker and chapter: every word
        must occur (case-insensitive).
        """
        where: list[str] = []
        args: list[Any] = []
        if episode:
            where.append("episode = ?")
            args.append(episode)
        if tag:
            where.append("id IN (SELECT snip_id FROM snip_tags WHERE tag = ?)")
            args.append(normalise_tags([tag])[0] if normalise_tags([tag]) else tag)
        if favourite is not None:
            where.append("favourite = ?")
            args.append(int(favourite))
        for word in (query or "").split():
            where.append(
                "(title || ' ' || quote || ' ' || takeaways || ' ' || note || ' ' || tags || ' ' "
                "|| speaker || ' ' || chapter || ' ' || episode_title) LIKE ? ESCAPE '\\'"
            )
            esc = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{esc}%")
        sql = "SELECT * FROM snips"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += ' ORDER BY episode, start, "end", id'
        with self._read() as con:
            return [_row_to_snip(r) for r in con.execute(sql, args).fetchall()]

    def search(self, query: str, episode: str | None = None) -> list[Snip]:
        return self.list(episode=episode, query=query)

    def tags(self) -> list[tuple[str, int]]:
        with self._read() as con:
            rows = con.execute(
                "SELECT tag, COUNT(*) FROM snip_tags GROUP BY tag ORDER BY tag"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def episodes(self) -> list[tuple[str, str, int]]:
        """``(episode id, episode title, number of snips)`` for every episode with snips."""
        with self._read() as con:
            rows = con.execute(
                "SELECT episode, MAX(episode_title), COUNT(*) FROM snips GROUP BY episode "
                "ORDER BY episode"
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]
