"""Measurements against exact answers: rectangular bands, tones, noise, triangles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.measure import (
    channel_power,
    measure_emission,
    occupied_bandwidth,
    xdb_bandwidth,
)
from dsp.spectrum import welch_spectrum
from dsp.types import Spectrum

STEP_HZ = 1e3
ENBW_BINS = 1.5


def band_spectrum(
    n: int, band: slice, band_power_dbm: float, noise_psd_dbm_hz: float,
    *, unit: str = "dBm", k: int | None = None, seed: int = 0,
) -> tuple[Spectrum, np.ndarray]:
    """A rectangular band of known total power over white noise (per-bin means)."""
    rbw = ENBW_BINS * STEP_HZ
    n_bin = 10 ** (noise_psd_dbm_hz / 10) * rbw  # a noise bin reads N0 * RBW
    width_hz = (band.stop - band.start) * STEP_HZ
    s_bin = 10 ** (band_power_dbm / 10) / width_hz * rbw
    lin = np.full(n, n_bin)
    lin[band] += s_bin
    if k is not None:
        lin = lin * np.random.default_rng(seed).gamma(k, 1 / k, n)
    s = Spectrum(100e6, STEP_HZ, (10 * np.log10(lin)).astype(np.float32), unit, rbw, 0, 10,
                 n_averages=k or 1000)
    return s, np.full(n, 10 * math.log10(n_bin))


def test_rectangular_band_bandwidth_and_power_are_exact() -> None:
    s, floor = band_spectrum(1000, slice(400, 600), -50.0, -120.0)
    e = measure_emission(s, floor, 380, 620)
    assert e.power_db == pytest.approx(-50.0, abs=0.01)
    assert e.bw_99_hz == pytest.approx(0.99 * 200e3, abs=STEP_HZ)
    assert e.f_hz == pytest.approx(s.f_hz()[400:600].mean(), abs=1.0)
    # SNR in its own bandwidth: S / (N0 * OBW) = -50 - (-120 + 10 log10(198 kHz))
    assert e.snr_db == pytest.approx(-50 + 120 - 10 * math.log10(198e3), abs=0.1)
    assert e.f_resolution_hz == STEP_HZ
    assert e.power_unit == "dBm"


def test_noisy_band_power_within_a_fraction_of_a_db() -> None:
    s, floor = band_spectrum(2000, slice(800, 1200), -60.0, -125.0, k=100, seed=1)
    e = measure_emission(s, floor, 780, 1220)
    assert e.power_db == pytest.approx(-60.0, abs=0.1)
    assert e.bw_99_hz == pytest.approx(396e3, rel=0.02)


def test_tone_power_and_centre_from_welch() -> None:
    rate, fc = 1.024e6, 433.92e6
    f_off = 123_456.7  # off-bin: the peak bin is scalloped, the integral is not
    t = np.arange(1 << 16)
    rng = np.random.default_rng(2)
    x = 0.1 * np.exp(2j * np.pi * f_off / rate * t)
    x = x + (rng.normal(0, 1e-3, t.size) + 1j * rng.normal(0, 1e-3, t.size))
    s = welch_spectrum(x.astype(np.complex64), sample_rate_hz=rate, f_center_hz=fc,
                       fft_size=1024)
    floor = np.full(s.n_bins, 10 * math.log10(2e-6 * s.rbw_hz / rate))
    i = int(np.argmax(s.power_db))
    e = measure_emission(s, floor, i - 6, i + 7)
    assert e.power_db == pytest.approx(-20.0, abs=0.05)
    assert abs(e.f_hz - (fc + f_off)) < s.f_step_hz
    assert -20.0 - 1.5 < e.peak_power_db <= -20.0 + 0.01  # Hann scalloping <= 1.42 dB
    assert abs(e.f_xdb_mid_hz - (fc + f_off)) < s.f_step_hz


def test_occupied_bandwidth_of_a_rectangle() -> None:
    f = np.arange(1000.0)
    p = np.zeros(1000)
    p[100:300] = 2.0
    lo, hi = occupied_bandwidth(f, p)
    assert lo == pytest.approx(99.5 + 1.0, abs=1e-9)  # 0.5 % of 200 bins = 1 bin
    assert hi == pytest.approx(299.5 - 1.0, abs=1e-9)
    lo, hi = occupied_bandwidth(f, p, beta=0.1)
    assert hi - lo == pytest.approx(180.0, abs=1e-9)


def test_xdb_bandwidth_of_a_triangle_is_analytic() -> None:
    f = np.arange(201.0) * 10.0
    p = -np.abs(np.arange(201) - 100) * 0.5  # 0.5 dB per bin either side
    lo, hi, limited = xdb_bandwidth(f, p, 26.0)
    assert (lo, hi, limited) == (pytest.approx(480.0), pytest.approx(1520.0), False)
    lo, hi, limited = xdb_bandwidth(f[90:111], p[90:111], 26.0)
    assert limited


def test_channel_power_of_white_noise_matches_its_share() -> None:
    rate = 2.048e6
    rng = np.random.default_rng(3)
    x = (rng.normal(0, math.sqrt(0.5), 1 << 18) + 1j * rng.normal(0, math.sqrt(0.5), 1 << 18))
    s = welch_spectrum(x.astype(np.complex64), sample_rate_hz=rate, f_center_hz=0.0,
                       fft_size=2048)
    # unit-power noise: a quarter of the band holds a quarter of the power
    assert channel_power(s, -rate / 8, rate / 8) == pytest.approx(-6.02, abs=0.1)
    assert channel_power(s, -rate / 2, rate / 2) == pytest.approx(0.0, abs=0.1)


def test_field_strength_only_when_calibrated() -> None:
    s, floor = band_spectrum(500, slice(200, 300), -70.0, -130.0)
    e = measure_emission(s, floor, 190, 310, af_db_m=lambda f_hz: 20.0, cable_loss_db=1.5)
    assert e.e_dbuv_m == pytest.approx(e.power_db + 10 * math.log10(50) + 90 + 20.0 + 1.5)
    s_fs, floor_fs = band_spectrum(500, slice(200, 300), -70.0, -130.0, unit="dBFS")
    assert measure_emission(s_fs, floor_fs, 190, 310, af_db_m=20.0).e_dbuv_m is None


def test_bad_arguments_are_named() -> None:
    s, floor = band_spectrum(100, slice(40, 60), -70.0, -130.0)
    with pytest.raises(ValueError, match="f_high_hz"):
        channel_power(s, 100.2e6, 100.1e6)
    with pytest.raises(ValueError, match="outside the spectrum"):
        channel_power(s, 1e9, 1.1e9)
    with pytest.raises(ValueError, match="bin range"):
        measure_emission(s, floor, 50, 200)
    with pytest.raises(ValueError, match="noise_floor_db"):
        measure_emission(s, floor[:5], 40, 60)
    with pytest.raises(ValueError, match="beta"):
        occupied_bandwidth(np.arange(3.0), np.ones(3), beta=1.0)
    with pytest.raises(ValueError, match="x_db"):
        xdb_bandwidth(np.arange(3.0), np.ones(3), x_db=-3)


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(10, 400),
    width=st.integers(20, 400),
    power_dbm=st.floats(-100.0, 0.0),
    snr_db=st.floats(10.0, 60.0),
)
def test_rectangular_band_property(start: int, width: int, power_dbm: float, snr_db: float) -> None:
    # noise PSD set so the band's SNR in its own bandwidth is snr_db
    n0 = power_dbm - snr_db - 10 * math.log10(width * STEP_HZ)
    s, floor = band_spectrum(1000, slice(start, start + width), power_dbm, n0)
    a, b = max(0, start - 8), min(1000, start + width + 8)
    e = measure_emission(s, floor, a, b)
    assert e.power_db == pytest.approx(power_dbm, abs=0.01)
    assert e.bw_99_hz == pytest.approx(0.99 * width * STEP_HZ, abs=0.02 * STEP_HZ)
    assert e.f_hz == pytest.approx(s.f_hz()[start:start + width].mean(), abs=0.5)
    assert e.snr_db == pytest.approx(snr_db - 10 * math.log10(0.99), abs=0.05)
