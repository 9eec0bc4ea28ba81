"""Building InfluxQL safely: identifiers double-quoted, strings single-quoted.

Nothing from outside is ever pasted into a statement: measurement, field and tag
names go through :func:`quote_ident`, tag values through :func:`quote_string`,
times and durations are formatted from ``int``. See the InfluxQL spec:
identifiers may be double-quoted with ``\\"`` and ``\\\\`` escapes; string literals
are single-quoted with ``\\'`` and ``\\\\`` escapes.

Examples
--------
>>> quote_ident('spec"trum')
'"spec\\\\"trum"'
>>> quote_string("x' OR 1=1 --")
"'x\\\\' OR 1=1 --'"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dsp.errors import StorageError

__all__ = ["quote_ident", "quote_string", "tag_condition", "time_condition"]


def quote_ident(name: str) -> str:
    """A double-quoted InfluxQL identifier."""
    if not isinstance(name, str) or not name or "\n" in name:
        raise StorageError(f"Tên không hợp lệ / invalid identifier: {name!r}")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(value: str) -> str:
    """A single-quoted InfluxQL string literal."""
    if not isinstance(value, str) or "\n" in value:
        raise StorageError(f"Giá trị không hợp lệ / invalid string literal: {value!r}")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def time_condition(t_start_ns: int | None, t_end_ns: int | None) -> list[str]:
    """``time >= start`` and ``time < end`` (integers are nanoseconds in InfluxQL)."""
    conds = []
    if t_start_ns is not None:
        conds.append(f"time >= {int(t_start_ns)}")
    if t_end_ns is not None:
        conds.append(f"time < {int(t_end_ns)}")
    return conds


def tag_condition(tags: Mapping[str, str | Sequence[str]] | None) -> list[str] | None:
    """One condition per tag key, ORing the accepted values; ``None`` if a list is empty
    (nothing can match)."""
    conds: list[str] = []
    for key, accepted in (tags or {}).items():
        values = [accepted] if isinstance(accepted, str) else list(accepted)
        if not values:
            return None
        # ``::tag`` so a field that happens to share the key's name is never compared.
        ors = " OR ".join(f"{quote_ident(key)}::tag = {quote_string(v)}" for v in values)
        conds.append(f"({ors})" if len(values) > 1 else ors)
    return conds
