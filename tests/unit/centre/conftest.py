"""Fixtures of the centre tests: a real centre with registered stations, on the
embedded stores (SQLite + embedded time series) and on PostgreSQL + influxd."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import CentralConfig, CentralServices, create_app, open_central
from centre.tokens import issue_token, register_station
from dsp.types import GeoPosition

STATIONS = ("ls-hn", "ls-tt")


@dataclass
class Centre:
    services: CentralServices
    tokens: dict[str, str]
    home: Path
    config: CentralConfig


def centre_config(request: pytest.FixtureRequest, home: Path, backend: str, **kw) -> CentralConfig:  # noqa: ANN003
    """A centre configuration on ``backend``: ``embedded`` or ``services`` (PG + influxd)."""
    if backend == "embedded":
        return CentralConfig(
            home=home,
            database_url=f"sqlite:///{home / 'rfwatch.db'}",
            timeseries={"backend": "embedded", "path": home / "timeseries.sqlite"},
            **kw,
        )
    return CentralConfig(
        home=home,
        database_url=request.getfixturevalue("pg_url"),
        timeseries={
            "backend": "influx",
            "influx_url": request.getfixturevalue("influx_url"),
            "database": request.getfixturevalue("influx_database"),
        },
        **kw,
    )


def open_test_centre(config: CentralConfig) -> Centre:
    services = open_central(config)
    tokens = {}
    with services.sessions.begin() as session:
        for sid in STATIONS:
            register_station(
                session, sid, name=sid, kind="fixed", position=GeoPosition(21.9, 106.7)
            )
            tokens[sid] = issue_token(session, sid)
    return Centre(services, tokens, Path(config.home), config)


@pytest.fixture(
    params=["embedded", pytest.param("services", marks=[pytest.mark.postgres, pytest.mark.influx])]
)
def centre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Centre]:
    """The centre on the embedded stores, then on PostgreSQL + influxd."""
    c = open_test_centre(centre_config(request, tmp_path / "centre", request.param))
    yield c
    c.services.close()


@pytest.fixture
def app(centre: Centre):  # noqa: ANN201 - FastAPI
    return create_app(services=centre.services)
