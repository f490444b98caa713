"""The app's pages under Streamlit's AppTest: empty state, search -> play, deep links, chapters."""

from __future__ import annotations

import json
import re
import socket

import pytest
from streamlit.testing.v1 import AppTest

from demos.links import DEMOS
from tests.conftest import REPO
from ui.demos import DEMO_PAGES

APP = str(REPO / "app.py")
TIMEOUT = 180  # the first search loads the embedding model


def _app(monkeypatch, data_dir, **params) -> AppTest:
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _audio(at: AppTest):
    found = at.get("audio")
    assert len(found) == 1, f"expected one player, found {len(found)}"
    return found[0].proto


def _html(at: AppTest) -> str:
    """The page's HTML: ``st.html`` bodies and the read-along transcript's (component data)."""
    parts = [h.proto.body for h in at.get("html")]
    for c in at.get("bidi_component"):
        raw = c.proto.json or c.proto.mixed.json
        data = json.loads(raw) if raw else {}
        if isinstance(data, dict) and data.get("html"):
            parts.append(data["html"])
    return "\n".join(parts)


def _row_with(at: AppTest, key: str):
    """The block (e.g. a chapter row) that directly holds the widget ``key``."""

    def walk(node):
        kids = getattr(node, "children", {}).values()
        if any(getattr(k, "key", None) == key for k in kids):
            return node
        return next((b for b in map(walk, kids) if b is not None), None)

    return walk(at._tree)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("page", [None, "app_pages/library.py", "app_pages/episode.py"])
def test_empty_library_explains_what_to_do_and_offers_the_default_episode(
    monkeypatch, tmp_path, page
):
    at = _app(monkeypatch, tmp_path / "empty")
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Nothing ingested yet" in text and "AXRP episode 19" in text
    assert at.button(key="pl_ingest").label == "Ingest AXRP 19"


def test_ingest_button_offline_says_the_network_is_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("PODLENS_AXRP_FEED", f"http://127.0.0.1:{_closed_port()}/rss")
    at = _app(monkeypatch, tmp_path / "empty")
    at.run()
    at.button(key="pl_ingest").click().run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error).replace("\\", "")  # (Markdown escapes)
    assert "Can't reach 127.0.0.1" in errors and "offline" in errors
    assert at.status[0].label.startswith("Couldn't ingest")
    assert not (tmp_path / "empty" / "index" / "podlens.db").exists()


def test_search_shows_timestamped_results_and_play_sets_the_player(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir)
    at.run()
    assert not at.exception
    at.text_input(key="pl_q").input("what makes AdamW weird as an optimizer")
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert at.query_params["q"] == "what makes AdamW weird as an optimizer"
    cards = [m.value for m in at.markdown if "Episode]" in m.value]
    assert cards, "no episode results"
    assert re.search(
        r"\*\*\d+:\d{2}:\d{2}\*\* · Neel Nanda|\*\*\d+:\d{2}:\d{2}\*\* · Daniel", cards[0]
    )
    assert "<mark>AdamW</mark>" in _html(at) or "<mark>optimizer" in _html(at)
    # (the feed's title, Markdown-escaped: it shows as the text it is)
    assert at.subheader[0].value.replace("\\", "").startswith("19 - Mechanistic Interpretability")
    assert not at.get("audio")  # no player before a result is played

    first_time = re.search(r"\*\*(\d+):(\d{2}):(\d{2})\*\*", cards[0]).groups()
    secs = int(first_time[0]) * 3600 + int(first_time[1]) * 60 + int(first_time[2])
    at.button(key="pl_play_0").click().run()
    assert not at.exception
    assert at.query_params["episode"] == "axrp-19"
    assert int(at.query_params["t"]) == secs
    audio = _audio(at)
    assert audio.start_time == secs and audio.autoplay
    assert 'id="pl-now"' in _html(at)  # the transcript around the moment, current turn marked


def test_search_filter_limits_results_to_episode_passages(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, q="induction heads", **{"in": "episodes"})
    at.run()
    assert not at.exception
    assert not [m for m in at.markdown if "Paper]" in m.value]
    assert [m for m in at.markdown if "Episode]" in m.value]


def test_question_box_follows_the_url_on_back_and_forward(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, q="induction heads")
    at.run()
    assert at.text_input(key="pl_q").value == "induction heads"
    at.query_params["q"] = "grokking"  # what the browser's back button does to the URL
    at.run()
    assert at.text_input(key="pl_q").value == "grokking"


def test_deep_link_opens_the_episode_at_that_moment(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, episode="axrp-19", t="7182")
    at.run()
    assert not at.exception
    audio = _audio(at)
    assert audio.start_time == 7182 and not audio.autoplay  # a link doesn't blast audio
    assert any(m.value.startswith("## 19") and "Mechanistic" in m.value for m in at.markdown)
    now = _html(at).split('id="pl-now"')[1][:400]
    assert "1:59:4" in now
    assert at.button(key="pl_ch_7").proto.type == "primary"  # "Induction heads" is playing
    assert "Induction heads" in at.button(key="pl_ch_7").label


def test_chapter_click_moves_the_player_and_the_url(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, episode="axrp-19", t="10")
    at.switch_page("app_pages/episode.py")
    at.run()
    at.button(key="pl_ch_3").click().run()
    assert not at.exception
    t = int(at.query_params["t"])
    assert t == 4317  # 1:11:57 Summarizing the papers
    assert _audio(at).start_time == t


def test_unknown_episode_says_so(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, episode="nope-1", t="5")
    at.switch_page("app_pages/episode.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Episode not found"


def test_library_lists_episode_with_podcast_date_duration_chapters(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir)
    at.switch_page("app_pages/library.py")
    at.run()
    assert not at.exception
    meta = " ".join(c.value for c in at.caption)
    assert "AXRP" in meta and "2023" in meta and "3 h 5" in meta and "19 chapters" in meta


def test_no_page_renders_feed_html_raw(monkeypatch, app_data_dir):
    for params, page in [
        ({"q": "grokking"}, None),
        ({"episode": "axrp-19"}, "app_pages/episode.py"),
    ]:
        at = _app(monkeypatch, app_data_dir, **params)
        if page:
            at.switch_page(page)
        at.run()
        assert not at.exception
        assert all(not m.proto.allow_html for m in at.markdown)
        assert "<script" not in _html(at).split("<script")[0]  # only our own scroll script


def test_every_demo_has_a_page_in_the_app():
    app = (REPO / "app.py").read_text()
    for demo in DEMOS:
        assert (REPO / DEMO_PAGES[demo]).is_file() and f'"{DEMO_PAGES[demo]}"' in app


def test_a_chapter_that_illustrates_a_demo_links_to_it(monkeypatch, app_data_dir):
    at = _app(monkeypatch, app_data_dir, episode="axrp-19", t="7182")
    at.run()
    assert not at.exception
    assert "Induction heads" in at.button(key="pl_ch_7").label
    links = {link.value: link.proto.page for link in _row_with(at, "pl_ch_7").get("page_link")}
    assert links["Demo: Induction heads"] == "demo_induction"  # the page's URL
