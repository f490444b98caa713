"""Answer a question with moments (and paper passages): dense + lexical retrieval, fused.

Per query, three rankings of all passages (optionally filtered by kind / episode):

1. **dense passage**: cosine similarity of the query embedding to each passage's ``embed_text``
   vector (FAISS IndexFlatIP over normalised vectors; exact, the corpus is small);
2. **dense pieces**: the best similarity among the passage's sentence groups (~20-50 words,
   embedded separately): a question about one or two sentences still finds its passage;
3. **lexical**: BM25 (bm25s) over ``embed_text`` with a tokenizer that keeps technical terms
   whole (``AdamW`` -> ``adamw``, ``S4`` -> ``s4``, ``GPT-2`` -> ``gpt``, ``2``, ``gpt2``), drops
   English stop words and strips plural/-ing/-ed suffixes;

fused by weighted reciprocal rank (``w / (rrf_k + rank)``; weights 1, 1, 0.75; rrf_k 20).

**Exact wording wins.**  A passage whose heard text holds a run of at least ``phrase_min_words``
(5) consecutive query words -- and at least half the query -- ranks above every passage that
does not, longer runs first: a quoted sentence finds the passage that says it, not the one that
merely has it as retrieval context.

**Landing.**  ``answer`` is the sentence that answers, which the reader emphasises: for a
quote, the sentence saying it; otherwise, in the passage's best-matching sentence group, the
sentence of five or more words that shares the most query terms (never a bare "Yeah.").  A
transcript result plays from its passage's first sentence (``land`` off: starting at the answer
cost held-out recall), except a quote, which starts at the sentence saying it; with ``land`` on,
a result starts at its answer when the best group beats the first by more than ``land_margin``
cosine.  A result that starts at its answer starts one sentence earlier when that one is a
question leading in.  ``start``, ``text`` and ``link`` begin there; ``passage_start`` keeps
where the passage began and ``turns`` the speaker turns of ``text`` for the reader.

Results that overlap a better one by more than 40% of the shorter one's words, start at the same
sentence or emphasise the same answering sentence are skipped, so the top k are k moments, never
two takes on the same minute.  When transcripts and papers are
searched together, at most one result in five is a paper passage (kept at its fused rank):
listeners ask about what was said, and the app's papers panel / kind filter shows the rest.

This is the shipped path only.  Ideas measured on the dev set and left out (start snapping to
the best sentence group, dense pseudo-relevance feedback, BM25 word bigrams, neighbour-passage
smoothing, conversational query stop words) live in ``bench/eval_search.py``, which runs them
beside this path; the README's design notes have the numbers.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunk import Passage, piece_offsets
from index.embed import embed_texts, load_embedder, model_id
from index.store import IndexStore
from podlens.errors import PodlensError
from podlens.links import deep_link
from podlens.sentences import (
    Sentence,
    asking_text,
    by_turn,
    episode_sentences,
    join_sentences,
    questions_replied_to,
)
from podlens.text import STOP_WORDS, is_question

KINDS = ("transcript", "paper")

ANSWER_MIN_WORDS = 5  # shorter sentences ("Yeah.", "Okay, cool.") are not emphasised as the answer
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def phrase_words(text: str) -> list[str]:
    """Every word of ``text`` (stop words kept: a quote is its exact wording), lower-cased,
    curly quotes folded, punctuation dropped -- the same normalisation as the eval's."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return _NON_ALNUM.sub(" ", text).split()


def longest_run(query: Sequence[str], hay: str) -> int:
    """Length of the longest run of consecutive ``query`` words found in ``hay`` (words joined by
    single spaces, padded with a space at each end)."""
    best = 0
    for i in range(len(query)):
        j = i + best + 1  # only a longer run can matter
        while j <= len(query) and (" " + " ".join(query[i:j]) + " ") in hay:
            best = j - i
            j += 1
    return best


def _stem(w: str) -> str:
    if any(c.isdigit() for c in w) or len(w) <= 3:
        return w
    if w.endswith("'s"):
        w = w[:-2]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("sses"):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 4:
        w = w[:-1]
    if w.endswith("ing") and len(w) > 6:
        return w[:-3]
    if w.endswith("ed") and len(w) > 5:
        return w[:-2]
    return w


