"""The Grafana dashboards, as code: Python that builds the dashboard JSON.

``dashboards/json/*.json`` are generated from here (``rfwatch dashboards build``) and
kept in git so Grafana's file provisioning can read them; a test checks they are
what this module builds. Panels query the InfluxDB data source in InfluxQL
(measurement, tag and field names from :mod:`storage.names`); the cases panels query
the PostgreSQL data source (cases live in the relational database, not in InfluxDB).

Data sources are referenced through the template variables ``${datasource}``
(type influxdb) and ``${cases_db}`` (type postgres), so a Grafana whose data sources
have other names or uids still works: the operator picks them at the top of the page.
The provisioning files create both with the uids :data:`INFLUX_UID` and :data:`PG_UID`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from storage import names as n

__all__ = ["DASHBOARDS", "INFLUX_UID", "JSON_DIR", "PG_UID", "all_dashboards", "build",
           "panels", "write_json"]

INFLUX_UID = "rfwatch-influx"
PG_UID = "rfwatch-cases"
JSON_DIR = Path(__file__).resolve().parent / "json"
_INFLUX = {"type": "influxdb", "uid": "${datasource}"}
_PG = {"type": "grafana-postgresql-datasource", "uid": "${cases_db}"}
_STATION = f'"{n.TAG_STATION}" =~ /^$station$/'


def _q(*parts: str) -> str:
    return " ".join(parts)


def _ds_var(name: str, label: str, kind: str, uid: str) -> dict:
    return {"name": name, "label": label, "type": "datasource", "query": kind,
            "current": {"text": uid, "value": uid}, "hide": 0, "refresh": 1,
            "regex": "", "options": []}


def _tag_var(name: str, label: str, query: str, *, multi: bool = True) -> dict:
    return {"name": name, "label": label, "type": "query", "datasource": _INFLUX,
            "query": query, "definition": query, "refresh": 2, "sort": 1,
            "includeAll": multi, "multi": multi, "allValue": ".*" if multi else None,
            "current": {}, "hide": 0, "options": [], "regex": ""}


def _target(query: str, *, ref: str = "A", fmt: str = "time_series", alias: str = "") -> dict:
    t = {"refId": ref, "datasource": _INFLUX, "rawQuery": True, "query": query,
         "resultFormat": fmt}
    if alias:
        t["alias"] = alias
    return t


def _sql(sql: str, ref: str = "A", fmt: str = "time_series") -> dict:
    return {"refId": ref, "datasource": _PG, "rawQuery": True, "editorMode": "code",
            "rawSql": sql, "format": fmt}


def _panel(pid: int, title: str, kind: str, targets: list[dict], x: int, y: int, w: int,
           h: int, *, unit: str = "", description: str = "", options: dict | None = None,
           datasource: dict = _INFLUX) -> dict:
    p = {
        "id": pid, "type": kind, "title": title, "description": description,
        "datasource": datasource, "targets": targets,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": options or {},
    }
    return p


def _dashboard(uid: str, title: str, panel_list: list[dict], variables: list[dict],
               tags: list[str]) -> dict:
    return {
        "uid": uid, "title": title, "tags": ["rfwatch", *tags], "timezone": "utc",
        "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"}, "graphTooltip": 1,
        "templating": {"list": variables}, "annotations": {"list": []},
        "panels": panel_list, "links": [
            {"title": "rfwatch", "type": "dashboards", "tags": ["rfwatch"], "asDropdown": True}
        ],
    }


def _ds_vars(with_pg: bool = False) -> list[dict]:
    out = [_ds_var("datasource", "InfluxDB", "influxdb", INFLUX_UID)]
    if with_pg:
        out.append(_ds_var("cases_db", "Cases DB", "grafana-postgresql-datasource", PG_UID))
    return out


def _station_var() -> dict:
    return _tag_var("station", "Trạm / Station",
                    f'SHOW TAG VALUES FROM "{n.STATION_HEALTH}" WITH KEY = "{n.TAG_STATION}"')


def overview() -> dict:
    """Border overview: stations, health, gaps, alarms (unknown emitters)."""
    h = n.STATION_HEALTH
    w = f"{_STATION} AND $timeFilter"
    panel_list = [
        _panel(1, "Trạm đang báo cáo / Stations reporting", "stat", [_target(_q(
            f'SELECT count("{n.FIELD_OUTBOX_DEPTH}") FROM "{h}" WHERE {w}',
            f'GROUP BY "{n.TAG_STATION}"'), fmt="table")], 0, 0, 6, 4,
            description="Điểm sức khỏe mỗi trạm trong khoảng thời gian / health points per "
                        "station in the time range"),
        _panel(2, "Cảnh báo: phát xạ không rõ / Alarms: unknown emitters", "stat", [_target(_q(
            f'SELECT count("{n.FIELD_F_HZ}") FROM "{n.EMISSION}"',
            f"WHERE \"{n.TAG_CLASS}\" = 'unknown' AND {w}"))], 6, 0, 6, 4),
        _panel(3, "Hàng đợi / Outbox depth", "timeseries", [_target(_q(
            f'SELECT max("{n.FIELD_OUTBOX_DEPTH}") FROM "{h}" WHERE {w}',
            f'GROUP BY time($__interval), "{n.TAG_STATION}" fill(null)'),
            alias="$tag_station")], 12, 0, 12, 8, unit="short"),
        _panel(4, "Gián đoạn máy thu / Receiver gaps (s)", "timeseries", [_target(_q(
            f'SELECT max("gap_s") FROM "{h}" WHERE {w}',
            f'GROUP BY time($__interval), "{n.TAG_STATION}", "{n.TAG_RECEIVER}" fill(null)'),
            alias="$tag_station $tag_receiver")], 0, 4, 12, 8, unit="s"),
        _panel(5, "Quá tải ADC / ADC overloads", "timeseries", [_target(_q(
            f'SELECT max("{n.FIELD_OVERLOADS}") FROM "{h}" WHERE {w}',
            f'GROUP BY time($__interval), "{n.TAG_STATION}" fill(null)'),
            alias="$tag_station")], 12, 8, 12, 8, unit="short"),
        _panel(6, "Mẫu bị mất / Dropped samples", "timeseries", [_target(_q(
            f'SELECT max("{n.FIELD_DROPPED}") FROM "{h}" WHERE {w}',
            f'GROUP BY time($__interval), "{n.TAG_STATION}" fill(null)'),
            alias="$tag_station")], 0, 12, 12, 8, unit="short"),
        _panel(7, "Sai số tần số máy thu / Receiver frequency error (ppm)", "timeseries",
               [_target(_q(f'SELECT mean("{n.FIELD_PPM}") FROM "{h}" WHERE {w}',
                           f'GROUP BY time($__interval), "{n.TAG_STATION}", '
                           f'"{n.TAG_RECEIVER}" fill(null)'),
                        alias="$tag_station $tag_receiver")], 12, 16, 12, 8, unit="short"),
        _panel(8, "Phát xạ không rõ theo thời gian / Unknown emitters over time", "timeseries",
               [_target(_q(f'SELECT count("{n.FIELD_F_HZ}") FROM "{n.EMISSION}"',
                           f"WHERE \"{n.TAG_CLASS}\" = 'unknown' AND {w}",
                           f'GROUP BY time($__interval), "{n.TAG_STATION}" fill(none)'),
                        alias="$tag_station")], 0, 20, 12, 8, unit="short"),
    ]
    return _dashboard("rfwatch-overview", "rfwatch — Tổng quan biên giới / Border overview",
                      panel_list, [*_ds_vars(), _station_var()], ["overview"])


def station() -> dict:
    """One station: spectrum heatmap per band, channel power, noise floor."""
    band_var = _tag_var("band", "Băng / Band",
                        f'SHOW TAG VALUES FROM "{n.SPECTRUM}" WITH KEY = "{n.TAG_BAND}" '
                        f"WHERE {_STATION}", multi=False)
    station_var = _station_var()
    station_var.update(multi=False, includeAll=False, allValue=None)
    w = f'{_STATION} AND "{n.TAG_BAND}" =~ /^$band$/ AND $timeFilter'
    # Each panel asks for the dBFS and the dBm field: a station writes one or the other
    # (dBm only once its receiver is calibrated), so one of the two targets has data.
    spectrum = [
        _target(_q(f'SELECT max("{field}") FROM "{n.SPECTRUM}" WHERE {w}',
                   f'GROUP BY time($__interval), "{n.TAG_F_BIN}" fill(none)'),
                ref=ref, alias=f"$tag_f_bin {unit}")
        for ref, field, unit in (("A", n.FIELD_POWER_DBFS, "dBFS"), ("B", n.FIELD_POWER_DBM, "dBm"))
    ]
    channel = [
        _target(_q(f'SELECT mean("{field}") FROM "{n.CHANNEL_POWER}"',
                   f"WHERE {_STATION} AND $timeFilter",
                   f'GROUP BY time($__interval), "{n.TAG_PLAN}", "{n.TAG_CHANNEL}" fill(null)'),
                ref=ref, alias=f"$tag_plan $tag_channel {unit}")
        for ref, field, unit in (("A", n.FIELD_POWER_DBFS, "dBFS"), ("B", n.FIELD_POWER_DBM, "dBm"))
    ]
    floor = [
        _target(_q(f'SELECT mean("{field}") FROM "{n.NOISE_FLOOR}"',
                   f"WHERE {_STATION} AND $timeFilter",
                   f'GROUP BY time($__interval), "{n.TAG_BAND}" fill(null)'),
                ref=ref, alias=f"$tag_band {unit}")
        for ref, field, unit in (("A", n.FIELD_PSD_DBFS_HZ, "dBFS/Hz"),
                                 ("B", n.FIELD_PSD_DBM_HZ, "dBm/Hz"))
    ]
    panel_list = [
        _panel(1, "Phổ theo thời gian / Spectrum heatmap — $station $band", "heatmap", spectrum,
               0, 0, 24, 12, unit="dB",
               description="Mỗi hàng là một điểm tần số (f_bin) của lưới 256 điểm; dBFS khi "
                           "máy thu chưa hiệu chuẩn, dBm khi đã hiệu chuẩn / each row is one of "
                           "the 256 stored bins; dBFS until the receiver is calibrated, then dBm",
               options={"calculate": False, "yAxis": {"axisLabel": "f_bin"}}),
        _panel(2, "Công suất kênh / Channel power", "timeseries", channel, 0, 12, 24, 9,
               unit="dB"),
        _panel(3, "Nền nhiễu / Noise floor (per Hz)", "timeseries", floor, 0, 21, 24, 8,
               unit="dB"),
    ]
    return _dashboard("rfwatch-station", "rfwatch — Trạm / Station spectrum", panel_list,
                      [*_ds_vars(), station_var, band_var], ["station"])


def occupancy() -> dict:
    """Band occupancy over time (ITU-R SM.1880 channel occupancy)."""
    panel_list = [
        _panel(1, "Chiếm dụng theo băng / Occupancy by band", "timeseries", [_target(_q(
            f'SELECT mean("{n.FIELD_FRACTION}") * 100 FROM "{n.OCCUPANCY}"',
            f"WHERE {_STATION} AND $timeFilter",
            f'GROUP BY time($__interval), "{n.TAG_STATION}", "{n.TAG_BAND}" fill(null)'),
            alias="$tag_station $tag_band")], 0, 0, 24, 9, unit="percent"),
        _panel(2, "Chiếm dụng theo kênh / Occupancy by channel", "table", [_target(_q(
            f'SELECT mean("{n.FIELD_FRACTION}") * 100 AS "occupancy_pct" FROM "{n.OCCUPANCY}"',
            f"WHERE {_STATION} AND $timeFilter",
            f'GROUP BY "{n.TAG_STATION}", "{n.TAG_BAND}", "{n.TAG_CHANNEL}"'), fmt="table")],
            0, 9, 24, 10, unit="percent"),
    ]
    return _dashboard("rfwatch-occupancy", "rfwatch — Chiếm dụng / Band occupancy", panel_list,
                      [*_ds_vars(), _station_var()], ["occupancy"])


def emissions() -> dict:
    """Emissions by class, and the cases opened and closed (PostgreSQL)."""
    w = f"{_STATION} AND $timeFilter"
    panel_list = [
        _panel(1, "Phát xạ theo loại / Emissions by class", "timeseries", [_target(_q(
            f'SELECT count("{n.FIELD_F_HZ}") FROM "{n.EMISSION}" WHERE {w}',
            f'GROUP BY time($__interval), "{n.TAG_CLASS}" fill(none)'),
            alias="$tag_class")], 0, 0, 16, 9, unit="short",
            options={"legend": {"displayMode": "table", "placement": "right"}}),
        _panel(2, "Tổng theo loại / Totals by class", "piechart", [_target(_q(
            f'SELECT count("{n.FIELD_F_HZ}") FROM "{n.EMISSION}" WHERE {w}',
            f'GROUP BY "{n.TAG_CLASS}"'), alias="$tag_class")], 16, 0, 8, 9),
        _panel(3, "Phát xạ gần đây / Recent emissions", "table", [_target(_q(
            f'SELECT "{n.FIELD_F_HZ}" / 1000000 AS "f_mhz", "{n.FIELD_BW_HZ}" / 1000 AS "bw_khz",',
            f'"{n.FIELD_SNR_DB}" FROM "{n.EMISSION}" WHERE {w}',
            f'GROUP BY "{n.TAG_STATION}", "{n.TAG_CLASS}" ORDER BY time DESC LIMIT 50'),
            fmt="table")], 0, 9, 24, 10),
        _panel(4, "Vụ việc mở và đóng / Cases opened and closed", "timeseries", [
            _sql("SELECT to_timestamp(floor(created_ns / 1e6 / $__interval_ms) * "
                 "$__interval_ms / 1000) AS \"time\", count(*) AS \"opened\" FROM cases "
                 "WHERE $__unixEpochNanoFilter(created_ns) GROUP BY 1 ORDER BY 1"),
            _sql("SELECT to_timestamp(floor(t_ns / 1e6 / $__interval_ms) * "
                 "$__interval_ms / 1000) AS \"time\", count(*) AS \"closed\" FROM case_history "
                 "WHERE action = 'transition' AND to_status IN ('closed', 'dismissed') AND "
                 "$__unixEpochNanoFilter(t_ns) GROUP BY 1 ORDER BY 1", ref="B"),
        ], 0, 19, 16, 9, datasource=_PG,
            description="Từ CSDL vụ việc (PostgreSQL) / from the cases database"),
        _panel(5, "Vụ việc đang mở / Open cases", "table", [_sql(
            "SELECT id, status, emitter_class, round((f_hz / 1e6)::numeric, 4) AS f_mhz, "
            "severity, to_timestamp(last_seen_ns / 1e9) AS last_seen FROM cases "
            "WHERE status NOT IN ('closed', 'dismissed') ORDER BY last_seen_ns DESC LIMIT 100",
            fmt="table")], 16, 19, 8, 9, datasource=_PG),
    ]
    return _dashboard("rfwatch-emissions", "rfwatch — Phát xạ và vụ việc / Emissions and cases",
                      panel_list, [*_ds_vars(with_pg=True), _station_var()], ["emissions"])


#: File name (without .json) -> builder.
DASHBOARDS = {"overview": overview, "station": station, "occupancy": occupancy,
              "emissions": emissions}


def all_dashboards() -> dict[str, dict]:
    """Every dashboard by file name."""
    return {name: build() for name, build in DASHBOARDS.items()}


def build(name: str) -> dict:
    return DASHBOARDS[name]()


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel of a dashboard (rows' nested panels included)."""
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])


def dumps(dashboard: dict) -> str:
    """The JSON text as kept in ``dashboards/json`` (stable, diff-friendly)."""
    return json.dumps(dashboard, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_json(folder: Path = JSON_DIR) -> list[Path]:
    """Write every dashboard to ``folder`` as ``<name>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, dash in all_dashboards().items():
        path = folder / f"{name}.json"
        path.write_text(dumps(dash), encoding="utf-8")
        out.append(path)
    return out
