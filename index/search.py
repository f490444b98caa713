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

This is the shipped path only.  Ideas measured on the dev set and left out (start snapping to
the best sentence group, dense pseudo-relevance feedback, BM25 word bigrams, neighbour-passage
smoothing, conversational query stop words) live in ``bench/eval_search.py``, which runs them
beside this path; the README's design notes have the numbers.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunk import Passage
from index.embed import embed_texts, load_embedder, model_id
from index.store import IndexStore
from podlens.errors import PodlensError
from podlens.links import deep_link
from podlens.text import STOP_WORDS

KINDS = ("transcript", "paper")

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


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


@dataclass
class SearchConfig:
    """The shipped settings (chosen on the dev split; ``bench/eval_search.py`` varies them)."""

    dense_weight: float = 1.0  # each of the two dense rankings (passage, pieces)
    lexical_weight: float = 0.75
    rrf_k: float = 20.0
    depth: int = 200  # candidates taken from each ranking before fusion
    dedup_overlap: float = 0.7  # skip results overlapping a better one by > this share (>1: off)
    paper_share: int = 5  # mixed kinds: at most one paper result per this many results (0: off)


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


class HybridIndex:
    """Dense + BM25 retrieval over passages held in memory.

    ``faiss_index`` holds the passage vectors under ``ids`` (one per passage, in order);
    ``piece_vectors[j]`` is a sentence group of passage row ``piece_owner[j]``.  ``titles``
    (episode -> title) and ``paper_starts`` ((episode, paper URL) -> first mention, seconds)
    dress the results."""

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
        pieces = np.full(self.n, -1.0, dtype=np.float32)
        np.maximum.at(pieces, self.piece_owner, self.piece_vectors @ q[0])
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
    ) -> list[SearchResult]:
        """The top ``k`` distinct moments, best first.

        A result overlapping a better one by more than ``dedup_overlap`` of its words is
        skipped, so two results never replay mostly the same words.  When both kinds are
        searched, at most one result in every ``paper_share`` is a paper passage, kept at its
        fused rank: listeners ask about what was said, and the papers panel / kind filter shows
        the rest."""
        if self.n == 0 or k <= 0:
            return []
        cfg = self.config
        mask = np.isin(self.kind, list(kinds))
        if episode is not None:
            mask &= self.episode == episode
        if not mask.any():
            return []
        fused = self.fuse(self.rankings(query), mask)
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
            if self._overlaps(r, chosen):
                continue
            if r.kind == "paper":
                if papers >= max_papers:
                    held.append(r)
                    continue
                papers += 1
            chosen.append(r)
        return chosen + held[: k - len(chosen)]

    def result(self, row: int, score: float) -> SearchResult:
        """Passage ``row`` as a result.  A transcript passage plays from its start; a paper
        passage links to where the episode first mentions the paper, if known."""
        p = self.passages[row]
        at = self.paper_starts.get((p.episode, p.url or "")) if p.kind == "paper" else p.start
        return SearchResult(
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
            word_start=p.word_start,
            word_end=p.word_end,
        )

    def _overlaps(self, r: SearchResult, chosen: list[SearchResult]) -> bool:
        if r.kind != "transcript":
            return False
        n = max(1, r.word_end - r.word_start)
        for c in chosen:
            if c.kind != "transcript" or c.episode != r.episode:
                continue
            inter = min(r.word_end, c.word_end) - max(r.word_start, c.word_start)
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
        if any(p.kind == "paper" for p in passages):
            for eid in titles:
                ep = self.store.load_episode(eid)
                for ref in ep.references if ep else []:
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
        )
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
        return index.moments(query, k=k, kinds=kinds, episode=episode)
