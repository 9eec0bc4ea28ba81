"""Compliance commands: ``check``, ``licences``, ``foreign`` and ``cases``.

``rfwatch check FILE --licences L.csv`` runs the same analysis as ``rfwatch analyze``
(``run_analysis``) and then the compliance rules; ``--json`` prints the analyze JSON
with, per emission, ``"class"`` (``licensed|foreign|exempt|unknown``) and
``"licence_id"`` (the licence or foreign station matched, or null), plus a top-level
``"findings": [{"kind", "f_hz", "licence_id", "measured", "permitted", "legal_basis",
"unit", "severity", "class", "detail"}]`` and, with ``--cases``, ``"cases"`` (the ids
of the cases the findings went to). The other commands
work on the relational database of the settings (``RFWATCH_DB_URL``, default a SQLite
file in the home folder), bringing its schema up to date first.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from dsp.errors import ConfigError
from rfwatch import state

if TYPE_CHECKING:
    from rich.table import Table
    from sqlalchemy.orm import Session, sessionmaker

    from compliance.cases import CaseService
    from compliance.reference import ReferenceData
    from dsp.types import GeoPosition

console = Console()

licences_app = typer.Typer(help="Sổ đăng ký giấy phép / licence registry.", no_args_is_help=True)
foreign_app = typer.Typer(help="Đài nước ngoài gần biên giới / foreign stations near the border.",
                          no_args_is_help=True)
cases_app = typer.Typer(help="Vụ việc vi phạm / violation cases.", no_args_is_help=True)


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _session_factory() -> sessionmaker[Session]:
    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    settings = state.get_settings()
    url = settings.database_url
    if url.startswith("sqlite"):
        Path(settings.home).mkdir(parents=True, exist_ok=True)
    upgrade(url)
    return make_session_factory(make_engine(url))


def _reference(data_dir: Path | None) -> ReferenceData:
    from compliance.reference import load_reference_data

    if data_dir is None:
        default = Path(state.get_settings().home) / "compliance"
        data_dir = default if default.is_dir() else None
    return load_reference_data(data_dir)


def _site(lat: float | None, lon: float | None) -> GeoPosition | None:
    if (lat is None) != (lon is None):
        raise ConfigError("--site-lat và --site-lon phải đi cùng nhau / give both --site-lat "
                          "and --site-lon")
    from dsp.types import GeoPosition

    return None if lat is None else GeoPosition(lat, lon)  # type: ignore[arg-type]


# -- check -----------------------------------------------------------------------


def check(
    file: Path = typer.Argument(..., help="Bản ghi SigMF, .cu8 hoặc CSV rtl_power / recording"),
    licences: Path = typer.Option(..., "--licences", help="Tệp giấy phép CSV/XLSX / licence file"),
    foreign: Path | None = typer.Option(None, "--foreign",
                                        help="Tệp đài nước ngoài / foreign stations file"),
    site_lat: float | None = typer.Option(None, "--site-lat", help="Vĩ độ điểm đo / site lat"),
    site_lon: float | None = typer.Option(None, "--site-lon", help="Kinh độ điểm đo / site lon"),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
    rate: str | None = typer.Option(None, "--rate", help="Tốc độ mẫu cho tệp thô / sample "
                                    "rate of raw IQ (e.g. 2.4M)"),
    freq: str | None = typer.Option(None, "--freq", help="Tần số trung tâm cho tệp thô / centre "
                                    "frequency of raw IQ (e.g. 433.92M)"),
    threshold_db: float | None = typer.Option(None, "--threshold-db",
                                              help="Ngưỡng phát hiện / detection threshold, dB"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Thư mục dữ liệu tham chiếu "
                                         "thay thế / override folder for the reference YAML"),
    station: str | None = typer.Option(None, "--station", help="Mã trạm / station id "
                                       "(default: from the recording, else the file name)"),
    record_cases: bool = typer.Option(False, "--cases", help="Ghi phát hiện vào vụ việc trong "
                                      "CSDL / fold the findings into cases in the database"),
) -> None:
    """Phân tích và kiểm tra tuân thủ / analyse a recording and apply the compliance rules."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from compliance.registry import Registry
    from compliance.rules import evaluate
    from firmware_bridge.units import parse_hz
    from rfwatch.commands.analyze import analysis_json, run_analysis

    rate_hz = parse_hz(rate, field="rate") if rate is not None else None
    f_center_hz = parse_hz(freq, field="freq") if freq is not None else None
    registry = Registry.from_files(licences, foreign)
    reference = _reference(data_dir)
    site = _site(site_lat, site_lon)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, disable=as_json) as progress:
        progress.add_task(f"Đang phân tích / analysing {file.name}", total=None)
        result = run_analysis(file, rate_hz=rate_hz, f_center_hz=f_center_hz,
                              threshold_db=threshold_db)
    emissions = list(result.emissions)
    station_id = station or next((e.station_id for e in emissions if e.station_id), file.stem)
    classifications, findings = evaluate(emissions, registry, reference, site=site)
    doc = analysis_json(result, source=str(file))
    for entry, c in zip(doc["emissions"], classifications, strict=True):
        entry["class"] = c.emitter_class
        entry["licence_id"] = c.licence_id
    doc["findings"] = [
        {
            "kind": f.kind,
            "f_hz": f.f_hz,
            "licence_id": f.licence_id,
            "measured": f.measured,
            "permitted": f.permitted,
            "legal_basis": f.legal_basis,
            "unit": f.unit,
            "severity": f.severity,
            "class": f.emitter_class,
            "detail": f.detail,
        }
        for f in findings
    ]
    case_ids: list[str] = []
    if record_cases:
        from compliance.cases import CaseService

        service = CaseService(_session_factory(), reference=reference)
        t_ns = min((e.t_first_ns for e in emissions), default=0)
        case_ids = [c.id for c in service.record_findings(findings, station_id, t_ns)]
        doc["cases"] = case_ids
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    table = Table(title=f"Phát xạ / emissions — {file.name}")
    for col in ("f (MHz)", "BW 99% (kHz)", "công suất / power", "lớp / class",
                "giấy phép / licence"):
        table.add_column(col)
    for e, c in zip(emissions, classifications, strict=True):
        table.add_row(f"{e.f_hz / 1e6:.4f}", f"{e.bw_99_hz / 1e3:.1f}",
                      f"{e.power_db:.1f} {e.power_unit}", c.emitter_class, c.licence_id or "-")
    console.print(table)
    ftable = Table(title="Phát hiện vi phạm / findings")
    for col in ("loại / kind", "f (MHz)", "giấy phép / licence", "đo / measured",
                "cho phép / permitted", "căn cứ / legal basis"):
        ftable.add_column(col)
    for f in findings:
        ftable.add_row(f.kind, f"{f.f_hz / 1e6:.4f}", f.licence_id or "-",
                       "-" if f.measured is None else f"{f.measured:.1f} {f.unit}",
                       "-" if f.permitted is None else f"{f.permitted:.1f} {f.unit}",
                       reference.legal.kinds[f.kind].article
                       + (" (UNSURE)" if reference.legal.kinds[f.kind].unsure else ""))
    console.print(ftable if findings else "Không có vi phạm / no findings")
    if findings:
        console.print(f"Căn cứ / legal basis: {reference.legal.decree}", highlight=False)
    if case_ids:
        console.print(f"Vụ việc / cases: {', '.join(case_ids)}")


