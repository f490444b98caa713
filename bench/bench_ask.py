"""Ask latency on CPU: the extractive answer (no LLM), per question, median and p90.

Two configurations side by side, alternating question by question: sentence vectors stored at
ingest (what ships) and every candidate sentence embedded at question time (an index from
before).  Each question is timed with the sentence-vector cache emptied first (moments not asked
about before: the case a listener waits on), after one warm-up question so the model and index
are loaded; the search alone is timed too.  Goal (issue 14): p50 <= 300 ms on 2 cores.

    python bench/bench_ask.py --data-dir D [--threads 2] [--limit 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from ask.answer import Asker  # noqa: E402

EVAL = REPO / "tests" / "eval" / "ask_axrp19.jsonl"


def _ms(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {
        "p50_ms": round(1000 * statistics.median(xs), 1),
        "p90_ms": round(1000 * xs[int(0.9 * (len(xs) - 1))], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = [json.loads(x) for x in EVAL.read_text("utf-8").splitlines() if x.strip()]
    questions = [r["question"] for r in rows][: args.limit]
    stored = Asker(args.data_dir)
    # The same asker without the sentence vectors stored at ingest: every sentence embedded now.
    embedded = Asker(searcher=stored.searcher, config=stored.config)
    for a in (stored, embedded):
        a.ask(questions[0])  # load the model, the index and the episode's sentences
    for et in embedded._texts.values():
        et.vectors = None
    times: dict[str, list[float]] = {
        "search": [],
        "stored vectors": [],
        "embedded per question": [],
    }
    for q in questions:  # the configurations alternate question by question
        t0 = time.perf_counter()
        stored.searcher.search(q, k=stored.config.passages)
        times["search"].append(time.perf_counter() - t0)
        for name, a in (("stored vectors", stored), ("embedded per question", embedded)):
            a._vectors.clear()  # a new topic: no sentence seen before
            t0 = time.perf_counter()
            a.ask(q)
            times[name].append(time.perf_counter() - t0)
    out = {"questions": len(questions), "threads": args.threads}
    out.update({k: _ms(v) for k, v in times.items()})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
