"""Referenced papers end to end: the real ``python -m ingest`` of episode 19 (feed + markdown from
../shared) fetches its papers from a local HTTP server, indexes them, and the search CLI and the
app show them.

The server plays arXiv (an API Atom feed for three of the episode's papers, generated PDFs with
numbered sections for two, an HTML "please wait" page instead of the third's PDF) and
transformer-circuits.pub (an HTML article), reached through ``PODLENS_ARXIV_API``,
``PODLENS_ARXIV_PDF`` and ``PODLENS_FETCH_MIRRORS``.  Every other site the episode links is sent
to ``<host>.invalid`` (a name that never resolves, RFC 6761): those works must fail fast, be
recorded as failed, and not fail the ingest.  Nothing here touches the web.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fpdf import FPDF
from streamlit.testing.v1 import AppTest

from tests.conftest import EP19_FEED, EP19_MD, REPO
from tests.support.httpserver import FixtureServer, Route
from tests.test_index_search import FIELDS as RESULT_FIELDS
from ui.render import md_text

GROKKING = "https://arxiv.org/abs/2301.05217"
POWER = "https://arxiv.org/abs/2201.02177"
IOI = "https://arxiv.org/abs/2211.00593"
ICL = "https://transformer-circuits.pub/2022/in-context-learning-and-induction-heads"
SCRUBBING = "https://alignmentforum.org/s/h95ayYYwMebGEYN5y/p/JvZhhzycHu2Yd57RN"
GROKKING_CHAPTERS = {
    "'Progress measures for grokking via mechanistic interpretability'",
    "How neural nets learn modular addition",
    "The suddenness of grokking",
}
INGEST_ARGS = ["--feed", str(EP19_FEED), "--transcript", str(EP19_MD), "--episode", "19"]
# Asked of the papers only; answered by section 4 of the grokking PDF below.
QUESTION = "when does the cleanup phase start and what removes the memorizing weights"
APP = str(REPO / "app.py")

# -- the fixtures the server serves ---------------------------------------------------------------

GROKKING_SECTIONS = [
    (
        "1 Introduction",
        "Grokking is a curious phenomenon where small transformers first memorize their training "
        "data and only much later generalize. We study it by fully reverse-engineering the "
        "algorithm such a network learns. ",
    ),
    (
        "2 Setup",
        "We train a one-layer transformer with full batch AdamW on modular addition modulo 113, "
        "using thirty percent of all input pairs as training data and weight decay of one. " * 3,
    ),
    (
        "3 The Fourier multiplication algorithm",
        "The network writes each input token as cosines and sines at five key frequencies and "
        "combines them with trigonometric product identities to read off the sum. " * 3,
    ),
    (
        "4 Three phases of training",
        "Training splits into three phases. Memorization lasts until epoch 1400. Circuit "
        "formation runs from epoch 1400 to epoch 9400, while test loss stays flat. The cleanup "
        "phase starts at epoch 9400: weight decay removes the memorizing weights, and test loss "
        "falls abruptly, which is the grokking an observer sees. ",
    ),
    (
        "5 Discussion",
        "Progress measures such as restricted loss and excluded loss move smoothly through all "
        "three phases, so the sudden change in test loss hides gradual progress. " * 2,
    ),
]
POWER_SECTIONS = [
    (
        "1 Introduction",
        "We show that neural networks can generalize on small algorithmic datasets long after "
        "they have overfitted, a phenomenon we call grokking. ",
    ),
    (
        "2 Method",
        "Binary operation tables such as division modulo 97 are split into training and "
        "validation sets; the network must fill in the missing table entries. " * 3,
    ),
]
ICL_HTML = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>In-context Learning and Induction Heads</title>
<meta name="author" content="Catherine Olsson; Nelson Elhage; Neel Nanda">
<meta name="description" content="Induction heads may be the mechanism behind in-context learning.">
</head><body>
<nav class="site-nav"><a href="/">Transformer Circuits Thread</a></nav>
<d-title><h1>In-context Learning and Induction Heads</h1></d-title>
<d-article>
<p>We present evidence that induction heads might constitute the mechanism for the majority of
all in-context learning in large transformer models.</p>
<h2>The phase change</h2>
<p>Induction heads form during a sudden phase change early in training, visible as a bump in the
loss curve after roughly 2.5 to 5 billion tokens, and in-context learning improves at the same
moment.</p>
</d-article>
<footer>Copyright Anthropic.</footer>
</body></html>"""


