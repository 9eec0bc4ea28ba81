"""An IQ block or stream in, its emissions out: one pass, then analysis.

One pass of :class:`dsp.stream.SpectrumStream` over the samples (a whole block in
memory is the one-chunk case; :func:`analyze_stream` takes chunks, e.g. a file read
piece by piece) gives the coarse Welch spectrum, with an FFT size giving a 1-2 kHz
RBW, a finer spectrum (:data:`FINE_FACTOR` times the FFT size) and the time slices.
:func:`dsp.analysis.analyze_spectrum` analyses the coarse spectrum with the slices
(bursts, duty cycle, first and last seen) and the clipped fraction of uint8 input;
narrow emissions (fewer than :data:`REFINE_MIN_BINS` bins in their 99 % bandwidth)
are then re-measured on the fine spectrum, so their bandwidths are not dominated by
the window's own width. Powers are means over the whole block (a burst's power is
diluted by its duty cycle; ``burst_power_db`` is its power while on).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

from dsp.analysis import AnalysisResult, analyze_spectrum
from dsp.artefacts import REASON_DC
from dsp.errors import ParameterError
from dsp.measure import AntennaFactor
from dsp.stream import SpectrumStream, StreamSummary
from dsp.types import Emission, Spectrum

__all__ = [
    "REFINE_MIN_BINS",
    "FINE_FACTOR",
    "analyze_iq",
    "analyze_stream",
    "analyze_summary",
    "stream_summary",
    "default_fft_size",
    "fine_fft_size",
    "with_fm_carriers",
]

#: Narrow emissions (99 % bandwidth under this many bins) are re-measured finer.
REFINE_MIN_BINS = 40
#: Flags of the finer measurement that replace the coarse one's (the others, from
#: the slices and the overload and LO vetting, are the block's).
_MEASUREMENT_FLAGS = ("xdb_limited", "weak", "span_edge")
#: Target RBW of :func:`analyze_iq`'s first spectrum, Hz.
_TARGET_RBW_HZ = 1500.0
#: Fewest averages a spectrum of :func:`analyze_iq` may have.
_MIN_AVERAGES = 16
#: The strongest DC offset (dBFS) the receiver itself is taken to produce; a larger DC is
#: a carrier at the LO (see :func:`_account_for_dc`). An R820T/RTL2832U's residual DC
#: after its own correction sits some 40 dB below full scale at usual gains (the "centre
#: spike" of rtl_sdr captures); -30 dBFS leaves margin. ASSUMED, not measured on our
#: dongles: a station should set it from a capture with the antenna disconnected.
DC_BUDGET_DBFS = -30.0
#: The refinement spectrum's FFT is this many times the first one's (73 Hz bins at
#: 2.4 MS/s).
FINE_FACTOR = 16

def default_fft_size(sample_rate_hz: float, n_samples: int) -> int:
    """FFT size for a ~1.5 kHz RBW: a power of two, 64 or more, leaving >= 16 averages.

    Examples
    --------
    >>> default_fft_size(2.4e6, 2_400_000), default_fft_size(250e3, 262_144)
    (2048, 256)
    """
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ParameterError(f"sample_rate_hz must be finite and > 0, got {sample_rate_hz!r}")
    # Hann ENBW is 1.5 bins: bins of ~1 kHz give an RBW of ~1.5 kHz.
    want = sample_rate_hz / (_TARGET_RBW_HZ / 1.5)
    size = 2 ** max(6, int(round(math.log2(max(want, 1.0)))))
    cap = max(64, 2 ** int(math.floor(math.log2(max(n_samples * 2 // (_MIN_AVERAGES + 1), 64)))))
    return int(min(size, cap))


def fine_fft_size(fft_size: int, n_samples: int | None) -> int | None:
    """FFT size of the refinement spectrum: :data:`FINE_FACTOR` times finer, capped.

    Capped at 2**18 and, for a known length, so that it keeps >= 16 averages;
    ``None`` when that leaves it no finer than ``fft_size``.

    Examples
    --------
    >>> fine_fft_size(2048, 2_400_000), fine_fft_size(256, 2_000)
    (32768, None)
    """
    size = fft_size * FINE_FACTOR
    if n_samples is not None:
        size = min(size, 2 ** int(math.floor(math.log2(max(n_samples * 2 // (_MIN_AVERAGES + 1),
                                                              2)))))
    size = min(size, 1 << 18)
    return int(size) if size > fft_size else None


def _refine(
    result: AnalysisResult,
    fine: Spectrum,
    *,
    threshold_db: float | None,
    x_db: float,
    af_db_m: AntennaFactor | None,
    centres: tuple[float, ...],
) -> AnalysisResult:
    """Re-measure narrow emissions on the finer spectrum of the same samples."""
    step = result.spectrum.f_step_hz
    narrow = [e for e in result.emissions if e.bw_99_hz < REFINE_MIN_BINS * step]
    if not narrow or fine.n_bins <= result.spectrum.n_bins:
        return result
    fine_result = analyze_spectrum(fine, threshold_db=threshold_db, x_db=x_db,
                                   af_db_m=af_db_m, tuned_centres_hz=centres)
    out = []
    for e in result.emissions:
        if e.bw_99_hz >= REFINE_MIN_BINS * step:
            out.append(e)
            continue
        lo, hi = e.f_low_hz - 2 * step, e.f_high_hz + 2 * step
        match = [f for f in fine_result.emissions if lo <= f.f_hz <= hi]
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


def analyze_summary(
    summary: StreamSummary,
    *,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
    refine: bool = True,
    overload_fraction: float | None = None,
    dc_budget_dbfs: float | None = DC_BUDGET_DBFS,
) -> AnalysisResult:
    """Analyse what one streaming pass left (:meth:`dsp.stream.SpectrumStream.finish`).

    The coarse spectrum goes to :func:`dsp.analysis.analyze_spectrum` with the time
    slices and the overload fraction (measured by the stream on uint8 input, else
    ``overload_fraction`` as given); narrow emissions are re-measured on the fine
    spectrum (see the module notes). The stream removes the block's DC, so a peak
    left at the LO is something the DC estimate does not explain (``dc_removed``).
    """
    centres = (float(summary.f_center_hz),)
    fraction = (summary.overload_fraction if summary.overload_fraction is not None
                else overload_fraction)
    slices = summary.slices if summary.slices is not None and summary.slices.n_slices >= 2 \
        else None
    result = analyze_spectrum(summary.spectrum, threshold_db=threshold_db, x_db=x_db,
                              af_db_m=af_db_m, tuned_centres_hz=centres, slices=slices,
                              overload_fraction=fraction, dc_removed=True)
    if refine and summary.fine is not None:
        result = _refine(result, summary.fine, threshold_db=threshold_db, x_db=x_db,
                         af_db_m=af_db_m, centres=centres)
    return _account_for_dc(result, summary, dc_budget_dbfs)


def _account_for_dc(result: AnalysisResult, summary: StreamSummary,
                    dc_budget_dbfs: float | None) -> AnalysisResult:
    """The DC the stream removed, never dropped silently.

    A carrier exactly at the LO is the same thing as the receiver's DC offset within
    one tuning: both are the block's mean. When that DC stands over the noise in the
    LO's bin it is reported: as an emission flagged ``at_lo_unverified`` when it is
    stronger than the receiver's own DC offset can be (``dc_budget_dbfs``: the DC
    estimate does not explain it; a station retunes to tell), otherwise in
    ``rejected`` as ``dc_spike`` with its level.
    """
    power = abs(summary.dc) ** 2
    spec = result.spectrum
    if power <= 0.0 or spec.n_bins == 0:
        return result
    k = int(round((summary.f_center_hz - spec.f_start_hz) / spec.f_step_hz))
    if not 0 <= k < spec.n_bins:
        return result
    dc_dbfs = 10.0 * math.log10(power)
    floor = float(result.noise_floor_db[k])
    level = dc_dbfs + summary.calibration_offset_db
    threshold = result.threshold_db if math.isfinite(result.threshold_db) else 6.0
    if not level > floor + threshold:
        return result
    if any(e.f_low_hz - spec.f_step_hz <= summary.f_center_hz <= e.f_high_hz + spec.f_step_hz
           for e in result.emissions):
        return result  # already reported (a wider emission over the LO)
    e = Emission(
        f_hz=float(summary.f_center_hz), bw_99_hz=spec.f_step_hz, bw_xdb_hz=spec.f_step_hz,
        power_db=level, peak_power_db=level, snr_db=level - floor, noise_floor_db=floor,
        power_unit=spec.power_unit, f_resolution_hz=spec.f_step_hz,
        t_first_ns=spec.t_start_ns, t_last_ns=spec.t_end_ns, x_db=26.0,
        station_id=spec.station_id, receiver_id=spec.receiver_id,
        flags=("at_lo_unverified",), f_method="peak")
    if dc_budget_dbfs is not None and dc_dbfs > dc_budget_dbfs:
        return dataclasses.replace(
            result, emissions=tuple(sorted((*result.emissions, e), key=lambda x: x.f_hz)))
    return dataclasses.replace(result, rejected=(*result.rejected, (e, REASON_DC)))


def analyze_stream(
    chunks: Iterable[np.ndarray],
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    t_start_ns: int = 0,
    n_samples: int | None = None,
    fft_size: int | None = None,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
    calibration_offset_db: float | None = None,
    overload: bool = False,
    station_id: str = "",
    receiver_id: str = "",
    refine: bool = True,
    overload_fraction: float | None = None,
) -> AnalysisResult:
    """Analyse IQ that arrives in chunks (a file read piece by piece, a socket).

    Parameters are those of :func:`analyze_iq`; ``chunks`` yields ``uint8``
    interleaved I/Q or complex arrays (all of one kind), and ``n_samples`` is the
    total number of complex samples when known (it sets the FFT sizes and the slice
    length; without it the FFT size assumes a long input and slices lengthen as it
    grows). Memory stays bounded whatever the input's length (:mod:`dsp.stream`).
    """
    summary = stream_summary(
        chunks, sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
        t_start_ns=t_start_ns, n_samples=n_samples, fft_size=fft_size, refine=refine,
        calibration_offset_db=calibration_offset_db, overload=overload,
        station_id=station_id, receiver_id=receiver_id)
    return analyze_summary(summary, threshold_db=threshold_db, x_db=x_db, af_db_m=af_db_m,
                           refine=refine, overload_fraction=overload_fraction)


def stream_summary(
    chunks: Iterable[np.ndarray],
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    t_start_ns: int = 0,
    n_samples: int | None = None,
    fft_size: int | None = None,
    refine: bool = True,
    calibration_offset_db: float | None = None,
    overload: bool = False,
    station_id: str = "",
    receiver_id: str = "",
) -> StreamSummary:
    """One pass of :class:`dsp.stream.SpectrumStream` over ``chunks`` (:func:`analyze_stream`)."""
    if n_samples is not None and n_samples < 64:
        raise ParameterError(f"samples must hold at least 64 complex samples, got {n_samples}")
    if fft_size is None:
        fft_size = default_fft_size(sample_rate_hz, n_samples if n_samples else 1 << 40)
    stream = SpectrumStream(
        sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz, fft_size=fft_size,
        fine_fft_size=fine_fft_size(fft_size, n_samples) if refine else None,
        t_start_ns=t_start_ns, expected_samples=n_samples,
        calibration_offset_db=calibration_offset_db, station_id=station_id,
        receiver_id=receiver_id)
    for chunk in chunks:
        stream.feed(chunk)
    return stream.finish(overload=overload)


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
    fm_carriers: bool = True,
) -> AnalysisResult:
    """Analyse a block of IQ samples (uint8 interleaved or complex): the one-chunk stream.

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
        raw ``uint8`` bytes (uint8 samples show it themselves: their clipped fraction
        goes to the analysis).
    station_id, receiver_id:
        Copied into the results.
    refine:
        Re-measure narrow emissions on a finer spectrum (see the module notes).
    fm_carriers:
        Measure FM broadcasts' carriers by demodulating them (:mod:`dsp.fm_carrier`).

    Returns
    -------
    AnalysisResult
    """
    if not isinstance(samples, np.ndarray):
        samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ParameterError(f"samples must be 1-D; got shape {samples.shape}")
    n_samples = samples.size // 2 if samples.dtype == np.uint8 else samples.size
    if n_samples < 64:
        raise ParameterError(f"samples must hold at least 64 complex samples, got {n_samples}")
    size = default_fft_size(sample_rate_hz, n_samples) if fft_size is None else fft_size
    result = analyze_stream(
        [samples], sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
        t_start_ns=t_start_ns, n_samples=n_samples, fft_size=size,
        threshold_db=threshold_db, x_db=x_db, af_db_m=af_db_m,
        calibration_offset_db=calibration_offset_db, overload=overload,
        station_id=station_id, receiver_id=receiver_id, refine=refine,
        overload_fraction=overload_fraction)
    if fm_carriers:
        result = with_fm_carriers(result, samples, sample_rate_hz=sample_rate_hz,
                                  f_center_hz=f_center_hz)
    return result


def with_fm_carriers(
    result: AnalysisResult, first_samples: np.ndarray | None, *, sample_rate_hz: float,
    f_center_hz: float,
) -> AnalysisResult:
    """``result`` with FM broadcasts' frequencies from their demodulated carriers.

    ``first_samples``: the first seconds of the block (uint8 interleaved or complex;
    :data:`dsp.fm_carrier.MEASURE_S` of them are used).
    """
    from dsp.fm_carrier import apply_fm_carriers

    ems = apply_fm_carriers(result.emissions, first_samples, sample_rate_hz=sample_rate_hz,
                            f_center_hz=f_center_hz)
    return dataclasses.replace(result, emissions=tuple(sorted(ems, key=lambda e: e.f_hz)))

