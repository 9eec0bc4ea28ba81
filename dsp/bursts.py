"""What the time slices of a block say: bursts, duty cycle, when an emission was on.

Two questions are answered from :class:`dsp.types.TimeSlices` (spectra of short
consecutive slices on the block spectrum's grid):

- **Is something on in some slices only?** :func:`detect_burst_runs` looks in each
  slice for bins standing over the block's noise floor by a threshold set, like the
  block detector's, from the statistics of an averaged noise bin, but for a
  false-alarm probability divided by the number of slices (so the whole block keeps
  the block detector's rate). Bins are smoothed over 3 bins (a tone's Hann main
  lobe) and, separately, over 9 (a narrowband channel), each with the threshold of
  its own averaged noise. Bins already inside an
  emission found on the average are left out.
- **When is a known emission on?** :func:`band_activity` sums each slice's power over
  the emission's bins. The emission is *on* in a slice when that sum stands over the
  noise in the same bins by more than noise can (the exceedance of a Gamma variable
  with ``K * bins`` degrees of freedom at :data:`ON_PFA`) and carries at least
  :data:`ON_FRACTION` of the emission's strongest slice (so the skirt of a strong
  neighbour does not keep it "on"). ``duty_cycle`` is the fraction of slices on,
  ``burst_power`` the mean power over the noise while on, and ``t_first``/``t_last``
  the start of the first and the end of the last slice on.

Welch frames overlap by half, so the ``n_averages`` frames of a slice are worth
about :data:`EFFECTIVE_FRACTION` as many independent averages; the thresholds use
that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsp.detect import find_runs
from dsp.noise import noise_exceedance_db
from dsp.types import TimeSlices

__all__ = [
    "ON_PFA",
    "ON_FRACTION",
    "EFFECTIVE_FRACTION",
    "Activity",
    "band_activity",
    "SMOOTH_WIDTHS",
    "slice_threshold_db",
    "detect_burst_runs",
    "on_mean_db",
]

#: False-alarm probability of "on" for one band in one slice.
ON_PFA = 1e-6
#: An emission is on in a slice only with at least this fraction of its strongest
#: slice's power over the noise (-13 dB).
ON_FRACTION = 0.05
#: Independent averages per Welch frame at 50 % overlap (Hann), a conservative value.
EFFECTIVE_FRACTION = 0.6
#: Widths (bins) burst detection smooths over: a tone's Hann main lobe, and a
#: narrowband channel.
SMOOTH_WIDTHS = (3, 9)
#: Slice x bin cells burst detection works on at a time (1 MiB of float32).
_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True, slots=True)
class Activity:
    """When one emission (bins ``[a, b)``) was on, from the time slices.

    Attributes
    ----------
    on:
        ``(n_slices,)`` bool, on in each slice.
    signal_lin:
        ``(n_slices,)`` power over the noise in the emission's bins per slice, linear,
        in the spectrum's unit (bin sums divided by the ENBW in bins).
    duty_cycle:
        Fraction of the slices on (0-1).
    burst_power_db:
        Mean power over the noise while on, dB in the spectrum's unit (``None`` when
        never on).
    t_first_ns, t_last_ns:
        Start of the first and end of the last slice on (``None`` when never on).
    """

    on: np.ndarray
    signal_lin: np.ndarray
    duty_cycle: float
    burst_power_db: float | None
    t_first_ns: int | None
    t_last_ns: int | None

    @property
    def varies(self) -> bool:
        """On in some slices and off in others (so keying can be compared)."""
        n_on = int(self.on.sum())
        return 0 < n_on < self.on.size


def _effective(n_averages: int) -> float:
    return max(1.0, EFFECTIVE_FRACTION * float(n_averages))


def band_activity(
    slices: TimeSlices,
    noise_floor_db: np.ndarray,
    a: int,
    b: int,
    enbw_bins: float,
) -> Activity:
    """When the emission occupying bins ``[a, b)`` was on (see the module notes).

    Parameters
    ----------
    slices:
        The block's time slices.
    noise_floor_db:
        The block's noise floor per bin (same unit and grid).
    a, b:
        The emission's bins.
    enbw_bins:
        The window's ENBW in bins (to turn bin sums into power).
    """
    lin = 10.0 ** (np.asarray(slices.power_db[:, a:b], dtype=np.float64) / 10.0)
    band = np.nansum(lin, axis=1)
    noise = float(np.sum(10.0 ** (np.asarray(noise_floor_db[a:b], dtype=np.float64) / 10.0)))
    # Hann bins overlap: a band of n bins holds about n / 1.5 + 1 independent values.
    dof = _effective(slices.n_averages) * ((b - a) / 1.5 + 1.0)
    level = noise * 10.0 ** (noise_exceedance_db(ON_PFA, dof) / 10.0)
    signal = np.maximum(band - noise, 0.0) / enbw_bins
    on = band > level
    if on.any():
        on &= signal >= ON_FRACTION * float(signal[on].max())
    return _activity(slices, on, signal)


def _activity(slices: TimeSlices, on: np.ndarray, signal: np.ndarray) -> Activity:
    n = on.size
    ks = np.flatnonzero(on)
    if ks.size == 0:
        return Activity(on, signal, 0.0, None, None, None)
    mean_on = float(signal[ks].mean())
    burst = 10.0 * math.log10(mean_on) if mean_on > 0 else None
    return Activity(
        on=on, signal_lin=signal, duty_cycle=float(ks.size / n), burst_power_db=burst,
        t_first_ns=int(slices.t_start_ns[ks[0]]),
        t_last_ns=int(slices.t_start_ns[ks[-1]]) + int(slices.slice_ns),
    )


def slice_threshold_db(slices: TimeSlices, pfa: float, *, width: int = 3) -> float:
    """dB over the floor a ``width``-bin-smoothed slice bin exceeds with probability
    ``pfa / n_slices`` in noise (so ``pfa`` holds for the whole block)."""
    # w smoothed Hann bins hold about w / 1.5 independent values
    dof = _effective(slices.n_averages) * max(1.0, width / 1.5)
    return noise_exceedance_db(pfa / max(slices.n_slices, 1), dof)


def detect_burst_runs(
    slices: TimeSlices,
    noise_floor_db: np.ndarray,
    *,
    exclude: np.ndarray,
    pfa: float = 1e-4,
    max_gap_bins: int = 3,
) -> list[tuple[tuple[int, int], np.ndarray]]:
    """Bin ranges on in some slices only, each with the slices it was seen in.

    Parameters
    ----------
    slices:
        The block's time slices.
    noise_floor_db:
        The block's noise floor per bin.
    exclude:
        ``(n_bins,)`` bool: bins already explained (emissions found on the average).
    pfa:
        Per-bin false-alarm probability over the whole block.
    max_gap_bins:
        Ranges closer than this are one.

    Returns
    -------
    list of ((start, stop), seen)
        ``seen`` is the ``(n_slices,)`` bool mask of slices in which any bin of the
        range was detected.
    """
    from scipy.ndimage import uniform_filter1d

    if slices.n_slices == 0:
        return []
    power_db = np.asarray(slices.power_db)
    floor_lin = (10.0 ** (np.asarray(noise_floor_db, dtype=np.float64) / 10.0)).astype(
        np.float32)
    # Two widths: 3 bins (a tone's main lobe) and 9 (a narrowband channel, whose
    # per-bin excess is low but whose sum over its bins stands out); the false-alarm
    # probability is split between them.
    levels = [(width, (floor_lin * np.float32(10.0 ** (slice_threshold_db(
        slices, pfa / len(SMOOTH_WIDTHS), width=width) / 10.0)))[None, :])
        for width in SMOOTH_WIDTHS]
    hits = np.zeros(power_db.shape, dtype=bool)
    # float32, a few rows at a time: the (n_slices, n_bins) slices of a long block
    # (16 MiB) are its memory, so no whole-size temporaries
    rows = max(1, _CHUNK_CELLS // max(1, power_db.shape[1]))
    for r in range(0, power_db.shape[0], rows):
        raw = np.power(np.float32(10.0),
                       np.asarray(power_db[r:r + rows], dtype=np.float32) / np.float32(10))
        raw = np.nan_to_num(raw, nan=0.0, copy=False)
        for width, level in levels:
            hits[r:r + rows] |= uniform_filter1d(raw, size=width, axis=1, mode="nearest") > level
    hits &= ~np.asarray(exclude, dtype=bool)[None, :]
    any_bin = hits.any(axis=0)
    runs = find_runs(any_bin)
    merged: list[list[int]] = []
    for s, e in runs.tolist():
        if merged and s - merged[-1][1] <= max_gap_bins:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    # A burst of anything covers at least two bins (a tone's Hann main lobe is three,
    # smoothed); a lone bin is a noise peak or the band edge's roll-off.
    return [((s, e), hits[:, s:e].any(axis=1)) for s, e in merged if e - s >= 2]


def on_mean_db(slices: TimeSlices, on: np.ndarray) -> np.ndarray:
    """Mean spectrum (dB, float32) of the slices where ``on`` is True."""
    power_db = np.asarray(slices.power_db)
    ks = np.flatnonzero(on)
    total = np.zeros(power_db.shape[1], dtype=np.float64)
    rows = max(1, _CHUNK_CELLS // max(1, power_db.shape[1]))
    for r in range(0, ks.size, rows):  # a few rows at a time (memory of long blocks)
        total += (10.0 ** (power_db[ks[r:r + rows]].astype(np.float64) / 10.0)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (10.0 * np.log10(total / ks.size)).astype(np.float32)
