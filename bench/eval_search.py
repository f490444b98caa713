"""Search quality on episode 19: the naive baseline vs the shipped chunking/search, and ablations.

    PYTHONPATH=. .venv/bin/python bench/eval_search.py [--eval A.jsonl,B.jsonl] [--only NAMES]
        [--splits dev,test] [--json OUT]

Builds each variant in memory (no data dir), embeds with the configured model (embeddings are
cached per text within the run), and reports recall@1/5/10, MRR, within150@5 (definitions in
``index/evaluate.py``) and ``emph`` (how often the first top-5 hit's emphasised sentence holds
at least half the answer phrase) on the ``dev`` and ``test`` splits pooled over the eval files
(default: ``axrp19.jsonl`` + ``axrp19_v2.jsonl``).  Tuning decisions were
made on ``dev`` only; ``test`` is reported as-is.

The ideas that were measured and left out of :mod:`index.search` (dense pseudo-relevance
feedback, BM25 bigrams, neighbour smoothing, query stop words, piece scores max'd into the
passage's, the pre-issue-10 dedup rule; start snapping was superseded by the shipped landing)
live here only, as :class:`Tried` switches on :class:`TriedIndex`, a
``HybridIndex`` with them wired into its methods; ``index.search`` runs the shipped path alone.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ep19 import load_ep19
from index.chunk import (
    ChunkConfig,
    chunk_episode,
    chunk_window_baseline,
    passage_pieces,
)
from index.embed import embed_texts, load_embedder, use_bf16
from index.evaluate import emphasis_holds, evaluate, hit_offset, load_eval
from index.search import HybridIndex, SearchConfig, SearchResult, tokenize
from index.store import flat_index
from podlens.config import embed_model_name
from podlens.sentences import Sentence, episode_sentences
from podlens.text import QUERY_STOP_WORDS, is_question, speaker_words, without_speakers

_CACHE: dict[str, np.ndarray] = {}
CACHE_FILE = Path(__file__).resolve().parent / "results" / "embedding_cache.npz"


def _load_cache() -> None:
    if not _CACHE and CACHE_FILE.is_file():
        with np.load(CACHE_FILE) as z:
            _CACHE.update({k: z[k] for k in z.files})


def embed_cached(model, texts: list[str]) -> np.ndarray:
    """Embeddings keyed by sha1(model path [+ "|bf16"] + text), kept in bench/results/ between
    runs."""
    _load_cache()
    salt = str(getattr(model, "_podlens_name", "")) + ("|bf16" if use_bf16() else "")
    keys = [hashlib.sha1((salt + t).encode()).hexdigest() for t in texts]
    todo = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in _CACHE]
    if todo:
        vecs = embed_texts(model, [t for _, t in todo], batch_size=64)
        for (k, _), v in zip(todo, vecs, strict=True):
            _CACHE[k] = v
        CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE_FILE, **_CACHE)
    return np.stack([_CACHE[k] for k in keys])


# --------------------------------------------------------------------------------------------
# Tried and left off: measured on dev, not shipped (the README's design notes say what each did).
# --------------------------------------------------------------------------------------------
@dataclass
class Tried:
    """Ideas kept out of :mod:`index.search`; the defaults are what ships."""

    pieces: str = "rrf"  # sentence-group vectors: own ranking (shipped), "max" into the passage's
    # dense score, or "off" (not embedded at all)
    query_stopwords: bool = False  # drop conversational words ("what does Neel say about")
    bigrams: bool = False  # add word-bigram tokens to BM25
    neighbour_weight: float = 0.0  # + this share of the best same-chapter neighbour's fused score
    prf_weight: float = 0.0  # dense pseudo-relevance feedback: q + w * mean(top prf_m vectors)
    prf_m: int = 3
    # A bonus where one ranking is sure: + w * confidence_weight * max(0, z - 1), z a passage's
    # standard score among that ranking's top 20 (RRF alone sees only ranks).
    confidence_weight: float = 0.0
    # The dedup rule before issue 10: overlap measured against the candidate's own length only
    # (the shipped rule measures it against the shorter span and also drops a same-start result).
    candidate_dedup: bool = False
    # A fourth ranking: the query's cosine to the host's question that a passage's reply
    # answers (the question closing the turn before the passage's first turn), at this weight,
    # for passages starting within ``asked_reach`` words of the reply's start.
    asked_weight: float = 0.0
    asked_reach: int = 10_000
    # The episode's speakers' names taken out of the question ("what does Neel think of X"
    # names who says it, not what): "dense" for the query vector only, "all" for BM25 too.
    speaker_names: str = "keep"


_QUERY_TOKENS = frozenset(t for w in QUERY_STOP_WORDS for t in tokenize(w))


class TriedIndex(HybridIndex):
    """:class:`index.search.HybridIndex` over in-memory vectors, with the :class:`Tried` ideas
    switched on through its methods (tokens, query vector, rankings, fusion, result span)."""

    def __init__(
        self,
        passages,
        vectors: np.ndarray,
        model,
        config: SearchConfig,
        tried: Tried,
        piece_vectors: np.ndarray | None = None,
        piece_owner: np.ndarray | None = None,
        sentences: dict[str, list[Sentence]] | None = None,
    ):
        ids = range(len(passages))
        super().__init__(
            passages,
            model,
            flat_index(ids, vectors),
            ids,
            piece_vectors=piece_vectors,
            piece_owner=piece_owner,
            config=config,
            sentences=sentences,
        )
        self.tried = tried
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._piece_sims: np.ndarray | None = None  # every piece's similarity to this query
        self.asked_keys: np.ndarray | None = None  # (n, d) the asked question's vector per passage
        self.asked_owner = np.full(self.n, -1)
        self.asked_offset = np.zeros(self.n)
        self.speakers = speaker_words(p.speaker for p in self.passages if p.speaker)
        if tried.bigrams:
            import bm25s

            self.bm25 = bm25s.BM25()
            corpus = [self._bigrams(tokenize(p.embed_text)) or ["\u2205"] for p in self.passages]
            self.bm25.index(corpus, show_progress=False)
        # Neighbours (previous / next passage of the same chapter), for smoothing.
        self.prev = np.full(self.n, -1)
        self.next = np.full(self.n, -1)
        for i in range(1, self.n):
            a, b = self.passages[i - 1], self.passages[i]
            same = a.episode == b.episode and a.chapter == b.chapter
            if same and a.kind == b.kind == "transcript":
                self.prev[i], self.next[i - 1] = i - 1, i

    def _bigrams(self, toks: list[str]) -> list[str]:
        if not self.tried.bigrams:
            return toks
        return toks + [a + "_" + b for a, b in itertools.pairwise(toks)]

    def _without_names(self, query: str) -> str:
        return without_speakers(query, self.speakers)

    def lexical_scores(self, query: str) -> np.ndarray:
        if self.tried.speaker_names == "all":
            query = self._without_names(query)
        toks = tokenize(query)
        if self.tried.query_stopwords:
            toks = [t for t in toks if t not in _QUERY_TOKENS]
        toks = self._bigrams(toks)
        if not toks:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

    def query_vector(self, query: str) -> np.ndarray:
        if self.tried.speaker_names != "keep":
            query = self._without_names(query)
        q = super().query_vector(query)
        t = self.tried
        if t.prf_weight and self.n:
            top = np.argsort(-(self.vectors @ q[0]))[: t.prf_m]
            q = q + t.prf_weight * self.vectors[top].mean(axis=0)[None, :]
            q = (q / np.linalg.norm(q)).astype(np.float32)
        return q

    def dense_scores(self, q: np.ndarray):
        if self.piece_vectors is not None:
            self._piece_sims = self.piece_vectors @ q[0]
        return super().dense_scores(q)

    def rankings(self, query: str):
        self._piece_sims = None
        out = super().rankings(query)
        if self.tried.asked_weight and self.asked_keys is not None:
            q = self.query_vector(query)[0]
            sims = np.where(self.asked_owner >= 0, self.asked_keys @ q, -1.0)
            out.append(("asked", self.tried.asked_weight, sims - 1e-5 * self.asked_offset))
        pieces = next((s for name, _, s in out if name == "pieces"), None)
        if self.tried.pieces == "max" and pieces is not None:
            out = [
                (name, w, np.maximum(s, pieces) if name == "dense" else s)
                for name, w, s in out
                if name != "pieces"
            ]
        return out

    def fuse(self, rankings, mask: np.ndarray) -> np.ndarray:
        fused = super().fuse(rankings, mask)
        if self.tried.confidence_weight:
            for name, weight, scores in rankings:
                s = np.where(mask, scores, -np.inf).astype(np.float64)
                if name == "lexical" and not np.any(s[mask] > 0):
                    continue
                order = np.argsort(-s, kind="stable")[: self.config.depth]
                top = s[order[np.isfinite(s[order])]]
                head = top[:20]
                if len(head) > 1 and head.std() > 0:
                    z = (top - head.mean()) / head.std()
                    bonus = np.clip(z - 1.0, 0.0, None)
                    fused[order[: len(top)]] += weight * self.tried.confidence_weight * bonus
        w = self.tried.neighbour_weight
        if not w:
            return fused
        base = np.where(mask, fused, 0.0)
        prev = np.where(self.prev >= 0, base[np.maximum(self.prev, 0)], 0.0)
        nxt = np.where(self.next >= 0, base[np.maximum(self.next, 0)], 0.0)
        return np.where(mask, base + w * np.maximum(prev, nxt), -np.inf)

    def _overlaps(self, r: SearchResult, chosen: list[SearchResult], distinct: bool = True) -> bool:
        if not self.tried.candidate_dedup:
            return super()._overlaps(r, chosen, distinct)
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


def answer_emphasised(idx: HybridIndex, items) -> float:
    """Share of the questions with a top-5 hit whose first hit's emphasised sentence
    (``answer``) holds the answer (:func:`index.evaluate.emphasis_holds`)."""
    hits = holds = 0
    for it in items:
        results = idx.moments(it.question, k=5)
        hit = next((r for r in results if hit_offset(r.text, it.answer) is not None), None)
        if hit is None or hit.answer is None:
            continue
        hits += 1
        holds += emphasis_holds(hit.answer, it.answer)
    return holds / hits if hits else 0.0


def _asked_keys(idx: TriedIndex, model, sentences, reach: int) -> None:
    """Each transcript passage's asked question: the question sentence(s) closing the turn
    before the reply its first sentence is in (or the passage's own turn's, when that turn
    asks), if it starts within ``reach`` words of where that reply (or question) begins."""
    import bisect

    from podlens.sentences import by_turn_index

    keys: list[str] = []
    owner = np.full(idx.n, -1)
    offset = np.zeros(idx.n)
    turns = {}  # each episode's turn spans, their first sentences and its sentences' words
    for ep, sents in sentences.items():
        spans = by_turn_index(sents)
        turns[ep] = (spans, [lo for lo, _ in spans], [s.word for s in sents])
    for i, p in enumerate(idx.passages):
        sents = sentences.get(p.episode) if p.kind == "transcript" else None
        if not sents:
            continue
        spans, starts, words = turns[p.episode]
        first = max(0, bisect.bisect_right(words, p.word_start) - 1)
        t = bisect.bisect_right(starts, first) - 1
        lo, hi = spans[t]
        qs: list[int] = []
        if is_question(sents[hi - 1].text) and first >= hi - 3:
            qs = [j for j in range(max(lo, hi - 3), hi) if is_question(sents[j].text)]
            begin = lo
        elif t > 0 and sents[spans[t - 1][0]].speaker != sents[lo].speaker:
            plo, phi = spans[t - 1]
            qs = [j for j in range(max(plo, phi - 3), phi) if is_question(sents[j].text)]
            begin = lo
        if not qs or p.word_start - sents[begin].word > reach:
            continue
        owner[i] = len(keys)
        offset[i] = p.word_start - sents[begin].word
        keys.append(" ".join(sents[j].text for j in qs))
    vecs = embed_cached(model, keys) if keys else np.zeros((0, idx.vectors.shape[1]))
    full = np.zeros((idx.n, idx.vectors.shape[1]), dtype=np.float32)
    full[owner >= 0] = vecs[owner[owner >= 0]]
    idx.asked_keys, idx.asked_owner, idx.asked_offset = full, owner, offset


def run_variant(name, passages, model, scfg, tried, splits, sentences=None) -> dict:
    vecs = embed_cached(model, [p.embed_text for p in passages])
    piece_texts, owner = [], []
    if tried.pieces != "off":
        for i, p in enumerate(passages):
            for t in passage_pieces(p.text):
                piece_texts.append(t)
                owner.append(i)
    pvecs = embed_cached(model, piece_texts) if piece_texts else None
    idx = TriedIndex(
        passages,
        vecs,
        model,
        scfg,
        tried,
        piece_vectors=pvecs,
        piece_owner=np.array(owner) if owner else None,
        sentences=sentences,
    )

    if tried.asked_weight and sentences:
        _asked_keys(idx, model, sentences, tried.asked_reach)

    def search(q: str, k: int) -> list[str]:
        return [m.text for m in idx.moments(q, k=k)]

    quote = "there's just something weird about the optimizer we're using"
    top = idx.moments(quote, k=2)

    out = {"variant": name, "passages": len(passages), "quote_top_starts": [m.start for m in top]}
    for split, items in splits.items():
        m = evaluate(items, search, k=10)
        out[split] = {k: round(v, 3) for k, v in m.items() if k != "per_question"}
        out[split]["answer_emphasised"] = round(answer_emphasised(idx, items), 3)
        out[split + "_misses"] = [
            (p["question"], p["rank"]) for p in m["per_question"] if not p["within150"]
        ]
    return out


def variants():
    """``(name, (chunker, ChunkConfig), SearchConfig, Tried)`` for each row of the comparison."""
    final_c, final_s, shipped = ChunkConfig(), SearchConfig(), Tried()
    chunk = ("chunk", final_c)
    naive = SearchConfig(lexical_weight=1.0, rrf_k=60.0, dedup_overlap=1.01)
    yield (
        "baseline: 200-word windows, RRF(dense, BM25)",
        ("window", None),
        naive,
        Tried(pieces="off"),
    )
    yield "final", chunk, final_s, shipped
    yield "final, dense only", chunk, replace(final_s, lexical_weight=0), shipped
    yield "final, BM25 only", chunk, replace(final_s, dense_weight=0), shipped
    yield "final, no piece vectors", chunk, final_s, Tried(pieces="off")
    yield "final, pieces max'd into passage score", chunk, final_s, Tried(pieces="max")
    yield "final, BM25 weight 1.0", chunk, replace(final_s, lexical_weight=1.0), shipped
    no_ctx = replace(final_c, chapter_context=False, prev_sentence_context=False)
    yield "final, no chapter/prev-sentence context", ("chunk", no_ctx), final_s, shipped
    yield "final, with query stopwords", chunk, final_s, Tried(query_stopwords=True)
    yield (
        "final, speakers' names out of the query vector",
        chunk,
        final_s,
        Tried(speaker_names="dense"),
    )
    yield "final, speakers' names out of the query", chunk, final_s, Tried(speaker_names="all")
    for w, reach in ((0.5, 10_000), (0.25, 100)):
        yield (
            f"final, asked question ranking {w} reach {reach}",
            chunk,
            final_s,
            Tried(asked_weight=w, asked_reach=reach),
        )
    yield "final, neighbour smoothing 0.3", chunk, final_s, Tried(neighbour_weight=0.3)
    yield "final, dedup >70% overlap (before)", chunk, replace(final_s, dedup_overlap=0.7), shipped
    yield "final, no dedup", chunk, replace(final_s, dedup_overlap=1.01), shipped
    yield (
        "final, RRF k 60 / BM25 0.5 (previous)",
        chunk,
        replace(final_s, rrf_k=60.0, lexical_weight=0.5),
        shipped,
    )
    before = replace(final_s, phrase_min_words=0, land=False)
    yield "before #10: no exact wording, no landing", chunk, before, Tried(candidate_dedup=True)
    yield "final, no exact wording", chunk, replace(final_s, phrase_min_words=0), shipped
    for bonus in (0.0, 0.01, 0.03):
        yield (
            f"final, definitions first {bonus}",
            chunk,
            replace(final_s, definition_bonus=bonus),
            shipped,
        )
    yield "final, no landing", chunk, replace(final_s, land=False), shipped
    yield "final, old dedup rule", chunk, final_s, Tried(candidate_dedup=True)
    for margin in (0.02, 0.05, 0.1):
        yield f"final, land margin {margin}", chunk, replace(final_s, land_margin=margin), shipped
    yield "final, exact wording >= 4 words", chunk, replace(final_s, phrase_min_words=4), shipped
    yield "final, dense PRF 0.3 x top-5", chunk, final_s, Tried(prf_weight=0.3, prf_m=5)
    yield "final, BM25 + bigrams", chunk, final_s, Tried(bigrams=True)
    yield "final, sure-ranking bonus 0.01", chunk, final_s, Tried(confidence_weight=0.01)
    yield (
        "final, passages 150/60 words",
        ("chunk", replace(final_c, target_words=150, stride_words=60)),
        final_s,
        shipped,
    )
    yield (
        "final, passages 110/45 words",
        ("chunk", replace(final_c, target_words=110, stride_words=45)),
        final_s,
        shipped,
    )


def reworded(items, form: str) -> list:
    """The "What is/are [a/an/the] X?" items asked as ``form`` (``{x}``: X); the rest dropped."""
    out = []
    for it in items:
        m = re.match(r"what (?:is|are) (?:an? |the )?(.+?)\?$", it.question, re.I)
        if m:
            out.append(replace(it, question=form.format(x=m.group(1))))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--eval",
        default="tests/eval/axrp19.jsonl,tests/eval/axrp19_v2.jsonl",
        help="comma-separated eval files; each split pools its questions from all of them",
    )
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--only", help="comma-separated variant names to run (exact, else substrings)")
    ap.add_argument(
        "--reword",
        help='ask each "What is/are X?" question as this instead, e.g. "Define {x}" (the '
        "definition questions asked other ways); other questions are left out",
    )
    ap.add_argument(
        "--splits",
        default="dev,test",
        help="comma-separated splits to report (holdout: run once, after tuning)",
    )
    args = ap.parse_args(argv)
    ep, source = load_ep19()
    print(f"episode from {source}: {len(ep.turns)} turns", file=sys.stderr)
    files = args.eval.split(",")
    splits = {
        s: [it for f in files for it in load_eval(f, split=s)] for s in args.splits.split(",")
    }
    if args.reword:
        splits = {s: reworded(items, args.reword) for s, items in splits.items()}
    names = [n for n, *_ in variants()]
    wanted = args.only.split(",") if args.only else None
    model = load_embedder()
    model._podlens_name = embed_model_name()
    results = []
    for name, (kind, ccfg), scfg, tried in variants():
        if wanted and not any(w == name or (w not in names and w in name) for w in wanted):
            continue
        t0 = time.perf_counter()
        passages = chunk_window_baseline(ep) if kind == "window" else chunk_episode(ep, ccfg)
        sents = None if kind == "window" else {ep.id: episode_sentences(ep)}
        r = run_variant(name, passages, model, scfg, tried, splits, sents)
        r["seconds"] = round(time.perf_counter() - t0, 1)
        results.append(r)
        cols = [
            f"{sp} R@1 {d['recall@1']:.2f} R@5 {d['recall@5']:.2f} R@10 {d['recall@10']:.2f}"
            f" MRR {d['mrr']:.2f} w150 {d['within150@5']:.2f} emph {d['answer_emphasised']:.2f}"
            for sp, d in ((sp, r[sp]) for sp in splits)
        ]
        print(f"{name:48s} n={r['passages']:4d} | " + " | ".join(cols), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"source": source, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
