"""A small, fully known centre for the report and export tests.

Stores: a SQLite DB (migrated) and the embedded time-series store in a temp home,
filled with values whose report figures are known exactly:

- ``st-a`` (fixed): health every 30 s over the hour, silent from +1200 s to +2100 s
  -> one 900 s gap, uptime 75.00 %; occupancy of band ``vhf`` 0.1, 0.3, 0.5 -> mean
  30.00 %, max 50.00 %; 5 ``unknown`` emissions; 20 sweeps of ``vhf`` with a carrier
  at 163.45 MHz.
- ``st-b`` (fixed): health every 30 s all hour -> 100.00 %; 3 ``licensed`` emissions;
  occupancy 0.25 -> 25.00 %.
- ``kit`` (field kit): no health (uptime 0.00 %), a drive of 12 GPS-tagged channel
  powers and a position estimate attached to the unknown emitter's case.
- Cases through the real rules and CaseService: an unlicensed emitter at 163.45 MHz
  heard by st-a and st-b, and licence ``LS-TEST-1`` (150.000 MHz, 16K0F3E) heard
  3 kHz off its frequency (frequency_out_of_tolerance).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from compliance.cases import CaseService
from compliance.records import Licence
from compliance.reference import load_reference_data
from compliance.registry import load_registry, save_licences
from compliance.rules import evaluate
from dsp.types import Emission, GeoPosition
from storage import names
from storage.db import make_engine, make_session_factory
from storage.embedded import EmbeddedTimeSeries
from storage.migrations import upgrade
from storage.timeseries import Point

S = 1_000_000_000
T0 = int(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC).timestamp()) * S
T1 = T0 + 3600 * S
SITES = {"st-a": GeoPosition(21.95, 106.70), "st-b": GeoPosition(21.90, 106.62)}
EMITTER = GeoPosition(21.93, 106.64)
F_UNKNOWN = 163.45e6
F_LICENCE = 150.0e6


@dataclass
class Centre:
    home: Path
    db_url: str
    sessions: object
    ts: EmbeddedTimeSeries
    unknown_case: str
    licensed_case: str
    env: dict


def _emission(f_hz: float, station: str, t_ns: int, bw_hz: float = 11e3) -> Emission:
    return Emission(f_hz=f_hz, bw_99_hz=bw_hz, bw_xdb_hz=bw_hz * 1.2, power_db=-40.0,
                    peak_power_db=-35.0, snr_db=25.0, noise_floor_db=-65.0, power_unit="dBFS",
                    f_resolution_hz=300.0, t_first_ns=t_ns, t_last_ns=t_ns + S,
                    station_id=station)


def _points() -> list[Point]:
    pts: list[Point] = []
    for sid in ("st-a", "st-b"):
        for k in range(120):
            t_s = 30 * k
            if sid == "st-a" and 1200 < t_s < 2100:
                continue
            pts.append(Point(names.STATION_HEALTH, {"station": sid, "receiver": "rx0"},
                             {"outbox_depth": 0, "overloads": 0, "dropped": 0, "gap_s": 0.0},
                             T0 + t_s * S))
    for t_s, chan, frac in ((100, "c1", 0.1), (200, "c1", 0.3), (300, "c2", 0.5)):
        pts.append(Point(names.OCCUPANCY, {"station": "st-a", "band": "vhf", "channel": chan},
                         {"fraction": frac, "threshold_dbfs": -60.0}, T0 + t_s * S))
    pts.append(Point(names.OCCUPANCY, {"station": "st-b", "band": "vhf", "channel": "c1"},
                     {"fraction": 0.25, "threshold_dbfs": -60.0}, T0 + 100 * S))
    for k in range(5):
        pts.append(Point(names.EMISSION, {"station": "st-a", "class": "unknown"},
                         {"f_hz": F_UNKNOWN, "bw_hz": 11e3, "power_dbfs": -40.0,
                          "snr_db": 25.0}, T0 + (60 + 10 * k) * S))
    for k in range(3):
        pts.append(Point(names.EMISSION, {"station": "st-b", "class": "licensed"},
                         {"f_hz": F_LICENCE + 3e3, "bw_hz": 11e3, "power_dbfs": -30.0,
                          "snr_db": 35.0}, T0 + (60 + 10 * k) * S))
    rng = np.random.default_rng(7)
    f_bins = 162e6 + np.arange(64) * 50e3  # 162.00 .. 165.15 MHz
    for k in range(20):
        power = -70.0 + rng.normal(0, 1.0, 64)
        power[np.argmin(np.abs(f_bins - F_UNKNOWN))] = -35.0
        for b in range(64):
            pts.append(Point(names.SPECTRUM, {"station": "st-a", "band": "vhf",
                                              "f_bin": str(b)},
                             {"power_dbfs": float(power[b]), "f_hz": float(f_bins[b])},
                             T0 + (50 + 10 * k) * S))
    for k in range(12):
        lat = 21.90 + 0.005 * k
        lon = 106.60 + 0.004 * k
        pts.append(Point(names.CHANNEL_POWER, {"station": "kit", "plan": "drive_test",
                                               "channel": "163.4500"},
                         {"power_dbfs": -50.0 + k, "lat_deg": lat, "lon_deg": lon},
                         T0 + (600 + 2 * k) * S))
    return pts


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Centre:
    from centre.tokens import register_station

    home = tmp_path_factory.mktemp("report-home")
    db_url = f"sqlite:///{home / 'rfwatch.db'}"
    upgrade(db_url)
    sessions = make_session_factory(make_engine(db_url))
    reference = load_reference_data()
    licence = Licence.model_validate(dict(
        licence_id="LS-TEST-1", licensee="Công ty Thử nghiệm", station_name="Trạm gốc",
        service="land_mobile", f_hz=F_LICENCE, emission="16K0F3E", erp_w=10.0, lat=21.9,
        lon=106.65, valid_from="2024-01-01", valid_to="2030-12-31", status="valid"))
    with sessions.begin() as session:
        save_licences(session, [licence])
        for sid, pos in SITES.items():
            register_station(session, sid, name=f"Trạm {sid}", kind="fixed", position=pos)
        register_station(session, "kit", name="Bộ đo di động", kind="field_kit", position=None)
    with sessions() as session:
        registry = load_registry(session)
    clock = iter(range(T0 + 3000 * S, T0 + 10**6 * S, S))
    cases = CaseService(sessions, reference=reference, clock=lambda: next(clock))
    for sid in ("st-a", "st-b"):
        _, findings = evaluate([_emission(F_UNKNOWN, sid, T0 + 60 * S)], registry, reference,
                               site=SITES[sid])
        (unknown,) = cases.record_findings(findings, sid, T0 + 60 * S)
    _, findings = evaluate([_emission(F_LICENCE + 3e3, "st-b", T0 + 60 * S)], registry,
                           reference, site=SITES["st-b"])
    (licensed,) = cases.record_findings(findings, "st-b", T0 + 60 * S)
    assert licensed.emitter_class == "licensed" and "frequency_out_of_tolerance" in (
        licensed.finding_kinds)
    cases.assign(unknown.id, "=HYPERLINK(\"http://x\",\"y\")", actor="inspector")
    loc_dir = home / "evidence" / "kit"
    loc_dir.mkdir(parents=True)
    loc = loc_dir / "location-0001.json"
    loc.write_text(json.dumps({"kind": "location", "f_hz": F_UNKNOWN,
                               "lat_deg": EMITTER.lat_deg, "lon_deg": EMITTER.lon_deg,
                               "radius_m": 850.0, "n_points": 12, "path_loss_exponent": 2.7,
                               "rms_error_db": 3.1, "t_ns": T0 + 700 * S}), encoding="utf-8")
    cases.add_evidence(unknown.id, "field_measurement", loc, actor="station:kit",
                       note="ước tính vị trí / position estimate")
    ts = EmbeddedTimeSeries(home / "timeseries.sqlite")
    ts.write(_points())
    env = {"RFWATCH_HOME": str(home), "RFWATCH_DB_URL": db_url,
           "RFWATCH_TIMESERIES_BACKEND": "embedded"}
    yield Centre(home, db_url, sessions, ts, unknown.id, licensed.id, env)
    ts.close()
