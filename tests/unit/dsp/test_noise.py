"""Noise-floor estimation: exact statistics, crowded bands, wide emissions, slopes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dsp.noise import estimate_noise_floor, noise_exceedance_db, percentile_bias
from dsp.types import Spectrum


def noise_spectrum(floor_db: np.ndarray, k: int, seed: int, step_hz: float = 1e3) -> Spectrum:
    """Averaged complex-Gaussian noise bins: mean ``floor`` times Gamma(K, 1/K)."""
    rng = np.random.default_rng(seed)
    lin = 10 ** (floor_db / 10) * rng.gamma(k, 1.0 / k, floor_db.size)
    return Spectrum(100e6, step_hz, (10 * np.log10(lin)).astype(np.float32), "dBFS",
                    1.5 * step_hz, 0, 1_000_000, n_averages=k)


@pytest.mark.parametrize("k", [1, 4, 30, 500])
@pytest.mark.parametrize("p", [10.0, 20.0, 50.0])
def test_percentile_bias_matches_scipy_gamma(k: int, p: float) -> None:
    expected = stats.gamma.ppf(p / 100, a=k, scale=1 / k)
    assert percentile_bias(p, k) == pytest.approx(expected, rel=1e-9)


def test_exceedance_matches_scipy_gamma() -> None:
    for k in (1, 8, 100):
        q = 10 ** (noise_exceedance_db(1e-4, k) / 10)
        assert stats.gamma.sf(q, a=k, scale=1 / k) == pytest.approx(1e-4, rel=1e-6)


@pytest.mark.parametrize("k", [1, 10, 100])
def test_flat_noise_floor_is_unbiased(k: int) -> None:
    true = np.full(16384, -80.0)
    est = estimate_noise_floor(noise_spectrum(true, k, seed=k))
    # the estimator's spread shrinks with K; its median must sit on the truth
    tol = {1: 0.35, 10: 0.12, 100: 0.05}[k]
    assert abs(np.median(est) - (-80.0)) < tol
    assert np.max(np.abs(est + 80.0)) < 12 * tol


def test_crowded_band_floor_stays_on_the_noise() -> None:
    rng = np.random.default_rng(3)
    n = 8192
    true = np.full(n, -90.0)
    p = true.copy()
    # 60 % of the bins carry emissions 15-40 dB above the noise, in chunks of 20-120 bins
    occupied = np.zeros(n, bool)
    while occupied.mean() < 0.6:
        a = rng.integers(0, n - 120)
        w = rng.integers(20, 120)
        occupied[a:a + w] = True
        p[a:a + w] = 10 * np.log10(10 ** (-9.0) + 10 ** (rng.uniform(-7.5, -5.0)))
    s = noise_spectrum(p, 50, seed=4)
    est = estimate_noise_floor(s)
    assert abs(np.median(est[~occupied]) + 90.0) < 0.3
    assert abs(np.median(est[occupied]) + 90.0) < 0.5
    # a plain median of the spectrum would be far off: the test can fail
    assert np.median(s.power_db) > -80.0


def test_wide_emission_does_not_lift_the_floor() -> None:
    # an 8 MHz multiplex in a 20 MHz stitched span at 5 kHz bins (1600 of 4000 bins)
    n = 4000
    p = np.full(n, -95.0)
    p[1200:2800] = -75.0
    s = noise_spectrum(p, 20, seed=5, step_hz=5e3)
    est = estimate_noise_floor(s)
    assert np.all(np.abs(est[1200:2800] + 95.0) < 1.0)


def test_sloping_floor_is_followed() -> None:
    n = 8192
    true = np.linspace(-100.0, -88.0, n)  # 12 dB slope across the span
    est = estimate_noise_floor(noise_spectrum(true, 64, seed=6))
    assert np.max(np.abs(est - true)[200:-200]) < 0.6


def test_nan_bins_are_missing_not_fatal() -> None:
    p = np.full(2048, -70.0)
    s = noise_spectrum(p, 32, seed=7)
    power = s.power_db.copy()
    power[500:700] = np.nan  # a gap between sweep hops
    from dataclasses import replace

    est = estimate_noise_floor(replace(s, power_db=power))
    assert np.all(np.isfinite(est))
    assert abs(np.median(est) + 70.0) < 0.2


def test_bad_arguments_are_named() -> None:
    s = noise_spectrum(np.full(64, -70.0), 4, seed=8)
    with pytest.raises(ValueError, match="percentile"):
        estimate_noise_floor(s, percentile=0.0)
    with pytest.raises(ValueError, match="window_bins"):
        estimate_noise_floor(s, window_bins=1)
    with pytest.raises(ValueError, match="wide_hz"):
        estimate_noise_floor(s, wide_hz=float("nan"))
    with pytest.raises(TypeError, match="Spectrum"):
        estimate_noise_floor(np.zeros(4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_averages"):
        percentile_bias(20.0, 0)
    with pytest.raises(ValueError, match="pfa"):
        noise_exceedance_db(1.5, 4)
