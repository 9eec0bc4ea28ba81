"""Emission detection: a CFAR-type threshold over the local noise floor.

A bin is a detection when its power exceeds the local noise floor (from
:mod:`dsp.noise`) by ``threshold_db``. The default threshold is set by the
statistics of an averaged noise bin so that the per-bin false-alarm probability is
:data:`DEFAULT_PFA`, with a margin for the uncertainty of the estimated floor (the
floor itself is estimated locally, which makes this a constant-false-alarm-rate
detector), and never below :data:`MIN_THRESHOLD_DB` = 6 dB: with many averages the
statistical threshold would be a dB or two, but the floor of a real RTL-SDR has
ripple, skirts and spurs of a few dB (seen in the rtl_433 captures), and SM.1880
asks for at least 3-5 dB over the noise for occupancy.

Contiguous detected bins form candidate emissions. Two candidates separated by a
short gap are merged when the (lightly smoothed) power in the gap stays above the
floor, i.e. one emission whose spectrum dipped below the threshold; they stay apart
when the gap falls back to the noise. Inside a candidate, a valley deeper than
``split_db`` below the peaks on both sides separates two adjacent emissions.
"""

from __future__ import annotations

import math

import numpy as np

from dsp.noise import DEFAULT_PERCENTILE, noise_exceedance_db, percentile_bias
from dsp.types import Spectrum

__all__ = [
    "DEFAULT_PFA",
    "MIN_THRESHOLD_DB",
    "default_threshold_db",
    "floor_sigma_db",
    "detect_bins",
    "find_runs",
    "detect_emissions",
    "smooth_db",
]

#: Per-bin false-alarm probability of the default threshold.
DEFAULT_PFA = 1e-4
#: Smallest default threshold in dB over the floor.
MIN_THRESHOLD_DB = 6.0


def floor_sigma_db(n_averages: float, *, window_bins: int = 64,
                   percentile: float = DEFAULT_PERCENTILE) -> float:
    """Standard error in dB of a noise-floor estimate from one block's percentile.

    The sample ``p``-quantile of ``W`` bins has a standard error of
    ``sqrt(p (1 - p) / W) / f(q)`` where ``f`` is the Gamma(K, 1/K) density at the
    quantile ``q``; in dB that is ``4.34 * SE / q``.
    """
    k = max(1.0, float(n_averages))
    q = percentile_bias(percentile, k)
    pdf = math.exp((k - 1) * math.log(q * k) - q * k - math.lgamma(k)) * k
    p = percentile / 100.0
    se = math.sqrt(p * (1 - p) / max(window_bins, 1)) / pdf
    return float(10.0 / math.log(10.0) * se / q)


def default_threshold_db(n_averages: float, *, pfa: float = DEFAULT_PFA) -> float:
    """Default detection threshold in dB over the noise floor.

    ``max(MIN_THRESHOLD_DB, 10 log10(q/N) + 1.5 sigma)`` where an averaged noise bin
    of mean ``N`` exceeds ``q`` with probability ``pfa`` and ``sigma`` is the standard
    error of the floor estimate (:func:`floor_sigma_db`), so the false-alarm rate
    holds with an estimated floor too.

    Parameters
    ----------
    n_averages:
        Number of averages per bin (``Spectrum.n_averages``), >= 1.
    pfa:
        Per-bin false-alarm probability, in (0, 1).

    Returns
    -------
    float
        Threshold in dB.

    Examples
    --------
    >>> round(default_threshold_db(1), 1)  # exponential: 10 log10(ln 1e4) + margin
    11.5
    >>> default_threshold_db(1000)
    6.0
    """
    stat = noise_exceedance_db(pfa, n_averages)
    return max(MIN_THRESHOLD_DB, stat + 1.5 * floor_sigma_db(n_averages))


def _check_floor(spectrum: Spectrum, noise_floor_db: np.ndarray) -> np.ndarray:
    floor = np.asarray(noise_floor_db, dtype=np.float64)
    if floor.shape != (spectrum.n_bins,):
        raise ValueError(
            f"noise_floor_db must have one value per bin ({spectrum.n_bins}), "
            f"got shape {floor.shape}"
        )
    return floor


def detect_bins(spectrum: Spectrum, noise_floor_db: np.ndarray, threshold_db: float) -> np.ndarray:
    """Boolean mask of bins whose power exceeds the floor by more than ``threshold_db`` dB."""
    floor = _check_floor(spectrum, noise_floor_db)
    if not math.isfinite(threshold_db):
        raise ValueError(f"threshold_db must be finite, got {threshold_db!r}")
    return np.asarray(spectrum.power_db, dtype=np.float64) > floor + threshold_db


