"""Short answers from what was said: query-focused, redundancy-aware sentence extraction.

For a question, :class:`Asker`

1. finds candidate moments with the search (:class:`index.search.Searcher`, transcript and paper
   passages, top :attr:`AskConfig.passages`);
2. splits them into sentences of the ONE sentence stream
   (:func:`podlens.sentences.episode_sentences` for transcripts, so a citation's text, start,
   end and speaker are exactly the stream's: verbatim and on the episode clock; paper passages
   by :func:`podlens.sentences.split_sentences`);
3. scores each sentence twice.  Whether it shows the question is *discussed* (``support``):
   cosine of its embedding to the question's (the search model; the question without the
   words of its speakers' names, which say who, not what) + ``lexical_weight`` x the share
   of the question's IDF mass it contains (IDF over the episode's sentences) + ``qa_weight`` x the
   cosine of the question it replies to + a small prior for the rank of the passage it came from,
   minus a penalty for fragments and for questions (a host's question rarely is the answer).
   Whether it *answers* (``score``): the same features weighted for that (``answer_*``), plus
   ``context_weight`` x how much more like the question the sentence just before it in the turn
   is (its *context*): a reply often names the topic in one sentence and answers in the next
   ("... acted as backups.  And my guess is that was a result of dropout"), and that next
   sentence, unlike the first, shares few words with the question; less ``asking_weight`` for a
   sentence of a turn that asks (the host's setup of a question is not its answer); plus
   ``definition_weight`` for a sentence that defines X when the question is "What is X?", and
   ``reply_weight`` (ahead of all) for the opening of a reply to the interview's own "What is
   X?" (search ranks that exchange first too: :func:`index.search.definition_asked`);
4. decides whether the episode discusses it at all: the best ``support``, minus
   ``missing_weight`` x the share of the question's IDF mass that occurs *nowhere* in the episode,
   must clear ``threshold`` (calibrated on the dev split of ``tests/eval/ask_axrp19.jsonl``); if
   not, the answer is "Not discussed in this episode." with the nearest moments as closest mentions;
5. picks up to ``max_sentences`` sentences by ``score`` with maximal marginal relevance among
   those within ``margin`` of the best (so two that say the same thing are not both kept), from
   the episode that discusses it, and stops at ``max_words``; a sentence alone between two
   picked ones of a turn is added (:meth:`Asker.gaps`); neighbours picked together become one
   citation (a contiguous run, in time order), each cited by its number, the best run first.

Every sentence of the answer is the text of its citation, so nothing is said that was not said.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.embed import embed_texts, embedding_dim, model_id
from index.search import (
    ANSWER_MIN_WORDS,
    KINDS,
    Searcher,
    SearchResult,
    definition_asked,
    definition_of,
    tokenize,
)
from podlens.errors import PodlensError
from podlens.links import deep_link
from podlens.models import Episode
from podlens.sentences import (
    Sentence,
    asking_text,
    by_turn_index,
    episode_sentences,
    questions_replied_to,
    split_sentences,
    texts_hash,
)
from podlens.text import QUERY_STOP_WORDS, is_question, speaker_words, without_speakers
from snips.ai import mmr

NOT_DISCUSSED = "Not discussed in this episode."
_DEFAULT = object()  # "the asker's own LLM"

_QUERY_STOP_STEMS = frozenset(tokenize(" ".join(QUERY_STOP_WORDS))) | QUERY_STOP_WORDS


@dataclass
class AskConfig:
    """The shipped settings (weights and threshold chosen on the dev split; README has the
    numbers)."""

    passages: int = 6  # search results whose sentences are candidates
    # Is it discussed?  (support; the abstention threshold is calibrated on these)
    lexical_weight: float = 0.2  # x share of the question's IDF mass a sentence contains
    rank_weight: float = 0.04  # x 1/(1+rank) of the passage a sentence came from
    qa_weight: float = 0.2  # x cosine of the question to the one asked just before a reply
    missing_weight: float = 0.2  # x share of the question's IDF mass absent from the episode
    threshold: float = 0.5555  # confidence under this: "not discussed"
    # Which sentences answer it?  (score)
    answer_lexical_weight: float = 0.45
    answer_rank_weight: float = 0.1
    answer_qa_weight: float = 0.2
    context_weight: float = 0.6  # x how much more like the question the sentence before is
    asking_weight: float = 0.3  # less this for a sentence of a turn that asks (the host's setup)
    definition_weight: float = 0.3  # "What is X?": + this for a sentence that defines X
    # ... and this for one opening the reply when the interview asks "What is X?" itself: that
    # reply is the answer, though it seldom says X ("Sure. So this is an annoyingly fuzzy
    # question. The starting point I'd go with is: with an analogy to reverse engineering ...").
    reply_weight: float = 2.0
    margin: float = 0.7  # answer sentences score within this of the best
    max_sentences: int = 5
    max_words: int = 120
    max_citations: int = 3  # moments cited (neighbours picked together are one)
    mmr_lambda: float = 0.5
    max_similar: float = 0.85  # never two answer sentences more alike than this
    closest: int = 3  # closest mentions offered when abstaining


@dataclass
class Citation:
    """One cited moment: ``text`` is exactly what was said (or the paper's words) from ``start``."""

    n: int
    episode: str
    start: float | None
    end: float | None
    speaker: str | None
    text: str
    link: str
    kind: str = "transcript"
    chapter: str | None = None
    title: str | None = None  # paper title (kind paper)
    url: str | None = None  # paper URL (kind paper)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "n": self.n,
            "episode": self.episode,
            "start": None if self.start is None else round(self.start, 2),
            "end": None if self.end is None else round(self.end, 2),
            "speaker": self.speaker,
            "text": self.text,
            "link": self.link,
            "kind": self.kind,
            "chapter": self.chapter,
        }
        if self.kind == "paper":
            d["title"] = self.title
            d["url"] = self.url
        return d


