"""From a spectrum, IQ samples or a survey to measured emissions, artefacts removed.

The steps (DESIGN.md "the path of one measurement", step 3):

1. noise floor per bin (:func:`dsp.noise.estimate_noise_floor`);
2. CFAR detection, merge/split (:func:`dsp.detect.detect_emissions`);
3. each candidate grown over its skirts and measured (:mod:`dsp.measure`);
4. receiver artefacts rejected (:func:`dsp.artefacts.reject_artefacts`).

:func:`analyze_iq` computes the Welch spectrum first, with an FFT size giving a
1-2 kHz RBW, and re-measures narrow emissions (fewer than
:data:`REFINE_MIN_BINS` bins in their 99 % bandwidth) on a finer spectrum of the
same samples, so their bandwidths are not dominated by the window's own width.
Powers are means over the whole block (a burst's power is diluted by its duty
cycle); ``t_first_ns``/``t_last_ns`` are the first and last of up to 32 time slices
in which the emission's band stood 3 dB over the noise.

:func:`analyze_survey` analyses a sequence of spectra on one grid (the sweeps of a
survey). Emissions are measured on the **average** of the sweeps (linear mean: the
noise floor is steadiest and the powers are mean powers, as SM.1880 and SM.443
intend), and the time each was seen (``t_first_ns``/``t_last_ns``) comes from
detection in the individual sweeps. Emissions seen in some sweeps but lost in the
average (intermittent ones) are reported from the sweep where they were strongest,
flagged ``"intermittent"``. Emissions too weak for the threshold, or filling the
span so that the percentile floor is the signal itself (a 100 kHz rtl_power span
inside a 200 kHz FM channel), are found by how their bins vary over time: noise in
bins a few bins apart varies independently from sweep to sweep (averaged or
peak-held, whatever the number of FFTs), while an emission spread over them fades
and modulates them together. Those are flagged ``"coherent"``; where no noise is
visible under them also ``"no_noise_reference"``, with the total power in their
bins and an unknown (NaN) SNR.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dsp.artefacts import reject_artefacts
from dsp.detect import default_threshold_db, detect_emissions, find_runs
from dsp.measure import AntennaFactor, emission_extent, measure_emission
from dsp.noise import estimate_noise_floor
from dsp.types import Emission, Spectrum

__all__ = [
    "REFINE_MIN_BINS",
    "REASON_LOW_SNR",
    "AnalysisResult",
    "analyze_spectrum",
    "analyze_iq",
    "analyze_survey",
    "average_spectra",
    "default_fft_size",
    "tuned_centres",
]

#: Narrow emissions (99 % bandwidth under this many bins) are re-measured finer.
REFINE_MIN_BINS = 40
#: Reason given for candidates whose SNR in their own bandwidth is below the threshold.
REASON_LOW_SNR = "low_snr"
#: Target RBW of :func:`analyze_iq`'s first spectrum, Hz.
_TARGET_RBW_HZ = 1500.0
#: Fewest averages a spectrum of :func:`analyze_iq` may have.
_MIN_AVERAGES = 16
#: Most time slices :func:`analyze_iq` cuts the samples into to see when emissions are on.
_MAX_SLICES = 32
#: Band power over the noise, dB, at which an emission counts as on in a slice.
_SEEN_DB = 3.0


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
    """

    spectrum: Spectrum
    emissions: tuple[Emission, ...]
    rejected: tuple[tuple[Emission, str], ...]
    noise_floor_db: np.ndarray
    threshold_db: float = float("nan")


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


