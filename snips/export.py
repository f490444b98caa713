"""Exports of the snip library: Obsidian, Readwise CSV, Notion (Markdown or API), JSON.

The formats are one table, :data:`FORMATS` (renderer, file name, MIME type), read by the CLI
and the app's download buttons alike.  Every export is a pure function of the snips (sorted by
episode, start, end, id), so exporting the same library twice writes identical bytes.  Obsidian
files are updated in place: the snips live between ``<!-- podlens:begin -->`` and
``<!-- podlens:end -->`` and are rewritten as a whole (keyed by the stable snip ids, so nothing
is duplicated), while anything the user wrote after the block and any front-matter properties
they added are kept.

Snip text comes from feeds, transcripts and users, so it is escaped wherever it lands: Markdown
and HTML syntax in Obsidian/Notion notes (``podlens.markup.md_escape``: no links, images, tags,
HTML or comments, so nothing can forge the ``podlens:`` markers), spreadsheet formulas in the
Readwise CSV (OWASP: a cell starting ``= + - @``, tab or CR gets a leading ``'``).  Links are
http(s) only, and every file an export writes stays inside its folder or zip.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from podlens.atomic import atomic_write_bytes, atomic_write_text
from podlens.config import settings
from podlens.errors import PodlensError
from podlens.http import FetchError, HttpClient, HttpConfig
from podlens.markup import html_escape, md_escape, md_link, md_url, safe_url
from podlens.timecode import fmt_time
from snips.share import audio_link, fmt_seconds, snip_deep_link
from snips.store import Snip

READWISE_COLUMNS = ["Highlight", "Title", "Author", "URL", "Note", "Location", "Date"]
READWISE_MAX_HIGHLIGHT = 8191  # Readwise's limit on a highlight's text
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what starts a formula
BEGIN = "<!-- podlens:begin -->"
END = "<!-- podlens:end -->"


def ordered(snips: Iterable[Snip]) -> list[Snip]:
    return sorted(snips, key=lambda s: (s.episode, s.start, s.end, s.id))


def by_episode(snips: Iterable[Snip]) -> dict[str, list[Snip]]:
    groups: dict[str, list[Snip]] = {}
    for s in ordered(snips):
        groups.setdefault(s.episode, []).append(s)
    return groups


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


_WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM\d|LPT\d)(\..*)?", re.I)


def _clean_name(name: str) -> str:
    # Control characters too: a name is one line of printable text.
    name = re.sub(r'[\x00-\x1f\x7f\\/:*?"<>|#^\[\]%]+', " ", _one_line(name))
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = name[:120].rstrip(" .")
    return "" if _WINDOWS_RESERVED.fullmatch(name) else name


def safe_filename(name: str, fallback: str = "episode") -> str:
    """A file name every OS and Obsidian accept: no ``\\/:*?"<>|#^[]%``, no leading dot, no
    ``..`` and no Windows device name. The ``fallback`` (often an episode id, which is not ours
    either) is cleaned the same way, so no name can climb out of the export's folder."""
    return _clean_name(name) or _clean_name(fallback) or "episode"


def _confined(root: Path, rel: str) -> Path:
    """``root / rel``, refusing a path that would land outside ``root``."""
    path = root / rel
    base = root.resolve()
    if PurePosixPath(rel).is_absolute() or ".." in PurePosixPath(rel).parts:
        raise PodlensError(f"refusing to write {rel!r}: outside the export folder {root}")
    if not path.resolve().is_relative_to(base):
        raise PodlensError(f"refusing to write {rel!r}: outside the export folder {root}")
    return path


def _text(text: str) -> str:
    """One line of feed or user text as inert Markdown."""
    return md_escape(_one_line(text))


