"""Exports: ``rfwatch cases export FILE``, ``rfwatch survey export FILE``,
``rfwatch field export FILE``.

- ``cases export``: ``.csv`` (one row per case, cells neutralised against formula
  injection) or ``.xlsx`` (sheets ``cases`` and ``findings``).
- ``survey export``: one station's stored sweeps of one band as rtl_power CSV
  (``date, time, Hz low, Hz high, Hz step, samples, dB...``, times in UTC).
- ``survey heatmap``: an rtl_power/hackrf_sweep CSV drawn as a heatmap like
  rtl_power's ``heatmap.py``, with UTC times and the hop seams removed.
- ``field export``: the field kits' drives and the emitter position estimates as
  ``.kml`` (KML 2.2) or ``.gpx`` (GPX 1.1).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from dsp.errors import ParameterError
from rfwatch.commands.report import open_stores, parse_when

console = Console()
survey_app = typer.Typer(help="Khảo sát phổ / spectrum surveys.", no_args_is_help=True)

_ALL_TIME = (0, 2**62)


def _suffix(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise ParameterError(f"FILE phải là / FILE must end in {' or '.join(allowed)}: {path}")
    return suffix


def _range(t_from: str | None, t_to: str | None) -> tuple[int, int]:
    t0 = _ALL_TIME[0] if t_from is None else parse_when(t_from, "--from")
    t1 = _ALL_TIME[1] if t_to is None else parse_when(t_to, "--to", end=True)
    if t1 <= t0:
        raise ParameterError("--to phải sau --from / --to must be after --from")
    return t0, t1


def cases_export(
    file: Path = typer.Argument(..., help=".csv hoặc .xlsx / .csv or .xlsx"),
    status: str | None = typer.Option(None, help="Chỉ trạng thái / only this status"),
) -> None:
    """Xuất vụ việc / export cases to CSV or XLSX."""
    from compliance.cases import CaseService, case_summary
    from reports.data import case_detail
    from reports.exports import write_cases_csv, write_cases_xlsx

    suffix = _suffix(file, (".csv", ".xlsx"))
    with open_stores() as (sessions, _ts):
        cases = CaseService(sessions).list_cases(status)
        summaries = [case_summary(c) for c in cases]
        findings = [f for c in cases for f in case_detail(c).findings]
    if suffix == ".csv":
        write_cases_csv(summaries, file)
    else:
        write_cases_xlsx(summaries, findings, file)
    console.print(f"Đã ghi / written {len(summaries)} vụ việc / cases: {file}")


def survey_export(
    file: Path = typer.Argument(..., help="Tệp CSV rtl_power / rtl_power CSV file"),
    station: str = typer.Option(..., "--station", help="Trạm / station id"),
    band: str | None = typer.Option(None, "--band", help="Băng / band (default: the one "
                                    "with the most sweeps)"),
    t_from: str | None = typer.Option(None, "--from", help="YYYY-MM-DD or ISO 8601 (UTC)"),
    t_to: str | None = typer.Option(None, "--to", help="YYYY-MM-DD (inclusive) or ISO"),
) -> None:
    """Xuất phổ đã lưu thành CSV rtl_power / stored sweeps back to rtl_power CSV."""
    from firmware_bridge.survey_csv import write_survey_csv
    from reports.data import load_spectra
    from reports.exports import series_to_spectra

    _suffix(file, (".csv",))
    t0, t1 = _range(t_from, t_to)
    with open_stores() as (_sessions, ts):
        found = load_spectra(ts, station, t0, t1, band=band)
    if not found:
        raise ParameterError(f"không có phổ / no stored spectra for station {station!r}"
                             + (f" band {band!r}" if band else "") + " (--station/--band)")
    series = max(found, key=lambda s: (s.t_ns.size, s.band))
    spectra, skipped = series_to_spectra(series)
    write_survey_csv(file, spectra)
    console.print(f"Đã ghi / written {len(spectra)} lượt quét / sweeps of {series.band} "
                  f"({series.unit}; bỏ / skipped {skipped} incomplete): {file}")


def survey_heatmap(
    file: Path = typer.Argument(..., help="CSV rtl_power / hackrf_sweep"),
    out: Path = typer.Option(..., "--out", help="Ảnh PNG / PNG picture"),
    utc_offset_h: float = typer.Option(0.0, "--utc-offset", help="Giờ địa phương của tệp so "
                                       "với UTC / the zone the file was written in (hours; "
                                       "rtl_power writes local time)"),
    lang: str = typer.Option("vi", "--lang", help="vi | en"),
) -> None:
    """Bản đồ nhiệt khảo sát (giờ UTC, bỏ đường nối) / survey heatmap, UTC, seams removed."""
    import datetime as dt

    import numpy as np

    from firmware_bridge.survey_csv import read_survey_csv
    from reports.charts import heatmap_png
    from reports.i18n import check_lang

    language = check_lang(lang)
    _suffix(out, (".png",))
    survey = read_survey_csv(file, tz=dt.timezone(dt.timedelta(hours=utc_offset_h)))
    first = survey.spectra[0]
    same = [s for s in survey.spectra if s.n_bins == first.n_bins
            and abs(s.f_start_hz - first.f_start_hz) < first.f_step_hz / 2]
    f_hz = first.f_start_hz + np.arange(first.n_bins) * first.f_step_hz
    t_ns = np.array([s.t_start_ns for s in same], dtype=np.int64)
    power = np.stack([np.asarray(s.power_db, dtype=np.float64) for s in same])
    out.write_bytes(heatmap_png(f_hz, t_ns, power, language, unit=first.power_unit,
                                title=file.name, hop_starts=[o for o, _ in first.hop_t_ns]))
    console.print(f"Đã ghi / written {len(same)} lượt quét / sweeps: {out}")


def field_export(
    file: Path = typer.Argument(..., help=".kml hoặc .gpx / .kml or .gpx"),
    station: str | None = typer.Option(None, "--station", help="Chỉ một bộ đo / one field kit"),
    case: str | None = typer.Option(None, "--case", help="Chỉ ước tính của vụ việc / only "
                                    "this case's estimates"),
    t_from: str | None = typer.Option(None, "--from", help="YYYY-MM-DD or ISO 8601 (UTC)"),
    t_to: str | None = typer.Option(None, "--to", help="YYYY-MM-DD (inclusive) or ISO"),
) -> None:
    """Xuất hành trình và vị trí ước tính / field-kit drives and emitter estimates."""
    from compliance.cases import CaseService
    from reports.data import case_detail, load_stations, load_track
    from reports.exports import write_gpx, write_kml

    suffix = _suffix(file, (".kml", ".gpx"))
    t0, t1 = _range(t_from, t_to)
    with open_stores() as (sessions, ts):
        kits = [s.id for s in load_stations(sessions) if s.kind == "field_kit"]
        if station is not None:
            if station not in kits:
                raise ParameterError(f"không phải bộ đo di động / not a field kit: {station!r} "
                                     "(--station)")
            kits = [station]
        track = load_track(ts, kits, t0, t1)
        service = CaseService(sessions)
        cases = [service.get(case)] if case is not None else service.list_cases()
        estimates = [e for c in cases for e in case_detail(c).locations
                     if t0 <= e.t_ns < t1 and (station is None or e.station_id == station)]
    (write_kml if suffix == ".kml" else write_gpx)(track, estimates, file)
    console.print(f"Đã ghi / written {len(track)} điểm / points, {len(estimates)} ước tính / "
                  f"estimates: {file}")


def register(app: typer.Typer) -> None:
    """Add this area's commands: a new ``survey`` group, and ``export`` under the
    existing ``cases`` and ``field`` groups (owned by their own modules)."""
    from rfwatch.commands.compliance import cases_app
    from rfwatch.commands.stations import field_app

    cases_app.command("export")(cases_export)
    field_app.command("export")(field_export)
    survey_app.command("export")(survey_export)
    survey_app.command("heatmap")(survey_heatmap)
    app.add_typer(survey_app, name="survey")
