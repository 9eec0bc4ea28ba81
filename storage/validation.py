"""What a point may hold: the rules both time-series backends enforce alike.

InfluxDB's line protocol cannot carry some values (NaN, ±inf, a tag value ending
in a backslash, a newline in a tag) and names some keys itself (``time``). The
embedded store refuses exactly the same things, so a point accepted by one
backend is accepted by the other and reads back the same.

Rules
-----
- Measurement, tag keys, field keys and tag values: non-empty text without
  backslashes or control characters (newline, tab, NUL, ...); keys are not
  ``time``; a measurement does not start with ``#`` (a comment line).
- Field values: ``float`` (finite), ``int`` (64-bit signed), ``bool`` or ``str``
  (at most 64 KiB of UTF-8). NumPy scalars are accepted and converted.
- ``t_ns``: an integer within InfluxDB's time range.
- At least one field per point.
"""

from __future__ import annotations

import math
import numbers
import unicodedata

import numpy as np

from dsp.errors import StorageError
from storage.timeseries import FieldValue

__all__ = [
    "AGGREGATES",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_STRING_BYTES",
    "T_NS_MAX",
    "T_NS_MIN",
    "check_name",
    "check_query_args",
    "check_t_ns",
    "check_tag_value",
    "field_type",
    "normalize_field",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: InfluxDB's valid time range (models.MinNanoTime / MaxNanoTime).
T_NS_MIN = INT64_MIN + 2
T_NS_MAX = INT64_MAX - 1
#: The aggregates both backends compute.
AGGREGATES: frozenset[str] = frozenset({"mean", "max", "min", "count", "last"})
#: InfluxDB's limit on one string field value.
MAX_STRING_BYTES = 64 * 1024


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def check_name(kind: str, name: object, *, measurement: str | None = None) -> str:
    """Check a measurement, tag key or field key; return it.

    ``kind`` is ``"measurement"``, ``"tag key"`` or ``"field key"`` (for messages).
    """
    where = f" (measurement {measurement!r})" if measurement is not None else ""
    if not isinstance(name, str) or not name:
        raise StorageError(f"Tên rỗng hoặc sai kiểu / {kind} must be non-empty text{where}: "
                           f"{name!r}")
    if "\\" in name or _has_control(name):
        raise StorageError(
            f"Tên có ký tự không cho phép / {kind} {name!r}{where} contains a backslash "
            "or a control character"
        )
    if kind == "measurement" and name.startswith("#"):
        raise StorageError(f"Tên đo không được bắt đầu bằng '#' / measurement {name!r} "
                           "must not start with '#'")
    if kind != "measurement" and name == "time":
        raise StorageError(f"'time' là tên dành riêng / {kind} 'time'{where} is reserved")
    return name


def check_tag_value(measurement: str, key: str, value: object) -> str:
    """Check one tag value; return it."""
    if not isinstance(value, str) or not value:
        raise StorageError(
            f"Giá trị tag rỗng hoặc sai kiểu / tag {key!r} of measurement {measurement!r} "
            f"must be non-empty text, got {value!r}"
        )
    if "\\" in value or _has_control(value):
        raise StorageError(
            f"Giá trị tag có ký tự không cho phép / tag {key!r} of measurement "
            f"{measurement!r}: {value!r} contains a backslash or a control character"
        )
    return value


def normalize_field(measurement: str, key: str, value: object) -> FieldValue:
    """Check a field value and convert NumPy scalars to Python ones.

    Raises
    ------
    StorageError
        For NaN or ±inf (naming ``measurement`` and ``key``), integers beyond
        64 bits, strings over 64 KiB, or any other type.
    """
    if isinstance(value, bool | str):
        pass
    elif isinstance(value, numbers.Integral):
        value = int(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise StorageError(
                f"Số nguyên vượt 64 bit / integer out of 64-bit range: measurement "
                f"{measurement!r}, field {key!r} = {value}"
            )
    elif isinstance(value, numbers.Real):
        value = float(value)
    elif isinstance(value, np.bool_):  # neither Integral nor Real
        return bool(value)
    else:
        raise StorageError(
            f"Kiểu trường không hỗ trợ / unsupported field type {type(value).__name__}: "
            f"measurement {measurement!r}, field {key!r}"
        )
    if type(value) is float and not math.isfinite(value):
        raise StorageError(
            f"Giá trị không hữu hạn / non-finite value refused: measurement {measurement!r}, "
            f"field {key!r} = {value!r} (InfluxDB cannot store NaN or ±inf)"
        )
    if type(value) is str and len(value.encode("utf-8")) > MAX_STRING_BYTES:
        raise StorageError(
            f"Chuỗi quá dài / string over 64 KiB: measurement {measurement!r}, field {key!r}"
        )
    return value


def field_type(value: FieldValue) -> str:
    """``"float"``, ``"int"``, ``"bool"`` or ``"str"`` for a normalized value."""
    t = type(value)
    if t is float:
        return "float"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    return "str"


def check_t_ns(measurement: str, t_ns: object) -> int:
    """Check a timestamp (UTC ns since the epoch); return it as ``int``."""
    if isinstance(t_ns, bool) or not isinstance(t_ns, numbers.Integral):
        raise StorageError(
            f"Thời gian phải là số nguyên ns / t_ns must be integer nanoseconds: "
            f"measurement {measurement!r}, got {t_ns!r}"
        )
    t = int(t_ns)
    if not T_NS_MIN <= t <= T_NS_MAX:
        raise StorageError(
            f"Thời gian ngoài phạm vi / t_ns out of range: measurement {measurement!r}, {t}"
        )
    return t


def check_query_args(aggregate: str | None, window_ns: int | None) -> None:
    """Check a query's ``aggregate`` and ``window_ns`` (a programming error raises
    ValueError)."""
    if aggregate is not None and aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {sorted(AGGREGATES)}, got {aggregate!r}")
    if window_ns is not None:
        if aggregate is None:
            raise ValueError("window_ns needs an aggregate")
        if int(window_ns) <= 0:
            raise ValueError(f"window_ns must be > 0, got {window_ns}")
