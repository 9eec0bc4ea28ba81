"""The carrier frequency of an FM broadcast station, measured by demodulating it.

The centre of an FM station's 99 % bandwidth wanders with the programme (loud bass
on one side of the carrier for a while), by kHz. Its carrier does not: audio has no
DC, so the mean of the demodulated instantaneous frequency is the carrier's offset
from where we mixed it (:func:`dsp.calibration.fm_demodulate`). Over a block of
``T`` seconds a plain mean is biased by audio whose phase excursion does not cancel
at the block's ends (up to ``deviation / (pi f_audio T)``: 480 Hz for 50 Hz bass over
1 s), so the mean here is weighted by a Hann window over the block, whose leakage at
``f_audio * T`` bins away is negligible (far under 1 Hz for a tone above 20 Hz). What
remains is the programme's own content below a few hertz (a clipper makes some): in
the simulator's compressed programme up to about 130 Hz over 1 s and 75 Hz over 2 s,
hence :data:`MEASURE_S` = 2 s, and nothing shorter than :data:`MIN_MEASURE_S` = 1 s.

Which emissions: width between :data:`MIN_BW_HZ` and :data:`MAX_BW_HZ` within
:data:`FM_BANDS_HZ`, wholly inside the capture. Each is mixed to 0 Hz, low-passed
and decimated to 256 kS/s (one channel: one FFT of the block, the station's bins,
one small inverse FFT), and demodulated over :data:`MEASURE_S`. A neighbour leaking
into the channel biases the mean (a station 200 kHz away and 25 dB stronger moves it
by kHz), so the carrier is measured twice, on channels of +-128 and +-96 kHz: a clean
station gives the same carrier on both, a disturbed one does not, and then its
frequency stays the 99 % bandwidth's centre. The 19 kHz stereo pilot
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

__all__ = ["FM_BANDS_HZ", "MEASURE_S", "MIN_MEASURE_S", "is_fm_candidate", "measure_fm_carrier",
           "apply_fm_carriers", "FmCarrier"]

#: FM broadcast bands (OIRT 65.8-74, Japan 76-95, CCIR 87.5-108 MHz), Hz.
FM_BANDS_HZ: tuple[tuple[float, float], ...] = ((65.8e6, 74.0e6), (76.0e6, 108.0e6))
#: 99 % bandwidths an FM broadcast may show, Hz.
MIN_BW_HZ, MAX_BW_HZ = 60e3, 320e3
#: Seconds of signal demodulated per station (the first ones of the block; fewer when
#: the block is shorter, down to :data:`MIN_MEASURE_S`). Over 1 s the simulator's
#: compressed programme leaves the Hann-weighted mean up to about 130 Hz off its
#: carrier, over 2 s about 75.
MEASURE_S = 2.0
#: Shortest block whose FM carriers are demodulated, s (shorter: the 99 % centre stays).
MIN_MEASURE_S = 1.0
#: Half-width of the channel kept around the carrier, Hz (deviation + stereo MPX).
_CHANNEL_HALF_HZ = 128e3
#: The narrower channel of the cross-check, as a fraction of the full one (+-96 kHz).
_NARROW = 0.75
#: Largest difference between the two channels' carriers, Hz, before the station is
#: taken as disturbed by a neighbour (its frequency then stays the 99 % centre).
_MAX_DISAGREEMENT_HZ = 40.0
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
        complex samples or uint8 interleaved I/Q, at least :data:`MIN_MEASURE_S`
        (the first :data:`MEASURE_S` are used).
    sample_rate_hz, f_center_hz:
        Of ``iq``, Hz.
    f_guess_hz:
        Where the station is thought to be (e.g. its 99 % bandwidth's centre), Hz.

    Returns
    -------
    FmCarrier or None
        ``None`` when the signal does not demodulate as FM (see the module notes).
    """
    spec = _block_spectrum(iq, float(sample_rate_hz))
    if spec is None:
        return None
    return _measure(spec, float(sample_rate_hz), f_center_hz, f_guess_hz)


def _block_spectrum(iq: np.ndarray, rate: float) -> np.ndarray | None:
    """FFT of the first :data:`MEASURE_S` of ``iq`` (complex64), ``None`` if too short."""
    import scipy.fft

    if iq.dtype == np.uint8:
        iq = iq.reshape(-1, 2)  # one row per complex sample
    n = min(iq.shape[0], int(MEASURE_S * rate))
    if n < int(MIN_MEASURE_S * rate) or rate < 2 * _CHANNEL_HALF_HZ:
        return None
    if iq.dtype == np.uint8:  # (n, 2) rows of I, Q
        x = (iq[:n].astype(np.float32) - np.float32(127.5)) * np.float32(1.0 / 128.0)
        x = x.view(np.complex64).ravel()
    else:
        x = np.asarray(iq[:n], dtype=np.complex64)
    return scipy.fft.fft(x, workers=1)


