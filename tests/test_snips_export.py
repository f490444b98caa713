"""Exports parse back, are deterministic and idempotent; Notion push paces and chunks."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from podlens.errors import PodlensError
from snips.export import (
    BEGIN,
    END,
    FORMATS,
    READWISE_COLUMNS,
    READWISE_MAX_HIGHLIGHT,
    NotionClient,
    export,
    export_file,
    json_export,
    notion_markdown,
    obsidian_markdown,
    push_notion,
    readwise_csv,
)
from snips.store import Snip, SnipStore
from tests.support.httpserver import Route
from tests.support.snips_data import AWKWARD_QUOTE, awkward_snip

BASE = "http://podlens.test"


def _front_matter(text: str) -> dict:
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert m, text[:200]
    return yaml.safe_load(m.group(1))


@pytest.fixture
def snips():
    return [
        awkward_snip(start=3725.0),
        awkward_snip(start=65.5, favourite=False, note="", tags=[]),
        awkward_snip(episode="ep-2", start=10, episode_title="Other 🎧 episode"),
    ]


def test_readwise_csv_has_exact_columns_and_parses_back_with_awkward_text(snips):
    text = readwise_csv(snips, BASE)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == READWISE_COLUMNS
    assert READWISE_COLUMNS == ["Highlight", "Title", "Author", "URL", "Note", "Location", "Date"]
    assert [r["Location"] for r in rows] == ["65", "3725", "10"]  # seconds, ordered
    first = rows[0]
    assert first["Highlight"].startswith('He said "quotes, commas" and then,\nnewlines too')
    assert "🎧🚀" in first["Highlight"]
    assert len(first["Highlight"]) == READWISE_MAX_HIGHLIGHT  # very long quote capped
    assert first["Title"] == 'Ep: "One", the #1/best' and first["Author"] == "Pod, Inc."
    assert first["URL"] == f"{BASE}/?episode=ep-1&t=65"
    assert first["Date"] == "2024-05-01 10:00:00"
    fav = rows[1]
    assert 'My note, with "quotes"\nand a second line 🎉' in fav["Note"]
    assert '• Commas, "quotes"; and 🎧 emoji.' in fav["Note"]
    assert fav["Note"].endswith(".ai-safety .optimizers")


def test_obsidian_note_has_yaml_front_matter_and_one_heading_per_snip(snips):
    text = obsidian_markdown([s for s in snips if s.episode == "ep-1"], BASE)
    fm = _front_matter(text)
    assert fm["title"] == 'Ep: "One", the #1/best'
    assert fm["podcast"] == "Pod, Inc." and fm["episode"] == "ep-1" and fm["snips"] == 2
    assert fm["tags"] == ["ai safety", "optimizers", "podcast"]
    heads = re.findall(r"^### \[(.+?)\] (.+)$", text, re.M)
    assert heads == [("1:05", 'Is "This" Weird, Really? Yes'), ("1:02:05", heads[1][1])]
    assert '> He said "quotes, commas" and then,\n> newlines too' in text
    assert '- Commas, "quotes"; and 🎧 emoji.' in text
    assert '**Note:** My note, with "quotes"  \nand a second line 🎉' in text
    assert f"[Open in Podlens]({BASE}/?episode=ep-1&t=3725)" in text
    assert '<audio controls src="https://example.org/a.mp3?x=1#t=3725,3785.0"' not in text
    assert 'src="https://example.org/a.mp3?x=1#t=3725,3785"' in text


def test_obsidian_reexport_updates_in_place_without_duplicates_and_keeps_user_text(tmp_path, snips):
    out = tmp_path / "vault"
    res = export(snips, "obsidian", out, BASE)
    assert len(res.paths) == 2
    path = next(p for p in res.paths if "best" in p.name)
    assert path.parent.name == "Pod, Inc"  # no trailing dot (Windows)
    first = path.read_bytes()
    assert export(snips, "obsidian", out, BASE).paths == res.paths
    assert path.read_bytes() == first  # idempotent: identical bytes

    # The user adds a property and their own notes below the block in Obsidian.
    text = path.read_text().replace("type: podcast-episode", "type: podcast-episode\nrating: 5")
    path.write_text(text + "\n## My thoughts\nKeep this.\n")
    edited = Snip.from_dict({**snips[0].to_dict(), "title": "Renamed"})
    export([edited, *snips[1:]], "obsidian", out, BASE)
    new = path.read_text()
    assert new.count(f"<!-- snip:{snips[0].id} -->") == 1
    assert "Renamed" in new and 'Is "This" Weird, Really? Yes\n<!-- snip:' in new
    assert new.count(BEGIN) == 1 and new.count(END) == 1
    assert new.endswith("## My thoughts\nKeep this.\n")
    assert _front_matter(new)["rating"] == 5
    assert len(list(out.rglob("*.md"))) == 2


def test_notion_markdown_uses_only_h1_to_h3(snips):
    text = notion_markdown([s for s in snips if s.episode == "ep-1"], BASE)
    levels = {len(m) for m in re.findall(r"^(#+) ", text, re.M)}
    assert levels == {1, 2, 3}
    assert "<audio" not in text
    data = export_file("notion", snips, BASE).data
    assert data == export_file("notion", list(reversed(snips)), BASE).data  # deterministic bytes
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["Ep One , the 1 best.md", "Other 🎧 episode.md"]
    same_title = [awkward_snip(), awkward_snip(episode="ep-2")]
    names = zipfile.ZipFile(io.BytesIO(export_file("notion", same_title).data)).namelist()
    assert names == ["Ep One , the 1 best (ep-1).md", "Ep One , the 1 best (ep-2).md"]


def test_json_export_round_trips_every_field(snips):
    data = json.loads(json_export(snips))
    back = [Snip.from_dict(d) for d in data["snips"]]
    assert sorted(back, key=lambda s: s.id) == sorted(snips, key=lambda s: s.id)
    assert json_export(snips) == json_export(list(reversed(snips)))


def test_export_files_are_identical_on_reexport(tmp_path, snips):
    store = SnipStore(tmp_path / "d")
    for s in snips:
        store.save(s)
    for fmt, name in [("readwise", "r.csv"), ("json", "s.json"), ("notion", "n.zip")]:
        p = tmp_path / name
        export(store.list(), fmt, p, BASE)
        once = p.read_bytes()
        export(store.list(), fmt, p, BASE)
        assert p.read_bytes() == once
    with pytest.raises(PodlensError, match="no snips"):
        export([], "json", tmp_path / "x.json")
    with pytest.raises(PodlensError, match=r"\.zip"):
        export(snips, "notion", tmp_path / "x.md")


def test_each_format_is_one_download_named_like_the_cli_default(tmp_path, snips, monkeypatch):
    one = [s for s in snips if s.episode == "ep-1"]
    files = {name: export_file(name, one, BASE) for name in FORMATS}
    assert {name: (f.name, f.mime) for name, f in files.items()} == {
        "obsidian": ("Ep One , the 1 best.md", "text/markdown"),  # the note is the episode
        "readwise": ("snips-readwise.csv", "text/csv"),
        "notion": ("snips-notion.md", "text/markdown"),
        "json": ("snips.json", "application/json"),
    }
    assert files["obsidian"].data.decode() == obsidian_markdown(one, BASE)
    vault = export_file("obsidian", snips, BASE)  # several episodes: a zip, as the CLI's folder
    assert (vault.name, vault.mime) == ("snips-obsidian.zip", "application/zip")
    assert zipfile.ZipFile(io.BytesIO(vault.data)).namelist() == [
        "Pod, Inc/Ep One , the 1 best.md",
        "Pod, Inc/Other 🎧 episode.md",
    ]
    monkeypatch.chdir(tmp_path)
    for name in ("readwise", "notion", "json"):
        (path,) = export(snips, name, None, BASE).paths
        assert path.read_bytes() == export_file(name, snips, BASE).data
    assert export(snips, "obsidian", None, BASE).paths[0].parts[0] == "snips-obsidian"


def _notion_api(http_server):
    pages: dict[str, dict] = {}
    archived: list[str] = []
    appended: dict[str, int] = {}

    def create(req):
        body = req.json()
        pid = f"page-{len(pages) + 1}"
        pages[pid] = body
        return 200, json.dumps({"object": "page", "id": pid}).encode()

    def patch(req):
        body = req.json()
        pid = req.path.split("/")[-1] if "/pages/" in req.path else req.path.split("/")[-2]
        if "/pages/" in req.path:
            archived.append(pid) if body.get("archived") else None
        else:
            appended[pid] = appended.get(pid, 0) + len(body["children"])
        return 200, b"{}"

    http_server.add("/v1/pages", Route(handler=create, content_type="application/json"))
    http_server.add("/v1/pages/", Route(handler=patch, content_type="application/json"))
    http_server.add("/v1/blocks/", Route(handler=patch, content_type="application/json"))
    return pages, archived, appended


def test_notion_push_chunks_blocks_and_text_paces_requests_and_replaces_on_repush(
    http_server, tmp_path
):
    pages, archived, appended = _notion_api(http_server)
    many = [awkward_snip(start=float(i * 100)) for i in range(30)]  # ~8 blocks each
    waits: list[float] = []
    client = NotionClient("secret", http_server.url("/v1"), sleep=waits.append)
    result = push_notion(many, "secret", "parent-1", tmp_path, BASE, client=client)
    assert result == {"ep-1": "page-1"}
    body = pages["page-1"]
    assert body["parent"] == {"page_id": "parent-1"}
    assert len(body["children"]) == 100
    assert appended["page-1"] > 100  # the rest went in further requests of <= 100
    posts = [r for r in http_server.requests if r.path.startswith("/v1/blocks/")]
    assert all(len(r.json()["children"]) <= 100 for r in posts)
    texts = [
        rt["text"]["content"]
        for r in http_server.requests
        for b in r.json().get("children", [])
        for rt in b[b["type"]]["rich_text"]
    ]
    assert max(len(t) for t in texts) == 2000
    assert "".join(texts).count("Very long.") >= 900 * 30 - 30  # nothing lost in splitting
    assert all(r.headers["Authorization"] == "Bearer secret" for r in http_server.requests)
    assert all(r.headers["Notion-Version"] for r in http_server.requests)
    assert sum(waits) > 0  # paced to ~3 requests per second

    push_notion(many, "secret", "parent-1", tmp_path, BASE, client=client)
    assert archived == ["page-1"]  # the old page is archived, not duplicated
    assert json.loads((tmp_path / "notion_pages.json").read_text()) == {"ep-1": "page-2"}


def test_notion_push_reports_api_errors_in_one_line(http_server, tmp_path):
    http_server.add(
        "/v1/pages",
        Route(
            body=b'{"message": "API token is invalid."}',
            status=401,
            content_type="application/json",
        ),
    )
    client = NotionClient("bad", http_server.url("/v1"), sleep=lambda s: None)
    with pytest.raises(PodlensError, match="HTTP 401: API token is invalid"):
        push_notion([awkward_snip()], "bad", "p", tmp_path, client=client)


def test_awkward_quote_fixture_is_awkward():
    assert len(AWKWARD_QUOTE) > READWISE_MAX_HIGHLIGHT and "\n" in AWKWARD_QUOTE


# --------------------------------------------------------------------------- hostile snip text

HOSTILE = (
    "[md link](javascript:alert(1)) **bold** ![img](http://host/beacon.png) <b>tag</b> "
    "<!-- podlens:end --> <img src=x onerror=alert(2)> [[Wiki]] #tag ==mark== $x^2$"
)


def _hostile_snip(**kw) -> Snip:
    base = dict(
        title=HOSTILE,
        quote="- a list?\n1. a numbered one\n" + HOSTILE,
        takeaways=[HOSTILE],
        note=HOSTILE + "\n" + END,
        speaker=HOSTILE,
        chapter=HOSTILE,
        episode_title=HOSTILE,
        podcast="Pod",
        audio_url='https://host/a.mp3?x="><script>alert(3)</script>',
    )
    base.update(kw)
    return awkward_snip(**base)


def _html_of(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).render(markdown)


@pytest.mark.parametrize("fmt", ["obsidian", "notion"])
def test_markdown_exports_show_feed_and_user_text_as_text(fmt):
    text = FORMATS[fmt].render([_hostile_snip()], BASE)
    if fmt == "obsidian":  # the front matter is YAML data (properties), shown as text
        assert "title: '[md link]" in text.split("---\n")[1]
        text = text.split("---\n", 2)[2]
    for raw in ("![img](http", "[md link](javascript:", "<b>tag</b>", "<img src=x", "[[Wiki]]"):
        assert raw not in text, raw
    out = _html_of(text)
    for tag in ("<img", "<b>", "<strong>bold", "<mark", "<ol", "<script"):
        assert tag not in out, tag
    assert not re.search(r'href="(?!https?://)', out)  # every link is http(s)
    # Our own link and the escaped text are all that's left: the text reads back the same.
    assert out.count("<a href=") == 2  # Open in Podlens, Audio
    assert "[md link](javascript:alert(1)) **bold** ![img](http://host/beacon.png)" in (
        html_unescape(re.sub(r"<[^>]+>", "", out))
    )
    assert out.count("<ul>") <= 1  # only the takeaways: the quote's "- " / "1." stay text


def html_unescape(s: str) -> str:
    import html

    return html.unescape(s)


def test_obsidian_audio_player_only_for_http_and_its_url_cannot_leave_the_attribute():
    text = obsidian_markdown([_hostile_snip()], BASE)
    (tag,) = re.findall(r"<audio[^\n]*</audio>", text)
    assert tag.startswith('<audio controls src="https://host/a.mp3?x=&quot;&gt;&lt;script&gt;')
    assert "<script>" not in text
    js = awkward_snip(audio_url="javascript:alert(1)//x.mp3")
    text = obsidian_markdown([js], BASE)
    assert "<audio" not in text and "javascript:" not in text and "[Audio" not in text
    assert _front_matter(text)["audio"] == ""
    notion = notion_markdown([js], BASE)
    assert "javascript:" not in notion and "[Audio]" not in notion


def test_links_are_http_only_even_when_the_base_url_is_not():
    text = obsidian_markdown([awkward_snip()], "javascript:alert(1)")
    assert "javascript:" not in text and "](javascript" not in notion_markdown([awkward_snip()])
    assert "Open in Podlens" in text  # the label stays, as text


def test_obsidian_reexport_is_byte_identical_when_snip_text_forges_the_end_marker(tmp_path):
    snip = _hostile_snip(title=f"Title {END} more", note=f"{BEGIN}\n{END}\nafter")
    out = tmp_path / "vault"
    sizes = []
    for _ in range(3):
        (path,) = export([snip], "obsidian", out, BASE).paths
        sizes.append(path.read_bytes())
    assert sizes[0] == sizes[1] == sizes[2]
    body = sizes[0].decode().split("---\n", 2)[2]  # (the front matter is YAML data)
    assert body.count(BEGIN) == 1 and body.count(END) == 1


def test_a_user_tail_survives_a_forged_marker_in_the_episode_title(tmp_path):
    snip = _hostile_snip(episode_title=f"{END} evil")
    out = tmp_path / "vault"
    (path,) = export([snip], "obsidian", out, BASE).paths
    path.write_text(path.read_text() + "\nMy own notes.\n")
    for _ in range(2):
        export([snip], "obsidian", out, BASE)
    text = path.read_text()
    assert text.count("My own notes.") == 1 and text.split("---\n", 2)[2].count(END) == 1


def test_an_episode_id_with_dots_and_slashes_stays_inside_the_obsidian_folder(tmp_path):
    snip = awkward_snip(episode="../../e3", episode_title="", podcast="../..")
    out = tmp_path / "a" / "vault"
    (path,) = export([snip], "obsidian", out, BASE).paths
    assert path.resolve().is_relative_to(out.resolve())
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.md")] == ["Podcasts/e3.md"]
    assert not list((tmp_path).glob("*.md")) and not (tmp_path / "e3.md").exists()


def test_an_episode_id_with_dots_and_slashes_makes_no_escaping_zip_member():
    snips = [
        awkward_snip(episode="../../e3", episode_title=""),
        awkward_snip(episode="/etc/e4", episode_title=""),
        awkward_snip(episode="..", episode_title="", podcast=".."),
    ]
    for fmt in ("notion", "obsidian"):
        names = zipfile.ZipFile(io.BytesIO(export_file(fmt, snips, BASE).data)).namelist()
        assert all(".." not in n.split("/") and not n.startswith("/") for n in names), names
        assert len(names) == 3


def test_zip_refuses_a_member_outside_the_archive():
    from snips.export import zip_files

    for bad in ("../../e3.md", "/abs.md", "a/../../b.md"):
        with pytest.raises(PodlensError, match="outside the export"):
            zip_files({bad: "x"})


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_readwise_cells_that_start_a_formula_are_prefixed_with_a_quote(start):
    cell = f'{start}HYPERLINK("http://evil","x")'
    snip = awkward_snip(
        title=cell, note=cell, quote=cell.strip() + " quote", podcast=cell, episode_title=cell
    )
    rows = list(csv.reader(io.StringIO(readwise_csv([snip], BASE))))
    data = dict(zip(rows[0], rows[1], strict=True))
    for column in ("Highlight", "Title", "Author", "Note"):
        assert data[column][:1] == "'" or data[column][:1] not in "=+-@\t\r", (column, data)
    if start.strip():  # the quote and one-line fields keep a visible sign
        assert data["Highlight"] == "'" + cell + " quote"
        assert data["Title"] == "'" + cell and data["Author"] == "'" + cell
        assert data["Note"].startswith("'" + cell)


def _unprefix(cell: str) -> str:
    """What a reader does to get the text back: one ``'`` off a prefixed cell."""
    return (
        cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r", "'") else cell
    )


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("=+-@'\t ab,\"\n"), min_size=1, max_size=12))
def test_readwise_gets_the_text_back_after_stripping_the_formula_prefix(text):
    from snips.export import _csv_cell

    text = text.strip() or "x"
    snip = awkward_snip(quote=text, title="t", note="", takeaways=[], tags=[], podcast=text)
    rows = list(csv.DictReader(io.StringIO(readwise_csv([snip], BASE))))
    assert _unprefix(rows[0]["Highlight"]) == text
    assert _unprefix(rows[0]["Author"]) == " ".join(text.split())
    assert _unprefix(_csv_cell(text)) == text
    assert _csv_cell(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")