@dataclass
class Answer:
    """An answer (or an honest abstention) with its citations, numbered as in ``answer``."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    closest: list[Citation] = field(default_factory=list)  # abstaining: the nearest moments
    episode: str | None = None  # the episode the answer comes from (follow-up context)
    confidence: float = 0.0
    provider: str = "local"
    reason: str | None = None  # why an LLM answer was not used

    @property
    def plain(self) -> str:
        """The answer without its ``[n]`` markers."""
        return re.sub(r"\s*\[\d+\]", "", self.answer).strip()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "episode": self.episode,
            "confidence": round(float(self.confidence), 4),
            "provider": self.provider,
        }
        if self.abstained:
            d["closest"] = [c.to_dict() for c in self.closest]
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass
class Candidate:
    """A sentence that may go into the answer, with its scores."""

    episode: str
    kind: str
    text: str
    start: float | None
    end: float | None
    speaker: str | None
    chapter: str | None
    link: str
    index: int  # position in the episode's sentence stream (paper: in its passage)
    turn: int | None = None
    title: str | None = None
    url: str | None = None
    rank: int = 0  # rank of the best search result it came from
    dense: float = 0.0
    coverage: float = 0.0
    qa: float = 0.0  # it opens a reply to a question this much like the listener's
    context: float = 0.0  # cosine of the sentence before it in its turn (not a question)
    asking: bool = False  # it is in a turn that ends by asking the next speaker a question
    defines: bool = False  # the question asks "What is X?" and this sentence defines X
    replies: bool = False  # ... and this sentence opens a reply to the interview's "What is X?"
    support: float = 0.0  # how strongly it shows the question is discussed
    score: float = 0.0  # how well it answers
    vector: np.ndarray | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.episode, self.kind, self.url or "", self.index)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class _EpisodeText:
    """An episode's sentence stream, where each sentence starts in the word stream, and the
    IDF of each search token over its sentences."""

    episode: Episode
    sentences: list[Sentence]
    offsets: list[int]
    idf: dict[str, float]
    n: int
    asked: dict[int, list[int]] = field(default_factory=dict)  # reply sentence -> questions
    asking: set[int] = field(default_factory=set)  # turns that end by asking the next speaker
    speakers: frozenset[str] = frozenset()  # the words of its speakers' names (speaker_words)
    vectors: np.ndarray | None = None  # (n, dim) sentence vectors stored at ingest, if any

    def idf_of(self, token: str) -> float:
        return self.idf.get(token, math.log((self.n + 1) / 0.5))


def _episode_text(ep: Episode) -> _EpisodeText:
    sents = episode_sentences(ep)
    df: Counter[str] = Counter()
    for s in sents:
        df.update(set(tokenize(s.text)))
    n = len(sents)
    idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
    # A reply's first two sentences answer the question(s) that closed the turn before.
    asked: dict[int, list[int]] = {}
    asking: set[int] = set()
    for lo, hi in by_turn_index(sents):
        qs = questions_replied_to(sents, lo)
        if qs:
            for i in range(lo, min(hi, lo + 2)):
                asked[i] = qs
            if qs[-1] == lo - 1:
                asking.add(sents[lo - 1].turn)
    speakers = speaker_words(t.speaker for t in ep.turns)
    return _EpisodeText(ep, sents, [s.word for s in sents], idf, n, asked, asking, speakers)


def question_tokens(question: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The question's content tokens (search tokens without the words of asking or the
    speakers' ``names``)."""
    drop = _QUERY_STOP_STEMS | set(tokenize(" ".join(names)))
    toks = [t for t in tokenize(question) if t not in drop]
    return list(dict.fromkeys(toks))


