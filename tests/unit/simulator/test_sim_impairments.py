"""Front-end impairments: image, crystal error, clipping, DC offset, roll-off."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from firmware_bridge.simulator.impairments import (
    anti_alias_gain,
    image_rejection_db,
    iq_imbalance_coefficients,
)
from firmware_bridge.simulator.receiver import SimulatorReceiver

RATE_HZ = 2.4e6
F_CENTER_HZ = 100e6


def _band_power(f, p, f0, half_hz):
    band = (f > f0 - half_hz) & (f < f0 + half_hz)
    return float(np.sum(p[band]) * (f[1] - f[0]))


def _psd(x, nperseg=16384):
    f, p = welch(x, fs=RATE_HZ, nperseg=nperseg, return_onesided=False, detrend=False)
    order = np.argsort(f)
    return f[order], p[order]


@pytest.mark.parametrize(("amp_db", "phase_deg"), [(1.0, 5.0), (0.5, -3.0), (0.0, 8.0)])
def test_image_at_mirror_with_expected_rejection(make_mixed_scene, cu8, amp_db, phase_deg):
    rx = SimulatorReceiver.from_scene(
        make_mixed_scene(amp_db=amp_db, phase_deg=phase_deg), "rx", seed=5
    )
    with rx:
        x = cu8(rx.read(2**20).samples)
    cw = {t.emitter_id: t for t in rx.truth()}["cw"]
    off = cw.f_apparent_hz - F_CENTER_HZ
    assert cw.image_f_hz - F_CENTER_HZ == pytest.approx(-off)
    f, p = _psd(x)
    noise = float(np.median(p[(f > -480e3) & (f < -260e3)]))
    wanted = _band_power(f, p, off, 2e3) - noise * 4e3
    image = _band_power(f, p, -off, 2e3) - noise * 4e3
    irr = image_rejection_db(amp_db, phase_deg)
    assert 10 * np.log10(wanted / image) == pytest.approx(irr, abs=0.5)
    assert cw.power_dbfs - cw.image_power_dbfs == pytest.approx(irr)


def test_image_rejection_formula_against_direct_computation():
    """mu, nu against applying the model to a tone and projecting onto e^{+-jwt}."""
    n = 4096
    t = np.arange(n)
    x = np.exp(2j * np.pi * 100 * t / n)
    g, ph = 10 ** (0.7 / 20), np.radians(4.0)
    y = x.real + 1j * g * (x.imag * np.cos(ph) - x.real * np.sin(ph))
    mu_direct = np.vdot(x, y) / n
    nu_direct = np.vdot(np.conj(x), y) / n
    mu, nu = iq_imbalance_coefficients(0.7, 4.0)
    assert mu_direct == pytest.approx(mu)
    assert nu_direct == pytest.approx(nu)


@pytest.mark.parametrize("ppm", [50.0, -30.0])
def test_ppm_moves_the_carrier_by_the_expected_hz(make_mixed_scene, cu8, ppm):
    rx = SimulatorReceiver.from_scene(make_mixed_scene(ppm=ppm), "rx", seed=2)
    f_rf = 100.45e6  # the CW emitter
    n = 2**20
    with rx:
        x = cu8(rx.read(n).samples)
        # Zero-padded FFT around the carrier; the peak bin is 0.57 Hz wide.
        spec = np.abs(np.fft.fft(x * np.hanning(n), 4 * n))
        freqs = np.fft.fftfreq(4 * n, 1 / RATE_HZ)
        near = np.abs(freqs - (f_rf - F_CENTER_HZ)) < 20e3
        f_peak = F_CENTER_HZ + freqs[near][np.argmax(spec[near])]
        expected = f_rf / (1 + ppm * 1e-6)
        # Within half the waveform grid (2.4 MS/s / 2**19 / 2 = 2.3 Hz) plus a bin.
        assert f_peak == pytest.approx(expected, abs=3.0)
        assert abs(f_peak - f_rf) == pytest.approx(abs(ppm) * 1e-6 * f_rf, abs=3.0)
        # Correcting the ppm puts the carrier back on its RF frequency.
        rx.set_ppm(ppm)
        x = cu8(rx.read(n).samples)
        spec = np.abs(np.fft.fft(x * np.hanning(n), 4 * n))
        f_peak = F_CENTER_HZ + freqs[near][np.argmax(spec[near])]
        assert f_peak == pytest.approx(f_rf, abs=3.0)
        cw = {t.emitter_id: t for t in rx.truth()}["cw"]
        assert cw.f_apparent_hz == pytest.approx(f_rf, abs=2.5)


def test_clipping_sets_the_overload_flag(make_mixed_scene, cu8):
    quiet = SimulatorReceiver.from_scene(make_mixed_scene(gain=20.7), "rx", seed=1)
    loud = SimulatorReceiver.from_scene(make_mixed_scene(gain=49.6), "rx", seed=1)
    with quiet, loud:
        q = quiet.read(2**18)
        lo = loud.read(2**18)
    assert not q.overload
    assert q.samples.min() > 0 and q.samples.max() < 255
    assert lo.overload
    assert np.mean((lo.samples == 0) | (lo.samples == 255)) > 1e-4


def test_dc_offset_appears_as_the_mean(make_mixed_scene, cu8):
    rx = SimulatorReceiver.from_scene(make_mixed_scene(dc_i=0.02, dc_q=-0.01), "rx", seed=4)
    with rx:
        x = cu8(rx.read(2**20).samples)
    # The emitters average out over a second; the remaining mean is the DC offset.
    assert x.mean().real == pytest.approx(0.02, abs=2e-3)
    assert x.mean().imag == pytest.approx(-0.01, abs=2e-3)


def test_anti_alias_rolls_off_only_the_outer_ten_percent():
    f = np.array([0.0, 0.3, 0.399, 0.45, 0.5]) * RATE_HZ
    g_db = 20 * np.log10(anti_alias_gain(f, RATE_HZ))
    assert g_db[:3] == pytest.approx([0.0, 0.0, 0.0])
    assert g_db[3] == pytest.approx(-10.0)
    assert g_db[4] == pytest.approx(-20.0)


def test_noise_floor_rolls_off_at_the_band_edges(mixed_capture):
    _, x, _ = mixed_capture
    f, p = _psd(x)
    mid = np.median(p[(f > -480e3) & (f < -260e3)])
    edge = np.median(p[(f < -1.17e6)])
    # Thermal noise dominates at 40 dB gain; near the edge it is filtered away toward
    # the flat 8-bit floor, at least 6 dB lower.
    assert 10 * np.log10(mid / edge) > 6.0


def test_emitter_in_the_roll_off_is_attenuated_as_truth_says(make_mixed_scene, cu8):
    """Tune so the CW carrier sits at 0.45 fs (-10 dB of roll-off)."""
    rx = SimulatorReceiver.from_scene(make_mixed_scene(), "rx", seed=8)
    with rx:
        rx.tune(100.45e6 - 0.45 * RATE_HZ)
        x = cu8(rx.read(2**20).samples)
        cw = {t.emitter_id: t for t in rx.truth()}["cw"]
    f, p = _psd(x)
    off = cw.f_apparent_hz - rx.f_center_hz
    measured = 10 * np.log10(_band_power(f, p, off, 2e3))
    assert measured == pytest.approx(cw.power_dbfs, abs=0.5)
    assert cw.power_dbm + rx.dbm_to_dbfs_offset_db(rx.f_center_hz, 40.2) - cw.power_dbfs == (
        pytest.approx(10.0, abs=0.1)
    )
    assert cw.in_band and not cw.fully_in_band
