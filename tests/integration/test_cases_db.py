"""Cases in a real database (SQLite and PostgreSQL): folding, lifecycle, guards, evidence."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from compliance.cases import CaseService, case_summary
from compliance.models import Case, CaseHistory
from compliance.records import Licence
from compliance.reference import load_reference_data
from compliance.registry import Registry, load_licences, save_licences
from compliance.rules import evaluate
from dsp.errors import ComplianceError
from dsp.types import Emission, GeoPosition
from storage.db import make_engine, make_session_factory
from storage.migrations import current_revision, downgrade, upgrade

T0 = int(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
S = 1_000_000_000
DAY = 86_400 * S
REFERENCE = load_reference_data()
SITE = GeoPosition(21.97, 106.70)


def emission(f_hz: float, *, t_ns: int = T0, bw_hz: float = 7_000.0, station: str = "",
             e_dbuv_m: float | None = None) -> Emission:
    return Emission(
        f_hz=f_hz, bw_99_hz=bw_hz, bw_xdb_hz=bw_hz * 1.2, power_db=-40.0, peak_power_db=-35.0,
        snr_db=25.0, noise_floor_db=-65.0, power_unit="dBFS", f_resolution_hz=300.0,
        t_first_ns=t_ns, t_last_ns=t_ns + S, station_id=station, e_dbuv_m=e_dbuv_m,
    )


def licence(licence_id: str, f_hz: float, **kw: object) -> Licence:
    values = dict(licence_id=licence_id, licensee="Công ty Thử", station_name="Trạm",
                  service="land_mobile", f_hz=f_hz, emission="16K0F3E", erp_w=10.0, lat=21.9,
                  lon=106.65, valid_from="2024-01-01", valid_to="2028-12-31", status="valid")
    values.update(kw)
    return Licence.model_validate(values)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rfwatch.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def service(engine: sa.Engine) -> CaseService:
    clock = iter(range(T0, T0 + 10**6 * S, S))
    return CaseService(make_session_factory(engine), reference=REFERENCE,
                       clock=lambda: next(clock))


def findings_for(*emissions: Emission, registry: Registry = Registry()):
    return evaluate(emissions, registry, REFERENCE, site=SITE)[1]


def test_migration_round_trip(db_url):
    upgrade(db_url)
    eng = make_engine(db_url)
    tables = set(sa.inspect(eng).get_table_names())
    assert {"licences", "foreign_stations", "cases", "case_history", "findings",
            "evidence"} <= tables
    eng.dispose()
    downgrade(db_url, "0001_foundation")
    eng = make_engine(db_url)
    assert "cases" not in set(sa.inspect(eng).get_table_names())
    eng.dispose()
    upgrade(db_url)
    assert current_revision(db_url) is not None


def test_one_emitter_heard_at_two_sites_is_one_case(service):
    pirate = findings_for(emission(432.650e6))
    pirate_b = findings_for(emission(432.650e6 + 400.0))  # site B measures it 400 Hz higher
    other = findings_for(emission(432.600e6))
    [c1] = service.record_findings(pirate, "site-a", T0)
    [c2, c3] = service.record_findings(pirate_b + other, "site-b", T0 + 5 * S)
    assert c2.id == c1.id and c3.id != c1.id
    cases = {c.id: c for c in service.list_cases()}
    assert len(cases) == 2
    assert cases[c1.id].stations == ["site-a", "site-b"]
    assert cases[c3.id].stations == ["site-b"]
    s = case_summary(cases[c1.id])
    assert (s["status"], s["class"], s["finding_kinds"]) == ("new", "unknown",
                                                               ["unlicensed_emission"])
    assert s["first_seen"] == "2026-03-02T02:00:00Z" and s["last_seen"] == "2026-03-02T02:00:05Z"


def test_intermittent_emitter_folds_within_the_window_and_not_beyond(service):
    window_days = REFERENCE.tolerances.cases.fold_window_s / 86_400
    [a] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    [b] = service.record_findings(findings_for(emission(432.650e6, t_ns=T0 + 2 * DAY)),
                                  "site-a", T0 + 2 * DAY)
    assert b.id == a.id
    later = T0 + int((2 + window_days + 1) * DAY)
    [c] = service.record_findings(findings_for(emission(432.650e6, t_ns=later)), "site-a", later)
    assert c.id != a.id


def test_class_and_licence_keep_emitters_apart(service, engine):
    with make_session_factory(engine).begin() as session:
        save_licences(session, [licence("LM-1", 432.850e6), licence("LM-2", 433.100e6)])
    with make_session_factory(engine)() as session:
        reg = Registry(tuple(load_licences(session)))
    assert [x.licence_id for x in reg.licences] == ["LM-1", "LM-2"]
    off = findings_for(emission(432.855e6), registry=reg)  # 5 kHz off LM-1
    assert [(f.kind, f.licence_id) for f in off] == [("frequency_out_of_tolerance", "LM-1")]
    [case] = service.record_findings(off, "site-a", T0)
    assert case.licence_id == "LM-1" and case.emitter_class == "licensed"  # FK to the licence
    # An unknown emitter on the same frequency (judged without the registry) is another case.
    [unknown] = service.record_findings(findings_for(emission(432.855e6)), "site-a", T0)
    assert unknown.id != case.id and unknown.licence_id is None
    # So is an out-of-tolerance emission of another licence.
    [other] = service.record_findings(findings_for(emission(433.105e6), registry=reg),
                                      "site-a", T0)
    assert other.id not in (case.id, unknown.id) and other.licence_id == "LM-2"


def test_a_continuous_emitter_does_not_write_a_finding_per_sweep(service):
    f = findings_for(emission(432.650e6))
    for k in range(5):
        service.record_findings(f, "site-a", T0 + k * 5 * S)
    [case] = service.list_cases()
    assert len(case.findings) == 1
    assert case.last_seen_ns == T0 + 20 * S
    repeat = int(REFERENCE.tolerances.cases.finding_repeat_s * S)
    service.record_findings(f, "site-a", T0 + repeat + S)
    assert len(service.get(case.id).findings) == 2


def test_lifecycle_history_and_assignee(service):
    [case] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    service.assign(case.id, "thanh.tra", actor="lead", reason="nearest team")
    for status in ("triaged", "field_verification", "enforcement", "closed"):
        service.transition(case.id, status, actor="inspector", reason=f"to {status}")
    got = service.get(case.id)
    assert got.status == "closed" and got.assignee == "thanh.tra"
    actions = [(h.action, h.from_status, h.to_status, h.actor) for h in got.history]
    assert actions == [
        ("created", None, "new", "system"),
        ("finding_added", None, None, "system"),
        ("assigned", None, None, "lead"),
        ("transition", "new", "triaged", "inspector"),
        ("transition", "triaged", "field_verification", "inspector"),
        ("transition", "field_verification", "enforcement", "inspector"),
        ("transition", "enforcement", "closed", "inspector"),
    ]
    assert [h.t_ns for h in got.history] == sorted(h.t_ns for h in got.history)
    assert "nearest team" in got.history[2].detail


@pytest.mark.parametrize(("path", "bad"), [
    ((), "closed"), ((), "enforcement"), (("triaged",), "new"),
    (("triaged", "field_verification", "enforcement"), "dismissed"),
])
def test_illegal_transitions_are_refused_by_code_and_change_nothing(service, path, bad):
    [case] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    for status in path:
        service.transition(case.id, status, actor="x", reason="ok")
    n_history = len(service.get(case.id).history)
    with pytest.raises(ComplianceError, match="illegal case transition"):
        service.transition(case.id, bad, actor="x", reason="try",
                           dismiss_reason="known" if bad == "dismissed" else None)
    got = service.get(case.id)
    assert got.status == (path[-1] if path else "new") and len(got.history) == n_history


def test_dismissal_needs_a_reason_and_records_it(service):
    [case] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    with pytest.raises(ComplianceError, match="needs a reason"):
        service.transition(case.id, "dismissed", actor="x", reason="why")
    with pytest.raises(ComplianceError, match="reason"):
        service.transition(case.id, "triaged", actor="x", reason="  ")
    got = service.transition(case.id, "dismissed", actor="x", reason="Đài đã biết",
                             dismiss_reason="known")
    assert (got.status, got.dismiss_reason) == ("dismissed", "known")


def test_dismissed_as_known_absorbs_later_sightings_but_false_alarm_does_not(service):
    [known] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    service.transition(known.id, "dismissed", actor="x", reason="k", dismiss_reason="known")
    [again] = service.record_findings(findings_for(emission(432.650e6)), "site-b", T0 + 60 * S)
    assert again.id == known.id and again.status == "dismissed"
    [fa] = service.record_findings(findings_for(emission(432.600e6)), "site-a", T0)
    service.transition(fa.id, "dismissed", actor="x", reason="f", dismiss_reason="false_alarm")
    [new] = service.record_findings(findings_for(emission(432.600e6)), "site-a", T0 + 60 * S)
    assert new.id != fa.id and new.status == "new"


def test_database_refuses_illegal_transitions_and_bad_rows(service, engine):
    [case] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    statements = [
        ("UPDATE cases SET status = 'closed' WHERE id = :id", {"id": case.id}),
        ("UPDATE cases SET status = 'dismissed' WHERE id = :id", {"id": case.id}),  # no reason
        ("UPDATE cases SET status = 'archived' WHERE id = :id", {"id": case.id}),
        ("UPDATE cases SET emitter_class = 'alien' WHERE id = :id", {"id": case.id}),
        ("INSERT INTO cases (id, status, emitter_class, f_hz, bw_hz, severity, first_seen_ns, "
         "last_seen_ns, created_ns, updated_ns) VALUES ('X', 'triaged', 'unknown', 1, 1, 'low', "
         "0, 0, 0, 0)", {}),
        ("INSERT INTO findings (case_id, kind, station_id, t_ns, f_hz, bw_hz, unit, severity, "
         "legal_basis, detail) VALUES (:id, 'bad_kind', 's', 0, 1, 1, '', 'low', '', '')",
         {"id": case.id}),
        ("INSERT INTO evidence (case_id, kind, uri, sha256, added_by, added_ns, note) VALUES "
         "(:id, 'photo', 'x', 'abc', 'me', 0, '')", {"id": case.id}),
        ("UPDATE case_history SET actor = 'someone else'", {}),
        ("DELETE FROM case_history", {}),
    ]
    for sql, params in statements:
        with engine.connect() as conn, pytest.raises(DBAPIError, match=".") as info:
            conn.execute(sa.text(sql), params)
            conn.commit()
        assert info.value is not None, sql
    got = service.get(case.id)
    assert got.status == "new" and len(got.history) == 2
    assert {h.actor for h in got.history} == {"system"}
    # Legal moves pass the trigger.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE cases SET status = 'triaged' WHERE id = :id"),
                     {"id": case.id})
        conn.execute(sa.text("UPDATE cases SET status = 'dismissed', dismiss_reason = "
                             "'false_alarm' WHERE id = :id"), {"id": case.id})
    assert service.get(case.id).status == "dismissed"


@pytest.mark.postgres
def test_postgres_refuses_truncate_of_history(pg_url):
    upgrade(pg_url)
    eng = make_engine(pg_url)
    try:
        with eng.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(sa.text("TRUNCATE case_history"))
    finally:
        eng.dispose()


def test_history_is_append_only_in_the_orm(service, engine):
    service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    with make_session_factory(engine)() as session:
        entry = session.scalars(sa.select(CaseHistory)).first()
        entry.detail = "rewritten"
        with pytest.raises(ComplianceError, match="append-only"):
            session.flush()
        session.rollback()
        entry = session.scalars(sa.select(CaseHistory)).first()
        session.delete(entry)
        with pytest.raises(ComplianceError, match="append-only"):
            session.flush()


def test_orm_refuses_an_illegal_status_assignment(service, engine):
    [case] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    with make_session_factory(engine)() as session:
        row = session.get(Case, case.id)
        with pytest.raises(ComplianceError, match="illegal case transition new -> closed"):
            row.status = "closed"
    with pytest.raises(ComplianceError, match="starts as 'new'"):
        Case(status="triaged")


def test_evidence_checksums(service, tmp_path):
    [case] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    photo = tmp_path / "anten.jpg"
    photo.write_bytes(b"\xff\xd8 a photo of an antenna")
    import hashlib

    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    ev = service.add_evidence(case.id, "photo", photo, actor="field", note="mast")
    assert ev.sha256 == digest and ev.size_bytes == photo.stat().st_size
    assert CaseService.verify_evidence(ev)
    photo.write_bytes(b"tampered")
    assert not CaseService.verify_evidence(ev)
    with pytest.raises(ComplianceError, match="checksum mismatch"):
        service.add_evidence(case.id, "photo", photo, actor="field", sha256=digest)
    with pytest.raises(ComplianceError, match="sha256 is required"):
        service.add_evidence(case.id, "sigmf", "https://centre.example/rec.sigmf-meta",
                             actor="field")
    with pytest.raises(ComplianceError, match="sha256 is required"):
        service.add_evidence(case.id, "sigmf", "https://centre.example/rec.sigmf-meta",
                             actor="field", sha256="zz" * 32)
    remote = service.add_evidence(case.id, "sigmf", "https://centre.example/rec.sigmf-meta",
                                  actor="field", sha256="AB" * 32)
    assert remote.sha256 == "ab" * 32
    with pytest.raises(ComplianceError, match="evidence kind"):
        service.add_evidence(case.id, "video", photo, actor="field")
    got = service.get(case.id)
    assert [e.kind for e in got.evidence] == ["photo", "sigmf"]
    assert [h.action for h in got.history].count("evidence_added") == 2


def test_unknown_case_is_a_clear_error(service):
    with pytest.raises(ComplianceError, match="no case 'C-nope'"):
        service.get("C-nope")


def _cli(args: list[str], db_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RFWATCH_DB_URL": db_url, "RFWATCH_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", "from rfwatch.cli import main; main()", *args],
                          env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _cli_in_process(args: list[str], db_url: str, home: Path):
    """The same CLI run in this process (faster); errors propagate as exceptions."""
    from typer.testing import CliRunner

    from rfwatch.cli import app

    return CliRunner().invoke(app, args, env={"RFWATCH_DB_URL": db_url,
                                              "RFWATCH_HOME": str(home)},
                              catch_exceptions=False)


def test_cases_cli(service, db_url, tmp_path):
    [a] = service.record_findings(findings_for(emission(432.650e6)), "site-a", T0)
    service.record_findings(findings_for(emission(432.650e6 + 300)), "site-b", T0 + S)
    out = _cli_in_process(["cases", "list", "--json"], db_url, tmp_path)
    assert out.exit_code == 0, out.output
    [doc] = json.loads(out.stdout)
    assert {k: doc[k] for k in ("id", "status", "f_hz", "class", "finding_kinds",
                                "stations")} == {
        "id": a.id, "status": "new", "f_hz": 432.650e6, "class": "unknown",
        "finding_kinds": ["unlicensed_emission"], "stations": ["site-a", "site-b"]}
    bad = _cli(["cases", "transition", a.id, "closed", "--reason", "x"], db_url, tmp_path)
    assert bad.returncode == 2 and "illegal case transition" in bad.stderr
    assert "Traceback" not in bad.stderr
    ok = _cli_in_process(["cases", "transition", a.id, "triaged", "--reason", "xem xét",
                          "--actor", "an"], db_url, tmp_path)
    assert ok.exit_code == 0, ok.output
    assert _cli_in_process(["cases", "assign", a.id, "binh"], db_url, tmp_path).exit_code == 0
    show = json.loads(_cli_in_process(["cases", "show", a.id, "--json"], db_url,
                                      tmp_path).stdout)
    assert show["status"] == "triaged" and show["assignee"] == "binh"
    assert show["history"][-2]["actor"] == "an" and show["history"][-2]["detail"] == "xem xét"


DATA = Path(__file__).resolve().parents[1] / "data" / "compliance"


def test_licence_and_foreign_registry_through_the_cli(db_url, tmp_path):
    from compliance.importers import read_foreign_stations, read_licences
    from dsp.errors import InputFormatError

    source = DATA / "licences_433.csv"
    out = _cli_in_process(["licences", "import", str(source)], db_url, tmp_path)
    assert out.exit_code == 0 and "5" in out.stdout
    listed = json.loads(_cli_in_process(["licences", "list", "--json"], db_url, tmp_path).stdout)
    assert [x["licence_id"] for x in listed] == ["LM-001", "LM-002", "LM-003", "LM-004",
                                                 "LM-005"]
    for name in ("export.csv", "export.xlsx"):
        assert _cli_in_process(["licences", "export", str(tmp_path / name)], db_url,
                               tmp_path).exit_code == 0
        assert read_licences(tmp_path / name) == read_licences(source)
    # A bad file imports nothing: the registry is as it was.
    bad = tmp_path / "bad.csv"
    bad.write_text(source.read_text(encoding="utf-8").replace("LM-005", "LM-006").replace(
        "2028-12-31,valid,frequency", "2028-12-31,active,frequency"), encoding="utf-8")
    with pytest.raises(InputFormatError, match="line 6 field 'status'"):
        _cli_in_process(["licences", "import", str(bad)], db_url, tmp_path)
    listed = json.loads(_cli_in_process(["licences", "list", "--json"], db_url, tmp_path).stdout)
    assert "LM-006" not in {x["licence_id"] for x in listed} and len(listed) == 5
    # --replace empties the table first.
    one = tmp_path / "one.csv"
    one.write_text("\n".join(source.read_text(encoding="utf-8").splitlines()[:2]) + "\n",
                   encoding="utf-8")
    _cli_in_process(["licences", "import", str(one), "--replace"], db_url, tmp_path)
    listed = json.loads(_cli_in_process(["licences", "list", "--json"], db_url, tmp_path).stdout)
    assert [x["licence_id"] for x in listed] == ["LM-001"]
    # Foreign stations.
    assert _cli_in_process(["foreign", "import", str(DATA / "foreign_433.csv")], db_url,
                           tmp_path).exit_code == 0
    [cn] = json.loads(_cli_in_process(["foreign", "list", "--json"], db_url, tmp_path).stdout)
    assert cn == read_foreign_stations(DATA / "foreign_433.csv")[0].model_dump(mode="json")
