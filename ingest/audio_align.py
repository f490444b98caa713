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
   between them, now accepting shorter runs (:data:`GAP_MIN_RUN` equal words, one in a small
   gap) with misheard words among them ("yeah, that seems reasonable" heard as "yeah, have seen
   reasonable"): the islands around the gap rule out the wrong repetition, so what was too
   weak to trust across the whole episode is safe there.
4. **Words heard differently in number** ("there's" as "there are") are paired last, inside the
   gaps that remain, by spelling similarity in order (:func:`_similar_pairs`).
5. **Whole sentences heard as something else** ("fair enough" as "very tough") pair, in order,
   with the utterances left in their gap that have about as many words
   (:func:`utterance_pairs`), and take their times.
6. **What is still unmatched** is spread evenly between the matches around it: one stretch that
   will not match (an ad, music, a garbled passage) cannot drag the rest.  Stretches of more than
   :data:`UNSURE_WORDS` unmatched words are reported as unsure.

Each word records where its time came from (``"heard"`` or ``"spread"``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import pairwise

from rapidfuzz import fuzz

from ingest.asr import Word
from podlens.models import Turn
from podlens.sentences import split_sentences, turn_words

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
SIMILAR = 0.8  # spelling similarity (0-1) at which a leftover word may pair with a heard one
SIMILAR_GAP_MAX = 300  # the similarity pairing is quadratic in Python: gaps up to this many words
PAUSE = 0.3  # seconds of silence that end an utterance
SAME_LENGTH = 0.5  # a sentence and an utterance pair when their word counts are this alike (0-1)

_TOKEN = re.compile(r"[^a-z0-9]+")
_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


@dataclass
class AudioAlignment:
    """Times for every word of the transcript's word stream (:func:`podlens.sentences.turn_words`
    over all turns, in order), and how much of it the audio confirmed."""

    starts: list[float]
    ends: list[float]
    source: list[str]  # per word: "heard" (its own time), "utterance" (its sentence's) or "spread"
    unsure: list[tuple[int, int]] = field(default_factory=list)  # [lo, hi) word ranges
    # (a, b): matched words with more heard between them than the transcript has (an ad,
    # fillers): speech the transcript lacks, which a forced aligner must not be given
    extra: list[tuple[int, int]] = field(default_factory=list)

    @property
    def heard_share(self) -> float:
        """The share of words matched one by one to a heard word."""
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


GapMatcher = Callable[[Sequence[str], Sequence[str]], list[tuple[int, int]]]


def fill_gaps(
    tokens: Sequence[str],
    heard: Sequence[str],
    pairs: list[tuple[int, int]],
    match: GapMatcher,
    largest: int = GAP_MAX,
) -> list[tuple[int, int]]:
    """``pairs`` plus what ``match`` pairs inside each gap between two of them (and before the
    first, after the last), where the words on both sides are already pinned.  Gaps with more
    than ``largest`` words on either side are left as they are."""
    bounds = [(-1, -1), *pairs, (len(tokens), len(heard))]
    out: list[tuple[int, int]] = []
    for (ta, ha), (tb, hb) in pairwise(bounds):
        if ta >= 0:
            out.append((ta, ha))
        gap_t, gap_h = tb - ta - 1, hb - ha - 1
        if 0 < gap_t <= largest and 0 < gap_h <= largest:
            found = match(tokens[ta + 1 : tb], heard[ha + 1 : hb])
            out.extend((ta + 1 + j, ha + 1 + i) for j, i in found)
    return out


def _gap_matches(tokens: Sequence[str], heard: Sequence[str]) -> list[tuple[int, int]]:
    """(transcript, heard) index pairs inside one gap.  The gap's edit script is cut into runs
    of speech that line up word for word (equal stretches and misheard ones of the same length,
    no word added or lost); a run is kept when at least half its words sound alike (equal, or
    spelled nearly so: "seems" heard as "seen") and there are :data:`GAP_MIN_RUN` of them --
    one is enough in a gap of :data:`SMALL_GAP` words or for a run that touches the island at
    either end of the gap (it only extends that island)."""
    small = max(len(tokens), len(heard)) <= SMALL_GAP
    ops = SequenceMatcher(None, list(heard), list(tokens), autojunk=False).get_opcodes()
    out: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []  # (heard, transcript) of one word-for-word run

    def close() -> None:
        if run:
            alike = sum(_sounds_alike(heard[i], tokens[j]) for i, j in run)
            touches = run[0] == (0, 0) or run[-1] == (len(heard) - 1, len(tokens) - 1)
            need = 1 if small or touches else GAP_MIN_RUN
            if alike >= need and 2 * alike >= len(run):
                out.extend((j, i) for i, j in run)
        run.clear()

    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1 <= 3):
            run.extend((i1 + d, j1 + d) for d in range(i2 - i1))
        else:
            close()
    close()
    return out


def _sounds_alike(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 3 and fuzz.ratio(a, b) >= 70)


def _similar_pairs(tokens: Sequence[str], heard: Sequence[str]) -> list[tuple[int, int]]:
    """The last resort inside a gap, for words heard differently in number ("there's" heard as
    "there are"): the order-keeping pairing of transcript and heard words that maximises their
    spelling similarity, counting only words of three letters or more that are
    :data:`SIMILAR`-alike, so a stray "the" in an ad is never pulled in."""
    sim = [
        [fuzz.ratio(t, h) / 100 if len(t) >= 3 and len(h) >= 3 else 0.0 for h in heard]
        for t in tokens
    ]
    return best_pairing(sim, SIMILAR)


def best_pairing(sim: list[list[float]], threshold: float) -> list[tuple[int, int]]:
    """The order-keeping pairs ``(i, j)`` of rows and columns of ``sim`` with the largest total
    similarity, using only cells of at least ``threshold`` (a weighted longest common
    subsequence)."""
    n, m = len(sim), len(sim[0]) if sim else 0
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, up, s_row = best[i], best[i - 1], sim[i - 1]
        for j in range(1, m + 1):
            s = s_row[j - 1]
            diag = up[j - 1] + s if s >= threshold else -1.0
            row[j] = max(up[j], row[j - 1], diag)
    out: list[tuple[int, int]] = []
    i, j = n, m
    while i and j:
        s = sim[i - 1][j - 1]
        if s >= threshold and best[i][j] == best[i - 1][j - 1] + s:
            out.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return out[::-1]


def utterance_pairs(
    pairs: list[tuple[int, int]], words: Sequence[Word], sentence_starts: frozenset[int], n: int
) -> dict[int, tuple[float, float]]:
    """Times for whole unmatched sentences that were heard as something else ("fair enough"
    as "very tough", a "yeah" under a laugh): inside each gap the heard words are cut into
    utterances at pauses of :data:`PAUSE` s, the transcript words into sentence pieces, and
    pieces pair, in order, with utterances of about as many words (:data:`SAME_LENGTH`).
    Returns ``{word index: (start, end)}`` for the words of paired pieces."""
    out: dict[int, tuple[float, float]] = {}
    bounds = [(-1, -1), *pairs, (n, len(words))]
    for (ta, ha), (tb, hb) in pairwise(bounds):
        if tb - ta <= 1 or hb - ha <= 1 or tb - ta > SIMILAR_GAP_MAX:
            continue
        cuts = [k for k in range(ta + 2, tb) if k in sentence_starts]
        pieces = list(pairwise([ta + 1, *cuts, tb]))
        utts: list[list[Word]] = []
        for w in words[ha + 1 : hb]:
            if utts and w.start - utts[-1][-1].end <= PAUSE:
                utts[-1].append(w)
            else:
                utts.append([w])
        sim = [
            [1 - abs((hi - lo) - len(u)) / max(hi - lo, len(u)) for u in utts] for lo, hi in pieces
        ]
        for p, u in best_pairing(sim, SAME_LENGTH):
            (lo, hi), spoken = pieces[p], utts[u]
            step = (spoken[-1].end - spoken[0].start) / (hi - lo)
            for k, i in enumerate(range(lo, hi)):
                start = spoken[0].start + k * step
                out[i] = (round(start, 3), round(start + step, 3))
    return out


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
    n: int,
    pairs: list[tuple[int, int]],
    words: Sequence[Word],
    duration: float,
    sentence_starts: frozenset[int] = frozenset(),
) -> AudioAlignment:
    """Times for ``n`` transcript words from the matched ``pairs``: heard words take their own
    times, the rest are placed between the matches around them (:func:`_place_gap`), at the
    speaking rate of the matched words.  ``sentence_starts``: the word indices that open a
    sentence (where audio the transcript lacks -- fillers, an ad, music -- usually sits)."""
    starts = [0.0] * n
    ends = [0.0] * n
    source = ["spread"] * n
    for ti, wi in pairs:
        starts[ti], ends[ti], source[ti] = words[wi].start, words[wi].end, "heard"
    for ti, (t0, t1) in utterance_pairs(pairs, words, sentence_starts, n).items():
        starts[ti], ends[ti], source[ti] = t0, t1, "utterance"
    anchored = [i for i in range(n) if source[i] != "spread"]
    extra = [(t1, t2) for (t1, h1), (t2, h2) in pairwise(pairs) if h2 - h1 > t2 - t1]
    unsure: list[tuple[int, int]] = []
    if not anchored:
        step = duration / max(1, n)
        for i in range(n):
            starts[i], ends[i] = round(i * step, 3), round((i + 1) * step, 3)
        return AudioAlignment(starts, ends, source, [(0, n)] if n else [])
    first, last = anchored[0], anchored[-1]
    per = _seconds_per_word(pairs, words)
    for i in range(first - 1, -1, -1):  # before the first island, at the speaking rate
        starts[i] = max(0.0, starts[i + 1] - per)
        ends[i] = starts[i + 1]
    for i in range(last + 1, n):
        starts[i] = min(duration, ends[i - 1])
        ends[i] = min(duration, starts[i] + per)
    for a, b in pairwise(anchored):
        if b - a <= 1:
            continue
        _place_gap(starts, ends, a, b, per, sentence_starts)
        if b - a - 1 > UNSURE_WORDS:
            unsure.append((a + 1, b))
    if first > UNSURE_WORDS:
        unsure.insert(0, (0, first))
    if n - 1 - last > UNSURE_WORDS:
        unsure.append((last + 1, n))
    return AudioAlignment(starts, ends, source, unsure, extra)


