"""Line-protocol encoding: escaping, value types, refusals (the influxd round-trip is in
tests/integration/test_timeseries_contract.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import StorageError
from storage.lineprotocol import (
    LineProtocolEncoder,
    escape_measurement,
    escape_tag,
    quote_string_field,
)
from storage.timeseries import Point


def _line(point: Point) -> str:
    return LineProtocolEncoder().line(point)


def test_escapes_per_position() -> None:
    assert escape_measurement("a b,c=d") == "a\\ b\\,c=d"
    assert escape_tag("a b,c=d") == "a\\ b\\,c\\=d"
    assert quote_string_field('say "hi" \\ there') == '"say \\"hi\\" \\\\ there"'


def test_full_line_with_every_type() -> None:
    line = _line(
        Point(
            "channel power",
            {"station": "Đồng Đăng, cửa khẩu", "plan": "a=b"},
            {"power_dbm": -71.25, "n": -3, "ok": False, "note": 'x "y"'},
            1_700_000_000_123_456_789,
        )
    )
    assert line == (
        "channel\\ power,plan=a\\=b,station=Đồng\\ Đăng\\,\\ cửa\\ khẩu "
        'power_dbm=-71.25,n=-3i,ok=false,note="x \\"y\\"" 1700000000123456789'
    )


def test_tags_are_sorted_and_cached_series_key_reused() -> None:
    enc = LineProtocolEncoder()
    a = enc.line(Point("m", {"z": "1", "a": "2"}, {"v": 1.0}, 5))
    b = enc.line(Point("m", {"z": "1", "a": "2"}, {"v": 2.0}, 6))
    assert a == "m,a=2,z=1 v=1.0 5"
    assert b == "m,a=2,z=1 v=2.0 6"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_non_finite_refused_naming_measurement_and_field(bad: float) -> None:
    with pytest.raises(StorageError, match=r"'spectrum'.*'power_dbm'"):
        _line(Point("spectrum", {"station": "A"}, {"power_dbm": bad}, 1))


def test_numpy_scalars_converted() -> None:
    line = _line(
        Point("m", {}, {"f": np.float32(0.5), "i": np.int64(7), "b": np.bool_(True)}, np.int64(3))
    )
    assert line == "m f=0.5,i=7i,b=true 3"


def test_float_repr_round_trips() -> None:
    value = 0.1 + 0.2
    line = _line(Point("m", {}, {"f": value}, 1))
    assert float(line.split("=", 1)[1].split(" ")[0]) == value


@pytest.mark.parametrize(
    ("point", "match"),
    [
        (Point("m", {"t": "a\\b"}, {"v": 1.0}, 1), "backslash"),
        (Point("m", {"t": "a\nb"}, {"v": 1.0}, 1), "control"),
        (Point("m", {"t": ""}, {"v": 1.0}, 1), "non-empty"),
        (Point("m", {"time": "x"}, {"v": 1.0}, 1), "reserved"),
        (Point("m", {}, {"time": 1.0}, 1), "reserved"),
        (Point("#m", {}, {"v": 1.0}, 1), "'#'"),
        (Point("", {}, {"v": 1.0}, 1), "non-empty"),
        (Point("m", {}, {}, 1), "at least one field"),
        (Point("m", {}, {"v": 2**63}, 1), "64-bit"),
        (Point("m", {}, {"v": [1]}, 1), "unsupported field type"),
        (Point("m", {}, {"v": 1.0}, 1.5), "integer nanoseconds"),  # type: ignore[arg-type]
        (Point("m", {}, {"v": 1.0}, 2**63), "out of range"),
    ],
)
def test_refusals(point: Point, match: str) -> None:
    with pytest.raises(StorageError, match=match):
        _line(point)


def test_batches_split_and_count() -> None:
    enc = LineProtocolEncoder()
    points = [Point("m", {"s": "a"}, {"v": float(i)}, i) for i in range(12)]
    batches = list(enc.batches(points, 5))
    assert [n for n, _ in batches] == [5, 5, 2]
    lines = b"\n".join(body for _, body in batches).decode().split("\n")
    assert lines == [f"m,s=a v={float(i)!r} {i}" for i in range(12)]


def _unescape_tag(text: str) -> str:
    """Independent reading of the escaping rules, for the property below."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in ",= ":
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" ,=\"'ạơĐđưỡ")),
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\\"),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(key=_TEXT, value=_TEXT)
def test_tag_escaping_has_no_unescaped_separator(key: str, value: str) -> None:
    escaped = escape_tag(value)
    assert _unescape_tag(escaped) == value
    # Every separator left in the escaped text is preceded by a backslash.
    for i, c in enumerate(escaped):
        if c in ",= ":
            assert i > 0 and escaped[i - 1] == "\\"