# How much of the reply to the interview's own "What is X?" is its answer: the opening, long
# enough to get past "Sure. So this is an annoyingly fuzzy question." (as many sentences as an
# answer has).
REPLY_SENTENCES = 5


def _replies_to(et: _EpisodeText, i: int, asked: re.Pattern[str]) -> bool:
    """Whether sentence ``i`` is among the first :data:`REPLY_SENTENCES` of another speaker's
    reply to a question matching ``asked`` (:func:`index.search.definition_asked`)."""
    lo = i
    while lo > 0 and et.sentences[lo - 1].turn == et.sentences[i].turn:
        lo -= 1
    if i - lo >= REPLY_SENTENCES:
        return False
    return any(asked.search(asking_text(et.sentences, j)) for j in et.asked.get(lo, ()))


def _context_index(et: _EpisodeText, i: int) -> list[int]:
    """The sentence before sentence ``i`` in its turn, unless it is a question (a reply's
    question is read by ``qa``): ``[i - 1]`` or ``[]``."""
    if i <= 0 or et.sentences[i - 1].turn != et.sentences[i].turn:
        return []
    return [] if is_question(et.sentences[i - 1].text) else [i - 1]


def _stream_candidate(episode: str, et: _EpisodeText, i: int, rank: int = 0) -> Candidate:
    s = et.sentences[i]
    return Candidate(
        episode,
        "transcript",
        s.text,
        s.start,
        s.end,
        s.speaker,
        s.chapter,
        "",
        index=i,
        turn=s.turn,
        rank=rank,
        asking=s.turn in et.asking,
    )


