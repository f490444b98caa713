"""Small pure analysis functions for the demos: attention-head scores and Fourier measures.

Everything here takes tensors and returns tensors or plain numbers; nothing trains, nothing
touches disk. Shapes follow TransformerLens: an attention pattern is ``[batch, head, query, key]``
(or ``[head, query, key]``), ``W_E`` is ``[d_vocab, d_model]``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

# ---------------------------------------------------------------------------------------------
# Attention-head scores (Elhage et al. 2021; Olsson et al. 2022)


def _mean_diagonal(pattern: torch.Tensor, offset: int) -> torch.Tensor:
    """Mean of ``pattern.diagonal(offset)`` over batch and positions; one value per head."""
    if pattern.dim() == 3:
        pattern = pattern.unsqueeze(0)
    if pattern.dim() != 4:
        raise ValueError(f"pattern must be [batch, head, query, key], got {tuple(pattern.shape)}")
    diag = pattern.diagonal(offset=offset, dim1=-2, dim2=-1)  # [batch, head, n]
    if diag.shape[-1] == 0:
        raise ValueError(
            f"offset {offset} leaves no diagonal in a {pattern.shape[-1]}-long pattern"
        )
    return diag.mean(dim=(0, -1))


def induction_score(pattern: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Induction score per head on a repeated sequence ``[r, r]`` with ``len(r) == seq_len``.

    The mean attention from each token of the second copy to the token *after* its earlier
    occurrence: ``pattern.diagonal(offset=1 - seq_len)``. A perfect induction head scores 1,
    a uniform causal one about ``1 / (1.5 * seq_len)``.

    pattern: [batch, head, query, key] (or [head, query, key]) covering the two copies; if it is
    longer (a BOS token in front), the diagonal is taken over its last ``2 * seq_len`` positions.
    Returns: [head].
    """
    if seq_len < 2:
        raise ValueError("seq_len must be at least 2")
    if pattern.shape[-1] < 2 * seq_len:
        raise ValueError(f"pattern covers {pattern.shape[-1]} tokens, need 2 * {seq_len}")
    # queries L .. 2L-1 (the second copy), keys q - L + 1; the diagonal's first entry
    # (query L - 1, the end of the first copy) is not an induction step and is dropped.
    tail = pattern[..., -2 * seq_len :, -2 * seq_len :]
    if tail.dim() == 3:
        tail = tail.unsqueeze(0)
    return tail.diagonal(offset=1 - seq_len, dim1=-2, dim2=-1)[..., 1:].mean(dim=(0, -1))


def prev_token_score(pattern: torch.Tensor) -> torch.Tensor:
    """Previous-token score per head: mean of ``pattern.diagonal(offset=-1)``. Returns [head]."""
    return _mean_diagonal(pattern, offset=-1)


def induction_targets(tokens: list[int]) -> list[tuple[int, int]]:
    """Where an induction head should look on any sequence: ``(query, key)`` pairs.

    For each position q whose token occurred before (latest at j < q), the key is j + 1, the
    token that followed that occurrence (what the model should predict next). Positions whose
    token is new have no target.
    """
    last: dict[int, int] = {}
    pairs = []
    for q, t in enumerate(tokens):
        if t in last:
            pairs.append((q, last[t] + 1))
        last[t] = q
    return pairs


def target_attention(pattern: torch.Tensor, targets: list[tuple[int, int]]) -> torch.Tensor:
    """Mean attention each head pays to the induction targets of one sequence.

    pattern: [..., query, key] (e.g. [n_layers, n_heads, q, k]); targets from
    :func:`induction_targets`. Returns [...] (one value per head; zeros if there are none).
    """
    if not targets:
        return torch.zeros(pattern.shape[:-2])
    q = torch.tensor([t[0] for t in targets])
    k = torch.tensor([t[1] for t in targets])
    return pattern[..., q, k].mean(-1)


# ---------------------------------------------------------------------------------------------
# Fourier analysis of modular addition (Nanda et al. 2023)


