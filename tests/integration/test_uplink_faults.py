"""Faults between stations and the centre, with the real centre (HTTP, DB, time series).

- The centre is stopped for a while and started again: every batch arrives once
  (PostgreSQL ledger, InfluxDB points counted).
- The station agent (a real ``rfwatch station run`` process) is killed with SIGKILL
  while the centre holds the answer to an upload (mid-batch), and restarted: nothing
  is lost and the re-sent batch is dropped as a duplicate.
- ``rfwatch field sync`` delivers a field kit's outbox, and again is a no-op.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.app import CentralConfig, create_app, open_central
from api.serve import BackgroundServer
from centre.models import IngestedBatch
from centre.tokens import issue_token, register_station
from dsp.types import GeoPosition
from firmware_bridge.simulator import SimulatorReceiver, scene_path
from stations.agent import OutboxSink, StationAgent
from stations.batch import EmissionItem, HealthItem
from stations.config import parse_site_config
from stations.outbox import Outbox
from stations.uplink import Uplink
from storage import names

NS = 1_000_000_000
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))

SITE = """
station: {id: huu-nghi, name: "Hữu Nghị", kind: fixed,
          position: {lat_deg: 21.985, lon_deg: 106.705}}
centre: {url: "CENTRE_URL", backoff_initial_s: 0.2, backoff_max_s: 1.0, timeout_s: 20}
receivers: [{id: rx0, spec: "simulator:lang_son_demo#huu-nghi", gain_db: null}]
tasks:
  - {type: sweep, name: vhf, f_start_hz: 163 MHz, f_stop_hz: 164 MHz, rbw_hz: 10 kHz,
     every_s: EVERY, n_averages: 8}
outbox: {path: "OUTBOX"}
health_every_s: 2
"""


class CountingSink(OutboxSink):
    """The real outbox sink, counting what went into it (what the centre must get)."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(outbox)
        self.emissions = 0
        self.health = 0

    def emit(self, item) -> None:  # noqa: ANN001
        self.emissions += isinstance(item, EmissionItem)
        self.health += isinstance(item, HealthItem)
        super().emit(item)


def _centre(home: Path, db_url: str, ts: dict):  # noqa: ANN202
    services = open_central(CentralConfig(home=home, database_url=db_url, timeseries=ts))
    with services.sessions.begin() as session:
        register_station(session, "huu-nghi", name="Hữu Nghị", kind="fixed",
                         position=GeoPosition(21.985, 106.705))
        token = issue_token(session, "huu-nghi")
    return services, token


def _ledger(services) -> list[str]:  # noqa: ANN001
    with services.sessions() as s:
        return list(s.scalars(sa.select(IngestedBatch.batch_id)))


