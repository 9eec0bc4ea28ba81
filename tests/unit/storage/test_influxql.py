"""InfluxQL quoting: nothing from outside is pasted raw."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import StorageError
from storage.influxql import quote_ident, quote_string, tag_condition, time_condition


def test_quote_ident_escapes_quotes_and_backslashes() -> None:
    assert quote_ident("power_dbm") == '"power_dbm"'
    assert quote_ident('a"b\\c') == '"a\\"b\\\\c"'


def test_quote_string_escapes_quotes_and_backslashes() -> None:
    assert quote_string("Lạng Sơn") == "'Lạng Sơn'"
    assert quote_string("x' OR '1'='1") == "'x\\' OR \\'1\\'=\\'1'"


def test_newlines_refused() -> None:
    with pytest.raises(StorageError):
        quote_string("a\nb")
    with pytest.raises(StorageError):
        quote_ident("a\nb")


def test_tag_condition_lists_and_empty_list() -> None:
    assert tag_condition({"station": "A"}) == ['"station"::tag = \'A\'']
    assert tag_condition({"station": ["A", "B"], "band": "fm"}) == [
        "(\"station\"::tag = 'A' OR \"station\"::tag = 'B')",
        "\"band\"::tag = 'fm'",
    ]
    assert tag_condition({"station": []}) is None
    assert tag_condition(None) == []


def test_time_condition_is_integer_nanoseconds() -> None:
    assert time_condition(5, 10) == ["time >= 5", "time < 10"]
    assert time_condition(None, 10) == ["time < 10"]


def _unquote_string(literal: str) -> str:
    """Independent reader of an InfluxQL string literal."""
    assert literal[0] == literal[-1] == "'"
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\":
            out.append(body[i + 1])
            i += 2
        else:
            assert body[i] != "'", "unescaped quote inside a literal"
            out.append(body[i])
            i += 1
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",))))
def test_quote_string_round_trips(value: str) -> None:
    assert _unquote_string(quote_string(value)) == value
