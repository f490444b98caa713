"""Collecting referenced works: URL identity, kinds, show notes, and episode 19's transcript."""

from __future__ import annotations

import re

import pytest

from ingest.papers import attach_references
from ingest.references import arxiv_id, classify, collect_references, normalize_url
from podlens.models import Episode, Link, Turn
from tests.conftest import EP19_FEED, EP19_MD

GROKKING = "https://arxiv.org/abs/2301.05217"


@pytest.mark.parametrize(
    "url",
    [
        "arxiv.org/abs/2301.05217",
        "https://arxiv.org/abs/2301.05217",
        "http://arxiv.org/abs/2301.05217v2",
        "https://www.arxiv.org/abs/2301.05217/",
        "arxiv.org/pdf/2301.05217v2.pdf",
        "https://arxiv.org/pdf/2301.05217",
        "https://export.arxiv.org/abs/2301.05217v1#abstract",
    ],
)
def test_arxiv_abs_pdf_and_versioned_urls_are_one_work(url):
    assert normalize_url(url) == GROKKING
    assert classify(url) == "arxiv"


def test_old_style_arxiv_ids_are_recognized():
    assert arxiv_id("https://arxiv.org/abs/hep-th/9901001v3") == "hep-th/9901001"
    assert (
        normalize_url("arxiv.org/pdf/hep-th/9901001.pdf") == "https://arxiv.org/abs/hep-th/9901001"
    )


def test_scheme_www_trailing_slash_fragment_and_index_html_do_not_split_a_work():
    a = "https://transformer-circuits.pub/2022/in-context-learning-and-induction-heads/index.html"
    variants = [
        a,
        a + "#curiosities",
        "http://www.transformer-circuits.pub/2022/in-context-learning-and-induction-heads/",
        "transformer-circuits.pub/2022/in-context-learning-and-induction-heads",
    ]
    assert len({normalize_url(v) for v in variants}) == 1


def test_query_strings_that_name_the_page_are_kept_and_tracking_ones_dropped():
    assert normalize_url("https://openreview.net/forum?id=9XFSbDPmdW&utm_source=x") == (
        "https://openreview.net/forum?id=9XFSbDPmdW"
    )
    assert normalize_url("https://www.youtube.com/watch?v=3YbE7zybc5k&list=PL1&index=19") == (
        "https://youtube.com/watch?v=3YbE7zybc5k"
    )


def test_archive_urls_keep_the_embedded_url_intact():
    u = "https://web.archive.org/web/20230201063146/https://www.redwoodresearch.org/remix"
    assert normalize_url(u) == u


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://transformer-circuits.pub/2021/framework/index.html", "article"),
        ("https://distill.pub/2020/circuits/zoom-in/", "article"),
        ("science.org/doi/10.1126/science.ade9097", "article"),
        ("proceedings.mlr.press/v119/frankle20a", "article"),
        ("lesswrong.com/posts/AcKRB8wDpdaN6v6ru/interpreting-gpt-the-logit-lens", "post"),
        ("alignmentforum.org/s/h95ayYYwMebGEYN5y/p/JvZhhzycHu2Yd57RN", "post"),
        ("https://colah.github.io/posts/2019-05-Collaboration/", "post"),
        ("https://ai.googleblog.com/2022/04/pathways-language-model-palm-scaling-to.html", "post"),
        ("twitter.com/NeelNanda5", "link"),
        ("https://x.com/NeelNanda5/status/1", "link"),
        ("youtube.com/@neelnanda2469", "link"),
        ("github.com/neelnanda-io/TransformerLens", "link"),
        ("https://colah.github.io/about.html", "link"),
        ("https://nelhage.com/", "link"),
        ("https://funds.effectivealtruism.org/funds/far-future", "link"),
        ("alignmentforum.org/users/neel-nanda-1", "link"),
        ("https://en.wikipedia.org/wiki/GPT-3", "link"),
    ],
)
def test_kind_of_a_link_follows_its_site_and_path(url, kind):
    assert classify(url) == kind


def _episode(html: str = "", turns: list[Turn] | None = None, notes: str = "") -> Episode:
    return Episode(
        id="t-1",
        title="t",
        podcast="p",
        published=None,
        audio_url=None,
        duration=None,
        turns=turns or [],
        show_notes=notes,
        show_notes_html=html,
    )


