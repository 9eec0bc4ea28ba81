"""A field kit classifies and checks what it measures on the spot, offline, against
the registry snapshot it carries (imported from files here; pulled from the centre in
tests/unit/centre/test_station_registry.py). It opens no case."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from compliance.importers import read_licences, write_licences
from dsp.errors import InputFormatError, ParameterError
from firmware_bridge.simulator import SimulatorReceiver, scene_path
from rfwatch.station_view import render
from stations.agent import OutboxSink, StationAgent
from stations.config import parse_site_config
from stations.field_check import (
    FOREIGN_FILE,
    LICENCES_FILE,
    FieldChecker,
    import_snapshot,
    load_snapshot,
    registry_dir,
)
from stations.outbox import Outbox
from stations.status import StatusSink, snapshot
from stations.uplink import Uplink

NS = 1_000_000_000
SITES = Path(__file__).parents[3] / "stations" / "sites"

SITE = """
station: {id: kit-1, name: kit, kind: field_kit, position: {lat_deg: 21.98, lon_deg: 106.715}}
receivers: [{id: rx0, spec: "simulator:lang_son_demo", gain_db: 30}]
tasks:
  - {type: sweep, name: vhf, f_start_hz: 162 MHz, f_stop_hz: 165 MHz, rbw_hz: 5 kHz,
     every_s: 5, n_averages: 8}
  - {type: sweep, name: ttkd, f_start_hz: 60.2 MHz, f_stop_hz: 60.8 MHz, rbw_hz: 5 kHz,
     every_s: 5, n_averages: 8}
health_every_s: 5
"""


def _only_dong_dang(tmp_path: Path) -> Path:
    """A licence file with one licence: the Đồng Đăng commune station on 60.5 MHz."""
    [lic] = [r for r in read_licences(SITES / "demo_licences.csv")
             if r.licence_id == "TTKD-DD-605"]
    path = tmp_path / "one.csv"
    write_licences(path, [lic])
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_field_kit_checks_offline_against_its_snapshot(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = registry_dir(tmp_path / "home", "kit-1")
    info = import_snapshot(folder, _only_dong_dang(tmp_path))
    assert (info.n_licences, info.n_foreign) == (1, 0)
    assert (folder / LICENCES_FILE).is_file() and (folder / FOREIGN_FILE).is_file()
    checker = FieldChecker.from_folder(folder)
    assert checker is not None and len(checker.registry.licences) == 1

    scene_rx = SimulatorReceiver.from_scene_file(scene_path("lang_son_demo"), "huu-nghi",
                                                 seed=1)
    # Scene time 12 s: the intermittent unlicensed 163.45 MHz transmitter is on the air.
    rx = SimulatorReceiver(scene_rx.scene, "huu-nghi", seed=1,
                           t0_ns=scene_rx.scene.start_ns + 12 * NS)
    now = [rx.t_ns]
    outbox = Outbox(tmp_path / "o.sqlite", station_id="kit-1")
    # The network is down: the centre's port has nobody listening.
    uplink = Uplink(outbox, url=f"http://127.0.0.1:{_closed_port()}", token="t",
                    timeout_s=1.0)
    status = StatusSink(OutboxSink(outbox, items_per_batch=500))
    agent = StationAgent(parse_site_config(SITE), open_receiver=lambda _c: rx, sink=status,
                         clock=lambda: now[0], sleep=lambda s: None, outbox=outbox,
                         uplink=uplink, read_cpu=lambda: None, read_temp=lambda: None,
                         field_checker=checker)
    with caplog.at_level(logging.INFO, logger="stations.agent"):
        agent.run_once()
    assert uplink.total_sent == 0 and uplink.last_error  # nothing reached a centre
    snap = snapshot(agent, status, now_ns=now[0] + 2 * NS)
    by_f = {round(f / 1e3): (cls, kinds) for _, f, _, _, _, _, cls, kinds in snap.emissions}
    dong_dang = [v for k, v in by_f.items() if abs(k - 60_500) <= 5]
    pirate = [v for k, v in by_f.items() if abs(k - 163_450) <= 5]
    assert dong_dang and pirate, by_f
    cls, kinds = dong_dang[0]
    assert cls == "licensed" and "unlicensed_emission" not in kinds
    cls, kinds = pirate[0]
    assert cls == "unknown" and "unlicensed_emission" in kinds
    assert "1 giấy phép / licences" in snap.registry and "import one.csv" in snap.registry
    assert " UTC)" in snap.registry  # when the snapshot was written
    assert any("unlicensed_emission" in r.getMessage() and "163.4" in r.getMessage()
               for r in caplog.records)
    console = Console(record=True, width=160)
    console.print(render(snap))
    text = console.export_text()
    assert "unlicensed_emission" in text and "licensed" in text and "kit-1" in text
    uplink.close()
    outbox.close()


def test_without_a_snapshot_there_is_no_field_check(tmp_path: Path) -> None:
    assert FieldChecker.from_folder(registry_dir(tmp_path, "kit-1")) is None
    assert load_snapshot(tmp_path / "nothing") is None


def test_a_bad_import_names_the_line_and_keeps_the_old_snapshot(tmp_path: Path) -> None:
    folder = registry_dir(tmp_path / "home", "kit-1")
    import_snapshot(folder, _only_dong_dang(tmp_path))
    bad = tmp_path / "bad.csv"
    text = (SITES / "demo_licences.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([text[0], text[1].replace("97000000", "abc")]) + "\n",
                   encoding="utf-8")
    with pytest.raises(InputFormatError, match="line 2"):
        import_snapshot(folder, bad)
    registry = load_snapshot(folder)
    assert registry is not None and [r.licence_id for r in registry.licences] == ["TTKD-DD-605"]


def test_field_registry_import_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rfwatch.cli import app

    monkeypatch.setenv("RFWATCH_HOME", str(tmp_path / "home"))
    r = CliRunner().invoke(app, ["field", "registry", "import", "--station", "kit-1",
                                 "--licences", str(SITES / "demo_licences.csv"),
                                 "--foreign", str(SITES / "demo_foreign.csv")])
    assert r.exit_code == 0, r.output
    registry = load_snapshot(tmp_path / "home" / "stations" / "kit-1" / "registry")
    assert registry is not None
    assert len(registry.licences) == 6 and [f.licence_id for f in registry.foreign] == [
        "CN-FM-963"]
    r = CliRunner().invoke(app, ["field", "registry", "import", "--station", "../x",
                                 "--licences", str(SITES / "demo_licences.csv")])
    # An RfwatchError: `rfwatch` prints it as one line and exits 2.
    assert isinstance(r.exception, ParameterError) and "../x" in str(r.exception)
