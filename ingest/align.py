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


# Per-episode choice (align's default): the uniform rate, the fitted character model and the
# per-speaker one, chosen by leave-one-anchor-out error on the episode's own anchors.  Measured
# on the fixture (align-eval, nested): with chapter anchors only (12-25 per episode) the
# choice is noise (worse than the fixed default at turn level, 9.2 s vs 8.2 s mean), so it
# needs MIN_SELECT_ANCHORS interior anchors: in practice a transcript's own turn stamps.
SELECT_GRID = (
    BASELINE_CONFIG,
    RateConfig("chars", speakers=False, pause=False, ridge=None),
    DEFAULT_CONFIG,
    PER_SPEAKER_CONFIG,
)
MIN_SELECT_ANCHORS = 30  # interior anchors before the data can tell variants apart (see below)
MAX_SELECT_ANCHORS = 60
SELECT_MARGIN = 0.8  # another variant must beat the default's error by 20% to be chosen


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


STAMP = "<stamp>"  # label of an anchor from a timestamp the transcript writes on a turn
STAMP_AGREEMENT = 30.0  # seconds: stamps further than this from the chapters (median) are unused


def usable_stamps(
    stamps: list[float | None] | None, chapter_anchors: list[Anchor], duration: float | None
) -> dict[int, float]:
    """The transcript's per-turn stamps that can be trusted as anchors: within the episode,
    the longest run that never goes backwards, and, where chapters pin turns too, agreeing with
    them (median distance at most :data:`STAMP_AGREEMENT`; an edit of the audio after the
    transcript was stamped would shift every stamp, and then the chapters win)."""
    if not stamps:
        return {}
    limit = float(duration) if duration else float("inf")
    raw = [Anchor(i, float(s), STAMP) for i, s in enumerate(stamps) if s is not None and s <= limit]
    kept = {a.turn: a.time for a in _consistent(raw)}
    if len(kept) < 2:
        return kept
    turns_, times_ = np.array(sorted(kept)), np.array([kept[k] for k in sorted(kept)])
    diffs = [
        abs(float(np.interp(a.turn, turns_, times_)) - a.time)
        for a in chapter_anchors
        if a.label not in ("<start>", "<end>") and turns_[0] <= a.turn <= turns_[-1]
    ]
    if diffs and float(np.median(diffs)) > STAMP_AGREEMENT:
        warnings.warn(
            f"the transcript's timestamps disagree with the chapters (median "
            f"{np.median(diffs):.0f} s): using the chapters",
            AlignmentWarning,
            stacklevel=3,
        )
        return {}
    return kept


def build_anchors(
    turns: list[Turn],
    sections: list[str],
    chapters: list[Chapter],
    duration: float | None,
    stamps: list[float | None] | None = None,
) -> tuple[list[Anchor], dict[int, int]]:
    """Anchors from matched chapters, the transcript's usable stamps (``stamps[i]``: turn i's
    written start, or None), the start and the duration; the largest consistent set."""
    matches = match_chapters(chapters, sections)
    firsts = section_first_turns(turns, sections)
    anchors = [
        Anchor(firsts[s], float(chapters[c].start), chapters[c].title)
        for c, s in sorted(matches.items())
    ]
    # A stamp is written on the turn itself; a chapter's start is the show notes' rounding of
    # where the section begins.  Where both pin one turn, the stamp wins (added last).
    anchors += [Anchor(i, t, STAMP) for i, t in usable_stamps(stamps, anchors, duration).items()]
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
    n_turns: int = 0

    @property
    def clock(self) -> str:
        """The Episode's ``clock``: "transcript" when the transcript's own stamps pin every turn,
        "chapters" when chapters (or some stamps) anchor it, else "approximate"."""
        stamped = {a.turn for a in self.anchors if a.label == STAMP}
        if stamped and len(stamped) >= self.n_turns:
            return "transcript"
        real = [a for a in self.anchors if a.label not in ("<start>", "<end>")]
        return "chapters" if real else "approximate"


