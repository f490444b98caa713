"""Look at every attention head of the trained induction model on a sequence you type.

The induction model knows no words, only ``d_vocab`` abstract tokens, so a typed sequence is
mapped word by word: the first distinct word becomes token 0, the next new word token 1, and so
on; a repeated word gets its earlier token. That keeps exactly what induction cares about (which
tokens repeat). Heads are labelled from their scores on a repeated random sequence ``[r, r]``
(see ``demos.induction``): previous-token heads and induction heads.

``poke`` runs a typed sequence (words, or token ids with ``as_ids``; optionally followed by a
copy of itself) through the trained model of any induction config, for the Induction page: the
patterns, the loss on each next token and how much each head attends to the induction targets.

``attention_html`` renders CircuitsVis' interactive view with its JavaScript inlined (no CDN:
this server may be offline), about 1.3 MB per view, cached on disk by content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from demos import analysis, induction
from demos.cache import config_hash
from podlens.atomic import atomic_write_text
from podlens.config import data_dir as default_data_dir
from podlens.errors import PodlensError

MAX_WORDS = 64


@dataclass
class Tokenized:
    tokens: torch.Tensor  # [1, n] token ids
    labels: list[str]  # what to show for each position


def tokenize(text: str, cfg: induction.InductionConfig) -> Tokenized:
    """Words of ``text`` -> token ids by first appearance (repeats share an id)."""
    words = text.split()
    if not words:
        raise PodlensError("type a few words (repeat some to see the induction heads)")
    if len(words) > cfg.n_ctx:
        raise PodlensError(f"the model reads at most {cfg.n_ctx} words, got {len(words)}")
    ids: dict[str, int] = {}
    for w in words:
        ids.setdefault(w, len(ids))
    if len(ids) > cfg.d_vocab:
        raise PodlensError(f"at most {cfg.d_vocab} distinct words, got {len(ids)}")
    return Tokenized(torch.tensor([[ids[w] for w in words]]), words)


def token_ids(text: str, cfg: induction.InductionConfig) -> Tokenized:
    """Space-separated token ids ("3 17 5 3 17") -> the model's tokens, each 0 .. d_vocab-1."""
    parts = text.replace(",", " ").split()
    if not parts:
        raise PodlensError(f"type a few token ids (0 .. {cfg.d_vocab - 1}), e.g. 3 17 5 3 17")
    if len(parts) > cfg.n_ctx:
        raise PodlensError(f"the model reads at most {cfg.n_ctx} tokens, got {len(parts)}")
    ids = []
    for x in parts:
        if not x.isdigit() or int(x) >= cfg.d_vocab:
            raise PodlensError(f"token ids are whole numbers 0 .. {cfg.d_vocab - 1}, got {x!r}")
        ids.append(int(x))
    return Tokenized(torch.tensor([ids]), [f"t{i}" for i in ids])


def parse_sequence(
    text: str, cfg: induction.InductionConfig, *, as_ids: bool = False, repeat: bool = False
) -> Tokenized:
    """A typed sequence as words (:func:`tokenize`) or token ids (:func:`token_ids`); with
    ``repeat`` it is followed by a copy of itself (``[r, r]``, what the induction heads copy)."""
    tok = token_ids(text, cfg) if as_ids else tokenize(text, cfg)
    if repeat:
        n = tok.tokens.shape[1]
        if 2 * n > cfg.n_ctx:
            raise PodlensError(
                f"repeated, the sequence would be {2 * n} tokens; the model reads at most "
                f"{cfg.n_ctx}: type at most {cfg.n_ctx // 2}"
            )
        tok = Tokenized(tok.tokens.repeat(1, 2), tok.labels * 2)
    return tok


def repeated_example(cfg: induction.InductionConfig, length: int = 10, seed: int = 7) -> Tokenized:
    """A generated ``[r, r]`` of ``length`` random tokens each, labelled ``t<id>``."""
    if not 2 <= length <= cfg.n_ctx // 2:
        raise PodlensError(f"repeat length must be 2 .. {cfg.n_ctx // 2}, got {length}")
    toks = induction.repeated_tokens(cfg, length=length, batch=1, seed=seed)
    return Tokenized(toks, [f"t{int(t)}" for t in toks[0]])


def patterns(model: induction.HookedTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """Every head's attention pattern: [n_layers, n_heads, query, key] for a [1, n] input."""
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens, names_filter=induction.is_pattern)
    return torch.stack([cache["pattern", layer][0] for layer in range(model.cfg.n_layers)])


