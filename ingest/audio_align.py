"""Put the transcript on the audio's own clock: every word at the moment it is heard.

The transcript is human-edited and the audio is what was said, so the two differ: an intro, ads
and music the transcript lacks, fillers and false starts it removed, names the recogniser
mishears.  Alignment copes with that by trusting only what both agree on:

1. **Hear** (:mod:`ingest.asr`): Whisper's words and their times, slice by slice.
2. **Islands**: runs of at least :data:`MIN_RUN` words that the recogniser and the transcript
   share (``difflib``), searched for near where the last island left off, so a phrase that
   recurs later cannot pull an early stretch to the wrong repetition; an equal-length stretch
   between two islands (a misheard name) takes the heard words' times one for one.  Islands that
   would have the speaker talk impossibly fast between them are dropped.
3. **Inside each gap** between two islands the same matching runs again on just the words
   between them, now accepting shorter runs (:data:`GAP_MIN_RUN`, one word in a small gap) and
   one-for-one misheard words between matches: the islands around the gap rule out the wrong
   repetition, so what was too weak to trust across the whole episode is safe there.
4. **What is still unmatched** is spread evenly between the matches around it: one stretch that
   will not match (an ad, music, a garbled passage) cannot drag the rest.  Stretches of more than
   :data:`UNSURE_WORDS` unmatched words are reported as unsure.

Each word records where its time came from (``"heard"`` or ``"spread"``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise

from ingest.asr import Word
from podlens.models import Turn
from podlens.sentences import turn_words

MIN_RUN = 3  # shared words in a row before a stretch counts as an island
SPAN = 400  # heard words matched at a time
LOOK_BACK, LOOK_AHEAD = 60, 3  # transcript window around the cursor: words back, x SPAN ahead
MAX_RATE = 7.0  # words per second nobody sustains between two islands
UNSURE_WORDS = 40  # an unmatched stretch this long is reported as unsure
SPREAD_RATE = 2.6  # words per second, to place words before the first / after the last island
MIN_MATCHED = 0.3  # below this share of words heard, the audio is not this transcript
GAP_MIN_RUN = 2  # shared words in a row that count inside a gap between two islands
SMALL_GAP = 8  # a gap this short (words on both sides) may match a single word
GAP_MAX = 2000  # longer gaps are left to spreading (matching them is quadratic)

_TOKEN = re.compile(r"[^a-z0-9]+")
_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


@dataclass
class AudioAlignment:
    """Times for every word of the transcript's word stream (:func:`podlens.sentences.turn_words`
    over all turns, in order), and how much of it the audio confirmed."""

    starts: list[float]
    ends: list[float]
    source: list[str]  # per word: "heard" (an island's time) or "spread" (between islands)
    unsure: list[tuple[int, int]] = field(default_factory=list)  # [lo, hi) word ranges

    @property
    def heard_share(self) -> float:
        return sum(s == "heard" for s in self.source) / max(1, len(self.source))


def norm_token(word: str) -> str:
    """A word as both sides spell it: lower case, accents and punctuation dropped, and a plural
    or tense ending cut ("seems" and "seemed" are one word here: the recogniser often hears
    the other form)."""
    word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    word = _TOKEN.sub("", word.lower())
    return _SUFFIX.sub("", word) if len(word) > 4 else word


def match_words(tokens: Sequence[str], heard: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs ``(transcript word, heard word)`` that are the same speech, both increasing."""
    pairs: list[tuple[int, int]] = []
    cursor = 0
    for a in range(0, len(heard), SPAN):
        chunk = list(heard[a : a + SPAN])
        lo = max(0, cursor - LOOK_BACK)
        hi = min(len(tokens), cursor + LOOK_AHEAD * SPAN)
        found = _islands(chunk, tokens, lo, hi, pairs)
        if not found and hi < len(tokens):  # lost (a long cut in the audio): search the rest
            found = _islands(chunk, tokens, cursor, len(tokens), pairs)
        for ti, hi_ in found:
            pairs.append((ti, a + hi_))
        if found:
            cursor = found[-1][0] + 1
    return _plausible(pairs)


