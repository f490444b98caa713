"""The demo pages in a real browser: `streamlit run serve.py` + Debian's Chromium via Playwright.

Same harness as tests/test_browser.py (its Chromium fixture and helpers), on a copy of the
``app_data_dir`` fixture (episode 19 ingested and indexed): the induction demo trains into it and
caches its result there. Screenshots of each demo page at desktop and phone widths, light and
dark, go to tests/artifacts/ (``demo-<page>-<width>-<scheme>.png``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.support.streamlit_server import streamlit_app
from tests.test_browser import (  # noqa: F401  (``browser`` is a fixture)
    ARTIFACTS,
    DESKTOP,
    PHONE,
    _seconds,
    _settled,
    _wait_idle,
    browser,
    sync_api,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TRAIN_TIMEOUT_MS = 600_000  # the fast preset takes ~10 s on a quiet 2-core box, minutes when shared
PAGES = {d: f"/demo_{d}" for d in ("induction", "attention", "grokking")}
DEEP_LINK = re.compile(r"^/\?episode=axrp-19&t=(\d+)$")


@pytest.fixture(scope="module")
def demo_data(app_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the shared (read-only) episode-19 data dir."""
    d = tmp_path_factory.mktemp("demo-browser") / "data"
    shutil.copytree(app_data_dir, d)
    return d


@pytest.fixture(scope="module")
def app_url(demo_data: Path):
    # No warm-up visit: the first request may be a demo page (tests/test_browser_cold_visit.py
    # pins that a cold one opens without streamlit#9992's "Page not found").
    with streamlit_app(demo_data, demo_data.parent / "streamlit.log") as base:
        yield base


@pytest.fixture
def page(browser):  # noqa: F811
    ctx = browser.new_context(viewport=DESKTOP)
    p = ctx.new_page()
    p.set_default_timeout(60_000)
    yield p
    ctx.close()


def _metric(page, label: str) -> str:
    """The value of the ``st.metric`` labelled ``label``."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    box.wait_for()
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def _stop_button(page):
    """The demo's Stop button (not the one in Streamlit's header status widget)."""
    return page.locator('[data-testid="stMain"] [data-testid^="stBaseButton-secondary"]').filter(
        has_text="Stop"
    )


def _charts(page) -> int:
    return page.locator('[data-testid="stVegaLiteChart"]').count()


def _induction_result(data: Path) -> Path:
    found = list((data / "demos" / "induction").glob("*/result.json"))
    assert len(found) == 1, found
    return found[0]


def _full_shot(page, name: str) -> None:
    """A screenshot of the whole page: the viewport is grown to the page's content (Streamlit
    scrolls its main area, not the document, so a ``full_page`` shot would be the viewport)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _wait_idle(page)
    size = page.viewport_size
    h = page.evaluate(
        """() => { const m = document.querySelector('[data-testid="stMain"]') || document.body;
             let x = m.scrollHeight; for (const el of m.querySelectorAll('*'))
             x = Math.max(x, el.scrollHeight); return x; }"""
    )
    page.set_viewport_size({"width": size["width"], "height": min(h + 80, 8000)})
    _settled(page, frames=20, ms=500)  # charts re-fit to the new size
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size(size)


def test_induction_trains_live_then_shows_an_induction_head(page, app_url, demo_data):
    page.goto(app_url + PAGES["induction"])
    page.get_by_text("What to look for").first.wait_for()
    page.get_by_role("radio", name="fast").wait_for(timeout=120_000)  # segmented control
    page.get_by_role("button", name="Train", exact=True).click()
    # Live progress: the status box with a progress bar whose step count moves.
    progress = page.get_by_text(re.compile(r"^step [\d,]+ of 800$")).first
    progress.wait_for(timeout=120_000)
    first = int(re.sub(r"\D", "", progress.inner_text().split(" of ")[0]) or 0)
    page.wait_for_function(
        """(n) => [...document.querySelectorAll('p, div')].some(e =>
             /^step ([\\d,]+) of 800$/.test(e.innerText) &&
             parseInt(e.innerText.match(/^step ([\\d,]+)/)[1].replace(/,/g, '')) > n)""",
        arg=first,
        timeout=TRAIN_TIMEOUT_MS,
    )
    assert _stop_button(page).is_visible()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()  # the live loss curve
    # The result, straight from the run.
    page.get_by_text("best induction score").first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    score = float(_metric(page, "best induction score"))
    assert score >= 0.5
    assert re.search(r"L1H\d", _metric(page, "induction heads"))
    _wait_idle(page)
    assert _charts(page) >= 5  # loss, two heatmaps, scores over training, loss per position
    stored = json.loads(_induction_result(demo_data).read_text())
    assert round(stored["max_induction_score"], 2) == score


def test_induction_reload_shows_the_cached_result_at_once(page, app_url, demo_data):
    result = _induction_result(demo_data)  # trained by the test above
    before = result.stat().st_mtime_ns
    # "At once": from the first paint, the page never shows training progress.
    page.add_init_script(
        """window.__plTrained = false;
           new MutationObserver(() => {
             if (/Training…|step [\\d,]+ of 800/.test(document.body ? document.body.innerText : ''))
               window.__plTrained = true;
           }).observe(document, {subtree: true, childList: true, characterData: true});"""
    )
    page.goto(app_url + PAGES["induction"])
    value = _metric(page, "best induction score")
    assert float(value) >= 0.5
    assert page.evaluate("window.__plTrained") is False
    page.reload()
    page.get_by_text("best induction score").first.wait_for()
    _wait_idle(page)
    assert page.get_by_text("Training…").count() == 0
    assert page.get_by_role("button", name="Train", exact=True).count() == 0
    assert result.stat().st_mtime_ns == before  # no retraining


