"""Bearings from a rotator site reach the centre and join the levels in a case's location."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from centre.tokens import issue_token, register_station
from compliance.cases import CaseService, case_summary
from compliance.location import LocationSettings
from compliance.models import Evidence
from dsp.geo import bearing_deg, distance_m
from dsp.geolocation import BearingObservation
from dsp.types import GeoPosition
from stations.batch import Batch, BearingItem, EmissionItem, PositionTag, new_batch_id
from stations.uplink import INGEST_PATH

T0 = 1_772_413_200_000_000_000  # 2026-03-02T01:00:00Z
S = 1_000_000_000
F_HZ = 163.45e6
TX = GeoPosition(21.88, 106.76)  # between the sites, on the Vietnamese side
SITES = {  # fixed sites around Lạng Sơn city
    "huu-nghi": GeoPosition(21.980, 106.715),
    "tan-thanh": GeoPosition(21.895, 106.655),
    "chi-ma": GeoPosition(21.795, 107.005),
    "loc-binh": GeoPosition(21.760, 106.870),
}
ROTATOR_SITES = ("huu-nghi", "tan-thanh")  # crossing at about 75°


def post(client: TestClient, batch: Batch | str, token: str):  # noqa: ANN201
    body = batch.model_dump_json() if isinstance(batch, Batch) else batch
    return client.post(INGEST_PATH, content=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})


def _register(centre) -> dict[str, str]:  # noqa: ANN001
    tokens = {}
    with centre.services.sessions.begin() as session:
        for sid, p in SITES.items():
            register_station(session, sid, name=sid, kind="fixed", position=p)
            tokens[sid] = issue_token(session, sid)
    return tokens


def _emission(sid: str, e_dbuv_m: float, seq: int) -> EmissionItem:
    p = SITES[sid]
    return EmissionItem(
        band="vhf", receiver_id="rx0", f_hz=F_HZ, bw_99_hz=11e3, bw_xdb_hz=14e3,
        power_db=-40.0, peak_power_db=-35.0, snr_db=30.0, noise_floor_db=-70.0,
        power_unit="dBm", f_resolution_hz=2.5e3, t_first_ns=T0 + seq * S,
        t_last_ns=T0 + seq * S, e_dbuv_m=e_dbuv_m,
        position=PositionTag(lat_deg=p.lat_deg, lon_deg=p.lon_deg),
    )


def _bearing_item(sid: str, bearing: float, seq: int, sigma_deg: float = 3.0) -> BearingItem:
    obs = BearingObservation(SITES[sid], bearing, sigma_deg, site_id=sid)
    return BearingItem.from_observation(obs, f_hz=F_HZ + 500.0, t_ns=T0 + seq * S, bw_hz=11e3)


def _batch(sid: str, seq: int, items: list) -> Batch:  # noqa: ANN001
    return Batch(batch_id=new_batch_id(), station_id=sid, seq=seq, created_t_ns=T0 + seq * S,
                 items=items)


def _inside_ellipse(loc: dict, truth: GeoPosition) -> bool:
    centre = GeoPosition(loc["lat_deg"], loc["lon_deg"])
    d = distance_m(centre, truth)
    a = math.radians(bearing_deg(centre, truth) - loc["orientation_deg"])
    x, y = d * math.cos(a), d * math.sin(a)
    return (x / loc["semi_major_m"]) ** 2 + (y / loc["semi_minor_m"]) ** 2 <= 1.0


def _location(centre) -> dict:  # noqa: ANN001
    service = CaseService(centre.services.sessions)
    assert service.refresh_locations(LocationSettings(terrain="open")) >= 1
    [case] = [c for c in service.list_cases() if abs(c.f_hz - F_HZ) < 5e3]
    loc = case_summary(case)["location"]
    assert loc is not None, case.location_note
    return loc


def test_bearings_posted_by_stations_join_the_levels(app, centre) -> None:  # noqa: ANN001
    tokens = _register(centre)
    rng = np.random.default_rng(7)
    with TestClient(app) as client:
        for seq, sid in enumerate(SITES, start=1):
            e = 120.0 - 30.0 * math.log10(distance_m(TX, SITES[sid])) + rng.normal(0, 2.0)
            r = post(client, _batch(sid, seq, [_emission(sid, e, seq)]), tokens[sid])
            assert r.status_code == 200 and r.json()["n_findings"] >= 1, r.text
        rss_only = _location(centre)
        assert "bearing" not in rss_only["method"]
        for seq, sid in enumerate(ROTATOR_SITES, start=10):
            b = (bearing_deg(SITES[sid], TX) + rng.normal(0, 2.0)) % 360.0
            r = post(client, _batch(sid, seq, [_bearing_item(sid, b, seq)]), tokens[sid])
            answer = r.json()
            assert r.status_code == 200 and answer["status"] == "accepted", r.text
            assert answer["n_rejected"] == 0 and answer["case_ids"], answer
    # Stored as the case's evidence, one file per bearing, in the station's folder.
    with centre.services.sessions() as s:
        rows = [e for e in s.query(Evidence).all() if Path(e.uri).name.startswith("bearing-")]
    assert len(rows) == 2 and {r.added_by for r in rows} == {f"station:{s}" for s in ROTATOR_SITES}
    for row in rows:
        doc = json.loads(Path(row.uri).read_text(encoding="utf-8"))
        assert doc["station_id"] in ROTATOR_SITES and Path(row.uri).parent.name == doc["station_id"]
        assert row.kind == "field_measurement"
    # The new evidence made the case's location stale; it is recomputed with the bearings.
    loc = _location(centre)
    assert "bearing" in loc["method"] and "rss" in loc["method"]
    assert _inside_ellipse(loc, TX), (loc, distance_m(GeoPosition(loc["lat_deg"],
                                                                  loc["lon_deg"]), TX))
    # Two crossing bearings of a few degrees pin the emitter far better than four levels.
    assert loc["semi_major_m"] < rss_only["semi_major_m"]
    assert distance_m(GeoPosition(loc["lat_deg"], loc["lon_deg"]), TX) < 1_500.0


def test_only_the_newest_bearing_of_a_site_counts(app, centre) -> None:  # noqa: ANN001
    tokens = _register(centre)
    rng = np.random.default_rng(11)
    with TestClient(app) as client:
        for seq, sid in enumerate(SITES, start=1):
            e = 120.0 - 30.0 * math.log10(distance_m(TX, SITES[sid])) + rng.normal(0, 2.0)
            post(client, _batch(sid, seq, [_emission(sid, e, seq)]), tokens[sid])
        # An old, wrong sweep of huu-nghi (pointing 90° away), then the right ones.
        wrong = (bearing_deg(SITES["huu-nghi"], TX) + 90.0) % 360.0
        post(client, _batch("huu-nghi", 10, [_bearing_item("huu-nghi", wrong, 10, 2.0)]),
             tokens["huu-nghi"])
        for seq, sid in enumerate(ROTATOR_SITES, start=20):
            b = bearing_deg(SITES[sid], TX)
            r = post(client, _batch(sid, seq, [_bearing_item(sid, b, seq, 2.0)]), tokens[sid])
            assert r.json()["n_rejected"] == 0
    loc = _location(centre)
    assert "bearing" in loc["method"]
    # The superseded bearing would pull the estimate kilometres away.
    assert distance_m(GeoPosition(loc["lat_deg"], loc["lon_deg"]), TX) < 1_000.0
    assert _inside_ellipse(loc, TX)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [("bearing_deg", 400.0, "bearing_deg"), ("bearing_deg", float("nan"), "bearing_deg"),
     ("sigma_deg", 0.0, "sigma_deg"), ("lat_deg", 91.0, "lat_deg"),
     ("f_hz", float("inf"), "f_hz")],
)
def test_a_bad_bearing_is_refused_alone(app, centre, field, value, says) -> None:  # noqa: ANN001
    tokens = _register(centre)
    body = _batch("chi-ma", 1, [_emission("chi-ma", 60.0, 1), _bearing_item("chi-ma", 200.0, 1)]
                  ).model_dump(mode="json")
    body["items"][1][field] = value
    with TestClient(app) as client:
        r = post(client, json.dumps(body), tokens["chi-ma"])  # NaN/Infinity as JSON allows
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "accepted" and answer["n_findings"] >= 1
    [rej] = answer["rejected"]
    assert rej["index"] == 1 and rej["kind"] == "bearing" and says in rej["reason"]
    with centre.services.sessions() as s:
        assert not [e for e in s.query(Evidence).all() if "bearing-" in e.uri]


def test_bearing_item_checks_its_values() -> None:
    good = dict(f_hz=F_HZ, bearing_deg=359.9, sigma_deg=4.0, t_ns=T0, lat_deg=21.9,
                lon_deg=106.7)
    assert BearingItem(**good).kind == "bearing"
    for field, value in [("bearing_deg", 360.0), ("bearing_deg", -1.0), ("sigma_deg", 181.0),
                         ("bearing_deg", math.nan), ("lon_deg", 181.0), ("t_ns", -1),
                         ("f_hz", 0.0)]:
        with pytest.raises(ValidationError, match=field):
            BearingItem(**{**good, field: value})
    # from an observation: the bearing is folded into [0, 360)
    obs = BearingObservation(GeoPosition(21.9, 106.7), -10.0, 3.0)
    item = BearingItem.from_observation(obs, f_hz=F_HZ, t_ns=T0)
    assert item.bearing_deg == pytest.approx(350.0)
