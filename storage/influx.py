"""The InfluxDB backend, over the v1 HTTP API: line protocol on ``/write``, InfluxQL
on ``/query``.

One code path for InfluxDB 1.x, 2.x and 3.x
-------------------------------------------
InfluxDB 1.x serves ``/write`` and ``/query`` natively (tested here against
Debian's ``influxd`` 1.6.7). InfluxDB 2.x and 3.x serve the same two endpoints as
their *v1-compatibility API*, so this module talks to all three without a second
client:

- **Database and retention policy → bucket.** 2.x stores data in buckets; a
  *DBRP mapping* names the bucket that a v1 ``db`` (and optional ``rp``) refers to.
  Create it once on the server, e.g.
  ``influx v1 dbrp create --db rfwatch --rp autogen --bucket-id <id> --default``,
  then set ``database`` (and ``retention_policy``) here as for 1.x. In 3.x
  (Core/Enterprise) the ``db`` parameter names the 3.x database directly: leave
  ``retention_policy`` unset. 3.x also refuses a tag and a field of the same name
  in one measurement (:mod:`storage.names` never does that). ``CREATE DATABASE``
  is not available through the compatibility APIs: set ``create_database=False``
  there and create the bucket/database with the server's own tools.
- **Authentication.** 1.x with auth on takes ``username``/``password`` (sent as the
  ``u``/``p`` query parameters). 2.x/3.x take an API token, either as ``password``
  (any ``username``; the v1 compatibility convention) or as ``token``, which is
  sent as an ``Authorization: Token <token>`` header.
- **Deletes** use InfluxQL ``DELETE FROM ... WHERE``, which 1.x and 2.x (through
  the v1 API) accept; 3.x does not delete through InfluxQL: use the database's
  retention period there (see :meth:`InfluxTimeSeries.apply_retention`).
- Queries use the ``::field``/``::tag`` casts of InfluxQL, so a tag and a field that
  share a name are never confused.

Failures
--------
Connection errors and 5xx answers are retried with exponential back-off
(``backoff_s * 2**attempt``, capped at ``max_backoff_s``, ``max_retries`` times);
re-sending a batch is safe because writing the same series and time again
overwrites. 4xx answers are not retried: they raise :class:`StorageError` with
InfluxDB's own message. A missing database is created on first write when
``create_database`` is true (1.x).
"""

from __future__ import annotations

import contextlib
import gzip as gzip_lib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from dsp.errors import StorageError
from storage.influxql import quote_ident, tag_condition, time_condition
from storage.lineprotocol import LineProtocolEncoder
from storage.timeseries import Aggregate, FieldValue, Point, Row, TimeSeriesStore
from storage.validation import check_query_args

__all__ = ["InfluxTimeSeries"]


