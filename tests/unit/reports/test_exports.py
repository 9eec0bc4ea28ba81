"""Exports read back by independent readers: the csv module and openpyxl for cases,
the rtl_power format's own rules for surveys (and our reader), an XML parser for
KML 2.2 and gpxpy for GPX 1.1. (The KML and GPX XSDs cannot be fetched offline, so
the schemas' rules that matter are checked by hand: namespaces, element order,
coordinate order and ranges, closed rings.)
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import gpxpy
import numpy as np
import openpyxl
import pytest

from firmware_bridge.survey_csv import read_survey_csv
from reports.exports import GPX_NS, KML_NS, neutralise

from .conftest import EMITTER, F_UNKNOWN, T0

RFWATCH = str(Path(sys.executable).with_name("rfwatch"))


def _run(centre, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RFWATCH_")}
    env.update(centre.env)
    return subprocess.run([RFWATCH, *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'\t=x"), ("\r=x", "'\r=x"), ("-12.5", "-12.5"), ("+3e5", "+3e5"),
    ("safe", "safe"), ("", ""), (12.5, 12.5), (None, None),
])
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


@pytest.fixture(scope="module")
def exported(centre, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exports")
    files = {"csv": out / "cases.csv", "xlsx": out / "cases.xlsx",
             "survey": out / "survey.csv", "kml": out / "drive.kml", "gpx": out / "drive.gpx"}
    from typer.testing import CliRunner

    from rfwatch.cli import app

    runner = CliRunner()  # in-process: the exports themselves, without five interpreters
    for args in (["cases", "export", str(files["csv"])],
                 ["cases", "export", str(files["xlsx"])],
                 ["survey", "export", str(files["survey"]), "--station", "st-a", "--band",
                  "vhf"],
                 ["field", "export", str(files["kml"])],
                 ["field", "export", str(files["gpx"])]):
        result = runner.invoke(app, args, env=centre.env)
        assert result.exit_code == 0, (args, result.output, result.exception)
    return files


def test_cases_csv_reads_back_with_formulas_neutralised(exported, centre) -> None:
    with open(exported["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {centre.unknown_case, centre.licensed_case}
    unknown = by_id[centre.unknown_case]
    assert unknown["assignee"] == "'=HYPERLINK(\"http://x\",\"y\")"  # shown, not run
    assert float(unknown["f_hz"]) == pytest.approx(F_UNKNOWN)
    assert unknown["class"] == "unknown" and unknown["stations"] == "st-a;st-b"
    lic = by_id[centre.licensed_case]
    assert lic["licence_id"] == "LS-TEST-1"
    assert lic["finding_kinds"] == "frequency_out_of_tolerance"


def test_cases_xlsx_reads_back_and_holds_no_formula(exported, centre) -> None:
    wb = openpyxl.load_workbook(exported["xlsx"])
    rows = list(wb["cases"].iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in data}
    assert by_id[centre.unknown_case]["f_hz"] == pytest.approx(F_UNKNOWN)
    assert by_id[centre.unknown_case]["assignee"].startswith("=HYPERLINK")
    for row in wb["cases"].iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate  # a value, never a formula
    findings = list(wb["findings"].iter_rows(values_only=True))
    header = findings[0]
    kinds = {r[header.index("kind")] for r in findings[1:]}
    assert kinds == {"unlicensed_emission", "frequency_out_of_tolerance"}
    lic = [dict(zip(header, r, strict=True)) for r in findings[1:]
           if r[header.index("kind")] == "frequency_out_of_tolerance"][0]
    assert lic["unit"] == "Hz" and lic["measured"] == pytest.approx(3000.0)
    assert lic["permitted"] < lic["measured"]


def test_survey_export_follows_the_rtl_power_format(exported, centre) -> None:
    lines = exported["survey"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20  # 20 sweeps of one hop each
    for k, line in enumerate(lines):
        cells = [c.strip() for c in line.split(",")]
        date, time_, low, high, step, samples = cells[:6]
        values = [float(v) for v in cells[6:]]
        t = dt.datetime.strptime(f"{date} {time_}", "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        assert int(t.timestamp()) * 10**9 == T0 + (50 + 10 * k) * 10**9
        assert float(low) == 162e6 and float(step) == 50e3
        # rtl_power: (high - low) / step bins, plus one repeated last value.
        n_bins = round((float(high) - float(low)) / float(step))
        assert n_bins == 64 and len(values) == n_bins + 1 and values[-1] == values[-2]
        assert int(samples) >= 1
        peak = int(np.argmax(values[:-1]))
        assert float(low) + peak * float(step) == pytest.approx(F_UNKNOWN, abs=25e3)
        assert values[peak] == -35.0
    survey = read_survey_csv(exported["survey"])
    assert len(survey.spectra) == 20 and survey.spectra[0].n_bins == 64


def test_kml_track_and_estimate(exported) -> None:
    root = ET.parse(exported["kml"]).getroot()
    ns = {"k": KML_NS}
    assert root.tag == f"{{{KML_NS}}}kml"
    (line,) = root.findall(".//k:LineString/k:coordinates", ns)
    coords = [tuple(map(float, c.split(","))) for c in line.text.split()]
    assert len(coords) == 12
    for lon, lat in coords:  # KML is lon,lat
        assert 106.5 < lon < 106.7 and 21.8 < lat < 22.0
    assert coords[0] == pytest.approx((106.60, 21.90))
    point = root.find(".//k:MultiGeometry/k:Point/k:coordinates", ns).text
    assert tuple(map(float, point.split(","))) == pytest.approx((EMITTER.lon_deg,
                                                                 EMITTER.lat_deg))
    ring = [tuple(map(float, c.split(","))) for c in root.find(
        ".//k:Polygon/k:outerBoundaryIs/k:LinearRing/k:coordinates", ns).text.split()]
    assert ring[0] == ring[-1] and len(ring) >= 4  # a closed ring
    from dsp.geo import distance_m
    from dsp.types import GeoPosition

    radii = [distance_m(EMITTER, GeoPosition(lat, lon)) for lon, lat in ring]
    assert min(radii) == pytest.approx(850.0, rel=0.01) and max(radii) == pytest.approx(
        850.0, rel=0.01)
    when = root.find(".//k:TimeSpan/k:begin", ns).text
    assert when == "2026-03-02T01:10:00Z"


def test_gpx_reads_back_with_gpxpy(exported) -> None:
    text = exported["gpx"].read_text(encoding="utf-8")
    gpx = gpxpy.parse(text)
    assert gpx.version == "1.1"
    (track,) = gpx.tracks
    assert track.name == "kit"
    pts = track.segments[0].points
    assert len(pts) == 12
    assert (pts[0].latitude, pts[0].longitude) == pytest.approx((21.90, 106.60))
    assert pts[0].time == dt.datetime(2026, 3, 2, 1, 10, tzinfo=dt.UTC)
    assert all(a.time < b.time for a, b in zip(pts, pts[1:], strict=False))
    (wpt,) = gpx.waypoints
    assert (wpt.latitude, wpt.longitude) == pytest.approx((EMITTER.lat_deg, EMITTER.lon_deg))
    assert "850 m" in wpt.description
    # GPX 1.1 (the schema's sequence): waypoints come before tracks.
    root = ET.fromstring(text.encode())
    order = [child.tag.split("}")[1] for child in root]
    assert root.tag == f"{{{GPX_NS}}}gpx" and order.index("wpt") < order.index("trk")


def test_bad_export_arguments_are_one_line(centre, tmp_path: Path) -> None:
    for args, needle in ((["cases", "export", str(tmp_path / "c.pdf")], ".csv"),
                         (["survey", "export", str(tmp_path / "s.csv"), "--station", "nope"],
                          "nope"),
                         (["field", "export", str(tmp_path / "f.kml"), "--station", "st-a"],
                          "st-a"),
                         (["field", "export", str(tmp_path / "f.txt")], ".kml")):
        proc = _run(centre, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr
