"""Search quality on episode 19: the naive baseline vs the shipped chunking/search, and ablations.

    PYTHONPATH=. .venv/bin/python bench/eval_search.py [--eval tests/eval/axrp19.jsonl] [--json OUT]

Builds each variant in memory (no data dir), embeds with the configured model (embeddings are
cached per text within the run), and reports recall@1/5/10, MRR and within150@5 (definitions in
``index/evaluate.py``) on the ``dev`` and ``test`` splits of the eval file.  Tuning decisions were
made on ``dev`` only; ``test`` is reported as-is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ep19 import load_ep19
from index.chunk import (
    ChunkConfig,
    chunk_episode,
    chunk_window_baseline,
    episode_sentences,
    passage_pieces,
)
from index.embed import embed_texts, load_embedder
from index.evaluate import evaluate, load_eval
from index.search import HybridIndex, SearchConfig
from podlens.config import embed_model_name

_CACHE: dict[str, np.ndarray] = {}
CACHE_FILE = Path(__file__).resolve().parent / "results" / "embedding_cache.npz"


def _load_cache() -> None:
    if not _CACHE and CACHE_FILE.is_file():
        with np.load(CACHE_FILE) as z:
            _CACHE.update({k: z[k] for k in z.files})


def embed_cached(model, texts: list[str]) -> np.ndarray:
    """Embeddings keyed by sha1(model path + text), kept in bench/results/ between runs."""
    _load_cache()
    salt = str(getattr(model, "_podlens_name", ""))
    keys = [hashlib.sha1((salt + t).encode()).hexdigest() for t in texts]
    todo = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in _CACHE]
    if todo:
        vecs = embed_texts(model, [t for _, t in todo], batch_size=64)
        for (k, _), v in zip(todo, vecs, strict=True):
            _CACHE[k] = v
        CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE_FILE, **_CACHE)
    return np.stack([_CACHE[k] for k in keys])


def run_variant(name, passages, model, scfg, splits, sentences=None) -> dict:
    vecs = embed_cached(model, [p.embed_text for p in passages])
    piece_texts, owner = [], []
    if scfg.piece_mode != "off":
        for i, p in enumerate(passages):
            for t in passage_pieces(p.text):
                piece_texts.append(t)
                owner.append(i)
    pvecs = embed_cached(model, piece_texts) if piece_texts else None
    idx = HybridIndex(
        passages,
        vecs,
        model,
        scfg,
        piece_vectors=pvecs,
        piece_owner=np.array(owner) if owner else None,
        sentences=sentences,
    )

    def search(q: str, k: int) -> list[str]:
        return [m.text for m in idx.moments(q, k=k)]

    out = {"variant": name, "passages": len(passages)}
    for split, items in splits.items():
        m = evaluate(items, search, k=10)
        out[split] = {k: round(v, 3) for k, v in m.items() if k != "per_question"}
        out[split + "_misses"] = [
            (p["question"], p["rank"]) for p in m["per_question"] if not p["within150"]
        ]
    return out


def variants():
    final_c = ChunkConfig()
    final_s = SearchConfig()
    naive = SearchConfig(
        lexical_weight=1.0, rrf_k=60.0, query_stopwords=False, piece_mode="off", dedup_overlap=1.01
    )
    yield "baseline: 200-word windows, RRF(dense, BM25)", ("window", None), naive
    yield "final", ("chunk", final_c), final_s
    yield "final, dense only", ("chunk", final_c), replace(final_s, lexical_weight=0)
    yield "final, BM25 only", ("chunk", final_c), replace(final_s, dense_weight=0)
    yield "final, no piece vectors", ("chunk", final_c), replace(final_s, piece_mode="off")
    yield (
        "final, pieces max'd into passage score",
        ("chunk", final_c),
        replace(final_s, piece_mode="max"),
    )
    yield "final, BM25 weight 1.0", ("chunk", final_c), replace(final_s, lexical_weight=1.0)
    no_ctx = replace(final_c, chapter_context=False, prev_sentence_context=False)
    yield "final, no chapter/prev-sentence context", ("chunk", no_ctx), final_s
    yield "final, with query stopwords", ("chunk", final_c), replace(final_s, query_stopwords=True)
    yield (
        "final, neighbour smoothing 0.3",
        ("chunk", final_c),
        replace(final_s, neighbour_weight=0.3),
    )
    yield "final, dedup >50% overlap", ("chunk", final_c), replace(final_s, dedup_overlap=0.5)
    yield "final, no dedup", ("chunk", final_c), replace(final_s, dedup_overlap=1.01)
    yield (
        "final, RRF k 60 / BM25 0.5 (previous)",
        ("chunk", final_c),
        replace(final_s, rrf_k=60.0, lexical_weight=0.5),
    )
    yield "final, start snapping (lead 100, 250 w)", ("chunk", final_c), replace(final_s, snap=True)
    yield (
        "final, start snapping (1 sentence back, 200 w)",
        ("chunk", final_c),
        replace(final_s, snap=True, snap_lead=0, snap_words=200),
    )
    yield (
        "final, dense PRF 0.3 x top-5",
        ("chunk", final_c),
        replace(final_s, prf_weight=0.3, prf_m=5),
    )
    yield "final, BM25 + bigrams", ("chunk", final_c), replace(final_s, bigrams=True)
    yield (
        "final, passages 150/60 words",
        ("chunk", replace(final_c, target_words=150, stride_words=60)),
        final_s,
    )
    yield (
        "final, passages 110/45 words",
        ("chunk", replace(final_c, target_words=110, stride_words=45)),
        final_s,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", default="tests/eval/axrp19.jsonl")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--only", help="substring of variant names to run")
    ap.add_argument(
        "--splits",
        default="dev,test",
        help="comma-separated splits to report (holdout: run once, after tuning)",
    )
    args = ap.parse_args(argv)
    ep, source = load_ep19()
    print(f"episode from {source}: {len(ep.turns)} turns", file=sys.stderr)
    splits = {s: load_eval(args.eval, split=s) for s in args.splits.split(",")}
    model = load_embedder()
    model._podlens_name = embed_model_name()
    results = []
    for name, (kind, ccfg), scfg in variants():
        if args.only and args.only not in name:
            continue
        t0 = time.perf_counter()
        passages = chunk_window_baseline(ep) if kind == "window" else chunk_episode(ep, ccfg)
        sents = None if kind == "window" else {ep.id: episode_sentences(ep)}
        r = run_variant(name, passages, model, scfg, splits, sents)
        r["seconds"] = round(time.perf_counter() - t0, 1)
        results.append(r)
        cols = [
            f"{sp} R@1 {d['recall@1']:.2f} R@5 {d['recall@5']:.2f} R@10 {d['recall@10']:.2f}"
            f" MRR {d['mrr']:.2f} w150 {d['within150@5']:.2f}"
            for sp, d in ((sp, r[sp]) for sp in splits)
        ]
        print(f"{name:48s} n={r['passages']:4d} | " + " | ".join(cols), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"source": source, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