def _csv_cell(value: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula: OWASP's rule, a leading ``'`` on a cell
    that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return. Readwise and any
    CSV reader still get the text: strip one leading ``'`` from a cell whose rest starts with
    one of those or with ``'`` (a cell that began with ``'`` is prefixed too, so reading back is
    exact)."""
    return "'" + value if value[:1] in (*FORMULA_START, "'") else value


def _blockquote(text: str) -> str:
    lines = (text or "").strip().splitlines() or [""]
    return "\n".join(f"> {md_escape(line.strip())}".rstrip() for line in lines)


def _audio_html(url: str) -> str:
    """The player Obsidian shows for a snip: only for an http(s) URL, attribute-escaped."""
    return f'<audio controls src="{html_escape(url)}"></audio>'


def _id(snip_id: str) -> str:
    """A snip id as it appears inside the export's HTML comments (ids are ours, but a snip made
    through the Python API could carry anything)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", snip_id) or "snip"


def _tag_word(tag: str) -> str:
    """A tag as one word (Obsidian's ``#tag``, Readwise's ``.tag``)."""
    return re.sub(r"[^\w/-]+", "-", tag).strip("-") or "tag"


def _heading_time(s: Snip) -> str:
    return fmt_time(s.start)


# --------------------------------------------------------------------------- Obsidian


def _front_matter(snips: list[Snip], base_url: str | None) -> dict[str, Any]:
    first = snips[0]
    tags = sorted({"podcast", *(t for s in snips for t in s.tags)})
    return {
        "title": _one_line(first.episode_title) or first.episode,
        "podcast": _one_line(first.podcast),
        "episode": first.episode,
        "url": _property_url(snip_deep_link(first, base_url)).split("&t=")[0],
        "audio": _property_url(first.audio_url),
        "snips": len(snips),
        "favourites": sum(1 for s in snips if s.favourite),
        "updated": max(s.updated for s in snips) if snips else "",
        "tags": tags,
        "type": "podcast-episode",
    }


def _property_url(url: str | None) -> str:
    """An http(s) URL for a front-matter property (Obsidian makes it a link), encoded like a
    Markdown link target; anything else is left out."""
    good = safe_url(url)
    return md_url(good) if good else ""


def _audio(s: Snip) -> str | None:
    """The snip's audio moment, when the enclosure is an http(s) URL."""
    return safe_url(audio_link(safe_url(s.audio_url), s.start, s.end))


def obsidian_snip(s: Snip, base_url: str | None = None) -> str:
    heading = f"### [{_heading_time(s)}] {_text(s.title) or 'Snip'}"
    lines = [heading, f"<!-- snip:{_id(s.id)} -->"]
    lines.append(_blockquote(s.quote))
    who = " · ".join(x for x in (_text(s.speaker), _text(s.chapter)) if x)
    if who:
        lines.append(f"> — {who}")
    lines.append("")
    if s.takeaways:
        lines.append("**Key takeaways**")
        lines.extend(f"- {_text(t)}" for t in s.takeaways)
        lines.append("")
    if s.note.strip():
        note = "  \n".join(md_escape(line.strip()) for line in s.note.strip().splitlines())
        lines.append("**Note:** " + note)
        lines.append("")
    meta = [md_link("Open in Podlens", snip_deep_link(s, base_url))]
    audio = _audio(s)
    if audio:
        meta.append(md_link(f"Audio {fmt_time(s.start)}–{fmt_time(s.end)}", audio))
    if s.favourite:
        meta.append("⭐ favourite")
    if s.tags:
        meta.append(" ".join("#" + _tag_word(t) for t in s.tags))
    lines.append(" · ".join(meta))
    if audio:
        lines += ["", _audio_html(audio)]
    return "\n".join(lines) + "\n"


