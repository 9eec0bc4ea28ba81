"""Unit tests of the issue 9 analysis modules against analytic truth.

- :mod:`dsp.slices`: slices on the block grid; each slice equals the Welch spectrum
  of its samples; a tone's power reads ``20 log10(A)``.
- :mod:`dsp.bursts`: activity of a band (duty cycle, power while on, first/last
  time) on synthetic Gamma-distributed slices; no burst found in noise.
- :mod:`dsp.overload`: product frequencies; keyed / steady / unkeyed verdicts.
- :mod:`dsp.keyed`: keyed components merged only within a channel and when keyed.
- :mod:`dsp.neighbours`: a weak neighbour on a strong symmetric emission's skirt is
  found and its power recovered; a lone symmetric emission is not split.
"""

from __future__ import annotations

import numpy as np
import pytest

from dsp.bursts import Activity, band_activity, detect_burst_runs
from dsp.keyed import jaccard, keyed_groups
from dsp.neighbours import split_neighbour
from dsp.overload import classify_overload, keyed_inside, product_offsets_hz
from dsp.slices import compute_time_slices, slice_samples
from dsp.spectrum import welch_spectrum
from dsp.types import TimeSlices

RATE = 1.024e6
FFT = 1024


def test_slices_are_welch_spectra_of_their_samples() -> None:
    n = int(RATE * 0.1)
    t = np.arange(n) / RATE
    amp = np.where(t >= 0.05, 0.1, 0.0)  # a tone on bin +100 switched on at 50 ms
    x = (amp * np.exp(2j * np.pi * 100 * RATE / FFT * t)).astype(np.complex64)
    x += (np.random.default_rng(1).standard_normal(n) * 1e-4).astype(np.complex64)
    s = compute_time_slices(x, sample_rate_hz=RATE, f_center_hz=1e8, fft_size=FFT,
                            slice_ns=5_000_000, t_start_ns=1_000)
    per = slice_samples(RATE, FFT, 5_000_000)
    assert s.n_slices == n // per and s.power_db.shape == (s.n_slices, FFT)
    assert s.t_start_ns[1] - s.t_start_ns[0] == pytest.approx(5e6, abs=1e3)
    assert s.t_start_ns[0] == 1_000
    k = 3
    ref = welch_spectrum(x[k * per:(k + 1) * per], sample_rate_hz=RATE, f_center_hz=1e8,
                         fft_size=FFT)
    np.testing.assert_allclose(s.power_db[k], ref.power_db, atol=1e-4)
    tone_bin = FFT // 2 + 100
    on = s.t_start_ns >= 1_000 + 50_000_000
    assert np.allclose(s.power_db[on, tone_bin], 20 * np.log10(0.1), atol=0.05)
    assert np.all(s.power_db[~on, tone_bin] < -60)


