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
Results that overlap a better one by more than 70% of their words are skipped, so the top k are
k moments.  When transcripts and papers are searched together, at most one result in five is a
paper passage (kept at its fused rank): listeners ask about what was said, and the app's papers
panel / kind filter shows the rest.
Also implemented and measured but off by default (no gain on the dev set): query-time start
snapping to the best sentence group, dense pseudo-relevance feedback, BM25 word bigrams,
neighbour-passage score smoothing, conversational query stop words ("what does Neel say about
...").  The numbers are in ``bench/eval_search.py`` / the README's design notes.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunk import (
    ChunkConfig,
    Passage,
    Sentence,
    episode_sentences,
    join_sentences,
    piece_offsets,
)
from index.embed import embed_texts, embedding_dim, load_embedder, model_id
from index.store import IndexStore
from podlens.errors import PodlensError
from podlens.links import deep_link

KINDS = ("transcript", "paper")

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def _words(text: str) -> list[str]:
    return text.split()


STOPWORDS = frozenset(
    _words(
        """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don ll re ve d m o y isn aren wasn weren doesn didn haven hasn
    hadn won wouldn shouldn couldn mustn also really kind sort like think thing things
    something lot yeah okay um uh actually get got go going just one way much many well
    maybe
    """
    )
)
# Words a listener uses to talk *about* the conversation, not its content.
QUERY_STOPWORDS = frozenset(
    _words(
        """
    neel nanda daniel filan guest host say says said saying mention mentions mentioned talk
    talks talked talking discuss discussed describe describes described explain explains
    explained according episode podcast conversation interview tell tells told claim claims
    argue argues argued point
    """
    )
)


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


