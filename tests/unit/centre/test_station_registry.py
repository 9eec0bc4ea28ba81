"""A field kit pulls the registry it carries from the centre, with its own station
token: read-only, for that station only (another station's token and a user's token
are refused)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from compliance.importers import read_foreign_stations, read_licences
from compliance.registry import save_foreign_stations, save_licences
from dsp.errors import ConfigError
from stations.field_check import REGISTRY_PATH, FieldChecker, load_snapshot, pull_snapshot

SITES = Path(__file__).parents[3] / "stations" / "sites"
PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture
def registry_centre(centre):  # noqa: ANN001, ANN201
    with centre.services.sessions.begin() as session:
        save_licences(session, read_licences(SITES / "demo_licences.csv"))
        save_foreign_stations(session, read_foreign_stations(SITES / "demo_foreign.csv"))
    return centre


def test_a_station_pulls_the_registry_with_its_own_token(app, registry_centre,  # noqa: ANN001
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "kit" / "registry"
    with TestClient(app) as client:
        info = pull_snapshot(folder, url="http://testserver", token=registry_centre.tokens["ls-hn"],
                             station_id="ls-hn", client=client)
    assert (info.n_licences, info.n_foreign) == (6, 1)
    registry = load_snapshot(folder)
    assert registry is not None
    assert sorted(r.licence_id for r in registry.licences) == sorted(
        r.licence_id for r in read_licences(SITES / "demo_licences.csv"))
    [cn] = registry.foreign
    assert cn.licence_id == "CN-FM-963" and cn.country == "CN" and cn.f_hz == 96.3e6
    checker = FieldChecker.from_folder(folder)
    assert checker is not None and "centre http://testserver" in checker.description


def test_another_stations_token_or_none_is_refused(app, registry_centre,  # noqa: ANN001
                                                   tmp_path: Path) -> None:
    folder = tmp_path / "registry"
    with TestClient(app) as client:
        r = client.get(REGISTRY_PATH.format(station_id="ls-hn"),
                       headers={"Authorization": f"Bearer {registry_centre.tokens['ls-tt']}"})
        assert r.status_code == 403 and "ls-tt" in r.json()["detail"]
        r = client.get(REGISTRY_PATH.format(station_id="ls-hn"))
        assert r.status_code == 401
        with pytest.raises(ConfigError, match="403"):
            pull_snapshot(folder, url="http://testserver",
                          token=registry_centre.tokens["ls-tt"], station_id="ls-hn",
                          client=client)
    assert load_snapshot(folder) is None  # nothing written


def test_a_users_token_is_not_a_station_token(app, registry_centre) -> None:  # noqa: ANN001
    from api.users import UserService

    UserService(registry_centre.services.sessions).add("admin1", "admin", PASSWORD,
                                                        actor="test")
    with TestClient(app) as client:
        r = client.post("/api/v1/auth/token", data={"username": "admin1", "password": PASSWORD})
        assert r.status_code == 200, r.text
        user_token = r.json()["access_token"]
        # The user's token reads the registry on the desk's own routes ...
        assert client.get("/api/v1/licences", headers={
            "Authorization": f"Bearer {user_token}"}).status_code == 200
        # ... but it is not a station's token.
        r = client.get(REGISTRY_PATH.format(station_id="ls-hn"),
                       headers={"Authorization": f"Bearer {user_token}"})
        assert r.status_code == 403


def test_field_registry_pull_command_over_http(app, registry_centre,  # noqa: ANN001
                                               tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from api.serve import BackgroundServer

    rfwatch = str(Path(sys.executable).with_name("rfwatch"))
    home = tmp_path / "kit-home"
    env = {**os.environ, "RFWATCH_HOME": str(home),
           "KIT_TOKEN": registry_centre.tokens["ls-tt"]}
    with BackgroundServer(app) as server:
        ok = subprocess.run([rfwatch, "field", "registry", "pull", "--station", "ls-tt",
                             "--centre", server.url, "--token-env", "KIT_TOKEN"],
                            env=env, capture_output=True, text=True, timeout=60)
        refused = subprocess.run([rfwatch, "field", "registry", "pull", "--station", "ls-hn",
                                  "--centre", server.url, "--token-env", "KIT_TOKEN"],
                                 env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    registry = load_snapshot(home / "stations" / "ls-tt" / "registry")
    assert registry is not None and len(registry.licences) == 6
    assert refused.returncode == 2 and "403" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert not (home / "stations" / "ls-hn").exists()