def _islands(
    chunk: list[str], tokens: Sequence[str], lo: int, hi: int, pairs: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Matches of ``chunk`` in ``tokens[lo:hi]`` as (transcript index, chunk index), after the
    last pair already made."""
    last = pairs[-1][0] if pairs else -1
    sm = SequenceMatcher(None, chunk, list(tokens[lo:hi]), autojunk=False)
    out: list[tuple[int, int]] = []
    ops = sm.get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal" and i2 - i1 >= MIN_RUN:
            out.extend((lo + j1 + d, i1 + d) for d in range(i2 - i1))
        elif (
            tag == "replace"
            and i2 - i1 == j2 - j1 <= 3
            and 0 < k < len(ops) - 1
            and ops[k - 1][0] == "equal"
            and ops[k + 1][0] == "equal"
            and ops[k - 1][2] - ops[k - 1][1] >= MIN_RUN
            and ops[k + 1][2] - ops[k + 1][1] >= MIN_RUN
        ):  # a misheard word or two between two islands
            out.extend((lo + j1 + d, i1 + d) for d in range(i2 - i1))
    return [p for p in out if p[0] > last]


def _plausible(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``pairs`` with island runs removed that are strictly increasing in neither index."""
    out: list[tuple[int, int]] = []
    for p in pairs:
        if not out or (p[0] > out[-1][0] and p[1] > out[-1][1]):
            out.append(p)
    return out


def _runs(pairs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    runs: list[list[tuple[int, int]]] = []
    for p in pairs:
        if runs and p[0] == runs[-1][-1][0] + 1 and p[1] == runs[-1][-1][1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def fill_gaps(
    tokens: Sequence[str], heard: Sequence[str], pairs: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """``pairs`` plus the matches found inside each gap between two of them (and before the
    first, after the last), where the words on both sides are already pinned."""
    bounds = [(-1, -1), *pairs, (len(tokens), len(heard))]
    out: list[tuple[int, int]] = []
    for (ta, ha), (tb, hb) in pairwise(bounds):
        if ta >= 0:
            out.append((ta, ha))
        gap_t, gap_h = tb - ta - 1, hb - ha - 1
        if 0 < gap_t <= GAP_MAX and 0 < gap_h <= GAP_MAX:
            found = _gap_matches(tokens[ta + 1 : tb], heard[ha + 1 : hb])
            out.extend((ta + 1 + j, ha + 1 + i) for j, i in found)
    return out


def _gap_matches(tokens: Sequence[str], heard: Sequence[str]) -> list[tuple[int, int]]:
    """(transcript, heard) index pairs inside one gap: equal runs of :data:`GAP_MIN_RUN` words
    (one in a gap of :data:`SMALL_GAP` or fewer), then single equal or misheard words that sit
    between two accepted matches (the gap's ends count as matches)."""
    min_run = 1 if max(len(tokens), len(heard)) <= SMALL_GAP else GAP_MIN_RUN
    ops = SequenceMatcher(None, list(heard), list(tokens), autojunk=False).get_opcodes()
    keep = [tag == "equal" and i2 - i1 >= min_run for tag, i1, i2, _, _ in ops]
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        pinned_before = k == 0 or keep[k - 1]
        pinned_after = k == len(ops) - 1 or keep[k + 1]
        if not keep[k] and pinned_before and pinned_after:
            keep[k] = tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1 <= 3)
    return [
        (j1 + d, i1 + d)
        for (tag, i1, i2, j1, _), kept in zip(ops, keep, strict=True)
        if kept and tag in ("equal", "replace")
        for d in range(i2 - i1)
    ]


def drop_impossible(pairs: list[tuple[int, int]], words: Sequence[Word]) -> list[tuple[int, int]]:
    """Drop the smaller of two neighbouring islands when the speech between them would run
    faster than :data:`MAX_RATE` words per second (one of them matched the wrong place)."""
    runs = _runs(pairs)
    changed = True
    while changed and len(runs) > 1:
        changed = False
        for k in range(len(runs) - 1):
            a, b = runs[k], runs[k + 1]
            gap_words = b[0][0] - a[-1][0]
            gap_time = words[b[0][1]].start - words[a[-1][1]].end
            if gap_words > 10 and gap_words > MAX_RATE * max(gap_time, 0.0):
                del runs[k if len(a) < len(b) else k + 1]
                changed = True
                break
    return [p for r in runs for p in r]


def place_words(
    n: int, pairs: list[tuple[int, int]], words: Sequence[Word], duration: float
) -> AudioAlignment:
    """Times for ``n`` transcript words from the matched ``pairs``: heard words take their own
    times, the rest are spread evenly between the islands around them."""
    starts = [0.0] * n
    ends = [0.0] * n
    source = ["spread"] * n
    for ti, wi in pairs:
        starts[ti], ends[ti], source[ti] = words[wi].start, words[wi].end, "heard"
    anchored = [ti for ti, _ in pairs]
    unsure: list[tuple[int, int]] = []
    if not anchored:
        step = duration / max(1, n)
        for i in range(n):
            starts[i], ends[i] = round(i * step, 3), round((i + 1) * step, 3)
        return AudioAlignment(starts, ends, source, [(0, n)] if n else [])
    first, last = anchored[0], anchored[-1]
    per = 1.0 / SPREAD_RATE
    for i in range(first - 1, -1, -1):  # before the first island, at a usual speaking rate
        starts[i] = max(0.0, starts[i + 1] - per)
        ends[i] = starts[i + 1]
    for i in range(last + 1, n):
        starts[i] = min(duration, ends[i - 1])
        ends[i] = min(duration, starts[i] + per)
    for a, b in pairwise(anchored):
        if b - a <= 1:
            continue
        t0, t1 = ends[a], max(ends[a], starts[b])
        step = (t1 - t0) / (b - a)
        for i in range(a + 1, b):
            starts[i] = round(t0 + step * (i - a - 1), 3)
            ends[i] = round(t0 + step * (i - a), 3)
        if b - a - 1 > UNSURE_WORDS:
            unsure.append((a + 1, b))
    if first > UNSURE_WORDS:
        unsure.insert(0, (0, first))
    if n - 1 - last > UNSURE_WORDS:
        unsure.append((last + 1, n))
    return AudioAlignment(starts, ends, source, unsure)


def align_to_audio(turns: list[Turn], words: Sequence[Word], duration: float) -> AudioAlignment:
    """Place every word of ``turns`` on the audio clock of ``words`` (what was heard)."""
    per_turn = [turn_words(t) for t in turns]
    tokens = [norm_token(w) for ws in per_turn for w in ws]
    heard = [norm_token(w.text) for w in words]
    pairs = drop_impossible(match_words(tokens, heard), words)
    pairs = drop_impossible(fill_gaps(tokens, heard, pairs), words)
    return place_words(len(tokens), pairs, words, duration)


def apply_to_turns(turns: list[Turn], al: AudioAlignment) -> None:
    """Set each turn's start, end and word starts from ``al`` (in place)."""
    i = 0
    for turn in turns:
        n = len(turn_words(turn))
        if n == 0:
            turn.start = turn.end = al.starts[i] if i < len(al.starts) else turn.start
            turn.word_starts = []
            continue
        turn.word_starts = [round(x, 3) for x in al.starts[i : i + n]]
        turn.start = round(al.starts[i], 3)
        turn.end = round(max(al.ends[i + n - 1], al.starts[i]), 3)
        i += n
