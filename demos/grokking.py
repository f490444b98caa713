"""Grokking modular addition (Nanda et al. 2023, "Progress measures for grokking via mechanistic
interpretability", arXiv 2301.05217), small enough to watch on a CPU.

A 1-layer transformer (TransformerLens ``HookedTransformer``: no LayerNorm, ReLU MLP, learned
positions, frozen biases) reads ``[a, b, =]`` and predicts ``(a + b) mod p`` at the last position.
Full-batch AdamW with weight decay on a fraction of all p*p pairs: the model first memorises the
training pairs (train accuracy 100%, test at chance) and only much later, pushed by weight decay,
switches to a general algorithm built from a few Fourier frequencies (test accuracy jumps).
Without weight decay it stays memorised.

Read top to bottom: config and presets, bounds, data, model, training (a stream of metric records
through ``on_record``; ``stop`` ends it early; checkpoints and resumable state in the run folder),
then the analysis of the trained model (Fourier norms of ``W_E``, key frequencies), the
progress measures (live at each checkpoint, and over all saved checkpoints at the end) and
``answer``, which pokes the trained model with one pair and splits its correct logit by frequency.
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
from demos.bounds import check_finite_fields, check_range, is_prime
from demos.cache import load_json, load_torch, run_dir, run_lock, save_torch
from podlens.atomic import atomic_write_json
from podlens.errors import PodlensError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from transformer_lens import HookedTransformer, HookedTransformerConfig

DEMO = "grokking"
MEMORISED_ACC = 1.0  # train accuracy that counts as "memorised" (every training pair right)
GENERALISED_ACC = 0.95  # test accuracy that counts as "generalised"


# ---------------------------------------------------------------------------------------------
# Config


@dataclass(frozen=True)
class GrokkingConfig:
    p: int = 113  # the modulus; inputs are [a, b, =] with a, b in 0..p-1, "=" is token p
    frac_train: float = 0.3  # fraction of the p*p pairs used for training (full batch)
    weight_decay: float = 1.0
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.98
    warmup: int = 10  # linear learning-rate warm-up, in steps
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    n_epochs: int = 25_000  # one epoch = one full-batch step
    seed: int = 999  # model init (as in TransformerLens' grokking demo)
    data_seed: int = 598  # train/test split
    eval_every: int = 10  # test-set evaluation interval (train metrics come free every step)
    checkpoint_every: int = 100  # weights kept for the progress measures
    stop_after_grok: int | None = None  # if set: stop this many steps after test acc >= 95%
    # The training forward's attention and MLP matmuls in bfloat16 (torch.autocast); weights,
    # AdamW, the unembedding, the loss and every evaluation stay float32 (see last_logits).
    bf16: bool = False

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads


PRESETS: dict[str, GrokkingConfig] = {
    # Tuned by measurement (see bench/bench_demos.py): a smaller model and p, 40% of the pairs
    # and a stronger weight decay; it memorises by step ~400 (test accuracy ~0.3) and
    # generalises (test >= 95%) around step ~1.2k, then trains 500 more steps of clean-up.
    "fast": GrokkingConfig(
        p=59,
        frac_train=0.4,
        weight_decay=3.0,
        d_model=64,
        n_heads=4,
        d_mlp=256,
        lr=1e-3,
        n_epochs=3000,
        eval_every=10,
        checkpoint_every=50,
        stop_after_grok=500,
    ),
    # The paper's setup, run until 1,000 steps after test accuracy reaches 95% (by then the
    # clean-up phase has driven test loss to ~0; the paper trains on to 40k epochs, flat after).
    # The test set (8,939 pairs) is evaluated every 50 steps: each evaluation costs as much as a
    # training step, so every 10 would add ~10% to the run for no visible change in the curves.
    # bf16: the block's matmuls in bfloat16, ~120 -> ~75 ms a step on 2 cores (README: it still
    # groks, with four key frequencies, in 14.3-14.5 min instead of 16-17).
    "paper": GrokkingConfig(eval_every=50, stop_after_grok=1000, bf16=True),
}


@dataclass(frozen=True)
class Limits:
    p: tuple[int, int] = (17, 113)
    frac_train: tuple[float, float] = (0.1, 0.9)
    weight_decay: tuple[float, float] = (0.0, 5.0)
    lr: tuple[float, float] = (1e-5, 1e-2)
    d_model: tuple[int, int] = (16, 128)
    d_mlp: tuple[int, int] = (16, 512)
    n_epochs: tuple[int, int] = (1, 40_000)
    minutes: float = 600.0  # estimated training time


# The app lets a visitor change p, the training fraction and weight decay, within minutes.
UI_LIMITS = Limits(p=(17, 113), n_epochs=(1, 10_000), d_model=(16, 128), minutes=8.0)
CLI_LIMITS = Limits()
# The app may also run the paper's setup exactly as published (no knobs): in the background,
# one run at a time per configuration (the run lock), resumable from its saved state.
PAPER_APP_LIMITS = CLI_LIMITS


def app_limits(preset: str) -> Limits:
    """The bounds the app checks a configuration of ``preset`` against."""
    return PAPER_APP_LIMITS if preset == "paper" else UI_LIMITS


# Measured throughput of this model family on 2 CPU cores, in (pair * parameter) per second of
# full-batch training; used only to refuse configurations that would run far too long.
_PAIR_PARAMS_PER_SECOND = 6e9


def n_params(cfg: GrokkingConfig) -> int:
    d, v = cfg.d_model, cfg.p + 1
    return v * d + 3 * d + 4 * d * d + 2 * d * cfg.d_mlp + d * cfg.p


def estimated_minutes(cfg: GrokkingConfig) -> float:
    pairs = cfg.frac_train * cfg.p * cfg.p
    return cfg.n_epochs * pairs * n_params(cfg) / _PAIR_PARAMS_PER_SECOND / 60


def validate(cfg: GrokkingConfig, limits: Limits = CLI_LIMITS) -> GrokkingConfig:
    """Raise PodlensError with a one-line reason if ``cfg`` is out of bounds; else return it."""
    check_finite_fields(cfg)
    check_range("p", cfg.p, *limits.p)
    if not is_prime(cfg.p):
        raise PodlensError(f"p must be prime (the Fourier analysis needs a field), got {cfg.p}")
    check_range("training fraction", cfg.frac_train, *limits.frac_train)
    check_range("weight decay", cfg.weight_decay, *limits.weight_decay)
    check_range("learning rate", cfg.lr, *limits.lr)
    check_range("d_model", cfg.d_model, *limits.d_model)
    check_range("d_mlp", cfg.d_mlp, *limits.d_mlp)
    check_range("steps", cfg.n_epochs, *limits.n_epochs)
    if cfg.n_heads < 1 or cfg.d_model % cfg.n_heads:
        raise PodlensError(f"d_model {cfg.d_model} must split evenly into {cfg.n_heads} heads")
    if cfg.eval_every < 1 or cfg.checkpoint_every < 1:
        raise PodlensError("eval_every and checkpoint_every must be at least 1")
    minutes = estimated_minutes(cfg)
    if minutes > limits.minutes:
        raise PodlensError(
            f"this configuration would train for about {minutes:.0f} min (limit "
            f"{limits.minutes:g} min here): lower p, the training fraction or the steps"
        )
    return cfg


def make_config(preset: str = "fast", **overrides: Any) -> GrokkingConfig:
    """A preset with some fields replaced (``None`` values are ignored)."""
    if preset not in PRESETS:
        raise PodlensError(f"unknown grokking preset {preset!r} (choose from {', '.join(PRESETS)})")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(PRESETS[preset], **changes)


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Dataset:
    tokens: torch.Tensor  # [p*p, 3] all inputs [a, b, =], row a * p + b
    labels: torch.Tensor  # [p*p] (a + b) mod p
    is_train: torch.Tensor  # [p*p] bool


def make_dataset(cfg: GrokkingConfig) -> Dataset:
    p = cfg.p
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    tokens = torch.stack([a, b, torch.full_like(a, p)], dim=1)
    labels = (a + b) % p
    perm = torch.randperm(p * p, generator=torch.Generator().manual_seed(cfg.data_seed))
    is_train = torch.zeros(p * p, dtype=torch.bool)
    is_train[perm[: int(cfg.frac_train * p * p)]] = True
    return Dataset(tokens, labels, is_train)


# ---------------------------------------------------------------------------------------------
# Model

_INIT_LOCK = threading.Lock()  # HookedTransformer seeds the global RNGs while initialising


def make_model(cfg: GrokkingConfig) -> HookedTransformer:
    tcfg = HookedTransformerConfig(
        n_layers=1,
        d_model=cfg.d_model,
        d_head=cfg.d_head,
        n_heads=cfg.n_heads,
        d_mlp=cfg.d_mlp,
        act_fn="relu",
        normalization_type=None,
        d_vocab=cfg.p + 1,
        d_vocab_out=cfg.p,
        n_ctx=3,
        init_weights=True,
        device="cpu",
        seed=cfg.seed,
    )
    with _INIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = HookedTransformer(tcfg)
    for name, param in model.named_parameters():
        if name.split(".")[-1].startswith("b_"):
            param.requires_grad_(False)  # frozen biases, as in the reference implementation
    return model


def _keep_last_position(resid_mid: torch.Tensor, hook: Any) -> torch.Tensor:
    return resid_mid[:, -1:]


def last_logits(model: HookedTransformer, tokens: torch.Tensor, bf16: bool = False) -> torch.Tensor:
    """[batch, 3] tokens -> [batch, p] logits at the "=" position.

    Only "=" is read, and in one layer nothing after the attention mixes positions, so a hook
    cuts the residual stream to that position at ``blocks.0.hook_resid_mid``: the MLP and the
    unembedding run on one position of three. Same logits and gradients as ``model(tokens)``;
    a full-batch step of the paper's model takes ~110 ms instead of ~190 ms on 2 cores.

    ``bf16``: the block (attention and MLP matmuls) runs under bfloat16 autocast, which this
    CPU (AVX-512 BF16) does at about twice the float32 rate; the residual stream it returns is
    float32 and the unembedding runs in float32, so the logits (loss ~1e-7 at the end of
    training) are not rounded to bfloat16's 8 bits. A paper step: ~70 ms instead of ~120 ms.
    The model has no final LayerNorm (``normalization_type=None``), so stopping after the last
    block and unembedding by hand is exactly ``model(tokens)``.
    """
    cut = [("blocks.0.hook_resid_mid", _keep_last_position)]
    with model.hooks(fwd_hooks=cut), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        resid = model(tokens, stop_at_layer=model.cfg.n_layers)  # [batch, 1, d_model]
    return model.unembed(resid.float())[:, -1]


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(-1) == labels).float().mean())


# ---------------------------------------------------------------------------------------------
# Training


@dataclass
class TrainState:
    model: HookedTransformer
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    step: int = 0
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def _new_state(cfg: GrokkingConfig) -> TrainState:
    model = make_model(cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(cfg.beta1, cfg.beta2)
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / cfg.warmup, 1.0))
    return TrainState(model, opt, sched)


def _save_state(d: Path, st: TrainState) -> None:
    save_torch(
        d / "state.pt",
        {
            "model": st.model.state_dict(),
            "optimizer": st.optimizer.state_dict(),
            "scheduler": st.scheduler.state_dict(),
            "step": st.step,
            "records": st.records,
            "seconds": st.seconds,
        },
    )


def _load_state(d: Path, cfg: GrokkingConfig) -> TrainState | None:
    if not (d / "state.pt").exists():
        return None
    saved = load_torch(d / "state.pt")
    st = _new_state(cfg)
    st.model.load_state_dict(saved["model"])
    st.optimizer.load_state_dict(saved["optimizer"])
    st.scheduler.load_state_dict(saved["scheduler"])
    st.step, st.records, st.seconds = saved["step"], saved["records"], saved["seconds"]
    return st


def first_step(records: list[dict[str, Any]], key: str, threshold: float) -> int | None:
    """The first recorded step whose ``key`` reaches ``threshold`` (None if never)."""
    return next((r["step"] for r in records if r.get(key, -1) >= threshold), None)


def train(
    cfg: GrokkingConfig,
    data_dir: str | Path | None = None,
    *,
    resume: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    limits: Limits = CLI_LIMITS,
) -> dict[str, Any]:
    """Train (or resume) one configuration in its run folder and return its result dict.

    Every ``eval_every`` steps a record ``{"step", "train_loss", "test_loss", "train_acc",
    "test_acc"}`` goes to ``on_record``. Setting ``stop`` ends training at the next step; the
    state is saved (resume later with ``resume=True``) and the partial result is analysed and
    returned with ``"finished": False``. With ``resume`` and a finished result on disk, that
    result is returned at once.
    """
    validate(cfg, limits)
    d = run_dir(DEMO, cfg, data_dir)
    lock = run_lock(d)
    try:
        if resume and (cached := load_json(d / "result.json")) and cached.get("finished"):
            for r in cached["records"]:
                on_record and on_record(r)
            return cached
        st = _load_state(d, cfg) if resume else None
        if st is None:
            for old in (d / "checkpoints").glob("*.pt"):
                old.unlink()
            (d / "result.json").unlink(missing_ok=True)
            st = _new_state(cfg)
        for r in st.records:
            on_record and on_record(r)
        return _train_loop(cfg, d, st, on_record, stop, progress)
    finally:
        lock.release()


def _train_loop(cfg, d, st, on_record, stop, progress) -> dict[str, Any]:
    data = make_dataset(cfg)
    train_x, train_y = data.tokens[data.is_train], data.labels[data.is_train]
    test_x, test_y = data.tokens[~data.is_train], data.labels[~data.is_train]
    ckpt_dir = d / "checkpoints"
    ckpt_dir.mkdir(exist_ok=True)
    model, opt, sched = st.model, st.optimizer, st.scheduler
    t0 = time.perf_counter() - st.seconds
    grok_step = first_step(st.records, "test_acc", GENERALISED_ACC)
    finished = True
    try:
        while st.step < cfg.n_epochs:
            if stop is not None and stop.is_set():
                finished = False
                break
            step = st.step
            if step % cfg.checkpoint_every == 0:
                save_torch(ckpt_dir / f"{step:06d}.pt", model.state_dict())
            logits = last_logits(model, train_x, bf16=cfg.bf16)
            loss = analysis.cross_entropy_f64(logits, train_y)
            at_checkpoint = step % cfg.checkpoint_every == 0
            if step % cfg.eval_every == 0 or step == cfg.n_epochs - 1 or at_checkpoint:
                with torch.no_grad():
                    test_logits = last_logits(model, test_x)
                test_loss = analysis.cross_entropy_f64(test_logits, test_y)
                rec = {
                    "step": step,
                    "train_loss": float(loss.detach()),
                    "test_loss": float(test_loss),
                    "train_acc": accuracy(logits, train_y),
                    "test_acc": accuracy(test_logits, test_y),
                }
                if at_checkpoint:  # the progress measures, live (one pass over all p*p pairs)
                    rec.update(live_measures(model, cfg, data))
                st.records.append(rec)
                on_record and on_record(rec)
                if grok_step is None and rec["test_acc"] >= GENERALISED_ACC:
                    grok_step = step
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            st.step += 1
            if progress:
                progress(st.step, cfg.n_epochs)
            if st.step % max(cfg.checkpoint_every, 500) == 0:
                st.seconds = time.perf_counter() - t0
                _save_state(d, st)
            extra = cfg.stop_after_grok
            if extra is not None and grok_step is not None and st.step >= grok_step + extra:
                break
    except KeyboardInterrupt:  # Ctrl-C in the CLI: keep the progress for --resume
        st.seconds = time.perf_counter() - t0
        _save_state(d, st)
        raise
    save_torch(ckpt_dir / f"{st.step:06d}.pt", model.state_dict())
    st.seconds = time.perf_counter() - t0
    _save_state(d, st)
    result = analyse_run(cfg, d, st.records, model)
    result.update(finished=finished, seconds=round(st.seconds, 2), steps=st.step)
    atomic_write_json(d / "result.json", result)
    return result


# ---------------------------------------------------------------------------------------------
# Analysis


def embedding_frequency_norms(model: HookedTransformer, p: int) -> torch.Tensor:
    """Norm of ``W_E[:p]`` (the number tokens, [p, d_model]) per frequency 1..(p-1)/2."""
    return analysis.frequency_norms(model.W_E[:p].detach(), p)


def neuron_logit_map(model: HookedTransformer) -> torch.Tensor:
    """W_L = W_out @ W_U, the map from MLP neurons to logits: [d_mlp, p]."""
    return (model.W_out[0] @ model.W_U).detach()


def mlp_activations(model: HookedTransformer, cfg: GrokkingConfig, data: Dataset) -> torch.Tensor:
    """The MLP neurons' activations at "=" for every pair: [p (a), p (b), d_mlp]."""
    keep: dict[str, torch.Tensor] = {}

    def save(post: torch.Tensor, hook: Any) -> None:
        keep["post"] = post[:, -1].detach()

    with torch.no_grad():
        model.run_with_hooks(data.tokens, fwd_hooks=[("blocks.0.mlp.hook_post", save)])
    return keep["post"].reshape(cfg.p, cfg.p, -1)


