"""``python -m index``: search what is ingested, evaluate search quality, list episodes.

    python -m index search "QUESTION" [-k 5] [--json] [--kinds transcript|paper|both]
                          [--episode ID] [--data-dir DIR]
    python -m index search --queries-file FILE [-k 5] --json [--data-dir DIR]
        one JSON array per input line (the model is loaded once)
    python -m index eval FILE [-k 10] [--split dev|test] [--json] [--data-dir DIR]
        recall@1/5/10, MRR and within150@5 (see index/evaluate.py for the definitions)
    python -m index list [--json] [--data-dir DIR]

Errors (no index yet, unreadable file, ...) are one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from podlens.errors import CliParser, PodlensError, cli_errors
from podlens.numbers import int_arg
from podlens.timecode import fmt_time

PROG = "python -m index"
# -k: a page of answers, not a dump of the index (the ranker fuses 200 candidates per ranking).
MAX_K = 100
K_ARG = int_arg("-k", 1, MAX_K)
KIND_CHOICES = {"transcript": ("transcript",), "paper": ("paper",), "both": ("transcript", "paper")}


def _parser() -> argparse.ArgumentParser:
    ap = CliParser(prog=PROG, description="Search and evaluate the Podlens index.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data directory (default: $PODLENS_DATA_DIR or data/)")

    s = sub.add_parser("search", help="answer a question with moments")
    s.add_argument("question", nargs="?", help="the question (or use --queries-file)")
    s.add_argument("--queries-file", help="one question per line; prints one JSON array each")
    s.add_argument("-k", type=K_ARG, default=5, help="results per question (1-100, default 5)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument(
        "--kinds",
        "--filter",
        dest="kinds",
        choices=sorted(KIND_CHOICES),
        default="both",
        help="episode moments, paper passages, or both (default)",
    )
    s.add_argument("--episode", help="only this episode id (e.g. axrp-19)")
    common(s)

    e = sub.add_parser("eval", help="recall@k / MRR on a JSONL {question, answer} file")
    e.add_argument("file")
    e.add_argument("-k", type=K_ARG, default=10, help="also report recall@k (default 10)")
    e.add_argument("--split", help='only lines whose "split" is this (e.g. dev, test)')
    e.add_argument(
        "--kinds",
        "--filter",
        dest="kinds",
        choices=sorted(KIND_CHOICES),
        default="transcript",
    )
    e.add_argument("--json", action="store_true", help="print the metrics (and misses) as JSON")
    common(e)

    ls = sub.add_parser("list", help="list indexed episodes")
    ls.add_argument("--json", action="store_true")
    common(ls)
    return ap


def _print_results(results, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False), flush=True)
        return
    if not results:
        print("(no results)")
    for n, r in enumerate(results, 1):
        where = (
            f"{fmt_time(r.start)} {r.speaker or ''} — {r.chapter or ''}"
            if r.kind == "transcript"
            else f"[paper] {r.title} — {r.chapter or ''}"
        )
        snippet = " ".join(r.text.split())
        print(f"{n}. {r.episode} {where}  ({r.link})\n   {snippet[:300]}")
    print(flush=True)


@cli_errors(PROG)
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "list":
        from index.store import IndexStore

        eps = IndexStore(args.data_dir).list_episodes()
        if args.json:
            print(json.dumps([e.__dict__ for e in eps], ensure_ascii=False))
        else:
            for e in eps:
                print(f"{e.id}\t{e.title}\t{e.passages} passages")
        return 0

    kinds = KIND_CHOICES[args.kinds]

    if args.cmd == "search":
        if bool(args.question) == bool(args.queries_file):
            raise PodlensError("give a QUESTION or --queries-file FILE (one of them)")
        questions: list[str]
        if args.queries_file:
            path = Path(args.queries_file)
            try:
                questions = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise PodlensError(f"cannot read queries file {path}: {e}") from e
        else:
            questions = [args.question]
        from index.search import Searcher

        searcher = Searcher(args.data_dir)
        for q in questions:
            if args.queries_file and not q.strip():
                _print_results([], args.json)
                continue
            _print_results(
                searcher.search(q, k=args.k, kinds=kinds, episode=args.episode), args.json
            )
        return 0

    # eval
    from index.evaluate import evaluate, load_eval
    from index.search import Searcher

    items = load_eval(args.file, split=args.split)
    searcher = Searcher(args.data_dir)
    metrics = evaluate(
        items, lambda q, k: [r.text for r in searcher.search(q, k=k, kinds=kinds)], k=args.k
    )
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
        return 0
    keys = ["recall@1", "recall@5", "recall@10", f"recall@{args.k}", "mrr", "within150@5"]
    print(f"questions   {metrics['questions']}")
    for key in dict.fromkeys(keys):
        print(f"{key:11s} {metrics[key]:.3f}")
    misses = [p for p in metrics["per_question"] if not p["within150"]]
    if misses:
        print(f"not within 150 words of a top-5 result ({len(misses)}):")
        for p in misses:
            print(f"  rank={p['rank']}  {p['question']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
