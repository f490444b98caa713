"""Demo inputs are bounded with clear one-line errors; runs are cached and locked per config."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos import __main__ as cli
from demos import attention, grokking, induction
from demos.cache import config_hash, run_dir, run_lock
from podlens.errors import PodlensError
from podlens.jobs import BackgroundRun


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"p": 57}, "p must be prime"),
        ({"p": 7}, "p must be between"),
        ({"p": 127}, "p must be between"),
        ({"frac_train": 0.95}, "training fraction must be between"),
        ({"weight_decay": -1.0}, "weight decay must be between"),
        ({"n_epochs": 0}, "steps must be between"),
        ({"d_model": 60, "n_heads": 7}, "must split evenly"),
    ],
)
def test_grokking_rejects_out_of_bounds_settings(overrides, message):
    with pytest.raises(PodlensError, match=message):
        grokking.validate(grokking.make_config("fast", **overrides))


def test_grokking_from_the_browser_refuses_runs_longer_than_minutes():
    paper = grokking.PRESETS["paper"]
    with pytest.raises(PodlensError, match="steps must be between"):
        grokking.validate(paper, grokking.UI_LIMITS)
    with pytest.raises(PodlensError, match=r"would train for about \d+ min"):
        grokking.validate(grokking.make_config("paper", n_epochs=10_000), grokking.UI_LIMITS)
    grokking.validate(grokking.PRESETS["fast"], grokking.UI_LIMITS)
    grokking.validate(paper, grokking.CLI_LIMITS)  # the CLI may run the paper setup


def test_induction_rejects_out_of_bounds_settings():
    with pytest.raises(PodlensError, match="sequence length must be between"):
        induction.validate(induction.make_config("fast", n_ctx=512))
    with pytest.raises(PodlensError, match="steps must be between"):
        induction.validate(induction.make_config("fast", n_steps=5000), induction.UI_LIMITS)
    with pytest.raises(PodlensError, match="unknown induction preset"):
        induction.make_config("huge")


def test_attention_tokenizer_maps_repeated_words_to_the_same_token_and_bounds_length():
    cfg = induction.PRESETS["fast"]
    tok = attention.tokenize("the cat sat . the cat", cfg)
    assert tok.tokens.tolist() == [[0, 1, 2, 3, 0, 1]]
    assert tok.labels == ["the", "cat", "sat", ".", "the", "cat"]
    with pytest.raises(PodlensError, match="at most 32 words"):
        attention.tokenize(" ".join(["w"] * 33), cfg)
    with pytest.raises(PodlensError, match="type a few words"):
        attention.tokenize("   ", cfg)


def test_config_hash_changes_with_any_setting_and_names_the_run_folder(tmp_path):
    a, b = grokking.PRESETS["fast"], grokking.make_config("fast", weight_decay=0.0)
    assert config_hash("grokking", a) != config_hash("grokking", b)
    assert config_hash("grokking", a) == config_hash("grokking", grokking.make_config("fast"))
    d = run_dir("grokking", a, tmp_path)
    assert d.parent == tmp_path / "demos" / "grokking"
    assert json.loads((d / "config.json").read_text())["p"] == a.p


def test_second_training_of_the_same_config_is_refused_while_the_first_holds_the_lock(tmp_path):
    cfg = grokking.make_config("fast", n_epochs=10)
    lock = run_lock(run_dir("grokking", cfg, tmp_path))
    try:
        with pytest.raises(PodlensError, match="already training in another session"):
            grokking.train(cfg, tmp_path)
    finally:
        lock.release()


def test_background_run_reports_records_and_errors():
    def fn(on_record, stop):
        on_record({"step": 0})
        raise PodlensError("boom")

    run = BackgroundRun(fn)
    with pytest.raises(PodlensError, match="boom"):
        run.join(5)
    assert run.records == [{"step": 0}] and run.done


def test_cli_prints_a_one_line_error_and_exits_2_on_bad_input(capsys):
    assert cli.main(["grokking", "--p", "100", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("demos: error: p must be prime") and "\n" not in err


def test_typed_words_cannot_close_the_attention_views_script():
    assert "<" not in attention.safe_label("</script><b>")
    assert attention.safe_label("plain") == "plain"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["induction", "--lr", "inf"], "--lr must be a finite number"),
        (["induction", "--lr", "nan"], "--lr must be a finite number"),
        (["induction", "--lr", "5"], "learning rate must be between"),
        (["grokking", "--frac", "nan"], "--frac must be a finite number"),
        (["grokking", "--wd=-inf"], "--wd must be a finite number"),
        (["grokking", "--steps", "1e9"], "--steps must be a whole number"),
        (["induction", "--heads", "nan"], "--heads must be a whole number"),
        (["grokking", "--preset", "huge"], "invalid choice"),
    ],
)
def test_cli_refuses_nan_infinity_and_absurd_settings_in_one_line_before_training(
    tmp_path, capsys, argv, message
):
    assert cli.main([*argv, "--data-dir", str(tmp_path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("demos: error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "demos").exists()  # nothing trained, nothing cached


@pytest.mark.parametrize("field", ["lr", "weight_decay", "frac_repeated"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_induction_api_refuses_non_finite_settings_so_no_nan_result_is_cached(
    tmp_path, field, value
):
    cfg = induction.make_config("fast", **{field: value})
    with pytest.raises(PodlensError, match="must be a finite number"):
        induction.validate(cfg)
    with pytest.raises(PodlensError, match="must be a finite number"):
        induction.train(cfg, tmp_path)
    assert not (tmp_path / "demos").exists()


@pytest.mark.parametrize("field", ["lr", "weight_decay", "frac_train", "beta1", "beta2"])
def test_grokking_api_refuses_non_finite_settings(field):
    with pytest.raises(PodlensError, match="must be a finite number"):
        grokking.validate(grokking.make_config("fast", **{field: float("nan")}))


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_learning_rate_flag_and_validation_take_only_sane_finite_values(x):
    parse = cli.build_parser()
    try:
        args = parse.parse_args(["induction", f"--lr={x!r}"])
    except PodlensError as e:
        assert not math.isfinite(x) or x < 0, (x, e)
        return
    cfg = induction.make_config("fast", lr=args.lr)
    try:
        induction.validate(cfg)
    except PodlensError:
        assert not 1e-5 <= x <= 0.1
        return
    assert math.isfinite(cfg.lr) and 1e-5 <= cfg.lr <= 0.1
