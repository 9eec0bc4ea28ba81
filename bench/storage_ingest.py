"""Ingest benchmark: points per second into the local influxd and the embedded store.

One process, one thread, the median of ``--runs`` runs (5 by default). The points
are built before the clock starts; the time measured is ``store.write(points)``:
validation, line-protocol encoding (and gzip) plus HTTP and influxd's own work,
or SQLite inserts in one transaction. Each influx run writes into a fresh
database (dropped afterwards); each embedded run into a fresh file.

Spectrum-like data: ``spectrum`` points tagged station x band x f_bin (bounded
cardinality), one float field ``power_dbm``.

Usage::

    .venv/bin/python bench/storage_ingest.py --points 200000 --batch-size 5000

Goal (issue 2): >= 100 000 points/s into influxd; embedded >= a quarter of that.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where a script named like one
# of our packages (e.g. bench/dsp.py) would shadow it: keep bench/ off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from storage import names, open_timeseries  # noqa: E402
from storage.timeseries import Point  # noqa: E402

T0 = 1_700_000_000_000_000_000


def make_points(n: int, *, n_stations: int = 5, n_bins: int = 1024, seed: int = 1) -> list[Point]:
    """``n`` spectrum points: one sweep of ``n_bins`` bins per station per second."""
    rng = np.random.default_rng(seed)
    power = rng.normal(-95.0, 5.0, n).tolist()
    points = []
    for i in range(n):
        sweep, f_bin = divmod(i, n_bins)
        station = sweep % n_stations
        points.append(
            Point(
                names.SPECTRUM,
                {
                    names.TAG_STATION: f"LS{station:02d}",
                    names.TAG_BAND: "fm",
                    names.TAG_F_BIN: str(f_bin),
                },
                {names.FIELD_POWER_DBM: power[i]},
                T0 + (sweep // n_stations) * 1_000_000_000,
            )
        )
    return points


def _time_runs(run_once: Callable[[int], None], runs: int) -> list[float]:
    out = []
    for k in range(runs):
        t = time.perf_counter()
        run_once(k)
        out.append(time.perf_counter() - t)
    return out


def bench_influx(
    url: str, points: list[Point], batch_size: int, runs: int, gzip: bool
) -> list[float]:
    def run_once(k: int) -> None:
        db = f"bench_{uuid.uuid4().hex[:10]}"
        httpx.post(f"{url}/query", params={"q": f'CREATE DATABASE "{db}"'}).raise_for_status()
        store = open_timeseries(
            "influx", influx_url=url, database=db, batch_size=batch_size, gzip=gzip
        )
        try:
            t = time.perf_counter()
            assert store.write(points) == len(points)
            timings.append(time.perf_counter() - t)
        finally:
            store.close()
            httpx.post(f"{url}/query", params={"q": f'DROP DATABASE "{db}"'})

    timings: list[float] = []
    _time_runs(run_once, runs)
    return timings


def bench_embedded(points: list[Point], runs: int) -> list[float]:
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:

        def run_once(k: int) -> None:
            store = open_timeseries("embedded", path=Path(tmp) / f"run{k}.sqlite")
            try:
                t = time.perf_counter()
                assert store.write(points) == len(points)
                timings.append(time.perf_counter() - t)
            finally:
                store.close()

        _time_runs(run_once, runs)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000, help="points per run")
    parser.add_argument("--batch-size", type=int, default=5000, help="points per /write")
    parser.add_argument("--runs", type=int, default=5, help="runs per backend (median)")
    parser.add_argument(
        "--influx-url",
        default=os.environ.get("RFWATCH_TEST_INFLUX_URL", "http://127.0.0.1:18086"),
        help="influxd base URL (default: $RFWATCH_TEST_INFLUX_URL)",
    )
    parser.add_argument("--no-gzip", action="store_true", help="send write bodies uncompressed")
    parser.add_argument(
        "--backend", choices=["both", "influx", "embedded"], default="both", help="what to bench"
    )
    args = parser.parse_args()

    points = make_points(args.points)
    results: dict[str, list[float]] = {}
    if args.backend in ("both", "influx"):
        label = f"influxd {args.influx_url} (batch {args.batch_size}, "
        label += "no gzip)" if args.no_gzip else "gzip)"
        results[label] = bench_influx(
            args.influx_url, points, args.batch_size, args.runs, not args.no_gzip
        )
    if args.backend in ("both", "embedded"):
        results["embedded SQLite (one transaction)"] = bench_embedded(points, args.runs)

    table = Table(title=f"Ghi dữ liệu / ingest: {args.points} points, median of {args.runs} runs")
    table.add_column("Kho / store")
    table.add_column("điểm/s / points/s (median)", justify="right")
    table.add_column("min–max points/s", justify="right")
    for label, timings in results.items():
        rates = [args.points / t for t in timings]
        table.add_row(
            label,
            f"{args.points / statistics.median(timings):,.0f}",
            f"{min(rates):,.0f}–{max(rates):,.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