def live_measures(model: HookedTransformer, cfg: GrokkingConfig, data: Dataset) -> dict[str, Any]:
    """The progress measures during training, with the key frequencies of ``W_E`` *so far*.

    The paper measures restricted and excluded loss with the final model's key frequencies
    (``analyse_run`` redoes it that way over the checkpoints at the end); live, only the
    current ones are known: before the circuit forms they are a dense handful (the cap of
    :func:`analysis.key_frequencies`) and restricted loss stays high; as it forms they settle
    on 4-6 frequencies, restricted loss falls and excluded loss rises.
    Returns ``{"key_frequencies", "restricted_loss", "excluded_loss"}``.
    """
    with torch.no_grad():
        logits = last_logits(model, data.tokens)
    keys = analysis.key_frequencies(embedding_frequency_norms(model, cfg.p))
    y, tr = data.labels, data.is_train
    return {
        "key_frequencies": keys,
        "restricted_loss": analysis.restricted_loss(logits, y, cfg.p, keys),
        "excluded_loss": analysis.excluded_loss(logits, y, cfg.p, keys, tr),
    }


def progress_measures(
    model: HookedTransformer, cfg: GrokkingConfig, data: Dataset, key_freqs: list[int]
) -> dict[str, float]:
    """The paper's progress measures for the model's current weights."""
    p, tr, y = cfg.p, data.is_train, data.labels
    with torch.no_grad():
        logits = last_logits(model, data.tokens)
    we = analysis.fourier_component_norms(model.W_E[:p].detach(), p)[1:]  # without the constant
    wl = analysis.fourier_component_norms(neuron_logit_map(model).T, p)[1:]
    return {
        "train_loss": float(analysis.cross_entropy_f64(logits[tr], y[tr])),
        "test_loss": float(analysis.cross_entropy_f64(logits[~tr], y[~tr])),
        "restricted_loss": analysis.restricted_loss(logits, y, p, key_freqs),
        "excluded_loss": analysis.excluded_loss(logits, y, p, key_freqs, tr),
        "gini_W_E": analysis.gini(we),
        "gini_W_L": analysis.gini(wl),
        "sum_sq_weights": float(sum((w.detach() ** 2).sum() for w in model.parameters())),
    }