def make_pdf(title: str, sections: list[tuple[str, str]]) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    for heading, body in sections:
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _entry(aid: str, title: str, authors: list[str], published: str, summary: str) -> str:
    names = "".join(f"<author><name>{a}</name></author>" for a in authors)
    return (
        f"<entry><id>http://arxiv.org/abs/{aid}v1</id><updated>{published}</updated>"
        f"<published>{published}</published><title>{title}</title>"
        f"<summary>  {summary}\n</summary>{names}"
        f'<link href="http://arxiv.org/abs/{aid}v1" rel="alternate" type="text/html"/>'
        f'<link title="pdf" href="http://arxiv.org/pdf/{aid}v1" rel="related" '
        f'type="application/pdf"/></entry>'
    )


def arxiv_atom() -> bytes:
    """What export.arxiv.org/api/query answers for an id_list: entries for the ids it knows."""
    entries = [
        _entry(
            "2301.05217",
            "Progress measures for grokking via mechanistic\n  interpretability",
            ["Neel Nanda", "Lawrence Chan", "Tom Lieberum", "Jess Smith", "Jacob Steinhardt"],
            "2023-01-12T18:57:56Z",
            "Neural networks often exhibit emergent behavior, where qualitatively new\n"
            "capabilities arise from scaling up the amount of parameters.",
        ),
        _entry(
            "2201.02177",
            "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
            ["Alethea Power", "Yuri Burda", "Harri Edwards"],
            "2022-01-06T18:43:37Z",
            "In this paper we propose to study generalization of neural networks on small "
            "algorithmically generated datasets.",
        ),
        _entry(
            "2211.00593",
            "Interpretability in the Wild: a Circuit for Indirect Object "
            "Identification in GPT-2 small",
            ["Kevin Wang", "Alexandre Variengien"],
            "2022-11-01T17:08:44Z",
            "Research in mechanistic interpretability seeks to explain behaviors of machine "
            "learning models in terms of their internal components.",
        ),
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>ArXiv Query</title><id>http://arxiv.org/api/x</id>"
        "<updated>2023-02-03T00:00:00-05:00</updated>" + "".join(entries) + "</feed>"
    ).encode("utf-8")


def serve_papers(srv: FixtureServer) -> None:
    atom = "application/atom+xml; charset=UTF-8"
    srv.add("/api/query", Route(arxiv_atom(), content_type=atom))
    pdf = "application/pdf"
    srv.add(
        "/pdf/2301.05217",
        Route(make_pdf("Progress measures for grokking", GROKKING_SECTIONS), content_type=pdf),
    )
    srv.add("/pdf/2201.02177", Route(make_pdf("Grokking", POWER_SECTIONS), content_type=pdf))
    srv.add("/pdf/2211.00593", Route(b"<html><body>Please wait while we process</body></html>"))
    srv.add("/tc/2022/in-context-learning-and-induction-heads", Route(ICL_HTML))


def ok_routes(hits: list[str]) -> list[str]:
    """Requests for the works that fetch fine (the API, the PDFs served, the article)."""
    served = ("/api/query", "/pdf/2301.05217", "/pdf/2201.02177", "/pdf/2211.00593", "/tc/2022/in")
    return [h for h in hits if h.startswith(served)]