def run_on(
    model: induction.HookedTransformer, tokens: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward pass over a [1, n] input: every head's attention pattern
    [n_layers, n_heads, query, key] (``run_with_cache``, ``hook_pattern``) and the next-token
    loss at each position [n - 1] (entry i is the loss of predicting token i + 1)."""
    with torch.no_grad():
        logits, cache = model.run_with_cache(tokens, names_filter=induction.is_pattern)
        loss = model.loss_fn(logits, tokens, per_token=True)[0]  # [n - 1]
    pattern = torch.stack([cache["pattern", layer][0] for layer in range(model.cfg.n_layers)])
    return pattern, loss


def head_roles(result: dict[str, Any]) -> dict[tuple[int, int], str]:
    """{(layer, head): "induction" | "previous-token"} from a trained run's scores."""
    roles: dict[tuple[int, int], str] = {}
    for layer, head in result["prev_token_heads"]:
        roles[(layer, head)] = "previous-token"
    for layer, head in result["induction_heads"]:
        roles[(layer, head)] = "induction"
    return roles


def head_names(n_layers: int, n_heads: int, roles: dict[tuple[int, int], str]) -> list[str]:
    return [
        f"L{layer}H{head}" + (f" ({roles[(layer, head)]})" if (layer, head) in roles else "")
        for layer in range(n_layers)
        for head in range(n_heads)
    ]


def safe_label(word: str) -> str:
    """A typed word made inert inside the view's inline <script> (no "<", ">" or "&")."""
    return word.translate(str.maketrans({"<": "\uff1c", ">": "\uff1e", "&": "\uff06"}))


def attention_html(
    pattern: torch.Tensor, labels: list[str], names: list[str], data_dir: str | Path | None = None
) -> str:
    """CircuitsVis ``attention_heads`` HTML with inlined JavaScript, cached by content.

    pattern: [n_layers, n_heads, query, key] (all heads are shown side by side).
    """
    import circuitsvis as cv

    flat = pattern.reshape(-1, *pattern.shape[-2:])
    labels = [safe_label(x) for x in labels]
    key = hashlib.sha256(
        json.dumps([flat.numpy().round(4).tolist(), labels, names]).encode()
    ).hexdigest()[:16]
    path = default_data_dir(data_dir) / "demos" / "attention" / f"{key}.html"
    if path.exists():
        return path.read_text()
    html = cv.attention.attention_heads(flat, labels, attention_head_names=names).local_src
    atomic_write_text(path, html)
    return html


def inspect_sequence(
    text: str | None,
    cfg: induction.InductionConfig | None = None,
    data_dir: str | Path | None = None,
    repeat_length: int = 10,
) -> dict[str, Any]:
    """Everything the attention page shows for ``text`` (or a generated repeat when None).

    Needs a finished induction run of ``cfg`` (default: the ``fast`` preset) in the data dir.
    Returns labels, ``pattern`` [n_layers, n_heads, q, k], head roles and names, and the
    induction run's per-head scores.
    """
    cfg = cfg or induction.PRESETS["fast"]
    result = induction.load_result(cfg, data_dir)
    model = induction.load_model(cfg, data_dir)
    if result is None or model is None:
        raise PodlensError(
            "no trained induction model yet: run the induction demo first "
            "(or `python -m demos induction --preset fast`)"
        )
    tok = tokenize(text, cfg) if text is not None else repeated_example(cfg, repeat_length)
    roles = head_roles(result)
    return {
        "labels": tok.labels,
        "tokens": tok.tokens[0].tolist(),
        "pattern": patterns(model, tok.tokens),
        "roles": roles,
        "names": head_names(cfg.n_layers, cfg.n_heads, roles),
        "induction": result["induction"],
        "prev_token": result["prev_token"],
        "model": config_hash(induction.DEMO, cfg),
    }


@dataclass
class Poke:
    """What the Induction page shows for one typed sequence (n tokens)."""

    labels: list[str]  # [n] what each position shows
    tokens: list[int]  # [n] token ids
    pattern: torch.Tensor  # [n_layers, n_heads, query, key]
    loss: list[float]  # [n - 1] loss of predicting token i + 1 from positions 0 .. i
    predictable: list[bool]  # [n - 1] whether token i + 1 repeats what followed an earlier copy
    names: list[str]  # head names with their roles, in pattern order
    target_attention: list[list[float]]  # [layer][head] mean attention on induction targets
    induction_heads: list[list[int]]  # [[layer, head], ...] from the training run's scores
    model: str  # the config hash (what a rendered view is cached under)


def predictable_positions(tokens: list[int]) -> list[bool]:
    """[n - 1]: True where token i + 1 is what followed an earlier occurrence of token i (an
    induction head can predict it by copying)."""
    nxt: dict[int, int] = {}
    out = []
    for i in range(len(tokens) - 1):
        t = tokens[i]
        out.append(nxt.get(t) == tokens[i + 1])
        nxt[t] = tokens[i + 1]
    return out


def poke(
    text: str,
    cfg: induction.InductionConfig,
    data_dir: str | Path | None = None,
    *,
    as_ids: bool = False,
    repeat: bool = False,
) -> Poke:
    """Run the trained induction model of ``cfg`` on a typed sequence (see :func:`parse_sequence`).

    Raises PodlensError with a one-line reason for bad input or when ``cfg`` isn't trained yet.
    """
    tok = parse_sequence(text, cfg, as_ids=as_ids, repeat=repeat)
    result = induction.load_result(cfg, data_dir)
    model = induction.load_model(cfg, data_dir)
    if result is None or model is None:
        raise PodlensError("no trained induction model for these settings yet: train it first")
    if tok.tokens.shape[1] < 2:
        raise PodlensError("type at least two tokens (the model predicts each next one)")
    pattern, loss = run_on(model, tok.tokens)
    ids = tok.tokens[0].tolist()
    roles = head_roles(result)
    return Poke(
        labels=tok.labels,
        tokens=ids,
        pattern=pattern,
        loss=[round(float(x), 4) for x in loss],
        predictable=predictable_positions(ids),
        names=head_names(cfg.n_layers, cfg.n_heads, roles),
        target_attention=analysis.target_attention(pattern, analysis.induction_targets(ids))
        .round(decimals=4)
        .tolist(),
        induction_heads=result["induction_heads"],
        model=config_hash(induction.DEMO, cfg),
    )