class InfluxTimeSeries(TimeSeriesStore):
    """Time series in InfluxDB through its v1 HTTP API.

    Parameters
    ----------
    url:
        Base URL, e.g. ``http://127.0.0.1:8086``.
    database, retention_policy:
        The v1 database and retention policy (``None``: the database's default).
    username, password:
        1.x credentials, or any name and a 2.x/3.x token as password.
    token:
        A 2.x/3.x API token, sent as ``Authorization: Token``.
    batch_size:
        Points per ``/write`` request.
    gzip:
        Compress write bodies (level 1: most of the gain for little CPU).
    create_database:
        Create the database when a write finds it missing (1.x only).
    timeout_s:
        Per-request timeout, seconds.
    max_retries, backoff_s, max_backoff_s:
        Retry policy for connection errors and 5xx answers.
    sleep:
        How to wait between retries (injected so tests need not wait).
    """

    def __init__(
        self,
        url: str,
        *,
        database: str,
        retention_policy: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        batch_size: int = 5000,
        gzip: bool = True,
        create_database: bool = True,
        timeout_s: float = 10.0,
        max_retries: int = 4,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if not database:
            raise ValueError("database must be given")
        self.url = url.rstrip("/")
        self.database = database
        self.retention_policy = retention_policy
        self.batch_size = batch_size
        self.gzip = gzip
        self.create_database = create_database
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._auth_params: dict[str, str] = {}
        if username is not None:
            self._auth_params["u"] = username
        if password is not None:
            self._auth_params["p"] = password
        headers = {"User-Agent": "rfwatch"}
        if token is not None:
            headers["Authorization"] = f"Token {token}"
        self._client = httpx.Client(base_url=self.url, timeout=timeout_s, headers=headers)
        self._encoder = LineProtocolEncoder()
        self._field_types: dict[str, dict[str, str]] = {}
        self._executor: ThreadPoolExecutor | None = None

    # -- HTTP ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retries: int | None = None,
    ) -> httpx.Response:
        """One request with the retry policy; 4xx raises at once with InfluxDB's message."""
        retries = self.max_retries if retries is None else retries
        all_params = {**self._auth_params, **(params or {})}
        last = ""
        for attempt in range(retries + 1):
            try:
                resp = self._client.request(
                    method, path, params=all_params, data=data, content=content, headers=headers
                )
            except httpx.TransportError as err:
                last = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code < 400:
                    return resp
                if resp.status_code < 500:
                    raise _client_error(what, resp)
                last = f"HTTP {resp.status_code}: {_influx_message(resp)}"
            if attempt < retries:
                self._sleep(min(self.max_backoff_s, self.backoff_s * 2**attempt))
        raise StorageError(
            f"InfluxDB không phản hồi / InfluxDB unavailable at {self.url} ({what}) "
            f"after {retries + 1} attempts: {last}"
        )

    def _query_raw(self, q: str, *, what: str) -> list[dict[str, Any]]:
        """Run InfluxQL; return the ``series`` of the first statement (errors raise)."""
        resp = self._request(
            "POST",
            "/query",
            what=what,
            params={"db": self.database, "epoch": "ns"},
            data={"q": q},
        )
        try:
            body = resp.json()
        except ValueError as err:
            raise StorageError(
                f"Trả lời không phải JSON / InfluxDB answered {what} with non-JSON: "
                f"{resp.text[:200]!r}"
            ) from err
        if "error" in body:
            raise StorageError(f"InfluxDB từ chối / InfluxDB refused {what}: {body['error']}")
        results = body.get("results") or [{}]
        result = results[0]
        if "error" in result:
            raise StorageError(f"InfluxDB từ chối / InfluxDB refused {what}: {result['error']}")
        return result.get("series") or []

    def ping(self, *, retries: int = 0) -> str:
        """The server's version (``X-Influxdb-Version``); raises StorageError if down."""
        resp = self._request("GET", "/ping", what="ping", retries=retries)
        return resp.headers.get("X-Influxdb-Version", "unknown")

    def database_names(self) -> list[str]:
        """``SHOW DATABASES`` (on 2.x/3.x: the databases the DBRP mappings expose)."""
        series = self._query_raw("SHOW DATABASES", what="SHOW DATABASES")
        return [str(v[0]) for s in series for v in (s.get("values") or [])]

    def ensure_database(self) -> None:
        """``CREATE DATABASE`` (a no-op when it exists; 1.x only)."""
        self._query_raw(f"CREATE DATABASE {quote_ident(self.database)}", what="CREATE DATABASE")

    # -- writing ---------------------------------------------------------------------

    def write(self, points: Iterable[Point]) -> int:
        params = {"db": self.database, "precision": "ns"}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if self.gzip:
            headers["Content-Encoding"] = "gzip"
        written = 0
        held: tuple[int, bytes] | None = None  # encoded, not yet sent
        in_flight: Future[int] | None = None
        try:
            # Pipelined: while one batch is on the wire (a sender thread; the socket wait
            # releases the GIL) the next one is encoded here. One batch in flight at most,
            # and each waits for the one before, so batches land in order (later wins).
            for n, body in self._encoder.batches(points, self.batch_size):
                if self.gzip:
                    body = gzip_lib.compress(body, compresslevel=1)
                if held is not None:
                    if in_flight is not None:
                        written += in_flight.result()
                    in_flight = self._sender().submit(self._send, *held, params, headers)
                held = (n, body)
            if in_flight is not None:
                written += in_flight.result()
                in_flight = None
            if held is not None:
                # A single batch (the usual small write) never touches the thread.
                written += self._send(*held, params, headers)
        finally:
            if in_flight is not None:
                # Leaving on an error: let the batch on the wire finish, never orphan it.
                with contextlib.suppress(Exception):
                    in_flight.result()
        return written

    def _sender(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="influx-write")
        return self._executor

    def _send(self, n: int, body: bytes, params: dict[str, str], headers: dict[str, str]) -> int:
        self._write_body(body, params, headers)
        return n

    def _write_body(self, body: bytes, params: dict[str, str], headers: dict[str, str]) -> None:
        try:
            self._request("POST", "/write", what="write", params=params, content=body,
                          headers=headers)
        except StorageError as err:
            if not (self.create_database and "database not found" in str(err)):
                raise
            self.ensure_database()
            self._request("POST", "/write", what="write", params=params, content=body,
                          headers=headers)

    # -- reading ---------------------------------------------------------------------

    def _source(self, measurement: str) -> str:
        if self.retention_policy:
            return ".".join(
                quote_ident(x) for x in (self.database, self.retention_policy, measurement)
            )
        return quote_ident(measurement)

    def field_types(self, measurement: str, *, refresh: bool = False) -> dict[str, str]:
        """``{field: "float"|"integer"|"string"|"boolean"}`` from ``SHOW FIELD KEYS``."""
        if refresh or measurement not in self._field_types:
            series = self._query_raw(
                f"SHOW FIELD KEYS FROM {self._source(measurement)}", what="SHOW FIELD KEYS"
            )
            types: dict[str, str] = {}
            for s in series:
                for key, ftype in s.get("values") or []:
                    types[key] = ftype
            self._field_types[measurement] = types
        return self._field_types[measurement]

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
        tag_conds = tag_condition(tags)
        if tag_conds is None:
            return []
        field = quote_ident(field_name) + "::field"
        select = f"{aggregate}({field})" if aggregate else field
        where = " AND ".join(time_condition(t_start_ns, t_end_ns) + tag_conds)
        q = f"SELECT {select} FROM {self._source(measurement)} WHERE {where}"
        groups = [f"time({int(window_ns)}ns)"] if window_ns else []
        groups += [quote_ident(g) for g in group_by]
        if groups:
            q += " GROUP BY " + ", ".join(groups)
        if window_ns:
            q += " fill(none)"
        series = self._query_raw(q, what=f"query of {measurement}.{field_name}")
        if not series:
            return []
        if aggregate in ("mean", "count"):
            as_float = aggregate == "mean"
        else:
            types = self.field_types(measurement)
            if field_name not in types:
                types = self.field_types(measurement, refresh=True)
            as_float = types.get(field_name) == "float"
        rows: list[Row] = []
        for s in series:
            group = {g: (s.get("tags") or {}).get(g, "") for g in group_by}
            for t_ns, value in s.get("values") or []:
                if value is None:
                    continue
                if aggregate and not window_ns:
                    # The contract: a whole-range aggregate is stamped with the range
                    # start (InfluxDB stamps selectors with the selected point's time).
                    t_ns = t_start_ns
                rows.append(Row(int(t_ns), _convert(value, as_float), group))
        rows.sort(key=lambda r: (r.t_ns, tuple(r.tags.values())))
        return rows

    # -- deleting --------------------------------------------------------------------

    def delete(
        self,
        measurement: str | None = None,
        *,
        before_ns: int | None = None,
        tags: Mapping[str, str | Sequence[str]] | None = None,
    ) -> None:
        tag_conds = tag_condition(tags)
        if tag_conds is None:
            return
        conds = tag_conds + time_condition(None, before_ns)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        # DELETE (not DROP SERIES) because 2.x's v1 API serves it too; a regex FROM
        # (a constant, nothing pasted) covers every measurement.
        source = "/.*/" if measurement is None else quote_ident(measurement)
        q = f"DELETE FROM {source}{where}"
        self._query_raw(q, what="delete")
        self._field_types.clear()

    def apply_retention(self, keep_ns: int, *, now_ns: int) -> None:
        """``DELETE`` everything older than ``now_ns - keep_ns`` (all measurements).

        On a server that keeps data by its own retention policy (an ``rp`` with a
        DURATION, a 2.x bucket's or a 3.x database's retention period) prefer that:
        it drops whole shards instead of deleting points.
        """
        self.delete(before_ns=int(now_ns) - int(keep_ns))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._client.close()


def _convert(value: FieldValue, as_float: bool) -> FieldValue:
    # JSON drops the ".0" of whole floats; put it back for float fields.
    if as_float and type(value) is int:
        return float(value)
    return value


def _influx_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:500] or resp.reason_phrase
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return resp.text.strip()[:500]


def _client_error(what: str, resp: httpx.Response) -> StorageError:
    return StorageError(
        f"InfluxDB từ chối / InfluxDB refused {what} (HTTP {resp.status_code}): "
        f"{_influx_message(resp)}"
    )

