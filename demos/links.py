"""Link each demo to the moments of an episode that discuss it, found by meaning.

For a demo, the index's hybrid search proposes candidate passages of the episode for the demo's
description; each candidate is kept when the cosine similarity of its embedding to the
description's (same sentence-transformers model as the index) reaches a threshold. So it works
for any ingested episode. Corrections go in an override table, ``data/demo_links.json``::

    {"axrp-19": {"grokking": {"add": [{"start": 5025, "note": "why it groks"}],
                              "remove": [{"start": 812}]}}}

``add`` forces a moment in (start in seconds), ``remove`` drops any found moment whose span
contains that time. The table is read from the repository's ``data/`` and from the data dir.
"""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import embed_texts
from podlens.config import REPO_ROOT
from podlens.config import data_dir as default_data_dir
from podlens.errors import PodlensError
from podlens.links import deep_link

DEMOS: dict[str, dict[str, str]] = {
    "grokking": {
        "title": "Grokking modular addition",
        "description": (
            "Grokking: a small transformer trained on modular addition first memorises its "
            "training data, then much later suddenly generalises; weight decay drives it; the "
            "network learns a Fourier / trigonometry algorithm with a few key frequencies; "
            "progress measures of the phase change."
        ),
    },
    "induction": {
        "title": "Induction heads",
        "description": (
            "Induction heads: in a two-layer attention-only transformer, a previous-token head "
            "and an induction head compose to copy repeated sequences of tokens, which drives "
            "in-context learning; they form in a sudden phase change, a bump in the loss curve."
        ),
    },
    "attention": {
        "title": "Attention patterns",
        "description": (
            "Attention heads and attention patterns: which earlier tokens each head attends to, "
            "moving information between positions in the residual stream; previous-token heads "
            "and induction heads in a small transformer."
        ),
    },
}

DEFAULT_THRESHOLD = 0.5  # cosine similarity (all-MiniLM-L6-v2) of description and passage
OVERRIDES_FILE = "demo_links.json"


def load_overrides(data_dir: str | Path | None = None) -> dict[str, Any]:
    """The override table: the repo's ``data/demo_links.json`` updated by the data dir's."""
    table: dict[str, Any] = {}
    for path in dict.fromkeys(
        [REPO_ROOT / "data" / OVERRIDES_FILE, default_data_dir(data_dir) / OVERRIDES_FILE]
    ):
        try:
            loaded = json.loads(Path(path).read_text())
        except FileNotFoundError:
            continue
        except json.JSONDecodeError as e:
            raise PodlensError(f"{path}: not valid JSON ({e.msg}, line {e.lineno})") from None
        for episode, demos in loaded.items():
            table.setdefault(episode, {}).update(demos)
    return table


def _cosine(model: Any, a: str, texts: list[str]) -> list[float]:
    vecs = embed_texts(model, [a, *texts])
    return [float(vecs[0] @ v) for v in vecs[1:]]


