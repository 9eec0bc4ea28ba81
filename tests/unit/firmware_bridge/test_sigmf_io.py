"""SigMF: read any complex recording, write ours, and sigmf itself must accept them."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sigmf
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.errors import InputFormatError
from dsp.types import Emission, GeoPosition
from firmware_bridge.rawiq import read_raw_iq
from firmware_bridge.sigmf_io import (
    EMISSION_KEYS,
    SigMFWriter,
    emission_from_annotation,
    ns_to_sigmf_datetime,
    read_sigmf,
    sigmf_datetime_to_ns,
    sigmf_paths,
    write_sigmf,
)

SKYLINK = "rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8"
T0_NS = 1_764_300_000_123_456_789


def _emission(f_hz: float, t0: int, **kw) -> Emission:
    values = dict(
        f_hz=f_hz, bw_99_hz=8e3, bw_xdb_hz=9.5e3, power_db=-31.5, peak_power_db=-25.25,
        snr_db=28.0, noise_floor_db=-60.0, power_unit="dBFS", f_resolution_hz=61.0,
        t_first_ns=t0 + 200_000_000, t_last_ns=t0 + 400_000_000, flags=("intermittent",),
        station_id="LS-01", receiver_id="rtlsdr:00000001",
    )
    values.update(kw)
    return Emission(**values)


def _sigmf_accepts(meta: Path) -> None:
    """sigmf's own checks: schema, sha512, no undeclared-extension warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        handle = sigmf.fromfile(str(meta))  # recomputes and compares core:sha512
        handle.validate()
    # and its command-line validator, as a user would run it
    validator = Path(sys.executable).with_name("sigmf_validate")
    done = subprocess.run([str(validator), str(meta)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_real_sigmf_logo_is_rejected_as_real_valued(real_data):
    with pytest.raises(InputFormatError, match="real-valued") as err:
        read_sigmf(real_data / "sigmf/sigmf_logo.sigmf-meta")
    assert err.value.field == "core:datatype"


def test_real_sigmf_logo_metadata_passes_validation_and_hash(real_data):
    # The file itself is fine SigMF (sha512 matches); only its datatype is not IQ.
    handle = sigmf.fromfile(str(real_data / "sigmf/sigmf_logo.sigmf-meta"))
    handle.validate()
    assert sigmf_datetime_to_ns(handle.get_captures()[0]["core:datetime"]) == (
        1_624_058_271_163_959_000
    )


@pytest.mark.parametrize("datatype", ["cu8", "cf32_le"])
def test_round_trip_of_a_real_capture_with_annotations(real_data, tmp_path, datatype):
    rec = read_raw_iq(real_data / SKYLINK, t_start_ns=T0_NS)
    emissions = [_emission(433.8126e6, T0_NS), _emission(433.9998e6, T0_NS, e_dbuv_m=41.5,
                                                         f_xdb_mid_hz=433.99985e6)]
    meta = write_sigmf(
        tmp_path / "cap.sigmf-meta", rec.samples, sample_rate_hz=rec.sample_rate_hz,
        f_center_hz=rec.f_center_hz, t_start_ns=rec.t_start_ns, annotations=emissions[::-1],
        description="Skylink PIR, Lạng Sơn test", hw="RTL-SDR v3 + whip", author="rfwatch",
        receiver_id="rtlsdr:00000001", station_id="LS-01", gain_db=20.7,
        position=GeoPosition(21.85, 106.76, 260.0), overload=rec.overload, datatype=datatype,
    )
    _sigmf_accepts(meta)
    back = read_sigmf(meta)
    # cu8 input maps back exactly in both datatypes.
    np.testing.assert_array_equal(back.samples, rec.samples)
    assert back.sample_rate_hz == rec.sample_rate_hz
    assert back.f_center_hz == rec.f_center_hz
    assert back.t_start_ns == T0_NS  # nanoseconds survive core:datetime
    assert back.overload
    assert back.gain_db == 20.7
    assert back.receiver_id == "rtlsdr:00000001"
    assert len(back.annotations) == 2
    first = back.annotations[0]
    assert first["core:sample_start"] == 50_000  # 0.2 s at 250 kS/s
    assert first["core:sample_count"] == 50_000
    assert first["core:freq_lower_edge"] == pytest.approx(433.8126e6 - 4e3)
    assert first["core:freq_upper_edge"] == pytest.approx(433.8126e6 + 4e3)
    assert len(first["core:label"]) <= 20
    measured = emission_from_annotation(back.annotations[1])
    assert measured["e_dbuv_m"] == 41.5
    assert measured["flags"] == ["intermittent"]
    assert set(measured) <= set(EMISSION_KEYS)
    stored = json.loads(meta.read_text())
    assert stored["global"]["core:geolocation"]["coordinates"] == [106.76, 21.85, 260.0]
    assert stored["global"]["core:extensions"] == [
        {"name": "rfwatch", "version": "0.1.0", "optional": True}
    ]


def test_cf32_is_lossless_for_complex_input(tmp_path):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(4096) + 1j * rng.standard_normal(4096)).astype(np.complex64) / 8
    meta = write_sigmf(tmp_path / "n", x, sample_rate_hz=2.4e6, f_center_hz=98.5e6,
                       t_start_ns=T0_NS)
    assert meta.name == "n.sigmf-meta"
    _sigmf_accepts(meta)
    back = read_sigmf(tmp_path / "n.sigmf-data")  # either file of the pair works
    np.testing.assert_array_equal(back.samples, x)
    assert back.annotations == ()


def test_streaming_writer_takes_blocks_and_keeps_the_first_time(tmp_path):
    from dsp.types import IQBlock

    with SigMFWriter(tmp_path / "s.sigmf-meta", sample_rate_hz=1e6, f_center_hz=1e8,
                     datatype="cu8") as w:
        for k in range(3):
            raw = np.full(2000, 100 + k, dtype=np.uint8)
            w.write_block(IQBlock(raw, 1e8, 1e6, None, T0_NS + k * 1_000_000, "t"))
    _sigmf_accepts(w.meta_path)
    back = read_sigmf(w.meta_path)
    assert back.samples.size == 3000
    assert back.t_start_ns == T0_NS
    assert not back.overload
    assert back.samples[2500].real == pytest.approx((102 - 127.5) / 128)


def test_writer_refuses_to_overwrite(tmp_path):
    x = np.zeros(16, dtype=np.complex64)
    write_sigmf(tmp_path / "a.sigmf-meta", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=0)
    with pytest.raises(InputFormatError, match="exists"):
        write_sigmf(tmp_path / "a.sigmf-meta", x, sample_rate_hz=1e6, f_center_hz=1e8,
                    t_start_ns=0)
    write_sigmf(tmp_path / "a.sigmf-meta", x, sample_rate_hz=1e6, f_center_hz=1e8,
                t_start_ns=0, overwrite=True)


def _foreign(tmp_path: Path, datatype: str, data: np.ndarray, **capture) -> Path:
    """A recording written by sigmf-python itself, not by us."""
    data_path = tmp_path / "foreign.sigmf-data"
    data.tofile(data_path)
    handle = sigmf.SigMFFile(
        data_file=str(data_path),
        global_info={"core:datatype": datatype, "core:sample_rate": 48000,
                     "core:version": sigmf.__specification__},
    )
    handle.add_capture(0, metadata=capture)
    handle.tofile(str(tmp_path / "foreign"))
    return tmp_path / "foreign.sigmf-meta"


@pytest.mark.parametrize(
    ("datatype", "components", "expected"),
    [
        ("ci16_le", np.array([16384, -32768, 0, 32767], dtype="<i2"),
         [0.5 - 1j, 32767j / 32768]),
        ("ci8", np.array([64, -128, -1, 127], dtype=np.int8), [0.5 - 1j, -1 / 128 + 127j / 128]),
        ("cu8", np.array([255, 0, 128, 127], dtype=np.uint8),
         [127.5 / 128 - 127.5j / 128, 0.5 / 128 - 0.5j / 128]),
        ("cf32_le", np.array([0.1, 0.2, -0.3, 0.4], dtype="<f4"), [0.1 + 0.2j, -0.3 + 0.4j]),
    ],
)
def test_reads_foreign_datatypes_with_our_scaling(tmp_path, datatype, components, expected):
    meta = _foreign(tmp_path, datatype, components, **{"core:frequency": 433.92e6})
    rec = read_sigmf(meta)
    np.testing.assert_allclose(rec.samples, np.array(expected, dtype=np.complex64), atol=1e-7)
    assert rec.t_start_ns == 0


def test_missing_frequency_needs_freq(tmp_path):
    meta = _foreign(tmp_path, "cf32_le", np.zeros(8, dtype="<f4"))
    with pytest.raises(InputFormatError, match="--freq") as err:
        read_sigmf(meta)
    assert err.value.field == "core:frequency"
    assert read_sigmf(meta, f_center_hz=868.3e6).f_center_hz == 868.3e6


def test_tampered_data_fails_the_sha512(tmp_path):
    x = np.ones(64, dtype=np.complex64) * 0.5
    meta = write_sigmf(tmp_path / "t", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=0)
    data = sigmf_paths(meta)[1]
    raw = bytearray(data.read_bytes())
    raw[10] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(InputFormatError, match="hash"):
        read_sigmf(meta)
    assert read_sigmf(meta, skip_checksum=True).samples.size == 64


def test_broken_json_names_the_line(tmp_path):
    x = np.ones(8, dtype=np.complex64)
    meta = write_sigmf(tmp_path / "j", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=0)
    lines = meta.read_text().splitlines()
    lines[3] = lines[3] + " oops"
    meta.write_text("\n".join(lines))
    with pytest.raises(InputFormatError) as err:
        read_sigmf(meta)
    assert err.value.line == 4


def test_schema_violation_names_the_field(tmp_path):
    x = np.ones(8, dtype=np.complex64)
    meta = write_sigmf(tmp_path / "s", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=0)
    doc = json.loads(meta.read_text())
    doc["captures"][0]["core:frequency"] = "433 MHz"
    meta.write_text(json.dumps(doc))
    with pytest.raises(InputFormatError, match="schema") as err:
        read_sigmf(meta)
    assert "core:frequency" in str(err.value.field)


def test_missing_data_file(tmp_path):
    x = np.ones(8, dtype=np.complex64)
    meta = write_sigmf(tmp_path / "m", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=0)
    sigmf_paths(meta)[1].unlink()
    with pytest.raises(InputFormatError):
        read_sigmf(meta)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=4_102_444_800 * 10**9 - 1))
