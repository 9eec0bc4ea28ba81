"""Noise-floor estimation that stays right in crowded bands.

The floor is estimated per bin from order statistics of the linear bin powers in
local blocks of the spectrum, excising emissions first:

1. Split the spectrum into blocks of ``window_bins`` bins and take a low
   percentile of each block's linear power (a low percentile ignores the bins that
   emissions occupy as long as some noise bins remain in the block).
2. Correct that percentile for its bias: an averaged noise bin of mean ``N``
   (``K`` = ``spectrum.n_averages`` independent averages) follows ``N * Gamma(K, 1/K)``,
   so its ``p``-th percentile is ``N * gammaincinv(K, p) / K``; dividing by that
   factor turns the percentile into an estimate of the mean ``N``.
3. Take the running minimum of the block estimates over a neighbourhood as wide as
   the widest emission expected (``wide_hz``), so a block that lies entirely inside
   a wide emission (an 8 MHz DVB-T2 multiplex in a sweep) still sees noise.
4. Mask every bin above that provisional floor by a statistically safe margin
   (false-alarm probability 1e-3 per bin), dilate the mask, and recompute the block
   percentiles from the unmasked bins only; blocks with too few unmasked bins are
   interpolated from their neighbours. This step runs twice, so a floor that was
   too low in the first pass (e.g. at the anti-alias roll-off) is corrected.
5. Interpolate the block estimates (in dB) to every bin.

This is in the spirit of ITU-R SM.1753's "20 % method" (a low percentile of the
measured levels estimates the noise level) with local windows so a sloping floor
(filter roll-off, stitched sweeps) is followed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammainccinv, gammaincinv

from dsp.types import Spectrum

__all__ = [
    "DEFAULT_PERCENTILE",
    "DEFAULT_WIDE_HZ",
    "percentile_bias",
    "noise_exceedance_db",
    "default_window_bins",
    "estimate_noise_floor",
]

#: Percentile of the linear bin powers used as the noise statistic (SM.1753 uses 20 %).
DEFAULT_PERCENTILE = 20.0
#: Widest emission the floor must see past (DVB-T2: 8 MHz, with margin).
DEFAULT_WIDE_HZ = 10e6
#: Per-bin false-alarm probability of the margin used to excise emissions.
_EXCISE_PFA = 1e-3
#: Smallest excision margin, dB: a gentle slope or ripple of the floor is not excised.
_EXCISE_MIN_DB = 3.0
#: Bins each side added to the excision mask (a Hann window's main lobe is +-2 bins).
_EXCISE_DILATE_BINS = 2


def _check_averages(n_averages: float) -> float:
    if not (isinstance(n_averages, int | float) and math.isfinite(n_averages)):
        raise ValueError(f"n_averages must be a finite number, got {n_averages!r}")
    if n_averages < 1:
        raise ValueError(f"n_averages must be >= 1, got {n_averages!r}")
    return float(n_averages)


def percentile_bias(percentile: float, n_averages: float) -> float:
    """Ratio of the ``percentile``-th percentile of an averaged noise bin to its mean.

    A bin that averages ``n_averages`` independent periodograms of complex Gaussian
    noise is distributed as ``mean * Gamma(K, scale=1/K)`` (a scaled chi-square with
    ``2K`` degrees of freedom).

    Parameters
    ----------
    percentile:
        Percentile in (0, 100).
    n_averages:
        Number of independent averages ``K`` (>= 1). Welch's 50 % overlapped Hann
        segments are nearly independent (equivalent K within 6 % of the count).

    Returns
    -------
    float
        Linear factor (< 1 for low percentiles).

    Examples
    --------
    >>> round(percentile_bias(50.0, 1), 4)  # median of an exponential: ln 2
    0.6931
    """
    if not 0.0 < percentile < 100.0:
        raise ValueError(f"percentile must be in (0, 100), got {percentile!r}")
    k = _check_averages(n_averages)
    return float(gammaincinv(k, percentile / 100.0) / k)


def noise_exceedance_db(pfa: float, n_averages: float) -> float:
    """Level in dB above the noise mean that an averaged noise bin exceeds with probability ``pfa``.

    Parameters
    ----------
    pfa:
        Per-bin probability of exceedance, in (0, 1).
    n_averages:
        Number of independent averages ``K`` (>= 1).

    Returns
    -------
    float
        ``10 log10(q / mean)`` in dB, where ``P(X > q) = pfa``.

    Examples
    --------
    >>> round(noise_exceedance_db(0.01, 1), 2)  # exponential: 10 log10(ln 100)
    6.63
    """
    if not 0.0 < pfa < 1.0:
        raise ValueError(f"pfa must be in (0, 1), got {pfa!r}")
    k = _check_averages(n_averages)
    return float(10.0 * np.log10(gammainccinv(k, pfa) / k))


def default_window_bins(n_bins: int) -> int:
    """Block size used when ``window_bins`` is not given: 1/32 of the span, 8 to 256 bins."""
    return int(min(256, max(8, n_bins // 32)))


def _block_percentile(blocks: np.ndarray, percentile: float, min_valid: int) -> np.ndarray:
    """Percentile of each row, ignoring NaN; NaN where fewer than ``min_valid`` values."""
    s = np.sort(blocks, axis=1)  # NaN sort last
    cnt = np.count_nonzero(~np.isnan(blocks), axis=1)
    pos = (percentile / 100.0) * np.maximum(cnt - 1, 0)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(cnt - 1, 0))
    frac = pos - lo
    rows = np.arange(blocks.shape[0])
    out = s[rows, lo] * (1.0 - frac) + s[rows, hi] * frac
    out[cnt < max(min_valid, 1)] = np.nan
    return out


def _fill_nan(values: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(values)
    if ok.all() or not ok.any():
        return values
    idx = np.arange(values.size)
    return np.interp(idx, idx[ok], values[ok])


def _floor_trend(x: np.ndarray, y_db: np.ndarray) -> np.ndarray:
    """Straight line under the block levels (dB), fitted to their lower half.

    Removing it before the running minimum keeps a sloping floor (a stitched sweep's
    gain slope) from being pulled down to its lowest end.
    """
    if x.size < 4:
        return np.zeros_like(y_db)
    keep = np.ones(x.size, dtype=bool)
    for _ in range(2):
        coef = np.polyfit(x[keep], y_db[keep], 1)
        resid = y_db - np.polyval(coef, x)
        keep = resid <= np.median(resid)
        if keep.sum() < 2:
            break
    return np.polyval(np.polyfit(x[keep], y_db[keep], 1), x)


def _running_min(values: np.ndarray, half_width: int) -> np.ndarray:
    if half_width <= 0 or values.size == 1:
        return values
    from scipy.ndimage import minimum_filter1d

    return minimum_filter1d(values, size=2 * half_width + 1, mode="nearest")


def estimate_noise_floor(
    spectrum: Spectrum,
    *,
    window_bins: int | None = None,
    percentile: float = DEFAULT_PERCENTILE,
    wide_hz: float = DEFAULT_WIDE_HZ,
) -> np.ndarray:
    """Estimate the noise floor under every bin of ``spectrum``.

    Parameters
    ----------
    spectrum:
        The spectrum; ``spectrum.n_averages`` sets the statistics of a noise bin.
    window_bins:
        Local block size in bins (default :func:`default_window_bins`). Smaller
        follows a sloping floor more closely; larger is less noisy.
    percentile:
        Percentile (0-100) of the linear bin powers used in each block (default 20).
        Lower is more robust in crowded bands, higher is less noisy.
    wide_hz:
        Width in Hz of the widest emission the floor must see past (default 10 MHz);
        the provisional floor is the running minimum over this width, with the
        floor's straight-line trend removed first.

    Returns
    -------
    numpy.ndarray
        float64 array of ``spectrum.n_bins`` values: the mean noise power per bin in
        ``spectrum.power_unit`` (dB), i.e. the level a noise-only bin averages to.

    Examples
    --------
    >>> import numpy as np
    >>> from dsp.types import Spectrum
    >>> rng = np.random.default_rng(1)
    >>> p = 10 * np.log10(rng.gamma(64, 1 / 64, 4096) * 1e-9)  # -90 dB noise, K = 64
    >>> s = Spectrum(0.0, 1e3, p.astype(np.float32), "dBFS", 1.5e3, 0, 1, n_averages=64)
    >>> bool(abs(np.median(estimate_noise_floor(s)) + 90.0) < 0.2)
    True
    """
    if not isinstance(spectrum, Spectrum):
        raise TypeError(f"spectrum must be a Spectrum, got {type(spectrum).__name__}")
    if spectrum.n_bins < 1:
        raise ValueError("spectrum has no bins")
    if not 0.0 < percentile < 100.0:
        raise ValueError(f"percentile must be in (0, 100), got {percentile!r}")
    if window_bins is not None and (not isinstance(window_bins, int) or window_bins < 2):
        raise ValueError(f"window_bins must be an integer >= 2, got {window_bins!r}")
    if not (math.isfinite(wide_hz) and wide_hz >= 0):
        raise ValueError(f"wide_hz must be finite and >= 0, got {wide_hz!r}")
    p_db = np.asarray(spectrum.power_db, dtype=np.float64)
    if np.any(np.isinf(p_db)) or np.all(np.isnan(p_db)):
        raise ValueError("spectrum.power_db must be finite (NaN marks a missing bin)")

    n = p_db.size
    w = min(window_bins or default_window_bins(n), n)
    nb = -(-n // w)
    # float32 is ample for order statistics and halves the work on long sweeps
    p32 = np.asarray(spectrum.power_db, dtype=np.float32)
    lin = np.full(nb * w, np.nan, dtype=np.float32)
    lin[:n] = np.power(np.float32(10.0), p32 * np.float32(0.1))
    bias = percentile_bias(percentile, max(1.0, float(spectrum.n_averages)))
    centres = np.arange(nb) * w + (w - 1) / 2.0
    # Linear interpolation between block centres, block by block: bin k of block j
    # sits t = (k - centre_j) / w from its centre, and moves towards the next block's
    # value for t > 0 and the previous one's for t < 0 (held flat past the ends).
    t = (np.arange(w, dtype=np.float32) - np.float32((w - 1) / 2.0)) / np.float32(w)
    t_pos, t_neg = np.maximum(t, 0.0), np.minimum(t, 0.0)

    def to_bins(block_lin: np.ndarray) -> np.ndarray:  # linear block values -> dB per bin
        y = (10.0 * np.log10(block_lin)).astype(np.float32)
        d_next = np.zeros_like(y)
        d_prev = np.zeros_like(y)
        d_next[:-1] = y[1:] - y[:-1]
        d_prev[1:] = y[1:] - y[:-1]
        out = y[:, None] + d_next[:, None] * t_pos[None, :] + d_prev[:, None] * t_neg[None, :]
        return out.ravel()[:n].astype(np.float64)

    # Pass 1: block percentiles, then a running minimum wide enough to see past
    # the widest emission (a block inside an 8 MHz multiplex holds no noise).
    q_db = 10.0 * np.log10(_fill_nan(
        _block_percentile(lin.reshape(nb, w), percentile, min_valid=1).astype(np.float64)
        / bias))
    wide_bins = wide_hz / max(spectrum.f_step_hz, 1e-12)
    half = int(math.ceil(wide_bins / 2.0 / w))
    trend = _floor_trend(centres, q_db)
    floor_db = to_bins(10.0 ** ((_running_min(q_db - trend, half) + trend) / 10.0))

    # Passes 2-3: excise bins clearly above the current floor and re-estimate.
    margin_db = max(_EXCISE_MIN_DB,
                    noise_exceedance_db(_EXCISE_PFA, max(1.0, float(spectrum.n_averages))))
    for _ in range(2):
        signal = p32 > (floor_db + margin_db).astype(np.float32)
        grown = signal.copy()
        for d in range(1, _EXCISE_DILATE_BINS + 1):
            grown[d:] |= signal[:-d]
            grown[:-d] |= signal[d:]
        signal = grown
        masked = lin.copy()
        masked[:n][signal] = np.nan
        q2 = _block_percentile(masked.reshape(nb, w), percentile, min_valid=max(2, w // 4))
        if np.isnan(q2).all():
            break
        floor_db = to_bins(_fill_nan(q2.astype(np.float64)) / bias)
    return floor_db
