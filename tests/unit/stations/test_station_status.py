"""What a station shows while it runs: receivers, last sweep, emissions, outbox."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from firmware_bridge.simulator import SimulatorReceiver, scene_path
from rfwatch.station_view import render
from stations.agent import OutboxSink, StationAgent
from stations.config import parse_site_config
from stations.outbox import Outbox
from stations.status import StatusSink, snapshot

NS = 1_000_000_000

SITE = """
station: {id: ls-v, name: v, kind: fixed, position: {lat_deg: 21.97, lon_deg: 106.70}}
receivers: [{id: rx0, spec: "simulator:lang_son_demo", gain_db: 30}]
tasks:
  - {type: sweep, name: vhf, f_start_hz: 162 MHz, f_stop_hz: 165 MHz, rbw_hz: 5 kHz,
     every_s: 5, n_averages: 8}
health_every_s: 5
"""


def test_the_snapshot_shows_what_the_station_did(tmp_path: Path) -> None:
    scene_rx = SimulatorReceiver.from_scene_file(scene_path("lang_son_demo"), "huu-nghi",
                                                 seed=1)
    # Scene time 12 s: the intermittent 163.45 MHz transmitter is on the air.
    rx = SimulatorReceiver(scene_rx.scene, "huu-nghi", seed=1,
                           t0_ns=scene_rx.scene.start_ns + 12 * NS)
    now = [rx.t_ns]
    outbox = Outbox(tmp_path / "o.sqlite", station_id="ls-v")
    status = StatusSink(OutboxSink(outbox, items_per_batch=500))
    agent = StationAgent(parse_site_config(SITE), open_receiver=lambda _c: rx, sink=status,
                         clock=lambda: now[0], sleep=lambda s: None, outbox=outbox,
                         read_cpu=lambda: None, read_temp=lambda: None)
    agent.run_once()
    snap = snapshot(agent, status, now_ns=now[0] + 2 * NS)
    [r] = snap.receivers
    assert (r.receiver_id, r.state, r.gain, r.failures) == ("rx0", "open", "30.0 dB", 0)
    [(band, f0, f1, n_bins, age)] = snap.sweeps
    assert band == "vhf" and f0 <= 162.1e6 and f1 >= 164.9e6 and n_bins > 100 and age >= 0
    # The 163.45 MHz transmitter is among the emissions found.
    assert any(abs(f - 163.45e6) < 5e3 for _, f, *_ in snap.emissions)
    assert snap.outbox_depth == 1 and "21.97" in snap.gps
    console = Console(record=True, width=140)
    console.print(render(snap))
    text = console.export_text()
    assert "ls-v" in text and "rx0" in text and "163.4" in text and "open" in text
    outbox.close()
