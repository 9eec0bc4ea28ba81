"""Spectrum occupancy (ITU-R SM.1880, Report ITU-R SM.2256).

From a sequence of spectra on one grid (the revisits of a channel watch or the
sweeps of a band survey):

- **Frequency channel occupancy** FCO = ``N_O / N``: the fraction of revisits in
  which the channel was occupied. A channel counts as occupied in a revisit when
  any bin in it exceeds the threshold (SM.2256).
- **Frequency band occupancy** FBO: the fraction of all (frequency, time) samples of
  the band above the threshold.
- **Spectrum resource occupancy** SRO: FCO averaged over the channels.

Threshold method
----------------
A **dynamic** threshold: the noise floor estimated per bin (:mod:`dsp.noise`,
median over the revisits so an emitter that is on most of the time does not raise
it) plus ``margin_db`` (default :data:`DEFAULT_MARGIN_DB` = 5 dB; SM.1880/SM.2256
ask for at least 3-5 dB above the noise). A **pre-set** threshold may be given
instead (``threshold_db``: a level per bin or one level). When a pre-set threshold
is stated for a whole emission of bandwidth ``OBW`` measured with ``RBW < OBW``,
the per-bin level is lower by ``10 log10(OBW / RBW)``
(:func:`preset_threshold_per_bin`), since each bin sees only ``RBW / OBW`` of the
emission's power.

The RBW should be no wider than the narrowest channel, and the revisit time at
most half the shortest on/off time of the emissions (SM.1880); this module does not
enforce either, it measures what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.errors import ParameterError
from dsp.noise import estimate_noise_floor
from dsp.types import Spectrum

__all__ = [
    "DEFAULT_MARGIN_DB",
    "Occupancy",
    "preset_threshold_per_bin",
    "occupancy",
]

#: Default margin of the dynamic threshold over the noise floor, dB.
DEFAULT_MARGIN_DB = 5.0


@dataclass(frozen=True)
class Occupancy:
    """Occupancy over an interval.

    Attributes
    ----------
    channels_hz:
        ``(f_low_hz, f_high_hz)`` of each channel.
    fco:
        Frequency channel occupancy per channel, 0..1 (float64 array).
    occupied:
        Boolean array (revisits x channels): occupied in that revisit.
    fbo:
        Frequency band occupancy of the bins the channels cover, 0..1.
    sro:
        Mean of ``fco`` over the channels.
    threshold_db:
        Threshold per bin used (spectrum unit).
    t_start_ns, t_end_ns:
        Interval covered (UTC ns).
    n_revisits:
        Number of spectra.
    """

    channels_hz: tuple[tuple[float, float], ...]
    fco: np.ndarray
    occupied: np.ndarray
    fbo: float
    sro: float
    threshold_db: np.ndarray
    t_start_ns: int
    t_end_ns: int
    n_revisits: int


def preset_threshold_per_bin(threshold_db: float, obw_hz: float, rbw_hz: float) -> float:
    """Per-bin threshold for a pre-set emission-power threshold when ``RBW < OBW``.

    Examples
    --------
    >>> round(preset_threshold_per_bin(-80.0, 200e3, 2e3), 2)
    -100.0
    """
    if not (math.isfinite(threshold_db) and obw_hz > 0 and rbw_hz > 0):
        raise ParameterError("threshold_db must be finite, obw_hz and rbw_hz > 0")
    return threshold_db - 10.0 * math.log10(obw_hz / rbw_hz) if rbw_hz < obw_hz else threshold_db


def _check_spectra(spectra: Sequence[Spectrum]) -> np.ndarray:
    if len(spectra) == 0:
        raise ParameterError("spectra must not be empty")
    first = spectra[0]
    for i, s in enumerate(spectra):
        if not isinstance(s, Spectrum):
            raise ParameterError(f"spectra[{i}] is not a Spectrum: {type(s).__name__}")
        if (s.n_bins != first.n_bins or s.power_unit != first.power_unit
                or not math.isclose(s.f_start_hz, first.f_start_hz, abs_tol=1e-3)
                or not math.isclose(s.f_step_hz, first.f_step_hz, rel_tol=1e-9)):
            raise ParameterError(f"spectra[{i}] is not on the grid of spectra[0]")
    return np.stack([np.asarray(s.power_db, dtype=np.float64) for s in spectra])


def occupancy(
    spectra: Sequence[Spectrum],
    channels_hz: Sequence[tuple[float, float]],
    *,
    threshold_db: float | np.ndarray | None = None,
    margin_db: float = DEFAULT_MARGIN_DB,
) -> Occupancy:
    """Channel and band occupancy of a sequence of spectra.

    Parameters
    ----------
    spectra:
        Revisits on one grid (same start, step, bins, unit), any time order.
    channels_hz:
        ``(f_low_hz, f_high_hz)`` per channel; a bin belongs to a channel when its
        centre lies in ``[f_low, f_high)``.
    threshold_db:
        Pre-set threshold (one level or one per bin, spectrum unit). Default: the
        dynamic threshold, noise floor + ``margin_db``.
    margin_db:
        Margin of the dynamic threshold over the noise floor, dB (>= 0).

    Returns
    -------
    Occupancy

    Examples
    --------
    >>> import numpy as np
    >>> from dsp.types import Spectrum
    >>> on = np.full(10, -60.0, np.float32); off = np.full(10, -100.0, np.float32)
    >>> seq = enumerate([on, off, off, off])
    >>> sp = [Spectrum(0.0, 1e3, p, "dBm", 1e3, t, t + 1) for t, p in seq]
    >>> float(occupancy(sp, [(0.0, 10e3)], threshold_db=-80.0).fco[0])
    0.25
    """
    stack = _check_spectra(spectra)
    if not (math.isfinite(margin_db) and margin_db >= 0):
        raise ParameterError(f"margin_db must be finite and >= 0, got {margin_db!r}")
    chans = [(float(lo), float(hi)) for lo, hi in channels_hz]
    if not chans:
        raise ParameterError("channels_hz must not be empty")
    first = spectra[0]
    f = first.f_hz()
    n_bins = first.n_bins
    if threshold_db is None:
        floors = np.stack([estimate_noise_floor(s) for s in spectra])
        thr = np.median(floors, axis=0) + margin_db
    else:
        thr = np.broadcast_to(np.asarray(threshold_db, dtype=np.float64), (n_bins,)).copy()
        if not np.all(np.isfinite(thr)):
            raise ParameterError("threshold_db must be finite")

    above = stack > thr  # NaN (unmeasured) bins are never above
    starts, stops = [], []
    for k, (lo, hi) in enumerate(chans):
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ParameterError(f"channels_hz[{k}] = ({lo}, {hi}) is not a valid range")
        a = int(np.searchsorted(f, lo, side="left"))
        b = int(np.searchsorted(f, hi, side="left"))
        if b <= a:
            raise ParameterError(
                f"channels_hz[{k}] = ({lo:.0f}, {hi:.0f}) Hz holds no bin of the spectra"
            )
        starts.append(a)
        stops.append(b)
    starts_a = np.array(starts)
    stops_a = np.array(stops)
    # any bin above, per revisit and channel: counts per channel via cumulative sums
    cum = np.concatenate([np.zeros((above.shape[0], 1), np.int64),
                          np.cumsum(above, axis=1, dtype=np.int64)], axis=1)
    occupied = (cum[:, stops_a] - cum[:, starts_a]) > 0
    fco = occupied.mean(axis=0)
    covered = np.zeros(n_bins, dtype=bool)
    for a, b in zip(starts, stops, strict=True):
        covered[a:b] = True
    measured = np.isfinite(stack[:, covered])
    fbo = float(above[:, covered].sum() / max(measured.sum(), 1))
    return Occupancy(
        channels_hz=tuple(chans),
        fco=fco,
        occupied=occupied,
        fbo=fbo,
        sro=float(fco.mean()),
        threshold_db=thr,
        t_start_ns=min(s.t_start_ns for s in spectra),
        t_end_ns=max(s.t_end_ns for s in spectra),
        n_revisits=len(spectra),
    )