def obsidian_markdown(
    snips: list[Snip], base_url: str | None = None, existing: str | None = None
) -> str:
    """One episode's Markdown note; ``existing`` (the file's current text) is updated in place.

    The snips' own text is escaped, so the only ``BEGIN``/``END`` markers in the note are the
    ones written here: the first ``END`` after the first ``BEGIN`` closes the block."""
    snips = ordered(snips)
    if not snips:
        raise PodlensError("no snips to export")
    fm = _front_matter(snips, base_url)
    user_tail = ""
    if existing:
        old_fm, body = _split_front_matter(existing)
        for k, v in old_fm.items():  # properties the user added in Obsidian survive
            fm.setdefault(k, v)
        begin = body.find(BEGIN)
        end = body.find(END, begin if begin >= 0 else 0)
        if end >= 0:
            user_tail = body[end + len(END) :].lstrip("\n")
    head = yaml.safe_dump(fm, allow_unicode=True, sort_keys=False, width=10_000)
    body = [f"# {_text(snips[0].episode_title) or md_escape(snips[0].episode)}", "", BEGIN, ""]
    for s in snips:
        body += [obsidian_snip(s, base_url)]
    body.append(END)
    text = f"---\n{head}---\n\n" + "\n".join(body) + "\n"
    if user_tail:
        text += "\n" + user_tail
    return text


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    m = re.match(r"---\n(.*?)\n---\n?(.*)\Z", text, re.S)
    if not m:
        return {}, text
    try:
        fm = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError:
        fm = {}
    return (fm if isinstance(fm, dict) else {}), m.group(2)


def episode_filenames(groups: dict[str, list[Snip]], suffix: str = ".md") -> dict[str, str]:
    """``{episode id: "<Podcast>/<Episode title>.md"}``; the id is added where titles collide."""
    names: dict[str, str] = {}
    for episode, ep_snips in groups.items():
        first = ep_snips[0]
        names[episode] = (
            f"{safe_filename(first.podcast, 'Podcasts')}/"
            f"{safe_filename(first.episode_title, first.episode)}"
        )
    counts: dict[str, int] = {}
    for n in names.values():
        counts[n.lower()] = counts.get(n.lower(), 0) + 1
    return {
        ep: (f"{n} ({safe_filename(ep)})" if counts[n.lower()] > 1 else n) + suffix
        for ep, n in names.items()
    }


# --------------------------------------------------------------------------- Readwise


def readwise_note(s: Snip) -> str:
    """The Note column: title, takeaways, the user's note; tags as Readwise's ``.tag`` syntax."""
    parts = [_one_line(s.title)]
    parts += [f"• {_one_line(t)}" for t in s.takeaways]
    if s.note.strip():
        parts.append(s.note.strip())
    if s.tags:
        parts.append(" ".join("." + _tag_word(t) for t in s.tags))
    return "\n".join(p for p in parts if p)


def readwise_csv(snips: Iterable[Snip], base_url: str | None = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(READWISE_COLUMNS)
    for s in ordered(snips):
        quote = s.quote.strip()
        if len(quote) > READWISE_MAX_HIGHLIGHT:
            quote = quote[: READWISE_MAX_HIGHLIGHT - 1].rstrip() + "…"
        row = [
            quote,
            _one_line(s.episode_title) or s.episode,
            _one_line(s.podcast),
            snip_deep_link(s, base_url),
            readwise_note(s),
            str(int(s.start)),
            s.created.replace("T", " ").rstrip("Z"),
        ]
        w.writerow([_csv_cell(cell) for cell in row])
    return buf.getvalue()


# --------------------------------------------------------------------------- Notion


def notion_markdown(snips: list[Snip], base_url: str | None = None) -> str:
    """One episode as Markdown that Notion's importer keeps whole: headings H1-H3 only."""
    snips = ordered(snips)
    if not snips:
        raise PodlensError("no snips to export")
    first = snips[0]
    out = [f"# {_text(first.episode_title) or md_escape(first.episode)}", ""]
    if first.podcast:
        out += [f"Podcast: {_text(first.podcast)}", ""]
    chapter = None
    for s in snips:
        if s.chapter and s.chapter != chapter:
            chapter = s.chapter
            out += [f"## {_text(chapter)}", ""]
        out += [f"### [{_heading_time(s)}] {_text(s.title) or 'Snip'}", ""]
        out += [_blockquote(s.quote), ""]
        if s.speaker:
            out += [f"— {_text(s.speaker)}", ""]
        if s.takeaways:
            out += ["**Key takeaways**", ""]
            out += [f"- {_text(t)}" for t in s.takeaways] + [""]
        if s.note.strip():
            out += ["**Note:** " + _text(s.note), ""]
        links = [md_link("Open in Podlens", snip_deep_link(s, base_url))]
        audio = _audio(s)
        if audio:
            links.append(md_link("Audio", audio))
        if s.tags:
            links.append("Tags: " + ", ".join(_text(t) for t in s.tags))
        if s.favourite:
            links.append("⭐")
        out += [" · ".join(links), ""]
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- JSON


def json_export(snips: Iterable[Snip]) -> str:
    data = {"version": 1, "snips": [s.to_dict() for s in ordered(snips)]}
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- the formats


@dataclass(frozen=True)
class ExportFormat:
    """One export target, for the CLI (``--format``, the default ``--out``) and the app (a
    download button). A new target is its renderer and a row in :data:`FORMATS`.

    ``render(snips, base_url)`` is one file's text; for a ``per_episode`` format, of one
    episode's snips, and several episodes make a zip of such files. A ``vault`` (Obsidian) keeps
    its notes under ``<Podcast>/``, names each after its episode (the note's title in the vault)
    and updates them in place (``render(..., existing)``); the CLI writes it as a folder.
    """

    name: str  # --format
    label: str  # the app's download button
    stem: str  # the file's name without suffix: the CLI's default --out, the download's name
    suffix: str
    mime: str
    render: Callable[..., str]
    per_episode: bool = False
    vault: bool = False


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "obsidian",
            "Obsidian",
            "snips-obsidian",
            ".md",
            "text/markdown",
            obsidian_markdown,
            per_episode=True,
            vault=True,
        ),
        ExportFormat(
            "readwise", "Readwise CSV", "snips-readwise", ".csv", "text/csv", readwise_csv
        ),
        ExportFormat(
            "notion",
            "Notion",
            "snips-notion",
            ".md",
            "text/markdown",
            notion_markdown,
            per_episode=True,
        ),
        ExportFormat(
            "json", "JSON", "snips", ".json", "application/json", lambda s, _url: json_export(s)
        ),
    )
}


