"""Dashboards as code: the JSON is sound, the provisioning files point at it, and
``rfwatch dashboards push`` speaks Grafana's HTTP API.

Grafana cannot be installed here, so the push goes to a small local HTTP server that
answers as Grafana's HTTP API documentation says (Authentication: ``Authorization:
Bearer <service-account token>``, 401 ``{"message": "Unauthorized"}`` otherwise;
Folder API ``GET/POST /api/folders``; Dashboard API ``POST /api/dashboards/db`` with
``{"dashboard", "folderUid", "overwrite", "message"}`` answered with ``{"id", "uid",
"url", "status", "version", "slug"}``; a new dashboard must have ``id`` null; an
existing uid without ``overwrite`` is 412 ``version-mismatch``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from dashboards.definitions import (
    INFLUX_UID,
    JSON_DIR,
    PG_UID,
    all_dashboards,
    dumps,
    panels,
)
from storage import names

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))
TOKEN = "glsa_test_token_123"
PROVISIONING = JSON_DIR.parent / "provisioning"
#: Variables Grafana itself provides (global variables and the InfluxDB alias patterns).
BUILTIN = {"timeFilter", "__interval", "__interval_ms", "__unixEpochNanoFilter"}


class FakeGrafana:
    """Grafana's HTTP API as documented, for folders and dashboards (in memory)."""

    def __init__(self) -> None:
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def _reply(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                    return True
                self._reply(401, {"message": "Unauthorized"})
                return False

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.requests.append(("GET", self.path))
                if not self._authorised():
                    return
                if self.path == "/api/frontend/settings":
                    self._reply(200, {"buildInfo": {"version": "11.3.0", "edition": "OSS"}})
                elif self.path == "/api/health":  # Grafana's health API (docs: "Health API")
                    self._reply(200, {"commit": "abc1234", "database": "ok",
                                      "version": "11.3.0"})
                elif self.path.split("?")[0] == "/api/folders":
                    self._reply(200, [{"id": f["id"], "uid": u, "title": f["title"]}
                                      for u, f in outer.folders.items()])
                else:
                    self._reply(404, {"message": "Not found"})

            def do_POST(self) -> None:  # noqa: N802
                outer.requests.append(("POST", self.path))
                if not self._authorised():
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/api/folders":
                    uid = body.get("uid") or f"f{len(outer.folders)}"
                    if uid in outer.folders:
                        self._reply(409, {"message": "a folder with the same uid already exists"})
                        return
                    outer.folders[uid] = {"id": len(outer.folders) + 1, "title": body["title"]}
                    self._reply(200, {"id": outer.folders[uid]["id"], "uid": uid,
                                      "title": body["title"], "url": f"/dashboards/f/{uid}/"})
                elif self.path == "/api/dashboards/db":
                    dash = body.get("dashboard")
                    if not isinstance(dash, dict) or not dash.get("title"):
                        self._reply(400, {"message": "Dashboard title cannot be empty"})
                        return
                    if body.get("folderUid") and body["folderUid"] not in outer.folders:
                        self._reply(400, {"message": "folder not found"})
                        return
                    uid = dash.get("uid")
                    old = outer.dashboards.get(uid)
                    if old is not None and not body.get("overwrite"):
                        self._reply(412, {"message": "version-mismatch",
                                          "status": "version-mismatch"})
                        return
                    if old is None and dash.get("id") is not None:
                        self._reply(404, {"message": "Dashboard not found"})
                        return
                    version = 1 if old is None else old["version"] + 1
                    slug = re.sub(r"[^a-z0-9]+", "-", dash["title"].lower()).strip("-")
                    outer.dashboards[uid] = {"dashboard": dash, "version": version,
                                             "folderUid": body.get("folderUid")}
                    self._reply(200, {"id": len(outer.dashboards), "uid": uid,
                                      "url": f"/d/{uid}/{slug}", "status": "success",
                                      "version": version, "slug": slug})
                else:
                    self._reply(404, {"message": "Not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGrafana:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana() as g:
        yield g


def _push(url: str, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    cmd = [RFWATCH, "dashboards", "push", "--grafana", url, "--timeout", "5"]
    if token is not None:
        cmd += ["--token", token]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


# -- the JSON ---------------------------------------------------------------------------


def test_committed_json_is_what_the_code_builds() -> None:
    built = all_dashboards()
    files = sorted(p.stem for p in JSON_DIR.glob("*.json"))
    assert files == sorted(built)
    for name, dash in built.items():
        assert (JSON_DIR / f"{name}.json").read_text(encoding="utf-8") == dumps(dash), (
            f"dashboards/json/{name}.json is stale: run `rfwatch dashboards build`")


def test_uids_and_panel_ids_are_unique() -> None:
    dashes = list(all_dashboards().values())
    uids = [d["uid"] for d in dashes]
    assert len(set(uids)) == len(uids) == 4
    for d in dashes:
        assert len(d["uid"]) <= 40 and re.fullmatch(r"[a-zA-Z0-9_-]+", d["uid"])
        ids = [p["id"] for p in panels(d)]
        assert len(set(ids)) == len(ids)
        for p in panels(d):
            refs = [t["refId"] for t in p["targets"]]
            assert len(set(refs)) == len(refs), (d["uid"], p["title"])


def test_every_data_source_reference_resolves_to_a_variable_of_its_type() -> None:
    for d in all_dashboards().values():
        ds_vars = {v["name"]: v for v in d["templating"]["list"] if v["type"] == "datasource"}
        for v in ds_vars.values():  # defaults: the provisioned uids
            assert v["current"]["value"] in (INFLUX_UID, PG_UID)
        refs = [p["datasource"] for p in panels(d)]
        refs += [t["datasource"] for p in panels(d) for t in p["targets"]]
        refs += [v["datasource"] for v in d["templating"]["list"] if "datasource" in v]
        for ref in refs:
            m = re.fullmatch(r"\$\{(\w+)\}", ref["uid"])
            assert m, ref
            var = ds_vars[m.group(1)]
            assert var["query"] == ref["type"], (ref, var["query"])


def test_template_variables_and_names_in_queries_resolve() -> None:
    measurements = set(names.MEASUREMENTS)
    fields = {f for s in names.MEASUREMENTS.values() for f in s.fields} | {"gap_s"}
    tags = {t for s in names.MEASUREMENTS.values() for t in s.tags}
    for d in all_dashboards().values():
        defined = {v["name"] for v in d["templating"]["list"]}
        texts = [t.get("query") or t.get("rawSql") for p in panels(d) for t in p["targets"]]
        texts += [v["query"] for v in d["templating"]["list"] if v["type"] == "query"]
        for q in texts:
            for var in re.findall(r"\$\{?(\w+)", q):
                assert var in defined or var in BUILTIN or var.startswith("tag_"), (
                    f"{d['uid']}: ${var} is not defined in {q}")
            if "FROM cases" in q or "FROM case_history" in q:
                continue
            for m in re.findall(r'FROM "(\w+)"', q):
                assert m in measurements, q
            for quoted in re.findall(r'"(\w+)"', q):
                assert quoted in measurements | fields | tags | {
                    "occupancy_pct", "f_mhz", "bw_khz"}, f"unknown name {quoted!r} in {q}"
        # Variables that depend on others are declared after them (Grafana resolves in
        # order): $band's query uses $station.
        order = [v["name"] for v in d["templating"]["list"]]
        for i, v in enumerate(d["templating"]["list"]):
            for used in re.findall(r"\$(\w+)", v.get("query", "")):
                assert used in order[:i], (d["uid"], v["name"], used)


def test_provisioning_files_point_at_the_dashboards_and_the_uids() -> None:
    ds = yaml.safe_load((PROVISIONING / "datasources" / "rfwatch.yaml").read_text())
    assert ds["apiVersion"] == 1
    by_uid = {d["uid"]: d for d in ds["datasources"]}
    assert by_uid[INFLUX_UID]["type"] == "influxdb"
    assert by_uid[INFLUX_UID]["jsonData"]["dbName"]
    assert by_uid[PG_UID]["type"] == "grafana-postgresql-datasource"
    prov = yaml.safe_load((PROVISIONING / "dashboards" / "rfwatch.yaml").read_text())
    (provider,) = prov["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    assert provider["folderUid"] == "rfwatch"


# -- pushing ----------------------------------------------------------------------------


def test_push_creates_the_folder_and_every_dashboard(grafana: FakeGrafana) -> None:
    proc = _push(grafana.url)
    assert proc.returncode == 0, proc.stderr
    assert "11.3.0" in proc.stdout
    assert set(grafana.folders) == {"rfwatch"}
    built = all_dashboards()
    assert set(grafana.dashboards) == {d["uid"] for d in built.values()}
    for d in built.values():
        stored = grafana.dashboards[d["uid"]]
        assert stored["version"] == 1 and stored["folderUid"] == "rfwatch"
        assert stored["dashboard"]["panels"] == d["panels"]
        assert f"/d/{d['uid']}/" in proc.stdout


def test_push_again_updates_in_place(grafana: FakeGrafana) -> None:
    assert _push(grafana.url).returncode == 0
    proc = _push(grafana.url)
    assert proc.returncode == 0, proc.stderr
    assert len(grafana.folders) == 1
    assert {v["version"] for v in grafana.dashboards.values()} == {2}
    assert ("POST", "/api/folders") in grafana.requests
    assert grafana.requests.count(("POST", "/api/folders")) == 1


def test_push_with_a_wrong_token_is_one_line_and_exit_2(grafana: FakeGrafana) -> None:
    proc = _push(grafana.url, token="wrong")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "401" in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2
    assert not grafana.dashboards


def test_push_to_nothing_is_one_line_and_exit_2() -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _push(f"http://127.0.0.1:{port}")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "Grafana" in proc.stderr