def tokenize(text: str) -> list[str]:
    """Lower-cased BM25 tokens; hyphenated terms give their parts and the joined form."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower().replace("’", "'")):
        parts = re.split(r"[-']", tok)
        if len(parts) > 1:
            joined = "".join(parts)
            if joined not in STOP_WORDS:
                out.append(_stem(joined))
        for p in parts:
            if not p or p in STOP_WORDS:
                continue
            out.append(_stem(p))
    return out


# "What is X?" / "What are Xs?" / "What does X mean?" / "Define X" / "Explain X", X of at most
# four words: a listener meeting a term.
_WHAT_IS_RE = re.compile(
    r"^(?:so,?\s+)?(?:(?:what(?:'s|\s+is|\s+are)|define|explain)\s+(?:an?\s+|the\s+)?"
    r"(?!(?:how|why|what|when|where|who|which|whether|if)\b)(?P<x>[\w'’ -]+?)"
    r"|what\s+(?:does|do)\s+(?:an?\s+|the\s+)?(?P<y>[\w'’ -]+?)\s+mean)\s*[?.]?$",
    re.I,
)
_QUOTE_MARK = r"['\"‘’“”]?"


def _defined_term(query: str) -> str | None:
    """A regex for the X of a query "What is X?" (singular or plural, in quote marks or not, not
    inside a longer hyphenated term), else None."""
    m = _WHAT_IS_RE.match(" ".join(query.split()))
    x = (m.group("x") or m.group("y")).lower() if m else ""
    if not x or len(x.split()) > 4 or all(w in STOP_WORDS for w in x.split()):
        return None  # "What is this?", "What is it?": no term to look for
    x = re.escape(x[:-1] if x.endswith("s") else x).replace("\\ ", r"[\s-]+")
    # Not inside "anti-induction head".
    return rf"(?<![\w-]){_QUOTE_MARK}{x}(?:s|es)?{_QUOTE_MARK}(?![\w-])"


def definition_of(query: str) -> re.Pattern[str] | None:
    """For a query "What is X?", a pattern for a sentence that defines X, else None: "X is
    a/an/the/this/these/when/where ...", "X means", "the idea behind/of X is", "called X",
    "X, which ...", "when I say X, what I mean is", "by X, I mean".  "Induction heads are
    actually a deep mechanism" uses the term; "an induction head is this circuit ..." defines
    it."""
    x = _defined_term(query)
    return None if x is None else _defining_re(x)


def _defining_re(x: str) -> re.Pattern[str]:
    """:func:`definition_of`'s pattern for the term regex ``x`` (:func:`_defined_term`)."""
    return re.compile(
        rf"{x}\s+(?:is|are)\s+(?:an?|the|this|these|when|where)\b|{x}\s+means\b|"
        rf"\bidea (?:behind|of) (?:the )?{x}\s+is\b|\bcalled (?:the )?{x}|{x},\s+which\b|"
        # The speaker's own: "When I say circuit, what I mean is ...", "By X, I mean ...".
        rf"\b(?:when I say|by) (?:an?\s+|the\s+)?{x},?\s+(?:what\s+)?I\s+mean\b",
        re.I,
    )


def definition_asked(query: str) -> re.Pattern[str] | None:
    """For a query "What is X?", a pattern for a question in the episode that asks the same, read
    with the sentence before it in its turn (:func:`asking_text`), else None: "So what is this
    X thing?", "What does X mean?", "... the terms like "X". What does that mean?", "... talking
    about X. First of all, what is that?".  In an interview the reply is where X is explained."""
    x = _defined_term(query)
    return None if x is None else _asking_re(x)


