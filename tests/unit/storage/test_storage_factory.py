"""The factory and the one-line checks used by ``rfwatch doctor``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from storage import check_database, check_influx
from storage.migrations import head_revision, upgrade


def test_check_database_missing_sqlite_file_not_created(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    ok, line = check_database(f"sqlite:///{path}")
    assert not ok
    assert "rfwatch db upgrade" in line
    assert not path.exists()
    assert "\n" not in line


def test_check_database_sqlite_before_and_after_upgrade(sqlite_url: str) -> None:
    upgrade(sqlite_url, "0001_foundation")
    ok, line = check_database(sqlite_url)
    if head_revision() != "0001_foundation":
        assert not ok
        assert "0001_foundation" in line and "rfwatch db upgrade" in line
    upgrade(sqlite_url)
    ok, line = check_database(sqlite_url)
    assert ok, line
    assert f"database at {head_revision()} (latest)" in line


@pytest.mark.postgres
def test_check_database_postgres(pg_url: str) -> None:
    ok, line = check_database(pg_url)
    assert not ok and "empty" in line
    upgrade(pg_url)
    ok, line = check_database(pg_url)
    assert ok, line


def test_check_database_unreachable_postgres_hides_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ok, line = check_database(f"postgresql+psycopg://u:s3cret@127.0.0.1:{port}/x")
    assert not ok
    assert "cannot connect" in line
    assert "s3cret" not in line
    assert "\n" not in line


def test_check_influx_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ok, line = check_influx(f"http://127.0.0.1:{port}")
    assert not ok
    assert "not reachable" in line and "RFWATCH_INFLUX__URL" in line


@pytest.mark.influx
def test_check_influx_up(influx_url: str, influx_database: str) -> None:
    ok, line = check_influx(influx_url, database=influx_database)
    assert ok
    assert "1.6" in line and f"database '{influx_database}'" in line and "ready" in line
    ok, line = check_influx(influx_url, database=influx_database + "_missing")
    assert ok
    assert "created on first write" in line