def analyse_run(
    cfg: GrokkingConfig, d: Path, records: list[dict[str, Any]], model: HookedTransformer
) -> dict[str, Any]:
    """Fourier analysis of the final model plus progress measures over every saved checkpoint.

    The key frequencies are the paper's: those that MLP neurons cluster on
    (:func:`analysis.neuron_clusters`). ``W_E``'s Fourier norms keep a tail of frequencies
    the circuit does not use (weight decay is still shrinking them), so they name the key
    frequencies only for a run with no neuron clusters (one that never generalised).
    """
    data = make_dataset(cfg)
    norms = embedding_frequency_norms(model, cfg.p)
    clusters = analysis.neuron_clusters(
        analysis.neuron_frequency_fractions(mlp_activations(model, cfg, data), cfg.p)
    )
    keys = sorted(clusters) or analysis.key_frequencies(norms)
    final_state = {k: v.clone() for k, v in model.state_dict().items()}
    measures = []
    for path in sorted((d / "checkpoints").glob("*.pt")):
        model.load_state_dict(load_torch(path))
        measures.append({"step": int(path.stem), **progress_measures(model, cfg, data, keys)})
    model.load_state_dict(final_state)
    last = records[-1] if records else {}
    return {
        "demo": DEMO,
        "config": dataclasses.asdict(cfg),
        "records": records,
        "train_acc": last.get("train_acc"),
        "test_acc": last.get("test_acc"),
        "memorised_step": first_step(records, "train_acc", MEMORISED_ACC),
        "generalised_step": first_step(records, "test_acc", GENERALISED_ACC),
        "key_frequencies": keys,
        "frequency_norms": [round(float(x), 5) for x in norms],
        "neuron_clusters": {str(k): n for k, n in clusters.items()},  # frequency -> neurons
        "progress_measures": measures,
    }


