"""Licence and foreign-station import/export: CSV and XLSX, all-or-nothing, row errors."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.importers import (
    read_foreign_stations,
    read_licences,
    write_foreign_stations,
    write_licences,
)
from compliance.records import FOREIGN_COLUMNS, LICENCE_COLUMNS, ForeignStation, Licence
from compliance.services import SERVICES
from dsp.errors import InputFormatError

DATA = Path(__file__).resolve().parents[2] / "data" / "compliance"
HEADER = ",".join(LICENCE_COLUMNS)
GOOD = ("LS-FM-001,Đài PT-TH Lạng Sơn,Mẫu Sơn,fm_broadcast,97000000,180KF8EHF,10000,21.8545,"
        "106.9153,60,2020-01-01,2030-12-31,valid")


def write(tmp_path: Path, text: str, name: str = "l.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_header_is_exact():
    assert HEADER == ("licence_id,licensee,station_name,service,f_hz,emission,erp_w,lat,lon,"
                      "antenna_height_m,valid_from,valid_to,status")
    assert ",".join(FOREIGN_COLUMNS) == ("licence_id,station_name,service,f_hz,emission,erp_w,"
                                         "lat,lon,antenna_height_m,country")


def test_reads_a_good_file_with_extra_columns_and_aliases(tmp_path):
    text = (HEADER + ",ghi_chu\n" + GOOD + ",x\n"
            "LS-TT-01,UBND xã Tân Thanh,Đài xã,Truyền thanh cơ sở,64500000,16K0F3E,30,"
            "21.9,106.7,,2025-01-01,,valid,y\n\n")
    [fm, commune] = read_licences(write(tmp_path, text))
    assert fm.licence_id == "LS-FM-001" and fm.f_hz == 97e6 and fm.emission == "180KF8EHF"
    assert fm.valid_to == dt.date(2030, 12, 31) and fm.necessary_bw_hz == 180_000.0
    assert commune.service == "commune_loudspeaker" and commune.valid_to is None
    assert commune.antenna_height_m is None


def test_the_test_data_files_read(tmp_path):
    licences = read_licences(DATA / "licences_433.csv")
    assert [x.licence_id for x in licences] == ["LM-001", "LM-002", "LM-003", "LM-004", "LM-005"]
    [cn] = read_foreign_stations(DATA / "foreign_433.csv")
    assert cn.country == "CN" and cn.f_hz == 432.75e6


def test_every_bad_row_is_named_and_nothing_is_returned(tmp_path):
    text = "\n".join([
        HEADER,
        GOOD,
        "A2,x,s,fm_broadcast,abc,180KF8EHF,1,21,106,,2020-01-01,,valid",  # line 3: f_hz
        "A3,x,s,radar,97000000,180KF8EHF,1,21,106,,2020-01-01,,valid",  # line 4: service
        "A4,x,s,fm_broadcast,97000000,18XKF8E,1,21,106,,2020-01-01,,valid",  # line 5: emission
        "A5,x,s,fm_broadcast,97000000,180KF8EHF,1,95,106,,2020-01-01,,valid",  # line 6: lat
        "A6,x,s,fm_broadcast,97000000,180KF8EHF,1,21,106,,2020-13-01,,expired",  # 7: 2 fields
        "A7,x,s,fm_broadcast,97000000,180KF8EHF,1,21,106,,2021-01-01,2020-01-01,valid",  # 8
        "LS-FM-001,x,s,fm_broadcast,97000000,180KF8EHF,1,21,106,,2020-01-01,,valid",  # 9: dup
        "A9,x,s,fm_broadcast",  # line 10: too few fields
        "A10,x,s,fm_broadcast,97000000,180KF8EHF,1,21,,,2020-01-01,,valid",  # 11: lon alone
    ]) + "\n"
    path = write(tmp_path, text)
    with pytest.raises(InputFormatError) as info:
        read_licences(path)
    msg = str(info.value)
    assert str(path) in msg and "nothing imported" in msg
    for needle in ("line 3 field 'f_hz'", "line 4 field 'service'", "line 5 field 'emission'",
                   "line 6 field 'lat'", "line 7 field 'valid_from'", "line 7 field 'status'",
                   "line 8", "valid_to is before valid_from", "line 9 field 'licence_id'",
                   "duplicate", "line 10", "wrong number of fields", "line 11",
                   "lat and lon"):
        assert needle in msg, needle
    assert "line 2:" not in msg and "line 2 field" not in msg
    assert info.value.line == 3 and info.value.field == "f_hz"
    assert "9 bad line(s)" in msg


def test_missing_header_columns_are_named(tmp_path):
    path = write(tmp_path, HEADER.replace(",emission", "") + "\n")
    with pytest.raises(InputFormatError, match="missing column.*emission") as info:
        read_licences(path)
    assert info.value.line == 1


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputFormatError, match="empty file"):
        read_licences(write(tmp_path, ""))
    with pytest.raises(InputFormatError, match="cannot open"):
        read_licences(tmp_path / "nope.csv")
    with pytest.raises(InputFormatError, match="unreadable XLSX"):
        read_licences(write(tmp_path, "not a zip", "x.xlsx"))


def test_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + GOOD + "\n").encode("utf-8"))
    assert len(read_licences(path)) == 1


def test_xlsx_bad_rows_are_named_by_row(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(LICENCE_COLUMNS))
    sheet.append(GOOD.split(","))
    sheet.append(["B1", "x", "s", "fm_broadcast", -5, "180KF8EHF", 1, 21, 106, None,
                  dt.date(2020, 1, 1), None, "valid"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with pytest.raises(InputFormatError, match=r"row 3 field 'f_hz'"):
        read_licences(path)


def test_foreign_import_requires_country(tmp_path):
    header = ",".join(FOREIGN_COLUMNS)
    text = header + "\nCN-1,s,land_mobile,432750000,16K0F3E,50,22.0,106.7,40,\n"
    with pytest.raises(InputFormatError, match="line 2 field 'country'"):
        read_foreign_stations(write(tmp_path, text, "f.csv"))


# -- round trips (hypothesis) --------------------------------------------------------

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1, max_size=30,
).map(str.strip).filter(bool)
ids = st.from_regex(r"[A-Z]{2}-[0-9]{1,6}", fullmatch=True)
freqs = st.floats(min_value=9e3, max_value=6e9, allow_nan=False, allow_infinity=False)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))


@st.composite
def licences(draw):
    valid_from = draw(dates)
    valid_to = draw(st.none() | dates.filter(lambda d: d >= valid_from))
    has_pos = draw(st.booleans())
    return Licence(
        licence_id=draw(ids), licensee=draw(names), station_name=draw(names),
        service=draw(st.sampled_from(SERVICES)), f_hz=draw(freqs),
        emission=draw(st.sampled_from(["16K0F3E", "180KF8EHF", "7M60G7W", "100HA1A",
                                       "12K5F1E"])),
        erp_w=draw(st.none() | st.floats(0, 1e6, allow_nan=False)),
        lat=draw(st.floats(-90, 90)) if has_pos else None,
        lon=draw(st.floats(-180, 180)) if has_pos else None,
        antenna_height_m=draw(st.none() | st.floats(0, 500)),
        valid_from=valid_from, valid_to=valid_to,
        status=draw(st.sampled_from(["valid", "suspended", "revoked"])),
    )


def _unique(records):
    seen = {}
    for r in records:
        seen.setdefault(r.licence_id, r)
    return list(seen.values())


def _same_within_xlsx_precision(a: Licence, b: Licence) -> bool:
    """Equal fields, floats to 1e-14 relative (openpyxl writes 16 significant digits)."""
    for key, va in a.model_dump().items():
        vb = getattr(b, key)
        if isinstance(va, float) and isinstance(vb, float):
            if va != pytest.approx(vb, rel=1e-14, abs=1e-300):
                return False
        elif va != vb:
            return False
    return True


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(licences(), max_size=8).map(_unique))
def test_csv_export_then_import_round_trips_exactly(tmp_path, records):
    path = tmp_path / "round.csv"
    write_licences(path, records)
    assert read_licences(path) == records


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(licences(), max_size=6).map(_unique))
def test_xlsx_export_then_import_round_trips(tmp_path, records):
    path = tmp_path / "round.xlsx"
    write_licences(path, records)
    back = read_licences(path)
    assert len(back) == len(records)
    assert all(_same_within_xlsx_precision(a, b) for a, b in zip(back, records, strict=True))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(licences(), max_size=5).map(_unique))
def test_foreign_round_trip(tmp_path, records):
    stations = [ForeignStation(**{c: getattr(r, c) for c in FOREIGN_COLUMNS if c != "country"},
                               country="CN") for r in records]
    path = tmp_path / "foreign.csv"
    write_foreign_stations(path, stations)
    assert read_foreign_stations(path) == stations


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=15), max_size=5))
def test_garbage_rows_give_input_format_errors_not_crashes(tmp_path, rows):
    path = tmp_path / "garbage.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LICENCE_COLUMNS)
        writer.writerows(rows)
    try:
        records = read_licences(path)
    except InputFormatError as err:
        assert str(path) in str(err) and err.line is not None and err.line >= 2
    else:
        assert len(records) <= len(rows)


def test_xlsx_export_keeps_text_that_looks_like_a_formula(tmp_path):
    [good] = read_licences(write(tmp_path, HEADER + "\n" + GOOD + "\n"))
    tricky = good.model_copy(update={"licensee": "=HYPERLINK(\"x\")", "station_name": "=0"})
    path = tmp_path / "formula.xlsx"
    write_licences(path, [tricky])
    assert read_licences(path) == [tricky]
    from openpyxl import load_workbook

    cell = load_workbook(path).active["B2"]
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"x\")"
