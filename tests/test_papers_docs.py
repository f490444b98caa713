"""Fetching referenced works into PaperDocs, against a local server serving realistic fixtures:
an arXiv API Atom feed, a generated paper PDF, an HTML article, and the ways fetching fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from ingest.papers import PapersConfig, attach_references, fetch_papers, pdf_sections
from podlens.http import HttpConfig
from podlens.models import Episode, Link, Reference, Turn
from tests.support.httpserver import Route

FIXTURES = Path(__file__).parent / "fixtures" / "papers"
MB = 1024 * 1024

SECTIONS = [
    (
        "Abstract",
        "Neural networks often exhibit emergent behavior, where qualitatively new "
        "capabilities arise from scaling up the amount of parameters. ",
    ),
    (
        "1 Introduction",
        "We reverse-engineer small transformers trained on modular addition. "
        "The model uses 2 layers of reasoning in 113 steps. " * 12,
    ),
    ("2 Setup", "We train a one-layer transformer on a + b mod 113 with full batch AdamW. " * 6),
    ("2.1 Training details", "Weight decay is 1.0 and the learning rate is 0.001. " * 40),
    (
        "3 The Fourier multiplication algorithm",
        "The network embeds inputs as waves at key frequencies and uses trig identities. " * 10,
    ),
    ("4 Progress measures", "Restricted and excluded loss track the circuit's formation. " * 8),
    ("References", "Power, A., Burda, Y. Grokking: generalization beyond overfitting. 2022."),
    ("A Mechanistic evidence", "Ablating the key frequencies destroys performance. " * 5),
]


def make_paper_pdf(sections=SECTIONS, title="Progress measures for grokking") -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, "Neel Nanda, Lawrence Chan, Tom Lieberum", new_x="LMARGIN", new_y="NEXT")
    for heading, body in sections:
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def make_unstructured_pdf(pages: int = 3) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", "", 11)
    for i in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"Slide {i + 1}: notes about superposition and features. " * 5)
    return bytes(pdf.output())


def fast_config(server, **kw) -> PapersConfig:
    http = dict(
        connect_timeout=2.0,
        read_timeout=0.4,
        retries=1,
        backoff=0.01,
        min_interval=0.0,
        host_intervals={},
    )
    http.update(kw)
    return PapersConfig(
        arxiv_api=server.url("/api/query"),
        arxiv_pdf=server.url("/pdf/{id}"),
        http=HttpConfig(**http),
    )


@pytest.fixture
def site(http_server):
    atom = (FIXTURES / "arxiv_api.xml").read_bytes()
    http_server.add("/api/query", Route(atom, content_type="application/atom+xml; charset=UTF-8"))
    http_server.add("/pdf/2301.05217", Route(make_paper_pdf(), content_type="application/pdf"))
    # arXiv sometimes answers a PDF URL with an HTML page (a captcha, a "being processed" note).
    http_server.add("/pdf/2201.02177", Route(b"<html><body>Please wait</body></html>"))
    http_server.add("/article.html", Route((FIXTURES / "article.html").read_bytes()))
    http_server.add("/slides.pdf", Route(make_unstructured_pdf(), content_type="application/pdf"))
    http_server.add("/slow", Route(b"<html>late</html>", delay=1.5))
    http_server.add("/loop", Route(status=302, headers={"Location": "/loop"}))
    http_server.add(
        "/huge.pdf", Route(b"%PDF-1.4\n" + b"0" * (50 * MB), content_type="application/pdf")
    )
    return http_server


def refs_for(server) -> list[Reference]:
    return [
        Reference("https://arxiv.org/abs/2301.05217", "grokking paper", "arxiv"),
        Reference("https://arxiv.org/abs/2201.02177", "Grokking", "arxiv"),
        Reference("https://arxiv.org/abs/2212.14052", "Hungry Hungry Hippos", "arxiv"),
        Reference(server.url("/article.html"), "framework", "article"),
        Reference(server.url("/slides.pdf"), "slides", "article"),
        Reference(server.url("/missing-post"), "a post", "post"),
        Reference(server.url("/slow"), "slow page", "article"),
        Reference(server.url("/loop"), "loop", "article"),
        Reference(server.url("/huge.pdf"), "huge", "article"),
        Reference("https://twitter.com/NeelNanda5", "Neel on Twitter", "link"),
    ]


def test_fetch_papers_reads_what_it_can_and_records_why_the_rest_failed(site, tmp_path):
    refs = refs_for(site)
    calls: list[tuple[str, float]] = []
    docs = fetch_papers(
        refs, tmp_path, config=fast_config(site), progress=lambda s, f: calls.append((s, f))
    )
    by = {r.url: r for r in refs}
    status = {r.title if r.kind != "arxiv" else r.url[-10:]: (r.status, r.error) for r in refs}
    # Failures: reason recorded, never raised.
    assert by["https://arxiv.org/abs/2212.14052"].status == "failed"
    assert "HTTP 404" in by["https://arxiv.org/abs/2212.14052"].error
    assert by[site.url("/missing-post")].error == "HTTP 404"
    assert by[site.url("/slow")].error == "timed out"
    assert by[site.url("/loop")].error == "redirect loop"
    assert by[site.url("/huge.pdf")].error == "response too large (over 20 MB)"
    assert by["https://twitter.com/NeelNanda5"].status == "skipped"
    oks = [r.url for r in refs if r.status == "ok"]
    assert oks == [
        "https://arxiv.org/abs/2301.05217",
        "https://arxiv.org/abs/2201.02177",
        site.url("/article.html"),
        site.url("/slides.pdf"),
    ], status
    assert [d.url for d in docs] == oks
    # Progress reported per work, ending at 1.
    assert calls[0] == ("papers", 0.0) and calls[-1] == ("papers", 1.0)
    assert [f for _, f in calls] == sorted(f for _, f in calls)
    # Nothing fetched for the Twitter link.
    assert not any("twitter" in h for h in site.hits)


def test_arxiv_metadata_comes_from_the_api_and_full_text_from_the_pdf_sections(site, tmp_path):
    refs = refs_for(site)[:2]
    docs = {d.url: d for d in fetch_papers(refs, tmp_path, config=fast_config(site))}
    g = docs["https://arxiv.org/abs/2301.05217"]
    assert g.title == "Progress measures for grokking via mechanistic interpretability"
    assert g.authors[:2] == ["Neel Nanda", "Lawrence Chan"] and len(g.authors) == 5
    assert g.published.startswith("2023-01-12")
    assert g.abstract.startswith("Neural networks often exhibit emergent behavior")
    assert "\n" not in g.abstract
    headings = [h for h, _ in g.sections]
    assert headings == [
        "Abstract",
        "1 Introduction",
        "2 Setup",
        "2.1 Training details",
        "3 The Fourier multiplication algorithm",
        "4 Progress measures",
        "A Mechanistic evidence",
    ]
    text = dict(g.sections)
    assert "trig identities" in text["3 The Fourier multiplication algorithm"]
    assert not any("Burda" in t for t in text.values()), "the bibliography is not indexed"
    # The reference got the API's metadata, and its title (the notes gave none here).
    ref = refs[0]
    assert ref.title == g.title and ref.authors == g.authors and ref.status == "ok"
    # The other paper's "PDF" was an HTML page: kept with its abstract, the reason noted.
    p = docs["https://arxiv.org/abs/2201.02177"]
    assert p.title.startswith("Grokking: Generalization Beyond Overfitting on Small Algorithmic")
    assert p.sections == [("Abstract", p.abstract)]
    assert refs[1].status == "ok" and "not a PDF" in refs[1].error
    # One API query for both ids.
    assert [h for h in site.hits if h.startswith("/api/")] == [
        "/api/query?id_list=2201.02177%2C2301.05217&max_results=2"
    ]


def test_html_articles_keep_their_headings_as_sections_and_drop_the_page_chrome(site, tmp_path):
    ref = Reference(site.url("/article.html"), "framework", "article")
    [doc] = fetch_papers([ref], tmp_path, config=fast_config(site))
    assert doc.title == "A Mathematical Framework for Transformer Circuits"
    assert doc.kind == "article"
    assert "Nelson Elhage" in doc.authors and doc.published == "2021-12-22"
    heads = [h for h, _ in doc.sections]
    assert "Summary of Results" in heads and "Two-Layer Attention-Only Transformers" in heads
    text = dict(doc.sections)
    assert "induction heads" in text["Two-Layer Attention-Only Transformers"]
    body = " ".join(t for _, t in doc.sections)
    assert "skip-trigram" in body
    assert "Copyright Anthropic" not in body and "Transformer Circuits Thread" not in body


def test_a_pdf_without_numbered_headings_is_split_into_pages():
    sections = pdf_sections(make_unstructured_pdf(3))
    assert [h for h, _ in sections] == ["Page 1", "Page 2", "Page 3"]
    assert "Slide 2" in sections[1][1]


def test_bytes_that_are_not_a_pdf_are_rejected():
    with pytest.raises(ValueError, match="not a PDF"):
        pdf_sections(b"<html>captcha</html>")
    with pytest.raises(ValueError, match="unreadable PDF"):
        pdf_sections(b"%PDF-1.4\n garbage without xref")


def test_reingesting_makes_no_requests_for_works_already_fetched(site, tmp_path):
    ok = [0, 1, 3, 4]
    fetch_papers([refs_for(site)[i] for i in ok], tmp_path, config=fast_config(site))
    hits = len(site.hits)
    refs = [refs_for(site)[i] for i in ok]
    docs = fetch_papers(refs, tmp_path, config=fast_config(site))
    assert len(site.hits) == hits
    assert len(docs) == 4 and all(r.status == "ok" for r in refs)
    # The PDFs' text is remembered too, so a re-ingest does not parse them again.
    assert len(list((tmp_path / "cache" / "pdf_text").glob("*.json"))) == 2


def test_attach_references_fetches_an_episodes_papers_and_keeps_show_notes_titles(site, tmp_path):
    turns = [
        Turn(
            "Daniel Filan",
            "intro",
            "Introduction",
            12.0,
            40.0,
            [Link("Progress Measures for Grokking", "https://arxiv.org/abs/2301.05217v2")],
        ),
        Turn(
            "Neel Nanda",
            "grokking",
            "The suddenness of grokking",
            11500.0,
            11560.0,
            [
                Link("the paper", "https://arxiv.org/pdf/2301.05217.pdf"),
                Link("original grokking work", "https://arxiv.org/abs/2201.02177"),
                Link("Neel", "https://twitter.com/NeelNanda5"),
            ],
        ),
    ]
    html = (
        "<p>Writings we discuss:</p><ul><li>Progress measures for grokking via mechanistic "
        "interpretability (the paper): arxiv.org/abs/2301.05217</li></ul>"
    )
    ep = Episode(
        id="t-1",
        title="t",
        podcast="p",
        published=None,
        audio_url=None,
        duration=None,
        turns=turns,
        show_notes_html=html,
    )
    stages: list[str] = []
    docs = attach_references(
        ep, tmp_path, config=fast_config(site), progress=lambda s, f: stages.append(s)
    )
    assert stages and set(stages) == {"papers"}
    refs = ep.references
    assert [r.url for r in refs] == [
        "https://arxiv.org/abs/2301.05217",
        "https://arxiv.org/abs/2201.02177",
        "https://twitter.com/NeelNanda5",
    ]
    g, p, tw = refs
    assert g.title == "Progress measures for grokking via mechanistic interpretability (the paper)"
    assert [(m.start, m.chapter) for m in g.mentions] == [
        (12.0, "Introduction"),
        (11500.0, "The suddenness of grokking"),
    ]
    assert p.title.startswith("Grokking: Generalization"), "fetched title replaces link text"
    assert (g.status, p.status, tw.status) == ("ok", "ok", "skipped")
    assert [d.url for d in docs] == [g.url, p.url]
    assert docs[0].title == g.title
    d = ep.to_dict()["references"][0]
    assert {"url", "title", "kind", "mentions", "authors", "status"} <= set(d)
    assert d["mentions"][0] == {"start": 12.0, "chapter": "Introduction", "turn": 0}
    assert Episode.from_dict(ep.to_dict()).references == refs