@dataclass
class Answer:
    """The trained model on one pair: its answer and where the correct logit comes from."""

    a: int
    b: int
    expected: int  # (a + b) mod p
    answer: int  # the model's argmax
    correct: bool
    top: list[tuple[int, float]]  # [(answer, logit), ...] the highest logits, best first
    logit: float  # the correct answer's logit
    mean_logit: float  # the constant Fourier component: the same for every answer
    by_frequency: dict[int, float]  # key frequency -> its contribution to the correct logit
    other: float  # every other frequency's contribution, summed


def answer(
    model: HookedTransformer, cfg: GrokkingConfig, a: int, b: int, key_freqs: list[int], top_k=5
) -> Answer:
    """Run ``[a, b, =]`` and split the correct answer's logit by output frequency.

    The final residual at "=" (``blocks.0.hook_resid_post``, [d_model]) is read by the
    unembedding, logits = resid @ W_U + b_U ([p]); projecting that logit vector onto the
    Fourier basis over answers gives each frequency's share of the correct logit
    (:func:`analysis.frequency_contributions`): a grokked model's key frequencies add up to
    most of it, each peaking at c = a + b.
    """
    p = cfg.p
    for name, v in (("a", a), ("b", b)):
        if not (isinstance(v, int) and 0 <= v < p):
            raise PodlensError(f"{name} must be a whole number 0 .. {p - 1}, got {v}")
    tokens = torch.tensor([[a, b, p]])
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, names_filter=lambda n: n.endswith("resid_post"))
        resid = cache["resid_post", 0][0, -1]  # [d_model]
        logits = resid @ model.W_U + model.b_U  # [p]
    expected = (a + b) % p
    parts = analysis.frequency_contributions(logits, p, expected, key_freqs)
    best = torch.topk(logits, min(top_k, p))
    guess = int(best.indices[0])
    return Answer(
        a=a,
        b=b,
        expected=expected,
        answer=guess,
        correct=guess == expected,
        top=[(int(i), round(float(v), 3)) for v, i in zip(best.values, best.indices, strict=True)],
        logit=parts["logit"],
        mean_logit=parts["mean"],
        by_frequency=parts["by_frequency"],
        other=parts["other"],
    )


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The CLI's JSON: final accuracies, when it memorised / generalised, key frequencies."""
    keys = ("train_acc", "test_acc", "memorised_step", "generalised_step", "key_frequencies")
    return {**{k: result[k] for k in keys}, "seconds": result["seconds"]}


def load_result(cfg: GrokkingConfig, data_dir: str | Path | None = None) -> dict[str, Any] | None:
    """A finished cached result for ``cfg`` (shown at once on a second visit), else None."""
    res = load_json(run_dir(DEMO, cfg, data_dir) / "result.json")
    return res if res and res.get("finished") else None


def saved_run(cfg: GrokkingConfig, data_dir: str | Path | None = None) -> dict[str, Any] | None:
    """An unfinished run of ``cfg`` saved on disk (stopped, or cut off by an app restart):
    ``{"step", "records", "seconds"}``, resumable with ``train(..., resume=True)``; else None."""
    d = run_dir(DEMO, cfg, data_dir)
    if load_result(cfg, data_dir) is not None or not (d / "state.pt").exists():
        return None
    saved = load_torch(d / "state.pt")
    return {"step": saved["step"], "records": saved["records"], "seconds": saved["seconds"]}


def load_model(cfg: GrokkingConfig, data_dir: str | Path | None = None) -> HookedTransformer | None:
    path = run_dir(DEMO, cfg, data_dir) / "state.pt"
    if not path.exists():
        return None
    model = make_model(cfg)
    model.load_state_dict(load_torch(path)["model"])
    return model
