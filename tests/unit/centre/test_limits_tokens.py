"""Limits and identity: the body limit before authentication, safe station ids,
evidence inside its folder, revocable tokens, and 503 (never SQL) when a store is down."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve import BackgroundServer
from centre.models import IngestedBatch
from centre.tokens import issue_token, register_station, station_for_token
from compliance.cases import CaseService
from dsp.errors import ParameterError
from stations.batch import Batch, EmissionItem, EvidenceItem, HealthItem, new_batch_id
from stations.uplink import INGEST_PATH
from storage.db import make_engine

from .conftest import centre_config, open_test_centre

T0 = 1_772_413_200_000_000_000
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


def batch(station: str = "ls-hn", items: list | None = None) -> Batch:
    items = items if items is not None else [
        HealthItem(receiver_id="rx0", state="open", overloads=0, dropped_samples=0, failures=0,
                   reopens=0, gap_s=0.0, outbox_depth=0, t_ns=T0)
    ]
    return Batch(batch_id=new_batch_id(), station_id=station, seq=1, created_t_ns=T0,
                 items=items)


def unknown_emission() -> EmissionItem:
    return EmissionItem(
        band="vhf", receiver_id="rx0", f_hz=163.45e6, bw_99_hz=11e3, bw_xdb_hz=14e3,
        power_db=-30.0, peak_power_db=-25.0, snr_db=40.0, noise_floor_db=-70.0,
        power_unit="dBFS", f_resolution_hz=2.5e3, t_first_ns=T0, t_last_ns=T0,
    )


def headers(token: str | None) -> dict[str, str]:
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


def test_body_over_the_limit_is_413_before_authentication(centre) -> None:  # noqa: ANN001
    app = create_app(services=centre.services, body_limit_bytes=64 * 1024)
    big = b'{"x": "' + b"a" * 100_000 + b'"}'
    with BackgroundServer(app) as server, httpx.Client() as client:
        # No token at all: the size is refused first (nothing was parsed or looked up).
        r = client.post(server.url + INGEST_PATH, content=big, headers=headers(None))
        assert r.status_code == 413

        # A chunked body (no Content-Length) is counted as it arrives.
        def chunks():  # noqa: ANN202
            for _ in range(20):
                yield b"a" * 8192

        r = client.post(server.url + INGEST_PATH, content=chunks(), headers=headers(None))
        assert r.status_code == 413
        # A body under the limit goes on to authentication as usual.
        ok = client.post(server.url + INGEST_PATH, content=batch().model_dump_json(),
                         headers=headers(centre.tokens["ls-hn"]))
        assert ok.status_code == 200


def test_unsafe_station_ids_never_enter(centre) -> None:  # noqa: ANN001
    with centre.services.sessions.begin() as session:
        for bad in ("..", "", "../../x y", "LS-HN", "a" * 65, "x/y"):
            with pytest.raises(ParameterError):
                register_station(session, bad, name="x", kind="fixed", position=None)
            with pytest.raises(ParameterError):
                issue_token(session, bad)


def test_evidence_lands_inside_the_evidence_folder(app, centre) -> None:  # noqa: ANN001
    data = bytes(range(256)) * 64
    evidence = EvidenceItem(
        f_hz=163.45e6, f_center_hz=163.4e6, sample_rate_hz=1.024e6, t_start_ns=T0,
        sha256=hashlib.sha256(data).hexdigest(), meta_json="{}",
        data_b64=base64.b64encode(data).decode(),
    )
    with TestClient(app) as client:
        r = client.post(INGEST_PATH, content=batch(items=[unknown_emission(), evidence])
                        .model_dump_json(), headers=headers(centre.tokens["ls-hn"]))
    assert r.status_code == 200, r.text
    root = (centre.home / "evidence").resolve()
    files = [p.resolve() for p in root.rglob("*") if p.is_file()]
    assert files and all(p.is_relative_to(root / "ls-hn") for p in files)
    [case] = CaseService(centre.services.sessions).list_cases()
    [ev] = case.evidence
    assert ev.sha256 == evidence.sha256 and Path(ev.uri).is_relative_to(root)


def test_revoke_and_rotate_take_effect_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"PATH": "/usr/bin:/bin", "RFWATCH_HOME": str(home)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([RFWATCH, *args], capture_output=True, text=True, env=env,
                              timeout=60)

    first = cli("central", "token", "ls-hn", "--name", "Hữu Nghị")
    assert first.returncode == 0, first.stderr
    old = first.stdout.strip()
    engine = make_engine(f"sqlite:///{home / 'rfwatch.db'}")
    try:
        with engine.connect() as conn:
            from sqlalchemy.orm import Session

            assert station_for_token(Session(conn), old) == "ls-hn"
        rotated = cli("central", "token", "rotate", "ls-hn")
        assert rotated.returncode == 0, rotated.stderr
        new = rotated.stdout.strip()
        with engine.connect() as conn:
            from sqlalchemy.orm import Session

            assert station_for_token(Session(conn), old) is None
            assert station_for_token(Session(conn), new) == "ls-hn"
        revoked = cli("central", "token", "revoke", "ls-hn")
        assert revoked.returncode == 0 and "1" in revoked.stdout
        with engine.connect() as conn:
            from sqlalchemy.orm import Session

            assert station_for_token(Session(conn), new) is None
    finally:
        engine.dispose()
    # Unknown station, unsafe id: one line, exit 2.
    for args in (("revoke", "nobody"), ("../x", "--name", "x")):
        r = cli("central", "token", *args)
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_an_expired_token_stops_working(app, centre) -> None:  # noqa: ANN001
    with centre.services.sessions.begin() as session:
        short = issue_token(session, "ls-hn", ttl_days=0.5 / 86400)  # half a second
    with TestClient(app) as client:
        ok = client.post(INGEST_PATH, content=batch().model_dump_json(), headers=headers(short))
        time.sleep(0.6)
        late = client.post(INGEST_PATH, content=batch().model_dump_json(),
                           headers=headers(short))
    assert ok.status_code == 200 and late.status_code == 403


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_time_series_down_is_503_and_leaves_no_case(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    config = centre_config(request, tmp_path / "c", "embedded")
    dead = f"http://127.0.0.1:{_dead_port()}"
    down = type(config)(home=config.home, database_url=config.database_url,
                        timeseries={"backend": "influx", "influx_url": dead,
                                    "database": "x", "timeout_s": 2.0})
    centre = open_test_centre(down)
    try:
        b = batch(items=[unknown_emission()])
        with TestClient(create_app(services=centre.services)) as client:
            r = client.post(INGEST_PATH, content=b.model_dump_json(),
                            headers=headers(centre.tokens["ls-hn"]))
        assert r.status_code == 503
        assert "127.0.0.1" not in r.text and "INSERT" not in r.text.upper()
        # Compliance is in the same unit of work as the writes: no case, no ledger row.
        assert CaseService(centre.services.sessions).list_cases() == []
        with centre.services.sessions() as s:
            assert s.get(IngestedBatch, ("ls-hn", b.batch_id)) is None
    finally:
        centre.services.close()


@pytest.mark.postgres
def test_database_down_is_503_without_sql(
    request: pytest.FixtureRequest, tmp_path: Path, pg_url: str
) -> None:
    config = centre_config(request, tmp_path / "c", "embedded")
    config = type(config)(home=config.home, database_url=pg_url,
                          timeseries=config.timeseries)
    centre = open_test_centre(config)
    try:
        # The same services, their database now unreachable (a PostgreSQL that is down).
        dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_dead_port()}/x")
        centre.services.sessions.configure(bind=dead)
        with TestClient(create_app(services=centre.services)) as client:
            r = client.post(INGEST_PATH, content=batch().model_dump_json(),
                            headers=headers(centre.tokens["ls-hn"]))
        assert r.status_code == 503, r.text
        text = r.text.upper()
        assert "SELECT" not in text and "POSTGRES" not in text and "127.0.0.1" not in text
        json.loads(r.text)
        dead.dispose()
    finally:
        centre.services.close()