class Asker:
    """Answers questions about what is indexed under ``data_dir`` (or a given ``searcher``)."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        searcher: Searcher | None = None,
        config: AskConfig | None = None,
        llm: Any = None,
    ):
        self.searcher = searcher or Searcher(data_dir)
        self.config = config or AskConfig()
        self.llm = llm  # an ask.llm.LLMAnswerer, or None: extractive only
        self._lock = threading.Lock()
        self._texts: dict[tuple[str, int], _EpisodeText] = {}
        self._vectors: dict[tuple[str, str, str, int], np.ndarray] = {}

    # -- public -------------------------------------------------------------------------------

    def resolve_episode(self, episode: str | None) -> str | None:
        """An episode id as given, or the one whose id ends in ``-<episode>`` ("19" ->
        "axrp-19"); PodlensError for one not in the library."""
        if episode is None:
            return None
        ids = [e.id for e in self.searcher.store.list_episodes()]
        if episode in ids:
            return episode
        tail = [i for i in ids if i.endswith(f"-{episode}")]
        if len(tail) == 1:
            return tail[0]
        raise PodlensError(f"no episode {episode!r} in the library (have: {', '.join(ids)})")

    def ask(
        self,
        question: str,
        episode: str | None = None,
        *,
        kinds: Sequence[str] = KINDS,
        llm: Any = _DEFAULT,
    ) -> Answer:
        """Answer ``question`` from what was said (optionally in one ``episode``; ``kinds``
        limits the moments to transcripts or papers).  ``llm`` overrides the asker's own (None:
        extractive only).  The LLM is asked only when the extractive step finds the question
        discussed: the calibrated threshold, not the model's confidence, decides abstention."""
        question = " ".join((question or "").split())
        if not question:
            raise PodlensError("the question is empty")
        episode = self.resolve_episode(episode)
        cands, conf, qvec = self.candidates(question, episode, kinds)
        extractive = self.extract(question, cands, conf, qvec)
        llm = self.llm if llm is _DEFAULT else llm
        if extractive.abstained or llm is None:
            return extractive
        return llm.answer(question, cands, extractive)

    # -- steps --------------------------------------------------------------------------------

    def candidates(
        self, question: str, episode: str | None = None, kinds: Sequence[str] = KINDS
    ) -> tuple[list[Candidate], float, np.ndarray]:
        """Scored candidate sentences (best first), the confidence that the question is
        discussed, and the question's vector."""
        cands, missing, qvec = self.features(question, episode, kinds)
        return cands, rank(cands, missing, self.config), qvec

    def features(
        self, question: str, episode: str | None = None, kinds: Sequence[str] = KINDS
    ) -> tuple[list[Candidate], dict[str, float], np.ndarray]:
        """Candidate sentences with their features, not yet scored; the share of the
        question's IDF mass each episode never says; the question's vector."""
        cfg = self.config
        results = self.searcher.search(
            question, k=cfg.passages, kinds=kinds, episode=episode, distinct=False
        )
        cands: dict[tuple[str, str, str, int], Candidate] = {}
        texts: dict[str, _EpisodeText] = {}
        for rank, r in enumerate(results):
            et = texts.get(r.episode) or self._text(r.episode)
            if et is None:
                continue
            texts[r.episode] = et
            for c in self.sentences_of(r, et, rank):
                cands.setdefault(c.key, c)
        # "What does Neel think of X?": the name says who, not what, and its words would match
        # the host's introduction of the guest; the sentences are compared with the rest.
        names = frozenset().union(*(et.speakers for et in texts.values()))
        qvec = embed_texts(self.searcher.model, [without_speakers(question, names)])[0]
        out = list(cands.values())
        if not out:
            return [], {}, qvec
        # The questions a candidate replies to, and the sentence before it, are embedded too
        # (stored at ingest; else embedded now and cached like the rest).
        extra: dict[tuple[str, str, str, int], Candidate] = {}
        for c in out:
            if c.kind == "transcript":
                et = texts[c.episode]
                for j in [*et.asked.get(c.index, ()), *_context_index(et, c.index)]:
                    q = _stream_candidate(c.episode, et, j)
                    extra.setdefault(q.key, q)
        self._embed(out + list(extra.values()), texts)
        qtoks = question_tokens(question, names)
        defines, asked = definition_of(question), definition_asked(question)
        for c in out:
            et = texts[c.episode]
            c.defines = bool(defines and defines.search(c.text))
            c.replies = bool(
                asked
                and c.kind == "transcript"
                and c.words >= ANSWER_MIN_WORDS  # the reply's "Sure." answers nothing
                and _replies_to(et, c.index, asked)
            )
            c.dense = float(c.vector @ qvec)
            c.coverage = _coverage(qtoks, set(tokenize(c.text)), et)
            if c.kind != "transcript":
                continue
            if c.index in et.asked:
                first = c.index == 0 or et.sentences[c.index - 1].turn != c.turn
                sims = [
                    float(extra[(c.episode, "transcript", "", j)].vector @ qvec)
                    for j in et.asked[c.index]
                ]
                c.qa = max(sims) * (1.0 if first else 0.7)
            for j in _context_index(et, c.index):
                c.context = float(extra[(c.episode, "transcript", "", j)].vector @ qvec)
        missing = {e: _missing(qtoks, et) for e, et in texts.items()}
        return out, missing, qvec

    def extract(
        self, question: str, cands: list[Candidate], conf: float, qvec: np.ndarray | None = None
    ) -> Answer:
        """The extractive answer from scored candidates, or an abstention under the threshold."""
        cfg = self.config
        if not cands or conf < cfg.threshold:
            closest = self.closest(cands)
            return Answer(
                question,
                NOT_DISCUSSED,
                True,
                closest=closest,
                episode=closest[0].episode if closest else None,
                confidence=conf,
            )
        episode = _top(cands).episode  # the episode that discusses it; its best answers
        mine = [c for c in cands if c.episode == episode]
        best = mine[0]
        pool = [c for c in mine if c.score >= best.score - cfg.margin]
        vecs = np.stack([c.vector for c in pool])
        picked = mmr(
            np.array([c.score for c in pool]),
            vecs @ vecs.T,
            cfg.max_sentences,
            lam=cfg.mmr_lambda,
            max_sim=cfg.max_similar,
        )
        chosen: list[Candidate] = []
        words = 0
        for i in picked:  # best first, so the budget keeps the best
            c = pool[i]
            if chosen and words + c.words > cfg.max_words:
                continue
            if len(group_runs([*chosen, c])) > cfg.max_citations:
                continue  # a few moments, not a scatter of them
            chosen.append(c)
            words += c.words
        chosen += self.gaps(chosen, cfg.max_words - words)
        units = group_runs(chosen)
        text, cites = render(units)
        return Answer(question, text, False, cites, episode=best.episode, confidence=conf)

    def gaps(self, chosen: Sequence[Candidate], budget: int) -> list[Candidate]:
        """The sentences that lie alone between two chosen ones of the same turn, while the word
        ``budget`` lasts: a reply's point often spans three sentences of which the middle one
        scores low on its own ("...each neuron cluster is rank nine..." between two that
        name the clusters), and with it the citation plays as one run instead of skipping it."""
        have = {(c.episode, c.index) for c in chosen if c.kind == "transcript"}
        out: list[Candidate] = []
        for c in sorted(chosen, key=lambda c: (c.episode, c.index)):
            gap = (c.episode, c.index + 1)
            if c.kind != "transcript" or gap in have or (c.episode, c.index + 2) not in have:
                continue
            et = self._text(c.episode)
            if et is None or not (
                et.sentences[c.index + 1].turn == c.turn == et.sentences[c.index + 2].turn
            ):
                continue
            s = _stream_candidate(c.episode, et, c.index + 1)
            if s.words > budget:
                continue
            s.link = deep_link(c.episode, s.start)
            out.append(s)
            have.add(gap)
            budget -= s.words
        return out

    def closest(self, cands: list[Candidate]) -> list[Citation]:
        """The best sentence of each of the top moments (distinct passages), for "closest
        mentions"."""
        seen: set[int] = set()
        out: list[Candidate] = []
        for c in sorted(cands, key=lambda c: (-c.support, c.episode, c.index)):
            if c.rank in seen:
                continue
            seen.add(c.rank)
            out.append(c)
            if len(out) == self.config.closest:
                break
        return [to_citation(n, [c]) for n, c in enumerate(out, 1)]

    # -- helpers ------------------------------------------------------------------------------

    def _text(self, episode_id: str) -> _EpisodeText | None:
        gen = self.searcher.store.generation()
        key = (episode_id, gen)
        with self._lock:
            et = self._texts.get(key)
        if et is None:
            ep = self.searcher.store.load_episode(episode_id)
            if ep is None:
                return None
            et = _episode_text(ep)
            # Embedded at ingest (index.build): scoring then needs no model call per sentence.
            vecs = self.searcher.store.load_sentence_vectors(
                episode_id, texts_hash([s.text for s in et.sentences])
            )
            model = self.searcher.model
            if (
                vecs is not None
                and vecs.shape == (et.n, embedding_dim(model))
                and self.searcher.store.model_label() == model_id(model)
            ):
                et.vectors = vecs
            with self._lock:
                self._texts = {k: v for k, v in self._texts.items() if k[1] == gen}
                self._texts[key] = et
        return et

    def sentences_of(self, r: SearchResult, et: _EpisodeText, rank: int) -> list[Candidate]:
        if r.kind == "paper":
            at = _paper_time(et.episode, r.url)
            return [
                Candidate(
                    r.episode,
                    "paper",
                    s,
                    at,
                    None,
                    None,
                    r.chapter,
                    deep_link(r.episode, at),
                    index=r.word_start * 1000 + i,
                    title=r.title,
                    url=r.url,
                    rank=rank,
                )
                for i, s in enumerate(split_sentences(r.text))
                if len(s.split()) >= 4
            ]
        # The whole passage: a result may start at its answering sentence, mid-passage.
        first = min(r.word_start, getattr(r, "passage_word_start", r.word_start))
        lo = bisect.bisect_left(et.offsets, first)
        hi = bisect.bisect_left(et.offsets, r.word_end)
        out = []
        for i in range(lo, hi):
            c = _stream_candidate(r.episode, et, i, rank=rank)
            c.link = deep_link(r.episode, c.start)
            out.append(c)
        return out

    def _embed(self, cands: Sequence[Candidate], texts: dict[str, _EpisodeText]) -> None:
        """Sentence vectors: a transcript sentence's from the index (stored at ingest), any
        other embedded now and cached per sentence (follow-ups revisit the same moments)."""
        for c in cands:
            et = texts.get(c.episode)
            if c.kind == "transcript" and et is not None and et.vectors is not None:
                c.vector = et.vectors[c.index]
        cands = [c for c in cands if c.vector is None]
        todo = [c for c in cands if c.key not in self._vectors]
        if todo:
            vecs = embed_texts(self.searcher.model, [c.text for c in todo])
            with self._lock:
                if len(self._vectors) > 50_000:
                    self._vectors.clear()
                for c, v in zip(todo, vecs, strict=True):
                    self._vectors[c.key] = v
        for c in cands:
            c.vector = self._vectors[c.key]


