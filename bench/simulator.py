"""Simulator throughput: MS/s of RTL-SDR-like uint8 IQ on one core (not a test).

Run: ``.venv/bin/python bench/simulator.py [--seconds S] [--block N]``

Scene: basic.yaml tuned to 100 MHz at 2.4 MS/s, which puts 5 emitters in band (WBFM,
AM, CW, NBFM, 4FSK), plus the DVB-T2-like multiplex retuned at 546 MHz = 6 modulations.
Reports the one-off set-up per tuning and the steady-state rate, and the real-time
factor at 2.4 MS/s (goal: >= 10x on one core).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


def _bench(rx, f_hz: float, seconds: float, block: int) -> tuple[float, float, int]:
    rx.tune(f_hz)
    t0 = time.perf_counter()
    rx.read(block)  # builds this tuning's waveforms
    setup_s = time.perf_counter() - t0
    n_total = int(seconds * rx.sample_rate_hz)
    done = 0
    t0 = time.perf_counter()
    overloads = 0
    while done < n_total:
        b = rx.read(block)
        overloads += int(b.overload)
        done += b.n_samples
    dt = time.perf_counter() - t0
    in_band = sum(1 for t in rx.truth() if t.in_band and t.on_air)
    return setup_s, done / dt / 1e6, in_band + 0 * overloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="scene seconds per tuning")
    parser.add_argument("--block", type=int, default=262_144, help="samples per read")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # bench/dsp.py would shadow the ``dsp`` package: put the repository root first.
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path[0] = str(Path(__file__).resolve().parents[1])

    from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path

    scene = Scene.from_file(scene_path("basic"))
    rx = SimulatorReceiver.from_scene(scene, "rx1", seed=1)
    rx.set_sample_rate(2.4e6)
    with rx:
        rows = []
        for label, f_hz in (("100 MHz (5 emitters)", 100e6), ("546 MHz (DVB-T2)", 546e6)):
            setup_s, msps, n_em = _bench(rx, f_hz, args.seconds, args.block)
            rows.append((label, n_em, setup_s, msps))
    print(f"numpy {np.__version__}; block {args.block} samples; {args.seconds} s per tuning")
    print(f"{'tuning':<24}{'emitters':>9}{'set-up s':>10}{'MS/s':>9}{'x real time':>13}")
    for label, n_em, setup_s, msps in rows:
        print(f"{label:<24}{n_em:>9}{setup_s:>10.2f}{msps:>9.1f}{msps / 2.4:>13.1f}")


if __name__ == "__main__":
    main()
