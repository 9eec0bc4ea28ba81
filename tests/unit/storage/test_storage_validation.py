"""The point rules both backends share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsp.errors import StorageError
from storage.validation import (
    MAX_STRING_BYTES,
    check_query_args,
    check_t_ns,
    field_type,
    normalize_field,
)


def test_normalize_types() -> None:
    assert normalize_field("m", "f", np.float64(1.5)) == 1.5
    assert type(normalize_field("m", "f", np.float32(1.5))) is float
    assert type(normalize_field("m", "f", np.int32(3))) is int
    assert normalize_field("m", "f", np.bool_(False)) is False
    assert normalize_field("m", "f", True) is True
    assert [field_type(v) for v in (1.0, 1, True, "x")] == ["float", "int", "bool", "str"]


def test_nan_message_names_measurement_and_field() -> None:
    with pytest.raises(StorageError) as info:
        normalize_field("noise_floor", "psd_dbm_hz", math.nan)
    assert "'noise_floor'" in str(info.value)
    assert "'psd_dbm_hz'" in str(info.value)


def test_long_string_refused() -> None:
    normalize_field("m", "s", "x" * MAX_STRING_BYTES)
    with pytest.raises(StorageError, match="64 KiB"):
        normalize_field("m", "s", "ạ" * MAX_STRING_BYTES)  # 3 bytes each in UTF-8


def test_t_ns() -> None:
    assert check_t_ns("m", np.int64(-5)) == -5
    with pytest.raises(StorageError):
        check_t_ns("m", True)


@pytest.mark.parametrize(
    ("aggregate", "window_ns", "match"),
    [("median", None, "aggregate"), (None, 10, "needs an aggregate"), ("mean", 0, "> 0")],
)
def test_query_args(aggregate: str | None, window_ns: int | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_query_args(aggregate, window_ns)
