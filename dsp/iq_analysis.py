"""An IQ block in, its emissions out: coarse spectrum, refinement, time slices.

:func:`analyze_iq` computes the Welch spectrum first, with an FFT size giving a
1-2 kHz RBW, and re-measures narrow emissions (fewer than
:data:`REFINE_MIN_BINS` bins in their 99 % bandwidth) on a finer spectrum of the
same samples, so their bandwidths are not dominated by the window's own width.
Powers are means over the whole block (a burst's power is diluted by its duty
cycle, ``burst_power_db`` is the power while on); time slices of 5 ms
(:func:`dsp.slices.compute_time_slices`) find bursts and give ``duty_cycle`` and
``t_first_ns``/``t_last_ns`` (:mod:`dsp.bursts`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from dsp.analysis import AnalysisResult, analyze_spectrum
from dsp.iq import overload_fraction as clipped_fraction
from dsp.measure import AntennaFactor
from dsp.slices import compute_time_slices
from dsp.types import Spectrum

__all__ = ["REFINE_MIN_BINS", "analyze_iq", "default_fft_size"]

#: Narrow emissions (99 % bandwidth under this many bins) are re-measured finer.
REFINE_MIN_BINS = 40
#: Flags of the finer measurement that replace the coarse one's (the others, from
#: the slices and the overload and LO vetting, are the block's).
_MEASUREMENT_FLAGS = ("xdb_limited", "weak", "span_edge")
#: Target RBW of :func:`analyze_iq`'s first spectrum, Hz.
_TARGET_RBW_HZ = 1500.0
#: Fewest averages a spectrum of :func:`analyze_iq` may have.
_MIN_AVERAGES = 16

def default_fft_size(sample_rate_hz: float, n_samples: int) -> int:
    """FFT size for a ~1.5 kHz RBW: a power of two, 64 or more, leaving >= 16 averages.

    Examples
    --------
    >>> default_fft_size(2.4e6, 2_400_000), default_fft_size(250e3, 262_144)
    (2048, 256)
    """
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ValueError(f"sample_rate_hz must be finite and > 0, got {sample_rate_hz!r}")
    # Hann ENBW is 1.5 bins: bins of ~1 kHz give an RBW of ~1.5 kHz.
    want = sample_rate_hz / (_TARGET_RBW_HZ / 1.5)
    size = 2 ** max(6, int(round(math.log2(max(want, 1.0)))))
    cap = max(64, 2 ** int(math.floor(math.log2(max(n_samples * 2 // (_MIN_AVERAGES + 1), 64)))))
    return int(min(size, cap))


def _refine(
    result: AnalysisResult,
    welch: Callable[[int], Spectrum],
    n_samples: int,
    *,
    threshold_db: float | None,
    x_db: float,
    af_db_m: AntennaFactor | None,
    centres: tuple[float, ...],
) -> AnalysisResult:
    """Re-measure narrow emissions on a finer spectrum of the same samples."""
    step = result.spectrum.f_step_hz
    narrow = [e for e in result.emissions if e.bw_99_hz < REFINE_MIN_BINS * step]
    if not narrow:
        return result
    want = min(max(e.bw_99_hz, step) for e in narrow) / REFINE_MIN_BINS
    size = result.spectrum.n_bins * 2 ** max(1, int(math.ceil(math.log2(step / want))))
    cap = 2 ** int(math.floor(math.log2(max(n_samples * 2 // (_MIN_AVERAGES + 1), 2))))
    size = min(size, cap, 1 << 18)
    if size <= result.spectrum.n_bins:
        return result
    fine = analyze_spectrum(welch(size), threshold_db=threshold_db, x_db=x_db,
                            af_db_m=af_db_m, tuned_centres_hz=centres)
    out = []
    for e in result.emissions:
        if e.bw_99_hz >= REFINE_MIN_BINS * step:
            out.append(e)
            continue
        lo, hi = e.f_low_hz - 2 * step, e.f_high_hz + 2 * step
        match = [f for f in fine.emissions if lo <= f.f_hz <= hi]
        if len(match) == 1 and "burst" not in e.flags:
            # finer frequency and bandwidth; when and how it was seen stay the block's
            m = match[0]
            e = dataclasses.replace(
                m, t_first_ns=e.t_first_ns, t_last_ns=e.t_last_ns, duty_cycle=e.duty_cycle,
                burst_power_db=e.burst_power_db,
                flags=tuple(dict.fromkeys(
                    [*(f for f in m.flags if f in _MEASUREMENT_FLAGS), *e.flags])))
        out.append(e)
    return dataclasses.replace(result, emissions=tuple(out))


def analyze_iq(
    samples: np.ndarray,
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    t_start_ns: int = 0,
    fft_size: int | None = None,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
    calibration_offset_db: float | None = None,
    overload: bool = False,
    overload_fraction: float | None = None,
    station_id: str = "",
    receiver_id: str = "",
    refine: bool = True,
) -> AnalysisResult:
    """Analyse a block of IQ samples (uint8 interleaved or complex).

    Parameters
    ----------
    samples:
        ``uint8`` interleaved I/Q or complex samples (full scale 1.0).
    sample_rate_hz, f_center_hz:
        Complex sample rate and tuned RF centre, Hz.
    t_start_ns:
        UTC time of the first sample, ns.
    fft_size:
        FFT size (default :func:`default_fft_size`: about 1.5 kHz RBW).
    threshold_db, x_db, af_db_m:
        As for :func:`analyze_spectrum`.
    calibration_offset_db:
        dB from dBFS to dBm (``None``: results in dBFS).
    overload:
        The ADC clipped in these samples (enables overload-product rejection).
    overload_fraction:
        Fraction of the raw samples at the ADC's rails, when ``samples`` are not the
        raw ``uint8`` bytes (for those it is measured here).
    station_id, receiver_id:
        Copied into the results.
    refine:
        Re-measure narrow emissions on a finer spectrum (see the module notes).

    Returns
    -------
    AnalysisResult
    """
    from dsp.spectrum import welch_spectrum

    samples = np.asarray(samples)
    n_samples = samples.size // 2 if samples.dtype == np.uint8 else samples.size
    if n_samples < 64:
        raise ValueError(f"samples must hold at least 64 complex samples, got {n_samples}")
    size = default_fft_size(sample_rate_hz, n_samples) if fft_size is None else fft_size

    def welch(n: int) -> Spectrum:
        return welch_spectrum(
            samples, sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz, fft_size=n,
            t_start_ns=t_start_ns, station_id=station_id, receiver_id=receiver_id,
            calibration_offset_db=calibration_offset_db, overload=overload,
        )

    centres = (float(f_center_hz),)
    # Time slices of the same samples (bursts, duty cycle, keying; dsp.bursts) and
    # the clipped fraction of the raw bytes (overload products; dsp.overload).
    slices = compute_time_slices(samples, sample_rate_hz=sample_rate_hz,
                                 f_center_hz=f_center_hz, fft_size=size,
                                 t_start_ns=t_start_ns,
                                 calibration_offset_db=calibration_offset_db)
    fraction = (clipped_fraction(samples) if samples.dtype == np.uint8
                else overload_fraction)
    result = analyze_spectrum(welch(size), threshold_db=threshold_db, x_db=x_db,
                              af_db_m=af_db_m, tuned_centres_hz=centres,
                              slices=slices if slices.n_slices >= 2 else None,
                              overload_fraction=fraction, dc_removed=True)
    if refine:
        result = _refine(result, welch, n_samples, threshold_db=threshold_db, x_db=x_db,
                         af_db_m=af_db_m, centres=centres)
    return result
