"""An IQ block in, its emissions out: coarse spectrum, refinement, time slices.

:func:`analyze_iq` computes the Welch spectrum first, with an FFT size giving a
1-2 kHz RBW, and re-measures narrow emissions (fewer than
:data:`REFINE_MIN_BINS` bins in their 99 % bandwidth) on a finer spectrum of the
same samples, so their bandwidths are not dominated by the window's own width.
Powers are means over the whole block (a burst's power is diluted by its duty
cycle); ``t_first_ns``/``t_last_ns`` are the first and last of up to 32 time slices
in which the emission's band stood 3 dB over the noise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from dsp.analysis import AnalysisResult, analyze_spectrum
from dsp.measure import AntennaFactor
from dsp.types import Spectrum

__all__ = ["REFINE_MIN_BINS", "analyze_iq", "default_fft_size"]

#: Narrow emissions (99 % bandwidth under this many bins) are re-measured finer.
REFINE_MIN_BINS = 40
#: Target RBW of :func:`analyze_iq`'s first spectrum, Hz.
_TARGET_RBW_HZ = 1500.0
#: Fewest averages a spectrum of :func:`analyze_iq` may have.
_MIN_AVERAGES = 16
#: Most time slices :func:`analyze_iq` cuts the samples into to see when emissions are on.
_MAX_SLICES = 32
#: Band power over the noise, dB, at which an emission counts as on in a slice.
_SEEN_DB = 3.0

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
        out.append(match[0] if len(match) == 1 else e)
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
    result = analyze_spectrum(welch(size), threshold_db=threshold_db, x_db=x_db,
                              af_db_m=af_db_m, tuned_centres_hz=centres)
    if refine:
        result = _refine(result, welch, n_samples, threshold_db=threshold_db, x_db=x_db,
                         af_db_m=af_db_m, centres=centres)
    return _seen_times(result, samples, n_samples, size, welch_spectrum,
                       sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
                       t_start_ns=t_start_ns, calibration_offset_db=calibration_offset_db)


def _seen_times(
    result: AnalysisResult,
    samples: np.ndarray,
    n_samples: int,
    fft_size: int,
    welch: Callable[..., Spectrum],
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    t_start_ns: int,
    calibration_offset_db: float | None,
) -> AnalysisResult:
    """Set each emission's ``t_first_ns``/``t_last_ns`` from when it was on.

    The samples are cut into up to :data:`_MAX_SLICES` slices; an emission is seen in
    a slice when the power in its 99 % band stands :data:`_SEEN_DB` dB over the noise
    floor there (a band sum of many bins and averages: noise alone stays well below).
    """
    per_slice = fft_size * (_MIN_AVERAGES + 1) // 2
    n_slices = min(_MAX_SLICES, n_samples // per_slice)
    if n_slices < 4 or not result.emissions:
        return result
    slice_len = n_samples // n_slices
    width = 2 if samples.dtype == np.uint8 else 1
    spec = result.spectrum
    floor_lin = 10.0 ** (result.noise_floor_db / 10.0)
    f = spec.f_hz()
    bands = []
    for e in result.emissions:
        sel = (f >= e.f_low_hz - spec.f_step_hz / 2) & (f <= e.f_high_hz + spec.f_step_hz / 2)
        if not sel.any():
            sel = np.abs(f - e.f_hz) == np.min(np.abs(f - e.f_hz))
        bands.append((sel, float(floor_lin[sel].sum())))
    seen = np.zeros((n_slices, len(bands)), dtype=bool)
    times = []
    for k in range(n_slices):
        t0 = t_start_ns + int(round(k * slice_len * 1e9 / sample_rate_hz))
        part = samples[k * slice_len * width:(k + 1) * slice_len * width]
        s = welch(part, sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
                  fft_size=fft_size, t_start_ns=t0, calibration_offset_db=calibration_offset_db)
        lin = 10.0 ** (np.asarray(s.power_db, dtype=np.float64) / 10.0)
        for j, (sel, noise) in enumerate(bands):
            seen[k, j] = lin[sel].sum() >= noise * 10.0 ** (_SEEN_DB / 10.0)
        times.append((s.t_start_ns, s.t_end_ns))
    out = []
    for j, e in enumerate(result.emissions):
        ks = np.flatnonzero(seen[:, j])
        if ks.size:
            e = dataclasses.replace(e, t_first_ns=times[ks[0]][0], t_last_ns=times[ks[-1]][1])
        out.append(e)
    return dataclasses.replace(result, emissions=tuple(out))


