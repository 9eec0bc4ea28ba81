"""The time-series interface: one small API, two backends (InfluxDB, embedded SQLite).

Both backends pass the same contract suite (tests/integration/test_timeseries_contract.py).
Measurement, tag and field names are constants in :mod:`storage.names`.

Semantics
---------
- A point is (measurement, tags, fields, ``t_ns``). Tags are strings (bounded
  cardinality: ids, bands, channels — never free text); fields are float, int,
  bool or str. NaN and ±inf fields are refused with :class:`dsp.errors.StorageError`
  naming the measurement and field (InfluxDB cannot store them).
- Writing the same (measurement, tags, t_ns) again overwrites the fields given,
  as InfluxDB does; this makes re-delivered batches idempotent.
- ``query`` returns rows in time order. With ``aggregate`` and ``window_ns`` the rows
  are windows aligned to multiples of ``window_ns`` since the epoch (InfluxDB's
  ``GROUP BY time()``), ``t_ns`` being the window start; empty windows are omitted.
  Without ``window_ns`` the aggregate covers the whole range (``t_ns`` = range start).
  ``group_by`` splits rows per value of those tags.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Aggregate", "FieldValue", "Point", "Row", "TimeSeriesStore"]

FieldValue = float | int | bool | str
Aggregate = Literal["mean", "max", "min", "count", "last"]


@dataclass(frozen=True, slots=True)
class Point:
    """One time-series point. ``t_ns``: UTC nanoseconds since the epoch."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    t_ns: int


@dataclass(frozen=True, slots=True)
class Row:
    """One result row: a time, the group's tag values, and the value of the field."""

    t_ns: int
    value: FieldValue | None
    tags: Mapping[str, str] = field(default_factory=dict)


class TimeSeriesStore(ABC):
    """Write points in batches, query them back, delete old ones."""

    @abstractmethod
    def write(self, points: Iterable[Point]) -> int:
        """Write points (batched internally); return how many were written.

        All-or-nothing per call for the embedded store; for InfluxDB each batch of
        ``batch_size`` points is retried on 5xx/connection errors with back-off.
        """

    @abstractmethod
    def query(
        self,
        measurement: str,
        field_name: str,
        *,
        t_start_ns: int,
        t_end_ns: int,
        tags: Mapping[str, str | Sequence[str]] | None = None,
        aggregate: Aggregate | None = None,
        window_ns: int | None = None,
        group_by: Sequence[str] = (),
    ) -> list[Row]:
        """Rows of ``field_name`` in ``[t_start_ns, t_end_ns)`` whose tags match ``tags``
        (a value or a list of accepted values per tag key)."""

    @abstractmethod
    def delete(
        self,
        measurement: str | None = None,
        *,
        before_ns: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Delete points (of one measurement or all) older than ``before_ns``."""

    @abstractmethod
    def apply_retention(self, keep_ns: int, *, now_ns: int) -> None:
        """Drop everything older than ``now_ns - keep_ns`` (the retention policy)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> TimeSeriesStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
