"""``python -m ask``: short cited answers from what was said, and their evaluation.

    python -m ask "QUESTION" [--json] [--episode ID] [--data-dir DIR]
    python -m ask --queries-file FILE [--json] [--episode ID] [--data-dir DIR]
        one answer per line of FILE (plain questions, or JSON objects with "question" and
        optionally "episode"); with --json one JSON object per line; the model is loaded once
    python -m ask eval FILE [--split dev|test|holdout] [--json] [--data-dir DIR]
        answered / supported / citations not in the source / off-topic abstained / latency

Each answer: ``{"question", "answer", "abstained", "citations": [{"episode", "start", "end",
"speaker", "text", "link", ...}], "episode", "confidence", "provider"}`` plus ``"closest"`` when
it abstains and ``"reason"`` when an LLM answer was rejected.  With ``PODLENS_LLM_BASE_URL`` and
``PODLENS_LLM_MODEL`` set the LLM phrases the answer (checked); ``--local`` never asks it.
Errors are one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from podlens.errors import PodlensError, cli_errors
from podlens.timecode import fmt_time

PROG = "python -m ask"


def _ask_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=PROG, description="Answer a question from what was said.")
    ap.add_argument("question", nargs="?", help="the question (or use --queries-file)")
    ap.add_argument("--queries-file", help="one question per line; one answer per line")
    ap.add_argument("--json", action="store_true", help="print JSON (one object per answer)")
    ap.add_argument("--episode", help="only this episode (id, e.g. axrp-19, or its number)")
    ap.add_argument("--local", action="store_true", help="extractive only, even with an LLM set")
    ap.add_argument("--data-dir", help="data directory (default: $PODLENS_DATA_DIR or data/)")
    return ap


def _eval_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"{PROG} eval", description="Score answers on a JSONL set.")
    ap.add_argument("file")
    ap.add_argument("--split", help='only lines whose "split" is this (dev, test, holdout)')
    ap.add_argument("--json", action="store_true", help="print the metrics as JSON")
    ap.add_argument("--data-dir", help="data directory (default: $PODLENS_DATA_DIR or data/)")
    return ap


def _queries(path: Path) -> list[tuple[str, str | None]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise PodlensError(f"cannot read queries file {path}: {e}") from e
    out: list[tuple[str, str | None]] = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                row = json.loads(line)
                out.append((str(row["question"]), row.get("episode")))
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise PodlensError(f"{path}:{n}: not a {{question, ...}} object: {e}") from e
        else:
            out.append((line, None))
    return out


def _print(answer, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        return
    print(f"Q: {answer.question}\nA: {answer.answer}")
    listed = answer.closest if answer.abstained else answer.citations
    if answer.abstained and listed:
        print("Closest mentions:")
    for c in listed:
        where = fmt_time(c.start) if c.start is not None else (c.title or "paper")
        print(f"  [{c.n}] {where} {c.speaker or ''} ({c.link})\n      {c.text}")
    if answer.reason:
        print(f"  ({answer.reason})")
    print(flush=True)


@cli_errors(PROG)
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["eval"]:
        return _eval(_eval_parser().parse_args(argv[1:]))
    args = _ask_parser().parse_args(argv)
    if bool(args.question) == bool(args.queries_file):
        raise PodlensError("give a QUESTION or --queries-file FILE (one of them)")
    questions = _queries(Path(args.queries_file)) if args.queries_file else [(args.question, None)]
    from ask.answer import Asker
    from ask.llm import llm_from_env

    asker = Asker(args.data_dir, llm=None if args.local else llm_from_env())
    for q, ep in questions:
        _print(asker.ask(q, episode=ep or args.episode), args.json)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from ask.answer import Asker
    from ask.evaluate import evaluate, load_items

    items = load_items(args.file, split=args.split)
    metrics = evaluate(Asker(args.data_dir), items)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
        return 0
    for key in (
        "questions",
        "answered",
        "supported",
        "citations",
        "citations_not_in_source",
        "abstained_off_topic",
        "max_words",
        "p50_ms",
        "p90_ms",
        "cpu_p50_ms",
    ):
        print(f"{key:24s} {metrics[key]}")
    for p in metrics["per_question"]:
        if p["answerable"] and (p["abstained"] or not p.get("supported", True)):
            why = "abstained" if p["abstained"] else "unsupported"
            print(f"  {why} ({p['confidence']}): {p['question']}")
        elif not p["answerable"] and not p["abstained"]:
            print(f"  answered off-topic ({p['confidence']}): {p['question']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