def find_runs(mask: np.ndarray) -> np.ndarray:
    """``[start, stop)`` bin ranges of the contiguous True runs of ``mask``, shape (k, 2).

    Examples
    --------
    >>> find_runs(np.array([0, 1, 1, 0, 1], dtype=bool)).tolist()
    [[1, 3], [4, 5]]
    """
    m = np.asarray(mask, dtype=bool)
    d = np.diff(np.concatenate(([0], m.view(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return np.stack([starts, stops], axis=1) if starts.size else np.empty((0, 2), np.intp)


def smooth_db(power_db: np.ndarray, smooth_bins: int) -> np.ndarray:
    """Moving average of the linear power over ``smooth_bins`` bins, back in dB."""
    lin = 10.0 ** (np.asarray(power_db, dtype=np.float64) / 10.0)
    if smooth_bins > 1:
        from scipy.ndimage import uniform_filter1d

        lin = uniform_filter1d(lin, size=smooth_bins, mode="nearest")
    return 10.0 * np.log10(lin)


def _split_run(excess_db: np.ndarray, a: int, b: int, split_db: float) -> list[int]:
    """Indices (absolute) where the run [a, b) is split at deep valleys."""
    seg = excess_db[a:b]
    if seg.size < 3:
        return []
    left = np.maximum.accumulate(seg)
    right = np.maximum.accumulate(seg[::-1])[::-1]
    depth = np.minimum(left, right) - seg
    deep = find_runs(depth >= split_db)
    return [a + int(s + np.argmin(seg[s:e])) for s, e in deep]


def detect_emissions(
    spectrum: Spectrum,
    noise_floor_db: np.ndarray,
    *,
    threshold_db: float | None = None,
    max_gap_bins: int = 3,
    valley_db: float = 1.0,
    split_db: float = 20.0,
    smooth_bins: int = 3,
    min_bins: int = 1,
) -> list[tuple[int, int]]:
    """Find candidate emissions as ``[start, stop)`` bin ranges.

    Parameters
    ----------
    spectrum:
        The spectrum.
    noise_floor_db:
        Noise floor per bin, same unit as the spectrum (:func:`dsp.noise.estimate_noise_floor`).
    threshold_db:
        Detection threshold in dB over the floor (default :func:`default_threshold_db`
        of ``spectrum.n_averages``).
    max_gap_bins:
        Candidates closer than ``max(max_gap_bins, half the narrower one's width)``
        bins are merged when the gap's smoothed power stays ``valley_db`` dB above
        the floor.
    valley_db:
        See ``max_gap_bins``.
    split_db:
        A valley this many dB below the peaks on both sides splits a candidate.
    smooth_bins:
        Width in bins of the moving average used for valleys (>= 1).
    min_bins:
        Candidates narrower than this are dropped.

    Returns
    -------
    list of (int, int)
        Sorted, non-overlapping ``[start, stop)`` ranges.
    """
    floor = _check_floor(spectrum, noise_floor_db)
    if threshold_db is None:
        threshold_db = default_threshold_db(max(1.0, float(spectrum.n_averages)))
    if not (math.isfinite(threshold_db) and threshold_db > 0):
        raise ValueError(f"threshold_db must be finite and > 0, got {threshold_db!r}")
    for name, value in (("max_gap_bins", max_gap_bins), ("smooth_bins", smooth_bins),
                        ("min_bins", min_bins)):
        if not isinstance(value, int | np.integer) or value < (0 if name == "max_gap_bins" else 1):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if not (math.isfinite(split_db) and split_db > 0):
        raise ValueError(f"split_db must be finite and > 0, got {split_db!r}")

    runs = find_runs(detect_bins(spectrum, floor, threshold_db))
    if runs.size == 0:
        return []
    power = spectrum.power_db
    pad = smooth_bins // 2 + 1

    def excess(lo: int, hi: int) -> np.ndarray:
        # smoothed power over the floor on [lo, hi) only: a sweep has millions of
        # bins and a few hundred emissions
        a, b = max(0, lo - pad), min(power.size, hi + pad)
        return (smooth_db(np.nan_to_num(power[a:b], nan=-400.0), smooth_bins)
                - floor[a:b])[lo - a:hi - a]

    merged: list[list[int]] = [list(map(int, runs[0]))]
    for start, stop in runs[1:]:
        prev = merged[-1]
        gap = int(start) - prev[1]
        narrower = min(prev[1] - prev[0], int(stop) - int(start))
        close = gap <= max(max_gap_bins, narrower // 2)
        if close and excess(prev[1], int(start)).min() > valley_db:
            prev[1] = int(stop)
        else:
            merged.append([int(start), int(stop)])

    out: list[tuple[int, int]] = []
    for start, stop in merged:
        seg = excess(start, stop)
        cuts = [start + c for c in _split_run(seg, 0, stop - start, split_db)]
        edges = [start, *cuts, stop]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if b - a >= min_bins:
                out.append((a, b))
    return out
