"""The carrier frequency of an FM broadcast station, measured by demodulating it.

The centre of an FM station's 99 % bandwidth wanders with the programme (loud bass
on one side of the carrier for a while), by kHz. Its carrier does not: audio has no
DC, so the mean of the demodulated instantaneous frequency is the carrier's offset
from where we mixed it (:func:`dsp.calibration.fm_demodulate`). Over a block of
``T`` seconds a plain mean is biased by audio whose phase excursion does not cancel
at the block's ends (up to ``deviation / (pi f_audio T)``: 480 Hz for 50 Hz bass over
1 s), so the mean here is weighted by a Hann window over the block, whose leakage at
``f_audio * T`` bins away is negligible (far under 1 Hz for audio above 20 Hz).

Which emissions: width between :data:`MIN_BW_HZ` and :data:`MAX_BW_HZ` within
:data:`FM_BANDS_HZ`, wholly inside the capture. Each is mixed to 0 Hz, low-passed
and decimated to 256 kS/s (one channel: one FFT of the block, the station's bins,
one small inverse FFT), and demodulated over :data:`MEASURE_S`. The 19 kHz stereo pilot
(:func:`dsp.calibration.estimate_pilot_offset_hz`) confirms a stereo broadcast:
``f_method = "fm_pilot"``. Without a pilot the demodulated mean is used only when
the envelope is nearly constant, as FM's is (``"fm_demod"``); otherwise the 99 %
bandwidth's centre stays (``"obw_centre"``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from types import ModuleType

import numpy as np

from dsp.types import Emission

__all__ = ["FM_BANDS_HZ", "MEASURE_S", "is_fm_candidate", "measure_fm_carrier",
           "apply_fm_carriers", "FmCarrier"]

#: FM broadcast bands (OIRT 65.8-74, Japan 76-95, CCIR 87.5-108 MHz), Hz.
FM_BANDS_HZ: tuple[tuple[float, float], ...] = ((65.8e6, 74.0e6), (76.0e6, 108.0e6))
#: 99 % bandwidths an FM broadcast may show, Hz.
MIN_BW_HZ, MAX_BW_HZ = 60e3, 320e3
#: Seconds of signal demodulated per station (the first ones of the block).
MEASURE_S = 1.0
#: Half-width of the channel kept around the carrier, Hz (deviation + stereo MPX).
_CHANNEL_HALF_HZ = 128e3
#: Largest envelope scatter (std / mean of |x|) still taken as FM without a pilot.
_MAX_ENVELOPE_SCATTER = 0.25


@dataclasses.dataclass(frozen=True, slots=True)
class FmCarrier:
    """One station's demodulated carrier: ``f_hz`` and how it was confirmed."""

    f_hz: float
    method: str  # "fm_pilot" or "fm_demod"
    pilot_f_hz: float
    duration_s: float


def is_fm_candidate(e: Emission, *, f_center_hz: float, sample_rate_hz: float) -> bool:
    """An emission wide and placed like an FM broadcast, whole inside the capture."""
    in_band = any(lo <= e.f_hz <= hi for lo, hi in FM_BANDS_HZ)
    inside = abs(e.f_hz - f_center_hz) + _CHANNEL_HALF_HZ <= sample_rate_hz / 2
    return in_band and inside and MIN_BW_HZ <= e.bw_99_hz <= MAX_BW_HZ