def test_schemeless_show_notes_urls_are_read_with_their_titles():
    html = (
        "<p>The transcript: axrp.net/episode/2023/02/04/x.html</p><p>Writings we discuss:</p><ul>"
        "<li>Progress measures for grokking via mechanistic interpretability: "
        "arxiv.org/abs/2301.05217</li>"
        "<li>interpreting GPT: the logit lens: lesswrong.com/posts/AcKRB8wDpdaN6v6ru/x</li>"
        '<li><a href="https://distill.pub/2020/circuits/zoom-in/">Zoom In</a></li>'
        '<li>Curve detectors: <a href="https://distill.pub/2020/circuits/curve-detectors/">'
        "distill.pub/2020/circuits/curve-detectors</a></li></ul>"
    )
    ep = _episode(html)  # transcript_url unset, as when the transcript is read from a file
    refs = {r.url: r for r in collect_references(ep)}
    assert refs[GROKKING].title == "Progress measures for grokking via mechanistic interpretability"
    assert refs["https://lesswrong.com/posts/AcKRB8wDpdaN6v6ru/x"].title == (
        "interpreting GPT: the logit lens"
    )
    assert refs["https://distill.pub/2020/circuits/zoom-in"].title == "Zoom In"
    assert refs["https://distill.pub/2020/circuits/curve-detectors"].title == "Curve detectors"
    assert not any("axrp.net" in u for u in refs), "the episode's own transcript is not a work"
    assert all(r.mentions == [] for r in refs.values()), "show-notes-only works have no mentions"


def test_plain_text_show_notes_are_read_when_there_is_no_html():
    ep = _episode(notes="Writings:\nGrokking (https://arxiv.org/abs/2201.02177v1)\n")
    [ref] = collect_references(ep)
    assert (ref.url, ref.title) == ("https://arxiv.org/abs/2201.02177", "Grokking")
    assert ref.kind == "arxiv"


def test_each_turn_linking_a_work_is_one_mention_and_show_notes_title_wins():
    turns = [
        Turn(
            "A",
            "x",
            "Introduction",
            10.0,
            20.0,
            [
                Link("Progress Measures", "https://arxiv.org/abs/2301.05217"),
                Link("again", "https://arxiv.org/pdf/2301.05217v2.pdf"),
            ],
        ),
        Turn(
            "B", "y", "Grokking", 100.0, 110.0, [Link("grokking paper", "arxiv.org/abs/2301.05217")]
        ),
        Turn("A", "z", "Grokking", 120.0, 130.0, [Link("this", "https://tomhenighan.com/")]),
    ]
    html = "<ul><li>Progress measures for grokking: arxiv.org/abs/2301.05217</li></ul>"
    refs = collect_references(_episode(html, turns))
    assert [r.url for r in refs] == [GROKKING, "https://tomhenighan.com"]
    g = refs[0]
    assert g.title == "Progress measures for grokking"
    assert [(m.turn, m.start, m.chapter) for m in g.mentions] == [
        (0, 10.0, "Introduction"),
        (1, 100.0, "Grokking"),
    ]
    assert refs[1].title == "this" and refs[1].kind == "link"


def test_no_papers_lists_references_with_mentions_and_fetches_nothing(tmp_path):
    turns = [Turn("A", "x", "Intro", 5.0, 9.0, [Link("paper", "https://arxiv.org/abs/2301.05217")])]
    ep = _episode("<ul><li>Grokking: arxiv.org/abs/2201.02177</li></ul>", turns)
    docs = attach_references(ep, tmp_path, fetch=False)
    assert docs == []
    assert [r.status for r in ep.references] == ["skipped", "skipped"]
    out = ep.to_dict()["references"]
    assert [(r["url"], r["kind"]) for r in out] == [
        ("https://arxiv.org/abs/2201.02177", "arxiv"),
        (GROKKING, "arxiv"),
    ]
    assert out[1]["mentions"] == [{"start": 5.0, "chapter": "Intro", "turn": 0}]
    assert not (tmp_path / "cache").exists()


# --- episode 19, from ../shared ------------------------------------------------------------


