"""Transcript parsing: the markdown source and the rendered page give the same turns."""

from __future__ import annotations

import re

import pytest

from ingest.transcript import INTRO, parse_html, parse_markdown, parse_transcript
from podlens.errors import PodlensError
from tests.conftest import EP19_MD, POSTS
from tests.support.axrp_html import render_post_html


@pytest.fixture(scope="module")
def ep19_md():
    return parse_markdown(EP19_MD.read_text(encoding="utf-8"))


def _key(tr):
    return [(t.speaker, t.chapter, t.text, [(lk.text, lk.url) for lk in t.links]) for t in tr.turns]


def test_ep19_markdown_has_19_sections_and_one_turn_per_speaker_line(ep19_md):
    raw = EP19_MD.read_text(encoding="utf-8")
    assert len(ep19_md.sections) == 19
    assert ep19_md.sections == [
        re.sub(r"\s*<a name=.*$", "", ln[ln.index(" ") + 1 :]).strip()
        for ln in raw.splitlines()
        if re.match(r"^#{2,3} ", ln)
    ]
    assert len(ep19_md.turns) == len(re.findall(r"^\*\*[^*]+:\*\*$", raw, re.M)) == 469
    assert all(t.speaker in ("Daniel Filan", "Neel Nanda") for t in ep19_md.turns)
    assert ep19_md.title == "19 - Mechanistic Interpretability with Neel Nanda"


def test_turns_before_first_heading_are_introduction_and_chapters_are_headings(ep19_md):
    assert [t.chapter for t in ep19_md.turns[:2]] == [INTRO, INTRO]
    assert ep19_md.turns[2].chapter == "What is mechanistic interpretability?"
    assert {t.chapter for t in ep19_md.turns} <= {INTRO, *ep19_md.sections}


def test_links_reduced_to_text_and_collected(ep19_md):
    first = ep19_md.turns[0]
    assert "worked with Chris Olah on" in first.text and "](" not in first.text
    assert first.links[0].text == "Chris Olah"
    assert first.links[0].url == "https://colah.github.io/about.html"
    assert "\n\n" in first.text  # paragraphs joined by a blank line


def test_closing_credits_belong_to_the_last_speaker(ep19_md):
    last = ep19_md.turns[-1]
    assert last.speaker == "Daniel Filan"
    assert last.text.endswith("you can email me at feedback@axrp.net.")
    assert last.links[-1].url == "mailto:feedback@axrp.net"


def test_html_page_gives_same_turns_as_markdown(ep19_md):
    page = render_post_html(EP19_MD.read_text(encoding="utf-8"))
    html_tr = parse_transcript(page)
    assert html_tr.sections == ep19_md.sections
    assert _key(html_tr) == _key(ep19_md)


def test_html_and_markdown_agree_on_every_shared_post():
    for path in sorted(POSTS.glob("*.markdown")):
        md = path.read_text(encoding="utf-8")
        a, b = parse_markdown(md), parse_html(render_post_html(md))
        assert a.sections == b.sections, path.name
        assert _key(a) == _key(b), path.name


def test_timestamped_speaker_lines_and_crlf_are_parsed():
    md = (
        '---\r\ntitle: "41 - X"\r\n---\r\nSummary.\r\n\r\n**Daniel Filan** (00:00:09):\r\n'
        'Hello.\r\n\r\n(00:00:20):\r\nMore.\r\n\r\n## Basics <a name="b"></a>\r\n\r\n'
        "**Lee Sharkey** (01:02:03):\r\nHi [there](https://x.org/a_(b)).\r\n"
    )
    tr = parse_markdown(md)
    assert [(t.speaker, t.chapter, t.stamp) for t in tr.turns] == [
        ("Daniel Filan", INTRO, 9.0),
        ("Lee Sharkey", "Basics", 3723.0),
    ]
    assert tr.turns[0].text == "Hello.\n\nMore."
    assert tr.turns[1].links[0].url == "https://x.org/a_(b)"


def test_text_without_turns_is_an_error():
    with pytest.raises(PodlensError, match="no speaker turns"):
        parse_transcript("# Just a heading\n\nsome text\n")
    with pytest.raises(PodlensError, match="empty"):
        parse_transcript("   \n")
