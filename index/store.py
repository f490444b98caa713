"""The index on disk: SQLite is the source of truth, the FAISS file is derived from it.

``data_dir/index/podlens.db`` holds

- ``episodes``: one row per indexed episode (summary columns + the full Episode JSON);
- ``passages``: chunked transcript / paper passages with their metadata;
- ``vectors``: one float32 embedding blob per passage (of its ``embed_text``);
- ``piece_vectors``: float32 embeddings of each passage's sentence groups (see
  :func:`index.chunk.passage_pieces`), searched alongside the passage vectors;
- ``sentence_vectors``: per episode, one float32 matrix of its sentence stream
  (:func:`podlens.sentences.episode_sentences`), row i = sentence i, with a hash of the
  sentences' texts: ``ask`` scores sentences without embedding them at question time;
- ``meta``: ``generation`` (bumped by every write) and ``model`` (which embedder made the vectors).

Replacing an episode is ONE ``BEGIN IMMEDIATE`` transaction (delete its rows, insert the new ones,
bump the generation), so a re-ingest never duplicates passages and an ingest that fails or is
killed part-way leaves the previous index exactly as it was (SQLite rolls the open transaction
back).  ``passages.faiss`` (IndexFlatIP over the normalised vectors, passage ids as FAISS ids) is
written after the commit, atomically (temp file + ``os.replace``), stamped with the generation it
was built from; a reader that finds it missing, corrupt or stamped with another generation
rebuilds it from SQLite.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import time
from collections.abc import Callable, Sequence
from contextlib import closing as _closing
from dataclasses import dataclass

import numpy as np

from index.chunk import Passage
from podlens.atomic import atomic_write_bytes
from podlens.config import data_dir as resolve_data_dir
from podlens.errors import PodlensError
from podlens.models import Episode
from podlens.storage import check_writable, connect_read, write_error

DB_NAME = "podlens.db"
FAISS_NAME = "passages.faiss"
_MAGIC = b"PODLENS-FAISS\x01"
_HEADER = struct.Struct("<14sqq")  # magic, generation, payload length

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS episodes (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    podcast TEXT,
    published TEXT,
    duration REAL,
    chapter_count INTEGER NOT NULL,
    passage_count INTEGER NOT NULL,
    indexed_at REAL NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    episode TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    ord INTEGER NOT NULL,
    speaker TEXT,
    chapter TEXT,
    start REAL,
    "end" REAL,
    title TEXT,
    url TEXT,
    turn INTEGER,
    word_start INTEGER NOT NULL,
    word_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_episode ON passages(episode, kind, ord);
CREATE TABLE IF NOT EXISTS content_hashes (
    episode TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    passage_id INTEGER PRIMARY KEY REFERENCES passages(id) ON DELETE CASCADE,
    vec BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS piece_vectors (
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (passage_id, ord)
);
CREATE TABLE IF NOT EXISTS sentence_vectors (
    episode TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    texts_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vecs BLOB NOT NULL
);
"""

_PASSAGE_COLS = (
    'episode, kind, ord, speaker, chapter, start, "end", title, url, turn, word_start, '
    "word_end, text, embed_text"
)


@dataclass
class EpisodeSummary:
    id: str
    title: str
    podcast: str | None
    published: str | None
    duration: float | None
    chapters: int
    passages: int
    indexed_at: float
    clock: str = "chapters"  # see podlens.models.CLOCKS
    machine_transcript: bool = False  # the words are what Whisper heard


@dataclass
class StoredPassage(Passage):
    id: int = 0


