"""One spectrum in, measured and vetted emissions out.

The steps (DESIGN.md "the path of one measurement", step 3):

1. noise floor per bin (:func:`dsp.noise.estimate_noise_floor`);
2. CFAR detection, merge/split (:func:`dsp.detect.detect_emissions`);
3. each candidate grown over its skirts and measured (:mod:`dsp.measure`);
4. receiver artefacts rejected (:func:`dsp.artefacts.reject_artefacts`).

IQ blocks (:mod:`dsp.iq_analysis`) and surveys (:mod:`dsp.survey`) both end here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.artefacts import reject_artefacts
from dsp.detect import default_threshold_db, detect_emissions
from dsp.measure import AntennaFactor, emission_extent, measure_emission
from dsp.noise import estimate_noise_floor
from dsp.types import Emission, Spectrum, TimeSlices

__all__ = [
    "REASON_LOW_SNR",
    "AnalysisResult",
    "analyze_spectrum",
    "measure_runs",
    "tuned_centres",
]

#: Reason given for candidates whose SNR in their own bandwidth is below the threshold.
REASON_LOW_SNR = "low_snr"


@dataclass(frozen=True)
class AnalysisResult:
    """What one analysis found.

    Attributes
    ----------
    spectrum:
        The spectrum analysed (for a survey, the average of the sweeps).
    emissions:
        Reported emissions, sorted by frequency.
    rejected:
        Receiver artefacts, each with its reason (``"dc_spike"``, ``"iq_image"``,
        ``"overload_product"``).
    noise_floor_db:
        The noise floor per bin of ``spectrum``, same unit.
    threshold_db:
        The detection threshold used, dB over the floor.
    overload_fraction:
        Clipped fraction of the block's raw samples, ``None`` when unknown.
    """

    spectrum: Spectrum
    emissions: tuple[Emission, ...]
    rejected: tuple[tuple[Emission, str], ...]
    noise_floor_db: np.ndarray
    threshold_db: float = float("nan")
    #: Fraction of raw samples at the ADC's rails (0-1), None when unknown (files
    #: other than 8-bit, surveys).
    overload_fraction: float | None = None


def tuned_centres(spectrum: Spectrum) -> tuple[float, ...]:
    """LO frequencies a spectrum was most likely taken at.

    One IQ spectrum (no ``hop_t_ns``) was tuned to its centre bin (``n_bins // 2`` of
    the fftshifted grid). A stitched sweep was tuned to the middle of each hop.
    """
    n = spectrum.n_bins
    if len(spectrum.hop_t_ns) <= 1:
        return (spectrum.f_start_hz + (n // 2) * spectrum.f_step_hz,)
    firsts = sorted(b for b, _ in spectrum.hop_t_ns)
    ends = [*firsts[1:], n]
    return tuple(spectrum.f_start_hz + (a + (b - a) // 2) * spectrum.f_step_hz
                 for a, b in zip(firsts, ends, strict=True))


def measure_runs(
    spectrum: Spectrum,
    floor: np.ndarray,
    runs: Sequence[tuple[int, int]],
    *,
    x_db: float,
    af_db_m: AntennaFactor | None,
    cache: dict | None = None,
) -> list[Emission]:
    """Grow each run over its skirts (up to half-way to its neighbours) and measure it.

    ``cache`` maps (run, limits) to an emission already measured, so a second pass
    re-measures only the runs whose neighbours changed.
    """
    finite = np.isfinite(spectrum.power_db)
    out = []
    for k, (a, b) in enumerate(runs):
        lo = 0 if k == 0 else (runs[k - 1][1] + a) // 2
        hi = spectrum.n_bins if k == len(runs) - 1 else (b + runs[k + 1][0] + 1) // 2
        key = (a, b, lo, hi)
        if cache is not None and key in cache:
            out.append(cache[key])
            continue
        ea, eb = emission_extent(spectrum.power_db, floor, a, b, lo_limit=lo, hi_limit=hi)
        while not finite[ea]:
            ea += 1
        while not finite[eb - 1]:
            eb -= 1
        e = measure_emission(spectrum, floor, ea, eb, x_db=x_db, af_db_m=af_db_m)
        if cache is not None:
            cache[key] = e
        out.append(e)
    return out


def analyze_spectrum(
    spectrum: Spectrum,
    *,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
    tuned_centres_hz: Sequence[float] | None = None,
    slices: TimeSlices | None = None,
    overload_fraction: float | None = None,
) -> AnalysisResult:
    """Find, measure and vet the emissions in one spectrum.

    Parameters
    ----------
    spectrum:
        The spectrum (NaN bins, e.g. gaps between sweep hops, are treated as missing).
    threshold_db:
        Detection threshold in dB over the local noise floor (default
        :func:`dsp.detect.default_threshold_db` of ``spectrum.n_averages``: per-bin
        false-alarm probability 1e-4, at least 3 dB).
    x_db:
        The x of the x-dB bandwidth, dB (default 26).
    af_db_m:
        Antenna factor, dB/m (number or function of frequency in Hz): field strength
        for calibrated spectra.
    tuned_centres_hz:
        LO frequencies, for DC-spike and image rejection (default :func:`tuned_centres`).
    slices:
        The spectra of consecutive time slices of the same samples on the same grid
        (bursts, duty cycle, first/last seen, components keyed together), if known.
    overload_fraction:
        Fraction of the raw samples at the ADC's rails (0-1), ``None`` when unknown.

    Returns
    -------
    AnalysisResult
    """
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a Spectrum, got {type(spectrum).__name__}")
    if not (math.isfinite(x_db) and x_db > 0):
        raise ValueError(f"x_db must be finite and > 0, got {x_db!r}")
    if threshold_db is None:
        threshold_db = default_threshold_db(max(1.0, float(spectrum.n_averages)))
    elif not (math.isfinite(threshold_db) and threshold_db > 0):
        raise ValueError(f"threshold_db must be finite and > 0, got {threshold_db!r}")
    centres = tuned_centres(spectrum) if tuned_centres_hz is None else tuple(tuned_centres_hz)
    floor = estimate_noise_floor(spectrum)
    runs = detect_emissions(spectrum, floor, threshold_db=threshold_db)
    cache: dict = {}
    ems = measure_runs(spectrum, floor, runs, x_db=x_db, af_db_m=af_db_m, cache=cache)
    # A candidate whose bins crossed the threshold but whose power, integrated over
    # its own bandwidth, is not threshold_db above the noise there is a bump of the
    # floor (ripple, a noise peak beside a skirt), not an emission. Drop those, then
    # measure the others again so a dropped one does not bound a neighbour's extent.
    strong = [r for r, e in zip(runs, ems, strict=True) if e.snr_db >= threshold_db]
    weak = tuple((e, REASON_LOW_SNR) for e in ems if not e.snr_db >= threshold_db)
    if weak:
        ems = measure_runs(spectrum, floor, strong, x_db=x_db, af_db_m=af_db_m, cache=cache)
    kept, rejected = reject_artefacts(ems, spectrum, tuned_centres_hz=centres)
    del slices  # used by the burst and keyed-component analysis (issue 9)
    return AnalysisResult(spectrum, kept, rejected + weak, floor, float(threshold_db),
                          overload_fraction=overload_fraction)


