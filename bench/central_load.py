"""How many stations, each sending a sweep every 5 s, the centre keeps up with, with
1, 2, 4, ... worker processes.

The centre runs as its own process (``rfwatch central run --workers N``) on the
InfluxDB backend (``RFWATCH_TEST_INFLUX_URL``, a fresh database) and, when
``RFWATCH_TEST_PG_ADMIN_URL`` is set, a fresh PostgreSQL database (needed for N > 1;
otherwise a SQLite file) holding the demo's licences. Each simulated station has its
own token and sends, every ``--period-s`` seconds (staggered), one batch holding a real
FM-band sweep made by the simulator at a border site (87.5-108 MHz, 5 kHz RBW, its emissions and a
health sample): the path of a real batch, through HTTP, validation, compliance,
the duplicate ledger and InfluxDB.

For each station count N (ramped up), the load runs for ``--seconds``; the centre
*keeps up* when every batch is accepted, the last answers come within one period
of the end (no backlog) and the
95th-percentile latency stays under the period. The answer is the largest N that
keeps up.

    .venv/bin/python bench/central_load.py [--workers 2] [--counts 50,100,150,200]
        [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
# bench/ holds dsp.py (the DSP benchmark), which would shadow the dsp package.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(REPO)
RFWATCH = str(Path(sys.executable).with_name("rfwatch"))
NS = 1_000_000_000


def sweep_items() -> list:
    """One real FM-band sweep of the Hữu Nghị site (simulator), as batch items."""
    from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path
    from stations.batch import EmissionItem, HealthItem, SpectrumItem
    from stations.config import ReceiverConfig, SweepTask
    from stations.health import ReceiverHealth
    from stations.tasks import SweepRunner, TaskContext

    scene = Scene.from_file(scene_path("lang_son_demo"))
    rx = SimulatorReceiver(scene, "huu-nghi", seed=1)
    rx.open()
    rx.set_gain(None)
    items: list = []
    task = SweepTask(type="sweep", name="fm", f_start_hz=87.5e6, f_stop_hz=108e6,
                     rbw_hz=5e3, every_s=5, n_averages=64)
    ctx = TaskContext("bench", ReceiverConfig(id="rx0", spec="simulator:x"),
                      ReceiverHealth("rx0"), items.append, lambda: None, lambda: 0)
    SweepRunner(task)(rx, ctx)
    items.append(HealthItem(receiver_id="rx0", state="open", overloads=0, dropped_samples=0,
                            failures=0, reopens=0, gap_s=0.0, cpu_percent=20.0,
                            outbox_depth=0, t_ns=scene.start_ns))
    n_bins = next(i.n_bins for i in items if isinstance(i, SpectrumItem))
    n_em = sum(isinstance(i, EmissionItem) for i in items)
    print(f"one sweep: {n_bins} bins, {n_em} emissions, 1 health sample")
    return items


def fresh_pg(admin_url: str) -> tuple[str, str]:
    """A fresh PostgreSQL database: (its URL, its name)."""
    import sqlalchemy as sa

    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg(admin_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def prepare(home: Path, n_stations: int, url: str) -> dict[str, str]:
    """Migrate the DB, import the demo licences, register stations and issue tokens."""
    from centre.tokens import issue_token, register_station
    from compliance.importers import read_foreign_stations, read_licences
    from compliance.registry import save_foreign_stations, save_licences
    from dsp.types import GeoPosition
    from stations.sites import site_path
    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    upgrade(url)
    engine = make_engine(url)
    tokens = {}
    with make_session_factory(engine).begin() as session:
        save_licences(session, read_licences(site_path("demo_licences.csv")))
        save_foreign_stations(session, read_foreign_stations(site_path("demo_foreign.csv")))
        for k in range(n_stations):
            sid = f"b{k:04d}"
            register_station(session, sid, name=sid, kind="fixed",
                             position=GeoPosition(21.9 + k * 1e-4, 106.7))
            tokens[sid] = issue_token(session, sid)
    engine.dispose()
    return tokens


def start_centre(home: Path, influx_url: str, database: str, port: int, *, db_url: str,
                 workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "RFWATCH_HOME": str(home),
        "RFWATCH_DB_URL": db_url,
        "RFWATCH_TIMESERIES_BACKEND": "influx",
        "RFWATCH_INFLUX__URL": influx_url,
        "RFWATCH_INFLUX__DATABASE": database,
    }
    log = (home / "centre.log").open("wb")
    proc = subprocess.Popen(
        [RFWATCH, "central", "run", "--port", str(port), "--workers", str(workers)], env=env,
        stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 401:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"centre did not start: {(home / 'centre.log').read_text()[-2000:]}")


def payload_template(items: list) -> tuple[str, str]:
    """JSON of a batch split around its id, station and times (filled per request)."""
    from stations.batch import Batch

    batch = Batch(batch_id="BATCHIDXXXXXXXXXXXXXXXXXXXXXXXXX", station_id="zzstationzz", seq=1,
                  created_t_ns=1, items=items)
    return batch.model_dump_json(), batch.batch_id


async def run_load(url: str, tokens: dict[str, str], template: str, period_s: float,
                   seconds: float) -> dict:
    n = len(tokens)
    latencies: list[float] = []
    errors: list[str] = []
    sent = 0
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:

        async def station(k: int, sid: str, token: str) -> None:
            nonlocal sent
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            body_base = template.replace("zzstationzz", sid)
            await asyncio.sleep(period_s * k / n)  # staggered, as real stations are
            t_next = time.monotonic()
            seq = 0
            while t_next < t_end:
                seq += 1
                body = body_base.replace("BATCHIDXXXXXXXXXXXXXXXXXXXXXXXXX", uuid.uuid4().hex)
                t0 = time.monotonic()
                sent += 1
                try:
                    r = await client.post(url, content=body, headers=headers)
                    if r.status_code != 200 or r.json().get("status") != "accepted":
                        errors.append(f"{r.status_code} {r.text[:200]}")
                    else:
                        latencies.append(time.monotonic() - t0)
                except httpx.HTTPError as err:
                    errors.append(repr(err))
                t_next += period_s
                await asyncio.sleep(max(0.0, t_next - time.monotonic()))

        t_start = time.monotonic()
        t_end = t_start + seconds
        await asyncio.gather(*(station(k, s, t) for k, (s, t) in enumerate(tokens.items())))
        elapsed = time.monotonic() - t_start
    offered = n / period_s
    done = len(latencies) / elapsed
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 20 else float("nan")
    return {
        "stations": n,
        "offered_per_s": offered,
        "accepted_per_s": done,
        "sent": sent,
        "accepted": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "p50_s": statistics.median(latencies) if latencies else float("nan"),
        "p95_s": p95,
        "elapsed_s": elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--counts", default="50,100,150,200,300")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--period-s", type=float, default=5.0)
    ap.add_argument("--port", type=int, default=18611)
    ap.add_argument("--workers", type=int, default=1, help="centre worker processes")
    args = ap.parse_args()
    pg_admin = os.environ.get("RFWATCH_TEST_PG_ADMIN_URL")
    if args.workers > 1 and not pg_admin:
        raise SystemExit("--workers > 1 needs PostgreSQL: set RFWATCH_TEST_PG_ADMIN_URL")
    influx_url = os.environ.get("RFWATCH_TEST_INFLUX_URL")
    if not influx_url:
        raise SystemExit("set RFWATCH_TEST_INFLUX_URL (source /tmp/rfwatch-services/env)")
    counts = [int(c) for c in args.counts.split(",")]
    items = sweep_items()
    template, _ = payload_template(items)
    print(f"batch size: {len(template) / 1024:.0f} KiB of JSON")
    best = 0
    for i, n in enumerate(counts):
        with tempfile.TemporaryDirectory(prefix="rfwatch-bench-") as tmp:
            home = Path(tmp)
            database = f"bench_{uuid.uuid4().hex[:8]}"
            if pg_admin:
                db_url, pg_name = fresh_pg(pg_admin)
            else:
                db_url, pg_name = f"sqlite:///{home / 'rfwatch.db'}", None
            tokens = prepare(home, n, db_url)
            centre = start_centre(home, influx_url, database, args.port + i, db_url=db_url,
                                  workers=args.workers)
            try:
                url = f"http://127.0.0.1:{args.port + i}/api/v1/ingest/batches"
                r = asyncio.run(run_load(url, tokens, template, args.period_s, args.seconds))
            finally:
                centre.terminate()
                try:
                    centre.wait(10)
                except subprocess.TimeoutExpired:  # keep-alive connections hold it open
                    centre.kill()
                    centre.wait(10)
                httpx.post(f"{influx_url}/query", params={"q": f'DROP DATABASE "{database}"'})
                if pg_name is not None:
                    drop_pg(pg_admin, pg_name)
                centre_log = (home / "centre.log").read_text(errors="replace")
        # Keeps up: every batch accepted, no backlog (the last answers came within one
        # period of the end) and 95 % of the answers within one period.
        ok = (
            r["errors"] == 0
            and r["accepted"] == r["sent"]
            and r["elapsed_s"] <= args.seconds + args.period_s
            and r["p95_s"] < args.period_s
        )
        print(
            f"N={n:4d}: offered {r['offered_per_s']:6.1f} batches/s, accepted "
            f"{r['accepted_per_s']:6.1f}/s, p50 {r['p50_s'] * 1e3:6.0f} ms, "
            f"p95 {r['p95_s'] * 1e3:6.0f} ms, errors {r['errors']} -> "
            f"{'keeps up' if ok else 'FALLS BEHIND'} {r['first_error'][:120]}"
        )
        if ok:
            best = n
        else:
            print("centre log (end):", centre_log[-1500:])
            break
    db = "PostgreSQL" if pg_admin else "SQLite"
    print(f"RESULT: the centre with {args.workers} worker process(es) keeps up with {best} "
          f"stations (a sweep every {args.period_s:g} s each; InfluxDB and {db}; "
          f"{os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
