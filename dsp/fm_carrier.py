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
and decimated to about 256 kS/s (one channel), and demodulated over
:data:`MEASURE_S`. The 19 kHz stereo pilot
(:func:`dsp.calibration.estimate_pilot_offset_hz`) confirms a stereo broadcast:
``f_method = "fm_pilot"``. Without a pilot the demodulated mean is used only when
the envelope is nearly constant, as FM's is (``"fm_demod"``); otherwise the 99 %
bandwidth's centre stays (``"obw_centre"``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

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
    import scipy.signal

    from dsp.calibration import estimate_pilot_offset_hz, fm_demodulate

    rate = float(sample_rate_hz)
    if iq.dtype == np.uint8:
        iq = iq.reshape(-1, 2)  # one row per complex sample
    q = max(1, int(rate // (2 * _CHANNEL_HALF_HZ)))
    out_rate = rate / q
    n = min(iq.shape[0], int(MEASURE_S * rate))
    if n < int(0.2 * rate) or out_rate < 2 * _CHANNEL_HALF_HZ * 0.9:
        return None
    offset = f_guess_hz - f_center_hz
    mixed = _mixed(iq, n, -2.0 * math.pi * offset / rate)
    y = scipy.signal.resample_poly(mixed, 1, q) if q > 1 else mixed
    del mixed
    env = np.abs(y)
    if not env.mean() > 0:
        return None
    d = fm_demodulate(y.astype(np.complex128), out_rate)
    w = scipy.signal.get_window("hann", d.size)
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
    return FmCarrier(f_hz=float(f_guess_hz + f_off), method=method,
                     pilot_f_hz=float(pilot.pilot_f_hz) if pilot is not None else math.nan,
                     duration_s=y.size / out_rate)


def _mixed(iq: np.ndarray, n: int, w_rad: float) -> np.ndarray:
    """The first ``n`` samples times ``exp(1j * w_rad * k)``, complex64, block by block
    (bounded temporaries; the phase in float64 stays exact over seconds)."""
    out = np.empty(n, dtype=np.complex64)
    block = 1 << 16
    for a in range(0, n, block):
        b = min(n, a + block)
        if iq.dtype == np.uint8:  # (k, 2) rows of I, Q
            x = (iq[a:b].astype(np.float32) - np.float32(127.5)) * np.float32(1.0 / 128.0)
            x = x.view(np.complex64).ravel()
        else:
            x = iq[a:b].astype(np.complex64)
        nco = np.exp(1j * (np.arange(a, b, dtype=np.float64) * w_rad)).astype(np.complex64)
        np.multiply(x, nco, out=out[a:b])
    return out


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
