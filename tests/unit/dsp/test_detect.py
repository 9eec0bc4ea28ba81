"""Detection: false-alarm rate, merging split emissions, keeping neighbours apart."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from dsp.detect import (
    DEFAULT_PFA,
    default_threshold_db,
    detect_bins,
    detect_emissions,
    find_runs,
)
from dsp.noise import estimate_noise_floor
from dsp.types import Spectrum


def spectrum_from(p_db: np.ndarray, k: int, seed: int) -> Spectrum:
    """Mean levels ``p_db`` with the fluctuation of K-averaged noise."""
    rng = np.random.default_rng(seed)
    lin = 10 ** (p_db / 10) * rng.gamma(k, 1.0 / k, p_db.size)
    return Spectrum(400e6, 1e3, (10 * np.log10(lin)).astype(np.float32), "dBFS", 1.5e3,
                    0, 1, n_averages=k)


def test_false_alarm_count_matches_exponential_statistics() -> None:
    # K = 1, known floor, independent bins: exceedances are Binomial(n, exp(-10^(T/10)))
    n, t_db = 200_000, 8.0
    s = spectrum_from(np.full(n, -100.0), 1, seed=1)
    count = int(detect_bins(s, np.full(n, -100.0), t_db).sum())
    p = math.exp(-(10 ** (t_db / 10)))
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    assert abs(count - mean) < 5 * sd
    assert count > 0


@pytest.mark.parametrize("k", [1, 4, 16])
def test_default_threshold_controls_the_false_alarm_rate(k: int) -> None:
    t = default_threshold_db(k)
    assert stats.gamma.sf(10 ** (t / 10), a=k, scale=1 / k) <= DEFAULT_PFA * 1.0001
    # with the floor estimated, noise-only spectra give (almost) no emissions
    found = 0
    for seed in range(10):
        s = spectrum_from(np.full(4096, -90.0), k, seed=100 + seed)
        found += len(detect_emissions(s, estimate_noise_floor(s)))
    # expected about 4096 * 10 * pfa = 4 single-bin alarms at most
    assert found <= 12


def test_split_emission_is_merged() -> None:
    p = np.full(2000, -100.0)
    p[800:900] = -80.0
    p[900:904] = -96.0  # dips below the threshold but stays above the floor
    p[904:1000] = -80.0
    s = spectrum_from(p, 200, seed=2)
    runs = detect_emissions(s, np.full(2000, -100.0), threshold_db=6.0)
    assert len(runs) == 1
    a, b = runs[0]
    assert abs(a - 800) <= 1 and abs(b - 1000) <= 1


def test_neighbours_separated_by_noise_stay_apart() -> None:
    p = np.full(2000, -100.0)
    p[800:900] = -80.0
    p[903:1000] = -80.0  # 3 bins of pure noise between them
    s = spectrum_from(p, 200, seed=3)
    runs = detect_emissions(s, np.full(2000, -100.0), threshold_db=6.0)
    assert len(runs) == 2


def test_deep_valley_above_threshold_splits() -> None:
    p = np.full(2000, -100.0)
    p[800:900] = -60.0
    p[900:910] = -88.0  # 28 dB below both, still 12 dB above the floor
    p[910:1000] = -62.0
    s = spectrum_from(p, 200, seed=4)
    runs = detect_emissions(s, np.full(2000, -100.0), threshold_db=6.0)
    assert len(runs) == 2
    assert 895 <= runs[0][1] <= 912


def test_find_runs_edges() -> None:
    assert find_runs(np.array([1, 1, 0, 1], bool)).tolist() == [[0, 2], [3, 4]]
    assert find_runs(np.zeros(5, bool)).shape == (0, 2)


def test_bad_arguments_are_named() -> None:
    s = spectrum_from(np.full(64, -90.0), 4, seed=5)
    with pytest.raises(ValueError, match="noise_floor_db"):
        detect_emissions(s, np.zeros(3))
    with pytest.raises(ValueError, match="threshold_db"):
        detect_emissions(s, np.zeros(64), threshold_db=-1.0)
    with pytest.raises(ValueError, match="split_db"):
        detect_emissions(s, np.zeros(64), split_db=0.0)
    with pytest.raises(ValueError, match="smooth_bins"):
        detect_emissions(s, np.zeros(64), smooth_bins=0)
