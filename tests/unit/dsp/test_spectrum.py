"""Welch spectra: exact answers, scipy.signal.welch as the independent reference."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.iq import overload_fraction, u8_to_complex64
from dsp.spectrum import (
    POWER_FLOOR_DB,
    band_power_db,
    psd_db_hz,
    spectrum_from_block,
    welch_spectrum,
)
from dsp.types import IQBlock
from dsp.windows import WINDOW_NAMES, enbw_bins, window

RATE = 2.048e6
FC = 433.92e6


def _noise(n: int, sigma2: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = math.sqrt(sigma2 / 2)
    return (rng.normal(0, s, n) + 1j * rng.normal(0, s, n)).astype(np.complex64)


def _to_u8(x: np.ndarray) -> np.ndarray:
    iq = np.empty(2 * x.size)
    iq[0::2], iq[1::2] = x.real, x.imag
    return np.clip(np.round(iq * 128 + 127.5), 0, 255).astype(np.uint8)


def _scipy_db(x: np.ndarray, n: int, noverlap: int, name: str = "hann") -> np.ndarray:
    scipy_name = "boxcar" if name == "rect" else name
    _, p = scipy.signal.welch(
        x.astype(np.complex128),
        fs=RATE,
        window=scipy_name,
        nperseg=n,
        noverlap=noverlap,
        detrend=False,
        return_onesided=False,
        scaling="spectrum",
    )
    return 10 * np.log10(np.fft.fftshift(p))


@pytest.mark.parametrize("name", WINDOW_NAMES)
@pytest.mark.parametrize(("k", "amp"), [(64, 1.0), (-200, 0.1), (1, 0.5)])
def test_tone_on_a_bin_reads_its_power(name: str, k: int, amp: float) -> None:
    n = 1024
    t = np.arange(16 * n)
    x = (amp * np.exp(2j * np.pi * k * t / n)).astype(np.complex64)
    s = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n, window=name)
    peak = int(np.argmax(s.power_db))
    assert s.f_hz()[peak] == pytest.approx(FC + k * RATE / n, abs=1e-3)
    # remove_dc is on by default: a tone one bin from DC must survive it (it loses a
    # little through the tapered ends of the weighted mean: 0.002 dB over 31 frames).
    tol = 5e-3 if abs(k) == 1 else 2e-4
    assert float(s.power_db[peak]) == pytest.approx(20 * math.log10(amp), abs=tol)


def test_uint8_tone_reads_its_power() -> None:
    n = 2048
    t = np.arange(40 * n)
    x = 0.5 * np.exp(2j * np.pi * 300 * t / n)
    s = welch_spectrum(_to_u8(x), sample_rate_hz=RATE, f_center_hz=FC, fft_size=n)
    assert float(s.power_db.max()) == pytest.approx(20 * math.log10(0.5), abs=0.02)
    assert s.power_db.dtype == np.float32


@pytest.mark.parametrize("name", ["hann", "rect", "flattop"])
def test_white_noise_level_psd_and_band_power(name: str) -> None:
    sigma2 = 0.01  # -20 dBFS total
    n = 512
    x = _noise(n * 400, sigma2, seed=7)
    s = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n, window=name)
    w = window(name, n)
    expected_bin = sigma2 * enbw_bins(w) / n
    mean_lin = np.mean(10 ** (s.power_db.astype(np.float64) / 10))
    # ~800 averages x 512 bins: the mean is good to well under 1 %.
    assert 10 * math.log10(mean_lin) == pytest.approx(10 * math.log10(expected_bin), abs=0.05)
    psd = psd_db_hz(s)
    assert psd.dtype == np.float32
    mean_psd = 10 * math.log10(np.mean(10 ** (psd.astype(np.float64) / 10)))
    assert mean_psd == pytest.approx(10 * math.log10(sigma2 / RATE), abs=0.05)
    total = band_power_db(s, s.f_start_hz, s.f_stop_hz)
    assert total == pytest.approx(-20.0, abs=0.05)
    assert s.rbw_hz == pytest.approx(enbw_bins(w) * RATE / n, rel=1e-12)


@pytest.mark.parametrize(("n", "overlap"), [(1024, 0.5), (2048, 0.5), (256, 0.75), (64, 0.0)])
@pytest.mark.parametrize("name", ["hann", "blackmanharris", "rect"])
def test_matches_scipy_welch_on_complex64(n: int, overlap: float, name: str) -> None:
    t = np.arange(n * 20)
    x = _noise(t.size, 0.02, seed=n) + 0.3 * np.exp(2j * np.pi * 0.123 * t) + (0.05 + 0.02j)
    x = x.astype(np.complex64)
    s = welch_spectrum(
        x,
        sample_rate_hz=RATE,
        f_center_hz=FC,
        fft_size=n,
        window=name,
        overlap=overlap,
        remove_dc=False,
    )
    ref = _scipy_db(x, n, int(round(overlap * n)), name)
    np.testing.assert_allclose(s.power_db, ref, atol=0.01, rtol=0)


@pytest.mark.parametrize("n", [1024, 2048])
def test_matches_scipy_welch_on_uint8(n: int) -> None:
    t = np.arange(n * 30)
    x = 0.4 * np.exp(-2j * np.pi * 0.31 * t) + _noise(t.size, 0.003, seed=1) + (0.1 - 0.03j)
    raw = _to_u8(x)
    s = welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n, remove_dc=False)
    ref = _scipy_db(u8_to_complex64(raw), n, n // 2)
    np.testing.assert_allclose(s.power_db, ref, atol=0.01, rtol=0)
    # The strong DC offset is really there without DC removal.
    assert s.power_db[n // 2] > float(np.median(s.power_db)) + 30


def test_dc_removal_equals_subtracting_the_window_weighted_mean() -> None:
    n, step = 1024, 512
    t = np.arange(n * 25)
    x = _noise(t.size, 0.003, seed=2) + 0.2 * np.exp(2j * np.pi * 3 * t / n)
    raw = _to_u8(x + (0.15 + 0.1j))
    xc = u8_to_complex64(raw)
    s = welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n)
    w = window("hann", n)
    frames = (xc.size - n) // step + 1
    c = sum(np.sum(xc[i * step : i * step + n] * w) for i in range(frames)) / (frames * w.sum())
    ref = _scipy_db(xc - c, n, step)
    np.testing.assert_allclose(s.power_db, ref, atol=0.01, rtol=0)
    floor = float(np.median(s.power_db))
    assert abs(float(s.power_db[n // 2]) - floor) < 10  # DC bin back to noise level


def test_n_averages_uses_the_first_frames() -> None:
    n = 256
    x = _noise(n * 50, 0.01, seed=5)
    s = welch_spectrum(
        x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n, n_averages=10, remove_dc=False
    )
    assert s.n_averages == 10
    used = n + 9 * (n // 2)
    np.testing.assert_allclose(s.power_db, _scipy_db(x[:used], n, n // 2), atol=0.01)
    assert s.t_end_ns - s.t_start_ns == round(used * 1e9 / RATE)
    assert welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n).n_averages == 99
    with pytest.raises(
        ValueError, match=r"n_averages=100 needs 12928 samples; samples holds 12800"
    ):
        welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n, n_averages=100)


def test_grid_metadata_and_calibration() -> None:
    n = 1024
    x = _noise(n * 8, 0.01, seed=6)
    s = welch_spectrum(
        x,
        sample_rate_hz=RATE,
        f_center_hz=FC,
        fft_size=n,
        t_start_ns=1_700_000_000_000_000_000,
        station_id="LS01",
        receiver_id="rtlsdr:1",
    )
    assert s.f_start_hz == FC - RATE / 2
    assert s.f_step_hz == RATE / n
    assert s.n_bins == n and s.power_unit == "dBFS" and not s.calibrated
    assert s.f_hz()[n // 2] == FC
    assert (s.station_id, s.receiver_id, s.window) == ("LS01", "rtlsdr:1", "hann")
    assert s.n_averages == 15
    c = welch_spectrum(
        x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n, calibration_offset_db=-72.5
    )
    assert c.power_unit == "dBm" and c.calibrated
    np.testing.assert_allclose(c.power_db, s.power_db - 72.5, atol=1e-4)


def test_input_dtypes_agree_and_output_is_float32() -> None:
    x = _noise(4096, 0.05, seed=8)
    a = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=512)
    b = welch_spectrum(x.astype(np.complex128), sample_rate_hz=RATE, f_center_hz=FC, fft_size=512)
    assert a.power_db.dtype == b.power_db.dtype == np.float32
    np.testing.assert_allclose(a.power_db, b.power_db, atol=1e-3)


def test_silence_reads_the_floor_not_minus_infinity() -> None:
    raw = np.full(4096, 128, dtype=np.uint8)  # constant: all DC
    s = welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=256)
    assert np.all(np.isfinite(s.power_db))
    assert float(s.power_db.max()) < -100
    z = welch_spectrum(
        np.zeros(1024, np.complex64),
        sample_rate_hz=RATE,
        f_center_hz=FC,
        fft_size=256,
        remove_dc=False,
    )
    assert np.all(z.power_db == np.float32(POWER_FLOOR_DB))


def test_repeated_and_concurrent_calls_give_identical_results() -> None:
    inputs = [_to_u8(_noise(2048 * 60, 0.01, seed=s)) for s in range(6)]

    def run(raw: np.ndarray) -> np.ndarray:
        return welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=2048).power_db

    serial = [run(r) for r in inputs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(pool.map(run, inputs))
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(run(inputs[0]), serial[0])


def test_spectrum_from_block_takes_the_blocks_metadata() -> None:
    raw = _to_u8(_noise(8192, 0.01, seed=9))
    block = IQBlock(raw, 98.5e6, 2.4e6, 29.7, 1_700_000_000_123_456_789, "rtlsdr:7", overload=True)
    s = spectrum_from_block(block, fft_size=512, station_id="LS02")
    assert s.f_start_hz == 98.5e6 - 1.2e6
    assert s.t_start_ns == block.t_start_ns and s.receiver_id == "rtlsdr:7"
    assert s.station_id == "LS02" and s.overload
    with pytest.raises(TypeError, match="sample_rate_hz comes from the block"):
        spectrum_from_block(block, sample_rate_hz=1e6)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (
            {"samples": np.zeros(100, np.complex64)},
            ValueError,
            "samples holds 100 complex samples, fewer than fft_size=1024",
        ),
        ({"samples": np.zeros(0, np.complex64)}, ValueError, "samples holds 0 complex samples"),
        ({"samples": np.zeros(4097, np.uint8)}, ValueError, "must have an even length"),
        ({"samples": np.zeros(4096, np.float32)}, TypeError, "samples must be uint8"),
        ({"samples": np.zeros((2, 2048), np.complex64)}, ValueError, "samples must be 1-D"),
        ({"fft_size": 1023}, ValueError, "fft_size must be an even integer"),
        ({"fft_size": 2.0}, TypeError, "fft_size must be an integer"),
        ({"overlap": 1.0}, ValueError, r"overlap must be in \[0, 1\)"),
        ({"window": "kaiser"}, ValueError, "window must be one of"),
        ({"sample_rate_hz": 0.0}, ValueError, "sample_rate_hz must be positive"),
        ({"f_center_hz": math.nan}, ValueError, "f_center_hz must be finite"),
        ({"n_averages": 0}, ValueError, "n_averages must be >= 1"),
        ({"calibration_offset_db": math.inf}, ValueError, "calibration_offset_db must be"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, exc: type, match: str) -> None:
    args = {"samples": np.zeros(8192, np.complex64), "sample_rate_hz": RATE, "f_center_hz": FC}
    args.update(kwargs)
    samples = args.pop("samples")
    with pytest.raises(exc, match=match):
        welch_spectrum(samples, **args)


def test_band_power_of_a_tone_and_errors() -> None:
    n = 1024
    t = np.arange(n * 10)
    x = (0.1 * np.exp(2j * np.pi * 100.37 * t / n)).astype(np.complex64)  # off-bin
    s = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=n)
    f_tone = FC + 100.37 * RATE / n
    # Integrating the main lobe recovers the tone's power, scalloping or not.
    assert band_power_db(s, f_tone - 20 * s.f_step_hz, f_tone + 20 * s.f_step_hz) == pytest.approx(
        -20.0, abs=0.02
    )
    with pytest.raises(ValueError, match="no bin centre"):
        band_power_db(s, FC + 0.1, FC + 0.2)
    with pytest.raises(ValueError, match="f_high_hz"):
        band_power_db(s, FC + 10, FC)


def test_read_only_and_strided_inputs_give_the_same_spectrum() -> None:
    raw = _to_u8(_noise(4096, 0.01, seed=10))
    ref = welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=256).power_db
    frozen = raw.copy()
    frozen.flags.writeable = False
    got = welch_spectrum(frozen, sample_rate_hz=RATE, f_center_hz=FC, fft_size=256).power_db
    np.testing.assert_array_equal(got, ref)
    x = _noise(8192, 0.01, seed=11)
    strided = welch_spectrum(x[::2], sample_rate_hz=RATE, f_center_hz=FC, fft_size=256)
    copied = welch_spectrum(x[::2].copy(), sample_rate_hz=RATE, f_center_hz=FC, fft_size=256)
    np.testing.assert_array_equal(strided.power_db, copied.power_db)


# Real RTL-SDR captures (../shared/data/real, see its PROVENANCE.md), read in place.
REAL_CU8 = [
    # (file, fc, fs, where PROVENANCE.md says the emitter is, Hz from centre)
    ("rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8", 433.92e6, 250e3, -107.4e3),
    ("rtl_433/radiohead_ask_03/g002_433.92M_250k.cu8", 433.92e6, 250e3, 6.07e3),
    ("dump1090/modes1.bin", 1090e6, 2e6, -66e3),
]


@pytest.mark.parametrize(("name", "fc", "fs", "offset_hz"), REAL_CU8)
def test_real_capture_matches_scipy_and_its_provenance(
    real_data: Path, name: str, fc: float, fs: float, offset_hz: float
) -> None:
    raw = np.fromfile(real_data / name, dtype=np.uint8)
    s = welch_spectrum(raw, sample_rate_hz=fs, f_center_hz=fc, fft_size=1024, remove_dc=False)
    _, p = scipy.signal.welch(
        u8_to_complex64(raw).astype(np.complex128),
        nperseg=1024,
        noverlap=512,
        detrend=False,
        return_onesided=False,
        scaling="spectrum",
    )
    np.testing.assert_allclose(s.power_db, 10 * np.log10(np.fft.fftshift(p)), atol=0.01)
    # The strongest bin away from DC is the emitter PROVENANCE.md describes.
    d = welch_spectrum(raw, sample_rate_hz=fs, f_center_hz=fc, fft_size=1024)
    away = np.abs(d.f_hz() - fc) > 3 * d.f_step_hz
    k = int(np.flatnonzero(away)[np.argmax(d.power_db[away])])
    assert d.f_hz()[k] - fc == pytest.approx(offset_hz, abs=2 * d.f_step_hz)
    assert float(d.power_db[k]) > float(np.median(d.power_db)) + 20


def test_real_capture_overload_fraction(real_data: Path) -> None:
    # PROVENANCE.md: about 3 % (skylink) and 10 % (radiohead) of the bytes sit at 0 or 255.
    for name, byte_fraction in [
        ("rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8", 0.03),
        ("rtl_433/radiohead_ask_03/g002_433.92M_250k.cu8", 0.10),
    ]:
        raw = np.fromfile(real_data / name, dtype=np.uint8)
        bytes_on_rail = float(np.mean((raw == 0) | (raw == 255)))
        assert bytes_on_rail == pytest.approx(byte_fraction, abs=0.01)
        # A sample counts once whether its I, its Q or both clip.
        frac = overload_fraction(raw)
        assert bytes_on_rail <= frac <= 2 * bytes_on_rail


@settings(max_examples=60, deadline=None)
@given(
    half_n=st.integers(2, 256),
    overlap=st.sampled_from([0.0, 0.25, 0.5, 0.75]),
    name=st.sampled_from(WINDOW_NAMES),
    extra=st.integers(0, 3000),
    seed=st.integers(0, 2**32 - 1),
)
def test_parseval_total_power_is_the_window_weighted_mean_power(
    half_n: int, overlap: float, name: str, extra: int, seed: int
) -> None:
    """Summed over all bins and divided by the ENBW, the spectrum is
    sum|x w|^2 / sum w^2 averaged over the frames (Parseval), for any input."""
    n = 2 * half_n
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n + extra) + 1j * rng.standard_normal(n + extra)) * rng.uniform(
        0.01, 1.0
    )
    x = x.astype(np.complex64)
    s = welch_spectrum(
        x,
        sample_rate_hz=1e6,
        f_center_hz=0.0,
        fft_size=n,
        window=name,
        overlap=overlap,
        remove_dc=False,
    )
    w = window(name, n)
    step = n - int(round(overlap * n))
    frames = [x[i * step : i * step + n].astype(np.complex128) for i in range(s.n_averages)]
    assert s.n_averages == (x.size - n) // step + 1
    expected = np.mean([np.sum(np.abs(f * w) ** 2) / np.sum(w**2) for f in frames])
    total = band_power_db(s, s.f_start_hz, s.f_stop_hz)
    assert total == pytest.approx(10 * math.log10(expected), abs=1e-3)


@pytest.mark.parametrize("remove_dc", [False, True])
def test_fftw_and_scipy_backends_agree_with_scipy_welch(remove_dc: bool) -> None:
    n = 256  # FFTW chunks of 128 frames: 300 frames = 2 chunks + a tail of 44 via scipy
    t = np.arange(n // 2 * 301)
    x = _noise(t.size, 0.01, seed=12) + 0.3 * np.exp(2j * np.pi * 0.2 * t) + (0.04 + 0.02j)
    raw = _to_u8(x)
    got = {
        backend: welch_spectrum(
            raw,
            sample_rate_hz=RATE,
            f_center_hz=FC,
            fft_size=n,
            remove_dc=remove_dc,
            fft_backend=backend,
        )
        for backend in ("scipy", "fftw", "auto")
    }
    assert got["fftw"].n_averages == 300
    np.testing.assert_allclose(got["fftw"].power_db, got["scipy"].power_db, atol=1e-3)
    np.testing.assert_array_equal(got["auto"].power_db, got["fftw"].power_db)
    if not remove_dc:
        ref = _scipy_db(u8_to_complex64(raw), n, n // 2)
        np.testing.assert_allclose(got["fftw"].power_db, ref, atol=0.01)
    with pytest.raises(ValueError, match="fft_backend must be"):
        welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_backend="mkl")