def test_datetime_round_trips_to_the_nanosecond(t_ns):
    text = ns_to_sigmf_datetime(t_ns)
    assert text.endswith("Z")
    assert sigmf_datetime_to_ns(text) == t_ns


@pytest.mark.parametrize("text", ["2021-06-18", "yesterday", "2021-13-40T00:00:00Z", ""])
def test_bad_datetimes(text):
    with pytest.raises(InputFormatError, match="core:datetime"):
        sigmf_datetime_to_ns(text)


def test_datetime_with_offset_is_converted_to_utc():
    assert sigmf_datetime_to_ns("2021-06-18T23:17:51.5+07:00") == sigmf_datetime_to_ns(
        "2021-06-18T16:17:51.5Z"
    )


def test_reads_a_sigmf_archive(tmp_path):
    from firmware_bridge.recordings import load_recording

    x = (np.arange(256) / 512).astype(np.complex64)
    meta = write_sigmf(tmp_path / "a", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=T0_NS)
    archive = tmp_path / "a_copy.sigmf"
    sigmf.fromfile(str(meta)).tofile(str(archive))
    rec = load_recording(archive)
    np.testing.assert_array_equal(rec.samples, x)
    assert rec.t_start_ns == T0_NS


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8),
                                                                      children, max_size=3),
    max_leaves=6,
)
_KEYS = [("global", "core:datatype"), ("global", "core:sample_rate"), ("global", "core:version"),
         ("global", "core:num_channels"), ("global", "core:extensions"), ("global", None),
         ("captures", None), ("annotations", None), ("captures", 0), (None, None)]


@pytest.mark.filterwarnings("ignore:Data source does not contain:UserWarning")
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_KEYS), _json), min_size=1, max_size=3))
def test_mangled_metadata_is_an_input_format_error_or_reads(tmp_path_factory, edits):
    base = tmp_path_factory.mktemp("fuzz")
    x = np.ones(8, dtype=np.complex64)
    meta = write_sigmf(base / "f", x, sample_rate_hz=1e6, f_center_hz=1e8, t_start_ns=0)
    doc = json.loads(meta.read_text())
    for (section, key), value in edits:
        if section is None:
            doc = value
        elif not isinstance(doc, dict):
            break
        elif key is None:
            doc[section] = value
        elif key == 0 and isinstance(doc.get(section), list) and doc[section]:
            doc[section][0] = value
        elif isinstance(doc.get(section), dict):
            doc[section][key] = value
    meta.write_text(json.dumps(doc))
    try:
        rec = read_sigmf(meta)
    except InputFormatError:
        return
    assert rec.samples.dtype == np.complex64
