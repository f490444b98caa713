"""Retrieval evaluation for ``python -m index eval``: recall@k, MRR, and "lands before the answer".

An eval file is JSONL, one ``{"question": ..., "answer": ...}`` per line (extra keys such as
``section`` / ``split`` are allowed; ``--split`` filters on ``split``).  ``answer`` is a verbatim
phrase from the transcript.

**When a result hits.**  Texts are normalised (lower-cased, curly quotes folded, every run of
non-alphanumeric characters -> one space).  A result hits when

- its normalised text contains the normalised answer, or
- the answer *starts* in it and runs past its end: the result's last ``m`` words are the answer's
  first ``m`` words, with ``m >= min(5, answer length)`` (an answer cut by a passage boundary);

the hit's *offset* is the word position in the result's text where the answer starts.

Metrics over the questions: ``recall@1/5/10`` (a hit in the top k), ``MRR`` (1/rank of the first
hit in the top ``max(k, 10)``, 0 if none), and ``within150@5``: share of questions for which some
top-5 hit has its answer starting within the first 150 words of the result's text — i.e. jumping
to that result's ``start`` plays the answer within about a minute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from podlens.errors import PodlensError

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
WITHIN_WORDS = 150
MIN_SPLIT_WORDS = 5


def normalize_words(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return _NON_ALNUM.sub(" ", text).split()


def hit_offset(text: str, answer: str) -> int | None:
    """Word offset in ``text`` where ``answer`` starts (see module doc), or None."""
    words = normalize_words(text)
    ans = normalize_words(answer)
    if not ans:
        return None
    n, m = len(words), len(ans)
    hay = " " + " ".join(words) + " "
    needle = " " + " ".join(ans) + " "
    pos = hay.find(needle)
    if pos >= 0:
        return hay[:pos].count(" ")
    need = min(MIN_SPLIT_WORDS, m)
    for k in range(min(m - 1, n), need - 1, -1):  # longest answer prefix ending the text
        if words[n - k :] == ans[:k]:
            return n - k
    return None


def emphasis_holds(emphasised: str, answer: str) -> bool:
    """Whether a result's emphasised sentence holds at least half of the answer phrase's
    (distinct, normalised) words: the card points the listener at the answer."""
    phrase = set(normalize_words(answer))
    return len(phrase & set(normalize_words(emphasised))) >= len(phrase) / 2


@dataclass
class EvalItem:
    question: str
    answer: str
    section: str | None = None
    split: str | None = None


def load_eval(path: str | Path, split: str | None = None) -> list[EvalItem]:
    p = Path(path)
    if not p.is_file():
        raise PodlensError(f"eval file not found: {p}")
    items = []
    for no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            item = EvalItem(
                question=str(d["question"]),
                answer=str(d["answer"]),
                section=d.get("section"),
                split=d.get("split"),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise PodlensError(f'{p}:{no}: not a {{"question", "answer"}} JSON line ({e})') from e
        if split is None or item.split == split:
            items.append(item)
    if not items:
        raise PodlensError(f"no questions in {p}" + (f" with split {split!r}" if split else ""))
    return items


def evaluate(
    items: Sequence[EvalItem],
    search: Callable[[str, int], Sequence[str]],
    k: int = 10,
) -> dict:
    """Run ``search(question, k) -> [result text, best first]`` for each item; return metrics and
    the per-question ranks (``rank``: 1-based rank of the first hit or None; ``offset``: the
    answer's word offset in that hit)."""
    depth = max(k, 10)
    per = []
    for it in items:
        texts = list(search(it.question, depth))
        rank = offset = None
        within = False
        for r, text in enumerate(texts, 1):
            off = hit_offset(text, it.answer)
            if off is None:
                continue
            if rank is None:
                rank, offset = r, off
            if r <= 5 and off < WITHIN_WORDS:
                within = True
        per.append(
            {
                "question": it.question,
                "answer": it.answer,
                "section": it.section,
                "rank": rank,
                "offset": offset,
                "within150": within,
            }
        )
    n = len(per)

    def recall(kk: int) -> float:
        return sum(1 for p in per if p["rank"] is not None and p["rank"] <= kk) / n

    return {
        "questions": n,
        "recall@1": recall(1),
        "recall@5": recall(5),
        "recall@10": recall(10),
        f"recall@{k}": recall(k),
        "mrr": sum(1 / p["rank"] for p in per if p["rank"] is not None) / n,
        "within150@5": sum(p["within150"] for p in per) / n,
        "per_question": per,
    }
