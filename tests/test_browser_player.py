"""Listening in a real browser: the transcript reads along with the audio, a tap on a turn plays
from there, the time label and share link follow the live position.

Same harness as tests/test_browser.py (streamlit on a free port, on its own copy of the session's
episode-19 data dir, a silent WAV served with Range so Chromium can play and seek).
Screenshots go to tests/artifacts/player-*.png.
"""

from __future__ import annotations

import re

import pytest

from tests import test_browser as harness
from tests.test_browser import DESKTOP, PHONE, _audio_at, _shot, _wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

app_url = harness.app_url
browser = harness.browser
page = harness.page

# The turn marked aria-current: [its data-start, the next turn's data-start or its data-end].
CURRENT = """() => {
  const all = [...document.querySelectorAll('.st-key-pl_transcript_full [data-start]')];
  const cur = all.filter(el => el.getAttribute('aria-current') === 'true');
  if (cur.length !== 1) return {n: cur.length};
  const i = all.indexOf(cur[0]);
  const next = all[i + 1];
  return {n: 1, start: parseFloat(cur[0].dataset.start),
          end: next ? parseFloat(next.dataset.start) : parseFloat(cur[0].dataset.end || 1e9),
          t: document.querySelector('.st-key-pl_player audio').currentTime,
          id: cur[0].id};
}"""

# The marked turn contains the audio's currentTime (and is the only one marked).
MARK_HOLDS_NOW = """() => {
  const all = [...document.querySelectorAll('.st-key-pl_transcript_full [data-start]')];
  const cur = all.filter(el => el.getAttribute('aria-current') === 'true');
  if (cur.length !== 1) return false;
  const i = all.indexOf(cur[0]);
  const t = document.querySelector('.st-key-pl_player audio').currentTime;
  const end = all[i + 1] ? parseFloat(all[i + 1].dataset.start) : Infinity;
  return parseFloat(cur[0].dataset.start) <= t && t < end;
}"""

# The marked turn is visible inside the transcript box.
MARK_IN_BOX = """() => {
  const el = document.querySelector('.st-key-pl_transcript_full [aria-current="true"]');
  const box = document.querySelector('.st-key-pl_transcript_full');
  if (!el || !box) return false;
  const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
  return r.top >= b.top - 2 && r.top <= b.bottom - 20;
}"""

PLAYING = "() => { const a = document.querySelector('.st-key-pl_player audio');"
PLAYING += " return !!a && !a.paused && a.currentTime > 0; }"


def _play(p) -> None:
    p.evaluate("document.querySelector('.st-key-pl_player audio').play()")
    p.wait_for_function(PLAYING)


def _runs(p) -> int:
    """How many script runs the page has seen (a rerun shows Streamlit's status widget)."""
    return p.evaluate("window.__plRuns || 0")


COUNT_RUNS = """() => { window.__plRuns = 0; new MutationObserver(() => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) window.__plRuns++; })
  .observe(document.body, {childList: true, subtree: true}); }"""