@pytest.mark.influx
@pytest.mark.postgres
@pytest.mark.slow
def test_centre_stopped_and_restarted_every_batch_once(
    tmp_path: Path, pg_url: str, influx_url: str, influx_database: str
) -> None:
    services, token = _centre(
        tmp_path / "centre",
        pg_url,
        {"backend": "influx", "influx_url": influx_url, "database": influx_database},
    )
    try:
        app = create_app(services=services)
        server = BackgroundServer(app).start()
        port = server.port
        cfg = parse_site_config(
            SITE.replace("CENTRE_URL", server.url).replace("EVERY", "1")
            .replace("OUTBOX", str(tmp_path / "outbox.sqlite"))
        )
        rx = SimulatorReceiver.from_scene_file(scene_path("lang_son_demo"), "huu-nghi", seed=1)
        # Scene time 12 s: the intermittent 163.45 MHz transmitter is on the air (10-40 s);
        # the simulator's clock moves only by the samples read, so it stays on.
        rx = SimulatorReceiver(rx.scene, "huu-nghi", seed=1, t0_ns=rx.scene.start_ns + 12 * NS)
        t = [rx.t_ns]
        outbox = Outbox(tmp_path / "outbox.sqlite", station_id="huu-nghi")
        sink = CountingSink(outbox)
        # The uplink's back-off runs on the same stepped clock: no real waiting.
        up = Uplink(outbox, url=server.url, token=token, clock=lambda: t[0] / NS,
                    backoff_initial_s=1.0, backoff_max_s=8.0)
        agent = StationAgent(cfg, open_receiver=lambda _c: rx, sink=sink, clock=lambda: t[0],
                             sleep=lambda s: None, outbox=outbox, uplink=up)

        def passes(n: int) -> None:
            for _ in range(n):
                agent.run_once()
                t[0] += NS

        passes(6)
        assert outbox.depth() == 0 and up.total_sent > 0
        server.stop()  # the centre goes away for a while
        passes(20)
        assert outbox.depth() >= 15, "the station kept measuring and queueing"
        assert up.consecutive_failures >= 3 and up.last_error
        server = BackgroundServer(app, port=port).start()  # back, same address
        try:
            for _ in range(40):
                if outbox.depth() == 0:
                    break
                passes(1)
            assert outbox.depth() == 0
        finally:
            server.stop()
        all_ids = outbox.batch_ids()
        ledger = _ledger(services)
        assert sorted(ledger) == sorted(all_ids) and len(set(ledger)) == len(ledger)
        assert services.ingest.duplicates == 0
        # The time series hold each emission and health sample once.
        ts = services.timeseries
        span = {"t_start_ns": 0, "t_end_ns": 2**62, "tags": {names.TAG_STATION: "huu-nghi"}}
        assert len(ts.query(names.EMISSION, names.FIELD_F_HZ, **span)) == sink.emissions > 0
        assert len(ts.query(names.STATION_HEALTH, names.FIELD_OUTBOX_DEPTH, **span)) == sink.health
        # Health told the centre how deep the queue got while it was away.
        depth = ts.query(names.STATION_HEALTH, names.FIELD_OUTBOX_DEPTH, aggregate="max", **span)
        assert depth[0].value >= 5
    finally:
        services.close()


class HoldingProxy:
    """A TCP proxy to the centre that can hold the centre's answers (a slow network).

    While ``hold`` is set, every chunk from the centre waits ``hold_s`` before it is
    passed on, and ``holding`` is set: the centre has already processed the request.
    """

    def __init__(self, upstream_port: int, hold_s: float = 30.0) -> None:
        self.upstream_port = upstream_port
        self.hold_s = hold_s
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.requests = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        try:
            while data := src.recv(65536):
                if not answers and data.startswith(b"POST"):
                    self.requests += 1
                if answers and self.hold.is_set():
                    self.holding.set()
                    time.sleep(self.hold_s)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


