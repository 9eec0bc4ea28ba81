"""rtl_power / hackrf_sweep CSV: real files, stitching, writing, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import InputFormatError
from dsp.types import Spectrum
from firmware_bridge.survey_csv import parse_survey_lines, read_survey_csv, write_survey_csv

FM = "rtl_power-fm-multipath"
STATIONS = {"nhkfm3": 88.1e6, "cocolo3": 76.5e6, "fm802-3": 80.2e6, "fmosaka-3": 85.1e6}


def _ns(*args: int, tz=UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp()) * 1_000_000_000


@pytest.mark.parametrize(("name", "f_station_hz"), sorted(STATIONS.items()))
def test_real_rtl_power_files(real_data, name, f_station_hz):
    survey = read_survey_csv(real_data / FM / f"{name}.csv")
    assert len(survey.spectra) == 299  # one row per 1 s sweep (PROVENANCE.md)
    first = survey.spectra[0]
    assert first.n_bins == 128  # 129 values per row, the last one repeated
    assert first.f_step_hz == 781.25
    assert first.f_start_hz == f_station_hz - 50e3
    assert first.power_unit == "dBFS"
    assert first.interpolated_bins == (64,)
    # The DC bin rtl_power fills in is the one on the tuned frequency.
    assert first.f_hz()[64] == f_station_hz
    assert all(np.array_equal(s.power_db[64:65], s.power_db[65:66]) for s in survey.spectra)
    times = [s.t_start_ns for s in survey.spectra]
    assert times == sorted(times)
    assert (times[-1] - times[0]) / 1e9 == pytest.approx(298, abs=3)  # -e 5m, -i 1
    # An FM station fills the 100 kHz span: high, fairly flat power (PROVENANCE.md).
    mean = float(np.mean([s.power_db.mean() for s in survey.spectra]))
    assert -30 < mean < -24


def test_first_row_of_nhkfm3_exactly(real_data):
    path = real_data / FM / "nhkfm3.csv"
    first_line = path.read_text().splitlines()[0]
    values = [float(v) for v in first_line.split(",")[6:]]
    spectrum = read_survey_csv(path).spectra[0]
    np.testing.assert_array_equal(spectrum.power_db, np.array(values[:128], dtype=np.float32))
    assert spectrum.t_start_ns == _ns(2018, 11, 18, 12, 31, 45)
    assert spectrum.n_averages == 12544


@pytest.mark.parametrize("name", sorted(STATIONS))
def test_max_hold_matches_the_authors_peak_hold_files(real_data, name):
    # The source repository's peakhold.py output (*-ph.csv: frequency, max dB) is an
    # independent reading of the same files: our grid and values must agree with it.
    survey = read_survey_csv(real_data / FM / f"{name}.csv")
    peak = np.loadtxt(real_data / FM / f"{name}-ph.csv", delimiter=",")
    ours = np.max([s.power_db for s in survey.spectra], axis=0)
    np.testing.assert_allclose(peak[:128, 0], survey.spectra[0].f_hz())
    np.testing.assert_allclose(peak[:128, 1], ours, atol=0.006)


def test_peak_hold_files_are_not_surveys(real_data):
    with pytest.raises(InputFormatError, match="7 columns") as err:
        read_survey_csv(real_data / FM / "nhkfm3-ph.csv")
    assert err.value.line == 1


def test_local_time_zone(real_data):
    path = real_data / FM / "nhkfm3.csv"
    # Recorded in Osaka: rtl_power wrote Japanese local time.
    jst = read_survey_csv(path, tz=ZoneInfo("Asia/Tokyo")).spectra[0]
    utc = read_survey_csv(path).spectra[0]
    assert utc.t_start_ns - jst.t_start_ns == 9 * 3600 * 10**9


ROW = "2024-05-01, 10:00:00, {lo}, {hi}, 1000.00, 10, " + "{vals}"


def _row(lo: int, n: int, base: float, t: str = "10:00:00", extra: bool = True) -> str:
    vals = [base + i for i in range(n)]
    if extra:
        vals.append(vals[-1])
    return (f"2024-05-01, {t}, {lo}, {lo + n * 1000}, 1000.00, 10, "
            + ", ".join(f"{v:.2f}" for v in vals))


def test_multi_hop_sweeps_are_stitched():
    lines = [_row(100_000, 4, 0), _row(104_000, 4, 10), _row(108_000, 4, 20),
             _row(100_000, 4, 100, "10:00:10"), _row(104_000, 4, 110, "10:00:10"),
             _row(108_000, 4, 120, "10:00:10")]
    spectra = parse_survey_lines(lines)
    assert len(spectra) == 2
    s = spectra[0]
    assert s.f_start_hz == 100_000 and s.n_bins == 12
    np.testing.assert_array_equal(s.power_db, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23])
    assert [h[0] for h in s.hop_t_ns] == [0, 4, 8]
    assert s.interpolated_bins == (2, 6, 10)
    assert spectra[1].t_start_ns - s.t_start_ns == 10 * 10**9


def test_hackrf_sweep_rows_out_of_order_with_own_times():
    # hackrf_sweep: exact bin counts, sub-second times, hops not in frequency order.
    head = "2024-05-01, 10:00:{t}, {lo}, {hi}, 1000000.00, 20, "
    lines = [
        head.format(t="00.250000", lo=2410000000, hi=2415000000) + "-70, -71, -72, -73, -74",
        head.format(t="00.100000", lo=2400000000, hi=2405000000) + "-50, -51, -52, -53, -54",
        head.format(t="00.300000", lo=2405000000, hi=2410000000) + "-60, -61, -62, -63, -64",
        head.format(t="01.100000", lo=2400000000, hi=2405000000) + "-55, -55, -55, -55, -55",
    ]
    spectra = parse_survey_lines(lines)
    assert len(spectra) == 2
    s = spectra[0]
    assert s.n_bins == 15
    np.testing.assert_array_equal(s.power_db[:5], [-50, -51, -52, -53, -54])
    np.testing.assert_array_equal(s.power_db[10:], [-70, -71, -72, -73, -74])
    assert s.interpolated_bins == ()
    assert s.t_start_ns == _ns(2024, 5, 1, 10, 0, 0) + 100_000_000
    assert s.t_end_ns == _ns(2024, 5, 1, 10, 0, 0) + 300_000_000
    assert dict(s.hop_t_ns)[10] == _ns(2024, 5, 1, 10, 0, 0) + 250_000_000


def test_gap_between_hops_is_nan():
    lines = [_row(100_000, 4, 0, extra=False), _row(110_000, 4, 10, extra=False)]
    s = parse_survey_lines(lines)[0]
    assert s.n_bins == 14
    assert np.isnan(s.power_db[4:10]).all()


def test_write_then_read_round_trip(tmp_path, real_data):
    survey = read_survey_csv(real_data / FM / "cocolo3.csv")
    out = write_survey_csv(tmp_path / "out.csv", survey.spectra[:20])
    back = read_survey_csv(out)
    assert len(back.spectra) == 20
    for a, b in zip(survey.spectra[:20], back.spectra, strict=True):
        np.testing.assert_allclose(a.power_db, b.power_db, atol=0.005)
        assert (a.f_start_hz, a.f_step_hz, a.t_start_ns, a.n_averages) == (
            b.f_start_hz, b.f_step_hz, b.t_start_ns, b.n_averages)
    # Same layout as rtl_power: 6 fields + 129 values.
    assert len(out.read_text().splitlines()[0].split(",")) == 135


def test_write_multi_hop_in_a_time_zone(tmp_path):
    spectrum = Spectrum(f_start_hz=88e6, f_step_hz=1e4, power_db=np.arange(8, dtype=np.float32),
                        power_unit="dBFS", rbw_hz=1e4, t_start_ns=_ns(2024, 1, 1, 0, 0, 0),
                        t_end_ns=_ns(2024, 1, 1, 0, 0, 1),
                        hop_t_ns=((0, _ns(2024, 1, 1, 0, 0, 0)), (4, _ns(2024, 1, 1, 0, 0, 1))))
    ict = timezone(timedelta(hours=7))
    out = write_survey_csv(tmp_path / "w.csv", [spectrum], tz=ict)
    lines = out.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("2024-01-01, 07:00:00, 88000000, 88040000, 10000.00, 1, ")
    back = read_survey_csv(out, tz=ict).spectra[0]
    np.testing.assert_array_equal(back.power_db, spectrum.power_db)
    assert back.hop_t_ns == spectrum.hop_t_ns


GOOD = _row(100_000, 4, -50.0)


@pytest.mark.parametrize(
    ("line", "field", "match"),
    [
        ("2024-05-01, 10:00:00, 100000", None, "7 columns"),
        (GOOD.replace("2024-05-01", "01/05/2024"), "date", "date"),
        (GOOD.replace("10:00:00", "25:00:00"), "time", "time"),
        (GOOD.replace(", 100000,", ", abc,", 1), "Hz low", "not a number"),
        (GOOD.replace(", 104000,", ", 90000,", 1), "Hz high", "exceed"),
        (GOOD.replace("1000.00", "0"), "Hz step", "> 0"),
        (GOOD.replace("1000.00", "3000.00"), "Hz step", "whole number"),
        (GOOD.replace(", 10, ", ", -3, ", 1), "samples", "whole number"),
        (GOOD.replace(", 10, ", ", inf, ", 1), "samples", "finite"),
        (GOOD + ", -1.0, -2.0", "dB", "expected 4"),
        (GOOD.replace("-48.00", "loud"), "dB", "not a number"),
        ("2024-05-01, 10:00:00, 1, 1e300, 1e-300, 1, 0", "Hz step", "too many bins"),
    ],
)
def test_malformed_lines_name_file_line_and_field(tmp_path, line, field, match):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "\n\n" + line + "\n")
    with pytest.raises(InputFormatError, match=match) as err:
        read_survey_csv(path)
    assert err.value.line == 3
    assert err.value.field == field
    assert str(path) in str(err.value)


def test_mixed_steps_in_one_sweep():
    lines = [_row(100_000, 4, 0), _row(104_000, 4, 0).replace("1000.00", "1000.00", 1)]
    lines[1] = ("2024-05-01, 10:00:00, 104000, 112000, 2000.00, 10, 1, 2, 3, 4, 4")
    with pytest.raises(InputFormatError, match="differ") as err:
        parse_survey_lines(lines, source="x.csv")
    assert err.value.line == 2


def test_empty_and_non_utf8_files(tmp_path):
    empty = tmp_path / "e.csv"
    empty.write_text("\n# nothing\n")
    with pytest.raises(InputFormatError, match="no data"):
        read_survey_csv(empty)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputFormatError, match="UTF-8"):
        read_survey_csv(binary)


def test_trailing_comma_and_crlf_are_tolerated():
    s = parse_survey_lines([GOOD + ",\r\n"])[0]
    assert s.n_bins == 4


_cell = st.one_of(
    st.text(alphabet="0123456789.-:eE ,naif", max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_cell, min_size=0, max_size=12).map(", ".join), max_size=6))
def test_random_rows_parse_or_raise_input_format_error(rows):
    try:
        spectra = parse_survey_lines(rows)
    except InputFormatError:
        return
    assert all(s.n_bins >= 1 for s in spectra)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD) - 1), st.text(max_size=5),
       st.integers(min_value=0, max_value=4))
def test_mutated_real_style_rows_never_crash(pos, insert, cut):
    line = GOOD[:pos] + insert + GOOD[pos + cut:]
    try:
        parse_survey_lines([GOOD, line])
    except InputFormatError as err:
        assert err.line in (1, 2)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text):
    try:
        parse_survey_lines(text.splitlines())
    except InputFormatError:
        pass