def _measure_all(
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
    ems = _measure_all(spectrum, floor, runs, x_db=x_db, af_db_m=af_db_m, cache=cache)
    # A candidate whose bins crossed the threshold but whose power, integrated over
    # its own bandwidth, is not threshold_db above the noise there is a bump of the
    # floor (ripple, a noise peak beside a skirt), not an emission. Drop those, then
    # measure the others again so a dropped one does not bound a neighbour's extent.
    strong = [r for r, e in zip(runs, ems, strict=True) if e.snr_db >= threshold_db]
    weak = tuple((e, REASON_LOW_SNR) for e in ems if not e.snr_db >= threshold_db)
    if weak:
        ems = _measure_all(spectrum, floor, strong, x_db=x_db, af_db_m=af_db_m, cache=cache)
    kept, rejected = reject_artefacts(ems, spectrum, tuned_centres_hz=centres)
    return AnalysisResult(spectrum, kept, rejected + weak, floor, float(threshold_db))


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


def _check_same_grid(spectra: Sequence[Spectrum]) -> None:
    first = spectra[0]
    for i, s in enumerate(spectra):
        if not isinstance(s, Spectrum):
            raise TypeError(f"spectra[{i}] is not a Spectrum: {type(s).__name__}")
        if (s.n_bins != first.n_bins or s.power_unit != first.power_unit
                or not math.isclose(s.f_start_hz, first.f_start_hz, abs_tol=1e-3)
                or not math.isclose(s.f_step_hz, first.f_step_hz, rel_tol=1e-9)):
            raise ValueError(
                f"spectra[{i}] is not on the grid of spectra[0] (start, step, bins and "
                "unit must match)"
            )


def average_spectra(spectra: Sequence[Spectrum]) -> Spectrum:
    """Linear mean of spectra on one grid; ``n_averages`` adds up, times span them all.

    A bin that is NaN (not measured) in some sweeps averages the others.
    """
    spectra = list(spectra)
    if not spectra:
        raise ValueError("spectra must not be empty")
    _check_same_grid(spectra)
    stack = np.stack([np.asarray(s.power_db, dtype=np.float64) for s in spectra])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bins stay NaN
        mean_lin = np.nanmean(10.0 ** (stack / 10.0), axis=0)
    first = spectra[0]
    return dataclasses.replace(
        first,
        power_db=(10.0 * np.log10(mean_lin)).astype(np.float32),
        t_start_ns=min(s.t_start_ns for s in spectra),
        t_end_ns=max(s.t_end_ns for s in spectra),
        n_averages=int(sum(max(1, s.n_averages) for s in spectra)),
        overload=any(s.overload for s in spectra),
    )


def _coherent_runs(
    spectra: Sequence[Spectrum], *, lags: range = range(3, 11), min_corr: float = 0.05
) -> list[tuple[int, int]]:
    """Bin runs whose levels rise and fall together over time: a signal, not noise.

    Noise in bins a few bins apart is independent from sweep to sweep, whether the
    bins are averages or peak holds and whatever the number of FFTs behind them; an
    emission spread over those bins (fading, multipath, modulation) makes them vary
    together. Each sweep's per-hop median is removed first (a gain change moves a
    whole hop). Per bin, the mean correlation over time with its neighbours ``lags``
    bins away (the window correlates only the nearest ones), smoothed over 9 bins,
    must exceed ``min_corr`` and 6 null standard errors.
    """
    n_t = len(spectra)
    if n_t < 20:
        return []
    x = np.stack([np.asarray(s.power_db, np.float64) for s in spectra])
    if not np.isfinite(x).all() or x.shape[1] < 4 * lags.stop:
        return []
    n = x.shape[1]
    firsts = sorted({0, *(b for b, _ in spectra[0].hop_t_ns if 0 < b < n)})
    for a, b in zip(firsts, [*firsts[1:], n], strict=True):
        x[:, a:b] -= np.median(x[:, a:b], axis=1, keepdims=True)
    sd = x.std(axis=0)
    if np.any(sd == 0):
        return []
    z = (x - x.mean(axis=0)) / sd
    acc = np.zeros(n)
    cnt = np.zeros(n)
    for lag in lags:
        c = np.einsum("tb,tb->b", z[:, :-lag], z[:, lag:]) / n_t
        acc[:-lag] += c
        acc[lag:] += c
        cnt[:-lag] += 1
        cnt[lag:] += 1
    from scipy.ndimage import uniform_filter1d

    coherence = uniform_filter1d(acc / cnt, size=9, mode="nearest")
    # each pair's correlation has a standard error of 1/sqrt(T); about len(lags) * 9
    # independent pairs are averaged per bin after smoothing
    se = 1.0 / math.sqrt(n_t) / math.sqrt(len(lags) * 9)
    runs = find_runs(coherence > max(min_corr, 6.0 * se))
    return [(int(a), int(b)) for a, b in runs if b - a >= max(5, n // 32)]


def analyze_survey(
    spectra: Sequence[Spectrum],
    *,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
) -> AnalysisResult:
    """Analyse the sweeps of a survey (see the module notes for the method).

    Parameters
    ----------
    spectra:
        Sweeps on one grid (same start, step, bins and unit), in time order.
    threshold_db, x_db, af_db_m:
        As for :func:`analyze_spectrum`.

    Returns
    -------
    AnalysisResult
        ``spectrum`` is the average of the sweeps; each emission's
        ``t_first_ns``/``t_last_ns`` are the start of the first and the end of the
        last sweep in which it was detected.
    """
    spectra = list(spectra)
    if not spectra:
        raise ValueError("spectra must not be empty")
    avg = average_spectra(spectra)
    centres = tuned_centres(avg)
    result = analyze_spectrum(avg, threshold_db=threshold_db, x_db=x_db, af_db_m=af_db_m,
                              tuned_centres_hz=centres)
    f = avg.f_hz()
    if len(spectra) == 1:
        return result

    per_sweep = [analyze_spectrum(s, threshold_db=threshold_db, x_db=x_db, af_db_m=af_db_m,
                                  tuned_centres_hz=centres) for s in spectra]
    emissions: list[Emission] = []
    for e in result.emissions:
        seen = [s for s, r in zip(spectra, per_sweep, strict=True)
                if any(x.f_low_hz <= e.f_high_hz and x.f_high_hz >= e.f_low_hz
                       for x in r.emissions)]
        if seen:
            e = dataclasses.replace(e, t_first_ns=min(s.t_start_ns for s in seen),
                                    t_last_ns=max(s.t_end_ns for s in seen))
        emissions.append(e)

    # Intermittent: found in single sweeps but not in the average.
    groups: list[list[tuple[Spectrum, Emission]]] = []
    for s, r in zip(spectra, per_sweep, strict=True):
        for x in r.emissions:
            if any(x.f_low_hz <= e.f_high_hz and x.f_high_hz >= e.f_low_hz
                   for e in result.emissions):
                continue
            for g in groups:
                g_lo = min(y.f_low_hz for _, y in g)
                g_hi = max(y.f_high_hz for _, y in g)
                if x.f_low_hz <= g_hi and x.f_high_hz >= g_lo:
                    g.append((s, x))
                    break
            else:
                groups.append([(s, x)])
    min_sweeps = 2 if len(spectra) >= 4 else 1  # one-sweep blips are likely noise
    for g in groups:
        if len({id(s) for s, _ in g}) < min_sweeps:
            continue
        best = max((x for _, x in g), key=lambda x: x.power_db)
        emissions.append(dataclasses.replace(
            best,
            t_first_ns=min(s.t_start_ns for s, _ in g),
            t_last_ns=max(s.t_end_ns for s, _ in g),
            flags=(*best.flags, "intermittent"),
        ))

    # Emissions too weak for the threshold, or filling the span so the percentile
    # floor is the signal itself, still show by their coherent variation over time.
    floor = result.noise_floor_db
    for a, b in _coherent_runs(spectra):
        f_a, f_b = f[a] - avg.f_step_hz / 2, f[b - 1] + avg.f_step_hz / 2
        if any(e.f_low_hz <= f_b and e.f_high_hz >= f_a for e in emissions):
            continue
        # the floor under it: interpolated from the bins either side (the local
        # percentile inside a weak, wide emission is the emission itself)
        under = floor.copy()
        left = floor[a - 1] if a > 0 else None
        right = floor[b] if b < avg.n_bins else None
        if left is not None or right is not None:
            left = right if left is None else left
            right = left if right is None else right
            under[a:b] = np.linspace(left, right, b - a + 2)[1:-1]
        e = measure_emission(avg, under, a, b, x_db=x_db, af_db_m=af_db_m, flags=("coherent",))
        if a == 0 and b == avg.n_bins or "weak" in e.flags:
            # no noise visible beside or under it: report the total power
            e = measure_emission(avg, np.full(avg.n_bins, -np.inf), a, b, x_db=x_db,
                                 af_db_m=af_db_m, flags=("coherent", "no_noise_reference"))
            e = dataclasses.replace(e, snr_db=float("nan"), noise_floor_db=float("nan"))
        emissions.append(e)
    emissions.sort(key=lambda e: e.f_hz)
    return dataclasses.replace(result, emissions=tuple(emissions))
