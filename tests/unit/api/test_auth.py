"""Login, refresh, rate limit, disabled users; station tokens and user tokens kept apart."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.models import AuditEntry
from api.users import UserService

from .conftest import PASSWORD, bearer, ingest, login, make_batch


def test_password_login_gives_bearer_tokens_that_work_and_refresh(client: TestClient) -> None:
    tok = login(client, "inspector1")
    assert tok["token_type"] == "bearer" and tok["role"] == "inspector"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert me.status_code == 200 and me.json()["name"] == "inspector1"
    assert "cases:assign" in me.json()["permissions"]
    # A refresh token buys a new access token, but is not itself an access token.
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": tok["refresh_token"]})
    assert r.status_code == 200 and r.json()["access_token"] != tok["access_token"]
    bad = client.get("/api/v1/auth/me",
                     headers={"Authorization": f"Bearer {tok['refresh_token']}"})
    assert bad.status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": tok["access_token"]})
    assert r.status_code == 401


def test_wrong_password_is_401_and_logins_are_rate_limited(client: TestClient, desk) -> None:  # noqa: ANN001
    for _ in range(5):
        r = client.post("/api/v1/auth/token", data={"username": "field1", "password": "nope"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "field1", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    with desk.services.sessions() as s:
        actions = [a.action for a in s.query(AuditEntry).filter_by(subject="user:field1")]
    assert actions.count("login.failed") == 5


def test_disabling_a_user_revokes_their_tokens_at_once(client: TestClient, desk) -> None:  # noqa: ANN001
    tok = login(client, "field1")
    headers = {"Authorization": f"Bearer {tok['access_token']}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    r = client.post("/api/v1/users/field1/disable", headers=bearer(client, "admin1"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": tok["refresh_token"]})
    assert r.status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": "field1", "password": PASSWORD})
    assert r.status_code == 401
    stored = UserService(desk.services.sessions).get("field1")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")


def test_station_tokens_only_ingest_and_user_tokens_cannot_ingest(client: TestClient,
                                                                   desk) -> None:  # noqa: ANN001
    station = {"Authorization": f"Bearer {desk.tokens['ls-hn']}"}
    assert client.get("/api/v1/cases", headers=station).status_code == 401
    r = client.post("/api/v1/ingest/batches", content=make_batch().model_dump_json(),
                    headers={**bearer(client, "admin1"), "Content-Type": "application/json"})
    assert r.status_code == 403
    assert ingest(client, desk, make_batch())["status"] == "accepted"


def test_audit_log_is_append_only(client: TestClient, desk) -> None:  # noqa: ANN001
    import pytest
    import sqlalchemy as sa

    login(client, "admin1")
    with desk.services.sessions() as s:
        n = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert n >= 5  # users added + a login
    engine = desk.services.engine
    for stmt in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(stmt))


def test_audit_log_is_append_only_on_postgres(pg_url: str) -> None:
    import pytest
    import sqlalchemy as sa

    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    try:
        UserService(make_session_factory(engine)).add("ana", "official", PASSWORD, actor="t")
        with engine.connect() as c:
            assert c.scalar(sa.text("SELECT count(*) FROM audit_log")) == 1
        for stmt in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
                     "TRUNCATE audit_log"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
                c.execute(sa.text(stmt))
    finally:
        engine.dispose()


def test_docs_and_pages_use_only_local_assets(client: TestClient) -> None:
    import re

    docs = client.get("/docs")
    assert docs.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
    pages = [client.get(f"/ui/{p}").text for p in ("login", "alarms", "cases", "case", "live")]
    for page in pages:
        urls += re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assets = [u for u in urls if not u.startswith(("#", "/ui/case?", "/ui/"))] + \
        [u for u in urls if u.startswith("/ui/static/")]
    assert assets and all(u.startswith("/") for u in assets), urls
    for url in set(assets):
        assert client.get(url).status_code == 200, url
    assert client.get("/ui/static/../models.py").status_code == 404


def test_users_cli_add_list_disable(tmp_path) -> None:  # noqa: ANN001
    import json
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    from api.security import AuthError, hash_password

    rfwatch = str(Path(sys.executable).with_name("rfwatch"))
    env = {"PATH": "/usr/bin", "RFWATCH_HOME": str(tmp_path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([rfwatch, "users", *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=120)

    ok = run("add", "lan", "--role", "field", "--password-stdin", stdin="mật-khẩu-đủ-dài\n")
    assert ok.returncode == 0, ok.stderr
    bad = run("add", "minh", "--role", "boss", "--password-stdin", stdin="mật-khẩu-đủ-dài\n")
    assert bad.returncode == 2 and "boss" in bad.stderr and "Traceback" not in bad.stderr
    assert run("disable", "lan").returncode == 0
    listed = json.loads(run("list", "--json").stdout)
    assert [(u["name"], u["role"], u["active"]) for u in listed] == [("lan", "field", False)]
    from api.users import UserService
    from storage.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{tmp_path / 'rfwatch.db'}")
    user = UserService(make_session_factory(engine)).get("lan")
    engine.dispose()
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert "mật-khẩu" not in user.password_hash
    with pytest.raises(AuthError, match="8"):
        hash_password("short")
