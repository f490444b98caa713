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
from pathlib import Path
from typing import Any

from podlens.config import REPO_ROOT
from podlens.config import data_dir as default_data_dir
from podlens.errors import PodlensError
from podlens.links import deep_link

DEMOS: dict[str, dict[str, str]] = {
    "grokking": {
        "title": "Grokking modular addition",
        "page": "app_pages/demo_grokking.py",
        "description": (
            "Grokking: a small transformer trained on modular addition first memorises its "
            "training data, then much later suddenly generalises; weight decay drives it; the "
            "network learns a Fourier / trigonometry algorithm with a few key frequencies; "
            "progress measures of the phase change."
        ),
    },
    "induction": {
        "title": "Induction heads",
        "page": "app_pages/demo_induction.py",
        "description": (
            "Induction heads: in a two-layer attention-only transformer, a previous-token head "
            "and an induction head compose to copy repeated sequences of tokens, which drives "
            "in-context learning; they form in a sudden phase change, a bump in the loss curve."
        ),
    },
    "attention": {
        "title": "Attention patterns",
        "page": "app_pages/demo_attention.py",
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
    for path in dict.fromkeys([REPO_ROOT / "data" / OVERRIDES_FILE,
                               default_data_dir(data_dir) / OVERRIDES_FILE]):  # fmt: skip
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
    vecs = model.encode([a, *texts], normalize_embeddings=True)
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
        {"start": r.start, "end": r.end, "chapter": r.chapter, "speaker": r.speaker,
         "text": r.text, "similarity": round(s, 4), "link": r.link, "source": "auto"}
        for r, s in zip(found, sims, strict=True)
        if s >= threshold and r.start is not None
    ]  # fmt: skip
    table = overrides if overrides is not None else load_overrides()
    rules = table.get(episode_id, {}).get(demo_name, {})
    for rm in rules.get("remove", []):
        t = float(rm["start"])
        moments = [m for m in moments if not (m["start"] <= t <= (m["end"] or m["start"]))]
    for add in rules.get("add", []):
        t = float(add["start"])
        moments.append({
            "start": t, "end": add.get("end"), "chapter": add.get("chapter"), "speaker": None,
            "text": add.get("note", ""), "similarity": None, "link": deep_link(episode_id, t),
            "source": "override",
        })  # fmt: skip
    return sorted(moments, key=lambda m: m["start"])


def demos_for_span(moments: dict[str, list[dict[str, Any]]], start: float, end: float) -> list[str]:
    """Demos with at least one moment starting in ``[start, end)`` (e.g. a chapter)."""
    return [d for d, ms in moments.items() if any(start <= m["start"] < end for m in ms)]
