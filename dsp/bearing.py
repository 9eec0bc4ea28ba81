"""The bearing of an emitter from levels measured while a directional antenna turns.

A rotator steps the antenna through azimuths ``a_k``; at each the emission's level
``L_k`` (dB, its band power) is measured. With the antenna's main lobe modelled as
``G(theta) = -min(12 (theta / beamwidth)^2, front_to_back)`` dB (the parabolic lobe
of 3GPP TR 36.814), the bearing ``b`` minimises
``sum_k (L_k - P - G(a_k - b))^2`` over ``b`` (searched every 0.25 deg) and the level
``P`` (solved in closed form). The spread is the 1-sigma width of that fit (where
the squared error grows by the residual variance), combined with a systematic floor
``sigma_floor_deg`` (multipath and site reflections bend bearings by several
degrees however clean the fit): that is what :class:`BearingEstimate.sigma_deg`
gives the location.

>>> import numpy as np
>>> az = np.arange(0.0, 360.0, 10.0)
>>> lev = -60 - np.minimum(12 * (((az - 123 + 180) % 360 - 180) / 60) ** 2, 20)
>>> est = estimate_bearing(az, lev, beamwidth_deg=60)
>>> round(est.bearing_deg), est.sigma_deg >= 5.0
(123, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsp.errors import ParameterError

__all__ = ["BearingEstimate", "estimate_bearing", "pattern_db"]


def pattern_db(off_deg: np.ndarray, beamwidth_deg: float, front_to_back_db: float
               ) -> np.ndarray:
    """Relative gain (dB) ``off_deg`` degrees off boresight."""
    th = (np.asarray(off_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0
    return -np.minimum(12.0 * (th / beamwidth_deg) ** 2, front_to_back_db)


@dataclass(frozen=True, slots=True)
class BearingEstimate:
    """``bearing_deg`` clockwise from true north [0, 360), ``sigma_deg`` its 1-sigma
    spread (fit and systematic floor), ``peak_db`` the fitted boresight level,
    ``rms_db`` the fit's residual, ``n`` the azimuths used."""

    bearing_deg: float
    sigma_deg: float
    peak_db: float
    rms_db: float
    n: int


def estimate_bearing(
    azimuth_deg: np.ndarray,
    level_db: np.ndarray,
    *,
    beamwidth_deg: float = 60.0,
    front_to_back_db: float = 20.0,
    sigma_floor_deg: float = 5.0,
    step_deg: float = 0.25,
) -> BearingEstimate:
    """Fit the pattern to the levels (see the module notes)."""
    az = np.asarray(azimuth_deg, dtype=np.float64).ravel()
    lev = np.asarray(level_db, dtype=np.float64).ravel()
    if az.size != lev.size:
        raise ParameterError(f"azimuth_deg ({az.size}) and level_db ({lev.size}) differ in size")
    if az.size < 4:
        raise ParameterError(f"need at least 4 azimuths, got {az.size}")
    if not (np.isfinite(az).all() and np.isfinite(lev).all()):
        raise ParameterError("azimuth_deg and level_db must be finite")
    if not (5.0 < beamwidth_deg <= 180.0):
        raise ParameterError(f"beamwidth_deg must be in (5, 180], got {beamwidth_deg!r}")
    cand = np.arange(0.0, 360.0, step_deg)
    g = pattern_db(az[None, :] - cand[:, None], beamwidth_deg, front_to_back_db)
    p = (lev[None, :] - g).mean(axis=1)  # the level P in closed form
    sse = ((lev[None, :] - g - p[:, None]) ** 2).sum(axis=1)
    k = int(np.argmin(sse))
    dof = max(az.size - 2, 1)
    s2 = max(float(sse[k]) / dof, 0.25)  # at least 0.5 dB of level noise
    within = sse <= sse[k] + s2
    # width of the 1-sigma interval around the minimum, on the circle
    off = (cand[within] - cand[k] + 180.0) % 360.0 - 180.0
    sigma_fit = max(float(np.max(np.abs(off))), step_deg)
    sigma = math.hypot(sigma_fit, sigma_floor_deg)
    return BearingEstimate(float(cand[k]), sigma, float(p[k]),
                           math.sqrt(float(sse[k]) / az.size), int(az.size))
