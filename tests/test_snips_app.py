"""The Snips page (library, filters, edits) and the player's Snip / Adjust controls (AppTest)."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from snips.store import SnipStore
from tests.conftest import REPO
from tests.support.snips_data import awkward_snip
from ui import player_time
from ui.snips import _quote_line


def test_snips_page_lists_filters_and_favourites(tmp_path, monkeypatch):
    monkeypatch.setenv("PODLENS_DATA_DIR", str(tmp_path))
    store = SnipStore(tmp_path)
    a = store.save(awkward_snip(start=10, title="Weird optimizers", favourite=False, tags=["opt"]))
    store.save(awkward_snip(episode="ep-2", start=20, title="Induction heads", tags=["heads"]))

    at = AppTest.from_file(str(REPO / "app_pages" / "snips.py"), default_timeout=60).run()
    assert not at.exception
    titles = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert titles == ["#### Weird optimizers", "#### ★ Induction heads"]
    assert at.caption[0].value == "2 snips"

    at.text_input(key="snips_q").input("optimizers").run()
    assert [m.value for m in at.markdown if m.value.startswith("#### ")] == [
        "#### Weird optimizers"
    ]
    fav = next(b for b in at.button if b.key == f"fav_0_{a.id}")
    fav.click().run()
    assert store.get(a.id).favourite is True
    assert not at.exception


def test_a_quote_of_several_speakers_shows_each_turn_as_its_own_paragraph(tmp_path, monkeypatch):
    monkeypatch.setenv("PODLENS_DATA_DIR", str(tmp_path))
    quote = (
        "Daniel Filan: Why does AdamW matter?\nNeel Nanda: It does weight decay without momentum."
    )
    SnipStore(tmp_path).save(awkward_snip(quote=quote, title="AdamW"))
    at = AppTest.from_file(str(REPO / "app_pages" / "snips.py"), default_timeout=60).run()
    assert not at.exception
    [shown] = [m.value for m in at.markdown if m.value.startswith("> ")]
    # Consecutive "> " lines would render as one paragraph running the turns together.
    assert shown == (
        "> **Daniel Filan:** Why does AdamW matter?\n>\n"
        "> **Neel Nanda:** It does weight decay without momentum\\."
    )
    assert not [c for c in at.caption if c.value.startswith("— ")]  # each turn names its speaker
    # One speaker's quote has no prefixes: a colon in what was said is not a speaker.
    assert "**" not in _quote_line("The final answer to the question is: we're much better.")


# -- the player's Snip controls on the episode page ---------------------------------------------

LIVE = 11705.0  # where the listener is: episode 19, in the optimizer / weight-decay discussion


@pytest.fixture
def ep19_copy(app_data_dir, tmp_path):
    """A private copy of the ingested episode-19 data dir (snips get written into it)."""
    d = tmp_path / "data"
    shutil.copytree(app_data_dir, d)
    return d


def _episode_app(monkeypatch, data_dir, t: str = "11700", **params: str) -> AppTest:
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=240)
    at.query_params["episode"] = "axrp-19"
    at.query_params["t"] = t
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _tap_live(monkeypatch, live: float | None):
    """Stand in for the browser: the Snip component's click reports ``live`` once."""
    real = player_time.live_time_button
    taps = [live]

    def fake(label, key, help="", **kw):
        if key == "pl_snip" and taps:
            real(label, key, help, **kw)  # still drawn, with its shortcut and fallback
            return taps.pop()
        return real(label, key, help, **kw)

    monkeypatch.setattr(player_time, "live_time_button", fake)


def test_player_bar_draws_snip_and_adjust_without_errors(monkeypatch, ep19_copy):
    at = _episode_app(monkeypatch, ep19_copy).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]  # the hook passes t=..., not current_time
    assert at.number_input(key="snip_axrp-19_at").value == 11700.0
    assert at.button(key="snip_axrp-19_save").label == "Save snip"


def test_one_tap_snips_the_minute_that_ends_at_the_live_position(monkeypatch, ep19_copy):
    _tap_live(monkeypatch, LIVE)
    at = _episode_app(monkeypatch, ep19_copy).run()
    assert not at.exception and not at.error
    snips = SnipStore(ep19_copy).list()
    assert len(snips) == 1
    s = snips[0]
    # ~60 s that end at the tap, snapped to sentences (not the URL's t=11700).
    assert s.episode == "axrp-19" and abs(s.end - LIVE) < 25 and 35 <= s.end - s.start <= 100
    assert s.title and s.quote and s.takeaways
    toast = at.toast[0].value
    assert s.title.split()[0] in toast and "Open in Snips" in toast
    # The Adjust popover now starts from the tap and offers to change that snip.
    # (its fields are keyed by the snip they adjust, so a fresh mount shows the tap, not 0)
    assert at.number_input(key=f"snip_axrp-19_at_{s.id}").value == round(LIVE)
    assert at.button(key="snip_axrp-19_update").label == "Update this snip"
    assert any(m.value == f"**{s.title}**" for m in at.markdown)


def test_adjust_widens_the_last_snip_in_place(monkeypatch, ep19_copy):
    _tap_live(monkeypatch, LIVE)
    at = _episode_app(monkeypatch, ep19_copy).run()
    first = SnipStore(ep19_copy).list()[0]
    at.slider(key=f"snip_axrp-19_before_{first.id}").set_value(120)
    at.text_input(key="snip_axrp-19_tags").input("optimizers")
    at.button(key="snip_axrp-19_update").click().run()
    assert not at.exception and not at.error
    snips = SnipStore(ep19_copy).list()
    assert len(snips) == 1, "the snip was replaced, not duplicated"
    s = snips[0]
    assert s.start < first.start - 30 and abs(s.end - first.end) < 25
    assert s.tags == ["optimizers"] and s.created == first.created


def test_adjust_saves_a_new_snip_with_note_and_tags(monkeypatch, ep19_copy):
    at = _episode_app(monkeypatch, ep19_copy, t="7200").run()
    at.number_input(key="snip_axrp-19_at").set_value(7230.0)
    at.text_input(key="snip_axrp-19_note").input("induction heads, finally")
    at.text_input(key="snip_axrp-19_tags").input("heads, circuits")
    at.button(key="snip_axrp-19_save").click().run()
    assert not at.exception and not at.error
    (s,) = SnipStore(ep19_copy).list()
    assert abs(s.end - 7230) < 25
    assert s.note == "induction heads, finally" and s.tags == ["circuits", "heads"]


def test_episode_page_offers_the_best_moments(monkeypatch, ep19_copy):
    at = _episode_app(monkeypatch, ep19_copy).run()
    assert not at.exception and not at.error
    assert [e.label for e in at.expander if e.label == "Best moments"] == ["Best moments"]
    assert at.button(key="pl_best_axrp-19_all").label == "Play best moments"


def test_search_page_player_and_results_snip(monkeypatch, ep19_copy):
    at = _episode_app(monkeypatch, ep19_copy, q="weight decay").run()  # a question: search page
    assert not at.exception and not at.error
    assert at.title[0].value == "Ask your podcasts"
    assert at.button(key="snip_axrp-19_save").label == "Save snip"  # the player's Adjust
    snip = next(b for b in at.button if (b.key or "").startswith("snip_r_axrp-19_"))
    assert snip.label == ":material/content_cut: Snip"
    snip.click().run()
    assert not at.exception and not at.error
    (s,) = SnipStore(ep19_copy).list()
    assert s.episode == "axrp-19" and s.title and s.quote
