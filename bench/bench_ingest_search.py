"""Ingest + search performance on episode 19: ingest time, warm search latency, peak RSS.

    PYTHONPATH=. .venv/bin/python bench/bench_ingest_search.py [--runs 3] [--queries 60]

- ingest: parse + align (``ingest.pipeline.build_episode`` on the shared markdown + feed) and
  ``index.build.index_episode`` into a fresh temp data dir; the model load is timed apart (it is
  paid once per process).  With ``--runs N`` the ingest is repeated and the median reported.
- search: ``Searcher.search(q, k=5)`` over the eval questions (cycled to ``--queries``), after
  3 warm-up queries; p50 / p95 / max in milliseconds.  Two searchers over the same index, side by
  side and interleaved query by query (so load swings hit both alike): the default
  ``SearchConfig`` and ``before #10`` (exact wording and landing switched off); the growth of
  resident memory when each is built is reported with it.
- peak RSS of this process (``resource.getrusage``), i.e. model + index + everything.

Targets (issue 2), on 2 CPU cores: ingest <= 60 s, search p50 <= 50 ms, RSS <= 1.5 GB.  The 1-min
load average is printed with the figures: on a shared machine the numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ep19 import load_ep19
from index.build import index_episode
from index.embed import load_embedder
from index.search import SearchConfig, Searcher

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval" / "axrp19.jsonl"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def rss_now_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1, help="ingest repetitions (median reported)")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--json", default="bench/results/bench_ingest_search.json")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]

    t = time.perf_counter()
    model = load_embedder()
    model_load = time.perf_counter() - t

    parse_s, index_s, total_s, stats = [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            t = time.perf_counter()
            ep, source = load_ep19()
            t_parse = time.perf_counter() - t
            stats = index_episode(ep, tmp, model=model)
            t_total = time.perf_counter() - t
            parse_s.append(t_parse)
            index_s.append(t_total - t_parse)
            total_s.append(t_total)

        configs = {
            "default": SearchConfig(),
            "before #10": SearchConfig(phrase_min_words=0, land=False),
        }
        searchers, rss_growth = {}, {}
        for name, cfg in configs.items():
            before = rss_now_mb()
            searchers[name] = Searcher(tmp, model=model, config=cfg)
            rss_growth[name] = round(rss_now_mb() - before, 1)
        questions = [json.loads(x)["question"] for x in EVAL.read_text().splitlines() if x]
        for q in questions[:3]:
            for searcher in searchers.values():
                searcher.search(q, k=5)
        lats: dict[str, list[float]] = {name: [] for name in searchers}
        for i in range(args.queries):
            q = questions[i % len(questions)]
            for name, searcher in searchers.items():
                t = time.perf_counter()
                searcher.search(q, k=5)
                lats[name].append((time.perf_counter() - t) * 1000)
        lat = lats["default"]

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "episode_source": source,
        "cpus": os.cpu_count(),
        "torch_threads": __import__("torch").get_num_threads(),
        "loadavg_1m_start": round(load0, 2),
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
        "model_load_s": round(model_load, 2),
        "ingest_runs": args.runs,
        "ingest_parse_align_s": round(statistics.median(parse_s), 2),
        "ingest_index_s": round(statistics.median(index_s), 2),
        "ingest_total_s": round(statistics.median(total_s), 2),
        "ingest_total_all_runs_s": [round(x, 2) for x in total_s],
        "index_stats": stats,
        "search_queries": len(lat),
        "search_p50_ms": round(pct(lat, 50), 1),
        "search_p95_ms": round(pct(lat, 95), 1),
        "search_max_ms": round(max(lat), 1),
        "search_side_by_side": {
            name: {
                "p50_ms": round(pct(xs, 50), 1),
                "p95_ms": round(pct(xs, 95), 1),
                "searcher_rss_growth_mb": rss_growth[name],
            }
            for name, xs in lats.items()
        },
        "peak_rss_mb": round(rss_mb, 1),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
