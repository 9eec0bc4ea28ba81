"""InfluxDB line protocol: our own encoder.

Why our own: this is the hot path of ingest (every spectrum bin of every sweep
goes through it), and a generic client spends most of its time building
dictionaries and objects per point. Here escaped series keys and field keys are
cached (their cardinality is bounded by design, see :mod:`storage.names`), and
floats, ints and bools take a fast path by exact type.

Escaping (InfluxDB 1.x ``models/points.go``; the same in 2.x and 3.x):

- measurement: ``,`` and space get a backslash;
- tag keys, tag values, field keys: ``,``, ``=`` and space get a backslash;
- string field values: in double quotes, ``\\`` and ``"`` get a backslash;
- integers end in ``i``; booleans are ``true``/``false``; floats are Python's
  shortest round-trip ``repr``.

Names and tag values with backslashes or control characters cannot round-trip
through the protocol and are refused (:mod:`storage.validation`).

Examples
--------
>>> from storage.timeseries import Point
>>> enc = LineProtocolEncoder()
>>> print(enc.line(Point("spectrum", {"station": "Lạng Sơn 1", "band": "a=b,c"},
...                      {"power_dbm": -71.5, "n": 3, "ok": True}, 1)))
spectrum,band=a\\=b\\,c,station=Lạng\\ Sơn\\ 1 power_dbm=-71.5,n=3i,ok=true 1
>>> print(enc.line(Point("m", {}, {"note": 'say "hi"'}, 2)))
m note="say \\"hi\\"" 2
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from dsp.errors import StorageError
from storage.timeseries import Point
from storage.validation import (
    INT64_MAX,
    INT64_MIN,
    T_NS_MAX,
    T_NS_MIN,
    check_name,
    check_t_ns,
    check_tag_value,
    normalize_field,
)

__all__ = ["LineProtocolEncoder", "escape_measurement", "escape_tag", "quote_string_field"]

_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_TAG_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})


def escape_measurement(name: str) -> str:
    """Escape a measurement name for line protocol."""
    return name.translate(_MEASUREMENT_ESCAPES)


def escape_tag(text: str) -> str:
    """Escape a tag key, tag value or field key for line protocol."""
    return text.translate(_TAG_ESCAPES)


def quote_string_field(value: str) -> str:
    """A string field value, quoted and escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class LineProtocolEncoder:
    """Encodes :class:`Point` objects to line protocol, validating as it goes.

    Parameters
    ----------
    max_cached_series:
        Escaped series keys kept; the cache is emptied when it grows past this.
    """

    def __init__(self, max_cached_series: int = 200_000) -> None:
        self._max = max_cached_series
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        # Field keys are valid or not whatever the measurement: cache by key alone.
        self._field_keys: dict[str, str] = {}

    def _series_key(self, measurement: str, tags: Iterable[tuple[str, str]]) -> str:
        check_name("measurement", measurement)
        parts = [escape_measurement(measurement)]
        # Sorted tags are what InfluxDB stores; sending them sorted saves it the work.
        for key, value in sorted(tags):
            check_name("tag key", key, measurement=measurement)
            check_tag_value(measurement, key, value)
            parts.append(f"{escape_tag(key)}={escape_tag(value)}")
        return ",".join(parts)

    def _field_key(self, measurement: str, key: str) -> str:
        check_name("field key", key, measurement=measurement)
        escaped = escape_tag(key)
        self._field_keys[key] = escaped
        return escaped

    def line(self, point: Point) -> str:
        """One point as one line (no trailing newline)."""
        measurement = point.measurement
        tag_items = tuple(point.tags.items())
        cache_key = (measurement, tag_items)
        prefix = self._series.get(cache_key)
        if prefix is None:
            prefix = self._series_key(measurement, tag_items)
            if len(self._series) >= self._max:
                self._series.clear()
            self._series[cache_key] = prefix
        fields = point.fields
        if not fields:
            raise StorageError(
                f"Điểm không có trường / a point needs at least one field: "
                f"measurement {measurement!r}"
            )
        field_keys = self._field_keys
        parts = []
        for key, value in fields.items():
            fkey = field_keys.get(key)
            if fkey is None:
                fkey = self._field_key(measurement, key)
            # Fast paths by exact type; anything else is normalized first.
            vtype = type(value)
            if vtype is float:
                if not math.isfinite(value):
                    normalize_field(measurement, key, value)  # raises with the names
                parts.append(f"{fkey}={value!r}")
            elif vtype is int:
                if not INT64_MIN <= value <= INT64_MAX:
                    normalize_field(measurement, key, value)
                parts.append(f"{fkey}={value}i")
            else:
                parts.append(f"{fkey}={self._slow_value(measurement, key, value)}")
        t_ns = point.t_ns
        if type(t_ns) is not int or not T_NS_MIN <= t_ns <= T_NS_MAX:
            t_ns = check_t_ns(measurement, t_ns)
        return f"{prefix} {','.join(parts)} {t_ns}"

    @staticmethod
    def _slow_value(measurement: str, key: str, value: object) -> str:
        value = normalize_field(measurement, key, value)
        vtype = type(value)
        if vtype is bool:
            return "true" if value else "false"
        if vtype is int:
            return f"{value}i"
        if vtype is float:
            return repr(value)
        return quote_string_field(value)  # type: ignore[arg-type]

    def batches(self, points: Iterable[Point], batch_size: int) -> Iterator[tuple[int, bytes]]:
        """Yield ``(n_points, body)`` with at most ``batch_size`` lines per body (UTF-8).

        A bad point raises before the batch holding it is yielded.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        lines: list[str] = []
        line = self.line
        for point in points:
            lines.append(line(point))
            if len(lines) >= batch_size:
                yield len(lines), "\n".join(lines).encode("utf-8")
                lines = []
        if lines:
            yield len(lines), "\n".join(lines).encode("utf-8")
