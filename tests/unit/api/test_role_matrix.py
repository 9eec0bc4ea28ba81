"""Every route x every role (and no login) against the authorisation matrix.

A route that declares no permission fails this test, so a new route cannot slip in
unguarded.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.authz import PERMISSIONS, PUBLIC, Require
from api.deps import authenticated_station
from api.desk import routers
from api.models import ROLES
from api.routes import ingest as ingest_routes
from api.routes import station_registry as station_registry_routes

from .conftest import bearer, ingest, make_batch

#: WebSocket routes check their permission inside (a browser cannot send headers).
WS_PERMISSIONS = {"/api/v1/live/{station_id}": "spectra:read",
                  "/api/v1/alarms/ws": "alarms:read"}
STATION = "station"


def _permission(route: APIRoute) -> str | None:
    if (route.openapi_extra or {}).get("x-permission") == PUBLIC:
        return PUBLIC
    found = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Require):
            found.append(dep.call.permission)
        elif dep.call is authenticated_station:
            found.append(STATION)
        stack.extend(dep.dependencies)
    assert len(set(found)) <= 1, f"{route.path} declares several permissions: {found}"
    return found[0] if found else None


def _all_routes(app) -> list:  # noqa: ANN001
    """Every route of the app: the desk's routers, ingest's, and the app's own; checked
    against the OpenAPI paths so that no router is left out."""
    own = [ingest_routes.router, station_registry_routes.router]
    found = [r for router in [*routers(), *own] for r in router.routes]
    found += [r for r in app.routes if isinstance(r, APIRoute | APIWebSocketRoute)]
    documented = set(app.openapi()["paths"])
    assert documented <= {r.path for r in found}
    return found


def _fill(path: str, case_id: str) -> str:
    path = path.replace("{case_id}", case_id).replace("{station_id}", "ls-hn")
    path = path.replace("{page}", "login").replace("{name}", "nobody")
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def world(desk, client):  # noqa: ANN001, ANN201
    case_id = ingest(client, desk, make_batch())["case_ids"][0]
    headers = {role: bearer(client, f"{role}1") for role in ROLES}
    return client, case_id, headers


def test_every_http_route_enforces_the_matrix_for_every_role(world, desk) -> None:  # noqa: ANN001
    client, case_id, headers = world
    app = client.app
    routes = [r for r in _all_routes(app) if isinstance(r, APIRoute)]
    assert len(routes) >= 25
    checked = 0
    for route in routes:
        perm = _permission(route)
        assert perm is not None, f"{route.path} declares no permission"
        if perm == PUBLIC:
            continue
        path = _fill(route.path, case_id)
        for method in route.methods - {"HEAD"}:
            kwargs = {"json": {}} if method == "POST" else {}
            anon = client.request(method, path, **kwargs)
            assert anon.status_code == 401, (method, path, anon.status_code)
            for role in ROLES:
                r = client.request(method, path, headers=headers[role], **kwargs)
                if perm == STATION:
                    assert r.status_code == 403, (method, path, role, r.status_code)
                elif role in PERMISSIONS[perm]:
                    assert r.status_code not in (401, 403), (method, path, role, r.text)
                else:
                    assert r.status_code == 403, (method, path, role, r.status_code)
                checked += 1
    assert checked >= 4 * 20


def test_every_websocket_route_enforces_the_matrix(world) -> None:  # noqa: ANN001
    client, _case_id, headers = world
    ws_routes = [r for r in _all_routes(client.app) if isinstance(r, APIWebSocketRoute)]
    assert {r.path for r in ws_routes} == set(WS_PERMISSIONS)
    for route in ws_routes:
        perm = WS_PERMISSIONS[route.path]
        path = _fill(route.path, "x")
        with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(path) as ws:
            ws.receive_bytes()
        assert info.value.code == 1008
        for role in ROLES:
            token = headers[role]["Authorization"].split()[1]
            url = f"{path}?access_token={token}"
            if role in PERMISSIONS[perm]:
                with client.websocket_connect(url) as ws:
                    ws.close()
            else:
                with pytest.raises(WebSocketDisconnect) as info, \
                        client.websocket_connect(url) as ws:
                    ws.receive_bytes()
                assert info.value.code == 1008, (route.path, role)


def test_transitions_are_bound_to_roles(world) -> None:  # noqa: ANN001
    client, case_id, headers = world
    move = {"to_status": "triaged", "reason": "xem xét / looked at"}
    # A field team member may not triage; an official may not either.
    for role in ("field", "official"):
        r = client.post(f"/api/v1/cases/{case_id}/transition", json=move, headers=headers[role])
        assert r.status_code == 403, role
    r = client.post(f"/api/v1/cases/{case_id}/transition", json=move,
                    headers=headers["inspector"])
    assert r.status_code == 200 and r.json()["status"] == "triaged"
    # The lifecycle itself still holds: triaged -> closed is illegal (409).
    r = client.post(f"/api/v1/cases/{case_id}/transition",
                    json={"to_status": "closed", "reason": "x"}, headers=headers["admin"])
    assert r.status_code == 409


def test_app_without_services_is_refused() -> None:
    with pytest.raises(ValueError):
        create_app()
