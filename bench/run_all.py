"""Run every benchmark in turn (``make bench``); each prints its own table and writes JSON
under ``bench/results/``. Run on a quiet machine: the figures are medians, but 2 shared cores
are noisy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = [
    ["bench_ingest_search.py", "--runs", "3"],  # ingest time, search p50/p95, peak RSS
    ["eval_search.py", "--json", "bench/results/eval.json"],  # search quality vs baseline
    ["bench_demos.py"],  # demo presets' wall time and ms/step
    ["bench_pages.py", "--runs", "3", "--json", "bench/results/pages.json"],  # page renders
]


def main() -> int:
    failed = []
    for script, *args in SCRIPTS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        rc = subprocess.call([sys.executable, str(BENCH / script), *args], cwd=BENCH.parent)
        if rc:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