# -- licences and foreign stations --------------------------------------------------


def _records_table(title: str, records: list, columns: tuple[str, ...]) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for r in records:
        table.add_row(*["" if getattr(r, c) is None else str(getattr(r, c)) for c in columns])
    return table


@licences_app.command("import")
def licences_import(
    file: Path = typer.Argument(..., help="CSV hoặc XLSX / CSV or XLSX file"),
    replace: bool = typer.Option(False, "--replace", help="Xoá hết trước khi nhập / replace all"),
) -> None:
    """Nhập giấy phép (tất cả hoặc không) / import licences (all-or-nothing)."""
    from compliance.importers import read_licences
    from compliance.registry import save_licences

    records = read_licences(file)
    with _session_factory().begin() as session:
        n = save_licences(session, records, replace=replace)
    console.print(f"Đã nhập {n} giấy phép / imported {n} licences from {file}")


@licences_app.command("export")
def licences_export(file: Path = typer.Argument(..., help="CSV hoặc .xlsx / CSV or .xlsx")) -> None:
    """Xuất giấy phép / export licences (CSV, or XLSX by the file name)."""
    from compliance.importers import write_licences
    from compliance.registry import load_licences

    with _session_factory()() as session:
        records = load_licences(session)
    write_licences(file, records)
    console.print(f"Đã xuất {len(records)} giấy phép / exported {len(records)} licences to {file}")


