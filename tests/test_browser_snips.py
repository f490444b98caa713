"""Snips in a real browser: one tap on the player's Snip button (and the ``S`` key) saves the
minute that ends at the audio's *live* position; the Snips page lists it; the Obsidian and
Readwise downloads contain it.

Same harness as tests/test_browser.py (streamlit on a free port, on its own copy of the session's
episode-19 data dir, a silent WAV served with Range so Chromium can seek, Debian's Chromium).
Screenshots go to tests/artifacts/snips-*.png.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import yaml

from tests import test_browser as harness
from tests.test_browser import DESKTOP, PHONE, _audio_at, _seconds, _shot, _wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# The harness's fixtures, by name (module-scoped: this module gets its own app and data dir).
app_url = harness.app_url
browser = harness.browser
page = harness.page

TAP = 11705.0  # 3:15:05, the AdamW / weight decay discussion in episode 19
KEY_AT = 7230.0  # 2:00:30, induction heads


def _snip_button(p):
    return p.locator(".st-key-pl_player").get_by_role("button", name="Snip", exact=True)


def _toast(p, n: int):
    """The ``n``-th "Snipped" toast of the page (they stack while visible)."""
    toast = p.locator('[data-testid="stToast"]', has_text="Snipped").nth(n - 1)
    toast.wait_for(timeout=180_000)  # the first snip loads the embedding model
    return toast.inner_text()


def _seek(p, t: float) -> None:
    p.evaluate("(t) => { document.querySelector('.st-key-pl_player audio').currentTime = t; }", t)
    _audio_at(p, t, tol=0.5)


def test_snip_at_the_live_time_by_tap_and_key_then_library_and_exports(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=11700")
    _audio_at(page, 11700)
    _wait_idle(page)
    button = _snip_button(page)
    assert "shortcut: S" in button.get_attribute("title")

    # One tap: the listener is 5 s past the deep link's moment (as if it had played on).
    _seek(page, TAP)
    button.click()
    first = _toast(page, 1)
    _shot(page, "snips-episode-toast")
    _wait_idle(page)
    assert "Open in Snips" in first
    assert "3:14:" in first or "3:15:" in first, first  # the window ends at the live 3:15:05
    assert page.get_by_role("link", name="Open in Snips").first.get_attribute("href")
    assert abs(page.evaluate("document.querySelector('audio').currentTime") - TAP) < 2

    # Another run before the popover opens ("Where am I?" moves the URL to the live 3:15:05):
    # the Adjust fields must still start from the tap (this was the "Ends at 0" race, when a
    # busy machine let a rerun in between the snip and the click on Adjust).
    page.get_by_role("button", name="Where am I?").click()
    page.wait_for_function("() => /[?&]t=1170[45]\\b/.test(location.search)")
    _wait_idle(page)

    # The Adjust popover shows the snip just made, starting from the tap.
    page.get_by_role("button", name=re.compile("Adjust")).click()
    popover = page.locator('[data-testid="stPopoverBody"]')
    popover.get_by_role("button", name="Update this snip").wait_for()
    ends_at = popover.get_by_label("Ends at (seconds)", exact=True).input_value()
    assert float(ends_at) == TAP
    _shot(page, "snips-episode-adjust")
    # Typing "s" in a text field is text, not a snip.
    popover.get_by_label("Note", exact=True).fill("so so")
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden")

    # The keyboard: S anywhere outside a text field snips at the live time.
    _seek(page, KEY_AT)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("s")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stToast"]')]
              .some(t => /Snipped/.test(t.innerText) && /–2:0[01]:\\d\\d\\)/.test(t.innerText))""",
        timeout=120_000,
    )
    _wait_idle(page)
    _shot(page, "snips-episode-key")

    # The library lists both, each with its title and quote.
    page.goto(f"{app_url}/snips")
    cards = page.locator('[class*="st-key-snip_card_"]')
    cards.first.wait_for()
    _wait_idle(page)
    harness.sync_api.expect(cards).to_have_count(2)
    assert page.get_by_text("2 snips", exact=True).is_visible()
    titles = []
    for i in range(2):
        card = cards.nth(i)
        title = card.locator("h4").inner_text().strip()
        quote = card.locator("blockquote").first.inner_text().strip()
        assert title and len(quote.split()) > 40, (title, quote[:80])
        titles.append(title.lstrip("★ "))
    # Ordered by time in the episode (waiting for each card's clock to paint).
    harness.sync_api.expect(cards.nth(0)).to_contain_text("2:00:")
    harness.sync_api.expect(cards.nth(1)).to_contain_text("3:1")
    _shot(page, "snips-library-desktop")

    # Exports: the Obsidian note and the Readwise CSV contain both snips.
    page.get_by_text("Export", exact=True).click()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Obsidian").click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert dl.value.suggested_filename.endswith(".md")
    fm = yaml.safe_load(md.split("---\n")[1])
    assert fm and "axrp-19" in str(fm.values())
    heads = re.findall(r"^### \[(\d+:\d{2}(?::\d{2})?)\] (.+)$", md, re.M)
    assert [h[1] for h in heads] == titles, (heads, titles)
    assert _seconds(heads[1][0]) < TAP and TAP - _seconds(heads[1][0]) < 100

    with page.expect_download() as dl:
        page.get_by_role("button", name="Readwise CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 2
    assert [int(r["Location"]) for r in rows] == [_seconds(h[0]) for h in heads]
    assert all(r["Highlight"] and "Mechanistic" in r["Title"] for r in rows)
    assert all(r["URL"].startswith(app_url) and "episode=axrp-19" in r["URL"] for r in rows)
    _shot(page, "snips-library-export")

    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "(w) => document.querySelector('[data-testid=\"stMain\"]').clientWidth <= w",
        arg=PHONE["width"],
    )
    _shot(page, "snips-library-phone")
    page.set_viewport_size(DESKTOP)


def test_snip_key_does_nothing_on_pages_without_a_player(page, app_url):
    page.goto(f"{app_url}/library")
    page.get_by_text("Mechanistic Interpretability").first.wait_for()
    _wait_idle(page)
    # The snip shortcut claims its key (preventDefault) before it fires; a listener on the
    # window, which the key reaches last, sees whether anything did.
    page.evaluate(
        """() => { window.__sKey = null; window.addEventListener('keydown', (e) => {
             if (e.key === 's') window.__sKey = e.defaultPrevented; }); }"""
    )
    page.keyboard.press("s")
    page.wait_for_function("() => window.__sKey !== null")
    assert page.evaluate("window.__sKey") is False  # nothing took the key: no snip fired
    _wait_idle(page)
    assert page.locator('[data-testid="stToast"]').count() == 0


def test_snip_button_at_phone_width(browser, app_url):
    ctx = browser.new_context(viewport=PHONE)
    p = ctx.new_page()
    p.set_default_timeout(60_000)
    try:
        p.goto(f"{app_url}/?episode=axrp-19&t=3000")
        _audio_at(p, 3000)
        _wait_idle(p)
        box = _snip_button(p).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        _shot(p, "snips-episode-phone")
    finally:
        ctx.close()
