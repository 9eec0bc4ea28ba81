"""Fixtures of the API tests: a real centre (migrated SQLite DB, embedded time series,
compliance) with two stations and one user per role."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import CentralConfig, CentralServices, create_app, open_central
from api.models import ROLES
from api.users import UserService
from centre.tokens import issue_token, register_station
from dsp.types import GeoPosition, Spectrum
from stations.batch import Batch, EmissionItem, SpectrumItem, new_batch_id

T0 = 1_772_413_200_000_000_000  # 2026-03-02T01:00:00Z
PASSWORD = "mật-khẩu-đủ-dài"


@dataclass
class Desk:
    services: CentralServices
    tokens: dict[str, str]
    home: Path


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A migrated DB with two stations and one user per role, made once: each test
    gets a copy (migrating and hashing four passwords per test would cost seconds)."""
    home = tmp_path_factory.mktemp("desk-template")
    services = open_central(_config(home))
    tokens = {}
    with services.sessions.begin() as session:
        for sid, pos in (("ls-hn", GeoPosition(21.85, 106.72)),
                         ("ls-tt", GeoPosition(21.86, 106.70))):
            register_station(session, sid, name=sid, kind="fixed", position=pos)
            tokens[sid] = issue_token(session, sid)
    users = UserService(services.sessions)
    for role in ROLES:
        users.add(f"{role}1", role, PASSWORD, actor="test")
    services.close()
    return home / "rfwatch.db", tokens


def _config(home: Path) -> CentralConfig:
    return CentralConfig(
        home=home,
        database_url=f"sqlite:///{home / 'rfwatch.db'}",
        timeseries={"backend": "embedded", "path": home / "timeseries.sqlite"},
    )


@pytest.fixture
def desk(tmp_path: Path, desk_template: tuple[Path, dict[str, str]]) -> Iterator[Desk]:
    home = tmp_path / "centre"
    home.mkdir()
    template, tokens = desk_template
    shutil.copyfile(template, home / "rfwatch.db")
    services = open_central(_config(home), migrate=False)
    yield Desk(services, dict(tokens), home)
    services.close()


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(services=desk.services)) as c:
        yield c


def login(client: TestClient, user: str, password: str = PASSWORD) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(client: TestClient, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(client, user)['access_token']}"}


def make_batch(station: str = "ls-hn", seq: int = 1, f_hz: float = 163.45e6,
               n_bins: int = 800) -> Batch:
    """A spectrum and one strong unlicensed emission (an unknown emitter: a case)."""
    rng = np.random.default_rng(seq)
    spectrum = Spectrum(
        f_start_hz=162e6, f_step_hz=2.5e3, power_db=rng.normal(-90, 2, n_bins).astype("f4"),
        power_unit="dBFS", rbw_hz=3.75e3, t_start_ns=T0 + seq * 10**9,
        t_end_ns=T0 + seq * 10**9 + 10**6, receiver_id="rx0",
    )
    emission = EmissionItem(
        band="vhf", receiver_id="rx0", f_hz=f_hz, bw_99_hz=11e3, bw_xdb_hz=14e3,
        power_db=-30.0, peak_power_db=-25.0, snr_db=40.0, noise_floor_db=-70.0,
        power_unit="dBFS", f_resolution_hz=2.5e3, t_first_ns=T0 + seq * 10**9,
        t_last_ns=T0 + seq * 10**9,
    )
    return Batch(
        batch_id=new_batch_id(), station_id=station, seq=seq, created_t_ns=T0 + seq,
        items=[SpectrumItem.from_spectrum(spectrum, band="vhf"), emission],
    )


def ingest(client: TestClient, desk: Desk, batch: Batch) -> dict:
    r = client.post("/api/v1/ingest/batches", content=batch.model_dump_json(),
                    headers={"Authorization": f"Bearer {desk.tokens[batch.station_id]}",
                             "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()
