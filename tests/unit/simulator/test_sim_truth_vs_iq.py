"""The simulator's ground truth agrees with its own IQ, measured independently (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

RATE_HZ = 2.4e6
F_CENTER_HZ = 100e6
NPERSEG = 16384


def _psd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f, p = welch(x, fs=RATE_HZ, window="hann", nperseg=NPERSEG, return_onesided=False,
                 scaling="density", detrend=False)
    order = np.argsort(f)
    return f[order], p[order]


def _noise_density(f: np.ndarray, p: np.ndarray) -> float:
    # A stretch with no emitter and no image in the mixed scene: -480..-260 kHz.
    quiet = (f > -480e3) & (f < -260e3)
    return float(np.median(p[quiet]))


@pytest.mark.parametrize("emitter_id", ["wbfm", "am", "nbfm", "fsk4", "cw", "ofdm"])
def test_power_matches_truth_within_half_db(mixed_capture, emitter_id):
    rx, x, block = mixed_capture
    assert not block.overload
    truth = {t.emitter_id: t for t in rx.truth(block.t_start_ns)}[emitter_id]
    assert truth.in_band and truth.on_air
    assert -40 < truth.power_dbfs < -10  # the scene is built to land here
    f, p = _psd(x)
    df = f[1] - f[0]
    off = truth.f_apparent_hz - F_CENTER_HZ
    half = max(0.75 * truth.bw_99_hz, 4e3)  # 1.5x the 99 % band, at least +-4 kHz
    band = (f > off - half) & (f < off + half)
    noise = _noise_density(f, p)
    measured = np.sum(p[band] - noise) * df
    assert 10 * np.log10(measured) == pytest.approx(truth.power_dbfs, abs=0.5)


def _obw_scipy(f: np.ndarray, p: np.ndarray) -> float:
    """99 % bandwidth from a PSD: cumulative integral, 0.5 % cut at each side."""
    from scipy.integrate import cumulative_trapezoid

    cum = cumulative_trapezoid(p, f, initial=0.0)
    cum /= cum[-1]
    lo = np.interp(0.005, cum, f)
    hi = np.interp(0.995, cum, f)
    return float(hi - lo)


@pytest.mark.parametrize("emitter_id", ["wbfm", "am", "nbfm", "fsk4", "ofdm"])
def test_occupied_bandwidth_matches_truth_within_10_percent(mixed_capture, emitter_id):
    rx, x, block = mixed_capture
    truth = {t.emitter_id: t for t in rx.truth(block.t_start_ns)}[emitter_id]
    f, p = welch(x, fs=RATE_HZ, window="hann", nperseg=65536, return_onesided=False,
                 detrend=False)
    order = np.argsort(f)
    f, p = f[order], p[order]
    noise = _noise_density(f, p)
    off = truth.f_apparent_hz - F_CENTER_HZ
    band = (f > off - 0.75 * truth.bw_99_hz) & (f < off + 0.75 * truth.bw_99_hz)
    measured = _obw_scipy(f[band], np.clip(p[band] - noise, 0.0, None))
    assert measured == pytest.approx(truth.bw_99_hz, rel=0.10)


def test_bandwidths_are_those_of_the_modulations(mixed_capture):
    """Sanity of the truth itself against the textbook values."""
    rx, _, block = mixed_capture
    bw = {t.emitter_id: t.bw_99_hz for t in rx.truth(block.t_start_ns)}
    assert bw["cw"] == 0.0
    assert bw["ofdm"] == pytest.approx(0.99 * 400e3, rel=0.01)  # flat top
    assert 120e3 < bw["wbfm"] < 260e3  # Carson 2(75 + 53) = 256 kHz bounds it
    assert 5e3 < bw["nbfm"] < 11.8e3  # Carson 2(2.5 + 3.4) kHz
    assert 6e3 < bw["fsk4"] < 9e3  # DMR 7K60FXE
    assert 2e3 < bw["am"] <= 2 * 3400 * 1.1


def test_noise_floor_matches_truth_within_1_db(mixed_capture):
    rx, x, _ = mixed_capture
    f, p = _psd(x)
    measured_dbfs_hz = 10 * np.log10(_noise_density(f, p))
    assert measured_dbfs_hz == pytest.approx(rx.noise_truth().total_dbfs_hz, abs=1.0)


def test_noise_floor_of_an_idle_receiver_at_zero_gain(make_mixed_scene, cu8):
    """Tiny input: every sample is +-half a step, the floor is 1/4 step^2 (not 1/12)."""
    from firmware_bridge.simulator.receiver import SimulatorReceiver

    rx = SimulatorReceiver.from_scene(make_mixed_scene(gain=0.0), "rx", seed=3)
    with rx:
        rx.tune(300e6)  # nothing there
        x = cu8(rx.read(2**18).samples)
    measured = 10 * np.log10(np.mean(np.abs(x - x.mean()) ** 2))
    truth = rx.noise_truth()
    assert measured == pytest.approx(truth.total_dbfs_hz + 10 * np.log10(RATE_HZ), abs=1.0)


def test_scene_truth_agrees_with_receiver_truth(mixed_capture):
    """The scene's truth (reference spectra) equals the receiver's (its own waveforms)."""
    rx, _, block = mixed_capture
    by_rx = {t.emitter_id: t for t in rx.truth(block.t_start_ns)}
    by_scene = {
        t.emitter_id: t
        for t in rx.scene.truth("rx", F_CENTER_HZ, RATE_HZ, block.t_start_ns, gain_db=40.2)
    }
    for key, t in by_rx.items():
        assert by_scene[key].power_dbfs == pytest.approx(t.power_dbfs, abs=0.05)
        assert by_scene[key].f_apparent_hz == t.f_apparent_hz


def test_dbm_to_dbfs_is_the_documented_calibration(mixed_capture):
    rx, _, block = mixed_capture
    t = {t.emitter_id: t for t in rx.truth(block.t_start_ns)}["cw"]
    offset = rx.dbm_to_dbfs_offset_db(F_CENTER_HZ, 40.2)
    assert offset == pytest.approx(40.2 + 20.0)
    # IQ imbalance (0.2 dB, 1 deg) passes |mu|^2 of the power to the wanted signal.
    g = 10 ** (0.2 / 20)
    mu2 = abs((1 + g * np.exp(-1j * np.radians(1.0))) / 2) ** 2
    assert t.power_dbfs == pytest.approx(t.power_dbm + offset + 10 * np.log10(mu2), abs=1e-6)


def test_wideband_dvbt2_fills_the_band_with_the_power_truth_says(cu8):
    """7.61 MHz multiplex seen through 2.4 MS/s: flat top over the band, exact power."""
    from firmware_bridge.simulator import Scene, SimulatorReceiver, scene_path

    rx = SimulatorReceiver.from_scene(Scene.from_file(scene_path("basic")), "rx1", seed=2)
    with rx:
        rx.tune(546e6)
        block = rx.read(2**20)
        truth = {t.emitter_id: t for t in rx.truth()}["tv-ch30"]
        noise = rx.noise_truth()
    x = cu8(block.samples)
    x = x - x.mean()  # the scene's receiver has a DC offset
    f, p = _psd(x)
    flat = np.abs(f) < 0.35 * RATE_HZ
    top_db = 10 * np.log10(p[flat & (np.abs(f) > 20e3)])
    assert np.ptp(np.percentile(top_db, [5, 95])) < 1.5  # flat top
    measured = np.sum(p - 10 ** (noise.total_dbfs_hz / 10)) * (f[1] - f[0])
    # Image of the flat top falls on the flat top: add it back as the truth gives it.
    expected = 10 * np.log10(10 ** (truth.power_dbfs / 10) + 10 ** (truth.image_power_dbfs / 10))
    assert 10 * np.log10(measured) == pytest.approx(expected, abs=0.5)
    assert truth.in_band and not truth.fully_in_band
    assert truth.power_dbfs < truth.power_dbm + rx.dbm_to_dbfs_offset_db(546e6, 20.7) - 4.0


def test_wbfm_carries_a_19khz_pilot_and_a_38khz_stereo_subcarrier(mixed_capture):
    """FM-demodulate the broadcast emitter: pilot at 19 kHz, L-R around 38 kHz."""
    rx, x, block = mixed_capture
    truth = {t.emitter_id: t for t in rx.truth(block.t_start_ns)}["wbfm"]
    off = truth.f_apparent_hz - F_CENTER_HZ
    n = x.size
    spec = np.fft.fft(x * np.exp(-2j * np.pi * off * np.arange(n) / RATE_HZ))
    f = np.fft.fftfreq(n, 1 / RATE_HZ)
    spec[np.abs(f) > 120e3] = 0  # isolate the station
    y = np.fft.ifft(spec)[::8]  # 300 kS/s
    fs = RATE_HZ / 8
    mpx = np.angle(y[1:] * np.conj(y[:-1])) * fs / (2 * np.pi)  # instantaneous Hz
    fa, pa = welch(mpx, fs=fs, nperseg=2**16)
    pilot_band = (fa > 18e3) & (fa < 20e3)
    f_pilot = fa[pilot_band][np.argmax(pa[pilot_band])]
    assert f_pilot == pytest.approx(19e3, abs=fa[1] - fa[0])
    # The pilot line stands far above its neighbourhood.
    near = pilot_band & (np.abs(fa - 19e3) > 200)
    assert pa[pilot_band].max() > 100 * np.median(pa[near])
    # L-R (DSB-SC on 38 kHz): 23..53 kHz carries far more than 60..70 kHz (empty).
    lr = np.mean(pa[(fa > 25e3) & (fa < 51e3)])
    empty = np.mean(pa[(fa > 60e3) & (fa < 70e3)])
    assert lr > 30 * empty
    # Peak deviation near 75 kHz (the limiter allows pilot + audio up to 1.0).
    assert 55e3 < np.percentile(np.abs(mpx), 99.99) < 80e3
