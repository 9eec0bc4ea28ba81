"""The sweeps of a survey in, its emissions out.

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
bins and an unknown (NaN) SNR. An SNR below 0 dB against a floor interpolated under
a coherent emission is reported as unknown (NaN) too: a survey never gives a
negative SNR.

Before any of this the sweeps are equalised (:mod:`dsp.hop_response`): the bin
response the hops share (ripple, the dip where hops meet) is estimated from the
noise across hops and sweeps and divided out, so a station on a seam keeps its
power and width and the floor beside a seam is not pulled down. Candidates of the
average that fall short of the in-band SNR threshold but stand above the floor in
(nearly) every sweep, narrow ones, are steady carriers and are reported. Emissions
in a hop's outer quarters that are a stronger emission folded in from one hop width
away (rtl_power keeps bins out to +-rate/2) are rejected as ``hop_alias``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence

import numpy as np

from dsp.analysis import REASON_LOW_SNR, AnalysisResult, analyze_spectrum, tuned_centres
from dsp.detect import find_runs
from dsp.errors import ParameterError
from dsp.hop_response import equalise_hops, estimate_hop_response, hop_extents
from dsp.measure import AntennaFactor, measure_emission
from dsp.types import Emission, Spectrum

__all__ = ["analyze_survey", "average_spectra"]


def _check_same_grid(spectra: Sequence[Spectrum]) -> None:
    first = spectra[0]
    for i, s in enumerate(spectra):
        if not isinstance(s, Spectrum):
            raise ParameterError(f"spectra[{i}] is not a Spectrum: {type(s).__name__}")
        if (s.n_bins != first.n_bins or s.power_unit != first.power_unit
                or not math.isclose(s.f_start_hz, first.f_start_hz, abs_tol=1e-3)
                or not math.isclose(s.f_step_hz, first.f_step_hz, rel_tol=1e-9)):
            raise ParameterError(
                f"spectra[{i}] is not on the grid of spectra[0] (start, step, bins and "
                "unit must match)"
            )


def average_spectra(spectra: Sequence[Spectrum]) -> Spectrum:
    """Linear mean of spectra on one grid; ``n_averages`` adds up, times span them all.

    A bin that is NaN (not measured) in some sweeps averages the others.
    """
    spectra = list(spectra)
    if not spectra:
        raise ParameterError("spectra must not be empty")
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


#: In-band SNR (dB) on the average that a candidate present in every sweep needs
#: to be reported, instead of the single-spectrum threshold (at least 6 dB), which
#: guards against bumps of the floor that a survey's equalised average does not have.
STEADY_MIN_SNR_DB = 3.0
#: Share of the sweeps in which a steady candidate must stand above the floor.
STEADY_MIN_SHARE = 0.9


def _keep_steady(spectra: Sequence[Spectrum], result: AnalysisResult) -> AnalysisResult:
    """Report the ``low_snr`` candidates of the average that every sweep shows.

    A carrier a few dB over the floor in every sweep is an emission however weak
    its in-band SNR: in each sweep its bins' mean power must exceed the floor's by
    3 standard errors of that mean (``4.34 / sqrt(n_averages * bins)`` dB), in at
    least ``STEADY_MIN_SHARE`` of the sweeps, with an in-band SNR on the average of
    at least ``STEADY_MIN_SNR_DB``. Candidates touching a reported emission (its
    skirt) and candidates wider than a quarter of a hop (a hop's own response)
    stay rejected.
    """
    avg = result.spectrum
    hop_bins = max(b - a for a, b in hop_extents(avg))
    floor_lin = 10.0 ** (np.asarray(result.noise_floor_db, dtype=np.float64) / 10.0)
    kept = list(result.emissions)
    rejected = []
    for e, reason in result.rejected:
        if reason != REASON_LOW_SNR or not e.snr_db >= STEADY_MIN_SNR_DB:
            rejected.append((e, reason))
            continue
        a = max(0, int(math.floor((e.f_low_hz - avg.f_start_hz) / avg.f_step_hz + 0.5)))
        b = min(avg.n_bins, int(math.floor((e.f_high_hz - avg.f_start_hz) / avg.f_step_hz
                                           + 0.5)) + 1)
        # Narrow only: a bump a hop wide is the hop's own response (a survey whose
        # response could not be equalised), steady in every sweep too.
        if (b - a) > max(8, hop_bins // 4):
            rejected.append((e, reason))
            continue
        guard = 2 * avg.f_step_hz
        touches = any(x.f_low_hz - guard <= e.f_high_hz and x.f_high_hz + guard >= e.f_low_hz
                      for x in kept)
        with np.errstate(divide="ignore", invalid="ignore"):
            band = np.array([np.nanmean(10.0 ** (np.asarray(s.power_db[a:b], np.float64)
                                                 / 10.0)) for s in spectra])
            excess_db = 10.0 * np.log10(band / np.mean(floor_lin[a:b]))
        se_db = np.array([10.0 / math.log(10.0) / math.sqrt(max(1, s.n_averages) * (b - a))
                          for s in spectra])
        steady = np.mean(excess_db > 3.0 * se_db) >= STEADY_MIN_SHARE
        if b <= a or touches or not steady:
            rejected.append((e, reason))
            continue
        kept.append(e)
    kept.sort(key=lambda x: x.f_hz)
    return dataclasses.replace(result, emissions=tuple(kept), rejected=tuple(rejected))


#: Reason given for an emission that is a stronger one folded in from beyond a
#: hop's edge (rtl_power keeps the bins up to +-rate/2, where the anti-alias filter
#: lets the next hop's signals through, attenuated).
REASON_HOP_ALIAS = "hop_alias"
#: How much weaker (dB) than its partner one sample rate away an alias must be.
ALIAS_MIN_DB = 10.0


def _reject_hop_aliases(
    emissions: Sequence[Emission], spectrum: Spectrum
) -> tuple[list[Emission], list[tuple[Emission, str]]]:
    """Split off the emissions that are aliases of a stronger one across a hop edge.

    A hop that keeps its bins out to +-rate/2 shows, in its outer quarters, what lies
    just beyond its other edge, one sample rate (one hop width) away, attenuated by
    the anti-alias filter. An emission in the outer quarter of its hop with a
    stronger emission (by ``ALIAS_MIN_DB``) at the same offset one hop width above or
    below is that alias. A survey whose hops keep only their middles (rfwatch's own
    sweeps) has none, and the test then finds none.
    """
    extents = hop_extents(spectrum)
    if len(extents) < 2 or not emissions:
        return list(emissions), []
    lengths = [b - a for a, b in extents]
    width_hz = max(set(lengths), key=lengths.count) * spectrum.f_step_hz
    kept: list[Emission] = []
    rejected: list[tuple[Emission, str]] = []
    for e in emissions:
        i = (e.f_hz - spectrum.f_start_hz) / spectrum.f_step_hz
        hop = next(((a, b) for a, b in extents if a <= i < b), None)
        pos = None if hop is None else (i - hop[0]) / (hop[1] - hop[0])
        alias = pos is not None and not 0.25 <= pos <= 0.75 and any(
            x is not e and x.power_db - e.power_db >= ALIAS_MIN_DB
            and x.f_low_hz <= e.f_high_hz + sign * width_hz
            and x.f_high_hz >= e.f_low_hz + sign * width_hz
            for x in emissions for sign in (-1.0, 1.0))
        if alias:
            rejected.append((e, REASON_HOP_ALIAS))
        else:
            kept.append(e)
    return kept, rejected


def analyze_survey(
    spectra: Sequence[Spectrum],
    *,
    threshold_db: float | None = None,
    x_db: float = 26.0,
    af_db_m: AntennaFactor | None = None,
    equalise: bool = True,
    white_floor_db: float | None = None,
) -> AnalysisResult:
    """Analyse the sweeps of a survey (see the module notes for the method).

    Parameters
    ----------
    spectra:
        Sweeps on one grid (same start, step, bins and unit), in time order.
    threshold_db, x_db, af_db_m:
        As for :func:`analyze_spectrum`.
    equalise:
        Estimate the hops' bin response from the survey's noise and equalise it
        first (:mod:`dsp.hop_response`); a survey with fewer than 4 hops of one
        length is analysed as it is.
    white_floor_db:
        A white floor per bin (dB, the spectra's unit) added after the hops'
        filters, when known (e.g. an 8-bit receiver's requantisation noise in dBFS);
        see :func:`dsp.hop_response.estimate_hop_response`.

    Returns
    -------
    AnalysisResult
        ``spectrum`` is the average of the (equalised) sweeps; each emission's
        ``t_first_ns``/``t_last_ns`` are the start of the first and the end of the
        last sweep in which it was detected.
    """
    spectra = list(spectra)
    if not spectra:
        raise ParameterError("spectra must not be empty")
    _check_same_grid(spectra)
    if equalise:
        response = estimate_hop_response(spectra, white_floor_db=white_floor_db)
        if response is not None and response.depth_db > 0:
            spectra = [equalise_hops(s, response) for s in spectra]
    avg = average_spectra(spectra)
    centres = tuned_centres(avg)
    result = analyze_spectrum(avg, threshold_db=threshold_db, x_db=x_db, af_db_m=af_db_m,
                              tuned_centres_hz=centres)
    f = avg.f_hz()
    if len(spectra) == 1:
        return result
    result = _keep_steady(spectra, result)

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
            # No noise visible beside or under it (a floor interpolated above the
            # emission's own mean is the emission, not noise): report the total
            # power, and an unknown SNR rather than a negative one.
            e = measure_emission(avg, np.full(avg.n_bins, -np.inf), a, b, x_db=x_db,
                                 af_db_m=af_db_m, flags=("coherent", "no_noise_reference"))
            e = dataclasses.replace(e, snr_db=float("nan"), noise_floor_db=float("nan"))
        elif not e.snr_db >= 0.0:
            # Power under the noise in its own band, over a floor interpolated from
            # either side: the power above that floor stands, but an SNR below 0 dB
            # measured against an interpolated floor is not one to report (where
            # the span holds no noise at all, as in a 100 kHz rtl_power span inside
            # an FM channel, the "floor" beside is the station itself): unknown.
            e = dataclasses.replace(e, snr_db=float("nan"))
        emissions.append(e)
    emissions.sort(key=lambda e: e.f_hz)
    kept, aliases = _reject_hop_aliases(emissions, avg)
    return dataclasses.replace(result, emissions=tuple(kept),
                               rejected=(*result.rejected, *aliases))
