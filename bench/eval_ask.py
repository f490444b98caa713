"""Calibrate and score ``ask`` on ``tests/eval/ask_axrp19.jsonl`` (run by hand).

    python bench/eval_ask.py --data-dir D tune       # grid on the dev split, prints the best
    python bench/eval_ask.py --data-dir D score --split test   # the shipped config (AskConfig)

``tune`` computes each dev question's candidate sentences and features once (search, sentence
embeddings), then re-scores them under every setting of the grid: the weights, the answer margin
and length, and for each, the abstention threshold that best separates answerable from off-topic
questions.  A setting is judged by answered + supported + off-topic abstained (each a share).
``score`` is ``python -m ask eval`` on one split: the held-out split is scored once, at the end.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ask.answer import Asker, rank
from ask.evaluate import evaluate, load_items, supports

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval" / "ask_axrp19.jsonl"

GRID = {
    "lexical_weight": [0.1, 0.2, 0.35],
    "qa_weight": [0.0, 0.2, 0.4],
    "missing_weight": [0.0, 0.2, 0.4],
    "margin": [0.12, 0.18, 0.25, 0.35],
    "max_sentences": [3, 4, 5],
}


def tune(asker: Asker, split: str, cache: str | None = None) -> dict:
    items = load_items(EVAL, split=split)
    if cache and Path(cache).exists():
        feats = pickle.loads(Path(cache).read_bytes())
    else:
        feats = [asker.features(it.question) for it in items]
        if cache:
            Path(cache).write_bytes(pickle.dumps(feats))
    best: tuple[float, dict] | None = None
    for values in itertools.product(*GRID.values()):
        cfg = replace(asker.config, **dict(zip(GRID, values, strict=True)))
        asker.config = cfg
        rows = []
        for it, (cands, missing, qvec) in zip(items, feats, strict=True):
            cands = copy.copy(cands)
            conf = rank(cands, missing, cfg)
            a = asker.extract(it.question, cands, float("inf"), qvec)  # answer regardless
            ok = bool(it.answer) and supports(a, it.answer)
            rows.append((it.answerable, conf, ok))
        # The threshold: every midpoint between two confidences, best separation wins.
        confs = sorted({c for _, c, _ in rows})
        cuts = [confs[0] - 1] + [(a + b) / 2 for a, b in itertools.pairwise(confs)]
        for cut in cuts:
            ans = [r for r in rows if r[0]]
            off = [r for r in rows if not r[0]]
            answered = sum(r[1] >= cut for r in ans) / len(ans)
            supported = sum(r[1] >= cut and r[2] for r in ans) / len(ans)
            abstained = sum(r[1] < cut for r in off) / len(off)
            total = answered + supported + abstained
            if best is None or total > best[0] + 1e-9:
                best = (
                    total,
                    {
                        **dict(zip(GRID, values, strict=True)),
                        "threshold": round(cut, 4),
                        "answered": round(answered, 3),
                        "supported": round(supported, 3),
                        "abstained_off_topic": round(abstained, 3),
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
