"""Exports for other tools: cases to CSV/XLSX, stored spectra back to rtl_power CSV,
a field kit's drive and emitter estimates to KML 2.2 and GPX 1.1.

CSV cells are neutralised against formula injection (OWASP "CSV Injection"): a text
cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not
a plain number, is written with a leading apostrophe so a spreadsheet shows it as text
instead of evaluating it. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from dsp.errors import ParameterError
from dsp.types import Spectrum
from reports.data import LocationEstimate, SpectrumSeries, TrackPoint

__all__ = [
    "CASE_COLUMNS",
    "FINDING_COLUMNS",
    "GPX_NS",
    "KML_NS",
    "neutralise",
    "series_to_spectra",
    "write_cases_csv",
    "write_cases_xlsx",
    "write_gpx",
    "write_kml",
]

#: Columns of the cases export (the keys of ``rfwatch cases list --json``).
CASE_COLUMNS = ("id", "status", "dismiss_reason", "class", "f_hz", "bw_hz", "licence_id",
                "foreign_id", "licence_linked", "severity", "assignee", "first_seen",
                "last_seen", "finding_kinds", "stations", "n_findings")
FINDING_COLUMNS = ("case_id", "kind", "station", "t", "f_hz", "bw_hz", "measured", "permitted",
                   "unit", "severity", "legal_basis", "licence_id", "detail")
KML_NS = "http://www.opengis.net/kml/2.2"
GPX_NS = "http://www.topografix.com/GPX/1/1"
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: object) -> object:
    """A CSV cell that no spreadsheet evaluates as a formula (see the module notes)."""
    if isinstance(value, str) and value.startswith(_DANGEROUS) and not _NUMBER.match(value):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


def write_cases_csv(cases: Sequence[dict], path: Path) -> Path:
    """One row per case (``CASE_COLUMNS``), UTF-8 with BOM so Excel reads Vietnamese."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CASE_COLUMNS)
        for case in cases:
            writer.writerow([neutralise(_cell(case.get(c))) for c in CASE_COLUMNS])
    return path