def _seconds_per_word(pairs: list[tuple[int, int]], words: Sequence[Word]) -> float:
    """The speaker's pace: the median time from one matched word to the next one in a run."""
    steps = [
        words[h2].start - words[h1].start
        for (t1, h1), (t2, h2) in pairwise(pairs)
        if t2 == t1 + 1 and h2 == h1 + 1
    ]
    steps = sorted(x for x in steps if x > 0)
    return steps[len(steps) // 2] if steps else 1.0 / SPREAD_RATE


def _place_gap(
    starts: list[float],
    ends: list[float],
    a: int,
    b: int,
    per: float,
    sentence_starts: frozenset[int],
) -> None:
    """Time the unmatched words ``a+1 .. b-1`` between the matched words ``a`` and ``b``.

    When the gap holds more time than its words take at the speaker's pace, the spare time is
    put where untranscribed audio goes -- at a sentence break: the words before the gap's first
    break follow word ``a`` at the speaker's pace, the words from its last break lead up to word
    ``b``, and any whole sentences between share the rest.  Otherwise (or without a break) they
    are spread evenly."""
    t0, t1 = ends[a], max(ends[a], starts[b])
    inner = [k for k in range(a + 1, b) if k in sentence_starts]
    if inner:
        lo, hi = inner[0], inner[-1]
    else:  # all one sentence's words: they follow ``a`` if ``b`` opens the next sentence
        lo = hi = b
    breaks = bool(inner) or b in sentence_starts
    left, right = lo - (a + 1), b - hi
    if breaks and (left + right) * per < t1 - t0:
        for k, i in enumerate(range(a + 1, lo)):
            starts[i], ends[i] = t0 + k * per, t0 + (k + 1) * per
        for i in range(hi, b):
            starts[i], ends[i] = t1 - (b - i) * per, t1 - (b - i - 1) * per
        a, t0 = lo - 1, t0 + left * per
        b, t1 = hi, t1 - right * per
    step = (t1 - t0) / max(1, b - a - 1 if breaks else b - a)  # (whole sentences share it)
    for k, i in enumerate(range(a + 1, b)):
        starts[i], ends[i] = t0 + step * k, t0 + step * (k + 1)
    for i in range(a + 1, b):
        starts[i], ends[i] = round(starts[i], 3), round(ends[i], 3)


def align_to_audio(turns: list[Turn], words: Sequence[Word], duration: float) -> AudioAlignment:
    """Place every word of ``turns`` on the audio clock of ``words`` (what was heard)."""
    per_turn = [turn_words(t) for t in turns]
    tokens = [norm_token(w) for ws in per_turn for w in ws]
    heard = [norm_token(w.text) for w in words]
    pairs = drop_impossible(match_words(tokens, heard), words)
    pairs = drop_impossible(fill_gaps(tokens, heard, pairs, _gap_matches), words)
    pairs = fill_gaps(tokens, heard, pairs, _similar_pairs, largest=SIMILAR_GAP_MAX)
    opens, at = set(), 0
    for turn in turns:
        for sentence in split_sentences(turn.text):
            opens.add(at)
            at += len(sentence.split())
    return place_words(len(tokens), pairs, words, duration, frozenset(opens))


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