def _asking_re(x: str) -> re.Pattern[str]:
    """:func:`definition_asked`'s pattern for the term regex ``x`` (:func:`_defined_term`)."""
    that = r"(?:that|this|it|those|these)"
    return re.compile(
        rf"\bwhat(?:'s|\s+is|\s+are)\s+(?:this\s+|these\s+|an?\s+|the\s+)?{x}(?:\s+thing)?\s*\?"
        rf"|\bwhat\s+(?:does|do)\s+(?:the\s+)?{x}\s+mean\s*\?"
        rf"|{x}[^?]*?[.!]\W*\s+(?:[\w,]+\s+){{0,4}}?what(?:'s|\s+is|\s+are|\s+does|\s+do)\s+"
        rf"{that}(?:\s+mean)?\s*\?\W*$",
        re.I,
    )


@dataclass
class SearchConfig:
    """The shipped settings (chosen on the dev split; ``bench/eval_search.py`` varies them)."""

    dense_weight: float = 1.0  # each of the two dense rankings (passage, pieces)
    lexical_weight: float = 0.75
    rrf_k: float = 20.0
    depth: int = 200  # candidates taken from each ranking before fusion
    # Skip results overlapping a better one by > this share of the shorter one (>1: off), or
    # emphasising the same sentence: 0.7 left two results in one minute for 66 of 71 dev queries.
    dedup_overlap: float = 0.4
    # Evidence (``distinct=False``, what ask reads): only > this overlap is skipped, and a shared
    # answering sentence is not: neighbouring passages are more evidence (ask support, README).
    evidence_overlap: float = 0.7
    paper_share: int = 5  # mixed kinds: at most one paper result per this many results (0: off)
    phrase_min_words: int = 5  # a run of >= this many query words in a passage wins (0: off)
    # "What is X?": a passage that defines X ("X is a/the/this/when ...", "called X", "X, which
    # ...") gets this much more, ahead of any that does not (0: off).  Own definition questions
    # (tests/eval/axrp19_define.jsonl), dev R@1 0.14 -> 0.71; no other question is touched.
    definition_bonus: float = 1.0
    # Start a transcript result at its best sentence group's first sentence (a quote always lands
    # on the sentence saying it).  Off by default: it cost held-out R@5 0.76 -> 0.69 (README).
    land: bool = False
    land_margin: float = 0.0  # ...when its sentence group beats the first group by > this


@dataclass(frozen=True)
class ResultTurn:
    """One speaker's stretch of a result's text, as the reader shows it."""

    speaker: str
    start: float | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        start = None if self.start is None else round(self.start, 1)
        return {"speaker": self.speaker, "start": start, "text": self.text}


@dataclass
class SearchResult:
    """One moment: where it plays (``link`` jumps to ``start``) and what is heard there."""

    episode: str
    episode_title: str
    kind: str
    start: float | None
    end: float | None
    speaker: str | None
    chapter: str | None
    text: str
    score: float
    link: str
    title: str | None = None
    url: str | None = None

    passage_start: float | None = None  # where the passage began (``start``: where it answers)
    answer: str | None = None  # the answering sentence of ``text`` (transcripts, when known)
    answer_start: float | None = None  # when ``answer`` is said (seconds; None without a clock)
    turns: list[ResultTurn] = field(default_factory=list)  # the speaker turns ``text`` holds

    word_start: int = field(default=0, repr=False, compare=False)  # span of `text` in the
    word_end: int = field(default=0, repr=False, compare=False)  # episode's word stream
    passage_word_start: int = field(default=0, repr=False, compare=False)  # the passage's, ditto

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "episode": self.episode,
            "episode_title": self.episode_title,
            "kind": self.kind,
            "start": None if self.start is None else round(self.start, 1),
            "end": None if self.end is None else round(self.end, 1),
            "speaker": self.speaker,
            "chapter": self.chapter,
            "text": self.text,
            "score": round(float(self.score), 6),
            "link": self.link,
        }
        if self.kind == "paper":
            d["title"] = self.title
            d["url"] = self.url
        else:
            ps = self.passage_start
            d["passage_start"] = None if ps is None else round(ps, 1)
            d["answer"] = self.answer
            d["answer_start"] = None if self.answer_start is None else round(self.answer_start, 1)
            d["turns"] = [t.to_dict() for t in self.turns]
        return d


