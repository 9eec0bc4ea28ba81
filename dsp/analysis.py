"""One spectrum in, measured and vetted emissions out.

The steps (DESIGN.md "the path of one measurement", step 3):

1. noise floor per bin (:func:`dsp.noise.estimate_noise_floor`);
2. CFAR detection, merge/split (:func:`dsp.detect.detect_emissions`);
3. each candidate grown over its skirts and measured (:mod:`dsp.measure`);
4. with the block's time slices: bursts detected in the slices too, and each
   emission's duty cycle, power while on and first/last time (:mod:`dsp.bursts`);
5. receiver artefacts rejected: the DC spike and IQ images
   (:func:`dsp.artefacts.reject_artefacts`; a peak at the LO that DC removal does not
   explain is kept, flagged ``at_lo_unverified``), and on a clipped block the
   overload products, told by structure and keying (:mod:`dsp.overload`; what
   cannot be decided is flagged ``overload_suspect``);
6. components keyed together within one channel merged into one emission
   (:mod:`dsp.keyed`).

Nothing is dropped silently: every rejected candidate is in ``rejected`` with its
reason, and every emission carries its flags.

IQ blocks (:mod:`dsp.iq_analysis`) and surveys (:mod:`dsp.survey`) both end here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dsp.artefacts import REASON_DC, REASON_OVERLOAD, reject_artefacts
from dsp.bursts import Activity, band_activity, detect_burst_runs, on_mean_db
from dsp.detect import default_threshold_db, detect_emissions, find_runs
from dsp.errors import ParameterError
from dsp.keyed import REASON_KEYING_TRANSIENT, keyed_groups, keying_transients
from dsp.measure import AntennaFactor, emission_extent, enbw_bins, measure_emission
from dsp.neighbours import split_neighbour
from dsp.noise import estimate_noise_floor
from dsp.overload import classify_overload
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


#: A narrow peak at the LO that survives DC removal by this much over the detection
#: threshold is more than the DC estimate's residue: reported ``at_lo_unverified``.
AT_LO_MARGIN_DB = 6.0
#: A narrow emission (its bins within 6 dB of the peak: up to twice this many)
#: centred this many bins from the LO is flagged ``at_lo_unverified``.
AT_LO_BINS = 3
#: Emissions on in fewer than this fraction of the slices are flagged intermittent.
INTERMITTENT_BELOW = 0.95


@dataclass
class _Item:
    """One emission being vetted: its bins, measurement, and activity in the slices."""

    a: int
    b: int
    e: Emission
    on: np.ndarray | None = None  # the slices a slice-only burst was measured on
    act: Activity | None = None
    reason: str | None = None
    flags: list[str] = field(default_factory=list)


def _measure_runs_ext(
    spectrum: Spectrum, floor: np.ndarray, runs: Sequence[tuple[int, int]], *,
    x_db: float, af_db_m: AntennaFactor | None, cache: dict,
) -> list[_Item]:
    finite = np.isfinite(spectrum.power_db)
    out = []
    for k, (a, b) in enumerate(runs):
        lo = 0 if k == 0 else (runs[k - 1][1] + a) // 2
        hi = spectrum.n_bins if k == len(runs) - 1 else (b + runs[k + 1][0] + 1) // 2
        key = (a, b, lo, hi)
        if key not in cache:
            ea, eb = emission_extent(spectrum.power_db, floor, a, b, lo_limit=lo, hi_limit=hi)
            while not finite[ea]:
                ea += 1
            while not finite[eb - 1]:
                eb -= 1
            cache[key] = (ea, eb, measure_emission(spectrum, floor, ea, eb, x_db=x_db,
                                                   af_db_m=af_db_m))
        ea, eb, e = cache[key]
        out.append(_Item(ea, eb, e))
    return out


def _core(power_db: np.ndarray, a: int, b: int, drop_db: float = 6.0) -> tuple[int, int]:
    """First bin and width of the contiguous bins within ``drop_db`` of the peak of
    ``[a, b)``."""
    p = np.nan_to_num(np.asarray(power_db[a:b], dtype=np.float64), nan=-np.inf)
    k = int(np.argmax(p))
    above = p >= p[k] - drop_db
    lo = k
    while lo > 0 and above[lo - 1]:
        lo -= 1
    hi = k + 1
    while hi < p.size and above[hi]:
        hi += 1
    return a + lo, hi - lo


def _split_neighbours(
    spectrum: Spectrum, floor: np.ndarray, items: list[_Item], *, threshold_db: float,
    x_db: float, af_db_m: AntennaFactor | None,
) -> list[_Item]:
    """Each wide emission with a weaker neighbour on its skirt becomes two, each
    measured on its own bins (:mod:`dsp.neighbours`)."""
    out = []
    for it in items:
        split = split_neighbour(spectrum.power_db, floor, it.a, it.b,
                                n_averages=max(1.0, float(spectrum.n_averages)),
                                threshold_db=threshold_db)
        if split is None:
            out.append(it)
            continue
        strong_db = np.array(spectrum.power_db, dtype=np.float32)
        strong_db[it.a:it.b] = 10.0 * np.log10(split.strong_lin)
        weak_db = np.array(spectrum.power_db, dtype=np.float32)
        weak_db[it.a:it.b] = 10.0 * np.log10(split.weak_lin)
        weak_spec = dataclasses.replace(spectrum, power_db=weak_db)
        ws, we = split.weak
        ea, eb = emission_extent(weak_db, floor, ws, we, lo_limit=it.a, hi_limit=it.b)
        weak = measure_emission(weak_spec, floor, ea, eb, x_db=x_db, af_db_m=af_db_m)
        if not weak.snr_db >= threshold_db:
            out.append(it)
            continue
        strong = measure_emission(dataclasses.replace(spectrum, power_db=strong_db), floor,
                                  it.a, it.b, x_db=x_db, af_db_m=af_db_m)
        out += [_Item(it.a, it.b, strong), _Item(ea, eb, weak)]
    return out


def _usable(slices: TimeSlices | None, spectrum: Spectrum) -> bool:
    if slices is None:
        return False
    shape = np.shape(slices.power_db)
    if len(shape) != 2 or shape[1] != spectrum.n_bins:
        raise ParameterError(
            f"slices must be on the spectrum's grid: shape (n, {spectrum.n_bins}), got {shape}")
    return shape[0] >= 2


#: A slice at either end of a burst's consecutive slices carrying less than this
#: fraction of the burst's strongest slice (over the noise) is only partly filled.
FILLED_FRACTION = 0.5


def _filled_slices(
    slices: TimeSlices, floor: np.ndarray, s: int, e: int, seen: np.ndarray,
) -> np.ndarray:
    """``seen`` without the partly filled slices at the ends of each run of consecutive
    slices: a burst rarely starts and ends on slice boundaries, and averaging the
    slices it only touches with those it fills dilutes its power while on (a 10 ms
    burst in 5 ms slices spans three, the two at its edges partly), which is what
    its SNR is judged on."""
    on = np.array(seen, dtype=bool)
    lin = 10.0 ** (np.asarray(slices.power_db[:, s:e], dtype=np.float64) / 10.0)
    excess = np.nansum(lin, axis=1) - float(np.sum(10.0 ** (floor[s:e] / 10.0)))
    for a, b in find_runs(on).tolist():
        peak = float(excess[a:b].max())
        while b - a > 1 and excess[a] < FILLED_FRACTION * peak:
            on[a] = False
            a += 1
        while b - a > 1 and excess[b - 1] < FILLED_FRACTION * peak:
            on[b - 1] = False
            b -= 1
    return on


def _find_bursts(
    spectrum: Spectrum, floor: np.ndarray, slices: TimeSlices, items: list[_Item], *,
    threshold_db: float, x_db: float, af_db_m: AntennaFactor | None,
) -> list[_Item]:
    """Emissions on in some slices only, not found on the average."""
    explained = np.zeros(spectrum.n_bins, dtype=bool)
    for it in items:
        explained[it.a:it.b] = True
    found = []
    taken = sorted((it.a, it.b) for it in items)
    for (s, e), seen in detect_burst_runs(slices, floor, exclude=explained):
        full = _filled_slices(slices, floor, s, e, seen)
        burst = dataclasses.replace(spectrum, power_db=on_mean_db(slices, full),
                                    n_averages=int(slices.n_averages * int(full.sum())))
        lo = max([b for _, b in taken if b <= s], default=0)
        hi = min([a for a, _ in taken if a >= e], default=spectrum.n_bins)
        ea, eb = emission_extent(burst.power_db, floor, s, e, lo_limit=lo, hi_limit=hi)
        m = measure_emission(burst, floor, ea, eb, x_db=x_db, af_db_m=af_db_m)
        # The SNR is judged on the bins the slices detected as well: on the mean of
        # a few slices the noise of the skirts grown around them widens a weak
        # burst's 99 % bandwidth (3 dB, a 10 dB burst judged at 6), not its power.
        snr_db = m.snr_db
        if not snr_db >= threshold_db and (ea, eb) != (s, e):
            snr_db = measure_emission(burst, floor, s, e, x_db=x_db, af_db_m=af_db_m).snr_db
        if snr_db >= threshold_db:
            found.append(_Item(ea, eb, m, on=seen, flags=["burst"]))
    return found


def _with_activity(it: _Item, spectrum: Spectrum, act: Activity) -> Emission:
    """The item's emission with duty cycle, burst power, times and flags from ``act``."""
    e = it.e
    changes: dict = {"duty_cycle": act.duty_cycle, "burst_power_db": act.burst_power_db}
    if act.t_first_ns is not None:
        # (a last partial slice ends with the block)
        changes.update(t_first_ns=act.t_first_ns,
                       t_last_ns=min(int(act.t_last_ns), spectrum.t_end_ns))
    if it.on is not None and act.duty_cycle > 0:
        # measured on its on-slices: the block mean is the power while on times the
        # duty cycle (the noise is already subtracted in both)
        mean_lin = float(act.signal_lin.mean())
        if mean_lin > 0:
            changes["power_db"] = 10.0 * math.log10(mean_lin)
    flags = list(e.flags) + it.flags
    if act.duty_cycle < INTERMITTENT_BELOW:
        flags.append("intermittent")
    changes["flags"] = tuple(dict.fromkeys(flags))
    return dataclasses.replace(e, **changes)


