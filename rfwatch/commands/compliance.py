"""Compliance commands: ``check``, ``licences``, ``foreign`` and ``cases``.

``rfwatch check FILE --licences L.csv`` runs the same analysis as ``rfwatch analyze``
(``run_analysis``) and then the compliance rules; without ``--licences`` it uses the
registry imported into the database (``rfwatch licences import``; the foreign stations
too unless ``--foreign`` is given). ``--json`` prints the analyze JSON
with, per emission, ``"class"`` (``licensed|foreign|band_licence|exempt|not_monitored|
unknown``), ``"licence_id"`` (the licence, foreign station or band licence matched, or
null), ``"verify"`` (why the emission must be verified in the field before anything is
said, or null: marked for verification, never a case) and ``"e_dbuv_m"`` (the field
strength, with ``--dbm-offset-db`` and ``--antenna-factor-db-m``; else null), plus a
top-level
``"findings": [{"kind", "f_hz", "licence_id", "measured", "permitted", "legal_basis",
"unit", "severity", "class", "detail", "adjacent_licence", "matter", "citation":
{"instrument", "article", "clause", "point", "unsure"}}]`` and, with ``--cases``,
``"cases"`` (the ids of the cases and coordination matters the findings went to).
Each emission also carries ``"adjacent_licence"`` (the nearest licence of an emission
no licence explains). Tables show statuses, classes and finding kinds in Vietnamese;
the JSON keeps the English codes.

Inputs that cannot mislead:

- an rtl_power CSV carries the station's local time without a zone: ``--tz`` names it
  (default: the ``timezone`` setting, ``RFWATCH_TIMEZONE``, Asia/Ho_Chi_Minh);
- levels are uncalibrated (dBFS) unless ``--dbm-offset-db`` (dBm = dBFS + offset, the
  receiver's gain calibration) is given; ``--antenna-factor-db-m`` then gives the field
  strength (E = dBm + 107 + AF). On dBFS no field-strength finding is raised;
- ``--emitter-distance 433.92M=10`` gives the estimated distance (m) to the emitter at
  that frequency (a field kit next to it, or a located emitter): only then is an
  exempt device's power judged;
- licence files are read in their detected encoding, or ``--encoding``.

The other commands work on the relational database of the settings
(``RFWATCH_DB_URL``, default a SQLite file in the home folder), bringing its schema up
to date first. The commands that only read (``licences list|export``, ``foreign
list``, ``cases list|show``, ``check`` without ``--licences``) stop with an error when
the home folder (``--home``/``RFWATCH_HOME``) does not exist, rather than create an
empty database and show nothing. ``cases list|show`` locate the cases whose emitter
changed since (compliance.location) before they print.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from dsp.errors import ConfigError, ParameterError
from rfwatch import state

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import tzinfo

    from rich.table import Table
    from sqlalchemy.orm import Session, sessionmaker

    from compliance.cases import CaseService
    from compliance.reference import ReferenceData
    from compliance.registry import Registry
    from compliance.rules import Finding
    from dsp.types import Emission, GeoPosition

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


def _session_factory(*, read_only: bool = False) -> sessionmaker[Session]:
    """The database of the settings, its schema brought up to date.

    ``read_only``: a command that only reads stops with an error when the home folder
    of the default SQLite database does not exist (a mistyped ``--home`` must not
    create an empty database and show nothing).
    """
    from storage.db import make_engine, make_session_factory
    from storage.migrations import upgrade

    settings = state.get_settings()
    url = settings.database_url
    if url.startswith("sqlite"):
        home = Path(settings.home)
        if read_only and not settings.db_url and not home.is_dir():
            raise ConfigError(
                f"không có thư mục dữ liệu / no such home folder: {home} (--home or "
                "RFWATCH_HOME); nothing has been imported there")
        home.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    return make_session_factory(make_engine(url))


def _tz(name: str | None) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = name or state.get_settings().timezone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ParameterError(f"--tz: không biết múi giờ / unknown time zone {zone!r} (an IANA "
                             "name such as Asia/Ho_Chi_Minh or UTC)") from err


def _emitter_distances(specs: list[str]) -> list[tuple[float, float]]:
    """``["433.92M=10", ...]`` -> [(f_hz, distance_m), ...]."""
    from firmware_bridge.units import parse_hz

    out = []
    for spec in specs:
        f_text, sep, d_text = spec.partition("=")
        try:
            distance = float(d_text.strip().removesuffix("m"))
        except ValueError:
            distance = float("nan")
        if not sep or not distance > 0 or distance == float("inf"):
            raise ParameterError(f"--emitter-distance {spec!r}: viết TẦN_SỐ=MÉT / write "
                                 "FREQUENCY=METRES, e.g. 433.92M=10")
        out.append((parse_hz(f_text.strip(), field="emitter-distance"), distance))
    return out


def _distance_of(specs: list[tuple[float, float]]) -> Callable[[Emission], float | None]:
    def distance_m(e: Emission) -> float | None:
        for f_hz, d_m in specs:
            if e.f_low_hz <= f_hz <= e.f_high_hz:
                return d_m
        return None

    return distance_m


def _calibrate(emissions: list[Emission], offset_db: float | None,
               af_db_m: float | None) -> list[Emission]:
    """Emissions in dBm (dBm = dBFS + ``offset_db``), with E where an AF is given."""
    from dsp.calibration import field_strength_dbuv_m

    if offset_db is None:
        if af_db_m is not None:
            raise ParameterError("--antenna-factor-db-m cần --dbm-offset-db / needs "
                                 "--dbm-offset-db (a field strength needs a calibrated power)")
        return emissions
    out = []
    for e in emissions:
        if e.power_unit == "dBm":
            out.append(e)
            continue
        power = e.power_db + offset_db
        out.append(dataclasses.replace(
            e, power_db=power, peak_power_db=e.peak_power_db + offset_db,
            noise_floor_db=e.noise_floor_db + offset_db, power_unit="dBm",
            burst_power_db=None if e.burst_power_db is None else e.burst_power_db + offset_db,
            e_dbuv_m=None if af_db_m is None else float(field_strength_dbuv_m(power, af_db_m))))
    return out


def _registry(licences: Path | None, foreign: Path | None, encoding: str | None) -> Registry:
    """The licence file (and foreign file) where given, as before; without
    ``--licences``, the registry imported into the database (its foreign stations too,
    unless ``--foreign`` names a file)."""
    from compliance.importers import read_foreign_stations, read_licences
    from compliance.registry import Registry, load_foreign_stations, load_licences

    from_file = tuple(read_foreign_stations(foreign, encoding=encoding)) if foreign else ()
    if licences is not None:
        return Registry(tuple(read_licences(licences, encoding=encoding)), from_file)
    with _session_factory(read_only=True)() as session:
        db_licences = tuple(load_licences(session))
        db_foreign = tuple(load_foreign_stations(session)) if foreign is None else from_file
    return Registry(db_licences, db_foreign)


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
    if lat is None or lon is None:
        return None
    if not -90.0 <= lat <= 90.0:
        raise ParameterError(f"--site-lat: vĩ độ ngoài [-90, 90] / latitude {lat} is outside "
                             "[-90, 90] degrees")
    if not -180.0 <= lon <= 180.0:
        raise ParameterError(f"--site-lon: kinh độ ngoài [-180, 180] / longitude {lon} is "
                             "outside [-180, 180] degrees")
    from dsp.types import GeoPosition

    return GeoPosition(lat, lon)


# -- check -----------------------------------------------------------------------


def check(
    file: Path = typer.Argument(..., help="Bản ghi SigMF, .cu8 hoặc CSV rtl_power / recording"),
    licences: Path | None = typer.Option(None, "--licences", help="Tệp giấy phép CSV/XLSX / "
                                         "licence file (default: the imported registry)"),
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
    tz: str | None = typer.Option(None, "--tz", help="Múi giờ của CSV rtl_power (giờ địa "
                                  "phương) / time zone of rtl_power's local times (default: "
                                  "the timezone setting, Asia/Ho_Chi_Minh)"),
    encoding: str | None = typer.Option(None, "--encoding", help="Bảng mã tệp giấy phép / "
                                        "encoding of the licence files (default: detected)"),
    dbm_offset_db: float | None = typer.Option(
        None, "--dbm-offset-db", help="Hiệu chuẩn máy thu: dBm = dBFS + giá trị này / "
        "receiver calibration: dBm = dBFS + this"),
    antenna_factor_db_m: float | None = typer.Option(
        None, "--antenna-factor-db-m", help="Hệ số anten (gồm suy hao cáp) / antenna factor "
        "incl. cable loss, dB/m: E = dBm + 107 + AF"),
    emitter_distance: list[str] = typer.Option(  # noqa: B008 - typer's list default
        [], "--emitter-distance", help="Khoảng cách ước tính tới nguồn phát / estimated "
        "distance to the emitter at a frequency, e.g. 433.92M=10 (metres; repeatable)"),
) -> None:
    """Phân tích và kiểm tra tuân thủ / analyse a recording and apply the compliance rules."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from compliance.rules import evaluate
    from firmware_bridge.units import parse_hz
    from rfwatch.commands.analyze import analysis_json, run_analysis

    rate_hz = parse_hz(rate, field="rate") if rate is not None else None
    f_center_hz = parse_hz(freq, field="freq") if freq is not None else None
    zone = _tz(tz)
    distances = _emitter_distances(emitter_distance)
    if antenna_factor_db_m is not None and dbm_offset_db is None:
        _calibrate([], None, antenna_factor_db_m)  # raises: AF without a power calibration
    site = _site(site_lat, site_lon)
    registry = _registry(licences, foreign, encoding)
    reference = _reference(data_dir)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, disable=as_json) as progress:
        progress.add_task(f"Đang phân tích / analysing {file.name}", total=None)
        result = run_analysis(file, rate_hz=rate_hz, f_center_hz=f_center_hz,
                              threshold_db=threshold_db, tz=zone)
    emissions = _calibrate(list(result.emissions), dbm_offset_db, antenna_factor_db_m)
    station_id = station or next((e.station_id for e in emissions if e.station_id), file.stem)
    classifications, findings = evaluate(emissions, registry, reference, site=site,
                                         distance_m=_distance_of(distances))
    doc = analysis_json(result, source=str(file))
    for entry, c in zip(doc["emissions"], classifications, strict=True):
        entry["class"] = c.emitter_class
        entry["licence_id"] = c.licence_id
        entry["adjacent_licence"] = c.adjacent_licence_id
        entry["verify"] = c.verify
        entry["e_dbuv_m"] = c.emission.e_dbuv_m
    doc["findings"] = [_finding_json(f) for f in findings]
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
    console.print(_emissions_table(file.name, emissions, classifications))
    console.print(_findings_table(findings) if findings
                  else "Không có vi phạm / no findings")
    for title in sorted({f.citation.instrument_title for f in findings if f.citation}):
        console.print(f"Căn cứ pháp lý / legal basis: {title}", highlight=False)
    if case_ids:
        console.print(f"Vụ việc / cases: {', '.join(case_ids)}")


