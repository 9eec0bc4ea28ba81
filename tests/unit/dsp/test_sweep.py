"""Sweep plan and stitching: one grid, no gaps, no seams, DC bins handled."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.calibration import GainCalibration
from dsp.spectrum import welch_spectrum
from dsp.sweep import Hop, plan_sweep, stitch, sweep_grid, sweep_spectrum
from dsp.types import IQBlock, Spectrum

RATE = 2.4e6
N = 512
T0 = 1_700_000_000_000_000_000
# Anti-alias filter of a hop, flat to about 0.43 x rate and down 6 dB at 0.45 x rate:
# what a tuner + RTL2832U decimator do to the band edges.
_AA = scipy.signal.firwin(127, 0.9)


def _hop_iq(
    f_center_hz: float, tones: list[tuple[float, float]], seed: int, dc: complex = 0j
) -> np.ndarray:
    """Complex baseband of one hop: white noise (-40 dBFS total) plus tones
    ``(f_hz, amplitude)`` through the anti-alias filter, plus a DC offset."""
    rng = np.random.default_rng(seed)
    n = N // 2 * 201 + 2 * _AA.size
    x = rng.normal(0, 0.01 / math.sqrt(2), n) + 1j * rng.normal(0, 0.01 / math.sqrt(2), n)
    t = np.arange(n)
    for f_hz, amp in tones:
        off = f_hz - f_center_hz
        if abs(off) < RATE / 2:
            x = x + amp * np.exp(2j * np.pi * off / RATE * t)
    y = scipy.signal.lfilter(_AA, 1.0, x)[2 * _AA.size :]
    return (y + dc).astype(np.complex64)


def _sweep(
    f_start: float,
    f_stop: float,
    tones: list[tuple[float, float]] = (),
    usable: float = 0.75,
    dc: complex = 0j,
    remove_dc: bool = True,
) -> tuple[list[Hop], Spectrum]:
    plan = plan_sweep(f_start, f_stop, sample_rate_hz=RATE, fft_size=N, usable_fraction=usable)
    spectra = [
        welch_spectrum(
            _hop_iq(h.f_center_hz, list(tones), seed=i, dc=dc),
            sample_rate_hz=RATE,
            f_center_hz=h.f_center_hz,
            fft_size=N,
            t_start_ns=T0 + i * 50_000_000,
            remove_dc=remove_dc,
        )
        for i, h in enumerate(plan)
    ]
    return plan, stitch(spectra, plan)


def _seam_steps(plan: list[Hop], s: Spectrum, width: int) -> list[float]:
    """Mean level (dB of mean linear power) just after minus just before each seam."""
    lin = 10 ** (s.power_db.astype(np.float64) / 10)
    steps = []
    for hop in plan[1:]:
        a = hop.out_first_bin
        if a - width < 0 or a + width > s.n_bins:
            continue
        left = 10 * math.log10(lin[a - width : a].mean())
        right = 10 * math.log10(lin[a : a + width].mean())
        steps.append(right - left)
    return steps


def test_flat_noise_has_no_step_or_dip_at_the_seams() -> None:
    plan, s = _sweep(100e6, 110e6)
    assert len(plan) >= 5
    # Per-bin noise expected: sigma2 * ENBW / N = 1e-4 * 1.5 / 512 -> -65.33 dBFS.
    expected_db = 10 * math.log10(1e-4 * 1.5 / N)
    lin = 10 ** (s.power_db.astype(np.float64) / 10)
    assert 10 * math.log10(lin.mean()) == pytest.approx(expected_db, abs=0.1)
    # 100 averages: one bin scatters ~0.45 dB; a 16-bin mean ~0.11 dB; their
    # difference ~0.16 dB. 0.6 dB is ~4 sigma, and a real dip is many dB.
    for step in _seam_steps(plan, s, 16):
        assert abs(step) < 0.6
    edge = [hop.out_first_bin for hop in plan[1:]]
    near = np.concatenate([lin[a - 2 : a + 2] for a in edge])
    assert 10 * math.log10(near.mean()) == pytest.approx(expected_db, abs=0.5)


def test_keeping_the_filter_edges_would_show_dips() -> None:
    """The negative control: with no crop the filter roll-off shows at every seam."""
    plan, s = _sweep(100e6, 110e6, usable=1.0)
    lin = 10 ** (s.power_db.astype(np.float64) / 10)
    edge = [hop.out_first_bin for hop in plan[1:]]
    near = np.concatenate([lin[a - 2 : a + 2] for a in edge])
    expected_db = 10 * math.log10(1e-4 * 1.5 / N)
    assert 10 * math.log10(near.mean()) < expected_db - 3.0


def test_tone_exactly_at_a_seam_reads_its_power() -> None:
    plan = plan_sweep(100e6, 106e6, sample_rate_hz=RATE, fft_size=N)
    f0, step, _ = sweep_grid(plan)
    a = plan[1].out_first_bin
    f_first = f0 + a * step  # first bin of hop 1
    f_last = f0 + (plan[2].out_first_bin - 1) * step  # last bin of hop 1
    tones = [(f_first, 0.1), (f_last, 0.05)]
    _, s = _sweep(100e6, 106e6, tones)
    assert float(s.power_db[a]) == pytest.approx(-20.0, abs=0.05)
    assert float(s.power_db[plan[2].out_first_bin - 1]) == pytest.approx(-26.02, abs=0.05)
    # Half a bin off the seam: both neighbours show the same Hann scalloping (-1.42 dB).
    _, s2 = _sweep(100e6, 106e6, [(f_first - step / 2, 0.1)])
    assert float(s2.power_db[a - 1]) == pytest.approx(-21.42, abs=0.1)
    assert float(s2.power_db[a]) == pytest.approx(-21.42, abs=0.1)


def test_grid_is_uniform_without_duplicated_bins() -> None:
    plan, s = _sweep(100e6, 105e6)
    f = s.f_hz()
    assert s.f_start_hz == 100e6
    assert np.all(np.diff(f) > 0) and np.unique(f).size == f.size
    assert s.n_bins == round(5e6 / (RATE / N)) + 1
    assert abs(s.f_stop_hz - 105e6) <= s.f_step_hz / 2
    assert s.rbw_hz == pytest.approx(1.5 * RATE / N)
    assert s.power_unit == "dBFS"


def test_dc_spikes_are_interpolated_and_marked() -> None:
    plan, s = _sweep(100e6, 106e6, dc=0.05 + 0.05j, remove_dc=False)
    dc_bins = [h.out_dc_bin for h in plan if h.out_dc_bin is not None]
    assert len(dc_bins) >= len(plan) - 1
    # Default guard: the DC bin and its two neighbours (Hann spreads DC over 3 bins).
    assert s.interpolated_bins == tuple(k + d for k in dc_bins for d in (-1, 0, 1))
    floor = float(np.median(s.power_db))
    # Without the interpolation each DC bin would read the -23 dBFS offset.
    assert float(s.power_db.max()) < floor + 6.0
    for k in s.interpolated_bins:
        assert abs(float(s.power_db[k]) - floor) < 6.0
    # Replacing the DC bin alone leaves the window's leakage into its neighbours.
    plan1 = plan_sweep(100e6, 106e6, sample_rate_hz=RATE, fft_size=N)
    spectra = [
        welch_spectrum(
            _hop_iq(h.f_center_hz, [], seed=i, dc=0.05 + 0.05j),
            sample_rate_hz=RATE,
            f_center_hz=h.f_center_hz,
            fft_size=N,
            remove_dc=False,
        )
        for i, h in enumerate(plan1)
    ]
    narrow = stitch(spectra, plan1, dc_guard_bins=1)
    assert narrow.interpolated_bins == tuple(dc_bins)
    assert float(narrow.power_db.max()) > floor + 30.0


def test_hop_times_and_metadata_are_kept() -> None:
    plan, s = _sweep(100e6, 104e6)
    assert s.hop_t_ns == tuple((h.out_first_bin, T0 + i * 50_000_000) for i, h in enumerate(plan))
    assert s.t_start_ns == T0
    assert s.t_end_ns > T0 + (len(plan) - 1) * 50_000_000
    assert s.n_averages == 200  # (256 * 201 - 512) // 256 + 1


def test_stitch_accepts_a_tuner_that_rounds_to_whole_hertz() -> None:
    plan = plan_sweep(100e6, 103e6, sample_rate_hz=1.0e6, fft_size=96)  # 10416.67 Hz bins
    spectra = [
        Spectrum(
            round(h.f_center_hz) - 48 * h.f_step_hz,
            h.f_step_hz,
            np.full(96, -50.0, np.float32),
            "dBFS",
            1.5 * h.f_step_hz,
            0,
            1,
        )
        for h in plan
    ]
    s = stitch(spectra, plan)
    assert s.n_bins == sweep_grid(plan)[2]
    np.testing.assert_allclose(s.power_db, -50.0, atol=1e-4)


def test_stitch_refuses_spectra_that_do_not_fit_the_plan() -> None:
    plan = plan_sweep(100e6, 103e6, sample_rate_hz=RATE, fft_size=64)

    def spec(h: Hop, **kw: object) -> Spectrum:
        args = dict(
            f_start_hz=h.f_center_hz - 32 * h.f_step_hz,
            f_step_hz=h.f_step_hz,
            power_db=np.zeros(64, np.float32),
            power_unit="dBFS",
            rbw_hz=1.5 * h.f_step_hz,
            t_start_ns=0,
            t_end_ns=1,
        )
        args.update(kw)
        return Spectrum(**args)

    good = [spec(h) for h in plan]
    stitch(good, plan)
    with pytest.raises(ValueError, match="hop_spectra has 1 spectra but plan has"):
        stitch(good[:1], plan)
    bad = list(good)
    bad[1] = spec(plan[1], f_start_hz=plan[1].f_center_hz)
    with pytest.raises(ValueError, match=r"hop_spectra\[1\] starts at"):
        stitch(bad, plan)
    bad[1] = spec(plan[1], power_unit="dBm")
    with pytest.raises(ValueError, match=r"hop_spectra\[1\] is in dBm"):
        stitch(bad, plan)
    bad[1] = spec(plan[1], power_db=np.zeros(32, np.float32))
    with pytest.raises(ValueError, match=r"hop_spectra\[1\] has 32 bins"):
        stitch(bad, plan)
    bad[1] = spec(plan[1], rbw_hz=plan[1].f_step_hz)
    with pytest.raises(ValueError, match="different window or RBW"):
        stitch(bad, plan)


def test_full_tuner_range_plan() -> None:
    plan = plan_sweep(24e6, 1766e6, sample_rate_hz=2.4e6, fft_size=1024)
    f0, step, n_out = sweep_grid(plan)
    assert f0 == 24e6 and step == 2343.75
    assert n_out == round(1742e6 / step) + 1
    assert all(24e6 <= h.f_center_hz <= 1766e6 for h in plan)
    assert len(plan) == math.ceil(n_out / 768)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((100e6, 90e6), {}, r"f_stop_hz \(90000000.0\) must be above f_start_hz"),
        ((10e6, 90e6), {}, "must lie in the tuner range"),
        ((100e6, 1800e6), {}, "must lie in the tuner range"),
        ((100e6, 110e6), {"fft_size": 6}, "fft_size must be an even integer >= 8"),
        ((100e6, 110e6), {"usable_fraction": 0.0}, r"usable_fraction must be in \(0, 1\]"),
        ((100e6, 110e6), {"usable_fraction": 0.01}, "keeps 2 of 256 bins"),
        ((100e6, 110e6), {"sample_rate_hz": -1.0}, "sample_rate_hz must be positive"),
    ],
)
def test_plan_sweep_refuses_bad_arguments(args: tuple, kwargs: dict, match: str) -> None:
    kw = {"sample_rate_hz": RATE, "fft_size": 256}
    kw.update(kwargs)
    with pytest.raises(ValueError, match=match):
        plan_sweep(*args, **kw)


@settings(max_examples=150, deadline=None)
@given(
    f_start=st.floats(24e6, 1760e6),
    span=st.floats(1e3, 300e6),
    rate=st.floats(0.9e6, 3.2e6),
    log2n=st.integers(3, 13),
    usable=st.floats(0.1, 1.0),
)
def test_plan_tiles_the_grid_inside_the_tuner_range(
    f_start: float, span: float, rate: float, log2n: int, usable: float
) -> None:
    n = 2**log2n
    f_stop = min(f_start + span, 1766e6)
    u = 2 * int(usable * n / 2)
    if u < 4:
        with pytest.raises(ValueError, match="usable_fraction"):
            plan_sweep(f_start, f_stop, sample_rate_hz=rate, fft_size=n, usable_fraction=usable)
        return
    plan = plan_sweep(f_start, f_stop, sample_rate_hz=rate, fft_size=n, usable_fraction=usable)
    f0, step, n_out = sweep_grid(plan)
    assert f0 == f_start and step == rate / n
    # Coverage: the bins tile [0, n_out) with no gap or overlap, in order.
    expected_first = 0
    for h in plan:
        assert h.out_first_bin == expected_first and h.n_bins >= 1
        expected_first += h.n_bins
    assert expected_first == n_out
    assert f0 - step / 2 <= f_start and f0 + (n_out - 1) * step + step / 2 >= f_stop
    assert abs(f0 + (n_out - 1) * step - f_stop) <= step / 2 + 1e-6
    for h in plan:
        # In the tuner range, and only the centred usable bins are kept.
        assert 24e6 <= h.f_center_hz <= 1766e6
        assert h.first_bin >= (n - u) // 2
        assert h.first_bin + h.n_bins <= (n + u) // 2
        # On the common grid: the hop's FFT bin j sits on sweep bin out_first + j - first.
        f_hop_first = h.f_center_hz + (h.first_bin - n // 2) * step
        assert f_hop_first == pytest.approx(f0 + h.out_first_bin * step, abs=1e-6 * step)
        offset = (h.f_center_hz - f0) / step
        assert offset == pytest.approx(round(offset), abs=1e-6)
    assert len(plan) <= math.ceil(n_out / u) + 1


def test_sweep_spectrum_from_blocks_with_calibration() -> None:
    plan = plan_sweep(430e6, 436e6, sample_rate_hz=RATE, fft_size=N)
    f0, step, _ = sweep_grid(plan)
    f_tone = f0 + 700 * step
    blocks = [
        IQBlock(
            _hop_iq(h.f_center_hz, [(f_tone, 0.1)], seed=i),
            h.f_center_hz,
            RATE,
            29.7,
            T0 + i * 10_000_000,
            "rtlsdr:3",
        )
        for i, h in enumerate(plan)
    ]
    cal = GainCalibration([400e6, 450e6], [29.7], [[-50.0, -52.0]])
    s = sweep_spectrum(blocks, plan, gain_calibration=cal, station_id="LS03")
    assert s.power_unit == "dBm" and s.station_id == "LS03" and s.receiver_id == "rtlsdr:3"
    hop = next(h for h in plan if h.out_first_bin <= 700 < h.out_first_bin + h.n_bins)
    # -20 dBFS tone + the table's offset at that hop's centre frequency.
    expected = -20.0 + cal.offset_db(hop.f_center_hz, 29.7)
    assert float(s.power_db[700]) == pytest.approx(expected, abs=0.05)
    uncal = sweep_spectrum(blocks, plan)
    assert uncal.power_unit == "dBFS"
    assert float(uncal.power_db[700]) == pytest.approx(-20.0, abs=0.05)
    moved = list(blocks)
    moved[1] = IQBlock(blocks[1].samples, blocks[1].f_center_hz + 1e3, RATE, 29.7, 0, "r")
    with pytest.raises(ValueError, match=r"blocks\[1\] is tuned to"):
        sweep_spectrum(moved, plan)
    agc = [IQBlock(b.samples, b.f_center_hz, RATE, None, 0, "r") for b in blocks]
    with pytest.raises(ValueError, match="AGC"):
        sweep_spectrum(agc, plan, gain_calibration=cal)
