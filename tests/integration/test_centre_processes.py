"""Two centre processes on one PostgreSQL and one InfluxDB, killed with SIGKILL and
restarted while four stations deliver: every batch is in the ledger once, and each
emitter is one case.

Each batch is posted to both centres at once (the worst a load balancer that retries
can do), so the two processes race for the same batch and for the same emitters;
exactly-once and case folding must hold through the database alone.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from centre.models import IngestedBatch
from centre.tokens import issue_token, register_station
from compliance.models import Case, FindingRow
from stations.batch import Batch, EmissionItem, HealthItem, new_batch_id
from stations.uplink import INGEST_PATH
from storage.db import make_engine, make_session_factory
from storage.migrations import upgrade

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))
NS = 1_000_000_000
T0 = 1_772_413_200 * NS
STATIONS = tuple(f"s-{k}" for k in range(8))
#: Unknown emitters every station hears (well apart: one case each).
EMITTERS_HZ = tuple(163.0e6 + 0.25e6 * k for k in range(8))
N_BATCHES = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_batch(station: str, k: int) -> Batch:
    t = T0 + k * 5 * NS
    items: list = [
        EmissionItem(band="vhf", receiver_id="rx0", f_hz=f + 200.0 * (k % 3), bw_99_hz=11e3,
                     bw_xdb_hz=14e3, power_db=-40.0, peak_power_db=-35.0, snr_db=30.0,
                     noise_floor_db=-70.0, power_unit="dBFS", f_resolution_hz=2.5e3,
                     t_first_ns=t, t_last_ns=t)
        for f in EMITTERS_HZ
    ]
    items.append(HealthItem(receiver_id="rx0", state="open", overloads=0, dropped_samples=0,
                            failures=0, reopens=0, gap_s=0.0, outbox_depth=0, t_ns=t))
    return Batch(batch_id=new_batch_id(), station_id=station, seq=k + 1, created_t_ns=t,
                 items=items)


class Centre:
    """One `rfwatch central run` process on a fixed port, restartable."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as fh:
            self.proc = subprocess.Popen(
                [RFWATCH, "central", "run", "--port", str(self.port)],
                env=self.env, stdout=fh, stderr=fh, stdin=subprocess.DEVNULL,
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def wait_up(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/api/v1/health", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"centre on {self.port} did not start: {self.log.read_text()}")


@pytest.mark.influx
@pytest.mark.postgres
@pytest.mark.slow
def test_two_centres_killed_every_batch_once_one_case_per_emitter(
    tmp_path: Path, pg_url: str, influx_url: str, influx_database: str
) -> None:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    tokens = {}
    with sessions.begin() as session:
        for sid in STATIONS:
            register_station(session, sid, name=sid, kind="fixed", position=None)
            tokens[sid] = issue_token(session, sid)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RFWATCH_HOME": str(tmp_path / "home"),
        "RFWATCH_DB_URL": pg_url,
        "RFWATCH_TIMESERIES_BACKEND": "influx",
        "RFWATCH_INFLUX__URL": influx_url,
        "RFWATCH_INFLUX__DATABASE": influx_database,
    }
    centres = [Centre(free_port(), env, tmp_path / f"centre{i}.log") for i in range(2)]
    for c in centres:
        c.start()
    for c in centres:
        c.wait_up()

    stop = threading.Event()
    rng = random.Random(7)
    rng_post = random.Random(8)

    def killer() -> None:
        # SIGKILL one centre at a random moment, restart it; again and again.
        while not stop.wait(rng.uniform(2.0, 4.0)):
            victim = rng.choice(centres)
            victim.kill()
            victim.start()

    statuses: dict[tuple[str, str], list[str]] = {}
    lock = threading.Lock()

    def post(client: httpx.Client, centre: Centre, station: str, body: str,
             key: tuple[str, str]) -> bool:
        headers = {"Authorization": f"Bearer {tokens[station]}",
                   "Content-Type": "application/json"}
        try:
            r = client.post(centre.url + INGEST_PATH, content=body, headers=headers)
        except httpx.HTTPError:
            return False  # killed mid-request, or not up yet
        if r.status_code != 200:
            assert r.status_code == 503, (r.status_code, r.text[:300])
            return False
        with lock:
            statuses.setdefault(key, []).append(r.json()["status"])
        return True

    start_line = threading.Barrier(len(STATIONS))

    def station_run(station: str) -> list[Batch]:
        batches = [make_batch(station, k) for k in range(N_BATCHES)]
        with httpx.Client(timeout=10.0) as client, ThreadPoolExecutor(2) as pool:
            start_line.wait()  # every station's first sighting at the same moment
            for b in batches:
                body, key = b.model_dump_json(), (station, b.batch_id)
                # The same batch to both centres at the same moment ...
                ok = any([f.result() for f in [
                    pool.submit(post, client, c, station, body, key) for c in centres]])
                # ... then, like a load balancer, to whichever answers, until one takes it.
                deadline = time.monotonic() + 40
                while not ok:
                    assert time.monotonic() < deadline, f"batch {b.batch_id} never delivered"
                    time.sleep(0.2)
                    ok = post(client, rng_post.choice(centres), station, body, key)
        return batches

    kill_thread = threading.Thread(target=killer, daemon=True)
    kill_thread.start()
    try:
        with ThreadPoolExecutor(len(STATIONS)) as pool:
            sent = [b for bs in pool.map(station_run, STATIONS) for b in bs]
    finally:
        stop.set()
        kill_thread.join(timeout=10)
        for c in centres:
            c.kill()
    assert sum(c.kills for c in centres) >= 2

    with sessions() as session:
        ledger = session.execute(
            sa.select(IngestedBatch.station_id, IngestedBatch.batch_id)
        ).all()
        cases = session.scalars(sa.select(Case)).all()
        case_stations = {c.id: set(c.stations) for c in cases}
        n_findings = session.scalar(sa.select(sa.func.count()).select_from(FindingRow))
    engine.dispose()
    # Every batch once in the ledger, none missing, none twice.
    assert sorted(ledger) == sorted((b.station_id, b.batch_id) for b in sent)
    # Accepted at most once per batch, however many posts raced for it.
    for key, seen in statuses.items():
        assert seen.count("accepted") <= 1, (key, seen)
    # One case per emitter, seen by every station.
    assert len(cases) == len(EMITTERS_HZ), [(c.id, c.f_hz) for c in cases]
    for case, f_hz in zip(sorted(cases, key=lambda c: c.f_hz), EMITTERS_HZ, strict=True):
        assert abs(case.f_hz - f_hz) < 1e3
        assert case_stations[case.id] == set(STATIONS)
    assert n_findings >= len(EMITTERS_HZ) * len(STATIONS)
