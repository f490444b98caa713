"""Auto highlights: the N most snippable moments of an episode ("Best moments").

Candidates are runs of whole sentences of about ``target`` seconds that stay inside one chapter
and start where a listener could start (a new turn, or a sentence that does not lean on the one
before).  Each is scored on three things, all computed locally:

* **central** — cosine similarity of the window's TF-IDF vector to its chapter's: it is about
  what the chapter is about (TF-IDF rather than the embedding model: a 4-hour episode has ~2,000
  sentences, which the model needs minutes to embed on a laptop CPU; TF-IDF takes milliseconds);
* **dense** — share of content words (not :func:`~podlens.text.topic_stop_words`) and distinct
  content words per second: ideas, not "yeah, I mean, kind of";
* **self-contained** — one main voice, starts cleanly, does not end on a question.

Picks are greedy by score, at most one per chapter until every chapter with a candidate has one
(so they spread over the episode), never overlapping; returned in time order so they play one
after another.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from podlens.models import Episode
from podlens.sentences import Sentence
from podlens.text import is_question, topic_stop_words
from snips.ai import _DANGLING_START, first_word
from snips.window import Window, timed_sentences

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@dataclass
class Moment:
    start: float
    end: float
    chapter: str
    speaker: str
    quote: str
    score: float
    central: float
    dense: float
    self_contained: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _candidates(sents: list[Sentence], target: float, max_len: float) -> list[tuple[int, int]]:
    """``(first, last)`` sentence index ranges, one per clean starting sentence."""
    out = []
    for i, s in enumerate(sents):
        turn_start = i == 0 or sents[i - 1].turn != s.turn
        if not turn_start and first_word(s.text) in _DANGLING_START:
            continue
        j = i
        while (
            j + 1 < len(sents)
            and sents[j + 1].chapter == s.chapter
            and sents[j].end - s.start < target
            and sents[j + 1].end - s.start <= max_len
        ):
            j += 1
        if sents[j].end - s.start >= target * 0.5:
            out.append((i, j))
    return out


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def best_moments(
    episode: Episode,
    n: int = 5,
    target: float = 45.0,
    max_len: float = 90.0,
    sentences: list[Sentence] | None = None,
) -> list[Moment]:
    """The ``n`` most snippable moments of ``episode``, spread over its chapters, in time order."""
    if n <= 0:
        return []
    sents = sentences if sentences is not None else timed_sentences(episode)
    if not sents:
        return []
    cands = _candidates(sents, target, max_len)
    if not cands:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer  # slow import

    stop = topic_stop_words()
    tfidf = TfidfVectorizer(
        stop_words=sorted(stop), sublinear_tf=True, token_pattern=r"[A-Za-z]\w+"
    )
    try:
        vecs = tfidf.fit_transform([s.text for s in sents]).tocsr()
    except ValueError:  # nothing but stop words
        return []

    def unit(row) -> Any:  # type: ignore[no-untyped-def]
        arr = np.asarray(row.sum(axis=0)).ravel()
        norm = float(np.linalg.norm(arr))
        return arr / norm if norm else arr

    chapter_idx: dict[str, list[int]] = {}
    for k, s in enumerate(sents):
        chapter_idx.setdefault(s.chapter, []).append(k)
    centroids = {ch: unit(vecs[idx]) for ch, idx in chapter_idx.items()}

    central, dense, contained = [], [], []
    for i, j in cands:
        win = sents[i : j + 1]
        central.append(float(unit(vecs[i : j + 1]) @ centroids[sents[i].chapter]))

        words = [m.lower() for s in win for m in _WORD.findall(s.text)]
        content = [x for x in words if x not in stop and len(x) > 2]
        dur = max(1.0, win[-1].end - win[0].start)
        ratio = len(content) / max(1, len(words))
        distinct_per_s = len(set(content)) / dur
        dense.append(ratio + 0.5 * min(distinct_per_s, 1.0))

        by_speaker: dict[str, int] = {}
        for s in win:
            by_speaker[s.speaker] = by_speaker.get(s.speaker, 0) + s.words
        main_share = max(by_speaker.values()) / max(1, sum(by_speaker.values()))
        starts_turn = i == 0 or sents[i - 1].turn != sents[i].turn
        ends_turn = j + 1 >= len(sents) or sents[j + 1].turn != sents[j].turn
        ends_question = is_question(win[-1].text)
        has_question = any(is_question(x.text) for x in win)
        contained.append(
            2.0 * main_share
            + 0.3 * starts_turn
            + 0.2 * ends_turn
            - 0.6 * ends_question
            - 0.3 * has_question
        )

    score = _zscore(np.array(central)) + 0.8 * _zscore(np.array(dense)) + np.array(contained)
    order = sorted(range(len(cands)), key=lambda k: (-score[k], cands[k][0]))

    picked: list[int] = []
    per_chapter: dict[str, int] = {}
    cap = 1
    while len(picked) < n:
        added = False
        for k in order:
            if len(picked) == n:
                break
            i, j = cands[k]
            ch = sents[i].chapter
            if k in picked or per_chapter.get(ch, 0) >= cap:
                continue
            s0, s1 = sents[i].start, sents[j].end
            if any(s0 < sents[cands[p][1]].end and sents[cands[p][0]].start < s1 for p in picked):
                continue
            picked.append(k)
            per_chapter[ch] = per_chapter.get(ch, 0) + 1
            added = True
        # Nothing more fits at this cap: raise it only if some chapter is at the cap.
        if not added and max(per_chapter.values(), default=0) < cap:
            break
        cap += 1

    moments = []
    for k in sorted(picked, key=lambda k: cands[k][0]):
        i, j = cands[k]
        win = Window(sents[i].start, sents[j].end, sents[i : j + 1])
        moments.append(
            Moment(
                start=win.start,
                end=win.end,
                chapter=win.chapter,
                speaker=win.speaker,
                quote=win.quote,
                score=round(float(score[k]), 4),
                central=round(central[k], 4),
                dense=round(dense[k], 4),
                self_contained=round(contained[k], 4),
            )
        )
    return moments
