"""Exports parse back, are deterministic and idempotent; Notion push paces and chunks."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
import yaml

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