@licences_app.command("list")
def licences_list(
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Liệt kê giấy phép / list licences."""
    from compliance.records import LICENCE_COLUMNS
    from compliance.registry import load_licences

    with _session_factory()() as session:
        records = load_licences(session)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False))
        return
    console.print(_records_table("Giấy phép / licences", records, LICENCE_COLUMNS))


@foreign_app.command("import")
def foreign_import(
    file: Path = typer.Argument(..., help="CSV hoặc XLSX / CSV or XLSX file"),
    replace: bool = typer.Option(False, "--replace", help="Xoá hết trước khi nhập / replace all"),
) -> None:
    """Nhập danh sách đài nước ngoài / import foreign stations (all-or-nothing)."""
    from compliance.importers import read_foreign_stations
    from compliance.registry import save_foreign_stations

    records = read_foreign_stations(file)
    with _session_factory().begin() as session:
        n = save_foreign_stations(session, records, replace=replace)
    console.print(f"Đã nhập {n} đài nước ngoài / imported {n} foreign stations from {file}")


@foreign_app.command("list")
def foreign_list(
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Liệt kê đài nước ngoài / list foreign stations."""
    from compliance.records import FOREIGN_COLUMNS
    from compliance.registry import load_foreign_stations

    with _session_factory()() as session:
        records = load_foreign_stations(session)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False))
        return
    console.print(_records_table("Đài nước ngoài / foreign stations", records, FOREIGN_COLUMNS))


# -- cases --------------------------------------------------------------------------


def _service() -> CaseService:
    from compliance.cases import CaseService

    return CaseService(_session_factory())