def fourier_basis(p: int) -> tuple[torch.Tensor, list[str]]:
    """Orthonormal Fourier basis of functions on Z_p, for odd ``p``.

    Returns ``(basis, names)``: basis is [p, p] with one basis vector per *row*, in the order
    constant, cos 1, sin 1, cos 2, sin 2, ..., cos (p-1)/2, sin (p-1)/2 (float64).
    """
    if p < 3 or p % 2 == 0:
        raise ValueError(f"fourier_basis needs an odd p >= 3, got {p}")
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    names = ["const"]
    for k in range(1, p // 2 + 1):
        rows.append(torch.cos(2 * math.pi * k * x / p))
        rows.append(torch.sin(2 * math.pi * k * x / p))
        names += [f"cos {k}", f"sin {k}"]
    basis = torch.stack(rows)
    basis = basis / basis.norm(dim=1, keepdim=True)
    return basis, names


def fourier_component_norms(W: torch.Tensor, p: int) -> torch.Tensor:
    """Norm of each Fourier component of ``W`` along its first axis (the ``p`` residues).

    W: [p, d] (e.g. ``W_E[:p]``) . Returns [p] in the order of :func:`fourier_basis`.
    """
    if W.shape[0] != p:
        raise ValueError(f"W has {W.shape[0]} rows, expected p = {p}")
    basis, _ = fourier_basis(p)
    return (basis @ W.to(torch.float64)).norm(dim=1)


def frequency_norms(W: torch.Tensor, p: int) -> torch.Tensor:
    """Norm per frequency k = 1 .. (p-1)/2 of ``W`` [p, d]: sqrt(|cos k|^2 + |sin k|^2).

    Returns [(p-1)/2]; index i is frequency i + 1.
    """
    comp = fourier_component_norms(W, p)
    return (comp[1::2] ** 2 + comp[2::2] ** 2).sqrt()


def key_frequencies(freq_norms: torch.Tensor, ratio: float = 0.1, max_keys: int = 8) -> list[int]:
    """The frequencies that stand out: squared norm at least ``ratio`` times the largest one's,
    at most ``max_keys`` of them (largest first). Returns 1-based frequencies, sorted.

    A grokked embedding has a handful (3-6) far above the rest; a dense one (before grokking)
    has many of similar size and hits the cap.
    """
    energy = freq_norms.to(torch.float64) ** 2
    order = torch.argsort(energy, descending=True)
    keep = [int(i) + 1 for i in order if energy[i] >= ratio * energy[order[0]]]
    return sorted(keep[:max_keys])


def neuron_frequency_fractions(acts: torch.Tensor, p: int) -> torch.Tensor:
    """How much of each neuron's variance each frequency explains.

    acts: [p, p, n] a neuron's activation for every input (a, b). Each neuron's [p, p] table is
    taken to the 2D Fourier basis (over a and over b); frequency k explains the terms built from
    the constant, cos k and sin k of a and b (the constant-constant term, the mean, removed).
    Returns [(p-1)/2, n] fractions in [0, 1]; row i is frequency i + 1.
    """
    if acts.dim() != 3 or acts.shape[:2] != (p, p):
        raise ValueError(f"acts must be [p, p, n] with p = {p}, got {list(acts.shape)}")
    basis, _ = fourier_basis(p)
    coeffs = torch.einsum("ia,jb,abn->ijn", basis, basis, acts.to(torch.float64)) ** 2
    coeffs[0, 0] = 0.0
    total = coeffs.sum((0, 1)).clamp_min(1e-30)
    rows = []
    for k in range(1, p // 2 + 1):
        idx = torch.tensor([0, 2 * k - 1, 2 * k])
        rows.append(coeffs[idx][:, idx].sum((0, 1)) / total)
    return torch.stack(rows)


def neuron_clusters(
    fractions: torch.Tensor, explained: float = 0.85, min_share: float = 0.01
) -> dict[int, int]:
    """Key frequencies as the paper finds them: Nanda et al. 2023 see the MLP neurons of a
    grokked model cluster, each well explained by a single frequency. Returns frequency -> how
    many neurons it explains at least ``explained`` of the variance of. A frequency counts when
    its neurons are at least ``min_share`` of all, so one stray neuron adds no key frequency.

    fractions: [(p-1)/2, n] from :func:`neuron_frequency_fractions`. Largest cluster first.
    """
    best = fractions.max(0)
    counts: dict[int, int] = {}
    for freq, frac in zip(best.indices.tolist(), best.values.tolist(), strict=True):
        if frac >= explained:
            counts[freq + 1] = counts.get(freq + 1, 0) + 1
    least = max(1, math.ceil(min_share * fractions.shape[1]))
    kept = {k: c for k, c in counts.items() if c >= least}
    return dict(sorted(kept.items(), key=lambda kc: (-kc[1], kc[0])))


def gini(x: torch.Tensor) -> float:
    """Gini coefficient of non-negative values: 0 when all equal, (n-1)/n when one holds all."""
    v = torch.sort(x.flatten().to(torch.float64).abs()).values
    n = v.numel()
    total = v.sum()
    if n == 0 or total == 0:
        return 0.0
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float(((2 * i - n - 1) * v).sum() / (n * total))


def _sum_directions(p: int, freq: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit vectors over the p*p inputs (a, b) for cos(w(a+b)) and sin(w(a+b)), w = 2 pi k / p."""
    basis, _ = fourier_basis(p)
    c, s = basis[2 * freq - 1], basis[2 * freq]
    cos_apb = (torch.outer(c, c) - torch.outer(s, s)).flatten() / math.sqrt(2)
    sin_apb = (torch.outer(s, c) + torch.outer(c, s)).flatten() / math.sqrt(2)
    return cos_apb, sin_apb


def key_frequency_logits(logits: torch.Tensor, p: int, freqs: list[int]) -> torch.Tensor:
    """The part of the logits that lies along cos/sin(w_k (a + b)) for the given frequencies.

    logits: [p*p, p_out] for all inputs in order a * p + b. Returns the same shape (float64):
    each output column projected onto the 2 * len(freqs) directions over the inputs.
    """
    if logits.shape[0] != p * p:
        raise ValueError(f"logits must cover all p*p = {p * p} inputs, got {logits.shape[0]}")
    L = logits.to(torch.float64)
    out = torch.zeros_like(L)
    for k in freqs:
        for d in _sum_directions(p, k):
            out += torch.outer(d, d @ L)
    return out


def cross_entropy_f64(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy computed in float64 (the paper's loss). logits [n, c], labels [n]."""
    logp = logits.to(torch.float64).log_softmax(dim=-1)
    return -logp.gather(-1, labels[:, None]).mean()


def restricted_loss(logits: torch.Tensor, labels: torch.Tensor, p: int, freqs: list[int]) -> float:
    """Loss on all inputs when the logits keep only their key-frequency components."""
    return float(cross_entropy_f64(key_frequency_logits(logits, p, freqs), labels))


def excluded_loss(
    logits: torch.Tensor, labels: torch.Tensor, p: int, freqs: list[int], mask: torch.Tensor
) -> float:
    """Loss on the inputs selected by ``mask`` (the train set) with the key frequencies removed."""
    ex = logits.to(torch.float64) - key_frequency_logits(logits, p, freqs)
    return float(cross_entropy_f64(ex[mask], labels[mask]))


def output_frequency_components(logits: torch.Tensor, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split one input's logit vector over the p answers c into its Fourier components.

    logits: [p] (the logits at the "=" position). Returns ``(const, per_freq)``: ``const`` is the
    mean logit (the constant component, the same for every answer, so it never changes the
    prediction) and ``per_freq`` is [(p-1)/2, p], row k-1 the part of the logits along
    cos(2 pi k c / p) and sin(2 pi k c / p). ``const + per_freq.sum(0) == logits`` exactly.

    Since logits = resid @ W_U (+ b_U), row k-1 is also the final residual read through W_U
    projected onto frequency k of the output basis: the logit contribution of frequency k.
    """
    if logits.dim() != 1 or logits.shape[0] != p:
        raise ValueError(f"logits must be [p] = [{p}], got {tuple(logits.shape)}")
    basis, _ = fourier_basis(p)
    L = logits.to(torch.float64)
    coef = basis @ L  # [p] coefficient per basis vector
    const = coef[0] * basis[0]
    cos_part = coef[1::2, None] * basis[1::2]  # [(p-1)/2, p]
    sin_part = coef[2::2, None] * basis[2::2]
    return const, cos_part + sin_part


def frequency_contributions(
    logits: torch.Tensor, p: int, target: int, freqs: list[int]
) -> dict[str, Any]:
    """How much each frequency adds to the logit of answer ``target`` (above the mean logit).

    logits: [p]. Returns ``{"logit", "mean", "by_frequency": {k: value}, "other"}``: the
    key frequencies' contributions, ``other`` the sum of every remaining frequency's, so
    ``mean + sum(by_frequency) + other == logit``.
    """
    if not 0 <= target < p:
        raise ValueError(f"target must be 0 .. {p - 1}, got {target}")
    const, per_freq = output_frequency_components(logits, p)
    at = per_freq[:, target]  # [(p-1)/2]
    by = {int(k): float(at[k - 1]) for k in freqs}
    return {
        "logit": float(logits[target]),
        "mean": float(const[target]),
        "by_frequency": by,
        "other": float(at.sum()) - sum(by.values()),
    }