def write_cases_xlsx(cases: Sequence[dict], findings: Sequence[dict], path: Path) -> Path:
    """Sheets ``cases`` (``CASE_COLUMNS``) and ``findings`` (``FINDING_COLUMNS``).

    Cells are stored as values (openpyxl writes a string beginning with ``=`` as a
    formula, so such strings are stored with the text data type explicitly).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    for ws, columns, rows in ((wb.active, CASE_COLUMNS, cases),
                              (wb.create_sheet(), FINDING_COLUMNS, findings)):
        ws.title = "cases" if columns is CASE_COLUMNS else "findings"
        ws.append(list(columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(rows, start=2):
            for c, key in enumerate(columns, start=1):
                value = _cell(row.get(key))
                cell = ws.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula
    wb.save(str(path))
    return path


def series_to_spectra(series: SpectrumSeries) -> tuple[list[Spectrum], int]:
    """Stored sweeps of one station and band as spectra on their uniform grid.

    Returns the spectra and how many sweeps were left out because some bins were
    missing (rtl_power CSV has no way to say "not measured").

    Raises
    ------
    ParameterError
        When the stored bins are not on one uniform frequency grid.
    """
    f = series.f_hz
    if f.size < 2:
        raise ParameterError("cần ít nhất 2 điểm tần số / at least two frequency bins needed")
    step = float(np.median(np.diff(f)))
    if not np.allclose(np.diff(f), step, rtol=1e-6, atol=1e-3):
        raise ParameterError("các điểm tần số không cách đều / bins are not on a uniform grid")
    spectra: list[Spectrum] = []
    skipped = 0
    for t_ns, row in zip(series.t_ns.tolist(), series.power, strict=True):
        if not np.isfinite(row).all():
            skipped += 1
            continue
        spectra.append(Spectrum(
            f_start_hz=float(f[0]), f_step_hz=step, power_db=row.astype(np.float32),
            power_unit="dBm" if series.unit == "dBm" else "dBFS", rbw_hz=step,
            t_start_ns=int(t_ns), t_end_ns=int(t_ns), station_id=series.station_id,
        ))
    return spectra, skipped


def _iso(t_ns: int) -> str:
    return dt.datetime.fromtimestamp(t_ns // 1_000_000_000, tz=dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _circle(est: LocationEstimate, n: int = 72) -> list[tuple[float, float]]:
    """Lon/lat of the 95 % circle or ellipse (closed ring, counter-clockwise as KML asks)."""
    return est.ring_lon_lat(n)


def _describe(est: LocationEstimate) -> str:
    if est.semi_minor_m is not None:  # the case's location
        p = "-" if est.p_vietnam is None else f"{est.p_vietnam:.3f}"
        return (f"Vụ việc / case {est.case_id}: {est.f_hz / 1e6:.4f} MHz, 95 %: "
                f"{est.radius_m:.0f} × {est.semi_minor_m:.0f} m, {est.orientation_deg:.0f}°; "
                f"{est.verdict} (P(VN) = {p}); {est.n_points} trạm / sites, {est.method}, "
                f"{_iso(est.t_ns)}")
    return (f"Vụ việc / case {est.case_id}: {est.f_hz / 1e6:.4f} MHz, ± {est.radius_m:.0f} m "
            f"(95 %), {est.n_points} điểm đo / points, {_iso(est.t_ns)}")


def _by_station(track: Iterable[TrackPoint]) -> dict[str, list[TrackPoint]]:
    out: dict[str, list[TrackPoint]] = {}
    for p in track:
        out.setdefault(p.station_id, []).append(p)
    for pts in out.values():
        pts.sort(key=lambda p: p.t_ns)
    return out


def write_kml(track: Sequence[TrackPoint], estimates: Sequence[LocationEstimate],
              path: Path) -> Path:
    """KML 2.2: a LineString per field kit's drive (with a TimeSpan), a Point and a
    95 % circle Polygon per emitter estimate."""
    ET.register_namespace("", KML_NS)
    q = f"{{{KML_NS}}}"
    root = ET.Element(q + "kml")
    doc = ET.SubElement(root, q + "Document")
    ET.SubElement(doc, q + "name").text = "rfwatch"
    for sid, pts in _by_station(track).items():
        pm = ET.SubElement(doc, q + "Placemark")
        ET.SubElement(pm, q + "name").text = f"{sid}: hành trình / drive"
        span = ET.SubElement(pm, q + "TimeSpan")
        ET.SubElement(span, q + "begin").text = _iso(pts[0].t_ns)
        ET.SubElement(span, q + "end").text = _iso(pts[-1].t_ns)
        line = ET.SubElement(pm, q + "LineString")
        ET.SubElement(line, q + "tessellate").text = "1"
        ET.SubElement(line, q + "coordinates").text = " ".join(
            f"{p.lon_deg:.7f},{p.lat_deg:.7f}" for p in pts)
    for est in estimates:
        pm = ET.SubElement(doc, q + "Placemark")
        ET.SubElement(pm, q + "name").text = f"{est.case_id}: {est.f_hz / 1e6:.4f} MHz"
        ET.SubElement(pm, q + "description").text = _describe(est)
        ET.SubElement(ET.SubElement(pm, q + "TimeStamp"), q + "when").text = _iso(est.t_ns)
        multi = ET.SubElement(pm, q + "MultiGeometry")
        ET.SubElement(ET.SubElement(multi, q + "Point"), q + "coordinates").text = (
            f"{est.lon_deg:.7f},{est.lat_deg:.7f}")
        ring = ET.SubElement(ET.SubElement(ET.SubElement(multi, q + "Polygon"),
                                           q + "outerBoundaryIs"), q + "LinearRing")
        ET.SubElement(ring, q + "coordinates").text = " ".join(
            f"{lon:.7f},{lat:.7f}" for lon, lat in _circle(est))
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path


def write_gpx(track: Sequence[TrackPoint], estimates: Sequence[LocationEstimate],
              path: Path) -> Path:
    """GPX 1.1: a waypoint per emitter estimate (``wpt`` comes first, as the schema
    orders it) and a track per field kit's drive with UTC times."""
    ET.register_namespace("", GPX_NS)
    q = f"{{{GPX_NS}}}"
    root = ET.Element(q + "gpx", {"version": "1.1", "creator": "rfwatch"})
    for est in estimates:
        wpt = ET.SubElement(root, q + "wpt", {"lat": f"{est.lat_deg:.7f}",
                                              "lon": f"{est.lon_deg:.7f}"})
        ET.SubElement(wpt, q + "time").text = _iso(est.t_ns)
        ET.SubElement(wpt, q + "name").text = f"{est.case_id} {est.f_hz / 1e6:.4f} MHz"
        ET.SubElement(wpt, q + "desc").text = _describe(est)
    for sid, pts in _by_station(track).items():
        trk = ET.SubElement(root, q + "trk")
        ET.SubElement(trk, q + "name").text = sid
        seg = ET.SubElement(trk, q + "trkseg")
        for p in pts:
            pt = ET.SubElement(seg, q + "trkpt", {"lat": f"{p.lat_deg:.7f}",
                                                  "lon": f"{p.lon_deg:.7f}"})
            ET.SubElement(pt, q + "time").text = _iso(p.t_ns)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)
    return path
