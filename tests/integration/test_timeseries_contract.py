"""One contract, two backends: the embedded SQLite store and a real influxd.

Every test taking ``store`` runs on both (the influx case on a fresh database from
the ``influx_database`` fixture); ``both`` gives one of each so their answers on the
same data can be compared with each other and with NumPy on the raw data.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dsp.errors import StorageError
from storage import open_timeseries
from storage.embedded import EmbeddedTimeSeries
from storage.influx import InfluxTimeSeries
from storage.timeseries import Point, Row, TimeSeriesStore

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z
S = 1_000_000_000
ALL = {"t_start_ns": 0, "t_end_ns": 2**62}


def _open(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> TimeSeriesStore:
    if kind == "embedded":
        return open_timeseries("embedded", path=tmp_path / "ts.sqlite")
    return open_timeseries(
        "influx",
        influx_url=request.getfixturevalue("influx_url"),
        database=request.getfixturevalue("influx_database"),
        batch_size=5000,
    )


@pytest.fixture(params=["embedded", pytest.param("influx", marks=pytest.mark.influx)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    s = _open(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture
def both(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TimeSeriesStore, TimeSeriesStore]]:
    emb, inf = _open("embedded", request, tmp_path), _open("influx", request, tmp_path)
    yield emb, inf
    emb.close()
    inf.close()


def _count(store: TimeSeriesStore, measurement: str, field: str, **kw: object) -> int:
    rows = store.query(measurement, field, **ALL, aggregate="count", **kw)  # type: ignore[arg-type]
    return int(rows[0].value) if rows else 0  # type: ignore[arg-type]


# -- names, tags and values ------------------------------------------------------------

AWKWARD_TAGS = [
    "Lạng Sơn",
    "Đồng Đăng, cửa khẩu Hữu Nghị",
    "a=b",
    'say "hi"',
    "it's",
    " leading and trailing ",
    "Cao Lộc=1,2 \"x\" 'y'",
]


def test_awkward_tag_values_round_trip(store: TimeSeriesStore) -> None:
    points = [
        Point("channel_power", {"station": tag, "plan": "fm"}, {"power_dbm": -60.0 - i}, T0 + i)
        for i, tag in enumerate(AWKWARD_TAGS)
    ]
    assert store.write(points) == len(AWKWARD_TAGS)
    rows = store.query("channel_power", "power_dbm", **ALL, group_by=["station"])
    assert [(r.tags["station"], r.value, r.t_ns) for r in rows] == [
        (tag, -60.0 - i, T0 + i) for i, tag in enumerate(AWKWARD_TAGS)
    ]
    for i, tag in enumerate(AWKWARD_TAGS):
        (row,) = store.query("channel_power", "power_dbm", **ALL, tags={"station": tag})
        assert row.value == -60.0 - i


def test_awkward_measurement_and_field_names(store: TimeSeriesStore) -> None:
    point = Point('đo "lường", thử', {'khóa "tag"': "giá trị"}, {"công suất=dBm": 1.5}, T0)
    store.write([point])
    (row,) = store.query(
        point.measurement, "công suất=dBm", **ALL, tags={'khóa "tag"': "giá trị"},
        group_by=['khóa "tag"'],
    )
    assert row == Row(T0, 1.5, {'khóa "tag"': "giá trị"})


def test_field_types_round_trip(store: TimeSeriesStore) -> None:
    fields = {"f": -71.0, "i": -(2**62), "b": True, "s": 'chuỗi "Việt" \\ ok'}
    store.write([Point("station_health", {"station": "A"}, fields, T0)])
    for name, value in fields.items():
        (row,) = store.query("station_health", name, **ALL)
        assert row.value == value
        assert type(row.value) is type(value)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_refused_and_nothing_written(store: TimeSeriesStore, bad: float) -> None:
    good = Point("noise_floor", {"station": "A"}, {"psd_dbm_hz": -170.0}, T0)
    nasty = Point("noise_floor", {"station": "A"}, {"psd_dbm_hz": bad}, T0 + 1)
    with pytest.raises(StorageError, match=r"'noise_floor'.*'psd_dbm_hz'"):
        store.write([good, nasty])
    assert store.query("noise_floor", "psd_dbm_hz", **ALL) == []


def test_nanosecond_timestamps_round_trip_exactly(store: TimeSeriesStore) -> None:
    rng = np.random.default_rng(7)
    times = sorted({int(t) for t in rng.integers(0, 2**62, size=200)} | {1, T0 + 123_456_789})
    store.write(Point("emission", {"station": "A"}, {"f_hz": float(i)}, t) for i, t in
                enumerate(times))
    rows = store.query("emission", "f_hz", t_start_ns=0, t_end_ns=2**62)
    assert [r.t_ns for r in rows] == times
    assert [r.value for r in rows] == [float(i) for i in range(len(times))]


def test_query_range_is_half_open(store: TimeSeriesStore) -> None:
    store.write(Point("spectrum", {"station": "A"}, {"power_dbm": float(i)}, T0 + i)
                for i in range(10))
    rows = store.query("spectrum", "power_dbm", t_start_ns=T0 + 2, t_end_ns=T0 + 5)
    assert [r.t_ns for r in rows] == [T0 + 2, T0 + 3, T0 + 4]


def test_batch_of_100k_points(store: TimeSeriesStore) -> None:
    n = 100_000
    points = (
        Point("spectrum", {"station": f"S{i % 10}", "band": "fm", "f_bin": str(i % 100)},
              {"power_dbm": -90.0 + (i % 37) * 0.5}, T0 + i * 1000)
        for i in range(n)
    )
    assert store.write(points) == n
    assert _count(store, "spectrum", "power_dbm") == n
    per_station = store.query("spectrum", "power_dbm", **ALL, aggregate="count",
                              group_by=["station"])
    assert [(r.tags["station"], r.value) for r in per_station] == [
        (f"S{k}", n // 10) for k in range(10)
    ]


# -- overwrite, filters, deletion ------------------------------------------------------


def test_same_series_and_time_overwrites_given_fields(store: TimeSeriesStore) -> None:
    tags = {"station": "A", "plan": "fm", "channel": "7"}
    store.write([Point("channel_power", tags, {"power_dbm": -50.0, "e_dbuv_m": 60.0}, T0)])
    store.write([Point("channel_power", tags, {"power_dbm": -40.0}, T0)])
    assert [r.value for r in store.query("channel_power", "power_dbm", **ALL)] == [-40.0]
    assert [r.value for r in store.query("channel_power", "e_dbuv_m", **ALL)] == [60.0]
    # Other tags at the same time are another series: not overwritten.
    store.write([Point("channel_power", {**tags, "channel": "8"}, {"power_dbm": -30.0}, T0)])
    assert _count(store, "channel_power", "power_dbm") == 2
    # Within one write, the later point wins.
    store.write([Point("channel_power", tags, {"power_dbm": v}, T0) for v in (-1.0, -2.0)])
    assert store.query("channel_power", "power_dbm", **ALL, tags={"channel": "7"})[0].value == -2.0


def test_tag_filters_with_several_values(store: TimeSeriesStore) -> None:
    store.write(
        Point("occupancy", {"station": s, "band": b}, {"fraction": 0.1}, T0 + i)
        for i, (s, b) in enumerate(itertools.product("ABCD", ["fm", "vhf"]))
    )
    rows = store.query("occupancy", "fraction", **ALL, tags={"station": ["A", "C"], "band": "fm"},
                       group_by=["station", "band"])
    assert [r.tags for r in rows] == [{"station": "A", "band": "fm"},
                                      {"station": "C", "band": "fm"}]
    assert store.query("occupancy", "fraction", **ALL, tags={"station": []}) == []
    assert store.query("occupancy", "fraction", **ALL, tags={"station": "Z"}) == []


def test_injection_in_tag_values_is_harmless(store: TimeSeriesStore) -> None:
    evil = "x' OR \"station\" = 'A"
    drop = "'; DROP SERIES FROM /.*/; --"
    store.write([
        Point("spectrum", {"station": "A"}, {"power_dbm": -1.0}, T0),
        Point("spectrum", {"station": evil}, {"power_dbm": -2.0}, T0 + 1),
        Point("spectrum", {"station": drop}, {"power_dbm": -3.0}, T0 + 2),
    ])
    assert [r.value for r in store.query("spectrum", "power_dbm", **ALL,
                                         tags={"station": evil})] == [-2.0]
    assert store.query("spectrum", "power_dbm", **ALL, tags={"station": "' OR ''='"}) == []
    store.delete("spectrum", tags={"station": drop})
    assert [r.value for r in store.query("spectrum", "power_dbm", **ALL)] == [-1.0, -2.0]
    # A quoted identifier is only ever a name: this is just a measurement that is not there.
    assert store.query('spectrum" WHERE 1=1; DROP SERIES FROM /.*/; --', "power_dbm", **ALL) == []
    assert _count(store, "spectrum", "power_dbm") == 2


def test_delete_and_retention(store: TimeSeriesStore) -> None:
    store.write(
        Point(m, {"station": s}, {"v": float(i)}, T0 + i * S)
        for m in ("spectrum", "noise_floor")
        for s in ("A", "B")
        for i in range(10)
    )
    store.delete("spectrum", before_ns=T0 + 3 * S, tags={"station": "A"})
    assert _count(store, "spectrum", "v", tags={"station": "A"}) == 7
    assert _count(store, "spectrum", "v", tags={"station": "B"}) == 10
    store.apply_retention(5 * S, now_ns=T0 + 10 * S)
    assert [r.t_ns for r in store.query("noise_floor", "v", **ALL, tags={"station": "B"})] == [
        T0 + i * S for i in range(5, 10)
    ]
    assert _count(store, "spectrum", "v") == 10
    store.delete("spectrum", tags={"station": "B"})
    assert _count(store, "spectrum", "v", tags={"station": "B"}) == 0
    assert _count(store, "spectrum", "v", tags={"station": "A"}) == 5
    store.delete("spectrum")
    assert _count(store, "spectrum", "v") == 0
    assert _count(store, "noise_floor", "v") == 10
    store.delete()
    assert _count(store, "noise_floor", "v") == 0


def test_field_type_conflict_refused(store: TimeSeriesStore) -> None:
    store.write([Point("emission", {"station": "A"}, {"snr_db": 10.0}, T0)])
    with pytest.raises(StorageError, match="conflict"):
        store.write([Point("emission", {"station": "A"}, {"snr_db": 10}, T0 + 1)])


def test_mean_of_text_refused(store: TimeSeriesStore) -> None:
    store.write([Point("emission", {"station": "A"}, {"note": "x"}, T0)])
    with pytest.raises(StorageError):
        store.query("emission", "note", **ALL, aggregate="mean")
    assert store.query("emission", "note", **ALL, aggregate="last")[0].value == "x"
    assert store.query("emission", "note", **ALL, aggregate="count")[0].value == 1


def test_unknown_measurement_or_field_is_empty(store: TimeSeriesStore) -> None:
    assert store.query("nothing_here", "v", **ALL) == []
    assert store.query("nothing_here", "v", **ALL, aggregate="count") == []


# -- aggregates: embedded == influx == numpy --------------------------------------------

STATIONS = ["LS01", "LS02", "Đồng Đăng"]
BANDS = ["fm", "vhf"]


def _dataset(seed: int = 11) -> list[Point]:
    rng = np.random.default_rng(seed)
    n = 3000
    # Unique times over ~10 min (no ties, so `last` is well defined), ns resolution.
    times = T0 + np.sort(rng.choice(600 * S, size=n, replace=False))
    st_idx = rng.integers(0, len(STATIONS), n)
    band_idx = rng.integers(0, len(BANDS), n)
    power = rng.normal(-80.0, 6.0, n)
    ints = rng.integers(-1000, 1000, n)
    return [
        Point(
            "channel_power",
            {"station": STATIONS[s], "plan": BANDS[b]},
            {"power_dbm": float(p), "count_i": int(k)},
            int(t),
        )
        for t, s, b, p, k in zip(times, st_idx, band_idx, power, ints, strict=True)
    ]


def _numpy_reference(
    points: list[Point], field: str, aggregate: str, window_ns: int | None,
    group_by: tuple[str, ...], t_start: int, t_end: int, stations: list[str] | None,
) -> list[tuple[int, tuple[str, ...], float]]:
    t = np.array([p.t_ns for p in points], dtype=np.int64)
    v = np.array([p.fields[field] for p in points], dtype=np.float64)
    keep = (t >= t_start) & (t < t_end)
    if stations is not None:
        keep &= np.isin(np.array([p.tags["station"] for p in points]), stations)
    groups = np.array(["\x00".join(p.tags[g] for g in group_by) for p in points])
    win = (t // window_ns) * window_ns if window_ns else np.full_like(t, t_start)
    out = []
    for g in sorted(set(groups[keep])):
        for w in np.unique(win[keep & (groups == g)]):
            sel = keep & (groups == g) & (win == w)
            vals, times = v[sel], t[sel]
            value = {
                "mean": vals.mean, "max": vals.max, "min": vals.min,
                "count": lambda vals=vals: float(vals.size),
                "last": lambda vals=vals, times=times: vals[np.argmax(times)],
            }[aggregate]()
            out.append((int(w), tuple(g.split("\x00")) if group_by else (), float(value)))
    return sorted(out)


@pytest.mark.influx
def test_aggregates_agree_between_backends_and_numpy(
    both: tuple[TimeSeriesStore, TimeSeriesStore],
) -> None:
    embedded, influx = both
    points = _dataset()
    embedded.write(points)
    influx.write(points)
    t_start = T0 + 17 * S + 123  # not on a window boundary
    t_end = T0 + 580 * S
    checked = 0
    for aggregate, window_ns, group_by, stations, field in itertools.product(
        ["mean", "max", "min", "count", "last"],
        [None, 60 * S, 7 * S + 1],
        [(), ("station",), ("station", "plan")],
        [None, ["LS01", "Đồng Đăng"]],
        ["power_dbm", "count_i"],
    ):
        kw = dict(t_start_ns=t_start, t_end_ns=t_end, aggregate=aggregate, window_ns=window_ns,
                  group_by=group_by, tags={"station": stations} if stations else None)
        got_e = embedded.query("channel_power", field, **kw)  # type: ignore[arg-type]
        got_i = influx.query("channel_power", field, **kw)  # type: ignore[arg-type]
        label = f"{aggregate} {field} window={window_ns} by={group_by} stations={stations}"
        assert [(r.t_ns, r.tags) for r in got_e] == [(r.t_ns, r.tags) for r in got_i], label
        assert [type(r.value) for r in got_e] == [type(r.value) for r in got_i], label
        assert np.allclose([r.value for r in got_e], [r.value for r in got_i],
                           rtol=1e-12, atol=0), label
        ref = _numpy_reference(points, field, aggregate, window_ns, group_by, t_start, t_end,
                               stations)
        mine = sorted((r.t_ns, tuple(r.tags[g] for g in group_by), float(r.value))
                      for r in got_e)
        assert [(w, g) for w, g, _ in mine] == [(w, g) for w, g, _ in ref], label
        assert np.allclose([x for *_, x in mine], [x for *_, x in ref], rtol=1e-9), label
        checked += 1
    assert checked == 5 * 3 * 3 * 2 * 2


@pytest.mark.influx
def test_raw_rows_agree_between_backends(
    both: tuple[TimeSeriesStore, TimeSeriesStore],
) -> None:
    embedded, influx = both
    points = _dataset(seed=3)[:500]
    embedded.write(points)
    influx.write(points)
    for group_by in [(), ("plan",)]:
        got_e = embedded.query("channel_power", "power_dbm", **ALL, group_by=group_by)
        got_i = influx.query("channel_power", "power_dbm", **ALL, group_by=group_by)
        assert got_e == got_i
        assert len(got_e) == 500


# -- escaping through the real servers (property) --------------------------------------

_NAME = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" ,=\"'ạơĐđưỡ#")),
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\\"),
    ),
    min_size=1,
    max_size=10,
)
_COUNTER = itertools.count()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(measurement=_NAME, tag_key=_NAME, tag_value=_NAME, field_key=_NAME,
       value=st.floats(allow_nan=False, allow_infinity=False))
def test_names_round_trip_property(
    store: TimeSeriesStore, measurement: str, tag_key: str, tag_value: str, field_key: str,
    value: float,
) -> None:
    # One store serves every example; each example reads back only its own time.
    assume(not measurement.startswith("#"))
    assume("time" not in (tag_key, field_key) and tag_key != field_key)
    t = T0 + next(_COUNTER)
    store.write([Point(measurement, {tag_key: tag_value}, {field_key: value}, t)])
    rows = store.query(measurement, field_key, t_start_ns=t, t_end_ns=t + 1,
                       tags={tag_key: tag_value}, group_by=[tag_key])
    assert rows == [Row(t, value, {tag_key: tag_value})]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                           blacklist_characters="\x00"), max_size=40))
def test_string_fields_round_trip_property(store: TimeSeriesStore, text: str) -> None:
    t = T0 + next(_COUNTER)
    store.write([Point("notes", {"station": "A"}, {"text": text}, t)])
    assert store.query("notes", "text", t_start_ns=t, t_end_ns=t + 1) == [Row(t, text)]


# -- the InfluxDB client: retries, errors, options -------------------------------------


class _StubInflux:
    """A stand-in for THEIR server (never ours): answers from a script, records requests.

    Used only to drive our retry and error paths, which a healthy influxd cannot show.
    """

    def __init__(self, answers: list[tuple[int, bytes]]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, object]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                stub.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, payload = stub.answers.pop(0) if stub.answers else (204, b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _StubInflux:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_influx_write_retries_5xx_with_backoff_then_succeeds() -> None:
    sleeps: list[float] = []
    busy = json.dumps({"error": "engine busy"}).encode()
    with _StubInflux([(503, busy), (503, busy)]) as stub:
        store = InfluxTimeSeries(stub.url, database="rf", sleep=sleeps.append, backoff_s=0.1)
        n = store.write([Point("spectrum", {"station": "Lạng Sơn"}, {"power_dbm": -1.5}, 7)])
        store.close()
    assert n == 1
    assert sleeps == [0.1, 0.2]
    assert len(stub.requests) == 3
    # The same (gzipped) batch was sent each time.
    bodies = {r["body"] for r in stub.requests}
    assert bodies == {"spectrum,station=Lạng\\ Sơn power_dbm=-1.5 7".encode()}
    assert all("precision=ns" in str(r["path"]) for r in stub.requests)


def test_influx_gives_up_after_bounded_retries_on_5xx() -> None:
    sleeps: list[float] = []
    with _StubInflux([(500, b'{"error":"boom"}')] * 10) as stub:
        store = InfluxTimeSeries(stub.url, database="rf", sleep=sleeps.append, max_retries=3,
                                 backoff_s=1.0, max_backoff_s=3.0)
        with pytest.raises(StorageError, match=r"after 4 attempts.*boom"):
            store.write([Point("m", {}, {"v": 1.0}, 1)])
        store.close()
    assert sleeps == [1.0, 2.0, 3.0]
    assert len(stub.requests) == 4


def test_influx_4xx_not_retried_and_message_kept() -> None:
    sleeps: list[float] = []
    msg = b'{"error":"unable to parse \'x\': invalid field format"}'
    with _StubInflux([(400, msg)]) as stub:
        store = InfluxTimeSeries(stub.url, database="rf", sleep=sleeps.append)
        with pytest.raises(StorageError, match="HTTP 400.*invalid field format"):
            store.write([Point("m", {}, {"v": 1.0}, 1)])
        store.close()
    assert sleeps == []
    assert len(stub.requests) == 1


def test_influx_connection_refused_is_clear_after_bounded_retries() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    store = InfluxTimeSeries(f"http://127.0.0.1:{port}", database="rf", sleep=sleeps.append,
                             max_retries=2, backoff_s=0.5)
    with pytest.raises(StorageError, match=r"unavailable at .*after 3 attempts.*Connect"):
        store.write([Point("m", {}, {"v": 1.0}, 1)])
    assert sleeps == [0.5, 1.0]
    with pytest.raises(StorageError, match="unavailable"):
        store.ping()
    store.close()


def test_influx_auth_and_rp_are_sent() -> None:
    with _StubInflux([]) as stub:
        with InfluxTimeSeries(stub.url, database="rf", retention_policy="một tuần",
                              username="u1", password="p&w", gzip=False) as s1:
            s1.write([Point("m", {}, {"v": 1.0}, 1)])
        with InfluxTimeSeries(stub.url, database="rf", token="tok-123") as s2:
            s2.write([Point("m", {}, {"v": 1.0}, 1)])
    first, second = stub.requests
    params = httpx.URL(str(first["path"])).params
    assert (params["db"], params["rp"], params["u"], params["p"]) == ("rf", "một tuần", "u1", "p&w")
    assert "Content-Encoding" not in first["headers"]
    assert second["headers"]["Authorization"] == "Token tok-123"  # type: ignore[index]
    assert "u" not in httpx.URL(str(second["path"])).params


@pytest.mark.influx
def test_influx_ping_reports_version(influx_url: str) -> None:
    with InfluxTimeSeries(influx_url, database="unused") as s:
        assert s.ping().startswith("1.")


@pytest.mark.influx
def test_influx_creates_missing_database_on_first_write(influx_url: str,
                                                        influx_database: str) -> None:
    name = influx_database + "_auto"
    try:
        with InfluxTimeSeries(influx_url, database=name) as s:
            assert name not in s.database_names()
            s.write([Point("m", {}, {"v": 2.0}, T0)])
            assert name in s.database_names()
            assert [r.value for r in s.query("m", "v", **ALL)] == [2.0]
        with InfluxTimeSeries(influx_url, database=name + "x", create_database=False) as s:
            with pytest.raises(StorageError, match="database not found"):
                s.write([Point("m", {}, {"v": 2.0}, T0)])
    finally:
        for db in (name, name + "x"):
            httpx.post(f"{influx_url}/query", params={"q": f'DROP DATABASE "{db}"'})


@pytest.mark.influx
def test_influx_retention_policy_parameter(influx_url: str, influx_database: str) -> None:
    httpx.post(
        f"{influx_url}/query",
        params={"q": f'CREATE RETENTION POLICY "short" ON "{influx_database}" DURATION 1h '
                     "REPLICATION 1"},
    ).raise_for_status()
    import time

    now = time.time_ns()
    with InfluxTimeSeries(influx_url, database=influx_database, retention_policy="short",
                          gzip=False) as short:
        short.write([Point("m", {}, {"v": 3.0}, now)])
        assert [r.value for r in short.query("m", "v", **ALL)] == [3.0]
        # Outside the policy's hour: InfluxDB drops it and says so; we raise its message.
        with pytest.raises(StorageError, match="retention"):
            short.write([Point("m", {}, {"v": 4.0}, now - 3 * 3600 * S)])
    with InfluxTimeSeries(influx_url, database=influx_database) as default:
        assert default.query("m", "v", **ALL) == []


def test_factory_refuses_unknown_backend_and_missing_args(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="unknown"):
        open_timeseries("csv")  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="path"):
        open_timeseries("embedded")
    with pytest.raises(StorageError, match="URL"):
        open_timeseries("influx")
    store = open_timeseries("embedded", path=tmp_path / "new" / "dir" / "ts.sqlite")
    assert isinstance(store, EmbeddedTimeSeries)
    store.close()


@pytest.mark.influx
def test_influx_pipelined_batches_land_in_order(influx_url: str, influx_database: str) -> None:
    # 10 batches of 3 rewriting the same series and time: the last value must win.
    with InfluxTimeSeries(influx_url, database=influx_database, batch_size=3) as s:
        points = [Point("m", {"s": "a"}, {"v": float(i)}, T0 + (i % 2)) for i in range(30)]
        assert s.write(points) == 30
        assert [r.value for r in s.query("m", "v", **ALL)] == [28.0, 29.0]


def test_influx_error_mid_pipeline_raises_and_stops() -> None:
    conflict = b'{"error":"partial write: field type conflict"}'
    with _StubInflux([(204, b""), (400, conflict)]) as stub:
        with InfluxTimeSeries(stub.url, database="rf", batch_size=2) as s:
            with pytest.raises(StorageError, match="field type conflict"):
                s.write(Point("m", {}, {"v": float(i)}, i) for i in range(10))
    # Batches 1 and 2 went out; the failure stopped the rest (at most one more encoded).
    assert 2 <= len(stub.requests) <= 3


def test_influx_non_json_query_answer_is_a_storage_error() -> None:
    with _StubInflux([(200, b"<html>proxy login</html>")]) as stub:
        with InfluxTimeSeries(stub.url, database="rf") as s:
            with pytest.raises(StorageError, match="non-JSON.*proxy login"):
                s.query("m", "v", **ALL)