def align(
    turns: list[Turn],
    sections: list[str],
    chapters: list[Chapter],
    duration: float | None,
    uniform: bool = False,
    config: RateConfig | None = None,
    stamps: list[float | None] | None = None,
) -> Alignment:
    """Fill ``start``/``end`` of every turn in place; returns what was used.  ``stamps`` are
    the turns' written starts (:attr:`ingest.transcript.ParsedTurn.stamp`), used as anchors."""
    if not turns:
        raise PodlensError("the transcript has no turns to align")
    if not chapters and not duration and not any(s is not None for s in stamps or []):
        raise PodlensError(
            "the feed item has neither chapters nor a duration: no clock to align to"
        )
    if not chapters and not any(s is not None for s in stamps or []):
        warnings.warn(
            "the feed item has no chapters: turns are placed uniformly over the duration",
            AlignmentWarning,
            stacklevel=2,
        )
    anchors, matches = build_anchors(turns, sections, chapters, duration, stamps)
    if chapters and not matches and not any(a.label == STAMP for a in anchors):
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
    if config is None and not uniform:
        config = choose_config(turns, anchors)
    model = RateModel(turns, uniform=uniform, config=config).fit(anchors)
    starts, end = place(turns, anchors, model)
    for i, t in enumerate(turns):
        t.start = round(float(starts[i]), 2)
        t.end = round(float(starts[i + 1]) if i + 1 < len(turns) else end, 2)
    estimated = not duration
    total = float(duration) if duration else round(end, 2)
    return Alignment(
        total,
        estimated,
        matches,
        anchors,
        "uniform" if model.uniform else model.config.name,
        n_turns=len(turns),
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


def _interp_error(model: RateModel, anchors: list[Anchor], k: int) -> float:
    """Fit on every anchor but ``k``, predict ``k`` between its neighbours, return the error."""
    a, held, b = anchors[k - 1], anchors[k], anchors[k + 1]
    model.fit(anchors[:k] + anchors[k + 1 :])
    c = model.costs(a.turn, b.turn)
    tot = c.sum()
    part = model.costs(a.turn, held.turn).sum()
    pred = a.time + (b.time - a.time) * (part / tot if tot > 0 else 0.0)
    return abs(pred - held.time)


def _held_out(anchors: list[Anchor], labels: tuple[str, ...] = ("<start>", "<end>")) -> list[int]:
    """Indices of interior anchors (a neighbour on both sides) whose label is not in ``labels``."""
    return [k for k in range(1, len(anchors) - 1) if anchors[k].label not in labels]


def choose_config(
    turns: list[Turn],
    anchors: list[Anchor],
    grid: tuple[RateConfig, ...] | None = None,
    models: dict[RateConfig, RateModel] | None = None,
) -> RateConfig:
    """The variant of ``grid`` (default :data:`SELECT_GRID`) with the lowest mean
    leave-one-anchor-out error on this episode's own anchors; :data:`DEFAULT_CONFIG` when there
    are fewer than :data:`MIN_SELECT_ANCHORS` interior anchors to tell them apart.  The uniform
    rate is in the grid, so where the data can tell, the choice is never worse than uniform on
    the anchors it sees."""
    grid = grid or SELECT_GRID
    held = _held_out(anchors)
    if len(held) < MIN_SELECT_ANCHORS:
        return DEFAULT_CONFIG
    if len(held) > MAX_SELECT_ANCHORS:  # dense stamps: an even subsample tells as much
        held = held[:: -(-len(held) // MAX_SELECT_ANCHORS)]
    models = models if models is not None else {}
    scores = {}
    for cfg in grid:
        model = models.setdefault(cfg, RateModel(turns, config=cfg))
        scores[cfg] = float(np.mean([_interp_error(model, anchors, k) for k in held]))
    # The default wins unless another variant is clearly better: with a dozen anchors the
    # leave-one-out means are noisy, and a near tie is noise (measured with align-eval).
    best = min(grid, key=lambda c: (scores[c], grid.index(c)))
    if DEFAULT_CONFIG in scores and scores[best] > SELECT_MARGIN * scores[DEFAULT_CONFIG]:
        return DEFAULT_CONFIG
    return best


def cross_validate(
    turns: list[Turn],
    sections: list[str],
    chapters: list[Chapter],
    duration: float | None,
    uniform: bool = False,
    config: RateConfig | None = None,
    select: bool = False,
    stamps: list[float | None] | None = None,
) -> CVResult:
    """Leave one chapter anchor out, refit on the rest, predict its start; interior anchors only
    (a neighbour on both sides), so every prediction is an interpolation.

    ``select``: the variant is chosen per held-out chapter by :func:`choose_config` on the
    remaining anchors only (nested, so the choice never sees the point it is scored on).
    ``stamps`` (turn stamps used as anchors) make the neighbours of a chapter closer; a chapter
    whose first turn is itself stamped is scored as the stamp against the published time."""
    anchors, _ = build_anchors(turns, sections, chapters, duration, stamps)
    errors, labels = [], []
    models: dict[RateConfig, RateModel] = {}
    fixed = BASELINE_CONFIG if uniform else (config or DEFAULT_CONFIG)
    if stamps:  # chapter anchors replaced by a stamp on the same turn: score the stamp
        by_turn = {a.turn: a for a in anchors}
        firsts = section_first_turns(turns, sections)
        for c, sec in sorted(match_chapters(chapters, sections).items()):
            a = by_turn.get(firsts[sec])
            if a is not None and a.label == STAMP:
                errors.append(abs(a.time - chapters[c].start))
                labels.append(chapters[c].title)
    for k in _held_out(anchors, ("<start>", "<end>", STAMP)):
        held = anchors[k]
        rest = anchors[:k] + anchors[k + 1 :]
        cfg = choose_config(turns, rest, models=models) if select else fixed
        model = models.setdefault(cfg, RateModel(turns, config=cfg))
        errors.append(_interp_error(model, anchors, k))
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
    anchor_stamps: list[float | None] | None = None,
    select: bool = False,
) -> list[float]:
    """|predicted - written| start of every turn whose transcript writes a timestamp in
    ``stamps``, placing the turns from the chapter anchors and ``anchor_stamps`` (a disjoint
    subset of the stamps, e.g. every other one; the measured stamps are never seen).  Turns
    pinned by an anchor are left out: they are exact by construction.  ``select`` chooses the
    variant per episode (:func:`choose_config`) from those anchors."""
    anchors, _ = build_anchors(turns, sections, chapters, duration, anchor_stamps)
    if select and not uniform:
        config = choose_config(turns, anchors)
    model = RateModel(turns, uniform=uniform, config=config).fit(anchors)
    starts, _ = place(turns, anchors, model)
    pinned = {a.turn for a in anchors}
    return [
        abs(float(starts[i]) - s) for i, s in enumerate(stamps) if s is not None and i not in pinned
    ]