def support(c: Candidate, cfg: AskConfig) -> float:
    """How strongly sentence ``c`` shows the question is discussed (its features, weighted by
    ``cfg``; the abstention threshold is calibrated on this)."""
    return (
        c.dense
        + cfg.lexical_weight * c.coverage
        + cfg.qa_weight * c.qa
        + cfg.rank_weight / (1 + c.rank)
        - _shape_penalty(c)
    )


def score(c: Candidate, cfg: AskConfig) -> float:
    """How well sentence ``c`` answers the question: its own features, and its context (the
    sentence before it in the turn) when that is more like the question than it is."""
    return (
        c.dense
        + cfg.answer_lexical_weight * c.coverage
        + cfg.answer_qa_weight * c.qa
        + cfg.answer_rank_weight / (1 + c.rank)
        + cfg.context_weight * max(0.0, c.context - c.dense)
        - cfg.asking_weight * c.asking
        + cfg.definition_weight * c.defines
        + cfg.reply_weight * c.replies
        - _shape_penalty(c)
    )


def _top(cands: Sequence[Candidate]) -> Candidate:
    """The candidate that best shows the question is discussed."""
    return min(cands, key=lambda c: (-c.support, c.episode, c.index))


def rank(cands: list[Candidate], missing: dict[str, float], cfg: AskConfig) -> float:
    """Score and sort ``cands`` (best answer first); the confidence that the question is
    discussed: the best support less ``missing_weight`` x the share of the question absent from
    that sentence's episode."""
    if not cands:
        return 0.0
    for c in cands:
        c.support = support(c, cfg)
        c.score = score(c, cfg)
    cands.sort(key=lambda c: (-c.score, c.episode, c.index))
    top = _top(cands)
    return top.support - cfg.missing_weight * missing.get(top.episode, 0.0)


