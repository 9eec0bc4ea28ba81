"""The analysis pipeline: IQ, single spectra and surveys end to end."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import signal

from dsp.pipeline import (
    AnalysisResult,
    analyze_iq,
    analyze_spectrum,
    analyze_survey,
    average_spectra,
    default_fft_size,
    tuned_centres,
)
from dsp.types import Spectrum

RATE = 1.024e6
FC = 433.92e6


def band_noise(n: int, f_lo: float, f_hi: float, power_db: float, rng) -> np.ndarray:
    """Complex noise of total power ``power_db`` dBFS, flat between f_lo and f_hi (baseband Hz)."""
    spec = np.zeros(n, np.complex128)
    f = np.fft.fftfreq(n, 1 / RATE)
    sel = (f >= f_lo) & (f < f_hi)
    spec[sel] = rng.normal(size=sel.sum()) + 1j * rng.normal(size=sel.sum())
    x = np.fft.ifft(spec)
    return x * 10 ** (power_db / 20) / np.sqrt(np.mean(np.abs(x) ** 2))


def test_analyze_iq_finds_and_measures_known_emissions() -> None:
    rng = np.random.default_rng(1)
    n = 1 << 19
    x = band_noise(n, -200e3, -150e3, -20.0, rng)  # 50 kHz wide, -20 dBFS
    t = np.arange(n) / RATE
    x += 10 ** (-30 / 20) * np.exp(2j * np.pi * 123_456.0 * t)  # a carrier, -30 dBFS
    x += band_noise(n, -RATE / 2, RATE / 2, -45.0, rng)  # white floor
    r = analyze_iq(x.astype(np.complex64), sample_rate_hz=RATE, f_center_hz=FC,
                   t_start_ns=1_700_000_000 * 10**9)
    assert isinstance(r, AnalysisResult)
    assert len(r.emissions) == 2
    wide, tone = sorted(r.emissions, key=lambda e: e.f_hz)
    assert wide.f_hz == pytest.approx(FC - 175e3, abs=500)
    assert wide.power_db == pytest.approx(-20.0, abs=0.2)
    assert wide.bw_99_hz == pytest.approx(0.99 * 50e3, rel=0.03)
    assert tone.f_hz == pytest.approx(FC + 123_456.0, abs=tone.f_resolution_hz)
    assert tone.power_db == pytest.approx(-30.0, abs=0.2)
    # the tone was re-measured on a finer grid than the first spectrum
    assert tone.f_resolution_hz < r.spectrum.f_step_hz
    # white floor: -45 dBFS over the rate, per bin N0 * RBW
    floor_expected = -45.0 - 10 * math.log10(RATE) + 10 * math.log10(r.spectrum.rbw_hz)
    assert np.median(r.noise_floor_db) == pytest.approx(floor_expected, abs=0.3)
    assert wide.t_first_ns == 1_700_000_000 * 10**9
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.emissions = ()  # type: ignore[misc]


def test_iq_emission_times_follow_the_burst() -> None:
    rng = np.random.default_rng(6)
    n = 1 << 20  # 1.024 s
    x = band_noise(n, -RATE / 2, RATE / 2, -45.0, rng)
    t = np.arange(n) / RATE
    on = (t >= 0.40) & (t < 0.65)
    x[on] += 0.1 * np.exp(2j * np.pi * 200e3 * t[on])
    t0 = 1_700_000_000 * 10**9
    r = analyze_iq(x.astype(np.complex64), sample_rate_hz=RATE, f_center_hz=FC, t_start_ns=t0)
    (e,) = r.emissions
    slice_ns = 1.024e9 / 32
    assert abs((e.t_first_ns - t0) - 0.40e9) <= slice_ns
    assert abs((e.t_last_ns - t0) - 0.65e9) <= slice_ns
    # mean power over the block: -20 dBFS for the fraction of the time it was on
    assert e.power_db == pytest.approx(-20 + 10 * math.log10(on.mean()), abs=0.2)


def test_power_agrees_with_scipy_welch() -> None:
    # independent reference: integrate scipy's PSD over the same band
    rng = np.random.default_rng(2)
    n = 1 << 18
    x = (band_noise(n, 50e3, 130e3, -25.0, rng) + band_noise(n, -RATE / 2, RATE / 2, -50.0, rng))
    r = analyze_iq(x.astype(np.complex64), sample_rate_hz=RATE, f_center_hz=FC, fft_size=1024)
    (e,) = r.emissions
    f, pxx = signal.welch(x, fs=RATE, nperseg=1024, return_onesided=False, scaling="density")
    sel = (f >= e.f_low_hz - FC) & (f <= e.f_high_hz - FC)
    noise_psd = np.median(pxx[(f < 0)])
    ref = 10 * np.log10(np.sum(pxx[sel] - noise_psd) * (f[1] - f[0]) / 0.99)
    assert e.power_db == pytest.approx(ref, abs=0.2)


def sweep(p_db: np.ndarray, t: int, k: int, rng) -> Spectrum:
    lin = 10 ** (p_db / 10) * rng.gamma(k, 1 / k, p_db.size)
    return Spectrum(88e6, 1e3, (10 * np.log10(lin)).astype(np.float32), "dBFS", 1e3,
                    t * 10**9, t * 10**9 + 5 * 10**8, n_averages=k)


def test_survey_times_and_intermittent_emitters() -> None:
    rng = np.random.default_rng(3)
    steady = np.full(1000, -80.0)
    steady[200:260] = -55.0
    spectra = []
    for t in range(20):
        p = steady.copy()
        if 5 <= t <= 7:  # strong, three sweeps: still seen in the 20-sweep average
            p[400:405] = -60.0
        if 12 <= t <= 13:  # 12 dB, two sweeps: lost in the average (+2 dB)
            p[700:705] = -68.0
        spectra.append(sweep(p, t, 100, rng))
    r = analyze_survey(spectra)
    assert len(r.emissions) == 3
    steady_e, strong_burst, weak_burst = sorted(r.emissions, key=lambda e: e.f_hz)
    assert steady_e.t_first_ns == 0 and steady_e.t_last_ns == 19 * 10**9 + 5 * 10**8
    assert strong_burst.t_first_ns == 5 * 10**9
    assert strong_burst.t_last_ns == 7 * 10**9 + 5 * 10**8
    assert "intermittent" not in strong_burst.flags
    assert "intermittent" in weak_burst.flags
    assert weak_burst.t_first_ns == 12 * 10**9
    assert weak_burst.t_last_ns == 13 * 10**9 + 5 * 10**8
    assert weak_burst.f_hz == pytest.approx(88e6 + 702e3, abs=1e3)
    assert r.spectrum.n_averages == 2000


def _survey(lin: np.ndarray, k_stated: int) -> list[Spectrum]:
    return [Spectrum(88e6, 1e3, (10 * np.log10(row)).astype(np.float32), "dBFS", 1e3,
                     t * 10**9, t * 10**9 + 5 * 10**8, n_averages=k_stated)
            for t, row in enumerate(lin)]


def test_survey_finds_a_weak_fading_emission_by_coherence() -> None:
    # 2 dB over the noise (under the 6 dB threshold), fading together over 60 sweeps
    rng = np.random.default_rng(4)
    n_t, n = 60, 256
    noise = 1e-3 * rng.gamma(784, 1 / 784, (n_t, n))
    fade = 10 ** (rng.normal(0, 2.0, (n_t, 1)) / 10)
    signal = np.zeros((n_t, n))
    signal[:, 100:160] = 0.58e-3 * fade  # +2 dB on average
    r = analyze_survey(_survey(noise + signal, 784))
    assert len(r.emissions) == 1
    (e,) = r.emissions
    assert "coherent" in e.flags
    assert e.f_hz == pytest.approx(88e6 + 129.5e3, abs=3e3)
    assert e.bw_99_hz == pytest.approx(60e3, rel=0.15)
    # power: 60 bins of 0.58e-3 * E[fade] (lognormal mean, sigma 2 dB)
    mean_fade = math.exp((2.0 * math.log(10) / 10) ** 2 / 2)
    assert e.power_db == pytest.approx(10 * math.log10(60 * 0.58e-3 * mean_fade), abs=1.0)


@pytest.mark.parametrize("case", ["overstated_k", "peak_hold", "gain_drift"])
def test_noise_surveys_give_no_coherent_emission(case: str) -> None:
    rng = np.random.default_rng(5)
    n_t, n = 60, 256
    if case == "peak_hold":  # rtl_power -P: the max of 784 FFTs per bin
        lin = rng.exponential(1e-3, (n_t, n, 784)).max(axis=2)
    else:  # rtl_power "samples" counts FFTs x downsampling: K stated 16x too high
        lin = 1e-3 * rng.gamma(784, 1 / 784, (n_t, n))
    if case == "gain_drift":
        lin = lin * 10 ** (rng.normal(0, 1.0, (n_t, 1)) / 10)
    assert analyze_survey(_survey(lin, 12_544)).emissions == ()


def test_tuned_centres_and_fft_size() -> None:
    s = Spectrum(100e6, 1e3, np.zeros(2048, np.float32), "dBFS", 1.5e3, 0, 1)
    assert tuned_centres(s) == (100e6 + 1024e3,)
    swept = dataclasses.replace(s, hop_t_ns=((0, 0), (1024, 5)))
    assert tuned_centres(swept) == (100e6 + 512e3, 100e6 + 1536e3)
    assert default_fft_size(2.4e6, 10**6) == 2048
    assert default_fft_size(2.4e6, 5000) == 512  # enough averages first


def test_bad_arguments_are_named() -> None:
    rng = np.random.default_rng(5)
    a = sweep(np.full(100, -80.0), 0, 10, rng)
    b = dataclasses.replace(a, f_start_hz=89e6)
    with pytest.raises(ValueError, match="grid"):
        analyze_survey([a, b])
    with pytest.raises(ValueError, match="empty"):
        average_spectra([])
    with pytest.raises(ValueError, match="threshold_db"):
        analyze_spectrum(a, threshold_db=0.0)
    with pytest.raises(ValueError, match="x_db"):
        analyze_spectrum(a, x_db=-26.0)
    with pytest.raises(TypeError, match="Spectrum"):
        analyze_spectrum(np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="64 complex samples"):
        analyze_iq(np.zeros(10, np.complex64), sample_rate_hz=RATE, f_center_hz=FC)
    with pytest.raises(ValueError, match="sample_rate_hz"):
        default_fft_size(-1.0, 1000)
