"""Coordination matters and kept citations in a real database (SQLite and PostgreSQL),
and migration 0004_legal_coordination on rows written before it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.exc import DBAPIError

from compliance.cases import CaseService, case_summary
from compliance.records import ForeignStation, Licence
from compliance.reference import load_reference_data
from compliance.registry import Registry
from compliance.rules import VIETNAM_TZ, evaluate
from dsp.errors import ComplianceError, StorageError
from dsp.types import Emission, GeoPosition
from storage.db import make_engine, make_session_factory
from storage.migrations import current_revision, downgrade, upgrade

S = 1_000_000_000
REFERENCE = load_reference_data()
SITE = GeoPosition(21.97, 106.70)
F_CN = 432.750e6


def _ns(y: int, m: int, d: int, hh: int = 12) -> int:
    return int(dt.datetime(y, m, d, hh, tzinfo=VIETNAM_TZ).timestamp()) * S


T0 = _ns(2026, 6, 20)


def emission(f_hz: float, *, t_ns: int = T0, e_dbuv_m: float | None = None,
             bw_hz: float = 7_000.0) -> Emission:
    return Emission(
        f_hz=f_hz, bw_99_hz=bw_hz, bw_xdb_hz=bw_hz * 1.2, power_db=-40.0, peak_power_db=-35.0,
        snr_db=25.0, noise_floor_db=-65.0, power_unit="dBm" if e_dbuv_m is not None else "dBFS",
        f_resolution_hz=300.0, t_first_ns=t_ns, t_last_ns=t_ns + S, station_id="site-a",
        e_dbuv_m=e_dbuv_m,
    )


FOREIGN = ForeignStation.model_validate(dict(
    licence_id="CN-001", station_name="凭祥 base station", service="land_mobile", f_hz=F_CN,
    emission="16K0F3E", erp_w=50.0, lat=22.01, lon=106.73, country="CN"))
LICENCE = Licence.model_validate(dict(
    licence_id="LM-1", licensee="Công ty Thử", station_name="Trạm", service="land_mobile",
    f_hz=F_CN, emission="16K0F3E", erp_w=10.0, lat=21.9, lon=106.65,
    valid_from="2024-01-01", valid_to="2028-12-31", status="valid"))
# Our licence shares the foreign station's channel: only then is the foreign field at
# the border a coordination matter (compliance.rules, cross_border_over_trigger).
REGISTRY = Registry(licences=(LICENCE,), foreign=(FOREIGN,))


def over_trigger(t_ns: int = T0):
    trigger = REFERENCE.coordination.trigger_for("land_mobile", F_CN).trigger_dbuv_m
    return evaluate([emission(F_CN, t_ns=t_ns, e_dbuv_m=trigger + 6.0)], REGISTRY, REFERENCE,
                    site=SITE)[1]


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


def test_a_foreign_station_over_its_trigger_opens_a_coordination_matter(service):
    findings = over_trigger()
    assert [(f.kind, f.matter) for f in findings] == [("cross_border_over_trigger",
                                                       "coordination")]
    [matter] = service.record_findings(findings, "site-a", T0)
    assert (matter.kind, matter.status, matter.emitter_class) == ("coordination", "new",
                                                                  "foreign")
    assert matter.id.startswith("PH")
    s = case_summary(matter)
    assert (s["kind"], s["foreign_id"], s["licence_id"]) == ("coordination", "CN-001", None)
    [row] = matter.findings
    assert (row.instrument, row.article, row.matter) == ("itu_rr_art15", "Điều 15",
                                                         "coordination")
    assert "15/2020" not in row.legal_basis and "174/2026" not in row.legal_basis
    # Seen again a day later: the same matter; an unlicensed emitter next to it: a case.
    [again] = service.record_findings(over_trigger(T0 + 86_400 * S), "site-b",
                                      T0 + 86_400 * S)
    assert again.id == matter.id and again.stations == ["site-a", "site-b"]
    unlicensed = evaluate([emission(432.650e6)], REGISTRY, REFERENCE, site=SITE)[1]
    [case] = service.record_findings(unlicensed, "site-a", T0)
    assert case.kind == "sanction" and case.id != matter.id


def test_the_coordination_lifecycle_ends_in_a_report_to_the_authority(service):
    [matter] = service.record_findings(over_trigger(), "site-a", T0)
    with pytest.raises(ComplianceError, match="illegal case transition"):
        service.transition(matter.id, "field_verification", actor="x", reason="no")
    with pytest.raises(ComplianceError, match="illegal case transition"):
        service.transition(matter.id, "reported", actor="x", reason="too early")
    for status in ("triaged", "report_drafted", "reported", "closed"):
        service.transition(matter.id, status, actor="thanh.tra",
                           reason=f"{status}: báo cáo can nhiễu theo Phụ lục 10")
    got = service.get(matter.id)
    assert got.status == "closed"
    assert [h.to_status for h in got.history if h.action == "transition"] == [
        "triaged", "report_drafted", "reported", "closed"]
    # A sanction case cannot take the coordination path.
    [case] = service.record_findings(
        evaluate([emission(432.650e6)], REGISTRY, REFERENCE, site=SITE)[1], "site-a", T0)
    service.transition(case.id, "triaged", actor="x", reason="ok")
    with pytest.raises(ComplianceError, match="illegal case transition"):
        service.transition(case.id, "report_drafted", actor="x", reason="no")


def test_the_database_refuses_mixing_the_lifecycles(service, engine):
    [matter] = service.record_findings(over_trigger(), "site-a", T0)
    [case] = service.record_findings(
        evaluate([emission(432.650e6)], REGISTRY, REFERENCE, site=SITE)[1], "site-a", T0)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE cases SET status = 'triaged' WHERE id IN (:a, :b)"),
                     {"a": matter.id, "b": case.id})
        # triaged -> report_drafted is legal for the matter ...
        conn.execute(sa.text("UPDATE cases SET status = 'report_drafted' WHERE id = :id"),
                     {"id": matter.id})
    # ... and not for the sanction case, nor may a case change its kind.
    for sql in ("UPDATE cases SET status = 'report_drafted' WHERE id = :id",
                "UPDATE cases SET status = 'reported' WHERE id = :id",
                "UPDATE cases SET kind = 'coordination' WHERE id = :id",
                "UPDATE cases SET kind = 'other' WHERE id = :id"):
        with engine.connect() as conn, pytest.raises(DBAPIError):
            conn.execute(sa.text(sql), {"id": case.id})
            conn.commit()
    with engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(sa.text("UPDATE cases SET status = 'enforcement' WHERE id = :id"),
                     {"id": matter.id})
        conn.commit()
    assert (service.get(case.id).kind, service.get(case.id).status) == ("sanction", "triaged")
    assert (service.get(matter.id).kind, service.get(matter.id).status) == (
        "coordination", "report_drafted")


def test_information_alone_opens_nothing_and_is_kept_beside_its_offence(service):
    # A straddling unlicensed emission: off_channel_raster (information) + unlicensed.
    findings = evaluate([emission(432.650e6 + 6_250.0, bw_hz=10_000.0)], Registry(),
                        REFERENCE, site=SITE)[1]
    assert sorted((f.kind, f.matter) for f in findings) == [
        ("off_channel_raster", "information"), ("unlicensed_emission", "sanction")]
    info = [f for f in findings if f.matter == "information"]
    assert service.record_findings(info, "site-a", T0) == []
    assert service.list_cases() == []
    [case] = service.record_findings(findings, "site-a", T0)
    assert case.kind == "sanction" and case.severity == "high"
    assert sorted((f.kind, f.matter, f.article) for f in case.findings) == [
        ("off_channel_raster", "information", None),
        ("unlicensed_emission", "sanction", "Điều 58")]


def test_stored_citations_survive_a_change_of_the_catalogue(service, tmp_path):
    before = evaluate([emission(432.650e6, t_ns=_ns(2026, 6, 28))], REGISTRY, REFERENCE,
                      site=SITE)[1]
    [case] = service.record_findings(before, "site-a", _ns(2026, 6, 28))
    doc = yaml.safe_load((resources.files("compliance") / "data" / "legal_basis.yaml")
                         .read_text(encoding="utf-8"))
    doc["instruments"][0]["kinds"]["unlicensed_emission"]["article"] = "Điều 99"
    (tmp_path / "legal_basis.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                               encoding="utf-8")
    edited = load_reference_data(tmp_path)
    # The same emitter is heard again on 2 July (after the new decree) with the edited data.
    later = _ns(2026, 7, 2)
    after = evaluate([emission(432.650e6, t_ns=later)], REGISTRY, edited, site=SITE)[1]
    [same] = service.record_findings(after, "site-a", later)
    assert same.id == case.id
    rows = sorted(service.get(case.id).findings, key=lambda f: f.t_ns)
    assert [(r.instrument, r.article, r.clause, r.point) for r in rows] == [
        ("nd15_2020", "Điều 58", "khoản 3", "điểm a"),
        ("nd174_2026", "Điều 66", "khoản 5", None)]
    assert "Điều 58" in rows[0].legal_basis and "Điều 99" not in rows[0].legal_basis
    assert rows[0].legal_basis == before[0].legal_basis
    # Going on across 01/07/2026, the case as a whole falls under the new decree.
    assert case_summary(service.get(case.id))["instrument"] == "nd174_2026"


def test_migration_0004_keeps_older_rows_and_refuses_to_drop_coordination(db_url):
    upgrade(db_url, "0003_stations")
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO cases (id, status, emitter_class, f_hz, bw_hz, severity, "
                "first_seen_ns, last_seen_ns, created_ns, updated_ns) VALUES ('C-OLD', 'new', "
                "'unknown', 432650000, 7000, 'high', 0, 0, 0, 0)"))
            conn.execute(sa.text(
                "INSERT INTO findings (case_id, kind, station_id, t_ns, f_hz, bw_hz, unit, "
                "severity, legal_basis, detail) VALUES ('C-OLD', 'unlicensed_emission', 's', "
                "0, 432650000, 7000, 'dBFS', 'high', 'Điều 57, Nghị định 15/2020 (UNSURE)', "
                "'')"))
        upgrade(db_url)
        assert current_revision(db_url) is not None and current_revision(db_url) >= (
            "0004_legal_coordination")
        with eng.connect() as conn:
            kind, status = conn.execute(sa.text(
                "SELECT kind, status FROM cases WHERE id = 'C-OLD'")).one()
            basis, instrument = conn.execute(sa.text(
                "SELECT legal_basis, instrument FROM findings WHERE case_id = 'C-OLD'")).one()
        assert (kind, status) == ("sanction", "new")
        assert (basis, instrument) == ("Điều 57, Nghị định 15/2020 (UNSURE)", None)
        # The kind-aware trigger is in place after the rebuild of the table.
        with eng.connect() as conn, pytest.raises(DBAPIError):
            conn.execute(sa.text("UPDATE cases SET status = 'closed' WHERE id = 'C-OLD'"))
            conn.commit()
        with eng.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO cases (id, kind, status, emitter_class, f_hz, bw_hz, severity, "
                "first_seen_ns, last_seen_ns, created_ns, updated_ns) VALUES ('PH-1', "
                "'coordination', 'new', 'foreign', 432750000, 7000, 'medium', 0, 0, 0, 0)"))
            conn.execute(sa.text("UPDATE cases SET status = 'triaged' WHERE id = 'PH-1'"))
            conn.execute(sa.text("UPDATE cases SET status = 'report_drafted' WHERE id = 'PH-1'"))
        eng.dispose()
        with pytest.raises(StorageError, match="coordination matter"):
            downgrade(db_url, "0003_stations")  # the old CHECK cannot hold a matter
        assert current_revision(db_url) == "0004_legal_coordination" or current_revision(
            db_url) > "0004_legal_coordination"
        eng = make_engine(db_url)
        with eng.begin() as conn:
            conn.execute(sa.text("DELETE FROM cases WHERE id = 'PH-1'"))
        eng.dispose()
        downgrade(db_url, "0003_stations")
        eng = make_engine(db_url)
        with eng.connect() as conn:
            assert conn.execute(sa.text("SELECT status FROM cases")).scalars().all() == ["new"]
            assert "kind" not in {c["name"] for c in sa.inspect(conn).get_columns("cases")}
        # The old trigger is back.
        with eng.connect() as conn, pytest.raises(DBAPIError):
            conn.execute(sa.text("UPDATE cases SET status = 'closed' WHERE id = 'C-OLD'"))
            conn.commit()
        eng.dispose()
        upgrade(db_url)
        eng = make_engine(db_url)
        with eng.connect() as conn:
            assert conn.execute(sa.text("SELECT kind FROM cases")).scalars().all() == [
                "sanction"]
    finally:
        eng.dispose()


def test_cases_show_and_transition_speak_vietnamese(service, db_url, tmp_path):
    from typer.testing import CliRunner

    from rfwatch.cli import app

    [matter] = service.record_findings(over_trigger(), "site-a", T0)
    env = {"RFWATCH_DB_URL": db_url, "RFWATCH_HOME": str(tmp_path), "COLUMNS": "400"}
    shown = CliRunner().invoke(app, ["cases", "show", matter.id], env=env,
                               catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    for needle in ("vấn đề phối hợp tần số", "đài nước ngoài", "mới", "giá trị đo",
                   "mức cho phép", "căn cứ pháp lý", "đài nước ngoài vượt ngưỡng phối hợp",
                   "Điều 15", "Chứng cứ / evidence"):
        assert needle in shown.stdout, needle
    # The findings table names the kind in Vietnamese (the history keeps its stored text).
    finding_rows = [line for line in shown.stdout.splitlines() if "Điều 15" in line]
    assert finding_rows and all("cross_border_over_trigger" not in r for r in finding_rows)
    moved = CliRunner().invoke(app, ["cases", "transition", matter.id, "triaged", "--reason",
                                     "xem xét", "--actor", "an"], env=env,
                               catch_exceptions=False)
    assert moved.exit_code == 0 and "đã phân loại" in moved.stdout
    as_json = CliRunner().invoke(app, ["cases", "show", matter.id, "--json"], env=env,
                                 catch_exceptions=False)
    import json

    doc = json.loads(as_json.stdout)
    assert (doc["kind"], doc["status"]) == ("coordination", "triaged")  # codes stay English
    assert doc["findings"][0]["matter"] == "coordination"
    assert doc["findings"][0]["instrument"] == "itu_rr_art15"
