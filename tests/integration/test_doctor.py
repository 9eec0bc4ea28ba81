"""`rfwatch doctor` against the real services, run as a user would (the console script)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RFWATCH = Path(sys.executable).with_name("rfwatch")


def _doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    full_env.update({"RFWATCH_HOME": str(tmp_path / "home"), "COLUMNS": "80", **env})
    return subprocess.run(
        [str(RFWATCH), "doctor"],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=tmp_path,
        timeout=60,
    )


def test_doctor_without_dongle_says_so_in_one_line_and_exits_0(tmp_path: Path) -> None:
    proc = _doctor(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    no_dongle = [line for line in lines if "no RTL-SDR attached" in line]
    assert len(no_dongle) == 1
    assert "Không có RTL-SDR" in no_dongle[0]
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.influx
def test_doctor_reports_live_influxdb(tmp_path: Path, influx_url: str) -> None:
    proc = _doctor(
        tmp_path, RFWATCH_TIMESERIES_BACKEND="influx", RFWATCH_INFLUX__URL=influx_url
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "InfluxDB 1." in proc.stdout and "✓ InfluxDB" in proc.stdout


def test_doctor_fails_when_configured_influxdb_is_down(tmp_path: Path) -> None:
    proc = _doctor(
        tmp_path,
        RFWATCH_TIMESERIES_BACKEND="influx",
        RFWATCH_INFLUX__URL="http://127.0.0.1:9",  # discard port: nothing listens
    )
    assert proc.returncode == 1
    assert "InfluxDB not reachable at http://127.0.0.1:9" in proc.stdout


@pytest.mark.postgres
def test_doctor_checks_postgres_revision(tmp_path: Path, pg_url: str) -> None:
    proc = _doctor(tmp_path, RFWATCH_DB_URL=pg_url)
    assert proc.returncode == 1  # reachable but not migrated: say what to do
    assert "rfwatch db upgrade" in proc.stdout
    up = subprocess.run(
        [str(RFWATCH), "db", "upgrade", "--url", pg_url], capture_output=True, text=True
    )
    assert up.returncode == 0, up.stderr
    proc = _doctor(tmp_path, RFWATCH_DB_URL=pg_url)
    assert proc.returncode == 0, proc.stdout
