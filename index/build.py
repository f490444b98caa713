"""Chunk, embed and store an episode (and its fetched papers): the one way into the index."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

import numpy as np

from index.chunk import ChunkConfig, chunk_episode, chunk_papers, passage_pieces
from index.embed import embed_texts, embedding_dim, load_embedder, model_id
from index.store import IndexStore
from podlens.models import Episode, PaperDoc
from podlens.progress import Progress, no_progress
from podlens.sentences import episode_sentences, texts_hash


def index_episode(
    episode: Episode,
    data_dir: str | os.PathLike[str] | None = None,
    papers: Iterable[PaperDoc] = (),
    progress: Progress | None = None,
    model=None,
) -> dict:
    """Chunk ``episode`` (and ``papers``), embed the passages and atomically replace the episode's
    passages + stored Episode JSON in ``data_dir/index/podlens.db``; rewrite ``passages.faiss``.

    ``progress(stage, fraction)`` is called with stages ``"chunk"``, ``"embed"``, ``"store"``,
    ``"done"``.  Returns stats: passages per kind, seconds per stage, generation."""
    report = progress or no_progress
    t0 = time.perf_counter()
    report("chunk", 0.0)
    cfg = ChunkConfig()
    passages = chunk_episode(episode, cfg) + chunk_papers(episode.id, papers, cfg)
    t_chunk = time.perf_counter() - t0

    report("embed", 0.0)
    model = model or load_embedder()
    label = model_id(model)
    dim = embedding_dim(model)
    # Embed passages, their sentence-group pieces and the episode's sentences (which ``ask``
    # scores) in one stream of batches.
    piece_texts = [passage_pieces(p.text) for p in passages]
    sentence_texts = [s.text for s in episode_sentences(episode)]
    texts = [p.embed_text for p in passages] + [t for ts in piece_texts for t in ts]
    n_passages_pieces = len(texts)
    texts += sentence_texts
    batch = 64
    parts = []
    for i in range(0, len(texts), batch):
        parts.append(embed_texts(model, texts[i : i + batch]))
        report("embed", min(1.0, (i + batch) / max(1, len(texts))))
    allv = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
    vectors = allv[: len(passages)]
    pieces, at = [], len(passages)
    for ts in piece_texts:
        pieces.append(allv[at : at + len(ts)])
        at += len(ts)
    sentences = (texts_hash(sentence_texts), allv[n_passages_pieces:])

    store = IndexStore(data_dir)
    reembedded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    previous = store.model_label()
    if previous is not None and previous != label:
        # The index holds vectors from another model: bring the other episodes along in the same
        # transaction so one vector space never mixes two models.
        for pid, embed_text, text in store.all_texts(exclude_episode=episode.id):
            v = embed_texts(model, [embed_text, *passage_pieces(text)])
            reembedded[pid] = (v[0], v[1:])
    t_embed = time.perf_counter() - t0 - t_chunk

    report("store", 0.0)
    gen = store.replace_episode(
        episode, passages, vectors, label, reembedded, pieces=pieces, sentences=sentences
    )
    t_store = time.perf_counter() - t0 - t_chunk - t_embed
    report("done", 1.0)
    return {
        "episode": episode.id,
        "passages": len(passages),
        "transcript_passages": sum(p.kind == "transcript" for p in passages),
        "paper_passages": sum(p.kind == "paper" for p in passages),
        "pieces": sum(len(p) for p in pieces),
        "sentences": len(sentence_texts),
        "reembedded": len(reembedded),
        "model": label,
        "generation": gen,
        "seconds": {
            "chunk": round(t_chunk, 3),
            "embed": round(t_embed, 3),
            "store": round(t_store, 3),
            "total": round(time.perf_counter() - t0, 3),
        },
    }