def fetch_env(srv: FixtureServer) -> dict[str, str]:
    """arXiv and transformer-circuits.pub on the local server; every other site the episode's
    works live on sent to ``<host>.invalid``."""
    from ingest.pipeline import build_episode
    from ingest.references import collect_references

    ep = build_episode(str(EP19_FEED), str(EP19_MD), episode=19)
    hosts = sorted(
        {
            urlsplit(r.url).hostname or ""
            for r in collect_references(ep)
            if r.kind in ("article", "post")
        }
        - {"transformer-circuits.pub"}
    )
    mirrors = [f"https://transformer-circuits.pub/={srv.url('/tc/')}"]
    mirrors += [f"https://{h}/=https://{h}.invalid/" for h in hosts]
    return {
        "PODLENS_ARXIV_API": srv.url("/api/query"),
        "PODLENS_ARXIV_PDF": srv.url("/pdf/{id}"),
        "PODLENS_FETCH_MIRRORS": " ".join(mirrors),
        "PODLENS_FETCH_INTERVAL": "0",
    }


class _Terminal(io.StringIO):
    """stderr as a terminal, so the CLI draws its progress bars."""

    def isatty(self) -> bool:
        return True


def run_cli(module_main, argv: list[str], tty: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), (_Terminal() if tty else io.StringIO())
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = module_main(argv)
    return rc, out.getvalue(), err.getvalue()


@dataclass
class Ingested:
    data_dir: Path
    server: FixtureServer
    env: dict[str, str]
    stdout: str
    stderr: str
    hits: list[str]  # what the ingest requested


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    from ingest.__main__ import main

    data_dir = tmp_path_factory.mktemp("papers-e2e")
    with FixtureServer() as srv, pytest.MonkeyPatch.context() as mp:
        serve_papers(srv)
        env = fetch_env(srv)
        for k, v in env.items():
            mp.setenv(k, v)
        rc, out, err = run_cli(main, [*INGEST_ARGS, "--data-dir", str(data_dir)], tty=True)
        assert rc == 0, err
        yield Ingested(data_dir, srv, env, out, err, list(srv.hits))


def _stored_refs(data_dir: Path) -> dict:
    from index.store import IndexStore

    ep = IndexStore(data_dir).load_episode("axrp-19")
    assert ep is not None
    return {r.url: r for r in ep.references}


# -- ingest ------------------------------------------------------------------------------------


def test_ingest_stores_the_grokking_paper_with_metadata_and_its_mention_times(ingested):
    refs = _stored_refs(ingested.data_dir)
    g = refs[GROKKING]
    assert (g.status, g.error) == ("ok", None)
    assert g.title == "Progress measures for grokking via mechanistic interpretability"
    assert g.authors[:2] == ["Neel Nanda", "Lawrence Chan"] and len(g.authors) == 5
    assert g.abstract.startswith("Neural networks often exhibit emergent behavior")
    assert g.published.startswith("2023-01-12")
    chapters = [m.chapter for m in g.mentions]
    assert chapters[0] == "Introduction" and g.mentions[0].start is not None
    grok = [m for m in g.mentions if m.chapter in GROKKING_CHAPTERS]
    assert grok, chapters
    # The grokking part of the episode runs from 2:50:57 to 3:34:16 on the audio clock.
    assert all(2 * 3600 + 50 * 60 + 57 <= m.start < 3 * 3600 + 34 * 60 + 16 for m in grok)


def test_ingest_reads_the_article_and_keeps_metadata_when_a_pdf_is_not_a_pdf(ingested):
    refs = _stored_refs(ingested.data_dir)
    assert refs[POWER].status == "ok" and refs[POWER].authors[0] == "Alethea Power"
    icl = refs[ICL]
    assert icl.status == "ok" and icl.kind == "article"
    assert icl.authors == ["Catherine Olsson", "Nelson Elhage", "Neel Nanda"]
    ioi = refs[IOI]  # metadata from the API, but the "PDF" was an HTML page
    assert ioi.status == "ok" and ioi.authors[0] == "Kevin Wang"
    assert ioi.error.startswith("full text unavailable: not a PDF")


