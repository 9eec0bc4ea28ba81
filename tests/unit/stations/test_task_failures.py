"""A task that raises something other than a receiver error is caught per run, logged
with its traceback, counted in health, retried with back-off; the lane goes on."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from firmware_bridge.simulator import SimulatorReceiver
from stations.agent import MemorySink, StationAgent
from stations.batch import HealthItem, SpectrumItem
from stations.config import parse_site_config

NS = 1_000_000_000

SCENE = """
name: plain
start_time: 2026-03-02T01:00:00Z
seed: 3
receivers:
  - id: rx1
    position: {lat: 21.9, lon: 106.7, alt_m: 300}
    gain_db: 30
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
health_every_s: 1
"""


class FlakyReceiver(SimulatorReceiver):
    """The simulator, whose reads raise a plain ValueError (a bug, not a lost dongle)
    for the first ``n_bad`` reads."""

    n_bad = 3

    def read(self, n_samples: int):  # noqa: ANN201
        if self.n_bad > 0:
            self.n_bad -= 1
            raise ValueError("injected: not a receiver error")
        return super().read(n_samples)


def _agent(tmp_path: Path, clock, n_bad: int) -> tuple[StationAgent, MemorySink]:  # noqa: ANN001
    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE, encoding="utf-8")
    rx = FlakyReceiver.from_scene_file(scene, "rx1", seed=1)
    rx.n_bad = n_bad
    sink = MemorySink()
    agent = StationAgent(parse_site_config(SITE), open_receiver=lambda _c: rx, sink=sink,
                         clock=clock, sleep=lambda s: None, read_cpu=lambda: None,
                         read_temp=lambda: None)
    return agent, sink


def test_injected_exception_shows_in_health_and_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1_772_413_200 * NS]
    agent, sink = _agent(tmp_path, lambda: now[0], n_bad=3)
    caplog.set_level(logging.ERROR, logger="stations")
    for _ in range(12):
        agent.run_once()
        now[0] += NS
    health = [i for i in sink.items if isinstance(i, HealthItem)]
    # The receiver itself is fine (state open), but the failures are counted and named.
    last = health[-1]
    assert last.state == "open"
    assert last.failures == 3
    assert last.last_error is not None and "ValueError" in last.last_error
    assert "injected" in last.last_error and "vhf" in last.last_error
    # Logged with the traceback.
    records = [r for r in caplog.records if "task vhf" in r.getMessage()]
    assert len(records) == 3 and all(r.exc_info for r in records)
    assert "injected: not a receiver error" in caplog.text and "Traceback" in caplog.text
    # Back-off: 1, 2, 4 s after the three failures, so some passes were skipped ...
    [guard] = [g for g in agent.guards if g.name == "vhf"]
    assert guard.skipped >= 3 and guard.total_failures == 3
    # ... and then the task measured again.
    spectra = [i for i in sink.items if isinstance(i, SpectrumItem)]
    assert spectra and guard.consecutive_failures == 0


def test_a_failing_task_does_not_end_its_lane_thread(tmp_path: Path) -> None:
    # The real threaded run: the lane survives a task that always raises.
    agent, sink = _agent(tmp_path, clock=lambda: _wall(), n_bad=10**9)
    stop = threading.Event()
    t = threading.Thread(target=agent.run, kwargs={"stop": stop})
    t.start()
    try:
        threading.Event().wait(2.5)
        [guard] = [g for g in agent.guards if g.name == "vhf"]
        assert guard.total_failures >= 2  # it ran again after the first failure
        assert agent.supervisors["rx0"].health.failures == guard.total_failures
    finally:
        stop.set()
        t.join(timeout=30)
    assert not t.is_alive()
    health = [i for i in sink.items if isinstance(i, HealthItem)]
    assert health and health[-1].failures >= 1


def _wall() -> int:
    import time

    return time.time_ns()
