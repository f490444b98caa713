"""The demos' pure analysis functions on hand-made tensors, and their input bounds."""

from __future__ import annotations

import math

import pytest
import torch

from demos import analysis

L = 8


def exact_induction_pattern(L: int) -> torch.Tensor:
    """[1, 1, 2L, 2L]: each token of the second copy attends to the token after its first
    occurrence; the first copy attends to itself."""
    pat = torch.zeros(1, 1, 2 * L, 2 * L)
    for q in range(2 * L):
        pat[0, 0, q, q - L + 1 if q >= L else q] = 1.0
    return pat


def uniform_causal_pattern(n: int) -> torch.Tensor:
    pat = torch.tril(torch.ones(n, n))
    return (pat / pat.sum(-1, keepdim=True))[None, None]


def test_exact_induction_pattern_scores_one():
    assert analysis.induction_score(exact_induction_pattern(L), L).item() == pytest.approx(1.0)


def test_uniform_pattern_scores_near_zero_on_induction_and_prev_token():
    pat = uniform_causal_pattern(2 * L)
    assert analysis.induction_score(pat, L).item() < 0.15
    assert analysis.prev_token_score(pat).item() < 0.2


def test_prev_token_pattern_scores_one_and_not_induction():
    n = 2 * L
    pat = torch.zeros(1, 1, n, n)
    pat[0, 0, 0, 0] = 1
    for q in range(1, n):
        pat[0, 0, q, q - 1] = 1
    assert analysis.prev_token_score(pat).item() == pytest.approx(1.0)
    assert analysis.induction_score(pat, L).item() == 0.0


def test_scores_are_per_head_and_accept_a_bos_in_front():
    good, flat = exact_induction_pattern(L)[0, 0], uniform_causal_pattern(2 * L)[0, 0]
    both = torch.stack([good, flat])[None]  # [1, 2, 2L, 2L]
    with_bos = torch.zeros(1, 2, 2 * L + 1, 2 * L + 1)
    with_bos[..., 1:, 1:] = both
    scores = analysis.induction_score(with_bos, L)
    assert scores.shape == (2,)
    assert scores[0].item() == pytest.approx(1.0) and scores[1].item() < 0.15


def test_induction_score_rejects_a_pattern_shorter_than_two_copies():
    with pytest.raises(ValueError):
        analysis.induction_score(uniform_causal_pattern(L), L)


@pytest.mark.parametrize("p", [3, 17, 59, 113])
def test_fourier_basis_is_orthonormal(p):
    basis, names = analysis.fourier_basis(p)
    assert basis.shape == (p, p) and len(names) == p
    assert torch.allclose(basis @ basis.T, torch.eye(p, dtype=torch.float64), atol=1e-10)


def test_fourier_basis_needs_an_odd_modulus():
    with pytest.raises(ValueError):
        analysis.fourier_basis(10)


def test_frequency_norms_find_the_frequencies_an_embedding_is_built_from():
    p = 59
    x = torch.arange(p, dtype=torch.float64)
    cols = []
    for k, amp in [(5, 3.0), (14, 2.0), (22, 1.5)]:
        cols += [amp * torch.cos(2 * math.pi * k * x / p), amp * torch.sin(2 * math.pi * k * x / p)]
    W = torch.stack(cols, dim=1) + 0.01 * torch.randn(
        p, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    norms = analysis.frequency_norms(W, p)
    assert norms.shape == ((p - 1) // 2,)
    assert analysis.key_frequencies(norms) == [5, 14, 22]


def test_key_frequencies_of_a_dense_embedding_hit_the_cap():
    W = torch.randn(59, 64, generator=torch.Generator().manual_seed(0))
    assert len(analysis.key_frequencies(analysis.frequency_norms(W, 59), max_keys=8)) == 8


def test_gini_extremes():
    assert analysis.gini(torch.ones(10)) == pytest.approx(0.0)
    one_hot = torch.zeros(10)
    one_hot[3] = 5.0
    assert analysis.gini(one_hot) == pytest.approx(0.9)
    assert analysis.gini(torch.zeros(4)) == 0.0


def _fourier_logits(p: int, freqs: list[int], scale: float = 10.0) -> torch.Tensor:
    """Logits [p*p, p] of the ideal algorithm: sum_k cos(w_k (a + b - c))."""
    a = torch.arange(p).repeat_interleave(p)[:, None].double()
    b = torch.arange(p).repeat(p)[:, None].double()
    c = torch.arange(p)[None, :].double()
    return scale * sum(torch.cos(2 * math.pi * k * (a + b - c) / p) for k in freqs)


def test_restricted_loss_keeps_and_excluded_loss_removes_the_key_frequencies():
    p, freqs = 17, [3, 7]
    logits = _fourier_logits(p, freqs)
    labels = (torch.arange(p).repeat_interleave(p) + torch.arange(p).repeat(p)) % p
    mask = torch.ones(p * p, dtype=torch.bool)
    full = float(analysis.cross_entropy_f64(logits, labels))
    assert analysis.restricted_loss(logits, labels, p, freqs) == pytest.approx(full, rel=1e-6)
    assert analysis.excluded_loss(logits, labels, p, freqs, mask) == pytest.approx(
        math.log(p), rel=1e-6
    )
    assert full < 0.1


def test_score_history_tracks_the_best_head_per_layer_at_each_evaluation():
    from demos import induction

    records = [
        {
            "step": 0,
            "loss": 4.2,
            "induction": [[0.1, 0.0], [0.2, 0.1]],
            "prev_token": [[0.1, 0.3], [0.0, 0.0]],
        },
        {"step": 5, "loss": 4.1},  # a loss-only record is skipped
        {
            "step": 50,
            "loss": 2.0,
            "induction": [[0.1, 0.0], [0.3, 0.9]],
            "prev_token": [[0.8, 0.3], [0.0, 0.0]],
        },
    ]
    assert induction.score_history(records) == [
        {"step": 0, "ind_first": 0.1, "ind_last": 0.2, "prev_first": 0.3},
        {"step": 50, "ind_first": 0.1, "ind_last": 0.9, "prev_first": 0.8},
    ]


def test_neuron_clusters_name_the_frequencies_the_neurons_are_built_from():
    # Neurons that are cos(w_k (a + b) + phase) for k in {3, 7} (plus noise) cluster on
    # 3 and 7; a lone neuron on another frequency and noise-only neurons add no key frequency.
    p, gen = 23, torch.Generator().manual_seed(0)
    a = torch.arange(p, dtype=torch.float64)[:, None]
    b = torch.arange(p, dtype=torch.float64)[None, :]
    neurons = []
    for k, n in ((3, 40), (7, 25), (5, 1)):
        for _ in range(n):
            phase = float(torch.rand(1, generator=gen)) * 2 * math.pi
            neurons.append(torch.cos(2 * math.pi * k * (a + b) / p + phase))
    neurons += [torch.randn(p, p, generator=gen, dtype=torch.float64) for _ in range(34)]
    acts = torch.stack(neurons, -1) + 0.05 * torch.randn(p, p, 100, generator=gen)
    fractions = analysis.neuron_frequency_fractions(acts, p)
    assert fractions.shape == (p // 2, 100)
    assert float(fractions[2, 0]) > 0.95 and float(fractions[:, 0].sum()) <= 1.0 + 1e-9
    assert analysis.neuron_clusters(fractions, min_share=0.02) == {3: 40, 7: 25}
    with pytest.raises(ValueError):
        analysis.neuron_frequency_fractions(acts[:, :5], p)