def test_works_on_unreachable_hosts_fail_fast_with_a_reason_and_the_ingest_still_succeeds(
    ingested,
):
    refs = _stored_refs(ingested.data_dir)
    scrub = refs[SCRUBBING]
    assert scrub.status == "failed"
    assert scrub.error == "could not resolve host alignmentforum.org.invalid"
    # arXiv papers the API does not know and the server has no PDF for: a 404, recorded.
    hippos = refs["https://arxiv.org/abs/2212.14052"]
    assert (hippos.status, hippos.error) == ("failed", "HTTP 404")
    works = [r for r in refs.values() if r.kind != "link"]
    assert {r.status for r in works} == {"ok", "failed"}
    assert all(r.error for r in works if r.status == "failed")
    assert all(r.status == "skipped" for r in refs.values() if r.kind == "link")
    assert "references: 38 papers/articles/posts (4 fetched, 34 failed" in ingested.stdout


def test_the_cli_shows_a_progress_bar_for_fetching_papers(ingested):
    bars = ingested.stderr
    assert "fetching papers: 100%" in bars, bars[-2000:]
    assert "embedding:" in bars
    # The papers bar is left on screen: its last frame ends the papers part of the output.
    assert bars.index("fetching papers:") < bars.index("embedding:")


def test_fetching_episode_19s_works_takes_seconds_even_with_unresolvable_hosts(
    ingested, tmp_path, monkeypatch
):
    from ingest.pipeline import add_references, build_episode

    for k, v in ingested.env.items():
        monkeypatch.setenv(k, v)
    ep = build_episode(str(EP19_FEED), str(EP19_MD), episode=19)
    t0 = time.monotonic()
    docs = add_references(ep, tmp_path, fetch=True)  # a fresh cache: everything is requested
    took = time.monotonic() - t0
    assert took < 20, f"fetching took {took:.1f}s"
    assert sorted(d.url for d in docs) == sorted([GROKKING, POWER, IOI, ICL])
    unresolved = [r for r in ep.references if (r.error or "").startswith("could not resolve")]
    assert len(unresolved) == 15


def test_reingest_fetches_nothing_again_from_the_disk_cache(ingested, monkeypatch):
    from ingest.pipeline import add_references, build_episode

    for k, v in ingested.env.items():
        monkeypatch.setenv(k, v)
    served_before = ok_routes(ingested.server.hits)
    assert len(ok_routes(ingested.hits)) == 5  # the first ingest: API once, 3 PDFs, the article
    ep = build_episode(str(EP19_FEED), str(EP19_MD), episode=19)
    docs = add_references(ep, ingested.data_dir, fetch=True)
    assert ok_routes(ingested.server.hits) == served_before
    assert len(docs) == 4
    assert {r.url: r.status for r in ep.references} == {
        u: r.status for u, r in _stored_refs(ingested.data_dir).items()
    }


def test_dry_run_json_lists_references_with_mentions_and_fetches_nothing(ingested, monkeypatch):
    from ingest.__main__ import main

    for k, v in ingested.env.items():
        monkeypatch.setenv(k, v)
    for extra in ([], ["--no-papers"]):
        hits = len(ingested.server.hits)
        rc, out, err = run_cli(main, [*INGEST_ARGS, "--dry-run", "--json", *extra])
        assert rc == 0, err
        assert len(ingested.server.hits) == hits, extra
        refs = {r["url"]: r for r in json.loads(out)["references"]}
        g = refs[GROKKING]
        assert {"url", "title", "kind", "mentions"} <= set(g)
        assert g["kind"] == "arxiv" and g["title"].startswith("Progress measures for grokking")
        assert g["mentions"][0]["chapter"] == "Introduction"
        assert all({"start", "chapter"} <= set(m) for m in g["mentions"])
        assert refs[ICL]["kind"] == "article" and refs[SCRUBBING]["kind"] == "post"
        assert {r["kind"] for r in refs.values()} == {"arxiv", "article", "post", "link"}
        assert len(refs) == len(json.loads(out)["references"])  # one entry per work