def moments_for_demo(
    demo_name: str,
    searcher: Any,
    episode_id: str,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    k: int = 8,
    overrides: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Moments of ``episode_id`` that discuss ``demo_name``, in time order.

    ``searcher`` is an ``index.search.Searcher``. Each moment: ``{"start", "end", "chapter",
    "speaker", "text", "similarity", "link", "source": "auto" | "override"}``.
    """
    if demo_name not in DEMOS:
        raise PodlensError(f"unknown demo {demo_name!r} (choose from {', '.join(DEMOS)})")
    description = DEMOS[demo_name]["description"]
    found = searcher.search(description, k=k, kinds=("transcript",), episode=episode_id)
    sims = _cosine(searcher.model, description, [r.text for r in found]) if found else []
    moments = [
        {
            "start": r.start,
            "end": r.end,
            "chapter": r.chapter,
            "speaker": r.speaker,
            "text": r.text,
            "similarity": round(s, 4),
            "link": r.link,
            "source": "auto",
        }
        for r, s in zip(found, sims, strict=True)
        if s >= threshold and r.start is not None
    ]
    table = overrides if overrides is not None else load_overrides()
    rules = table.get(episode_id, {}).get(demo_name, {})
    for rm in rules.get("remove", []):
        t = float(rm["start"])
        moments = [m for m in moments if not (m["start"] <= t <= (m["end"] or m["start"]))]
    for add in rules.get("add", []):
        t = float(add["start"])
        moments.append(
            {
                "start": t,
                "end": add.get("end"),
                "chapter": add.get("chapter"),
                "speaker": None,
                "text": add.get("note", ""),
                "similarity": None,
                "link": deep_link(episode_id, t),
                "source": "override",
            }
        )
    return sorted(moments, key=lambda m: m["start"])


CHAPTER_THRESHOLD = 0.55  # mean of a chapter's 3 best passage similarities to the description
CHAPTER_MARGIN = 0.03  # a chapter shows every demo within this of its best demo's score


def chapter_scores(
    description_vecs: dict[str, np.ndarray],
    passages: list[tuple[float, np.ndarray]],
    spans: list[tuple[float, float]],
    top: int = 3,
) -> list[dict[str, float]]:
    """How strongly each chapter discusses each demo.

    ``description_vecs``: demo -> unit vector [d]; ``passages``: (start seconds, unit vector [d]);
    ``spans``: chapters as [start, end). A chapter's score for a demo is the mean cosine of its
    ``top`` most similar passages: one stray sentence can't link a chapter, a chapter that keeps
    returning to the idea does.
    """
    out: list[dict[str, float]] = []
    for lo, hi in spans:
        vecs = [v for t, v in passages if lo <= t < hi]
        if not vecs:
            out.append({})
            continue
        mat = np.stack(vecs)
        row = {}
        for demo, q in description_vecs.items():
            sims = np.sort(mat @ q)[::-1][:top]
            row[demo] = float(sims.mean())
        out.append(row)
    return out


def demos_for_chapters(
    scores: list[dict[str, float]],
    threshold: float = CHAPTER_THRESHOLD,
    margin: float = CHAPTER_MARGIN,
) -> list[list[str]]:
    """Per chapter, the demos it illustrates: above ``threshold`` and within ``margin`` of the
    chapter's best demo (so "Composing attention heads" gets the attention demo, not all three)."""
    picked = []
    for row in scores:
        best = max(row.values(), default=0.0)
        picked.append(
            sorted(
                (d for d, s in row.items() if s >= threshold and s >= best - margin),
                key=lambda d: -row[d],
            )
        )
    return picked


def episode_chapter_demos(
    episode: Any,
    store: Any,
    model: Any,
    *,
    threshold: float = CHAPTER_THRESHOLD,
    margin: float = CHAPTER_MARGIN,
    overrides: dict[str, Any] | None = None,
) -> list[list[str]]:
    """For each of ``episode.chapters`` (feed chapters), the demos to offer as "Run the demo".

    ``store`` is an ``index.store.IndexStore`` (its stored passage vectors are reused, nothing is
    re-embedded but the three descriptions); ``model`` the same sentence-transformers model.
    Override table entries ``{"chapters": {"add": [title], "remove": [title]}}`` per demo, and
    every moment an override ``add``s, correct the result.
    """
    chapters = list(episode.chapters)
    # A chapter runs to the next chapter that starts later (feeds repeat a start for a part
    # and its first section: both then cover the section).
    spans = [
        (c.start, next((n.start for n in chapters[i + 1 :] if n.start > c.start), float("inf")))
        for i, c in enumerate(chapters)
    ]
    _, stored = store.load_passages()
    with closing(store.connect()) as con:
        ids, vecs = store.load_vectors(con)
    row_of = {int(i): n for n, i in enumerate(ids)}
    passages = [
        (p.start, vecs[row_of[p.id]])
        for p in stored
        if p.episode == episode.id
        and p.kind == "transcript"
        and p.start is not None
        and p.id in row_of
    ]
    names = list(DEMOS)
    desc = embed_texts(model, [DEMOS[d]["description"] for d in names])
    picked = demos_for_chapters(
        chapter_scores(dict(zip(names, desc, strict=True)), passages, spans), threshold, margin
    )
    table = overrides if overrides is not None else load_overrides()
    for demo, rules in table.get(episode.id, {}).items():
        chapter_rules = rules.get("chapters", {})
        added = set(chapter_rules.get("add", []))
        removed = set(chapter_rules.get("remove", []))
        times = [float(a["start"]) for a in rules.get("add", [])]
        for i, (c, (lo, hi)) in enumerate(zip(chapters, spans, strict=True)):
            want = c.title in added or any(lo <= t < hi for t in times)
            if want and demo not in picked[i]:
                picked[i].append(demo)
            if c.title in removed and demo in picked[i]:
                picked[i].remove(demo)
    return picked


def demos_for_span(moments: dict[str, list[dict[str, Any]]], start: float, end: float) -> list[str]:
    """Demos with at least one moment starting in ``[start, end)`` (e.g. a chapter)."""
    return [d for d, ms in moments.items() if any(start <= m["start"] < end for m in ms)]
