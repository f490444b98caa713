"""Experiment (issue 10, lever 3): adapt MiniLM to AXRP with the corpus's own question -> answer
pairs, then score it with ``bench/eval_search.py``.  Measured and not shipped (README, Search).

Pairs: in each AXRP transcript but episode 19 and the nine episodes of
``tests/eval/axrp_library.jsonl`` (so every evaluation question is held out), a turn that asks
(its last one or two sentences ending in "?") and the other speaker's reply (its first 120
words).  Training: MultipleNegativesRankingLoss written out (in-batch negatives, both
directions, scale 20), AdamW, linear warm-up and decay, on the CPU.

    PYTHONPATH=. .venv/bin/python bench/finetune_minilm.py OUT [--epochs 1] [--batch 32] [--windows]
    PODLENS_EMBED_MODEL=OUT PYTHONPATH=. .venv/bin/python bench/eval_search.py --only final
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ep19 import EP19_MD, SHARED  # noqa: E402
from ingest.transcript import parse_transcript  # noqa: E402
from podlens.config import embed_model_name  # noqa: E402
from podlens.sentences import split_sentences  # noqa: E402
from podlens.text import is_question  # noqa: E402

LIBRARY_EVAL = REPO / "tests" / "eval" / "axrp_library.jsonl"


def pairs(answer_words: int | None = 120) -> list[tuple[str, str]]:
    """(question, reply); the reply cut to its first ``answer_words`` words (None: whole)."""
    held = {json.loads(x)["episode_file"] for x in LIBRARY_EVAL.read_text().splitlines()}
    held.add(EP19_MD.name)
    out = []
    for f in sorted((SHARED / "axrp" / "posts").glob("*.markdown")):
        if f.name in held:
            continue
        turns = parse_transcript(f.read_text("utf-8"), f.name).to_turns()
        for a, b in itertools.pairwise(turns):
            asks = [s for s in split_sentences(a.text) if is_question(s)]
            q, answer = " ".join(asks[-2:]), " ".join(b.text.split()[:answer_words])
            if a.speaker != b.speaker and len(q.split()) >= 5 and len(answer.split()) >= 25:
                out.append((q, answer))
    return out


def main() -> None:
    from sentence_transformers import SentenceTransformer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--windows",
        action="store_true",
        help="answer with a 100-word window of the whole reply (its start half the time)",
    )
    args = ap.parse_args()
    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(args.threads)
    data = pairs(None if args.windows else 120)
    print(f"{len(data)} pairs", flush=True)
    model = SentenceTransformer(embed_model_name(), device="cpu")
    model.max_seq_length = 160
    steps = args.epochs * (len(data) // args.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps)
    )

    def answer(reply: str) -> str:
        w = reply.split()
        if not args.windows or len(w) <= 100 or random.random() < 0.5:
            return " ".join(w[:100]) if args.windows else reply
        i = random.randrange(0, len(w) - 100)
        return " ".join(w[i : i + 100])

    def embed(texts: list[str]) -> torch.Tensor:
        return torch.nn.functional.normalize(
            model(model.tokenize(texts))["sentence_embedding"], dim=-1
        )

    model.train()
    t0, step = time.perf_counter(), 0
    labels = torch.arange(args.batch)
    for _ in range(args.epochs):
        random.shuffle(data)
        for i in range(0, len(data) - args.batch + 1, args.batch):
            q, a = zip(*data[i : i + args.batch], strict=True)
            logits = 20.0 * embed(list(q)) @ embed([answer(x) for x in a]).T
            ce = torch.nn.functional.cross_entropy
            loss = (ce(logits, labels) + ce(logits.T, labels)) / 2
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            print(f"step {step}/{steps} loss {loss.item():.3f} {time.perf_counter() - t0:.0f} s")
    model.eval()
    model.save(args.out)


if __name__ == "__main__":
    main()