def test_the_transcript_follows_the_audio_without_a_rerun(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=7182")
    _audio_at(page, 7182)
    _wait_idle(page)
    # Every turn carries data-start; the opened moment is marked before anything plays.
    starts = page.locator(".st-key-pl_transcript_full .pl-turn")
    starts.first.wait_for()  # the component draws it once its script has loaded
    assert starts.count() > 100
    assert starts.count() == page.locator(".st-key-pl_transcript_full [data-start]").count()
    page.wait_for_function(MARK_HOLDS_NOW)

    page.evaluate(COUNT_RUNS)
    _play(page)
    # Jump ahead (as if it had played on): the mark moves to the turn being heard, in view.
    page.evaluate("document.querySelector('.st-key-pl_player audio').currentTime = 9000")
    page.wait_for_function(f"() => ({CURRENT})().start > 8000")
    page.wait_for_function(MARK_HOLDS_NOW)
    page.wait_for_function(MARK_IN_BOX)
    got = page.evaluate(CURRENT)
    assert got["n"] == 1 and got["start"] <= got["t"] < got["end"], got
    assert got["id"] == "pl-now"
    # The player bar's label follows too ("2:30:..." at 9000 s).
    page.wait_for_function(
        "() => /^2:3\\d:\\d\\d/.test(document.querySelector('.pl-now-label').textContent)"
    )
    assert _runs(page) == 0, "following the audio must not rerun the page"
    _shot(page, "player-readalong-desktop")


def test_tapping_a_later_turn_plays_from_there(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=100")
    _audio_at(page, 100)
    _wait_idle(page)
    _play(page)
    page.evaluate(COUNT_RUNS)
    turns = page.locator(".st-key-pl_transcript_full .pl-turn[data-start]")
    target = turns.nth(12)
    start = float(target.get_attribute("data-start"))
    assert start > 200
    target.locator("p").first.click()
    _audio_at(page, start, tol=3)
    page.wait_for_function(PLAYING)
    page.wait_for_function(
        "(s) => parseFloat(document.querySelector("
        "'.st-key-pl_transcript_full [aria-current=\"true\"]').dataset.start) === s",
        arg=start,
    )
    # Tapping the time stamp (a link to the moment) seeks too, without leaving the page.
    later = turns.nth(20)
    later_start = float(later.get_attribute("data-start"))
    later.locator("a.pl-time").click()
    _audio_at(page, later_start, tol=3)
    assert "t=100" in page.url
    assert _runs(page) == 0


def test_scrolling_by_hand_pauses_the_follow_until_back_to_now(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=7182")
    _audio_at(page, 7182)
    _wait_idle(page)
    page.wait_for_function(MARK_IN_BOX)
    box = page.locator(".st-key-pl_transcript_full")
    box.hover()
    page.mouse.wheel(0, -4000)  # the listener scrolls up to reread something
    back = page.get_by_role("button", name="Back to now")
    back.wait_for()
    page.evaluate("document.querySelector('.st-key-pl_player audio').currentTime = 7600")
    page.wait_for_function(f"() => ({CURRENT})().start > 7400")
    page.wait_for_function(f"() => !({MARK_IN_BOX})()")  # marked, but the view stays put
    _shot(page, "player-follow-paused")
    back.click()
    page.wait_for_function(MARK_IN_BOX)
    assert not back.is_visible()


def test_share_link_uses_the_live_position(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=100")
    _audio_at(page, 100)
    _wait_idle(page)
    page.evaluate("document.querySelector('.st-key-pl_player audio').currentTime = 5000")
    page.locator(".st-key-pl_player").get_by_role("button", name="Link").click()
    field = page.get_by_label("Link to this moment")
    field.wait_for()
    page.wait_for_function(
        "() => /[?&]t=(499[89]|5000)\\b/.test(document.querySelector('.pl-live-link input').value)"
    )
    assert "episode=axrp-19" in field.input_value()


def test_phone_width_shows_player_current_turn_and_snip_together(browser, app_url):
    for scheme in ("light", "dark"):
        ctx = browser.new_context(viewport=PHONE, color_scheme=scheme)
        p = ctx.new_page()
        p.set_default_timeout(60_000)
        try:
            p.goto(f"{app_url}/?episode=axrp-19&t=7182")
            _audio_at(p, 7182)
            _wait_idle(p)
            p.wait_for_function(MARK_IN_BOX)
            h = PHONE["height"]
            for loc in (
                p.locator(".st-key-pl_player audio"),
                p.locator(".st-key-pl_player").get_by_role("button", name="Snip", exact=True),
                p.locator('.st-key-pl_transcript_full [aria-current="true"]'),
            ):
                b = loc.bounding_box()
                assert b and 0 <= b["y"] < h and b["x"] + min(b["width"], 40) <= PHONE["width"]
            _shot(p, f"player-phone-{scheme}")
        finally:
            ctx.close()


def _player_mounted(p) -> None:
    """Until the player bar's controls (keys, Media Session, position reports) are mounted: on a
    busy machine their script runs after the page is idle."""
    p.wait_for_function("() => window.__plPlayerOn === true")


def _focus_page(p) -> None:
    """Take the focus off any field (keys then go to the page, as for a listener), once the
    player's key handler is mounted."""
    _player_mounted(p)
    p.evaluate("document.activeElement && document.activeElement.blur()")


def test_keyboard_plays_pauses_and_skips_with_a_help(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=3000")
    _audio_at(page, 3000)
    _wait_idle(page)
    _focus_page(page)
    page.keyboard.press("Space")
    page.wait_for_function(PLAYING)
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('.st-key-pl_player audio').paused")
    t = page.evaluate("document.querySelector('.st-key-pl_player audio').currentTime")
    page.keyboard.press("ArrowRight")
    _audio_at(page, t + 30, tol=1)
    page.keyboard.press("ArrowLeft")
    _audio_at(page, t + 15, tol=1)
    # The help lists the keys.
    page.get_by_role("button", name="Keyboard shortcuts").click()
    help_ = page.locator("#pl-keys")
    help_.wait_for()
    text = help_.inner_text()
    assert "Play / pause" in text and "Back 15 s" in text and "Forward 30 s" in text
    assert "Snip" in text
    _shot(page, "player-keys-help")


def test_playback_speed_is_remembered_for_the_listener(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=3000")
    _audio_at(page, 3000)
    _wait_idle(page)
    page.get_by_label("Playback speed").select_option("1.5")
    rate = "() => document.querySelector('.st-key-pl_player audio').playbackRate"
    page.wait_for_function(f"() => ({rate})() === 1.5")
    page.goto(f"{app_url}/?episode=axrp-19&t=4000")  # another visit, same browser
    _audio_at(page, 4000)
    page.wait_for_function(f"() => ({rate})() === 1.5")
    assert page.get_by_label("Playback speed").input_value() == "1.5"


def test_resume_where_you_left_off_from_continue_listening(page, app_url):
    page.goto(f"{app_url}/?episode=axrp-19&t=4000")
    _audio_at(page, 4000)
    _wait_idle(page)
    _player_mounted(page)
    _play(page)
    page.evaluate("document.querySelector('.st-key-pl_player audio').pause()")
    # The pause is reported to the app (a fragment rerun, not the page) and saved.
    page.wait_for_function(
        "() => { const r = document.querySelector('.pl-ctl');"
        " return r && Math.abs(parseInt(r.dataset.reported) - 4000) <= 3; }"
    )
    _wait_idle(page)
    card = page.locator(".st-key-pl_continue_axrp-19")
    for _ in range(10):  # the save lands within a run or two of the report
        page.goto(f"{app_url}/library")
        page.locator(".st-key-pl_ep_axrp-19").wait_for()
        _wait_idle(page)
        if card.count():
            break
    harness.sync_api.expect(card).to_contain_text("at 1:06:4")
    _shot(page, "player-continue-library")
    card.get_by_role("link").first.click()
    got = _audio_at(page, 4000, tol=4)
    assert abs(got - 4000) <= 4
    # A link without a moment resumes too.
    page.goto(f"{app_url}/?episode=axrp-19")
    _audio_at(page, 4000, tol=4)
    # And the home page offers it, with the library, snips and things to ask.
    page.goto(f"{app_url}/")
    page.locator(".st-key-pl_continue_axrp-19").wait_for()
    page.locator(".st-key-pl_suggested").get_by_role("button").first.wait_for()
    _wait_idle(page)
    _shot(page, "player-home")


# Record what the page registers with the Media Session (headphones, lock screen).
CAPTURE_MEDIA_SESSION = """
window.__ms = {};
if (navigator.mediaSession) {
  const real = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
  navigator.mediaSession.setActionHandler = (action, fn) => {
    window.__ms[action] = fn;
    try { real(action, fn); } catch (e) {}
  };
}
"""


def test_headphones_next_track_saves_a_snip_at_the_position_played(browser, app_url):
    ctx = browser.new_context(viewport=PHONE)
    ctx.add_init_script(CAPTURE_MEDIA_SESSION)
    p = ctx.new_page()
    p.set_default_timeout(60_000)
    try:
        p.goto(f"{app_url}/?episode=axrp-19&t=7182")
        _audio_at(p, 7182)
        _wait_idle(p)
        p.wait_for_function(
            "() => ['play', 'pause', 'seekto', 'nexttrack']"
            ".every(k => typeof window.__ms[k] === 'function')"
        )
        # Lock-screen play / seek drive the player.
        p.evaluate("window.__ms.play()")
        p.wait_for_function(PLAYING)
        p.evaluate("window.__ms.seekto({action: 'seekto', seekTime: 7230})")
        _audio_at(p, 7230, tol=2)
        p.evaluate("window.__ms.pause()")
        p.wait_for_function("() => document.querySelector('.st-key-pl_player audio').paused")
        # What the lock screen shows: the episode, and the chapter playing as the "artist".
        meta = p.wait_for_function(
            "() => { const m = navigator.mediaSession.metadata;"
            " return m && m.artist === 'Induction heads' && {title: m.title, album: m.album}; }"
        ).json_value()
        assert "Mechanistic" in meta["title"], meta
        # The headphones' next-track: a snip of the minute that ends where it was playing.
        played = p.evaluate("document.querySelector('.st-key-pl_player audio').currentTime")
        p.evaluate("window.__ms.nexttrack()")
        toast = p.locator('[data-testid="stToast"]', has_text="Snipped").first
        toast.wait_for(timeout=180_000)
        _wait_idle(p)
        p.goto(f"{app_url}/snips")
        # The library draws each card top to bottom while its script runs: wait for a card whose
        # time line is drawn and says where it was playing (the minute up to ~2:00:30).
        cards = p.locator('[class*="st-key-snip_card_"]')
        near = cards.filter(has_text=re.compile(r"\b(2:00|1:59):\d\d"))
        near.first.wait_for()
        assert near.count() >= 1, [c.inner_text() for c in cards.all()]
        assert played > 7200
        _shot(p, "player-nexttrack-snips")
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/library", ".st-key-pl_ep_axrp-19"),
        ("/snips", '[data-testid="stMain"] h1'),
        ("/episode?episode=axrp-19&t=3000", "#pl-now"),
        ("/demo_induction", '[data-testid="stMain"] h1'),
    ],
)
def test_a_cold_visit_to_any_page_opens_it_without_page_not_found(browser, app_url, path, ready):
    ctx = browser.new_context(viewport=DESKTOP)  # a first-time visitor: nothing cached
    p = ctx.new_page()
    p.set_default_timeout(60_000)
    try:
        p.goto(app_url + path)
        p.locator(ready).first.wait_for()
        _wait_idle(p)
        assert p.get_by_text("Page not found").count() == 0
        assert p.url.split("?")[0].endswith(path.split("?")[0])
        # Listeners get no Deploy button or developer menu (client.toolbarMode = "viewer").
        assert p.get_by_role("button", name="Deploy").count() == 0
    finally:
        ctx.close()
