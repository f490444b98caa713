"""Induction heads form in a 2-layer attention-only transformer (Elhage et al. 2021, "A
Mathematical Framework for Transformer Circuits"; Olsson et al. 2022, "In-context Learning and
Induction Heads").

Training data: a random prefix, then a random run of tokens repeated until the sequence is full,
so the only way to predict the repeats is to look back for the current token's earlier
occurrence and copy what came next: an *induction head* in layer 1, reading a *previous-token
head* in layer 0 (K-composition). The run length and prefix vary per sequence, so a head
attending to a fixed offset can't fake it. The loss curve shows the phase change: a plateau,
then a quick drop as the two heads form together.

Read top to bottom: config and presets, bounds, data, model (TransformerLens
``HookedTransformer``, ``attn_only=True``, no LayerNorm), the head scores on a repeated random
sequence ``[r, r]`` (from ``run_with_cache``'s ``hook_pattern``), and training, which reports a
stream of records through ``on_record`` and stops when ``stop`` is set.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from demos import analysis
from demos.bounds import check_finite_fields, check_optimiser, check_range
from demos.cache import load_json, load_torch, run_dir, run_lock, save_torch
from podlens.atomic import atomic_write_json
from podlens.errors import PodlensError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from transformer_lens import HookedTransformer, HookedTransformerConfig

DEMO = "induction"
INDUCTION_THRESHOLD = 0.5  # a head whose induction score reaches this is "an induction head"
PREV_TOKEN_THRESHOLD = 0.5


# ---------------------------------------------------------------------------------------------
# Config


@dataclass(frozen=True)
class InductionConfig:
    n_layers: int = 2
    n_heads: int = 4
    d_model: int = 64
    d_vocab: int = 64
    n_ctx: int = 32  # training sequence length (and the longest sequence the model can read)
    min_run: int = 4  # repeated runs are min_run .. n_ctx // 2 tokens long
    frac_repeated: float = 1.0  # share of training sequences that contain a repeated run
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    n_steps: int = 1500
    eval_len: int = 16  # L of the repeated test sequence [r, r]
    eval_batch: int = 32
    log_every: int = 5
    eval_every: int = 50
    seed: int = 0
    data_seed: int = 1

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads


PRESETS: dict[str, InductionConfig] = {
    # Two heads per layer: one previous-token head forms in layer 0, induction heads in layer 1.
    "fast": InductionConfig(n_heads=2, lr=3e-3, n_steps=800),
    "wide": InductionConfig(n_heads=4, lr=3e-3, n_steps=1000),
}


@dataclass(frozen=True)
class Limits:
    n_layers: tuple[int, int] = (1, 3)
    n_heads: tuple[int, int] = (1, 8)
    d_model: tuple[int, int] = (16, 128)
    d_vocab: tuple[int, int] = (8, 512)
    n_ctx: tuple[int, int] = (8, 128)
    batch: tuple[int, int] = (1, 128)
    n_steps: tuple[int, int] = (1, 20_000)


UI_LIMITS = Limits(n_ctx=(8, 64), d_model=(16, 128), batch=(1, 64), n_steps=(1, 4000))
CLI_LIMITS = Limits()


def validate(cfg: InductionConfig, limits: Limits = CLI_LIMITS) -> InductionConfig:
    check_finite_fields(cfg)
    check_optimiser(cfg)
    check_range("layers", cfg.n_layers, *limits.n_layers)
    check_range("heads", cfg.n_heads, *limits.n_heads)
    check_range("d_model", cfg.d_model, *limits.d_model)
    check_range("vocabulary size", cfg.d_vocab, *limits.d_vocab)
    check_range("sequence length", cfg.n_ctx, *limits.n_ctx)
    check_range("batch size", cfg.batch, *limits.batch)
    check_range("steps", cfg.n_steps, *limits.n_steps)
    check_range("repeated share", cfg.frac_repeated, 0.0, 1.0)
    if cfg.d_model % cfg.n_heads:
        raise PodlensError(f"d_model {cfg.d_model} must split evenly into {cfg.n_heads} heads")
    if not (cfg.eval_len >= 2 and 2 * cfg.eval_len <= cfg.n_ctx):
        raise PodlensError(f"test length {cfg.eval_len} must be 2 .. n_ctx/2 ({cfg.n_ctx // 2})")
    if not (1 <= cfg.min_run <= cfg.n_ctx // 2):
        raise PodlensError(f"min_run must be 1 .. {cfg.n_ctx // 2}, got {cfg.min_run}")
    return cfg


def make_config(preset: str = "fast", **overrides: Any) -> InductionConfig:
    if preset not in PRESETS:
        raise PodlensError(
            f"unknown induction preset {preset!r} (choose from {', '.join(PRESETS)})"
        )
    return dataclasses.replace(
        PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}
    )


# ---------------------------------------------------------------------------------------------
# Data


def repeated_run_batch(cfg: InductionConfig, gen: torch.Generator) -> torch.Tensor:
    """[batch, n_ctx] training tokens. In ``frac_repeated`` of the rows: a random prefix of
    0 .. n_ctx/4 tokens, then a random run r of ``min_run .. n_ctx // 2`` tokens repeated until
    the row is full (so most tokens are predictable, but only by looking back a row-dependent
    distance); the other rows are uniformly random."""
    B, T = cfg.batch, cfg.n_ctx
    x = torch.randint(0, cfg.d_vocab, (B, T), generator=gen)
    run = torch.randint(cfg.min_run, T // 2 + 1, (B, 1), generator=gen)
    prefix = torch.randint(0, T // 4 + 1, (B, 1), generator=gen)
    pos = torch.arange(T)[None, :]
    src = torch.where(pos >= prefix + run, prefix + (pos - prefix) % run, pos)  # [B, T]
    repeated = torch.rand(B, 1, generator=gen) < cfg.frac_repeated
    return torch.where(repeated, x.gather(1, src), x)


def repeated_tokens(
    cfg: InductionConfig, length: int | None = None, batch: int | None = None, seed: int = 12345
) -> torch.Tensor:
    """The test sequence: ``[r, r]`` for random r of ``length`` tokens; [batch, 2 * length]."""
    L = length or cfg.eval_len
    r = torch.randint(
        0, cfg.d_vocab, (batch or cfg.eval_batch, L), generator=torch.Generator().manual_seed(seed)
    )
    return torch.cat([r, r], dim=1)


# ---------------------------------------------------------------------------------------------
# Model

_INIT_LOCK = threading.Lock()  # HookedTransformer seeds the global RNGs while initialising


def make_model(cfg: InductionConfig) -> HookedTransformer:
    tcfg = HookedTransformerConfig(
        n_layers=cfg.n_layers,
        d_model=cfg.d_model,
        d_head=cfg.d_head,
        n_heads=cfg.n_heads,
        d_vocab=cfg.d_vocab,
        n_ctx=cfg.n_ctx,
        attn_only=True,
        normalization_type=None,
        init_weights=True,
        device="cpu",
        seed=cfg.seed,
    )
    with _INIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HookedTransformer(tcfg)


def is_pattern(name: str) -> bool:
    return name.endswith("hook_pattern")


def head_scores(model: HookedTransformer, tokens: torch.Tensor, L: int) -> dict[str, Any]:
    """Scores of every head on repeated tokens ``[r, r]`` ([batch, 2L]).

    Returns ``induction`` and ``prev_token``: [n_layers, n_heads] tensors, ``loss_by_position``:
    [2L - 1] mean next-token loss at each position, and the two halves' mean losses.
    """
    with torch.no_grad():
        logits, cache = model.run_with_cache(tokens, names_filter=is_pattern)
        losses = model.loss_fn(logits, tokens, per_token=True).mean(0)  # [2L - 1]
    n = model.cfg.n_layers
    ind = torch.stack([analysis.induction_score(cache["pattern", layer], L) for layer in range(n)])
    prev = torch.stack([analysis.prev_token_score(cache["pattern", layer]) for layer in range(n)])
    # position i predicts token i + 1: the first half's predictions are 0 .. L-2, the second
    # half's (predictable by induction) are L .. 2L-2.
    return {
        "induction": ind,
        "prev_token": prev,
        "loss_by_position": losses,
        "loss_first_half": float(losses[: L - 1].mean()),
        "loss_second_half": float(losses[L:].mean()),
    }


def heads_above(scores: torch.Tensor, threshold: float) -> list[list[int]]:
    """[[layer, head], ...] of the heads whose score reaches ``threshold``."""
    return [[int(i), int(j)] for i, j in (scores >= threshold).nonzero().tolist()]


# ---------------------------------------------------------------------------------------------
# Training


def train(
    cfg: InductionConfig,
    data_dir: str | Path | None = None,
    *,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    limits: Limits = CLI_LIMITS,
) -> dict[str, Any]:
    """Train one configuration in its run folder; return (and cache) its result dict.

    Records: ``{"step", "loss"}`` every ``log_every`` steps; every ``eval_every`` steps also
    ``"induction"`` / ``"prev_token"`` ([layer][head] lists) and ``"loss_first_half"`` /
    ``"loss_second_half"`` on the repeated test sequence. ``stop`` ends training early (the
    partial result has ``"finished": False`` and is not cached as finished).
    """
    validate(cfg, limits)
    d = run_dir(DEMO, cfg, data_dir)
    lock = run_lock(d)
    try:
        (d / "result.json").unlink(missing_ok=True)
        return _train_loop(cfg, d, on_record, stop, progress)
    finally:
        lock.release()


def _train_loop(cfg, d, on_record, stop, progress) -> dict[str, Any]:
    t0 = time.perf_counter()
    model = make_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.data_seed)
    test = repeated_tokens(cfg)
    records: list[dict[str, Any]] = []
    finished, step = True, 0
    for step in range(cfg.n_steps + 1):
        evaluate = step % cfg.eval_every == 0 or step == cfg.n_steps
        if step == cfg.n_steps or (stop is not None and stop.is_set()):
            finished = step == cfg.n_steps
            loss = None
        else:
            loss = model(repeated_run_batch(cfg, gen), return_type="loss")
        if step % cfg.log_every == 0 or evaluate:
            rec: dict[str, Any] = {"step": step}
            if loss is not None:
                rec["loss"] = float(loss.detach())
            if evaluate or loss is None:
                s = head_scores(model, test, cfg.eval_len)
                rec.update(
                    induction=s["induction"].tolist(),
                    prev_token=s["prev_token"].tolist(),
                    loss_first_half=s["loss_first_half"],
                    loss_second_half=s["loss_second_half"],
                )
            records.append(rec)
            on_record and on_record(rec)
        if loss is None:
            break
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if progress:
            progress(step + 1, cfg.n_steps)
    save_torch(d / "model.pt", model.state_dict())
    result = analyse(model, cfg)
    result.update(
        demo=DEMO,
        config=dataclasses.asdict(cfg),
        records=records,
        finished=finished,
        steps=step,
        seconds=round(time.perf_counter() - t0, 2),
    )
    if finished:
        atomic_write_json(d / "result.json", result)
    return result


def analyse(model: HookedTransformer, cfg: InductionConfig) -> dict[str, Any]:
    """Head scores and loss per position of the trained model on ``[r, r]``."""
    s = head_scores(model, repeated_tokens(cfg), cfg.eval_len)
    ind, prev = s["induction"], s["prev_token"]
    return {
        "induction": ind.tolist(),
        "prev_token": prev.tolist(),
        "max_induction_score": round(float(ind.max()), 4),
        "induction_heads": heads_above(ind, INDUCTION_THRESHOLD),
        "prev_token_heads": heads_above(prev, PREV_TOKEN_THRESHOLD),
        "loss_by_position": [round(float(x), 4) for x in s["loss_by_position"]],
        "loss_first_half": round(s["loss_first_half"], 4),
        "loss_second_half": round(s["loss_second_half"], 4),
    }


def score_history(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per evaluation step: the best induction score in the first and last layer and the best
    previous-token score in the first layer (``{"step", "ind_first", "ind_last",
    "prev_first"}``), to watch the two kinds of head form together."""
    return [
        {
            "step": r["step"],
            "ind_first": max(r["induction"][0]),
            "ind_last": max(r["induction"][-1]),
            "prev_first": max(r["prev_token"][0]),
        }
        for r in records
        if "induction" in r
    ]


def summary(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("max_induction_score", "induction_heads", "loss_first_half", "loss_second_half")
    return {**{k: result[k] for k in keys}, "seconds": result["seconds"]}


def load_result(cfg: InductionConfig, data_dir: str | Path | None = None) -> dict[str, Any] | None:
    res = load_json(run_dir(DEMO, cfg, data_dir) / "result.json")
    return res if res and res.get("finished") else None


def load_model(
    cfg: InductionConfig, data_dir: str | Path | None = None
) -> HookedTransformer | None:
    """The trained weights of a finished run of ``cfg``, or None."""
    d = run_dir(DEMO, cfg, data_dir)
    if load_result(cfg, data_dir) is None or not (d / "model.pt").exists():
        return None
    model = make_model(cfg)
    model.load_state_dict(load_torch(d / "model.pt"))
    return model
