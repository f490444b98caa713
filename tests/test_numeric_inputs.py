"""NaN, infinity and absurd numbers are one-line errors at the numeric entry points (issue 17)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.__main__ import MAX_K
from index.__main__ import main as index_main
from podlens.errors import PodlensError
from podlens.numbers import check_finite, float_arg, int_arg


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "weight decay", "-k", "nan"], "-k must be a whole number, got 'nan'"),
        (["search", "weight decay", "-k", "inf"], "-k must be a whole number"),
        (["search", "weight decay", "-k", "1e9"], "-k must be a whole number"),
        (["search", "weight decay", "-k", "0"], "-k must be between 1 and 100, got 0"),
        (["search", "weight decay", "-k", "1000000000"], "-k must be between 1 and 100"),
        (["eval", "missing.jsonl", "-k", "nan"], "-k must be a whole number"),
        (["search", "q", "--kinds", "everything"], "invalid choice"),
    ],
)
def test_index_k_is_refused_in_one_line_before_anything_is_read(tmp_path, capsys, argv, message):
    assert index_main([*argv, "--data-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m index: error: ") and message in err, err
    assert err.count("\n") == 1
    assert not (tmp_path / "none").exists()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text()))
def test_k_takes_only_whole_numbers_from_1_to_max(value):
    parse = int_arg("-k", 1, MAX_K)
    text = repr(value) if not isinstance(value, str) else value
    try:
        k = parse(text)
    except PodlensError as e:
        assert str(e).startswith("-k must be")
        return
    assert isinstance(k, int) and 1 <= k <= MAX_K


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_flags_refuse_nan_and_infinity_and_keep_finite_values(x):
    parse = float_arg("--lr", 0.0)
    if math.isfinite(x) and x >= 0:
        assert parse(repr(x)) == x
    else:
        with pytest.raises(PodlensError, match="--lr must be"):
            parse(repr(x))
    if not math.isfinite(x):
        with pytest.raises(PodlensError, match="finite"):
            check_finite("x", x)


@pytest.mark.parametrize("text", ["nan-5", "1-inf", "nan", "inf", "12-1e999"])
def test_ingest_range_refuses_nan_and_infinity_in_one_line_and_writes_nothing(
    tmp_path, capsys, text
):
    from ingest.__main__ import main as ingest_main
    from tests.conftest import AXRP_FEED

    data = tmp_path / "data"
    rc = ingest_main(["--feed", str(AXRP_FEED), "--all", "--range", text, "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith("ingest: error: --range must"), err
    assert not data.exists()
