"""Every error a user can cause at the command line is one line on stderr, exit 2."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))

SITE = """
station: {id: ls-x, name: x, kind: fixed, position: {lat_deg: 21.9, lon_deg: 106.7}}
centre: {url: "http://127.0.0.1:1", token: "t"}
receivers: [{id: rx0, spec: "simulator:lang_son_demo"}]
tasks: [{type: sweep, name: fm, f_start_hz: 87.5 MHz, f_stop_hz: 108 MHz, every_s: 10}]
OUTBOX
"""


def run(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "RFWATCH_HOME": str(tmp_path / "home")}
    return subprocess.run([RFWATCH, *args], capture_output=True, text=True, timeout=90,
                          env={**base, **(env or {})}, stdin=subprocess.DEVNULL)


def one_line_exit_2(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_deeply_nested_site_file(tmp_path: Path) -> None:
    site = tmp_path / "deep.yaml"
    site.write_text("station: " + "[" * 20000 + "]" * 20000 + "\n", encoding="utf-8")
    line = one_line_exit_2(run(tmp_path, "station", "run", "-c", str(site), "--seconds", "1"))
    assert "deep.yaml" in line


def test_outbox_whose_folder_cannot_be(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    site = tmp_path / "site.yaml"
    site.write_text(SITE.replace("OUTBOX", f"outbox: {{path: {blocker / 'sub' / 'o.sqlite'}}}"),
                    encoding="utf-8")
    line = one_line_exit_2(run(tmp_path, "station", "run", "-c", str(site), "--seconds", "1"))
    assert "outbox" in line


@pytest.mark.parametrize("args", [
    ("central", "run", "--port", "70000"),
    ("central", "run", "--workers", "0"),
    ("doctor", "--no-such-option"),
    ("station", "run"),
    ("--log-level", "LOUD", "version"),
])
def test_bad_options(tmp_path: Path, args: tuple[str, ...]) -> None:
    one_line_exit_2(run(tmp_path, *args))


def test_central_run_with_the_database_down_says_which_and_how(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://rfwatch:secret@127.0.0.1:{free_port()}/rfwatch"
    line = one_line_exit_2(run(tmp_path, "central", "run", "--port", str(free_port()),
                               env={"RFWATCH_DB_URL": url}))
    assert "postgresql" in line and "services.sh start" in line
    assert "secret" not in line


def test_central_run_with_influx_down_says_which_and_how(tmp_path: Path) -> None:
    line = one_line_exit_2(run(
        tmp_path, "central", "run", "--port", str(free_port()),
        env={"RFWATCH_TIMESERIES_BACKEND": "influx",
             "RFWATCH_INFLUX__URL": f"http://u:pw9@127.0.0.1:{free_port()}"}))
    assert "InfluxDB" in line and "services.sh start" in line and "pw9" not in line


def test_several_workers_on_the_embedded_stores_are_refused(tmp_path: Path) -> None:
    line = one_line_exit_2(run(tmp_path, "central", "run", "--workers", "2",
                               "--port", str(free_port())))
    assert "PostgreSQL" in line


def test_port_taken(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        line = one_line_exit_2(run(tmp_path, "central", "run", "--port", str(port)))
    assert str(port) in line
