"""The library: every item of a feed ingested incrementally, a failing item skipped with its
reason while the others land, OPML subscriptions, ``index list``, and one search across episodes.

A 3-item feed is cut from ``../shared/axrp/feed.xml`` and served over HTTP; the transcripts are
the fixture posts shortened to their first sections (written to a temp folder under the same
names), so embedding stays quick on a busy machine.  The full 25 episodes run in one ``slow``
test.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from index.__main__ import main as index_main
from index.search import Searcher
from index.store import IndexStore
from ingest.__main__ import main as ingest_main
from library.feeds import feeds_from_opml, ingest_feeds
from podlens.errors import PodlensError
from tests.conftest import AXRP_FEED, POSTS, REPO
from tests.support.httpserver import FixtureServer, Route

# episode number -> the sections of its post kept (questions in the eval set are about these)
KEEP = {"28": 1, "15": 2}
BROKEN = "12"  # its transcript file is unreadable: the item is skipped, the others land
POST = {
    "28": "2024-04-17-episode-28-tort-law-for-ai-risk-gabriel-weil.markdown",
    "15": "2022-05-22-episode-15-natural-abstractions-john-wentworth.markdown",
    "12": "2021-12-01-episode-12-ai-xrisk-paul-christiano.markdown",
}


def _items(numbers: list[str]) -> str:
    xml = AXRP_FEED.read_text(encoding="utf-8")
    head, rest = xml.split("<item>", 1)
    items = re.findall(r"<item>.*?</item>", "<item>" + rest, flags=re.S)
    keep = [it for it in items if re.search(rf"<title>({'|'.join(numbers)}) - ", it)]
    assert len(keep) == len(numbers)
    return head + "\n".join(keep) + "\n  </channel>\n</rss>\n"


def _shorten(text: str, sections: int) -> str:
    """The post up to (not including) its ``sections + 1``-th ``##`` heading."""
    starts = [m.start() for m in re.finditer(r"^## ", text, flags=re.M)]
    return text[: starts[sections]] if len(starts) > sections else text


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A server with the 3-item feed, the shortened posts, and a first run into a data dir."""
    root = tmp_path_factory.mktemp("library")
    posts = root / "posts"
    posts.mkdir()
    for n, keep in KEEP.items():
        text = (POSTS / POST[n]).read_text(encoding="utf-8")
        (posts / POST[n]).write_text(_shorten(text, keep), encoding="utf-8")
    (posts / POST[BROKEN]).write_text("---\ntitle: Episode 12\n---\nno turns here\n")
    data = root / "data"
    with FixtureServer() as srv:
        feed = srv.add("/axrp3.xml", Route(_items(["28", "15", BROKEN]).encode(), "text/xml"))
        t0 = time.perf_counter()
        first = ingest_feeds([feed], transcripts_dir=posts, data_dir=data, no_papers=True)
        first_s = time.perf_counter() - t0
        yield {"feed": feed, "posts": posts, "data": data, "first": first, "first_s": first_s}


def test_every_item_lands_except_the_failing_one_which_says_why(library):
    by_ep = {r.episode: r for r in library["first"].items}
    assert by_ep["axrp-28"].status == by_ep["axrp-15"].status == "ingested"
    assert "clock: chapters" in by_ep["axrp-28"].reason
    assert by_ep["axrp-12"].status == "skipped"
    assert "no speaker turns" in by_ep["axrp-12"].reason
    ids = {s.id for s in IndexStore(library["data"]).list_episodes()}
    assert ids == {"axrp-28", "axrp-15"}


def test_a_second_run_changes_nothing_and_says_so_in_a_fraction_of_the_time(library, capsys):
    store = IndexStore(library["data"])
    gen = store.generation()
    t0 = time.perf_counter()
    rc = ingest_main(
        [
            "--feed",
            library["feed"],
            "--all",
            "--transcripts-dir",
            str(library["posts"]),
            "--no-papers",
            "--data-dir",
            str(library["data"]),
        ]
    )
    took = time.perf_counter() - t0
    out = capsys.readouterr().out
    assert rc == 0
    assert out.startswith("ingested 0 / unchanged 2 / skipped 1")
    assert re.search(r"unchanged\s+axrp-28 .*same content hash", out)
    assert re.search(r"skipped\s+axrp-12 .*no speaker turns", out)
    assert store.generation() == gen  # nothing written
    assert took < library["first_s"] / 3


def test_index_list_json_lists_the_library_with_clocks(library, capsys):
    assert index_main(["list", "--json", "--data-dir", str(library["data"])]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["axrp-28", "axrp-15"]  # newest first
    for r in rows:
        assert r["podcast"].startswith("AXRP") and r["clock"] == "chapters"
        assert r["published"].startswith(("2024-04-17", "2022-05-22"))


def test_search_across_the_library_finds_the_right_episode(library):
    questions = [
        json.loads(line)
        for line in (REPO / "tests" / "eval" / "axrp_library.jsonl").read_text().splitlines()
    ]
    kept = {"28": {"The basic idea"}, "15": {"Agency in E. coli", "Agency in financial markets"}}
    asked = [q for q in questions if q["section"] in kept.get(str(q["episode_number"]), set())]
    assert len(asked) >= 6
    searcher = Searcher(library["data"])
    hits = 0
    for q in asked:
        top = searcher.search(q["question"], k=1, kinds=("transcript",))
        hits += top[0].episode == f"axrp-{q['episode_number']}"
    assert hits == len(asked)


def test_opml_subscriptions_ingest_every_feed_they_list(library, tmp_path, capsys):
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>'
        f'<outline text="Folder"><outline type="rss" text="AXRP" xmlUrl="{library["feed"]}"/>'
        f'</outline><outline text="again" xmlUrl="{library["feed"]}"/>'
        '<outline text="a folder without a feed"/></body></opml>'
    )
    assert feeds_from_opml(opml) == [library["feed"]]
    rc = ingest_main(
        [
            "--opml",
            str(opml),
            "--transcripts-dir",
            str(library["posts"]),
            "--no-papers",
            "--data-dir",
            str(library["data"]),
            "--json",
        ]
    )
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(r["status"] for r in report["items"]) == ["skipped", "unchanged", "unchanged"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<opml><body><outline text='x'/></body></opml>", "no outline has an xmlUrl"),
        ("<rss><channel/></rss>", "not <opml>"),
        ("<opml><body>", "not well-formed"),
    ],
)
def test_a_bad_opml_file_is_one_clear_error(tmp_path, text, message):
    p = tmp_path / "bad.opml"
    p.write_text(text)
    with pytest.raises(PodlensError, match=message):
        feeds_from_opml(p)


def test_an_unreadable_feed_is_a_skipped_row_not_a_crash(tmp_path):
    report = ingest_feeds([str(tmp_path / "missing.xml")], data_dir=tmp_path / "d", bar=False)
    assert [(r.status, "no such file" in r.reason) for r in report.items] == [("skipped", True)]


def test_the_library_page_lists_shows_and_episodes_with_their_clock(library, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PODLENS_DATA_DIR", str(library["data"]))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/library.py")
    at.run()
    assert not at.exception
    show = next(e for e in at.expander if e.label.startswith("AXRP"))
    assert show.label.endswith("2 episodes")
    rows = [m.value for m in show.markdown]
    assert len(rows) == 2 and all("chapters]" in r for r in rows)
    assert any("Suing Labs" in r and "2024" in r and "04" in r for r in rows)
    assert [t.label for t in at.tabs] == ["Feed URL", "OPML file", "AXRP episodes"]


def test_an_episode_without_a_clock_says_why_instead_of_offering_play(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from index.build import index_episode
    from podlens.models import Episode, Turn

    turns = [Turn("Alice", "Sparse autoencoders find features in activations.", "Introduction")]
    ep = Episode("show-1", "One", "Show", None, None, None, turns=turns, clock="none")
    index_episode(ep, tmp_path)
    monkeypatch.setenv("PODLENS_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.query_params["q"] = "sparse autoencoders"
    at.run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any("no clock" in c for c in captions), captions
    assert not [b for b in at.button if b.label == "Play from here"]
    at.switch_page("app_pages/episode.py")
    at.query_params["episode"] = "show-1"
    at.run()
    assert any(i.value.startswith("no clock:") for i in at.info)


def test_a_changed_transcript_is_reingested_and_force_redoes_all(library):
    post = library["posts"] / POST["15"]
    post.write_text(post.read_text() + "\n**Daniel Filan:**\n\nOne more thing, added later.\n")
    args = {"transcripts_dir": library["posts"], "data_dir": library["data"], "no_papers": True}
    report = ingest_feeds([library["feed"]], bar=False, **args)
    by_ep = {r.episode: (r.status, r.reason.split(";")[0]) for r in report.items}
    assert by_ep["axrp-15"] == ("ingested", "changed")
    assert by_ep["axrp-28"][0] == "unchanged"
    ep = IndexStore(library["data"]).load_episode("axrp-15")
    assert ep.turns[-1].text == "One more thing, added later."
    forced = ingest_feeds([library["feed"]], bar=False, force=True, numbers=(28, 28), **args)
    assert [(r.episode, r.status, r.reason) for r in forced.items] == [
        ("axrp-28", "ingested", "forced; clock: chapters")
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("PODLENS_SCALE_TESTS"),
    reason="embeds all 25 fixture episodes (~20 min on 2 cores), too long for the suite: "
    "run with PODLENS_SCALE_TESTS=1; bench/bench_library.py measures the library at scale",
)
def test_the_whole_25_episode_fixture_feed_lands_and_searches(tmp_path):
    report = ingest_feeds(
        [str(AXRP_FEED)], transcripts_dir=POSTS, data_dir=tmp_path / "d", no_papers=True
    )
    assert report.count("ingested") == 25, report.summary()
    questions = [
        json.loads(line)
        for line in (REPO / "tests" / "eval" / "axrp_library.jsonl").read_text().splitlines()
    ]
    searcher = Searcher(tmp_path / "d")
    right = sum(
        searcher.search(q["question"], k=1, kinds=("transcript",))[0].episode
        == f"axrp-{q['episode_number']}"
        for q in questions
    )
    assert right >= 0.9 * len(questions)


def test_the_axrp_all_shortcut_reports_an_unreadable_feed_as_a_skipped_row(tmp_path, capsys):
    missing = str(tmp_path / "missing.xml")
    rc = ingest_main(["axrp", "--all", "--feed", missing, "--data-dir", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("ingested 0 / unchanged 0 / skipped 1")
    assert "no such file" in out


def test_a_backwards_range_is_a_one_line_error_with_exit_2(tmp_path, capsys):
    rc = ingest_main(["--feed", str(AXRP_FEED), "--all", "--range", "20-12"])
    assert rc == 2
    assert "first number is larger" in capsys.readouterr().err
