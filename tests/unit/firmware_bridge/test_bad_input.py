"""Values checked where they enter: readers refuse what the analysis cannot use.

Issue 9, "bad input": sample rates like 1e-300, SigMF ``core:frequency`` of 0 or
below, ``core:sample_start`` past the data, deeply nested JSON, NaN/Inf samples and
dB values. Each reader raises :class:`InputFormatError` naming the file and the
field; the parsers that take free input are fuzzed with hypothesis.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsp.errors import InputFormatError
from firmware_bridge.rawiq import raw_to_complex64, read_raw_iq
from firmware_bridge.sigmf_io import MAX_JSON_DEPTH, read_sigmf
from firmware_bridge.survey_csv import parse_survey_lines
from firmware_bridge.units import (
    SAMPLE_RATE_MAX_HZ,
    SAMPLE_RATE_MIN_HZ,
    check_rf_centre_hz,
    check_sample_rate_hz,
)

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, -1, 1e-300, 1e300, 2.4e6, 100e6, 1, 0.5]),
)


@given(NUMBERS)
def test_sample_rate_is_finite_and_in_range_or_refused(value):
    try:
        rate = check_sample_rate_hz(value, source="f.sigmf-meta", field="core:sample_rate")
    except InputFormatError as err:
        assert "f.sigmf-meta" in str(err) and "core:sample_rate" in str(err)
        assert not (math.isfinite(value) and SAMPLE_RATE_MIN_HZ <= value <= SAMPLE_RATE_MAX_HZ)
    else:
        assert math.isfinite(rate) and SAMPLE_RATE_MIN_HZ <= rate <= SAMPLE_RATE_MAX_HZ


@given(NUMBERS, st.floats(1.0, 1e9))
def test_centre_frequency_keeps_the_span_above_zero_or_is_refused(value, rate):
    try:
        f_hz = check_rf_centre_hz(value, rate, source="x.cu8", field="freq")
    except InputFormatError as err:
        assert "x.cu8" in str(err) and "'freq'" in str(err)
    else:
        assert math.isfinite(f_hz) and f_hz > 0 and f_hz - rate / 2 >= 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fmt", ["cf32", "cf64"])
def test_non_finite_float_samples_are_refused_with_their_index(bad, fmt):
    comps = np.zeros(200, dtype=np.float32 if fmt == "cf32" else np.float64)
    comps[151] = bad  # the Q of sample 75
    with pytest.raises(InputFormatError, match="sample 1075 ") as err:
        raw_to_complex64(comps, fmt, source="a.cf32", first_sample=1000)
    assert "a.cf32" in str(err.value) and "'samples'" in str(err.value)


def test_cf64_beyond_complex64_is_refused():
    with pytest.raises(InputFormatError, match="not finite"):
        raw_to_complex64(np.array([1e300, 0.0]), "cf64")


def test_raw_reader_checks_rate_and_frequency(tmp_path):
    path = tmp_path / "x.cu8"
    np.full(2000, 128, np.uint8).tofile(path)
    with pytest.raises(InputFormatError, match="rate") as err:
        read_raw_iq(path, sample_rate_hz=1e-300, f_center_hz=100e6)
    assert str(path) in str(err.value)
    with pytest.raises(InputFormatError, match="'freq'"):
        read_raw_iq(path, sample_rate_hz=2.4e6, f_center_hz=-5.0)
    with pytest.raises(InputFormatError, match="below 0 Hz"):
        read_raw_iq(path, sample_rate_hz=2.4e6, f_center_hz=1e6)
    rec = read_raw_iq(path, sample_rate_hz=2.4e6, f_center_hz=1.2e6)  # span from 0 Hz
    assert rec.f_center_hz == 1.2e6


def _write_sigmf(tmp: Path, doc: dict, n_samples: int = 1000) -> Path:
    meta = tmp / "rec.sigmf-meta"
    meta.write_text(json.dumps(doc))
    np.full(2 * n_samples, 128, np.uint8).tofile(tmp / "rec.sigmf-data")
    return meta


def _doc(rate: object = 2.4e6, freq: object = 100e6, start: object = 0) -> dict:
    return {"global": {"core:datatype": "cu8", "core:sample_rate": rate,
                       "core:version": "1.0.0"},
            "captures": [{"core:sample_start": start, "core:frequency": freq}],
            "annotations": []}


@FUZZ
@given(rate=NUMBERS, freq=NUMBERS, start=st.integers(0, 3000))
def test_sigmf_values_are_checked_where_they_enter(tmp_path, rate, freq, start):
    if isinstance(rate, float) and not math.isfinite(rate) or (
            isinstance(freq, float) and not math.isfinite(freq)):
        return  # JSON has no NaN/Inf (json.dumps would write non-standard tokens)
    meta = _write_sigmf(tmp_path, _doc(rate, freq, start))
    try:
        rec = read_sigmf(meta)
    except InputFormatError as err:
        text = str(err)
        assert str(meta) in text or "rec.sigmf" in text
        assert any(k in text for k in ("core:sample_rate", "core:frequency",
                                       "core:sample_start", "schema")), text
    else:
        assert SAMPLE_RATE_MIN_HZ <= rec.sample_rate_hz <= SAMPLE_RATE_MAX_HZ
        assert rec.f_center_hz - rec.sample_rate_hz / 2 >= 0
        assert start < 1000


def test_sigmf_sample_start_past_the_data(tmp_path):
    meta = _write_sigmf(tmp_path, _doc(start=1000), n_samples=1000)
    with pytest.raises(InputFormatError, match=r"captures\[0\].core:sample_start"):
        read_sigmf(meta)
    meta = _write_sigmf(tmp_path, _doc(start=999), n_samples=1000)
    assert read_sigmf(meta).samples.size == 1000


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 200_000])
def test_deeply_nested_sigmf_json_is_refused(tmp_path, depth):
    meta = tmp_path / "rec.sigmf-meta"
    doc = json.dumps(_doc())
    nested = "[" * depth + "]" * depth
    version = '"core:version": "1.0.0"'
    meta.write_text(doc.replace(version, f'{version}, "x": {nested}'))
    np.full(2000, 128, np.uint8).tofile(tmp_path / "rec.sigmf-data")
    with pytest.raises(InputFormatError, match="nested") as err:
        read_sigmf(meta)
    assert str(meta) in str(err.value)


def test_nesting_at_the_limit_is_read(tmp_path):
    meta = tmp_path / "rec.sigmf-meta"
    depth = MAX_JSON_DEPTH - 3  # the document and "global" are two levels, "x" one more
    doc = _doc()
    doc["global"]["x"] = json.loads("[" * depth + "]" * depth)
    meta.write_text(json.dumps(doc))
    np.full(2000, 128, np.uint8).tofile(tmp_path / "rec.sigmf-data")
    assert read_sigmf(meta).samples.size == 1000


ROW = "2018-11-18, 12:31:45, 88050000, 88050800, 100, 10, "


@FUZZ
@given(st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-inf", "inf", "NaN", "1e999", "-1e40", "-28.5", "x", ""]),
), min_size=8, max_size=9))
def test_survey_dB_values_are_finite_or_the_line_is_refused(values):
    line = ROW + ", ".join(values)
    try:
        spectra = parse_survey_lines([line], source="s.csv")
    except InputFormatError as err:
        assert "s.csv" in str(err) and "line 1" in str(err)
    else:
        assert np.isfinite(spectra[0].power_db).all()


@FUZZ
@given(st.text(max_size=300))
def test_survey_parser_takes_any_text(text):
    try:
        spectra = parse_survey_lines(text.splitlines(), source="s.csv")
    except InputFormatError as err:
        assert "s.csv" in str(err)
    else:
        for s in spectra:
            measured = s.power_db[np.isfinite(s.power_db)]
            assert measured.size > 0 and np.all(np.abs(measured) < 1e30)


def test_deeply_nested_json_in_a_sigmf_archive(tmp_path):
    import tarfile

    folder = tmp_path / "rec"
    folder.mkdir()
    nested = "[" * 100_000 + "]" * 100_000
    version = '"core:version": "1.0.0"'
    (folder / "rec.sigmf-meta").write_text(
        json.dumps(_doc()).replace(version, f'{version}, "x": {nested}'))
    np.full(2000, 128, np.uint8).tofile(folder / "rec.sigmf-data")
    archive = tmp_path / "rec.sigmf"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname="rec")
    with pytest.raises(InputFormatError) as err:
        read_sigmf(archive)
    assert str(archive) in str(err.value)
