"""Alembic migrations on SQLite and on the real PostgreSQL: up, down, up again."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsp.errors import StorageError
from storage.migrations import current_revision, downgrade, head_revision, upgrade

FOUNDATION_TABLES = {"stations", "audit_log"}
RFWATCH = Path(sys.executable).with_name("rfwatch")


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    assert current_revision(url) is None
    upgrade(url)
    head = head_revision()
    assert head is not None
    assert current_revision(url) == head
    tables_at_head = _tables(url)
    assert FOUNDATION_TABLES <= tables_at_head

    downgrade(url, "base")
    assert current_revision(url) is None
    assert _tables(url) == set()

    upgrade(url)
    assert current_revision(url) == head
    assert _tables(url) == tables_at_head


def _foundation_rows(url: str) -> None:
    """The foundation tables take real rows, Vietnamese text and the kind check."""
    upgrade(url, "0001_foundation")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO stations (id, name, kind, lat_deg, lon_deg, alt_m, created_at)"
                    " VALUES (:id, :name, :kind, :lat, :lon, NULL, :t)"
                ),
                {
                    "id": "LS-HUULUNG",
                    "name": "Trạm Hữu Lũng",
                    "kind": "fixed",
                    "lat": 21.5,
                    "lon": 106.34,
                    "t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                },
            )
        with engine.connect() as conn:
            name = conn.execute(sa.text("SELECT name FROM stations")).scalar_one()
        assert name == "Trạm Hữu Lũng"
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO stations (id, name, kind, lat_deg, lon_deg, created_at)"
                    " VALUES ('X', 'x', 'satellite', 0, 0, :t)"
                ),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
    finally:
        engine.dispose()


def test_sqlite_upgrade_downgrade_upgrade(sqlite_url: str) -> None:
    _round_trip(sqlite_url)


def test_sqlite_foundation_tables_hold_rows(sqlite_url: str) -> None:
    _foundation_rows(sqlite_url)


@pytest.mark.postgres
def test_postgres_upgrade_downgrade_upgrade(pg_url: str) -> None:
    _round_trip(pg_url)


@pytest.mark.postgres
def test_postgres_foundation_tables_hold_rows(pg_url: str) -> None:
    _foundation_rows(pg_url)


def test_unknown_revision_is_a_storage_error(sqlite_url: str) -> None:
    with pytest.raises(StorageError, match="nope"):
        upgrade(sqlite_url, "nope")


def test_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}"
    with pytest.raises(StorageError, match="database upgrade failed"):
        upgrade(url)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    return subprocess.run(
        [str(RFWATCH), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_db_upgrade_sqlite(tmp_path: Path, sqlite_url: str) -> None:
    done = _cli("db", "upgrade", "--url", sqlite_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert current_revision(sqlite_url) == head_revision()
    assert head_revision() in done.stdout


def test_cli_db_upgrade_default_url_creates_home(tmp_path: Path) -> None:
    done = _cli("--home", str(tmp_path / "new_home"), "db", "upgrade", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    db_file = tmp_path / "new_home" / "rfwatch.db"
    assert db_file.is_file()
    assert current_revision(f"sqlite:///{db_file}") == head_revision()


def test_cli_db_upgrade_bad_url_is_one_line_error(tmp_path: Path) -> None:
    done = _cli("db", "upgrade", "--url", f"sqlite:///{tmp_path}/no/such/x.db", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "database upgrade failed" in " ".join(done.stderr.split())


@pytest.mark.postgres
def test_cli_db_upgrade_postgres(tmp_path: Path, pg_url: str) -> None:
    done = _cli("db", "upgrade", "--url", pg_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert current_revision(pg_url) == head_revision()
