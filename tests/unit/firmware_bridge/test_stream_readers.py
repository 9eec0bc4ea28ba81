"""Chunked readers (open_raw_iq, open_sigmf, open_recording) give what the loaders give.

Each stream is read in small chunks and compared with the whole-file readers
(read_raw_iq, read_sigmf), on generated files and on the real recordings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsp.errors import InputFormatError
from dsp.iq import u8_to_complex64
from firmware_bridge.rawiq import open_raw_iq, read_raw_iq
from firmware_bridge.recording import IQStream, SurveyRecording
from firmware_bridge.recordings import open_recording
from firmware_bridge.sigmf_io import open_sigmf, read_sigmf, write_sigmf

RATE, FC = 250e3, 433.92e6


def as_complex(chunks: list[np.ndarray]) -> np.ndarray:
    """Chunks (uint8 interleaved or complex64) -> one complex64 array."""
    parts = [u8_to_complex64(c) if c.dtype == np.uint8 else c for c in chunks]
    return np.concatenate(parts)


def random_components(fmt: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if fmt == "cu8":
        return rng.integers(0, 256, 2 * n).astype(np.uint8)
    if fmt == "cs8":
        return rng.integers(-128, 128, 2 * n).astype(np.int8)
    if fmt == "cs16":
        return rng.integers(-32768, 32768, 2 * n).astype("<i2")
    return rng.standard_normal(2 * n).astype("<f4")


@pytest.mark.parametrize("fmt", ["cu8", "cs8", "cs16", "cf32"])
def test_raw_stream_equals_loaded_file(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / f"x.{fmt}"
    random_components(fmt, 10_007, rng).tofile(path)
    whole = read_raw_iq(path, sample_rate_hz=RATE, f_center_hz=FC)
    s = open_raw_iq(path, sample_rate_hz=RATE, f_center_hz=FC)
    assert isinstance(s, IQStream)
    assert (s.n_samples, s.sample_rate_hz, s.f_center_hz, s.t_start_ns) == (
        10_007, RATE, FC, whole.t_start_ns)
    chunks = list(s.chunks(1000))
    assert len(chunks) == 11
    # 8-bit formats stay 8-bit (the uint8 path of the spectrum, the clipped count)
    assert chunks[0].dtype == (np.uint8 if fmt in ("cu8", "cs8") else np.complex64)
    got = as_complex(chunks)
    if fmt == "cs8":
        # cs8 lands on the offset-binary grid: x/128 + half an LSB of DC
        np.testing.assert_allclose(got - whole.samples, (0.5 + 0.5j) / 128, atol=1e-7)
    else:
        np.testing.assert_array_equal(got, whole.samples)
    # a bounded read of the first samples, again
    np.testing.assert_array_equal(as_complex(list(s.chunks(300, count=700))), got[:700])


def test_non_finite_cf32_is_one_clear_error(tmp_path: Path) -> None:
    x = np.ones(4000, dtype="<f4")
    x[2500] = np.nan
    path = tmp_path / "bad.cf32"
    x.tofile(path)
    s = open_raw_iq(path, sample_rate_hz=RATE, f_center_hz=FC)
    with pytest.raises(InputFormatError, match="NaN") as err:
        list(s.chunks(512))
    assert "bad.cf32" in str(err.value)


@pytest.mark.parametrize("datatype", ["cu8", "cf32_le"])
def test_sigmf_stream_equals_loaded_recording(tmp_path: Path, datatype: str) -> None:
    rng = np.random.default_rng(2)
    x = (0.3 * (rng.standard_normal(20_000) + 1j * rng.standard_normal(20_000))).astype(
        np.complex64)
    meta = write_sigmf(tmp_path / "rec.sigmf-meta", x, sample_rate_hz=RATE, f_center_hz=FC,
                       t_start_ns=1_700_000_000 * 10**9, datatype=datatype, receiver_id="r1")
    whole = read_sigmf(meta)
    s = open_sigmf(meta)
    assert isinstance(s, IQStream)
    assert (s.n_samples, s.sample_rate_hz, s.f_center_hz, s.t_start_ns, s.receiver_id) == (
        20_000, RATE, FC, whole.t_start_ns, "r1")
    chunks = list(s.chunks(3000))
    assert chunks[0].dtype == (np.uint8 if datatype == "cu8" else np.complex64)
    np.testing.assert_array_equal(as_complex(chunks), whole.samples)


def test_open_recording_streams_iq_and_loads_surveys(tmp_path: Path) -> None:
    path = tmp_path / "g_433.92M_250k.cu8"
    np.full(2000, 128, np.uint8).tofile(path)
    s = open_recording(path)
    assert isinstance(s, IQStream) and s.n_samples == 1000 and s.f_center_hz == 433.92e6
    csv = tmp_path / "s.csv"
    csv.write_text("2018-11-18, 12:31:45, 88000000, 88002000, 1000.00, 10, -40.0, -41.0\n")
    assert isinstance(open_recording(csv), SurveyRecording)
    with pytest.raises(InputFormatError):
        open_recording(tmp_path / "missing.cu8", rate_hz=RATE, f_center_hz=FC)


@pytest.mark.parametrize(
    ("rel", "kw"),
    [
        ("rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8", {}),
        ("dump1090/modes1.bin", {"rate_hz": 2e6, "f_center_hz": 1090e6}),
        ("urh/enocean.complex", {"rate_hz": 1e6, "f_center_hz": 868.3e6}),
        ("urh/homematic.complex32s", {"rate_hz": 1e6, "f_center_hz": 868.3e6}),
    ],
)
def test_real_recordings_stream_as_they_load(real_data: Path, rel: str, kw: dict) -> None:
    from firmware_bridge.recordings import load_recording

    path = real_data / rel
    whole = load_recording(path, **kw)
    s = open_recording(path, **kw)
    assert isinstance(s, IQStream)
    assert s.n_samples == whole.samples.size
    np.testing.assert_array_equal(as_complex(list(s.chunks(4096))), whole.samples)


def test_sigmf_stream_checks_the_dataset_hash(tmp_path: Path) -> None:
    x = np.zeros(5000, np.complex64)
    meta = write_sigmf(tmp_path / "h.sigmf-meta", x, sample_rate_hz=RATE, f_center_hz=FC,
                       t_start_ns=0, datatype="cu8")
    data = meta.with_suffix(".sigmf-data")
    raw = bytearray(data.read_bytes())
    raw[100] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(InputFormatError):
        open_sigmf(meta)