def _merge(
    spectrum: Spectrum, floor: np.ndarray, group: list[_Item], slices: TimeSlices | None, *,
    x_db: float, af_db_m: AntennaFactor | None, enbw: float,
) -> _Item:
    """One emission over the bins of keyed components."""
    a = min(it.a for it in group)
    b = max(it.b for it in group)
    bursty = any(it.on is not None for it in group)
    src = spectrum
    on = None
    if bursty and slices is not None:
        on = np.logical_or.reduce([it.act.on for it in group if it.act is not None])
        src = dataclasses.replace(spectrum, power_db=on_mean_db(slices, on))
    e = measure_emission(src, floor, a, b, x_db=x_db, af_db_m=af_db_m)
    flags = [f for it in group for f in it.flags]
    merged = _Item(a, b, e, on=on, flags=flags)
    if slices is not None:
        merged.act = band_activity(slices, floor, a, b, enbw)
    return merged


def analyze_spectrum(
    spectrum: Spectrum,
    *,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
    tuned_centres_hz: Sequence[float] | None = None,
    slices: TimeSlices | None = None,
    overload_fraction: float | None = None,
    dc_removed: bool = False,
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
        The spectra of consecutive time slices of the same samples on the same grid:
        bursts are detected in them too (:mod:`dsp.bursts`), and they give each
        emission its ``duty_cycle``, ``burst_power_db`` and ``t_first``/``t_last``,
        the keying that tells overload products (:mod:`dsp.overload`) and merges one
        transmitter's components (:mod:`dsp.keyed`).
    overload_fraction:
        Fraction of the raw samples at the ADC's rails (0-1), ``None`` when unknown
        (then ``spectrum.overload`` says whether the ADC clipped).
    dc_removed:
        The spectrum's DC offset was removed (an IQ block's Welch spectrum): a
        narrow peak at the LO that still stands well over the floor is then not the
        DC spike but something on the air (reported ``at_lo_unverified``).

    Returns
    -------
    AnalysisResult
        Emissions sorted by frequency, each with ``flags`` (codes of
        :data:`dsp.types.EMISSION_FLAGS`); ``rejected`` gives every artefact with its
        reason (``dc_spike``, ``iq_image``, ``overload_product``, ``low_snr``).
    """
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a Spectrum, got {type(spectrum).__name__}")
    if not (math.isfinite(x_db) and x_db > 0):
        raise ParameterError(f"x_db must be finite and > 0, got {x_db!r}")
    if threshold_db is None:
        threshold_db = default_threshold_db(max(1.0, float(spectrum.n_averages)))
    elif not (math.isfinite(threshold_db) and threshold_db > 0):
        raise ParameterError(f"threshold_db must be finite and > 0, got {threshold_db!r}")
    if overload_fraction is not None and not (0.0 <= overload_fraction <= 1.0):
        raise ParameterError(f"overload_fraction must be in [0, 1], got {overload_fraction!r}")
    centres = tuned_centres(spectrum) if tuned_centres_hz is None else tuple(tuned_centres_hz)
    use_slices = _usable(slices, spectrum)
    floor = estimate_noise_floor(spectrum)
    runs = detect_emissions(spectrum, floor, threshold_db=threshold_db)
    cache: dict = {}
    items = _measure_runs_ext(spectrum, floor, runs, x_db=x_db, af_db_m=af_db_m, cache=cache)
    # A candidate whose bins crossed the threshold but whose power, integrated over
    # its own bandwidth, is not threshold_db above the noise there is a bump of the
    # floor (ripple, a noise peak beside a skirt), not an emission. Drop those, then
    # measure the others again so a dropped one does not bound a neighbour's extent.
    strong = [r for r, it in zip(runs, items, strict=True) if it.e.snr_db >= threshold_db]
    weak = [(it.e, REASON_LOW_SNR) for it in items if not it.e.snr_db >= threshold_db]
    if weak:
        items = _measure_runs_ext(spectrum, floor, strong, x_db=x_db, af_db_m=af_db_m,
                                  cache=cache)
    items = _split_neighbours(spectrum, floor, items, threshold_db=threshold_db, x_db=x_db,
                              af_db_m=af_db_m)
    enbw = enbw_bins(spectrum)
    if use_slices:
        assert slices is not None
        items += _find_bursts(spectrum, floor, slices, items, threshold_db=threshold_db,
                              x_db=x_db, af_db_m=af_db_m)
        for it in items:
            it.act = band_activity(slices, floor, it.a, it.b, enbw)
    items.sort(key=lambda it: it.e.f_hz)

    # Receiver artefacts: the DC spike and IQ images by their rules, overload
    # products by their structure (dsp.overload) below.
    kept, rejected = reject_artefacts([it.e for it in items], spectrum,
                                      tuned_centres_hz=centres, overload=False)
    reason_of = {id(e): r for e, r in rejected}
    for it in items:
        it.reason = reason_of.get(id(it.e))
        # Each slice has its own DC estimate: a peak at the LO that no slice shows is
        # the block estimate's residue (the DC moved during the block), not a signal.
        on_in_slices = it.act is None or it.act.duty_cycle > 0
        if (it.reason == REASON_DC and dc_removed and on_in_slices
                and it.e.peak_power_db - it.e.noise_floor_db >= threshold_db + AT_LO_MARGIN_DB):
            it.reason = None
            it.flags.append("at_lo_unverified")
    live = [it for it in items if it.reason is None]
    if dc_removed:
        # A narrow emission kept at the LO (wider than the DC rule's few bins, or
        # let through above) may still be the LO's own leakage: a station retunes.
        # Its core (the bins within 6 dB of its peak: noise widens a weak CW's 99 %
        # and 26 dB bands) decides.
        for it in live:
            a, w = _core(spectrum.power_db, it.a, it.b)
            mid = spectrum.f_start_hz + (a + (w - 1) / 2) * spectrum.f_step_hz
            c = min(centres, key=lambda x: abs(x - mid))
            if (abs(mid - c) <= AT_LO_BINS * spectrum.f_step_hz and w <= 2 * AT_LO_BINS
                    and "at_lo_unverified" not in it.flags):
                it.flags.append("at_lo_unverified")

    overloaded = (spectrum.overload if overload_fraction is None else overload_fraction > 0)
    if overloaded and len(centres) == 1 and len(live) > 1:
        verdicts = classify_overload(
            np.array([it.e.f_hz for it in live]), np.array([it.e.bw_99_hz for it in live]),
            np.array([it.e.power_db for it in live]), centre_hz=centres[0],
            span_hz=spectrum.n_bins * spectrum.f_step_hz, step_hz=spectrum.f_step_hz,
            activities=[it.act for it in live] if use_slices else None,
            slice_only=[it.on is not None for it in live])
        for it, v in zip(live, verdicts, strict=True):
            if v == "reject":
                it.reason = REASON_OVERLOAD
            elif v == "suspect":
                it.flags.append("overload_suspect")
        live = [it for it in live if it.reason is None]

    if use_slices:
        # key clicks: a weak burst only at a stronger component's switching edges
        for i, _parent in keying_transients([it.e.f_hz for it in live],
                                            [it.act for it in live]):
            live[i].reason = REASON_KEYING_TRANSIENT
        live = [it for it in live if it.reason is None]
        plain = [it for it in live if "overload_suspect" not in it.flags]
        others = [it for it in live if "overload_suspect" in it.flags]
        groups = keyed_groups([it.e.f_low_hz for it in plain], [it.e.f_high_hz for it in plain],
                              [it.act for it in plain])
        merged = [plain[g[0]] if len(g) == 1 else
                  _merge(spectrum, floor, [plain[k] for k in g], slices, x_db=x_db,
                         af_db_m=af_db_m, enbw=enbw)
                  for g in groups]
        live = merged + others

    out = []
    for it in live:
        e = _with_activity(it, spectrum, it.act) if it.act is not None else (
            dataclasses.replace(it.e, flags=tuple(dict.fromkeys([*it.e.flags, *it.flags]))))
        out.append(e)
    out.sort(key=lambda e: e.f_hz)
    rejected_out = tuple((it.e, it.reason) for it in items if it.reason is not None)
    return AnalysisResult(spectrum, tuple(out), rejected_out + tuple(weak), floor,
                          float(threshold_db), overload_fraction=overload_fraction)
