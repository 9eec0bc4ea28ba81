"""Inputs that cannot mislead (issue 10 §4): frequencies that cannot be Hz, encodings,
Vietnamese headers, ranges, dates, band-licence rows and formula-safe exports."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.importers import (
    detect_encoding,
    neutralise_formula,
    read_foreign_stations,
    read_licences,
    write_licences,
)
from compliance.records import LICENCE_COLUMNS, Licence
from dsp.errors import InputFormatError

HEADER = ",".join(LICENCE_COLUMNS)


def row(f_hz: str = "97000000", licensee: str = "Đài PT-TH Lạng Sơn", lat: str = "21.8545",
        lon: str = "106.9153", valid_from: str = "2020-01-01", valid_to: str = "2030-12-31",
        sep: str = ",", station: str = "Mẫu Sơn") -> str:
    return sep.join(["LS-FM-001", licensee, station, "fm_broadcast", f_hz, "256KF8EHF",
                     "10000", lat, lon, "60", valid_from, valid_to, "valid"])


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "l.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(path: Path, **kw) -> InputFormatError:
    with pytest.raises(InputFormatError) as info:
        read_licences(path, **kw)
    return info.value


# -- f_hz that cannot be Hz ------------------------------------------------------------


def test_163_450_is_refused_with_a_mhz_hint(tmp_path):
    err = refused(write(tmp_path, HEADER + "\n" + row(f_hz="163.450") + "\n"))
    msg = str(err)
    assert (err.line, err.field) == (2, "f_hz")
    assert "line 2 field 'f_hz'" in msg and "MHz" in msg and "163450000" in msg
    assert "\n" not in msg


def test_a_decimal_comma_is_refused_with_the_same_hint(tmp_path):
    msg = str(refused(write(tmp_path, HEADER + "\n" + row(f_hz='"163,450"') + "\n")))
    assert "line 2 field 'f_hz'" in msg and "MHz" in msg and "163450000" in msg


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mhz=st.decimals(min_value="0.001", max_value="8999.999", places=3))
def test_any_frequency_written_in_mhz_is_refused(tmp_path, mhz):
    text = f"{mhz:f}"
    err = refused(write(tmp_path, HEADER + "\n" + row(f_hz=text) + "\n"))
    assert err.field == "f_hz" and "looks like MHz" in str(err)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(f_hz=st.integers(min_value=9_000, max_value=6_000_000_000))
def test_whole_hz_from_9_khz_up_are_accepted(tmp_path, f_hz):
    [lic] = read_licences(write(tmp_path, HEADER + "\n" + row(f_hz=str(f_hz)) + "\n"))
    assert lic.f_hz == f_hz


def test_the_mhz_hint_holds_in_xlsx_too(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(list(LICENCE_COLUMNS))
    book.active.append([*row(f_hz="x").split(",")[:4], 163.45, *row().split(",")[5:]])
    path = tmp_path / "l.xlsx"
    book.save(path)
    msg = str(refused(path))
    assert "row 2 field 'f_hz'" in msg and "MHz" in msg


def test_foreign_stations_get_the_hint_too(tmp_path):
    text = ("licence_id,station_name,service,f_hz,emission,erp_w,lat,lon,antenna_height_m,"
            "country\nCN-1,s,land_mobile,432.750,16K0F3E,50,22.0,106.7,40,CN\n")
    with pytest.raises(InputFormatError, match=r"line 2 field 'f_hz'.*MHz"):
        read_foreign_stations(write(tmp_path, text, name="f.csv"))


# -- encodings -----------------------------------------------------------------------


def test_latin1_and_cp1252_read(tmp_path):
    text = HEADER + "\n" + row(licensee="Société Générale Radio", station="Mau Son") + "\n"
    for enc in ("latin-1", "cp1252"):
        [lic] = read_licences(write(tmp_path, text, enc))
        assert lic.licensee == "Société Générale Radio"


def test_cp1258_with_combining_tones_reads_as_composed_vietnamese(tmp_path):
    # Windows-1258 writes the tone as a combining mark: "Lạng" = L a U+0323 n g.
    decomposed = "Đài La\u0323ng Sơn"
    data = HEADER + "\n" + row(licensee=decomposed, station="Mâ\u0303u Sơn") + "\n"
    path = tmp_path / "cp1258.csv"
    path.write_bytes(data.encode("cp1258"))
    assert detect_encoding(path.read_bytes()) == "cp1258"
    [lic] = read_licences(path)
    assert lic.licensee == "Đài Lạng Sơn" and lic.station_name == "Mẫu Sơn"


def test_excel_unicode_text_utf16_tab_separated_reads(tmp_path):
    text = "\t".join(LICENCE_COLUMNS) + "\r\n" + row(sep="\t") + "\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    [lic] = read_licences(path)
    assert lic.licensee == "Đài PT-TH Lạng Sơn" and lic.f_hz == 97e6


def test_a_wrong_encoding_is_one_error_naming_the_encoding(tmp_path):
    path = write(tmp_path, HEADER + "\n" + row(licensee="Société", station="x") + "\n",
                 "latin-1")
    err = refused(path, encoding="utf-8")
    assert err.field == "encoding" and "--encoding" in str(err) and err.line == 2
    assert "unknown encoding" in str(refused(path, encoding="klingon"))


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl",
                                                                          "Zp")),
                min_size=1, max_size=25).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names.filter(lambda n: not n.startswith("'")),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"]))
def test_unicode_encodings_are_detected(tmp_path, name, encoding):
    fields = row().split(",")
    fields[1] = name
    path = tmp_path / "h.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LICENCE_COLUMNS)
        writer.writerow(fields)
    [lic] = read_licences(path)
    assert lic.licensee == name


#: Vietnamese and Latin letters that Windows-1258 holds as single bytes.
CP1258_LETTERS = "".join(c for c in "ăâđêôơưĂÂĐÊÔƠƯàáèéìíòóùúýÀÁÈÉÒÓÙÚ₫abcxyzABCXYZ 0123"
                         if len(c.encode("cp1258", errors="ignore")) == 1)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.text(alphabet=CP1258_LETTERS, max_size=20))
def test_vietnamese_windows_code_page_is_detected(tmp_path, tail):
    name = ("Đài " + tail).strip()
    path = write(tmp_path, HEADER + "\n" + row(licensee=name, station="Sơn") + "\n", "cp1258")
    [lic] = read_licences(path)
    assert lic.licensee == name


# -- Vietnamese headers ------------------------------------------------------------------


def test_vietnamese_headers_are_aliases_of_the_fixed_header(tmp_path):
    header = ("Số giấy phép,Tổ chức/cá nhân,Tên đài,Nghiệp vụ,Tần số (Hz),Phương thức phát,"
              "Công suất ERP (W),Vĩ độ,Kinh độ,Độ cao anten (m),Hiệu lực từ,Hiệu lực đến,"
              "Trạng thái")
    [lic] = read_licences(write(tmp_path, header + "\n" + row() + "\n"))
    [ref] = read_licences(write(tmp_path, HEADER + "\n" + row() + "\n", name="en.csv"))
    assert lic == ref


# -- ranges, dates, blocks -----------------------------------------------------------------


@pytest.mark.parametrize("lat,lon,field", [("95", "106.9", "lat"), ("-90.5", "106.9", "lat"),
                                           ("21.8", "200", "lon"), ("21.8", "-180.1", "lon")])
def test_latitude_and_longitude_are_range_checked(tmp_path, lat, lon, field):
    err = refused(write(tmp_path, HEADER + "\n" + row(lat=lat, lon=lon) + "\n"))
    assert err.field == field and f"line 2 field '{field}'" in str(err)


def test_valid_to_before_valid_from_is_reported_against_valid_to(tmp_path):
    err = refused(write(tmp_path, HEADER + "\n" + row(valid_from="2024-05-01",
                                                      valid_to="2024-04-30") + "\n"))
    assert err.field == "valid_to" and "line 2 field 'valid_to'" in str(err)
    assert "valid_from" in str(err) and "2024-04-30" in str(err)


BLOCK_HEADER = HEADER + ",f_low_hz,f_high_hz"


def _block_row(f_hz="", low="944000000", high="950000000"):
    return (f"BL-1,Nhà mạng,Băng tần,land_mobile,{f_hz},200KGXW,,,,,2020-01-01,,valid,"
            f"{low},{high}")


def test_band_licence_rows_read_and_round_trip(tmp_path):
    [lic] = read_licences(write(tmp_path, BLOCK_HEADER + "\n" + _block_row() + "\n"))
    assert lic.is_block and (lic.f_low_hz, lic.f_high_hz, lic.f_hz) == (944e6, 950e6, 947e6)
    out = tmp_path / "out.csv"
    write_licences(out, [lic])
    assert out.read_text(encoding="utf-8").splitlines()[0] == BLOCK_HEADER
    assert read_licences(out) == [lic]


@pytest.mark.parametrize("kw,needle", [
    ({"f_hz": "947000000", "high": ""}, "f_low_hz and f_high_hz must be given together"),
    ({"low": "950000000", "high": "944000000"}, "f_high_hz must be above f_low_hz"),
    ({"f_hz": "951000000"}, "outside the block"),
    ({"low": "944.0"}, "looks like MHz"),
])
def test_bad_band_licence_rows_are_named(tmp_path, kw, needle):
    err = refused(write(tmp_path, BLOCK_HEADER + "\n" + _block_row(**kw) + "\n"))
    assert err.line == 2 and needle in str(err)


# -- formula injection ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "'=1", "'+x"])
def test_csv_export_neutralises_formulas_and_reads_back_exactly(tmp_path, text):
    [good] = read_licences(write(tmp_path, HEADER + "\n" + row() + "\n"))
    tricky = good.model_copy(update={"licensee": text})
    out = tmp_path / "out.csv"
    write_licences(out, [tricky])
    with out.open(encoding="utf-8", newline="") as handle:
        cells = list(csv.reader(handle))[1]
    assert cells[1] == "'" + text and cells[1][0] not in "=+-@\t"
    assert read_licences(out) == [tricky]


def test_plain_text_and_negative_numbers_are_left_alone():
    assert neutralise_formula("Đài Lạng Sơn") == "Đài Lạng Sơn"
    assert neutralise_formula("'quoted'") == "'quoted'"
    lic = Licence(licence_id="X-1", licensee="a", station_name="s", service="fixed",
                  f_hz=1e9, emission="16K0F3E", lat=-33.5, lon=-70.6,
                  valid_from=dt.date(2020, 1, 1), status="valid")
    assert lic.lat == -33.5  # numbers are written as numbers (no quote)
