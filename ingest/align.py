"""Place transcript turns on the audio clock through the feed's chapter anchors.

1. **Match** feed chapters to transcript sections by fuzzy title (rapidfuzz), keeping document
   order: a monotone alignment (dynamic programming) that maximises the summed similarity of the
   pairs scoring at least ``MATCH_THRESHOLD``.
2. **Anchors**: each matched chapter pins the first turn of its section to the chapter's start;
   the audio start pins turn 0 (when no chapter does) and the feed's duration, if any, pins the end.
   Anchors that would make time run backwards (feeds repeat or mistype stamps) are dropped, keeping
   the largest consistent set.
3. **Rate model**: the time a turn takes is ``rate * chars + pause`` (a speaking rate per
   non-space character and a per-turn overhead), fitted by ridge-regularised least squares over
   the intervals between anchors, shrunk towards the episode's uniform rate (:class:`RateConfig`
   also allows per-speaker rates and word counts).  Between two anchors the interval's real
   length is shared out in proportion to the model's predicted turn lengths, so the anchors are
   hit exactly; after the last anchor (no duration in the feed) the model extrapolates, which also
   estimates the episode's end.

Which variant is used (:data:`DEFAULT_CONFIG`) was chosen on the 25-episode AXRP fixture by
leave-one-episode-out selection over :data:`CONFIG_GRID` (``python -m ingest align-eval``).
Characters beat words there, at chapter starts and, clearly, at the per-turn timestamps that
newer transcripts write; per-speaker rates did not help: chapter intervals mix the speakers in
similar proportions, so chapter anchors cannot tell their rates apart.  ``uniform=True`` gives
the baseline: every word takes the same time.  :func:`cross_validate` is the leave-one-chapter-out
measurement, :func:`turn_errors` the per-turn one.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from rapidfuzz import fuzz

from podlens.errors import PodlensError
from podlens.models import Chapter, Turn

MATCH_THRESHOLD = 70.0
MIN_SPEAKER_WORDS = 300  # speakers with fewer words share one "other" rate


@dataclass(frozen=True)
class RateConfig:
    """One variant of the rate model.  ``ridge`` is the pull towards the uniform rate, relative
    to the data's scale; ``None`` fits nothing (one rate per ``unit`` for the whole episode)."""

    unit: str = "chars"  # "chars" (non-space characters) or "words"
    speakers: bool = False  # one rate per speaker with >= MIN_SPEAKER_WORDS words
    pause: bool = True  # a fitted per-turn overhead
    ridge: float | None = 0.1

    @property
    def name(self) -> str:
        if self.ridge is None:
            return f"uniform {self.unit}"
        parts = [self.unit, "per-speaker" if self.speakers else "one rate"]
        if self.pause:
            parts.append("pause")
        return f"{' + '.join(parts)}, ridge {self.ridge:g}"


BASELINE_CONFIG = RateConfig("words", speakers=False, pause=False, ridge=None)
PER_SPEAKER_CONFIG = RateConfig("chars", speakers=True, pause=True, ridge=0.5)  # the first model
DEFAULT_CONFIG = RateConfig("chars", speakers=False, pause=True, ridge=0.1)
CONFIG_GRID = tuple(
    RateConfig(unit, speakers, pause, ridge)
    for unit in ("words", "chars")
    for speakers, pause, ridge in (
        (False, False, None),
        (False, True, 0.1),
        (False, True, 0.5),
        (True, True, 0.1),
        (True, True, 0.5),
        (True, True, 2.0),
    )
)


class AlignmentWarning(UserWarning):
    """Alignment ran without chapter anchors (duration only): times are a uniform estimate."""


def norm_title(s: str) -> str:
    s = unicodedata.normalize("NFKC", s or "").lower()
    s = s.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    s = re.sub(r"[^\w\s]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def title_score(a: str, b: str) -> float:
    na, nb = norm_title(a), norm_title(b)
    if not na or not nb:
        return 0.0
    return max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb))


def match_chapters(
    chapters: list[Chapter], sections: list[str], threshold: float = MATCH_THRESHOLD
) -> dict[int, int]:
    """``{chapter index: section index}``: the order-preserving matching of best total score."""
    n, m = len(chapters), len(sections)
    if not n or not m:
        return {}
    score = np.array([[title_score(c.title, s) for s in sections] for c in chapters])
    gain = np.where(score >= threshold, score, -np.inf)
    best = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=np.int8)  # 0 skip chapter, 1 skip section, 2 match
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            opts = (best[i - 1, j], best[i, j - 1], best[i - 1, j - 1] + gain[i - 1, j - 1])
            k = int(np.argmax(opts))
            best[i, j], move[i, j] = opts[k], k
    out: dict[int, int] = {}
    i, j = n, m
    while i > 0 and j > 0:
        if move[i, j] == 2:
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif move[i, j] == 0:
            i -= 1
        else:
            j -= 1
    return out


