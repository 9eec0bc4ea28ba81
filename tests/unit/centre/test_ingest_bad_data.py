"""Bad data never blocks good data, and never makes the centre answer 5xx.

Each case is a raw JSON body as an attacker or a broken station might send it; the
centre takes the good items, names the bad ones, and keeps nothing of a batch it
could not store. Run on the embedded stores and on PostgreSQL + influxd.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from centre.models import IngestedBatch
from compliance.cases import CaseService, case_summary
from stations.batch import HealthItem, new_batch_id
from stations.uplink import INGEST_PATH
from storage import names

T0 = 1_772_413_200_000_000_000


def health(t_ns: int = T0) -> dict:
    return HealthItem(receiver_id="rx0", state="open", overloads=0, dropped_samples=0,
                      failures=0, reopens=0, gap_s=0.0, outbox_depth=0,
                      t_ns=t_ns).model_dump(mode="json")


def emission(**over: object) -> dict:
    e = {"kind": "emission", "band": "vhf", "receiver_id": "rx0", "f_hz": 163.45e6,
         "bw_99_hz": 11e3, "bw_xdb_hz": 14e3, "power_db": -30.0, "peak_power_db": -25.0,
         "snr_db": 40.0, "noise_floor_db": -70.0, "power_unit": "dBFS",
         "f_resolution_hz": 2.5e3, "t_first_ns": T0, "t_last_ns": T0}
    e.update(over)
    return e


def channel(**over: object) -> dict:
    c = {"kind": "channel", "plan": "fm", "channel": "98.5", "receiver_id": "rx0",
         "f_hz": 98.5e6, "bw_hz": 200e3, "power_db": -40.0, "power_unit": "dBFS", "t_ns": T0}
    c.update(over)
    return c


def body(items: list | str, station: str = "ls-hn", **over: object) -> str:
    b = {"batch_id": new_batch_id(), "station_id": station, "seq": 1, "created_t_ns": T0,
         "items": items}
    b.update(over)
    # allow_nan: Python writes NaN/Infinity the way a careless station would.
    return json.dumps(b, allow_nan=True)


def send(client: TestClient, text: str, token: str):  # noqa: ANN201
    return client.post(INGEST_PATH, content=text,
                       headers={"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})


BAD_ITEMS = {
    "nan power": emission(power_db=float("nan")),
    "inf snr": emission(snr_db=float("inf")),
    "-inf channel power": channel(power_db=float("-inf")),
    "t_ns beyond int64": channel(t_ns=2**64),
    "t_ns of 2^63": emission(t_first_ns=2**63, t_last_ns=2**63),
    "backslash in channel": channel(channel="ch\\"),
    "newline in channel": channel(channel="ch\n1"),
    "newline in receiver_id": channel(receiver_id="rx\n0"),
    "unknown kind": {"kind": "mystery", "x": 1},
    "not an object": [1, 2, 3],
}


def test_every_bad_item_is_named_and_the_good_ones_taken(app, centre) -> None:  # noqa: ANN001
    items = [health(), *BAD_ITEMS.values(), emission()]
    with TestClient(app) as client:
        r = send(client, body(items), centre.tokens["ls-hn"])
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "accepted"
    assert [x["index"] for x in answer["rejected"]] == list(range(1, 1 + len(BAD_ITEMS)))
    assert answer["n_rejected"] == len(BAD_ITEMS)
    for rej in answer["rejected"]:
        assert rej["reason"] and len(rej["reason"]) <= 300
    # The good health sample and the good emission are stored.
    ts = centre.services.timeseries
    window = {"t_start_ns": T0 - 1, "t_end_ns": T0 + 10**9}
    assert len(ts.query(names.STATION_HEALTH, names.FIELD_OUTBOX_DEPTH, **window)) == 1
    assert [r.value for r in ts.query(names.EMISSION, names.FIELD_F_HZ, **window)] == [163.45e6]
    # No case holds a non-finite number: `cases list --json` stays standard JSON.
    cases = CaseService(centre.services.sessions).list_cases()
    assert cases
    json.dumps([case_summary(c) for c in cases], allow_nan=False)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("not JSON", "{not json"),
        ("seq beyond int64", body([health()], seq=2**64)),
        ("created_t_ns 2^70", body([health()], created_t_ns=2**70)),
        ("NaN seq", body([health()], seq=float("nan"))),
        ("station id ..", body([health()], station="..")),
        ("station id with slash", body([health()], station="../../x y")),
        ("empty station id", body([health()], station="")),
        ("items not a list", body("nope")),
        ("deep nesting", '{"items": ' + "[" * 5000 + "]" * 5000 + "}"),
    ],
)
def test_bad_envelope_is_422_and_short(app, centre, name: str, text: str) -> None:  # noqa: ANN001
    with TestClient(app) as client:
        r = send(client, text, centre.tokens["ls-hn"])
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    assert len(r.content) < 2000


def test_a_large_field_is_never_echoed(app, centre) -> None:  # noqa: ANN001
    big = "x" * 2_000_000
    with TestClient(app) as client:
        r = send(client, body([health()], batch_id=big), centre.tokens["ls-hn"])
        r2 = send(client, body([emission(band=big)]), centre.tokens["ls-hn"])
    assert r.status_code == 422 and len(r.content) < 2000
    assert r2.status_code == 200 and len(r2.content) < 2000
    assert r2.json()["n_rejected"] == 1


def test_ledger_is_per_station(app, centre) -> None:  # noqa: ANN001
    batch_id = new_batch_id()
    with TestClient(app) as client:
        a = send(client, body([health()], batch_id=batch_id), centre.tokens["ls-hn"])
        b = send(client, body([health()], station="ls-tt", batch_id=batch_id),
                 centre.tokens["ls-tt"])
    # One station's batch id cannot shadow another's.
    assert a.json()["status"] == "accepted" and b.json()["status"] == "accepted"
    with centre.services.sessions() as s:
        assert s.get(IngestedBatch, ("ls-hn", batch_id)) is not None
        assert s.get(IngestedBatch, ("ls-tt", batch_id)) is not None