def tokenize(text: str, query: bool = False) -> list[str]:
    """Lower-cased BM25 tokens; hyphenated terms give their parts and the joined form."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower().replace("’", "'")):
        parts = re.split(r"[-']", tok)
        if len(parts) > 1:
            joined = "".join(parts)
            if joined not in STOPWORDS:
                out.append(_stem(joined))
        for p in parts:
            if not p or p in STOPWORDS or (query and p in QUERY_STOPWORDS):
                continue
            out.append(_stem(p))
    return out


@dataclass
class SearchConfig:
    dense_weight: float = 1.0
    lexical_weight: float = 0.75
    rrf_k: float = 20.0
    depth: int = 200  # candidates taken from each ranker before fusion
    neighbour_weight: float = 0.0  # share of the best same-turn neighbour's fused score
    dedup_overlap: float = 0.7  # skip results overlapping a better one by > this share (>1: off)
    piece_mode: str = "rrf"  # piece vectors: own RRF list ("rrf"), max with passage's, "off"
    query_stopwords: bool = False  # measured: no gain on dev (see bench/eval_search.py)
    # Start snapping: a transcript result starts `snap_back` sentences before its passage's
    # best-matching sentence group and runs up to `snap_words` words forward (same chapter).
    # Measured, off by default: on dev it ties R@5 and gains one within150 question but loses
    # R@1/MRR (the best group is often not where the answer starts); see bench/eval_search.py.
    snap: bool = False
    snap_back: int = 1
    snap_words: int = 250
    snap_min: int = 0  # snap only when the best group starts at least this many words in
    snap_lead: int = 100  # keep up to this many words of the passage before the group
    prf_weight: float = 0.0  # dense pseudo-relevance feedback: q + w * mean(top prf_m vectors)
    prf_m: int = 3
    bigrams: bool = False  # add word-bigram tokens to BM25
    paper_share: int = 5  # mixed kinds: at most one paper result per this many results (0: off)


@dataclass
class SearchResult:
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
    passage: Passage | None = field(default=None, repr=False, compare=False)

    word_start: int = field(default=0, repr=False, compare=False)  # span of `text` in the
    word_end: int = field(default=0, repr=False, compare=False)  # episode's word stream

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
        return d


@dataclass
class Moment:
    """One result of :meth:`HybridIndex.moments`: a passage row and the span to play from it."""

    row: int
    score: float
    text: str
    start: float | None
    end: float | None
    speaker: str | None
    word_start: int
    word_end: int


class HybridIndex:
    """Dense + BM25 retrieval over an in-memory list of passages and their vectors."""

    def __init__(
        self,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        model,
        config: SearchConfig | None = None,
        faiss_index=None,
        ids: Sequence[int] | None = None,
        piece_vectors: np.ndarray | None = None,
        piece_owner: np.ndarray | None = None,
        sentences: dict[str, Sequence[Sentence]] | None = None,
    ):
        import bm25s

        self.passages = list(passages)
        self.model = model
        self.config = config or SearchConfig()
        self.n = len(self.passages)
        # Row i of the dense scores is passage i; FAISS ids are mapped back through `ids`.
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.faiss_index = faiss_index
        self.row_of = {int(pid): i for i, pid in enumerate(ids)} if ids is not None else None
        # Sentence-group vectors: piece_owner[j] is the passage row of piece j.
        self.piece_vectors = piece_vectors
        self.piece_owner = piece_owner
        self.bm25 = bm25s.BM25()
        corpus = [self._tokens(p.embed_text) or ["\u2205"] for p in self.passages]
        self.bm25.index(corpus, show_progress=False)
        self.kind = np.array([p.kind for p in self.passages])
        self.episode = np.array([p.episode for p in self.passages])
        # Neighbours (previous / next passage of the same chapter), for smoothing.
        self.prev = np.full(self.n, -1)
        self.next = np.full(self.n, -1)
        for i in range(1, self.n):
            a, b = self.passages[i - 1], self.passages[i]
            if (
                a.kind == b.kind == "transcript"
                and a.episode == b.episode
                and a.chapter == b.chapter
            ):
                self.prev[i], self.next[i - 1] = i - 1, i
        self._init_snapping(sentences or {})

    def _tokens(self, text: str, query: bool = False) -> list[str]:
        toks = tokenize(text, query=query)
        if self.config.bigrams:
            toks = toks + [a + "_" + b for a, b in itertools.pairwise(toks)]
        return toks

    def _init_snapping(self, sentences: dict[str, Sequence[Sentence]]) -> None:
        """Per passage: its pieces (rows of piece_vectors) and where each starts in the episode's
        word stream; per episode: the sentence stream and its word offsets."""
        self.sentences = {e: list(s) for e, s in sentences.items()}
        self.sent_pos = {e: np.array([x.word for x in s]) for e, s in self.sentences.items()}
        self.pieces_of: dict[int, np.ndarray] = {}
        self.piece_word = None
        if self.piece_owner is None or not self.sentences:
            return
        owner = np.asarray(self.piece_owner)
        self.piece_word = np.full(len(owner), -1, dtype=np.int64)
        order = np.argsort(owner, kind="stable")
        bounds = np.searchsorted(owner[order], np.arange(self.n + 1))
        for row in range(self.n):
            js = order[bounds[row] : bounds[row + 1]]
            p = self.passages[row]
            if p.kind != "transcript" or p.episode not in self.sentences or not len(js):
                continue
            offs = piece_offsets(p.text)
            if len(offs) != len(js):  # vectors from another piece rule: no snapping here
                continue
            self.pieces_of[row] = js
            self.piece_word[js] = p.word_start + np.array(offs)

    def query_vector(self, query: str) -> np.ndarray:
        q = embed_texts(self.model, [query])
        cfg = self.config
        if cfg.prf_weight and self.n:
            sims = self._passage_sims(q)
            top = np.argsort(-sims)[: cfg.prf_m]
            fb = self._vectors_of(top).mean(axis=0)
            q = q + cfg.prf_weight * fb[None, :]
            q = (q / np.linalg.norm(q)).astype(np.float32)
        return q

    def _vectors_of(self, rows: np.ndarray) -> np.ndarray:
        if self.faiss_index is not None and self.row_of is not None:
            ids = {r: pid for pid, r in self.row_of.items()}
            return np.stack([self.faiss_index.reconstruct(int(ids[int(r)])) for r in rows])
        return self.vectors[rows]

    def dense_scores(self, query: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """(passage similarities, best piece similarity per passage or None, every piece's
        similarity or None)."""
        q = self.query_vector(query)
        pieces = sims = None
        if self.piece_vectors is not None and len(self.piece_vectors):
            sims = self.piece_vectors @ q[0]
            pieces = np.full(self.n, -1.0, dtype=np.float32)
            np.maximum.at(pieces, self.piece_owner, sims)
        return self._passage_sims(q), pieces, sims

    def _passage_sims(self, q: np.ndarray) -> np.ndarray:
        if self.faiss_index is not None and self.row_of is not None:
            sims, fids = self.faiss_index.search(q, self.n)
            out = np.full(self.n, -1.0, dtype=np.float32)
            for s, f in zip(sims[0], fids[0], strict=True):
                if f >= 0:
                    out[self.row_of[int(f)]] = s
            return out
        return self.vectors @ q[0]

    def lexical_scores(self, query: str) -> np.ndarray:
        toks = self._tokens(query, query=self.config.query_stopwords)
        if not toks:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

    def _fuse(self, query: str, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(fused score per passage, -inf outside ``mask``; every piece's dense similarity)."""
        cfg = self.config
        fused = np.zeros(self.n, dtype=np.float64)
        rankings: list[tuple[str, float, np.ndarray]] = []
        piece_sims = None
        if cfg.dense_weight:
            dense, pieces, piece_sims = self.dense_scores(query)
            if pieces is not None and cfg.piece_mode == "max":
                dense = np.maximum(dense, pieces)
            rankings.append(("dense", cfg.dense_weight, dense))
            if pieces is not None and cfg.piece_mode == "rrf":
                rankings.append(("pieces", cfg.dense_weight, pieces))
        if cfg.lexical_weight:
            rankings.append(("lexical", cfg.lexical_weight, self.lexical_scores(query)))
        for name, weight, scores in rankings:
            s = np.where(mask, scores, -np.inf)
            if name == "lexical" and not np.any(s[mask] > 0):
                continue  # no query term occurs anywhere: BM25 has no opinion
            order = np.argsort(-s, kind="stable")[: cfg.depth]
            order = order[np.isfinite(s[order])]
            fused[order] += weight / (cfg.rrf_k + 1 + np.arange(len(order)))
        if cfg.neighbour_weight:
            prev = np.where(self.prev >= 0, fused[np.maximum(self.prev, 0)], 0.0)
            nxt = np.where(self.next >= 0, fused[np.maximum(self.next, 0)], 0.0)
            fused = fused + cfg.neighbour_weight * np.maximum(prev, nxt)
        return np.where(mask, fused, -np.inf), piece_sims

    def search(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[str] = KINDS,
        episode: str | None = None,
    ) -> list[tuple[int, float]]:
        """``[(passage row, score)]``, best first (the passages behind :meth:`moments`)."""
        return [(m.row, m.score) for m in self.moments(query, k, kinds, episode)]

    def moments(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[str] = KINDS,
        episode: str | None = None,
    ) -> list[Moment]:
        """The top ``k`` distinct moments, best first.

        Transcript passages are snapped (see :meth:`snap`) before de-duplication, so two
        results never replay mostly the same words.  When both kinds are searched, at most one
        result in every ``paper_share`` is a paper passage, kept at its fused rank: listeners
        ask about what was said, and the papers panel / kind filter shows the rest."""
        if self.n == 0 or k <= 0:
            return []
        cfg = self.config
        mask = np.isin(self.kind, list(kinds))
        if episode is not None:
            mask &= self.episode == episode
        if not mask.any():
            return []
        fused, piece_sims = self._fuse(query, mask)
        mixed = (
            cfg.paper_share > 0
            and bool((mask & (self.kind == "paper")).any())
            and bool((mask & (self.kind == "transcript")).any())
        )
        max_papers = -(-k // cfg.paper_share) if mixed else k
        order = np.argsort(-fused, kind="stable")
        chosen: list[Moment] = []
        held: list[Moment] = []  # papers over the cap: only used if transcripts run out
        papers = 0
        for i in order:
            if not np.isfinite(fused[i]) or len(chosen) >= k:
                break
            m = self.snap(int(i), float(fused[i]), piece_sims)
            if cfg.dedup_overlap <= 1 and self._overlaps(m, chosen):
                continue
            if self.kind[i] == "paper":
                if papers >= max_papers:
                    held.append(m)
                    continue
                papers += 1
            chosen.append(m)
        return chosen + held[: k - len(chosen)]

    def snap(self, row: int, score: float, piece_sims: np.ndarray | None = None) -> Moment:
        """The moment to play for passage ``row``: with snapping on and the passage's pieces
        known, it starts ``snap_back`` sentences before the passage's best-matching sentence
        group (never crossing into another chapter) and runs forward by whole sentences up to
        ``snap_words`` words, past the passage's end if the chapter goes on.  Else the passage
        itself.  ``start``/``speaker``/``text`` always describe the same span."""
        p = self.passages[row]
        js = self.pieces_of.get(row)
        cfg = self.config
        if not cfg.snap or piece_sims is None or js is None or self.piece_word is None:
            return Moment(row, score, p.text, p.start, p.end, p.speaker, p.word_start, p.word_end)
        sents = self.sentences[p.episode]
        pos = self.sent_pos[p.episode]
        best = int(js[int(np.argmax(piece_sims[js]))])
        if self.piece_word[best] - p.word_start < cfg.snap_min:
            return Moment(row, score, p.text, p.start, p.end, p.speaker, p.word_start, p.word_end)
        si = max(0, int(np.searchsorted(pos, self.piece_word[best], side="right")) - 1)
        target = sents[si].word
        for _ in range(cfg.snap_back):
            if si > 0 and sents[si - 1].chapter == sents[si].chapter:
                si -= 1
        while (
            si > 0
            and sents[si - 1].word >= p.word_start
            and target - sents[si - 1].word <= cfg.snap_lead
        ):
            si -= 1
        sj, words = si, 0
        while sj < len(sents) and sents[sj].chapter == sents[si].chapter:
            if sj > si and words + sents[sj].words > cfg.snap_words:
                break
            words += sents[sj].words
            sj += 1
        span = sents[si:sj]
        first, last = span[0], span[-1]
        return Moment(
            row,
            score,
            join_sentences(span),
            first.start,
            last.end,
            first.speaker,
            first.word,
            last.word + last.words,
        )

    def _overlaps(self, m: Moment, chosen: list[Moment]) -> bool:
        p = self.passages[m.row]
        if p.kind != "transcript":
            return False
        n = max(1, m.word_end - m.word_start)
        for c in chosen:
            q = self.passages[c.row]
            if q.kind != "transcript" or q.episode != p.episode:
                continue
            inter = min(m.word_end, c.word_end) - max(m.word_start, c.word_start)
            if inter / n > self.config.dedup_overlap:
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
        self._titles: dict[str, str] = {}
        self._first_mention: dict[tuple[str, str], float] = {}
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
        dim = embedding_dim(self.model)
        row_of = {pid: i for i, pid in enumerate(ids)}
        owners, piece_vecs = self.store.load_pieces()
        keep = np.array([int(o) in row_of for o in owners], dtype=bool)
        piece_owner = np.array([row_of[int(o)] for o in owners[keep]], dtype=np.int64)
        episodes = {s.id: self.store.load_episode(s.id) for s in self.store.list_episodes()}
        sentences = {
            eid: episode_sentences(ep, ChunkConfig().max_sentence_words)
            for eid, ep in episodes.items()
            if ep is not None
        }
        self._index = HybridIndex(
            passages,
            np.zeros((len(passages), dim), np.float32),
            self.model,
            self.config,
            faiss_index=faiss_index,
            ids=ids,
            piece_vectors=piece_vecs[keep] if len(piece_owner) else None,
            piece_owner=piece_owner if len(piece_owner) else None,
            sentences=sentences,
        )
        self._titles = {}
        self._first_mention = {}
        for s in self.store.list_episodes():
            self._titles[s.id] = s.title
        if any(p.kind == "paper" for p in passages):
            for eid in self._titles:
                ep = episodes.get(eid)
                for ref in ep.references if ep else []:
                    starts = [m.start for m in ref.mentions if m.start is not None]
                    if starts:
                        self._first_mention[(eid, ref.url)] = min(starts)
        self._generation = pgen

    def search(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[str] = KINDS,
        episode: str | None = None,
    ) -> list[SearchResult]:
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
        out = []
        for m in index.moments(query, k=k, kinds=kinds, episode=episode):
            p = index.passages[m.row]
            if p.kind == "paper":
                # A paper passage links to where the episode first mentions the paper, if known.
                link = deep_link(p.episode, self._first_mention.get((p.episode, p.url or "")))
            else:
                link = deep_link(p.episode, m.start)
            out.append(
                SearchResult(
                    episode=p.episode,
                    episode_title=self._titles.get(p.episode, p.episode),
                    kind=p.kind,
                    start=m.start,
                    end=m.end,
                    speaker=m.speaker,
                    chapter=p.chapter,
                    text=m.text,
                    score=m.score,
                    link=link,
                    title=p.title,
                    url=p.url,
                    passage=p,
                    word_start=m.word_start,
                    word_end=m.word_end,
                )
            )
        return out
