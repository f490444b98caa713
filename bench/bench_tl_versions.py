"""Training-step cost of the same tiny transformer in three implementations.

Why: transformer-lens 4.x removed ``HookedTransformer``; training from scratch goes through
``TransformerBridge.boot_native``. This measures ms per full-batch AdamW step of the grokking
``fast`` model (1 layer, d_model 64, 4 heads, d_mlp 256, p = 59, 1,566 inputs of 3 tokens; or
``--size paper``: d_model 128, d_mlp 512, p = 113, 3,830 inputs) as
  - ``hooked``: transformer-lens 3.x ``HookedTransformer``  (run in the project venv)
  - ``bridge``: transformer-lens 4.x ``TransformerBridge.boot_native``  (run in a 4.x venv)
  - ``plain``: the same architecture in plain PyTorch (either venv)
Runs the available implementations interleaved, several rounds, and prints medians as JSON.

    .venv/bin/python bench/bench_tl_versions.py --threads 1
    /tmp/tl4/bin/python bench/bench_tl_versions.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import torch
import torch.nn.functional as F
from torch import nn

SIZES = {  # (p, d_model, n_heads, d_mlp, batch): the grokking `fast` and `paper` models
    "fast": (59, 64, 4, 256, 1566),
    "paper": (113, 128, 4, 512, 3830),
}
P, D_MODEL, N_HEADS, D_MLP, BATCH = SIZES["fast"]
N_CTX = 3


class PlainTransformer(nn.Module):
    """1 layer, no LayerNorm, ReLU MLP, learned positions: the grokking model in plain PyTorch."""

    def __init__(self) -> None:
        super().__init__()
        d, h = D_MODEL, N_HEADS
        self.n_heads, self.d_head = h, d // h
        self.embed = nn.Embedding(P + 1, d)
        self.pos = nn.Parameter(torch.randn(N_CTX, d) * 0.02)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.mlp_in = nn.Linear(d, D_MLP)
        self.mlp_out = nn.Linear(D_MLP, d)
        self.unembed = nn.Linear(d, P)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.out(att.transpose(1, 2).reshape(b, t, d))
        x = x + self.mlp_out(F.relu(self.mlp_in(x)))
        return self.unembed(x)


def make(kind: str) -> nn.Module:
    common = dict(
        n_layers=1,
        d_model=D_MODEL,
        d_head=D_MODEL // N_HEADS,
        n_heads=N_HEADS,
        d_vocab=P + 1,
        d_vocab_out=P,
        n_ctx=N_CTX,
        act_fn="relu",
        normalization_type=None,
        seed=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "plain":
            torch.manual_seed(0)
            return PlainTransformer()
        if kind == "hooked":
            from transformer_lens import HookedTransformer, HookedTransformerConfig

            return HookedTransformer(HookedTransformerConfig(d_mlp=D_MLP, **common))
        if kind == "bridge":
            from transformer_lens import TransformerBridge, TransformerBridgeConfig

            return TransformerBridge.boot_native(TransformerBridgeConfig(**common))
    raise ValueError(kind)


def available() -> list[str]:
    try:
        from transformer_lens import HookedTransformer  # noqa: F401

        return ["plain", "hooked"]
    except ImportError:
        return ["plain", "bridge"]


def time_steps(model: nn.Module, steps: int) -> float:
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, P, (BATCH, N_CTX), generator=gen)
    y = torch.randint(0, P, (BATCH,), generator=gen)
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=1e-3,
        weight_decay=1.0,
        betas=(0.9, 0.98),
    )

    def step() -> None:
        logits = model(x)[:, -1].to(torch.float64)
        F.cross_entropy(logits, y).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", choices=SIZES, default="fast")
    args = ap.parse_args()
    global P, D_MODEL, N_HEADS, D_MLP, BATCH
    P, D_MODEL, N_HEADS, D_MLP, BATCH = SIZES[args.size]
    torch.set_num_threads(args.threads)
    import transformer_lens as tl

    kinds = available()
    models = {k: make(k) for k in kinds}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.rounds):  # interleaved, so load from other users hits all alike
        for k in kinds:
            times[k].append(time_steps(models[k], args.steps))
    from importlib.metadata import version

    print(
        json.dumps(
            {
                "transformer_lens": version("transformer-lens"),
                "torch": torch.__version__,
                "threads": args.threads,
                "size": args.size,
                "module": tl.__name__,
                "ms_per_step_median": {k: round(statistics.median(v), 2) for k, v in times.items()},
                "ms_per_step_all": {k: [round(t, 2) for t in v] for k, v in times.items()},
                "params": {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