def export_format(name: str) -> ExportFormat:
    if name not in FORMATS:
        raise PodlensError(f"unknown export format {name!r} (choose from {', '.join(FORMATS)})")
    return FORMATS[name]


def episode_files(fmt: str, snips: Iterable[Snip], base_url: str | None = None) -> dict[str, str]:
    """``{file name: text}``, one file per episode, of a per-episode format (what Notion's
    Import → Markdown takes for several pages, an Obsidian vault's notes)."""
    f = export_format(fmt)
    groups = by_episode(snips)
    names = episode_filenames(groups, f.suffix)
    return {
        (names[ep] if f.vault else names[ep].split("/", 1)[1]): f.render(ep_snips, base_url)
        for ep, ep_snips in groups.items()
    }


_ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed, so the zip's bytes do not depend on the clock


def zip_files(files: dict[str, str]) -> bytes:
    """The files in a zip whose bytes depend on nothing but their names and texts."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            parts = PurePosixPath(name).parts
            if not parts or name.startswith("/") or ".." in parts or "\\" in name:
                raise PodlensError(f"refusing zip member {name!r}: outside the export")
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text)
    return buf.getvalue()


@dataclass(frozen=True)
class ExportFile:
    """An export as the browser downloads it."""

    name: str
    data: bytes
    mime: str


def export_file(fmt: str, snips: Iterable[Snip], base_url: str | None = None) -> ExportFile:
    """The export as one file, as the app offers it for download: ``<stem><suffix>``, or
    ``<stem>.zip`` when a per-episode format has several episodes, or a vault's one note."""
    f = export_format(fmt)
    snips = ordered(snips)
    if not snips:
        raise PodlensError("no snips to export")
    if not f.per_episode:
        return ExportFile(f.stem + f.suffix, f.render(snips, base_url).encode(), f.mime)
    files = episode_files(fmt, snips, base_url)
    if len(files) > 1:
        return ExportFile(f.stem + ".zip", zip_files(files), "application/zip")
    ((name, text),) = files.items()
    return ExportFile(
        name.rsplit("/", 1)[-1] if f.vault else f.stem + f.suffix, text.encode(), f.mime
    )


# --------------------------------------------------------------------------- files


