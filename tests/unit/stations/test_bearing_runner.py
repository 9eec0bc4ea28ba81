"""The bearing task of a site configuration: rotator over a pty, a BearingItem out."""

from __future__ import annotations

import pytest

from dsp.errors import InputFormatError, ParameterError
from dsp.geo import bearing_deg
from dsp.types import GeoPosition
from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path
from firmware_bridge.simulator.rotator import SimulatedGs232
from stations.batch import Batch, BearingItem, PositionTag, new_batch_id
from stations.config import BearingTask, parse_site_config
from stations.health import ReceiverHealth
from stations.tasks import BearingRunner, TaskContext

SITE = GeoPosition(21.90, 106.70)
TX = GeoPosition(21.93, 106.74)
CONFIG = """
station: {{id: dx-site, name: dx, kind: fixed, position: {{lat_deg: 21.90, lon_deg: 106.70}}}}
receivers:
  - {{id: rx0, spec: "simulator:x", sample_rate_hz: 1.024 MHz}}
tasks:
  - type: bearing
    name: df
    every_s: 300
    rotator_url: "{url}"
    tolerance_deg: 1.0
    azimuth_step_deg: {step}
    beamwidth_deg: 55
    targets: [{{name: pirate, f_hz: 163.45 MHz, bw_hz: 12 kHz}}]
"""


def test_site_config_bearing_task_emits_a_bearing_item() -> None:
    scene = Scene.from_file(scene_path("rotator_site"))
    rx = SimulatorReceiver(scene, "dx", seed=2)
    sim = SimulatedGs232(azimuth_deg=0.0, speed_deg_s=3600.0, on_azimuth=rx.set_antenna_azimuth)
    url = sim.serve_pty()
    cfg = parse_site_config(CONFIG.format(url=url, step=15))
    [task] = cfg.tasks
    assert isinstance(task, BearingTask) and task.targets[0].f_hz == 163.45e6
    items: list = []
    ctx = TaskContext("dx-site", cfg.receivers[0], ReceiverHealth("rx0"), items.append,
                      lambda: PositionTag(lat_deg=SITE.lat_deg, lon_deg=SITE.lon_deg),
                      lambda: rx.t_ns)
    try:
        with rx:
            BearingRunner(task)(rx, ctx)
    finally:
        sim.close()
    [item] = items
    assert isinstance(item, BearingItem) and item.f_hz == 163.45e6 and item.bw_hz == 12e3
    assert (item.lat_deg, item.lon_deg) == (SITE.lat_deg, SITE.lon_deg)
    err = (item.bearing_deg - bearing_deg(SITE, TX) + 180) % 360 - 180
    assert abs(err) < 5.0 and abs(err) < 2 * item.sigma_deg, (item, bearing_deg(SITE, TX))
    # 24 azimuths of 15°: the rotator was really driven round
    assert sum(c.startswith("M") for c in sim.commands) >= 20
    # the item travels in a batch as any other
    batch = Batch(batch_id=new_batch_id(), station_id="dx-site", seq=1, created_t_ns=1,
                  items=[item])
    assert Batch.model_validate_json(batch.model_dump_json()).items[0] == item


def test_no_position_no_bearing() -> None:
    cfg = parse_site_config(CONFIG.format(url="/dev/null-rotator", step=30))
    items: list = []
    ctx = TaskContext("dx-site", cfg.receivers[0], ReceiverHealth("rx0"), items.append,
                      lambda: None, lambda: 0)
    with pytest.raises(ParameterError, match="no position"):
        BearingRunner(cfg.tasks[0])(None, ctx)  # type: ignore[arg-type]
    assert items == []


def test_bad_bearing_task_is_named() -> None:
    with pytest.raises(InputFormatError, match="azimuth_step_deg"):
        parse_site_config(CONFIG.format(url="/dev/x", step=0))


def test_the_agent_runs_a_bearing_task_with_the_bearing_runner() -> None:
    from stations.agent import StationAgent

    cfg = parse_site_config(CONFIG.format(url="/dev/x", step=30))
    runner = StationAgent._runner(cfg.tasks[0], None)
    assert isinstance(runner, BearingRunner) and runner.task.rotator_url == "/dev/x"