def _station(site: Path, home: Path, token: str, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "RFWATCH_STATION_TOKEN": token, "RFWATCH_HOME": str(home)}
    return subprocess.Popen(
        [RFWATCH, "station", "run", "--config", str(site), "--seconds", str(seconds)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_agent_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
    home = tmp_path / "centre"
    services, token = _centre(
        home, f"sqlite:///{tmp_path / 'centre.db'}",
        {"backend": "embedded", "path": tmp_path / "ts.sqlite"},
    )
    server = BackgroundServer(create_app(services=services)).start()
    proxy = HoldingProxy(server.port)
    site = tmp_path / "site.yaml"
    site.write_text(
        SITE.replace("CENTRE_URL", proxy.url).replace("EVERY", "0.5")
        .replace("OUTBOX", str(tmp_path / "outbox.sqlite")),
        encoding="utf-8",
    )
    try:
        agent = _station(site, tmp_path / "station", token, seconds=120)
        deadline = time.monotonic() + 60
        while len(_ledger(services)) < 3:
            assert agent.poll() is None, agent.stdout.read().decode()
            assert time.monotonic() < deadline, "the station never delivered"
            time.sleep(0.1)
        proxy.hold.set()
        assert proxy.holding.wait(30), "no upload while holding"
        taken = len(_ledger(services))
        agent.send_signal(signal.SIGKILL)  # mid-batch: the centre has it, the station
        agent.wait(10)                     # never heard so
        assert agent.returncode == -signal.SIGKILL
        proxy.hold.clear()
        # The outbox survived the kill intact: every row parses, none half-written.
        box = Outbox(tmp_path / "outbox.sqlite", station_id="huu-nghi")
        pending = box.pending(limit=10_000)
        assert pending, "the batch in flight is still pending at the station"
        assert pending[0].batch_id in _ledger(services)
        box.close()
        again = _station(site, tmp_path / "station", token, seconds=4)
        out, _ = again.communicate(timeout=90)
        assert again.returncode == 0, out.decode()
        # Whatever the restarted agent measured last is delivered by one more pass.
        box = Outbox(tmp_path / "outbox.sqlite", station_id="huu-nghi")
        up = Uplink(box, url=server.url, token=token)
        assert up.drain(timeout_s=30)
        all_ids = box.batch_ids()
        box.close()
        ledger = _ledger(services)
        assert sorted(ledger) == sorted(all_ids), "every batch arrived, none twice"
        assert len(ledger) > taken
        assert services.ingest.duplicates >= 1, "the batch in flight was re-sent and dropped"
    finally:
        proxy.close()
        server.stop()
        services.close()


def test_field_sync_is_idempotent(tmp_path: Path) -> None:
    services, token = _centre(
        tmp_path / "centre", f"sqlite:///{tmp_path / 'centre.db'}",
        {"backend": "embedded", "path": tmp_path / "ts.sqlite"},
    )
    with services.sessions.begin() as session:
        register_station(session, "field-kit", name="kit", kind="field_kit", position=None)
        kit_token = issue_token(session, "field-kit")
    server = BackgroundServer(create_app(services=services)).start()
    home = tmp_path / "kit"
    site = tmp_path / "kit.yaml"
    site.write_text(
        f'station: {{id: field-kit, name: kit, kind: field_kit}}\n'
        f'centre: {{url: "{server.url}"}}\n'
        'receivers: [{id: rx0, spec: "simulator:lang_son_demo#field-kit"}]\n',
        encoding="utf-8",
    )
    box = Outbox(home / "stations" / "field-kit" / "outbox.sqlite", station_id="field-kit",
                 station_kind="field_kit")
    for i in range(7):
        box.append([HealthItem(receiver_id="rx0", state="open", overloads=0, dropped_samples=0,
                               failures=0, reopens=0, gap_s=0.0, outbox_depth=i,
                               gps_fix=True, t_ns=1_772_413_200 * NS + i)],
                   created_t_ns=1_772_413_200 * NS + i)
    box.close()
    env = {**os.environ, "RFWATCH_STATION_TOKEN": kit_token}
    try:
        cmd = [RFWATCH, "--home", str(home), "field", "sync", "--config", str(site)]
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "delivered 7" in first.stdout
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0 and "delivered 0" in second.stdout
        assert len(_ledger(services)) == 7
        box = Outbox(home / "stations" / "field-kit" / "outbox.sqlite", station_id="field-kit",
                     station_kind="field_kit")
        box.append([], created_t_ns=1_772_413_300 * NS)
        box.close()
        bad = subprocess.run(cmd, env={**env, "RFWATCH_STATION_TOKEN": "nope"},
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and "403" in bad.stderr
        assert "Traceback" not in bad.stderr and len(_ledger(services)) == 7
    finally:
        server.stop()
        services.close()


def test_central_token_cli_registers_and_issues(tmp_path: Path) -> None:
    from centre.tokens import station_for_token
    from storage.db import make_engine, make_session_factory

    home = tmp_path / "home"
    cmd = [RFWATCH, "--home", str(home), "central", "token", "ls-x", "--name", "Trạm X",
           "--lat", "21.9", "--lon", "106.7"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    t1, t2 = first.stdout.strip(), second.stdout.strip()
    assert t1 != t2 and len(t1) >= 40
    engine = make_engine(f"sqlite:///{home / 'rfwatch.db'}")
    with make_session_factory(engine)() as session:
        assert station_for_token(session, t1) == "ls-x" == station_for_token(session, t2)
        assert station_for_token(session, t1 + "x") is None
        # Only the hash is stored.
        stored = session.execute(sa.text("SELECT token_sha256 FROM station_tokens")).all()
        assert t1 not in {r[0] for r in stored} and len(stored) == 2
    engine.dispose()
