"""``python -m snips``: create, list, show, edit, delete, search, export snips; best moments.

Examples::

    python -m snips create --episode axrp-19 --at 11705 --json
    python -m snips list --episode axrp-19 --tag optimizers
    python -m snips export --format readwise --out snips.csv
    python -m snips highlights --episode axrp-19 -n 5 --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from podlens.config import data_dir as resolve_data_dir
from podlens.errors import CliParser, PodlensError, cli_errors
from podlens.models import Episode
from podlens.numbers import int_arg
from podlens.timecode import fmt_time, seconds_arg
from snips.export import FORMATS

MAX_HIGHLIGHTS = 50  # -n: best moments are a short list to listen through, not a re-cut episode


def load_episode(episode_id: str, data_dir: Path) -> Episode:
    """The stored episode: from the index, else ``data_dir/episodes/<id>.json``."""
    ep = None
    try:
        from index.store import IndexStore

        store = IndexStore(data_dir)
        if store.exists():
            ep = store.load_episode(episode_id)
    except ImportError:
        ep = None
    if ep is None:
        path = data_dir / "episodes" / f"{episode_id}.json"
        if path.exists():
            try:
                ep = Episode.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, TypeError) as e:
                raise PodlensError(f"{path} is not an episode file: {e}") from e
    if ep is None:
        raise PodlensError(
            f"episode {episode_id!r} is not in {data_dir} (ingest it first: python -m ingest ...)"
        )
    return ep


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _line(s: Any) -> str:
    fav = "★ " if s.favourite else ""
    tags = (" [" + ", ".join(s.tags) + "]") if s.tags else ""
    return f"{s.id}  {s.episode}  [{fmt_time(s.start)}–{fmt_time(s.end)}]  {fav}{s.title}{tags}"


def _show(s: Any) -> str:
    from snips.share import share_links

    out = [
        f"{s.title}",
        f"  id: {s.id}    {s.episode_title or s.episode}  [{fmt_time(s.start)}–{fmt_time(s.end)}]",
        f"  {s.speaker} · {s.chapter}",
        "",
        *(f"  > {line}" for line in s.quote.splitlines()),
        "",
        *(f"  - {t}" for t in s.takeaways),
    ]
    if s.note:
        out += ["", f"  Note: {s.note}"]
    if s.tags:
        out += [f"  Tags: {', '.join(s.tags)}"]
    out += [""] + [f"  {k}: {v}" for k, v in share_links(s).items() if v]
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="python -m snips", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser, json_flag: bool = True) -> None:
        sp.add_argument("--data-dir", help="data directory (default $PODLENS_DATA_DIR or data/)")
        if json_flag:
            sp.add_argument("--json", action="store_true", help="print JSON")

    c = sub.add_parser("create", help="snip the moment at --at seconds")
    c.add_argument("--episode", required=True)
    c.add_argument(
        "--at", type=seconds_arg("--at"), required=True, help="the tap: seconds or H:MM:SS"
    )
    c.add_argument(
        "--before", type=seconds_arg("--before"), default=60.0, help="seconds before the tap (60)"
    )
    c.add_argument(
        "--after", type=seconds_arg("--after"), default=0.0, help="seconds after the tap (0)"
    )
    c.add_argument("--note", default="")
    c.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    c.add_argument("--favourite", action="store_true")
    c.add_argument("--local", action="store_true", help="use the local model even if an LLM is set")
    common(c)

    ls = sub.add_parser("list", help="list snips")
    ls.add_argument("--episode")
    ls.add_argument("--tag")
    ls.add_argument("--favourites", action="store_true")
    common(ls)

    sh = sub.add_parser("show", help="show one snip with its share links")
    sh.add_argument("id")
    common(sh)

    e = sub.add_parser("edit", help="edit a snip's title, note, tags, favourite or window")
    e.add_argument("id")
    e.add_argument("--title")
    e.add_argument("--note")
    e.add_argument("--tag", action="append", help="set tags (repeatable; replaces the tags)")
    e.add_argument("--add-tag", action="append", default=[])
    e.add_argument("--remove-tag", action="append", default=[])
    fav = e.add_mutually_exclusive_group()
    fav.add_argument("--favourite", dest="favourite", action="store_const", const=True)
    fav.add_argument("--no-favourite", dest="favourite", action="store_const", const=False)
    e.add_argument(
        "--start", type=seconds_arg("--start"), help="move/widen: new start (seconds, snapped)"
    )
    e.add_argument(
        "--end", type=seconds_arg("--end"), help="move/widen: new end (seconds, snapped)"
    )
    common(e)

    d = sub.add_parser("delete", help="delete a snip")
    d.add_argument("id")
    common(d)

    se = sub.add_parser("search", help="search within your snips")
    se.add_argument("query")
    se.add_argument("--episode")
    common(se)

    x = sub.add_parser("export", help="export snips")
    x.add_argument("--format", required=True, choices=list(FORMATS))
    x.add_argument("--out", type=Path, help="file, .zip, or folder (obsidian)")
    x.add_argument("--episode")
    x.add_argument("--tag")
    x.add_argument(
        "--push",
        action="store_true",
        help="notion: push through the API (needs NOTION_TOKEN and NOTION_PARENT_PAGE_ID)",
    )
    x.add_argument("--base-url", help="the app's URL for deep links (default $PODLENS_APP_URL)")
    common(x)

    h = sub.add_parser("highlights", help="the episode's best moments")
    h.add_argument("--episode", required=True)
    h.add_argument(
        "-n", type=int_arg("-n", 1, MAX_HIGHLIGHTS), default=5, help="how many (1-50, default 5)"
    )
    h.add_argument("--no-titles", action="store_true", help="skip titling each moment")
    common(h)
    return p


@cli_errors("python -m snips")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ddir = resolve_data_dir(args.data_dir)
    from snips.store import SnipStore

    if args.cmd == "highlights":
        return _highlights(args, ddir)
    store = SnipStore(ddir)

    if args.cmd == "create":
        from snips.ai import LocalProvider, provider_from_env
        from snips.capture import create_snip

        ep = load_episode(args.episode, ddir)
        provider = LocalProvider() if args.local else provider_from_env()
        snip = create_snip(
            ep, args.at, args.before, args.after, provider, args.note, args.tag, args.favourite
        )
        snip = store.save(snip)
        if args.json:
            _print_json(snip.to_dict())
        else:
            print(_show(snip))
        return 0

    if args.cmd in ("list", "search"):
        if args.cmd == "list":
            snips = store.list(
                episode=args.episode, tag=args.tag, favourite=True if args.favourites else None
            )
        else:
            snips = store.search(args.query, episode=args.episode)
        if args.json:
            _print_json([s.to_dict() for s in snips])
        else:
            for s in snips:
                print(_line(s))
            if not snips:
                print("no snips", file=sys.stderr)
        return 0

    if args.cmd == "show":
        s = store.get(args.id)
        if args.json:
            from snips.share import share_links

            _print_json({**s.to_dict(), "links": share_links(s)})
        else:
            print(_show(s))
        return 0

    if args.cmd == "edit":
        s = store.get(args.id)
        if args.start is not None or args.end is not None:
            from snips.capture import resnip

            ep = load_episode(s.episode, ddir)
            start = s.start if args.start is None else args.start
            end = s.end if args.end is None else args.end
            s = store.move(s.id, resnip(ep, s, start, end))
        changes: dict[str, Any] = {}
        if args.title is not None:
            if not args.title.strip():
                raise PodlensError("--title cannot be empty")
            changes["title"] = args.title.strip()
        if args.note is not None:
            changes["note"] = args.note
        if args.favourite is not None:
            changes["favourite"] = args.favourite
        if args.tag is not None or args.add_tag or args.remove_tag:
            tags = list(args.tag) if args.tag is not None else list(s.tags)
            tags += args.add_tag
            drop = {t.strip().lstrip("#").lower() for t in args.remove_tag}
            changes["tags"] = [t for t in tags if t.strip().lstrip("#").lower() not in drop]
        if changes:
            s = store.update(s.id, **changes)
        if args.json:
            _print_json(s.to_dict())
        else:
            print(_line(s))
        return 0

    if args.cmd == "delete":
        s = store.get(args.id)
        store.delete(s.id)
        if args.json:
            _print_json({"deleted": s.id})
        else:
            print(f"deleted {s.id}  {s.title}")
        return 0

    if args.cmd == "export":
        return _export(args, store, ddir)
    raise PodlensError(f"unknown command {args.cmd}")  # argparse prevents this


def _export(args: argparse.Namespace, store: Any, ddir: Path) -> int:
    from snips.export import export, notion_settings, push_notion

    snips = store.list(episode=args.episode, tag=args.tag)
    if args.push:
        if args.format != "notion":
            raise PodlensError("--push works with --format notion only")
        settings = notion_settings()
        if not settings:
            raise PodlensError("--push needs NOTION_TOKEN and NOTION_PARENT_PAGE_ID set")
        if not snips:
            raise PodlensError("no snips to push")
        pages = push_notion(snips, settings[0], settings[1], ddir, base_url=args.base_url)
        if args.json:
            _print_json({"format": "notion", "pages": pages, "count": len(snips)})
        else:
            for ep, page in pages.items():
                print(f"{ep}: Notion page {page}")
        return 0
    res = export(snips, args.format, args.out, base_url=args.base_url)
    if args.json:
        paths = [str(p) for p in res.paths]
        _print_json({"format": res.format, "paths": paths, "count": res.count})
    else:
        for p in res.paths:
            print(p)
    return 0


def _highlights(args: argparse.Namespace, ddir: Path) -> int:
    from snips.ai import LocalProvider, SnipContext
    from snips.highlights import best_moments

    ep = load_episode(args.episode, ddir)
    moments = best_moments(ep, args.n)
    rows = []
    provider = None if args.no_titles else LocalProvider()
    for m in moments:
        row = m.to_dict()
        if provider is not None:
            row["title"] = provider.summarize(
                m.quote, SnipContext(ep.title, ep.podcast, m.chapter, m.speaker)
            ).title
        rows.append(row)
    if args.json:
        _print_json(rows)
    else:
        for r in rows:
            print(
                f"[{fmt_time(r['start'])}–{fmt_time(r['end'])}] {r.get('title', '')}  "
                f"({r['chapter']}; score {r['score']:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