def _finding_json(f: Finding) -> dict[str, object]:
    c = f.citation
    return {
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
        "adjacent_licence": f.adjacent_licence,
        "matter": f.matter,
        "citation": None if c is None else {
            "instrument": c.instrument, "article": c.article, "clause": c.clause,
            "point": c.point, "unsure": c.unsure},
    }


def _emissions_table(name: str, emissions: list, classifications: list) -> Table:
    from rich.table import Table

    from compliance.vocabulary import CLASS_VI, vi

    table = Table(title=f"Phát xạ / emissions — {name}")
    for col in ("f (MHz)", "BW 99% (kHz)", "công suất / power", "phân loại / class",
                "giấy phép / licence"):
        table.add_column(col)
    for e, c in zip(emissions, classifications, strict=True):
        licence = c.licence_id or (f"(gần / near {c.adjacent_licence_id})"
                                   if c.adjacent_licence_id else "-")
        table.add_row(f"{e.f_hz / 1e6:.4f}", f"{e.bw_99_hz / 1e3:.1f}",
                      f"{e.power_db:.1f} {e.power_unit}", vi(CLASS_VI, c.emitter_class),
                      licence)
    return table


def _citation_cell(f: Finding) -> str:
    c = f.citation
    if c is None:
        return f.legal_basis
    if c.matter == "information":
        return "không phải vi phạm / not an offence"
    where = c.reference_vi or "-"
    return f"{where} {c.instrument_short}" + (" (UNSURE)" if c.unsure else "")


