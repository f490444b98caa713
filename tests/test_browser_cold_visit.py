"""A cold visit to any page opens that page, with no "Page not found" pop-up (streamlit#9992).

"Cold" twice over: the app process is fresh (started here, no page ever run, nothing imported
or cached by a page) and its very first request is a page other than Search; every later page is
the first script run of a new browser session (a new Chromium context: no cookies, no cached
assets, no Streamlit session) and the first time this process runs that page. A second fresh
process is opened by two listeners at once, each on another page, so the first script runs of
the process race each other.

Same harness as tests/test_browser.py (Chromium fixture, helpers) on a copy of the session's
``browser_data_dir``; each fresh process is started by the test itself, so no other test can
have warmed it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.streamlit_server import streamlit_app
from tests.test_browser import (  # noqa: F401  (``browser`` is a fixture)
    DESKTOP,
    _wait_idle,
    browser,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _title(text: str) -> str:
    return f'[data-testid="stMain"] h1:has-text("{text}")'


# path -> (where it lands, an element only that page's script draws: not Search showing).
PAGES = {
    "/library": ("/library", ".st-key-pl_ep_axrp-19"),
    "/episode?episode=axrp-19&t=3000": ("/episode", "#pl-now"),
    "/snips": ("/snips", _title("Snips")),
    "/demo_grokking": ("/demo_grokking", _title("Grokking: memorise first")),
    "/demo_attention": ("/demo_attention", _title("Attention patterns")),
    "/demo_induction": ("/demo_induction", _title("Induction heads: how a transformer")),
    # A deep link to a moment on the default page: the app switches to the episode page.
    "/?episode=axrp-19&t=7182": ("/episode", "#pl-now"),
}


@pytest.fixture
def data(browser_data_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(browser_data_dir, tmp_path / "data")
    return tmp_path / "data"


def _open(browser, url: str):  # noqa: F811
    """A first-time visitor: a new context (nothing cached, no session) going to ``url``."""
    ctx = browser.new_context(viewport=DESKTOP)
    p = ctx.new_page()
    p.set_default_timeout(120_000)  # a fresh process imports everything on its first run
    p.goto(url, wait_until="commit")
    return ctx, p


def _shows_the_page_alone(p, path: str) -> list[str]:
    """Wait for the page's own content and an idle app, then say what is wrong, if anything."""
    lands, ready = PAGES[path]
    p.locator(ready).first.wait_for()
    _wait_idle(p)
    wrong = []
    if p.get_by_text("Page not found").count():
        wrong.append(f"{path}: 'Page not found' shown over the page")
    if p.get_by_role("dialog").count():
        wrong.append(f"{path}: a dialog is open: {p.get_by_role('dialog').first.inner_text()!r}")
    if p.evaluate("location.pathname") != lands:
        wrong.append(f"{path}: landed on {p.url}")
    return wrong


def test_a_fresh_server_opens_every_page_cold_without_page_not_found(browser, data, tmp_path):  # noqa: F811
    wrong: list[str] = []
    with streamlit_app(data, tmp_path / "streamlit-1.log") as base:
        # The process's first request is a page other than Search; then each page in turn as
        # the first script run of a new session.
        for path in PAGES:
            ctx, p = _open(browser, base + path)
            try:
                wrong += _shows_the_page_alone(p, path)
            finally:
                ctx.close()
    with streamlit_app(data, tmp_path / "streamlit-2.log") as base:
        # Two listeners reach a fresh process at once, on two different pages.
        first = ["/snips", "/demo_grokking"]
        opened = [_open(browser, base + path) for path in first]
        try:
            for path, (_, p) in zip(first, opened, strict=True):
                wrong += _shows_the_page_alone(p, path)
        finally:
            for ctx, _ in opened:
                ctx.close()
    assert not wrong, "\n".join(wrong)
