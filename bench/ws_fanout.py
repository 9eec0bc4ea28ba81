"""Live spectrum to many WebSocket clients while ingest runs.

The centre is served in this process (uvicorn, embedded stores in a temp folder);
one station POSTs spectrum batches over HTTP as fast as the centre takes them (each
batch: one spectrum of ``--bins`` bins, so one live frame per batch). Phase A runs
ingest alone; phase B runs the same ingest with ``--clients`` WebSocket viewers
(in a child process, so their decoding does not share this process's GIL) plus one
stalled viewer that never reads, while ``--hub-rate`` more frames/s of another band
of the same station go straight to the live hub (another receiver's sweeps: the
fan-out's capacity beyond what ingest on this machine delivers). Reported: batches/s
in both phases (their ratio says what the viewers cost ingest), frames/s delivered
to each viewer (min, mean), and the frames dropped for the stalled one.

    .venv/bin/python bench/ws_fanout.py [--clients 20] [--seconds 10] [--bins 2048]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# bench/ holds dsp.py (the DSP benchmark), which would shadow the dsp package.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(REPO)

NS = 1_000_000_000
PASSWORD = "bench-password"


def _viewers(url: str, token: str, n: int, seconds: float, ready, out) -> None:  # noqa: ANN001
    """Child process: ``n`` reading viewers and one stalled viewer; frame counts out."""
    import websockets

    async def viewer(counts: list[int], k: int, start: asyncio.Event) -> None:
        async with websockets.connect(f"{url}?access_token={token}", max_size=None) as ws:
            await start.wait()
            t_end = time.monotonic() + seconds
            while time.monotonic() < t_end:
                try:
                    await asyncio.wait_for(ws.recv(), timeout=max(0.01, t_end - time.monotonic()))
                except TimeoutError:
                    break
                counts[k] += 1

    async def main() -> None:
        counts = [0] * n
        start = asyncio.Event()
        stalled = await websockets.connect(f"{url}?access_token={token}", max_size=None,
                                           max_queue=1)
        tasks = [asyncio.create_task(viewer(counts, k, start)) for k in range(n)]
        await asyncio.sleep(1.0)  # every viewer connected
        ready.set()
        start.set()
        await asyncio.gather(*tasks)
        stalled.transport.abort()
        out.put(counts)

    asyncio.run(main())


def _ingest(http, token: str, bins: int, seconds: float, seq0: int) -> int:  # noqa: ANN001
    import numpy as np

    from dsp.types import Spectrum
    from stations.batch import Batch, SpectrumItem, new_batch_id

    rng = np.random.default_rng(0)
    power = rng.normal(-90, 3, bins).astype("f4")
    n = 0
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        seq = seq0 + n
        t = 1_772_413_200 * NS + seq * 10**8
        item = SpectrumItem.from_spectrum(Spectrum(
            f_start_hz=87.5e6, f_step_hz=10e3, power_db=power, power_unit="dBFS", rbw_hz=15e3,
            t_start_ns=t, t_end_ns=t + 10**6, receiver_id="rx0"), band="fm")
        batch = Batch(batch_id=new_batch_id(), station_id="ls-bench", seq=seq, created_t_ns=t,
                      items=[item])
        r = http.post("/api/v1/ingest/batches", content=batch.model_dump_json(),
                      headers={"Authorization": f"Bearer {token}",
                               "Content-Type": "application/json"})
        r.raise_for_status()
        n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bins", type=int, default=2048)
    parser.add_argument("--hub-rate", type=float, default=20.0,
                        help="extra frames/s published straight to the hub in phase B")
    args = parser.parse_args()

    import httpx

    from api.app import CentralConfig, create_app, open_central
    from api.serve import BackgroundServer
    from api.users import UserService
    from centre.tokens import issue_token, register_station
    from dsp.types import GeoPosition

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        services = open_central(CentralConfig(
            home=home, database_url=f"sqlite:///{home / 'rfwatch.db'}",
            timeseries={"backend": "embedded", "path": home / "ts.sqlite"}))
        with services.sessions.begin() as session:
            register_station(session, "ls-bench", name="bench", kind="fixed",
                             position=GeoPosition(21.9, 106.7))
            station_token = issue_token(session, "ls-bench")
        UserService(services.sessions).add("viewer", "inspector", PASSWORD, actor="bench")
        with BackgroundServer(create_app(services=services)) as server, \
                httpx.Client(base_url=server.url, timeout=30) as http:
            user_token = http.post("/api/v1/auth/token", data={
                "username": "viewer", "password": PASSWORD}).json()["access_token"]
            alone = _ingest(http, station_token, args.bins, args.seconds, 0)
            rate_alone = alone / args.seconds

            ctx = mp.get_context("spawn")
            ready, out = ctx.Event(), ctx.Queue()
            ws_url = server.url.replace("http", "ws") + "/api/v1/live/ls-bench"
            child = ctx.Process(target=_viewers, args=(ws_url, user_token, args.clients,
                                                       args.seconds, ready, out))
            child.start()
            if not ready.wait(60):
                raise SystemExit("viewers did not connect")
            result: dict = {}
            thread = threading.Thread(target=lambda: result.setdefault(
                "n", _ingest(http, station_token, args.bins, args.seconds, 10**6)))
            stop = threading.Event()
            published = [0]

            def direct() -> None:
                from api.live import SpectrumFrame

                levels = tuple(float(-90 + k % 40) for k in range(args.bins))
                period = 1.0 / args.hub_rate
                t_next = time.perf_counter()
                while not stop.is_set():
                    services.hub.publish(SpectrumFrame("ls-bench", "uhf", 470e6, 10e3, levels,
                                                       "dBFS", published[0]))
                    published[0] += 1
                    t_next += period
                    time.sleep(max(0.0, t_next - time.perf_counter()))

            extra = threading.Thread(target=direct, daemon=True)
            thread.start()
            if args.hub_rate > 0:
                extra.start()
            counts = out.get(timeout=args.seconds + 60)
            stop.set()
            thread.join()
            child.join()
            time.sleep(0.5)
            fan = server.server.config.app.state.live_fanout
            drops = max([fan.max_dropped, *(c.dropped for c in fan._clients)])
        services.close()
    rate_with = result["n"] / args.seconds
    per_client = [c / args.seconds for c in counts]
    print(f"ingest alone:        {rate_alone:7.1f} batches/s ({args.bins} bins each)")
    print(f"ingest with viewers: {rate_with:7.1f} batches/s  (ratio {rate_with / rate_alone:.2f})")
    print(f"viewers: {args.clients} reading + 1 stalled")
    print(f"frames/s per viewer: min {min(per_client):.1f}, mean "
          f"{sum(per_client) / len(per_client):.1f}; delivered in all "
          f"{sum(per_client):.0f} frames/s")
    total = result["n"] + published[0]
    print(f"frames published: {total / args.seconds:.1f}/s ({result['n']} from ingest, "
          f"{published[0]} straight to the hub); delivered / published per viewer: "
          f"{sum(counts) / max(1, total) / args.clients:.2f}")
    print(f"most frames dropped for one viewer (the stalled one): {drops}")


if __name__ == "__main__":
    main()