def _findings_table(findings: list[Finding]) -> Table:
    from rich.table import Table

    from compliance.vocabulary import FINDING_KIND_VI, vi

    table = Table(title="Phát hiện / findings")
    for col in ("loại / kind", "f (MHz)", "giấy phép / licence",
                "giấy phép gần nhất / adjacent licence", "giá trị đo / measured",
                "mức cho phép / permitted", "căn cứ pháp lý / legal basis"):
        table.add_column(col)
    for f in findings:
        table.add_row(vi(FINDING_KIND_VI, f.kind), f"{f.f_hz / 1e6:.4f}", f.licence_id or "-",
                      f.adjacent_licence or "-",
                      "-" if f.measured is None else f"{f.measured:.1f} {f.unit}",
                      "-" if f.permitted is None else f"{f.permitted:.1f} {f.unit}",
                      _citation_cell(f))
    return table


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
    encoding: str | None = typer.Option(None, "--encoding", help="Bảng mã / encoding "
                                        "(default: detected; utf-8, utf-16, cp1258, cp1252)"),
) -> None:
    """Nhập giấy phép (tất cả hoặc không) / import licences (all-or-nothing)."""
    from compliance.importers import read_licences
    from compliance.registry import save_licences

    records = read_licences(file, encoding=encoding)
    with _session_factory().begin() as session:
        n = save_licences(session, records, replace=replace)
    console.print(f"Đã nhập {n} giấy phép / imported {n} licences from {file}")