def section_first_turns(turns: list[Turn], sections: list[str]) -> list[int]:
    """For each section (in order) the index of its first turn; an empty section starts where
    the next turn starts."""
    firsts: list[int] = []
    ti = 0
    for k, title in enumerate(sections):
        # turns are in document order; a section's turns carry its title
        j = ti
        while j < len(turns) and turns[j].chapter != title:
            if k + 1 < len(sections) and turns[j].chapter == sections[k + 1]:
                break
            j += 1
        if j < len(turns) and turns[j].chapter == title:
            ti = j
        firsts.append(ti if j < len(turns) and turns[j].chapter == title else min(j, len(turns)))
    return firsts


@dataclass
class Anchor:
    turn: int  # index of the turn it pins (len(turns) = the end)
    time: float
    label: str  # chapter title, "<start>" or "<end>"


def _consistent(anchors: list[Anchor]) -> list[Anchor]:
    """Largest subset with time non-decreasing in turn order (one anchor per turn index)."""
    by_turn: dict[int, Anchor] = {}
    for a in sorted(anchors, key=lambda a: a.turn):
        by_turn[a.turn] = a  # later chapters at the same turn win (empty parent sections)
    xs = sorted(by_turn.values(), key=lambda a: a.turn)
    n = len(xs)
    if n <= 1:
        return xs
    length = [1] * n
    prev = [-1] * n
    for i in range(n):
        for j in range(i):
            if xs[j].time <= xs[i].time and length[j] + 1 > length[i]:
                length[i], prev[i] = length[j] + 1, j
    i = int(np.argmax(length))
    keep = []
    while i != -1:
        keep.append(xs[i])
        i = prev[i]
    return keep[::-1]


def _words(t: Turn) -> int:
    return len(t.text.split())


def _chars(t: Turn) -> int:
    """Non-space characters: a better proxy than words for how long speech takes (long words
    take longer to say); measured with ``align-eval``."""
    return len("".join(t.text.split()))


class RateModel:
    """Predicted seconds per turn: ``rate[speaker group] * length + pause``."""

    def __init__(
        self, turns: list[Turn], uniform: bool = False, config: RateConfig | None = None
    ) -> None:
        self.config = BASELINE_CONFIG if uniform else (config or DEFAULT_CONFIG)
        self.uniform = self.config.ridge is None
        counts: Counter[str] = Counter()
        for t in turns:
            counts[t.speaker] += _words(t)  # group threshold in words either way
        self.groups = (
            sorted(s for s, w in counts.items() if w >= MIN_SPEAKER_WORDS)
            if self.config.speakers
            else []
        )
        self.index = {s: i for i, s in enumerate(self.groups)}
        self.n_groups = len(self.groups) + 1  # + "other" (everyone, with one rate)
        unit = _words if self.config.unit == "words" else _chars
        self.words = np.array([unit(t) for t in turns], dtype=float)
        feats = np.zeros((len(turns), self.n_groups + 1))
        for i, t in enumerate(turns):
            feats[i, self.index.get(t.speaker, self.n_groups - 1)] = self.words[i]
            feats[i, -1] = 1.0 if self.config.pause and self.words[i] > 0 else 0.0
        self.feats = feats
        self.theta = np.zeros(self.n_groups + 1)

    def fit(self, anchors: list[Anchor]) -> RateModel:
        rows, ys = [], []
        for a, b in pairwise(anchors):
            if b.turn > a.turn:
                rows.append(self.feats[a.turn : b.turn].sum(axis=0))
                ys.append(b.time - a.time)
        X = np.array(rows) if rows else np.zeros((0, self.feats.shape[1]))
        y = np.array(ys)
        total_w = X[:, :-1].sum() if len(X) else 0.0
        r0 = (
            float(y.sum() / total_w)
            if total_w > 0
            else (0.4 if self.config.unit == "words" else 0.08)
        )
        prior = np.array([r0] * self.n_groups + [0.0])
        if self.uniform or len(X) < 2:
            self.theta = prior
            return self
        # ridge towards the prior, scaled per column so it is unit-free
        scale = np.sqrt((X**2).sum(axis=0)) + 1e-9
        lam = float(self.config.ridge) * np.ones_like(prior)
        A = np.vstack([X, np.diag(np.sqrt(lam) * scale)])
        rhs = np.concatenate([y, np.sqrt(lam) * scale * prior])
        theta, *_ = np.linalg.lstsq(A, rhs, rcond=None)
        theta[:-1] = np.clip(theta[:-1], 0.2 * r0, 5 * r0)
        theta[-1] = np.clip(theta[-1], 0.0, 30.0)
        self.theta = theta
        return self

    def costs(self, lo: int, hi: int) -> np.ndarray:
        return self.feats[lo:hi] @ self.theta


def build_anchors(
    turns: list[Turn], sections: list[str], chapters: list[Chapter], duration: float | None
) -> tuple[list[Anchor], dict[int, int]]:
    matches = match_chapters(chapters, sections)
    firsts = section_first_turns(turns, sections)
    anchors = [
        Anchor(firsts[s], float(chapters[c].start), chapters[c].title)
        for c, s in sorted(matches.items())
    ]
    if not any(a.turn == 0 for a in anchors):
        anchors.append(Anchor(0, 0.0, "<start>"))
    if duration and duration > 0:
        anchors.append(Anchor(len(turns), float(duration), "<end>"))
    return _consistent(anchors), matches


