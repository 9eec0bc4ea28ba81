"""RTL-SDR artefacts: DC spike, IQ image and overload products rejected, real signals kept."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsp.artefacts import (
    REASON_DC,
    REASON_IMAGE,
    REASON_OVERLOAD,
    reject_artefacts,
    verify_by_retuning,
)
from dsp.pipeline import analyze_iq, analyze_spectrum
from dsp.spectrum import welch_spectrum
from dsp.types import Emission, Spectrum

RATE = 2.048e6
FC = 145.0e6


def scene_iq(
    tones: list[tuple[float, float]], *, f_center_hz: float = FC, n: int = 1 << 18,
    dc: complex = 0j, image_db: float | None = None, seed: int = 0,
) -> np.ndarray:
    """Complex baseband: tones (RF Hz, power dBFS) over -100 dBFS/Hz-ish noise.

    ``image_db`` adds the IQ-imbalance mirror ``eps * conj(x)`` of every tone,
    ``image_db`` dB weaker; ``dc`` adds a constant (LO leakage).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    x = np.zeros(n, np.complex128)
    for f_hz, p_db in tones:
        x += 10 ** (p_db / 20) * np.exp(2j * np.pi * (f_hz - f_center_hz) * t)
    if image_db is not None:
        x = x + 10 ** (-image_db / 20) * np.conj(x)
    sigma = 10 ** (-37 / 20) / np.sqrt(2)  # -37 dBFS total noise
    x += rng.normal(0, sigma, n) + 1j * rng.normal(0, sigma, n) + dc
    return x.astype(np.complex64)


def test_image_rejected_real_signal_kept() -> None:
    x = scene_iq([(FC + 300e3, -10.0), (FC + 500e3, -50.0)], image_db=30.0)
    r = analyze_iq(x, sample_rate_hz=RATE, f_center_hz=FC, refine=False)
    kept = sorted(round(e.f_hz / 1e3) for e in r.emissions)
    assert kept == [round((FC + 300e3) / 1e3), round((FC + 500e3) / 1e3)]
    images = [e for e, why in r.rejected if why == REASON_IMAGE]
    assert len(images) == 1
    assert abs(images[0].f_hz - (FC - 300e3)) < 2 * r.spectrum.f_step_hz
    assert images[0].power_db == pytest.approx(-40.0, abs=0.5)


def test_weak_real_mirror_partner_is_not_an_image_when_too_strong() -> None:
    # a second station only 5 dB weaker at the mirror frequency cannot be an image
    x = scene_iq([(FC + 300e3, -10.0), (FC - 300e3, -15.0)])
    r = analyze_iq(x, sample_rate_hz=RATE, f_center_hz=FC, refine=False)
    assert len(r.emissions) == 2
    assert not r.rejected or all(why != REASON_IMAGE for _, why in r.rejected)


def test_dc_spike_rejected() -> None:
    x = scene_iq([(FC + 200e3, -30.0)], dc=0.05 + 0.03j)
    s = welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=FC, fft_size=2048, remove_dc=False)
    r = analyze_spectrum(s)
    assert [round(e.f_hz / 1e3) for e in r.emissions] == [round((FC + 200e3) / 1e3)]
    dc = [e for e, why in r.rejected if why == REASON_DC]
    assert len(dc) == 1 and abs(dc[0].f_hz - FC) < 2 * s.f_step_hz
    # the same spike without the DC rule would have been reported: the test can fail
    r_no_centre = analyze_spectrum(s, tuned_centres_hz=())
    assert any(abs(e.f_hz - FC) < 2 * s.f_step_hz for e in r_no_centre.emissions)


def _emission(f_hz: float, power_db: float, bw_hz: float = 3e3) -> Emission:
    return Emission(f_hz=f_hz, bw_99_hz=bw_hz, bw_xdb_hz=bw_hz, power_db=power_db,
                    peak_power_db=power_db, snr_db=40.0, noise_floor_db=-90.0,
                    power_unit="dBFS", f_resolution_hz=1e3, t_first_ns=0, t_last_ns=1)


def test_overload_products_flagged_only_when_clipped() -> None:
    spectrum = Spectrum(FC - RATE / 2, 1e3, np.full(2048, -90.0, np.float32), "dBFS", 1.5e3,
                        0, 1, overload=True)
    f1, f2 = FC + 200e3, FC + 350e3
    ems = [_emission(f1, -5.0), _emission(f2, -6.0),
           _emission(2 * f1 - f2, -45.0),  # third-order product
           _emission(FC + 620e3, -45.0)]  # a weak real one elsewhere
    kept, rejected = reject_artefacts(ems, spectrum, tuned_centres_hz=[FC])
    assert [e.f_hz for e, why in rejected if why == REASON_OVERLOAD] == [2 * f1 - f2]
    assert FC + 620e3 in [e.f_hz for e in kept]
    kept, rejected = reject_artefacts(ems, dataclasses.replace(spectrum, overload=False),
                                      tuned_centres_hz=[FC])
    assert len(kept) == 4 and not rejected


def test_verify_by_retuning_moves_artefacts_not_emissions() -> None:
    tones = [(FC + 300e3, -10.0), (FC + 520e3, -45.0)]

    def remeasure(f_center_hz: float) -> Spectrum:
        x = scene_iq(tones, f_center_hz=f_center_hz, image_db=30.0, seed=7)
        return welch_spectrum(x, sample_rate_hz=RATE, f_center_hz=f_center_hz, fft_size=2048)

    r = analyze_spectrum(remeasure(FC), tuned_centres_hz=[FC])
    image = next(e for e, why in r.rejected if why == REASON_IMAGE)
    weak = next(e for e in r.emissions if abs(e.f_hz - (FC + 520e3)) < 3e3)
    assert not verify_by_retuning(image, remeasure, f_center_hz=FC, shift_hz=100e3).real
    v = verify_by_retuning(weak, remeasure, f_center_hz=FC, shift_hz=100e3)
    assert v.real and abs(v.power_after - v.power_before) < 1.0


def test_bad_arguments_are_named() -> None:
    s = Spectrum(FC, 1e3, np.zeros(16, np.float32), "dBFS", 1.5e3, 0, 1)
    with pytest.raises(ValueError, match="image_rejection_db"):
        reject_artefacts([], s, image_rejection_db=(40.0, 20.0))
    with pytest.raises(ValueError, match="tuned_centres_hz"):
        reject_artefacts([], s, tuned_centres_hz=[float("nan")])
    with pytest.raises(ValueError, match="shift_hz"):
        verify_by_retuning(_emission(FC, -10), lambda f: s, f_center_hz=FC, shift_hz=0.0)
    with pytest.raises(TypeError, match="Spectrum"):
        verify_by_retuning(_emission(FC, -10), lambda f: None, f_center_hz=FC, shift_hz=1e3)
