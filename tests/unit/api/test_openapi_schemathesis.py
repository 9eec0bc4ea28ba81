"""schemathesis against the API's own OpenAPI: no 5xx, every status code documented,
answers that match their schemas (a few bounded examples per operation).

One centre for the module (cases and users in it), an admin token for every call
(the admin role holds every permission; the role matrix is another test's job).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import CentralConfig, create_app, open_central
from api.users import UserService
from centre.tokens import issue_token, register_station
from dsp.types import GeoPosition

from .conftest import make_batch

PASSWORD = "schemathesis-pass"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict]]:
    home: Path = tmp_path_factory.mktemp("centre")
    services = open_central(CentralConfig(
        home=home, database_url=f"sqlite:///{home / 'rfwatch.db'}",
        timeseries={"backend": "embedded", "path": home / "timeseries.sqlite"}))
    with services.sessions.begin() as session:
        register_station(session, "ls-hn", name="ls-hn", kind="fixed",
                         position=GeoPosition(21.9, 106.7))
        token = issue_token(session, "ls-hn")
    UserService(services.sessions).add("admin1", "admin", PASSWORD, actor="test")
    app = create_app(services=services)
    with TestClient(app) as client:
        r = client.post("/api/v1/ingest/batches", content=make_batch().model_dump_json(),
                        headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json"})
        assert r.status_code == 200
        tok = client.post("/api/v1/auth/token",
                          data={"username": "admin1", "password": PASSWORD}).json()
    yield app, {"Authorization": f"Bearer {tok['access_token']}"}
    services.close()


#: The station-token routes (ingest's own tests cover them).
_SKIP = {"/api/v1/ingest/batches", "/api/v1/health"}


def test_api_answers_match_the_openapi(live_app) -> None:  # noqa: ANN001
    from hypothesis import given

    app, headers = live_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in _SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # noqa: ANN001
            case.call_and_validate(headers=headers, checks=checks)

        run()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 20, tested
