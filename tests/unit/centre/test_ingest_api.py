"""The ingest route: authentication, validation, exactly-once, time series, live frames."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from centre.ingest import SPECTRUM_STORE_BINS
from centre.models import IngestedBatch
from dsp.types import Spectrum
from stations.batch import Batch, EmissionItem, SpectrumItem, new_batch_id
from stations.uplink import INGEST_PATH
from storage import names

T0 = 1_772_413_200_000_000_000  # 2026-03-02T01:00:00Z


def make_batch(station: str = "ls-hn", n_bins: int = 1000, seq: int = 1) -> Batch:
    rng = np.random.default_rng(seq)
    spectrum = Spectrum(
        f_start_hz=162e6, f_step_hz=2.5e3, power_db=rng.normal(-90, 2, n_bins).astype("f4"),
        power_unit="dBFS", rbw_hz=3.75e3, t_start_ns=T0 + seq, t_end_ns=T0 + seq + 10**6,
        receiver_id="rx0",
    )
    emission = EmissionItem(
        band="vhf", receiver_id="rx0", f_hz=163.45e6, bw_99_hz=11e3, bw_xdb_hz=14e3,
        power_db=-30.0, peak_power_db=-25.0, snr_db=40.0, noise_floor_db=-70.0,
        power_unit="dBFS", f_resolution_hz=2.5e3, t_first_ns=T0 + seq, t_last_ns=T0 + seq,
    )
    return Batch(
        batch_id=new_batch_id(), station_id=station, seq=seq, created_t_ns=T0 + seq,
        items=[SpectrumItem.from_spectrum(spectrum, band="vhf"), emission],
    )


def post(client: TestClient, batch: Batch | dict | str, token: str | None, scheme="Bearer"):  # noqa: ANN001, ANN201
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    body = batch.model_dump_json() if isinstance(batch, Batch) else batch
    if isinstance(body, dict):
        import json

        body = json.dumps(body)
    return client.post(INGEST_PATH, content=body, headers=headers)


def test_missing_or_malformed_token_is_401(app, centre) -> None:  # noqa: ANN001
    with TestClient(app) as client:
        r = post(client, make_batch(), None)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert post(client, make_batch(), centre.tokens["ls-hn"], scheme="Basic").status_code == 401


def test_wrong_token_is_403_and_nothing_is_stored(app, centre) -> None:  # noqa: ANN001
    batch = make_batch()
    with TestClient(app) as client:
        r = post(client, batch, "not-a-token")
        assert r.status_code == 403
        # A valid token of another station cannot send for this one.
        r = post(client, batch, centre.tokens["ls-tt"])
        assert r.status_code == 403 and "ls-tt" in r.json()["detail"]
    with centre.services.sessions() as s:
        assert s.get(IngestedBatch, ("ls-hn", batch.batch_id)) is None


def test_bad_item_is_refused_alone_and_named(app, centre) -> None:  # noqa: ANN001
    body = make_batch().model_dump(mode="json")
    body["items"][0]["n_bins"] = 7
    with TestClient(app) as client:
        r = post(client, body, centre.tokens["ls-hn"])
        again = post(client, body, centre.tokens["ls-hn"])
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "accepted" and answer["n_rejected"] == 1
    [rej] = answer["rejected"]
    assert rej["index"] == 0 and rej["kind"] == "spectrum" and "n_bins says 7" in rej["reason"]
    # The good item (the emission) was taken and made its finding.
    assert answer["n_findings"] >= 1
    # A resend is a duplicate and says again what was refused (kept in the ledger).
    assert again.json()["status"] == "duplicate" and again.json()["rejected"] == [rej]


def test_accepted_once_then_duplicate(app, centre) -> None:  # noqa: ANN001
    batch = make_batch(n_bins=1000)
    with TestClient(app) as client:
        sub = centre.services.hub.subscribe(station_id="ls-hn")
        first = post(client, batch, centre.tokens["ls-hn"])
        second = post(client, batch, centre.tokens["ls-hn"])
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    # The unknown emission became a finding in a case.
    assert first.json()["n_findings"] >= 1 and first.json()["case_ids"]
    ts = centre.services.timeseries
    spectrum_rows = ts.query(names.SPECTRUM, "power_dbfs", t_start_ns=T0, t_end_ns=T0 + 10**9)
    # 1000 bins max-held into at most SPECTRUM_STORE_BINS, written once.
    assert len(spectrum_rows) == -(-1000 // -(-1000 // SPECTRUM_STORE_BINS))
    power = batch.items[0].power_db()
    assert max(r.value for r in spectrum_rows) == float(power.max())
    emissions = ts.query(names.EMISSION, names.FIELD_F_HZ, t_start_ns=T0, t_end_ns=T0 + 10**9,
                         group_by=(names.TAG_CLASS,))
    assert [(r.value, r.tags[names.TAG_CLASS]) for r in emissions] == [(163.45e6, "unknown")]
    # Live subscribers saw the spectrum once.
    frames = sub.drain()
    assert len(frames) == 1 and frames[0].band == "vhf" and len(frames[0].power_db) == 1000


def test_health_endpoint_checks_who_is_asking(app, centre) -> None:  # noqa: ANN001
    with TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 401
        bad = client.get("/api/v1/health", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 403
        ok = client.get(
            "/api/v1/health", headers={"Authorization": f"Bearer {centre.tokens['ls-hn']}"}
        )
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "station": "ls-hn"}


def test_uncalibrated_values_never_land_in_dbm_fields(app, centre) -> None:  # noqa: ANN001
    batch = make_batch(n_bins=64, seq=7)
    spectrum = batch.items[0].model_copy(update={"noise_floor_db": -95.0})
    batch = batch.model_copy(update={"items": [spectrum, *batch.items[1:]]})
    with TestClient(app) as client:
        assert post(client, batch, centre.tokens["ls-hn"]).status_code == 200
    ts = centre.services.timeseries
    window = {"t_start_ns": T0, "t_end_ns": T0 + 10**9}
    psd = ts.query(names.NOISE_FLOOR, names.FIELD_PSD_DBFS_HZ, **window)
    assert [r.value for r in psd] == pytest.approx([-95.0 - 10 * np.log10(3.75e3)])
    for measurement, dbm_field in (
        (names.NOISE_FLOOR, names.FIELD_PSD_DBM_HZ),
        (names.SPECTRUM, names.FIELD_POWER_DBM),
        (names.EMISSION, names.FIELD_POWER_DBM),
    ):
        assert ts.query(measurement, dbm_field, **window) == []