@dataclass
class ExportResult:
    format: str
    paths: list[Path]
    count: int


def export(
    snips: list[Snip], fmt: str, out: Path | None, base_url: str | None = None
) -> ExportResult:
    """Write an export to ``out``: a file, a ``.zip`` of one file per episode (per-episode
    formats), or a vault's folder, whose notes are updated in place. By default the file the
    app would download, under its name (a vault: the folder ``<stem>``)."""
    f = export_format(fmt)
    if not snips:
        raise PodlensError("no snips to export (create one with: python -m snips create ...)")
    if out is None and not f.vault:
        file = export_file(fmt, snips, base_url)
        atomic_write_bytes(Path(file.name), file.data)
        return ExportResult(fmt, [Path(file.name)], len(snips))
    out = out or Path(f.stem)
    if f.per_episode and out.suffix == ".zip":
        atomic_write_bytes(out, zip_files(episode_files(fmt, snips, base_url)))
    elif f.vault and out.suffix != f.suffix:
        return ExportResult(fmt, _write_vault(f, snips, out, base_url), len(snips))
    elif f.per_episode and len(by_episode(snips)) > 1:
        folder = ", a folder" if f.vault else ""
        raise PodlensError(
            f"--out FILE{f.suffix} takes one episode: use --out FILE.zip{folder} or --episode"
        )
    elif f.vault:
        existing = out.read_text(encoding="utf-8") if out.exists() else None
        atomic_write_text(out, f.render(snips, base_url, existing))
    else:
        atomic_write_text(out, f.render(snips, base_url))
    return ExportResult(fmt, [out], len(snips))


def _write_vault(
    f: ExportFormat, snips: list[Snip], out_dir: Path, base_url: str | None
) -> list[Path]:
    """Write ``out_dir/<Podcast>/<Episode><suffix>`` per episode, updating notes in place."""
    written = []
    groups = by_episode(snips)
    names = episode_filenames(groups, f.suffix)
    for episode, ep_snips in groups.items():
        path = _confined(out_dir, names[episode])
        existing = path.read_text(encoding="utf-8") if path.exists() else None
        atomic_write_text(path, f.render(ep_snips, base_url, existing))
        written.append(path)
    return written


# --------------------------------------------------------------------------- Notion API

NOTION_API = "https://api.notion.com/v1"
NOTION_VERSION = "2022-06-28"
NOTION_TEXT_LIMIT = 2000
NOTION_BLOCKS_PER_REQUEST = 100


def rich_text(text: str, link: str | None = None, bold: bool = False) -> list[dict[str, Any]]:
    """Notion rich text, split into objects of at most 2,000 characters."""
    chunks = [text[i : i + NOTION_TEXT_LIMIT] for i in range(0, len(text), NOTION_TEXT_LIMIT)]
    out = []
    for chunk in chunks or [""]:
        obj: dict[str, Any] = {"type": "text", "text": {"content": chunk}}
        if link:
            obj["text"]["link"] = {"url": link}
        if bold:
            obj["annotations"] = {"bold": True}
        out.append(obj)
    return out


def _block(kind: str, rt: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "block", "type": kind, kind: {"rich_text": rt}}


def notion_blocks(snips: list[Snip], base_url: str | None = None) -> list[dict[str, Any]]:
    """The page body for one episode, as Notion blocks (same layout as the Markdown)."""
    blocks: list[dict[str, Any]] = []
    chapter = None
    for s in ordered(snips):
        if s.chapter and s.chapter != chapter:
            chapter = s.chapter
            blocks.append(_block("heading_2", rich_text(_one_line(chapter))))
        title = f"[{_heading_time(s)}] {_one_line(s.title) or 'Snip'}"
        blocks.append(_block("heading_3", rich_text(title)))
        blocks.append(_block("quote", rich_text(s.quote.strip())))
        if s.speaker:
            blocks.append(_block("paragraph", rich_text(f"— {_one_line(s.speaker)}")))
        for t in s.takeaways:
            blocks.append(_block("bulleted_list_item", rich_text(_one_line(t))))
        if s.note.strip():
            blocks.append(
                _block("paragraph", rich_text("Note: ", bold=True) + rich_text(s.note.strip()))
            )
        links = rich_text("Open in Podlens", link=safe_url(snip_deep_link(s, base_url)))
        audio = _audio(s)
        if audio:
            links += rich_text(" · ") + rich_text(
                f"Audio {fmt_seconds(s.start)}–{fmt_seconds(s.end)} s", link=audio
            )
        blocks.append(_block("paragraph", links))
    return blocks