def _coverage(qtoks: Sequence[str], toks: set[str], et: _EpisodeText) -> float:
    total = sum(et.idf_of(t) for t in qtoks)
    if total <= 0:
        return 0.0
    return sum(et.idf_of(t) for t in qtoks if t in toks) / total


def _missing(qtoks: Sequence[str], et: _EpisodeText) -> float:
    """The share of the question's IDF mass in words the episode never says."""
    total = sum(et.idf_of(t) for t in qtoks)
    if total <= 0:
        return 0.0
    return sum(et.idf_of(t) for t in qtoks if t not in et.idf) / total


# A sentence broken off ("Induction heads in natural language...", "and my personal guess-").
_TRAILS_OFF_RE = re.compile(r"(?:\.\.\.|…|[-–—])[\"'”’)]*$")


def _shape_penalty(c: Candidate) -> float:
    """Fragments ("Yeah.", "Right, exactly.", a short sentence broken off) and questions answer
    nothing by themselves."""
    p = 0.0
    if c.words < 5 or (c.words < 9 and _TRAILS_OFF_RE.search(c.text.rstrip())):
        p += 0.2
    elif c.words < 9:
        p += 0.06
    if is_question(c.text):
        p += 0.08
    return p


def _paper_time(ep: Episode, url: str | None) -> float | None:
    ref = next((x for x in ep.references if x.url == url), None) if url else None
    starts = [m.start for m in (ref.mentions if ref else []) if m.start is not None]
    return min(starts) if starts else None


