"""Poking the trained demo models: a typed sequence through the induction model, a chosen pair
through the grokked one, the live progress measures and resuming a stopped run.

Everything trains tiny configurations for a few steps (seconds); the pages run under AppTest
with the ``fast`` presets swapped for tiny ones.
"""

from __future__ import annotations

import math
import threading

import pytest
import torch
from streamlit.testing.v1 import AppTest

from demos import analysis, attention, grokking, induction
from podlens.errors import PodlensError
from tests.conftest import REPO

TINY_IND = induction.InductionConfig(
    n_heads=2, d_model=16, d_vocab=16, n_ctx=16, eval_len=4, batch=4, n_steps=100, eval_every=50
)
TINY_GROK = grokking.GrokkingConfig(
    p=17,
    frac_train=0.5,
    d_model=16,
    n_heads=2,
    d_mlp=16,
    n_epochs=100,
    eval_every=10,
    checkpoint_every=20,
)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# -- pure analysis ----------------------------------------------------------------------------


def test_induction_targets_point_at_the_token_after_the_earlier_occurrence():
    #          0  1  2  3  4  5  6
    tokens = [5, 6, 7, 5, 6, 9, 5]
    assert analysis.induction_targets(tokens) == [(3, 1), (4, 2), (6, 4)]  # latest occurrence
    assert attention.predictable_positions(tokens) == [False, False, False, True, False, False]


def test_target_attention_is_one_for_a_perfect_induction_head_and_per_head():
    tokens = [1, 2, 3, 1, 2, 3]
    targets = analysis.induction_targets(tokens)
    perfect = torch.zeros(6, 6)
    for q, k in targets:
        perfect[q, k] = 1.0
    flat = torch.tril(torch.ones(6, 6)) / torch.arange(1, 7)[:, None]
    out = analysis.target_attention(torch.stack([perfect, flat])[None], targets)  # [1, 2]
    assert out.shape == (1, 2)
    assert out[0, 0].item() == pytest.approx(1.0) and out[0, 1].item() < 0.3
    assert analysis.target_attention(torch.ones(2, 3, 4, 4), []).shape == (2, 3)


