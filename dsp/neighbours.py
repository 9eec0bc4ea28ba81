"""A weak emission on the skirt of a strong one: found and measured on its own bins.

Two FM stations 200 kHz apart overlap: the weaker one, 15-40 dB down, sits on the
stronger one's skirt and the valley between them is shallower than any fixed split
depth (at 40 dB, 2 dB below the weaker one's plateau). The stronger emission's
spectrum is, like most modulations (FM, AM, FSK, OFDM), symmetric about its centre,
so its own skirt on the side of the neighbour is known from its other side:

1. the centre ``c`` is the midpoint of the points :data:`CENTRE_DROP_DB` below the
   (smoothed) peak, which a neighbour 15 dB or more down does not move;
2. the model of the strong emission mirrors the far side onto the near side,
   ``M(c + x) = P(c - x)``;
3. what the near side holds beyond the model, ``R = P - M``, is the neighbour when it
   stands out of the model's own statistical fluctuation (an averaged bin of mean
   ``M`` fluctuates by ``M / sqrt(K)``) and the detection threshold over the floor,
   peaks more than :data:`CENTRE_DROP_DB` below the strong one (so it cannot have
   moved the centre; a peak as strong is no skirt's neighbour),
   and holds most of the power there (:data:`DOMINANT`), along at least
   :data:`MIN_NEIGHBOUR_BINS` bins, and the spectrum rises again
   (by :data:`MIN_RISE_DB`) past a valley towards it: a skirt that only falls more
   slowly on one side is not a neighbour.

Each is then measured on its own bins: the strong one on ``P`` with the near side
replaced by ``M``, the neighbour on ``R`` plus the noise floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsp.detect import find_runs

__all__ = ["CENTRE_DROP_DB", "MIN_NEIGHBOUR_BINS", "NeighbourSplit", "split_neighbour"]

#: The centre is the midpoint of the points this far below the smoothed peak, dB.
CENTRE_DROP_DB = 10.0
#: A neighbour stands out along at least this many bins.
MIN_NEIGHBOUR_BINS = 8
#: The neighbour's bins hold at least this fraction of the power beyond the model.
DOMINANT = 0.6
#: The spectrum rises at least this much (dB) from the valley to the neighbour.
MIN_RISE_DB = 1.0
#: Standard deviations of the model's fluctuation the residual must exceed (to find
#: the neighbour, and in each bin to count as its power).
_SIGMAS = 6.0


@dataclass(frozen=True, slots=True)
class NeighbourSplit:
    """The strong emission's model and the neighbour's residual over ``[a, b)``.

    ``strong_lin``/``weak_lin`` are linear bin powers (the weak one with the floor
    added back, so both are spectra to measure over the floor); ``weak`` is the
    neighbour's ``[start, stop)`` bins.
    """

    a: int
    b: int
    strong_lin: np.ndarray
    weak_lin: np.ndarray
    weak: tuple[int, int]


def _smooth(lin: np.ndarray, width: int) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(lin, size=width, mode="nearest") if width > 1 else lin


def split_neighbour(
    power_db: np.ndarray,
    floor_db: np.ndarray,
    a: int,
    b: int,
    *,
    n_averages: float,
    threshold_db: float,
) -> NeighbourSplit | None:
    """Look for one weaker neighbour on a side of the emission occupying ``[a, b)``.

    Parameters
    ----------
    power_db, floor_db:
        The spectrum and its noise floor per bin (same unit).
    a, b:
        The emission's bins (its full extent, neighbour included).
    n_averages:
        Averages per bin (the fluctuation of an averaged bin is ``1 / sqrt(K)``).
    threshold_db:
        Detection threshold over the floor.

    Returns
    -------
    NeighbourSplit or None
        ``None`` when the emission is symmetric within its fluctuation.
    """
    width = b - a
    if width < 4 * MIN_NEIGHBOUR_BINS:
        return None
    p = 10.0 ** (np.asarray(power_db[a:b], dtype=np.float64) / 10.0)
    fl = 10.0 ** (np.asarray(floor_db[a:b], dtype=np.float64) / 10.0)
    if not np.all(np.isfinite(p)):
        return None
    sm = _smooth(p, 5)
    k = int(np.argmax(sm))
    level = sm[k] * 10.0 ** (-CENTRE_DROP_DB / 10.0)
    lo = k
    while lo > 0 and sm[lo - 1] >= level:
        lo -= 1
    hi = k
    while hi < width - 1 and sm[hi + 1] >= level:
        hi += 1
    # the crossings to a fraction of a bin: on a steep slope a bin's error in the
    # centre would leave more residual than a weak neighbour has
    lo_f = lo - (sm[lo] - level) / (sm[lo] - sm[lo - 1]) if lo > 0 else float(lo)
    hi_f = hi + (sm[hi] - level) / (sm[hi] - sm[hi + 1]) if hi < width - 1 else float(hi)
    idx = np.arange(width)
    mirror = (lo_f + hi_f) - idx
    inside = (mirror >= 0) & (mirror <= width - 1)
    model = np.where(inside, np.interp(mirror, idx, p), fl)
    # The residual and its noise: two averaged bins of means ~M differ by about
    # M * sqrt(2 / K); smoothing over w bins (w / 1.5 independent) divides that.
    w = 9
    resid = _smooth(p - model, w)
    sigma = _smooth(np.maximum(model, fl), w) * math.sqrt(2.0 / max(n_averages, 1.0)) / math.sqrt(
        w / 1.5)
    need = np.maximum(_SIGMAS * sigma, fl * (10.0 ** (threshold_db / 10.0) - 1.0))
    best = None
    for side in (idx > hi, idx < lo):
        # where the neighbour dominates (the strong one's mirrored slope never
        # matches its own to a few dB, so a residual there is a fraction of it)
        runs = find_runs(side & (resid > need) & (resid >= DOMINANT * _smooth(p, w)))
        for s, e in runs.tolist():
            if e - s < MIN_NEIGHBOUR_BINS or (best is not None and e - s <= best[1] - best[0]):
                continue
            # a neighbour makes the spectrum rise again past a valley; a skirt that
            # merely falls slower on one side (a filter's slope) does not
            top = s + int(np.argmax(sm[s:e]))
            if sm[top] >= level:
                # not weaker than the level the centre was taken at: a peak of
                # comparable strength (two hops' noise humps of an unequalised
                # survey, two equal stations) is not a skirt's neighbour, and the
                # mirror would cut what sits between them out of both
                continue
            between = sm[hi:top + 1] if top > hi else sm[top:lo + 1]
            if sm[top] >= float(between.min()) * 10.0 ** (MIN_RISE_DB / 10.0):
                best = (s, e)
    if best is None:
        return None
    s, e = best
    near = idx > hi if s > hi else idx < lo
    strong = np.where(near, np.minimum(model, p), p)
    # the neighbour: what the near side holds beyond the model, where that stands out
    # of the model's fluctuation (on the strong one's slope a mirror never matches
    # to better than that)
    weak = np.where(near & (resid > _SIGMAS * sigma), np.maximum(p - model, 0.0), 0.0) + fl
    return NeighbourSplit(a, b, strong, weak, (a + s, a + e))