def measure_fm_carrier(
    iq: np.ndarray, *, sample_rate_hz: float, f_center_hz: float, f_guess_hz: float,
) -> FmCarrier | None:
    """Measure one FM station's carrier in complex baseband ``iq`` (0 Hz = ``f_center_hz``).

    Parameters
    ----------
    iq:
        complex samples or uint8 interleaved I/Q, at least 0.2 s (the first
        :data:`MEASURE_S` are used).
    sample_rate_hz, f_center_hz:
        Of ``iq``, Hz.
    f_guess_hz:
        Where the station is thought to be (e.g. its 99 % bandwidth's centre), Hz.

    Returns
    -------
    FmCarrier or None
        ``None`` when the signal does not demodulate as FM (see the module notes).
    """
    import scipy.fft

    from dsp.calibration import estimate_pilot_offset_hz, fm_demodulate

    rate = float(sample_rate_hz)
    if iq.dtype == np.uint8:
        iq = iq.reshape(-1, 2)  # one row per complex sample
    n = min(iq.shape[0], int(MEASURE_S * rate))
    if n < int(0.2 * rate) or rate < 2 * _CHANNEL_HALF_HZ:
        return None
    y, f_mix = _channel(iq, n, rate, f_guess_hz - f_center_hz, scipy.fft)
    out_rate = y.size * rate / n
    env = np.abs(y)
    if not env.mean() > 0:
        return None
    d = fm_demodulate(y.astype(np.complex128), out_rate)
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(d.size) / d.size)  # Hann
    f_off = float(np.dot(w, d) / w.sum())
    if abs(f_off) > _CHANNEL_HALF_HZ / 2:
        return None
    try:
        pilot = estimate_pilot_offset_hz(y, sample_rate_hz=out_rate)
    except ValueError:
        pilot = None
    if pilot is not None and pilot.is_stereo_fm:
        method = "fm_pilot"
    elif float(env.std() / env.mean()) <= _MAX_ENVELOPE_SCATTER:
        method = "fm_demod"
    else:
        return None
    return FmCarrier(f_hz=float(f_center_hz + f_mix + f_off), method=method,
                     pilot_f_hz=float(pilot.pilot_f_hz) if pilot is not None else math.nan,
                     duration_s=y.size / out_rate)


def _channel(iq: np.ndarray, n: int, rate: float, offset_hz: float,
             fft: ModuleType) -> tuple[np.ndarray, float]:
    """One station's channel at about 256 kS/s, and the frequency mixed to 0 Hz.

    Decimation in the frequency domain: one FFT of the first ``n`` samples, the bins
    within :data:`_CHANNEL_HALF_HZ` of the station (a whole number of bins from 0 Hz:
    that is the mixing, exact) with a raised-cosine edge, one small inverse FFT. The
    block is treated as periodic; the Hann weighting of the mean frequency keeps the
    joint at the ends out of the result.
    """
    if iq.dtype == np.uint8:  # (n, 2) rows of I, Q
        x = (iq[:n].astype(np.float32) - np.float32(127.5)) * np.float32(1.0 / 128.0)
        x = x.view(np.complex64).ravel()
    else:
        x = np.asarray(iq[:n], dtype=np.complex64)
    spec = fft.fft(x, workers=1)
    del x
    k0 = int(round(offset_hz * n / rate))
    half = int(_CHANNEL_HALF_HZ * n / rate)
    m = 2 * half  # output samples: 2 * _CHANNEL_HALF_HZ = 256 kS/s
    k = np.arange(-half, half)
    band = spec[(k0 + k) % n]
    del spec
    edge = int(0.12 * half)  # raised-cosine over the outer 12 % of each side
    taper = np.ones(m, dtype=np.float32)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(edge) + 0.5) / edge)
    taper[:edge] = ramp
    taper[m - edge:] = ramp[::-1]
    band *= taper
    y = fft.ifft(np.fft.ifftshift(band), workers=1) * np.float32(m / n)
    return y.astype(np.complex64), k0 * rate / n


def apply_fm_carriers(
    emissions: Sequence[Emission], iq: np.ndarray | None, *, sample_rate_hz: float,
    f_center_hz: float,
) -> tuple[Emission, ...]:
    """``emissions`` with each FM broadcast's ``f_hz`` set to its demodulated carrier.

    ``iq`` holds the first seconds of the block, complex or uint8 interleaved
    (``None``: nothing to do). ``f_method`` says how each frequency was found.
    """
    out = []
    for e in emissions:
        if iq is not None and is_fm_candidate(e, f_center_hz=f_center_hz,
                                              sample_rate_hz=sample_rate_hz):
            c = measure_fm_carrier(iq, sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
                                   f_guess_hz=e.f_hz)
            if c is not None:
                e = dataclasses.replace(e, f_hz=c.f_hz, f_method=c.method)
        out.append(e)
    return tuple(out)


def needs_fm(emissions: Sequence[Emission], *, sample_rate_hz: float,
             f_center_hz: float) -> bool:
    """Whether any emission is an FM broadcast candidate (so the IQ must be read again)."""
    return any(is_fm_candidate(e, f_center_hz=f_center_hz, sample_rate_hz=sample_rate_hz)
               for e in emissions)
