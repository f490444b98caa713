"""Library scale: ingest time, warm search latency and memory at 1, 10, 25 and 58 episodes.

    PYTHONPATH=. .venv/bin/python bench/bench_library.py [--sizes 1,10,25,58] [--queries 40]

Each size runs in a fresh subprocess (so peak RSS is that size's own) into a fresh temp data dir:

- ingest: :func:`library.feeds.ingest_feeds` over a feed of the first N episodes, no papers,
  default configuration, the embedding model loaded first and timed apart.  The episodes are the
  25 items of ``../shared/axrp/feed.xml`` (chapters, durations) and, past 25, the other posts of
  ``../shared/axrp/posts`` as items with only a title, a date and a link (clock "none": the
  words are indexed the same, which is what this measures);
- search: ``Searcher.search(q, k=8)`` over the whole library for the questions of
  ``tests/eval/axrp_library.jsonl`` (cycled to ``--queries``), after 3 warm-up queries; p50 / p95;
- peak RSS of the process (``resource.getrusage``) and the number of passage vectors.

The index is an exact ``IndexFlatIP`` (``index.store.flat_index``): see the README's "Library
scale" note for why and where that stops being enough.  Results go to
``bench/results/library.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared" / "axrp"
EVAL = REPO / "tests" / "eval" / "axrp_library.jsonl"
OUT = REPO / "bench" / "results" / "library.json"


def library_feed(n: int, folder: Path) -> Path:
    """A feed of the first ``n`` episodes: the fixture feed's items, then bare items for the
    other posts (newest first, as feeds list them)."""
    xml = (SHARED / "feed.xml").read_text(encoding="utf-8")
    head, rest = xml.split("<item>", 1)
    items = re.findall(r"<item>.*?</item>", "<item>" + rest, flags=re.S)
    numbers = {m.group(1) for it in items if (m := re.search(r"<title>([\d.]+) - ", it))}
    for post in sorted((SHARED / "posts").glob("*.markdown"), reverse=True):
        fm = post.read_text(encoding="utf-8")[:600]
        title = re.search(r'^title:\s*"?(.*?)"?\s*$', fm, re.M)
        num = re.match(r"(?:Episode )?([\d.]+) - ", title.group(1) if title else "")
        if not num or num.group(1) in numbers:
            continue
        numbers.add(num.group(1))
        day = post.name[:10]
        slug = post.stem[11:]
        link = f"https://axrp.net/episode/{day.replace('-', '/')}/{slug}.html"
        pub = time.strftime("%a, %d %b %Y 12:00:00 +0000", time.strptime(day, "%Y-%m-%d"))
        items.append(
            f"<item><title>{_esc(title.group(1))}</title>"
            f"<guid>bench-{num.group(1)}</guid><link>{link}</link>"
            f"<pubDate>{pub}</pubDate></item>"
        )
    if n > len(items):
        raise SystemExit(f"only {len(items)} episodes available")
    path = folder / f"library-{n}.xml"
    path.write_text(head + "\n".join(items[:n]) + "\n</channel></rss>\n", encoding="utf-8")
    return path


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;")


def run_size(n: int, queries: int) -> dict:
    """One size, in this process: ingest, then search, then memory."""
    from index.embed import load_embedder
    from index.search import Searcher
    from index.store import IndexStore
    from library.feeds import ingest_feeds

    with tempfile.TemporaryDirectory() as tmp:
        feed = library_feed(n, Path(tmp))
        t0 = time.perf_counter()
        load_embedder()
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = ingest_feeds(
            [str(feed)],
            transcripts_dir=SHARED / "posts",
            data_dir=Path(tmp) / "data",
            no_papers=True,
            bar=False,
        )
        t_ingest = time.perf_counter() - t0
        assert report.count("ingested") == n, report.summary()
        qs = [json.loads(x)["question"] for x in EVAL.read_text().splitlines() if x.strip()]
        qs = (qs * (queries // len(qs) + 1))[:queries]
        searcher = Searcher(Path(tmp) / "data")
        for q in qs[:3]:
            searcher.search(q, k=8)
        lat = []
        for q in qs:
            t0 = time.perf_counter()
            searcher.search(q, k=8)
            lat.append((time.perf_counter() - t0) * 1000)
        _, passages = IndexStore(Path(tmp) / "data").load_passages()
    lat.sort()
    return {
        "episodes": n,
        "passages": len(passages),
        "model_load_s": round(t_model, 1),
        "ingest_s": round(t_ingest, 1),
        "ingest_s_per_episode": round(t_ingest / n, 1),
        "search_p50_ms": round(statistics.median(lat), 1),
        "search_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1,10,25,58")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the subprocess for one size
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one, args.queries)))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--queries", str(args.queries)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['episodes']:>3} episodes  {row['passages']:>6} passages  ingest "
            f"{row['ingest_s']:>7.1f} s ({row['ingest_s_per_episode']:.1f} s/ep)  search p50 "
            f"{row['search_p50_ms']:>6.1f} ms  p95 {row['search_p95_ms']:>6.1f} ms  RSS "
            f"{row['peak_rss_mb']:>5} MB  load {row['load_avg_1min']}",
            flush=True,
        )
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(rows, indent=1) + "\n")  # after each size: long runs


if __name__ == "__main__":
    main()
