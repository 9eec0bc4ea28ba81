"""FM broadcast carriers by demodulation (dsp.fm_carrier), against known carriers.

The signals are the simulator's stereo multiplex (firmware_bridge.simulator.modulation:
programme audio, 19 kHz pilot, 38 kHz L-R) and analytic FM of a bass tone, whose
carrier is known exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsp.fm_carrier import is_fm_candidate, measure_fm_carrier
from dsp.iq_analysis import analyze_iq
from firmware_bridge.simulator import modulation as mod

RATE = 1.2e6  # an RTL-SDR rate at which a test makes 2 s of programme quickly
FC = 100e6
SECONDS = 2.05  # dsp.fm_carrier.MEASURE_S of signal, and a little more


def fm_station(n: int, offset_hz: float, rng: np.random.Generator, *, stereo: bool = True,
               amp: float = 0.3) -> np.ndarray:
    t = np.arange(n) / RATE
    x = mod.wbfm(RATE, n, rng, stereo=stereo) * np.exp(2j * np.pi * offset_hz * t)
    return (amp * x).astype(np.complex64)


def noise(n: int, rng: np.random.Generator, sigma: float = 0.01) -> np.ndarray:
    return (sigma * (rng.standard_normal(n) + 1j * rng.standard_normal(n))).astype(np.complex64)


@pytest.mark.parametrize(("offset_hz", "guess_error_hz"),
                         [(-412_345.0, -4000.0), (300_000.0, 2500.0)])
def test_stereo_carrier_within_100_hz_from_a_wrong_guess(offset_hz: float,
                                                         guess_error_hz: float) -> None:
    rng = np.random.default_rng(int(offset_hz) % 1000)
    n = int(SECONDS * RATE)
    x = fm_station(n, offset_hz, rng) + noise(n, rng)
    c = measure_fm_carrier(x, sample_rate_hz=RATE, f_center_hz=FC,
                           f_guess_hz=FC + offset_hz + guess_error_hz)
    assert c is not None
    assert c.method == "fm_pilot"
    assert abs(c.f_hz - (FC + offset_hz)) <= 100.0
    assert abs(c.pilot_f_hz - mod.PILOT_HZ) <= 1.0
    assert c.duration_s >= 2.0
    # under a second of signal is too little (the programme biases the mean)
    assert measure_fm_carrier(x[: int(0.9 * RATE)], sample_rate_hz=RATE, f_center_hz=FC,
                              f_guess_hz=FC + offset_hz) is None


def test_mono_fm_is_demodulated_without_pilot_and_uint8_works() -> None:
    rng = np.random.default_rng(3)
    n = int(SECONDS * RATE)
    x = fm_station(n, 250_000.0, rng, stereo=False) + noise(n, rng)
    iq = np.empty(2 * n, dtype=np.float64)
    iq[0::2], iq[1::2] = x.real, x.imag
    raw = np.clip(np.round(iq * 128 + 127.5), 0, 255).astype(np.uint8)
    c = measure_fm_carrier(raw, sample_rate_hz=RATE, f_center_hz=FC, f_guess_hz=FC + 252e3)
    assert c is not None and c.method == "fm_demod"
    assert abs(c.f_hz - (FC + 250e3)) <= 100.0


def test_bass_tone_bias_is_taken_out_by_the_window() -> None:
    # FM of a 43.3 Hz tone at 75 kHz deviation over 2 s: a plain mean of the
    # instantaneous frequency is off by up to 75e3 / (pi * 43.3 * 2) = 275 Hz; the
    # Hann-weighted mean is not.
    n = int(2.0 * RATE)
    t = np.arange(n) / RATE
    f_audio, dev, offset = 43.3, 75e3, 150e3
    phase = 2 * np.pi * offset * t + dev / f_audio * np.sin(2 * np.pi * f_audio * t + 0.4)
    x = (0.3 * np.exp(1j * phase)).astype(np.complex64)
    plain = float(np.mean(np.diff(np.unwrap(np.angle(x.astype(np.complex128)))))
                  * RATE / (2 * math.pi))
    assert abs(plain - offset) > 100  # the bias this module is about
    c = measure_fm_carrier(x, sample_rate_hz=RATE, f_center_hz=FC, f_guess_hz=FC + offset)
    assert c is not None and c.method == "fm_demod"
    assert abs(c.f_hz - (FC + offset)) <= 5.0


def test_not_fm_keeps_the_obw_centre() -> None:
    rng = np.random.default_rng(5)
    n = int(SECONDS * RATE)
    # a 150 kHz band of Gaussian noise: wide like FM, but its envelope is not constant
    spec = np.zeros(n, complex)
    f = np.fft.fftfreq(n, 1 / RATE)
    sel = np.abs(f - 200e3) < 75e3
    spec[sel] = rng.standard_normal(sel.sum()) + 1j * rng.standard_normal(sel.sum())
    x = np.fft.ifft(spec)
    x = (0.2 * x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex64)
    assert measure_fm_carrier(x, sample_rate_hz=RATE, f_center_hz=FC, f_guess_hz=FC + 200e3) is None


def test_analyze_iq_reports_fm_carriers_and_their_method() -> None:
    rng = np.random.default_rng(7)
    n = int(SECONDS * RATE)
    truth = (FC - 300_000.0, FC + 400_000.0)
    x = (fm_station(n, truth[0] - FC, rng) + fm_station(n, truth[1] - FC, rng, amp=0.1)
         + noise(n, rng))
    t = np.arange(n) / RATE
    x += (0.01 * np.exp(2j * np.pi * 123_456.0 * t)).astype(np.complex64)  # a CW
    r = analyze_iq(x, sample_rate_hz=RATE, f_center_hz=FC)
    fm = [e for e in r.emissions if e.f_method == "fm_pilot"]
    assert len(fm) == 2
    for e, f in zip(sorted(fm, key=lambda e: e.f_hz), truth, strict=True):
        assert abs(e.f_hz - f) <= 100.0
        assert is_fm_candidate(e, f_center_hz=FC, sample_rate_hz=RATE)
    cw = [e for e in r.emissions if abs(e.f_hz - (FC + 123_456.0)) < 1e3]
    assert len(cw) == 1 and cw[0].f_method == "obw_centre"
    # and with the demodulation off, the carriers come from the 99 % bandwidth
    r0 = analyze_iq(x, sample_rate_hz=RATE, f_center_hz=FC, fm_carriers=False)
    assert all(e.f_method == "obw_centre" for e in r0.emissions)


def test_a_neighbour_in_the_channel_is_not_taken_for_the_carrier() -> None:
    # Two stations 200 kHz apart, the second 25 dB stronger: its skirt inside the weak
    # one's channel would move the weak one's demodulated mean by kHz. The cross-check
    # of two channel widths refuses it (its frequency stays the 99 % centre); the
    # strong one is measured.
    rng = np.random.default_rng(9)
    n = int(SECONDS * RATE)
    weak, strong = -300e3, -100e3
    x = (fm_station(n, weak, rng, amp=0.01) + fm_station(n, strong, rng, amp=0.01 * 10**1.25)
         + noise(n, rng, sigma=0.001))
    assert measure_fm_carrier(x, sample_rate_hz=RATE, f_center_hz=FC,
                              f_guess_hz=FC + weak + 1500) is None
    c = measure_fm_carrier(x, sample_rate_hz=RATE, f_center_hz=FC, f_guess_hz=FC + strong - 1500)
    assert c is not None and abs(c.f_hz - (FC + strong)) <= 100.0
