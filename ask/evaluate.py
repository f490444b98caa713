"""Score answers on a JSONL set: answered, supported, citations true to the source, abstention.

Each line is ``{"question", "answerable": bool, "answer": phrase (answerable only), "split"}``.

- ``answered``: share of answerable questions that got an answer (did not abstain);
- ``supported``: share of answerable questions where some citation's text contains the answer
  phrase (compared lower-cased, punctuation and spacing ignored; an abstention counts as a miss);
- ``citations_not_in_source``: citations (closest mentions included) whose text, start, end or
  speaker is not what the episode's sentence stream has there (or, for a paper passage, whose
  text is not in the indexed paper text); must be 0;
- ``abstained_off_topic``: share of unanswerable questions that abstained;
- ``p50_ms`` / ``p90_ms``: wall time per answer after one warm-up question; ``cpu_p50_ms``: the
  process's CPU time per answer (all threads), which a busy shared machine inflates less.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ask.answer import Answer, Asker, Citation
from podlens.errors import PodlensError
from podlens.sentences import episode_sentences


@dataclass
class EvalItem:
    question: str
    answerable: bool
    answer: str | None
    split: str | None


def load_items(path: str | Path, split: str | None = None) -> list[EvalItem]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise PodlensError(f"cannot read {path}: {e}") from e
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = row["question"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise PodlensError(f"{path}:{n}: not a {{question, ...}} JSON object: {e}") from e
        if split and row.get("split") != split:
            continue
        items.append(
            EvalItem(q, bool(row.get("answerable", True)), row.get("answer"), row.get("split"))
        )
    if not items:
        raise PodlensError(f"no questions in {path}" + (f" with split {split!r}" if split else ""))
    return items


def norm(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text).split())


def supports(answer: Answer, phrase: str) -> bool:
    p = norm(phrase)
    return any(p in norm(c.text) for c in answer.citations)


class SourceCheck:
    """Checks a citation against the stored episode: verbatim sentences at their times."""

    def __init__(self, asker: Asker):
        self.asker = asker
        self._sents: dict[str, list] = {}
        self._papers: dict[str, str] | None = None

    def ok(self, c: Citation) -> bool:
        if c.kind == "paper":
            return norm(c.text) in norm(self._paper_text(c.url or ""))
        sents = self._sents.get(c.episode)
        if sents is None:
            ep = self.asker.searcher.store.load_episode(c.episode)
            sents = episode_sentences(ep) if ep else []
            self._sents[c.episode] = sents
        for i, s in enumerate(sents):
            if s.start != c.start or not c.text.startswith(s.text):
                continue
            run, j = [s], i + 1
            while len(" ".join(x.text for x in run)) < len(c.text) and j < len(sents):
                run.append(sents[j])
                j += 1
            if (
                " ".join(x.text for x in run) == c.text
                and run[-1].end == c.end
                and s.speaker == c.speaker
            ):
                return True
        return False

    def _paper_text(self, url: str) -> str:
        if self._papers is None:
            self._papers = {}
            _, passages = self.asker.searcher.store.load_passages()
            for p in passages:
                if p.kind == "paper":
                    self._papers[p.url or ""] = self._papers.get(p.url or "", "") + " " + p.text
        return self._papers.get(url, "")


def evaluate(asker: Asker, items: list[EvalItem]) -> dict[str, Any]:
    check = SourceCheck(asker)
    asker.ask(items[0].question)  # warm-up: model, index and episode text loaded
    per: list[dict[str, Any]] = []
    times: list[float] = []
    cpu: list[float] = []
    bad = 0
    n_cites = 0
    for it in items:
        t0, c0 = time.perf_counter(), time.process_time()
        a = asker.ask(it.question)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        cites = a.citations + a.closest
        wrong = [c for c in cites if not check.ok(c)]
        bad += len(wrong)
        n_cites += len(cites)
        row: dict[str, Any] = {
            "question": it.question,
            "answerable": it.answerable,
            "abstained": a.abstained,
            "confidence": round(a.confidence, 4),
            "answer": a.answer,
            "words": len(a.plain.split()),
        }
        if it.answerable and it.answer:
            row["phrase"] = it.answer
            row["supported"] = supports(a, it.answer)
        if wrong:
            row["not_in_source"] = [c.to_dict() for c in wrong]
        per.append(row)
    ans = [p for p in per if p["answerable"]]
    off = [p for p in per if not p["answerable"]]
    with_phrase = [p for p in ans if "phrase" in p]

    def share(rows: list[dict[str, Any]], ok) -> float | None:  # type: ignore[no-untyped-def]
        return round(sum(1 for r in rows if ok(r)) / len(rows), 3) if rows else None

    return {
        "questions": len(per),
        "answerable": len(ans),
        "off_topic": len(off),
        "answered": share(ans, lambda r: not r["abstained"]),
        "supported": share(with_phrase, lambda r: r.get("supported")),
        "citations": n_cites,
        "citations_not_in_source": bad,
        "abstained_off_topic": share(off, lambda r: r["abstained"]),
        "max_words": max((p["words"] for p in per if not p["abstained"]), default=0),
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(sorted(times)[int(0.9 * (len(times) - 1))], 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "per_question": per,
    }
