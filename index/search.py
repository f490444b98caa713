"""Answer a question with moments (and paper passages): dense + lexical retrieval, fused.

Per query, three rankings of all passages (optionally filtered by kind / episode):

1. **dense passage**: cosine similarity of the query embedding to each passage's ``embed_text``
   vector (FAISS IndexFlatIP over normalised vectors; exact, the corpus is small);
2. **dense pieces**: the best similarity among the passage's sentence groups (~20-50 words,
   embedded separately): a question about one or two sentences still finds its passage;
3. **lexical**: BM25 (bm25s) over ``embed_text`` with a tokenizer that keeps technical terms
   whole (``AdamW`` -> ``adamw``, ``S4`` -> ``s4``, ``GPT-2`` -> ``gpt``, ``2``, ``gpt2``), drops
   English stop words and strips plural/-ing/-ed suffixes;

fused by weighted reciprocal rank (``w / (rrf_k + rank)``; weights 1, 1, 0.5).  Results that
overlap a better one by more than 70% of their words are skipped, so the top k are k moments.
Also implemented and measured but off by default (no gain on the dev set): neighbour-passage
score smoothing, conversational query stop words ("what does Neel say about ...").  The
numbers are in ``bench/eval_search.py`` / the README's design notes.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunk import Passage
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
    lexical_weight: float = 0.5
    rrf_k: float = 60.0
    depth: int = 200  # candidates taken from each ranker before fusion
    neighbour_weight: float = 0.0  # share of the best same-turn neighbour's fused score
    dedup_overlap: float = 0.7  # skip results overlapping a better one by > this share (>1: off)
    piece_mode: str = "rrf"  # piece vectors: own RRF list ("rrf"), max with passage's, "off"
    query_stopwords: bool = False  # measured: no gain on dev (see bench/eval_search.py)


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
        corpus = [tokenize(p.embed_text) or ["\u2205"] for p in self.passages]
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

    def dense_scores(self, query: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(passage similarities, best piece similarity per passage or None)."""
        q = embed_texts(self.model, [query])
        pieces = None
        if self.piece_vectors is not None and len(self.piece_vectors):
            sims = self.piece_vectors @ q[0]
            pieces = np.full(self.n, -1.0, dtype=np.float32)
            np.maximum.at(pieces, self.piece_owner, sims)
        return self._passage_sims(q), pieces

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
        toks = tokenize(query, query=self.config.query_stopwords)
        if not toks:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

    def search(
        self,
        query: str,
        k: int = 5,
        kinds: Sequence[str] = KINDS,
        episode: str | None = None,
    ) -> list[tuple[int, float]]:
        """``[(passage row, score)]``, best first."""
        if self.n == 0:
            return []
        cfg = self.config
        mask = np.isin(self.kind, list(kinds))
        if episode is not None:
            mask &= self.episode == episode
        if not mask.any():
            return []
        fused = np.zeros(self.n, dtype=np.float64)
        rankings: list[tuple[str, float, np.ndarray]] = []
        if cfg.dense_weight:
            dense, pieces = self.dense_scores(query)
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
        fused = np.where(mask, fused, -np.inf)
        order = np.argsort(-fused, kind="stable")
        chosen: list[tuple[int, float]] = []
        for i in order:
            if not np.isfinite(fused[i]) or len(chosen) >= k:
                break
            if cfg.dedup_overlap <= 1 and self._overlaps(int(i), chosen):
                continue
            chosen.append((int(i), float(fused[i])))
        return chosen

    def _overlaps(self, i: int, chosen: list[tuple[int, float]]) -> bool:
        p = self.passages[i]
        if p.kind != "transcript":
            return False
        n = max(1, p.word_end - p.word_start)
        for j, _ in chosen:
            q = self.passages[j]
            if q.kind != "transcript" or q.episode != p.episode:
                continue
            inter = min(p.word_end, q.word_end) - max(p.word_start, q.word_start)
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
        self._index = HybridIndex(
            passages,
            np.zeros((len(passages), dim), np.float32),
            self.model,
            self.config,
            faiss_index=faiss_index,
            ids=ids,
            piece_vectors=piece_vecs[keep] if len(piece_owner) else None,
            piece_owner=piece_owner if len(piece_owner) else None,
        )
        self._titles = {}
        self._first_mention = {}
        for s in self.store.list_episodes():
            self._titles[s.id] = s.title
        if any(p.kind == "paper" for p in passages):
            for eid in self._titles:
                ep = self.store.load_episode(eid)
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
        for row, score in index.search(query, k=k, kinds=kinds, episode=episode):
            p = index.passages[row]
            if p.kind == "paper":
                # A paper passage links to where the episode first mentions the paper, if known.
                link = deep_link(p.episode, self._first_mention.get((p.episode, p.url or "")))
            else:
                link = deep_link(p.episode, p.start)
            out.append(
                SearchResult(
                    episode=p.episode,
                    episode_title=self._titles.get(p.episode, p.episode),
                    kind=p.kind,
                    start=p.start,
                    end=p.end,
                    speaker=p.speaker,
                    chapter=p.chapter,
                    text=p.text,
                    score=score,
                    link=link,
                    title=p.title,
                    url=p.url,
                    passage=p,
                )
            )
        return out