class IndexStore:
    """Read and write the index under ``data_dir`` (default: :func:`podlens.config.data_dir`)."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None):
        self.data_dir = resolve_data_dir(data_dir)
        self.dir = self.data_dir / "index"
        self.db_path = self.dir / DB_NAME
        self.faiss_path = self.dir / FAISS_NAME

    # -- connection -------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.db_path.is_file()

    def connect(self, create: bool = False) -> sqlite3.Connection:
        """A connection for writing (``create``: makes the folder, the schema, WAL mode; a
        one-line PodlensError where the data dir is read-only) or for reading an existing
        index, which writes nothing where it cannot (:func:`podlens.storage.connect_read`)."""
        if not create:
            if not self.exists():
                raise FileNotFoundError(self.db_path)
            con = connect_read(self.db_path, timeout=60)
            con.execute("PRAGMA busy_timeout = 60000")
            return con
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.db_path, timeout=60, isolation_level=None)
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA busy_timeout = 60000")
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(_SCHEMA)
        except (OSError, sqlite3.OperationalError) as e:
            raise write_error(f"the index in {self.dir}", e) from None
        return con

    def check_writable(self) -> None:
        """One-line PodlensError unless an ingest could write this index: run before parsing
        and embedding, so a read-only data dir is reported at once, not minutes later."""
        check_writable(self.dir, self.db_path, self.faiss_path)

    # -- reads ------------------------------------------------------------------------------

    def has_episodes(self) -> bool:
        if not self.exists():
            return False
        with _closing(self.connect()) as con:
            return con.execute("SELECT 1 FROM episodes LIMIT 1").fetchone() is not None

    def list_episodes(self) -> list[EpisodeSummary]:
        if not self.exists():
            return []
        with _closing(self.connect()) as con:
            rows = con.execute(
                "SELECT id, title, podcast, published, duration, chapter_count, passage_count, "
                "indexed_at, COALESCE(json_extract(json, '$.clock'), CASE WHEN chapter_count > 0 "
                "THEN 'chapters' ELSE 'approximate' END), "
                "COALESCE(json_extract(json, '$.machine_transcript'), 0) "
                "FROM episodes ORDER BY published DESC, id"
            ).fetchall()
        return [EpisodeSummary(*r[:-1], machine_transcript=bool(r[-1])) for r in rows]

    def load_episode(self, episode_id: str) -> Episode | None:
        if not self.exists():
            return None
        with _closing(self.connect()) as con:
            row = con.execute("SELECT json FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        return Episode.from_dict(json.loads(row[0])) if row else None

    def content_hashes(self) -> dict[str, str]:
        """``{episode id: content hash}`` recorded by :meth:`set_content_hash` (the library's
        incremental ingest: an item whose feed entry and transcript hash the same is skipped)."""
        if not self.exists():
            return {}
        with _closing(self.connect()) as con:
            try:
                rows = con.execute("SELECT episode, hash FROM content_hashes").fetchall()
            except sqlite3.OperationalError:  # an index written before the table existed
                return {}
        return dict(rows)

    def set_content_hash(self, episode_id: str, content_hash: str) -> None:
        """Record what ``episode_id`` was built from, after it is indexed.  Written after the
        episode's own transaction: a crash in between only means it is redone next time."""
        with _closing(self.connect(create=True)) as con:
            con.execute(
                "INSERT OR REPLACE INTO content_hashes (episode, hash) VALUES (?, ?)",
                (episode_id, content_hash),
            )

    def generation(self, con: sqlite3.Connection | None = None) -> int:
        if con is None:
            if not self.exists():
                return 0
            with _closing(self.connect()) as c:
                return self.generation(c)
        row = con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def model_label(self) -> str | None:
        if not self.exists():
            return None
        with _closing(self.connect()) as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'model'").fetchone()
        return row[0] if row else None

    def load_passages(self) -> tuple[int, list[StoredPassage]]:
        """``(generation, passages)`` read in one snapshot."""
        with _closing(self.connect()) as con:
            con.execute("BEGIN")
            gen = self.generation(con)
            rows = con.execute(f"SELECT id, {_PASSAGE_COLS} FROM passages ORDER BY id").fetchall()
            con.execute("COMMIT")
        out = []
        for r in rows:
            (pid, ep, kind, ord_, spk, chap, start, end, title, url, turn, ws, we, text, et) = r
            out.append(
                StoredPassage(
                    episode=ep,
                    kind=kind,
                    ord=ord_,
                    text=text,
                    embed_text=et,
                    speaker=spk,
                    chapter=chap,
                    start=start,
                    end=end,
                    title=title,
                    url=url,
                    turn=turn,
                    word_start=ws,
                    word_end=we,
                    id=pid,
                )
            )
        return gen, out

    def load_vectors(self, con: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray]:
        rows = con.execute("SELECT passage_id, vec FROM vectors ORDER BY passage_id").fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return ids, vecs

    def load_pieces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(owner passage ids, piece vectors)``."""
        with _closing(self.connect()) as con:
            rows = con.execute(
                "SELECT passage_id, vec FROM piece_vectors ORDER BY passage_id, ord"
            ).fetchall()
        owners = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return owners, np.zeros((0, 0), dtype=np.float32)
        return owners, np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])

    def load_sentence_vectors(self, episode_id: str, texts_hash: str) -> np.ndarray | None:
        """``episode_id``'s sentence vectors ``(n_sentences, dim)``, or ``None`` when none are
        stored or they were made from other sentences than ``texts_hash`` names."""
        with _closing(self.connect()) as con:
            try:
                row = con.execute(
                    "SELECT texts_hash, dim, vecs FROM sentence_vectors WHERE episode = ?",
                    (episode_id,),
                ).fetchone()
            except sqlite3.OperationalError:  # an index written before the table existed
                return None
        if row is None or row[0] != texts_hash:
            return None
        return np.frombuffer(row[2], dtype=np.float32).reshape(-1, row[1])

    def all_texts(self, exclude_episode: str | None = None) -> list[tuple[int, str, str]]:
        """``(passage id, embed_text, text)`` of every passage not in ``exclude_episode``."""
        with _closing(self.connect()) as con:
            return con.execute(
                "SELECT id, embed_text, text FROM passages WHERE episode IS NOT ? ORDER BY id",
                (exclude_episode,),
            ).fetchall()

    # -- writes -----------------------------------------------------------------------------

    def replace_episode(
        self,
        episode: Episode,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        model_label: str,
        reembedded: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
        pieces: Sequence[np.ndarray] | None = None,
        before_commit: Callable[[], None] | None = None,
        sentences: tuple[str, np.ndarray] | None = None,
    ) -> int:
        """Replace ``episode``'s row, passages and vectors in one transaction; returns the new
        generation.  ``pieces[i]`` holds passage i's sentence-group vectors (rows).
        ``reembedded`` maps other passages' ids to new ``(vector, piece vectors)``, updated in
        the same transaction (used when the embedding model changed since they were written).
        ``sentences`` is ``(texts hash, vectors)`` of the episode's sentence stream.
        ``before_commit`` is called inside the transaction, after every write and before COMMIT:
        a test's way to kill a writer mid-transaction."""
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage")
        pieces = list(pieces) if pieces is not None else [np.zeros((0, 1))] * len(passages)
        con = self.connect(create=True)
        try:
            con.execute("BEGIN IMMEDIATE")
            for table in ("vectors", "piece_vectors"):
                con.execute(
                    f"DELETE FROM {table} WHERE passage_id IN "
                    "(SELECT id FROM passages WHERE episode = ?)",
                    (episode.id,),
                )
            con.execute("DELETE FROM passages WHERE episode = ?", (episode.id,))
            con.execute("DELETE FROM sentence_vectors WHERE episode = ?", (episode.id,))
            con.execute("DELETE FROM episodes WHERE id = ?", (episode.id,))
            con.execute(
                "INSERT INTO episodes (id, title, podcast, published, duration, chapter_count, "
                "passage_count, indexed_at, json) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    episode.id,
                    episode.title,
                    episode.podcast,
                    episode.published,
                    episode.duration,
                    len(episode.chapters),
                    len(passages),
                    time.time(),
                    _episode_json(episode),
                ),
            )
            for p, v, pv in zip(passages, vectors, pieces, strict=True):
                cur = con.execute(
                    f"INSERT INTO passages ({_PASSAGE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        episode.id,
                        p.kind,
                        p.ord,
                        p.speaker,
                        p.chapter,
                        p.start,
                        p.end,
                        p.title,
                        p.url,
                        p.turn,
                        p.word_start,
                        p.word_end,
                        p.text,
                        p.embed_text,
                    ),
                )
                con.execute(
                    "INSERT INTO vectors (passage_id, vec) VALUES (?, ?)",
                    (cur.lastrowid, np.asarray(v, dtype=np.float32).tobytes()),
                )
                _insert_pieces(con, cur.lastrowid, pv)
            if sentences is not None:
                vecs = np.ascontiguousarray(sentences[1], dtype=np.float32)
                con.execute(
                    "INSERT INTO sentence_vectors (episode, texts_hash, dim, vecs) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        episode.id,
                        sentences[0],
                        vecs.shape[1] if vecs.ndim == 2 else 0,
                        vecs.tobytes(),
                    ),
                )
            if reembedded:  # other episodes' sentence vectors are from the old model: drop them
                con.execute("DELETE FROM sentence_vectors WHERE episode != ?", (episode.id,))
            for pid, (v, pv) in (reembedded or {}).items():
                con.execute(
                    "UPDATE vectors SET vec = ? WHERE passage_id = ?",
                    (np.asarray(v, dtype=np.float32).tobytes(), pid),
                )
                con.execute("DELETE FROM piece_vectors WHERE passage_id = ?", (pid,))
                _insert_pieces(con, pid, pv)
            gen = self.generation(con) + 1
            con.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(gen),))
            con.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (model_label,))
            if before_commit is not None:
                before_commit()
            con.execute("COMMIT")
        except sqlite3.OperationalError as e:
            if con.in_transaction:
                con.execute("ROLLBACK")
            if "readonly" in str(e) or "read-only" in str(e) or "unable to open" in str(e):
                raise write_error(f"the index in {self.dir}", e) from None
            raise
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        self.write_faiss()
        return gen

    # -- FAISS (derived) ----------------------------------------------------------------------

    def write_faiss(self):
        """Build ``passages.faiss`` from SQLite and write it atomically; returns the index.
        In a read-only data dir the index is only built in memory (searching still works)."""
        import faiss

        with _closing(self.connect()) as con:
            con.execute("BEGIN")
            gen = self.generation(con)
            ids, vecs = self.load_vectors(con)
            con.execute("COMMIT")
        index = flat_index(ids, vecs)
        payload = faiss.serialize_index(index).tobytes()
        try:
            atomic_write_bytes(self.faiss_path, _HEADER.pack(_MAGIC, gen, len(payload)) + payload)
        except OSError:
            if _folder_writable(self.dir):
                raise
        return index, gen

    def read_faiss(self):
        """``(index, generation)`` from ``passages.faiss``, rebuilt from SQLite when the file is
        missing, unreadable, truncated or stamped with an older generation."""
        import faiss

        want = self.generation()
        try:
            data = self.faiss_path.read_bytes()
            magic, gen, n = _HEADER.unpack_from(data)
            payload = data[_HEADER.size :]
            if magic != _MAGIC or gen != want or n != len(payload):
                raise ValueError("stale or foreign faiss file")
            index = faiss.deserialize_index(np.frombuffer(payload, dtype=np.uint8))
            return index, gen
        except (OSError, ValueError, struct.error, RuntimeError):
            return self.write_faiss()