def test_a_last_partial_slice_counts_from_half_a_slice() -> None:
    per = slice_samples(RATE, FFT, 5_000_000)
    x = np.zeros(3 * per + per // 2 + 10, dtype=np.complex64)
    assert compute_time_slices(x, sample_rate_hz=RATE, f_center_hz=0.0,
                               fft_size=FFT).n_slices == 4
    y = np.zeros(3 * per + per // 4, dtype=np.complex64)
    assert compute_time_slices(y, sample_rate_hz=RATE, f_center_hz=0.0,
                               fft_size=FFT).n_slices == 3


def _noise_slices(rng: np.random.Generator, n_slices: int = 100, n_bins: int = 512,
                  k: int = 20) -> np.ndarray:
    return rng.gamma(k, 1.0 / k, (n_slices, n_bins))  # unit mean, k averages


def test_band_activity_of_a_keyed_emission() -> None:
    rng = np.random.default_rng(2)
    lin = _noise_slices(rng)
    on = np.zeros(100, dtype=bool)
    on[[10, 11, 12, 40, 41, 80]] = True
    lin[on, 200:210] += 50.0  # 50x the noise per bin while on
    sl = TimeSlices(10 * np.log10(lin).astype(np.float32), np.arange(100) * 5_000_000,
                    5_000_000, 20)
    act = band_activity(sl, np.zeros(512), 200, 210, enbw_bins=1.5)
    assert np.array_equal(act.on, on)
    assert act.duty_cycle == pytest.approx(0.06)
    # power over the noise while on: 10 bins x 50 / 1.5 ENBW bins
    assert act.burst_power_db == pytest.approx(10 * np.log10(500 / 1.5), abs=0.2)
    assert act.t_first_ns == 10 * 5_000_000 and act.t_last_ns == 81 * 5_000_000
    assert act.varies


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_no_burst_in_noise_and_one_where_it_is(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lin = _noise_slices(rng)
    sl = TimeSlices(10 * np.log10(lin).astype(np.float32), np.arange(100) * 5_000_000,
                    5_000_000, 20)
    none = np.zeros(512, dtype=bool)
    assert detect_burst_runs(sl, np.zeros(512), exclude=none) == []
    lin[[50, 51], 300:306] += 10.0  # 10 dB per bin over the noise, two slices
    sl = TimeSlices(10 * np.log10(lin).astype(np.float32), sl.t_start_ns, 5_000_000, 20)
    runs = detect_burst_runs(sl, np.zeros(512), exclude=none)
    assert len(runs) == 1
    (a, b), seen = runs[0]
    assert a <= 300 and b >= 306 and b - a <= 6 + 8  # (smoothed over up to 9 bins)
    assert set(np.flatnonzero(seen)) == {50, 51}
    excl = none.copy()
    excl[295:312] = True
    assert detect_burst_runs(sl, np.zeros(512), exclude=excl) == []


def _act(on: list[int], n: int = 20) -> Activity:
    mask = np.zeros(n, dtype=bool)
    mask[on] = True
    return Activity(mask, mask.astype(float), float(mask.mean()), 0.0 if on else None,
                    None, None)


def test_product_offsets_fold_into_the_band() -> None:
    offs = dict.fromkeys(round(f) for f, idx in product_offsets_hz([100e3], [], 250e3))
    # -d, 3d = 300k -> 50k, -3d -> -50k, 5d = 500k -> 0
    assert {-100_000, 50_000, -50_000, 0} <= set(offs)


def test_overload_verdicts() -> None:
    fc, step = 433.92e6, 1e3
    f = np.array([fc + 6e3, fc - 18e3, fc + 60e3, fc + 18e3])
    bw = np.array([5e3, 4e3, 4e3, 4e3])
    p = np.array([-5.0, -25.0, -40.0, -30.0])
    keyed = [_act([3, 4, 5, 6]), _act([4, 5]), _act(list(range(20))), _act([10, 11])]
    v = classify_overload(f, bw, p, centre_hz=fc, span_hz=250e3, step_hz=step,
                          activities=keyed)
    # -3x the parent's offset, on only while the parent is: rejected. +60 kHz (10x)
    # and +3x sit on products too, but are on while the parent is off: kept
    assert v == [None, "reject", None, None]
    steady = [_act(list(range(20)))] * 4
    v = classify_overload(f, bw, p, centre_hz=fc, span_hz=250e3, step_hz=step,
                          activities=steady)
    assert v[0] is None and v[1] == "suspect" and v[3] == "suspect"
    assert classify_overload(f, bw, p, centre_hz=fc, span_hz=250e3, step_hz=step)[1] == "suspect"
    assert keyed_inside(_act([4, 5]), [_act(list(range(20)))]) is None


def test_keyed_components_merged_within_a_channel_only() -> None:
    a, b, c = _act([1, 2, 3, 9]), _act([1, 2, 3, 9]), _act([5, 6])
    assert jaccard(a, b) == 1.0 and jaccard(a, c) == 0.0
    lo = [100e3, 140e3, 180e3]
    hi = [105e3, 145e3, 185e3]
    assert keyed_groups(lo, hi, [a, b, c]) == [[0, 1], [2]]
    assert keyed_groups(lo, hi, [a, b, b]) == [[0, 1, 2]]
    assert keyed_groups(lo, hi, [a, b, b], max_channel_hz=60e3) == [[0, 1], [2]]
    steady = _act(list(range(20)))
    assert keyed_groups(lo, hi, [steady, steady, steady]) == [[0], [1], [2]]


def test_weak_neighbour_on_a_symmetric_skirt() -> None:
    n = 1200
    x = np.arange(n, dtype=float)
    floor = np.full(n, 1.0)
    strong = 1e5 * np.exp(-0.5 * ((x - 500) / 40) ** 2)  # symmetric, 50 dB
    weak = 100.0 * np.exp(-0.5 * ((x - 740) / 40) ** 2)  # 30 dB below, 240 bins away
    rng = np.random.default_rng(6)
    k = 500
    p = (floor + strong + weak) * rng.gamma(k, 1.0 / k, n)
    split = split_neighbour(10 * np.log10(p), np.zeros(n), 300, 950, n_averages=k,
                            threshold_db=6.0)
    assert split is not None
    s, e = split.weak
    assert s < 740 < e
    got = np.sum(split.weak_lin - 1.0)
    assert 10 * np.log10(got / weak.sum()) == pytest.approx(0.0, abs=0.5)
    alone = (floor + strong) * rng.gamma(k, 1.0 / k, n)
    assert split_neighbour(10 * np.log10(alone), np.zeros(n), 300, 700, n_averages=k,
                           threshold_db=6.0) is None