class NotionClient:
    """The few Notion API calls the push needs, paced to about 3 requests per second."""

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        min_interval: float = 0.34,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token = token
        self.base_url = (base_url or settings().notion_api_url or NOTION_API).rstrip("/")
        # Only 429 is retried (Notion did nothing; wait as told): a 5xx after a POST may
        # have created the page, and a second one would be a duplicate.
        config = HttpConfig(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries=3,
            retry_statuses=frozenset({429}),
            max_backoff=30.0,
            min_interval=min_interval,
        )
        self.http = HttpClient(config, sleep=sleep)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Notion-Version": NOTION_VERSION,
            "Content-Type": "application/json",
        }
        try:
            r = self.http.request(method, f"{self.base_url}{path}", json=body, headers=headers)
        except FetchError as e:
            raise PodlensError(f"cannot reach Notion at {self.base_url}: {e}") from e
        if r.status == 429:
            raise PodlensError("Notion kept answering 429 (rate limited); try again later")
        if r.status >= 400:
            try:
                msg = r.json().get("message", r.text)
            except (ValueError, AttributeError):
                msg = r.text
            raise PodlensError(f"Notion {method} {path} failed: HTTP {r.status}: {msg}")
        return r.json() if r.body else {}


def push_notion(
    snips: Iterable[Snip],
    token: str,
    parent_page_id: str,
    data_dir: Path,
    base_url: str | None = None,
    api_url: str | None = None,
    client: NotionClient | None = None,
) -> dict[str, str]:
    """One Notion page per episode under the parent page; returns ``{episode: page_id}``.

    Re-pushing replaces the episode's page: the page pushed last time (remembered in
    ``data_dir/notion_pages.json``) is archived and a fresh one created, so Notion never holds
    two copies.  The first 100 blocks go with the page, the rest in requests of at most 100.
    """
    client = client or NotionClient(token, api_url)
    state_path = Path(data_dir) / "notion_pages.json"
    state: dict[str, str] = {}
    if state_path.exists():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except ValueError:
            state = {}
    pages: dict[str, str] = {}
    for episode, ep_snips in by_episode(snips).items():
        old = state.get(episode)
        if old:
            try:
                client.call("PATCH", f"/pages/{old}", {"archived": True})
            except PodlensError as e:
                if "HTTP 404" not in str(e):  # already deleted by the user: fine
                    raise
        first = ep_snips[0]
        blocks = notion_blocks(ep_snips, base_url)
        page = client.call(
            "POST",
            "/pages",
            {
                "parent": {"page_id": parent_page_id},
                "properties": {
                    "title": {"title": rich_text(_one_line(first.episode_title) or first.episode)}
                },
                "children": blocks[:NOTION_BLOCKS_PER_REQUEST],
            },
        )
        page_id = page.get("id")
        if not page_id:
            raise PodlensError("Notion created a page but returned no id")
        for i in range(NOTION_BLOCKS_PER_REQUEST, len(blocks), NOTION_BLOCKS_PER_REQUEST):
            client.call(
                "PATCH",
                f"/blocks/{page_id}/children",
                {"children": blocks[i : i + NOTION_BLOCKS_PER_REQUEST]},
            )
        pages[episode] = page_id
        state[episode] = page_id
        atomic_write_text(state_path, json.dumps(state, indent=1, sort_keys=True))
    return pages


def notion_settings() -> tuple[str, str] | None:
    """``(NOTION_TOKEN, NOTION_PARENT_PAGE_ID)`` when both are set, else None."""
    s = settings()
    if s.notion_token and s.notion_parent_page_id:
        return s.notion_token, s.notion_parent_page_id
    return None