def place(turns: list[Turn], anchors: list[Anchor], model: RateModel) -> tuple[np.ndarray, float]:
    """Start time of every turn and the end of the last, from anchors and the model."""
    n = len(turns)
    starts = np.zeros(n + 1)
    for a, b in pairwise(anchors):
        c = model.costs(a.turn, b.turn)
        tot = c.sum()
        frac = np.concatenate([[0.0], np.cumsum(c)[:-1]]) / tot if tot > 0 else np.zeros(len(c))
        starts[a.turn : b.turn] = a.time + (b.time - a.time) * frac
    last = anchors[-1]
    if last.turn < n:
        c = model.costs(last.turn, n)
        starts[last.turn : n] = last.time + np.concatenate([[0.0], np.cumsum(c)[:-1]])
        starts[n] = last.time + c.sum()
    else:
        starts[n] = last.time
    return starts[:n], float(starts[n])


@dataclass
class Alignment:
    duration: float
    duration_estimated: bool
    matches: dict[int, int]
    anchors: list[Anchor]
    method: str


def align(
    turns: list[Turn],
    sections: list[str],
    chapters: list[Chapter],
    duration: float | None,
    uniform: bool = False,
    config: RateConfig | None = None,
) -> Alignment:
    """Fill ``start``/``end`` of every turn in place; returns what was used."""
    if not turns:
        raise PodlensError("the transcript has no turns to align")
    if not chapters and not duration:
        raise PodlensError(
            "the feed item has neither chapters nor a duration: no clock to align to"
        )
    if not chapters:
        warnings.warn(
            "the feed item has no chapters: turns are placed uniformly over the duration",
            AlignmentWarning,
            stacklevel=2,
        )
    anchors, matches = build_anchors(turns, sections, chapters, duration)
    if chapters and not matches:
        if not duration:
            raise PodlensError(
                "no feed chapter matches a transcript section and there is no duration: "
                "no clock to align to"
            )
        warnings.warn(
            "no feed chapter matches a transcript section: turns are placed uniformly",
            AlignmentWarning,
            stacklevel=2,
        )
    model = RateModel(turns, uniform=uniform, config=config).fit(anchors)
    starts, end = place(turns, anchors, model)
    for i, t in enumerate(turns):
        t.start = round(float(starts[i]), 2)
        t.end = round(float(starts[i + 1]) if i + 1 < len(turns) else end, 2)
    estimated = not duration
    total = float(duration) if duration else round(end, 2)
    return Alignment(
        total, estimated, matches, anchors, "uniform" if model.uniform else model.config.name
    )


@dataclass
class CVResult:
    errors: list[float]  # |predicted - published| per held-out chapter, seconds
    labels: list[str]

    @property
    def mean(self) -> float:
        return float(np.mean(self.errors)) if self.errors else float("nan")

    @property
    def median(self) -> float:
        return float(np.median(self.errors)) if self.errors else float("nan")


def cross_validate(
    turns: list[Turn],
    sections: list[str],
    chapters: list[Chapter],
    duration: float | None,
    uniform: bool = False,
    config: RateConfig | None = None,
) -> CVResult:
    """Leave one chapter anchor out, refit on the rest, predict its start; interior anchors only
    (a neighbour on both sides), so every prediction is an interpolation."""
    anchors, _ = build_anchors(turns, sections, chapters, duration)
    errors, labels = [], []
    for k in range(1, len(anchors) - 1):
        held = anchors[k]
        if held.label in ("<start>", "<end>"):
            continue
        rest = anchors[:k] + anchors[k + 1 :]
        model = RateModel(turns, uniform=uniform, config=config).fit(rest)
        a, b = anchors[k - 1], anchors[k + 1]
        c = model.costs(a.turn, b.turn)
        tot = c.sum()
        part = model.costs(a.turn, held.turn).sum()
        pred = a.time + (b.time - a.time) * (part / tot if tot > 0 else 0.0)
        errors.append(abs(pred - held.time))
        labels.append(held.label)
    return CVResult(errors, labels)


def turn_errors(
    turns: list[Turn],
    stamps: list[float | None],
    sections: list[str],
    chapters: list[Chapter],
    duration: float | None,
    uniform: bool = False,
    config: RateConfig | None = None,
) -> list[float]:
    """|predicted - written| start of every turn whose transcript writes a timestamp, placing the
    turns from the chapter anchors only (the stamps are never seen).  Turns pinned by an anchor
    are left out: they are exact by construction."""
    anchors, _ = build_anchors(turns, sections, chapters, duration)
    model = RateModel(turns, uniform=uniform, config=config).fit(anchors)
    starts, _ = place(turns, anchors, model)
    pinned = {a.turn for a in anchors}
    return [
        abs(float(starts[i]) - s) for i, s in enumerate(stamps) if s is not None and i not in pinned
    ]
