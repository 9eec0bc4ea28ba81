"""Live spectrum frames and alarms over real WebSockets against the served app."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from api.app import create_app
from api.live_frames import decode_frame
from api.serve import BackgroundServer

from .conftest import PASSWORD, make_batch


@pytest.fixture
def served(desk) -> Iterator[tuple[str, httpx.Client]]:  # noqa: ANN001
    with BackgroundServer(create_app(services=desk.services)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            yield server.url, http


def _token(http: httpx.Client, user: str) -> str:
    r = http.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    return r.json()["access_token"]


def _ingest(http: httpx.Client, desk, batch) -> dict:  # noqa: ANN001
    r = http.post("/api/v1/ingest/batches", content=batch.model_dump_json(),
                  headers={"Authorization": f"Bearer {desk.tokens[batch.station_id]}",
                           "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


def test_ingested_spectrum_arrives_as_a_binary_frame(served, desk) -> None:  # noqa: ANN001
    url, http = served
    ws_url = url.replace("http", "ws") + "/api/v1/live/ls-hn"
    token = _token(http, "field1")
    batch = make_batch(n_bins=800)
    with connect(f"{ws_url}?band=vhf&access_token={token}") as ws:
        time.sleep(0.2)
        _ingest(http, desk, batch)
        frame = decode_frame(ws.recv(timeout=5))
    spectrum = batch.items[0]
    assert frame["band"] == "vhf" and frame["unit"] == "dBFS"
    assert frame["n_bins"] == 800 and frame["f_start_hz"] == spectrum.f_start_hz
    expected = spectrum.power_db()
    assert max(abs(a - b) for a, b in zip(frame["power_db"], expected, strict=True)) <= 0.005


def test_a_stalled_client_drops_frames_and_never_slows_the_hub(served, desk) -> None:  # noqa: ANN001
    import threading

    from api.live import SpectrumFrame

    url, http = served
    ws_url = url.replace("http", "ws") + "/api/v1/live/ls-hn"
    token = _token(http, "inspector1")
    # 128 KiB frames: 400 of them (52 MB) overflow the loopback socket buffers even
    # when Linux has grown them to their maximum (a few MB each way), so the stalled
    # client's queue on the server must drop.
    levels = tuple(float(-90 + (k % 50)) for k in range(65536))
    n = 400
    received: list[int] = []
    with connect(f"{ws_url}?access_token={token}", max_size=None, close_timeout=0.2) as stalled, \
            connect(f"{ws_url}?access_token={token}", max_size=None) as fast:

        def read() -> None:
            while True:
                t_ns = decode_frame(fast.recv(timeout=10))["t_ns"]
                received.append(t_ns)
                if t_ns == n - 1:
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(0.3)
        publish_s = 0.0
        for k in range(n):
            t = time.perf_counter()
            desk.services.hub.publish(SpectrumFrame("ls-hn", "vhf", 162e6, 2.5e3, levels,
                                                    "dBFS", k))
            publish_s = max(publish_s, time.perf_counter() - t)
            time.sleep(0.001)
        reader.join(timeout=20)
        fan = _FANOUTS[-1]
        drops = sorted(c.dropped for c in fan._clients)
        stalled.close()
    assert received and received[-1] == n - 1, "the reading client got the newest frame"
    assert received == sorted(received), "frames arrive in order"
    assert publish_s < 0.05, f"one publish took {publish_s:.3f} s"
    assert len(drops) == 2 and drops[-1] > 0, "the stalled client's frames were dropped"


_FANOUTS: list = []


@pytest.fixture(autouse=True)
def _capture_fanouts(monkeypatch) -> None:  # noqa: ANN001
    from api.routes import live_ws

    real = live_ws.LiveFanout.__init__

    def init(self, *a, **k) -> None:  # noqa: ANN001, ANN002, ANN003
        real(self, *a, **k)
        _FANOUTS.append(self)

    monkeypatch.setattr(live_ws.LiveFanout, "__init__", init)


def test_new_case_and_new_finding_are_pushed_within_two_seconds(served, desk) -> None:  # noqa: ANN001
    url, http = served
    token = _token(http, "inspector1")
    headers = {"Authorization": f"Bearer {token}"}
    with connect(url.replace("http", "ws") + f"/api/v1/alarms/ws?access_token={token}") as ws:
        time.sleep(0.3)
        t0 = time.perf_counter()
        case_id = _ingest(http, desk, make_batch(f_hz=163.45e6))["case_ids"][0]
        event = json.loads(ws.recv(timeout=5))
        latency_s = time.perf_counter() - t0
        assert event["type"] == "new_case" and event["case_id"] == case_id
        assert latency_s < 2.0
        # The same emitter heard at another station: a new finding on the open case.
        t0 = time.perf_counter()
        again = _ingest(http, desk, make_batch(station="ls-tt", seq=2, f_hz=163.45e6))
        assert again["case_ids"] == [case_id]
        event = json.loads(ws.recv(timeout=5))
        assert event["type"] == "new_finding" and event["case_id"] == case_id
        assert time.perf_counter() - t0 < 2.0
    pending = http.get("/api/v1/alarms", headers=headers).json()
    assert [a["case_id"] for a in pending] == [case_id]
    assert http.post(f"/api/v1/alarms/{case_id}/ack", headers=headers).status_code == 200
    assert http.get("/api/v1/alarms", headers=headers).json() == []
    # Another inspector has not acknowledged it.
    other = {"Authorization": f"Bearer {_token(http, 'admin1')}"}
    assert len(http.get("/api/v1/alarms", headers=other).json()) == 1


def test_alarms_cases_and_users_on_postgres(pg_url: str, tmp_path) -> None:  # noqa: ANN001
    import asyncio

    from fastapi.testclient import TestClient

    from api.alarms import AlarmWatcher
    from api.app import CentralConfig, open_central
    from api.users import UserService
    from centre.tokens import issue_token, register_station
    from dsp.types import GeoPosition

    services = open_central(CentralConfig(
        home=tmp_path, database_url=pg_url,
        timeseries={"backend": "embedded", "path": tmp_path / "ts.sqlite"}))
    try:
        with services.sessions.begin() as session:
            register_station(session, "ls-hn", name="ls-hn", kind="fixed",
                             position=GeoPosition(21.9, 106.7))
            token = issue_token(session, "ls-hn")
        UserService(services.sessions).add("insp", "inspector", PASSWORD, actor="t")
        loop = asyncio.new_event_loop()
        watcher = AlarmWatcher(services.sessions, loop, lambda e: None, poll_s=3600)
        with TestClient(create_app(services=services)) as client:
            r = client.post("/api/v1/ingest/batches", content=make_batch().model_dump_json(),
                            headers={"Authorization": f"Bearer {token}",
                                     "Content-Type": "application/json"})
            case_id = r.json()["case_ids"][0]
            events = watcher.poll_once()
            assert [(e["type"], e["case_id"]) for e in events] == [("new_case", case_id)]
            tok = client.post("/api/v1/auth/token",
                              data={"username": "insp", "password": PASSWORD}).json()
            h = {"Authorization": f"Bearer {tok['access_token']}"}
            assert [a["case_id"] for a in client.get("/api/v1/alarms", headers=h).json()] == [
                case_id]
            assert client.post(f"/api/v1/alarms/{case_id}/ack", headers=h).status_code == 200
            assert client.get("/api/v1/alarms", headers=h).json() == []
            detail = client.post(f"/api/v1/cases/{case_id}/transition", headers=h,
                                 json={"to_status": "triaged", "reason": "r"}).json()
            assert detail["status"] == "triaged" and detail["audit"][-1]["actor"] == "insp"
        watcher.close()
        loop.close()
    finally:
        services.close()