class HybridIndex:
    """Dense + BM25 retrieval over passages held in memory.

    ``faiss_index`` holds the passage vectors under ``ids`` (one per passage, in order);
    ``piece_vectors[j]`` is a sentence group of passage row ``piece_owner[j]``.  ``titles``
    (episode -> title) and ``paper_starts`` ((episode, paper URL) -> first mention, seconds)
    dress the results; ``sentences`` (episode -> its sentence stream) lets a result land on its
    answering sentence."""

    def __init__(
        self,
        passages: Sequence[Passage],
        model,
        faiss_index,
        ids: Sequence[int],
        *,
        piece_vectors: np.ndarray | None = None,
        piece_owner: np.ndarray | None = None,
        config: SearchConfig | None = None,
        titles: Mapping[str, str] | None = None,
        paper_starts: Mapping[tuple[str, str], float] | None = None,
        sentences: Mapping[str, Sequence[Sentence]] | None = None,
    ):
        import bm25s

        self.passages = list(passages)
        self.model = model
        self.config = config or SearchConfig()
        self.n = len(self.passages)
        self.faiss_index = faiss_index
        self.row_of = {int(pid): i for i, pid in enumerate(ids)}
        pieces = piece_vectors is not None and len(piece_vectors) > 0
        self.piece_vectors = piece_vectors if pieces else None
        self.piece_owner = np.asarray(piece_owner) if pieces else None
        self.bm25 = bm25s.BM25()
        corpus = [tokenize(p.embed_text) or ["\u2205"] for p in self.passages]
        self.bm25.index(corpus, show_progress=False)
        self.kind = np.array([p.kind for p in self.passages])
        self.episode = np.array([p.episode for p in self.passages])
        self.titles = dict(titles or {})
        self.paper_starts = dict(paper_starts or {})
        # Exact wording: each passage's heard text as padded phrase words.
        self.phrase_text = [" " + " ".join(phrase_words(p.text)) + " " for p in self.passages]
        # Landing: each episode's sentence stream, and each passage's rows in piece_vectors.
        self.sentences = {e: list(v) for e, v in (sentences or {}).items()}
        self.sentence_words = {e: [x.word for x in v] for e, v in self.sentences.items()}
        self.pieces_of: dict[int, np.ndarray] = {}
        if self.piece_owner is not None:
            order = np.argsort(self.piece_owner, kind="stable")
            bounds = np.searchsorted(self.piece_owner[order], np.arange(self.n + 1))
            for row in range(self.n):
                if bounds[row + 1] > bounds[row]:
                    self.pieces_of[row] = order[bounds[row] : bounds[row + 1]]
        self._query = threading.local()  # this thread's last query's piece similarities

    def query_vector(self, query: str) -> np.ndarray:
        return embed_texts(self.model, [query])

    def dense_scores(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(cosine of each passage to the query vector ``q`` [1, d], best cosine among each
        passage's pieces or None without piece vectors)."""
        sims, fids = self.faiss_index.search(q, self.n)
        passage = np.full(self.n, -1.0, dtype=np.float32)
        for s, f in zip(sims[0], fids[0], strict=True):
            if f >= 0:
                passage[self.row_of[int(f)]] = s
        if self.piece_vectors is None:
            return passage, None
        sims = self.piece_vectors @ q[0]
        self._query.piece_sims = sims  # read back by result() to land on a sentence
        pieces = np.full(self.n, -1.0, dtype=np.float32)
        np.maximum.at(pieces, self.piece_owner, sims)
        return passage, pieces

    def lexical_scores(self, query: str) -> np.ndarray:
        toks = tokenize(query)
        if not toks:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

    def rankings(self, query: str) -> list[tuple[str, float, np.ndarray]]:
        """``(name, weight, score per passage)`` of each ranking that takes part in fusion."""
        cfg = self.config
        out: list[tuple[str, float, np.ndarray]] = []
        if cfg.dense_weight:
            passage, pieces = self.dense_scores(self.query_vector(query))
            out.append(("dense", cfg.dense_weight, passage))
            if pieces is not None:
                out.append(("pieces", cfg.dense_weight, pieces))
        if cfg.lexical_weight:
            out.append(("lexical", cfg.lexical_weight, self.lexical_scores(query)))
        return out

    def fuse(self, rankings: list[tuple[str, float, np.ndarray]], mask: np.ndarray) -> np.ndarray:
        """Weighted reciprocal-rank fusion of ``rankings`` over the passages in ``mask``
        (-inf outside it)."""
        cfg = self.config
        fused = np.zeros(self.n, dtype=np.float64)
        for name, weight, scores in rankings:
            s = np.where(mask, scores, -np.inf)
            if name == "lexical" and not np.any(s[mask] > 0):
                continue  # no query term occurs anywhere: BM25 has no opinion
            order = np.argsort(-s, kind="stable")[: cfg.depth]
            order = order[np.isfinite(s[order])]
            fused[order] += weight / (cfg.rrf_k + 1 + np.arange(len(order)))
        return np.where(mask, fused, -np.inf)

    def moments(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[str] = KINDS,
        episode: str | None = None,
        distinct: bool = True,
    ) -> list[SearchResult]:
        """The top ``k`` distinct moments, best first.

        A result overlapping a better one by more than ``dedup_overlap`` of the shorter one's
        words, or emphasising the same sentence, is skipped, so a listener never gets two takes
        on one minute.  ``distinct=False`` gives evidence instead (for cited answers): only
        results overlapping a better one by more than ``evidence_overlap`` are skipped.  When
        both kinds are searched, at most one result in every ``paper_share`` is a paper passage,
        kept at its fused rank: listeners ask about what was said, and the papers panel / kind
        filter shows the rest.  Exact wording outranks fusion (:meth:`exact_wording`)."""
        if self.n == 0 or k <= 0:
            return []
        self._query.piece_sims = None
        self._query.phrase = None
        self._query.define = self._query.define_asked = None
        self._query.tokens = tokenize(query)
        cfg = self.config
        mask = np.isin(self.kind, list(kinds))
        if episode is not None:
            mask &= self.episode == episode
        if not mask.any():
            return []
        fused = self.fuse(self.rankings(query), mask)
        fused = self.exact_wording(query, fused)
        fused = self.definitions_first(query, fused)
        mixed = (
            cfg.paper_share > 0
            and bool((mask & (self.kind == "paper")).any())
            and bool((mask & (self.kind == "transcript")).any())
        )
        max_papers = -(-k // cfg.paper_share) if mixed else k
        order = np.argsort(-fused, kind="stable")
        chosen: list[SearchResult] = []
        held: list[SearchResult] = []  # papers over the cap: only used if transcripts run out
        papers = 0
        for i in order:
            if not np.isfinite(fused[i]) or len(chosen) >= k:
                break
            r = self.result(int(i), float(fused[i]))
            if self._overlaps(r, chosen, distinct):
                continue
            if r.kind == "paper":
                if papers >= max_papers:
                    held.append(r)
                    continue
                papers += 1
            chosen.append(r)
        return chosen + held[: k - len(chosen)]

    def exact_wording(self, query: str, fused: np.ndarray) -> np.ndarray:
        """``fused`` with every passage among the top ``depth`` whose heard text holds a run of
        at least ``phrase_min_words`` consecutive query words (and at least half the query)
        raised above all others by the run's length: a quote finds the passage that says it."""
        cfg = self.config
        q = phrase_words(query)
        need = max(cfg.phrase_min_words, -(-len(q) // 2))
        if not cfg.phrase_min_words or len(q) < need:
            return fused
        self._query.phrase = (q, need)  # result() lands a quote on the sentence that says it
        top = np.argsort(-fused, kind="stable")[: cfg.depth]
        out = fused.copy()
        for i in top:
            if not np.isfinite(fused[i]):
                break
            run = longest_run(q, self.phrase_text[i])
            if run >= need:
                out[i] += run  # fused scores are < 1: any run outranks fusion alone
        return out

    def definitions_first(self, query: str, fused: np.ndarray) -> np.ndarray:
        """``fused`` with ``definition_bonus`` added to every passage among the top ``depth``
        whose heard text defines X, when the query asks "What is X?" (:func:`definition_of`): a
        listener meeting a term wants where it is explained, not every passage that uses it.
        One where the interview itself asks what X is and the reply follows
        (:meth:`_asked_definition`) gets twice that, ahead of the rest: "called X" or "X is
        a ..." can be said in passing ("'mechanistic interpretability' is a mouthful")."""
        x = _defined_term(query) if self.config.definition_bonus else None
        if x is None:
            return fused
        pattern = _defining_re(x)
        # result() emphasises the defining sentence, or the reply to the question.
        self._query.define, self._query.define_asked = pattern, _asking_re(x)
        term = re.compile(x, re.I)  # a fifth of pattern's cost: tested first
        out = fused.copy()
        for i in np.argsort(-fused, kind="stable")[: self.config.depth]:
            if not np.isfinite(fused[i]):
                break
            text = self.passages[i].text
            if self._asked_definition(i) is not None:  # the interview's own question
                out[i] += 2 * self.config.definition_bonus
            elif term.search(text) and pattern.search(text):
                out[i] += self.config.definition_bonus
        return out

    def result(self, row: int, score: float) -> SearchResult:
        """Passage ``row`` as a result.  A transcript passage plays from its answering sentence
        (:meth:`landing`); a paper passage links to where the episode first mentions the paper,
        if known."""
        p = self.passages[row]
        at = self.paper_starts.get((p.episode, p.url or "")) if p.kind == "paper" else p.start
        r = SearchResult(
            episode=p.episode,
            episode_title=self.titles.get(p.episode, p.episode),
            kind=p.kind,
            start=p.start,
            end=p.end,
            speaker=p.speaker,
            chapter=p.chapter,
            text=p.text,
            score=score,
            link=deep_link(p.episode, at),
            title=p.title,
            url=p.url,
            passage_start=p.start,
            passage_word_start=p.word_start,
            word_start=p.word_start,
            word_end=p.word_end,
        )
        span = self._sentence_span(row)
        if span is None:
            return r
        lo, hi = span
        sents = self.sentences[p.episode]
        at_i, answer_i = self.landing(row, lo, hi)
        heard = sents[at_i:hi]
        first, last = heard[0], heard[-1]
        r.start, r.speaker = first.start, first.speaker
        r.text = join_sentences(heard)
        r.link = deep_link(p.episode, first.start)
        r.word_start, r.word_end = first.word, last.word + last.words
        r.answer = sents[answer_i].text
        r.answer_start = sents[answer_i].start
        r.turns = [
            ResultTurn(g[0].speaker, g[0].start, " ".join(x.text for x in g))
            for g in by_turn(heard)
        ]
        return r

    def _sentence_span(self, row: int) -> tuple[int, int] | None:
        """``[lo, hi)``: the indices of transcript passage ``row``'s sentences in its episode's
        sentence stream; None for a paper passage or an episode without one."""
        p = self.passages[row]
        if p.kind != "transcript" or p.episode not in self.sentences:
            return None
        pos = self.sentence_words[p.episode]
        lo, hi = bisect.bisect_left(pos, p.word_start), bisect.bisect_left(pos, p.word_end)
        return (lo, hi) if hi > lo else None

    def landing(self, row: int, lo: int, hi: int) -> tuple[int, int]:
        """``(where the result starts, the answering sentence)`` as indices into the episode's
        sentences ``lo..hi`` of passage ``row``.

        The answering sentence: for a quote, the sentence holding most of its words in order;
        otherwise, in the passage's best-matching sentence group, the sentence of at least
        :data:`ANSWER_MIN_WORDS` words sharing the most query terms (the first on a tie; a
        reply's "Yeah." or "Gotcha." answers nothing).  The result starts at the passage's first
        sentence, except for a quote, or with ``land`` when the best group beats the first by
        more than ``land_margin``: then at the answering sentence, or one sentence earlier when
        that one is a question leading in."""
        cfg = self.config
        episode = self.passages[row].episode
        answer = self._quoted_sentence(row, lo, hi)
        if answer is None:
            answer = self._defining_sentence(row, lo, hi)
        if answer is None and (asked := self._asked_definition(row)) is not None:
            return asked
        if answer is None:
            first, end, lead = self._best_group(row, lo, hi)
            answer = self._answer_sentence(episode, first, end)
            if not (cfg.land and lead > cfg.land_margin):
                return lo, answer
        sents = self.sentences[episode]
        start = answer
        if answer > lo and is_question(sents[answer - 1].text):
            start = answer - 1
        return start, answer

    def _best_group(self, row: int, lo: int, hi: int) -> tuple[int, int, float]:
        """``(first, end, lead)``: the sentences ``first..end`` (within ``lo..hi``) of passage
        ``row``'s sentence group most like this query, and by how much its cosine beats the
        passage's first group's; the whole passage and 0 without piece similarities."""
        sims = getattr(self._query, "piece_sims", None)
        js = self.pieces_of.get(row)
        if sims is None or js is None:
            return lo, hi, 0.0
        p = self.passages[row]
        offsets = piece_offsets(p.text)
        if len(offsets) != len(js):  # vectors cut by another piece rule: the whole passage
            return lo, hi, 0.0
        best = int(np.argmax(sims[js]))
        pos = self.sentence_words[p.episode]
        first = max(lo, bisect.bisect_right(pos, p.word_start + offsets[best], lo, hi) - 1)
        end = hi
        if best + 1 < len(offsets):
            end = max(first + 1, bisect.bisect_left(pos, p.word_start + offsets[best + 1], lo, hi))
        return first, end, float(sims[js[best]] - sims[js[0]])

    def _answer_sentence(self, episode: str, first: int, end: int) -> int:
        """Of ``episode``'s sentences ``first..end``, the one of at least
        :data:`ANSWER_MIN_WORDS` words that shares the most of this query's terms (the earliest
        on a tie); ``first`` when none is that long.  The dense match picks the group, the
        query's own words the sentence in it."""
        sents = self.sentences[episode]
        long = [j for j in range(first, end) if sents[j].words >= ANSWER_MIN_WORDS]
        if not long:
            return first
        terms = set(getattr(self._query, "tokens", ()))
        return max(long, key=lambda j: (len(terms.intersection(tokenize(sents[j].text))), -j))

    def _defining_sentence(self, row: int, lo: int, hi: int) -> int | None:
        """The first sentence (index in ``lo..hi``) that defines this query's X, if it asks
        "What is X?" and passage ``row`` holds one."""
        pattern = getattr(self._query, "define", None)
        if pattern is None:
            return None
        sents = self.sentences[self.passages[row].episode]
        return next((i for i in range(lo, hi) if pattern.search(sents[i].text)), None)

    def _asked_definition(self, row: int) -> tuple[int, int] | None:
        """``(where the result starts, the answering sentence)`` when this query asks "What is
        X?" and passage ``row`` holds someone asking the same, then another speaker's reply:
        the result starts at the question (or the sentence before it, naming what its "that"
        is), and the answer is the sentence of the reply (in the passage) sharing most of the
        query's terms (:meth:`_answer_sentence`).  A speaker's own "What is X? What do they
        even mean?" lists open questions; it answers nothing."""
        asked = getattr(self._query, "define_asked", None)
        span = self._sentence_span(row) if asked is not None else None
        if span is None:
            return None
        lo, hi = span
        sents = self.sentences[self.passages[row].episode]
        for r in range(lo + 1, hi):
            for q in questions_replied_to(sents, r):
                if q < lo or not asked.search(asking_text(sents, q)):
                    continue
                end = r
                while end < hi and sents[end].turn == sents[r].turn:
                    end += 1
                # "... the terms "program equilibria". What does that mean?": from the naming.
                start = q if asked.search(sents[q].text) or q == lo else q - 1
                return start, self._answer_sentence(self.passages[row].episode, r, end)
        return None

    def _quoted_sentence(self, row: int, lo: int, hi: int) -> int | None:
        """The sentence (index in ``lo..hi``) holding the longest run of the query's words when
        passage ``row`` won on exact wording this query, else None."""
        phrase = getattr(self._query, "phrase", None)
        if phrase is None:
            return None
        q, need = phrase
        if longest_run(q, self.phrase_text[row]) < need:
            return None
        sents = self.sentences[self.passages[row].episode]
        runs = [
            longest_run(q, " " + " ".join(phrase_words(sents[i].text)) + " ") for i in range(lo, hi)
        ]
        return lo + int(np.argmax(runs))

    def _overlaps(self, r: SearchResult, chosen: list[SearchResult], distinct: bool = True) -> bool:
        """Whether ``r`` is mostly a moment already chosen: the same episode and either the same
        start, more than ``dedup_overlap`` of the shorter one's words shared, or (``distinct``)
        the same answering sentence; without ``distinct``, more than ``evidence_overlap``."""
        if r.kind != "transcript":
            return False
        limit = self.config.dedup_overlap if distinct else self.config.evidence_overlap
        answer = (r.answer, r.answer_start) if distinct and r.answer is not None else None
        for c in chosen:
            if c.kind != "transcript" or c.episode != r.episode:
                continue
            if c.word_start == r.word_start:
                return True
            if answer is not None and (c.answer, c.answer_start) == answer:
                return True
            n = max(1, min(r.word_end - r.word_start, c.word_end - c.word_start))
            inter = min(r.word_end, c.word_end) - max(r.word_start, c.word_start)
            if inter / n > limit:
                return True
        return False


class Searcher:
    """Search everything indexed under ``data_dir``; picks up new ingests between queries."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        model=None,
        config: SearchConfig | None = None,
    ):
        self.store = IndexStore(data_dir)
        if not self.store.has_episodes():
            raise PodlensError(
                f"no index yet in {self.store.data_dir} (ingest an episode first: "
                "python -m ingest ...)"
            )
        self.model = load_embedder(model) if model is None or isinstance(model, str) else model
        self.config = config or SearchConfig()
        self._lock = threading.Lock()
        self._generation = -1
        self._index: HybridIndex | None = None
        self._refresh()

    def _refresh(self) -> None:
        gen = self.store.generation()
        if gen == self._generation and self._index is not None:
            return
        label = self.store.model_label()
        mine = model_id(self.model)
        if label is not None and label != mine:
            raise PodlensError(
                f"the index was built with embedding model {label}, not {mine}: re-ingest, or set "
                "PODLENS_EMBED_MODEL to the model it was built with"
            )
        faiss_index, faiss_gen = self.store.read_faiss()
        pgen, passages = self.store.load_passages()
        if pgen != faiss_gen:  # a write landed between the two reads: take the next query
            faiss_index, faiss_gen = self.store.write_faiss()
            pgen, passages = self.store.load_passages()
        ids = [p.id for p in passages]
        row_of = {pid: i for i, pid in enumerate(ids)}
        owners, piece_vecs = self.store.load_pieces()
        keep = np.array([int(o) in row_of for o in owners], dtype=bool)
        piece_owner = np.array([row_of[int(o)] for o in owners[keep]], dtype=np.int64)
        titles = {s.id: s.title for s in self.store.list_episodes()}
        paper_starts: dict[tuple[str, str], float] = {}
        sentences: dict[str, list[Sentence]] = {}
        for eid in titles:
            ep = self.store.load_episode(eid)
            if ep is None:
                continue
            sentences[eid] = episode_sentences(ep)  # the stream passages were cut from
            for ref in ep.references:
                starts = [m.start for m in ref.mentions if m.start is not None]
                if starts:
                    paper_starts[(eid, ref.url)] = min(starts)
        self._index = HybridIndex(
            passages,
            self.model,
            faiss_index,
            ids,
            piece_vectors=piece_vecs[keep],
            piece_owner=piece_owner,
            config=self.config,
            titles=titles,
            paper_starts=paper_starts,
            sentences=sentences,
        )
        self._generation = pgen

    def search(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[str] = KINDS,
        episode: str | None = None,
        distinct: bool = True,
    ) -> list[SearchResult]:
        """:meth:`HybridIndex.moments` over everything indexed now."""
        query = " ".join(query.split())
        if not query:
            return []
        bad = [x for x in kinds if x not in KINDS]
        if bad:
            raise PodlensError(f"unknown result kind {bad[0]!r} (use transcript or paper)")
        with self._lock:
            self._refresh()
            index = self._index
        assert index is not None
        return index.moments(query, k=k, kinds=kinds, episode=episode, distinct=distinct)
