"""The embedded time-series store: one SQLite file (WAL), same behaviour as InfluxDB.

Used where there is no InfluxDB: the demo, a field kit, a border station. It
passes the same contract suite as :mod:`storage.influx`
(``tests/integration/test_timeseries_contract.py``).

Schema (designed for write speed)
---------------------------------
- ``series(id, measurement, tags)``: one row per measurement + tag set; ``tags``
  is canonical JSON (sorted keys), unique with the measurement.
- ``fields(id, measurement, name, type)``: each field's type is fixed on first
  write, as in InfluxDB; writing another type is a "field type conflict".
- ``points(series_id, field_id, t_ns, value)``: ``WITHOUT ROWID`` and keyed by
  ``(series_id, field_id, t_ns)``, so a write is one B-tree insert per field value,
  writing the same series, field and time again overwrites (InfluxDB's
  semantics), and a query is a range scan per series. ``value`` has no declared
  type (no affinity), so floats, ints and text are stored as given; booleans as
  0/1, restored from the field's type.

Series and field ids are cached in memory; one write call is one transaction
(all-or-nothing) with ``executemany`` of a prepared insert. ``synchronous=NORMAL``
with WAL: a crash of the process loses nothing committed; a power cut may lose
the last transactions but never corrupts the file.

Aggregates follow InfluxDB: windows start at multiples of ``window_ns`` since the
epoch; ``mean`` is a float; ``count`` an int; ``max``/``min`` keep the field's
type; ``last`` is the value with the latest time. ``mean``/``max``/``min`` of
string or boolean fields are refused, as InfluxDB refuses them.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from dsp.errors import StorageError
from storage.timeseries import Aggregate, FieldValue, Point, Row, TimeSeriesStore
from storage.validation import (
    INT64_MAX,
    INT64_MIN,
    T_NS_MAX,
    T_NS_MIN,
    check_name,
    check_query_args,
    check_t_ns,
    check_tag_value,
    field_type,
    normalize_field,
)

__all__ = ["EmbeddedTimeSeries"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (measurement, tags)
);
CREATE TABLE IF NOT EXISTS fields (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    UNIQUE (measurement, name)
);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    field_id INTEGER NOT NULL,
    t_ns INTEGER NOT NULL,
    value,
    PRIMARY KEY (series_id, field_id, t_ns)
) WITHOUT ROWID;
"""

_INSERT = "INSERT OR REPLACE INTO points (series_id, field_id, t_ns, value) VALUES (?, ?, ?, ?)"
#: Rows handed to one executemany call (bounds memory for huge writes).
_CHUNK_ROWS = 50_000
#: InfluxDB's names of our field types, for the same conflict message.
_INFLUX_TYPE = {"float": "float", "int": "integer", "bool": "boolean", "str": "string"}

_SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


