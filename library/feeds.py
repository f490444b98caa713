"""Many episodes: every item of a feed (or of every feed in an OPML file), incrementally.

For each item: find its transcript (its ``<podcast:transcript>``, else in ``transcripts_dir`` the
markdown with its link's slug or its episode number, else its transcript link), hash what the
episode is built from (the feed entry's fields + the transcript text), and skip it when the index
holds the same hash (``index.store.IndexStore.content_hashes``).  Otherwise ingest and index it
as :func:`library.pipeline.ingest` does: it is searchable as soon as it lands.  One failing item
is reported with its reason and never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from index.build import index_episode
from index.store import IndexStore
from ingest.feed import FeedItem, episode_id, item_from_entry, load_feed
from ingest.pipeline import (
    add_references,
    episode_by_ear,
    episode_from_item,
    has_transcript,
    transcript_source,
)
from ingest.source import is_url, read_linked, read_local, read_text
from ingest.transcript import LocalTranscripts
from podlens.config import asr_model_name
from podlens.config import data_dir as resolve_data_dir
from podlens.errors import PodlensError

# Bump when what an item's hash covers changes meaning (a new field, a new parser that reads
# the same text differently): every item is then rebuilt once.
HASH_VERSION = "1"

INGESTED, UNCHANGED, SKIPPED = "ingested", "unchanged", "skipped"


@dataclass
class ItemResult:
    """What happened to one feed item."""

    feed: str
    title: str
    status: str  # "ingested" | "unchanged" | "skipped"
    reason: str  # why (the clock it got, "same content hash", the error)
    episode: str | None = None
    seconds: float = 0.0


@dataclass
class LibraryReport:
    items: list[ItemResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.items)

    def summary(self) -> str:
        """``ingested 3 / unchanged 22 / skipped 1`` then one line per item with its reason."""
        head = (
            f"ingested {self.count(INGESTED)} / unchanged {self.count(UNCHANGED)} / "
            f"skipped {self.count(SKIPPED)} in {self.seconds:.1f} s"
        )
        lines = [head]
        for r in self.items:
            lines.append(f"  {r.status:<9} {r.episode or '-':<14} {r.title[:50]}: {r.reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 2), "items": [asdict(r) for r in self.items]}


OnItem = Callable[[int, int, ItemResult], None]


def content_hash(item: FeedItem, transcript_src: str, transcript_text: str) -> str:
    """What the episode is built from: the item's own fields and its transcript's text."""
    fields = {
        "v": HASH_VERSION,
        "title": item.title,
        "guid": item.guid,
        "number": item.number,
        "published": item.published,
        "audio": item.audio_url,
        "duration": item.duration,
        "notes": item.notes_html,
        "chapters": [(c.title, c.start) for c in item.chapters],
        "transcripts": [(t.url, t.type) for t in item.transcripts],
        "transcript": transcript_src,
    }
    h = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode())
    h.update(b"\0")
    h.update(transcript_text.encode("utf-8"))
    return h.hexdigest()


def feeds_from_opml(path: str | os.PathLike[str]) -> list[str]:
    """Every ``<outline xmlUrl=...>`` of an OPML subscriptions file (nested folders too), in
    order, without repeats.  PodlensError for a file that is not OPML."""
    from lxml import etree

    src = str(path)
    data = read_text(src, "OPML file").encode("utf-8") if is_url(src) else read_local(src, "OPML")
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise PodlensError(f"OPML {src}: not well-formed XML ({e.msg})") from None
    if etree.QName(root).localname.lower() != "opml":
        raise PodlensError(f"OPML {src}: the root element is <{root.tag}>, not <opml>")
    urls = [
        (o.get("xmlUrl") or o.get("xmlurl") or "").strip()
        for o in root.iter()
        if isinstance(o.tag, str) and etree.QName(o).localname == "outline"
    ]
    urls = list(dict.fromkeys(u for u in urls if u))
    if not urls:
        raise PodlensError(f"OPML {src}: no outline has an xmlUrl (no feeds)")
    return urls


def _in_range(item: FeedItem, numbers: tuple[float, float] | None) -> bool:
    if numbers is None:
        return True
    if item.number is None:
        return False
    return numbers[0] <= float(item.number) <= numbers[1]


@dataclass
class _Run:
    """What every item of one run shares."""

    target: Path
    store: IndexStore
    local: LocalTranscripts | None
    no_papers: bool
    force: bool
    numbers: tuple[float, float] | None
    transcribe: bool = False
    hashes: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


def ingest_feeds(
    feeds: Iterable[str],
    *,
    transcripts_dir: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    no_papers: bool = False,
    force: bool = False,
    numbers: tuple[float, float] | None = None,
    bar: bool = True,
    on_item: OnItem | None = None,
    transcribe: bool = False,
) -> LibraryReport:
    """Ingest every item of every feed (``numbers``: only episode numbers in that closed range).

    ``transcribe``: an item with audio but no transcript is transcribed on this machine (a
    machine transcript, :func:`ingest.pipeline.episode_by_ear`: minutes per episode) instead of
    skipped.

    ``bar`` shows a tqdm bar per feed on stderr; ``on_item(done, total, result)`` is called after
    each item (the app's progress).  Returns what happened to each item; never raises for one
    item's failure (an unreadable feed is one skipped row too).  ``force`` rebuilds items whose
    content hash is unchanged."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    target = resolve_data_dir(data_dir)
    local = LocalTranscripts(transcripts_dir) if transcripts_dir else None
    run = _Run(target, IndexStore(target), local, no_papers, force, numbers, transcribe)
    run.store.check_writable()  # a read-only data dir: one line now, not one per item
    report = LibraryReport()
    for feed in feeds:
        try:
            parsed = load_feed(feed)
        except PodlensError as e:
            report.items.append(ItemResult(feed, feed, SKIPPED, str(e)))
            continue
        run.hashes = run.store.content_hashes()
        entries = list(parsed.entries)
        progress = tqdm(
            entries,
            desc=str(parsed.feed.get("title") or feed)[:40],
            unit="ep",
            file=sys.stderr,
            disable=not bar,
        )
        for n, entry in enumerate(progress, 1):
            result = _one(run, parsed, entry, feed)
            if result is not None:
                report.items.append(result)
                if on_item is not None:
                    on_item(n, len(entries), result)
        progress.close()
    report.seconds = time.perf_counter() - t0
    return report


def _one(run: _Run, parsed: Any, entry: Any, feed: str) -> ItemResult | None:
    """One item, start to finish; None when it is outside ``run.numbers``."""
    t0 = time.perf_counter()
    title = str(entry.get("title") or "untitled")
    ep_id = None

    def done(status: str, reason: str) -> ItemResult:
        return ItemResult(feed, title, status, reason, ep_id, round(time.perf_counter() - t0, 2))

    try:
        item = item_from_entry(parsed, entry, feed_url=feed if is_url(feed) else None)
        if not _in_range(item, run.numbers):
            return None
        title, ep_id = item.title, episode_id(item)
        if ep_id in run.seen:
            return done(SKIPPED, "another item of this run has the same id")
        run.seen.add(ep_id)
        path = None
        if run.local is not None and not item.transcripts:
            path = run.local.find(item.transcript_url, item.number)
        if path is None and run.transcribe and not has_transcript(item):
            # No transcript anywhere: the audio is heard; what it is built from is the item
            # and the model that hears it.
            digest = content_hash(item, f"machine:{Path(asr_model_name()).name}", "")
            if not run.force and run.hashes.get(ep_id) == digest:
                return done(UNCHANGED, "same content hash as indexed")
            ep = episode_by_ear(item, run.target)
        else:
            src = str(path) if path else transcript_source(item)[0]
            # A local transcript is the listener's; a feed's link is http(s) and public only.
            text = (
                read_text(src, "transcript")
                if path
                else read_linked(src, "transcript", base=item.feed_url)
            )
            digest = content_hash(item, src, text)
            if not run.force and run.hashes.get(ep_id) == digest:
                return done(UNCHANGED, "same content hash as indexed")
            ep = episode_from_item(
                item, transcript=str(path) if path else None, transcript_text=text
            )
        papers = add_references(ep, run.target, fetch=not run.no_papers)
        index_episode(ep, run.target, papers=papers)
        run.store.set_content_hash(ep_id, digest)
        if ep_id not in run.hashes:
            why = "new"
        elif run.hashes[ep_id] == digest:
            why = "forced"
        else:
            why = "changed"
        what = "; machine transcript" if ep.machine_transcript else ""
        return done(INGESTED, f"{why}; clock: {ep.clock}{what}")
    except PodlensError as e:
        return done(SKIPPED, str(e))
    except Exception as e:  # one broken item must not stop the rest; say what broke
        return done(SKIPPED, f"{type(e).__name__}: {e}".splitlines()[0])
