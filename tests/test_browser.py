"""The app in a real browser: `streamlit run serve.py` + Debian's Chromium driven by Playwright.

Episode 19 is ingested once per session from ../shared with its enclosure pointing at a generated
silent WAV served on 127.0.0.1 with HTTP Range support (``browser_data_dir`` in tests/conftest.py);
each browser module starts its own app on its own copy.
Screenshots of each page at desktop and phone widths (and dark mode) go to tests/artifacts/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.support.streamlit_server import streamlit_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
QUESTION = "why does the choice of optimizer like AdamW matter for grokking"

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"Chromium not installed ({CHROMIUM} missing): apt-get install chromium",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")


@pytest.fixture(scope="module")
def app_url(browser_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """This module's own app, on its own copy of the session's browser data dir."""
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copytree(browser_data_dir, tmp / "data")
    with streamlit_app(tmp / "data", tmp / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport=DESKTOP)
    p = ctx.new_page()
    p.set_default_timeout(60_000)
    yield p
    ctx.close()


# Resolves once the fonts are loaded and the page's layout (the main area's size and scroll
# height, the number of elements, the size of every chart) has not changed for ``frames``
# animation frames in a row and at least ``ms`` milliseconds: a chart that re-fits after a
# resize, or an element a rerun adds, restarts the count.
SETTLED = """([frames, ms]) => new Promise((resolve) => {
  const sig = () => {
    const m = document.querySelector('[data-testid="stMain"]') || document.body;
    const r = m.getBoundingClientRect();
    const charts = [...document.querySelectorAll('canvas, svg')]
      .map((c) => { const b = c.getBoundingClientRect(); return `${b.width}x${b.height}`; });
    return [r.width, r.height, m.scrollHeight, document.querySelectorAll('*').length,
            charts.join(',')].join('|');
  };
  let last = null, same = 0, since = 0;
  const step = (now) => {
    const s = sig();
    if (s === last) same += 1; else { last = s; same = 0; since = now; }
    if (same >= frames && now - since >= ms) resolve(true); else requestAnimationFrame(step);
  };
  document.fonts.ready.then(() => requestAnimationFrame(step));
})"""


def _settled(page, frames: int = 10, ms: int = 300) -> None:
    """Until the page's layout has stopped changing (see ``SETTLED``)."""
    page.evaluate(SETTLED, [frames, ms])


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _settled(page)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.dataset.testConnectionState === 'CONNECTED'
    && app.dataset.testScriptState === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !document.querySelector('[data-stale="true"]'); }"""


# IDLE, held without a break for ``ms`` milliseconds: a rerun that a click has queued but not
# yet started (the script state is still the last run's ``notRunning``) breaks the streak.
IDLE_FOR = (
    """(ms) => { const now = performance.now();
  if (!("""
    + IDLE
    + """)()) { window.__plIdleSince = null; return false; }
  if (window.__plIdleSince == null) window.__plIdleSince = now;
  return now - window.__plIdleSince >= ms; }"""
)


def _wait_idle(page, ms: int = 300) -> None:
    """Until Streamlit has finished the current run and painted it: the app is connected, its
    script state is ``notRunning`` (what Streamlit's own e2e suite waits for), no status widget
    shows, and no element is a loading skeleton or left stale by the run, and all of that has
    held for ``ms`` milliseconds."""
    page.evaluate("window.__plIdleSince = null")
    page.wait_for_function(IDLE_FOR, arg=ms, timeout=120_000)


def _audio_at(page, t: float, tol: float = 2.0) -> float:
    """Wait until the page's <audio> is seekable and positioned within ``tol`` of ``t``."""
    page.wait_for_function(
        """([t, tol]) => { const a = document.querySelector('audio');
             return !!a && a.readyState >= 1 && Math.abs(a.currentTime - t) <= tol; }""",
        arg=[t, tol],
        timeout=60_000,
    )
    return page.evaluate("document.querySelector('audio').currentTime")


# Scroll the page's scroll container (Streamlit's main area, or the document) by ``dy`` pixels.
SCROLL_PAGE = """(dy) => {
  let p = document.querySelector('.st-key-pl_player').parentElement;
  while (p && !(p.scrollHeight > p.clientHeight + 4 &&
                /(auto|scroll)/.test(getComputedStyle(p).overflowY))) p = p.parentElement;
  (p || document.scrollingElement).scrollBy(0, dy);
  return p ? (p.getAttribute('data-testid') || p.className) : 'document';
}"""


NOW_IN_VIEW = """() => { const el = document.getElementById('pl-now'); if (!el) return false;
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight + r.height; }"""
WHERE_IS_NOW = """() => { const el = document.getElementById('pl-now');
  if (!el) return 'no #pl-now';
  const box = el.closest('[class*="st-key-pl_transcript_"]'); const r = el.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, inner: window.innerHeight, n: document.querySelectorAll(
    '#pl-now').length, box: box && [box.className, box.scrollTop, box.scrollHeight,
    box.clientHeight], scripts: document.querySelectorAll('[data-pl-scroll]').length}; }"""


def _seconds(stamp: str) -> int:
    secs = 0
    for part in stamp.split(":"):
        secs = secs * 60 + int(part)
    return secs


def _ask(page, base: str, question: str) -> None:
    page.goto(base + "/")
    box = page.get_by_placeholder(re.compile("optimizer"))
    box.fill(question)
    box.press("Enter")
    page.locator(".st-key-pl_result_0").wait_for(timeout=120_000)
    _wait_idle(page)


# A result card's header: "Episode · h:mm:ss · speaker · chapter".
CARD_CLOCK = re.compile(r"Episode\s+(\d+:\d{2}(?::\d{2})?)\b")


def _card_start(card) -> int:
    """The start a result card's header shows, once the header has painted: on a busy machine
    the header's markdown can paint after the card's passage and buttons (whose clocks must not
    be mistaken for it)."""
    sync_api.expect(card).to_contain_text(CARD_CLOCK, timeout=60_000)
    return _seconds(CARD_CLOCK.search(card.inner_text()).group(1))


def _result_start(page, i: int) -> int:
    return _card_start(page.locator(f".st-key-pl_result_{i}"))


def test_search_then_play_from_here_seeks_the_audio_to_the_result(page, app_url):
    _ask(page, app_url, QUESTION)
    start = _result_start(page, 0)
    page.locator(".st-key-pl_result_0").get_by_role("button", name="Play from here").click()
    got = _audio_at(page, start)
    assert abs(got - start) <= 2
    q = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", page.url))
    assert q["episode"] == "axrp-19" and int(q["t"]) == start
    # The transcript around the moment is shown with the current turn marked.
    assert page.locator("#pl-now").count() == 1
    _shot(page, "search-desktop")
    page.set_viewport_size(PHONE)
    _shot(page, "search-phone")


def test_play_the_answer_seeks_to_the_emphasised_sentence(page, app_url):
    """A result whose emphasised sentence is said well after its start offers "Play the answer",
    which plays from that sentence (the result's ``answer_start``), not from the result's start."""
    _ask(page, app_url, QUESTION)
    button = page.get_by_role("button", name=re.compile(r"Play the answer \(")).first
    button.wait_for()
    card = page.locator("[class*='st-key-pl_result_']", has=button).first
    start = _card_start(card)
    at = _seconds(re.search(r"\((\d+:\d{2}(?::\d{2})?)\)", button.inner_text()).group(1))
    assert at >= start + 10
    assert card.locator("[data-pl-answer]").count() == 1
    button.click()
    got = _audio_at(page, at)
    assert abs(got - at) <= 2
    q = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", page.url))
    assert int(q["t"]) == at


def test_deep_link_opens_the_episode_at_that_second(page, app_url):
    t = 7182
    page.goto(f"{app_url}/?episode=axrp-19&t={t}")
    page.locator(".st-key-pl_player audio").wait_for()
    got = _audio_at(page, t)
    assert abs(got - t) <= 2
    assert "/episode" in page.url and "t=7182" in page.url
    now = page.locator("#pl-now")
    now.wait_for()
    # The current turn is scrolled into view inside the transcript box.
    try:
        page.wait_for_function(NOW_IN_VIEW, timeout=20_000)
    except sync_api.TimeoutError:
        pytest.fail(f"current turn not scrolled into view: {page.evaluate(WHERE_IS_NOW)}")
    assert "1:59:" in now.inner_text() or "1:58:" in now.inner_text()
    _wait_idle(page)
    # Every chapter's demo links are whole inside the chapters panel (none cut off at its edge).
    panel = page.locator(".st-key-pl_chapters").bounding_box()
    demos = page.locator(".st-key-pl_chapters a:visible", has_text="Demo:")
    assert demos.count() >= 8
    for box in (d.bounding_box() for d in demos.all()):
        assert box and box["x"] + box["width"] <= panel["x"] + panel["width"] + 1, (box, panel)
    _shot(page, "episode-desktop")
    page.set_viewport_size(PHONE)
    # At phone width the sticky bar is the audio and two compact rows (where you are, Where am
    # I?; Link, Snip, Adjust, speed): with Streamlit's spacing it took a quarter of the screen.
    try:
        page.wait_for_function(
            """(most) => { const bar = document.querySelector('.st-key-pl_player');
                 return !!bar && bar.getBoundingClientRect().width <= 390
                   && bar.getBoundingClientRect().height <= most; }""",
            arg=PHONE["height"] / 6,
            timeout=10_000,
        )
    except sync_api.TimeoutError:
        bar = page.locator(".st-key-pl_player").bounding_box()
        pytest.fail(f"player bar at phone width is {bar}, more than a sixth of the screen")
    _shot(page, "episode-phone")
    # The player stays on top at phone width while the page scrolls under it.
    scroller = page.evaluate(SCROLL_PAGE, 1500)
    title = page.get_by_role("heading", name=re.compile("Mechanistic Interpretability")).first
    try:
        page.wait_for_function(
            "(h) => h.getBoundingClientRect().top < 0", arg=title.element_handle(), timeout=10_000
        )
    except sync_api.TimeoutError:
        pytest.fail(f"page did not scroll ({scroller})")
    box = page.locator(".st-key-pl_player").bounding_box()
    assert box is not None and 0 <= box["y"] < 120, box
    _shot(page, "episode-phone-scrolled")


def test_chapter_click_moves_the_player_and_back_returns(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=100")
    _audio_at(page, 100)
    _wait_idle(page)
    chapters = page.locator(".st-key-pl_chapters")
    chapters.get_by_role("button", name=re.compile("Induction heads$")).click()
    _audio_at(page, _seconds("1:59:42"))
    assert "t=7182" in page.url
    _wait_idle(page)
    page.go_back()
    _audio_at(page, 100)
    assert "t=100" in page.url


def test_library_and_dark_mode_screenshots(browser, app_url):
    for name, size, scheme in [
        ("library-desktop", DESKTOP, "light"),
        ("library-phone", PHONE, "light"),
        ("episode-dark", DESKTOP, "dark"),
        ("search-dark-phone", PHONE, "dark"),
    ]:
        ctx = browser.new_context(viewport=size, color_scheme=scheme)
        p = ctx.new_page()
        p.set_default_timeout(60_000)
        if name.startswith("library"):
            p.goto(app_url + "/library")
            p.get_by_text("Mechanistic Interpretability").first.wait_for()
        elif name.startswith("episode"):
            p.goto(app_url + "/?episode=axrp-19&t=3000")
            p.locator("#pl-now").wait_for()
        else:
            p.goto(app_url + "/?q=induction+heads&episode=axrp-19&t=7182")
            p.locator(".st-key-pl_result_0").wait_for(timeout=120_000)
        _wait_idle(p)
        _shot(p, name)
        ctx.close()


def test_where_am_i_moves_the_transcript_and_link_to_the_live_position(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=100")
    _audio_at(page, 100)
    _wait_idle(page)
    page.evaluate("document.querySelector('audio').currentTime = 5000")  # as if listening on
    page.get_by_role("button", name="Where am I?").click()
    page.wait_for_function("() => /[?&]t=(499[89]|5000)\\b/.test(location.search)")
    _wait_idle(page)
    assert abs(page.evaluate("document.querySelector('audio').currentTime") - 5000) <= 2
    head = page.locator("#pl-now .pl-time").inner_text()
    assert _seconds(head) <= 5000 and 5000 - _seconds(head) < 600