# -- search ------------------------------------------------------------------------------------


def test_searching_papers_answers_from_the_pdfs_section(ingested):
    from index.search import Searcher

    results = Searcher(ingested.data_dir).search(QUESTION, k=5, kinds=("paper",))
    assert results and all(r.kind == "paper" for r in results)
    top = results[0]
    assert top.url == GROKKING
    assert top.title == "Progress measures for grokking via mechanistic interpretability"
    assert top.chapter == "4 Three phases of training"
    assert "epoch 9400" in top.text
    assert top.start is None and top.end is None
    assert top.episode == "axrp-19"


def test_search_cli_json_carries_the_paper_fields(ingested):
    from index.__main__ import main

    rc, out, err = run_cli(
        main,
        [
            "search",
            QUESTION,
            "--kinds",
            "paper",
            "--json",
            "-k",
            "3",
            "--data-dir",
            str(ingested.data_dir),
        ],
    )
    assert rc == 0, err
    rows = json.loads(out)
    assert rows and all(r["kind"] == "paper" for r in rows)
    top = rows[0]
    assert RESULT_FIELDS | {"title", "url"} <= set(top)
    assert top["url"] == GROKKING and top["title"].startswith("Progress measures for grokking")
    assert top["start"] is None and top["end"] is None
    assert top["link"].startswith("/?episode=axrp-19")


# -- the app -----------------------------------------------------------------------------------