def _circuitsvis_frame(page):
    frame_el = page.locator('iframe[data-testid="stIFrame"]').first
    frame_el.wait_for(timeout=120_000)
    frame = frame_el.content_frame
    frame.get_by_text("Head Selector").wait_for(timeout=60_000)
    return frame_el, frame


def test_attention_page_shows_every_head_in_circuitsvis(page, app_url):
    page.goto(app_url + PAGES["attention"])
    page.get_by_text("What to look for").first.wait_for()
    frame_el, frame = _circuitsvis_frame(page)
    # Generated [r, r] with the induction run's head roles in the head names.
    assert frame.get_by_text(re.compile(r"L1H\d \(induction\)")).count() >= 1
    sync_api.expect(page.locator("body")).to_contain_text("induction heads: L1H")
    # Fitted to the view, not a clipped strip (the frame grows once its content has laid out).
    page.wait_for_function(
        "(f) => f.getBoundingClientRect().height > 300", arg=frame_el.element_handle()
    )
    assert frame.locator("body").inner_text().strip()
    # A typed repeated sequence: its words are the view's token labels.
    page.get_by_role("radio", name="type my own").click()
    box_in = page.get_by_role("textbox", name="Your sequence")
    box_in.fill("the cat sat on the mat and then the cat sat on the mat")
    box_in.press("Enter")
    page.wait_for_function(
        """() => { const f = document.querySelector('iframe[data-testid="stIFrame"]');
             const doc = (f && f.getAttribute('srcdoc')) || '';
             return doc.includes('"tokens": ["the", "cat", "sat"'); }""",
        timeout=60_000,
    )
    _, frame = _circuitsvis_frame(page)
    assert frame.get_by_text(re.compile(r"L1H\d \(induction\)")).count() >= 1


def test_grokking_page_shows_its_controls_and_training_stops_on_request(page, app_url):
    page.goto(app_url + PAGES["grokking"])
    page.get_by_text("What to look for").first.wait_for()
    for label in ("p (prime)", "training fraction", "weight decay", "max steps"):
        page.get_by_text(label, exact=True).first.wait_for()
    assert page.get_by_text(re.compile(r"About [\d.]+ min of CPU")).count() == 1
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"^step [\d,]+ of 3,000$")).first.wait_for(timeout=120_000)
    _stop_button(page).click()
    page.get_by_role("button", name="Resume training").wait_for(timeout=120_000)
    page.get_by_text("Stopped early").wait_for()
    assert page.get_by_text("Training…").count() == 0


def test_episode_chapter_links_to_its_demo(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=7182")
    chapters = page.locator(".st-key-pl_chapters")
    chapters.wait_for(timeout=120_000)
    row = chapters.locator('[data-testid="stHorizontalBlock"]').filter(
        has=page.get_by_role("button", name=re.compile(r"Induction heads$"))
    )
    link = row.get_by_role("link", name=re.compile("Demo: Induction heads")).first
    link.wait_for(timeout=60_000)
    link.click()
    page.wait_for_url(re.compile(r"/demo_induction"))
    page.get_by_role("heading", name=re.compile("Induction heads")).first.wait_for()


@pytest.mark.parametrize("demo", ["induction", "attention", "grokking"])
def test_discussed_at_links_open_the_episode_at_that_second(page, app_url, demo):
    page.goto(app_url + PAGES[demo])
    page.get_by_text("Where this is discussed").click()
    links = page.locator('[data-testid="stExpander"] a[href*="episode="]')
    links.first.wait_for(timeout=120_000)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs and all(DEEP_LINK.match(h) for h in hrefs), hrefs
    t = int(DEEP_LINK.match(hrefs[0]).group(1))
    page.goto(app_url + hrefs[0])
    page.wait_for_url(re.compile(rf"/episode\?.*\bt={t}\b"))
    now = page.locator("#pl-now .pl-time")
    now.wait_for(timeout=60_000)
    shown = _seconds(now.inner_text())
    assert shown <= t + 1 and t - shown < 600, (t, now.inner_text())


SHOTS = [(w, scheme) for w in ("desktop", "phone") for scheme in ("light", "dark")]


@pytest.mark.parametrize("demo", ["induction", "attention", "grokking"])
def test_demo_page_screenshots(browser, app_url, demo):  # noqa: F811
    for width, scheme in SHOTS:
        ctx = browser.new_context(
            viewport=DESKTOP if width == "desktop" else PHONE, color_scheme=scheme
        )
        p = ctx.new_page()
        p.set_default_timeout(60_000)
        p.goto(app_url + PAGES[demo])
        p.get_by_text("What to look for").first.wait_for()
        if demo == "attention":
            _circuitsvis_frame(p)
        elif demo == "induction":
            p.get_by_text("best induction score").first.wait_for()
        _full_shot(p, f"demo-{demo}-{width}-{scheme}")
        # Nothing is wider than the screen (no sideways scrolling on a phone).
        overflow = p.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth - innerWidth"
        )
        assert overflow <= 1, f"{demo} {width}: {overflow}px wider than the screen"
        ctx.close()
