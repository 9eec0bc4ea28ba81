"""A real licence database (US FCC FM Query export, ../shared/data/real) through the
importer and the matcher: heavy co-channel reuse, several records per station.

Each licensed (``LIC``) record becomes a row of our licence CSV; the importer must take
all of them, and for sites placed next to stations the matcher must pick, among all
co-channel licences, the one nearest the site (checked by brute force here).
"""

from __future__ import annotations

import csv
import importlib
import re
from collections import defaultdict
from pathlib import Path

import pytest

from compliance.classify import classify
from compliance.importers import read_licences
from compliance.records import LICENCE_COLUMNS
from compliance.registry import Registry
from dsp.geo import distance_m
from dsp.types import GeoPosition

_conf = importlib.import_module("tests.unit.compliance.conftest")

_RECORD = 400  # fixed-width records, no newlines (PROVENANCE.md)
_HEAD = re.compile(r"^\s*(?P<call>\S+)\s+(?P<f>[\d.]+)\s+MHz\s+(?P<svc>\S+)\s+\d+\s+\S+\s+.*?"
                   r"\s(?P<status>LIC|CP|APP|VAC)\s")
_GEO = re.compile(r"(?P<ns>[NS])\s+(?P<latd>\d+)\s+(?P<latm>\d+)\s+(?P<lats>[\d.]+)\s+"
                  r"(?P<ew>[WE])\s+(?P<lond>\d+)\s+(?P<lonm>\d+)\s+(?P<lons>[\d.]+)\s+"
                  r"(?P<licensee>.*?)\s+[\d.]+ km")
_ERP = re.compile(r"([\d.]+|-)\s+kW\s+([\d.]+|-)\s+kW")


def _deg(d: str, m: str, s: str, hemi: str) -> float:
    value = int(d) + int(m) / 60 + float(s) / 3600
    return -value if hemi in "SW" else value


@pytest.fixture(scope="module")
def fcc_csv(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    raw = (real_data / "fcc_fm_query_nprlabs" / "fm_data.txt").read_text(encoding="latin-1")
    rows = []
    for index in range(0, len(raw), _RECORD):
        rec = raw[index:index + _RECORD]
        head, geo, erp = _HEAD.match(rec), _GEO.search(rec), _ERP.search(rec)
        if not (head and geo and erp) or head["status"] != "LIC":
            continue
        powers = [float(p) * 1000 for p in erp.groups() if p != "-"]
        rows.append({
            "licence_id": f"{head['call']}-{index // _RECORD}",
            "licensee": geo["licensee"].strip() or head["call"],
            "station_name": head["call"],
            "service": "fm_broadcast",
            "f_hz": float(head["f"]) * 1e6,
            "emission": "256KF8EHF",  # stereo FM (RR Ap1: 2M + 2DK)
            "erp_w": max(powers) if powers else "",
            "lat": _deg(geo["latd"], geo["latm"], geo["lats"], geo["ns"]),
            "lon": _deg(geo["lond"], geo["lonm"], geo["lons"], geo["ew"]),
            "antenna_height_m": "",
            "valid_from": "2000-01-01",
            "valid_to": "",
            "status": "valid",
        })
    path = tmp_path_factory.mktemp("fcc") / "fcc_licences.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LICENCE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path, len(rows)


def test_importer_takes_every_licensed_record(fcc_csv):
    path, n = fcc_csv
    licences = read_licences(path)
    assert len(licences) == n and n > 1500
    assert {x.service for x in licences} == {"fm_broadcast"}
    assert {round(x.f_hz / 1e5) for x in licences} <= set(range(879, 894))


def test_the_nearest_co_channel_licence_is_chosen(fcc_csv, reference):
    licences = read_licences(fcc_csv[0])
    by_f: dict[float, list] = defaultdict(list)
    for lic in licences:
        by_f[lic.f_hz].append(lic)
    registry = Registry(tuple(licences))
    crowded = {f: g for f, g in by_f.items() if len(g) > 20}  # heavy co-channel reuse
    assert len(crowded) >= 5
    checked = 0
    for f_hz, group in sorted(crowded.items()):
        for lic in group[:: max(1, len(group) // 8)]:
            site = GeoPosition(lic.lat + 0.02, lic.lon - 0.02)
            e = _conf.make_emission(f_hz, bw_hz=150e3, f_resolution_hz=1_000.0)
            chosen = classify(e, registry, reference, site=site).licence
            nearest_m = min(distance_m(site, x.position) for x in group)
            assert chosen is not None and chosen.f_hz == f_hz
            assert distance_m(site, chosen.position) == pytest.approx(nearest_m)
            checked += 1
    assert checked > 50