@licences_app.command("export")
def licences_export(file: Path = typer.Argument(..., help="CSV hoặc .xlsx / CSV or .xlsx")) -> None:
    """Xuất giấy phép / export licences (CSV, or XLSX by the file name)."""
    from compliance.importers import write_licences
    from compliance.registry import load_licences

    with _session_factory(read_only=True)() as session:
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

    with _session_factory(read_only=True)() as session:
        records = load_licences(session)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False))
        return
    console.print(_records_table("Giấy phép / licences", records, LICENCE_COLUMNS))


@foreign_app.command("import")
def foreign_import(
    file: Path = typer.Argument(..., help="CSV hoặc XLSX / CSV or XLSX file"),
    replace: bool = typer.Option(False, "--replace", help="Xoá hết trước khi nhập / replace all"),
    encoding: str | None = typer.Option(None, "--encoding", help="Bảng mã / encoding "
                                        "(default: detected; utf-8, utf-16, cp1258, cp1252)"),
) -> None:
    """Nhập danh sách đài nước ngoài / import foreign stations (all-or-nothing)."""
    from compliance.importers import read_foreign_stations
    from compliance.registry import save_foreign_stations

    records = read_foreign_stations(file, encoding=encoding)
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

    with _session_factory(read_only=True)() as session:
        records = load_foreign_stations(session)
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False))
        return
    console.print(_records_table("Đài nước ngoài / foreign stations", records, FOREIGN_COLUMNS))


# -- cases --------------------------------------------------------------------------


def _service(*, read_only: bool = False) -> CaseService:
    from compliance.cases import CaseService

    return CaseService(_session_factory(read_only=read_only))


def _check_status(status: str | None) -> str | None:
    from compliance.lifecycle import CASE_STATUSES

    if status is not None and status not in CASE_STATUSES:
        raise ParameterError(f"--status: không có trạng thái / no status {status!r}; one of "
                             f"{', '.join(CASE_STATUSES)}")
    return status


@cases_app.command("list")
def cases_list(
    status: str | None = typer.Option(None, "--status", help="Lọc theo trạng thái / filter"),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Liệt kê vụ việc / list cases."""

    from compliance.cases import case_summary

    service = _service(read_only=True)
    _refresh_locations(service)
    cases = service.list_cases(_check_status(status))
    if as_json:
        typer.echo(json.dumps([case_summary(c) for c in cases], ensure_ascii=False))
        return
    console.print(_cases_table(cases))


def _refresh_locations(service: CaseService) -> None:
    """Locate the cases that changed (compliance.location) with the settings' thresholds."""
    from compliance.location import LocationSettings
    from rfwatch.state import get_settings

    loc = get_settings().location
    service.refresh_locations(LocationSettings(
        terrain=loc.terrain, p_vietnam_min=loc.p_vietnam_min, p_foreign_max=loc.p_foreign_max,
        window_s=loc.window_s, border_file=loc.border_file))


def _location_text(loc: dict | None, note: str | None) -> str:
    if loc is None:
        return f"chưa xác định / not located ({note or '-'})"
    from compliance.vocabulary import VERDICT_VI, vi

    p = "-" if loc["p_vietnam"] is None else f"{loc['p_vietnam']:.3f}"
    text = (f"{loc['lat_deg']:.5f}, {loc['lon_deg']:.5f}; 95 %: "
            f"{loc['semi_major_m']:.0f} × {loc['semi_minor_m']:.0f} m, "
            f"{loc['orientation_deg']:.0f}°; {vi(VERDICT_VI, loc['verdict'])} "
            f"(P(VN) = {p}); {loc['n_sites']} trạm / sites, {loc['method']}")
    if loc.get("drive_to"):
        d = loc["drive_to"]
        text += f"; đo lưu động tại / drive to {d['lat_deg']:.5f}, {d['lon_deg']:.5f}"
    if loc["verdict"] == "foreign":
        # A case keeps its kind (the database enforces it): the inspector dismisses it
        # as foreign and the matter goes to coordination.
        text += ("; đề nghị: phía nước ngoài, chuyển phối hợp tần số / suggested: "
                 "foreign side, dismiss as foreign_coordinated and report for coordination")
    return text


def _status_vi(status: str, dismiss_reason: str | None) -> str:
    from compliance.vocabulary import DISMISS_REASON_VI, STATUS_VI, vi

    text = vi(STATUS_VI, status)
    return text + (f" ({vi(DISMISS_REASON_VI, dismiss_reason)})" if dismiss_reason else "")


def _cases_table(cases: list) -> Table:
    from rich.table import Table

    from compliance.cases import case_summary
    from compliance.vocabulary import CASE_KIND_VI, CLASS_VI, FINDING_KIND_VI, vi

    table = Table(title="Vụ việc / cases")
    for col in ("id", "loại vụ việc / kind", "trạng thái / status", "f (MHz)",
                "phân loại / class", "phát hiện / findings", "trạm / stations",
                "người xử lý / assignee", "lần cuối / last seen"):
        table.add_column(col)
    for c in cases:
        s = case_summary(c)
        table.add_row(c.id, vi(CASE_KIND_VI, c.kind), _status_vi(c.status, c.dismiss_reason),
                      f"{c.f_hz / 1e6:.4f}", vi(CLASS_VI, c.emitter_class),
                      ", ".join(vi(FINDING_KIND_VI, k) for k in c.finding_kinds),
                      ", ".join(c.stations), c.assignee or "-", str(s["last_seen"]))
    return table


@cases_app.command("show")
def cases_show(
    case_id: str = typer.Argument(..., help="Mã vụ việc / case id"),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Chi tiết vụ việc / show one case with findings, evidence and history."""

    from compliance.cases import case_summary, ns_to_iso

    service = _service(read_only=True)
    _refresh_locations(service)
    case = service.get(case_id)
    doc = case_summary(case)
    doc["location_note"] = case.location_note
    doc["findings"] = [
        {"kind": f.kind, "station": f.station_id, "t": ns_to_iso(f.t_ns), "f_hz": f.f_hz,
         "measured": f.measured, "permitted": f.permitted, "unit": f.unit,
         "legal_basis": f.legal_basis, "licence_id": f.licence_id, "detail": f.detail,
         "instrument": f.instrument, "article": f.article, "clause": f.clause,
         "point": f.point, "matter": f.matter, "adjacent_licence": f.adjacent_licence}
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
    _print_case(doc)


def _print_case(doc: dict) -> None:
    from rich.table import Table

    from compliance.vocabulary import (
        CASE_KIND_VI,
        CLASS_VI,
        FINDING_KIND_VI,
        MATTER_VI,
        SEVERITY_VI,
        STATUS_VI,
        vi,
    )

    fields = (
        ("mã / id", doc["id"]),
        ("loại vụ việc / kind", vi(CASE_KIND_VI, doc["kind"])),
        ("trạng thái / status", _status_vi(doc["status"], doc["dismiss_reason"])),
        ("phân loại / class", vi(CLASS_VI, doc["class"])),
        ("tần số / f (MHz)", f"{doc['f_hz'] / 1e6:.4f}"),
        ("độ rộng băng / BW (kHz)", f"{doc['bw_hz'] / 1e3:.1f}"),
        ("giấy phép / licence", doc["licence_id"] or "-"),
        ("đài nước ngoài / foreign station", doc["foreign_id"] or "-"),
        ("mức độ / severity", vi(SEVERITY_VI, doc["severity"])),
        ("người xử lý / assignee", doc["assignee"] or "-"),
        ("lần đầu / first seen", doc["first_seen"]),
        ("lần cuối / last seen", doc["last_seen"]),
        ("trạm / stations", ", ".join(doc["stations"])),
        ("vị trí / location", _location_text(doc.get("location"), doc.get("location_note"))),
    )
    for label, value in fields:
        console.print(f"[bold]{label}[/]: {value}", highlight=False)
    table = Table(title="Phát hiện / findings")
    for col in ("loại / kind", "trạm / station", "thời điểm / time (UTC)", "f (MHz)",
                "giá trị đo / measured", "mức cho phép / permitted", "căn cứ pháp lý / legal basis",
                "giấy phép gần nhất / adjacent licence", "chi tiết / detail"):
        table.add_column(col)
    for f in doc["findings"]:
        unit = f["unit"]
        basis = f["legal_basis"] if f["matter"] != "information" else (
            f"{vi(MATTER_VI, 'information')}: {f['legal_basis']}")
        table.add_row(vi(FINDING_KIND_VI, f["kind"]), f["station"], f["t"],
                      f"{f['f_hz'] / 1e6:.4f}",
                      "-" if f["measured"] is None else f"{f['measured']:.1f} {unit}",
                      "-" if f["permitted"] is None else f"{f['permitted']:.1f} {unit}",
                      basis, f["adjacent_licence"] or "-", f["detail"])
    console.print(table)
    for title, rows in (("Chứng cứ / evidence", doc["evidence"]),
                        ("Lịch sử / history", doc["history"])):
        if not rows:
            console.print(f"{title}: không có / none", highlight=False)
            continue
        table = Table(title=title)
        for col in rows[0]:
            table.add_column(col)
        for row in rows:
            # Statuses in the history read in Vietnamese too.
            table.add_row(*["" if v is None else
                            (vi(STATUS_VI, v) if k in ("from", "to") else str(v))
                            for k, v in row.items()])
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
    to_status: str = typer.Argument(..., help="vụ việc vi phạm / sanction case: triaged | "
                                    "field_verification | enforcement | closed | dismissed; "
                                    "vấn đề phối hợp / coordination matter: triaged | "
                                    "report_drafted | reported | closed | dismissed"),
    reason: str = typer.Option(..., "--reason", help="Lý do / why"),
    dismiss_reason: str | None = typer.Option(None, "--dismiss-reason", help="foreign_coordinated"
                                              " | known | false_alarm"),
    actor: str | None = typer.Option(None, "--actor", help="Người thực hiện / who"),
) -> None:
    """Chuyển trạng thái vụ việc / move a case along its lifecycle."""
    case = _service().transition(case_id, to_status, actor=actor or _actor(), reason=reason,
                                 dismiss_reason=dismiss_reason)
    console.print(f"{case.id}: {_status_vi(case.status, case.dismiss_reason)} ({case.status})")


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
    """Thêm chứng cứ / attach evidence (its SHA-256 is recorded; a local file is copied
    into the evidence store, never referenced where it lies)."""
    service = _service()
    service.get(case_id)  # an unknown case fails before anything is copied
    target: str | Path = uri
    if Path(uri).is_file():
        from api.evidence_store import EvidenceStore

        store = EvidenceStore(Path(state.get_settings().home) / "evidence" / "store")
        _digest, _size, target = store.put_file(Path(uri))
        note = note or Path(uri).name
    ev = service.add_evidence(case_id, kind, target, actor=actor or _actor(), sha256=sha256,
                              note=note)
    console.print(f"{case_id}: {ev.kind} {ev.uri} sha256={ev.sha256}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("check")(check)
    app.add_typer(licences_app, name="licences")
    app.add_typer(foreign_app, name="foreign")
    app.add_typer(cases_app, name="cases")
