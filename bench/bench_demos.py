"""Timings of both demo ``fast`` presets: seconds to the result and ms per training step.

    PYTHONPATH=. .venv/bin/python bench/bench_demos.py [--runs 3] [--threads 1] [--json]

Each run trains from scratch in a temporary data dir (no cache). The CPU may be shared, so the
per-step time and the machine's load average are reported next to the wall time; the median
over ``--runs`` is printed. Writes ``bench/results/demos.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from demos import grokking, induction
from podlens.atomic import atomic_write_json

OUT = Path(__file__).resolve().parent / "results" / "demos.json"


def one_run(name: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        if name == "grokking":
            r = grokking.train(grokking.PRESETS["fast"], d)
            s = grokking.summary(r)
        else:
            r = induction.train(induction.PRESETS["fast"], d)
            s = induction.summary(r)
        wall = time.perf_counter() - t
    return {
        **s,
        "wall_s": round(wall, 2),
        "steps": r["steps"],
        "ms_per_step": round(1000 * r["seconds"] / max(r["steps"], 1), 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", choices=["grokking", "induction"], default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    report: dict = {"threads": args.threads, "cpus": os.cpu_count()}
    for name in [args.only] if args.only else ["induction", "grokking"]:
        runs = [one_run(name) for _ in range(args.runs)]
        report[name] = {
            "runs": runs,
            "median_seconds": statistics.median(r["seconds"] for r in runs),
            "median_ms_per_step": statistics.median(r["ms_per_step"] for r in runs),
        }
        if not args.json:
            print(name, json.dumps(report[name]["runs"][-1]), flush=True)
    atomic_write_json(OUT, report)
    if args.json:
        print(json.dumps(report))
    else:
        for name in ("induction", "grokking"):
            if name in report:
                print(
                    f"{name}: median {report[name]['median_seconds']} s, "
                    f"{report[name]['median_ms_per_step']} ms/step"
                )


if __name__ == "__main__":
    main()
