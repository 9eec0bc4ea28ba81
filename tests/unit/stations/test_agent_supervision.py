"""Scheduler order with a stepped clock; a receiver that fails mid-stream is reopened
with back-off and the gap shows in health; field-kit results carry GPS positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_bridge.simulator import SimulatorReceiver
from stations.agent import MemorySink, StationAgent
from stations.batch import HealthItem, PositionTag, SpectrumItem
from stations.config import parse_site_config
from stations.scheduler import Scheduler

NS = 1_000_000_000

SCENE = """
name: faulty
start_time: 2026-03-02T01:00:00Z
seed: 3
receivers:
  - id: rx1
    position: {lat: 21.9, lon: 106.7, alt_m: 300}
    gain_db: 30
    faults: {fail_after_blocks: FAIL_AFTER, fail_repeat: false}
emitters:
  - id: cw
    position: {lat: 21.91, lon: 106.71, alt_m: 50}
    f_hz: 163.45e6
    modulation: {kind: cw}
    erp_w: 1
"""

SITE = """
station: {id: ls-t, name: test, kind: fixed, position: {lat_deg: 21.9, lon_deg: 106.7}}
receivers: [{id: rx0, spec: "simulator:scene.yaml", gain_db: 30}]
tasks:
  - {type: sweep, name: vhf, f_start_hz: 163 MHz, f_stop_hz: 164 MHz, rbw_hz: 10 kHz,
     every_s: 1, n_averages: 4}
health_every_s: 5
"""


def test_scheduler_runs_in_due_order_and_keeps_cadence() -> None:
    now = [0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += int(s * NS)

    sched = Scheduler(clock=lambda: now[0], sleep=sleep)
    ran: list[tuple[str, int]] = []
    sched.add("sweep", 10, lambda: ran.append(("sweep", now[0])))
    sched.add("watch", 4, lambda: ran.append(("watch", now[0])), start_ns=2 * NS)
    sched.run(until_ns=21 * NS, max_sleep_s=100)
    assert ran == [
        ("sweep", 0), ("watch", 2 * NS), ("watch", 6 * NS), ("sweep", 10 * NS),
        ("watch", 10 * NS), ("watch", 14 * NS), ("watch", 18 * NS), ("sweep", 20 * NS),
    ]
    assert all(s > 0 for s in sleeps)
    with pytest.raises(ValueError, match="every_s must be positive"):
        sched.add("bad", 0, lambda: None)


def _agent(tmp_path: Path, fail_after: int, clock) -> tuple[StationAgent, MemorySink, list]:  # noqa: ANN001
    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE.replace("FAIL_AFTER", str(fail_after)), encoding="utf-8")
    cfg = parse_site_config(SITE)
    opened: list[SimulatorReceiver] = []

    def open_receiver(_cfg) -> SimulatorReceiver:  # noqa: ANN001
        # The same dongle comes back after it was lost (as a replugged USB device).
        if not opened:
            opened.append(SimulatorReceiver.from_scene_file(scene, "rx1", seed=1))
        return opened[0]

    sink = MemorySink()
    agent = StationAgent(cfg, open_receiver=open_receiver, sink=sink, clock=clock,
                         sleep=lambda s: None, read_cpu=lambda: 12.5, read_temp=lambda: 48.0)
    return agent, sink, opened


def test_receiver_lost_mid_stream_is_reopened_and_the_gap_shows(tmp_path: Path) -> None:
    now = [1_772_413_200 * NS]
    agent, sink, _ = _agent(tmp_path, fail_after=3, clock=lambda: now[0])
    times = []
    for _ in range(8):
        agent.run_once()
        times.append(now[0])
        now[0] += NS
    sup = agent.supervisors["rx0"]
    h = sup.health
    assert h.failures == 1 and h.reopens == 1 and h.state == "open"
    assert "vanished" in (h.last_error or "")
    # One sweep is one or two blocks; the read after the 3rd block failed, and the
    # receiver was reopened on a later pass once the 1 s back-off had passed.
    (start, end), = h.gaps
    assert start in times and end in times and end > start
    assert h.gap_s(now[0]) == pytest.approx((end - start) / NS)
    spectra = [i for i in sink.items if isinstance(i, SpectrumItem)]
    # Passes whose sweep failed produced no spectrum; the others did, after the reopen too.
    assert 0 < len(spectra) < 8
    # Measuring went on after the reopen (the simulator's time runs on from the gap).
    assert len([s for s in spectra if s.t_start_ns > spectra[0].t_start_ns]) >= 1
    health = [i for i in sink.items if isinstance(i, HealthItem)]
    assert health[0].state == "open" and health[0].cpu_percent == 12.5
    agent.report_health()
    last = sink.items[-1]
    assert isinstance(last, HealthItem)
    assert (last.failures, last.reopens, last.state) == (1, 1, "open")
    assert last.gap_s == pytest.approx((end - start) / NS) and last.temp_c == 48.0


def test_open_failure_backs_off_exponentially(tmp_path: Path) -> None:
    now = [1_772_413_200 * NS]
    agent, sink, _ = _agent(tmp_path, fail_after=0, clock=lambda: now[0])
    sup = agent.supervisors["rx0"]
    # fail_after_blocks=0: the first read fails, then never again (fail_repeat false).
    agent.run_once()
    assert sup.health.failures == 1 and sup.receiver is None
    now[0] += NS // 2
    agent.run_once()  # still inside the 1 s back-off: not reopened
    assert sup.receiver is None and sup.health.state == "reopening"
    now[0] += NS
    agent.run_once()
    assert sup.health.reopens == 1 and sup.health.state == "open"


def test_position_tags(tmp_path: Path) -> None:
    now = [1_772_413_200 * NS]
    agent, sink, _ = _agent(tmp_path, fail_after=100, clock=lambda: now[0])
    agent.run_once()
    tags = {i.position for i in sink.items if isinstance(i, SpectrumItem)}
    assert tags == {PositionTag(lat_deg=21.9, lon_deg=106.7, source="site")}

    # A GPS puck on a serial line (a pseudo-terminal), read by the real NMEA reader.
    import os
    import time

    from firmware_bridge.gps import GpsReader
    from stations.sources import GpsPositionSource

    master, slave = os.openpty()
    reader = GpsReader(os.ttyname(slave), baudrate=4800, timeout_s=0.1).start()
    try:
        agent._position_source = GpsPositionSource(reader)
        assert agent.position() is None  # no fix yet: measurements are not tagged
        nmea = (b"$GPRMC,010000.00,A,2157.0000,N,10639.0000,E,0.0,0.0,020326,,,A*56\r\n"
                b"$GPGGA,010000.00,2157.0000,N,10639.0000,E,1,09,0.9,300.0,M,"
                b"-20.0,M,,*4D\r\n")
        # A puck repeats its sentences every second; so does this one (every 0.2 s),
        # so a loaded machine that is slow to schedule the reader still gets a fix.
        deadline = time.monotonic() + 30
        while agent.position() is None and time.monotonic() < deadline:
            os.write(master, nmea)
            time.sleep(0.2)
        now[0] += NS
        agent.run_once()
    finally:
        reader.close()
        os.close(master)
        os.close(slave)
    pos = sink.items[-1].position
    assert pos.source == "gps" and pos.hdop == 0.9
    assert (pos.lat_deg, pos.lon_deg) == pytest.approx((21.95, 106.65))