@pytest.fixture(scope="module")
def ep19() -> Episode:
    from ingest.align import align
    from ingest.feed import read_item
    from ingest.transcript import parse_markdown

    item = read_item(str(EP19_FEED), episode=19)
    transcript = parse_markdown(EP19_MD.read_text("utf-8"))
    turns = transcript.to_turns()
    align(turns, transcript.sections, item.chapters, item.duration)
    return Episode(
        id="axrp-19",
        title=item.title,
        podcast=item.podcast,
        published=item.published,
        audio_url=None,
        duration=None,
        chapters=item.chapters,
        turns=turns,
        show_notes=item.notes_text,
        show_notes_html=item.notes_html,
        transcript_url=item.transcript_url,
    )


def _arxiv_links_in_markdown() -> dict[str, int]:
    """arXiv ids linked in the transcript body (after the first speaker line), with the number
    of speaker turns that link each, read straight from the markdown source."""
    text = EP19_MD.read_text("utf-8")
    body = text[text.index("**Daniel Filan:**") :]
    turns = re.split(r"^\*\*[^*\n]+:\*\*", body, flags=re.M)
    counts: dict[str, int] = {}
    for t in turns:
        for aid in set(re.findall(r"\]\(https?://arxiv\.org/(?:abs|pdf)/([\d.]+)", t)):
            counts[aid] = counts.get(aid, 0) + 1
    return counts


def test_every_arxiv_link_in_episode_19_is_a_reference_with_its_mentions(ep19):
    refs = {r.url: r for r in collect_references(ep19)}
    expected = _arxiv_links_in_markdown()
    assert len(expected) == 19  # the 19 distinct arXiv papers the ep 19 transcript links
    for aid, n_turns in expected.items():
        ref = refs[f"https://arxiv.org/abs/{aid}"]
        assert ref.kind == "arxiv"
        assert len(ref.mentions) == n_turns, aid
        for m in ref.mentions:
            turn = ep19.turns[m.turn]
            assert any(arxiv_id(lk.url) == aid for lk in turn.links)
            assert m.chapter == turn.chapter and m.start == turn.start
            assert m.start is not None and 0 <= m.start < 4 * 3600
        starts = [m.start for m in ref.mentions]
        assert starts == sorted(starts)


def test_progress_measures_is_mentioned_in_the_introduction_and_the_grokking_chapters(ep19):
    refs = {r.url: r for r in collect_references(ep19)}
    g = refs[GROKKING]
    assert g.title == "Progress measures for grokking via mechanistic interpretability"
    chapters = [m.chapter for m in g.mentions]
    assert chapters[0] == "Introduction"
    grokking_chapters = {
        "'Progress measures for grokking via mechanistic interpretability'",
        "How neural nets learn modular addition",
        "The suddenness of grokking",
    }
    assert grokking_chapters & set(chapters), chapters
    # On the audio clock (aligned through the feed's chapter stamps): the introduction is before
    # the first chapter at 1:05, the grokking part starts at 2:50:57.
    assert all(m.start is not None for m in g.mentions)
    assert g.mentions[0].start < 65
    grok = [m.start for m in g.mentions if m.chapter in grokking_chapters]
    assert grok and all(2 * 3600 + 50 * 60 + 57 <= t < 3 * 3600 + 34 * 60 + 16 for t in grok)


def test_episode_19_has_one_reference_per_work_with_kinds_from_the_notes(ep19):
    refs = collect_references(ep19)
    urls = [r.url for r in refs]
    assert len(urls) == len(set(urls))
    by_url = {r.url: r for r in refs}
    # Linked from the notes and the transcript in different spellings, still one work each.
    icl = "https://transformer-circuits.pub/2022/in-context-learning-and-induction-heads"
    assert by_url[icl].kind == "article" and len(by_url[icl].mentions) >= 9
    assert by_url["https://twitter.com/NeelNanda5"].kind == "link"
    scrubbing = "https://alignmentforum.org/s/h95ayYYwMebGEYN5y/p/JvZhhzycHu2Yd57RN"
    assert by_url[scrubbing].kind == "post"
    # Every "Writings we discuss" entry is there, titled as the notes title it.
    notes = ep19.show_notes_html.split("Writings we discuss", 1)[1]
    listed = re.findall(r"<li>(.*?): ([a-z0-9.-]+\.[a-z]+/[^<]*)</li>", notes.replace("&amp;", "&"))
    assert len(listed) == 17
    for title, url in listed:
        assert by_url[normalize_url(url)].title == title.replace("&quot;", '"')