def group_runs(chosen: Sequence[Candidate]) -> list[list[Candidate]]:
    """``chosen`` as runs (one citation each): neighbours in one turn joined, in time order; the
    runs ordered best first (by their best sentence's ``score``), so the answer opens with the
    moment that answers best (time order opened with it for 15 of 40 dev answers that cite
    the answer phrase, this order for 30)."""
    ordered = sorted(chosen, key=lambda c: (c.episode, c.kind, c.url or "", c.index))
    units: list[list[Candidate]] = []
    for c in ordered:
        last = units[-1][-1] if units else None
        if (
            last is not None
            and c.kind == "transcript"
            and last.kind == "transcript"
            and last.episode == c.episode
            and last.index + 1 == c.index
            and last.turn == c.turn
        ):
            units[-1].append(c)
        else:
            units.append([c])
    # What was said first, then paper passages: listeners ask about the conversation.
    units.sort(key=lambda u: (u[0].kind != "transcript", -max(c.score for c in u)))
    return units


def to_citation(n: int, run: Sequence[Candidate]) -> Citation:
    first, last = run[0], run[-1]
    return Citation(
        n=n,
        episode=first.episode,
        start=first.start,
        end=last.end,
        speaker=first.speaker,
        text=" ".join(c.text for c in run),
        link=first.link,
        kind=first.kind,
        chapter=first.chapter,
        title=first.title,
        url=first.url,
    )


def render(units: Sequence[Sequence[Candidate]]) -> tuple[str, list[Citation]]:
    """The answer text (each run followed by its ``[n]``) and the citations."""
    cites = [to_citation(n, run) for n, run in enumerate(units, 1)]
    return " ".join(f"{c.text} [{c.n}]" for c in cites), cites