@cases_app.command("list")
def cases_list(
    status: str | None = typer.Option(None, "--status", help="Lọc theo trạng thái / filter"),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Liệt kê vụ việc / list cases."""
    from rich.table import Table

    from compliance.cases import case_summary

    cases = _service().list_cases(status)
    if as_json:
        typer.echo(json.dumps([case_summary(c) for c in cases], ensure_ascii=False))
        return
    table = Table(title="Vụ việc / cases")
    for col in ("id", "trạng thái / status", "f (MHz)", "lớp / class", "loại / kinds",
                "trạm / stations", "người xử lý / assignee", "lần cuối / last seen"):
        table.add_column(col)
    for c in cases:
        s = case_summary(c)
        table.add_row(c.id, c.status + (f" ({c.dismiss_reason})" if c.dismiss_reason else ""),
                      f"{c.f_hz / 1e6:.4f}", c.emitter_class, ", ".join(c.finding_kinds),
                      ", ".join(c.stations), c.assignee or "-", str(s["last_seen"]))
    console.print(table)


@cases_app.command("show")
def cases_show(
    case_id: str = typer.Argument(..., help="Mã vụ việc / case id"),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Chi tiết vụ việc / show one case with findings, evidence and history."""
    from rich.table import Table

    from compliance.cases import case_summary, ns_to_iso

    case = _service().get(case_id)
    doc = case_summary(case)
    doc["findings"] = [
        {"kind": f.kind, "station": f.station_id, "t": ns_to_iso(f.t_ns), "f_hz": f.f_hz,
         "measured": f.measured, "permitted": f.permitted, "unit": f.unit,
         "legal_basis": f.legal_basis, "licence_id": f.licence_id, "detail": f.detail}
        for f in case.findings
    ]
    doc["evidence"] = [
        {"kind": e.kind, "uri": e.uri, "sha256": e.sha256, "added_by": e.added_by,
         "added": ns_to_iso(e.added_ns), "note": e.note}
        for e in case.evidence
    ]
    doc["history"] = [
        {"t": ns_to_iso(h.t_ns), "actor": h.actor, "action": h.action,
         "from": h.from_status, "to": h.to_status, "detail": h.detail}
        for h in case.history
    ]
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    for key in ("id", "status", "dismiss_reason", "class", "f_hz", "bw_hz", "licence_id",
                "foreign_id", "severity", "assignee", "first_seen", "last_seen", "stations"):
        console.print(f"[bold]{key}[/]: {doc[key]}")
    for title, rows in (("Phát hiện / findings", doc["findings"]),
                        ("Chứng cứ / evidence", doc["evidence"]),
                        ("Lịch sử / history", doc["history"])):
        table = Table(title=title)
        if rows:
            for col in rows[0]:
                table.add_column(col)
            for row in rows:
                table.add_row(*["" if v is None else str(v) for v in row.values()])
        console.print(table)


@cases_app.command("assign")
def cases_assign(
    case_id: str = typer.Argument(..., help="Mã vụ việc / case id"),
    assignee: str = typer.Argument(..., help="Người xử lý / assignee"),
    reason: str = typer.Option("", "--reason", help="Lý do / why"),
    actor: str | None = typer.Option(None, "--actor", help="Người thực hiện / who (default: "
                                     "the OS user)"),
) -> None:
    """Giao vụ việc / assign a case."""
    case = _service().assign(case_id, assignee, actor=actor or _actor(), reason=reason)
    console.print(f"{case.id}: giao cho / assigned to {case.assignee}")


@cases_app.command("transition")
def cases_transition(
    case_id: str = typer.Argument(..., help="Mã vụ việc / case id"),
    to_status: str = typer.Argument(..., help="triaged | field_verification | enforcement | "
                                    "closed | dismissed"),
    reason: str = typer.Option(..., "--reason", help="Lý do / why"),
    dismiss_reason: str | None = typer.Option(None, "--dismiss-reason", help="foreign_coordinated"
                                              " | known | false_alarm"),
    actor: str | None = typer.Option(None, "--actor", help="Người thực hiện / who"),
) -> None:
    """Chuyển trạng thái vụ việc / move a case along its lifecycle."""
    case = _service().transition(case_id, to_status, actor=actor or _actor(), reason=reason,
                                 dismiss_reason=dismiss_reason)
    console.print(f"{case.id}: {case.status}")


@cases_app.command("evidence")
def cases_evidence(
    case_id: str = typer.Argument(..., help="Mã vụ việc / case id"),
    kind: str = typer.Argument(..., help="spectrum | sigmf | field_measurement | photo"),
    uri: str = typer.Argument(..., help="Tệp hoặc URL / file or URL"),
    sha256: str | None = typer.Option(None, "--sha256", help="Tổng kiểm (bắt buộc với URL) / "
                                      "checksum (required for a URL)"),
    note: str = typer.Option("", "--note", help="Ghi chú / note"),
    actor: str | None = typer.Option(None, "--actor", help="Người thực hiện / who"),
) -> None:
    """Thêm chứng cứ / attach evidence (its SHA-256 is recorded)."""
    ev = _service().add_evidence(case_id, kind, uri, actor=actor or _actor(), sha256=sha256,
                                 note=note)
    console.print(f"{case_id}: {ev.kind} {ev.uri} sha256={ev.sha256}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("check")(check)
    app.add_typer(licences_app, name="licences")
    app.add_typer(foreign_app, name="foreign")
    app.add_typer(cases_app, name="cases")