def _measure(spec: np.ndarray, rate: float, f_center_hz: float,
             f_guess_hz: float) -> FmCarrier | None:
    """:func:`measure_fm_carrier` on the block's spectrum (shared by its stations)."""
    import scipy.fft

    from dsp.calibration import estimate_pilot_offset_hz

    n = spec.size
    band, f_mix = _channel_spectrum(spec, rate, f_guess_hz - f_center_hz)
    out_rate = band.size * rate / n
    y = _channel_iq(band, 1.0, n, scipy.fft)
    env = np.abs(y)
    if not env.mean() > 0:
        return None
    f_off = _mean_frequency_hz(y, out_rate)
    # The same from a narrower channel: a neighbour leaking into the channel pulls
    # the two apart (a clean station's carrier does not depend on the width kept).
    f_narrow = _mean_frequency_hz(_channel_iq(band, _NARROW, n, scipy.fft), out_rate)
    if abs(f_off) > _CHANNEL_HALF_HZ / 2 or abs(f_off - f_narrow) > _MAX_DISAGREEMENT_HZ:
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


def _mean_frequency_hz(y: np.ndarray, rate: float) -> float:
    """Hann-weighted mean instantaneous frequency of ``y``, Hz (module notes)."""
    from dsp.calibration import fm_demodulate

    d = fm_demodulate(y.astype(np.complex128), rate)
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(d.size) / d.size)
    return float(np.dot(w, d) / w.sum())


def _channel_spectrum(spec: np.ndarray, rate: float,
                      offset_hz: float) -> tuple[np.ndarray, float]:
    """The spectrum of one station's channel, and the frequency mixed to 0 Hz.

    From the block's spectrum, the bins within :data:`_CHANNEL_HALF_HZ` of the
    station, centred on a whole number of bins from 0 Hz (that is the mixing, exact),
    in the order of a 256 kS/s signal's shifted spectrum.
    """
    n = spec.size
    k0 = int(round(offset_hz * n / rate))
    half = int(_CHANNEL_HALF_HZ * n / rate)
    band = spec[(k0 + np.arange(-half, half)) % n].astype(np.complex64)
    return band, k0 * rate / n


def _channel_iq(band: np.ndarray, frac: float, n: int, fft: ModuleType) -> np.ndarray:
    """Decimation in the frequency domain: the middle ``frac`` of ``band`` with a
    raised-cosine edge (over 12 % of each side), one small inverse FFT. The block is
    treated as periodic; the Hann weighting of the mean frequency keeps the joint at
    the ends out of the result."""
    m = band.size
    keep = int(frac * m / 2)
    edge = max(1, int(0.12 * keep))
    taper = np.zeros(m, dtype=np.float32)
    mid = m // 2
    taper[mid - keep:mid + keep] = 1.0
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(edge) + 0.5) / edge)).astype(np.float32)
    taper[mid - keep:mid - keep + edge] = ramp
    taper[mid + keep - edge:mid + keep] = ramp[::-1]
    y = fft.ifft(np.fft.ifftshift(band * taper), workers=1) * np.float32(m / n)
    return y.astype(np.complex64)


def apply_fm_carriers(
    emissions: Sequence[Emission], iq: np.ndarray | None, *, sample_rate_hz: float,
    f_center_hz: float,
) -> tuple[Emission, ...]:
    """``emissions`` with each FM broadcast's ``f_hz`` set to its demodulated carrier.

    ``iq`` holds the first seconds of the block, complex or uint8 interleaved
    (``None``: nothing to do). ``f_method`` says how each frequency was found.
    """
    rate = float(sample_rate_hz)
    spec = None  # one FFT of the block for all its stations
    out = []
    for e in emissions:
        if iq is not None and is_fm_candidate(e, f_center_hz=f_center_hz,
                                              sample_rate_hz=rate):
            if spec is None:
                spec = _block_spectrum(iq, rate)
                if spec is None:  # too short
                    iq = None
                    out.append(e)
                    continue
            c = _measure(spec, rate, f_center_hz, e.f_hz)
            if c is not None:
                e = dataclasses.replace(e, f_hz=c.f_hz, f_method=c.method)
        out.append(e)
    return tuple(out)


def needs_fm(emissions: Sequence[Emission], *, sample_rate_hz: float,
             f_center_hz: float) -> bool:
    """Whether any emission is an FM broadcast candidate (so the IQ must be read again)."""
    return any(is_fm_candidate(e, f_center_hz=f_center_hz, sample_rate_hz=sample_rate_hz)
               for e in emissions)
