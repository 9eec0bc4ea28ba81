"""Fixtures of the stations tests: a real centre (migrated SQLite DB, embedded time
series, compliance) in the test's temp folder, with registered stations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import CentralConfig, CentralServices, create_app, open_central
from centre.tokens import issue_token, register_station
from dsp.types import GeoPosition


@dataclass
class Centre:
    services: CentralServices
    tokens: dict[str, str]
    home: Path


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Centre]:
    home = tmp_path / "centre"
    config = CentralConfig(
        home=home,
        database_url=f"sqlite:///{home / 'rfwatch.db'}",
        timeseries={"backend": "embedded", "path": home / "timeseries.sqlite"},
    )
    services = open_central(config)
    tokens = {}
    with services.sessions.begin() as session:
        for sid in ("ls-hn", "ls-tt"):
            register_station(
                session, sid, name=sid, kind="fixed", position=GeoPosition(21.9, 106.7)
            )
            tokens[sid] = issue_token(session, sid)
    yield Centre(services, tokens, home)
    services.close()


@pytest.fixture
def app(centre: Centre):  # noqa: ANN201 - FastAPI
    return create_app(services=centre.services)
