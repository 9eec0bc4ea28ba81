"""Emission designators (RR Appendix 1): parse, format, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.designator import (
    DETAIL_SYMBOLS,
    INFORMATION_SYMBOLS,
    MODULATION_SYMBOLS,
    MULTIPLEX_SYMBOLS,
    SIGNAL_SYMBOLS,
    format_bandwidth,
    parse_bandwidth,
    parse_designator,
)
from dsp.errors import InputFormatError


@pytest.mark.parametrize(
    ("text", "bw_hz", "cls"),
    [
        ("16K0F3E", 16_000.0, "F3E"),
        ("11K0F3E", 11_000.0, "F3E"),
        ("180KF8EHF", 180_000.0, "F8EHF"),
        ("7M60G7W", 7_600_000.0, "G7W"),
        ("100HA1A", 100.0, "A1A"),
        ("2K40J3E", 2_400.0, "J3E"),
        ("12K5F3E", 12_500.0, "F3E"),
        ("H002N0N", 0.002, "N0N"),
        ("5G65G7W", 5.65e9, "G7W"),
    ],
)
def test_examples(text, bw_hz, cls):
    d = parse_designator(text)
    assert d.necessary_bw_hz == pytest.approx(bw_hz, rel=1e-12)
    assert d.emission_class == cls
    assert str(d) == text


def test_symbols_are_split():
    d = parse_designator("180KF8EHF")
    assert (d.modulation, d.signal, d.information, d.details, d.multiplexing) == (
        "F", "8", "E", "H", "F")
    d = parse_designator("16K0F3E")
    assert (d.details, d.multiplexing) == (None, None)


def test_lower_case_and_spaces_are_normalised():
    assert str(parse_designator(" 16k0f3e ")) == "16K0F3E"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "7-9 characters"),
        ("16K0F3", "7-9 characters"),
        ("16K0F3EHFX", "7-9 characters"),
        ("016KF3E", "first character may not be 0"),
        ("K160F3E", "first character may not be 0, K, M or G"),
        ("1600F3E", "exactly one of the letters"),
        ("16KMF3E", "exactly one of the letters"),
        ("16X0F3E", "exactly one of the letters"),
        ("H000F3E", "mã độ rộng băng tần cần thiết.*more than zero"),
        ("16K0Z3E", r"ký hiệu thứ nhất \(kiểu điều chế\).*1st"),
        ("16K0F5E", "ký hiệu thứ hai.*2nd"),
        ("16K0F3Z", "ký hiệu thứ ba.*3rd"),
        ("16K0F3EI", "ký hiệu thứ tư.*4th"),
        ("16K0F3EHZ", "ký hiệu thứ năm.*5th"),
    ],
)
def test_invalid_designators_name_the_fault(text, match):
    with pytest.raises(InputFormatError, match=match) as info:
        parse_designator(text)
    assert info.value.field == "emission"


def test_format_bandwidth_rounds_to_three_figures_half_up():
    assert format_bandwidth(180_400.0) == "180K"
    assert format_bandwidth(180_500.0) == "181K"
    assert format_bandwidth(999.6) == "1K00"
    assert format_bandwidth(25.3) == "25H3"
    assert format_bandwidth(1.25e6) == "1M25"
    # Rounding that carries into a new digit keeps 3 figures (found by hypothesis).
    assert format_bandwidth(99_950.0) == "100K" and format_bandwidth(99.95e9) == "100G"
    assert format_bandwidth(9.995e3) == "10K0"
    with pytest.raises(ValueError, match="bw_hz"):
        format_bandwidth(0.0)
    with pytest.raises(ValueError, match="bw_hz"):
        format_bandwidth(2e12)


@st.composite
def bandwidth_codes(draw):
    letter = draw(st.sampled_from("HKMG"))
    pos = draw(st.integers(0 if letter == "H" else 1, 3))
    digits = [draw(st.sampled_from("0123456789")) for _ in range(3)]
    if pos != 0:
        digits[0] = draw(st.sampled_from("123456789"))
    elif digits == ["0", "0", "0"]:
        digits[2] = draw(st.sampled_from("123456789"))
    return "".join(digits[:pos]) + letter + "".join(digits[pos:])


@st.composite
def designators(draw):
    text = draw(bandwidth_codes())
    text += draw(st.sampled_from(MODULATION_SYMBOLS))
    text += draw(st.sampled_from(SIGNAL_SYMBOLS))
    text += draw(st.sampled_from(INFORMATION_SYMBOLS))
    if draw(st.booleans()):
        text += draw(st.sampled_from(DETAIL_SYMBOLS))
        if draw(st.booleans()):
            text += draw(st.sampled_from(MULTIPLEX_SYMBOLS))
    return text


@settings(max_examples=200, deadline=None)
@given(designators())
def test_round_trip_of_valid_designators(text):
    assert str(parse_designator(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
def test_arbitrary_text_parses_or_raises_input_format_error(text):
    try:
        d = parse_designator(text)
    except InputFormatError:
        return
    assert str(d) == text.strip().upper()


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.001, max_value=998e9, allow_nan=False))
def test_format_then_parse_is_within_rounding(bw_hz):
    code = format_bandwidth(bw_hz)
    assert len(code) == 4
    assert parse_bandwidth(code) == pytest.approx(bw_hz, rel=0.0051, abs=0.0005)
