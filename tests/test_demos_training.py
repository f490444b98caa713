"""Short training runs that pin the direction of each demo's effect (slow: they train models)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import torch

from demos import attention, grokking, induction
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small models train faster on one thread, above all on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def grok_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("grok")


@pytest.fixture(scope="module")
def grok_fast(grok_dir):
    return grokking.train(grokking.PRESETS["fast"], grok_dir)


def test_grokking_fast_preset_generalises_long_after_memorising(grok_fast):
    r = grok_fast
    assert r["finished"] and r["train_acc"] == 1.0 and r["test_acc"] >= 0.95
    assert r["memorised_step"] is not None and r["generalised_step"] is not None
    assert r["generalised_step"] >= r["memorised_step"] + 500
    at_memorised = next(x for x in r["records"] if x["step"] == r["memorised_step"])
    assert at_memorised["test_acc"] < 0.5  # memorised, not yet general
    assert 1 <= len(r["key_frequencies"]) <= 6
    # the key frequencies are the ones the MLP neurons cluster on, as in the paper
    assert sorted(int(k) for k in r["neuron_clusters"]) == r["key_frequencies"]
    assert min(r["neuron_clusters"].values()) >= 0.01 * grokking.PRESETS["fast"].d_mlp


def test_grokking_progress_measures_show_the_circuit_forming(grok_fast):
    first, last = grok_fast["progress_measures"][0], grok_fast["progress_measures"][-1]
    assert last["restricted_loss"] < 0.1 < last["excluded_loss"]  # the key frequencies do it
    assert last["gini_W_E"] > first["gini_W_E"] + 0.1  # the embedding became sparse in Fourier
    mid = max(grok_fast["progress_measures"], key=lambda m: m["sum_sq_weights"])
    assert last["sum_sq_weights"] < mid["sum_sq_weights"]  # weight decay cleans up


def test_grokking_without_weight_decay_does_not_generalise_in_the_same_budget(grok_fast, grok_dir):
    cfg = grokking.make_config(
        "fast", weight_decay=0.0, n_epochs=grok_fast["steps"], stop_after_grok=None
    )
    r = grokking.train(cfg, grok_dir)
    assert r["train_acc"] == 1.0 and r["test_acc"] < 0.5 and r["generalised_step"] is None


def test_grokking_second_visit_reads_the_cached_result(grok_fast, grok_dir):
    cached = grokking.load_result(grokking.PRESETS["fast"], grok_dir)
    assert cached["generalised_step"] == grok_fast["generalised_step"]
    assert grokking.load_model(grokking.PRESETS["fast"], grok_dir) is not None


def test_grokking_stopped_run_resumes_where_it_stopped(tmp_path):
    cfg = grokking.make_config("fast", p=17, frac_train=0.5, n_epochs=60, stop_after_grok=None)
    stop = threading.Event()
    seen = []

    def on_record(r):
        seen.append(r["step"])
        if r["step"] >= 30:
            stop.set()

    partial = grokking.train(cfg, tmp_path, on_record=on_record, stop=stop)
    assert not partial["finished"] and partial["steps"] == 31
    assert grokking.load_result(cfg, tmp_path) is None
    full = grokking.train(cfg, tmp_path, resume=True)
    assert full["finished"] and full["steps"] == 60
    steps = [r["step"] for r in full["records"]]
    assert steps == sorted(set(steps)) and steps[-1] == 59
    fresh = grokking.train(cfg, tmp_path / "fresh")
    assert fresh["records"][-1] == pytest.approx(full["records"][-1])  # same as uninterrupted


@pytest.fixture(scope="module")
def ind_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ind")


@pytest.fixture(scope="module")
def ind_fast(ind_dir):
    return induction.train(induction.PRESETS["fast"], ind_dir)


def test_induction_head_forms_in_layer_1_reading_a_layer_0_previous_token_head(ind_fast):
    r = ind_fast
    first = next(x for x in r["records"] if "induction" in x)
    assert max(map(max, first["induction"])) < 0.2
    assert r["max_induction_score"] >= 0.5
    assert r["induction_heads"] and all(layer == 1 for layer, _ in r["induction_heads"])
    assert max(r["prev_token"][0]) > max(r["prev_token"][1]) + 0.2
    assert max(r["induction"][1]) > max(r["induction"][0]) + 0.3


def test_induction_loss_on_the_repeat_is_far_lower_than_on_the_first_copy(ind_fast):
    assert ind_fast["loss_second_half"] < 0.5 * ind_fast["loss_first_half"]
    assert len(ind_fast["loss_by_position"]) == 2 * induction.PRESETS["fast"].eval_len - 1


def test_attention_page_data_shows_every_head_and_labels_the_induction_heads(ind_fast, ind_dir):
    cfg = induction.PRESETS["fast"]
    out = attention.inspect_sequence("a b c d e a b c d e", cfg, ind_dir)
    assert out["pattern"].shape == (cfg.n_layers, cfg.n_heads, 10, 10)
    assert any("(induction)" in n for n in out["names"])
    html = attention.attention_html(out["pattern"], out["labels"], out["names"], ind_dir)
    assert "<script" in html and "unpkg.com" not in html and "cdn" not in html[:2000].lower()
    assert attention.attention_html(out["pattern"], out["labels"], out["names"], ind_dir) == html


def test_cli_prints_the_induction_metrics_as_json(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "demos",
            "induction",
            "--steps",
            "20",
            "--json",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    got = json.loads(out.stdout)
    assert set(got) == {
        "max_induction_score",
        "induction_heads",
        "loss_first_half",
        "loss_second_half",
        "seconds",
    }


def test_cli_prints_the_grokking_metrics_as_json(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "demos",
            "grokking",
            "--p",
            "17",
            "--steps",
            "30",
            "--json",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    got = json.loads(out.stdout)
    assert set(got) == {
        "train_acc",
        "test_acc",
        "memorised_step",
        "generalised_step",
        "key_frequencies",
        "seconds",
    }