class EmbeddedTimeSeries(TimeSeriesStore):
    """Time series in a SQLite file.

    Parameters
    ----------
    path:
        The database file (created with its folder if missing), or ``":memory:"``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are begun and ended explicitly below.
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as err:
            raise StorageError(
                f"Không mở được kho dữ liệu / cannot open the time-series file {self.path}: {err}"
            ) from err
        self._lock = threading.RLock()
        self._series_ids: dict[_SeriesKey, int] = {}
        self._fields: dict[tuple[str, str], tuple[int, str]] = {}

    # -- writing ---------------------------------------------------------------------

    def _series_id(self, measurement: str, tag_items: tuple[tuple[str, str], ...]) -> int:
        check_name("measurement", measurement)
        for key, value in tag_items:
            check_name("tag key", key, measurement=measurement)
            check_tag_value(measurement, key, value)
        tags_json = _tags_json(dict(tag_items))
        cur = self._conn.execute(
            "SELECT id FROM series WHERE measurement = ? AND tags = ?", (measurement, tags_json)
        )
        found = cur.fetchone()
        if found is not None:
            return int(found[0])
        cur = self._conn.execute(
            "INSERT INTO series (measurement, tags) VALUES (?, ?)", (measurement, tags_json)
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def _field(self, measurement: str, name: str, value: FieldValue) -> tuple[int, str]:
        check_name("field key", name, measurement=measurement)
        ftype = field_type(normalize_field(measurement, name, value))
        found = self._conn.execute(
            "SELECT id, type FROM fields WHERE measurement = ? AND name = ?", (measurement, name)
        ).fetchone()
        if found is not None:
            return int(found[0]), str(found[1])
        cur = self._conn.execute(
            "INSERT INTO fields (measurement, name, type) VALUES (?, ?, ?)",
            (measurement, name, ftype),
        )
        return int(cur.lastrowid), ftype  # type: ignore[arg-type]

    def write(self, points: Iterable[Point]) -> int:
        new_series: list[_SeriesKey] = []
        new_fields: list[tuple[str, str]] = []
        series_ids = self._series_ids
        fields = self._fields
        conn = self._conn
        written = 0
        rows: list[tuple[int, int, int, FieldValue]] = []
        with self._lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise StorageError(
                    f"Không ghi được / cannot start a write on {self.path}: {err}"
                ) from err
            try:
                # Hot loop: plain local lookups, fast paths by exact type.
                for point in points:
                    measurement = point.measurement
                    tag_items = tuple(point.tags.items())
                    skey = (measurement, tag_items)
                    sid = series_ids.get(skey)
                    if sid is None:
                        sid = self._series_id(measurement, tuple(sorted(tag_items)))
                        series_ids[skey] = sid
                        new_series.append(skey)
                    t_ns = point.t_ns
                    if type(t_ns) is not int or not T_NS_MIN <= t_ns <= T_NS_MAX:
                        t_ns = check_t_ns(measurement, t_ns)
                    if not point.fields:
                        raise StorageError(
                            f"Điểm không có trường / a point needs at least one field: "
                            f"measurement {measurement!r}"
                        )
                    for name, value in point.fields.items():
                        fkey = (measurement, name)
                        known = fields.get(fkey)
                        if known is None:
                            known = self._field(measurement, name, value)
                            fields[fkey] = known
                            new_fields.append(fkey)
                        fid, ftype = known
                        vtype = type(value)
                        if vtype is float and ftype == "float":
                            if not math.isfinite(value):
                                normalize_field(measurement, name, value)  # raises
                        elif vtype is int and ftype == "int":
                            if not INT64_MIN <= value <= INT64_MAX:
                                normalize_field(measurement, name, value)
                        else:
                            value = _slow_value(measurement, name, value, ftype)
                        rows.append((sid, fid, t_ns, value))
                    written += 1
                    if len(rows) >= _CHUNK_ROWS:
                        conn.executemany(_INSERT, rows)
                        rows = []
                if rows:
                    conn.executemany(_INSERT, rows)
                conn.execute("COMMIT")
            except BaseException as err:
                if conn.in_transaction:  # SQLite may have rolled back on its own
                    conn.execute("ROLLBACK")
                for skey in new_series:
                    series_ids.pop(skey, None)
                for fkey in new_fields:
                    fields.pop(fkey, None)
                if isinstance(err, sqlite3.Error):
                    raise StorageError(
                        f"Ghi thất bại / write to {self.path} failed: {err}"
                    ) from err
                raise
        return written

    # -- reading ---------------------------------------------------------------------

    def _matching_series(
        self, measurement: str | None, tags: Mapping[str, str | Sequence[str]] | None
    ) -> dict[int, dict[str, str]]:
        """``{series_id: tags}`` of ``measurement`` (all if None) whose tags match."""
        if measurement is None:
            cur = self._conn.execute("SELECT id, tags FROM series")
        else:
            cur = self._conn.execute(
                "SELECT id, tags FROM series WHERE measurement = ?", (measurement,)
            )
        accepted = {
            key: {want} if isinstance(want, str) else set(want)
            for key, want in (tags or {}).items()
        }
        out: dict[int, dict[str, str]] = {}
        for sid, tags_json in cur:
            series_tags = json.loads(tags_json)
            # A missing tag matches '' (as in InfluxQL).
            if all(series_tags.get(k, "") in ok for k, ok in accepted.items()):
                out[int(sid)] = series_tags
        return out

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
        check_query_args(aggregate, window_ns)
        with self._lock, self._errors("query"):
            found = self._conn.execute(
                "SELECT id, type FROM fields WHERE measurement = ? AND name = ?",
                (measurement, field_name),
            ).fetchone()
            if found is None:
                return []
            fid, ftype = int(found[0]), str(found[1])
            if aggregate in ("mean", "max", "min") and ftype in ("str", "bool"):
                raise StorageError(
                    f"Không tính được {aggregate} / {aggregate}() of the {ftype} field "
                    f"{measurement}.{field_name} is not supported"
                )
            groups: dict[tuple[str, ...], list[int]] = {}
            for sid, series_tags in self._matching_series(measurement, tags).items():
                gkey = tuple(series_tags.get(g, "") for g in group_by)
                groups.setdefault(gkey, []).append(sid)
            rows: list[Row] = []
            for gkey, sids in groups.items():
                group_tags = dict(zip(group_by, gkey, strict=True))
                for t_ns, value in self._group_rows(
                    sids, fid, int(t_start_ns), int(t_end_ns), aggregate, window_ns
                ):
                    if ftype == "bool" and aggregate != "count":
                        value = bool(value)
                    elif ftype == "float" and aggregate != "count" and type(value) is int:
                        value = float(value)
                    rows.append(Row(int(t_ns), value, group_tags))
        rows.sort(key=lambda r: (r.t_ns, tuple(r.tags.values())))
        return rows

    def _group_rows(
        self,
        sids: list[int],
        fid: int,
        t_start_ns: int,
        t_end_ns: int,
        aggregate: str | None,
        window_ns: int | None,
    ) -> list[tuple[int, FieldValue]]:
        # Series ids are ints we read from the table, so inlining them is safe.
        where = (
            f"series_id IN ({','.join(str(int(s)) for s in sids)}) AND field_id = ? "
            "AND t_ns >= ? AND t_ns < ?"
        )
        args: tuple[int, ...] = (fid, t_start_ns, t_end_ns)
        if aggregate is None:
            return self._conn.execute(
                f"SELECT t_ns, value FROM points WHERE {where} ORDER BY t_ns", args
            ).fetchall()
        if aggregate == "last":
            # SQLite: a bare column next to max() comes from the row holding the max.
            expr = "value, max(t_ns)"
        else:
            expr = {"mean": "avg(value)", "max": "max(value)", "min": "min(value)",
                    "count": "count(value)"}[aggregate]
        if window_ns is None:
            out = self._conn.execute(
                f"SELECT count(*), {expr} FROM points WHERE {where}", args
            ).fetchone()
            return [] if not out or out[0] == 0 else [(t_start_ns, out[1])]
        w = int(window_ns)
        # Window start: the multiple of w at or below t_ns (floor, also for t < 0).
        win = f"(t_ns - (((t_ns % {w}) + {w}) % {w}))"
        return [
            (r[0], r[1])
            for r in self._conn.execute(
                f"SELECT {win} AS win, {expr} FROM points WHERE {where} "
                "GROUP BY win ORDER BY win",
                args,
            )
        ]

    # -- deleting --------------------------------------------------------------------

    def delete(
        self,
        measurement: str | None = None,
        *,
        before_ns: int | None = None,
        tags: Mapping[str, str | Sequence[str]] | None = None,
    ) -> None:
        with self._lock, self._errors("delete"):
            sids = list(self._matching_series(measurement, tags))
            if not sids:
                return
            id_list = ",".join(str(s) for s in sids)
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if before_ns is None:
                    self._conn.execute(f"DELETE FROM points WHERE series_id IN ({id_list})")
                    self._conn.execute(f"DELETE FROM series WHERE id IN ({id_list})")
                else:
                    self._conn.execute(
                        f"DELETE FROM points WHERE series_id IN ({id_list}) AND t_ns < ?",
                        (int(before_ns),),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            if before_ns is None:
                gone = set(sids)
                self._series_ids = {k: v for k, v in self._series_ids.items() if v not in gone}

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """SQLite errors become StorageError naming the file."""
        try:
            yield
        except sqlite3.Error as err:
            raise StorageError(f"Lỗi kho nhúng / {what} on {self.path} failed: {err}") from err

    def apply_retention(self, keep_ns: int, *, now_ns: int) -> None:
        self.delete(before_ns=int(now_ns) - int(keep_ns))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _tags_json(tags: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(tags.items())), ensure_ascii=False, separators=(",", ":"))


def _slow_value(measurement: str, name: str, value: object, ftype: str) -> FieldValue:
    value = normalize_field(measurement, name, value)
    vtype = field_type(value)
    if vtype != ftype:
        raise StorageError(
            f"Xung đột kiểu trường / field type conflict: input field {name!r} on measurement "
            f"{measurement!r} is type {_INFLUX_TYPE[vtype]}, already exists as type "
            f"{_INFLUX_TYPE[ftype]}"
        )
    return int(value) if vtype == "bool" else value
