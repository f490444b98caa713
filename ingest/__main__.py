"""``python -m ingest``: ingest an episode, the ``axrp N`` shortcut, ``status``, ``align-eval``.

    python -m ingest --feed URL|PATH [--transcript URL|PATH] (--episode N | --guid G)
                     [--data-dir DIR] [--dry-run] [--json] [--no-papers]
    python -m ingest axrp 19 [--feed URL] [same options]
    python -m ingest --feed FEED --all [--transcripts-dir DIR] [--no-papers] [--force]
                     [--data-dir DIR] [--json]       # every item, incrementally
    python -m ingest --opml FILE [same options]      # every feed of a subscriptions file
    python -m ingest axrp --all [--feed URL] [same options]
    python -m ingest status [--quiet] [--data-dir DIR]     # exit 0 if any episode is ingested
    python -m ingest align-eval --feed F --transcripts DIR  # leave-one-chapter-out errors
    python -m ingest align-audio EPISODE_ID [--audio PATH|URL] [--data-dir DIR] [--json]
                     # put an ingested episode on its audio's clock, in place

Either ingest form takes --audio PATH|URL (or --align-audio: the feed's enclosure) to time every
word from the audio itself (clock "audio"), and --transcribe to hear a transcript for an item
that has none (a machine transcript); what was heard is kept, so a re-run is quick.

Fetching the papers an episode discusses (skip it with --no-papers) reads these variables:
    PODLENS_ARXIV_API       arXiv API query URL (default https://export.arxiv.org/api/query)
    PODLENS_ARXIV_PDF       arXiv PDF URL with {id} (default https://arxiv.org/pdf/{id})
    PODLENS_FETCH_MIRRORS   "PREFIX=REPLACEMENT ..." fetch URLs under PREFIX from a mirror
    PODLENS_FETCH_INTERVAL  seconds between requests to one host (default 1)
Every fetch reads these (see podlens/config.py):
    PODLENS_ALLOW_HOSTS     hosts a feed's links may point at though loopback/private
                            (e.g. "127.0.0.1 localhost"); --feed/--transcript need none
    PODLENS_FETCH_DEADLINE  seconds one fetch may take in all (default 60)
    PODLENS_FETCH_MAX_MB    largest feed/transcript fetched, MB (default 50)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import warnings
from collections.abc import Iterator

from podlens.errors import PodlensError, cli_errors
from podlens.timecode import fmt_time

PROG = "ingest"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2 like the rest
        raise PodlensError(message)


TRANSCRIBE_HELP = (
    "an item with audio but no transcript: transcribe it on this machine (Whisper; minutes "
    "per episode, resumable)"
)


def _ingest_parser(prog: str, shortcut: bool) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Ingest a podcast episode: feed + transcript -> index.",
        epilog="Paper fetching reads PODLENS_ARXIV_API, PODLENS_ARXIV_PDF ({id} for the arXiv id), "
        "PODLENS_FETCH_MIRRORS ('PREFIX=REPLACEMENT ...') and PODLENS_FETCH_INTERVAL (seconds "
        "between requests to one host).",
    )
    if shortcut:
        p.add_argument("number", help="AXRP episode number, e.g. 19 or 38.3")
        p.add_argument("--feed", help="feed URL or path (default $PODLENS_AXRP_FEED or AXRP's)")
    else:
        p.add_argument("--feed", required=True, help="RSS/Atom feed: URL or local path")
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--episode", help="episode number (itunes:episode or title prefix)")
        g.add_argument("--guid", help="item guid")
    p.add_argument("--transcript", help="transcript URL or path (default: the feed item's link)")
    p.add_argument("--data-dir", help="data directory (default $PODLENS_DATA_DIR or data/)")
    p.add_argument("--dry-run", action="store_true", help="parse and align only; write nothing")
    p.add_argument("--json", action="store_true", help="print the episode as JSON")
    p.add_argument("--no-papers", action="store_true", help="do not fetch the papers discussed")
    p.add_argument(
        "--audio", help="align the transcript to this audio (path or URL): times to the word"
    )
    p.add_argument(
        "--align-audio",
        action="store_true",
        help="align the transcript to the feed item's enclosure (downloaded once, kept)",
    )
    p.add_argument("--transcribe", action="store_true", help=TRANSCRIBE_HELP)
    return p


def _dry_json(ep) -> str:  # type: ignore[no-untyped-def]
    d = ep.to_dict()
    keys = [
        "id",
        "title",
        "podcast",
        "published",
        "audio_url",
        "duration",
        "chapters",
        "turns",
        "references",
        "duration_estimated",
        "transcript_url",
        "clock",
        "machine_transcript",
    ]
    out = {k: d[k] for k in keys}
    out["chapters"] = [{"title": c["title"], "start": c["start"]} for c in d["chapters"]]
    try:  # NaN/Infinity are not JSON: validation keeps them out, and this makes sure
        return json.dumps(out, ensure_ascii=False, indent=1, allow_nan=False)
    except ValueError as e:
        raise PodlensError(f"episode {ep.id}: cannot be written as JSON ({e})") from None


STAGE_LABELS = {
    "feed": "reading the feed",
    "transcript": "reading the transcript",
    "align": "aligning",
    "audio": "reading the audio",
    "hear": "hearing the audio",
    "align-audio": "aligning to the audio",
    "force": "timing every word",
    "papers": "fetching papers",
    "chunk": "chunking",
    "embed": "embedding",
    "store": "saving",
}


class _StageBars:
    """``progress(stage, fraction)`` as tqdm bars on a terminal: one bar per stage, percent of
    that stage.  The papers bar stays on screen when done (it is the slow, network-bound one)."""

    def __init__(self, file) -> None:  # type: ignore[no-untyped-def]
        self.file = file
        self.stage: str | None = None
        self.bar = None

    def __call__(self, stage: str, fraction: float) -> None:
        from tqdm import tqdm

        if stage == "done":
            self.close()
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(
                total=100,
                unit="%",
                desc=STAGE_LABELS.get(stage, stage),
                file=self.file,
                leave=stage == "papers",
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}",
            )
        assert self.bar is not None
        self.bar.n = int(100 * max(0.0, min(1.0, fraction)))
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.stage = None, None


def _references_line(ep) -> str:  # type: ignore[no-untyped-def]
    works = [r for r in ep.references if r.kind != "link"]
    links = len(ep.references) - len(works)
    ok = sum(r.status == "ok" for r in works)
    failed = sum(r.status == "failed" for r in works)
    if ok or failed:
        what = f"{ok} fetched" + (f", {failed} failed (reasons in --json)" if failed else "")
    else:
        what = "not fetched"
    return f"references: {len(works)} papers/articles/posts ({what}), {links} other links"


def _run_ingest(args: argparse.Namespace, feed: str, episode: str | None) -> int:
    from library.pipeline import ingest

    with _reported(bars=not args.dry_run and not args.json) as bars:
        ep = ingest(
            feed=feed,
            transcript=args.transcript,
            episode=episode,
            guid=getattr(args, "guid", None),
            data_dir=args.data_dir,
            dry_run=args.dry_run,
            no_papers=args.no_papers,
            progress=bars,
            audio=args.audio,
            align_audio_clock=args.align_audio,
            transcribe=args.transcribe,
        )
    if args.json:
        print(_dry_json(ep))
    else:
        verb = "parsed (dry run, nothing written)" if args.dry_run else "ingested"
        est = " (estimated)" if ep.duration_estimated else ""
        machine = ", machine transcript" if ep.machine_transcript else ""
        print(
            f"{verb} {ep.id}: {ep.title} - {len(ep.turns)} turns, {len(ep.chapters)} chapters, "
            f"{fmt_time(ep.duration)}{est}, clock {ep.clock}{machine}"
        )
        print(_references_line(ep))
    return 0


def _status(argv: list[str]) -> int:
    p = _Parser(prog=f"{PROG} status", description="Exit 0 if any episode is ingested, else 1.")
    p.add_argument("--quiet", "-q", action="store_true")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    from index.store import IndexStore

    ok = IndexStore(args.data_dir).has_episodes()
    if not args.quiet:
        print("episodes ingested" if ok else "no episodes ingested yet")
    return 0 if ok else 1


def _align_eval(argv: list[str]) -> int:
    p = _Parser(
        prog=f"{PROG} align-eval",
        description="Leave-one-chapter-out error of the alignment (uniform vs model).",
    )
    p.add_argument("--feed", required=True)
    p.add_argument("--transcripts", required=True, help="folder of AXRP markdown posts")
    args = p.parse_args(argv)
    from ingest.evaluate import evaluate, format_report

    rows = evaluate(args.feed, args.transcripts)
    if not rows:
        raise PodlensError("no feed item with chapters has a transcript in that folder")
    print(format_report(rows))
    return 0


def _align_audio(argv: list[str]) -> int:
    p = _Parser(
        prog=f"{PROG} align-audio",
        description="Put an ingested episode on the clock of its audio (in place).",
    )
    p.add_argument("episode", help="episode id, as `python -m index list` shows it")
    p.add_argument("--audio", help="audio path or URL (default: the feed's enclosure)")
    p.add_argument("--data-dir", help="data directory (default $PODLENS_DATA_DIR or data/)")
    p.add_argument("--json", action="store_true", help="print the episode as JSON")
    args = p.parse_args(argv)
    from library.pipeline import align_stored

    with _reported(bars=not args.json) as bars:
        ep = align_stored(args.episode, args.audio, args.data_dir, progress=bars)
    if args.json:
        print(_dry_json(ep))
    else:
        print(f"{ep.id}: clock {ep.clock}, {len(ep.turns)} turns, {fmt_time(ep.duration)}")
    return 0


@contextlib.contextmanager
def _reported(bars: bool) -> Iterator[_StageBars | None]:
    """The work inside, with a tqdm bar per stage on a terminal (when ``bars``), then each
    warning it raised as an ``ingest: warning: ...`` line."""
    shown = _StageBars(sys.stderr) if bars and sys.stderr.isatty() else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield shown
        finally:
            if shown is not None:
                shown.close()
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"{PROG}: warning: {w.message}", file=sys.stderr)


def _library_parser(prog: str, shortcut: bool) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Ingest every item of a feed (or of every feed in an OPML file); items "
        "whose feed entry and transcript are unchanged since the last run are skipped.",
    )
    if shortcut:
        p.add_argument("--all", action="store_true", required=True, help="every AXRP episode")
        p.add_argument("--feed", help="feed URL or path (default $PODLENS_AXRP_FEED or AXRP's)")
    else:
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument("--feed", help="RSS/Atom feed: URL or local path (with --all)")
        src.add_argument("--opml", help="OPML subscriptions file: every outline with an xmlUrl")
        p.add_argument("--all", action="store_true", help="every item of the feed")
    p.add_argument("--transcripts-dir", help="folder of markdown transcripts (slug or number)")
    p.add_argument("--range", help="only episode numbers in LO-HI, e.g. 12-20")
    p.add_argument("--force", action="store_true", help="rebuild unchanged items too")
    p.add_argument("--data-dir", help="data directory (default $PODLENS_DATA_DIR or data/)")
    p.add_argument("--no-papers", action="store_true", help="do not fetch the papers discussed")
    p.add_argument("--json", action="store_true", help="print the per-item report as JSON")
    p.add_argument("--transcribe", action="store_true", help=TRANSCRIBE_HELP)
    return p


def _parse_range(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    lo, sep, hi = text.partition("-")
    try:
        bounds = (float(lo), float(hi if sep else lo))
    except ValueError:
        raise PodlensError(f"--range must look like 12-20, not {text!r}") from None
    if not all(math.isfinite(b) for b in bounds):
        raise PodlensError(f"--range must be two finite episode numbers, not {text!r}")
    if bounds[0] > bounds[1]:
        raise PodlensError(f"--range {text}: the first number is larger than the second")
    return bounds


def _run_library(args: argparse.Namespace, feeds: list[str]) -> int:
    from library.feeds import ingest_feeds

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # per-item warnings: the summary has clocks
        report = ingest_feeds(
            feeds,
            transcripts_dir=args.transcripts_dir,
            data_dir=args.data_dir,
            no_papers=args.no_papers,
            force=args.force,
            numbers=_parse_range(args.range),
            bar=not args.json,
            transcribe=args.transcribe,
        )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(report.summary())
    return 0


def _is_library(argv: list[str]) -> bool:
    return "--all" in argv or any(a == "--opml" or a.startswith("--opml=") for a in argv)


@cli_errors(PROG)
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "axrp" and "--all" in argv:
        args = _library_parser(f"{PROG} axrp", shortcut=True).parse_args(argv[1:])
        from ingest.pipeline import axrp_feed_url

        return _run_library(args, [axrp_feed_url(args.feed)])
    if (
        argv
        and argv[0] not in ("status", "align-eval", "align-audio", "axrp")
        and _is_library(argv)
    ):
        args = _library_parser(PROG, shortcut=False).parse_args(argv)
        if args.opml:
            from library.feeds import feeds_from_opml

            return _run_library(args, feeds_from_opml(args.opml))
        if not args.all:
            raise PodlensError("--feed with many items: add --all (or pick one with --episode)")
        return _run_library(args, [args.feed])
    if argv and argv[0] == "status":
        return _status(argv[1:])
    if argv and argv[0] == "align-eval":
        return _align_eval(argv[1:])
    if argv and argv[0] == "align-audio":
        return _align_audio(argv[1:])
    if argv and argv[0] == "axrp":
        args = _ingest_parser(f"{PROG} axrp", shortcut=True).parse_args(argv[1:])
        from ingest.pipeline import axrp_feed_url

        return _run_ingest(args, axrp_feed_url(args.feed), args.number)
    args = _ingest_parser(PROG, shortcut=False).parse_args(argv)
    return _run_ingest(args, args.feed, args.episode)


if __name__ == "__main__":
    sys.exit(main())
