"""Raw IQ files: scaling, real captures, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from dsp.errors import InputFormatError
from firmware_bridge.rawiq import (
    complex64_to_cu8,
    cu8_to_complex64,
    rates_from_filename,
    raw_to_complex64,
    read_raw_iq,
    write_raw_iq,
)

SKYLINK = "rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8"
RADIOHEAD = "rtl_433/radiohead_ask_03/g002_433.92M_250k.cu8"


def test_cu8_mapping_is_x_minus_127_5_over_128_for_every_byte():
    raw = np.repeat(np.arange(256, dtype=np.uint8), 2)
    c = cu8_to_complex64(raw)
    expected = (np.arange(256) - 127.5) / 128
    np.testing.assert_array_equal(c.real, expected.astype(np.float32))
    np.testing.assert_array_equal(c.imag, expected.astype(np.float32))
    assert c.real.min() >= -1 and c.real.max() < 1


def test_cu8_round_trip_is_exact():
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, 10_000, dtype=np.uint8)
    np.testing.assert_array_equal(complex64_to_cu8(cu8_to_complex64(raw)), raw)


def test_complex_to_cu8_clips():
    out = complex64_to_cu8(np.array([2 + 2j, -2 - 2j, 0j], dtype=np.complex64))
    assert out.tolist() == [255, 255, 0, 0, 128, 128]


@pytest.mark.parametrize(
    ("fmt", "components", "expected"),
    [
        ("cs8", np.array([127, -128], dtype=np.int8), 127 / 128 - 1j),
        ("cs16", np.array([16384, -32768], dtype="<i2"), 0.5 - 1j),
        ("ci16", np.array([-16384, 0], dtype="<i2"), -0.5 + 0j),
        ("cu16", np.array([65535, 0], dtype="<u2"), 32767.5 / 32768 - 32767.5j / 32768),
        ("cf32", np.array([0.25, -0.75], dtype="<f4"), 0.25 - 0.75j),
    ],
)
def test_other_formats_scale_to_full_scale_one(fmt, components, expected):
    c = raw_to_complex64(components, fmt)
    assert c.dtype == np.complex64
    assert c[0] == pytest.approx(expected, abs=1e-7)


def test_rtl433_file_names_give_centre_and_rate():
    assert rates_from_filename("g001_433.92M_250k.cu8") == (433.92e6, 250e3)
    assert rates_from_filename("/x/y/cap_1090M_2M.cu8") == (1090e6, 2e6)
    assert rates_from_filename("modes1.bin") == (None, None)


def test_real_rtl433_capture(real_data):
    rec = read_raw_iq(real_data / SKYLINK)
    assert rec.sample_rate_hz == 250e3
    assert rec.f_center_hz == 433.92e6
    assert rec.samples.dtype == np.complex64
    assert rec.samples.size == 262_144  # 524,288 bytes / 2 (PROVENANCE.md)
    # About 3 % of the bytes are at 0 or 255: the bursts clip the ADC.
    raw = np.fromfile(real_data / SKYLINK, dtype=np.uint8)
    assert 0.01 < np.mean((raw == 0) | (raw == 255)) < 0.06
    assert rec.overload
    # The OOK emitter sits near -107.4 kHz (PROVENANCE.md). If I and Q were swapped
    # the peak would be at +107 kHz: check the orientation with scipy's Welch PSD.
    f, p = signal.welch(rec.samples, fs=rec.sample_rate_hz, nperseg=4096,
                        return_onesided=False, scaling="spectrum")
    assert f[np.argmax(p)] == pytest.approx(-107.4e3, abs=1.5e3)


def test_radiohead_capture_emitter_offset(real_data):
    rec = read_raw_iq(real_data / RADIOHEAD)
    assert rec.samples.size == 131_072
    f, p = signal.welch(rec.samples, fs=rec.sample_rate_hz, nperseg=4096,
                        return_onesided=False, scaling="spectrum")
    assert f[np.argmax(p)] == pytest.approx(6.07e3, abs=1.5e3)


def test_dump1090_bin_needs_rate_and_freq(real_data):
    path = real_data / "dump1090/modes1.bin"
    with pytest.raises(InputFormatError, match="--rate") as err:
        read_raw_iq(path)
    assert err.value.field == "rate"
    assert str(path) in str(err.value)
    with pytest.raises(InputFormatError, match="--freq"):
        read_raw_iq(path, sample_rate_hz=2e6)
    rec = read_raw_iq(path, sample_rate_hz=2e6, f_center_hz=1090e6)
    assert rec.samples.size == 356_868


def test_urh_files(real_data):
    enocean = read_raw_iq(real_data / "urh/enocean.complex", sample_rate_hz=1e6,
                          f_center_hz=868.3e6)
    assert enocean.samples.size == 49_100
    assert not enocean.overload
    homematic = read_raw_iq(real_data / "urh/homematic.complex32s", sample_rate_hz=1e6,
                            f_center_hz=868.3e6)
    assert homematic.samples.size == 117_396
    assert np.abs(homematic.samples).max() <= np.sqrt(2)
    # The three enocean bursts (URH's own segmentation, PROVENANCE.md) stand well
    # above the gaps between them.
    power = np.abs(enocean.samples) ** 2
    assert power[2107:5432].mean() > 5 * power[8000:18000].mean()


def test_max_samples_and_explicit_time(tmp_path):
    path = tmp_path / "x.cf32"
    write_raw_iq(path, np.arange(10, dtype=np.complex64) / 10, "cf32")
    rec = read_raw_iq(path, sample_rate_hz=1e6, f_center_hz=1e8, max_samples=4,
                      t_start_ns=123)
    assert rec.samples.size == 4
    assert rec.t_start_ns == 123
    np.testing.assert_allclose(rec.samples, np.arange(4) / 10, atol=1e-7)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("odd.cu8", b"\x01\x02\x03", "whole number"),
        ("odd.cf32", b"\x00" * 12, "whole number"),
        ("empty.cu8", b"", "empty"),
        ("what.xyz", b"\x00\x00", "extension"),
    ],
)
def test_bad_raw_files(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFormatError, match=match) as err:
        read_raw_iq(path, sample_rate_hz=1e6, f_center_hz=1e8)
    assert str(path) in str(err.value)


def test_unknown_format_name():
    with pytest.raises(InputFormatError, match="unsupported"):
        raw_to_complex64(np.zeros(2, dtype=np.uint8), "cu12")
