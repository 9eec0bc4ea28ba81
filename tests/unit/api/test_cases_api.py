"""Cases through the REST API: the list carries the CLI's keys, filters and pages,
the lifecycle with audit, notes, evidence in the content-addressed store."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from .conftest import bearer, ingest, make_batch

RFWATCH = Path(sys.executable).with_name("rfwatch")


def test_case_list_items_carry_the_cli_json_keys(client: TestClient, desk) -> None:  # noqa: ANN001
    ingest(client, desk, make_batch(f_hz=163.45e6))
    ingest(client, desk, make_batch(station="ls-tt", seq=2, f_hz=165.1e6))
    r = client.get("/api/v1/cases", headers=bearer(client, "official1"))
    assert r.status_code == 200 and r.headers["x-total-count"] == "2"
    api_items = r.json()
    cli = subprocess.run(
        [str(RFWATCH), "--home", str(desk.home), "cases", "list", "--json"],
        capture_output=True, text=True, check=True,
        env={"RFWATCH_DB_URL": f"sqlite:///{desk.home / 'rfwatch.db'}", "PATH": "/usr/bin"},
    )
    cli_items = json.loads(cli.stdout)
    assert {c["id"] for c in cli_items} == {c["id"] for c in api_items}
    for item in api_items:
        cli_item = next(c for c in cli_items if c["id"] == item["id"])
        assert set(cli_item) <= set(item)
        assert {k: item[k] for k in cli_item} == cli_item
    # Filters and paging.
    h = bearer(client, "inspector1")
    only = client.get("/api/v1/cases", params={"station": "ls-tt"}, headers=h).json()
    assert [c["f_hz"] for c in only] == [165.1e6]
    band = client.get("/api/v1/cases", params={"f_min_hz": 164e6, "f_max_hz": 166e6},
                      headers=h).json()
    assert [c["stations"] for c in band] == [["ls-tt"]]
    page = client.get("/api/v1/cases", params={"limit": 1, "offset": 1}, headers=h)
    assert len(page.json()) == 1 and page.headers["x-total-count"] == "2"
    assert page.json()[0]["id"] == api_items[1]["id"]


def test_lifecycle_notes_and_audit_through_the_api(client: TestClient, desk) -> None:  # noqa: ANN001
    case_id = ingest(client, desk, make_batch())["case_ids"][0]
    insp, field, off = (bearer(client, u) for u in ("inspector1", "field1", "official1"))
    url = f"/api/v1/cases/{case_id}"
    detail = client.get(url, headers=insp).json()
    assert detail["allowed_transitions"] == ["triaged", "dismissed"]
    assert detail["findings"][0]["kind"] == "unlicensed_emission"
    assert detail["findings"][0]["legal_basis"]
    r = client.post(f"{url}/assign", json={"assignee": "field1"}, headers=insp)
    assert r.json()["assignee"] == "field1"
    steps = [(insp, "triaged"), (insp, "field_verification"), (field, "enforcement"),
             (off, "closed")]
    for headers, to in steps:
        r = client.post(f"{url}/transition", json={"to_status": to, "reason": f"-> {to}"},
                        headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == to
    r = client.post(f"{url}/notes", json={"text": "Đã lập biên bản / report filed"},
                    headers=field)
    assert r.status_code == 200
    detail = client.get(url, headers=off).json()
    actions = [(a["actor"], a["action"]) for a in detail["audit"]]
    assert actions == [("inspector1", "case.assign"), ("inspector1", "case.transition"),
                       ("inspector1", "case.transition"), ("field1", "case.transition"),
                       ("official1", "case.transition"), ("field1", "case.note")]
    transitions = [(h["actor"], h["to"]) for h in detail["history"] if h["action"] == "transition"]
    assert transitions == [("inspector1", "triaged"), ("inspector1", "field_verification"),
                           ("field1", "enforcement"), ("official1", "closed")]
    assert detail["allowed_transitions"] == []


def test_evidence_upload_is_content_addressed_and_downloads_with_checksum(
    client: TestClient, desk, tmp_path: Path  # noqa: ANN001
) -> None:
    case_id = ingest(client, desk, make_batch())["case_ids"][0]
    h = bearer(client, "field1")
    body = "ảnh hiện trường / site photo".encode() * 1000
    sha = hashlib.sha256(body).hexdigest()
    r = client.post(f"/api/v1/cases/{case_id}/evidence", headers=h,
                    files={"file": ("photo.jpg", body, "image/jpeg")},
                    data={"kind": "photo", "sha256": sha})
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["sha256"] == sha and ev["size_bytes"] == len(body)
    stored = desk.home / "evidence" / "store" / sha[:2] / sha
    assert stored.read_bytes() == body
    d = client.get(ev["download"], headers=bearer(client, "official1"))
    assert d.status_code == 200 and d.content == body
    assert d.headers["x-checksum-sha256"] == sha
    # A wrong checksum is refused; a tampered file is not served.
    r = client.post(f"/api/v1/cases/{case_id}/evidence", headers=h,
                    files={"file": ("x.bin", b"abc", "application/octet-stream")},
                    data={"kind": "photo", "sha256": "0" * 64})
    assert r.status_code == 409
    stored.chmod(0o644)
    stored.write_bytes(body + b"!")
    assert client.get(ev["download"], headers=h).status_code == 409


def test_licence_import_export_round_trip(client: TestClient, desk, tmp_path: Path) -> None:  # noqa: ANN001
    from stations.sites import site_path

    h = bearer(client, "inspector1")
    data = site_path("demo_licences.csv").read_bytes()
    r = client.post("/api/v1/licences/import", headers=h,
                    files={"file": ("demo_licences.csv", data, "text/csv")})
    assert r.status_code == 200 and r.json()["imported"] > 0
    n = r.json()["imported"]
    listed = client.get("/api/v1/licences", headers=bearer(client, "official1")).json()
    assert len(listed) == n
    csv = client.get("/api/v1/licences/export", headers=h)
    assert csv.status_code == 200 and csv.text.count("\n") >= n
    bad = client.post("/api/v1/licences/import", headers=h,
                      files={"file": ("bad.csv", b"licence_id,f_hz\nX,abc\n", "text/csv")})
    assert bad.status_code == 422 and "bad.csv" in bad.json()["detail"]
    assert client.post("/api/v1/licences/import", headers=bearer(client, "field1"),
                       files={"file": ("a.csv", data, "text/csv")}).status_code == 403


def test_cli_evidence_is_copied_into_the_store(client: TestClient, desk, tmp_path: Path) -> None:  # noqa: ANN001
    case_id = ingest(client, desk, make_batch())["case_ids"][0]
    own = tmp_path / "measurement.csv"
    own.write_bytes(b"f_hz,e_dbuv_m\n163450000,71.5\n")
    sha = hashlib.sha256(own.read_bytes()).hexdigest()
    subprocess.run(
        [str(RFWATCH), "--home", str(desk.home), "cases", "evidence", case_id,
         "field_measurement", str(own), "--actor", "field1"],
        capture_output=True, text=True, check=True,
        env={"RFWATCH_DB_URL": f"sqlite:///{desk.home / 'rfwatch.db'}", "PATH": "/usr/bin"},
    )
    own.unlink()  # the user's own file goes; the case keeps its copy
    ev = client.get(f"/api/v1/cases/{case_id}", headers=bearer(client, "inspector1")
                    ).json()["evidence"][-1]
    assert ev["sha256"] == sha and ev["stored"]
    d = client.get(ev["download"], headers=bearer(client, "inspector1"))
    assert d.content == b"f_hz,e_dbuv_m\n163450000,71.5\n"
