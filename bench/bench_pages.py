"""Page render times in a real browser: cold (a fresh app process, first visit) and warm.

Ingests episode 19 from ../shared into a temporary data dir (no papers), starts ``streamlit run
app.py`` on it, and times, in headless Chromium, how long each page takes from navigation until
its main element is drawn. "Cold" is the first visit of each page in a new app process (each
page gets its own process, so none benefits from another's caches); "warm" repeats the visit in
a running app. Targets: cold first render <= 5 s, warm <= 5 s on 2 cores. Medians over --runs.

    python bench/bench_pages.py --runs 3 [--json bench/results/pages.json]
"""

from __future__ import annotations

import argparse
import json
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
}


def _time_visit(page, url: str, ready: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    page.goto(url)
    page.locator(ready).first.wait_for(timeout=120_000)
    return time.monotonic() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    cold: dict[str, list[float]] = {p: [] for p in PAGES}
    warm: dict[str, list[float]] = {p: [] for p in PAGES}
    with tempfile.TemporaryDirectory() as tmp_, FixtureServer() as srv, sync_playwright() as pw:
        tmp = Path(tmp_)
        wav = write_silence_wav(tmp / "ep19.wav", 4 * 3600 + 15 * 60)
        audio = srv.add("/audio/ep19.wav", Route(file=wav, content_type="audio/wav"))
        data = tmp / "data"
        ingest_ep19(data, feed_with_enclosure(EP19_FEED, audio, tmp / "feed.xml"), EP19_MD)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            for name, (path, ready) in PAGES.items():
                with streamlit_app(data, tmp / f"streamlit-{run}.log") as base:
                    page = browser.new_page(viewport={"width": 1366, "height": 900})
                    cold[name].append(_time_visit(page, base + path, ready))
                    warm[name].append(_time_visit(page, base + path, ready))
                    page.close()
                took = f"cold {cold[name][-1]:.1f} s, warm {warm[name][-1]:.1f} s"
                print(f"run {run + 1}: {name}: {took}", flush=True)
        browser.close()
    rows = {
        n: {"cold_s": statistics.median(cold[n]), "warm_s": statistics.median(warm[n])}
        for n in PAGES
    }
    print(f"\n{'page':<20} {'cold (median)':>14} {'warm (median)':>14}")
    for n, r in rows.items():
        print(f"{n:<20} {r['cold_s']:>12.1f} s {r['warm_s']:>12.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": args.runs, "pages": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
