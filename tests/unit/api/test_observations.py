"""Stations and health, stored spectra (latest, history by band and time), emissions."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from centre.ingest import reduce_spectrum

from .conftest import T0, bearer, ingest, make_batch


def test_spectra_emissions_and_stations(client: TestClient, desk) -> None:  # noqa: ANN001
    batches = [make_batch(seq=k, n_bins=800) for k in (1, 2, 3)]
    for b in batches:
        ingest(client, desk, b)
    h = bearer(client, "field1")
    latest = client.get("/api/v1/spectra/latest", params={"station": "ls-hn", "band": "vhf"},
                        headers=h)
    assert latest.status_code == 200
    doc = latest.json()
    newest = batches[-1].items[0]
    expected, factor = reduce_spectrum(newest.power_db(), 256)
    assert doc["t_ns"] == newest.t_start_ns and doc["unit"] == "dBFS"
    assert np.allclose(doc["power_db"], expected, atol=1e-4)
    assert doc["f_hz"][0] == newest.f_start_hz + (factor - 1) * newest.f_step_hz / 2
    hist = client.get("/api/v1/spectra/history", headers=h, params={
        "station": "ls-hn", "band": "vhf", "start_ns": T0 + 2 * 10**9, "end_ns": T0 + 10**12})
    assert [s["t_ns"] for s in hist.json()] == [b.items[0].t_start_ns for b in batches[1:]]
    assert client.get("/api/v1/spectra/latest", params={"station": "ls-hn", "band": "uhf"},
                      headers=h).status_code == 404
    bad = client.get("/api/v1/spectra/history", headers=h, params={
        "station": "ls-hn", "band": "vhf", "start_ns": T0 + 10, "end_ns": T0})
    assert bad.status_code == 422
    emissions = client.get("/api/v1/emissions", params={"station": "ls-hn"}, headers=h).json()
    assert [e["f_hz"] for e in emissions] == [163.45e6] * 3
    assert {e["class"] for e in emissions} == {"unknown"}
    stations = {s["id"]: s for s in client.get("/api/v1/stations", headers=h).json()}
    assert stations["ls-hn"]["batches"] == 3 and stations["ls-tt"]["batches"] == 0
    assert stations["ls-hn"]["last_batch"] is not None
    # Officials do not watch raw spectra.
    off = bearer(client, "official1")
    assert client.get("/api/v1/spectra/latest", params={"station": "ls-hn", "band": "vhf"},
                      headers=off).status_code == 403
