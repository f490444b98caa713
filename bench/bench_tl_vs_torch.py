"""Training steps per second: the demo's TransformerLens grokking model vs the same model in
plain PyTorch, side by side in one run.

Why: the issue asks that TransformerLens cost at most 15% over plain PyTorch on 2 cores. The
TransformerLens side is ``demos.grokking.make_model`` and ``last_logits`` themselves (what the
demo trains: a hook cuts the residual stream to "=" after the attention); the plain side is the
same architecture written directly (embedding + learned positions, one causal attention layer,
the same cut to "=", ReLU MLP, unembedding; no LayerNorm, frozen biases) and starts from *the
same weights*, checked by comparing logits before timing. Each step is the demo's: full batch
of the training pairs, float64 cross-entropy at "=", AdamW with the preset's settings, and the
preset's precision (``paper``: the block under bfloat16 autocast on both sides). The two
are timed in interleaved rounds (so load from other processes hits both alike) and the
per-round steps/s are reported as medians.

    .venv/bin/python bench/bench_tl_vs_torch.py --size paper --threads 2 --steps 200
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from demos import analysis, grokking


class PlainGrokking(nn.Module):
    """The grokking model without TransformerLens, parameters named and shaped as in
    ``HookedTransformer`` (``W_Q``: [head, d_model, d_head], ``W_O``: [head, d_head, d_model])."""

    def __init__(self, tl_model: nn.Module) -> None:
        super().__init__()
        # Set once the start-up logits match: the block under bfloat16 autocast, the unembedding
        # float32 (as grokking.last_logits does).
        self.bf16 = False
        src = dict(tl_model.named_parameters())
        self.names = [n for n in src]
        for name, p in src.items():
            copy = nn.Parameter(p.detach().clone(), requires_grad=p.requires_grad)
            self.register_parameter(name.replace(".", "__"), copy)
        self.n_heads, self.d_head = (
            src["blocks.0.attn.W_Q"].shape[0],
            src["blocks.0.attn.W_Q"].shape[2],
        )

    def _p(self, name: str) -> torch.Tensor:
        return getattr(self, name.replace(".", "__"))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """[batch, pos] tokens -> [batch, d_vocab_out] logits at the last position."""
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            x = self.block(tokens)
        return x.float() @ self._p("unembed.W_U") + self._p("unembed.b_U")

    def block(self, tokens: torch.Tensor) -> torch.Tensor:
        """[batch, pos] tokens -> [batch, d_model] residual stream at the last position."""
        a = "blocks.0.attn."
        x = self._p("embed.W_E")[tokens] + self._p("pos_embed.W_pos")[: tokens.shape[1]]
        q = torch.einsum("btd,hdk->bhtk", x, self._p(a + "W_Q")) + self._p(a + "b_Q")[:, None]
        k = torch.einsum("btd,hdk->bhtk", x, self._p(a + "W_K")) + self._p(a + "b_K")[:, None]
        v = torch.einsum("btd,hdk->bhtk", x, self._p(a + "W_V")) + self._p(a + "b_V")[:, None]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)  # [batch, head, q, k]
        n = tokens.shape[1]
        future = torch.ones(n, n, dtype=torch.bool).triu(1)
        pattern = scores.masked_fill(future, float("-inf")).softmax(-1)
        z = pattern @ v  # [batch, head, pos, d_head]
        x = x + torch.einsum("bhtk,hkd->btd", z, self._p(a + "W_O")) + self._p(a + "b_O")
        x = x[:, -1]  # only "=" is read (as grokking.last_logits)
        m = "blocks.0.mlp."
        hidden = F.relu(x @ self._p(m + "W_in") + self._p(m + "b_in"))
        return x + hidden @ self._p(m + "W_out") + self._p(m + "b_out")


def trainer(forward, model: nn.Module, cfg: grokking.GrokkingConfig, x, y):
    """One full-batch training step of the demo (``forward(x)``: logits at "="), as a closure."""
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        betas=(cfg.beta1, cfg.beta2),
    )

    def step() -> None:
        loss = analysis.cross_entropy_f64(forward(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def steps_per_second(step, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        step()
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=list(grokking.PRESETS), default="paper")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200, help="timed steps per model in all")
    ap.add_argument("--rounds", type=int, default=4, help="interleaved rounds (steps split)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = grokking.PRESETS[args.size]
    data = grokking.make_dataset(cfg)
    x, y = data.tokens[data.is_train], data.labels[data.is_train]

    tl = grokking.make_model(cfg)
    plain = PlainGrokking(tl)
    with torch.no_grad():
        gap = (grokking.last_logits(tl, x) - plain(x)).abs().max().item()
    plain.bf16 = cfg.bf16  # from here on both train as the preset does
    if not gap < 1e-4:
        raise SystemExit(f"the plain model is not the same model: logits differ by {gap}")
    steps = {
        "transformer_lens": trainer(
            lambda t: grokking.last_logits(tl, t, bf16=cfg.bf16), tl, cfg, x, y
        ),
        "plain_torch": trainer(plain, plain, cfg, x, y),
    }
    for step in steps.values():  # warm-up: allocator, first AdamW state
        for _ in range(3):
            step()
    per_round = max(1, math.ceil(args.steps / args.rounds))
    rates: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            rates[name].append(steps_per_second(step, per_round))
    med = {k: statistics.median(v) for k, v in rates.items()}
    overhead = med["plain_torch"] / med["transformer_lens"] - 1
    print(
        json.dumps(
            {
                "size": args.size,
                "bf16": cfg.bf16,
                "threads": args.threads,
                "train_pairs": len(y),
                "steps_per_model": per_round * args.rounds,
                "max_logit_gap_at_start": gap,
                "steps_per_s_median": {k: round(v, 2) for k, v in med.items()},
                "steps_per_s_rounds": {k: [round(r, 2) for r in v] for k, v in rates.items()},
                "transformer_lens_overhead": f"{overhead:+.1%}",
            }
        )
    )


if __name__ == "__main__":
    main()
