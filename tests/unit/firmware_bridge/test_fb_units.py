"""parse_hz: the one parser of frequencies and rates typed on the command line."""

from __future__ import annotations

import doctest
import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import InputFormatError
from firmware_bridge.units import format_hz, parse_hz


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("98.5M", 98.5e6),
        ("2.4M", 2.4e6),
        ("100k", 100e3),
        ("100K", 100e3),
        ("433920000", 433_920_000.0),
        ("1.09G", 1.09e9),
        ("250 kHz", 250e3),
        ("2.4MHz", 2.4e6),
        ("1e6", 1e6),
        (" 88.1m ", 88.1e6),
        (162_000_000, 162e6),
        (2.048e6, 2.048e6),
    ],
)
def test_parse_hz_accepts_what_people_type(text, expected):
    assert parse_hz(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", ["", "M", "98.5X", "abc", "1.2.3M", "-5M", "inf", "nan", "5 MMHz"])
def test_parse_hz_rejects_with_the_option_named(text):
    with pytest.raises(InputFormatError, match="--freq"):
        parse_hz(text, field="--freq")


def test_parse_hz_rejects_bool():
    with pytest.raises(InputFormatError):
        parse_hz(True)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_parse_hz_never_raises_anything_else(text):
    try:
        value = parse_hz(text)
    except InputFormatError:
        return
    assert value >= 0


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0, max_value=6e9, allow_nan=False))
def test_parse_hz_round_trips_plain_numbers(f_hz):
    assert parse_hz(repr(f_hz)) == f_hz
    assert parse_hz(f"{f_hz / 1e6!r}M") == pytest.approx(f_hz, rel=1e-12, abs=1e-9)


def test_format_hz():
    assert format_hz(433.92e6) == "433.92 MHz"
    assert format_hz(1.5) == "1.5 Hz"


@pytest.mark.parametrize(
    "module",
    [
        "firmware_bridge.units",
        "firmware_bridge.rawiq",
        "firmware_bridge.sigmf_io",
        "firmware_bridge.recordings",
        "firmware_bridge.file_receiver",
        "firmware_bridge.rtltcp",
        "firmware_bridge.rtlsdr",
        "firmware_bridge.factory",
        "firmware_bridge.gps",
    ],
)
def test_docstring_examples(module):
    # pytest's --doctest-modules covers tests/ and dsp/ only; run ours here.
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
