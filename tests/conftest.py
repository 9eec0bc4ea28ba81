"""Shared fixtures: the real services started by scripts/services.sh, the real data.

Tests that need InfluxDB or PostgreSQL fail (they do not skip) when the services
are not there: run them through ``scripts/test.sh``, or start the services with
``scripts/services.sh start`` and ``eval "$(scripts/services.sh env)"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The real recordings, survey files and NMEA logs (read in place, never copied).
REAL_DATA = REPO_ROOT.parent / "shared" / "data" / "real"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-hardware",
        action="store_true",
        default=False,
        help="run tests that need a real RTL-SDR dongle",
    )


_FIXTURE_MARKERS = {"influx_url": "influx", "influx_database": "influx", "pg_url": "postgres"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that uses a service's fixture is marked for it, whether or not its
    # author remembered to, so `-m` selections and the summary below are right.
    for item in items:
        for fixture, marker in _FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()) and marker not in item.keywords:
                item.add_marker(getattr(pytest.mark, marker))
    if config.getoption("--run-hardware"):
        return
    skip = pytest.mark.skip(reason="needs an RTL-SDR dongle: run with --run-hardware")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the tests with scripts/test.sh, or "
            "`scripts/services.sh start && eval \"$(scripts/services.sh env)\"`",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Folder of the real test inputs (../shared/data/real)."""
    if not REAL_DATA.is_dir():
        pytest.fail(f"real data folder missing: {REAL_DATA}", pytrace=False)
    return REAL_DATA


@pytest.fixture(scope="session")
def influx_url() -> str:
    """Base URL of the real influxd started by scripts/services.sh."""
    return _require_env("RFWATCH_TEST_INFLUX_URL")


@pytest.fixture
def influx_database(influx_url: str) -> Iterator[str]:
    """A fresh, uniquely named InfluxDB database, dropped after the test."""
    import httpx

    name = f"t_{uuid.uuid4().hex[:12]}"
    httpx.post(f"{influx_url}/query", params={"q": f'CREATE DATABASE "{name}"'}).raise_for_status()
    yield name
    httpx.post(f"{influx_url}/query", params={"q": f'DROP DATABASE "{name}"'})


@pytest.fixture
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty PostgreSQL database, dropped after the test."""
    import sqlalchemy as sa

    admin_url = _require_env("RFWATCH_TEST_PG_ADMIN_URL")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """SQLAlchemy URL of an empty SQLite file in the test's temp folder."""
    return f"sqlite:///{tmp_path / 'rfwatch.db'}"


_SERVICE_MARKERS = ("influx", "postgres", "browser", "hardware")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests of each service marker ran, so a skipped suite shows."""
    counts: dict[str, dict[str, int]] = {m: {} for m in _SERVICE_MARKERS}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and report.when != "call":
                continue
            keywords = getattr(report, "keywords", {})
            for marker in _SERVICE_MARKERS:
                if marker in keywords:
                    counts[marker][outcome] = counts[marker].get(outcome, 0) + 1
    terminalreporter.section("rfwatch: tests by real service")
    for marker, by_outcome in counts.items():
        text = ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items())) or "none"
        terminalreporter.write_line(f"{marker:<9} {text}")
