"""Page render times in a real browser: cold (a fresh app process, first visit) and warm.

Ingests episode 19 from ../shared into a temporary data dir (no papers), starts the app on it
(``streamlit run serve.py``, as ``make run`` does, and for comparison ``streamlit run app.py``,
which skips the server's warm-up), and times, in headless Chromium, how long each page takes
from navigation until its main element is drawn ("drawn"), and until the page's script run has
finished ("done": everything the page draws on a visit is there). "Cold" is the first visit of
each page in a new app process (each page gets its own process, so none benefits from another's
caches; it is also the process's first request, a page other than Search for most); "warm"
repeats the visit in a running app. "Start" is the launch until the server answers its health
check (``serve.py`` loads the heavy modules and the search model in that time). Targets: cold
first render <= 5 s, warm <= 5 s on 2 cores. Medians over --runs; the two entry points take
turns page by page, so load from other processes hits both alike; the JSON also records the
CPUs and the load average before and after (the box may be shared).

    python bench/bench_pages.py --runs 3 [--entries serve.py,app.py] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import EP19_FEED, EP19_MD  # noqa: E402
from tests.support.app_data import feed_with_enclosure, ingest_ep19, write_silence_wav  # noqa: E402
from tests.support.httpserver import FixtureServer, Route  # noqa: E402
from tests.support.streamlit_server import streamlit_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# page -> (path, the element that means "drawn")
PAGES = {
    "search (home)": ("/", '[data-testid="stTextInput"]'),
    "search (results)": ("/?q=induction+heads", ".st-key-pl_result_0"),
    "episode": ("/?episode=axrp-19&t=7182", "[data-start], #pl-now"),
    "library": ("/library", ".st-key-pl_ep_axrp-19"),
    "snips": ("/snips", '[data-testid="stMain"] h1'),
    "demo: induction": ("/demo_induction", '[data-testid="stMain"] h1'),
    "demo: grokking": ("/demo_grokking", '[data-testid="stMain"] h1'),
    "demo: attention": ("/demo_attention", '[data-testid="stMain"] h1'),
}
# The app's root carries the script's run state (Streamlit sets it for its own e2e tests).
RUN_DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _time_visit(page, url: str, ready: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds from navigation until ``ready`` is drawn, and until the script run is over."""
    started = time.monotonic()
    page.goto(url)
    page.locator(ready).first.wait_for(timeout=120_000)
    drawn = time.monotonic() - started
    page.locator(RUN_DONE).wait_for(state="attached", timeout=120_000)
    return drawn, time.monotonic() - started


def _machine() -> dict:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": len(os.sched_getaffinity(0)), "cpu": cpu, "gpu": "none (CPU only)"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--entries", default="serve.py,app.py", help="scripts to serve, compared")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    entries = args.entries.split(",")
    runs = [(e, p) for e in entries for p in PAGES]
    cold: dict[tuple[str, str], list[tuple[float, float]]] = {k: [] for k in runs}
    warm: dict[tuple[str, str], list[tuple[float, float]]] = {k: [] for k in runs}
    start: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_, FixtureServer() as srv, sync_playwright() as pw:
        tmp = Path(tmp_)
        wav = write_silence_wav(tmp / "ep19.wav", 4 * 3600 + 15 * 60)
        audio = srv.add("/audio/ep19.wav", Route(file=wav, content_type="audio/wav"))
        data = tmp / "data"
        ingest_ep19(data, feed_with_enclosure(EP19_FEED, audio, tmp / "feed.xml"), EP19_MD)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            for name, (path, ready) in PAGES.items():
                for entry in entries:
                    key = (entry, name)
                    launched = time.monotonic()
                    with streamlit_app(data, tmp / f"streamlit-{run}.log", entry) as base:
                        start[key].append(time.monotonic() - launched)
                        page = browser.new_page(viewport={"width": 1366, "height": 900})
                        cold[key].append(_time_visit(page, base + path, ready))
                        warm[key].append(_time_visit(page, base + path, ready))
                        page.close()
                    (cd, cf), (wd, wf) = cold[key][-1], warm[key][-1]
                    took = (
                        f"start {start[key][-1]:.1f} s, cold {cd:.1f} s (done {cf:.1f} s), "
                        f"warm {wd:.1f} s (done {wf:.1f} s)"
                    )
                    print(f"run {run + 1}: {entry} {name}: {took}", flush=True)
        browser.close()
    load_after = os.getloadavg()

    def med(xs: list[tuple[float, float]], i: int) -> float:
        return round(statistics.median(x[i] for x in xs), 2)

    rows = {
        entry: {
            n: {
                "start_s": round(statistics.median(start[entry, n]), 2),
                "cold_s": med(cold[entry, n], 0),
                "cold_done_s": med(cold[entry, n], 1),
                "warm_s": med(warm[entry, n], 0),
                "warm_done_s": med(warm[entry, n], 1),
            }
            for n in PAGES
        }
        for entry in entries
    }
    machine = {**_machine(), "load_before": load_before, "load_after": load_after}
    for entry, pages in rows.items():
        head = f"{'page':<20} {'start':>7} {'cold drawn / done':>20} {'warm drawn / done':>20}"
        print(f"\nstreamlit run {entry} (medians)\n{head}")
        for n, r in pages.items():
            cold_s = f"{r['cold_s']:.1f} / {r['cold_done_s']:.1f} s"
            warm_s = f"{r['warm_s']:.1f} / {r['warm_done_s']:.1f} s"
            print(f"{n:<20} {r['start_s']:>6.1f}s {cold_s:>20} {warm_s:>20}")
    print(f"\n{machine}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        out = {"runs": args.runs, "machine": machine, "entries": rows}
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