def _app(monkeypatch, data_dir: Path, **params) -> AppTest:
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _app(monkeypatch, data_dir: Path, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    return at


def _work_index(data_dir: Path, url: str) -> int:
    works = [u for u, r in _stored_refs(data_dir).items() if r.kind != "link"]
    return works.index(url)


def test_papers_panel_shows_title_authors_abstract_link_and_mention_chips(ingested, monkeypatch):
    at = _app(monkeypatch, ingested.data_dir, "app_pages/episode.py", episode="axrp-19", t="10")
    at.run()
    assert not at.exception
    panel = next(t for t in at.tabs if t.label == "Writings we discuss")
    text = " ".join(m.value for m in panel.markdown)
    assert (
        ":violet-badge[arXiv paper] **[Progress measures for grokking via mechanistic "
        f"interpretability]({GROKKING})**" in text
    )
    captions = " ".join(c.value for c in panel.caption)
    assert "Neel Nanda, Lawrence Chan, Tom Lieberum, Jess Smith, Jacob Steinhardt" in captions
    assert "38 works discussed · 4 fetched" in captions
    assert "Neural networks often exhibit emergent behavior" in text  # the abstract
    assert any(e.label == "Abstract" for e in panel.expander)

    wi = _work_index(ingested.data_dir, GROKKING)
    chips = [b for b in panel.button if b.key.startswith(f"pl_ref_{wi}_")]
    g = _stored_refs(ingested.data_dir)[GROKKING]
    expected = sorted({round(m.start) for m in g.mentions})
    assert [int(b.key.rsplit("_", 1)[1]) for b in chips] == expected[:12]
    # Labels and tooltips are escaped Markdown (the chapter title comes from the feed).
    assert chips[0].label == md_text("0:00") and "Introduction" in chips[0].help
    # Play from the mention in the grokking part of the episode.
    grok = next(b for b in chips if any(c in b.help for c in GROKKING_CHAPTERS))
    t = int(grok.key.rsplit("_", 1)[1])
    at.button(key=grok.key).click().run()
    assert not at.exception
    assert at.query_params["episode"] == "axrp-19" and int(at.query_params["t"]) == t
    audio = at.get("audio")[0].proto
    assert audio.start_time == t and audio.autoplay


def test_a_work_that_could_not_be_fetched_is_a_plain_link_with_the_reason(ingested, monkeypatch):
    at = _app(monkeypatch, ingested.data_dir, "app_pages/episode.py", episode="axrp-19")
    at.run()
    assert not at.exception
    panel = next(t for t in at.tabs if t.label == "Writings we discuss")
    card = next(m for m in panel.markdown if f"]({SCRUBBING})" in m.value)
    assert card.value.startswith(":gray-badge[Post] [Causal Scrubbing]") and "**" not in card.value
    assert "could not resolve host alignmentforum" in card.help
    assert any(
        "Couldn't fetch (could not resolve host alignmentforum" in c.value for c in panel.caption
    )
    # Plain links that are not works are listed too, not fetched.
    assert any(e.label.startswith("Other links (") for e in panel.expander)


def test_search_with_the_papers_filter_shows_labelled_paper_passages(ingested, monkeypatch):
    at = _app(monkeypatch, ingested.data_dir, q=QUESTION, **{"in": "papers"})
    at.run()
    assert not at.exception
    cards = [m.value for m in at.markdown if "Paper]" in m.value or "Episode]" in m.value]
    assert cards and all(c.startswith(":violet-badge[:material/description: Paper]") for c in cards)
    assert (
        f"[Progress measures for grokking via mechanistic interpretability]({GROKKING})"
        in (cards[0])
    )
    assert "4 Three phases of training" in [c.value for c in at.caption]
    assert "epoch 9400" in "\n".join(h.proto.body for h in at.get("html"))
    # A paper passage offers the moment the episode first discusses the paper.
    play = at.button(key="pl_play_0")
    assert play.label.startswith(md_text("Where the episode discusses it ("))
    play.click().run()
    assert not at.exception
    assert at.query_params["episode"] == "axrp-19" and "t" in at.query_params


# -- configuration ----------------------------------------------------------------------------


def test_fetch_settings_come_from_the_environment_and_mirrors_take_the_longest_prefix():
    from ingest.papers import PapersConfig
    from podlens.config import Settings

    cfg = PapersConfig.from_settings(
        Settings.from_env(
            {
                "PODLENS_ARXIV_API": "http://127.0.0.1:9/api",
                "PODLENS_ARXIV_PDF": "http://127.0.0.1:9/pdf/{id}.pdf",
                "PODLENS_FETCH_MIRRORS": "https://a.org/=http://m/a/  https://a.org/x/=http://m/x/",
                "PODLENS_FETCH_INTERVAL": "0.25",
            }
        )
    )
    assert (cfg.arxiv_api, cfg.arxiv_pdf) == (
        "http://127.0.0.1:9/api",
        "http://127.0.0.1:9/pdf/{id}.pdf",
    )
    assert cfg.http.min_interval == 0.25
    assert cfg.http.resolve("https://a.org/x/1") == "http://m/x/1"
    assert cfg.http.resolve("https://a.org/y") == "http://m/a/y"
    assert cfg.http.resolve("https://b.org/y") == "https://b.org/y"
    assert Settings.from_env({}) == Settings()
    assert PapersConfig.from_settings(Settings.from_env({})) == PapersConfig()


@pytest.mark.parametrize(
    "name,value",
    [
        ("PODLENS_ARXIV_PDF", "http://127.0.0.1:9/pdf/"),
        ("PODLENS_FETCH_MIRRORS", "https://a.org/"),
        ("PODLENS_FETCH_INTERVAL", "-1"),
        ("PODLENS_FETCH_INTERVAL", "soon"),
    ],
)
def test_a_malformed_fetch_setting_is_a_one_line_error_before_anything_is_written(
    name, value, monkeypatch, tmp_path
):
    from ingest.__main__ import main

    monkeypatch.setenv(name, value)
    rc, out, err = run_cli(main, [*INGEST_ARGS, "--data-dir", str(tmp_path / "d")])
    assert rc == 2 and out == ""
    assert err.startswith("ingest: error: " + name) and err.count("\n") == 1
    assert not (tmp_path / "d").exists()