def _folder_writable(folder) -> bool:  # type: ignore[no-untyped-def]
    try:
        check_writable(folder)
    except PodlensError:
        return False
    return True


def _episode_json(episode: Episode) -> str:
    """The stored JSON; NaN/Infinity would make SQLite's ``json_extract`` call the row
    malformed, so they are refused (ingest validates times; this is the last line)."""
    try:
        return json.dumps(episode.to_dict(), ensure_ascii=False, allow_nan=False)
    except ValueError as e:
        raise PodlensError(f"episode {episode.id}: not storable as JSON ({e})") from None


def flat_index(ids: Sequence[int] | np.ndarray, vectors: np.ndarray):
    """Exact inner-product FAISS index over unit ``vectors`` (scores are cosines), one id each."""
    import faiss

    dim = vectors.shape[1] if len(vectors) else 1
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(vectors):
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        index.add_with_ids(vecs, np.asarray(ids, dtype=np.int64))
    return index


def _insert_pieces(con: sqlite3.Connection, passage_id: int, vecs: np.ndarray) -> None:
    for k, v in enumerate(vecs):
        con.execute(
            "INSERT INTO piece_vectors (passage_id, ord, vec) VALUES (?, ?, ?)",
            (passage_id, k, np.asarray(v, dtype=np.float32).tobytes()),
        )
