"""Occupancy (SM.1880): known duty cycles, any-bin rule, band occupancy, thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.occupancy import DEFAULT_MARGIN_DB, occupancy, preset_threshold_per_bin
from dsp.types import Spectrum

STEP = 12.5e3
N_BINS = 160  # 8 channels of 20 bins (250 kHz) each


def on_off_sequence(duty: list[float], n_t: int, seed: int) -> list[Spectrum]:
    """Channel k (bins 20k..20k+20) carries a signal in a fraction duty[k] of revisits."""
    rng = np.random.default_rng(seed)
    out = []
    on_pattern = [rng.permutation(n_t) < round(d * n_t) for d in duty]
    for t in range(n_t):
        lin = 1e-10 * rng.gamma(50, 1 / 50, N_BINS)
        for k, pattern in enumerate(on_pattern):
            if pattern[t]:
                lin[20 * k + 5:20 * k + 15] += 1e-8  # 20 dB over the noise
        out.append(Spectrum(430e6, STEP, (10 * np.log10(lin)).astype(np.float32), "dBFS",
                            1.5 * STEP, t * 10**9, t * 10**9 + 10**8, n_averages=50))
    return out


CHANNELS = [(430e6 - STEP / 2 + 20 * k * STEP, 430e6 - STEP / 2 + 20 * (k + 1) * STEP)
            for k in range(8)]


def test_known_duty_cycles_are_measured() -> None:
    duty = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 0.3, 0.05]
    seq = on_off_sequence(duty, 200, seed=1)
    occ = occupancy(seq, CHANNELS)
    assert np.allclose(occ.fco, duty, atol=1e-9)
    assert occ.sro == pytest.approx(np.mean(duty))
    # FBO: the signal fills 10 of 20 bins of a channel when it is on
    assert occ.fbo == pytest.approx(np.mean(duty) * 0.5, abs=0.005)
    assert occ.n_revisits == 200 and occ.occupied.shape == (200, 8)
    assert occ.t_start_ns == 0 and occ.t_end_ns == 199 * 10**9 + 10**8
    # the dynamic threshold sits at the noise + margin
    assert np.median(occ.threshold_db) == pytest.approx(-100.0 + DEFAULT_MARGIN_DB, abs=0.3)


def test_any_bin_above_threshold_occupies_the_channel() -> None:
    p = np.full(N_BINS, -100.0, np.float32)
    p[45] = -60.0  # one bin of channel 2
    s = Spectrum(430e6, STEP, p, "dBm", 1.5 * STEP, 0, 1)
    occ = occupancy([s], CHANNELS, threshold_db=-90.0)
    assert occ.fco.tolist() == [0, 0, 1, 0, 0, 0, 0, 0]
    assert occ.fbo == pytest.approx(1 / N_BINS)


def test_preset_threshold_rbw_correction() -> None:
    assert preset_threshold_per_bin(-80.0, 16e3, 1e3) == pytest.approx(-80 - 12.041, abs=1e-3)
    assert preset_threshold_per_bin(-80.0, 1e3, 2e3) == -80.0  # RBW wider: no correction


def test_bad_arguments_are_named() -> None:
    seq = on_off_sequence([0.5], 4, seed=2)
    with pytest.raises(ValueError, match="empty"):
        occupancy([], CHANNELS)
    with pytest.raises(ValueError, match="channels_hz"):
        occupancy(seq, [(431e6, 430e6)])
    with pytest.raises(ValueError, match="holds no bin"):
        occupancy(seq, [(1e9, 1.1e9)])
    with pytest.raises(ValueError, match="margin_db"):
        occupancy(seq, CHANNELS, margin_db=-1)
    other = Spectrum(431e6, STEP, np.zeros(N_BINS, np.float32), "dBFS", 1.5 * STEP, 0, 1)
    with pytest.raises(ValueError, match="grid"):
        occupancy([*seq, other], CHANNELS)