def test_frequency_components_add_up_to_the_logits_exactly():
    p = 17
    logits = torch.randn(p, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    const, per_freq = analysis.output_frequency_components(logits, p)
    assert per_freq.shape == ((p - 1) // 2, p)
    assert torch.allclose(const + per_freq.sum(0), logits, atol=1e-12)
    assert torch.allclose(const, logits.mean().expand(p))
    parts = analysis.frequency_contributions(logits, p, 4, [3, 5])
    total = parts["mean"] + sum(parts["by_frequency"].values()) + parts["other"]
    assert total == pytest.approx(parts["logit"]) and set(parts["by_frequency"]) == {3, 5}


def test_the_ideal_algorithms_correct_logit_comes_from_its_key_frequencies_alone():
    p, freqs, a, b = 23, [4, 9], 7, 20
    c = torch.arange(p, dtype=torch.float64)
    logits = sum(torch.cos(2 * math.pi * k * (a + b - c) / p) for k in freqs)  # [p]
    parts = analysis.frequency_contributions(logits, p, (a + b) % p, freqs)
    assert parts["by_frequency"] == pytest.approx({4: 1.0, 9: 1.0}, abs=1e-9)  # cos 0 each
    assert parts["mean"] == pytest.approx(0.0, abs=1e-9)
    assert parts["other"] == pytest.approx(0.0, abs=1e-9)
    assert int(logits.argmax()) == (a + b) % p


def test_frequency_contributions_reject_a_wrong_shape_or_answer():
    with pytest.raises(ValueError):
        analysis.output_frequency_components(torch.zeros(16), 17)
    with pytest.raises(ValueError):
        analysis.frequency_contributions(torch.zeros(17), 17, 17, [1])


def test_grokking_trains_on_the_logits_at_equals_exactly_as_the_full_forward_gives_them():
    # last_logits cuts the residual stream to "=" after the attention (the MLP and unembedding
    # run on one position): the logits and every weight's gradient must be the full model's.
    cfg = grokking.make_config("fast", p=17, d_model=32, d_mlp=64)
    model = grokking.make_model(cfg)
    data = grokking.make_dataset(cfg)

    def grads(logits_fn):
        model.zero_grad(set_to_none=True)
        loss = analysis.cross_entropy_f64(logits_fn(data.tokens), data.labels)
        loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    cut = grads(lambda x: grokking.last_logits(model, x))
    full = grads(lambda x: model(x)[:, -1])
    assert set(cut) == set(full) and "blocks.0.mlp.W_in" in cut
    for name in full:
        assert torch.allclose(cut[name], full[name], atol=1e-6), name
    with torch.no_grad():
        assert torch.allclose(grokking.last_logits(model, data.tokens), model(data.tokens)[:, -1])
    assert not model.hook_dict["blocks.0.hook_resid_mid"].fwd_hooks  # the hook is gone after


def test_bf16_training_rounds_only_the_block_and_keeps_logits_and_weights_float32():
    # The paper preset trains with the block's matmuls under bfloat16 autocast: the logits it
    # trains on stay float32 and close to the exact ones (the unembedding is not rounded), the
    # gradients reach every trained weight as float32, and evaluation is untouched.
    cfg = grokking.make_config("fast", p=17, d_model=32, d_mlp=64, bf16=True)
    assert grokking.PRESETS["paper"].bf16 and not grokking.PRESETS["fast"].bf16
    model = grokking.make_model(cfg)
    data = grokking.make_dataset(cfg)
    mixed = grokking.last_logits(model, data.tokens, bf16=True)
    exact = grokking.last_logits(model, data.tokens)
    assert mixed.dtype == torch.float32
    assert not torch.equal(mixed, exact)  # the block really ran in bfloat16...
    assert torch.allclose(mixed, exact, atol=0.05)  # ...and only rounded it
    analysis.cross_entropy_f64(mixed, data.labels).backward()
    trained = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in trained)
    assert all(p.dtype == torch.float32 for p in model.parameters())


# -- typed sequences --------------------------------------------------------------------------


def test_token_ids_are_parsed_and_bounded_by_the_vocabulary():
    cfg = TINY_IND
    assert attention.token_ids("3 15 0, 3", cfg).tokens.tolist() == [[3, 15, 0, 3]]
    for bad, message in [
        ("3 16", r"whole numbers 0 \.\. 15, got '16'"),
        ("3 -1", "whole numbers"),
        ("3 x", "whole numbers"),
        ("   ", "type a few token ids"),
        (" ".join(["1"] * 17), "at most 16 tokens, got 17"),
    ]:
        with pytest.raises(PodlensError, match=message):
            attention.token_ids(bad, cfg)


def test_a_sequence_can_be_followed_by_its_copy_within_the_context():
    tok = attention.parse_sequence("a b c a", TINY_IND, repeat=True)
    assert tok.tokens.tolist() == [[0, 1, 2, 0, 0, 1, 2, 0]]
    assert tok.labels == ["a", "b", "c", "a"] * 2
    with pytest.raises(PodlensError, match="type at most 8"):
        attention.parse_sequence(" ".join("abcdefghi"), TINY_IND, repeat=True)


# -- the trained models -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ind_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("ind")
    torch.set_num_threads(1)
    induction.train(TINY_IND, d)
    return d


@pytest.fixture(scope="module")
def grok_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("grok")
    torch.set_num_threads(1)
    grokking.train(TINY_GROK, d)
    return d


def test_poking_the_induction_model_gives_attention_and_loss_per_token(ind_dir):
    out = attention.poke("9 4 11 2", TINY_IND, ind_dir, as_ids=True, repeat=True)
    n = 8
    assert out.tokens == [9, 4, 11, 2] * 2 and out.labels[0] == "t9"
    assert out.pattern.shape == (TINY_IND.n_layers, TINY_IND.n_heads, n, n)
    assert torch.allclose(out.pattern.sum(-1), torch.ones(2, 2, n), atol=1e-5)  # softmax rows
    assert len(out.loss) == len(out.predictable) == n - 1
    assert all(x > 0 for x in out.loss)
    assert out.predictable == [False] * 4 + [True] * 3  # the second copy after its first token
    assert len(out.target_attention) == 2 and len(out.target_attention[0]) == 2
    assert len(out.names) == 4 and out.names[0].startswith("L0H0")


def test_poking_an_untrained_configuration_says_to_train_it_first(tmp_path):
    with pytest.raises(PodlensError, match="train it first"):
        attention.poke("a b a", TINY_IND, tmp_path)
    with pytest.raises(PodlensError, match="whole numbers"):  # bad input is reported first
        attention.poke("a b", TINY_IND, tmp_path, as_ids=True)


def test_the_grokked_models_answer_splits_its_correct_logit_by_frequency(grok_dir):
    model = grokking.load_model(TINY_GROK, grok_dir)
    keys = grokking.load_result(TINY_GROK, grok_dir)["key_frequencies"]
    ans = grokking.answer(model, TINY_GROK, 9, 12, keys)
    assert ans.expected == 4 and ans.correct == (ans.answer == 4)
    with torch.no_grad():
        logits = model(torch.tensor([[9, 12, 17]]))[0, -1]
    assert ans.answer == int(logits.argmax())
    assert ans.logit == pytest.approx(float(logits[4]), abs=1e-5)
    assert [c for c, _ in ans.top] == logits.topk(5).indices.tolist()
    assert set(ans.by_frequency) == set(keys)
    total = ans.mean_logit + sum(ans.by_frequency.values()) + ans.other
    assert total == pytest.approx(ans.logit, abs=1e-5)
    for a, b in [(17, 0), (0, -1)]:
        with pytest.raises(PodlensError, match=r"must be a whole number 0 \.\. 16"):
            grokking.answer(model, TINY_GROK, a, b, keys)


def test_grokking_records_the_progress_measures_live_at_every_checkpoint(grok_dir):
    records = grokking.load_result(TINY_GROK, grok_dir)["records"]
    live = [r for r in records if "restricted_loss" in r]
    assert [r["step"] for r in live] == list(range(0, TINY_GROK.n_epochs, 20))
    for r in live:
        assert r["excluded_loss"] > 0 and r["restricted_loss"] > 0
        assert 1 <= len(r["key_frequencies"]) <= 8
        assert all(1 <= k <= 8 for k in r["key_frequencies"])


def test_a_stopped_run_is_found_on_disk_and_resumes_with_its_curves(tmp_path):
    cfg = TINY_GROK
    stop = threading.Event()
    partial = grokking.train(
        cfg, tmp_path, on_record=lambda r: r["step"] >= 40 and stop.set(), stop=stop
    )
    assert not partial["finished"]
    saved = grokking.saved_run(cfg, tmp_path)  # what the page shows after an app restart
    assert saved["step"] == 41 and saved["records"][-1]["step"] == 40
    seen: list[int] = []
    full = grokking.train(cfg, tmp_path, resume=True, on_record=lambda r: seen.append(r["step"]))
    assert full["finished"] and full["steps"] == cfg.n_epochs
    assert seen[: len(saved["records"])] == [r["step"] for r in saved["records"]]
    steps = [r["step"] for r in full["records"]]
    assert steps == sorted(set(steps))
    assert grokking.saved_run(cfg, tmp_path) is None  # finished: nothing left to resume


def test_the_app_may_run_the_paper_preset_but_only_small_tunable_runs():
    paper = grokking.PRESETS["paper"]
    assert (paper.p, paper.frac_train, paper.lr, paper.weight_decay) == (113, 0.3, 1e-3, 1.0)
    assert (paper.d_model, paper.n_heads, paper.d_mlp) == (128, 4, 512)
    grokking.validate(paper, grokking.app_limits("paper"))
    with pytest.raises(PodlensError):
        grokking.validate(paper, grokking.app_limits("fast"))


@pytest.mark.slow
def test_the_paper_preset_stops_and_resumes_from_the_cli(tmp_path):
    """A few epochs of the real paper-size model: stopped in-process, finished by the CLI."""
    import json
    import subprocess
    import sys

    cfg = grokking.make_config("paper", n_epochs=4)
    stop = threading.Event()
    grokking.train(cfg, tmp_path, on_record=lambda r: stop.set(), stop=stop)
    assert grokking.saved_run(cfg, tmp_path)["step"] == 1
    args = ["--preset", "paper", "--steps", "4", "--resume", "--json", "--data-dir", str(tmp_path)]
    out = subprocess.run(
        [sys.executable, "-m", "demos", "grokking", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert set(json.loads(out.stdout)) >= {"train_acc", "test_acc", "key_frequencies"}
    result = grokking.load_result(cfg, tmp_path)
    assert result["steps"] == 4 and [r["step"] for r in result["records"]] == [0, 3]
    assert "restricted_loss" in result["records"][0]


# -- the pages --------------------------------------------------------------------------------


def _page(monkeypatch, data_dir, page: str) -> AppTest:
    """The app (its navigation knows the pages that a page links to) switched to ``page``."""
    monkeypatch.setenv("PODLENS_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.switch_page(f"app_pages/{page}")
    return at


def _submit(at: AppTest, text: str) -> None:
    at.text_input(key="pk_text_words").set_value(text)
    next(b for b in at.button if b.label == "Run the model").click().run()


def test_induction_page_runs_the_trained_model_on_a_typed_sequence(monkeypatch, ind_dir):
    monkeypatch.setitem(induction.PRESETS, "fast", TINY_IND)
    at = _page(monkeypatch, ind_dir, "demo_induction.py").run()
    assert not at.exception
    assert "Poke the trained model" in [h.value for h in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["tokens"] == "10"  # the example: 10 words, 5 of them repeats
    assert len(at.get("iframe")) == 1  # CircuitsVis
    _submit(at, "a b c d a b c d")
    assert {m.label: m.value for m in at.metric}["tokens"] == "8"
    _submit(at, " ".join(["w"] * 17))
    assert any("at most 16 words, got 17" in e.value for e in at.error)


def test_grokking_page_answers_a_chosen_pair_with_frequency_contributions(monkeypatch, grok_dir):
    monkeypatch.setitem(grokking.PRESETS, "fast", TINY_GROK)
    at = _page(monkeypatch, grok_dir, "demo_grokking.py").run()
    assert not at.exception
    at.number_input(key="pk_a").set_value(9).run()
    at.number_input(key="pk_b").set_value(12).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["9 + 12 mod 17"] == "4"
    model = grokking.load_model(TINY_GROK, grok_dir)
    with torch.no_grad():
        guess = int(model(torch.tensor([[9, 12, 17]]))[0, -1].argmax())
    assert metrics["the model says"] == str(guess)


def test_grokking_page_offers_to_resume_a_run_saved_before_the_app_restarted(monkeypatch, tmp_path):
    stop = threading.Event()
    grokking.train(
        TINY_GROK, tmp_path, on_record=lambda r: r["step"] >= 40 and stop.set(), stop=stop
    )
    monkeypatch.setitem(grokking.PRESETS, "fast", TINY_GROK)
    at = _page(monkeypatch, tmp_path, "demo_grokking.py").run()  # a new process: no live run
    assert not at.exception
    assert [b.label for b in at.button if b.label == "Resume training"] == ["Resume training"]
    assert any("Stopped early at step 40 of 100" in i.value for i in at.info)
    captions = " ".join(c.value for c in at.caption)
    assert "Key frequencies of W_E at step 40" in captions  # the live progress measures


def test_grokking_page_sets_up_the_papers_run_without_knobs(monkeypatch, tmp_path):
    at = _page(monkeypatch, tmp_path, "demo_grokking.py").run()
    at.segmented_control(key="grok_preset").set_value("paper").run()
    assert not at.exception and not at.error
    assert not at.get("form")  # the paper's setup is fixed
    captions = " ".join(c.value for c in at.caption)
    assert "p = 113, 30% of the pairs" in captions and "resumes where it stopped" in captions
    assert [b.label for b in at.button if b.label == "Train"] == ["Train"]
