"""Calibrate and score ``ask`` on ``tests/eval/ask_axrp19.jsonl`` (run by hand).

    python bench/eval_ask.py --data-dir D tune       # grid on the dev split, prints the best
    python bench/eval_ask.py --data-dir D score --split test   # the shipped config (AskConfig)

``tune`` computes each dev question's candidate sentences and features once (search, sentence
embeddings), then re-scores them under every setting of two grids: the *support* weights (is the
question discussed?) with, for each, the abstention threshold that best separates answerable
from off-topic questions; and the *answer* weights, margin, length and MMR trade-off (which
sentences answer it?), judged by whether a citation holds the answer phrase (at most
``max_citations`` moments, a product choice: 3 costs one dev question against 5).  A pair of
settings is judged by answered + supported + off-topic abstained (each a share).  ``score`` is
``python -m ask eval`` on one split: the held-out split is scored once, at the end.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import pickle
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ask.answer import Asker, rank
from ask.evaluate import evaluate, load_items, supports

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval" / "ask_axrp19.jsonl"

SUPPORT_GRID = {
    "lexical_weight": [0.1, 0.2, 0.35],
    "qa_weight": [0.0, 0.2, 0.4],
    "missing_weight": [0.0, 0.2, 0.4],
}
ANSWER_GRID = {
    "answer_lexical_weight": [0.2, 0.3, 0.45],
    "answer_qa_weight": [0.2, 0.4],
    "answer_rank_weight": [0.04, 0.1, 0.2],
    "context_weight": [0.0, 0.3, 0.6],
    "asking_weight": [0.0, 0.1, 0.3, 0.5],
    "margin": [0.35, 0.7],
    "max_sentences": [5, 6],
    "mmr_lambda": [0.5, 0.7],
}


def _settings(grid: dict) -> list[dict]:
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def tune(asker: Asker, split: str, cache: str | None = None) -> dict:
    items = load_items(EVAL, split=split)
    if cache and Path(cache).exists():
        feats = pickle.loads(Path(cache).read_bytes())
    else:
        feats = [asker.features(it.question) for it in items]
        if cache:
            Path(cache).write_bytes(pickle.dumps(feats))
    base = asker.config
    # Which sentences answer: does a citation hold the phrase (answering regardless)?
    held: list[tuple[dict, list[bool]]] = []
    for setting in _settings(ANSWER_GRID):
        asker.config = cfg = replace(base, **setting)
        oks = []
        for it, (cands, missing, qvec) in zip(items, feats, strict=True):
            cands = copy.copy(cands)
            rank(cands, missing, cfg)
            a = asker.extract(it.question, cands, float("inf"), qvec)
            oks.append(bool(it.answer) and supports(a, it.answer))
        held.append((setting, oks))
    asker.config = base
    # Is it discussed: each question's confidence under each support setting.
    confs: list[tuple[dict, list[float]]] = []
    for setting in _settings(SUPPORT_GRID):
        cfg = replace(base, **setting)
        confs.append(
            (setting, [rank(copy.copy(c), m, cfg) for c, m, _ in feats]),
        )
    answerable = np.array([it.answerable for it in items])
    ok = np.array([oks for _, oks in held]) & answerable  # (answer settings, questions)
    n_ans = int(answerable.sum())
    n_off = len(items) - n_ans
    best: tuple[float, dict] | None = None
    for s_setting, conf in confs:
        # The threshold: every midpoint between two confidences, best separation wins.
        levels = sorted(set(conf))
        cuts = np.array([levels[0] - 1] + [(a + b) / 2 for a, b in itertools.pairwise(levels)])
        on = np.array(conf)[None, :] >= cuts[:, None]  # (cuts, questions): answered
        answered = (on & answerable).sum(1) / n_ans
        abstained = (~on & ~answerable).sum(1) / n_off
        supported = on.astype(int) @ ok.T.astype(int) / n_ans  # (cuts, answer settings)
        total = answered[:, None] + supported + abstained[:, None]
        c, a = np.unravel_index(int(np.argmax(total)), total.shape)
        if best is None or total[c, a] > best[0] + 1e-9:
            best = (
                float(total[c, a]),
                {
                    **s_setting,
                    **held[a][0],
                    "threshold": round(float(cuts[c]), 4),
                    "answered": round(float(answered[c]), 3),
                    "supported": round(float(supported[c, a]), 3),
                    "abstained_off_topic": round(float(abstained[c]), 3),
                },
            )
    assert best is not None
    return best[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir")
    ap.add_argument("cmd", choices=["tune", "score"])
    ap.add_argument("--split", default="dev")
    ap.add_argument("--cache", help="tune: keep the split's features in this file (re-runs)")
    args = ap.parse_args()
    asker = Asker(args.data_dir)
    if args.cmd == "tune":
        print(json.dumps(tune(asker, args.split, args.cache)))
    else:
        m = evaluate(asker, load_items(EVAL, split=args.split))
        print(json.dumps({"config": asdict(asker.config), **m}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
